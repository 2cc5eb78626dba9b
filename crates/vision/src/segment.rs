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
use crate::raster::{luma_plane, par_bands, resize_rgb, Affine, Plane};

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
    let (ma, mb) = mean_coefficients(guide, p, r, eps);
    let mut q = Plane::new(guide.width, guide.height, 0.0);
    for k in 0..q.data.len() {
        q.data[k] = (ma.data[k] * guide.data[k] + mb.data[k]).clamp(0.0, 1.0);
    }
    q
}

/// The guided filter's linear coefficients `a`, `b` (from the local covariance of guide and
/// input over `(2r+1)²` windows), each box-averaged once more.
fn mean_coefficients(guide: &Plane, p: &Plane, r: usize, eps: f32) -> (Plane, Plane) {
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
    (a.box_mean(r), b.box_mean(r))
}

/// He and Sun's fast guided filter: the linear coefficients vary slowly, so they are computed
/// on copies subsampled by `s` and interpolated back; the output still follows the edges of
/// the full-resolution guide. About `s²` times less box filtering than [`guided_filter`].
pub fn fast_guided_filter(guide: &Plane, p: &Plane, r: usize, eps: f32, s: usize) -> Plane {
    if s <= 1 {
        return guided_filter(guide, p, r, eps);
    }
    let (ma, mb) = mean_coefficients(&guide.downsample(s), &p.downsample(s), (r / s).max(1), eps);
    let w = guide.width;
    // Bilinear upsampling of the coefficients with per-column and per-row taps computed once.
    let taps = |n: usize, len: usize| -> Vec<(usize, usize, f32)> {
        (0..n)
            .map(|i| {
                let f = ((i as f32 + 0.5) / s as f32 - 0.5).clamp(0.0, (len - 1) as f32);
                let i0 = f.floor() as usize;
                (i0, (i0 + 1).min(len - 1), f - i0 as f32)
            })
            .collect()
    };
    let cols = taps(w, ma.width);
    let rows = taps(guide.height, ma.height);
    let mut q = Plane::new(w, guide.height, 0.0);
    par_bands(&mut q.data, w.max(1), |y0, band| {
        let mut ra = vec![0f32; ma.width];
        let mut rb = vec![0f32; ma.width];
        for (dy, row) in band.chunks_exact_mut(w).enumerate() {
            let y = y0 + dy;
            let (r0, r1, ty) = rows[y];
            for (i, (oa, ob)) in ra.iter_mut().zip(rb.iter_mut()).enumerate() {
                *oa = ma.at(i, r0) * (1.0 - ty) + ma.at(i, r1) * ty;
                *ob = mb.at(i, r0) * (1.0 - ty) + mb.at(i, r1) * ty;
            }
            let g = &guide.data[y * w..(y + 1) * w];
            for ((out, &(c0, c1, tx)), &i) in row.iter_mut().zip(&cols).zip(g) {
                let a = ra[c0] * (1.0 - tx) + ra[c1] * tx;
                let b = rb[c0] * (1.0 - tx) + rb[c1] * tx;
                *out = (a * i + b).clamp(0.0, 1.0);
            }
        }
    });
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

/// How far inside the person's outline (px at 640-px output scale) wall-coloured pixels are
/// keyed out despite a confident mask.
const HALO_REACH: f32 = 10.0;

/// Subsampling of the guided filter's coefficients (output pixels per coefficient pixel).
const GUIDED_SUBSAMPLE: usize = 2;

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
/// `keep` (the face outline) are always fully foreground so the face is never blended;
/// pixels marked in `outside` lie beyond the original photo.
pub fn refine(
    img: &RgbImage,
    coarse: &Plane,
    keep: Option<&[(f64, f64)]>,
    outside: Option<&[bool]>,
) -> Matte {
    // Pixels with no source behind them (`outside`) hold the fill colour, not the wall: they
    // must not colour the wall estimate.
    let beyond = |k: usize| outside.is_some_and(|o| o.get(k).copied().unwrap_or(false));
    let (w, h) = (img.width() as usize, img.height() as usize);
    let scale = w.max(h) as f32 / 640.0;
    let r = ((6.0 * scale).round() as usize).max(2);
    let guide = luma_plane(img).map(|v| v / 255.0);
    let q = fast_guided_filter(&guide, coarse, r, 1e-3, GUIDED_SUBSAMPLE);

    // Wall colour: normalised convolution over confident background with a wide window, on
    // blocks (the wall varies slowly). Each band of block rows is summed on its own core.
    const B: usize = WALL_BLOCK;
    let (bw, bh) = (w.div_ceil(B), h.div_ceil(B));
    let raw = img.as_raw();
    // Per block: sums of R, G, B and the count of wall pixels.
    let mut blocks = vec![[0f32; 4]; bw * bh];
    par_bands(&mut blocks, bw, |by0, band| {
        for (dby, row) in band.chunks_exact_mut(bw).enumerate() {
            let by = by0 + dby;
            for y in by * B..((by + 1) * B).min(h) {
                for x in 0..w {
                    let k = y * w + x;
                    if coarse.data[k] < 0.1 && !beyond(k) {
                        let acc = &mut row[x / B];
                        acc[3] += 1.0;
                        for c in 0..3 {
                            acc[c] += f32::from(raw[k * 3 + c]);
                        }
                    }
                }
            }
        }
    });
    let plane_of = |i: usize| Plane {
        width: bw,
        height: bh,
        data: blocks.iter().map(|b| b[i]).collect(),
    };
    let weight = plane_of(3);
    let wall_count = weight.data.iter().map(|&n| f64::from(n)).sum::<f64>();
    let global = if wall_count > 0.0 {
        [0, 1, 2].map(|c| (blocks.iter().map(|b| f64::from(b[c])).sum::<f64>() / wall_count) as f32)
    } else {
        [235.0, 235.0, 235.0]
    };
    let wr = ((24.0 * scale / B as f32).round() as usize).max(1);
    let wsum = weight.box_mean(wr);
    let wall: [Plane; 3] = [0, 1, 2].map(|c| {
        plane_of(c)
            .box_mean(wr)
            .zip(&wsum, |n, s| if s > 0.05 { n / s } else { global[c] })
    });

    // How well the wall separates from the subject: spread of colour over the wall (one sum per
    // block row, summed in parallel bands).
    let mut spread_rows = vec![0f64; bh];
    par_bands(&mut spread_rows, 1, |by0, band| {
        for (dby, out) in band.iter_mut().enumerate() {
            let by = by0 + dby;
            for y in by * B..((by + 1) * B).min(h) {
                for x in 0..w {
                    let k = y * w + x;
                    if coarse.data[k] < 0.1 && !beyond(k) {
                        let b = by * bw + x / B;
                        let d: f32 = (0..3)
                            .map(|c| (f32::from(raw[k * 3 + c]) - wall[c].data[b]).powi(2))
                            .sum();
                        *out += f64::from(d);
                    }
                }
            }
        }
    });
    let spread: f64 = spread_rows.iter().sum();
    let sigma = if wall_count > 0.0 {
        (spread / wall_count).sqrt() as f32
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

    // The coarse mask often overshoots by a few pixels where hair meets a bright wall, with
    // full confidence, leaving a rim of old wall above the head. Near the person's outline
    // (within `HALO_REACH` px of background), a pixel that looks like the wall is keyed out
    // even when the mask is sure; deeper inside (a white shirt on a white wall) it is not.
    let reach = ((HALO_REACH * scale).round() as usize).max(1);
    let near_wall = q.map(|v| if v < 0.5 { 1.0 } else { 0.0 }).box_mean(reach);
    let mut matte = Matte {
        alpha: Plane::new(w, h, 0.0),
        wall,
    };
    let wall = &matte.wall;
    par_bands(&mut matte.alpha.data, w, |y0, band| {
        for (dy, row) in band.chunks_exact_mut(w).enumerate() {
            let y = y0 + dy;
            for (x, out) in row.iter_mut().enumerate() {
                let k = y * w + x;
                let qa = q.data[k];
                let uncertainty = (8.0 * qa * (1.0 - qa)).min(1.0) * key_trust;
                let rim = key_trust > 0.0 && qa >= 0.5 && near_wall.data[k] > 0.0;
                let mut a = qa;
                if uncertainty > 0.0 || rim {
                    // Nearest block is precise enough for a distance with a 36-level ramp.
                    let b = (y / B) * bw + x / B;
                    let d = (0..3)
                        .map(|c| (f32::from(raw[k * 3 + c]) - wall[c].data[b]).powi(2))
                        .sum::<f32>()
                        .sqrt();
                    let key = smoothstep(t0, t1, d);
                    a = qa * (1.0 - uncertainty) + key.min(qa + 0.5) * uncertainty;
                    if rim {
                        a = a.min(key);
                    }
                }
                *out = if a < 0.03 {
                    0.0
                } else if a > 0.97 {
                    1.0
                } else {
                    a
                };
            }
        }
    });
    if let Some(poly) = keep {
        force_inside(&mut matte.alpha, poly);
    }
    matte
}

/// Sets every pixel whose centre lies inside `poly` (even-odd rule) to 1, one scanline at a
/// time: the edge crossings of each row bound the spans to fill.
fn force_inside(alpha: &mut Plane, poly: &[(f64, f64)]) {
    let (w, h) = (alpha.width, alpha.height);
    let n = poly.len();
    if n < 3 {
        return;
    }
    let mut xs: Vec<f64> = Vec::with_capacity(n);
    for y in 0..h {
        let cy = y as f64 + 0.5;
        xs.clear();
        for i in 0..n {
            let (xi, yi) = poly[i];
            let (xj, yj) = poly[(i + n - 1) % n];
            if (yi > cy) != (yj > cy) {
                xs.push((xj - xi) * (cy - yi) / (yj - yi) + xi);
            }
        }
        xs.sort_by(f64::total_cmp);
        for span in xs.chunks_exact(2) {
            // Centres x + 0.5 strictly left of the right crossing and not left of the left one
            // (the same test `inside_polygon` makes).
            let first = (span[0] - 0.5).ceil().max(0.0) as usize;
            let end = ((span[1] - 0.5).ceil().max(0.0) as usize).min(w);
            for x in first..end {
                alpha.data[y * w + x] = 1.0;
            }
        }
    }
}

/// Keeps only the person: the region of confident alpha (≥ 0.5) connected to `seed`, and
/// partial alpha within `reach` pixels of it. Islands the coarse mask took for person (a lamp,
/// a bright leaf, a face in a poster) and faint smears of the old background farther out are
/// cleared, so they cannot survive as marks in the new background.
pub fn keep_person(alpha: &mut Plane, seed: (f64, f64), reach: usize) {
    let (w, h) = (alpha.width, alpha.height);
    if w == 0 || h == 0 {
        return;
    }
    let (sx, sy) = (
        (seed.0.max(0.0) as usize).min(w - 1),
        (seed.1.max(0.0) as usize).min(h - 1),
    );
    let mut core = Plane::new(w, h, 0.0);
    if alpha.data[sy * w + sx] >= 0.5 {
        let mut stack = vec![sy * w + sx];
        core.data[sy * w + sx] = 1.0;
        while let Some(k) = stack.pop() {
            let (x, y) = (k % w, k / w);
            let mut visit = |n: usize| {
                if core.data[n] == 0.0 && alpha.data[n] >= 0.5 {
                    core.data[n] = 1.0;
                    stack.push(n);
                }
            };
            if x > 0 {
                visit(k - 1);
            }
            if x + 1 < w {
                visit(k + 1);
            }
            if y > 0 {
                visit(k - w);
            }
            if y + 1 < h {
                visit(k + w);
            }
        }
    } else {
        // No confident person at the seed (should not happen: the face is forced opaque);
        // keep every confident pixel rather than erase the person.
        for (c, &a) in core.data.iter_mut().zip(&alpha.data) {
            *c = if a >= 0.5 { 1.0 } else { 0.0 };
        }
    }
    let near = core.box_mean(reach);
    // One core pixel in the window gives 1/(2r+1)²; half that separates it from rounding.
    let some = 0.5 / ((2 * reach + 1) * (2 * reach + 1)) as f32;
    for ((a, &c), &n) in alpha.data.iter_mut().zip(&core.data).zip(&near.data) {
        if c == 0.0 && (*a >= 0.5 || n < some) {
            *a = 0.0;
        }
    }
}

pub fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
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
    par_bands(out.as_mut(), w * 3, |y0, band| {
        for (i, p) in band.chunks_exact_mut(3).enumerate() {
            let k = y0 * w + i;
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
    });
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
    use crate::raster::inside_polygon;

    #[test]
    fn scanline_fill_marks_exactly_the_pixels_inside_the_polygon() {
        let (w, h) = (60, 50);
        let poly: Vec<(f64, f64)> = (0..36)
            .map(|i| {
                let t = f64::from(i) / 36.0 * std::f64::consts::TAU;
                let r = 18.0 + 5.0 * (3.0 * t).sin();
                (30.3 + r * t.cos(), 24.7 + 1.2 * r * t.sin())
            })
            .collect();
        let mut alpha = Plane::new(w, h, 0.0);
        force_inside(&mut alpha, &poly);
        for y in 0..h {
            for x in 0..w {
                let inside = inside_polygon(&poly, x as f64 + 0.5, y as f64 + 0.5);
                assert_eq!(alpha.at(x, y) == 1.0, inside, "({x}, {y})");
            }
        }
    }

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
        // The subsampled filter does the same, and stays close to the exact one.
        let fast = fast_guided_filter(&guide, &soft, 4, 1e-4, 2);
        assert!(row(&fast, 29) < row(&soft, 29));
        assert!(row(&fast, 35) > row(&soft, 35));
        let worst = q
            .data
            .iter()
            .zip(&fast.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 0.15, "fast guided filter differs by {worst}");
    }
}
