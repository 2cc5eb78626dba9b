//! The seam where photo analysis (compliance checks, face comparison, ID-card reading and
//! standardization) plugs in. The job runner calls it on a blocking thread.

use gradphoto_domain::measures::CheckReport;
use gradphoto_domain::spec::PhotoSpec;
use serde::{Deserialize, Serialize};

/// Everything an analysis needs; owned so it can move to a blocking thread.
#[derive(Debug, Clone)]
pub struct AnalyzeInput {
    pub photo: Vec<u8>,
    pub spec: PhotoSpec,
    pub id_card_front: Option<Vec<u8>>,
    /// Name and ID number as typed by the student, for comparison with the card.
    pub typed: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceMatchResult {
    pub distance: f64,
    pub same_person: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcrResult {
    pub name: Option<String>,
    pub id_number: Option<String>,
    /// The card agrees with what the student typed.
    pub agree: bool,
}

#[derive(Debug, Clone)]
pub struct AnalyzeOutput {
    pub report: CheckReport,
    /// The standardized JPEG, when the photo could be standardized.
    pub standardized: Option<Vec<u8>>,
    pub face_match: Option<FaceMatchResult>,
    pub ocr: Option<OcrResult>,
}

/// A failure the student can act on (e.g. `no_face`, `unreadable_image`), with messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message_en}")]
pub struct AnalyzeError {
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl AnalyzeError {
    pub fn from_localized(e: &dyn gradphoto_domain::Localized) -> AnalyzeError {
        AnalyzeError {
            code: e.code(),
            message_zh: e.message_zh(),
            message_en: e.message_en(),
        }
    }
}

impl gradphoto_domain::Localized for AnalyzeError {
    fn code(&self) -> &'static str {
        self.code
    }
    fn message_zh(&self) -> String {
        self.message_zh.clone()
    }
    fn message_en(&self) -> String {
        self.message_en.clone()
    }
}

pub trait PhotoAnalyzer: Send + Sync + 'static {
    fn analyze(&self, input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError>;
}

/// Used until a photo analyzer is configured: every photo fails with a clear message
/// instead of passing unchecked.
pub struct Unavailable;

impl PhotoAnalyzer for Unavailable {
    fn analyze(&self, _input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError> {
        Err(AnalyzeError {
            code: "analysis_unavailable",
            message_zh: "服务器暂未启用照片自动检测，请稍后再试或联系学校。".to_string(),
            message_en: "Automatic photo checks are not enabled on this server yet; try again later or contact your school.".to_string(),
        })
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use std::sync::atomic::{AtomicBool, Ordering};

    use gradphoto_domain::measures::{
        AssessStatus, CheckReport, MeasureId, MeasureResult, Verdict,
    };

    use super::{AnalyzeError, AnalyzeInput, AnalyzeOutput, FaceMatchResult, PhotoAnalyzer};

    /// Decodes the photo and standardizes it by a plain crop-and-resize; reports the face
    /// comparison as configured. Stands in for the vision crate, which this crate does not
    /// depend on.
    pub(crate) struct ResizeAnalyzer {
        pub(crate) same_person: AtomicBool,
    }

    impl PhotoAnalyzer for ResizeAnalyzer {
        fn analyze(&self, input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError> {
            let img = image::load_from_memory(&input.photo).map_err(|e| AnalyzeError {
                code: "unreadable_image",
                message_zh: "无法读取图片。".into(),
                message_en: format!("Cannot read the image: {e}"),
            })?;
            let out = img.resize_to_fill(
                input.spec.width,
                input.spec.height,
                image::imageops::FilterType::Triangle,
            );
            let mut jpeg = std::io::Cursor::new(Vec::new());
            out.to_rgb8()
                .write_to(&mut jpeg, image::ImageFormat::Jpeg)
                .map_err(|e| AnalyzeError {
                    code: "encode_failed",
                    message_zh: "无法生成标准照。".into(),
                    message_en: format!("Cannot encode the standardized photo: {e}"),
                })?;
            let same = self.same_person.load(Ordering::SeqCst);
            let measure = |id, verdict| MeasureResult {
                id,
                raw: Some(1.0),
                score: Some(90),
                verdict,
                status: AssessStatus::Ok,
                message_zh: String::new(),
                message_en: String::new(),
            };
            Ok(AnalyzeOutput {
                report: CheckReport {
                    measures: vec![
                        measure(MeasureId::Sharpness, Verdict::Pass),
                        measure(
                            MeasureId::FaceSimilarity,
                            if same { Verdict::Pass } else { Verdict::Fail },
                        ),
                    ],
                    models: Vec::new(),
                    config_version: "test".into(),
                },
                standardized: Some(jpeg.into_inner()),
                face_match: Some(FaceMatchResult {
                    distance: if same { 0.3 } else { 0.8 },
                    same_person: same,
                }),
                ocr: None,
            })
        }
    }
}
