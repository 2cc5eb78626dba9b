//! Standardization to the photo spec: level the eyes, scale (down only) and crop to the spec's
//! head geometry, replace the background through the alpha matte, and write a JPEG in the
//! spec's size window.
//!
//! White balance: the person is left exactly as photographed. A per-channel gain would change
//! the face, which must stay a plain resample of the input; the colour cast of the old wall
//! disappears with the wall (replaced by the exact spec colour, and un-mixed from hair edges).
//! A strong cast on the skin itself is reported by the `natural_colour` measure instead, so the
//! student can retake in neutral light.

use gradphoto_domain::spec::PhotoSpec;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{CropShortfall, VisionError};
use crate::inspect::Inspection;
use crate::jpeg::encode_in_window;
use crate::landmarks::FaceMesh;
use crate::raster::{par_bands, warp_rgb_par, Affine, Plane};
use crate::segment::{composite, refine};

/// Where the standardized photo came from and what it measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Geometry {
    /// Top of the hair, measured on the output's alpha matte (px from the top edge).
    pub hair_top_px: f64,
    /// Mean height of the two eye centres in the output.
    pub eye_line_px: f64,
    /// Cheek-to-cheek width in the output.
    pub face_width_px: f64,
    /// Output pixels per original pixel (≤ 1: never upscaled).
    pub scale: f64,
    /// Roll of the eye line in the original, removed by the rotation (degrees; positive when
    /// the eye on the image's right was lower).
    pub roll_deg: f64,
    /// The output's corners (top-left, top-right, bottom-right, bottom-left) in upright
    /// original pixel coordinates: a rotated rectangle.
    pub crop: [[f64; 2]; 4],
    /// Output pixel coordinates → upright original pixel coordinates (pixel centres at +0.5).
    pub output_to_original: Affine,
    pub quality: u8,
    pub bytes: usize,
}

#[derive(Debug, Clone)]
pub struct Standardized {
    pub jpeg: Vec<u8>,
    pub geometry: Geometry,
}

/// The transform chosen for a spec, before rendering.
#[derive(Debug, Clone)]
pub struct CropPlan {
    /// Output → working image.
    pub out_to_work: Affine,
    /// Output pixels per working pixel.
    pub scale_work: f64,
    pub roll: f64,
    /// Fraction of the output that would need pixels the original does not have where the
    /// person is (background areas can take the spec colour and do not count).
    pub padded_fraction: f64,
    pub shortfall: Option<CropShortfall>,
}

/// Why no plan exists, or that the working image is too coarse and the full resolution must be
/// decoded (`needs_full_resolution`).
#[derive(Debug)]
pub enum PlanError {
    Vision(VisionError),
    NeedsFullResolution,
}

/// Computes the transform for `spec`. Face width, eye line and hair top aim for the middle of
/// the spec's ranges; when they cannot all be met the scale is the geometric mean of the two
/// ideal scales clamped into the feasible interval.
pub fn plan(ins: &Inspection, spec: &PhotoSpec) -> Result<CropPlan, PlanError> {
    let mesh = ins
        .mesh
        .as_ref()
        .ok_or(PlanError::Vision(VisionError::NoFace))?;
    let roll = mesh.eye_line_angle();
    let (s, c) = roll.sin_cos();
    // Levelled frame: rotate working coordinates by −roll.
    let level = |(x, y): (f64, f64)| (x * c + y * s, -x * s + y * c);
    let unlevel = |(x, y): (f64, f64)| (x * c - y * s, x * s + y * c);
    let (re, le) = (
        level(mesh.right_eye_centre()),
        level(mesh.left_eye_centre()),
    );
    let eye_y = (re.1 + le.1) / 2.0;
    let fw = mesh.face_width();
    let cr = level(mesh.xy(crate::landmarks::idx::CHEEK_RIGHT));
    let cl = level(mesh.xy(crate::landmarks::idx::CHEEK_LEFT));
    let cx = (cr.0 + cl.0) / 2.0;
    let hair_y = hair_top_levelled(ins, mesh, &level, &unlevel, cx, fw);
    let d = (eye_y - hair_y).max(fw * 0.3);

    let (fmin, fmax) = (
        f64::from(spec.face_width_px.min),
        f64::from(spec.face_width_px.max),
    );
    let (emin, emax) = (
        f64::from(spec.eye_line_px.min),
        f64::from(spec.eye_line_px.max),
    );
    let (hmin, hmax) = (
        f64::from(spec.hair_top_px.min),
        f64::from(spec.hair_top_px.max),
    );
    let s_face = f64::from(spec.face_width_px.mid()) / fw;
    let s_head = (f64::from(spec.eye_line_px.mid()) - f64::from(spec.hair_top_px.mid())) / d;
    let lo = (fmin / fw).max(((emin - hmax) / d).max(0.0));
    let hi = (fmax / fw).min((emax - hmin) / d);
    let ideal = (s_face * s_head).sqrt();
    let mut scale = if lo <= hi {
        ideal.clamp(lo, hi)
    } else {
        s_face.clamp(fmin / fw, fmax / fw)
    };
    // Never upscale relative to the original.
    let work_per_orig = ins.working_scale();
    let min_scale = fmin / fw;
    if min_scale * work_per_orig > 1.0 + 1e-9 {
        return Err(PlanError::Vision(VisionError::FaceTooSmall {
            face_width_px: fw / work_per_orig,
            needed_px: fmin,
        }));
    }
    if scale > 1.0 + 1e-9 {
        if work_per_orig < 1.0 {
            return Err(PlanError::NeedsFullResolution);
        }
        scale = scale.min(1.0 / work_per_orig).min(1.0);
    }
    // Vertical placement: eye line inside its range and hair top inside its range.
    let e_lo = emin.max(hmin + scale * d);
    let e_hi = emax.min(hmax + scale * d);
    let eye_out = if e_lo <= e_hi {
        (e_lo + e_hi) / 2.0
    } else {
        f64::from(spec.eye_line_px.mid())
    };
    let wo = f64::from(spec.width);
    // Output (u, v) → levelled → working.
    let k = 1.0 / scale;
    let lev = Affine {
        a: k,
        b: 0.0,
        c: cx - k * wo / 2.0,
        d: 0.0,
        e: k,
        f: eye_y - k * eye_out,
    };
    let rot = Affine {
        a: c,
        b: -s,
        c: 0.0,
        d: s,
        e: c,
        f: 0.0,
    };
    let out_to_work = rot.then_after(&lev);
    let (padded_fraction, shortfall) = padding(ins, &out_to_work, spec);
    Ok(CropPlan {
        out_to_work,
        scale_work: scale,
        roll,
        padded_fraction,
        shortfall,
    })
}

/// Walks up from the forehead through the person mask along several columns of the head and
/// returns the highest levelled y still inside the person.
fn hair_top_levelled(
    ins: &Inspection,
    mesh: &FaceMesh,
    level: &impl Fn((f64, f64)) -> (f64, f64),
    unlevel: &impl Fn((f64, f64)) -> (f64, f64),
    cx: f64,
    fw: f64,
) -> f64 {
    let forehead = level(mesh.xy(crate::landmarks::idx::FOREHEAD));
    let (w, h) = (
        f64::from(ins.decoded.rgb.width()),
        f64::from(ins.decoded.rgb.height()),
    );
    let step = (fw / 100.0).max(1.0);
    let mut top = forehead.1;
    for i in 0..=14 {
        let x = cx + fw * 0.35 * (f64::from(i) / 7.0 - 1.0);
        let mut y = forehead.1;
        loop {
            let (px, py) = unlevel((x, y - step));
            if px < 0.0 || py < 0.0 || px >= w || py >= h {
                break;
            }
            if ins.mask.at(px, py) < 0.5 {
                break;
            }
            y -= step;
            if forehead.1 - y > fw * 1.5 {
                break;
            }
        }
        top = top.min(y);
    }
    top
}

/// Fraction of output pixels that fall outside the working image where the nearest image pixel
/// is person (those would need invented pixels), and the side most of them are on.
fn padding(
    ins: &Inspection,
    out_to_work: &Affine,
    spec: &PhotoSpec,
) -> (f64, Option<CropShortfall>) {
    let (w, h) = (
        f64::from(ins.decoded.rgb.width()),
        f64::from(ins.decoded.rgb.height()),
    );
    let step = 4u32;
    let (mut total, mut bad) = (0u32, [0u32; 4]);
    for v in (0..spec.height).step_by(step as usize) {
        for u in (0..spec.width).step_by(step as usize) {
            total += 1;
            let (x, y) = out_to_work.apply(f64::from(u) + 0.5, f64::from(v) + 0.5);
            if x >= 0.0 && y >= 0.0 && x < w && y < h {
                continue;
            }
            let (nx, ny) = (x.clamp(0.5, w - 0.5), y.clamp(0.5, h - 0.5));
            if ins.mask.at(nx, ny) < 0.5 {
                continue;
            }
            let side = if y < 0.0 {
                0
            } else if y >= h {
                1
            } else if x < 0.0 {
                2
            } else {
                3
            };
            bad[side] += 1;
        }
    }
    let n: u32 = bad.iter().sum();
    let fraction = f64::from(n) / f64::from(total.max(1));
    let worst = (0..4).max_by_key(|&i| bad[i]).unwrap_or(0);
    let side = [
        CropShortfall::Top,
        CropShortfall::Bottom,
        CropShortfall::Left,
        CropShortfall::Right,
    ][worst];
    (fraction, (n > 0).then_some(side))
}

/// Fractions up to this are edge noise of the coarse mask, not a real shortfall.
pub const PADDING_TOLERANCE: f64 = 0.003;

pub fn render(
    ins: &Inspection,
    plan: &CropPlan,
    spec: &PhotoSpec,
) -> Result<Standardized, VisionError> {
    if plan.padded_fraction > PADDING_TOLERANCE {
        return Err(VisionError::CannotCrop(
            plan.shortfall.unwrap_or(CropShortfall::Bottom),
        ));
    }
    let mesh = ins.mesh.as_ref().ok_or(VisionError::NoFace)?;
    let bg = [spec.background.r, spec.background.g, spec.background.b];
    let (wo, ho) = (spec.width as usize, spec.height as usize);
    let img = warp_rgb_par(
        &ins.decoded.rgb,
        spec.width,
        spec.height,
        &plan.out_to_work,
        bg,
    );
    let out_to_mask = ins.mask.image_to_mask.then_after(&plan.out_to_work);
    let mut coarse = ins.mask.mask.warp(wo, ho, &out_to_mask);
    // Outside the original there is only background.
    let (w, h) = (
        f64::from(ins.decoded.rgb.width()),
        f64::from(ins.decoded.rgb.height()),
    );
    let m = plan.out_to_work;
    let mut outside = vec![false; wo * ho];
    par_bands(&mut outside, wo, |v0, band| {
        for (dv, row) in band.chunks_exact_mut(wo).enumerate() {
            for (u, o) in row.iter_mut().enumerate() {
                let (x, y) = m.apply(u as f64 + 0.5, (v0 + dv) as f64 + 0.5);
                *o = x < 0.0 || y < 0.0 || x >= w || y >= h;
            }
        }
    });
    for (c, &o) in coarse.data.iter_mut().zip(&outside) {
        if o {
            *c = 0.0;
        }
    }
    let work_to_out = plan
        .out_to_work
        .invert()
        .ok_or_else(|| VisionError::Model("degenerate crop transform".into()))?;
    let oval: Vec<(f64, f64)> = mesh
        .face_oval()
        .into_iter()
        .map(|(x, y)| work_to_out.apply(x, y))
        .collect();
    let keep = shrink(&oval, 0.97);
    let matte = refine(&img, &coarse, Some(&keep), Some(&outside));
    let out = composite(&img, &matte, bg);
    let dpi = u16::try_from(spec.dpi).unwrap_or(u16::MAX);
    let (jpeg, quality) = encode_in_window(
        &out,
        spec.min_jpeg_quality,
        spec.min_bytes(),
        spec.max_bytes(),
        dpi,
    )?;

    let to_out = |p: (f64, f64)| work_to_out.apply(p.0, p.1);
    let (re, le) = (
        to_out(mesh.right_eye_centre()),
        to_out(mesh.left_eye_centre()),
    );
    let face_width_px = mesh.face_width() * plan.scale_work;
    let centre_x = oval.iter().map(|p| p.0).sum::<f64>() / oval.len().max(1) as f64;
    let hair_top_px = hair_top_in(&matte.alpha, centre_x, face_width_px);
    let work_to_orig = Affine::scale(1.0 / ins.working_scale());
    let output_to_original = work_to_orig.then_after(&plan.out_to_work);
    let corner = |u: f64, v: f64| {
        let (x, y) = output_to_original.apply(u, v);
        [x, y]
    };
    let (wf, hf) = (f64::from(spec.width), f64::from(spec.height));
    Ok(Standardized {
        geometry: Geometry {
            hair_top_px,
            eye_line_px: (re.1 + le.1) / 2.0,
            face_width_px,
            scale: plan.scale_work * ins.working_scale(),
            roll_deg: plan.roll.to_degrees(),
            crop: [
                corner(0.0, 0.0),
                corner(wf, 0.0),
                corner(wf, hf),
                corner(0.0, hf),
            ],
            output_to_original,
            quality,
            bytes: jpeg.len(),
        },
        jpeg,
    })
}

/// Topmost row whose head columns hold mostly-opaque alpha.
fn hair_top_in(alpha: &Plane, centre_x: f64, face_width: f64) -> f64 {
    let x0 = (centre_x - face_width * 0.3).max(0.0) as usize;
    let x1 = ((centre_x + face_width * 0.3).max(0.0) as usize).min(alpha.width);
    for y in 0..alpha.height {
        let hits = (x0..x1).filter(|&x| alpha.at(x, y) > 0.5).count();
        if hits >= 3 {
            return y as f64;
        }
    }
    alpha.height as f64
}

fn shrink(poly: &[(f64, f64)], k: f64) -> Vec<(f64, f64)> {
    let n = poly.len().max(1) as f64;
    let cx = poly.iter().map(|p| p.0).sum::<f64>() / n;
    let cy = poly.iter().map(|p| p.1).sum::<f64>() / n;
    poly.iter()
        .map(|&(x, y)| (cx + (x - cx) * k, cy + (y - cy) * k))
        .collect()
}

/// The output image before JPEG encoding is not kept; decode `jpeg` to see it.
pub fn decode_output(std: &Standardized) -> Result<RgbImage, VisionError> {
    Ok(crate::decode::decode(&std.jpeg, crate::decode::DecodeLimits::default())?.rgb)
}
