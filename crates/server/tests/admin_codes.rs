//! A student who lost the browser that opened their code: an administrator unbinds the code,
//! the old browser's session ends, and the next browser to open the code claims it with the
//! case as it was. Audited; administrators bound to another school cannot. Every story runs
//! on SQLite and on a throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::admin::{CodesIssueRequest, ProgressQuery};
use gradphoto_api::audit::AuditQuery;
use gradphoto_api::error::ErrorCode;
use gradphoto_client::ClientError;
use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use support::{fixture, flows, Db, TestServer};

stories!(
    an_unbound_code_is_claimed_by_the_next_browser,
    codes_are_issued_to_who_has_none_printed_and_reissued_one_at_a_time,
);

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

async fn codes_are_issued_to_who_has_none_printed_and_reissued_one_at_a_time(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let fx = fixture::seed(state, 3, &fixture::policy(0)).await;
    // Two more students on the roster, without codes yet.
    let later = fixture::records(fixture::SCHOOL, 5).split_off(3);
    let mut tx = state.store.begin().await.unwrap();
    gradphoto_server::store::students::import_as(
        &mut tx,
        &state.crypto,
        &gradphoto_server::store::Actor::new(Role::Admin, "test"),
        &later,
        &fixture::policy(0),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let admin = fixture::staff(state, &server.base_url, "admin1", Role::Admin).await;
    let all = CodesIssueRequest::default();

    let done = admin.issue_codes(&fx.school_id, &all).await.unwrap();
    assert_eq!((done.issued, done.unchanged, done.link), (2, 3, None));
    let again = admin.issue_codes(&fx.school_id, &all).await.unwrap();
    assert_eq!((again.issued, again.unchanged), (0, 5));

    // A whole school is never re-issued at once: it would stop every code handed out.
    let err = admin
        .issue_codes(
            &fx.school_id,
            &CodesIssueRequest {
                student_no: None,
                reissue: true,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code(err), (400, ErrorCode::BadRequest));

    // One student's code re-issued: the old one stops working, the new one opens the case.
    let s = &fx.students[0];
    let one = admin
        .issue_codes(
            &fx.school_id,
            &CodesIssueRequest {
                student_no: Some(s.student_no.clone()),
                reissue: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(one.issued, 1);
    let link = one.link.unwrap();
    assert!(!link.ends_with(&s.code));
    assert_eq!(
        code(server.client().claim_code(&s.code).await.unwrap_err()),
        (410, ErrorCode::CodeRevoked)
    );
    let new_code = link.rsplit('/').next().unwrap();
    let claimed = server.client().claim_code(new_code).await.unwrap();
    assert_eq!(claimed.case.case_id, s.case_id);

    // Sheets for the students who have not opened their code: four (the fifth just did).
    let not_opened = ProgressQuery {
        stage: Some("code_not_opened".into()),
        ..ProgressQuery::default()
    };
    let pdf = admin.codes_sheet(&fx.school_id, &not_opened).await.unwrap();
    assert_eq!(pdf.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(pdf.items, Some(4));
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&pdf.bytes).contains("/Count 1"));
    let links = admin
        .codes_links(&fx.school_id, &ProgressQuery::default())
        .await
        .unwrap();
    assert_eq!(links.items, Some(5));
    let text = String::from_utf8(links.bytes[3..].to_vec()).unwrap();
    assert!(links.bytes.starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(text.lines().count(), 6);
    assert!(text.contains(&link), "the re-issued link is the one listed");
    assert!(!text.contains(&format!("/c/{}", s.code)));

    // Handing codes out is on record, with what was handed out.
    let supervisor = fixture::staff(state, &server.base_url, "sup1", Role::Supervisor).await;
    let events = supervisor
        .audit_search(&AuditQuery {
            action: Some("codes_printed".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .any(|e| e.details["format"] == "pdf" && e.details["students"] == 4));

    // Administrators of another school, and other roles, get none of it.
    let other = fixture::seed_school(state, "第二示范大学", 1, &fixture::policy(0)).await;
    let admin_b = fixture::staff_of(
        state,
        &server.base_url,
        "admin_b",
        Role::Admin,
        Some(&other.school_id),
    )
    .await;
    for client in [&admin_b, &supervisor] {
        assert_eq!(
            code(client.issue_codes(&fx.school_id, &all).await.unwrap_err()).0,
            403
        );
        assert_eq!(
            code(
                client
                    .codes_sheet(&fx.school_id, &not_opened)
                    .await
                    .unwrap_err()
            )
            .0,
            403
        );
    }
    server.stop().await;
}
