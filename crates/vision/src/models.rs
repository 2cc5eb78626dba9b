//! Loading the embedded ONNX models. Every model is parsed, optimized and made runnable once
//! per process (10–200 ms each); the resulting plans are shared and run concurrently.

use std::io::Cursor;
use std::sync::Arc;

use gradphoto_domain::measures::ModelVersion;
use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;

use crate::error::VisionError;

/// A runnable, optimized model. Cheap to clone; `run` takes `&self`, so one plan serves all
/// threads.
pub type Plan = Arc<TypedRunnableModel>;

/// The models this crate runs, embedded so nothing is read from disk or network at run time.
pub mod bytes {
    pub const FACE_DETECTION: &[u8] =
        include_bytes!("../../../models/face_detection_short_range.onnx");
    pub const FACE_LANDMARK: &[u8] = include_bytes!("../../../models/face_landmark.onnx");
    pub const SELFIE_SEGMENTATION: &[u8] =
        include_bytes!("../../../models/selfie_segmentation.onnx");
}

/// Parses `bytes` as ONNX, fixes input 0 to `input_fact`, optimizes and makes it runnable.
///
/// `name` only labels errors. Example: `load_model("face_landmark", bytes,
/// f32::fact([1, 192, 192, 3]).into())`.
pub fn load_model(
    name: &str,
    bytes: &[u8],
    input_fact: InferenceFact,
) -> Result<Plan, VisionError> {
    let wrap = |stage: &str, e: TractError| VisionError::Model(format!("{name}: {stage}: {e:#}"));
    tract_onnx::onnx()
        .model_for_read(&mut Cursor::new(bytes))
        .map_err(|e| wrap("parse", e))?
        .with_input_fact(0, input_fact)
        .map_err(|e| wrap("input fact", e))?
        .into_optimized()
        .map_err(|e| wrap("optimize", e))?
        .into_runnable()
        .map_err(|e| wrap("plan", e))
}

/// Identifies a model in reports: its file name and the SHA-256 of the bytes actually loaded.
pub fn model_version(name: &str, bytes: &[u8]) -> ModelVersion {
    ModelVersion {
        name: name.to_string(),
        sha256: hex::encode(Sha256::digest(bytes)),
    }
}

/// Runs a single-input plan on an NHWC float tensor and returns every output as a flat vector.
pub(crate) fn run_nhwc(
    plan: &Plan,
    data: Vec<f32>,
    shape: [usize; 4],
) -> Result<Vec<Vec<f32>>, VisionError> {
    let input = tract_ndarray::Array4::from_shape_vec(shape, data)
        .map_err(|e| VisionError::Model(format!("input shape: {e}")))?;
    let outputs = plan.run(tvec!(Tensor::from(input).into()))?;
    outputs
        .iter()
        .map(|t| {
            let view = t.to_plain_array_view::<f32>()?;
            Ok(view.iter().copied().collect())
        })
        .collect()
}
