//! Who may read what of a case. The sensitive parts — the full ID number, the ID-card images,
//! the original photo and the enrollment photo — are read by a reviewer only while they hold
//! the case's lease (they are working on it), and by a supervisor otherwise only with a reason,
//! which the audit log keeps. The rest of a case is visible to reviewers once it has been
//! submitted for review.

use crate::role::Role;
use crate::state::CaseState;
use crate::Localized;

/// Why a sensitive read is allowed; recorded with the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis<'a> {
    /// The reader holds the case's live lease.
    Lease,
    /// A supervisor outside a lease, for this stated reason.
    SupervisorReason(&'a str),
}

impl Basis<'_> {
    pub fn as_str(&self) -> &'static str {
        match self {
            Basis::Lease => "lease",
            Basis::SupervisorReason(_) => "supervisor_reason",
        }
    }
}

/// A sensitive read refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("the reader does not hold the case's lease")]
    LeaseRequired,
    #[error("a supervisor's read outside a lease needs a reason")]
    ReasonRequired,
}

impl Localized for AccessError {
    fn code(&self) -> &'static str {
        match self {
            AccessError::LeaseRequired => "lease_required",
            AccessError::ReasonRequired => "reason_required",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            AccessError::LeaseRequired => {
                "只有在您领取该照片审核期间，才能查看身份证号、身份证照片和原始照片。".into()
            }
            AccessError::ReasonRequired => {
                "主管在未领取的情况下查看敏感信息，须填写理由（将记入审计日志）。".into()
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            AccessError::LeaseRequired => {
                "The ID number, ID-card images and original photo can be viewed only while you hold the item for review.".into()
            }
            AccessError::ReasonRequired => {
                "A supervisor viewing sensitive data outside a lease must give a reason (kept in the audit log).".into()
            }
        }
    }
}

/// Whether `role` may read a case's sensitive parts now. `holds_lease`: the reader holds the
/// case's live lease. `reason`: what a supervisor states (blank counts as none).
pub fn sensitive_read(
    role: Role,
    holds_lease: bool,
    reason: Option<&str>,
) -> Result<Basis<'_>, AccessError> {
    if holds_lease && role.can_review() {
        return Ok(Basis::Lease);
    }
    match (role, reason.map(str::trim).filter(|r| !r.is_empty())) {
        (Role::Supervisor, Some(reason)) => Ok(Basis::SupervisorReason(reason)),
        (Role::Supervisor, None) => Err(AccessError::ReasonRequired),
        _ => Err(AccessError::LeaseRequired),
    }
}

/// Whether reviewers see a case in this state at all: once it has been submitted for review.
/// Before that (and after a withdrawal) it is the student's alone.
pub fn visible_to_reviewers(state: CaseState) -> bool {
    matches!(
        state,
        CaseState::PendingReview
            | CaseState::InReview
            | CaseState::Rejected
            | CaseState::Approved
            | CaseState::Exported
            | CaseState::Published
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reviewers_read_sensitive_data_only_under_their_lease() {
        assert_eq!(sensitive_read(Role::Reviewer, true, None), Ok(Basis::Lease));
        assert_eq!(
            sensitive_read(Role::Reviewer, false, Some("just curious")),
            Err(AccessError::LeaseRequired)
        );
        assert_eq!(
            sensitive_read(Role::Admin, true, Some("x")),
            Err(AccessError::LeaseRequired)
        );
    }

    #[test]
    fn supervisors_outside_a_lease_state_a_reason() {
        assert_eq!(
            sensitive_read(Role::Supervisor, false, Some("  ")),
            Err(AccessError::ReasonRequired)
        );
        assert_eq!(
            sensitive_read(Role::Supervisor, false, Some(" 申诉复核 ")),
            Ok(Basis::SupervisorReason("申诉复核"))
        );
        assert_eq!(
            sensitive_read(Role::Supervisor, true, None),
            Ok(Basis::Lease)
        );
    }

    #[test]
    fn cases_not_yet_submitted_are_the_students_alone() {
        assert!(!visible_to_reviewers(CaseState::Ready));
        assert!(!visible_to_reviewers(CaseState::Claimed));
        assert!(visible_to_reviewers(CaseState::PendingReview));
        assert!(visible_to_reviewers(CaseState::Approved));
    }
}
