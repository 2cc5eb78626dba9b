//! The photo analyzer the integration stories and the benchmark run the server with.
//!
//! [`analyzer`] is the single place that decides which analyzer that is. Until the vision
//! crate's analyzer is wired into the server this is [`DimensionsAnalyzer`]: test-support
//! code that really decodes the upload (so non-images and truncated files fail as they would
//! in production) and really produces a 480×640 JPEG, but assesses only what the pixel
//! dimensions tell: whether the spec crop is possible without upscaling. It compares no
//! faces and reads no ID cards, so reports carry no face match.

use std::io::Cursor;
use std::sync::Arc;

use gradphoto_domain::measures::{AssessStatus, CheckReport, MeasureId, MeasureResult, Verdict};
use gradphoto_server::analyzer::{AnalyzeError, AnalyzeInput, AnalyzeOutput, PhotoAnalyzer};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;

/// The analyzer every story and the benchmark use.
pub fn analyzer() -> Arc<dyn PhotoAnalyzer> {
    Arc::new(DimensionsAnalyzer)
}

/// Decodes the photo and crops/scales it to the spec size; see the module documentation.
pub struct DimensionsAnalyzer;

impl PhotoAnalyzer for DimensionsAnalyzer {
    fn analyze(&self, input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError> {
        let img = image::load_from_memory(&input.photo).map_err(|e| AnalyzeError {
            code: "unreadable_image",
            message_zh: "无法读取这张图片，请重新拍摄或选择 JPEG/PNG 照片。".into(),
            message_en: format!(
                "The image could not be read ({e}); take or choose a JPEG/PNG photo."
            ),
        })?;
        let (w, h) = (img.width(), img.height());
        let (sw, sh) = (input.spec.width, input.spec.height);
        // Share of the spec-sized crop that the original cannot cover without upscaling.
        let covered = f64::from(w.min(sw)) * f64::from(h.min(sh));
        let outside = 1.0 - covered / (f64::from(sw) * f64::from(sh));
        let pass = outside <= 0.0;
        let crop = MeasureResult {
            id: MeasureId::CropFeasible,
            raw: Some(outside.max(0.0)),
            score: Some(((1.0 - outside.max(0.0)) * 100.0).round() as u8),
            verdict: if pass { Verdict::Pass } else { Verdict::Fail },
            status: AssessStatus::Ok,
            message_zh: if pass {
                String::new()
            } else {
                format!("照片分辨率不足（{w}×{h}），请在更近处用后置摄像头重新拍摄。")
            },
            message_en: if pass {
                String::new()
            } else {
                format!("The photo is too small ({w}×{h}); retake it closer with the rear camera.")
            },
        };
        let standardized = if pass {
            let out = img.resize_to_fill(sw, sh, FilterType::Triangle).to_rgb8();
            let mut jpeg = Vec::new();
            JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), 85)
                .encode_image(&out)
                .map_err(|e| AnalyzeError {
                    code: "standardize_failed",
                    message_zh: "标准化照片失败。".into(),
                    message_en: format!("Standardizing the photo failed: {e}"),
                })?;
            Some(jpeg)
        } else {
            None
        };
        Ok(AnalyzeOutput {
            report: CheckReport {
                measures: vec![crop],
                models: Vec::new(),
                config_version: "test-support-dimensions".into(),
            },
            standardized,
            face_match: None,
            ocr: None,
        })
    }
}
