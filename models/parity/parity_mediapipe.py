#!/usr/bin/env python3
"""Parity of the Rust MediaPipe pipelines (crates/vision) with MediaPipe itself.

Reference: the `mediapipe==0.10.14` wheel's legacy solutions, which run the original .tflite
models with MediaPipe's own pre/post-processing: FaceDetection (short range), FaceMesh (static
images) and SelfieSegmentation (general model). Candidate: the JSON written by
`cargo run --release -p gradphoto-vision --example dump -- --mask PHOTOS...`.

Usage: parity_mediapipe.py DUMP.json   (exit status 1 on any mismatch)

Compared per test photo:
- number of faces (score >= 0.5) and, for the main face, score (|Δ| <= 0.05), box IoU (>= 0.85)
  and the six keypoints (mean error <= 7 % of the box width: a face of 17 px in the 128×128
  input moves a keypoint by a pixel for small input differences);
- the 468 landmarks of the main face: mean error <= 4 % of the inter-ocular distance (each side
  crops from its own detection, so this includes the ROI difference);
- the person mask: IoU of mask > 0.5 (>= 0.95) and mean |Δ| (<= 0.04) on a 256×256 grid.

MediaPipe samples its model inputs with plain bilinear interpolation, which aliases badly when
it shrinks a phone photo 15–30× to 128×128 (faces then read several degrees tilted). The Rust
pipeline first makes an antialiased thumbnail (long side 512) for detection and segmentation
and crops landmarks from a working image (JPEG decoded at 1/2 scale above 2400 px on the short
side). The reference is given comparable pixels: the photo shrunk with an antialiased bilinear
filter to fit 128×128 for detection (MediaPipe then only pads) and to the thumbnail size for
segmentation, reduced by the working factor (box average) for FaceMesh; relative coordinates
are scaled back to the photo. The tolerances cover what remains
(MediaPipe's last bilinear step vs the Rust area-correct one, and tflite vs tract arithmetic).
"""
import json
import sys

import numpy as np
from PIL import Image, ImageOps

import mediapipe as mp

TOL = {
    "score": 0.05,
    "box_iou": 0.85,
    "keypoints_rel": 0.07,
    "landmarks_iod": 0.04,
    "mask_iou": 0.95,
    "mask_mae": 0.04,
}


def load(path):
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    return np.ascontiguousarray(np.asarray(img))


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def resized(img, size):
    return np.ascontiguousarray(np.asarray(Image.fromarray(img).resize(size, Image.BILINEAR)))


def reference(img, thumb_size, reduction):
    h, w = img.shape[:2]
    out = {"faces": [], "landmarks": None, "mask": None}
    thumb = resized(img, tuple(thumb_size))
    k = 128 / max(w, h)
    tiny = resized(img, (max(1, round(w * k)), max(1, round(h * k))))
    working = img
    if reduction > 1:
        working = np.ascontiguousarray(np.asarray(Image.fromarray(img).reduce(reduction)))
    with mp.solutions.face_detection.FaceDetection(
        model_selection=0, min_detection_confidence=0.5
    ) as fd:
        res = fd.process(tiny)
        for d in res.detections or []:
            bb = d.location_data.relative_bounding_box
            box = [bb.xmin * w, bb.ymin * h, (bb.xmin + bb.width) * w, (bb.ymin + bb.height) * h]
            kps = [[k.x * w, k.y * h] for k in d.location_data.relative_keypoints]
            out["faces"].append({"score": d.score[0], "bbox": box, "keypoints": kps})
    out["faces"].sort(key=lambda f: -(f["bbox"][2] - f["bbox"][0]) * (f["bbox"][3] - f["bbox"][1]))
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1) as fm:
        res = fm.process(working)
        if res.multi_face_landmarks:
            lm = res.multi_face_landmarks[0].landmark
            out["landmarks"] = np.array([[p.x * w, p.y * h] for p in lm[:468]])
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as ss:
        out["mask"] = ss.process(thumb).segmentation_mask
    return out


def main():
    dump = json.load(open(sys.argv[1]))
    failures = []
    rows = []
    for photo in dump["photos"]:
        name = photo["path"].rsplit("/", 1)[-1]
        img = load(photo["path"])
        ref = reference(img, photo["thumb_size"], photo["working_reduction"])
        ours = photo["faces"]

        def check(what, ok, value):
            rows.append(f"{name:28s} {what:18s} {value:>10s}  {'ok' if ok else 'MISMATCH'}")
            if not ok:
                failures.append(f"{name}: {what} {value}")

        # MediaPipe's main face must be among ours (we may drop faces < 25 % of the largest).
        check("faces", len(ours) >= 1 if ref["faces"] else len(ours) == 0,
              f"{len(ours)}/{len(ref['faces'])}")
        if ref["faces"] and ours:
            r, o = ref["faces"][0], ours[0]
            check("score", abs(r["score"] - o["score"]) <= TOL["score"],
                  f"{o['score']:.3f}/{r['score']:.3f}")
            v = iou(r["bbox"], o["bbox"])
            check("box IoU", v >= TOL["box_iou"], f"{v:.3f}")
            bw = r["bbox"][2] - r["bbox"][0]
            e = np.mean(np.linalg.norm(np.array(r["keypoints"]) - np.array(o["keypoints"]), axis=1)) / bw
            check("keypoints", e <= TOL["keypoints_rel"], f"{e:.4f}")
        if ref["landmarks"] is not None and photo["landmarks"]:
            ol = np.array(photo["landmarks"])[:, :2]
            rl = ref["landmarks"]
            iod = np.linalg.norm(rl[33] - rl[263])
            e = np.mean(np.linalg.norm(ol - rl, axis=1)) / iod
            check("landmarks", e <= TOL["landmarks_iod"], f"{e:.4f}")
        elif ref["landmarks"] is not None or photo["landmarks"]:
            check("landmarks", False, "presence differs")
        if "mask256" in photo:
            om = np.array(photo["mask256"], dtype=np.float32).reshape(256, 256)
            rm = np.asarray(
                Image.fromarray(ref["mask"].astype(np.float32)).resize((256, 256), Image.BILINEAR)
            )
            inter = np.logical_and(om > 0.5, rm > 0.5).sum()
            union = np.logical_or(om > 0.5, rm > 0.5).sum()
            v = inter / union if union else 1.0
            check("mask IoU", v >= TOL["mask_iou"], f"{v:.4f}")
            mae = float(np.mean(np.abs(om - rm)))
            check("mask MAE", mae <= TOL["mask_mae"], f"{mae:.4f}")
    print("\n".join(rows))
    if failures:
        print(f"parity_mediapipe: {len(failures)} mismatches", file=sys.stderr)
        sys.exit(1)
    print("parity_mediapipe: all within tolerance")


if __name__ == "__main__":
    main()
