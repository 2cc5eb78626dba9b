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

/// Adds the bilinear sample at continuous `(x, y)` to `acc`, or `fill` outside the image.
#[inline(always)]
fn add_bilinear(src: &[u8], w: usize, h: usize, x: f64, y: f64, fill: &[f32; 3], acc: &mut [f32]) {
    let fx = x - 0.5;
    let fy = y - 0.5;
    if fx < -0.5 || fy < -0.5 || fx > w as f64 - 0.5 || fy > h as f64 - 0.5 {
        acc[0] += fill[0];
        acc[1] += fill[1];
        acc[2] += fill[2];
        return;
    }
    let x0 = fx.floor();
    let y0 = fy.floor();
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
    let n = supersampling(out_to_src);
    let (w, h) = (src.width() as usize, src.height() as usize);
    let (ow, oh) = (out_w as usize, out_h as usize);
    let raw = src.as_raw();
    let mut out = vec![0u8; ow * oh * 3];
    let m = out_to_src;
    let inv_n = 1.0 / f64::from(n);
    let norm = 1.0 / (n * n) as f32;
    let fillf = fill.map(f32::from);
    let mut acc = vec![0f32; ow * 3];
    for v in 0..oh {
        acc.fill(0.0);
        for j in 0..n {
            let yy = v as f64 + (f64::from(j) + 0.5) * inv_n;
            for i in 0..n {
                let xx = (f64::from(i) + 0.5) * inv_n;
                // Walk the row incrementally: one add per axis per pixel.
                let mut x = m.a * xx + m.b * yy + m.c;
                let mut y = m.d * xx + m.e * yy + m.f;
                for px in acc.chunks_exact_mut(3) {
                    add_bilinear(raw, w, h, x, y, &fillf, px);
                    x += m.a;
                    y += m.d;
                }
            }
        }
        let row = &mut out[v * ow * 3..(v + 1) * ow * 3];
        for (o, a) in row.iter_mut().zip(&acc) {
            *o = (a * norm).round().clamp(0.0, 255.0) as u8;
        }
    }
    RgbImage::from_raw(out_w, out_h, out).unwrap_or_else(|| RgbImage::new(out_w, out_h))
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
        let x0 = fx.floor() as usize;
        let y0 = fy.floor() as usize;
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
        for v in 0..out_h {
            let mut x = m.a * 0.5 + m.b * (v as f64 + 0.5) + m.c;
            let mut y = m.d * 0.5 + m.e * (v as f64 + 0.5) + m.f;
            for o in &mut out.data[v * out_w..(v + 1) * out_w] {
                *o = self.sample(x as f32, y as f32);
                x += m.a;
                y += m.d;
            }
        }
        out
    }

    /// Mean over the `(2r+1)²` window, shrunk at the borders (normalised by the true count).
    /// Separable running sums: O(1) per pixel whatever `r`.
    pub fn box_mean(&self, r: usize) -> Plane {
        let (w, h) = (self.width, self.height);
        let mut tmp = vec![0f32; w * h];
        for y in 0..h {
            let row = &self.data[y * w..(y + 1) * w];
            box_line(row, &mut tmp[y * w..(y + 1) * w], r);
        }
        // Vertical pass row by row (cache-friendly): running column sums over the window.
        let mut out = Plane::new(w, h, 0.0);
        let mut colsum = vec![0f64; w];
        let (mut lo, mut hi) = (0usize, 0usize);
        for y in 0..h {
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
            for (o, s) in out.data[y * w..(y + 1) * w].iter_mut().zip(&colsum) {
                *o = (s * inv) as f32;
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
    fn polygon_membership() {
        let sq = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        assert!(inside_polygon(&sq, 5.0, 5.0));
        assert!(!inside_polygon(&sq, 11.0, 5.0));
    }
}
