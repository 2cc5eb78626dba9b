//! Staff accounts as administrators manage them over HTTP: listed, disabled (the account's
//! sessions end at once and it cannot sign in until enabled again), given another role (its
//! sessions end; the new role applies from its next sign-in) or a new password (the old one
//! stops working). Nobody changes their own account, and administrators bound to one school
//! manage only its accounts. Every story runs on SQLite and on a throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::admin::StaffChange;
use gradphoto_api::error::ErrorCode;
use gradphoto_client::{Client, ClientError};
use gradphoto_domain::role::Role;
use support::{fixture, Db, TestServer};

stories!(
    disabling_an_account_ends_its_sessions_at_once,
    a_new_role_or_password_takes_effect_at_the_next_sign_in,
    nobody_changes_their_own_account_and_school_admins_only_theirs,
);

fn code(err: ClientError) -> (u16, ErrorCode) {
    match err {
        ClientError::Api { status, body } => (status, body.code),
        other => panic!("{other:?}"),
    }
}

async fn sign_in(
    server: &TestServer,
    username: &str,
    password: &str,
) -> Result<Client, ClientError> {
    let mut c = server.client();
    c.login(username, password).await?;
    Ok(c)
}

/// A change that only disables (or enables) the account.
fn disabling(disabled: bool) -> StaffChange {
    StaffChange {
        disabled: Some(disabled),
        ..StaffChange::default()
    }
}

/// A change that only gives the account a role.
fn giving(role: Role) -> StaffChange {
    StaffChange {
        role: Some(role),
        ..StaffChange::default()
    }
}

async fn id_of(admin: &Client, username: &str) -> String {
    admin
        .staff_accounts()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.username == username)
        .unwrap_or_else(|| panic!("no account {username}"))
        .id
}

async fn disabling_an_account_ends_its_sessions_at_once(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    fixture::seed(state, 1, &fixture::policy(0)).await;
    let admin = fixture::staff(state, &server.base_url, "admin1", Role::Admin).await;
    let reviewer = fixture::staff(state, &server.base_url, "reviewer1", Role::Reviewer).await;
    let password = "reviewer1-Passw0rd!";
    reviewer.me().await.unwrap();

    let accounts = admin.staff_accounts().await.unwrap();
    let listed = accounts.iter().find(|a| a.username == "reviewer1").unwrap();
    assert_eq!((listed.role, listed.disabled), (Role::Reviewer, false));

    let id = id_of(&admin, "reviewer1").await;
    let disabled = admin.change_staff(&id, &disabling(true)).await.unwrap();
    assert!(disabled.disabled);
    // The token in use stops working at its next request; signing in again is refused.
    assert_eq!(code(reviewer.me().await.unwrap_err()).0, 401);
    assert!(sign_in(&server, "reviewer1", password).await.is_err());

    // Enabled again: signing in works; the old token stays ended.
    admin.change_staff(&id, &disabling(false)).await.unwrap();
    assert_eq!(code(reviewer.me().await.unwrap_err()).0, 401);
    sign_in(&server, "reviewer1", password)
        .await
        .unwrap()
        .me()
        .await
        .unwrap();
    server.stop().await;
}

async fn a_new_role_or_password_takes_effect_at_the_next_sign_in(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    fixture::seed(state, 1, &fixture::policy(0)).await;
    let admin = fixture::staff(state, &server.base_url, "admin1", Role::Admin).await;
    let reviewer = fixture::staff(state, &server.base_url, "reviewer1", Role::Reviewer).await;
    let id = id_of(&admin, "reviewer1").await;

    let promoted = admin
        .change_staff(&id, &giving(Role::Supervisor))
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Supervisor);
    assert_eq!(code(reviewer.me().await.unwrap_err()).0, 401);
    let again = sign_in(&server, "reviewer1", "reviewer1-Passw0rd!")
        .await
        .unwrap();
    assert_eq!(again.me().await.unwrap().role, Role::Supervisor);
    // A student is not a staff role.
    let err = admin
        .change_staff(&id, &giving(Role::Student))
        .await
        .unwrap_err();
    assert_eq!(code(err), (400, ErrorCode::BadRole));

    let reset = admin.reset_staff_password(&id).await.unwrap();
    assert_eq!(reset.username, "reviewer1");
    assert!(reset.password.len() >= 12);
    assert_eq!(code(again.me().await.unwrap_err()).0, 401);
    assert!(sign_in(&server, "reviewer1", "reviewer1-Passw0rd!")
        .await
        .is_err());
    sign_in(&server, "reviewer1", &reset.password)
        .await
        .unwrap()
        .me()
        .await
        .unwrap();
    server.stop().await;
}

async fn nobody_changes_their_own_account_and_school_admins_only_theirs(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let a = fixture::seed(state, 1, &fixture::policy(0)).await;
    let b = fixture::seed_school(state, "第二示范大学", 1, &fixture::policy(0)).await;
    let vendor = fixture::staff(state, &server.base_url, "vendor", Role::Admin).await;
    let bound = |name: &'static str, role: Role, school: &str| {
        let school = school.to_string();
        let base = server.base_url.clone();
        async move { fixture::staff_of(state, &base, name, role, Some(&school)).await }
    };
    let admin_b = bound("admin_b", Role::Admin, &b.school_id).await;
    bound("rev_a", Role::Reviewer, &a.school_id).await;
    bound("rev_b", Role::Reviewer, &b.school_id).await;

    // Their own account: refused, whoever asks.
    let own = id_of(&vendor, "vendor").await;
    let err = vendor
        .change_staff(&own, &disabling(true))
        .await
        .unwrap_err();
    assert_eq!(code(err), (409, ErrorCode::CannotChangeOwnAccount));
    vendor.me().await.unwrap();

    // School B's administrator lists and manages B's accounts only.
    let listed: Vec<String> = admin_b
        .staff_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(listed, vec!["admin_b".to_string(), "rev_b".to_string()]);
    let rev_a = id_of(&vendor, "rev_a").await;
    let disable = disabling(true);
    assert_eq!(
        code(admin_b.change_staff(&rev_a, &disable).await.unwrap_err()),
        (403, ErrorCode::Forbidden)
    );
    assert_eq!(
        code(admin_b.reset_staff_password(&rev_a).await.unwrap_err()),
        (403, ErrorCode::Forbidden)
    );
    let rev_b = id_of(&vendor, "rev_b").await;
    assert!(
        admin_b
            .change_staff(&rev_b, &disable)
            .await
            .unwrap()
            .disabled
    );
    server.stop().await;
}
