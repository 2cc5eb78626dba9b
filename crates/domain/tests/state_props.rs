//! Random walks through the case state machine keep its invariants.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use chrono::{DateTime, Duration, TimeZone, Utc};
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::reasons::RejectReason;
use gradphoto_domain::role::Role;
use gradphoto_domain::state::{
    transition, CaseState, Event, EventKind, Lease, OverrideDecision, TransitionContext,
};
use proptest::prelude::*;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 20, 9, 0, 0).unwrap()
}

fn event(kind: EventKind, reviewer: &str, now: DateTime<Utc>, approve: bool) -> Event {
    let by = reviewer.to_string();
    match kind {
        EventKind::ClaimCode => Event::ClaimCode,
        EventKind::VerifyIdentity => Event::VerifyIdentity,
        EventKind::ConfirmRecord => Event::ConfirmRecord,
        EventKind::Pay => Event::Pay,
        EventKind::Submit => Event::Submit { flagged: approve },
        EventKind::Withdraw => Event::Withdraw,
        EventKind::ClaimForReview => Event::ClaimForReview {
            reviewer: by,
            lease_until: now + Duration::minutes(15),
        },
        EventKind::ReleaseLease => Event::ReleaseLease { by },
        EventKind::ExpireLease => Event::ExpireLease,
        EventKind::Approve => Event::Approve { by },
        EventKind::Reject => Event::Reject {
            by,
            reasons: vec![RejectReason::HeadPose],
            comment: None,
        },
        EventKind::Retake => Event::Retake,
        EventKind::Override => Event::Override {
            by,
            decision: if approve {
                OverrideDecision::Approve
            } else {
                OverrideDecision::Reject {
                    reasons: vec![RejectReason::Background],
                    comment: None,
                }
            },
        },
        EventKind::Export => Event::Export,
        EventKind::Publish => Event::Publish,
    }
}

/// The event that moves a case forward, so random walks reach the later states often.
fn forward(state: CaseState, flag: bool) -> EventKind {
    match state {
        CaseState::Invited => EventKind::ClaimCode,
        CaseState::Claimed => EventKind::VerifyIdentity,
        CaseState::IdentityVerified => EventKind::ConfirmRecord,
        CaseState::RecordConfirmed => EventKind::Pay,
        CaseState::Ready => EventKind::Submit,
        CaseState::PendingReview => EventKind::ClaimForReview,
        CaseState::InReview if flag => EventKind::Approve,
        CaseState::InReview => EventKind::Reject,
        CaseState::Rejected => EventKind::Retake,
        CaseState::Approved => EventKind::Export,
        CaseState::Exported => EventKind::Publish,
        CaseState::Published => EventKind::Override,
    }
}

proptest! {
    #[test]
    fn random_walks_keep_invariants(
        steps in prop::collection::vec(
            (0usize..2 * EventKind::ALL.len(), 0usize..2 * Role::ALL.len(), 0usize..2, 0i64..20, any::<bool>()),
            0..80,
        ),
        retakes_free in any::<bool>(),
    ) {
        let policy = SchoolPolicy { retakes_free, ..SchoolPolicy::default() };
        let mut state = CaseState::Invited;
        let mut lease: Option<Lease> = None;
        let mut now = start();
        let mut ever_exported = false;
        for (k, r, who, minutes, flag) in steps {
            now += Duration::minutes(minutes);
            // Half the time: the forward event, by a role allowed to cause it.
            let kind = EventKind::ALL
                .get(k)
                .copied()
                .unwrap_or_else(|| forward(state.effective(now, lease.as_ref()), flag));
            let role = Role::ALL.get(r).copied().unwrap_or(kind.permitted_roles()[0]);
            let reviewer = ["r1", "r2"][who];
            let ev = event(kind, reviewer, now, flag);
            let ctx = TransitionContext { now, actor: role, lease: lease.as_ref(), policy: &policy, paid_for_retake: false };
            let before = state.effective(now, lease.as_ref());
            match transition(state, &ev, &ctx) {
                Ok(next) => {
                    prop_assert!(kind.permitted_roles().contains(&role));
                    if before.is_terminal_for_student() {
                        prop_assert!(!kind.is_student_action(), "{kind} after approval");
                    }
                    if ever_exported {
                        prop_assert!(matches!(next, CaseState::Exported | CaseState::Published));
                    }
                    if matches!(kind, EventKind::Approve | EventKind::Reject | EventKind::ReleaseLease) {
                        let l = lease.as_ref().unwrap();
                        prop_assert!(l.holder == reviewer && l.until > now);
                    }
                    lease = match (&ev, next) {
                        (Event::ClaimForReview { reviewer, lease_until }, CaseState::InReview) => {
                            Some(Lease { holder: reviewer.clone(), until: *lease_until })
                        }
                        _ => None,
                    };
                    ever_exported |= next == CaseState::Exported;
                    state = next;
                }
                Err(_) => {
                    // A refused event changes nothing.
                }
            }
        }
    }
}
