#!/usr/bin/env python3
"""Fill tests/data/photos/ from the fetched packages and derive the benchmark JPEGs.

    python3 models/scripts/make_test_photos.py [--src DIR] [--out DIR]

Copies (byte for byte, sha256-checked by fetch_sources.py):
  astronaut.png (scikit-image==0.24.0), gauss.png, newton.png,
  solvay_conference_1927.jpg (scrfd==0.3.0 sdist)
Derives (see tests/data/photos/PROVENANCE.md):
  phone_12mp.jpg   4000x3000 composite: astronaut.png upscaled 5.5x, cut out with
                   models/selfie_segmentation.onnx and placed on a synthetic
                   off-white wall; EXIF Make/Model/Orientation=1.
  phone_1080p.jpg  1920x1080 crop+downscale of the same composite, same EXIF.
  id_card_text.png two lines of Chinese text rendered with a Noto CJK font
                   (name + the standard's sample ID number), for OCR tests.

Runs inside the conversion venv (pinned Pillow, numpy, onnxruntime), re-executing itself there.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPT_DIR))
from convert_mediapipe import DEFAULT_SRC, DEFAULT_VENV, MODELS_DIR, ensure_venv  # noqa: E402

PHOTOS_DIR = MODELS_DIR.parent / "tests" / "data" / "photos"
COPIES = {
    "astronaut.png": "scikit-image-0.24.0/skimage/data/astronaut.png",
    "gauss.png": "scrfd-0.3.0/images/gauss.png",
    "newton.png": "scrfd-0.3.0/images/newton.png",
    "solvay_conference_1927.jpg": "scrfd-0.3.0/images/solvay_conference_1927.jpg",
}
# Debian package fonts-noto-cjk; the file is recorded in PROVENANCE.md.
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
ID_TEXT = ("姓名 张三", "公民身份号码 11010519491231002X")

EXIF_MAKE = 0x010F
EXIF_MODEL = 0x0110
EXIF_ORIENTATION = 0x0112
EXIF_DATETIME = 0x0132
EXIF_IFD = 0x8769
EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_FOCAL_35MM = 0xA405


def wall(width: int, height: int, rng):
    """Off-white painted wall: low-frequency brightness variation, a soft light falloff
    from the top left, and faint fine grain (kept small so the JPEG stays compact)."""
    import numpy as np
    from PIL import Image

    coarse = rng.normal(0.0, 1.0, (height // 50, width // 50)).astype(np.float32)
    blotch = np.asarray(
        Image.fromarray(coarse).resize((width, height), Image.BICUBIC),
        np.float32,
    )
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    falloff = 1.0 - 0.06 * np.hypot(xx / width, yy / height)
    grain = rng.normal(0.0, 1.2, (height, width)).astype(np.float32)
    base = np.array([241.0, 239.0, 233.0], np.float32)
    img = base[None, None, :] * falloff[..., None] + 3.0 * blotch[..., None] + grain[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def person_mask(astro, models_dir: Path):
    import numpy as np
    import onnxruntime as ort
    from PIL import Image

    sess = ort.InferenceSession(str(models_dir / "selfie_segmentation.onnx"), providers=["CPUExecutionProvider"])
    x = np.asarray(Image.fromarray(astro).resize((256, 256), Image.BILINEAR), np.float32)[None] / 255.0
    return sess.run(None, {"input_1": x})[0][0, :, :, 0]


def exif_bytes(model: str) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[EXIF_MAKE] = "gradphoto test data"
    exif[EXIF_MODEL] = model
    exif[EXIF_ORIENTATION] = 1
    exif[EXIF_DATETIME] = "2024:06:01 10:00:00"
    sub = exif.get_ifd(EXIF_IFD)
    sub[EXIF_DATETIME_ORIGINAL] = "2024:06:01 10:00:00"
    sub[EXIF_FOCAL_35MM] = 26
    return exif.tobytes()


def make_phone_photos(out: Path, models_dir: Path) -> None:
    import numpy as np
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(20240601)
    astro = np.asarray(Image.open(out / "astronaut.png").convert("RGB"))
    mask = person_mask(astro, models_dir)
    scale = 5.5
    side = int(round(512 * scale))  # 2816
    person = Image.fromarray(astro).resize((side, side), Image.LANCZOS)
    # Harden the soft 256x256 mask so stray low-confidence background (flag, shuttle)
    # does not bleed onto the wall.
    hard = np.clip((mask - 0.45) / 0.3, 0.0, 1.0)
    alpha = Image.fromarray((hard * 255).astype(np.uint8)).resize((side, side), Image.BICUBIC)
    alpha = alpha.filter(ImageFilter.GaussianBlur(3))
    canvas = Image.fromarray(wall(4000, 3000, rng))
    # Bottom-aligned and centred: the frame cuts the person at the chest, as a phone would.
    canvas.paste(person, ((4000 - side) // 2, 3000 - side), alpha)
    # Mild sensor-like noise over everything so the person is not smoother than the wall.
    arr = np.asarray(canvas, np.float32) + rng.normal(0.0, 1.5, (3000, 4000, 1)).astype(np.float32)
    canvas = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    canvas.save(out / "phone_12mp.jpg", "JPEG", quality=88, subsampling=2, exif=exif_bytes("synthetic 12MP composite"))
    # 16:9 landscape frame around the head and shoulders, scaled down (never up).
    crop = canvas.crop((0, 250, 4000, 2500)).resize((1920, 1080), Image.LANCZOS)
    crop.save(out / "phone_1080p.jpg", "JPEG", quality=88, subsampling=2, exif=exif_bytes("synthetic 1080p composite"))


def make_id_text(out: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    if not CJK_FONT.is_file():
        raise SystemExit(f"missing {CJK_FONT}: apt-get install fonts-noto-cjk")
    font = ImageFont.truetype(str(CJK_FONT), 36)
    img = Image.new("RGB", (900, 220), (232, 238, 236))
    draw = ImageDraw.Draw(img)
    draw.text((40, 40), ID_TEXT[0], font=font, fill=(25, 25, 25))
    draw.text((40, 130), ID_TEXT[1], font=font, fill=(25, 25, 25))
    img.save(out / "id_card_text.png", "PNG", optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--out", type=Path, default=PHOTOS_DIR)
    parser.add_argument("--models", type=Path, default=MODELS_DIR)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args()
    ensure_venv(args.venv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rel in COPIES.items():
        src = args.src / "unpacked" / rel
        if not src.is_file():
            raise SystemExit(f"missing {src}: run models/scripts/fetch_sources.py first")
        shutil.copyfile(src, args.out / name)
    make_phone_photos(args.out, args.models)
    make_id_text(args.out)
    for path in sorted(args.out.iterdir()):
        if path.suffix in (".png", ".jpg"):
            print(f"{path.name}: {path.stat().st_size} bytes sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
