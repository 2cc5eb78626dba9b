#!/usr/bin/env python3
"""Parity of the Rust OCR (crates/vision/src/ocr, tract) with RapidOCR 1.4.4 (onnxruntime) on
the same images: the recognised texts must be equal.

RapidOCR runs twice: configured as the Rust side runs (`det_limit_type=max`,
`det_limit_side_len=960`, `rec_batch_num=1`: each line padded on its own rather than to the
widest of a batch of six, which can change a space) — this is the comparison that must
hold — and with its defaults, reported for information. Lines are compared as multisets (reading order of
boxes on a slightly rotated card can differ between two correct implementations).

    /var/cache/gradphoto/venv-dlib/bin/python models/parity/parity_ocr.py \
        --bin /var/cache/gradphoto/target-vision/debug/examples/ocr_dump

Environment: models/dlib/requirements-parity.txt (rapidocr-onnxruntime==1.4.4).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from rapidocr_onnxruntime import RapidOCR

REPO = Path(__file__).resolve().parents[2]
IMAGES = [
    "tests/data/idcards/idcard_astronaut.png",
    "tests/data/idcards/idcard_astronaut_photo.jpg",
    "tests/data/idcards/idcard_gauss.png",
    "tests/data/photos/id_card_text.png",
]


def texts(result) -> list[str]:
    return [r[1] for r in (result or [])]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", type=Path,
                    default=Path("/var/cache/gradphoto/target-vision/debug/examples/ocr_dump"))
    ap.add_argument("images", nargs="*", type=Path)
    args = ap.parse_args()
    images = args.images or [REPO / p for p in IMAGES]

    rust = json.loads(subprocess.run([str(args.bin), *map(str, images)], check=True,
                                     capture_output=True, text=True).stdout)
    same_sizing = RapidOCR(det_limit_type="max", det_limit_side_len=960, rec_batch_num=1)
    default = RapidOCR()
    ok = True
    for img, r in zip(images, rust):
        rust_texts = [l["text"] for l in r["lines"]]
        ref = texts(same_sizing(str(img))[0])
        ref_default = texts(default(str(img))[0])
        equal = Counter(rust_texts) == Counter(ref)
        ok &= equal
        print(f"{img.name}: {'EQUAL' if equal else 'DIFFERENT'} ({len(rust_texts)} lines, "
              f"Rust {r['ms']:.0f} ms); RapidOCR defaults "
              f"{'equal' if Counter(rust_texts) == Counter(ref_default) else 'differ'}")
        if not equal:
            print("  only Rust:    ", sorted((Counter(rust_texts) - Counter(ref)).elements()))
            print("  only RapidOCR:", sorted((Counter(ref) - Counter(rust_texts)).elements()))
        print(f"  name {r['name']!r}, number {r['id_number']!r}")
    print("ALL EQUAL" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
