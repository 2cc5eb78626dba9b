//! Supervisor mode's quality work against a real server with the demo data (every decision
//! sampled, overrides confirmed by a second supervisor): blind re-review, the first decision
//! shown after, agreement per reviewer, an override that waits, confirmed by one supervisor
//! and declined by the other.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use gradphoto_desk_core::session::Keyring;
use gradphoto_desk_core::view::{DecisionInput, RereviewFilterView, SignInRequest};
use gradphoto_desk_core::{DeskError, Workstation};
use support::Server;

async fn desk_of(server: &Server, dir: &std::path::Path, user: &str) -> Workstation {
    let ws = Workstation::with_keyring(dir, Keyring::new("org.gradphoto.desk.test"));
    let session = ws
        .sign_in(SignInRequest {
            server_url: server.url.clone(),
            user_name: user.into(),
            password: server.password(user),
            session_only: true,
        })
        .await
        .unwrap();
    assert_eq!(session.role, "supervisor");
    ws
}

fn reject(reason: &str) -> DecisionInput {
    DecisionInput::Reject {
        reasons: vec![reason.into()],
        comment: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_rereviews_blind_and_overrides_with_a_second_supervisor() {
    let server = Server::start(900).await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = desk_of(&server, d1.path(), "supervisor").await;
    let second = desk_of(&server, d2.path(), "supervisor2").await;

    // The demo's two decisions are both sampled, and nothing tells how they were decided.
    let open = first
        .rereviews(&RereviewFilterView::default())
        .await
        .unwrap();
    assert_eq!(open.items.len(), 2);
    for s in &open.items {
        assert!(s.open && s.first.is_none() && s.reviewer.is_none() && s.agrees.is_none());
        assert!(s.attempt.photo_path.is_some());
        assert!(s.id_number_masked.contains('*'));
    }
    // The photo of a sample is shown like the timeline's.
    let photo = first
        .timeline_photo(open.items[0].attempt.photo_path.as_deref().unwrap())
        .await
        .unwrap();
    assert!(photo.starts_with("data:image/jpeg;base64,"));

    // A reject without a reason is refused here, before the server.
    let bad = first
        .rereview_decide(
            &open.items[0].rereview_id,
            DecisionInput::Reject {
                reasons: vec![],
                comment: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(bad, DeskError::InvalidDecision { .. }), "{bad:?}");

    // Rejecting both: one agrees with the reviewer's rejection, one disagrees with the approval.
    let mut answers = Vec::new();
    for s in &open.items {
        answers.push(
            first
                .rereview_decide(&s.rereview_id, reject("selfie"))
                .await
                .unwrap(),
        );
    }
    for a in &answers {
        assert!(!a.open);
        let first_kind = a.first.as_ref().unwrap().kind.as_str();
        assert_eq!(a.agrees, Some(first_kind == "reject"));
        assert_eq!(a.reviewer.as_deref(), Some("reviewer"));
        assert_eq!(a.second.as_ref().unwrap().reviewer, "supervisor");
    }
    let agreement = first.rereview_agreement().await.unwrap();
    assert_eq!(agreement.len(), 1);
    assert_eq!(
        (
            agreement[0].sampled,
            agreement[0].rereviewed,
            agreement[0].disagreements
        ),
        (2, 2, 1)
    );
    assert!((agreement[0].disagreement_rate - 0.5).abs() < 1e-9);
    let disagreements = first
        .rereviews(&RereviewFilterView {
            done: true,
            disagreements: true,
            ..RereviewFilterView::default()
        })
        .await
        .unwrap();
    assert_eq!(disagreements.items.len(), 1);
    let approved_case = disagreements.items[0].case_id.clone();

    // The demo's second supervisor already asked to overturn that approval: the first sees it
    // waiting for them, the second sees it as their own.
    let waiting = first.override_requests(false).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].case_id, approved_case);
    assert!(!waiting[0].mine && !waiting[0].approve);
    assert!(second.override_requests(false).await.unwrap()[0].mine);
    let confirmed = first
        .override_confirm(&waiting[0].request_id)
        .await
        .unwrap();
    assert_eq!(confirmed.status, "confirmed");
    assert_eq!(confirmed.answered_by.as_deref(), Some("supervisor"));
    let timeline = first.timeline(&approved_case).await.unwrap();
    assert_eq!(timeline.decisions.last().unwrap().kind, "override_reject");
    assert!(first.override_requests(false).await.unwrap().is_empty());

    // An override needs a reason; with one, it waits for the other supervisor, who declines.
    let rejected_case = answers
        .iter()
        .find(|a| a.agrees == Some(true))
        .unwrap()
        .case_id
        .clone();
    let id = uuid::Uuid::new_v4().to_string();
    let no_reason = first
        .override_case(&rejected_case, &id, DecisionInput::Approve, "  ")
        .await
        .unwrap_err();
    assert!(
        matches!(no_reason, DeskError::InvalidDecision { .. }),
        "{no_reason:?}"
    );
    let asked = first
        .override_case(
            &rejected_case,
            &id,
            DecisionInput::Approve,
            "背景可接受 / background is fine",
        )
        .await
        .unwrap();
    assert!(!asked.applied);
    let request = asked.request.unwrap();
    assert!(request.mine && request.approve && request.status == "pending");
    let declined = second
        .override_decline(&request.request_id, "背景确有阴影 / the shadow is there")
        .await
        .unwrap();
    assert_eq!(declined.status, "declined");
    let answered = first.override_requests(true).await.unwrap();
    assert_eq!(answered.len(), 2);
    let timeline = first.timeline(&rejected_case).await.unwrap();
    assert_eq!(timeline.decisions.last().unwrap().kind, "reject");
}
