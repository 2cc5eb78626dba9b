//! Face embedding and comparison (人像比对) with dlib's face-recognition ResNet
//! (`models/dlib_face_recognition_resnet_v1.onnx`, converted from dlib's own weights; see
//! `models/dlib/README.md`).
//!
//! The network maps a 150×150 chip cut by [`crate::align`] to a 128-d descriptor. Two faces
//! are the same person when the Euclidean distance between their descriptors is below a
//! threshold; dlib's is 0.6 (99.38 % on LFW).

use gradphoto_domain::measures::{MeasureId, MeasureResult, ModelVersion, Thresholds, Verdict};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

use crate::align::{face_chip, FivePoints, CHIP_SIZE};
use crate::error::VisionError;
use crate::landmarks::FaceMesh;
use crate::models::{load_model, model_version, Plan};

/// The embedded ONNX model.
pub const MODEL_BYTES: &[u8] =
    include_bytes!("../../../models/dlib_face_recognition_resnet_v1.onnx");
pub const MODEL_NAME: &str = "dlib_face_recognition_resnet_v1";
/// Length of a descriptor.
pub const EMBEDDING_DIM: usize = 128;
/// dlib's decision threshold on the Euclidean distance (same person if below). Kept for ID
/// card portraits: on the synthetic card fronts of the tests, same-person distances were
/// 0.06–0.17 and different people 0.61–0.88; real printed, older portraits will sit higher,
/// which the configurable warn band below the fail limit is for (see `models/dlib/README.md`).
pub const SAME_PERSON_THRESHOLD: f64 = 0.6;

/// A face descriptor: not normalised; compare with [`distance`].
pub type Embedding = [f32; EMBEDDING_DIM];

/// The embedding network, loaded and optimized once; `embed` takes `&self` and may run on many
/// threads at once.
#[derive(Clone)]
pub struct FaceEmbedder {
    plan: Plan,
    version: ModelVersion,
}

impl FaceEmbedder {
    /// Parses and optimizes the embedded model (~0.1 s; do it once per process).
    pub fn load() -> Result<FaceEmbedder, VisionError> {
        let fact = f32::fact([1, 3, CHIP_SIZE as usize, CHIP_SIZE as usize]).into();
        Ok(FaceEmbedder {
            plan: load_model(MODEL_NAME, MODEL_BYTES, fact)?,
            version: model_version(MODEL_NAME, MODEL_BYTES),
        })
    }

    pub fn model_version(&self) -> &ModelVersion {
        &self.version
    }

    /// The descriptor of the face whose FaceMesh landmarks (in `img` pixels) are `mesh`.
    pub fn embed_face(&self, img: &RgbImage, mesh: &FaceMesh) -> Result<Embedding, VisionError> {
        let points = FivePoints::from_mesh(mesh)
            .ok_or_else(|| VisionError::Model("face landmarks: too few points".into()))?;
        self.embed(&face_chip(img, &points)?)
    }

    /// The descriptor of a 150×150 RGB chip from [`crate::align::face_chip`].
    pub fn embed(&self, chip: &RgbImage) -> Result<Embedding, VisionError> {
        if chip.width() != CHIP_SIZE || chip.height() != CHIP_SIZE {
            return Err(VisionError::Model(format!(
                "face chip is {}x{}, the embedding needs {CHIP_SIZE}x{CHIP_SIZE}",
                chip.width(),
                chip.height()
            )));
        }
        let n = (CHIP_SIZE * CHIP_SIZE) as usize;
        // Planar RGB 0–255: the mean subtraction and scaling are inside the graph.
        let mut planes = vec![0f32; 3 * n];
        for (i, px) in chip.pixels().enumerate() {
            for (c, &v) in px.0.iter().enumerate() {
                planes[c * n + i] = f32::from(v);
            }
        }
        let s = CHIP_SIZE as usize;
        let input = tract_ndarray::Array4::from_shape_vec([1, 3, s, s], planes)
            .map_err(|e| VisionError::Model(format!("embedding input: {e}")))?;
        let out = self.plan.run(tvec!(Tensor::from(input).into()))?;
        let first = out
            .first()
            .ok_or_else(|| VisionError::Model("embedding: no output".into()))?;
        let view = first.to_plain_array_view::<f32>()?;
        let mut e = [0f32; EMBEDDING_DIM];
        if view.len() != EMBEDDING_DIM {
            return Err(VisionError::Model(format!(
                "embedding: {} values instead of {EMBEDDING_DIM}",
                view.len()
            )));
        }
        for (dst, src) in e.iter_mut().zip(view.iter()) {
            *dst = *src;
        }
        Ok(e)
    }
}

/// Euclidean distance between two descriptors.
pub fn distance(a: &Embedding, b: &Embedding) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| {
            let d = f64::from(*x) - f64::from(*y);
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

/// The outcome of comparing the photo's face with the ID card portrait.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceMatch {
    /// Euclidean distance between the descriptors (0 = identical; dlib: < 0.6 same person).
    pub distance: f64,
    /// 0–100, see [`similarity`]; 50 is the threshold.
    pub similarity: u8,
    pub same_person: bool,
    /// The distance threshold used for `same_person`.
    pub threshold: f64,
}

/// Maps a distance to a 0–100 similarity: linear, 100 at distance 0, 50 at the threshold and
/// 0 at twice the threshold (and beyond). So "similarity ≥ 50" means "same person".
pub fn similarity(distance: f64, threshold: f64) -> u8 {
    if !(distance.is_finite() && threshold > 0.0) {
        return 0;
    }
    (100.0 * (1.0 - distance / (2.0 * threshold)))
        .clamp(0.0, 100.0)
        .round() as u8
}

/// Compares the face of the photo with the face of the ID card portrait using dlib's
/// threshold [`SAME_PERSON_THRESHOLD`].
pub fn compare(photo_face: &Embedding, id_card_face: &Embedding) -> FaceMatch {
    compare_with(photo_face, id_card_face, SAME_PERSON_THRESHOLD)
}

/// As [`compare`] with an explicit threshold (e.g. the school's configured fail limit).
pub fn compare_with(photo_face: &Embedding, id_card_face: &Embedding, threshold: f64) -> FaceMatch {
    let d = distance(photo_face, id_card_face);
    FaceMatch {
        distance: d,
        similarity: similarity(d, threshold),
        same_person: d < threshold,
        threshold,
    }
}

/// The decision threshold a set of thresholds implies: the face_similarity fail limit, or
/// dlib's when none is configured.
pub fn threshold_from(thresholds: &Thresholds) -> f64 {
    thresholds
        .get(MeasureId::FaceSimilarity)
        .fail_max
        .filter(|t| t.is_finite() && *t > 0.0)
        .unwrap_or(SAME_PERSON_THRESHOLD)
}

/// The face_similarity measure: raw = descriptor distance (lower is better), score = similarity.
pub fn face_similarity_measure(m: &FaceMatch, thresholds: &Thresholds) -> MeasureResult {
    let verdict = thresholds.verdict(MeasureId::FaceSimilarity, m.distance);
    let s = m.similarity;
    let (zh, en) = match verdict {
        Verdict::Pass => (
            format!("照片与身份证人像为同一人（相似度 {s}）。"),
            format!("The photo and the ID card portrait show the same person (similarity {s})."),
        ),
        Verdict::Warn => (
            format!(
                "照片与身份证人像的相似度偏低（{s}）。请正对镜头、摘下眼镜、在光线均匀处重新拍摄；身份证人像面请拍清晰、无反光。"
            ),
            format!(
                "The photo is only weakly similar to the ID card portrait (similarity {s}). Face the camera, take off glasses and retake the photo in even light; photograph the ID card sharply and without glare."
            ),
        ),
        Verdict::Fail => (
            format!(
                "照片与身份证人像不像同一人（相似度 {s}）。请本人正对镜头重新拍摄，并上传本人身份证人像面的清晰照片。"
            ),
            format!(
                "The photo does not appear to show the person on the ID card (similarity {s}). Retake the photo of yourself facing the camera and upload a sharp photo of the front of your own ID card."
            ),
        ),
    };
    MeasureResult {
        id: MeasureId::FaceSimilarity,
        raw: Some(m.distance),
        score: Some(s),
        verdict,
        status: gradphoto_domain::measures::AssessStatus::Ok,
        message_zh: zh,
        message_en: en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_mapping() {
        assert_eq!(similarity(0.0, 0.6), 100);
        assert_eq!(similarity(0.6, 0.6), 50);
        assert_eq!(similarity(0.3, 0.6), 75);
        assert_eq!(similarity(1.2, 0.6), 0);
        assert_eq!(similarity(3.0, 0.6), 0);
        assert_eq!(similarity(f64::NAN, 0.6), 0);
    }

    #[test]
    fn compare_uses_strict_threshold() {
        let a = [0f32; EMBEDDING_DIM];
        let mut b = [0f32; EMBEDDING_DIM];
        b[0] = 0.6;
        let m = compare(&a, &b);
        assert!((m.distance - 0.6).abs() < 1e-6);
        b[0] = 0.59;
        assert!(compare(&a, &b).same_person);
        b[0] = 0.61;
        assert!(!compare(&a, &b).same_person);
    }

    #[test]
    fn measure_follows_thresholds() {
        let t = Thresholds::default();
        let m = |d: f64| FaceMatch {
            distance: d,
            similarity: similarity(d, 0.6),
            same_person: d < 0.6,
            threshold: 0.6,
        };
        assert_eq!(face_similarity_measure(&m(0.4), &t).verdict, Verdict::Pass);
        assert_eq!(face_similarity_measure(&m(0.55), &t).verdict, Verdict::Warn);
        assert_eq!(face_similarity_measure(&m(0.8), &t).verdict, Verdict::Fail);
        assert_eq!(threshold_from(&t), 0.6);
    }
}
