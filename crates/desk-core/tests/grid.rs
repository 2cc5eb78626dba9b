//! Grid review against a real server: only clean held items are shown, a batch approval is one
//! decision per item with its own id and audit event, a lost lease makes that one item a
//! conflict while the others go through, and approvals made offline wait in the outbox.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::sync::Arc;
use std::time::Duration;

use gradphoto_api::audit::AuditQuery;
use gradphoto_api::review::{Verdict, GRID_MAX};
use gradphoto_client::Client;
use gradphoto_desk_core::cache::Cache;
use gradphoto_desk_core::session::{Account, Keyring};
use gradphoto_desk_core::view::{
    ConflictKind, GridApproveRequest, GridOutcome, RowStatus, SignInRequest,
};
use gradphoto_desk_core::Workstation;
use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use support::Server;

async fn staff_client(server: &Server, user: &str, password: &str) -> Client {
    let mut c = Client::new(&server.url).unwrap();
    c.login(user, password).await.unwrap();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_approves_clean_items_one_decision_each_and_a_lost_lease_is_a_conflict() {
    // Short leases, so that one can lapse and be taken by another reviewer mid-test.
    let server = Server::start(2).await;
    server
        .add_staff("reviewer2", Role::Reviewer, "second-reviewer-pw")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let ws = Arc::new(Workstation::with_keyring(
        dir.path(),
        Keyring::new("org.gradphoto.desk.test"),
    ));
    let session = ws
        .sign_in(SignInRequest {
            server_url: server.url.clone(),
            user_name: "reviewer".into(),
            password: server.password("reviewer"),
            session_only: true,
        })
        .await
        .unwrap();

    // Filling the grid claims what the queue has (the demo's three submissions); none is shown
    // before its hints are computed.
    let grid = ws.grid_fill().await.unwrap();
    assert_eq!(grid.max, GRID_MAX);
    assert_eq!(grid.held, 3);
    assert_eq!(grid.waiting_hints, 3);
    assert!(grid.tiles.is_empty(), "{grid:?}");
    let held: Vec<String> = {
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        while let Some(id) = ws.next_item(after.as_deref()).await.unwrap() {
            if ids.contains(&id) {
                break;
            }
            after = Some(id.clone());
            ids.push(id);
        }
        ids
    };
    assert_eq!(held.len(), 3);
    let (a, b, c) = (held[0].clone(), held[1].clone(), held[2].clone());

    // The real hints of one item decide whether it joins the grid.
    let hints_c = ws.hints(&c).await.unwrap();
    let c_clean = hints_c.overall == "pass" && !hints_c.flagged;
    assert_eq!(
        ws.grid()
            .await
            .unwrap()
            .tiles
            .iter()
            .any(|t| t.item_id == c),
        c_clean,
        "the grid shows an item exactly when its hints all pass: {:?}",
        hints_c.overall
    );
    // The other two are marked as the hinter marks items whose measures all pass; one of them
    // is then flagged, as the server's record of a flagged submission marks it, and drops out.
    let account = Account {
        server_url: session.server_url.clone(),
        user_name: session.user_name.clone(),
        user_id: String::new(),
        role: session.role.clone(),
        session_only: true,
    };
    let cache = Cache::open(&account.cache_file(dir.path())).await.unwrap();
    for id in [&a, &b] {
        cache.set_hints(id, "pass", "{}").await.unwrap();
    }
    if c_clean {
        // Keep one held item out of the grid whatever the models said of the demo photo.
        cache.set_hints(&c, "warn", "{}").await.unwrap();
    }
    sqlx::query("UPDATE items SET flagged = 1 WHERE item_id = ?")
        .bind(&b)
        .execute(cache.pool())
        .await
        .unwrap();
    let grid = ws.grid().await.unwrap();
    let ids: Vec<&str> = grid.tiles.iter().map(|t| t.item_id.as_str()).collect();
    assert_eq!(
        ids,
        [a.as_str()],
        "only the clean, unflagged item: {grid:?}"
    );
    assert_eq!((grid.held, grid.waiting_hints, grid.held_back), (3, 0, 2));
    let tile = &grid.tiles[0];
    assert_eq!(tile.photo, format!("{a}/standardized"));
    assert!(ws.image(&a, "standardized").await.unwrap().is_some());
    sqlx::query("UPDATE items SET flagged = 0 WHERE item_id = ?")
        .bind(&b)
        .execute(cache.pool())
        .await
        .unwrap();
    assert_eq!(ws.grid().await.unwrap().tiles.len(), 2);

    // Both leases lapse; another reviewer takes B meanwhile. A is still free, so its approval
    // goes through under a new lease; B's becomes a conflict, as a single approval's would.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let other = staff_client(&server, "reviewer2", "second-reviewer-pw").await;
    other.claim_case(&b).await.unwrap();

    // C is not in the grid and A is asked twice: C is refused, A approved once.
    let result = ws
        .grid_approve(GridApproveRequest {
            item_ids: vec![a.clone(), c.clone(), a.clone(), b.clone()],
        })
        .await
        .unwrap();
    let outcomes: Vec<(&str, GridOutcome)> = result
        .results
        .iter()
        .map(|r| (r.item_id.as_str(), r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (a.as_str(), GridOutcome::Approved),
            (c.as_str(), GridOutcome::Refused),
            (b.as_str(), GridOutcome::Conflict),
        ]
    );
    assert_eq!(
        (
            result.approved,
            result.queued,
            result.conflicts,
            result.refused
        ),
        (1, 0, 1, 1)
    );
    assert_eq!(
        result.results[1].error.as_ref().unwrap().code,
        "not_in_grid"
    );
    assert_eq!(
        result.results[2].error.as_ref().unwrap().code,
        "not_lease_holder"
    );
    let decision_a = result.results[0].decision_id.clone().unwrap();
    let decision_b = result.results[2].decision_id.clone().unwrap();
    assert_ne!(
        decision_a, decision_b,
        "each approval has its own decision id"
    );

    // Locally: A synced, B a lease-lost conflict, C still held for single review.
    assert_eq!(ws.item(&a).await.unwrap().status, RowStatus::Synced);
    assert_eq!(ws.item(&b).await.unwrap().status, RowStatus::Conflict);
    let conflicts = ws.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        (conflicts[0].item_id.as_str(), conflicts[0].kind),
        (b.as_str(), ConflictKind::LeaseLost)
    );
    assert_eq!(ws.item(&c).await.unwrap().status, RowStatus::Claimed);
    assert_eq!(
        ws.next_item(None).await.unwrap().as_deref(),
        Some(c.as_str())
    );
    let grid = ws.grid().await.unwrap();
    assert!(grid.tiles.is_empty());
    assert_eq!((grid.held, grid.held_back), (1, 1));

    // On the server: A approved by exactly that decision, B still with the other reviewer, C
    // untouched.
    let supervisor = staff_client(&server, "supervisor", &server.password("supervisor")).await;
    let item_a = supervisor.review_item(&a).await.unwrap();
    assert_eq!(item_a.state, CaseState::Approved);
    let ids: Vec<&str> = item_a
        .decisions
        .iter()
        .map(|d| d.decision_id.as_str())
        .collect();
    assert_eq!(ids, [decision_a.as_str()]);
    assert_eq!(
        supervisor.review_item(&b).await.unwrap().state,
        CaseState::InReview
    );
    assert!(supervisor
        .review_item(&b)
        .await
        .unwrap()
        .decisions
        .is_empty());
    let item_c = supervisor.review_item(&c).await.unwrap();
    assert!(
        matches!(item_c.state, CaseState::InReview | CaseState::PendingReview),
        "{:?}",
        item_c.state
    );
    assert!(item_c.decisions.is_empty());
    // One audit event for the one approval.
    let approved = supervisor
        .audit_search(&AuditQuery {
            action: Some("approved".into()),
            limit: Some(500),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let for_a = approved.events.iter().filter(|e| e.subject == a).count();
    assert_eq!(for_a, 1, "{:?}", approved.events);
    assert!(!approved
        .events
        .iter()
        .any(|e| e.subject == b || e.subject == c));

    // Sending A's decision again is the same decision (idempotent), not a second one.
    let me = staff_client(&server, "reviewer", &server.password("reviewer")).await;
    me.decide(&a, &decision_a, Verdict::Approve).await.unwrap();
    assert_eq!(supervisor.review_item(&a).await.unwrap().decisions.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_approvals_made_offline_are_queued_and_delivered_when_the_server_returns() {
    let mut server = Server::start(900).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = Arc::new(Workstation::with_keyring(
        dir.path(),
        Keyring::new("org.gradphoto.desk.test"),
    ));
    let session = ws
        .sign_in(SignInRequest {
            server_url: server.url.clone(),
            user_name: "reviewer".into(),
            password: server.password("reviewer"),
            session_only: true,
        })
        .await
        .unwrap();
    assert_eq!(ws.grid_fill().await.unwrap().held, 3);
    let account = Account {
        server_url: session.server_url.clone(),
        user_name: session.user_name.clone(),
        user_id: String::new(),
        role: session.role.clone(),
        session_only: true,
    };
    let cache = Cache::open(&account.cache_file(dir.path())).await.unwrap();
    // Marked as the hinter marks items whose measures all pass.
    sqlx::query("UPDATE items SET hint_verdict = 'pass', hints = '{}' WHERE status = 'claimed'")
        .execute(cache.pool())
        .await
        .unwrap();
    let ids: Vec<String> = ws
        .grid()
        .await
        .unwrap()
        .tiles
        .into_iter()
        .map(|t| t.item_id)
        .collect();
    assert_eq!(ids.len(), 3);

    server.stop().await;
    let result = ws
        .grid_approve(GridApproveRequest {
            item_ids: ids.clone(),
        })
        .await
        .unwrap();
    assert_eq!((result.approved, result.queued), (0, 3), "{result:?}");
    assert!(result
        .results
        .iter()
        .all(|r| r.outcome == GridOutcome::Queued && r.decision_id.is_some()));
    assert_eq!(ws.status().outbox, 3);
    assert!(ws.grid().await.unwrap().tiles.is_empty());

    server.restart().await;
    let st = ws.sync_pass().await.unwrap();
    assert_eq!((st.outbox, st.conflicts), (0, 0));
    let supervisor = staff_client(&server, "supervisor", &server.password("supervisor")).await;
    for r in &result.results {
        let item = supervisor.review_item(&r.item_id).await.unwrap();
        assert_eq!(item.state, CaseState::Approved);
        let sent: Vec<&str> = item
            .decisions
            .iter()
            .map(|d| d.decision_id.as_str())
            .collect();
        assert_eq!(sent, [r.decision_id.as_deref().unwrap()]);
    }
}
