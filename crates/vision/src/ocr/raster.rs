//! Pixel operations OCR needs, with OpenCV's conventions (the models were trained and are run
//! by RapidOCR through OpenCV): bilinear resize with half-pixel centres, perspective warp with
//! bicubic interpolation (a = −0.75) and replicated borders, quarter and half turns, and the
//! normalised BGR planar tensor layout PaddleOCR models take.

use image::RgbImage;

use super::geometry::{invert3, perspective, Pt};

/// `cv2.resize(..., INTER_LINEAR)`: no antialiasing, source coordinate (d + 0.5)·s − 0.5,
/// clamped at the borders.
pub fn resize_linear(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (sw, sh) = (img.width() as usize, img.height() as usize);
    let mut out = RgbImage::new(w, h);
    if sw == 0 || sh == 0 || w == 0 || h == 0 {
        return out;
    }
    let taps = |dst: u32, src: usize| -> Vec<(usize, usize, f32)> {
        let scale = src as f64 / f64::from(dst);
        (0..dst)
            .map(|d| {
                let f = (f64::from(d) + 0.5) * scale - 0.5;
                let mut i = f.floor();
                let mut frac = f - i;
                if i < 0.0 {
                    i = 0.0;
                    frac = 0.0;
                }
                let i = i as usize;
                if i + 1 >= src {
                    (src - 1, src - 1, 0.0)
                } else {
                    (i, i + 1, frac as f32)
                }
            })
            .collect()
    };
    let xt = taps(w, sw);
    let yt = taps(h, sh);
    let src = img.as_raw();
    let row = sw * 3;
    let dst = &mut *out;
    for (y, &(y0, y1, fy)) in yt.iter().enumerate() {
        for (x, &(x0, x1, fx)) in xt.iter().enumerate() {
            for c in 0..3 {
                let p = |yy: usize, xx: usize| f32::from(src[yy * row + xx * 3 + c]);
                let top = p(y0, x0) * (1.0 - fx) + p(y0, x1) * fx;
                let bot = p(y1, x0) * (1.0 - fx) + p(y1, x1) * fx;
                let v = top * (1.0 - fy) + bot * fy;
                dst[(y * w as usize + x) * 3 + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

fn cubic_weights(t: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let w0 = ((A * (t + 1.0) - 5.0 * A) * (t + 1.0) + 8.0 * A) * (t + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;
    let w2 = ((A + 2.0) * (1.0 - t) - (A + 3.0)) * (1.0 - t) * (1.0 - t) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

/// `cv2.warpPerspective(img, M, (w, h), flags=INTER_CUBIC, borderMode=BORDER_REPLICATE)` where
/// M maps `quad` (tl, tr, br, bl) to the rectangle (0,0), (w,0), (w,h), (0,h). `None` if the
/// quad is degenerate.
pub fn crop_quad(img: &RgbImage, quad: &[Pt; 4], w: u32, h: u32) -> Option<RgbImage> {
    let (fw, fh) = (f64::from(w), f64::from(h));
    let dst = [[0.0, 0.0], [fw, 0.0], [fw, fh], [0.0, fh]];
    let m = invert3(&perspective(quad, &dst)?)?;
    let (sw, sh) = (i64::from(img.width()), i64::from(img.height()));
    if sw == 0 || sh == 0 {
        return None;
    }
    let src = img.as_raw();
    let row = sw as usize * 3;
    let mut out = RgbImage::new(w, h);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (dx, dy) = (f64::from(x), f64::from(y));
        let den = m[6] * dx + m[7] * dy + m[8];
        if den == 0.0 {
            continue;
        }
        let sx = (m[0] * dx + m[1] * dy + m[2]) / den;
        let sy = (m[3] * dx + m[4] * dy + m[5]) / den;
        if !(sx.is_finite() && sy.is_finite()) {
            continue;
        }
        let (ix, iy) = (sx.floor(), sy.floor());
        let (wx, wy) = (
            cubic_weights((sx - ix) as f32),
            cubic_weights((sy - iy) as f32),
        );
        let (ix, iy) = (ix as i64, iy as i64);
        let mut acc = [0f32; 3];
        for (j, wyj) in wy.iter().enumerate() {
            let yy = (iy - 1 + j as i64).clamp(0, sh - 1) as usize;
            for (i, wxi) in wx.iter().enumerate() {
                let xx = (ix - 1 + i as i64).clamp(0, sw - 1) as usize;
                let o = yy * row + xx * 3;
                let k = wxi * wyj;
                for c in 0..3 {
                    acc[c] += k * f32::from(src[o + c]);
                }
            }
        }
        px.0 = acc.map(|v| v.round().clamp(0.0, 255.0) as u8);
    }
    Some(out)
}

/// `np.rot90`: a quarter turn counter-clockwise.
pub fn rot90_ccw(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    RgbImage::from_fn(h, w, |x, y| *img.get_pixel(w - 1 - y, x))
}

/// A half turn (`cv2.rotate(img, ROTATE_180)`).
pub fn rot180(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    RgbImage::from_fn(w, h, |x, y| *img.get_pixel(w - 1 - x, h - 1 - y))
}

/// Writes `img` into a zeroed planar BGR tensor of width `tensor_w` (left-aligned; the rest is
/// 0, i.e. mid-grey after normalisation) with PaddleOCR's normalisation (v/255 − 0.5)/0.5.
pub fn bgr_planes(img: &RgbImage, tensor_w: usize) -> Vec<f32> {
    let n = img.height() as usize * tensor_w;
    let mut out = vec![0f32; 3 * n];
    for (x, y, px) in img.enumerate_pixels() {
        let (x, y) = (x as usize, y as usize);
        if x >= tensor_w {
            continue;
        }
        for (plane, rgb_idx) in [2usize, 1, 0].into_iter().enumerate() {
            out[plane * n + y * tensor_w + x] = (f32::from(px.0[rgb_idx]) / 255.0 - 0.5) / 0.5;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn resize_identity_and_flat() {
        let img = RgbImage::from_fn(7, 5, |x, y| Rgb([(x * 30) as u8, (y * 40) as u8, 9]));
        assert_eq!(resize_linear(&img, 7, 5), img);
        let flat = RgbImage::from_pixel(9, 9, Rgb([10, 20, 30]));
        let r = resize_linear(&flat, 4, 13);
        assert!(r.pixels().all(|p| p.0 == [10, 20, 30]));
    }

    #[test]
    fn crop_of_axis_aligned_quad_is_a_copy() {
        let img = RgbImage::from_fn(40, 30, |x, y| Rgb([(x * 5) as u8, (y * 7) as u8, 1]));
        let q = [[5.0, 4.0], [25.0, 4.0], [25.0, 14.0], [5.0, 14.0]];
        let c = crop_quad(&img, &q, 20, 10).unwrap();
        assert_eq!(c.get_pixel(3, 2).0, img.get_pixel(8, 6).0);
    }

    #[test]
    fn turns() {
        let img = RgbImage::from_fn(3, 2, |x, y| Rgb([x as u8, y as u8, 0]));
        let r = rot90_ccw(&img);
        assert_eq!((r.width(), r.height()), (2, 3));
        // The top-right pixel goes to the top-left.
        assert_eq!(r.get_pixel(0, 0).0, [2, 0, 0]);
        assert_eq!(rot180(&img).get_pixel(0, 0).0, [2, 1, 0]);
    }

    #[test]
    fn planes_are_bgr_and_padded() {
        let img = RgbImage::from_pixel(2, 1, Rgb([255, 0, 51]));
        let t = bgr_planes(&img, 3);
        assert_eq!(t.len(), 9);
        assert!((t[0] - (51.0 / 255.0 - 0.5) / 0.5).abs() < 1e-6);
        assert_eq!(t[2], 0.0);
        assert!((t[6] - 1.0).abs() < 1e-6);
    }
}
