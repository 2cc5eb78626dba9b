//! Quality: a share of reviewers' decisions sampled for a blind second look, disagreements
//! counted per reviewer and turned into overrides, and overrides that wait for a second
//! supervisor where the school asks for one. Every story runs on SQLite and on PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::audit::AuditQuery;
use gradphoto_api::error::ErrorCode;
use gradphoto_api::quality::{OverrideOutcome, OverrideStatus, RereviewQuery, RereviewState};
use gradphoto_api::review::{DecisionKind, Verdict};
use gradphoto_client::{Client, ClientError};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use support::{fixture, flows, Db, TestServer};

stories!(
    sampled_decisions_are_decided_blind_and_disagreements_counted_per_reviewer,
    no_decision_is_sampled_when_the_school_samples_none,
    an_override_waits_for_a_second_supervisor_where_the_school_asks,
    an_override_rejecting_an_approved_photo_reopens_a_retake_without_a_new_payment,
    quality_routes_are_for_supervisors_of_the_same_school,
);

fn code(err: ClientError) -> ErrorCode {
    err.code()
        .unwrap_or_else(|| panic!("expected a server error code, got {err:?}"))
}

fn reject(reasons: &[&str]) -> Verdict {
    Verdict::Reject {
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        comment: None,
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn policy(edit: impl FnOnce(&mut SchoolPolicy)) -> SchoolPolicy {
    let mut p = fixture::policy(0);
    edit(&mut p);
    p
}

/// `n` students submitted, claimed by `reviewer`, who approves the first `approve` and
/// rejects the rest.
async fn decided(
    anon: &Client,
    fx: &fixture::Fixture,
    reviewer: &Client,
    approve: usize,
) -> Vec<Client> {
    let mut students = Vec::new();
    for s in &fx.students {
        students.push(flows::to_pending(anon, s).await);
    }
    reviewer.claim_next(fx.students.len() as u32).await.unwrap();
    for (i, s) in fx.students.iter().enumerate() {
        let verdict = if i < approve {
            Verdict::Approve
        } else {
            reject(&["background"])
        };
        reviewer
            .decide(&s.case_id, &new_id(), verdict)
            .await
            .unwrap();
    }
    students
}

async fn sampled_decisions_are_decided_blind_and_disagreements_counted_per_reviewer(db: Db) {
    let server = TestServer::start(db).await;
    let (state, base) = (server.state(), &server.base_url);
    let fx = fixture::seed(state, 3, &policy(|p| p.rereview_percent = 100)).await;
    let anon = server.client();
    let reviewer = fixture::staff(state, base, "reviewer1", Role::Reviewer).await;
    let supervisor = fixture::staff(state, base, "super1", Role::Supervisor).await;
    let other = fixture::staff(state, base, "super2", Role::Supervisor).await;
    let students = decided(&anon, &fx, &reviewer, 2).await;

    // Every decision is sampled at 100 %; open samples say nothing of the first decision.
    let open = supervisor
        .rereviews(&RereviewQuery::default())
        .await
        .unwrap();
    assert_eq!(open.items.len(), 3);
    for item in &open.items {
        assert_eq!(item.state, RereviewState::Open);
        assert!(item.first.is_none() && item.reviewer_id.is_none() && item.agrees.is_none());
        assert!(item.attempt.standardized_url.is_some());
        assert!(item.student.id_number_masked.contains('*'));
    }
    // Pages of one: the same three, oldest first, nothing doubled.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = supervisor
            .rereviews(&RereviewQuery {
                limit: Some(1),
                cursor: cursor.clone(),
                ..RereviewQuery::default()
            })
            .await
            .unwrap();
        paged.extend(page.items.into_iter().map(|i| i.rereview_id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let ids: Vec<String> = open.items.iter().map(|i| i.rereview_id.clone()).collect();
    assert_eq!(paged, ids);
    let sample_of = |case_id: &str| {
        open.items
            .iter()
            .find(|i| i.case_id == case_id)
            .unwrap()
            .rereview_id
            .clone()
    };

    // Agreeing on the first approval, disagreeing on the second, agreeing on the rejection.
    let a = sample_of(&fx.students[0].case_id);
    let done = supervisor
        .rereview_decide(&a, Verdict::Approve)
        .await
        .unwrap();
    assert_eq!(done.state, RereviewState::Done);
    assert_eq!(done.agrees, Some(true));
    assert_eq!(done.first.as_ref().unwrap().kind, DecisionKind::Approve);
    assert_eq!(done.reviewer_name.as_deref(), Some("reviewer1"));
    let b = sample_of(&fx.students[1].case_id);
    let disagreed = supervisor
        .rereview_decide(&b, reject(&["clothing"]))
        .await
        .unwrap();
    assert_eq!(disagreed.agrees, Some(false));
    assert_eq!(disagreed.second.as_ref().unwrap().reasons, vec!["clothing"]);
    let c = sample_of(&fx.students[2].case_id);
    supervisor
        .rereview_decide(&c, reject(&["selfie"]))
        .await
        .unwrap();

    // The same answer again is the same record; another one is refused, by anyone.
    let again = supervisor
        .rereview_decide(&b, reject(&["clothing"]))
        .await
        .unwrap();
    assert_eq!(again.second, disagreed.second);
    assert_eq!(
        code(
            supervisor
                .rereview_decide(&b, Verdict::Approve)
                .await
                .unwrap_err()
        ),
        ErrorCode::RereviewAlreadyDone
    );
    assert_eq!(
        code(
            other
                .rereview_decide(&b, reject(&["clothing"]))
                .await
                .unwrap_err()
        ),
        ErrorCode::RereviewAlreadyDone
    );

    let agreement = supervisor.rereview_agreement().await.unwrap();
    assert_eq!(agreement.len(), 1);
    assert_eq!(
        (
            agreement[0].sampled,
            agreement[0].rereviewed,
            agreement[0].disagreements
        ),
        (3, 3, 1)
    );
    let disagreements = supervisor
        .rereviews(&RereviewQuery {
            state: Some(RereviewState::Done),
            disagreements: Some(true),
            ..RereviewQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(disagreements.items.len(), 1);
    assert_eq!(disagreements.items[0].case_id, fx.students[1].case_id);
    assert!(supervisor
        .rereviews(&RereviewQuery::default())
        .await
        .unwrap()
        .items
        .is_empty());

    // The disagreement becomes an override the student sees.
    let outcome = supervisor
        .override_decision(
            &fx.students[1].case_id,
            &new_id(),
            reject(&["clothing"]),
            "抽检复核：着装不符合要求 / re-review: clothing",
        )
        .await
        .unwrap();
    assert!(matches!(outcome, OverrideOutcome::Applied { .. }));
    let case = students[1].student_case().await.unwrap();
    assert_eq!(case.state, CaseState::Rejected);
    assert_eq!(
        case.latest_decision.unwrap().kind,
        DecisionKind::OverrideReject
    );

    // Each second look is in the audit history with its answer.
    let events = supervisor
        .audit_search(&AuditQuery {
            action: Some(AuditAction::Rereviewed.code().to_string()),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;
    assert_eq!(events.len(), 3);
    let on_b = events
        .iter()
        .find(|e| e.subject == fx.students[1].case_id)
        .unwrap();
    assert_eq!(on_b.details["agrees"], false);
    server.stop().await;
}

async fn no_decision_is_sampled_when_the_school_samples_none(db: Db) {
    let server = TestServer::start(db).await;
    let (state, base) = (server.state(), &server.base_url);
    let fx = fixture::seed(state, 3, &policy(|p| p.rereview_percent = 0)).await;
    let anon = server.client();
    let reviewer = fixture::staff(state, base, "reviewer1", Role::Reviewer).await;
    let supervisor = fixture::staff(state, base, "super1", Role::Supervisor).await;
    decided(&anon, &fx, &reviewer, 3).await;
    assert!(supervisor
        .rereviews(&RereviewQuery::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(supervisor.rereview_agreement().await.unwrap().is_empty());
    server.stop().await;
}

async fn an_override_waits_for_a_second_supervisor_where_the_school_asks(db: Db) {
    let server = TestServer::start(db).await;
    let (state, base) = (server.state(), &server.base_url);
    let fx = fixture::seed(
        state,
        2,
        &policy(|p| {
            p.override_needs_second_supervisor = true;
            p.rereview_percent = 0;
        }),
    )
    .await;
    let anon = server.client();
    let reviewer = fixture::staff(state, base, "reviewer1", Role::Reviewer).await;
    let first = fixture::staff(state, base, "super1", Role::Supervisor).await;
    let second = fixture::staff(state, base, "super2", Role::Supervisor).await;
    let students = decided(&anon, &fx, &reviewer, 2).await;
    let case_a = &fx.students[0].case_id;

    assert_eq!(
        code(
            first
                .override_decision(case_a, &new_id(), reject(&["selfie"]), "  ")
                .await
                .unwrap_err()
        ),
        ErrorCode::OverrideCommentRequired
    );
    let decision_id = new_id();
    let why = "前置摄像头自拍 / front-camera selfie";
    let outcome = first
        .override_decision(case_a, &decision_id, reject(&["selfie"]), why)
        .await
        .unwrap();
    let OverrideOutcome::AwaitingConfirmation { request } = outcome else {
        panic!("the school asks for a second supervisor: {outcome:?}");
    };
    assert_eq!(request.status, OverrideStatus::Pending);
    assert_eq!(request.kind, DecisionKind::OverrideReject);
    // Nothing changed for the student yet.
    assert_eq!(
        students[0].student_case().await.unwrap().state,
        CaseState::Approved
    );
    // The same request sent again is the same request; a second one for the case waits its turn.
    let again = first
        .override_decision(case_a, &decision_id, reject(&["selfie"]), why)
        .await
        .unwrap();
    assert_eq!(
        again,
        OverrideOutcome::AwaitingConfirmation {
            request: request.clone()
        }
    );
    assert_eq!(
        code(
            second
                .override_decision(case_a, &new_id(), Verdict::Approve, "x")
                .await
                .unwrap_err()
        ),
        ErrorCode::OverrideAlreadyPending
    );
    // Nobody confirms their own request.
    assert_eq!(
        code(
            first
                .confirm_override(&request.request_id)
                .await
                .unwrap_err()
        ),
        ErrorCode::OverrideNeedsAnotherSupervisor
    );
    let pending = second.override_requests(None).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].request_id, request.request_id);

    let confirmed = second.confirm_override(&request.request_id).await.unwrap();
    assert_eq!(confirmed.status, OverrideStatus::Confirmed);
    assert_eq!(confirmed.answered_by_name.as_deref(), Some("super2"));
    let decision = confirmed.decision.clone().unwrap();
    assert_eq!(decision.decision_id, decision_id);
    assert_eq!(decision.reviewer_id, request.requested_by_id);
    assert_eq!(
        students[0].student_case().await.unwrap().state,
        CaseState::Rejected
    );
    // Confirming again answers the same; declining a confirmed request is refused.
    assert_eq!(
        second.confirm_override(&request.request_id).await.unwrap(),
        confirmed
    );
    assert_eq!(
        code(
            second
                .decline_override(&request.request_id, "不同意 / disagree")
                .await
                .unwrap_err()
        ),
        ErrorCode::OverrideRequestClosed
    );
    // The requester's retry after the confirmation finds the decision it led to.
    let after = first
        .override_decision(case_a, &decision_id, reject(&["selfie"]), why)
        .await
        .unwrap();
    assert_eq!(after, OverrideOutcome::Applied { decision });

    // A declined request changes nothing for the student, and needs a reason.
    let case_b = &fx.students[1].case_id;
    let OverrideOutcome::AwaitingConfirmation { request: on_b } = first
        .override_decision(case_b, &new_id(), reject(&["clothing"]), "着装 / clothing")
        .await
        .unwrap()
    else {
        panic!("awaiting confirmation");
    };
    assert_eq!(
        code(
            second
                .decline_override(&on_b.request_id, " ")
                .await
                .unwrap_err()
        ),
        ErrorCode::DeclineCommentRequired
    );
    let declined = second
        .decline_override(&on_b.request_id, "照片合格 / the photo is fine")
        .await
        .unwrap();
    assert_eq!(declined.status, OverrideStatus::Declined);
    assert_eq!(
        students[1].student_case().await.unwrap().state,
        CaseState::Approved
    );
    assert_eq!(
        code(second.confirm_override(&on_b.request_id).await.unwrap_err()),
        ErrorCode::OverrideRequestClosed
    );
    assert!(second.override_requests(None).await.unwrap().is_empty());
    assert_eq!(
        second
            .override_requests(Some(OverrideStatus::Confirmed))
            .await
            .unwrap()
            .len(),
        1
    );

    // Both steps are in the audit history: the request by the first supervisor, the change by
    // the second, the decline by the second.
    let history = second
        .audit_search(&AuditQuery {
            student: Some(fx.students[0].student_no.clone()),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;
    let requested = history
        .iter()
        .find(|e| e.action == AuditAction::OverrideRequested.code())
        .unwrap();
    assert_eq!(requested.actor_name.as_deref(), Some("super1"));
    let overridden = history
        .iter()
        .find(|e| e.action == AuditAction::Overridden.code())
        .unwrap();
    assert_eq!(overridden.actor_name.as_deref(), Some("super2"));
    assert_eq!(overridden.details["requested_by"], request.requested_by_id);
    let declines = second
        .audit_search(&AuditQuery {
            action: Some(AuditAction::OverrideDeclined.code().to_string()),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;
    assert_eq!(declines.len(), 1);
    server.stop().await;
}

async fn an_override_rejecting_an_approved_photo_reopens_a_retake_without_a_new_payment(db: Db) {
    let server = TestServer::start(db).await;
    let (state, base) = (server.state(), &server.base_url);
    let charged = |p: &mut SchoolPolicy| {
        p.fee_cents = 2000;
        p.retakes_free = false;
        p.rereview_percent = 0;
    };
    let fx = fixture::seed(state, 2, &policy(charged)).await;
    let anon = server.client();
    let reviewer = fixture::staff(state, base, "reviewer1", Role::Reviewer).await;
    let supervisor = fixture::staff(state, base, "super1", Role::Supervisor).await;
    // The first approved then overridden; the second rejected by the reviewer.
    let students = decided(&anon, &fx, &reviewer, 1).await;
    supervisor
        .override_decision(
            &fx.students[0].case_id,
            &new_id(),
            reject(&["selfie"]),
            "前置摄像头自拍 / front-camera selfie",
        )
        .await
        .unwrap();
    let case = students[0].retake().await.unwrap();
    assert_eq!(
        case.state,
        CaseState::Ready,
        "no new payment after an overturned approval"
    );
    // A reviewer's own rejection of a school that charges for retakes asks for payment.
    let case = students[1].retake().await.unwrap();
    assert_eq!(case.state, CaseState::RecordConfirmed);
    server.stop().await;
}

async fn quality_routes_are_for_supervisors_of_the_same_school(db: Db) {
    let server = TestServer::start(db).await;
    let (state, base) = (server.state(), &server.base_url);
    let all = policy(|p| {
        p.rereview_percent = 100;
        p.override_needs_second_supervisor = true;
    });
    let fx = fixture::seed(state, 1, &all).await;
    let other_school = fixture::seed_school(state, "另一所大学", 1, &all).await;
    let anon = server.client();
    let reviewer = fixture::staff(state, base, "reviewer1", Role::Reviewer).await;
    let supervisor = fixture::staff(state, base, "super1", Role::Supervisor).await;
    let bound = fixture::staff_of(
        state,
        base,
        "bound",
        Role::Supervisor,
        Some(&other_school.school_id),
    )
    .await;
    decided(&anon, &fx, &reviewer, 1).await;
    let sample = supervisor
        .rereviews(&RereviewQuery::default())
        .await
        .unwrap()
        .items
        .remove(0);
    let OverrideOutcome::AwaitingConfirmation { request } = supervisor
        .override_decision(
            &fx.students[0].case_id,
            &new_id(),
            reject(&["selfie"]),
            "x y",
        )
        .await
        .unwrap()
    else {
        panic!("awaiting confirmation");
    };

    // A reviewer is refused every quality route.
    assert_eq!(
        code(
            reviewer
                .rereviews(&RereviewQuery::default())
                .await
                .unwrap_err()
        ),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(
            reviewer
                .rereview_decide(&sample.rereview_id, Verdict::Approve)
                .await
                .unwrap_err()
        ),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(
            reviewer
                .confirm_override(&request.request_id)
                .await
                .unwrap_err()
        ),
        ErrorCode::Forbidden
    );
    // A supervisor bound to another school sees none of this school's samples or requests.
    assert!(bound
        .rereviews(&RereviewQuery::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(bound.rereview_agreement().await.unwrap().is_empty());
    assert!(bound.override_requests(None).await.unwrap().is_empty());
    assert_eq!(
        code(bound.rereview(&sample.rereview_id).await.unwrap_err()),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            bound
                .rereview_decide(&sample.rereview_id, Verdict::Approve)
                .await
                .unwrap_err()
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            bound
                .confirm_override(&request.request_id)
                .await
                .unwrap_err()
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            bound
                .decline_override(&request.request_id, "no")
                .await
                .unwrap_err()
        ),
        ErrorCode::NotFound
    );
    server.stop().await;
}
