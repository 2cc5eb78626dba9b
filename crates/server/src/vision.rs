//! The production [`PhotoAnalyzer`]: the vision crate's models, loaded once per process.

use gradphoto_domain::measures::Thresholds;
use gradphoto_vision::{idcard, Vision, VisionError};

use crate::analyzer::{
    AnalyzeError, AnalyzeInput, AnalyzeOutput, FaceMatchResult, OcrResult, PhotoAnalyzer,
};

pub struct VisionAnalyzer {
    vision: Vision,
    thresholds: Thresholds,
}

impl VisionAnalyzer {
    /// Loads and optimizes every model (a fraction of a second); do it once per process.
    pub fn load(thresholds: Thresholds) -> Result<VisionAnalyzer, VisionError> {
        Ok(VisionAnalyzer {
            vision: Vision::load()?,
            thresholds,
        })
    }

    pub fn vision(&self) -> &Vision {
        &self.vision
    }

    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }
}

impl PhotoAnalyzer for VisionAnalyzer {
    fn analyze(&self, input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError> {
        let typed = input
            .typed
            .as_ref()
            .map(|(name, number)| (name.as_str(), number.as_str()));
        let analysis = self
            .vision
            .analyze(
                &input.photo,
                &input.spec,
                &self.thresholds,
                input.id_card_front.as_deref(),
                typed,
            )
            .map_err(|e| AnalyzeError::from_localized(&e))?;
        let ocr = match (&analysis.ocr, &input.typed) {
            (Some(reading), Some((name, number))) => {
                let check = idcard::check_against_typed(reading, name, number);
                Some(OcrResult {
                    name: reading.name.clone(),
                    id_number: reading.id_number.clone(),
                    agree: check.name.agrees == Some(true) && check.id_number.agrees == Some(true),
                })
            }
            _ => None,
        };
        Ok(AnalyzeOutput {
            report: analysis.report,
            standardized: analysis.standardized.map(|s| s.jpeg),
            face_match: analysis.face_match.map(|m| FaceMatchResult {
                distance: m.distance,
                same_person: m.same_person,
            }),
            ocr,
        })
    }
}
