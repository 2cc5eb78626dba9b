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

/// A side of the ID card, as the identity step receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardSide {
    Front,
    Back,
}

impl CardSide {
    /// The form field the side arrives in.
    pub fn field(self) -> &'static str {
        match self {
            CardSide::Front => "id_front",
            CardSide::Back => "id_back",
        }
    }
}

pub trait PhotoAnalyzer: Send + Sync + 'static {
    fn analyze(&self, input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError>;

    /// Whether a picture can serve as this side of the ID card (the front: with a portrait
    /// and a card's text, so the face comparison has something to compare with). Runs on a
    /// blocking thread at the identity step, before the pictures are kept.
    fn check_id_card(&self, side: CardSide, picture: &[u8]) -> Result<(), AnalyzeError>;
}
