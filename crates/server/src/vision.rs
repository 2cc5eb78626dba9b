//! The production [`PhotoAnalyzer`]: the vision crate's models, loaded once per process.

use std::sync::OnceLock;

use gradphoto_domain::measures::Thresholds;
use gradphoto_vision::{idcard, Vision, VisionError};

use crate::analyzer::{
    AnalyzeError, AnalyzeInput, AnalyzeOutput, CardSide, FaceMatchResult, OcrResult, PhotoAnalyzer,
};

/// Models are loaded on first use (or by [`VisionAnalyzer::warm`]), once per process, so that
/// admin commands that never look at a photo don't pay for them.
pub struct VisionAnalyzer {
    vision: OnceLock<Result<Vision, AnalyzeError>>,
    thresholds: Thresholds,
}

impl VisionAnalyzer {
    pub fn new(thresholds: Thresholds) -> VisionAnalyzer {
        VisionAnalyzer {
            vision: OnceLock::new(),
            thresholds,
        }
    }

    /// Loads and optimizes the models now (a fraction of a second).
    pub fn warm(&self) -> Result<&Vision, AnalyzeError> {
        self.vision
            .get_or_init(|| {
                Vision::load().map_err(|e: VisionError| AnalyzeError::from_localized(&e))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl PhotoAnalyzer for VisionAnalyzer {
    fn check_id_card(&self, side: CardSide, picture: &[u8]) -> Result<(), AnalyzeError> {
        let vision = self.warm()?;
        match side {
            CardSide::Front => vision.check_card_front(picture),
            CardSide::Back => vision.check_card_back(picture),
        }
        .map_err(|e| AnalyzeError::from_localized(&e))
    }

    fn analyze(&self, input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError> {
        let typed = input
            .typed
            .as_ref()
            .map(|(name, number)| (name.as_str(), number.as_str()));
        let analysis = self
            .warm()?
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
