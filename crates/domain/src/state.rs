//! The student case state machine: one case per roster record, from the personal code being
//! claimed to the photo being published in the registry.
//!
//! Leases are stored beside the state by the caller: after a transition into
//! [`CaseState::InReview`] the lease is `(reviewer, lease_until)` of the
//! [`Event::ClaimForReview`]; in every other state there is no lease.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::SchoolPolicy;
use crate::reasons::{RejectReason, Rejection, RejectionError};
use crate::role::Role;
use crate::Localized;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// A code was issued; nobody has opened it yet.
    Invited,
    /// A browser session claimed the code.
    Claimed,
    IdentityVerified,
    /// The student confirmed the enrollment record; awaiting payment.
    RecordConfirmed,
    /// Paid (or free): the student may capture and upload attempts.
    Ready,
    /// Submitted, not claimed by a reviewer (审核中).
    PendingReview,
    /// A reviewer holds a lease (shown to the student as 审核中 too).
    InReview,
    Rejected,
    Approved,
    Exported,
    Published,
}

impl CaseState {
    pub const ALL: [CaseState; 11] = [
        CaseState::Invited,
        CaseState::Claimed,
        CaseState::IdentityVerified,
        CaseState::RecordConfirmed,
        CaseState::Ready,
        CaseState::PendingReview,
        CaseState::InReview,
        CaseState::Rejected,
        CaseState::Approved,
        CaseState::Exported,
        CaseState::Published,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Invited => "invited",
            CaseState::Claimed => "claimed",
            CaseState::IdentityVerified => "identity_verified",
            CaseState::RecordConfirmed => "record_confirmed",
            CaseState::Ready => "ready",
            CaseState::PendingReview => "pending_review",
            CaseState::InReview => "in_review",
            CaseState::Rejected => "rejected",
            CaseState::Approved => "approved",
            CaseState::Exported => "exported",
            CaseState::Published => "published",
        }
    }

    /// Student-facing label; both review states read 审核中.
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::Invited => "未开始",
            CaseState::Claimed => "待身份核验",
            CaseState::IdentityVerified => "待确认学籍",
            CaseState::RecordConfirmed => "待支付",
            CaseState::Ready => "待采集",
            CaseState::PendingReview | CaseState::InReview => "审核中",
            CaseState::Rejected => "未通过",
            CaseState::Approved => "已通过",
            CaseState::Exported => "已导出",
            CaseState::Published => "上网成功",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CaseState::Invited => "Not started",
            CaseState::Claimed => "Identity check pending",
            CaseState::IdentityVerified => "Confirm enrollment record",
            CaseState::RecordConfirmed => "Awaiting payment",
            CaseState::Ready => "Ready to take photo",
            CaseState::PendingReview | CaseState::InReview => "Under review",
            CaseState::Rejected => "Not approved",
            CaseState::Approved => "Approved",
            CaseState::Exported => "Exported",
            CaseState::Published => "Published to registry",
        }
    }

    /// Once approved the student can change nothing.
    pub fn is_terminal_for_student(self) -> bool {
        matches!(
            self,
            CaseState::Approved | CaseState::Exported | CaseState::Published
        )
    }

    /// The state as it stands at `now`: an in-review case whose lease has expired (or is
    /// missing) is back in the queue.
    pub fn effective(self, now: DateTime<Utc>, lease: Option<&Lease>) -> CaseState {
        match (self, lease) {
            (CaseState::InReview, Some(l)) if l.is_live(now) => CaseState::InReview,
            (CaseState::InReview, _) => CaseState::PendingReview,
            (s, _) => s,
        }
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reviewer's claim on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// User id of the reviewer.
    pub holder: String,
    pub until: DateTime<Utc>,
}

impl Lease {
    /// Live strictly before `until`: at `until` the lease has expired.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }
}

/// A supervisor's override decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum OverrideDecision {
    Approve,
    Reject {
        reasons: Vec<RejectReason>,
        #[serde(default)]
        comment: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    ClaimCode,
    VerifyIdentity,
    ConfirmRecord,
    /// Payment completed (the `waived` provider completes immediately for free schools).
    Pay,
    /// `flagged`: submitted anyway after repeated failed face comparisons or soft photo
    /// checks (see [`crate::gate::submit_decision`]).
    Submit {
        flagged: bool,
    },
    Withdraw,
    /// Claims a case for review, or renews the claimant's own lease.
    ClaimForReview {
        reviewer: String,
        lease_until: DateTime<Utc>,
    },
    ReleaseLease {
        by: String,
    },
    /// Housekeeping: an in-review case whose lease ran out returns to the queue.
    ExpireLease,
    Approve {
        by: String,
    },
    Reject {
        by: String,
        reasons: Vec<RejectReason>,
        #[serde(default)]
        comment: Option<String>,
    },
    /// The student starts again after a rejection.
    Retake,
    Override {
        by: String,
        decision: OverrideDecision,
    },
    Export,
    Publish,
}

/// An [`Event`] without its data, for errors and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ClaimCode,
    VerifyIdentity,
    ConfirmRecord,
    Pay,
    Submit,
    Withdraw,
    ClaimForReview,
    ReleaseLease,
    ExpireLease,
    Approve,
    Reject,
    Retake,
    Override,
    Export,
    Publish,
}

impl EventKind {
    pub const ALL: [EventKind; 15] = [
        EventKind::ClaimCode,
        EventKind::VerifyIdentity,
        EventKind::ConfirmRecord,
        EventKind::Pay,
        EventKind::Submit,
        EventKind::Withdraw,
        EventKind::ClaimForReview,
        EventKind::ReleaseLease,
        EventKind::ExpireLease,
        EventKind::Approve,
        EventKind::Reject,
        EventKind::Retake,
        EventKind::Override,
        EventKind::Export,
        EventKind::Publish,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ClaimCode => "claim_code",
            EventKind::VerifyIdentity => "verify_identity",
            EventKind::ConfirmRecord => "confirm_record",
            EventKind::Pay => "pay",
            EventKind::Submit => "submit",
            EventKind::Withdraw => "withdraw",
            EventKind::ClaimForReview => "claim_for_review",
            EventKind::ReleaseLease => "release_lease",
            EventKind::ExpireLease => "expire_lease",
            EventKind::Approve => "approve",
            EventKind::Reject => "reject",
            EventKind::Retake => "retake",
            EventKind::Override => "override",
            EventKind::Export => "export",
            EventKind::Publish => "publish",
        }
    }

    fn label_zh(self) -> &'static str {
        match self {
            EventKind::ClaimCode => "领取采集码",
            EventKind::VerifyIdentity => "身份核验",
            EventKind::ConfirmRecord => "确认学籍",
            EventKind::Pay => "支付",
            EventKind::Submit => "提交审核",
            EventKind::Withdraw => "撤回提交",
            EventKind::ClaimForReview => "领取审核任务",
            EventKind::ReleaseLease => "释放审核任务",
            EventKind::ExpireLease => "审核任务超时",
            EventKind::Approve => "审核通过",
            EventKind::Reject => "审核退回",
            EventKind::Retake => "重新拍摄",
            EventKind::Override => "主管改判",
            EventKind::Export => "导出",
            EventKind::Publish => "上网",
        }
    }

    /// Events a student causes on their own case; none is possible after approval.
    pub fn is_student_action(self) -> bool {
        matches!(
            self,
            EventKind::ClaimCode
                | EventKind::VerifyIdentity
                | EventKind::ConfirmRecord
                | EventKind::Pay
                | EventKind::Submit
                | EventKind::Withdraw
                | EventKind::Retake
        )
    }

    /// Roles that may cause this event. Payment completion may also be recorded by an
    /// administrator (e.g. paid at the school's counter).
    pub fn permitted_roles(self) -> &'static [Role] {
        match self {
            EventKind::ClaimCode
            | EventKind::VerifyIdentity
            | EventKind::ConfirmRecord
            | EventKind::Submit
            | EventKind::Withdraw
            | EventKind::Retake => &[Role::Student],
            EventKind::Pay => &[Role::Student, Role::Admin],
            EventKind::ClaimForReview
            | EventKind::ReleaseLease
            | EventKind::Approve
            | EventKind::Reject => &[Role::Reviewer, Role::Supervisor],
            EventKind::ExpireLease => &Role::ALL,
            EventKind::Override => &[Role::Supervisor],
            EventKind::Export | EventKind::Publish => &[Role::Admin],
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::ClaimCode => EventKind::ClaimCode,
            Event::VerifyIdentity => EventKind::VerifyIdentity,
            Event::ConfirmRecord => EventKind::ConfirmRecord,
            Event::Pay => EventKind::Pay,
            Event::Submit { .. } => EventKind::Submit,
            Event::Withdraw => EventKind::Withdraw,
            Event::ClaimForReview { .. } => EventKind::ClaimForReview,
            Event::ReleaseLease { .. } => EventKind::ReleaseLease,
            Event::ExpireLease => EventKind::ExpireLease,
            Event::Approve { .. } => EventKind::Approve,
            Event::Reject { .. } => EventKind::Reject,
            Event::Retake => EventKind::Retake,
            Event::Override { .. } => EventKind::Override,
            Event::Export => EventKind::Export,
            Event::Publish => EventKind::Publish,
        }
    }
}

/// Everything outside the case itself that a transition depends on.
#[derive(Debug, Clone, Copy)]
pub struct TransitionContext<'a> {
    pub now: DateTime<Utc>,
    pub actor: Role,
    /// The case's current lease, if any.
    pub lease: Option<&'a Lease>,
    pub policy: &'a SchoolPolicy,
    /// The student owes nothing for this retake although retakes are not free: they paid for
    /// it already, or the rejection overturned an approval (see [`retake_owed_by_school`]).
    pub paid_for_retake: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{event} is not allowed in state {from}")]
    NotAllowedInState { from: CaseState, event: EventKind },
    #[error("role {role} may not {event}")]
    RoleNotPermitted { role: Role, event: EventKind },
    #[error("case is claimed by {holder} until {until}")]
    LeaseHeldByOther {
        holder: String,
        until: DateTime<Utc>,
    },
    #[error("the review lease has expired")]
    LeaseExpired,
    #[error("only the lease holder {holder} may decide")]
    NotLeaseHolder { holder: String },
    #[error("lease end {until} is not in the future")]
    LeaseUntilInPast { until: DateTime<Utc> },
    #[error("the case is approved; nothing can be changed")]
    LockedAfterApproval,
    #[error("the photo has already been exported")]
    AlreadyExported,
    #[error("a rejection needs at least one reason")]
    ReasonsRequired,
    #[error("reason 'other' needs a comment")]
    CommentRequired,
}

impl Localized for TransitionError {
    fn code(&self) -> &'static str {
        match self {
            TransitionError::NotAllowedInState { .. } => "not_allowed_in_state",
            TransitionError::RoleNotPermitted { .. } => "role_not_permitted",
            TransitionError::LeaseHeldByOther { .. } => "lease_held_by_other",
            TransitionError::LeaseExpired => "lease_expired",
            TransitionError::NotLeaseHolder { .. } => "not_lease_holder",
            TransitionError::LeaseUntilInPast { .. } => "lease_until_in_past",
            TransitionError::LockedAfterApproval => "locked_after_approval",
            TransitionError::AlreadyExported => "already_exported",
            TransitionError::ReasonsRequired => "reasons_required",
            TransitionError::CommentRequired => "comment_required",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            TransitionError::NotAllowedInState { from, event } => format!(
                "当前状态为“{}”，不能进行“{}”操作。请刷新页面查看最新状态。",
                from.label_zh(),
                event.label_zh()
            ),
            TransitionError::RoleNotPermitted { role, event } => format!(
                "{}账号无权进行“{}”操作。",
                role.label_zh(),
                event.label_zh()
            ),
            TransitionError::LeaseHeldByOther { holder, until } => format!(
                "该照片正由审核员 {holder} 审核（至 {} UTC），请选择其他照片。",
                until.format("%H:%M")
            ),
            TransitionError::LeaseExpired => {
                "审核任务已超时并退回队列，请重新领取后再作决定。".to_string()
            }
            TransitionError::NotLeaseHolder { holder } => {
                format!("该照片已由审核员 {holder} 领取，只有领取人可以作出审核决定。")
            }
            TransitionError::LeaseUntilInPast { .. } => {
                "审核任务的截止时间必须晚于当前时间。".to_string()
            }
            TransitionError::LockedAfterApproval => {
                "照片已审核通过，不能再修改。如有问题，请联系学校。".to_string()
            }
            TransitionError::AlreadyExported => "照片已导出报送，不能再更改审核结果。".to_string(),
            TransitionError::ReasonsRequired => RejectionError::ReasonsRequired.message_zh(),
            TransitionError::CommentRequired => RejectionError::CommentRequired.message_zh(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            TransitionError::NotAllowedInState { from, event } => format!(
                "\"{event}\" is not possible while the case is \"{}\". Refresh to see the current status.",
                from.label_en()
            ),
            TransitionError::RoleNotPermitted { role, event } => {
                format!("A {} account may not perform \"{event}\".", role.label_en())
            }
            TransitionError::LeaseHeldByOther { holder, until } => format!(
                "Reviewer {holder} is reviewing this photo until {} UTC; pick another one.",
                until.format("%H:%M")
            ),
            TransitionError::LeaseExpired => {
                "Your review claim expired and the photo went back to the queue; claim it again before deciding.".to_string()
            }
            TransitionError::NotLeaseHolder { holder } => {
                format!("Reviewer {holder} holds this photo; only the holder can decide.")
            }
            TransitionError::LeaseUntilInPast { .. } => {
                "The review claim must end in the future.".to_string()
            }
            TransitionError::LockedAfterApproval => {
                "The photo has been approved and can no longer be changed. Contact the school if something is wrong.".to_string()
            }
            TransitionError::AlreadyExported => {
                "The photo has been exported; the decision can no longer be changed.".to_string()
            }
            TransitionError::ReasonsRequired => RejectionError::ReasonsRequired.message_en(),
            TransitionError::CommentRequired => RejectionError::CommentRequired.message_en(),
        }
    }
}

fn check_reasons(reasons: &[RejectReason], comment: Option<&str>) -> Result<(), TransitionError> {
    match Rejection::new(reasons.to_vec(), comment) {
        Ok(_) => Ok(()),
        Err(RejectionError::CommentRequired) => Err(TransitionError::CommentRequired),
        // Parsed reasons cannot be unknown; an empty list is the only other failure.
        Err(_) => Err(TransitionError::ReasonsRequired),
    }
}

/// Only the holder of a live lease may act on an in-review case.
fn require_holder(
    by: &str,
    lease: Option<&Lease>,
    now: DateTime<Utc>,
) -> Result<(), TransitionError> {
    match lease {
        Some(l) if !l.is_live(now) => Err(TransitionError::LeaseExpired),
        None => Err(TransitionError::LeaseExpired),
        Some(l) if l.holder != by => Err(TransitionError::NotLeaseHolder {
            holder: l.holder.clone(),
        }),
        Some(_) => Ok(()),
    }
}

/// Applies `event` to a case in `state`. Checks, in order: the state allows the event at all
/// (with the specific errors for approved/exported cases), the actor's role, then lease and
/// decision rules.
pub fn transition(
    state: CaseState,
    event: &Event,
    ctx: &TransitionContext<'_>,
) -> Result<CaseState, TransitionError> {
    use CaseState as S;
    let kind = event.kind();
    let now = ctx.now;
    let effective = state.effective(now, ctx.lease);
    let not_allowed = || TransitionError::NotAllowedInState {
        from: effective,
        event: kind,
    };

    // Which state the event leads to, if the state allows it at all.
    let next = match (effective, event) {
        (S::Invited, Event::ClaimCode) => S::Claimed,
        (S::Claimed, Event::VerifyIdentity) => S::IdentityVerified,
        (S::IdentityVerified, Event::ConfirmRecord) => S::RecordConfirmed,
        (S::RecordConfirmed, Event::Pay) => S::Ready,
        (S::Ready, Event::Submit { .. }) => S::PendingReview,
        (S::PendingReview, Event::Withdraw) => S::Ready,
        (S::PendingReview | S::InReview, Event::ClaimForReview { .. }) => S::InReview,
        (S::InReview, Event::ReleaseLease { .. }) => S::PendingReview,
        (S::InReview, Event::Approve { .. }) => S::Approved,
        (S::InReview, Event::Reject { .. }) => S::Rejected,
        (S::Rejected, Event::Retake) => {
            if ctx.policy.retakes_free || ctx.paid_for_retake {
                S::Ready
            } else {
                S::RecordConfirmed
            }
        }
        (
            S::PendingReview | S::InReview | S::Rejected | S::Approved,
            Event::Override { decision, .. },
        ) => match decision {
            OverrideDecision::Approve => S::Approved,
            OverrideDecision::Reject { .. } => S::Rejected,
        },
        (S::Approved, Event::Export) => S::Exported,
        (S::Exported, Event::Publish) => S::Published,
        // The raw state matters here: an expired lease is what this event cleans up.
        (S::PendingReview, Event::ExpireLease) if state == S::InReview => S::PendingReview,
        // Acting on an expired lease: say so rather than "not allowed".
        (
            S::PendingReview,
            Event::Approve { .. } | Event::Reject { .. } | Event::ReleaseLease { .. },
        ) if state == S::InReview => return Err(TransitionError::LeaseExpired),
        (S::Exported | S::Published, Event::Override { .. } | Event::Export) => {
            return Err(TransitionError::AlreadyExported)
        }
        (S::Approved | S::Exported | S::Published, _) if kind.is_student_action() => {
            return Err(TransitionError::LockedAfterApproval)
        }
        _ => return Err(not_allowed()),
    };

    if !kind.permitted_roles().contains(&ctx.actor) {
        return Err(TransitionError::RoleNotPermitted {
            role: ctx.actor,
            event: kind,
        });
    }

    match event {
        Event::ClaimForReview {
            reviewer,
            lease_until,
        } => {
            if *lease_until <= now {
                return Err(TransitionError::LeaseUntilInPast {
                    until: *lease_until,
                });
            }
            if effective == S::InReview {
                if let Some(l) = ctx.lease {
                    if &l.holder != reviewer {
                        return Err(TransitionError::LeaseHeldByOther {
                            holder: l.holder.clone(),
                            until: l.until,
                        });
                    }
                }
            }
        }
        Event::ReleaseLease { by } | Event::Approve { by } => require_holder(by, ctx.lease, now)?,
        Event::Reject {
            by,
            reasons,
            comment,
        } => {
            require_holder(by, ctx.lease, now)?;
            check_reasons(reasons, comment.as_deref())?;
        }
        Event::Override {
            decision: OverrideDecision::Reject { reasons, comment },
            ..
        } => check_reasons(reasons, comment.as_deref())?,
        _ => {}
    }
    Ok(next)
}

/// Whether the school owes the student a retake without a new payment: a supervisor rejected,
/// in the same round, a photo that had been approved. The student did nothing wrong by
/// submitting it, so they do not pay again for the retake.
pub fn retake_owed_by_school(decisions_this_round: &[DecisionStep]) -> bool {
    let mut approved = false;
    let mut owed = false;
    for step in decisions_this_round {
        match step {
            DecisionStep::Approved => {
                approved = true;
                owed = false;
            }
            DecisionStep::Rejected => owed = false,
            DecisionStep::OverrideRejected => owed = approved,
        }
    }
    owed
}

/// A decision of one round, as far as what a retake costs is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionStep {
    /// Approved by a reviewer or by an override.
    Approved,
    /// Rejected by a reviewer.
    Rejected,
    /// Rejected by a supervisor's override.
    OverrideRejected,
}

/// Whether the student may submit, given the face comparisons so far this round. The face
/// comparison's part of [`crate::gate::submit_decision`], which also weighs the photo checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmitGate {
    Allowed,
    /// Repeated failed comparisons: submission allowed, the reviewer sees a flag.
    AllowedWithFlag,
    /// The last comparison failed; retake the photo (or keep failing to reach the flag path).
    MustRetake,
}

pub fn submit_gate(
    face_match_failures: u32,
    last_match_passed: bool,
    policy: &SchoolPolicy,
) -> SubmitGate {
    if last_match_passed {
        SubmitGate::Allowed
    } else if face_match_failures >= policy.face_match_failures_before_flag {
        SubmitGate::AllowedWithFlag
    } else {
        SubmitGate::MustRetake
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 20, 9, 0, 0).unwrap()
    }

    fn live(holder: &str) -> Lease {
        Lease {
            holder: holder.into(),
            until: now() + Duration::minutes(15),
        }
    }

    fn expired(holder: &str) -> Lease {
        Lease {
            holder: holder.into(),
            until: now() - Duration::seconds(1),
        }
    }

    fn ctx<'a>(
        actor: Role,
        lease: Option<&'a Lease>,
        policy: &'a SchoolPolicy,
    ) -> TransitionContext<'a> {
        TransitionContext {
            now: now(),
            actor,
            lease,
            policy,
            paid_for_retake: false,
        }
    }

    fn run(
        state: CaseState,
        event: &Event,
        actor: Role,
        lease: Option<&Lease>,
    ) -> Result<CaseState, TransitionError> {
        let policy = SchoolPolicy::default();
        transition(state, event, &ctx(actor, lease, &policy))
    }

    /// One representative event per kind, acting as reviewer `r1`.
    fn sample(kind: EventKind) -> Event {
        match kind {
            EventKind::ClaimCode => Event::ClaimCode,
            EventKind::VerifyIdentity => Event::VerifyIdentity,
            EventKind::ConfirmRecord => Event::ConfirmRecord,
            EventKind::Pay => Event::Pay,
            EventKind::Submit => Event::Submit { flagged: false },
            EventKind::Withdraw => Event::Withdraw,
            EventKind::ClaimForReview => Event::ClaimForReview {
                reviewer: "r1".into(),
                lease_until: now() + Duration::minutes(15),
            },
            EventKind::ReleaseLease => Event::ReleaseLease { by: "r1".into() },
            EventKind::ExpireLease => Event::ExpireLease,
            EventKind::Approve => Event::Approve { by: "r1".into() },
            EventKind::Reject => Event::Reject {
                by: "r1".into(),
                reasons: vec![RejectReason::Background],
                comment: None,
            },
            EventKind::Retake => Event::Retake,
            EventKind::Override => Event::Override {
                by: "s1".into(),
                decision: OverrideDecision::Approve,
            },
            EventKind::Export => Event::Export,
            EventKind::Publish => Event::Publish,
        }
    }

    use CaseState as S;
    use EventKind as K;

    /// Every legal (state, event) with a live lease held by r1 in in_review, and the result.
    const LEGAL: [(CaseState, EventKind, CaseState); 19] = [
        (S::Invited, K::ClaimCode, S::Claimed),
        (S::Claimed, K::VerifyIdentity, S::IdentityVerified),
        (S::IdentityVerified, K::ConfirmRecord, S::RecordConfirmed),
        (S::RecordConfirmed, K::Pay, S::Ready),
        (S::Ready, K::Submit, S::PendingReview),
        (S::PendingReview, K::Withdraw, S::Ready),
        (S::PendingReview, K::ClaimForReview, S::InReview),
        (S::InReview, K::ClaimForReview, S::InReview),
        (S::InReview, K::ReleaseLease, S::PendingReview),
        (S::InReview, K::Approve, S::Approved),
        (S::InReview, K::Reject, S::Rejected),
        (S::Rejected, K::Retake, S::Ready),
        (S::PendingReview, K::Override, S::Approved),
        (S::InReview, K::Override, S::Approved),
        (S::Rejected, K::Override, S::Approved),
        (S::Approved, K::Override, S::Approved),
        (S::Approved, K::Export, S::Exported),
        (S::Exported, K::Publish, S::Published),
        // Listed so the table test can skip it: it needs an expired lease (tested below).
        (S::InReview, K::ExpireLease, S::PendingReview),
    ];

    #[test]
    fn every_legal_transition() {
        let lease = live("r1");
        for (from, kind, to) in LEGAL.into_iter().filter(|(_, k, _)| *k != K::ExpireLease) {
            for &role in kind.permitted_roles() {
                let l = (from == S::InReview).then_some(&lease);
                assert_eq!(
                    run(from, &sample(kind), role, l),
                    Ok(to),
                    "{from} {kind} as {role}"
                );
            }
        }
    }

    #[test]
    fn every_other_pair_is_rejected_with_a_typed_error() {
        let lease = live("r1");
        let legal = |s: CaseState, k: EventKind| LEGAL.iter().any(|(f, e, _)| *f == s && *e == k);
        for state in CaseState::ALL {
            for kind in EventKind::ALL {
                let l = (state == S::InReview).then_some(&lease);
                for role in Role::ALL {
                    let result = run(state, &sample(kind), role, l);
                    let permitted = kind.permitted_roles().contains(&role);
                    if legal(state, kind) && kind != K::ExpireLease {
                        if permitted {
                            assert!(result.is_ok(), "{state} {kind} {role}: {result:?}");
                        } else {
                            assert_eq!(
                                result,
                                Err(TransitionError::RoleNotPermitted { role, event: kind })
                            );
                        }
                        continue;
                    }
                    let err = result.expect_err(&format!("{state} {kind} {role} must fail"));
                    let expected = if kind.is_student_action() && state.is_terminal_for_student() {
                        TransitionError::LockedAfterApproval
                    } else if matches!(state, S::Exported | S::Published)
                        && matches!(kind, K::Override | K::Export)
                    {
                        TransitionError::AlreadyExported
                    } else {
                        TransitionError::NotAllowedInState {
                            from: state,
                            event: kind,
                        }
                    };
                    assert_eq!(err, expected, "{state} {kind} {role}");
                    assert!(!err.message_zh().is_empty() && !err.message_en().is_empty());
                }
            }
        }
    }

    #[test]
    fn expired_lease_means_back_in_queue() {
        let old = expired("r1");
        assert_eq!(S::InReview.effective(now(), Some(&old)), S::PendingReview);
        assert_eq!(S::InReview.effective(now(), None), S::PendingReview);
        assert_eq!(S::InReview.effective(now(), Some(&live("r1"))), S::InReview);
        // At exactly `until` the lease is over.
        let edge = Lease {
            holder: "r1".into(),
            until: now(),
        };
        assert_eq!(S::InReview.effective(now(), Some(&edge)), S::PendingReview);
        assert_eq!(S::Rejected.effective(now(), Some(&old)), S::Rejected);

        assert_eq!(
            run(S::InReview, &Event::ExpireLease, Role::Reviewer, Some(&old)),
            Ok(S::PendingReview)
        );
        // The student may withdraw once the reviewer's lease has run out...
        assert_eq!(
            run(S::InReview, &Event::Withdraw, Role::Student, Some(&old)),
            Ok(S::Ready)
        );
        // ...but not while it is live.
        assert_eq!(
            run(
                S::InReview,
                &Event::Withdraw,
                Role::Student,
                Some(&live("r1"))
            ),
            Err(TransitionError::NotAllowedInState {
                from: S::InReview,
                event: K::Withdraw
            })
        );
        // The former holder can no longer decide.
        assert_eq!(
            run(S::InReview, &sample(K::Approve), Role::Reviewer, Some(&old)),
            Err(TransitionError::LeaseExpired)
        );
        assert_eq!(
            run(S::InReview, &sample(K::Reject), Role::Reviewer, None),
            Err(TransitionError::LeaseExpired)
        );
        assert_eq!(
            run(
                S::InReview,
                &sample(K::ReleaseLease),
                Role::Reviewer,
                Some(&old)
            ),
            Err(TransitionError::LeaseExpired)
        );
        // Another reviewer may take it over.
        let claim = Event::ClaimForReview {
            reviewer: "r2".into(),
            lease_until: now() + Duration::minutes(15),
        };
        assert_eq!(
            run(S::InReview, &claim, Role::Reviewer, Some(&old)),
            Ok(S::InReview)
        );
    }

    #[test]
    fn only_the_live_lease_holder_decides() {
        let held = live("r2");
        assert_eq!(
            run(
                S::InReview,
                &sample(K::Approve),
                Role::Reviewer,
                Some(&held)
            ),
            Err(TransitionError::NotLeaseHolder {
                holder: "r2".into()
            })
        );
        assert_eq!(
            run(
                S::InReview,
                &sample(K::Reject),
                Role::Supervisor,
                Some(&held)
            ),
            Err(TransitionError::NotLeaseHolder {
                holder: "r2".into()
            })
        );
        assert_eq!(
            run(
                S::InReview,
                &sample(K::ReleaseLease),
                Role::Reviewer,
                Some(&held)
            ),
            Err(TransitionError::NotLeaseHolder {
                holder: "r2".into()
            })
        );
        assert_eq!(
            run(
                S::InReview,
                &sample(K::ClaimForReview),
                Role::Reviewer,
                Some(&held)
            ),
            Err(TransitionError::LeaseHeldByOther {
                holder: "r2".into(),
                until: held.until
            })
        );
        let err = run(
            S::InReview,
            &sample(K::ClaimForReview),
            Role::Reviewer,
            Some(&held),
        )
        .unwrap_err();
        assert_eq!(err.code(), "lease_held_by_other");
        assert!(err.message_zh().contains("r2"));
    }

    #[test]
    fn claim_needs_a_future_lease_end() {
        let claim = Event::ClaimForReview {
            reviewer: "r1".into(),
            lease_until: now(),
        };
        assert_eq!(
            run(S::PendingReview, &claim, Role::Reviewer, None),
            Err(TransitionError::LeaseUntilInPast { until: now() })
        );
    }

    #[test]
    fn rejection_needs_reasons_and_other_needs_comment() {
        let lease = live("r1");
        let reject = |reasons: Vec<RejectReason>, comment: Option<&str>| Event::Reject {
            by: "r1".into(),
            reasons,
            comment: comment.map(str::to_string),
        };
        assert_eq!(
            run(
                S::InReview,
                &reject(vec![], Some("x")),
                Role::Reviewer,
                Some(&lease)
            ),
            Err(TransitionError::ReasonsRequired)
        );
        assert_eq!(
            run(
                S::InReview,
                &reject(vec![RejectReason::Other], Some("  ")),
                Role::Reviewer,
                Some(&lease)
            ),
            Err(TransitionError::CommentRequired)
        );
        assert_eq!(
            run(
                S::InReview,
                &reject(vec![RejectReason::Other], Some("耳环未摘")),
                Role::Reviewer,
                Some(&lease)
            ),
            Ok(S::Rejected)
        );
        let override_reject = |reasons: Vec<RejectReason>| Event::Override {
            by: "s1".into(),
            decision: OverrideDecision::Reject {
                reasons,
                comment: None,
            },
        };
        assert_eq!(
            run(
                S::Approved,
                &override_reject(vec![]),
                Role::Supervisor,
                None
            ),
            Err(TransitionError::ReasonsRequired)
        );
        assert_eq!(
            run(
                S::Approved,
                &override_reject(vec![RejectReason::Clothing]),
                Role::Supervisor,
                None
            ),
            Ok(S::Rejected)
        );
    }

    #[test]
    fn retake_depends_on_policy() {
        let mut policy = SchoolPolicy::default();
        let c = ctx(Role::Student, None, &policy);
        assert_eq!(transition(S::Rejected, &Event::Retake, &c), Ok(S::Ready));
        policy.retakes_free = false;
        let mut c = ctx(Role::Student, None, &policy);
        assert_eq!(
            transition(S::Rejected, &Event::Retake, &c),
            Ok(S::RecordConfirmed)
        );
        c.paid_for_retake = true;
        assert_eq!(transition(S::Rejected, &Event::Retake, &c), Ok(S::Ready));
    }

    #[test]
    fn an_override_rejecting_an_approved_photo_owes_a_free_retake() {
        use DecisionStep::*;
        assert!(retake_owed_by_school(&[Approved, OverrideRejected]));
        assert!(retake_owed_by_school(&[
            Rejected,
            Approved,
            OverrideRejected
        ]));
        assert!(!retake_owed_by_school(&[Rejected]));
        assert!(!retake_owed_by_school(&[OverrideRejected]));
        assert!(!retake_owed_by_school(&[Rejected, OverrideRejected]));
        assert!(!retake_owed_by_school(&[]));
    }

    #[test]
    fn supervisor_overrides_until_export() {
        let held = live("r1");
        for from in [S::PendingReview, S::InReview, S::Rejected, S::Approved] {
            let ev = Event::Override {
                by: "s1".into(),
                decision: OverrideDecision::Reject {
                    reasons: vec![RejectReason::FaceShadow],
                    comment: None,
                },
            };
            assert_eq!(
                run(from, &ev, Role::Supervisor, Some(&held)),
                Ok(S::Rejected),
                "{from}"
            );
            assert_eq!(
                run(from, &ev, Role::Reviewer, Some(&held)),
                Err(TransitionError::RoleNotPermitted {
                    role: Role::Reviewer,
                    event: K::Override
                })
            );
        }
        for from in [S::Exported, S::Published] {
            assert_eq!(
                run(from, &sample(K::Override), Role::Supervisor, None),
                Err(TransitionError::AlreadyExported)
            );
        }
    }

    #[test]
    fn student_is_locked_out_after_approval() {
        for from in [S::Approved, S::Exported, S::Published] {
            assert!(from.is_terminal_for_student());
            for kind in [K::Withdraw, K::Retake, K::Submit, K::Pay] {
                let err = run(from, &sample(kind), Role::Student, None).unwrap_err();
                assert_eq!(err, TransitionError::LockedAfterApproval);
                assert_eq!(err.code(), "locked_after_approval");
            }
        }
        assert!(!S::Rejected.is_terminal_for_student());
    }

    #[test]
    fn labels_and_serde() {
        for s in CaseState::ALL {
            assert!(!s.label_zh().is_empty() && !s.label_en().is_empty());
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<CaseState>(&json).unwrap(), s);
        }
        assert_eq!(S::PendingReview.label_zh(), "审核中");
        assert_eq!(S::InReview.label_zh(), "审核中");
        assert_eq!(S::Rejected.label_zh(), "未通过");
        assert_eq!(S::Published.label_zh(), "上网成功");
        for kind in EventKind::ALL {
            let ev = sample(kind);
            let json = serde_json::to_value(&ev).unwrap();
            assert_eq!(json["event"], kind.as_str());
            assert_eq!(serde_json::from_value::<Event>(json).unwrap(), ev);
        }
    }

    #[test]
    fn submit_gate_flags_after_repeated_failures() {
        let p = SchoolPolicy::default();
        assert_eq!(submit_gate(0, true, &p), SubmitGate::Allowed);
        assert_eq!(submit_gate(5, true, &p), SubmitGate::Allowed);
        assert_eq!(submit_gate(1, false, &p), SubmitGate::MustRetake);
        assert_eq!(submit_gate(2, false, &p), SubmitGate::MustRetake);
        assert_eq!(submit_gate(3, false, &p), SubmitGate::AllowedWithFlag);
        let strict = SchoolPolicy {
            face_match_failures_before_flag: 5,
            ..p
        };
        assert_eq!(submit_gate(3, false, &strict), SubmitGate::MustRetake);
    }
}
