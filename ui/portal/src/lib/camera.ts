// Frames from the live camera become the photo the student saw inside the guide.

/** The centred 3:4 portrait region of a w×h frame (what `object-fit: cover` shows). */
export function portraitCrop(w: number, h: number): { x: number; y: number; w: number; h: number } {
  const target = 3 / 4;
  if (w / h > target) {
    const cw = Math.round(h * target);
    return { x: Math.round((w - cw) / 2), y: 0, w: cw, h };
  }
  const ch = Math.round(w / target);
  return { x: 0, y: Math.round((h - ch) / 2), w, h: ch };
}

/** Draws the visible portrait region of the source at full resolution into a JPEG. */
export function cropToPortrait(source: CanvasImageSource, w: number, h: number, quality = 0.92): Promise<Blob | null> {
  const r = portraitCrop(w, h);
  const canvas = document.createElement("canvas");
  canvas.width = r.w;
  canvas.height = r.h;
  const ctx = canvas.getContext("2d");
  if (!ctx) return Promise.resolve(null);
  ctx.drawImage(source, r.x, r.y, r.w, r.h, 0, 0, r.w, r.h);
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b), "image/jpeg", quality));
}
