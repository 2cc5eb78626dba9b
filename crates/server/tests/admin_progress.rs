//! Collection progress for administrators: students counted at each stage per college, major
//! and level, the students behind a count page by page, and the same list as a CSV that Excel
//! opens. Only administrators of the school see it. Every story runs on SQLite and on a
//! throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::admin::{ProgressQuery, SchoolProgress};
use gradphoto_api::error::ErrorCode;
use gradphoto_client::ClientError;
use gradphoto_domain::progress::Stage;
use gradphoto_domain::role::Role;
use gradphoto_server::store::{students, Actor};
use support::{fixture, flows, photos, Db, TestServer};

stories!(
    every_student_is_counted_at_their_stage_and_listed_behind_the_count,
    progress_is_for_the_schools_own_administrators,
);

fn code(err: ClientError) -> (u16, ErrorCode) {
    match err {
        ClientError::Api { status, body } => (status, body.code),
        other => panic!("{other:?}"),
    }
}

fn count(p: &SchoolProgress, stage: Stage) -> u64 {
    p.stages
        .iter()
        .find(|s| s.stage == stage)
        .map(|s| s.count)
        .unwrap()
}

fn by_stage(stage: Stage) -> ProgressQuery {
    ProgressQuery {
        stage: Some(stage.code().into()),
        ..ProgressQuery::default()
    }
}

async fn every_student_is_counted_at_their_stage_and_listed_behind_the_count(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let mut policy = fixture::policy(0);
    policy.submission_deadline = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let fx = fixture::seed(state, 5, &policy).await;
    // Two more students of another college, on the roster without a code yet.
    let mut later = fixture::records(fixture::SCHOOL, 7).split_off(5);
    for r in &mut later {
        r.college = "理学院".into();
        r.major = "数学".into();
    }
    let mut tx = state.store.begin().await.unwrap();
    students::import_as(
        &mut tx,
        &state.crypto,
        &Actor::new(Role::Admin, "test"),
        &later,
        &policy,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let base = server.client();
    let s = &fx.students;
    flows::claim(&base, &s[1]).await;
    flows::to_ready(&base, &s[2]).await;
    let taking = flows::to_ready(&base, &s[3]).await;
    flows::upload_checked(&taking, photos::portrait()).await;
    flows::to_pending(&base, &s[4]).await;

    let admin = fixture::staff(state, &server.base_url, "admin1", Role::Admin).await;
    let p = admin.school_progress(&fx.school_id).await.unwrap();
    assert_eq!(p.total, 7);
    assert_eq!(p.days_left, Some(30));
    let expected = [
        (Stage::NoCode, 2),
        (Stage::CodeNotOpened, 1),
        (Stage::Opened, 1),
        (Stage::Paid, 1),
        (Stage::PhotoTaken, 1),
        (Stage::Submitted, 1),
        (Stage::Approved, 0),
    ];
    for (stage, n) in expected {
        assert_eq!(count(&p, stage), n, "{stage:?}");
    }
    assert_eq!(p.stages.len(), Stage::ALL.len());
    // One row per college, major and level; each row's counts add up to its students.
    assert_eq!(p.groups.len(), 2);
    let science = p.groups.iter().find(|g| g.college == "理学院").unwrap();
    assert_eq!(science.major, "数学");
    assert_eq!(science.counts[Stage::NoCode.index()], 2);
    assert_eq!(science.counts.iter().sum::<u64>(), 2);

    support::progress::assert_counts_follow_the_cases(state).await;

    // A student moved to another college takes their count along; a revoked code and a
    // re-issued one move the student between "no code" and "code not opened".
    sqlx::query("UPDATE students SET college = '理学院', major = '数学' WHERE student_no = $1")
        .bind(&s[0].student_no)
        .execute(state.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE codes SET status = 'revoked' WHERE case_id = $1")
        .bind(&s[0].case_id)
        .execute(state.store.pool())
        .await
        .unwrap();
    support::progress::assert_counts_follow_the_cases(state).await;
    let moved = admin.school_progress(&fx.school_id).await.unwrap();
    assert_eq!(count(&moved, Stage::NoCode), 3);
    assert_eq!(count(&moved, Stage::CodeNotOpened), 0);
    assert_eq!(
        moved
            .groups
            .iter()
            .find(|g| g.college == "理学院")
            .unwrap()
            .counts[Stage::NoCode.index()],
        3
    );
    sqlx::query("UPDATE codes SET status = 'active' WHERE case_id = $1")
        .bind(&s[0].case_id)
        .execute(state.store.pool())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE students SET college = '计算机学院', major = '软件工程' WHERE student_no = $1",
    )
    .bind(&s[0].student_no)
    .execute(state.store.pool())
    .await
    .unwrap();
    support::progress::assert_counts_follow_the_cases(state).await;
    assert_eq!(admin.school_progress(&fx.school_id).await.unwrap(), p);

    // Behind every count are exactly its students.
    for st in Stage::ALL {
        let page = admin
            .progress_students(&fx.school_id, &by_stage(st))
            .await
            .unwrap();
        assert_eq!(page.total, count(&p, st), "{st:?}");
        assert_eq!(page.students.len() as u64, page.total, "{st:?}");
        assert!(page.students.iter().all(|x| x.stage == st));
    }
    let taken = admin
        .progress_students(&fx.school_id, &by_stage(Stage::PhotoTaken))
        .await
        .unwrap();
    assert_eq!(taken.students[0].student_no, s[3].student_no);
    assert_eq!(taken.students[0].stage_zh, "已拍照·未提交");

    // Filters combine; pages follow student numbers without gaps or repeats.
    let science_list = admin
        .progress_students(
            &fx.school_id,
            &ProgressQuery {
                college: Some("理学院".into()),
                ..ProgressQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(science_list.total, 2);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = admin
            .progress_students(
                &fx.school_id,
                &ProgressQuery {
                    after: after.clone(),
                    limit: Some(3),
                    ..ProgressQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 7);
        seen.extend(page.students.iter().map(|x| x.student_no.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 7);

    // The CSV: UTF-8 with a BOM, a bilingual header, one row per student of the list.
    let csv = admin
        .progress_csv(&fx.school_id, &by_stage(Stage::NoCode))
        .await
        .unwrap();
    assert!(csv.content_type.unwrap().starts_with("text/csv"));
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(csv.bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("学号 student_no"));
    assert!(lines[1].contains("理学院") && lines[1].contains("未发采集码"));

    // A stage that does not exist is refused by name.
    let err = admin
        .progress_students(
            &fx.school_id,
            &ProgressQuery {
                stage: Some("asleep".into()),
                ..ProgressQuery::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code(err), (400, ErrorCode::BadRequest));
    server.stop().await;
}

async fn progress_is_for_the_schools_own_administrators(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let fx = fixture::seed(state, 1, &fixture::policy(0)).await;
    let other = fixture::seed_school(state, "第二示范大学", 1, &fixture::policy(0)).await;
    let admin_b = fixture::staff_of(
        state,
        &server.base_url,
        "admin_b",
        Role::Admin,
        Some(&other.school_id),
    )
    .await;
    assert_eq!(
        code(admin_b.school_progress(&fx.school_id).await.unwrap_err()),
        (403, ErrorCode::Forbidden)
    );
    assert_eq!(
        code(
            admin_b
                .progress_csv(&fx.school_id, &ProgressQuery::default())
                .await
                .unwrap_err()
        ),
        (403, ErrorCode::Forbidden)
    );
    assert_eq!(
        admin_b
            .school_progress(&other.school_id)
            .await
            .unwrap()
            .total,
        1
    );
    for role in [Role::Reviewer, Role::Supervisor] {
        let staff = fixture::staff(state, &server.base_url, role.as_str(), role).await;
        assert_eq!(
            code(staff.school_progress(&fx.school_id).await.unwrap_err()),
            (403, ErrorCode::Forbidden)
        );
        assert_eq!(
            code(
                staff
                    .progress_students(&fx.school_id, &ProgressQuery::default())
                    .await
                    .unwrap_err()
            ),
            (403, ErrorCode::Forbidden)
        );
    }
    server.stop().await;
}
