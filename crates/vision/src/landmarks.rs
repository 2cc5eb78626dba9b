//! FaceMesh: 468 3-D landmarks from a 192×192 crop around a detection, rotated so the eyes are
//! level, as MediaPipe crops it (square of 1.5× the longer box side, angle from the two eye
//! keypoints, input in [0, 1]).

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::detect::Detection;
use crate::error::VisionError;
use crate::models::{run_nhwc, Plan};
use crate::raster::{crop_for_model, Affine};

const INPUT: usize = 192;
const ROI_SCALE: f64 = 1.5;
pub const NUM_LANDMARKS: usize = 468;

/// Landmark indices used by the measures (MediaPipe FaceMesh topology). "Right"/"left" are the
/// person's: the right eye appears on the image's left.
pub mod idx {
    pub const RIGHT_EYE_OUTER: usize = 33;
    pub const RIGHT_EYE_INNER: usize = 133;
    /// Upper/lower lid pairs of the right eye, outer to inner.
    pub const RIGHT_LIDS: [(usize, usize); 3] = [(160, 144), (159, 145), (158, 153)];
    pub const LEFT_EYE_OUTER: usize = 263;
    pub const LEFT_EYE_INNER: usize = 362;
    pub const LEFT_LIDS: [(usize, usize); 3] = [(387, 373), (386, 374), (385, 380)];
    pub const MOUTH_RIGHT: usize = 61;
    pub const MOUTH_LEFT: usize = 291;
    /// Inner-lip pairs, upper then lower.
    pub const INNER_LIPS: [(usize, usize); 3] = [(82, 87), (13, 14), (312, 317)];
    pub const CHEEK_RIGHT: usize = 234;
    pub const CHEEK_LEFT: usize = 454;
    pub const CHIN: usize = 152;
    pub const FOREHEAD: usize = 10;
    pub const NOSE_TIP: usize = 1;
    /// Eye outlines, along the upper lid from the outer corner and back along the lower lid.
    pub const RIGHT_EYE_CONTOUR: [usize; 16] = [
        33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7,
    ];
    pub const LEFT_EYE_CONTOUR: [usize; 16] = [
        263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249,
    ];
    /// Upper edges of the eyebrows, outer to inner.
    pub const RIGHT_BROW_UPPER: [usize; 5] = [70, 63, 105, 66, 107];
    pub const LEFT_BROW_UPPER: [usize; 5] = [300, 293, 334, 296, 336];
    /// Cheek points below the eyes and beside the nose, where skin is seldom covered.
    pub const CHEEKS: [usize; 6] = [50, 101, 205, 280, 330, 425];
    /// Face outline points below the cheek edges, at the height of the earlobes.
    pub const JAW_RIGHT: usize = 93;
    pub const JAW_LEFT: usize = 323;
    /// The face outline, clockwise from the top of the forehead.
    pub const FACE_OVAL: [usize; 36] = [
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
        152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ];
}

/// 468 landmarks in the pixel coordinates of the image the crop was taken from; `z` is depth
/// in the same unit (smaller = closer to the camera), relative to the face centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceMesh {
    pub points: Vec<[f32; 3]>,
    /// Face presence probability reported by the landmark model.
    pub presence: f32,
}

impl FaceMesh {
    pub fn xy(&self, i: usize) -> (f64, f64) {
        let p = self.points[i];
        (f64::from(p[0]), f64::from(p[1]))
    }

    pub fn xyz(&self, i: usize) -> [f64; 3] {
        let p = self.points[i];
        [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]
    }

    pub fn dist(&self, i: usize, j: usize) -> f64 {
        let (a, b) = (self.xy(i), self.xy(j));
        ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
    }

    /// Centre of the right eye (image left): mean of its corners and lids.
    pub fn right_eye_centre(&self) -> (f64, f64) {
        self.mean_of(&[idx::RIGHT_EYE_OUTER, idx::RIGHT_EYE_INNER, 159, 145])
    }

    pub fn left_eye_centre(&self) -> (f64, f64) {
        self.mean_of(&[idx::LEFT_EYE_OUTER, idx::LEFT_EYE_INNER, 386, 374])
    }

    pub fn mean_of(&self, ids: &[usize]) -> (f64, f64) {
        let n = ids.len().max(1) as f64;
        let (sx, sy) = ids.iter().fold((0.0, 0.0), |(sx, sy), &i| {
            let (x, y) = self.xy(i);
            (sx + x, sy + y)
        });
        (sx / n, sy / n)
    }

    pub fn face_oval(&self) -> Vec<(f64, f64)> {
        idx::FACE_OVAL.iter().map(|&i| self.xy(i)).collect()
    }

    /// Cheek-to-cheek width.
    pub fn face_width(&self) -> f64 {
        self.dist(idx::CHEEK_RIGHT, idx::CHEEK_LEFT)
    }

    pub fn inter_eye_distance(&self) -> f64 {
        let (a, b) = (self.right_eye_centre(), self.left_eye_centre());
        ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
    }

    /// Angle of the line from the right eye (image left) to the left eye, radians; positive
    /// when the left eye is lower (head tilted clockwise in the image).
    pub fn eye_line_angle(&self) -> f64 {
        let (a, b) = (self.right_eye_centre(), self.left_eye_centre());
        (b.1 - a.1).atan2(b.0 - a.0)
    }

    pub fn scaled(&self, k: f32) -> FaceMesh {
        FaceMesh {
            points: self.points.iter().map(|p| p.map(|v| v * k)).collect(),
            presence: self.presence,
        }
    }
}

/// The rotated square MediaPipe feeds the landmark model for a detection.
pub fn roi_for(det: &Detection) -> Affine {
    let cx = f64::from(det.bbox[0] + det.bbox[2]) / 2.0;
    let cy = f64::from(det.bbox[1] + det.bbox[3]) / 2.0;
    let size = f64::from(det.width().max(det.height())) * ROI_SCALE;
    let (x0, y0) = det.keypoints[0];
    let (x1, y1) = det.keypoints[1];
    let theta = -f64::from(y0 - y1).atan2(f64::from(x1 - x0));
    Affine::rotated_square(cx, cy, size, theta, INPUT as f64)
}

/// Runs FaceMesh for one detection on `img` (the image the detection's coordinates refer to).
pub fn face_mesh(plan: &Plan, img: &RgbImage, det: &Detection) -> Result<FaceMesh, VisionError> {
    let crop_to_img = roi_for(det);
    let crop = crop_for_model(img, INPUT as u32, INPUT as u32, &crop_to_img);
    let data: Vec<f32> = crop
        .as_raw()
        .iter()
        .map(|&v| f32::from(v) / 255.0)
        .collect();
    let out = run_nhwc(plan, data, [1, INPUT, INPUT, 3])?;
    let (Some(raw), Some(flag)) = (out.first(), out.get(1)) else {
        return Err(VisionError::Model("face landmarks: missing outputs".into()));
    };
    if raw.len() < NUM_LANDMARKS * 3 || flag.is_empty() {
        return Err(VisionError::Model(
            "face landmarks: unexpected output size".into(),
        ));
    }
    let k = crop_to_img.linear_scale();
    let points = raw
        .chunks_exact(3)
        .take(NUM_LANDMARKS)
        .map(|p| {
            let (x, y) = crop_to_img.apply(f64::from(p[0]), f64::from(p[1]));
            [x as f32, y as f32, (f64::from(p[2]) * k) as f32]
        })
        .collect();
    let presence = 1.0 / (1.0 + (-flag[flag.len() - 1]).exp());
    Ok(FaceMesh { points, presence })
}
