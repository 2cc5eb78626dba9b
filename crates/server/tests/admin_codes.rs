//! A student who lost the browser that opened their code: an administrator unbinds the code,
//! the old browser's session ends, and the next browser to open the code claims it with the
//! case as it was. Audited; administrators bound to another school cannot. Every story runs
//! on SQLite and on a throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::audit::AuditQuery;
use gradphoto_api::error::ErrorCode;
use gradphoto_client::ClientError;
use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use support::{fixture, flows, Db, TestServer};

stories!(an_unbound_code_is_claimed_by_the_next_browser);

fn code(err: ClientError) -> (u16, ErrorCode) {
    match err {
        ClientError::Api { status, body } => (status, body.code),
        other => panic!("{other:?}"),
    }
}

async fn an_unbound_code_is_claimed_by_the_next_browser(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let fx = fixture::seed(state, 2, &fixture::policy(0)).await;
    let other = fixture::seed_school(state, "第二示范大学", 1, &fixture::policy(0)).await;
    let s = &fx.students[0];
    let admin = fixture::staff(state, &server.base_url, "admin1", Role::Admin).await;

    // An unclaimed code has no browser to free.
    let unclaimed = admin.unbind_code(&fx.students[1].case_id).await.unwrap();
    assert!(!unclaimed.was_bound);

    // The first browser got as far as the identity check.
    let lost = flows::to_ready(&server.client(), s).await;
    let err = server.client().claim_code(&s.code).await.unwrap_err();
    assert_eq!(code(err), (409, ErrorCode::CodeAlreadyClaimed));

    // An administrator of another school may not; the students' own may.
    let admin_b = fixture::staff_of(
        state,
        &server.base_url,
        "admin_b",
        Role::Admin,
        Some(&other.school_id),
    )
    .await;
    assert_eq!(
        code(admin_b.unbind_code(&s.case_id).await.unwrap_err()),
        (403, ErrorCode::Forbidden)
    );
    assert!(admin.unbind_code(&s.case_id).await.unwrap().was_bound);

    // The lost browser's session has ended; a new browser claims the code, the case as it was.
    assert_eq!(code(lost.student_case().await.unwrap_err()).0, 401);
    let claimed = server.client().claim_code(&s.code).await.unwrap();
    assert_eq!(claimed.case.state, CaseState::Ready);
    assert_eq!(claimed.case.case_id, s.case_id);

    // Both unbindings are in the audit history.
    let supervisor = fixture::staff(state, &server.base_url, "sup1", Role::Supervisor).await;
    let events = supervisor
        .audit_search(&AuditQuery {
            action: Some("code_unbound".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .any(|e| e.subject == s.case_id && e.details["was_bound"] == true));
    server.stop().await;
}
