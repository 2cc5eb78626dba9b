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
pub struct SchoolInfo {
    pub id: String,
    pub name: String,
    pub support_phone: String,
    pub support_hours: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySummary {
    pub fee_cents: i64,
    pub retakes_free: bool,
    pub album_allowed: bool,
    pub max_attempts_per_round: u32,
    pub face_match_failures_before_flag: u32,
    /// Attempts failing the same soft photo check after which the student may submit anyway.
    #[serde(default)]
    pub check_failures_before_flag: u32,
    pub privacy_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct PhotoRule {
    pub code: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(rename_all = "snake_case")]
pub enum PhotoSource {
    Camera,
    Album,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceMatchView {
    pub distance: f64,
    pub same_person: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcrView {
    pub name: Option<String>,
    pub id_number_masked: Option<String>,
    pub agree: bool,
}

/// One uploaded photo and what the automatic checks said about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    pub id: String,
    pub round: i64,
    pub status: AttemptStatus,
    pub source: PhotoSource,
    pub error: Option<ErrorBody>,
    pub overall: Option<Verdict>,
    pub report: Option<CheckReport>,
    pub face_match: Option<FaceMatchView>,
    pub ocr: Option<OcrView>,
    pub has_standardized: bool,
    pub original_size: i64,
    pub created_at_ms: i64,
    /// What the server accepts on submit of this attempt (the portal shows exactly this).
    /// `None` while the photo is being checked, when it could not be analysed, and for
    /// attempts of an earlier round: nothing can be submitted from those.
    #[serde(default)]
    pub gate: Option<SubmitDecision>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Reject,
    OverrideApprove,
    OverrideReject,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub id: String,
    pub kind: DecisionKind,
    pub reasons: Vec<ReasonView>,
    pub comment: Option<String>,
    pub round: i64,
    pub decided_at_ms: i64,
}
