//! The shoulders rule: shoulders level with the eyes, and the photo reaching the chest.
//!
//! A measured heuristic on the person mask and the face mesh (no pose model ships in a registry
//! package): the top of each shoulder is where the mask starts when walking down from the chin's
//! height, well outside the face (1.3–1.7 face widths from the chin, beyond where hair usually
//! falls); the shoulder line's angle is measured against the face's own axis, which the
//! standardizer levels. Lengths are relative to the face, so the rule holds at any resolution.

use gradphoto_domain::measures::{MeasureId, MeasureResult, Thresholds};

use crate::inspect::Inspection;
use crate::landmarks::idx;
use crate::measures::{not_assessed, result, Msg, NO_FACE_EN, NO_FACE_ZH};

/// Shoulder tilt (degrees, against the eye line) at which the rule warns. ISO/IEC 19794-5
/// asks for shoulders square to the camera without a number; a relaxed upright pose measured
/// up to about 6° on the clean real portraits (docs/accuracy.md).
pub const TILT_WARN_DEG: f64 = 10.0;
/// Reach below the chin, in face heights (chin to top of forehead), under which the photo stops
/// above the chest: the spec's frame shows about one face height below the chin.
pub const REACH_WARN: f64 = 0.28;

/// Offsets across, in face widths from the chin, where shoulders are looked for on each side.
const ACROSS: [f64; 5] = [1.3, 1.4, 1.5, 1.6, 1.7];
/// How far down from the chin a shoulder is looked for, in face heights.
const DEEPEST: f64 = 2.0;
/// Step of the walk down, in face heights.
const STEP: f64 = 0.02;

/// What the rule measured, for tests and the accuracy report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShoulderLine {
    /// Tilt of the line between the shoulder tops against the face's horizontal, degrees;
    /// `None` when a side is out of the photo or not found.
    pub tilt_deg: Option<f64>,
    /// How far the photo reaches below the chin, in face heights.
    pub reach: f64,
}

/// Measures the shoulder line and the reach below the chin on the inspection.
pub fn shoulder_line(ins: &Inspection) -> Option<ShoulderLine> {
    let mesh = ins.mesh.as_ref()?;
    let img = &ins.decoded.rgb;
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let inside = |p: (f64, f64)| p.0 >= 0.0 && p.1 >= 0.0 && p.0 < w && p.1 < h;
    let chin = mesh.xy(idx::CHIN);
    let top = mesh.xy(idx::FOREHEAD);
    let (dx, dy) = (top.0 - chin.0, top.1 - chin.1);
    let height = dx.hypot(dy).max(1.0);
    let up = (dx / height, dy / height);
    let right = (-up.1, up.0);
    let width = mesh.face_width().max(1.0);
    // `u` face heights up (negative: down) and `r` face widths to the image right of the chin.
    let at = |u: f64, r: f64| {
        (
            chin.0 + up.0 * u * height + right.0 * r * width,
            chin.1 + up.1 * u * height + right.1 * r * width,
        )
    };
    let person = |p: (f64, f64)| inside(p) && ins.mask.at(p.0, p.1) > 0.5;
    // The top of a shoulder at `r`: the first of three person samples in a row walking down
    // from just above the chin (a lone strand of hair is not a shoulder).
    let shoulder_top = |r: f64| -> Option<f64> {
        let steps = ((DEEPEST + 0.3) / STEP) as i32;
        let mut run = 0;
        for k in 0..steps {
            let u = 0.3 - f64::from(k) * STEP;
            let p = at(u, r);
            if !inside(p) {
                return None;
            }
            if person(p) {
                run += 1;
                if run == 3 {
                    return Some(u + 2.0 * STEP);
                }
            } else {
                run = 0;
            }
        }
        None
    };
    let side = |sign: f64| {
        let mut tops: Vec<f64> = ACROSS
            .iter()
            .filter_map(|&r| shoulder_top(sign * r))
            .collect();
        if tops.len() < 3 {
            return None;
        }
        tops.sort_by(f64::total_cmp);
        Some(tops[tops.len() / 2])
    };
    let tilt_deg = match (side(-1.0), side(1.0)) {
        (Some(l), Some(r)) => {
            let rise = (r - l) * height;
            let run = 2.0 * ACROSS[ACROSS.len() / 2] * width;
            Some(rise.atan2(run).to_degrees())
        }
        _ => None,
    };
    // The reach: the walk straight down from the chin until it leaves the photo.
    let mut reach = 0.0;
    while reach < DEEPEST && inside(at(-(reach + STEP), 0.0)) {
        reach += STEP;
    }
    Some(ShoulderLine { tilt_deg, reach })
}

pub(crate) fn shoulders(ins: &Inspection, t: &Thresholds) -> MeasureResult {
    let Some(line) = shoulder_line(ins) else {
        return not_assessed(MeasureId::Shoulders, NO_FACE_ZH, NO_FACE_EN);
    };
    let tilt = line.tilt_deg.map_or(0.0, |d| d.abs() / TILT_WARN_DEG);
    let short = REACH_WARN / line.reach.max(0.05);
    let evidence = tilt.max(short);
    let (bad_zh, bad_en) = if short >= tilt {
        (
            "照片只拍到下巴附近，没有拍到胸部。请后退一些或把手机拿远，拍到双肩和上胸部。".into(),
            "The photo stops near the chin. Step back or hold the phone farther away so both shoulders and the upper chest show.".into(),
        )
    } else {
        (
            "双肩似乎不在同一高度。请坐正或站直，双肩放平、正对镜头。".into(),
            "Your shoulders seem uneven. Sit or stand up straight with both shoulders level and square to the camera.".into(),
        )
    };
    result(
        MeasureId::Shoulders,
        evidence,
        t,
        Msg {
            ok_zh: "双肩水平，拍到了胸部。",
            ok_en: "The shoulders are level and the chest shows.",
            bad_zh,
            bad_en,
        },
    )
}
