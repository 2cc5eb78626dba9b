//! A school's policy as administrators change it over HTTP: read with its version, replaced
//! on that version (a change made meanwhile by someone else is refused, not overwritten),
//! every version kept, every change audited with the settings it changed, each problem refused
//! with its own code and nothing stored; the portal and new photos follow the new policy.
//! Administrators bound to one school touch no other. Every story runs on SQLite and on a
//! throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::admin::PolicyUpdate;
use gradphoto_api::audit::AuditQuery;
use gradphoto_api::error::ErrorCode;
use gradphoto_client::{Client, ClientError};
use gradphoto_domain::role::Role;
use gradphoto_domain::spec::{Background, Rgb};
use support::{fixture, Db, TestServer};

stories!(
    an_administrator_changes_the_policy_and_the_portal_follows,
    a_bad_or_stale_change_is_refused_and_stores_nothing,
    administrators_of_one_school_touch_no_other,
);

/// A change made to a policy, for one refused update.
type Tweak = dyn Fn(&mut gradphoto_domain::policy::SchoolPolicy);

fn code(err: ClientError) -> (u16, ErrorCode) {
    match err {
        ClientError::Api { status, body } => (status, body.code),
        other => panic!("{other:?}"),
    }
}

async fn an_administrator_changes_the_policy_and_the_portal_follows(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let fx = fixture::seed(state, 1, &fixture::policy(0)).await;
    let admin = fixture::staff(state, &server.base_url, "admin1", Role::Admin).await;

    let before = admin.school_policy(&fx.school_id).await.unwrap();
    assert_eq!(before.version, 1);
    assert_eq!(before.policy, fixture::policy(0));

    let mut policy = before.policy.clone();
    policy.support_phone = "010-88886666".into();
    policy.submission_deadline = "2027-06-30".into();
    policy.photo_background = Background::White;
    policy.privacy_version = "2027-01".into();
    policy.privacy_text_zh = "一、学校收集您的身份证图片。\n\n二、原始照片保留 30 天。".into();
    let after = admin
        .set_school_policy(
            &fx.school_id,
            &PolicyUpdate {
                on_version: 1,
                policy: policy.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(after.version, 2);
    assert_eq!(after.policy, policy);
    assert_eq!(after.spec.background, Rgb::WHITE);

    // The portal shows the school's new rules at once.
    let public = server
        .client()
        .public_school(Some(&fx.school_id))
        .await
        .unwrap();
    assert_eq!(public.school.support_phone, "010-88886666");
    assert_eq!(public.school.submission_deadline, "2027-06-30");
    let today = gradphoto_domain::calendar::cst_date(chrono::Utc::now().timestamp_millis());
    assert_eq!(
        public.school.days_left,
        Some((chrono::NaiveDate::from_ymd_opt(2027, 6, 30).unwrap() - today).num_days())
    );
    assert_eq!(public.spec.background, Rgb::WHITE);
    // A student opening their code reads the school's own agreement and its version.
    let claimed = server
        .client()
        .claim_code(&fx.students[0].code)
        .await
        .unwrap();
    assert_eq!(claimed.case.policy.privacy_version, "2027-01");
    assert!(claimed
        .case
        .policy
        .privacy_text_zh
        .starts_with("一、学校收集"));
    assert_eq!(claimed.case.policy.privacy_text_en, "");

    // Both versions are kept, the newest first, with who made them.
    let versions = admin.policy_versions(&fx.school_id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(versions[0].policy, policy);
    assert_eq!(versions[0].changed_by, "admin1");
    assert_eq!(versions[1].policy, fixture::policy(0));

    // The change is in the audit history, naming the settings it changed.
    let supervisor = fixture::staff(state, &server.base_url, "sup1", Role::Supervisor).await;
    let events = supervisor
        .audit_search(&AuditQuery {
            action: Some("policy_changed".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;
    let changed = events
        .iter()
        .find(|e| e.details["version"] == 2)
        .unwrap_or_else(|| panic!("no audit event of version 2: {events:?}"));
    assert_eq!(changed.subject, fx.school_id);
    assert_eq!(changed.details["from_version"], 1);
    assert_eq!(
        changed.details["changed"],
        serde_json::json!([
            "photo_background",
            "privacy_text_zh",
            "privacy_version",
            "submission_deadline",
            "support_phone"
        ])
    );
    server.stop().await;
}

async fn a_bad_or_stale_change_is_refused_and_stores_nothing(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let fx = fixture::seed(state, 1, &fixture::policy(0)).await;
    let admin = fixture::staff(state, &server.base_url, "admin1", Role::Admin).await;
    let other = fixture::staff(state, &server.base_url, "admin2", Role::Admin).await;
    let current = admin.school_policy(&fx.school_id).await.unwrap();
    let change = |f: &dyn Fn(&mut gradphoto_domain::policy::SchoolPolicy)| {
        let mut p = current.policy.clone();
        f(&mut p);
        PolicyUpdate {
            on_version: current.version,
            policy: p,
        }
    };

    // Each problem under its own code; the policy stays as it was.
    let bad: [(&Tweak, ErrorCode); 6] = [
        (
            &|p| p.privacy_text_zh = "x".repeat(20_001),
            ErrorCode::FieldTooLong,
        ),
        (
            &|p| p.support_phone.clear(),
            ErrorCode::PolicyMissingSupportPhone,
        ),
        (&|p| p.photo_max_kb = 25, ErrorCode::PolicyPhotoSizeWindow),
        (
            &|p| p.submission_deadline = "30/06/2027".into(),
            ErrorCode::PolicyBadDeadline,
        ),
        (
            &|p| p.rereview_percent = 150,
            ErrorCode::PolicyRereviewPercent,
        ),
        (
            &|p| p.holidays = vec!["soon".into()],
            ErrorCode::PolicyBadHoliday,
        ),
    ];
    for (f, want) in bad {
        let err = admin
            .set_school_policy(&fx.school_id, &change(f))
            .await
            .unwrap_err();
        assert_eq!(code(err), (400, want));
    }
    // A new agreement under the old version would leave consents naming the wrong text.
    let err = admin
        .set_school_policy(
            &fx.school_id,
            &change(&|p| p.privacy_text_zh = "学校自己的协议。".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(code(err), (409, ErrorCode::PolicyPrivacyVersionUnchanged));
    let unchanged = admin.school_policy(&fx.school_id).await.unwrap();
    assert_eq!(unchanged, current);
    assert_eq!(admin.policy_versions(&fx.school_id).await.unwrap().len(), 1);

    // Two administrators edit version 1: the first change lands, the second is refused.
    other
        .set_school_policy(
            &fx.school_id,
            &change(&|p| p.support_hours = "周一至周五 9:00–17:00".into()),
        )
        .await
        .unwrap();
    let err = admin
        .set_school_policy(&fx.school_id, &change(&|p| p.album_allowed = false))
        .await
        .unwrap_err();
    assert_eq!(code(err), (409, ErrorCode::PolicyVersionStale));
    let now = admin.school_policy(&fx.school_id).await.unwrap();
    assert_eq!(now.version, 2);
    assert!(now.policy.album_allowed, "the stale change was not applied");
    assert_eq!(now.policy.support_hours, "周一至周五 9:00–17:00");
    server.stop().await;
}

async fn administrators_of_one_school_touch_no_other(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let a = fixture::seed(state, 1, &fixture::policy(0)).await;
    let b = fixture::seed_school(state, "第二示范大学", 1, &fixture::policy(0)).await;
    let admin_b = fixture::staff_of(
        state,
        &server.base_url,
        "admin_b",
        Role::Admin,
        Some(&b.school_id),
    )
    .await;
    // A vendor's administrator (bound to no school) manages both; admin_b only their own.
    let vendor = fixture::staff(state, &server.base_url, "vendor", Role::Admin).await;
    let names = |list: Vec<gradphoto_api::admin::AdminSchool>| {
        list.into_iter().map(|s| s.id).collect::<Vec<_>>()
    };
    let mut both = vec![a.school_id.clone(), b.school_id.clone()];
    both.sort();
    let mut seen = names(vendor.admin_schools().await.unwrap());
    seen.sort();
    assert_eq!(seen, both);
    assert_eq!(
        names(admin_b.admin_schools().await.unwrap()),
        vec![b.school_id.clone()]
    );
    let own = admin_b.school_policy(&b.school_id).await.unwrap();
    let update = PolicyUpdate {
        on_version: own.version,
        policy: own.policy.clone(),
    };
    admin_b
        .set_school_policy(&b.school_id, &update)
        .await
        .unwrap();
    for err in [
        admin_b.school_policy(&a.school_id).await.unwrap_err(),
        admin_b
            .set_school_policy(&a.school_id, &update)
            .await
            .unwrap_err(),
        admin_b.policy_versions(&a.school_id).await.unwrap_err(),
    ] {
        assert_eq!(code(err), (403, ErrorCode::Forbidden));
    }
    // Reviewers and supervisors read no policy here.
    for role in [Role::Reviewer, Role::Supervisor] {
        let who: Client = fixture::staff(
            state,
            &server.base_url,
            &format!("{}1", role.as_str()),
            role,
        )
        .await;
        let err = who.school_policy(&a.school_id).await.unwrap_err();
        assert_eq!(code(err), (403, ErrorCode::Forbidden));
    }
    assert_eq!(
        admin_b.policy_versions(&b.school_id).await.unwrap().len(),
        2
    );
    server.stop().await;
}
