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
