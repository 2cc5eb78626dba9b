#!/usr/bin/env python3
"""Render SYNTHETIC images of the front (人像面) of a Chinese resident ID card for tests.

Everything on them is fictitious: the names are invented, the ID numbers are made up (valid
format and MOD 11-2 check digit, so they pass the product's validation), the address is a
made-up street, and the portraits are public-domain test photos (tests/data/photos/). The
layout only imitates the real card's (labels on the left, portrait on the right, number at
the bottom); there is no emblem, no security printing and nothing that could pass for a card.

Writes tests/data/idcards/*.png / *.jpg. Requires Pillow (models/dlib/requirements-parity.txt)
and the Debian package fonts-noto-cjk (Noto Sans CJK SC, SIL OFL 1.1).

    python models/scripts/make_idcard_samples.py
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = Path(__file__).resolve().parents[2]
PHOTOS = REPO / "tests" / "data" / "photos"
OUT = REPO / "tests" / "data" / "idcards"
FONT_DIR = Path("/usr/share/fonts/opentype/noto")
SANS_SC = 2  # face index of "Noto Sans CJK SC" inside the .ttc collections

# 85.6 × 54 mm at ~300 dpi
CARD_W, CARD_H = 1012, 638
MM = CARD_W / 85.6

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def with_check(first17: str) -> str:
    s = sum(int(c) * w for c, w in zip(first17, WEIGHTS))
    return first17 + CHECK[s % 11]


# (output stem, source photo, portrait crop box (l, t, r, b), name, sex, birth y/m/d, number)
CARDS = [
    ("idcard_astronaut", "astronaut.png", (122, 22, 318, 263), "林晓雯", "女", (1990, 3, 7),
     with_check("11010519900307128")),
    ("idcard_gauss", "gauss.png", (300, 110, 790, 713), "高思远", "男", (1985, 4, 30),
     with_check("32010219850430137")),
]
ADDRESS = "北京市东城区示例胡同18号院3号楼2单元501室"


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    return ImageFont.truetype(str(FONT_DIR / name), size, index=SANS_SC)


def background() -> Image.Image:
    """Pale blue-green ground with faint wavy lines (imitating, not copying, guilloché)."""
    img = Image.new("RGB", (CARD_W, CARD_H))
    px = img.load()
    for y in range(CARD_H):
        for x in range(CARD_W):
            t = x / CARD_W
            wave = 6 * math.sin((x + 40 * math.sin(y / 37.0)) / 23.0) * math.sin(y / 61.0)
            r = int(236 - 10 * t + wave)
            g = int(242 - 4 * t + wave)
            b = int(240 + 6 * t + wave)
            px[x, y] = (r, g, b)
    return img


def portrait(src: Path, box: tuple[int, int, int, int], size: tuple[int, int]) -> Image.Image:
    face = Image.open(src).convert("RGB").crop(box).resize(size, Image.LANCZOS)
    # Printed portraits are a little soft and less saturated than the original.
    face = face.filter(ImageFilter.GaussianBlur(0.6))
    grey = face.convert("L").convert("RGB")
    return Image.blend(face, grey, 0.15)


def render(stem, photo, box, name, sex, birth, number) -> Image.Image:
    card = background()
    d = ImageDraw.Draw(card)
    label_c, value_c = (43, 96, 150), (20, 20, 20)
    lab, val, num = font(30), font(34), font(40, bold=True)
    x0, x1 = int(9 * MM), int(21 * MM)

    def y(mm: float) -> int:
        return int(mm * MM)

    d.text((x0, y(8)), "姓名", font=lab, fill=label_c)
    d.text((x1, y(7.6)), name, font=val, fill=value_c)
    d.text((x0, y(15)), "性别", font=lab, fill=label_c)
    d.text((x1, y(14.6)), sex, font=val, fill=value_c)
    d.text((x0 + int(23 * MM), y(15)), "民族", font=lab, fill=label_c)
    d.text((x1 + int(23 * MM), y(14.6)), "汉", font=val, fill=value_c)
    d.text((x0, y(22)), "出生", font=lab, fill=label_c)
    by, bm, bd = birth
    d.text((x1, y(21.6)), f"{by}年{bm}月{bd}日", font=val, fill=value_c)
    d.text((x0, y(29)), "住址", font=lab, fill=label_c)
    d.text((x1, y(28.6)), ADDRESS[:11], font=val, fill=value_c)
    d.text((x1, y(34)), ADDRESS[11:], font=val, fill=value_c)
    d.text((x0, y(45.5)), "公民身份号码", font=lab, fill=label_c)
    d.text((x0 + int(25 * MM), y(44.8)), number, font=num, fill=value_c)

    pw, ph = int(26 * MM), int(32 * MM)
    card.paste(portrait(PHOTOS / photo, box, (pw, ph)), (int(55 * MM), int(7 * MM)))
    return card


def photographed(card: Image.Image, angle: float) -> Image.Image:
    """The card as a phone would see it: on a dark desk, slightly rotated, soft, JPEG."""
    desk = Image.new("RGB", (1500, 1100), (58, 52, 47))
    rotated = card.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(58, 52, 47))
    mask = Image.new("L", card.size, 255).rotate(angle, resample=Image.BICUBIC, expand=True)
    desk.paste(rotated, ((1500 - rotated.width) // 2, (1100 - rotated.height) // 2), mask)
    return desk.filter(ImageFilter.GaussianBlur(0.8))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for stem, photo, box, name, sex, birth, number in CARDS:
        card = render(stem, photo, box, name, sex, birth, number)
        card.save(OUT / f"{stem}.png", optimize=True)
        if stem == "idcard_astronaut":
            photographed(card, 4.0).save(OUT / f"{stem}_photo.jpg", quality=85)
    for f in sorted(OUT.iterdir()):
        if f.suffix in (".png", ".jpg"):
            print(f.name, f.stat().st_size, hashlib.sha256(f.read_bytes()).hexdigest())
    for stem, _, _, name, _, _, number in CARDS:
        print(stem, name, number)


if __name__ == "__main__":
    main()
