//! The student portal API (`/api/student/*`, `/api/public/*`).

use gradphoto_domain::gate::SubmitDecision;
use gradphoto_domain::measures::Verdict;
use gradphoto_domain::spec::PhotoSpec;
use gradphoto_domain::state::CaseState;
use serde::{Deserialize, Serialize};

use crate::common::{AttemptView, DecisionView, PhotoRule, PolicySummary, ReasonView, SchoolInfo};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// Bearer token for every later request; the same one when a session re-opens its code.
    pub token: String,
    pub case: StudentCase,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRequest {
    /// The privacy agreement version the student accepted (see `PolicySummary`).
    pub version: String,
    pub accepted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub version: String,
    pub accepted_at_ms: i64,
}

/// The enrollment record (学籍) matched to the student, ID number masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    pub name: String,
    pub id_number_masked: String,
    pub school: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub student_no: String,
    pub graduation_year: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Created,
    Paid,
    Waived,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub provider: String,
    pub amount_cents: i64,
    pub status: OrderStatus,
    pub round: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentResponse {
    pub order: OrderView,
    /// Where to pay, when the order is not complete yet.
    pub pay_url: Option<String>,
    pub case: StudentCase,
}

/// Everything the portal shows about the student's case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentCase {
    pub case_id: String,
    pub state: CaseState,
    pub state_label_zh: String,
    pub state_label_en: String,
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
    pub face_match_failures: i64,
    pub latest_decision: Option<DecisionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct PublicSchool {
    pub school: SchoolInfo,
    pub policy: PolicySummary,
    pub reject_reasons: Vec<ReasonView>,
    pub photo_rules: Vec<PhotoRule>,
    pub spec: PhotoSpec,
}
