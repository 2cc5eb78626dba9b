//! The supervisor's audit history: filters, pages in both directions, the school a bound
//! supervisor is held to, student search (an ID number through its keyed hash), masked ID
//! numbers and the audited reveal, and the CSV export. Every story runs on SQLite and on a
//! throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use std::collections::BTreeSet;

use gradphoto_api::audit::{AuditEntry, AuditQuery};
use gradphoto_api::error::ErrorCode;
use gradphoto_client::{Client, ClientError};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::role::Role;
use support::{fixture, flows, Db, TestServer};

stories!(
    the_history_pages_newest_first_and_filters_by_what_happened,
    a_student_is_found_by_name_number_or_id_number_within_the_supervisors_school,
    an_id_number_is_revealed_only_with_a_reason_and_the_reveal_is_recorded,
    the_export_is_every_matching_event_as_csv_and_is_itself_recorded,
    a_case_timeline_holds_every_attempt_decision_and_event_of_the_student,
);

/// Every event a query matches, newest first, through pages of `limit`.
async fn all_pages(client: &Client, query: &AuditQuery, limit: u32) -> Vec<AuditEntry> {
    let mut out = Vec::new();
    let mut query = AuditQuery {
        limit: Some(limit),
        ..query.clone()
    };
    loop {
        let page = client.audit_search(&query).await.unwrap();
        out.extend(page.events);
        if !page.has_more {
            return out;
        }
        query.before = Some(page.next_cursor);
    }
}

fn actions(events: &[AuditEntry]) -> BTreeSet<String> {
    events.iter().map(|e| e.action.clone()).collect()
}

async fn api_error(err: ClientError) -> (u16, ErrorCode, Option<String>) {
    match err {
        ClientError::Api { status, body } => (status, body.code, body.field),
        other => panic!("{other:?}"),
    }
}

async fn the_history_pages_newest_first_and_filters_by_what_happened(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let base = &server.base_url;
    let fx = fixture::seed(state, 2, &fixture::policy(0)).await;
    let anon = server.client();
    flows::to_pending(&anon, &fx.students[0]).await;
    let reviewer = fixture::staff(state, base, "reviewer1", Role::Reviewer).await;
    let supervisor = fixture::staff(state, base, "supervisor1", Role::Supervisor).await;
    let mut stranger = server.client();
    assert!(stranger.login("nobody", "guess").await.is_err());

    // Newest first, in pages, is the log read oldest first, reversed: nothing lost or doubled.
    let newest = all_pages(&supervisor, &AuditQuery::default(), 7).await;
    let mut oldest = Vec::new();
    let mut after = 0;
    loop {
        let page = supervisor.audit_page(Some(after), Some(5)).await.unwrap();
        oldest.extend(page.events);
        after = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    let seqs = |events: &[AuditEntry]| events.iter().map(|e| e.seq).collect::<Vec<_>>();
    let mut reversed = seqs(&oldest);
    reversed.reverse();
    assert_eq!(seqs(&newest), reversed);
    assert!(newest.len() > 10, "{}", newest.len());
    assert!(seqs(&newest).windows(2).all(|w| w[0] > w[1]));

    // The student's events carry the case's state before → after, and the student, masked.
    let submitted = all_pages(
        &supervisor,
        &AuditQuery {
            action: Some("submitted".into()),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    assert_eq!(submitted.len(), 1);
    let e = &submitted[0];
    assert_eq!(e.state_to.as_deref(), Some("pending_review"));
    assert!(e.state_from.is_some());
    assert_eq!(e.school_id.as_deref(), Some(fx.school_id.as_str()));
    let student = e.student.as_ref().unwrap();
    assert_eq!(student.name, fx.students[0].name);
    assert_eq!(student.student_no, fx.students[0].student_no);
    assert!(!student
        .id_number_masked
        .contains(&fx.students[0].id_number[6..14]));
    assert_eq!(student.id_number_masked.chars().count(), 18);

    // By who acted: the reviewer signed in, and nothing else.
    let me = reviewer.me().await.unwrap();
    let by_reviewer = all_pages(
        &supervisor,
        &AuditQuery {
            actor: Some(me.id.clone()),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    assert_eq!(actions(&by_reviewer), BTreeSet::from(["login".to_string()]));
    // People are named: the account that signed in, and the student who submitted.
    assert_eq!(by_reviewer[0].actor_name.as_deref(), Some("reviewer1"));
    assert_eq!(by_reviewer[0].subject_name.as_deref(), Some("reviewer1"));
    assert_eq!(e.actor_name.as_deref(), Some(fx.students[0].name.as_str()));

    // A failed sign-in is about no school; filtering by the school leaves it out.
    let failed = all_pages(
        &supervisor,
        &AuditQuery {
            action: Some(AuditAction::LoginFailed.code().into()),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].school_id, None);
    let of_school = all_pages(
        &supervisor,
        &AuditQuery {
            school: Some(fx.school_id.clone()),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    assert!(!of_school.is_empty());
    assert!(of_school
        .iter()
        .all(|e| e.school_id.as_deref() == Some(fx.school_id.as_str())));
    assert!(!actions(&of_school).contains("login_failed"));

    // A time range: from the submission on, nothing earlier.
    let since = all_pages(
        &supervisor,
        &AuditQuery {
            from_ms: Some(e.at_ms),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    assert!(since.iter().all(|x| x.at_ms >= e.at_ms));
    assert!(since.iter().any(|x| x.seq == e.seq));
    let before = all_pages(
        &supervisor,
        &AuditQuery {
            to_ms: Some(e.at_ms),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    assert!(before.iter().all(|x| x.at_ms < e.at_ms));
    assert_eq!(before.len() + since.len(), newest.len());

    // Bad filters are named.
    let err = supervisor
        .audit_search(&AuditQuery {
            action: Some("no_such_action".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        api_error(err).await,
        (400, ErrorCode::BadRequest, Some("action".into()))
    );
    let err = supervisor
        .audit_search(&AuditQuery {
            from_ms: Some(10),
            to_ms: Some(10),
            ..AuditQuery::default()
        })
        .await
        .unwrap_err();
    assert_eq!(api_error(err).await.2.as_deref(), Some("from_ms"));
    // Reviewers have no history.
    let err = reviewer
        .audit_search(&AuditQuery::default())
        .await
        .unwrap_err();
    assert_eq!(api_error(err).await.0, 403);
    server.stop().await;
}

async fn a_student_is_found_by_name_number_or_id_number_within_the_supervisors_school(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let base = &server.base_url;
    // The same person on two schools' rosters.
    let a = fixture::seed(state, 2, &fixture::policy(0)).await;
    let b = fixture::seed_school(state, "另一所大学", 1, &fixture::policy(0)).await;
    let anon = server.client();
    flows::to_pending(&anon, &a.students[0]).await;
    flows::to_pending(&anon, &b.students[0]).await;
    flows::claim(&anon, &a.students[1]).await;
    let everywhere = fixture::staff(state, base, "supervisor1", Role::Supervisor).await;
    let school_b = fixture::staff_of(
        state,
        base,
        "supervisor2",
        Role::Supervisor,
        Some(&b.school_id),
    )
    .await;

    let find = |client: &Client, who: &str| {
        let query = AuditQuery {
            student: Some(who.to_string()),
            ..AuditQuery::default()
        };
        let client = client.clone();
        async move { all_pages(&client, &query, 50).await }
    };
    let cases = |events: &[AuditEntry]| -> BTreeSet<String> {
        events.iter().map(|e| e.subject.clone()).collect()
    };
    let one = &a.students[0];
    let both = BTreeSet::from([one.case_id.clone(), b.students[0].case_id.clone()]);
    // By name, by student number, by ID number as typed (lower-case x, spaces): both schools'
    // records of the person for a supervisor of every school.
    assert_eq!(cases(&find(&everywhere, &one.name).await), both);
    assert_eq!(cases(&find(&everywhere, &one.student_no).await), both);
    let typed = format!(
        " {} {} ",
        &one.id_number[..6],
        one.id_number[6..].to_lowercase()
    );
    let by_id = find(&everywhere, &typed).await;
    assert_eq!(cases(&by_id), both);
    assert!(by_id.iter().all(|e| e.student.is_some()));
    // The other student's events are not among them.
    let other = find(&everywhere, &a.students[1].name).await;
    assert_eq!(
        cases(&other),
        BTreeSet::from([a.students[1].case_id.clone()])
    );
    // Nobody by that name: nothing.
    assert!(find(&everywhere, "查无此人").await.is_empty());

    // A supervisor of school B sees B's record only, and cannot ask for school A.
    assert_eq!(
        cases(&find(&school_b, &one.name).await),
        BTreeSet::from([b.students[0].case_id.clone()])
    );
    let all_b = all_pages(&school_b, &AuditQuery::default(), 50).await;
    assert!(!all_b.is_empty());
    assert!(all_b
        .iter()
        .all(|e| e.school_id.as_deref() == Some(b.school_id.as_str())));
    let err = school_b
        .audit_search(&AuditQuery {
            school: Some(a.school_id.clone()),
            ..AuditQuery::default()
        })
        .await
        .unwrap_err();
    assert_eq!(api_error(err).await.0, 403);
    server.stop().await;
}

async fn an_id_number_is_revealed_only_with_a_reason_and_the_reveal_is_recorded(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let base = &server.base_url;
    let a = fixture::seed(state, 1, &fixture::policy(0)).await;
    let b = fixture::seed_school(state, "另一所大学", 1, &fixture::policy(0)).await;
    let anon = server.client();
    // Before submission: the history still names the student, and a supervisor may reveal.
    flows::claim(&anon, &a.students[0]).await;
    let supervisor = fixture::staff(state, base, "supervisor1", Role::Supervisor).await;
    let school_b = fixture::staff_of(
        state,
        base,
        "supervisor2",
        Role::Supervisor,
        Some(&b.school_id),
    )
    .await;
    let events = all_pages(
        &supervisor,
        &AuditQuery {
            student: Some(a.students[0].student_no.clone()),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    let student_id = events[0].student.as_ref().unwrap().student_id.clone();

    let err = supervisor
        .reveal_id_number(&student_id, "  ")
        .await
        .unwrap_err();
    assert_eq!(api_error(err).await.1, ErrorCode::ReasonRequired);
    let err = school_b
        .reveal_id_number(&student_id, "核对身份")
        .await
        .unwrap_err();
    assert_eq!(api_error(err).await.0, 404, "another school's student");
    let revealed = supervisor
        .reveal_id_number(&student_id, "学生来电核对身份")
        .await
        .unwrap();
    assert_eq!(revealed, a.students[0].id_number);

    let reveals = all_pages(
        &supervisor,
        &AuditQuery {
            action: Some(AuditAction::IdNumberViewed.code().into()),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    assert_eq!(reveals.len(), 1, "refused reveals leave no record");
    assert_eq!(reveals[0].subject, a.students[0].case_id);
    assert_eq!(reveals[0].details["reason"], "学生来电核对身份");
    assert_eq!(reveals[0].actor_id, supervisor.me().await.unwrap().id);
    server.stop().await;
}

async fn the_export_is_every_matching_event_as_csv_and_is_itself_recorded(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let base = &server.base_url;
    let fx = fixture::seed(state, 2, &fixture::policy(0)).await;
    let anon = server.client();
    flows::to_pending(&anon, &fx.students[0]).await;
    flows::to_pending(&anon, &fx.students[1]).await;
    let supervisor = fixture::staff(state, base, "supervisor1", Role::Supervisor).await;

    let query = AuditQuery {
        student: Some(fx.students[0].name.clone()),
        ..AuditQuery::default()
    };
    let expected = all_pages(&supervisor, &query, 50).await;
    let file = supervisor.audit_export(&query).await.unwrap();
    assert_eq!(
        file.content_type.as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let bytes = file.bytes.to_vec();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for spreadsheets");
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "序号 seq");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // Oldest first, the same events the pages list, with the student masked.
    let mut seqs: Vec<i64> = expected.iter().map(|e| e.seq).collect();
    seqs.reverse();
    let exported: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(exported, seqs);
    for r in &rows {
        assert_eq!(&r[8], fx.students[0].name.as_str());
        assert!(!r
            .iter()
            .any(|cell| cell.contains(&fx.students[0].id_number)));
    }

    // The export is on record, with how many events it held.
    let exports = all_pages(
        &supervisor,
        &AuditQuery {
            action: Some(AuditAction::AuditExported.code().into()),
            ..AuditQuery::default()
        },
        50,
    )
    .await;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].details["events"], rows.len());
    server.stop().await;
}

async fn a_case_timeline_holds_every_attempt_decision_and_event_of_the_student(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let base = &server.base_url;
    let a = fixture::seed(state, 1, &fixture::policy(0)).await;
    let b = fixture::seed_school(state, "另一所大学", 1, &fixture::policy(0)).await;
    let anon = server.client();
    let student = flows::to_pending(&anon, &a.students[0]).await;
    let reviewer = fixture::staff(state, base, "reviewer1", Role::Reviewer).await;
    let case_id = a.students[0].case_id.clone();
    reviewer
        .claim(&gradphoto_api::review::ClaimRequest {
            case_id: Some(case_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    reviewer
        .decide(
            &case_id,
            "timeline-d1",
            gradphoto_api::review::Verdict::Reject {
                reasons: vec!["background".into()],
                comment: Some("背景不是纯色".into()),
            },
        )
        .await
        .unwrap();
    // The student retakes: a second attempt in the next round.
    student.retake().await.unwrap();
    flows::upload_checked(&student, support::photos::portrait()).await;
    let supervisor = fixture::staff(state, base, "supervisor1", Role::Supervisor).await;

    let t = supervisor.case_timeline(&case_id).await.unwrap();
    assert_eq!(t.student.name, a.students[0].name);
    assert!(!t
        .student
        .id_number_masked
        .contains(&a.students[0].id_number[6..14]));
    assert_eq!(t.attempts.len(), 2);
    assert!(t.attempts[0].submitted);
    assert_eq!(t.attempts[0].round + 1, t.attempts[1].round);
    assert!(t.attempts.iter().all(|x| x.overall.is_some()));
    assert_eq!(t.decisions.len(), 1);
    assert_eq!(t.decisions[0].reasons, vec!["background".to_string()]);
    assert_eq!(t.decisions[0].comment.as_deref(), Some("背景不是纯色"));
    let actions: Vec<&str> = t.events.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "code_claimed",
        "submitted",
        "claimed",
        "rejected",
        "retake_started",
        "photo_uploaded",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(t.events.windows(2).all(|w| w[0].seq < w[1].seq));
    // Each attempt's standardized photo opens from the timeline.
    let url = t.attempts[1].standardized_url.clone().unwrap();
    let photo = supervisor.timeline_photo(&url).await.unwrap();
    assert!(photo.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));

    // Another school's supervisor does not see the case at all.
    let school_b = fixture::staff_of(
        state,
        base,
        "supervisor2",
        Role::Supervisor,
        Some(&b.school_id),
    )
    .await;
    let err = school_b.case_timeline(&case_id).await.unwrap_err();
    assert_eq!(api_error(err).await.0, 404);
    let err = school_b.timeline_photo(&url).await.unwrap_err();
    assert_eq!(api_error(err).await.0, 404);
    server.stop().await;
}
