//! The sync engine against a real server: claim, decide, go offline, come back, restart,
//! and the conflicts a late decision can meet.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::sync::Arc;
use std::time::Duration;

use gradphoto_api::review::Verdict;
use gradphoto_client::Client;
use gradphoto_desk_core::session::Keyring;
use gradphoto_desk_core::view::{
    ConflictKind, DecideRequest, DecisionInput, ImageKind, QueueFilter, RowStatus, SignInRequest,
};
use gradphoto_desk_core::{DeskError, Workstation};
use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use support::Server;

fn sign_in_request(server: &Server, user: &str, password: &str) -> SignInRequest {
    SignInRequest {
        server_url: server.url.clone(),
        user_name: user.into(),
        password: password.into(),
        session_only: true,
    }
}

async fn desk(dir: &std::path::Path) -> Arc<Workstation> {
    Arc::new(Workstation::with_keyring(
        dir,
        Keyring::new("org.gradphoto.desk.test"),
    ))
}

async fn staff_client(server: &Server, user: &str, password: &str) -> Client {
    let mut c = Client::new(&server.url).unwrap();
    c.login(user, password).await.unwrap();
    c
}

fn reject(reasons: &[&str], comment: Option<&str>) -> DecisionInput {
    DecisionInput::Reject {
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        comment: comment.map(str::to_string),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_decides_and_syncs_while_online() {
    let server = Server::start(900).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = desk(dir.path()).await;
    let password = server.password("reviewer");

    let wrong = ws
        .sign_in(sign_in_request(&server, "reviewer", "not-the-password"))
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, DeskError::Server { status: 401, .. }),
        "{wrong:?}"
    );

    let session = ws
        .sign_in(sign_in_request(&server, "reviewer", &password))
        .await
        .unwrap();
    assert_eq!(session.role, "reviewer");
    assert!(session.session_only);

    let claimed = ws.claim(10).await.unwrap();
    assert_eq!(claimed.claimed, 3, "the demo has three submissions waiting");
    let first = claimed.first_item_id.unwrap();
    let item = ws.item(&first).await.unwrap();
    assert_eq!(item.status, RowStatus::Claimed);
    let kinds: Vec<ImageKind> = item.images.iter().map(|i| i.kind).collect();
    assert!(kinds.contains(&ImageKind::Original), "{kinds:?}");
    assert!(kinds.contains(&ImageKind::IdCardBack), "{kinds:?}");
    // The full ID number of a held item, read under the lease (never cached).
    let full = ws.reveal_id_number(&first).await.unwrap();
    assert_eq!(full.len(), 18);
    assert!(!item.student.id_number_masked.contains(&full[6..14]));
    assert!(kinds.contains(&ImageKind::Standardized), "{kinds:?}");
    assert!(kinds.contains(&ImageKind::IdCardFront), "{kinds:?}");
    let std_path = &item
        .images
        .iter()
        .find(|i| i.kind == ImageKind::Standardized)
        .unwrap()
        .path;
    let (item_id, kind) = std_path.rsplit_once('/').unwrap();
    let (ct, bytes) = ws.image(item_id, kind).await.unwrap().unwrap();
    assert_eq!(ct, "image/jpeg");
    assert!(bytes.starts_with(&[0xFF, 0xD8]));

    // The queue list is the server's queue, from the cache.
    ws.sync_pass().await.unwrap();
    let page = ws.queue(&QueueFilter::default()).await.unwrap();
    assert_eq!(page.counts.claimed, 3);
    let mine = ws
        .queue(&QueueFilter {
            status: Some(RowStatus::Claimed),
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.matching, 3);

    // A rejection with "other" needs a comment; unknown reasons are refused.
    let bad = ws
        .decide(DecideRequest {
            item_id: first.clone(),
            decision: reject(&["other"], None),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.view().code, "invalid_decision");
    assert!(ws
        .decide(DecideRequest {
            item_id: first.clone(),
            decision: reject(&["no_such_reason"], None),
        })
        .await
        .is_err());

    let approved = ws
        .decide(DecideRequest {
            item_id: first.clone(),
            decision: DecisionInput::Approve,
        })
        .await
        .unwrap();
    let second = approved.next_item_id.clone().unwrap();
    assert_ne!(second, first);
    ws.decide(DecideRequest {
        item_id: second.clone(),
        decision: reject(&["background", "other"], Some("背景有人影")),
    })
    .await
    .unwrap();
    // Deciding twice is refused locally: the item is no longer held undecided.
    assert!(matches!(
        ws.decide(DecideRequest {
            item_id: first.clone(),
            decision: DecisionInput::Approve,
        })
        .await,
        Err(DeskError::NotClaimed(_))
    ));
    assert_eq!(ws.status().outbox, 2);

    let st = ws.sync_pass().await.unwrap();
    assert!(st.online);
    assert_eq!(st.outbox, 0);
    assert_eq!(st.conflicts, 0);
    assert_eq!(ws.item(&first).await.unwrap().status, RowStatus::Synced);

    let check = staff_client(&server, "supervisor", &server.password("supervisor")).await;
    let a = check.review_item(&first).await.unwrap();
    assert_eq!(a.state, CaseState::Approved);
    let r = check.review_item(&second).await.unwrap();
    assert_eq!(r.state, CaseState::Rejected);
    let d = r.decisions.last().unwrap();
    assert_eq!(
        d.reasons,
        vec!["background".to_string(), "other".to_string()]
    );
    assert_eq!(d.comment.as_deref(), Some("背景有人影"));

    // Signing out gives the last held item back to the queue.
    let third = ws.next_item(None).await.unwrap().unwrap();
    ws.sign_out().await.unwrap();
    let back = check.review_item(&third).await.unwrap();
    assert_eq!(back.state, CaseState::PendingReview);
    assert!(back.lease.is_none());
    assert!(matches!(
        ws.queue(&QueueFilter::default()).await,
        Err(DeskError::NotSignedIn)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_decisions_survive_a_restart_and_sync_when_the_server_returns() {
    let mut server = Server::start(900).await;
    let dir = tempfile::tempdir().unwrap();
    let password = server.password("reviewer");
    let keyring = Keyring::new("org.gradphoto.desk.test").status().available;

    let ws = desk(dir.path()).await;
    let mut req = sign_in_request(&server, "reviewer", &password);
    req.session_only = !keyring;
    ws.sign_in(req.clone()).await.unwrap();
    let first = ws.claim(10).await.unwrap().first_item_id.unwrap();

    server.stop().await;
    let st = ws.sync_pass().await.unwrap();
    assert!(!st.online);
    assert_eq!(st.last_error.as_ref().unwrap().code, "server_unreachable");
    // Claiming needs the server; deciding does not.
    assert!(ws.claim(1).await.unwrap_err().is_offline());
    let item = ws.item(&first).await.unwrap();
    assert!(!item.student.name.is_empty());
    let decided = ws
        .decide(DecideRequest {
            item_id: first.clone(),
            decision: reject(&["clothing"], Some("蓝色上衣")),
        })
        .await
        .unwrap();
    let st = ws.sync_pass().await.unwrap();
    assert!(!st.online);
    assert_eq!(st.outbox, 1);

    // The app is killed: nothing is signed out, nothing flushed.
    drop(ws);

    let ws = desk(dir.path()).await;
    if keyring {
        // The session comes back from the keyring without the network.
        let start = ws.startup().await.unwrap();
        assert_eq!(start.session.unwrap().user_name, "reviewer");
    } else {
        let start = ws.startup().await.unwrap();
        assert!(start.session.is_none());
        assert_eq!(start.last_user_name.as_deref(), Some("reviewer"));
    }
    server.restart().await;
    if !keyring {
        ws.sign_in(req).await.unwrap();
    }
    let item = ws.item(&first).await.unwrap();
    assert_eq!(item.status, RowStatus::Decided);
    assert_eq!(
        item.local_decision.as_ref().unwrap().decision_id,
        decided.decision_id
    );
    assert_eq!(ws.status().outbox, 1);

    let st = ws.sync_pass().await.unwrap();
    assert!(st.online);
    assert_eq!(st.outbox, 0);
    assert_eq!(st.conflicts, 0);
    let check = staff_client(&server, "supervisor", &server.password("supervisor")).await;
    let on_server = check.review_item(&first).await.unwrap();
    assert_eq!(on_server.state, CaseState::Rejected);
    let d = on_server.decisions.last().unwrap();
    assert_eq!(d.decision_id, decided.decision_id);
    assert_eq!(d.reasons, vec!["clothing".to_string()]);

    // Delivering the same decision again (as after a crash between the send and the local
    // commit) returns the original record and records nothing new.
    let reviewer = staff_client(&server, "reviewer", &server.password("reviewer")).await;
    let redelivered = reviewer
        .decide(
            &first,
            &decided.decision_id,
            Verdict::Reject {
                reasons: vec!["clothing".into()],
                comment: Some("蓝色上衣".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(redelivered.decision_id, decided.decision_id);
    assert_eq!(redelivered.reasons, vec!["clothing".to_string()]);
    let again = check.review_item(&first).await.unwrap();
    assert_eq!(again.decisions.len(), on_server.decisions.len());
    assert_eq!(again.state, CaseState::Rejected);
    ws.sign_out().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_decisions_become_conflicts_and_are_never_dropped() {
    // Leases of five seconds, so that they lapse while the reviewer works offline (and last
    // long enough for the claim to fetch each item's images under them on a busy machine).
    let server = Server::start(5).await;
    server
        .add_staff("reviewer2", Role::Reviewer, "second-reviewer-pw")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let ws = desk(dir.path()).await;
    ws.sign_in(sign_in_request(
        &server,
        "reviewer",
        &server.password("reviewer"),
    ))
    .await
    .unwrap();
    let claimed = ws.claim(10).await.unwrap();
    assert_eq!(claimed.claimed, 3);
    let a = ws.next_item(None).await.unwrap().unwrap();
    let b = ws.next_item(Some(&a)).await.unwrap().unwrap();
    let c = ws.next_item(Some(&b)).await.unwrap().unwrap();

    // Decided here, not yet delivered.
    for (id, d) in [
        (&a, DecisionInput::Approve),
        (&b, DecisionInput::Approve),
        (&c, reject(&["head_pose"], None)),
    ] {
        ws.decide(DecideRequest {
            item_id: id.clone(),
            decision: d,
        })
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(5500)).await;

    // a: the lease lapsed and another reviewer took the item.
    let other = staff_client(&server, "reviewer2", "second-reviewer-pw").await;
    let taken = other.claim_case(&a).await.unwrap();
    assert_eq!(taken.leases.len(), 1);
    // b: a supervisor decided it first.
    let sup = staff_client(&server, "supervisor", &server.password("supervisor")).await;
    let outcome = sup
        .override_decision(
            &b,
            &uuid::Uuid::new_v4().to_string(),
            gradphoto_api::review::Verdict::Reject {
                reasons: vec!["background".into()],
                comment: None,
            },
            "复核：背景不合格",
        )
        .await
        .unwrap();
    // The demo school asks for a second supervisor: the override takes effect when confirmed.
    let gradphoto_api::quality::OverrideOutcome::AwaitingConfirmation { request } = outcome else {
        panic!("the demo school confirms overrides: {outcome:?}");
    };
    let second = staff_client(&server, "supervisor2", &server.password("supervisor2")).await;
    second.confirm_override(&request.request_id).await.unwrap();
    // c: the student withdrew the submission once the lease had lapsed.
    let c_name = ws.item(&c).await.unwrap().student.name;
    let token = server
        .pending_tokens()
        .into_iter()
        .find(|(n, _)| *n == c_name)
        .map(|(_, t)| t)
        .unwrap();
    let student = Client::new(&server.url).unwrap().with_token(token);
    student.withdraw().await.unwrap();

    let st = ws.sync_pass().await.unwrap();
    assert!(st.online);
    assert_eq!(st.outbox, 0);
    assert_eq!(st.conflicts, 3);
    let conflicts = ws.conflicts().await.unwrap();
    let kind_of = |id: &str| conflicts.iter().find(|x| x.item_id == id).map(|x| x.kind);
    assert_eq!(kind_of(&a), Some(ConflictKind::LeaseLost));
    assert_eq!(kind_of(&b), Some(ConflictKind::Overridden));
    assert_eq!(kind_of(&c), Some(ConflictKind::Withdrawn));
    let conflict_a = conflicts.iter().find(|x| x.item_id == a).unwrap();
    assert_eq!(conflict_a.decision_kind, "approve");
    assert!(!conflict_a.message_zh.is_empty() && !conflict_a.message_en.is_empty());
    assert_eq!(ws.item(&a).await.unwrap().status, RowStatus::Conflict);

    // Withdrawn, the case is the student's again: reviewers no longer see it at all.
    let check = student.student_case().await.unwrap();
    assert_eq!(check.state, CaseState::Ready, "withdrawn to retake");
    let gone = sup.review_item(&c).await.unwrap_err();
    assert_eq!(gone.code(), Some(gradphoto_api::error::ErrorCode::NotFound));
    let on_a = sup.review_item(&a).await.unwrap();
    assert_eq!(on_a.state, CaseState::InReview, "reviewer2 still holds it");

    // Acknowledging hides a conflict from the list; the record stays in the cache.
    ws.acknowledge_conflict(conflict_a.id).await.unwrap();
    assert_eq!(ws.conflicts().await.unwrap().len(), 2);
    assert_eq!(ws.status().conflicts, 2);
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conflicts")
        .fetch_one(
            gradphoto_desk_core::cache::Cache::open(
                &gradphoto_desk_core::session::Account {
                    server_url: server.url.clone(),
                    user_name: "reviewer".into(),
                    user_id: String::new(),
                    role: String::new(),
                    session_only: true,
                }
                .cache_file(dir.path()),
            )
            .await
            .unwrap()
            .pool(),
        )
        .await
        .unwrap();
    assert_eq!(kept, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lease_is_claimed_again_when_nobody_took_the_item() {
    let server = Server::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = desk(dir.path()).await;
    ws.sign_in(sign_in_request(
        &server,
        "reviewer",
        &server.password("reviewer"),
    ))
    .await
    .unwrap();
    let first = ws.claim(1).await.unwrap().first_item_id.unwrap();
    ws.decide(DecideRequest {
        item_id: first.clone(),
        decision: reject(&["head_pose"], None),
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(4500)).await;

    let st = ws.sync_pass().await.unwrap();
    assert_eq!((st.outbox, st.conflicts), (0, 0));
    let sup = staff_client(&server, "supervisor", &server.password("supervisor")).await;
    assert_eq!(
        sup.review_item(&first).await.unwrap().state,
        CaseState::Rejected
    );
}
