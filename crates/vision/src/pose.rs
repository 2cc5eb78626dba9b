//! Head pose and facial state from FaceMesh landmarks.
//!
//! Head pose method: FaceMesh returns 3-D landmarks (x, y in pixels, z depth in the same unit,
//! weak perspective). The face's horizontal axis is the mean of the vectors between five
//! symmetric landmark pairs (cheeks, eye corners, mouth corners, temples); its vertical axis is
//! forehead → chin. Roll is the in-image angle of the eye line; yaw is the depth slope of the
//! horizontal axis; pitch is the depth slope of the vertical axis (measured in the de-rolled
//! frame) minus the slope a level, frontal face shows ([`NEUTRAL_PITCH_DEG`]).

use serde::{Deserialize, Serialize};

use crate::landmarks::{idx, FaceMesh};

/// Depth slope of forehead → chin that FaceMesh reports for frontal, level faces: its forehead
/// point (10) sits slightly in front of the chin (152). Calibrated on the frontal test portraits
/// (astronaut, Gauss, the 1080p composite), which all read −8.6° … −9.1° uncorrected.
pub const NEUTRAL_PITCH_DEG: f64 = -8.8;

/// Degrees. Yaw > 0: face turned toward the image's left; pitch > 0: chin up; roll > 0: head
/// tilted so the eye on the image's right is lower.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeadPose {
    pub yaw: f64,
    pub pitch: f64,
    pub roll: f64,
}

const PAIRS: [(usize, usize); 5] = [
    (idx::CHEEK_RIGHT, idx::CHEEK_LEFT),
    (idx::RIGHT_EYE_OUTER, idx::LEFT_EYE_OUTER),
    (idx::RIGHT_EYE_INNER, idx::LEFT_EYE_INNER),
    (idx::MOUTH_RIGHT, idx::MOUTH_LEFT),
    (127, 356),
];

pub fn head_pose(mesh: &FaceMesh) -> HeadPose {
    let roll = mesh.eye_line_angle();
    let (s, c) = (-roll).sin_cos();
    // De-roll x/y so yaw and pitch are measured along the face's own axes.
    let derolled = |i: usize| -> [f64; 3] {
        let [x, y, z] = mesh.xyz(i);
        [x * c - y * s, x * s + y * c, z]
    };
    let mut hx = [0f64; 3];
    for (r, l) in PAIRS {
        let (a, b) = (derolled(r), derolled(l));
        let n = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2) + (b[2] - a[2]).powi(2))
            .sqrt()
            .max(1e-9);
        for k in 0..3 {
            hx[k] += (b[k] - a[k]) / n;
        }
    }
    let yaw = hx[2].atan2(hx[0]).to_degrees();
    let (top, chin) = (derolled(idx::FOREHEAD), derolled(idx::CHIN));
    let pitch = (top[2] - chin[2]).atan2(chin[1] - top[1]).to_degrees() - NEUTRAL_PITCH_DEG;
    HeadPose {
        yaw,
        pitch,
        roll: roll.to_degrees(),
    }
}

/// Eyelid gap over eye width for (right, left) eye: mean of three lid-pair distances divided by
/// the corner-to-corner distance.
pub fn eye_openness(mesh: &FaceMesh) -> (f64, f64) {
    let ratio = |lids: &[(usize, usize); 3], outer: usize, inner: usize| {
        let gap: f64 = lids.iter().map(|&(u, l)| mesh.dist(u, l)).sum::<f64>() / 3.0;
        gap / mesh.dist(outer, inner).max(1e-9)
    };
    (
        ratio(&idx::RIGHT_LIDS, idx::RIGHT_EYE_OUTER, idx::RIGHT_EYE_INNER),
        ratio(&idx::LEFT_LIDS, idx::LEFT_EYE_OUTER, idx::LEFT_EYE_INNER),
    )
}

/// Inner-lip gap over mouth width.
pub fn mouth_gap(mesh: &FaceMesh) -> f64 {
    let gap: f64 = idx::INNER_LIPS
        .iter()
        .map(|&(u, l)| mesh.dist(u, l))
        .sum::<f64>()
        / idx::INNER_LIPS.len() as f64;
    gap / mesh.dist(idx::MOUTH_RIGHT, idx::MOUTH_LEFT).max(1e-9)
}
