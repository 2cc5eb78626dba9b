//! Reviewer and supervisor requests and responses: the queue, leases, the review record,
//! decisions, overrides and statistics.
//!
//! Times are epoch milliseconds (UTC). Reject reasons travel as their stable codes (see
//! `gradphoto_domain::reasons::RejectReason`) so that an unknown code reaches the server and
//! gets a precise error instead of a generic parse failure.

use gradphoto_domain::measures::{CheckReport, MeasureId};
use gradphoto_domain::spec::PhotoSpec;
use gradphoto_domain::state::CaseState;
use serde::{Deserialize, Serialize};

pub use crate::common::DecisionKind;

/// Filters and paging for `GET /api/review/queue`. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueQuery {
    /// Defaults to `pending_review`. `in_review` lists live leases only; an expired lease is
    /// listed as `pending_review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<CaseState>,
    /// School id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    /// Only submissions flagged after repeated failed face comparisons or photo checks (or only
    /// unflagged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagged: Option<bool>,
    /// Only submissions waiting at least this many minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_min: Option<i64>,
    /// Opaque cursor from a previous page's `next_cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCount {
    pub state: CaseState,
    pub count: i64,
}

/// One line of the queue: enough to pick an item, without sensitive data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub case_id: String,
    pub school_id: String,
    pub school_name: String,
    pub student_name: String,
    pub student_no: String,
    /// The effective state (an expired lease shows as `pending_review`).
    pub state: CaseState,
    pub flagged: bool,
    pub round: i64,
    pub submitted_at_ms: i64,
    pub lease_holder: Option<String>,
    pub lease_until_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
    /// Number of cases per effective review state (pending_review, in_review, rejected,
    /// approved) within the school filter, if any. Counted at most a few seconds ago: exact
    /// counts are reused briefly so that paging a large queue stays fast.
    pub counts: Vec<StateCount>,
}

/// Query of the sensitive reads (`id-number`, ID-card and original images): a supervisor
/// reading outside a lease states why; the audit log keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitiveQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Most items one claim may take; a reviewer's live leases are capped as well (the server's
/// `review_max_held`), and a claim takes no more than fit under that cap.
pub const MAX_CLAIM: u32 = 20;

/// Most photos the workstation's grid review shows at once. The server's default hold limit
/// (`review_max_held`) is this, so that a reviewer can hold a full grid under the usual leases.
pub const GRID_MAX: u32 = 24;

/// `POST /api/review/claim`: either the next `count` items of the queue, or one named case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    /// Restrict a `count` claim to one school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub case_id: String,
    pub holder: String,
    pub until_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// Oldest submission first; may hold fewer than requested (or none) when the queue is short.
    pub leases: Vec<Lease>,
    pub lease_seconds: u64,
}

/// The roster record as a reviewer sees it; the ID number is masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewStudent {
    pub name: String,
    pub id_number_masked: String,
    pub student_no: String,
    pub school_id: String,
    pub school_name: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub graduation_year: i64,
}

/// Image kinds a reviewer may fetch from `/api/review/items/{case_id}/images/{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    IdFront,
    IdBack,
    Enrollment,
    Original,
    Standardized,
}

impl ImageKind {
    pub const ALL: [ImageKind; 5] = [
        ImageKind::IdFront,
        ImageKind::IdBack,
        ImageKind::Enrollment,
        ImageKind::Original,
        ImageKind::Standardized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::IdFront => "id_front",
            ImageKind::IdBack => "id_back",
            ImageKind::Enrollment => "enrollment",
            ImageKind::Original => "original",
            ImageKind::Standardized => "standardized",
        }
    }

    pub fn parse(s: &str) -> Option<ImageKind> {
        ImageKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// ID card images are sensitive: every view is audited.
    pub fn is_id_card(self) -> bool {
        matches!(self, ImageKind::IdFront | ImageKind::IdBack)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub kind: ImageKind,
    /// Path relative to the server root (bearer token required).
    pub url: String,
}

/// One upload attempt of the student, newest first in [`ReviewItem::attempts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptSummary {
    pub attempt_id: String,
    pub round: i64,
    pub status: String,
    pub overall: Option<String>,
    pub face_same_person: Option<bool>,
    pub created_at_ms: i64,
    /// Whether this attempt is the one under review.
    pub submitted: bool,
}

/// A recorded decision. Retrying the same `decision_id` returns the same record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub decision_id: String,
    pub case_id: String,
    pub kind: DecisionKind,
    /// Reject reason codes.
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub reviewer_id: String,
    pub reviewer_name: String,
    pub round: i64,
    pub decided_at_ms: i64,
    /// The case state this decision led to.
    pub resulting_state: CaseState,
}

/// Result of comparing the photo's face with the ID card portrait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceMatchSummary {
    pub same_person: Option<bool>,
    pub distance: Option<f64>,
    /// Failed comparisons before this submission.
    pub failures: i64,
}

/// Why a submission is flagged: the student was allowed to submit it anyway after failing
/// these repeatedly within the round (`gradphoto_domain::gate::submit_decision`), so the
/// reviewer must judge them by eye.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagReasons {
    /// Soft photo checks failing on the submitted photo, each failed by as many attempts of
    /// the round as the school's policy requires before the flag path opens.
    pub measures: Vec<MeasureId>,
    /// The face comparison with the ID card portrait failed on the submitted photo after the
    /// school's number of failed comparisons.
    pub face_mismatch: bool,
    /// The face comparison could not be made (no portrait found on the card or in the
    /// photo): the reviewer compares the faces.
    #[serde(default)]
    pub face_unchecked: bool,
}

/// `GET /api/review/items/{case_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub case_id: String,
    pub state: CaseState,
    pub round: i64,
    pub flagged: bool,
    /// Why the submission is flagged: `Some` exactly when `flagged`. Absent from servers that
    /// predate flag reasons, so clients (and cached records) read it as `None`.
    #[serde(default)]
    pub flag: Option<FlagReasons>,
    pub submitted_at_ms: Option<i64>,
    pub lease: Option<Lease>,
    pub student: ReviewStudent,
    pub attempts: Vec<AttemptSummary>,
    pub decisions: Vec<DecisionRecord>,
    pub images: Vec<ImageRef>,
    /// The server's analysis of the submitted attempt.
    pub report: Option<CheckReport>,
    pub face_match: FaceMatchSummary,
    /// The school's photo spec (its background and file-size window), which the local hints
    /// check against. Absent from servers that predate per-school specs, and from cached
    /// records written before: read as the CHSI default, which every school had then.
    #[serde(default)]
    pub spec: PhotoSpec,
}

/// `GET /api/review/items/{case_id}/id-number`: the full ID number (audited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdNumberView {
    pub case_id: String,
    pub id_number: String,
}

/// What a reviewer decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    Approve,
    Reject {
        /// Reason codes; `other` requires a comment.
        reasons: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
}

/// `POST /api/review/items/{case_id}/decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRequest {
    /// Generated by the client (a UUID); retries with the same id are idempotent.
    pub decision_id: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// `POST /api/supervisor/items/{case_id}/override`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRequest {
    pub decision_id: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Why the supervisor overrides (required).
    pub override_comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerDay {
    pub reviewer_id: String,
    pub reviewer_name: String,
    /// Calendar day in China Standard Time (UTC+8), `YYYY-MM-DD`.
    pub day: String,
    pub approved: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub count: i64,
}

/// Filters of `GET /api/supervisor/stats`; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// First day of decisions counted (`YYYY-MM-DD`, China Standard Time); default: the 30
    /// days ending with `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last day counted, inclusive (`YYYY-MM-DD`); default: today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// School id. Staff bound to a school see only its figures; naming another is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    /// College (院系) exactly as the roster names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub college: Option<String>,
}

/// Longest date range of one statistics request, in days.
pub const MAX_STATS_DAYS: i64 = 366;
/// Breaches listed in one answer (the most overdue first); `Stats::breaches_total` counts all.
pub const MAX_STATS_BREACHES: usize = 200;

/// One reviewer's decisions in the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewerStats {
    pub reviewer_id: String,
    pub reviewer_name: String,
    pub decisions: i64,
    pub approvals: i64,
    /// `approvals / decisions`; 0 without decisions.
    pub approval_rate: f64,
    /// Median seconds from claiming an item to deciding it (decisions made under a claim;
    /// supervisor overrides have none).
    pub median_decision_seconds: Option<i64>,
}

/// Decisions that took `working_days` from submission to decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnaroundCount {
    pub working_days: i64,
    pub decisions: i64,
    /// Of those, decided past their school's SLA (schools may have different SLAs).
    pub late: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachKind {
    /// Decided, but more working days after submission than the school's SLA allows.
    DecidedLate,
    /// Still waiting for a decision, already past the SLA.
    PendingOverdue,
}

/// A submission past its school's review SLA; the student appears masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub kind: BreachKind,
    pub case_id: String,
    pub school_id: String,
    pub school_name: String,
    pub college: String,
    pub student_name_masked: String,
    pub student_no_masked: String,
    pub submitted_at_ms: i64,
    pub decided_at_ms: Option<i64>,
    /// Working days from submission to the decision (or to now, while pending).
    pub working_days: i64,
    pub sla_working_days: i64,
}

/// Items waiting for a decision now whose age, in working days since submission, is in
/// `min_working_days..=max_working_days` (no upper end on the last bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacklogBucket {
    pub min_working_days: i64,
    pub max_working_days: Option<i64>,
    pub count: i64,
    /// Of those, past their school's SLA.
    pub overdue: i64,
}

/// How often reviewers decided against one measure of the local hints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureOverrule {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    /// Decided photos on which this measure warned or failed.
    pub doubted: i64,
    /// Of those, approved all the same.
    pub approved: i64,
}

/// Reviewers' decisions against the hints: the analysis stored for the decided photo is
/// what the workstation's local hints show (the same models and thresholds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HintOverrules {
    /// Reviewer decisions of photos with an analysis.
    pub decisions: i64,
    pub rejections: i64,
    /// Rejections of photos on which every measure passed.
    pub rejected_all_passed: i64,
    /// Every measure that warned or failed on some decided photo, most overruled first.
    pub measures: Vec<MeasureOverrule>,
}

/// Figures of one school or one college.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    /// School id, or the college's name.
    pub key: String,
    pub name: String,
    /// The school a college belongs to (colleges of two schools may share a name).
    pub school_id: String,
    pub decisions: i64,
    pub approvals: i64,
    pub approval_rate: f64,
    /// Mean working days from submission to a reviewer's decision.
    pub mean_turnaround_working_days: Option<f64>,
    pub decided_late: i64,
    /// Waiting now, past the SLA (not limited by the date range).
    pub pending_overdue: i64,
}

/// `GET /api/supervisor/stats`. Decisions are those made in `from..=to` (China Standard
/// Time) within the school and college filters; `counts`, `backlog` and overdue pending
/// items describe the queue now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub from: String,
    pub to: String,
    /// Every state, including those before submission; `in_review` counts live leases only.
    pub counts: Vec<StateCount>,
    pub per_reviewer_day: Vec<ReviewerDay>,
    pub reject_reasons: Vec<ReasonCount>,
    /// Every reviewer or supervisor who decided in the range, most decisions first.
    pub reviewers: Vec<ReviewerStats>,
    /// Reviewer decisions (not overrides) by working days from submission, ascending.
    pub turnaround: Vec<TurnaroundCount>,
    pub decided_within_sla: i64,
    pub decided_late: i64,
    /// Pending items past the SLA now.
    pub pending_overdue: i64,
    /// The most overdue breaches (decided late or pending overdue), at most
    /// [`MAX_STATS_BREACHES`]; `breaches_total` counts them all.
    pub breaches: Vec<Breach>,
    pub breaches_total: i64,
    pub backlog: Vec<BacklogBucket>,
    pub hints: HintOverrules,
    pub schools: Vec<GroupStats>,
    pub colleges: Vec<GroupStats>,
}

/// Answer to giving an item back: its state now (back in the queue, or decided meanwhile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Released {
    pub case_id: String,
    pub state: CaseState,
}
