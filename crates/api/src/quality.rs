//! Quality sampling and overrides that wait for a second supervisor.
//!
//! A share of each reviewer's decisions (the school's `rereview_percent`) is sampled for a
//! supervisor to decide again. The supervisor decides blind: an open sample carries neither
//! the first decision nor who made it; both come back with the supervisor's answer.

use serde::{Deserialize, Serialize};

use crate::audit::{AuditStudent, TimelineAttempt};
use crate::common::DecisionKind;
use crate::review::{DecisionRecord, Verdict};

/// Whether a sample still waits for the supervisor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RereviewState {
    #[default]
    Open,
    Done,
}

/// `GET /api/supervisor/rereviews`: open samples oldest first, done ones newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RereviewQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RereviewState>,
    /// Only samples of this reviewer (their user id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// Only disagreements (done samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disagreements: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A supervisor's own look at a sampled decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondLook {
    pub supervisor_id: String,
    pub supervisor_name: String,
    /// `approve` or `reject`.
    pub kind: DecisionKind,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub decided_at_ms: i64,
}

/// One sampled decision. While open, `first` and `reviewer_*` are absent: the supervisor
/// decides without knowing what the reviewer decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RereviewItem {
    pub rereview_id: String,
    pub case_id: String,
    pub student: AuditStudent,
    pub sampled_at_ms: i64,
    /// The photo that was decided, with what its checks said.
    pub attempt: TimelineAttempt,
    pub state: RereviewState,
    pub reviewer_id: Option<String>,
    pub reviewer_name: Option<String>,
    pub first: Option<DecisionRecord>,
    pub second: Option<SecondLook>,
    /// Whether both looks reached the same verdict (approve or reject), once done.
    pub agrees: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RereviewPage {
    pub items: Vec<RereviewItem>,
    pub next_cursor: Option<String>,
}

/// `POST /api/supervisor/rereviews/{id}/decision`. Sending the same verdict again returns the
/// recorded answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RereviewRequest {
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// `GET /api/supervisor/rereviews/reviewers`: how each reviewer's sampled decisions fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerAgreement {
    pub reviewer_id: String,
    pub reviewer_name: String,
    pub sampled: i64,
    pub rereviewed: i64,
    pub disagreements: i64,
}

/// Where an override request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideStatus {
    Pending,
    Confirmed,
    Declined,
}

/// An override waiting for (or answered by) a second supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRequestView {
    pub request_id: String,
    pub case_id: String,
    pub student: AuditStudent,
    /// `override_approve` or `override_reject`.
    pub kind: DecisionKind,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub override_comment: String,
    pub requested_by_id: String,
    pub requested_by_name: String,
    pub requested_at_ms: i64,
    pub status: OverrideStatus,
    pub answered_by_id: Option<String>,
    pub answered_by_name: Option<String>,
    pub answer_comment: Option<String>,
    pub answered_at_ms: Option<i64>,
    /// The decision the confirmation recorded.
    pub decision: Option<DecisionRecord>,
}

/// What `POST /api/supervisor/items/{case_id}/override` did: applied at once, or waiting for
/// a second supervisor where the school's policy asks for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum OverrideOutcome {
    Applied {
        decision: DecisionRecord,
    },
    AwaitingConfirmation {
        // Boxed: a request is several times the size of a decision.
        request: Box<OverrideRequestView>,
    },
}

/// `GET /api/supervisor/overrides`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideQuery {
    /// Pending ones when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OverrideStatus>,
}

/// `POST /api/supervisor/overrides/{id}/decline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclineRequest {
    /// Why the second supervisor does not confirm (required).
    pub comment: String,
}
