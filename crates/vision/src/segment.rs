//! Person segmentation (MediaPipe selfie segmentation, 256×256 soft mask) and its refinement
//! into an alpha matte at working resolution.
//!
//! The model's mask is coarse (no hair detail, edges a few pixels off). Refinement:
//! 1. a guided filter (He et al., box-filter form, guide = luminance) snaps the mask to image
//!    edges;
//! 2. because the photo rules ask for a plain, near-white wall, the local wall colour is
//!    estimated (normalised box convolution over confident background) and, where the guided
//!    mask is uncertain, the colour distance to the wall decides — hair against a bright wall
//!    separates cleanly;
//! 3. compositing un-mixes the old wall colour from edge pixels (`out = c + (1−α)(B − W)`), so no
//!    light halo of the old background remains around the hair.

use image::RgbImage;

use crate::error::VisionError;
use crate::models::{run_nhwc, Plan};
use crate::raster::{inside_polygon, luma_plane, resize_rgb, Affine, Plane};

pub const INPUT: usize = 256;

/// The model's soft mask and where it lies in the image it was computed from.
#[derive(Debug, Clone)]
pub struct CoarseMask {
    /// 256×256 person probability.
    pub mask: Plane,
    /// Maps image pixel coordinates to mask coordinates.
    pub image_to_mask: Affine,
}

impl CoarseMask {
    /// Person probability at image coordinates (bilinear).
    pub fn at(&self, x: f64, y: f64) -> f32 {
        let (mx, my) = self.image_to_mask.apply(x, y);
        self.mask.sample(mx as f32, my as f32)
    }
}

/// Runs the segmentation model on the whole image, stretched to 256×256 as MediaPipe does.
pub fn segment(plan: &Plan, img: &RgbImage) -> Result<CoarseMask, VisionError> {
    let input = resize_rgb(img, INPUT as u32, INPUT as u32);
    let data: Vec<f32> = input
        .as_raw()
        .iter()
        .map(|&v| f32::from(v) / 255.0)
        .collect();
    let out = run_nhwc(plan, data, [1, INPUT, INPUT, 3])?;
    let Some(mask) = out.into_iter().next().filter(|m| m.len() == INPUT * INPUT) else {
        return Err(VisionError::Model("segmentation: unexpected output".into()));
    };
    Ok(CoarseMask {
        mask: Plane {
            width: INPUT,
            height: INPUT,
            data: mask.into_iter().map(|v| v.clamp(0.0, 1.0)).collect(),
        },
        image_to_mask: Affine {
            a: INPUT as f64 / f64::from(img.width()),
            e: INPUT as f64 / f64::from(img.height()),
            ..Affine::IDENTITY
        },
    })
}

/// He et al.'s guided filter with a grey guide: `q = mean(a)·I + mean(b)`.
pub fn guided_filter(guide: &Plane, p: &Plane, r: usize, eps: f32) -> Plane {
    let mean_i = guide.box_mean(r);
    let mean_p = p.box_mean(r);
    let ip = guide.zip(p, |a, b| a * b).box_mean(r);
    let ii = guide.map(|a| a * a).box_mean(r);
    let mut a = Plane::new(guide.width, guide.height, 0.0);
    let mut b = Plane::new(guide.width, guide.height, 0.0);
    for k in 0..a.data.len() {
        let var = ii.data[k] - mean_i.data[k] * mean_i.data[k];
        let cov = ip.data[k] - mean_i.data[k] * mean_p.data[k];
        a.data[k] = cov / (var + eps);
        b.data[k] = mean_p.data[k] - a.data[k] * mean_i.data[k];
    }
    let ma = a.box_mean(r);
    let mb = b.box_mean(r);
    let mut q = Plane::new(guide.width, guide.height, 0.0);
    for k in 0..q.data.len() {
        q.data[k] = (ma.data[k] * guide.data[k] + mb.data[k]).clamp(0.0, 1.0);
    }
    q
}

/// The refined matte and the wall colour behind each pixel.
#[derive(Debug, Clone)]
pub struct Matte {
    pub alpha: Plane,
    /// Local wall colour on a grid of `WALL_BLOCK`-pixel blocks (RGB planes), used to un-mix
    /// edge pixels; see [`Matte::wall_at`].
    pub wall: [Plane; 3],
}

/// Block size of the wall-colour grid: the wall varies slowly.
const WALL_BLOCK: usize = 4;

impl Matte {
    /// Wall colour behind pixel `(x, y)` (bilinear on the block grid).
    pub fn wall_at(&self, x: usize, y: usize) -> [f32; 3] {
        let b = WALL_BLOCK as f32;
        let (gx, gy) = ((x as f32 + 0.5) / b, (y as f32 + 0.5) / b);
        [0, 1, 2].map(|c| self.wall[c].sample(gx, gy))
    }
}

/// Refines `coarse` (already resampled to `img`'s size) into an alpha matte. Pixels inside
/// `keep` (the face outline) are always fully foreground so the face is never blended.
pub fn refine(img: &RgbImage, coarse: &Plane, keep: Option<&[(f64, f64)]>) -> Matte {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let scale = w.max(h) as f32 / 640.0;
    let r = ((6.0 * scale).round() as usize).max(2);
    let guide = luma_plane(img).map(|v| v / 255.0);
    let q = guided_filter(&guide, coarse, r, 1e-3);

    // Wall colour: normalised convolution over confident background with a wide window, on
    // blocks (the wall varies slowly).
    const B: usize = WALL_BLOCK;
    let (bw, bh) = (w.div_ceil(B), h.div_ceil(B));
    let raw = img.as_raw();
    let mut sums = [
        Plane::new(bw, bh, 0.0),
        Plane::new(bw, bh, 0.0),
        Plane::new(bw, bh, 0.0),
    ];
    let mut weight = Plane::new(bw, bh, 0.0);
    let (mut wall_count, mut global) = (0usize, [0f64; 3]);
    for y in 0..h {
        for x in 0..w {
            let k = y * w + x;
            if coarse.data[k] < 0.1 {
                let b = (y / B) * bw + x / B;
                weight.data[b] += 1.0;
                wall_count += 1;
                for c in 0..3 {
                    let v = f32::from(raw[k * 3 + c]);
                    sums[c].data[b] += v;
                    global[c] += f64::from(v);
                }
            }
        }
    }
    let global = if wall_count > 0 {
        global.map(|v| (v / wall_count as f64) as f32)
    } else {
        [235.0, 235.0, 235.0]
    };
    let wr = ((24.0 * scale / B as f32).round() as usize).max(1);
    let wsum = weight.box_mean(wr);
    let small: [Plane; 3] = [0, 1, 2].map(|c| {
        sums[c]
            .box_mean(wr)
            .zip(&wsum, |n, s| if s > 0.05 { n / s } else { global[c] })
    });
    let wall = small;

    // How well the wall separates from the subject: spread of colour over the wall.
    let mut spread = 0f64;
    for y in 0..h {
        for x in 0..w {
            let k = y * w + x;
            if coarse.data[k] < 0.1 {
                let b = (y / B) * bw + x / B;
                let d: f32 = (0..3)
                    .map(|c| (f32::from(raw[k * 3 + c]) - wall[c].data[b]).powi(2))
                    .sum();
                spread += f64::from(d);
            }
        }
    }
    let sigma = if wall_count > 0 {
        (spread / wall_count as f64).sqrt() as f32
    } else {
        f32::INFINITY
    };
    // A noisy or busy wall makes colour keying unreliable: trust it less.
    let key_trust = if sigma.is_finite() {
        (1.0 - (sigma - 8.0) / 24.0).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let t0 = (2.5 * sigma).clamp(12.0, 40.0);
    let t1 = t0 + 36.0;

    let mut matte = Matte {
        alpha: Plane::new(w, h, 0.0),
        wall,
    };
    for y in 0..h {
        for x in 0..w {
            let k = y * w + x;
            let qa = q.data[k];
            let uncertainty = (8.0 * qa * (1.0 - qa)).min(1.0) * key_trust;
            let mut a = qa;
            if uncertainty > 0.0 {
                // Nearest block is precise enough for a distance with a 36-level ramp.
                let b = (y / B) * bw + x / B;
                let d = (0..3)
                    .map(|c| (f32::from(raw[k * 3 + c]) - matte.wall[c].data[b]).powi(2))
                    .sum::<f32>()
                    .sqrt();
                let key = smoothstep(t0, t1, d);
                a = qa * (1.0 - uncertainty) + key.min(qa + 0.5) * uncertainty;
            }
            if a < 0.03 {
                a = 0.0;
            } else if a > 0.97 {
                a = 1.0;
            }
            matte.alpha.data[k] = a;
        }
    }
    if let Some(poly) = keep {
        force_inside(&mut matte.alpha, poly);
    }
    matte
}

fn force_inside(alpha: &mut Plane, poly: &[(f64, f64)]) {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in poly {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let clampi = |v: f64, hi: usize| (v.max(0.0) as usize).min(hi);
    let (w, h) = (alpha.width, alpha.height);
    for y in clampi(y0.floor(), h)..clampi(y1.ceil() + 1.0, h) {
        for x in clampi(x0.floor(), w)..clampi(x1.ceil() + 1.0, w) {
            if inside_polygon(poly, x as f64 + 0.5, y as f64 + 0.5) {
                alpha.data[y * w + x] = 1.0;
            }
        }
    }
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Replaces the background: `out = c + (1−α)(B − W)` with `W` the local wall colour. For a
/// pixel that is a mix `c = α·F + (1−α)·W` this is exactly `α·F + (1−α)·B`, so edge pixels lose
/// the old wall's colour instead of keeping a light fringe. Pure background (α = 0) becomes
/// exactly `B`; fully opaque pixels are copied unchanged.
pub fn composite(img: &RgbImage, matte: &Matte, background: [u8; 3]) -> RgbImage {
    let mut out = img.clone();
    let bg = background.map(f32::from);
    let w = matte.alpha.width;
    for (k, p) in out.as_mut().chunks_exact_mut(3).enumerate() {
        let a = matte.alpha.data[k];
        if a >= 1.0 {
            continue;
        }
        if a <= 0.0 {
            p.copy_from_slice(&background);
            continue;
        }
        let wall = matte.wall_at(k % w, k / w);
        for c in 0..3 {
            let v = f32::from(p[c]) + (1.0 - a) * (bg[c] - wall[c]);
            p[c] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Fraction of the mask's person pixels, for sanity checks.
pub fn person_fraction(mask: &CoarseMask) -> f32 {
    let n = mask.mask.data.len().max(1) as f32;
    mask.mask.data.iter().filter(|&&v| v > 0.5).count() as f32 / n
}

/// True when every point of `poly` lies inside `w × h`.
pub fn polygon_inside(poly: &[(f64, f64)], w: f64, h: f64) -> bool {
    poly.iter()
        .all(|&(x, y)| x >= 0.0 && y >= 0.0 && x <= w && y <= h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guided_filter_snaps_a_blurry_mask_to_the_image_edge() {
        // Guide: sharp vertical edge at x = 32; mask: the same edge blurred over 16 px.
        let (w, h) = (64, 16);
        let guide = Plane {
            width: w,
            height: h,
            data: (0..w * h)
                .map(|i| if i % w < 32 { 0.1 } else { 0.9 })
                .collect(),
        };
        let soft = Plane {
            width: w,
            height: h,
            data: (0..w * h)
                .map(|i| (((i % w) as f32 - 24.0) / 16.0).clamp(0.0, 1.0))
                .collect(),
        };
        let q = guided_filter(&guide, &soft, 4, 1e-4);
        let row = |p: &Plane, x: usize| p.at(x, 8);
        // Sharper than the input on both sides of the edge.
        assert!(row(&q, 29) < row(&soft, 29));
        assert!(row(&q, 35) > row(&soft, 35));
    }
}
