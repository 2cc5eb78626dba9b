//! What the workstation's window sees: the types that cross the command boundary between the
//! Rust core and the UI. TypeScript declarations are generated from them (`ts-rs`) into
//! `ui/desk/src/lib/bindings/`, so the UI cannot drift from the core.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every failure the UI can show: a stable code and a sentence in each product language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ErrorView {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// Whether the operating system's credential store can hold the session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KeyringStatus {
    pub available: bool,
    /// Why it is unavailable, for the sign-in screen (platform error text).
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionView {
    pub server_url: String,
    pub user_name: String,
    pub role: String,
    /// The token lives only in memory: signing in again is needed after a restart.
    pub session_only: bool,
}

/// What the window needs at start: who is signed in and how the last sign-in looked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StartupView {
    pub session: Option<SessionView>,
    pub keyring: KeyringStatus,
    pub last_server_url: Option<String>,
    pub last_user_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignInRequest {
    pub server_url: String,
    pub user_name: String,
    pub password: String,
    /// Keep the token in memory only (offered when no keyring service is available).
    pub session_only: bool,
}

/// Where an item stands on this workstation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// In the server's queue, not held by this workstation.
    Pending,
    /// Claimed by this workstation under a live (or locally assumed) lease.
    Claimed,
    /// Decided here; the decision waits in the outbox.
    Decided,
    /// Decided here and accepted by the server.
    Synced,
    /// The server refused the decision; see the conflict list.
    Conflict,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QueueFilter {
    pub school: Option<String>,
    pub status: Option<RowStatus>,
    /// Only items that have waited at least this many minutes since submission.
    pub min_wait_minutes: Option<u32>,
    /// Only submissions flagged for the reviewer: submitted anyway after repeated failed face
    /// comparisons or photo checks.
    pub flagged_only: bool,
    /// Only items whose local hints include a failing measure.
    pub hint_fail_only: bool,
    /// Free text matched against name and student number.
    pub search: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct QueueRow {
    pub item_id: String,
    pub student_name: String,
    pub student_no: String,
    pub school: String,
    pub college: String,
    /// RFC 3339.
    pub submitted_at: String,
    #[ts(type = "number")]
    pub waiting_minutes: i64,
    pub status: RowStatus,
    pub flagged: bool,
    pub attempt_no: u32,
    /// Overall verdict of the local hints once computed: "pass" | "warn" | "fail".
    pub hint_verdict: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QueueCounts {
    pub total: u32,
    pub pending: u32,
    pub claimed: u32,
    pub decided: u32,
    pub conflicts: u32,
    pub flagged: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Counts over the whole local queue, before the filter.
    pub counts: QueueCounts,
    /// Count of rows matching the filter.
    pub matching: u32,
    pub schools: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    IdCardFront,
    /// The national-emblem side (国徽面): issuing authority and validity.
    IdCardBack,
    Enrollment,
    Original,
    Standardized,
}

impl ImageKind {
    pub const ALL: [ImageKind; 5] = [
        ImageKind::IdCardFront,
        ImageKind::IdCardBack,
        ImageKind::Enrollment,
        ImageKind::Original,
        ImageKind::Standardized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::IdCardFront => "id_card_front",
            ImageKind::IdCardBack => "id_card_back",
            ImageKind::Enrollment => "enrollment",
            ImageKind::Original => "original",
            ImageKind::Standardized => "standardized",
        }
    }

    pub fn parse(s: &str) -> Option<ImageKind> {
        ImageKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ImageRef {
    pub kind: ImageKind,
    /// Path part of the `gpimg:` URL the window loads it from (served out of the local cache).
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StudentView {
    pub name: String,
    pub id_number_masked: String,
    pub student_no: String,
    pub school: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub graduation_year: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistoryEntry {
    pub attempt_no: u32,
    pub submitted_at: Option<String>,
    /// "approved" | "rejected" | null while undecided.
    pub outcome: Option<String>,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub reviewer: Option<String>,
    pub decided_at: Option<String>,
}

/// The guide bands of the photo spec, in standardized-photo pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GuideView {
    pub width: u32,
    pub height: u32,
    pub hair_top: [u32; 2],
    pub eye_line: [u32; 2],
    pub face_width: [u32; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LocalDecisionView {
    pub decision_id: String,
    /// "approve" | "reject".
    pub kind: String,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub decided_at: String,
    pub synced: bool,
}

/// A photo check named by a flag, with the labels the hints use for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FlagMeasureView {
    /// The measure's code, as in [`MeasureView::id`].
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
}

/// Why a submission is flagged: the student failed these repeatedly within the round and was
/// allowed to submit anyway, so the reviewer must judge them by eye.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FlagView {
    /// Soft photo checks failing on the submitted photo.
    pub measures: Vec<FlagMeasureView>,
    /// The face comparison with the ID card failed on the submitted photo.
    pub face_mismatch: bool,
    /// The face comparison could not be made: the reviewer compares the faces.
    pub face_unchecked: bool,
    /// The server sent no reasons (it predates them): the window says so instead of guessing.
    pub reasons_known: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ItemView {
    pub item_id: String,
    pub status: RowStatus,
    pub lease_until: Option<String>,
    pub submitted_at: String,
    pub attempt_no: u32,
    pub flagged: bool,
    /// Why the submission is flagged: `Some` exactly when `flagged`.
    pub flag: Option<FlagView>,
    pub face_match_failures: u32,
    pub student: StudentView,
    pub images: Vec<ImageRef>,
    pub guide: GuideView,
    pub history: Vec<HistoryEntry>,
    pub local_decision: Option<LocalDecisionView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MeasureView {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    pub raw: Option<f64>,
    pub score: Option<u8>,
    /// The limits the verdict was judged against, in the measure's own unit.
    pub threshold: Option<String>,
    /// "pass" | "warn" | "fail".
    pub verdict: String,
    /// "ok" | "failed_to_assess".
    pub status: String,
    pub message_zh: String,
    pub message_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FaceMatchView {
    pub similarity: f64,
    pub distance: f64,
    pub threshold: f64,
    pub same_person: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OcrView {
    pub name_read: Option<String>,
    pub number_read: Option<String>,
    pub name_expected: String,
    pub number_expected_masked: String,
    pub name_matches: bool,
    pub number_matches: bool,
}

/// Face box and landmarks found on one of the item's images, in that image's pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OverlayView {
    pub image: ImageKind,
    pub width: u32,
    pub height: u32,
    /// x, y, width, height.
    pub face_box: Option<[f64; 4]>,
    pub landmarks: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HintsView {
    pub item_id: String,
    /// "pass" | "warn" | "fail".
    pub overall: String,
    pub measures: Vec<MeasureView>,
    pub face_match: Option<FaceMatchView>,
    pub ocr: Option<OcrView>,
    /// The student submitted anyway after repeated failed face comparisons or photo checks
    /// (the reasons are in [`ItemView::flag`]).
    pub flagged: bool,
    pub face_match_failures: u32,
    pub overlays: Vec<OverlayView>,
    pub models: Vec<String>,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionInput {
    Approve,
    Reject {
        reasons: Vec<String>,
        comment: Option<String>,
    },
}

impl DecisionInput {
    /// The verdict as the server takes it.
    pub fn to_verdict(&self) -> gradphoto_api::review::Verdict {
        use gradphoto_api::review::Verdict;
        match self {
            DecisionInput::Approve => Verdict::Approve,
            DecisionInput::Reject { reasons, comment } => Verdict::Reject {
                reasons: reasons.clone(),
                comment: comment.clone(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DecideRequest {
    pub item_id: String,
    pub decision: DecisionInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DecideResult {
    pub decision_id: String,
    /// The next claimed, undecided item (already cached), if any.
    pub next_item_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReasonView {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub requires_comment: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// The lease ran out and the item went to someone else (or back to the queue).
    LeaseLost,
    /// The student withdrew the submission.
    Withdrawn,
    /// A supervisor decided the item first.
    Overridden,
    /// The server refused the decision for another reason.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConflictView {
    #[ts(type = "number")]
    pub id: i64,
    pub item_id: String,
    pub student_name: String,
    pub kind: ConflictKind,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    /// "approve" | "reject".
    pub decision_kind: String,
    pub reasons: Vec<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncStatusView {
    pub signed_in: bool,
    pub online: bool,
    pub syncing: bool,
    pub outbox: u32,
    pub conflicts: u32,
    pub claimed: u32,
    pub last_sync_at: Option<String>,
    pub last_error: Option<ErrorView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ClaimResult {
    pub claimed: u32,
    pub first_item_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Grid review

/// One photo of the grid: a held item whose local hints all pass and that the server did not
/// flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GridTileView {
    pub item_id: String,
    pub student_name: String,
    pub student_no: String,
    pub college: String,
    /// Path part of the `gpimg:` URL of the standardized photo.
    pub photo: String,
}

/// What grid review shows: the clean held items, oldest claim first, and why the other held
/// items are not among them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GridView {
    pub tiles: Vec<GridTileView>,
    /// Items held and undecided on this workstation.
    pub held: u32,
    /// Held items whose local hints are still being computed.
    pub waiting_hints: u32,
    /// Held items with a warning, a failure or a flag: they wait for single review.
    pub held_back: u32,
    /// Most photos the grid shows at once.
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GridApproveRequest {
    pub item_ids: Vec<String>,
}

/// What became of one photo approved from the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GridOutcome {
    /// The server accepted the approval.
    Approved,
    /// Recorded here; the outbox delivers it when the server is reachable.
    Queued,
    /// The server refused it (lease lost, withdrawn, decided by a supervisor): see conflicts.
    Conflict,
    /// Not approved: the item is not held here undecided, or its hints do not all pass.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GridItemResult {
    pub item_id: String,
    pub student_name: String,
    pub outcome: GridOutcome,
    /// The approval's own decision id, when one was recorded.
    pub decision_id: Option<String>,
    /// Why, for a conflict or a refusal.
    pub error: Option<ErrorView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GridApproveResult {
    /// In the order asked.
    pub results: Vec<GridItemResult>,
    pub approved: u32,
    pub queued: u32,
    pub conflicts: u32,
    pub refused: u32,
}

// ---------------------------------------------------------------------------------------------
// Supervisor mode: the audit history

/// The history's filters as the window sends them; empty text means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditFilterView {
    /// A student's name, student number or ID number.
    pub student: String,
    /// An action code, or empty for every action.
    pub action: String,
    /// The id of whoever acted.
    pub actor: String,
    /// A school id (supervisors bound to a school see only theirs).
    pub school: String,
    /// From this day on (local date, `YYYY-MM-DD`), inclusive.
    pub from_day: String,
    /// Up to this day (local date, `YYYY-MM-DD`), inclusive.
    pub to_day: String,
    /// The previous page's `next_cursor`, for the page after it (older events).
    #[ts(type = "number | null")]
    pub before: Option<i64>,
}

/// The student an event is about, with the ID number masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditStudentView {
    pub student_id: String,
    pub name: String,
    pub student_no: String,
    pub id_number_masked: String,
}

/// One row of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditRowView {
    #[ts(type = "number")]
    pub seq: i64,
    /// Local time, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    /// `reviewer`, `supervisor`, `admin`, `student`, or empty for the system.
    pub actor_role: String,
    pub actor_id: String,
    /// The account's or the student's name, when the server knows it.
    pub actor_name: Option<String>,
    pub action: String,
    pub action_zh: String,
    pub action_en: String,
    pub school_id: Option<String>,
    pub student: Option<AuditStudentView>,
    /// The case's state before → after, in Chinese and English, when the event moved it.
    pub state_change_zh: Option<String>,
    pub state_change_en: Option<String>,
    pub subject: String,
    /// The account the event is about, by name (a sign-in, an account change).
    pub subject_name: Option<String>,
    /// The event's details as compact JSON.
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditPageView {
    pub rows: Vec<AuditRowView>,
    /// Pass back as `before` for the next (older) page.
    #[ts(type = "number")]
    pub next_cursor: i64,
    pub has_more: bool,
}

/// An action the history can be filtered by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditActionView {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
}

/// The result of checking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChainView {
    pub ok: bool,
    #[ts(type = "number")]
    pub checked: i64,
    /// The first broken link, when there is one.
    #[ts(type = "number | null")]
    pub broken_seq: Option<i64>,
    pub broken_zh: Option<String>,
    pub broken_en: Option<String>,
}

/// How far an export has come (sent as an event while it runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportProgressView {
    #[ts(type = "number")]
    pub written: u64,
    /// What the server announced; `null` when it did not.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
}

/// A finished export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportDoneView {
    pub path: String,
    #[ts(type = "number")]
    pub events: u64,
}

/// A check of an attempt that did not pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConcernView {
    /// `warn` or `fail`.
    pub verdict: String,
    pub label_zh: String,
    pub label_en: String,
}

/// One photo the student uploaded, in the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelineAttemptView {
    pub attempt_id: String,
    #[ts(type = "number")]
    pub round: i64,
    /// Local time.
    pub at: String,
    pub status: String,
    /// `pass`, `warn` or `fail`, once checked.
    pub overall: Option<String>,
    pub concerns: Vec<ConcernView>,
    pub face_same_person: Option<bool>,
    pub submitted: bool,
    /// Pass to `audit_photo` to show the standardized photo.
    pub photo_path: Option<String>,
}

/// A decision or an override, in the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelineDecisionView {
    /// `approve`, `reject`, `override_approve` or `override_reject`.
    pub kind: String,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub reviewer: String,
    #[ts(type = "number")]
    pub round: i64,
    /// Local time.
    pub at: String,
}

/// A student's whole history (supervisor mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelineView {
    pub case_id: String,
    pub state_zh: String,
    pub state_en: String,
    pub flagged: bool,
    pub student_id: String,
    pub name: String,
    pub student_no: String,
    pub id_number_masked: String,
    pub school: String,
    pub college: String,
    pub major: String,
    pub level: String,
    #[ts(type = "number")]
    pub graduation_year: i64,
    /// Oldest first.
    pub attempts: Vec<TimelineAttemptView>,
    /// Oldest first.
    pub decisions: Vec<TimelineDecisionView>,
    /// Every audit event of the case, oldest first.
    pub events: Vec<AuditRowView>,
}

// ---------------------------------------------------------------------------------------------
// Supervisor mode: statistics

/// One bar of a chart: what it counts, in both languages, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BarView {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    #[ts(type = "number")]
    pub value: i64,
}

/// A school an administrator manages (administrator mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AdminSchoolView {
    pub id: String,
    pub name: String,
}

/// One stage on the progress dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StageCountView {
    /// The stage's code (`paid`, `photo_taken`…), for the list behind the count.
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    #[ts(type = "number")]
    pub count: u64,
    /// Students at this stage still have something to do (a reminder list).
    pub to_act: bool,
}

/// A row of the progress dashboard: one college, major (with its college) or level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProgressRowView {
    /// Empty when the rows are not by college.
    pub college: String,
    /// Empty unless the rows are by major.
    pub major: String,
    /// Empty unless the rows are by level.
    pub level: String,
    /// Per stage, in the order of [`ProgressView::stages`].
    #[ts(type = "number[]")]
    pub counts: Vec<u64>,
    #[ts(type = "number")]
    pub total: u64,
}

/// The progress dashboard of one school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProgressView {
    pub school_id: String,
    pub school_name: String,
    /// `YYYY-MM-DD`, empty without one.
    pub deadline: String,
    #[ts(type = "number | null")]
    pub days_left: Option<i64>,
    pub deadline_zh: String,
    pub deadline_en: String,
    #[ts(type = "number")]
    pub total: u64,
    /// Students whose photo is submitted, in review or past it.
    #[ts(type = "number")]
    pub submitted: u64,
    pub stages: Vec<StageCountView>,
    pub rows: Vec<ProgressRowView>,
}

/// Which students a progress list shows; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProgressFilterView {
    pub stage: String,
    pub college: String,
    pub major: String,
    pub level: String,
    /// One student, by student number.
    #[serde(default)]
    pub student_no: String,
}

/// A student in a progress list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProgressStudentView {
    pub case_id: String,
    pub name: String,
    pub student_no: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub stage: String,
    pub stage_zh: String,
    pub stage_en: String,
    pub updated_at: String,
}

/// A page of a progress list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProgressStudentsView {
    #[ts(type = "number")]
    pub total: u64,
    pub students: Vec<ProgressStudentView>,
    /// Pass back for the next page; `null` on the last.
    pub next_after: Option<String>,
}

/// What issuing codes did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CodesIssuedView {
    /// Codes made now.
    #[ts(type = "number")]
    pub issued: u64,
    /// Students who already held a code, left as it was.
    #[ts(type = "number")]
    pub unchanged: u64,
    /// For one student: their link.
    pub link: Option<String>,
}

/// A file the workstation saved (a list, a sheet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SavedFileView {
    pub path: String,
    /// Rows (students) in it.
    #[ts(type = "number")]
    pub rows: u64,
}

/// A staff account as administrator mode lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StaffAccountView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// `reviewer`, `supervisor` or `admin`.
    pub role: String,
    pub role_zh: String,
    pub role_en: String,
    /// Empty when the account works for every school.
    pub school_id: String,
    pub disabled: bool,
}

/// A new password, shown once to hand over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PasswordResetView {
    pub username: String,
    pub password: String,
}

/// A choice of a fixed set, named in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChoiceView {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
}

/// A school's policy as the form edits it: text where people type, the fee in yuan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyFieldsView {
    /// The photo fee in yuan (`20`, `19.50`); `0` when the school pays.
    pub fee_yuan: String,
    pub retakes_free: bool,
    pub max_attempts_per_round: u32,
    pub album_allowed: bool,
    pub face_match_failures_before_flag: u32,
    pub check_failures_before_flag: u32,
    pub privacy_version: String,
    /// The school's privacy agreement; empty: the standard one.
    pub privacy_text_zh: String,
    pub privacy_text_en: String,
    pub support_phone: String,
    pub support_hours: String,
    pub retention_days: u32,
    pub review_sla_working_days: u32,
    /// One `YYYY-MM-DD` per line.
    pub holidays: String,
    pub rereview_percent: u32,
    pub override_needs_second_supervisor: bool,
    /// A code of [`PolicyView::backgrounds`].
    pub photo_background: String,
    pub photo_min_kb: u32,
    pub photo_max_kb: u32,
    /// `YYYY-MM-DD`, or empty.
    pub submission_deadline: String,
}

/// One earlier (or the current) version of a school's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyVersionLineView {
    #[ts(type = "number")]
    pub version: i64,
    pub changed_by: String,
    /// RFC 3339.
    pub changed_at: String,
}

/// A school's policy for the form, with its version and history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyView {
    pub school_id: String,
    pub school_name: String,
    #[ts(type = "number")]
    pub version: i64,
    pub fields: PolicyFieldsView,
    /// The background colours a school may choose.
    pub backgrounds: Vec<ChoiceView>,
    /// The newest first.
    pub versions: Vec<PolicyVersionLineView>,
}

/// The form sent back: the new policy, made on `on_version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SavePolicyRequest {
    pub school_id: String,
    #[ts(type = "number")]
    pub on_version: i64,
    pub fields: PolicyFieldsView,
}

/// The statistics' filters as the window sends them; empty text means "any" (the range
/// then defaults to the 30 days ending today).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StatsFilterView {
    /// First day, `YYYY-MM-DD` (China Standard Time), inclusive.
    pub from_day: String,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub to_day: String,
    /// A school id (supervisors bound to a school see only theirs).
    pub school: String,
    /// A college as the roster names it.
    pub college: String,
}

/// A reviewer's decisions over the statistics' period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReviewerStatsView {
    pub name: String,
    #[ts(type = "number")]
    pub approved: i64,
    #[ts(type = "number")]
    pub rejected: i64,
    /// Approved / decided, 0–1.
    pub approval_rate: f64,
    /// Median seconds from claiming an item to deciding it.
    #[ts(type = "number | null")]
    pub median_seconds: Option<i64>,
}

/// Decisions of every reviewer on one day (China Standard Time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DayStatsView {
    /// `YYYY-MM-DD`.
    pub day: String,
    #[ts(type = "number")]
    pub approved: i64,
    #[ts(type = "number")]
    pub rejected: i64,
}

/// Reviewer decisions that took `working_days` from submission to decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TurnaroundView {
    #[ts(type = "number")]
    pub working_days: i64,
    #[ts(type = "number")]
    pub within: i64,
    #[ts(type = "number")]
    pub late: i64,
}

/// Items waiting now, by age in working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BacklogView {
    /// `0`, `4–5`, `11+`…
    pub label: String,
    #[ts(type = "number")]
    pub count: i64,
    /// Of those, past the SLA.
    #[ts(type = "number")]
    pub overdue: i64,
}

/// A submission past its school's SLA, the student masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BreachView {
    pub case_id: String,
    /// `decided_late` or `pending_overdue`.
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub school_name: String,
    pub college: String,
    pub student: String,
    pub student_no: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub submitted: String,
    /// Local time of the decision; empty while waiting.
    pub decided: String,
    #[ts(type = "number")]
    pub working_days: i64,
    #[ts(type = "number")]
    pub sla_working_days: i64,
}

/// One measure of the hints, and how often reviewers approved a photo it doubted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MeasureOverruleView {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    #[ts(type = "number")]
    pub doubted: i64,
    #[ts(type = "number")]
    pub approved: i64,
    /// approved / doubted, 0–1.
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HintOverrulesView {
    #[ts(type = "number")]
    pub decisions: i64,
    #[ts(type = "number")]
    pub rejections: i64,
    #[ts(type = "number")]
    pub rejected_all_passed: i64,
    pub measures: Vec<MeasureOverruleView>,
}

/// One school's or one college's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GroupStatsView {
    pub key: String,
    pub name: String,
    pub school_id: String,
    #[ts(type = "number")]
    pub decisions: i64,
    pub approval_rate: f64,
    pub mean_turnaround: Option<f64>,
    #[ts(type = "number")]
    pub decided_late: i64,
    #[ts(type = "number")]
    pub pending_overdue: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsView {
    /// The range the figures cover, `YYYY-MM-DD`, inclusive.
    pub from_day: String,
    pub to_day: String,
    /// How many cases are at each stage, in the journey's order.
    pub states: Vec<BarView>,
    /// Most decisions first.
    pub reviewers: Vec<ReviewerStatsView>,
    /// Every day of the range, oldest first (days without decisions included).
    pub days: Vec<DayStatsView>,
    /// Most frequent first; reasons never used are left out.
    pub reject_reasons: Vec<BarView>,
    /// From 0 working days up to the longest turnaround, every step shown.
    pub turnaround: Vec<TurnaroundView>,
    #[ts(type = "number")]
    pub decided_within_sla: i64,
    #[ts(type = "number")]
    pub decided_late: i64,
    #[ts(type = "number")]
    pub pending_overdue: i64,
    pub breaches: Vec<BreachView>,
    #[ts(type = "number")]
    pub breaches_total: i64,
    pub backlog: Vec<BacklogView>,
    pub hints: HintOverrulesView,
    pub schools: Vec<GroupStatsView>,
    pub colleges: Vec<GroupStatsView>,
}

// ---------------------------------------------------------------------------------------------
// Supervisor mode: quality (re-review samples, overrides)

/// Which samples to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RereviewFilterView {
    /// Done samples (newest first) instead of open ones (oldest first).
    pub done: bool,
    /// Only one reviewer's samples (their user id).
    pub reviewer_id: Option<String>,
    /// Only disagreements (done samples).
    pub disagreements: bool,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A sampled decision. While `open`, nothing of the first decision is known here: the
/// supervisor decides blind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RereviewView {
    pub rereview_id: String,
    pub case_id: String,
    pub name: String,
    pub student_no: String,
    pub id_number_masked: String,
    /// Local time.
    pub sampled_at: String,
    pub open: bool,
    /// The photo that was decided, with its checks.
    pub attempt: TimelineAttemptView,
    pub reviewer: Option<String>,
    pub first: Option<TimelineDecisionView>,
    /// The supervisor's own look (`reviewer` names the supervisor).
    pub second: Option<TimelineDecisionView>,
    pub agrees: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RereviewPageView {
    pub items: Vec<RereviewView>,
    pub next_cursor: Option<String>,
}

/// How one reviewer's sampled decisions fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AgreementView {
    pub reviewer_id: String,
    pub reviewer: String,
    #[ts(type = "number")]
    pub sampled: i64,
    #[ts(type = "number")]
    pub rereviewed: i64,
    #[ts(type = "number")]
    pub disagreements: i64,
    /// Disagreements / re-reviewed, 0–1.
    pub disagreement_rate: f64,
}

/// An override waiting for (or answered by) a second supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OverrideRequestRowView {
    pub request_id: String,
    pub case_id: String,
    pub name: String,
    pub student_no: String,
    /// Approve (else reject with `reasons`).
    pub approve: bool,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    /// Why the supervisor overrides.
    pub override_comment: String,
    pub requested_by: String,
    /// Local time.
    pub requested_at: String,
    /// `pending`, `confirmed` or `declined`.
    pub status: String,
    pub answered_by: Option<String>,
    pub answer_comment: Option<String>,
    pub answered_at: Option<String>,
    /// Asked for by the signed-in supervisor, who cannot confirm it.
    pub mine: bool,
}

/// What an override did: applied (with the decision) or waiting for another supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OverrideResultView {
    pub applied: bool,
    pub decision: Option<TimelineDecisionView>,
    pub request: Option<OverrideRequestRowView>,
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn bindings_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/desk/src/lib/bindings")
    }

    fn export_all(dir: &Path) {
        ErrorView::export_all_to(dir).unwrap();
        StartupView::export_all_to(dir).unwrap();
        SignInRequest::export_all_to(dir).unwrap();
        QueueFilter::export_all_to(dir).unwrap();
        QueuePage::export_all_to(dir).unwrap();
        ItemView::export_all_to(dir).unwrap();
        HintsView::export_all_to(dir).unwrap();
        DecideRequest::export_all_to(dir).unwrap();
        DecideResult::export_all_to(dir).unwrap();
        ReasonView::export_all_to(dir).unwrap();
        ConflictView::export_all_to(dir).unwrap();
        SyncStatusView::export_all_to(dir).unwrap();
        ClaimResult::export_all_to(dir).unwrap();
        AuditFilterView::export_all_to(dir).unwrap();
        AuditPageView::export_all_to(dir).unwrap();
        AuditActionView::export_all_to(dir).unwrap();
        ChainView::export_all_to(dir).unwrap();
        ExportProgressView::export_all_to(dir).unwrap();
        ExportDoneView::export_all_to(dir).unwrap();
        StatsView::export_all_to(dir).unwrap();
        StatsFilterView::export_all_to(dir).unwrap();
        AdminSchoolView::export_all_to(dir).unwrap();
        StaffAccountView::export_all_to(dir).unwrap();
        ProgressView::export_all_to(dir).unwrap();
        ProgressFilterView::export_all_to(dir).unwrap();
        ProgressStudentsView::export_all_to(dir).unwrap();
        SavedFileView::export_all_to(dir).unwrap();
        CodesIssuedView::export_all_to(dir).unwrap();
        PasswordResetView::export_all_to(dir).unwrap();
        PolicyView::export_all_to(dir).unwrap();
        SavePolicyRequest::export_all_to(dir).unwrap();
        TimelineView::export_all_to(dir).unwrap();
        RereviewFilterView::export_all_to(dir).unwrap();
        RereviewPageView::export_all_to(dir).unwrap();
        AgreementView::export_all_to(dir).unwrap();
        OverrideResultView::export_all_to(dir).unwrap();
        GridView::export_all_to(dir).unwrap();
        GridApproveRequest::export_all_to(dir).unwrap();
        GridApproveResult::export_all_to(dir).unwrap();
    }

    /// The UI's TypeScript types are generated from these; `UPDATE_BINDINGS=1` rewrites them,
    /// otherwise the test fails when they drifted.
    #[test]
    fn typescript_bindings_are_current() {
        if std::env::var("UPDATE_BINDINGS").as_deref() == Ok("1") {
            export_all(&bindings_dir());
        }
        let fresh = tempfile::tempdir().unwrap();
        export_all(fresh.path());
        let mut names: Vec<_> = std::fs::read_dir(fresh.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert!(names.len() >= 25, "{names:?}");
        for name in names {
            let want = std::fs::read_to_string(fresh.path().join(&name)).unwrap();
            let have = std::fs::read_to_string(bindings_dir().join(&name)).unwrap_or_default();
            assert_eq!(
                have, want,
                "ui/desk/src/lib/bindings/{name:?} is stale: run with UPDATE_BINDINGS=1"
            );
        }
    }
}
