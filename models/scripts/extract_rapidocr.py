#!/usr/bin/env python3
"""Copy the RapidOCR PP-OCRv4 ONNX models out of the rapidocr-onnxruntime wheel and
write the recognition character dictionary to ppocr_keys.txt.

    python3 models/scripts/extract_rapidocr.py [--src DIR] [--out DIR]

The .onnx files are copied byte for byte. The dictionary ships only inside
ch_PP-OCRv4_rec_infer.onnx, as the model metadata property "character": one
character per line, 6623 lines. RapidOCR splits it with str.splitlines(); this
script does the same and writes the lines joined by "\\n" (UTF-8, no BOM, with a
final newline) so the application can read it without an ONNX metadata parser.
Class index 0 of the rec output is the CTC blank, index i (1..=6623) is line i,
index 6624 is a space.

Runs inside the conversion venv (needs the onnx package), re-executing itself there.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPT_DIR))
from convert_mediapipe import DEFAULT_SRC, DEFAULT_VENV, MODELS_DIR, ensure_venv  # noqa: E402

PACKAGE_DIR = "rapidocr-onnxruntime-1.4.4/rapidocr_onnxruntime/models"
FILES = ["ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx"]
DICT_KEY = "character"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args()
    ensure_venv(args.venv)
    import onnx

    src_dir = args.src / "unpacked" / PACKAGE_DIR
    args.out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        src = src_dir / name
        if not src.is_file():
            raise SystemExit(f"missing {src}: run models/scripts/fetch_sources.py first")
        shutil.copyfile(src, args.out / name)
        print(f"{name}: {hashlib.sha256((args.out / name).read_bytes()).hexdigest()}")

    rec = onnx.load(str(src_dir / "ch_PP-OCRv4_rec_infer.onnx"), load_external_data=False)
    meta = {p.key: p.value for p in rec.metadata_props}
    if DICT_KEY not in meta:
        raise SystemExit(f"rec model has no metadata key {DICT_KEY!r}")
    lines = meta[DICT_KEY].splitlines()
    classes = rec.graph.output[0].type.tensor_type.shape.dim[-1].dim_value
    if len(lines) + 2 != classes:
        raise SystemExit(f"dictionary has {len(lines)} lines but the model has {classes} classes (expected lines + 2)")
    if any("\n" in line for line in lines):
        raise SystemExit("dictionary line contains a newline")
    keys = args.out / "ppocr_keys.txt"
    keys.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    print(f"ppocr_keys.txt: {len(lines)} lines, sha256 {hashlib.sha256(keys.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
