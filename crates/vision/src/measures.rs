//! The compliance measures, OFIQ-style: a raw value in the unit documented on each
//! [`MeasureId`], a 0–100 score and a verdict from the configured [`Thresholds`], and a
//! plain-language message saying what is wrong and how to fix it.

use gradphoto_domain::measures::{
    AssessStatus, Limits, MeasureId, MeasureResult, Thresholds, Verdict,
};
use gradphoto_domain::spec::PhotoSpec;
use image::RgbImage;

use crate::accessories::accessory_measures;
use crate::colour::{delta_e, lab};
use crate::decode::ExifInfo;
use crate::inspect::Inspection;
use crate::landmarks::{idx, FaceMesh};
use crate::pose::{eye_openness, head_pose, mouth_gap};
use crate::raster::{inside_polygon, luma, luma_plane, warp_rgb, Affine};
use crate::standardize::{CropPlan, PADDING_TOLERANCE};

/// 0–100 from the limits: 70–100 inside the pass band, 40–70 in the warn band, below 40 when
/// failing (falling off linearly over one more band width).
pub fn score(limits: &Limits, raw: f64) -> u8 {
    if !raw.is_finite() {
        return 0;
    }
    let side = |pass: Option<f64>, fail: Option<f64>, dir: f64| -> f64 {
        let Some(p) = pass.or(fail) else { return 100.0 };
        let f = fail.unwrap_or(p);
        let band = (p - f) * dir;
        let x = (raw - p) * dir; // ≥ 0 inside the pass side
        if band <= 1e-12 {
            return if x >= -1e-12 { 100.0 } else { 0.0 };
        }
        if x >= 0.0 {
            70.0 + 30.0 * (x / band).min(1.0)
        } else if x >= -band {
            40.0 + 30.0 * (1.0 + x / band)
        } else {
            (40.0 * (1.0 + (x + band) / band)).max(0.0)
        }
    };
    let lower = side(limits.pass_min, limits.fail_min, 1.0);
    let upper = side(limits.pass_max, limits.fail_max, -1.0);
    lower.min(upper).round().clamp(0.0, 100.0) as u8
}

pub(crate) struct Msg {
    pub ok_zh: &'static str,
    pub ok_en: &'static str,
    pub bad_zh: String,
    pub bad_en: String,
}

pub(crate) fn result(id: MeasureId, raw: f64, t: &Thresholds, msg: Msg) -> MeasureResult {
    let limits = t.get(id);
    let verdict = limits.verdict(raw);
    let (message_zh, message_en) = if verdict == Verdict::Pass {
        (msg.ok_zh.to_string(), msg.ok_en.to_string())
    } else {
        (msg.bad_zh, msg.bad_en)
    };
    MeasureResult {
        id,
        raw: Some(raw),
        score: Some(score(&limits, raw)),
        verdict,
        status: AssessStatus::Ok,
        message_zh,
        message_en,
    }
}

pub(crate) fn not_assessed(id: MeasureId, zh: &str, en: &str) -> MeasureResult {
    MeasureResult::failed_to_assess(id, zh.to_string(), en.to_string())
}

pub(crate) const NO_FACE_ZH: &str = "没有找到人脸，无法检查此项。请正对镜头重新拍摄。";
pub(crate) const NO_FACE_EN: &str =
    "No face was found, so this could not be checked. Face the camera and take the photo again.";

/// Pixels of a face region, sampled on a grid of about 120×120 points.
struct FaceSamples {
    rgb: Vec<[f64; 3]>,
    /// Levelled horizontal offset from the face's vertical midline, per sample.
    side: Vec<f64>,
    /// Levelled vertical position relative to the eye line (0) and the mouth (1), per sample.
    height: Vec<f64>,
}

fn face_samples(img: &RgbImage, mesh: &FaceMesh, shrink: f64) -> FaceSamples {
    let oval = mesh.face_oval();
    let n = oval.len() as f64;
    let cx = oval.iter().map(|p| p.0).sum::<f64>() / n;
    let cy = oval.iter().map(|p| p.1).sum::<f64>() / n;
    let poly: Vec<(f64, f64)> = oval
        .iter()
        .map(|&(x, y)| (cx + (x - cx) * shrink, cy + (y - cy) * shrink))
        .collect();
    let (x0, x1) = poly
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (y0, y1) = poly
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let step = ((x1 - x0).max(y1 - y0) / 120.0).max(1.0);
    let roll = mesh.eye_line_angle();
    let (s, c) = roll.sin_cos();
    let mid = mesh.mean_of(&[idx::NOSE_TIP, 168, idx::CHIN, idx::FOREHEAD]);
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let eyes = mesh.mean_of(&[idx::RIGHT_EYE_INNER, idx::LEFT_EYE_INNER]);
    let mouth = mesh.mean_of(&[idx::MOUTH_RIGHT, idx::MOUTH_LEFT]);
    let eye_v = -eyes.0 * s + eyes.1 * c;
    let mouth_v = -mouth.0 * s + mouth.1 * c;
    let span = (mouth_v - eye_v).abs().max(1.0);
    let mut out = FaceSamples {
        rgb: Vec::new(),
        side: Vec::new(),
        height: Vec::new(),
    };
    let mut y = y0.max(0.0);
    while y < y1.min(h) {
        let mut x = x0.max(0.0);
        while x < x1.min(w) {
            if inside_polygon(&poly, x, y) {
                let p = img.get_pixel(x as u32, y as u32).0;
                out.rgb
                    .push([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]);
                out.side.push((x - mid.0) * c + (y - mid.1) * s);
                out.height.push((-x * s + y * c - eye_v) / span);
            }
            x += step;
        }
        y += step;
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn luma_of(p: &[f64; 3]) -> f64 {
    0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
}

/// Every measure this crate computes, in [`MeasureId::ALL`] order without face similarity and
/// ID card OCR (the caller appends those when an ID card is given).
pub fn measure_all(
    ins: &Inspection,
    plan: Option<&CropPlan>,
    plan_failure: Option<&crate::error::VisionError>,
    spec: &PhotoSpec,
    t: &Thresholds,
) -> Vec<MeasureResult> {
    let mut out = vec![single_face(ins, t)];
    let Some(mesh) = ins.mesh.as_ref() else {
        for id in [
            MeasureId::Yaw,
            MeasureId::Pitch,
            MeasureId::Roll,
            MeasureId::EyesOpen,
            MeasureId::MouthClosed,
            MeasureId::InterEyeDistance,
            MeasureId::FaceSize,
            MeasureId::CropFeasible,
            MeasureId::Sharpness,
            MeasureId::Exposure,
            MeasureId::DynamicRange,
            MeasureId::IlluminationUniformity,
        ] {
            out.push(not_assessed(id, NO_FACE_ZH, NO_FACE_EN));
        }
        out.push(background_uniformity(ins, t));
        out.push(not_assessed(
            MeasureId::ClothingColour,
            NO_FACE_ZH,
            NO_FACE_EN,
        ));
        out.push(selfie_suspicion(&ins.decoded.exif, None, t));
        out.push(not_assessed(
            MeasureId::NaturalColour,
            NO_FACE_ZH,
            NO_FACE_EN,
        ));
        out.extend(accessory_measures(ins, t));
        out.push(crate::shoulders::shoulders(ins, t));
        return out;
    };
    let img = &ins.decoded.rgb;
    out.extend(pose_measures(mesh, t));
    out.push(eyes_open(img, mesh, t));
    out.push(mouth_closed(mesh, t));
    let per_orig = ins.working_scale();
    out.push(inter_eye(mesh.inter_eye_distance() / per_orig, t));
    out.push(face_size(mesh.face_width() / per_orig, spec, t));
    out.push(crop_feasible(plan, plan_failure, t));
    let out_scale = plan
        .map(|p| p.scale_work)
        .unwrap_or_else(|| f64::from(spec.face_width_px.mid()) / mesh.face_width().max(1.0));
    out.push(sharpness(img, mesh, out_scale, t));
    let samples = face_samples(img, mesh, 0.85);
    out.extend(exposure_measures(&samples, t));
    out.push(illumination(&samples, t));
    out.push(background_uniformity(ins, t));
    out.push(clothing_colour(ins, mesh, spec, t));
    let relative_face = mesh.face_width() / f64::from(img.width().min(img.height()));
    out.push(selfie_suspicion(&ins.decoded.exif, Some(relative_face), t));
    out.push(natural_colour(&samples, t));
    out.extend(accessory_measures(ins, t));
    out.push(crate::shoulders::shoulders(ins, t));
    out
}

fn single_face(ins: &Inspection, t: &Thresholds) -> MeasureResult {
    let n = ins.faces.len();
    let (bad_zh, bad_en) = if n == 0 {
        (
            "照片中没有找到人脸。请正对镜头、露出完整面部，在明亮处重新拍摄。".to_string(),
            "No face was found. Face the camera with your whole face visible, in good light, and retake the photo.".to_string(),
        )
    } else {
        (
            format!("照片中有 {n} 张人脸。学历照片只能有本人一人，请单独拍摄，背景中也不要有人或人像。"),
            format!("The photo shows {n} faces. Only you may appear: take it alone, with no people or pictures of people behind you."),
        )
    };
    result(
        MeasureId::SingleFace,
        n as f64,
        t,
        Msg {
            ok_zh: "照片中只有一张人脸。",
            ok_en: "Exactly one face is in the photo.",
            bad_zh,
            bad_en,
        },
    )
}

fn pose_measures(mesh: &FaceMesh, t: &Thresholds) -> Vec<MeasureResult> {
    let p = head_pose(mesh);
    vec![
        result(
            MeasureId::Yaw,
            p.yaw,
            t,
            Msg {
                ok_zh: "头部正对镜头，没有左右转动。",
                ok_en: "The head faces the camera without turning.",
                bad_zh: format!("头部向一侧转动了约 {:.0}°。请把脸和身体都正对镜头。", p.yaw.abs()),
                bad_en: format!("The head is turned about {:.0}° to one side. Face the camera squarely with head and shoulders.", p.yaw.abs()),
            },
        ),
        result(
            MeasureId::Pitch,
            p.pitch,
            t,
            Msg {
                ok_zh: "头部没有抬头或低头。",
                ok_en: "The head is neither raised nor lowered.",
                bad_zh: format!(
                    "头部{}了约 {:.0}°。请平视镜头，镜头与眼睛保持同一高度。",
                    if p.pitch > 0.0 { "抬起" } else { "低下" },
                    p.pitch.abs()
                ),
                bad_en: format!(
                    "The head is {} by about {:.0}°. Look straight into the camera held at eye height.",
                    if p.pitch > 0.0 { "raised" } else { "lowered" },
                    p.pitch.abs()
                ),
            },
        ),
        result(
            MeasureId::Roll,
            p.roll,
            t,
            Msg {
                ok_zh: "头部端正，没有歪头。",
                ok_en: "The head is upright.",
                bad_zh: format!("头部歪斜约 {:.0}°。请端正坐直，双眼保持水平。", p.roll.abs()),
                bad_en: format!("The head is tilted about {:.0}°. Sit up straight and keep both eyes level.", p.roll.abs()),
            },
        ),
    ]
}

/// Contrast inside an eye's contour: an open, visible eye shows sclera, iris and lashes; an eye
/// hidden behind hair, a bar, or dark glasses shows almost none. 0 (hidden) … 1 (visible).
fn eye_visibility(img: &RgbImage, mesh: &FaceMesh, contour: &[usize]) -> f64 {
    let poly: Vec<(f64, f64)> = contour.iter().map(|&i| mesh.xy(i)).collect();
    let (x0, x1) = poly
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (y0, y1) = poly
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let mut v = Vec::new();
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let step = ((x1 - x0) / 40.0).max(0.5);
    let mut y = y0.max(0.0);
    while y < y1.min(h) {
        let mut x = x0.max(0.0);
        while x < x1.min(w) {
            if inside_polygon(&poly, x, y) {
                v.push(f64::from(luma(&img.get_pixel(x as u32, y as u32).0)));
            }
            x += step;
        }
        y += step;
    }
    if v.len() < 4 {
        return 0.0;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    ((sd - 3.0) / 9.0).clamp(0.0, 1.0)
}

/// Lid gap over eye width of the less open eye, times its visibility (see [`eye_visibility`]).
fn eyes_open(img: &RgbImage, mesh: &FaceMesh, t: &Thresholds) -> MeasureResult {
    let (r, l) = eye_openness(mesh);
    let r = r * eye_visibility(img, mesh, &idx::RIGHT_EYE_CONTOUR);
    let l = l * eye_visibility(img, mesh, &idx::LEFT_EYE_CONTOUR);
    result(
        MeasureId::EyesOpen,
        r.min(l),
        t,
        Msg {
            ok_zh: "双眼自然睁开。",
            ok_en: "Both eyes are open.",
            bad_zh: "眼睛没有完全睁开（闭眼、眯眼或被遮挡）。请自然睁大双眼，头发和镜框不要挡住眼睛。".into(),
            bad_en: "The eyes are not fully open (closed, squinting or covered). Open both eyes naturally; keep hair and frames clear of them.".into(),
        },
    )
}

fn mouth_closed(mesh: &FaceMesh, t: &Thresholds) -> MeasureResult {
    result(
        MeasureId::MouthClosed,
        mouth_gap(mesh),
        t,
        Msg {
            ok_zh: "嘴唇自然闭合。",
            ok_en: "The lips are closed.",
            bad_zh: "嘴巴张开或露出牙齿。请自然闭合嘴唇，表情平和。".into(),
            bad_en: "The mouth is open or teeth show. Close your lips naturally with a neutral expression.".into(),
        },
    )
}

fn inter_eye(d: f64, t: &Thresholds) -> MeasureResult {
    result(
        MeasureId::InterEyeDistance,
        d,
        t,
        Msg {
            ok_zh: "人脸分辨率足够。",
            ok_en: "The face resolution is sufficient.",
            bad_zh: format!("双眼间距只有约 {d:.0} 像素，人脸分辨率不足。请拍摄者走近一些，并用相机原图（不要截图或压缩）。"),
            bad_en: format!("The eyes are only about {d:.0} px apart: too little face resolution. Ask the photographer to step closer and upload the camera's original file (no screenshots or compressed copies)."),
        },
    )
}

fn face_size(fw: f64, spec: &PhotoSpec, t: &Thresholds) -> MeasureResult {
    result(
        MeasureId::FaceSize,
        fw,
        t,
        Msg {
            ok_zh: "人脸足够大，生成标准照无需放大。",
            ok_en: "The face is large enough; the standard photo needs no enlargement.",
            bad_zh: format!(
                "人脸只有约 {fw:.0} 像素宽，规格要求标准照中脸宽 {}–{} 像素，而照片不会被放大。请拍摄者走近一些，使用相机全分辨率重新拍摄。",
                spec.face_width_px.min, spec.face_width_px.max
            ),
            bad_en: format!(
                "The face is only about {fw:.0} px wide; the spec needs {}–{} px in the standard photo and photos are never enlarged. Ask the photographer to step closer and use the camera's full resolution.",
                spec.face_width_px.min, spec.face_width_px.max
            ),
        },
    )
}

/// Whether the spec's frame can be placed: the padded fraction of the chosen placement (0 when
/// within the mask's edge noise), or a failure naming what cannot be met when no placement
/// exists (raw 1: the frame cannot be made).
fn crop_feasible(
    plan: Option<&CropPlan>,
    failure: Option<&crate::error::VisionError>,
    t: &Thresholds,
) -> MeasureResult {
    use gradphoto_domain::Localized;
    let Some(plan) = plan else {
        return match failure {
            Some(e @ crate::error::VisionError::CannotCrop(_)) => {
                let mut r = result(
                    MeasureId::CropFeasible,
                    1.0,
                    t,
                    Msg {
                        ok_zh: "",
                        ok_en: "",
                        bad_zh: e.message_zh(),
                        bad_en: e.message_en(),
                    },
                );
                // No standardized photo can be made from this one, whatever the limits say.
                r.verdict = Verdict::Fail;
                r
            }
            Some(e) => not_assessed(MeasureId::CropFeasible, &e.message_zh(), &e.message_en()),
            None => not_assessed(MeasureId::CropFeasible, NO_FACE_ZH, NO_FACE_EN),
        };
    };
    let raw = if plan.padded_fraction <= PADDING_TOLERANCE {
        0.0
    } else {
        plan.padded_fraction
    };
    result(
        MeasureId::CropFeasible,
        raw,
        t,
        Msg {
            ok_zh: "构图留有余量，可以按规格裁剪。",
            ok_en: "There is enough margin to crop to the spec.",
            bad_zh: "构图余量很少，标准照的边缘可能不完整。请拍摄者后退一些，拍到胸部以上的半身像，头部居中。".into(),
            bad_en: "There is very little margin for the spec crop; the standard photo's edges may be incomplete. Ask the photographer to step back and frame you from the chest up, head centred.".into(),
        },
    )
}

/// Variance of the 4-neighbour Laplacian of the levelled face (eyes to mouth) resampled to the
/// output scale, so the figure means the same for every camera resolution.
fn sharpness(img: &RgbImage, mesh: &FaceMesh, out_scale: f64, t: &Thresholds) -> MeasureResult {
    let fw = mesh.face_width();
    let (cx, cy) = mesh.mean_of(&[idx::RIGHT_EYE_INNER, idx::LEFT_EYE_INNER, 13, 14]);
    let side_out = (fw * out_scale * 0.6).round().max(16.0);
    let roll = mesh.eye_line_angle();
    let to_img = Affine::rotated_square(cx, cy, side_out / out_scale, roll, side_out);
    let n = side_out as u32;
    let crop = warp_rgb(img, n, n, &to_img, [0, 0, 0]);
    let l = luma_plane(&crop);
    let mut vals = Vec::with_capacity((n * n) as usize);
    for y in 1..l.height - 1 {
        for x in 1..l.width - 1 {
            let v = 4.0 * l.at(x, y)
                - l.at(x - 1, y)
                - l.at(x + 1, y)
                - l.at(x, y - 1)
                - l.at(x, y + 1);
            vals.push(f64::from(v));
        }
    }
    let mean = vals.iter().sum::<f64>() / vals.len().max(1) as f64;
    let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len().max(1) as f64;
    result(
        MeasureId::Sharpness,
        var,
        t,
        Msg {
            ok_zh: "照片清晰。",
            ok_en: "The photo is sharp.",
            bad_zh: "照片模糊（对焦不准、手抖或被压缩）。请在光线充足处拿稳手机，点屏幕对焦到脸上再拍，并上传原图。".into(),
            bad_en: "The photo is blurry (missed focus, camera shake or heavy compression). In good light, hold the phone steady, tap the face to focus, and upload the original file.".into(),
        },
    )
}

fn exposure_measures(s: &FaceSamples, t: &Thresholds) -> Vec<MeasureResult> {
    if s.rgb.len() < 50 {
        return vec![
            not_assessed(MeasureId::Exposure, NO_FACE_ZH, NO_FACE_EN),
            not_assessed(MeasureId::DynamicRange, NO_FACE_ZH, NO_FACE_EN),
        ];
    }
    let mut l: Vec<f64> = s.rgb.iter().map(luma_of).collect();
    l.sort_by(f64::total_cmp);
    let mean = l.iter().sum::<f64>() / l.len() as f64;
    let range = percentile(&l, 0.99) - percentile(&l, 0.01);
    let (ezh, een) = if mean < 120.0 {
        ("脸部偏暗（曝光不足）。请到光线明亮、均匀的地方，面向窗户或灯光重新拍摄。", "The face is too dark (under-exposed). Move to a bright, evenly lit place facing the window or light and retake.")
    } else {
        ("脸部过亮（曝光过度）。请避免强光直射和闪光灯，在柔和均匀的光线下重新拍摄。", "The face is too bright (over-exposed). Avoid direct sunlight and flash; retake in soft, even light.")
    };
    vec![
        result(
            MeasureId::Exposure,
            mean,
            t,
            Msg {
                ok_zh: "脸部亮度合适。",
                ok_en: "The face is well exposed.",
                bad_zh: ezh.into(),
                bad_en: een.into(),
            },
        ),
        result(
            MeasureId::DynamicRange,
            range,
            t,
            Msg {
                ok_zh: "脸部明暗层次正常。",
                ok_en: "The face shows a normal range of tones.",
                bad_zh: "脸部明暗层次不足，显得灰暗或发白。请在明亮均匀的光线下拍摄，不要使用滤镜。".into(),
                bad_en: "The face looks flat, washed out or murky. Take the photo in bright, even light without filters.".into(),
            },
        ),
    ]
}

/// Left vs right cheek luminance, between the eye line and the mouth (forehead hair and beards
/// are excluded).
fn illumination(s: &FaceSamples, t: &Thresholds) -> MeasureResult {
    let (mut l, mut nl, mut r, mut nr) = (0.0, 0usize, 0.0, 0usize);
    for ((p, &side), &height) in s.rgb.iter().zip(&s.side).zip(&s.height) {
        if !(0.15..=1.0).contains(&height) {
            continue;
        }
        if side < 0.0 {
            l += luma_of(p);
            nl += 1;
        } else {
            r += luma_of(p);
            nr += 1;
        }
    }
    if nl < 20 || nr < 20 {
        return not_assessed(MeasureId::IlluminationUniformity, NO_FACE_ZH, NO_FACE_EN);
    }
    let (l, r) = (l / nl as f64, r / nr as f64);
    let raw = (l - r).abs() / ((l + r) / 2.0).max(1.0);
    result(
        MeasureId::IlluminationUniformity,
        raw,
        t,
        Msg {
            ok_zh: "脸部光照均匀。",
            ok_en: "The face is evenly lit.",
            bad_zh: "脸部一侧亮一侧暗（阴阳脸）。请面向光源，避免侧光，或在两侧都明亮的地方拍摄。".into(),
            bad_en: "One side of the face is much darker than the other. Face the light source, avoid side light, or move where both sides are lit.".into(),
        },
    )
}

/// Standard deviation of luminance over confident background, away from the person, on the
/// thumbnail of the original.
fn background_uniformity(ins: &Inspection, t: &Thresholds) -> MeasureResult {
    let thumb = &ins.thumb;
    let inv = 1.0 / ins.thumb_scale;
    let mut vals = Vec::new();
    let step = 2;
    for y in (0..thumb.height()).step_by(step) {
        for x in (0..thumb.width()).step_by(step) {
            let (wx, wy) = ((f64::from(x) + 0.5) * inv, (f64::from(y) + 0.5) * inv);
            // Away from the person: the mask must be low here and a little way around.
            let r = 6.0 * inv;
            let far = [(0.0, 0.0), (r, 0.0), (-r, 0.0), (0.0, r), (0.0, -r)]
                .iter()
                .all(|(dx, dy)| ins.mask.at(wx + dx, wy + dy) < 0.05);
            if far {
                vals.push(f64::from(luma(&thumb.get_pixel(x, y).0)));
            }
        }
    }
    let total = (thumb.width() as usize / step) * (thumb.height() as usize / step);
    if vals.len() < total / 50 {
        return not_assessed(
            MeasureId::BackgroundUniformity,
            "照片中几乎看不到背景，无法检查背景。请后退一些，让头部和肩膀周围露出墙面。",
            "Almost no background is visible, so it could not be checked. Step back so the wall shows around your head and shoulders.",
        );
    }
    let mean = vals.iter().sum::<f64>() / vals.len() as f64;
    let sd = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64).sqrt();
    result(
        MeasureId::BackgroundUniformity,
        sd,
        t,
        Msg {
            ok_zh: "背景干净均匀。",
            ok_en: "The background is plain and even.",
            bad_zh: "背景不够干净均匀（有杂物、图案、阴影或明暗变化）。请站在干净的白墙前约 1 米处，光线均匀地拍摄。".into(),
            bad_en: "The background is not plain (objects, patterns, shadows or uneven light). Stand about 1 m in front of a clean white wall in even light.".into(),
        },
    )
}

/// Median CIE76 ΔE between the clothing (person pixels below the chin) and the spec
/// background colour.
fn clothing_colour(
    ins: &Inspection,
    mesh: &FaceMesh,
    spec: &PhotoSpec,
    t: &Thresholds,
) -> MeasureResult {
    let img = &ins.decoded.rgb;
    let fw = mesh.face_width();
    let roll = mesh.eye_line_angle();
    let (s, c) = roll.sin_cos();
    let chin = mesh.xy(idx::CHIN);
    let mid = mesh.mean_of(&[idx::CHEEK_RIGHT, idx::CHEEK_LEFT]);
    // Levelled offsets (along the eye line, down the face) → image.
    let at = |dx: f64, dy: f64| {
        let ox = mid.0 + (chin.0 - mid.0) * 0.0;
        let oy = chin.1;
        (ox + dx * c - dy * s, oy + dx * s + dy * c)
    };
    let bg = lab([
        f64::from(spec.background.r),
        f64::from(spec.background.g),
        f64::from(spec.background.b),
    ]);
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let mut des = Vec::new();
    let n = 24;
    for j in 0..n {
        let dy = fw * (0.6 + 0.7 * f64::from(j) / f64::from(n));
        for i in 0..n {
            let dx = fw * 1.0 * (2.0 * f64::from(i) / f64::from(n - 1) - 1.0);
            let (x, y) = at(dx, dy);
            if x < 0.0 || y < 0.0 || x >= w || y >= h || ins.mask.at(x, y) < 0.8 {
                continue;
            }
            let p = img.get_pixel(x as u32, y as u32).0;
            des.push(delta_e(
                lab([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]),
                bg,
            ));
        }
    }
    if des.len() < 40 {
        return not_assessed(
            MeasureId::ClothingColour,
            "照片中看不到足够的衣服（拍到下巴为止），无法检查服装颜色。请拍到胸部以上的半身像。",
            "Too little clothing is visible to check its colour. Frame the photo from the chest up.",
        );
    }
    des.sort_by(f64::total_cmp);
    let raw = percentile(&des, 0.5);
    result(
        MeasureId::ClothingColour,
        raw,
        t,
        Msg {
            ok_zh: "服装颜色与背景色区分明显。",
            ok_en: "The clothing stands out from the background colour.",
            bad_zh: "衣服颜色与证件照背景色太接近（例如蓝色衣服），换背景后会和背景融在一起。请换一件非蓝色、单色、有领的衣服重新拍摄。".into(),
            bad_en: "The clothing is too close to the photo's background colour (e.g. blue clothes) and would merge with it. Change into a single-colour, collared top that is not blue and retake.".into(),
        },
    )
}

/// Front-camera hints combined as independent evidence: `p = 1 − Π(1 − pᵢ)`.
pub fn selfie_probability(exif: &ExifInfo, relative_face: Option<f64>) -> f64 {
    let mut keep = 1.0;
    let text = [&exif.model, &exif.lens_model, &exif.lens_make]
        .iter()
        .filter_map(|s| s.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let front = ["front", "前置", "selfie", "facetime", "user-facing", "自拍"];
    if front.iter().any(|k| text.contains(k)) {
        keep *= 1.0 - 0.9;
    }
    if let Some(f) = exif.focal_length_35mm {
        // Phones' front cameras are wide (≈ 20–26 mm equivalent); rear main cameras are close
        // to that too, so this alone stays below the warning level.
        if f < 28.0 {
            keep *= 1.0 - 0.2;
        }
    }
    if let Some(r) = relative_face {
        // Arm's length: the face fills much of the frame (a half-body photo from ~1 m gives
        // ≈ 0.2–0.35 of the short side).
        if r > 0.45 {
            keep *= 1.0 - ((r - 0.45) / 0.25).clamp(0.0, 1.0) * 0.5;
        }
    }
    1.0 - keep
}

fn selfie_suspicion(exif: &ExifInfo, relative_face: Option<f64>, t: &Thresholds) -> MeasureResult {
    let p = selfie_probability(exif, relative_face);
    result(
        MeasureId::SelfieSuspicion,
        p,
        t,
        Msg {
            ok_zh: "未发现自拍迹象。",
            ok_en: "No sign of a selfie.",
            bad_zh: "这张照片看起来像是用前置摄像头自拍的。请由他人用手机后置摄像头在约 1 米外为你拍摄。".into(),
            bad_en: "This looks like a selfie taken with the front camera. Ask someone else to take the photo with the rear camera from about 1 m away.".into(),
        },
    )
}

/// ΔE of the mean face colour from the region of natural skin tones in CIELAB: chroma 15–45,
/// hue 20°–80°, lightness 25–90.
fn natural_colour(s: &FaceSamples, t: &Thresholds) -> MeasureResult {
    let skin: Vec<&[f64; 3]> = s
        .rgb
        .iter()
        .filter(|p| (40.0..=245.0).contains(&luma_of(p)))
        .collect();
    if skin.len() < 50 {
        return not_assessed(MeasureId::NaturalColour, NO_FACE_ZH, NO_FACE_EN);
    }
    let n = skin.len() as f64;
    let mean = skin.iter().fold([0.0; 3], |a, p| {
        [a[0] + p[0] / n, a[1] + p[1] / n, a[2] + p[2] / n]
    });
    let [l, a, b] = lab(mean);
    let chroma = (a * a + b * b).sqrt();
    let hue = b.atan2(a).to_degrees();
    let (cl, hl, ll) = (
        chroma.clamp(15.0, 45.0),
        hue.clamp(20.0, 80.0),
        l.clamp(25.0, 90.0),
    );
    let target = [ll, cl * hl.to_radians().cos(), cl * hl.to_radians().sin()];
    let raw = delta_e([l, a, b], target);
    let (zh, en) = if chroma < 15.0 {
        ("肤色发灰，像黑白或褪色的照片。请上传彩色原图，不要使用滤镜。", "The skin looks grey, like a black-and-white or faded photo. Upload the original colour photo without filters.")
    } else {
        ("肤色不自然（偏色、过于鲜艳或使用了美颜滤镜）。请在自然光或白光下拍摄，关闭美颜和滤镜。", "The skin colour looks unnatural (colour cast, over-saturated or a beauty filter). Take the photo in daylight or white light with beauty modes and filters off.")
    };
    result(
        MeasureId::NaturalColour,
        raw,
        t,
        Msg {
            ok_zh: "肤色自然。",
            ok_en: "The skin colour looks natural.",
            bad_zh: zh.into(),
            bad_en: en.into(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_bands() {
        let at_least = Limits::at_least(100.0, 40.0);
        assert_eq!(score(&at_least, 160.0), 100);
        assert_eq!(score(&at_least, 100.0), 70);
        assert_eq!(score(&at_least, 40.0), 40);
        assert!(score(&at_least, 20.0) < 40);
        let sym = Limits::symmetric(5.0, 10.0);
        assert_eq!(score(&sym, 0.0), 100);
        assert_eq!(score(&sym, -5.0), 70);
        assert_eq!(score(&sym, 5.0), 70);
        assert!(score(&sym, 12.0) < 40);
        assert_eq!(score(&Limits::band(1.0, 1.0, 1.0, 1.0), 1.0), 100);
        assert_eq!(score(&Limits::band(1.0, 1.0, 1.0, 1.0), 2.0), 0);
    }

    #[test]
    fn selfie_probability_combines_hints() {
        let rear = ExifInfo {
            model: Some("iPhone 12".into()),
            lens_model: Some("iPhone 12 back dual wide camera 4.2mm f/1.6".into()),
            focal_length_35mm: Some(26.0),
            orientation: 1,
            ..ExifInfo::default()
        };
        assert!(selfie_probability(&rear, Some(0.3)) < 0.3);
        let front = ExifInfo {
            lens_model: Some("iPhone 12 front camera 2.71mm f/2.2".into()),
            ..rear.clone()
        };
        assert!(selfie_probability(&front, Some(0.3)) > 0.7);
        assert!(selfie_probability(&rear, Some(0.7)) > selfie_probability(&rear, Some(0.3)));
    }
}
