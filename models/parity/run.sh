#!/usr/bin/env bash
# Runs every parity script in this directory against the Rust pipelines and exits non-zero if
# any of them reports a mismatch (or cannot run).
#
#   models/parity/run.sh
#
# Environment (defaults in brackets):
#   CARGO_TARGET_DIR  [/var/cache/gradphoto/target-vision]
#   VENV_VISION       [/var/cache/gradphoto/venv-vision]   mediapipe reference (created if missing)
#   VENV_DLIB         [/var/cache/gradphoto/venv-dlib]     dlib reference (see models/dlib)
#   VENV_OCR          [$VENV_DLIB]                          RapidOCR reference
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/gradphoto/target-vision}"
VENV_VISION="${VENV_VISION:-/var/cache/gradphoto/venv-vision}"
VENV_DLIB="${VENV_DLIB:-/var/cache/gradphoto/venv-dlib}"
VENV_OCR="${VENV_OCR:-$VENV_DLIB}"
BIN="$CARGO_TARGET_DIR/release/examples"
PHOTOS="$REPO/tests/data/photos"
status=0
fail() { echo "run.sh: $1 FAILED" >&2; status=1; }

(cd "$REPO" && cargo build --release -q -p gradphoto-vision --examples) || { echo "build failed" >&2; exit 1; }

if [ ! -x "$VENV_VISION/bin/python" ]; then
  python3 -m venv "$VENV_VISION" && "$VENV_VISION/bin/pip" install -q -r "$HERE/requirements-mediapipe.txt" \
    || { echo "cannot create $VENV_VISION" >&2; exit 1; }
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "== parity_mediapipe.py"
if "$BIN/dump" --mask "$PHOTOS"/astronaut.png "$PHOTOS"/gauss.png "$PHOTOS"/newton.png \
     "$PHOTOS"/phone_1080p.jpg "$PHOTOS"/phone_12mp.jpg "$PHOTOS"/solvay_conference_1927.jpg \
     > "$tmp/dump.json"; then
  "$VENV_VISION/bin/python" "$HERE/parity_mediapipe.py" "$tmp/dump.json" || fail parity_mediapipe.py
else
  fail "dump example"
fi

if [ -f "$HERE/parity_dlib.py" ]; then
  echo "== parity_dlib.py"
  args=()
  [ -x "$BIN/embed_dump" ] && args=(--bin "$BIN/embed_dump")
  "$VENV_DLIB/bin/python" "$HERE/parity_dlib.py" "${args[@]}" || fail parity_dlib.py
fi

if [ -f "$HERE/parity_ocr.py" ]; then
  echo "== parity_ocr.py"
  args=()
  [ -x "$BIN/ocr_dump" ] && args=(--bin "$BIN/ocr_dump")
  "$VENV_OCR/bin/python" "$HERE/parity_ocr.py" "${args[@]}" || fail parity_ocr.py
fi

[ $status -eq 0 ] && echo "run.sh: all parity checks passed"
exit $status
