//! Administrator mode against a real server with the demo data: the schools managed, the
//! policy as a form saved as a new version, a fee typed wrong refused here, a value the server
//! refuses and a stale edit refused there, a sync engine that stays idle (an administrator
//! holds no photos), and the staff accounts.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use gradphoto_api::error::ErrorCode;
use gradphoto_desk_core::session::Keyring;
use gradphoto_desk_core::view::{SavePolicyRequest, SignInRequest};
use gradphoto_desk_core::{DeskError, Workstation};
use support::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_edits_the_policy_and_reviews_nothing() {
    let server = Server::start(900).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = Workstation::with_keyring(dir.path(), Keyring::new("org.gradphoto.desk.test"));
    let session = ws
        .sign_in(SignInRequest {
            server_url: server.url.clone(),
            user_name: "admin".into(),
            password: server.password("admin"),
            session_only: true,
        })
        .await
        .unwrap();
    assert_eq!(session.role, "admin");

    // No review work: a sync pass sends and pulls nothing, and reports no error.
    let status = ws.sync_pass().await.unwrap();
    assert_eq!((status.claimed, status.outbox, status.conflicts), (0, 0, 0));
    assert!(status.last_error.is_none(), "{status:?}");

    let schools = ws.admin_schools().await.unwrap();
    assert_eq!(schools.len(), 1);
    let policy = ws.school_policy(&schools[0].id).await.unwrap();
    assert_eq!(policy.version, 1);
    assert_eq!(policy.versions.len(), 1);
    assert_eq!(policy.backgrounds.len(), 3);

    let save = |fee: &str, max_kb: u32, on_version: i64| {
        let mut fields = policy.fields.clone();
        fields.fee_yuan = fee.into();
        fields.photo_max_kb = max_kb;
        fields.photo_background = "white".into();
        SavePolicyRequest {
            school_id: policy.school_id.clone(),
            on_version,
            fields,
        }
    };
    // A fee that is not an amount never leaves the workstation.
    let err = ws
        .save_school_policy(&save("twenty", 40, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, DeskError::InvalidInput { .. }), "{err:?}");
    // The server's own refusal comes back with its code.
    let err = ws.save_school_policy(&save("20", 25, 1)).await.unwrap_err();
    assert!(
        matches!(&err, DeskError::Server { status: 400, body } if body.code == ErrorCode::PolicyPhotoSizeWindow),
        "{err:?}"
    );

    let saved = ws.save_school_policy(&save("19.5", 40, 1)).await.unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(saved.fields.fee_yuan, "19.50");
    assert_eq!(saved.fields.photo_background, "white");
    assert_eq!(saved.versions.len(), 2);
    assert_eq!(saved.versions[0].changed_by, "admin");

    // Made on version 1 again: someone (this form, earlier) has replaced it.
    let err = ws.save_school_policy(&save("25", 40, 1)).await.unwrap_err();
    assert!(
        matches!(&err, DeskError::Server { status: 409, body } if body.code == ErrorCode::PolicyVersionStale),
        "{err:?}"
    );
    assert_eq!(
        ws.school_policy(&policy.school_id)
            .await
            .unwrap()
            .fields
            .fee_yuan,
        "19.50"
    );

    // Staff accounts: the reviewer is listed, disabled and enabled again; a role outside the
    // list is refused here; a new password comes back once.
    let staff = ws.staff_accounts().await.unwrap();
    let reviewer = staff.iter().find(|a| a.username == "reviewer").unwrap();
    assert_eq!(
        (reviewer.role.as_str(), reviewer.role_zh.as_str()),
        ("reviewer", "审核员")
    );
    assert!(
        ws.set_staff_disabled(&reviewer.id, true)
            .await
            .unwrap()
            .disabled
    );
    assert!(
        !ws.set_staff_disabled(&reviewer.id, false)
            .await
            .unwrap()
            .disabled
    );
    let err = ws
        .set_staff_role(&reviewer.id, "student")
        .await
        .unwrap_err();
    assert!(matches!(err, DeskError::InvalidInput { .. }), "{err:?}");
    let reset = ws.reset_staff_password(&reviewer.id).await.unwrap();
    assert_eq!(reset.username, "reviewer");
    assert!(!reset.password.is_empty());
    let own = staff.iter().find(|a| a.username == "admin").unwrap();
    let err = ws.set_staff_disabled(&own.id, true).await.unwrap_err();
    assert!(
        matches!(&err, DeskError::Server { status: 409, body } if body.code == ErrorCode::CannotChangeOwnAccount),
        "{err:?}"
    );
}

/// The progress dashboard over the demo school: rows summed by college and by level count the
/// same students as the stages, a count lists its students page by page, and a list saved as
/// CSV holds every one of them, in a file named for what it lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_follows_progress_and_saves_a_reminder_list() {
    use gradphoto_desk_core::view::ProgressFilterView;

    let server = Server::start(900).await;
    let (_dir, ws) = signed_in_admin(&server).await;
    let school = ws.admin_schools().await.unwrap().remove(0);
    let by_college = ws.progress(&school.id, "college").await.unwrap();
    assert!(by_college.total > 0);
    let staged: u64 = by_college.stages.iter().map(|s| s.count).sum();
    assert_eq!(staged, by_college.total);
    let rows: u64 = by_college.rows.iter().map(|r| r.total).sum();
    assert_eq!(rows, by_college.total);
    let by_level = ws.progress(&school.id, "level").await.unwrap();
    assert_eq!(
        by_level.rows.iter().map(|r| r.total).sum::<u64>(),
        by_college.total
    );
    assert!(by_level.rows.iter().all(|r| r.college.is_empty()));
    assert!(matches!(
        ws.progress(&school.id, "weather").await.unwrap_err(),
        DeskError::InvalidInput { .. }
    ));

    let stage = by_college
        .stages
        .iter()
        .find(|s| s.to_act && s.count > 0)
        .expect("students with something to do");
    let filter = ProgressFilterView {
        stage: stage.code.clone(),
        ..ProgressFilterView::default()
    };
    let page = ws
        .progress_students(&school.id, &filter, None)
        .await
        .unwrap();
    assert_eq!(page.total, stage.count);
    assert!(page.students.iter().all(|s| s.stage == stage.code));

    let out = tempfile::tempdir().unwrap();
    let saved = ws
        .progress_export(&school.id, &filter, out.path())
        .await
        .unwrap();
    assert_eq!(saved.rows, stage.count);
    assert!(saved.path.contains(&stage.code), "{}", saved.path);
    let bytes = std::fs::read(&saved.path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(text.lines().count() as u64, stage.count + 1);
    // Nothing half-written is left beside it.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
}

/// Codes over the demo school: codes for those without one, sheets and links of the codes not
/// opened are saved as files named for what they hold, and one student's code is re-issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_hands_out_codes_as_sheets_and_links() {
    use gradphoto_desk_core::view::ProgressFilterView;

    let server = Server::start(900).await;
    let (_dir, ws) = signed_in_admin(&server).await;
    let school = ws.admin_schools().await.unwrap().remove(0);
    let progress = ws.progress(&school.id, "college").await.unwrap();
    let count = |p: &gradphoto_desk_core::view::ProgressView, code: &str| {
        p.stages.iter().find(|s| s.code == code).unwrap().count
    };
    let issued = ws.issue_codes(&school.id, "", false).await.unwrap();
    assert_eq!(issued.issued, count(&progress, "no_code"));
    assert_eq!(issued.issued + issued.unchanged, progress.total);
    let progress = ws.progress(&school.id, "college").await.unwrap();
    assert_eq!(count(&progress, "no_code"), 0, "everyone holds a code now");

    let not_opened = ProgressFilterView {
        stage: "code_not_opened".into(),
        ..ProgressFilterView::default()
    };
    let expected = progress
        .stages
        .iter()
        .find(|s| s.code == "code_not_opened")
        .unwrap()
        .count;
    let out = tempfile::tempdir().unwrap();
    let pdf = ws
        .save_codes(&school.id, &not_opened, "pdf", out.path())
        .await
        .unwrap();
    assert_eq!(pdf.rows, expected);
    assert!(pdf.path.ends_with(".pdf") && pdf.path.contains("code_not_opened"));
    assert!(std::fs::read(&pdf.path).unwrap().starts_with(b"%PDF-"));
    let csv = ws
        .save_codes(&school.id, &not_opened, "csv", out.path())
        .await
        .unwrap();
    assert_eq!(csv.rows, expected);
    let text = std::fs::read_to_string(&csv.path).unwrap();
    assert_eq!(text.lines().count() as u64, expected + 1);
    assert!(matches!(
        ws.save_codes(&school.id, &not_opened, "docx", out.path())
            .await
            .unwrap_err(),
        DeskError::InvalidInput { .. }
    ));
    // Two files, nothing half-written beside them.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2);

    let one = ws
        .progress_students(&school.id, &not_opened, None)
        .await
        .unwrap()
        .students
        .remove(0);
    let again = ws
        .issue_codes(&school.id, &one.student_no, true)
        .await
        .unwrap();
    assert_eq!(again.issued, 1);
    let link = again.link.unwrap();
    assert!(text.lines().any(|l| l.contains(&one.student_no)));
    assert!(!text.contains(&link), "the re-issued code is a new one");
}

/// A workstation signed in as the demo's administrator (its data in the directory returned).
async fn signed_in_admin(server: &Server) -> (tempfile::TempDir, Workstation) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workstation::with_keyring(dir.path(), Keyring::new("org.gradphoto.desk.test"));
    ws.sign_in(SignInRequest {
        server_url: server.url.clone(),
        user_name: "admin".into(),
        password: server.password("admin"),
        session_only: true,
    })
    .await
    .unwrap();
    (dir, ws)
}
