//! Types used by more than one side of the API.

use gradphoto_domain::gate::SubmitDecision;
use gradphoto_domain::measures::{CheckReport, Verdict};
use gradphoto_domain::reasons::RejectReason;
use gradphoto_domain::role::Role;
use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub ok: bool,
    pub version: String,
    pub database: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub school_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub user: StaffUser,
}

/// Help shown on every page of the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SchoolInfo {
    pub id: String,
    pub name: String,
    pub support_phone: String,
    pub support_hours: String,
    /// The last day to submit (`YYYY-MM-DD`), empty when the school set none, and the calendar
    /// days left until it (negative once passed), shown with the support contact on every page.
    #[serde(default)]
    pub submission_deadline: String,
    #[serde(default)]
    #[cfg_attr(test, ts(type = "number | null"))]
    pub days_left: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PolicySummary {
    #[cfg_attr(test, ts(type = "number"))]
    pub fee_cents: i64,
    pub retakes_free: bool,
    pub album_allowed: bool,
    pub max_attempts_per_round: u32,
    pub face_match_failures_before_flag: u32,
    /// Attempts failing the same soft photo check after which the student may submit anyway.
    #[serde(default)]
    pub check_failures_before_flag: u32,
    pub privacy_version: String,
    /// The school's photo: background colour (named) and file-size window in KB.
    #[serde(default)]
    pub photo_background_zh: String,
    #[serde(default)]
    pub photo_background_en: String,
    #[serde(default)]
    pub photo_min_kb: u32,
    #[serde(default)]
    pub photo_max_kb: u32,
    /// The school's own privacy agreement (paragraphs split by a blank line); empty: the
    /// standard one the portal carries.
    #[serde(default)]
    pub privacy_text_zh: String,
    #[serde(default)]
    pub privacy_text_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReasonView {
    pub code: RejectReason,
    pub label_zh: String,
    pub label_en: String,
    pub fix_zh: String,
    pub fix_en: String,
}

impl From<RejectReason> for ReasonView {
    fn from(r: RejectReason) -> Self {
        ReasonView {
            code: r,
            label_zh: r.label_zh().to_string(),
            label_en: r.label_en().to_string(),
            fix_zh: r.fix_zh().to_string(),
            fix_en: r.fix_en().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PhotoRule {
    pub code: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// Stored; analysis is running.
    Processing,
    /// Analysed: see the report.
    Checked,
    /// The photo could not be analysed (see `error`).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PhotoSource {
    Camera,
    Album,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FaceMatchView {
    pub distance: f64,
    pub same_person: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OcrView {
    pub name: Option<String>,
    pub id_number_masked: Option<String>,
    pub agree: bool,
}

/// One uploaded photo and what the automatic checks said about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AttemptView {
    pub id: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub round: i64,
    pub status: AttemptStatus,
    pub source: PhotoSource,
    pub error: Option<ErrorBody>,
    pub overall: Option<Verdict>,
    pub report: Option<CheckReport>,
    pub face_match: Option<FaceMatchView>,
    pub ocr: Option<OcrView>,
    pub has_standardized: bool,
    #[cfg_attr(test, ts(type = "number"))]
    pub original_size: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub created_at_ms: i64,
    /// What the server accepts on submit of this attempt (the portal shows exactly this).
    /// `None` while the photo is being checked, when it could not be analysed, and for
    /// attempts of an earlier round: nothing can be submitted from those.
    #[serde(default)]
    pub gate: Option<SubmitDecision>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Reject,
    OverrideApprove,
    OverrideReject,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct DecisionView {
    pub id: String,
    pub kind: DecisionKind,
    pub reasons: Vec<ReasonView>,
    pub comment: Option<String>,
    #[cfg_attr(test, ts(type = "number"))]
    pub round: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub decided_at_ms: i64,
}

/// An image format the server accepts for upload: one it can decode and check. Anything else
/// (HEIC, WebP, …) is refused at upload, before it is stored or counted as an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum UploadFormat {
    Jpeg,
    Png,
}

impl UploadFormat {
    /// Every accepted format, in the order to name them to the student.
    pub const ALL: [UploadFormat; 2] = [UploadFormat::Jpeg, UploadFormat::Png];

    /// The format's name as people know it, the same in every language.
    pub fn name(self) -> &'static str {
        match self {
            UploadFormat::Jpeg => "JPEG",
            UploadFormat::Png => "PNG",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            UploadFormat::Jpeg => "image/jpeg",
            UploadFormat::Png => "image/png",
        }
    }

    /// File-name extensions, lower case, without the dot.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            UploadFormat::Jpeg => &["jpg", "jpeg"],
            UploadFormat::Png => &["png"],
        }
    }
}

/// One accepted format as a browser's file picker needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AcceptedFormat {
    pub format: UploadFormat,
    /// How the student is told the format, e.g. `JPEG`.
    pub name: String,
    /// Media type, e.g. `image/jpeg`.
    pub mime: String,
    /// File-name extensions, lower case, without the dot.
    pub extensions: Vec<String>,
}

impl From<UploadFormat> for AcceptedFormat {
    fn from(format: UploadFormat) -> Self {
        AcceptedFormat {
            format,
            name: format.name().to_string(),
            mime: format.mime().to_string(),
            extensions: format.extensions().iter().map(|e| e.to_string()).collect(),
        }
    }
}

/// What an uploaded image (a photo, each side of the ID card) must be for the server to take it.
/// The portal checks a chosen file against this before sending it and names these limits in its
/// messages, so it never promises more than the server enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct UploadRules {
    /// Largest accepted file in bytes; larger ones are refused with `upload_too_large`.
    #[cfg_attr(test, ts(type = "number"))]
    pub max_upload_bytes: u64,
    /// Formats the server can process; others are refused with `unsupported_format` (a known
    /// image format) or `not_an_image`.
    pub accepted_formats: Vec<AcceptedFormat>,
}

impl UploadRules {
    /// The rules of a server whose upload limit is `max_upload_bytes`.
    pub fn new(max_upload_bytes: u64) -> UploadRules {
        UploadRules {
            max_upload_bytes,
            accepted_formats: UploadFormat::ALL.into_iter().map(Into::into).collect(),
        }
    }
}

/// Answer to signing out: the session is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOut {
    pub ok: bool,
}
