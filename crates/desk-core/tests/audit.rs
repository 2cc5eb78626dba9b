//! Supervisor mode's audit history against a real server with the demo data: pages and
//! filters, the reveal with a reason, the chain check and the CSV export to a file.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::sync::{Arc, Mutex};

use gradphoto_desk_core::session::Keyring;
use gradphoto_desk_core::view::{AuditFilterView, SignInRequest, StatsFilterView};
use gradphoto_desk_core::{DeskError, Workstation};
use support::Server;

async fn supervisor_desk(server: &Server, dir: &std::path::Path) -> Workstation {
    let ws = Workstation::with_keyring(dir, Keyring::new("org.gradphoto.desk.test"));
    let session = ws
        .sign_in(SignInRequest {
            server_url: server.url.clone(),
            user_name: "supervisor".into(),
            password: server.password("supervisor"),
            session_only: true,
        })
        .await
        .unwrap();
    assert_eq!(session.role, "supervisor");
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_pages_filters_reveals_verifies_and_exports_the_history() {
    let server = Server::start(900).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = supervisor_desk(&server, dir.path()).await;

    // Newest first, in pages of 50, each older than the last.
    let first = ws.audit_page(&AuditFilterView::default()).await.unwrap();
    assert_eq!(first.rows.len(), 50, "the demo leaves a long history");
    assert!(first.has_more);
    assert!(first.rows.windows(2).all(|w| w[0].seq > w[1].seq));
    let second = ws
        .audit_page(&AuditFilterView {
            before: Some(first.next_cursor),
            ..AuditFilterView::default()
        })
        .await
        .unwrap();
    assert!(second.rows[0].seq < first.rows[49].seq);

    // A student's history: every row about that student, masked, with state changes.
    let someone = first
        .rows
        .iter()
        .chain(&second.rows)
        .find_map(|r| r.student.clone())
        .expect("a case event among the newest");
    let theirs = ws
        .audit_page(&AuditFilterView {
            student: someone.student_no.clone(),
            ..AuditFilterView::default()
        })
        .await
        .unwrap();
    assert!(!theirs.rows.is_empty());
    assert!(theirs
        .rows
        .iter()
        .all(|r| r.student.as_ref().map(|s| &s.student_id) == Some(&someone.student_id)));
    assert!(theirs.rows.iter().any(|r| r.state_change_zh.is_some()));
    // People and states are named as people read them.
    assert!(theirs
        .rows
        .iter()
        .any(|r| r.actor_name.as_deref() == Some(someone.name.as_str())));
    assert!(theirs
        .rows
        .iter()
        .filter_map(|r| r.state_change_en.as_deref())
        .all(|c| !c.contains('_')));
    assert!(someone.id_number_masked.contains('*'));

    // A whole local day: today has every demo event; a day in the past has none.
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let on_day = |day: &str| AuditFilterView {
        from_day: day.into(),
        to_day: day.into(),
        ..AuditFilterView::default()
    };
    assert_eq!(ws.audit_page(&on_day(&today)).await.unwrap().rows.len(), 50);
    assert!(ws
        .audit_page(&on_day("2020-01-01"))
        .await
        .unwrap()
        .rows
        .is_empty());
    let bad = ws.audit_page(&on_day("2020-02-30")).await.unwrap_err();
    assert!(matches!(bad, DeskError::InvalidInput { .. }), "{bad:?}");

    // The reveal needs a reason, and is then itself in the history.
    let refused = ws.audit_reveal(&someone.student_id, " ").await.unwrap_err();
    assert!(
        matches!(&refused, DeskError::Server { status: 400, body } if body.code == gradphoto_api::error::ErrorCode::ReasonRequired),
        "{refused:?}"
    );
    let full = ws
        .audit_reveal(&someone.student_id, "核对学生来电")
        .await
        .unwrap();
    assert_eq!(full.len(), 18);
    let reveals = ws
        .audit_page(&AuditFilterView {
            action: "id_number_viewed".into(),
            ..AuditFilterView::default()
        })
        .await
        .unwrap();
    assert_eq!(
        reveals.rows[0].student.as_ref().unwrap().student_id,
        someone.student_id
    );
    assert!(reveals.rows[0].details.contains("核对学生来电"));

    // The chain holds.
    let chain = ws.audit_verify().await.unwrap();
    assert!(chain.ok, "{chain:?}");
    assert!(chain.checked > 50, "{chain:?}");

    // The export: the student's events, as a complete file, with progress up to the total.
    let out = tempfile::tempdir().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let done = ws
        .audit_export(
            &AuditFilterView {
                student: someone.student_no.clone(),
                ..AuditFilterView::default()
            },
            out.path(),
            move |p| log.lock().unwrap().push(p),
        )
        .await
        .unwrap();
    let bytes = std::fs::read(&done.path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.matches("\r\n").count() as u64, done.events + 1);
    assert!(text.contains(&someone.name));
    assert!(!text.contains(&full), "the export keeps ID numbers masked");
    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.total, Some(done.events));
    assert_eq!(last.written, done.events);
    // Only the finished file is left in the folder.
    let files: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_sees_the_statistics_charts_of_the_demo() {
    let server = Server::start(900).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = supervisor_desk(&server, dir.path()).await;
    let v = ws.stats(&StatsFilterView::default()).await.unwrap();
    let waiting = v
        .states
        .iter()
        .find(|b| b.label_en == "Waiting for review")
        .unwrap();
    assert_eq!(waiting.value, 3, "the demo has three submissions waiting");
    assert_eq!(v.days.len(), 30);
    assert_eq!(v.days.last().unwrap().day, v.to_day);
    // The demo's decisions, the same in the daily series as per reviewer, per school and
    // by turnaround (overrides aside).
    let by_day: i64 = v.days.iter().map(|d| d.approved + d.rejected).sum();
    let by_reviewer: i64 = v.reviewers.iter().map(|r| r.approved + r.rejected).sum();
    let by_school: i64 = v.schools.iter().map(|s| s.decisions).sum();
    let by_college: i64 = v.colleges.iter().map(|s| s.decisions).sum();
    assert!(by_day > 0);
    assert_eq!(by_day, by_reviewer);
    assert_eq!(by_day, by_school);
    assert_eq!(by_day, by_college);
    let turned: i64 = v.turnaround.iter().map(|t| t.within + t.late).sum();
    assert_eq!(turned, v.decided_within_sla + v.decided_late);
    assert!(turned > 0 && turned <= by_day);
    assert!(v
        .reviewers
        .iter()
        .all(|r| (0.0..=1.0).contains(&r.approval_rate) && r.median_seconds.is_some()));
    assert!(!v.reject_reasons.is_empty());
    assert_eq!(
        v.hints.decisions, turned,
        "every reviewer decision had an analysed photo"
    );
    let backlog: i64 = v.backlog.iter().map(|b| b.count).sum();
    assert_eq!(
        backlog,
        waiting.value + v.states.iter().find(|b| b.key == "InReview").unwrap().value
    );

    // The same figures the server gives, through the filters of the window.
    let college = v.colleges[0].key.clone();
    let only = ws
        .stats(&StatsFilterView {
            college: college.clone(),
            school: v.colleges[0].school_id.clone(),
            ..StatsFilterView::default()
        })
        .await
        .unwrap();
    assert!(only.colleges.iter().all(|c| c.key == college));
    assert_eq!(only.colleges[0].decisions, v.colleges[0].decisions);
    let one_day = ws
        .stats(&StatsFilterView {
            from_day: v.to_day.clone(),
            to_day: v.to_day.clone(),
            ..StatsFilterView::default()
        })
        .await
        .unwrap();
    assert_eq!(one_day.days.len(), 1);
    let today = v.days.last().unwrap();
    assert_eq!(
        one_day
            .reviewers
            .iter()
            .map(|r| r.approved + r.rejected)
            .sum::<i64>(),
        today.approved + today.rejected
    );
    // A range the server refuses comes back as its error.
    let err = ws
        .stats(&StatsFilterView {
            from_day: "2026-13-01".into(),
            ..StatsFilterView::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.view().code, "bad_date_range", "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_opens_the_timeline_of_a_rejected_student() {
    let server = Server::start(900).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = supervisor_desk(&server, dir.path()).await;
    let rejected = ws
        .audit_page(&AuditFilterView {
            action: "rejected".into(),
            ..AuditFilterView::default()
        })
        .await
        .unwrap();
    let case_id = rejected.rows[0].subject.clone();
    let t = ws.timeline(&case_id).await.unwrap();
    assert_eq!(t.case_id, case_id);
    assert!(!t.name.is_empty());
    assert!(t.id_number_masked.contains('*'));
    assert!(t
        .decisions
        .iter()
        .any(|d| d.kind == "reject" && !d.reasons.is_empty()));
    assert!(!t.attempts.is_empty());
    assert!(t.attempts.iter().any(|a| a.submitted));
    assert!(t.events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(t.events.iter().any(|e| e.action == "rejected"));
    let path = t
        .attempts
        .iter()
        .find_map(|a| a.photo_path.clone())
        .expect("a standardized photo");
    let url = ws.timeline_photo(&path).await.unwrap();
    assert!(
        url.starts_with("data:image/jpeg;base64,/9j/"),
        "{}",
        &url[..40]
    );
}
