//! The supervisor's view of the hash-chained audit log.

use gradphoto_domain::role::Role;
use serde::{Deserialize, Serialize};

/// `GET /api/supervisor/audit` (a page) and `GET /api/supervisor/audit/export` (every matching
/// event as CSV). Without `after`, pages run newest first; every filter is optional and they
/// combine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Oldest first: events with `seq` greater than this (a reader following the log through,
    /// passing back each page's `next_cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// Newest first: events with `seq` less than this (the previous page's `next_cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// Page size, 1–500 (default 100). Not used by the export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// A student's name, student number or ID number (matched exactly; an ID number through
    /// its keyed hash, never by decrypting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
    /// The id of the account that acted (a staff user id, a student's case id, `system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// An action code (`approved`, `login_failed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// School id. Staff bound to a school see only its events, whatever they ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    /// Only events at or after this time (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<i64>,
    /// Only events before this time (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ms: Option<i64>,
}

/// The student a case event is about, as a supervisor may see it without revealing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditStudent {
    pub case_id: String,
    pub student_id: String,
    pub name: String,
    pub student_no: String,
    /// The ID number masked (`domain::idnumber::mask`); the full number only through the
    /// audited reveal.
    pub id_number_masked: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_ms: i64,
    /// Absent for events the system itself recorded.
    pub actor_role: Option<Role>,
    pub actor_id: String,
    /// Stable action code (part of the hashed encoding).
    pub action: String,
    pub action_label_zh: String,
    pub action_label_en: String,
    pub subject: String,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
    /// The school the event is about, when it is about one.
    #[serde(default)]
    pub school_id: Option<String>,
    /// The student, when the event is about a case.
    #[serde(default)]
    pub student: Option<AuditStudent>,
    /// Who acted, as people know them: a staff account's name, or the student's name.
    #[serde(default)]
    pub actor_name: Option<String>,
    /// The staff account the event is about (a sign-in, an account change), by name.
    #[serde(default)]
    pub subject_name: Option<String>,
    /// The case's state before and after, for events that moved it.
    #[serde(default)]
    pub state_from: Option<String>,
    #[serde(default)]
    pub state_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEntry>,
    /// Pass back as `after` (oldest-first pages) or `before` (newest-first pages).
    pub next_cursor: i64,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    pub seq: i64,
    /// `audit_hash_mismatch`, `audit_prev_hash_mismatch` or `audit_seq_gap`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// `GET /api/supervisor/audit/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub ok: bool,
    /// Number of events checked.
    pub checked: i64,
    /// The first broken link, when the chain does not verify.
    pub first_broken: Option<BrokenLink>,
}

/// `POST /api/supervisor/students/{student_id}/id-number`: why the supervisor needs the full
/// number (kept in the audit log with the reveal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealRequest {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealedIdNumber {
    pub id_number: String,
}

/// A measure of an attempt's check that did not pass, as the timeline lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineConcern {
    pub measure: String,
    /// `warn` or `fail`.
    pub verdict: String,
    pub label_zh: String,
    pub label_en: String,
}

/// One photo a student uploaded, with what the checks said of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineAttempt {
    pub attempt_id: String,
    /// The retake round it belongs to.
    pub round: i64,
    pub status: String,
    /// `pass`, `warn` or `fail`, once checked.
    pub overall: Option<String>,
    pub concerns: Vec<TimelineConcern>,
    pub face_same_person: Option<bool>,
    pub created_at_ms: i64,
    /// Whether it was submitted for review.
    pub submitted: bool,
    /// `GET` path of its standardized photo, when there is one.
    pub standardized_url: Option<String>,
}

/// `GET /api/supervisor/cases/{case_id}/timeline`: a student's whole history in one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseTimeline {
    pub case_id: String,
    pub state: gradphoto_domain::state::CaseState,
    pub round: i64,
    pub flagged: bool,
    pub student: crate::review::ReviewStudent,
    pub student_id: String,
    /// Oldest first.
    pub attempts: Vec<TimelineAttempt>,
    /// Decisions and overrides, oldest first.
    pub decisions: Vec<crate::review::DecisionRecord>,
    /// Every audit event about the case, oldest first.
    pub events: Vec<AuditEntry>,
}
