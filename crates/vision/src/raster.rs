//! Pixel plumbing shared by the pipeline: affine maps, area-correct affine resampling, resizing,
//! luminance planes and O(1)-per-pixel box filters.
//!
//! Coordinates are continuous with pixel `i` covering `[i, i+1)`, so its centre is `i + 0.5`.

use image::RgbImage;

/// `(x, y) ↦ (a·x + b·y + c, d·x + e·y + f)`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Affine {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    pub e: f64,
    pub f: f64,
}

impl Affine {
    pub const IDENTITY: Affine = Affine {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 0.0,
        e: 1.0,
        f: 0.0,
    };

    pub fn scale(s: f64) -> Affine {
        Affine {
            a: s,
            e: s,
            ..Affine::IDENTITY
        }
    }

    /// Maps the unit-free square `[0,side)²` of a crop onto a rotated square of side `size`
    /// centred at `(cx, cy)` and rotated by `theta` radians (image axes, y down).
    pub fn rotated_square(cx: f64, cy: f64, size: f64, theta: f64, side: f64) -> Affine {
        let k = size / side;
        let (s, c) = theta.sin_cos();
        // p_img = centre + R(θ)·k·(p_crop − side/2)
        Affine {
            a: k * c,
            b: -k * s,
            c: cx - k * c * side / 2.0 + k * s * side / 2.0,
            d: k * s,
            e: k * c,
            f: cy - k * s * side / 2.0 - k * c * side / 2.0,
        }
    }

    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.a * x + self.b * y + self.c,
            self.d * x + self.e * y + self.f,
        )
    }

    /// `self ∘ inner`: first `inner`, then `self`.
    pub fn then_after(&self, inner: &Affine) -> Affine {
        Affine {
            a: self.a * inner.a + self.b * inner.d,
            b: self.a * inner.b + self.b * inner.e,
            c: self.a * inner.c + self.b * inner.f + self.c,
            d: self.d * inner.a + self.e * inner.d,
            e: self.d * inner.b + self.e * inner.e,
            f: self.d * inner.c + self.e * inner.f + self.f,
        }
    }

    pub fn invert(&self) -> Option<Affine> {
        let det = self.a * self.e - self.b * self.d;
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let (a, b, d, e) = (self.e / det, -self.b / det, -self.d / det, self.a / det);
        Some(Affine {
            a,
            b,
            c: -(a * self.c + b * self.f),
            d,
            e,
            f: -(d * self.c + e * self.f),
        })
    }

    /// Length of the source step for one destination pixel (geometric mean of both axes).
    pub fn linear_scale(&self) -> f64 {
        (self.a * self.e - self.b * self.d).abs().sqrt()
    }
}

/// How many samples per axis a destination pixel needs so that every source pixel under its
/// footprint contributes (area-correct downscaling by supersampling). Shrinking by less than
/// 1.25× keeps plain bilinear sampling: its 2×2 support already covers the footprint.
pub fn supersampling(out_to_src: &Affine) -> u32 {
    ((out_to_src.linear_scale() - 0.25).ceil() as u32).clamp(1, 8)
}

/// Adds the bilinear sample at continuous `(x, y)` to `acc`; outside the image, `fill`, or
/// the nearest edge pixel when there is no fill colour.
#[inline(always)]
fn add_bilinear(
    src: &[u8],
    w: usize,
    h: usize,
    x: f64,
    y: f64,
    fill: Option<&[f32; 3]>,
    acc: &mut [f32],
) {
    let mut fx = x - 0.5;
    let mut fy = y - 0.5;
    if fx < -0.5 || fy < -0.5 || fx > w as f64 - 0.5 || fy > h as f64 - 0.5 {
        match fill {
            Some(fill) => {
                acc[0] += fill[0];
                acc[1] += fill[1];
                acc[2] += fill[2];
                return;
            }
            None => {
                fx = fx.clamp(-0.5, w as f64 - 0.5);
                fy = fy.clamp(-0.5, h as f64 - 0.5);
            }
        }
    }
    // `fx, fy ≥ −0.5` here, so truncating `v + 1` and subtracting 1 is `floor` without a
    // libm call (baseline x86-64 has no rounding instruction; this is the hottest loop).
    let x0 = ((fx + 1.0) as i64 - 1) as f64;
    let y0 = ((fy + 1.0) as i64 - 1) as f64;
    let tx = (fx - x0) as f32;
    let ty = (fy - y0) as f32;
    let w00 = (1.0 - tx) * (1.0 - ty);
    let w10 = tx * (1.0 - ty);
    let w01 = (1.0 - tx) * ty;
    let w11 = tx * ty;
    let xi = x0 as isize;
    let yi = y0 as isize;
    if xi >= 0 && yi >= 0 && (xi as usize) + 1 < w && (yi as usize) + 1 < h {
        // Interior: two 6-byte row pairs, one bounds check each.
        let (xi, yi) = (xi as usize, yi as usize);
        let t0 = (yi * w + xi) * 3;
        let t1 = t0 + w * 3;
        if let (Some(top), Some(bot)) = (src.get(t0..t0 + 6), src.get(t1..t1 + 6)) {
            for c in 0..3 {
                acc[c] += f32::from(top[c]) * w00
                    + f32::from(top[c + 3]) * w10
                    + f32::from(bot[c]) * w01
                    + f32::from(bot[c + 3]) * w11;
            }
            return;
        }
    }
    let cx0 = xi.clamp(0, w as isize - 1) as usize;
    let cx1 = (xi + 1).clamp(0, w as isize - 1) as usize;
    let cy0 = yi.clamp(0, h as isize - 1) as usize;
    let cy1 = (yi + 1).clamp(0, h as isize - 1) as usize;
    let r0 = cy0 * w;
    let r1 = cy1 * w;
    let (p00, p10, p01, p11) = (
        (r0 + cx0) * 3,
        (r0 + cx1) * 3,
        (r1 + cx0) * 3,
        (r1 + cx1) * 3,
    );
    for c in 0..3 {
        acc[c] += f32::from(src[p00 + c]) * w00
            + f32::from(src[p10 + c]) * w10
            + f32::from(src[p01 + c]) * w01
            + f32::from(src[p11 + c]) * w11;
    }
}

/// Resamples `src` into an `out_w × out_h` image where destination pixel centres map to the
/// source through `out_to_src`. Each destination pixel is the mean of `n × n` bilinear samples
/// spread evenly over its footprint (`n` from [`supersampling`]); samples outside the source
/// count as `fill`. A plain resample: no sharpening, smoothing beyond the footprint, or tone
/// change.
pub fn warp_rgb(
    src: &RgbImage,
    out_w: u32,
    out_h: u32,
    out_to_src: &Affine,
    fill: [u8; 3],
) -> RgbImage {
    warp_rgb_with(src, out_w, out_h, out_to_src, Some(fill), false)
}

/// [`warp_rgb`] with the output split into bands of rows resampled on all cores: the same
/// pixels, for large outputs on a thread that is not already sharing the cores.
pub fn warp_rgb_par(
    src: &RgbImage,
    out_w: u32,
    out_h: u32,
    out_to_src: &Affine,
    fill: [u8; 3],
) -> RgbImage {
    warp_rgb_with(src, out_w, out_h, out_to_src, Some(fill), true)
}

/// [`warp_rgb_par`] where samples beyond the source take the nearest edge pixel: no fill
/// colour is blended into the pixels along the source's border.
pub fn warp_rgb_par_clamped(
    src: &RgbImage,
    out_w: u32,
    out_h: u32,
    out_to_src: &Affine,
) -> RgbImage {
    warp_rgb_with(src, out_w, out_h, out_to_src, None, true)
}

fn warp_rgb_with(
    src: &RgbImage,
    out_w: u32,
    out_h: u32,
    out_to_src: &Affine,
    fill: Option<[u8; 3]>,
    parallel: bool,
) -> RgbImage {
    let ow = out_w as usize;
    let mut out = vec![0u8; ow * out_h as usize * 3];
    let band = |v0: usize, band: &mut [u8]| warp_band(src, ow, out_to_src, fill, v0, band);
    if parallel {
        par_bands(&mut out, ow * 3, band);
    } else {
        band(0, &mut out);
    }
    RgbImage::from_raw(out_w, out_h, out).unwrap_or_else(|| RgbImage::new(out_w, out_h))
}

/// Output rows `v0..` of a warp into `band` (whole rows of `ow` RGB pixels).
fn warp_band(
    src: &RgbImage,
    ow: usize,
    m: &Affine,
    fill: Option<[u8; 3]>,
    v0: usize,
    band: &mut [u8],
) {
    let n = supersampling(m);
    let (w, h) = (src.width() as usize, src.height() as usize);
    let raw = src.as_raw();
    let inv_n = 1.0 / f64::from(n);
    let norm = 1.0 / (n * n) as f32;
    let fillf = fill.map(|f| f.map(f32::from));
    let mut acc = vec![0f32; ow * 3];
    for (dv, row) in band.chunks_exact_mut(ow * 3).enumerate() {
        let v = v0 + dv;
        acc.fill(0.0);
        for j in 0..n {
            let yy = v as f64 + (f64::from(j) + 0.5) * inv_n;
            for i in 0..n {
                let xx = (f64::from(i) + 0.5) * inv_n;
                // Walk the row incrementally: one add per axis per pixel.
                let mut x = m.a * xx + m.b * yy + m.c;
                let mut y = m.d * xx + m.e * yy + m.f;
                for px in acc.chunks_exact_mut(3) {
                    add_bilinear(raw, w, h, x, y, fillf.as_ref(), px);
                    x += m.a;
                    y += m.d;
                }
            }
        }
        for (o, a) in row.iter_mut().zip(&acc) {
            *o = (a * norm).round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// Worker threads for [`par_bands`]: the machine's cores, at most four (the images are small
/// enough that more threads cost more to start than they save).
fn workers() -> usize {
    static WORKERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORKERS.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4)
    })
}

/// Bands smaller than this many rows are not worth a thread.
const MIN_BAND_ROWS: usize = 64;
/// Nor are whole jobs smaller than this many items (starting a thread costs tens of
/// microseconds, about what a 240×320 plane takes to filter).
const MIN_PARALLEL_ITEMS: usize = 150_000;

/// Splits `data` (rows of `row_len` items) into one band of whole rows per worker and runs
/// `f(first_row, band)` on every band, the last on the calling thread.
pub fn par_bands<T: Send>(data: &mut [T], row_len: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let rows = data.len() / row_len.max(1);
    let n = workers().min(rows / MIN_BAND_ROWS).max(1);
    if n == 1 || data.len() < MIN_PARALLEL_ITEMS {
        f(0, data);
        return;
    }
    let per = rows.div_ceil(n);
    let f = &f;
    std::thread::scope(|s| {
        let mut bands = data.chunks_mut(per * row_len).enumerate().peekable();
        while let Some((i, band)) = bands.next() {
            if bands.peek().is_some() {
                s.spawn(move || f(i * per, band));
            } else {
                f(i * per, band);
            }
        }
    });
}

/// A single-channel float image.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn new(width: usize, height: usize, value: f32) -> Plane {
        Plane {
            width,
            height,
            data: vec![value; width * height],
        }
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Bilinear sample at continuous coordinates, clamped to the edge.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let fx = (x - 0.5).clamp(0.0, (self.width - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (self.height - 1) as f32);
        // Clamped to ≥ 0 above, so truncation is `floor`.
        let x0 = fx as usize;
        let y0 = fy as usize;
        let x1 = (x0 + 1).min(self.width - 1);
        let y1 = (y0 + 1).min(self.height - 1);
        let tx = fx - x0 as f32;
        let ty = fy - y0 as f32;
        let top = self.at(x0, y0) * (1.0 - tx) + self.at(x1, y0) * tx;
        let bot = self.at(x0, y1) * (1.0 - tx) + self.at(x1, y1) * tx;
        top * (1.0 - ty) + bot * ty
    }

    /// Resamples into `out_w × out_h` through `out_to_src` (bilinear, edge-clamped).
    pub fn warp(&self, out_w: usize, out_h: usize, out_to_src: &Affine) -> Plane {
        let m = out_to_src;
        let mut out = Plane::new(out_w, out_h, 0.0);
        par_bands(&mut out.data, out_w.max(1), |v0, band| {
            for (dv, row) in band.chunks_exact_mut(out_w).enumerate() {
                let v = (v0 + dv) as f64 + 0.5;
                let mut x = m.a * 0.5 + m.b * v + m.c;
                let mut y = m.d * 0.5 + m.e * v + m.f;
                for o in row {
                    *o = self.sample(x as f32, y as f32);
                    x += m.a;
                    y += m.d;
                }
            }
        });
        out
    }

    /// Mean over the `(2r+1)²` window, shrunk at the borders (normalised by the true count).
    /// Separable running sums: O(1) per pixel whatever `r`; bands of rows run on all cores.
    pub fn box_mean(&self, r: usize) -> Plane {
        let (w, h) = (self.width, self.height);
        let mut out = Plane::new(w, h, 0.0);
        if w == 0 || h == 0 {
            return out;
        }
        let mut tmp = vec![0f32; w * h];
        par_bands(&mut tmp, w, |y0, band| {
            for (dy, dst) in band.chunks_exact_mut(w).enumerate() {
                let y = y0 + dy;
                box_line(&self.data[y * w..(y + 1) * w], dst, r);
            }
        });
        // Vertical pass row by row (cache-friendly): running column sums over the window, each
        // band starting its own sums.
        let tmp = &tmp;
        par_bands(&mut out.data, w, |y0, band| {
            let mut colsum = vec![0f64; w];
            let start = y0.saturating_sub(r);
            let (mut lo, mut hi) = (start, start);
            for (dy, dst) in band.chunks_exact_mut(w).enumerate() {
                let y = y0 + dy;
                while hi < (y + r + 1).min(h) {
                    for (s, v) in colsum.iter_mut().zip(&tmp[hi * w..(hi + 1) * w]) {
                        *s += f64::from(*v);
                    }
                    hi += 1;
                }
                while lo < y.saturating_sub(r) {
                    for (s, v) in colsum.iter_mut().zip(&tmp[lo * w..(lo + 1) * w]) {
                        *s -= f64::from(*v);
                    }
                    lo += 1;
                }
                let inv = 1.0 / (hi - lo) as f64;
                for (o, s) in dst.iter_mut().zip(&colsum) {
                    *o = (s * inv) as f32;
                }
            }
        });
        out
    }

    /// Mean of each `s × s` block (partial blocks at the right and bottom edges averaged over
    /// the pixels they have).
    pub fn downsample(&self, s: usize) -> Plane {
        let s = s.max(1);
        let (w, h) = (self.width, self.height);
        let (dw, dh) = (w.div_ceil(s), h.div_ceil(s));
        let mut out = Plane::new(dw, dh, 0.0);
        let mut counts = vec![0u32; dw];
        for by in 0..dh {
            let dst = &mut out.data[by * dw..(by + 1) * dw];
            counts.fill(0);
            for y in by * s..((by + 1) * s).min(h) {
                let src = &self.data[y * w..(y + 1) * w];
                for (x, v) in src.iter().enumerate() {
                    dst[x / s] += v;
                    counts[x / s] += 1;
                }
            }
            for (d, n) in dst.iter_mut().zip(&counts) {
                *d /= (*n).max(1) as f32;
            }
        }
        out
    }

    pub fn map(&self, f: impl Fn(f32) -> f32) -> Plane {
        Plane {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }

    pub fn zip(&self, other: &Plane, f: impl Fn(f32, f32) -> f32) -> Plane {
        Plane {
            width: self.width,
            height: self.height,
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        }
    }
}

/// 1-D box mean with clipped window; the running sum is kept in f64 so long lines do not drift.
fn box_line(src: &[f32], dst: &mut [f32], r: usize) {
    let n = src.len();
    if n == 0 {
        return;
    }
    let mut sum = 0f64;
    let mut hi = 0usize; // exclusive end of the window
    let mut lo = 0usize; // start of the window
    for (i, d) in dst.iter_mut().enumerate() {
        let want_hi = (i + r + 1).min(n);
        while hi < want_hi {
            sum += f64::from(src[hi]);
            hi += 1;
        }
        let want_lo = i.saturating_sub(r);
        while lo < want_lo {
            sum -= f64::from(src[lo]);
            lo += 1;
        }
        *d = (sum / (hi - lo) as f64) as f32;
    }
}

/// Rec. 601 luma, 0–255.
#[inline]
pub fn luma(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

pub fn luma_plane(img: &RgbImage) -> Plane {
    Plane {
        width: img.width() as usize,
        height: img.height() as usize,
        data: img.as_raw().chunks_exact(3).map(luma).collect(),
    }
}

/// Resizes to exactly `w × h` with an area-correct (antialiased) bilinear filter.
pub fn resize_rgb(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    if src.width() == w && src.height() == h {
        return src.clone();
    }
    let fallback = |src: &RgbImage| {
        let id = Affine {
            a: f64::from(src.width()) / f64::from(w),
            e: f64::from(src.height()) / f64::from(h),
            ..Affine::IDENTITY
        };
        warp_rgb(src, w, h, &id, [0, 0, 0])
    };
    let Ok(src_ref) = ImageRef::new(src.width(), src.height(), src.as_raw(), PixelType::U8x3)
    else {
        return fallback(src);
    };
    let mut dst = Image::new(w, h, PixelType::U8x3);
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    if Resizer::new().resize(&src_ref, &mut dst, &opts).is_err() {
        return fallback(src);
    }
    RgbImage::from_raw(w, h, dst.into_vec()).unwrap_or_else(|| fallback(src))
}

/// A model input crop: `out_w × out_h` pixels mapped to `src` through `out_to_src` (any
/// rotation), like [`warp_rgb`]. When that shrinks by more than 1.5×, the part of `src` under
/// the crop is first reduced with the SIMD resizer (antialiased) to about the crop's scale, so
/// the warp needs one sample per pixel instead of `n²`: for a face filling a phone photo this is
/// several times cheaper and the model sees the same detail.
pub fn crop_for_model(src: &RgbImage, out_w: u32, out_h: u32, out_to_src: &Affine) -> RgbImage {
    let s = out_to_src.linear_scale();
    if s <= 1.5 {
        return warp_rgb(src, out_w, out_h, out_to_src, [0, 0, 0]);
    }
    // Bounding box of the crop in `src`, a pixel of margin for the bilinear taps.
    let corners = [
        (0.0, 0.0),
        (f64::from(out_w), 0.0),
        (0.0, f64::from(out_h)),
        (f64::from(out_w), f64::from(out_h)),
    ]
    .map(|(u, v)| out_to_src.apply(u, v));
    let (sw, sh) = (f64::from(src.width()), f64::from(src.height()));
    let x0 = (corners.iter().map(|p| p.0).fold(f64::MAX, f64::min) - 2.0)
        .floor()
        .clamp(0.0, sw);
    let y0 = (corners.iter().map(|p| p.1).fold(f64::MAX, f64::min) - 2.0)
        .floor()
        .clamp(0.0, sh);
    let x1 = (corners.iter().map(|p| p.0).fold(f64::MIN, f64::max) + 2.0)
        .ceil()
        .clamp(0.0, sw);
    let y1 = (corners.iter().map(|p| p.1).fold(f64::MIN, f64::max) + 2.0)
        .ceil()
        .clamp(0.0, sh);
    let (bw, bh) = ((x1 - x0) as u32, (y1 - y0) as u32);
    if bw < 2 || bh < 2 {
        return warp_rgb(src, out_w, out_h, out_to_src, [0, 0, 0]);
    }
    let region = image::imageops::crop_imm(src, x0 as u32, y0 as u32, bw, bh).to_image();
    let (nw, nh) = (
        ((f64::from(bw) / s).round() as u32).max(1),
        ((f64::from(bh) / s).round() as u32).max(1),
    );
    let small = resize_rgb(&region, nw, nh);
    // src → small: shift to the box, then scale each axis by the exact resize ratio.
    let to_small = Affine {
        a: f64::from(nw) / f64::from(bw),
        b: 0.0,
        c: -x0 * f64::from(nw) / f64::from(bw),
        d: 0.0,
        e: f64::from(nh) / f64::from(bh),
        f: -y0 * f64::from(nh) / f64::from(bh),
    };
    let m = to_small.then_after(out_to_src);
    // Outside the box lies outside the image too (the box was clamped only there), so the
    // black fill is the same as the direct warp's.
    warp_rgb(&small, out_w, out_h, &m, [0, 0, 0])
}

/// Resizes so the longer side is at most `max_side`, keeping the aspect ratio.
pub fn fit_within(src: &RgbImage, max_side: u32) -> RgbImage {
    let (w, h) = src.dimensions();
    let long = w.max(h);
    if long <= max_side {
        return src.clone();
    }
    let k = f64::from(max_side) / f64::from(long);
    let nw = ((f64::from(w) * k).round() as u32).max(1);
    let nh = ((f64::from(h) * k).round() as u32).max(1);
    resize_rgb(src, nw, nh)
}

/// The 8-connected regions of `mask` (`w × h`, row-major), each as the indices of its pixels.
pub fn regions_8(mask: &[bool], w: usize, h: usize) -> Vec<Vec<usize>> {
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..(w * h).min(mask.len()) {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut region = Vec::new();
        while let Some(i) = stack.pop() {
            region.push(i);
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(region);
    }
    out
}

/// Point-in-polygon (even-odd rule).
pub fn inside_polygon(poly: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    let mut j = poly.len().wrapping_sub(1);
    for i in 0..poly.len() {
        let (xi, yi) = poly[i];
        let (xj, yj) = poly[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_8_join_diagonal_neighbours_and_split_separate_spots() {
        // 1 . . 1
        // . 1 . .
        // . . . 1
        let m = [
            true, false, false, true, //
            false, true, false, false, //
            false, false, false, true,
        ];
        let mut r = regions_8(&m, 4, 3);
        r.iter_mut().for_each(|v| v.sort_unstable());
        r.sort();
        assert_eq!(r, vec![vec![0, 5], vec![3], vec![11]]);
        assert!(regions_8(&[false; 6], 3, 2).is_empty());
    }

    #[test]
    fn affine_inverse_and_composition() {
        let m = Affine::rotated_square(100.0, 50.0, 80.0, 0.3, 192.0);
        let inv = m.invert().unwrap();
        let (x, y) = m.apply(12.0, 34.0);
        let (u, v) = inv.apply(x, y);
        assert!((u - 12.0).abs() < 1e-9 && (v - 34.0).abs() < 1e-9);
        let id = m.then_after(&inv);
        assert!((id.a - 1.0).abs() < 1e-12 && id.b.abs() < 1e-12 && id.c.abs() < 1e-9);
        // The crop centre lands on the square's centre.
        let (cx, cy) = m.apply(96.0, 96.0);
        assert!((cx - 100.0).abs() < 1e-9 && (cy - 50.0).abs() < 1e-9);
    }

    #[test]
    fn identity_warp_is_a_copy_and_halving_averages() {
        let img = RgbImage::from_fn(8, 6, |x, y| image::Rgb([(x * 30) as u8, (y * 40) as u8, 7]));
        assert_eq!(warp_rgb(&img, 8, 6, &Affine::IDENTITY, [0, 0, 0]), img);
        let half = warp_rgb(&img, 4, 3, &Affine::scale(2.0), [0, 0, 0]);
        // Each output pixel is the mean of the 2×2 block under it.
        assert_eq!(half.get_pixel(1, 1).0, [75, 100, 7]);
    }

    #[test]
    fn box_mean_of_constant_is_constant() {
        let p = Plane::new(13, 7, 3.5);
        assert!(p.box_mean(4).data.iter().all(|v| (v - 3.5).abs() < 1e-6));
    }

    #[test]
    fn banded_box_mean_matches_the_direct_window_mean() {
        // Large enough to be split into bands; values vary so a wrong band start shows.
        let (w, h, r) = (500, 320, 5);
        let p = Plane {
            width: w,
            height: h,
            data: (0..w * h).map(|i| ((i * 7919) % 251) as f32).collect(),
        };
        let fast = p.box_mean(r);
        for y in [0usize, 1, 63, 64, 75, 154, 159, 160, 161, 166, 319] {
            for x in [0usize, 3, 18, 36, 499] {
                let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let mut sum = 0f64;
                for yy in y0..y1 {
                    for xx in x0..x1 {
                        sum += f64::from(p.at(xx, yy));
                    }
                }
                let direct = sum / ((y1 - y0) * (x1 - x0)) as f64;
                assert!(
                    (f64::from(fast.at(x, y)) - direct).abs() < 1e-3,
                    "({x}, {y}): {} vs {direct}",
                    fast.at(x, y)
                );
            }
        }
    }

    #[test]
    fn parallel_warp_gives_the_same_pixels_as_the_serial_one() {
        let img = RgbImage::from_fn(900, 700, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 253) as u8])
        });
        let m = Affine::rotated_square(450.0, 350.0, 600.0, 0.2, 480.0);
        assert_eq!(
            warp_rgb_par(&img, 480, 640, &m, [1, 2, 3]),
            warp_rgb(&img, 480, 640, &m, [1, 2, 3])
        );
    }

    #[test]
    fn downsampling_averages_blocks_including_partial_ones() {
        let p = Plane {
            width: 3,
            height: 3,
            data: vec![1.0, 3.0, 5.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0],
        };
        let d = p.downsample(2);
        assert_eq!((d.width, d.height), (2, 2));
        assert_eq!(d.data, vec![3.0, 6.0, 10.0, 13.0]);
    }

    #[test]
    fn model_crop_through_the_resizer_matches_the_supersampled_warp() {
        // Smooth content (what a face crop holds at model scale), a rotated 3.4× reduction.
        let img = RgbImage::from_fn(1200, 900, |x, y| {
            let (fx, fy) = (f64::from(x) / 60.0, f64::from(y) / 45.0);
            image::Rgb([
                (128.0 + 100.0 * fx.sin()) as u8,
                (128.0 + 100.0 * fy.cos()) as u8,
                (128.0 + 60.0 * (fx + fy).sin()) as u8,
            ])
        });
        let m = Affine::rotated_square(600.0, 450.0, 650.0, 0.25, 192.0);
        let fast = crop_for_model(&img, 192, 192, &m);
        let slow = warp_rgb(&img, 192, 192, &m, [0, 0, 0]);
        let mean_diff = fast
            .as_raw()
            .iter()
            .zip(slow.as_raw())
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / fast.as_raw().len() as f64;
        assert!(mean_diff < 1.5, "mean difference {mean_diff}");
        // A crop reaching past the image edge is black there, as with the warp.
        let edge = Affine::rotated_square(20.0, 20.0, 300.0, 0.0, 96.0);
        assert_eq!(
            crop_for_model(&img, 96, 96, &edge).get_pixel(2, 2).0,
            [0, 0, 0]
        );
    }

    #[test]
    fn polygon_membership() {
        let sq = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        assert!(inside_polygon(&sq, 5.0, 5.0));
        assert!(!inside_polygon(&sq, 11.0, 5.0));
    }
}
