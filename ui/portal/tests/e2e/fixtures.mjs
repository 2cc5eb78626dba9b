// Test inputs made from the repository's test photos, drawn by Chromium itself (no image
// libraries needed): a Y4M clip for the fake camera and ID-card images for the identity step.

import { readFile, writeFile } from "node:fs/promises";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
export const BASE_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

async function dataUrl(path) {
  const mime = path.endsWith(".png") ? "image/png" : "image/jpeg";
  return `data:${mime};base64,${(await readFile(path)).toString("base64")}`;
}

async function withPage(fn) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BASE_ARGS });
  try {
    const page = await browser.newPage();
    return await fn(page);
  } finally {
    await browser.close();
  }
}

/**
 * A one-frame 4:2:0 Y4M clip (Chromium loops it) of a photo placed in a portrait frame the way a
 * helper would hold the phone: the photo is scaled by `scale` and moved so that `eyes` (the point
 * between the eyes, in photo pixels) lands on the portal guide's eye line, horizontally centred;
 * uncovered space is filled with the photo's own top-row colour, as a wall behind the subject.
 */
export async function makeY4m(photoPath, outPath, { width = 768, height = 1152, scale = 3, eyes = [225, 108] } = {}) {
  // The portal keeps the centred 3:4 region of the frame; its guide puts the eyes at 35 % height.
  const visible = Math.min(height, Math.round((width * 4) / 3));
  const eyeLine = (height - visible) / 2 + visible * 0.35;
  const left = Math.round(width / 2 - eyes[0] * scale);
  const top = Math.round(eyeLine - eyes[1] * scale);
  const src = await dataUrl(photoPath);
  const yuv = await withPage((page) =>
    page.evaluate(
      async ({ src, width, height, scale, top, left }) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = width;
        c.height = height;
        const ctx = c.getContext("2d");
        const probe = document.createElement("canvas");
        probe.width = img.width;
        probe.height = 1;
        const pctx = probe.getContext("2d");
        pctx.drawImage(img, 0, 0);
        const row = pctx.getImageData(0, 0, img.width, 1).data;
        const mid = Math.floor(img.width / 2) * 4;
        ctx.fillStyle = `rgb(${row[mid]},${row[mid + 1]},${row[mid + 2]})`;
        ctx.fillRect(0, 0, width, height);
        const w = img.width * scale;
        const h = img.height * scale;
        ctx.drawImage(img, left, top, w, h);
        const px = ctx.getImageData(0, 0, width, height).data;
        // BT.601 full-range conversion, chroma averaged over 2×2 blocks.
        const Y = new Uint8Array(width * height);
        const U = new Uint8Array((width / 2) * (height / 2));
        const V = new Uint8Array((width / 2) * (height / 2));
        for (let i = 0; i < width * height; i++) {
          const r = px[i * 4], g = px[i * 4 + 1], b = px[i * 4 + 2];
          Y[i] = Math.max(0, Math.min(255, Math.round(0.299 * r + 0.587 * g + 0.114 * b)));
        }
        for (let y = 0; y < height / 2; y++) {
          for (let x = 0; x < width / 2; x++) {
            let r = 0, g = 0, b = 0;
            for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
              const i = ((2 * y + dy) * width + 2 * x + dx) * 4;
              r += px[i]; g += px[i + 1]; b += px[i + 2];
            }
            r /= 4; g /= 4; b /= 4;
            const j = y * (width / 2) + x;
            U[j] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)));
            V[j] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)));
          }
        }
        const all = new Uint8Array(Y.length + U.length + V.length);
        all.set(Y, 0);
        all.set(U, Y.length);
        all.set(V, Y.length + U.length);
        let s = "";
        for (let i = 0; i < all.length; i += 0x8000) s += String.fromCharCode(...all.subarray(i, i + 0x8000));
        return btoa(s);
      },
      { src, width, height, scale, top, left },
    ),
  );
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`, "ascii");
  await writeFile(outPath, Buffer.concat([header, Buffer.from(yuv, "base64")]));
  return outPath;
}

/**
 * ID-card images (人像面 with the portrait taken from `portraitPath`, and 国徽面) as PNG bytes.
 * `crop` selects the face region of the portrait photo: [x, y, w, h].
 */
export async function makeIdCard({ name, idNumber, portraitPath, crop }) {
  const src = await dataUrl(portraitPath);
  const [front, back] = await withPage((page) =>
    page.evaluate(
      async ({ src, name, idNumber, crop }) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        const W = 856, H = 540;
        const card = (draw) => {
          const c = document.createElement("canvas");
          c.width = W;
          c.height = H;
          const ctx = c.getContext("2d");
          ctx.fillStyle = "#eef2f4";
          ctx.fillRect(0, 0, W, H);
          ctx.fillStyle = "#f7f3e8";
          ctx.beginPath();
          ctx.roundRect(16, 16, W - 32, H - 32, 24);
          ctx.fill();
          draw(ctx);
          return c.toDataURL("image/png").split(",")[1];
        };
        const font = '"Noto Sans CJK SC", "Noto Sans SC", sans-serif';
        const front = card((ctx) => {
          ctx.fillStyle = "#222";
          ctx.font = `30px ${font}`;
          ctx.fillText("姓名", 60, 100);
          ctx.font = `bold 34px ${font}`;
          ctx.fillText(name, 150, 100);
          ctx.font = `30px ${font}`;
          ctx.fillText("性别  女      民族  汉", 60, 170);
          ctx.fillText(`出生  ${idNumber.slice(6, 10)}年${Number(idNumber.slice(10, 12))}月${Number(idNumber.slice(12, 14))}日`, 60, 240);
          ctx.fillText("住址  北京市西城区示例路 1 号", 60, 310);
          ctx.fillText("公民身份号码", 60, 450);
          ctx.font = `bold 36px ${font}`;
          ctx.fillText(idNumber, 280, 452);
          const [x, y, w, h] = crop;
          ctx.drawImage(img, x, y, w, h, 580, 60, 220, 270);
        });
        const back = card((ctx) => {
          ctx.strokeStyle = "#c0392b";
          ctx.lineWidth = 8;
          ctx.beginPath();
          ctx.arc(140, 150, 80, 0, Math.PI * 2);
          ctx.stroke();
          ctx.fillStyle = "#c0392b";
          ctx.beginPath();
          ctx.arc(140, 150, 30, 0, Math.PI * 2);
          ctx.fill();
          ctx.fillStyle = "#222";
          ctx.font = `bold 48px ${font}`;
          ctx.fillText("中华人民共和国", 280, 130);
          ctx.fillText("居民身份证", 320, 200);
          ctx.font = `28px ${font}`;
          ctx.fillText("签发机关  北京市公安局西城分局", 150, 400);
          ctx.fillText("有效期限  2020.01.01-2030.01.01", 150, 460);
        });
        return [front, back];
      },
      { src, name, idNumber, crop },
    ),
  );
  return { front: Buffer.from(front, "base64"), back: Buffer.from(back, "base64") };
}

/**
 * A copy of a photo blurred by a Gaussian of `sigma` px, as a shaken or misfocused phone takes
 * it, written as a JPEG to `outPath`. The sharp photo is drawn first so the blur's edges mix
 * with it rather than with transparent black.
 */
export async function makeBlurred(photoPath, outPath, sigma = 4) {
  const src = await dataUrl(photoPath);
  const jpeg = await withPage((page) =>
    page.evaluate(
      async ({ src, sigma }) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext("2d");
        ctx.drawImage(img, 0, 0);
        ctx.filter = `blur(${sigma}px)`;
        ctx.drawImage(img, 0, 0);
        return c.toDataURL("image/jpeg", 0.92).split(",")[1];
      },
      { src, sigma },
    ),
  );
  await writeFile(outPath, Buffer.from(jpeg, "base64"));
  return outPath;
}
