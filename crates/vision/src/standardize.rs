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
use crate::models::Plan;
pub use crate::placement::PADDING_TOLERANCE;
use crate::placement::{search, Head, Padding, Refusal};
use crate::raster::{par_bands, warp_rgb_par_clamped, Affine, Plane};
use crate::segment::{composite, keep_person, refine, segment, smoothstep, Matte};

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
    /// Fraction of the output that needs pixels the original does not have where the person
    /// is (within [`PADDING_TOLERANCE`]: edge noise of the coarse mask).
    pub padded_fraction: f64,
}

/// Why no plan exists, or that the working image is too coarse and the full resolution must be
/// decoded (`needs_full_resolution`).
#[derive(Debug)]
pub enum PlanError {
    Vision(VisionError),
    NeedsFullResolution,
}

/// How far below the photo's top edge the forehead (FaceMesh point 10) must be, in face
/// widths, when the hair reaches that edge: above it the head may be completed with the
/// background colour; a photo cut through the forehead cannot be.
const FOREHEAD_MARGIN: f64 = 0.1;

/// Computes the transform for `spec`: the placement nearest the middle of every band among
/// those that need no invented pixels where the person is (see [`crate::placement`]).
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
    let (hair_y, cut) = hair_top_levelled(ins, mesh, &level, &unlevel, cx, fw);
    if cut && mesh.xy(crate::landmarks::idx::FOREHEAD).1 < FOREHEAD_MARGIN * fw {
        return Err(PlanError::Vision(VisionError::CannotCrop(
            CropShortfall::Top,
        )));
    }
    let head = Head {
        roll,
        centre_x: cx,
        eye_y,
        face_width: fw,
        crown: (eye_y - hair_y).max(fw * 0.3),
    };
    // Never upscale relative to the original.
    let work_per_orig = ins.working_scale();
    let max_scale = 1.0 / work_per_orig;
    let (placement, pad) =
        search(&head, spec, max_scale, |m| padding(ins, m, spec)).map_err(|r| {
            PlanError::Vision(match r {
                Refusal::FaceTooSmall { .. } => VisionError::FaceTooSmall {
                    face_width_px: fw / work_per_orig,
                    needed_px: f64::from(spec.face_width_px.min),
                },
                Refusal::HeadTooTall => VisionError::CannotCrop(CropShortfall::HeadTooTall),
                Refusal::Padding(p) => {
                    VisionError::CannotCrop(p.side.unwrap_or(CropShortfall::Bottom))
                }
            })
        })?;
    // A reduced working image cannot be enlarged either: decode the original's pixels.
    if placement.scale > 1.0 + 1e-9 && work_per_orig < 1.0 {
        return Err(PlanError::NeedsFullResolution);
    }
    Ok(CropPlan {
        out_to_work: head.out_to_work(spec, placement),
        scale_work: placement.scale,
        roll,
        padded_fraction: pad.fraction,
    })
}

/// Walks up from the forehead through the person mask along several columns of the head and
/// returns the highest levelled y still inside the person, and whether a column reached the
/// photo's edge (the hair is cut by the top of the photo).
fn hair_top_levelled(
    ins: &Inspection,
    mesh: &FaceMesh,
    level: &impl Fn((f64, f64)) -> (f64, f64),
    unlevel: &impl Fn((f64, f64)) -> (f64, f64),
    cx: f64,
    fw: f64,
) -> (f64, bool) {
    let forehead = level(mesh.xy(crate::landmarks::idx::FOREHEAD));
    let (w, h) = (
        f64::from(ins.decoded.rgb.width()),
        f64::from(ins.decoded.rgb.height()),
    );
    let step = (fw / 100.0).max(1.0);
    let mut top = forehead.1;
    let mut cut = false;
    for i in 0..=14 {
        let x = cx + fw * 0.35 * (f64::from(i) / 7.0 - 1.0);
        let mut y = forehead.1;
        loop {
            let (px, py) = unlevel((x, y - step));
            if px < 0.0 || py < 0.0 || px >= w || py >= h {
                cut |= py < 0.0;
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
    (top, cut)
}

/// The padding test of one frame: the fraction of output pixels (sampled every 4 px) that fall
/// beyond the working image — beside or below it, not above it, where the background colour
/// is painted — where the nearest image pixel is person; and the side most of them are on.
fn padding(ins: &Inspection, out_to_work: &Affine, spec: &PhotoSpec) -> Padding {
    let (w, h) = (
        f64::from(ins.decoded.rgb.width()),
        f64::from(ins.decoded.rgb.height()),
    );
    let step = 4u32;
    let (mut total, mut bad) = (0u32, [0u32; 3]);
    for v in (0..spec.height).step_by(step as usize) {
        for u in (0..spec.width).step_by(step as usize) {
            total += 1;
            let (x, y) = out_to_work.apply(f64::from(u) + 0.5, f64::from(v) + 0.5);
            if y < 0.0 || (x >= 0.0 && x < w && y < h) {
                continue;
            }
            let (nx, ny) = (x.clamp(0.5, w - 0.5), y.clamp(0.5, h - 0.5));
            if ins.mask.at(nx, ny) < 0.5 {
                continue;
            }
            let side = if y >= h {
                0
            } else if x < 0.0 {
                1
            } else {
                2
            };
            bad[side] += 1;
        }
    }
    let n: u32 = bad.iter().sum();
    let worst = (0..3).max_by_key(|&i| bad[i]).unwrap_or(0);
    let side = [
        CropShortfall::Bottom,
        CropShortfall::Left,
        CropShortfall::Right,
    ][worst];
    Padding {
        fraction: f64::from(n) / f64::from(total.max(1)),
        side: (n > 0).then_some(side),
    }
}

/// Renders the plan: warp, matte, new background, JPEG. The person is segmented again on the
/// output frame (`segmenter`): the head-and-shoulders framing is what the selfie model was made
/// for, and the frame gives it about twice the resolution of the whole photo.
pub fn render(
    segmenter: &Plan,
    ins: &Inspection,
    plan: &CropPlan,
    spec: &PhotoSpec,
) -> Result<Standardized, VisionError> {
    let mesh = ins.mesh.as_ref().ok_or(VisionError::NoFace)?;
    let bg = [spec.background.r, spec.background.g, spec.background.b];
    let (wo, ho) = (spec.width as usize, spec.height as usize);
    // Beyond the original's border the warp repeats the edge pixel rather than blending in a
    // fill colour: the matte decides what is painted there, and no darker or tinted line is
    // left where the photo ends.
    let img = warp_rgb_par_clamped(&ins.decoded.rgb, spec.width, spec.height, &plan.out_to_work);
    let h = f64::from(ins.decoded.rgb.height());
    let m = plan.out_to_work;
    // Per output pixel: output pixels below the original's top edge, or −1 above it, where the
    // photo is extended with the background colour. Beside and below the original (within the
    // padding tolerance) the edge pixels repeat and count as what they repeat.
    let mut below_top = vec![0f32; wo * ho];
    par_bands(&mut below_top, wo, |v0, band| {
        for (dv, row) in band.chunks_exact_mut(wo).enumerate() {
            for (u, o) in row.iter_mut().enumerate() {
                let (_, y) = m.apply(u as f64 + 0.5, (v0 + dv) as f64 + 0.5);
                *o = if y < 0.0 {
                    -1.0
                } else {
                    (y.min(h) * plan.scale_work) as f32
                };
            }
        }
    });
    let outside: Vec<bool> = below_top.iter().map(|&d| d < 0.0).collect();
    // The model sees the frame as it will be: the extension above the photo already plain.
    let mut seg_input = img.clone();
    for (p, &o) in seg_input.pixels_mut().zip(&outside) {
        if o {
            p.0 = bg;
        }
    }
    let framed = segment(segmenter, &seg_input)?;
    let mut coarse = framed.mask.warp(wo, ho, &framed.image_to_mask);
    // A pixel is person only where both passes say so: they see the scene at different scales
    // and their mistakes differ (the whole-photo pass spills onto a busy background beside the
    // shoulders; the framed pass reaches a little past the hair into the old wall).
    let out_to_mask = ins.mask.image_to_mask.then_after(&plan.out_to_work);
    let whole = ins.mask.mask.warp(wo, ho, &out_to_mask);
    // Above the photo's edge there is only background.
    for ((c, &o), &beyond) in coarse.data.iter_mut().zip(&whole.data).zip(&outside) {
        *c = if beyond { 0.0 } else { c.min(o) };
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
    let mut matte = refine(&img, &coarse, Some(&keep), Some(&outside));
    // The guided filter spreads alpha a few pixels past the edge into the extension, where the
    // warp repeats the edge row in streaks: nothing of that may show.
    for (a, &o) in matte.alpha.data.iter_mut().zip(&outside) {
        if o {
            *a = 0.0;
        }
    }
    let eyes = to_out_mid(&work_to_out, mesh);
    keep_person(&mut matte.alpha, eyes, PERSON_REACH_PX);
    let paint = |matte: &Matte| {
        let mut out = composite(&img, matte, bg);
        // Hair cut by the photo's top edge fades into the background over a few pixels
        // instead of ending in a straight line (a blend towards the new colour: un-mixing a
        // wall colour from pixels that are all hair would tint them).
        for (p, &d) in out.pixels_mut().zip(&below_top) {
            if (0.0..TOP_FADE_PX).contains(&d) {
                let t = smoothstep(0.0, TOP_FADE_PX, d);
                for (v, &b) in p.0.iter_mut().zip(&bg) {
                    *v = (f32::from(*v) * t + f32::from(b) * (1.0 - t)).round() as u8;
                }
            }
        }
        out
    };
    let mut out = paint(&matte);
    // The finished photo, segmented as anyone checking it would segment it: what that finds to
    // be background well away from the person is painted the spec colour, fading out over a
    // few pixels (flyaway strands and remnants of the old wall that the mattes kept, which on
    // the new plain background read as marks).
    for _ in 0..FINAL_PASSES {
        let seen = segment(segmenter, &out)?;
        let seen = seen.mask.warp(wo, ho, &seen.image_to_mask);
        if !fade_beyond_person(&mut matte.alpha, &seen) {
            break;
        }
        out = paint(&matte);
    }
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

/// Lowers the alpha of what `seen` (the person probability on the finished photo) calls
/// background, [`STRAY_GAP_PX`] − 3 px and farther from what it calls person: to ⅔, ⅓, and
/// nothing from [`STRAY_GAP_PX`] px on (chessboard distance, as a square dilation measures
/// it). Returns whether anything changed.
fn fade_beyond_person(alpha: &mut Plane, seen: &Plane) -> bool {
    let person = Plane {
        width: seen.width,
        height: seen.height,
        data: seen
            .data
            .iter()
            .map(|&m| if m >= PERSON_SEEN { 1.0 } else { 0.0 })
            .collect(),
    };
    // Within r px of the person: some person pixel in the (2r+1)² window.
    let within = |r: usize| -> Vec<bool> {
        let some = 0.5 / ((2 * r + 1) * (2 * r + 1)) as f32;
        person.box_mean(r).data.iter().map(|&v| v >= some).collect()
    };
    let rings: Vec<Vec<bool>> = (STRAY_GAP_PX - 3..STRAY_GAP_PX).map(within).collect();
    let levels = rings.len() as f32;
    let mut changed = false;
    for (k, (a, &m)) in alpha.data.iter_mut().zip(&seen.data).enumerate() {
        if *a <= 0.0 || m >= BACKGROUND_SEEN {
            continue;
        }
        // The nearest ring this pixel lies within.
        let ring = rings.iter().position(|r| r[k]);
        let keep = match ring {
            Some(0) => continue,
            Some(i) => 1.0 - i as f32 / levels,
            None => 0.0,
        };
        if *a > keep {
            *a = keep;
            changed = true;
        }
    }
    changed
}

const FINAL_PASSES: usize = 2;

/// What segmentation of a finished photo calls person (≥) and background (<): the same cut
/// [`BackgroundCheck`] uses.
const PERSON_SEEN: f32 = 0.3;
const BACKGROUND_SEEN: f32 = 0.1;

/// Output pixels over which hair cut by the photo's top edge fades out.
const TOP_FADE_PX: f32 = 6.0;

/// How far (output px) the painted-over background may keep partial alpha beyond the person's
/// confident outline: hair wisps stay, stray marks farther out go.
const PERSON_REACH_PX: usize = 4;

/// The midpoint of the eyes in output pixels: a point surely inside the person.
fn to_out_mid(work_to_out: &Affine, mesh: &FaceMesh) -> (f64, f64) {
    let (re, le) = (mesh.right_eye_centre(), mesh.left_eye_centre());
    work_to_out.apply((re.0 + le.0) / 2.0, (re.1 + le.1) / 2.0)
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

/// How clean the painted background of a standardized photo is, measured as an outsider
/// would: the person is what segmentation finds on the output itself, and every pixel farther
/// than [`STRAY_GAP_PX`] from it should be within [`STRAY_DISTANCE`] (RGB) of the spec colour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BackgroundCheck {
    /// Background pixels (far from the person) examined.
    pub background_px: usize,
    /// Of those, off-colour ones.
    pub stray_px: usize,
    /// The largest 8-connected blob of off-colour pixels.
    pub largest_blob_px: usize,
}

pub const STRAY_GAP_PX: usize = 6;
pub const STRAY_DISTANCE: f64 = 30.0;

impl BackgroundCheck {
    /// No blob larger than a few dozen pixels, and at most 0.2 % of the background off.
    pub fn is_clean(&self) -> bool {
        self.largest_blob_px <= 40 && self.stray_px * 500 <= self.background_px.max(1)
    }

    /// Examines `out`, a standardized photo, with its person `mask` (probability per pixel,
    /// row-major, the same size).
    pub fn of(out: &RgbImage, mask: &[f32], spec: &PhotoSpec) -> BackgroundCheck {
        let (w, h) = (out.width() as usize, out.height() as usize);
        let person = Plane {
            width: w,
            height: h,
            data: mask
                .iter()
                .map(|&m| if m >= PERSON_SEEN { 1.0 } else { 0.0 })
                .collect(),
        };
        let near = person.box_mean(STRAY_GAP_PX);
        let some = 0.5 / ((2 * STRAY_GAP_PX + 1) * (2 * STRAY_GAP_PX + 1)) as f32;
        let target = [spec.background.r, spec.background.g, spec.background.b].map(f64::from);
        let mut off = vec![false; w * h];
        let mut background_px = 0;
        for (k, (p, o)) in out.pixels().zip(off.iter_mut()).enumerate() {
            if mask.get(k).copied().unwrap_or(1.0) >= BACKGROUND_SEEN || near.data[k] >= some {
                continue;
            }
            background_px += 1;
            let d = (0..3)
                .map(|c| (f64::from(p.0[c]) - target[c]).powi(2))
                .sum::<f64>()
                .sqrt();
            *o = d > STRAY_DISTANCE;
        }
        let stray_px = off.iter().filter(|&&o| o).count();
        BackgroundCheck {
            background_px,
            stray_px,
            largest_blob_px: largest_blob(&off, w, h),
        }
    }
}

/// Size of the largest 8-connected set of `true` cells.
fn largest_blob(cells: &[bool], w: usize, h: usize) -> usize {
    let mut seen = vec![false; cells.len()];
    let mut largest = 0;
    for start in 0..cells.len() {
        if !cells[start] || seen[start] {
            continue;
        }
        let (mut stack, mut n) = (vec![start], 0);
        seen[start] = true;
        while let Some(i) = stack.pop() {
            n += 1;
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if cells[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        largest = largest.max(n);
    }
    largest
}

/// The output image before JPEG encoding is not kept; decode `jpeg` to see it.
pub fn decode_output(std: &Standardized) -> Result<RgbImage, VisionError> {
    Ok(crate::decode::decode(&std.jpeg, crate::decode::DecodeLimits::default())?.rgb)
}
