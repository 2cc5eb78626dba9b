//! The student portal API (`/api/student/*`, `/api/public/*`).

use gradphoto_domain::gate::SubmitDecision;
use gradphoto_domain::measures::Verdict;
use gradphoto_domain::spec::PhotoSpec;
use gradphoto_domain::state::CaseState;
use serde::{Deserialize, Serialize};

use crate::common::{
    AttemptView, DecisionView, PhotoRule, PolicySummary, ReasonView, SchoolInfo, UploadRules,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClaimRequest {
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClaimResponse {
    /// Bearer token for every later request; the same one when a session re-opens its code.
    pub token: String,
    pub case: StudentCase,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ConsentRequest {
    /// The privacy agreement version the student accepted (see `PolicySummary`).
    pub version: String,
    pub accepted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ConsentView {
    pub version: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub accepted_at_ms: i64,
}

/// The enrollment record (学籍) matched to the student, ID number masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RecordView {
    pub name: String,
    pub id_number_masked: String,
    pub school: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub student_no: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub graduation_year: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Created,
    Paid,
    Waived,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OrderView {
    pub id: String,
    pub provider: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub amount_cents: i64,
    pub status: OrderStatus,
    #[cfg_attr(test, ts(type = "number"))]
    pub round: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PaymentResponse {
    pub order: OrderView,
    /// Where to pay, when the order is not complete yet.
    pub pay_url: Option<String>,
    pub case: StudentCase,
}

/// Everything the portal shows about the student's case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StudentCase {
    pub case_id: String,
    pub state: CaseState,
    pub state_label_zh: String,
    pub state_label_en: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub round: i64,
    pub school: SchoolInfo,
    pub policy: PolicySummary,
    /// The latest consent to the current privacy agreement, if given.
    pub consent: Option<ConsentView>,
    /// Shown once identity is verified.
    pub record: Option<RecordView>,
    pub order: Option<OrderView>,
    /// Newest first.
    pub attempts: Vec<AttemptView>,
    pub submitted_attempt_id: Option<String>,
    pub flagged: bool,
    #[cfg_attr(test, ts(type = "number"))]
    pub face_match_failures: i64,
    pub latest_decision: Option<DecisionView>,
    /// What the server accepts as an upload (size, formats): the identity and photo steps
    /// check a chosen file against it before sending it.
    pub uploads: UploadRules,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SubmitRequest {
    pub attempt_id: String,
}

/// What would happen on submit with this attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitPreview {
    pub gate: SubmitDecision,
    pub overall: Option<Verdict>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PublicSchool {
    pub school: SchoolInfo,
    pub policy: PolicySummary,
    pub reject_reasons: Vec<ReasonView>,
    pub photo_rules: Vec<PhotoRule>,
    pub spec: PhotoSpec,
}

/// What became of a payment a provider reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentResult {
    Paid,
    /// Reported before (a provider's retry): nothing changed.
    AlreadyPaid,
}

/// Answer to a provider's payment callback, and to the sandbox's confirmation (which names
/// the order it paid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentCallbackAnswer {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub result: PaymentResult,
}
