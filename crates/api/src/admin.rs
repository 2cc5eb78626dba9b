//! Administrator-facing types (roster checks and imports, invitations, accounts, policy).

use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::progress::Stage;
use gradphoto_domain::role::Role;
use gradphoto_domain::spec::PhotoSpec;
use serde::{Deserialize, Serialize};

/// The header of a file response (a sheet of codes, a list) naming how many students it holds.
pub const ITEMS_HEADER: &str = "x-gradphoto-items";

/// One bad roster row, with its line number in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRowProblem {
    pub line: u64,
    pub field: Option<String>,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterCheck {
    pub ok: bool,
    pub rows: usize,
    pub problems: Vec<RosterRowProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterImported {
    pub created: usize,
    pub updated: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteLink {
    pub name: String,
    pub student_no: String,
    pub school: String,
    pub link: String,
    pub new: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRequest {
    /// Only this student (otherwise every student of the school).
    #[serde(default)]
    pub student_no: Option<String>,
    /// School name; ignored for administrators bound to one school.
    #[serde(default)]
    pub school: Option<String>,
    /// Revoke current codes and issue new ones.
    #[serde(default)]
    pub reissue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserRequest {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub role: Role,
    /// Restrict the account to one school; ignored for administrators bound to one school.
    #[serde(default)]
    pub school_id: Option<String>,
}

/// `GET /api/admin/schools/{id}/policy`: a school's policy as it stands, with its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolPolicyView {
    pub school_id: String,
    pub school_name: String,
    pub version: i64,
    pub policy: SchoolPolicy,
    /// The school's photo spec as the policy makes it (`SchoolPolicy::photo_spec`).
    pub spec: PhotoSpec,
}

/// `PUT /api/admin/schools/{id}/policy`: the new policy, made on `on_version` (refused with
/// `policy_version_stale` when someone else changed the policy since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyUpdate {
    pub on_version: i64,
    pub policy: SchoolPolicy,
}

/// One version in `GET /api/admin/schools/{id}/policy/versions` (the newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersionView {
    pub version: i64,
    pub policy: SchoolPolicy,
    /// The account's display name, or the actor (`cli`, `system`) for changes made otherwise.
    pub changed_by: String,
    pub changed_at_ms: i64,
}

/// `GET /api/admin/schools`: the schools an administrator manages (every school for one bound
/// to none, a vendor serving several; their own otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSchool {
    pub id: String,
    pub name: String,
    pub policy_version: i64,
}

/// A staff account as `GET /api/admin/users` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The school the account is bound to (`None`: every school).
    pub school_id: Option<String>,
    pub disabled: bool,
}

/// `POST /api/admin/users/{user_id}`: what to change of an account (absent: unchanged).
/// Disabling ends the account's sessions at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// `POST /api/admin/users/{user_id}/password`: a new password, shown once, to hand over; the
/// account's sessions end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub username: String,
    pub password: String,
}

/// `POST /api/admin/cases/{case_id}/unbind`: the student's code is free again; the next browser
/// to open it claims it (for a student who lost theirs), and the old browser's session ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeUnbound {
    pub case_id: String,
    /// Whether a browser held the code (an unclaimed code stays as it was).
    pub was_bound: bool,
}

/// One stage of the collection and how many students are at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCount {
    pub stage: Stage,
    pub label_zh: String,
    pub label_en: String,
    pub count: u64,
    /// Whether students at this stage still have to act (the reminder lists).
    pub student_to_act: bool,
}

/// Students of one college, major and level, counted per stage in the order of
/// [`SchoolProgress::stages`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressGroup {
    pub college: String,
    pub major: String,
    pub level: String,
    pub counts: Vec<u64>,
}

/// `GET /api/admin/schools/{school_id}/progress`: where every student of a school stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolProgress {
    pub school_id: String,
    pub school_name: String,
    /// `YYYY-MM-DD`, empty when the school set none.
    pub submission_deadline: String,
    /// Calendar days to the deadline (China time): 0 on the day, negative once passed.
    pub days_left: Option<i64>,
    pub total: u64,
    /// Every stage in the journey's order, with the school's totals.
    pub stages: Vec<StageCount>,
    /// One row per college, major and level present on the roster.
    pub groups: Vec<ProgressGroup>,
}

/// `GET …/progress/students` and `…/progress/students.csv`: which students to list. Absent
/// fields do not filter; `stage` is a [`Stage`] code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub college: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// One student, by student number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_no: Option<String>,
    /// The last student number of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A student in a progress list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressStudent {
    pub case_id: String,
    pub name: String,
    pub student_no: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub stage: Stage,
    pub stage_zh: String,
    pub stage_en: String,
    pub updated_at_ms: i64,
}

/// A page of a progress list, by student number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressPage {
    /// Every student matching the filters (not only this page).
    pub total: u64,
    pub students: Vec<ProgressStudent>,
    /// Pass as `after` for the next page; `None` on the last.
    pub next_after: Option<String>,
}

/// `POST /api/admin/schools/{school_id}/codes`: codes for every student of the school who has
/// none, or, with `student_no`, for that student; `reissue` (one student only) revokes the
/// current code first, ending every session opened with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodesIssueRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_no: Option<String>,
    #[serde(default)]
    pub reissue: bool,
}

/// What an issue did: codes made now, and students who already held one (left as it was).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodesIssued {
    pub issued: u64,
    pub unchanged: u64,
    /// With `student_no`: that student's link (to hand over or print).
    pub link: Option<String>,
}
