//! The store test suite: every test runs against SQLite (a temporary file) and a real
//! PostgreSQL server.
#![allow(clippy::unwrap_used)]

mod common;

use gradphoto_api::error::ErrorCode;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use gradphoto_api::review::FlagReasons;
use gradphoto_domain::audit::{Actor, AuditAction};
use gradphoto_domain::measures::MeasureId;
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::role::Role;
use gradphoto_domain::roster::RosterRecord;
use gradphoto_domain::state::{CaseState, Event};
use gradphoto_server::crypto::Crypto;
use gradphoto_server::demo::{demo_id_number, demo_policy};
use gradphoto_server::objects::{ObjectKind, Objects};
use gradphoto_server::ratelimit::{self, Limit};
use gradphoto_server::store::{
    audit, cases, codes, jobs, review, schools, sessions, students, users, Backend, Store,
};

struct Db {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    Db {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> Db {
    let url = common::pg::PgCluster::shared().fresh_database().await;
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    Db { store, _dir: None }
}

/// Runs `test` on SQLite, then on PostgreSQL.
async fn on_both<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = sqlite().await;
    test(db.store.clone()).await;
    db.store.close().await;
    let db = postgres().await;
    test(db.store.clone()).await;
    db.store.close().await;
}

fn crypto() -> Arc<Crypto> {
    Arc::new(Crypto::from_master(&[7u8; 32]))
}

fn record(i: usize, student_no: &str) -> RosterRecord {
    RosterRecord {
        name: format!("学生{i}"),
        id_number: demo_id_number(i).unwrap(),
        student_no: student_no.to_string(),
        school: "测试大学".to_string(),
        college: "理学院".to_string(),
        major: "数学".to_string(),
        level: "本科".to_string(),
        graduation_year: 2025,
        enrollment_photo: None,
    }
}

async fn import(store: &Store, crypto: &Crypto, records: &[RosterRecord]) {
    let mut tx = store.begin().await.unwrap();
    students::import_as(
        &mut tx,
        crypto,
        &Actor::new(Role::Admin, "t"),
        records,
        &demo_policy(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn case_of(store: &Store, crypto: &Crypto, i: usize) -> cases::CaseRow {
    let school = schools::find_by_name(store, "测试大学")
        .await
        .unwrap()
        .unwrap();
    let s = students::find_by_id_number(
        store,
        crypto,
        &school.id,
        demo_id_number(i).unwrap().as_str(),
    )
    .await
    .unwrap()
    .unwrap();
    cases::get_by_student(store, &s.id).await.unwrap().unwrap()
}

#[tokio::test]
async fn migrations_apply_and_are_idempotent() {
    on_both(|store| async move {
        store.migrate().await.unwrap();
        let counters: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, value FROM counters ORDER BY name")
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert_eq!(
            counters,
            vec![("audit".to_string(), 0), ("case_change".to_string(), 0)]
        );
        for table in [
            "schools",
            "users",
            "students",
            "cases",
            "codes",
            "sessions",
            "consents",
            "orders",
            "attempts",
            "decisions",
            "audit_events",
            "jobs",
            "rate_limits",
        ] {
            assert_eq!(count(&store, table).await, 0, "{table}");
        }
    })
    .await;
}

/// Tables only PostgreSQL has, by design: the moves of a transaction the progress triggers sum
/// into `progress_counts` at commit (migration 0009; SQLite counts each move in place).
const POSTGRES_ONLY: [&str; 2] = ["progress_moves", "progress_flushes"];

/// Every table and column, with the kind of value it holds, as the database itself reports it.
async fn schema(store: &Store) -> BTreeMap<String, BTreeMap<String, &'static str>> {
    let rows: Vec<(String, String, String)> = match store.backend() {
        Backend::Sqlite => sqlx::query_as(
            "SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
        ),
        Backend::Postgres => sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
        ),
    }
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, &'static str>> = BTreeMap::new();
    for (table, column, ty) in rows {
        if store.backend() == Backend::Postgres && POSTGRES_ONLY.contains(&table.as_str()) {
            continue;
        }
        let ty = ty.to_ascii_lowercase();
        let kind = if ty.contains("int") {
            "integer"
        } else if ty.contains("text") || ty.contains("char") {
            "text"
        } else if ty.contains("blob") || ty.contains("bytea") {
            "bytes"
        } else if ty.contains("real") || ty.contains("double") || ty.contains("float") {
            "real"
        } else {
            panic!("{table}.{column}: column type {ty:?} is neither integer, text, bytes nor real")
        };
        out.entry(table).or_default().insert(column, kind);
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_define_the_same_tables_and_columns() {
    let lite = sqlite().await;
    let pg = postgres().await;
    let (a, b) = (schema(&lite.store).await, schema(&pg.store).await);
    assert!(a.len() >= 13, "the schema was read: {a:?}");
    let tables: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for table in tables {
        assert_eq!(
            a.get(table),
            b.get(table),
            "table {table}: SQLite (left) and PostgreSQL (right) differ"
        );
    }
    lite.store.close().await;
    pg.store.close().await;
}

#[tokio::test]
async fn a_failed_operation_leaves_no_rows_and_no_audit_event() {
    on_both(|store| async move {
        let admin = Actor::new(Role::Admin, "t");
        // Committed: one user, one audit event, chain valid.
        let mut tx = store.begin().await.unwrap();
        users::add(&mut tx, &admin, "rev", "Rev", Role::Reviewer, "h", None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&store, "users").await, 1);
        assert_eq!(audit::count(&store).await.unwrap(), 1);

        // Fails half-way: the first insert and its audit event are rolled back with it.
        let mut tx = store.begin().await.unwrap();
        users::add(&mut tx, &admin, "sup", "Sup", Role::Supervisor, "h", None)
            .await
            .unwrap();
        let err = users::add(&mut tx, &admin, "rev", "Again", Role::Reviewer, "h", None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::UsernameTaken);
        drop(tx);
        assert_eq!(count(&store, "users").await, 1);
        assert_eq!(audit::count(&store).await.unwrap(), 1);

        // An illegal transition changes nothing either.
        let crypto = crypto();
        import(&store, &crypto, &[record(1, "S1")]).await;
        let case = case_of(&store, &crypto, 1).await;
        let before_seq = case.change_seq;
        let mut tx = store.begin().await.unwrap();
        let err = cases::apply(
            &mut tx,
            &case,
            &Event::Submit { flagged: false },
            &Actor::new(Role::Student, &case.id),
            &demo_policy(),
            serde_json::json!({}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotAllowedInState);
        drop(tx);
        let after = cases::get(&store, &case.id).await.unwrap().unwrap();
        assert_eq!(after.state, CaseState::Invited);
        assert_eq!(after.change_seq, before_seq);
        // user_created + roster_imported; nothing from the refused transition.
        assert_eq!(audit::count(&store).await.unwrap(), 2);

        // A legal one moves state, bumps the sequence and is audited; the chain verifies.
        let mut tx = store.begin().await.unwrap();
        let next = cases::apply(
            &mut tx,
            &case,
            &Event::ClaimCode,
            &Actor::new(Role::Student, &case.id),
            &demo_policy(),
            serde_json::json!({}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(next, CaseState::Claimed);
        let after = cases::get(&store, &case.id).await.unwrap().unwrap();
        assert!(after.change_seq > before_seq);
        let events = audit::for_subject(&store, &case.id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, AuditAction::CodeClaimed);
        assert_eq!(audit::verify(&store).await.unwrap(), Ok(3));

        // Tampering with a stored event is detected at that event.
        sqlx::query("UPDATE audit_events SET subject = $1 WHERE seq = 1")
            .bind("someone-else")
            .execute(store.pool())
            .await
            .unwrap();
        let broken = audit::verify(&store).await.unwrap().unwrap_err();
        assert_eq!(broken.seq, 1);
    })
    .await;
}

#[tokio::test]
async fn id_numbers_are_encrypted_and_found_by_keyed_hash() {
    on_both(|store| async move {
        let crypto = crypto();
        import(&store, &crypto, &[record(1, "S1"), record(2, "S2")]).await;
        let school = schools::find_by_name(&store, "测试大学")
            .await
            .unwrap()
            .unwrap();
        let id = demo_id_number(2).unwrap();
        let found = students::find_by_id_number(&store, &crypto, &school.id, id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.student_no, "S2");
        assert_eq!(found.id_number_masked, id.masked());
        assert_eq!(
            students::reveal_id_number(&store, &crypto, &found.id)
                .await
                .unwrap(),
            id.as_str()
        );
        // Nothing in the row holds the number in clear.
        let (enc, hash): (Vec<u8>, String) =
            sqlx::query_as("SELECT id_number_enc, id_number_hash FROM students WHERE id = $1")
                .bind(&found.id)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(!enc
            .windows(id.as_str().len())
            .any(|w| w == id.as_str().as_bytes()));
        assert!(!hash.contains(id.as_str()));
        // Another key neither finds nor decrypts it.
        let other = Crypto::from_master(&[8u8; 32]);
        assert!(
            students::find_by_id_number(&store, &other, &school.id, id.as_str())
                .await
                .unwrap()
                .is_none()
        );
        assert!(students::reveal_id_number(&store, &other, &found.id)
            .await
            .is_err());
    })
    .await;
}

#[tokio::test]
async fn objects_are_encrypted_and_content_addressed() {
    let dir = tempfile::tempdir().unwrap();
    let local = object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    let objects = Objects::new(Arc::new(local), crypto());
    let photo = b"\xFF\xD8\xFF\xE0 a photo of someone \xFF\xD9".to_vec();
    let key = objects
        .put_sensitive(ObjectKind::Original, &photo)
        .await
        .unwrap();
    assert!(key.starts_with("originals/"));
    assert_eq!(objects.get_sensitive(&key).await.unwrap(), photo);
    // Same content, same name: stored once.
    assert_eq!(
        objects
            .put_sensitive(ObjectKind::Original, &photo)
            .await
            .unwrap(),
        key
    );
    let on_disk = std::fs::read(dir.path().join(&key)).unwrap();
    assert!(!on_disk.windows(14).any(|w| w == b"photo of someo"));
    // Other bytes get another name; a missing object is "not found".
    let other = objects
        .put_sensitive(ObjectKind::Original, b"other bytes")
        .await
        .unwrap();
    assert_ne!(other, key);
    objects.delete(&other).await.unwrap();
    assert_eq!(
        objects.get_sensitive(&other).await.unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn roster_import_is_all_or_nothing() {
    on_both(|store| async move {
        let crypto = crypto();
        import(&store, &crypto, &[record(1, "S1")]).await;
        assert_eq!(count(&store, "students").await, 1);
        assert_eq!(count(&store, "cases").await, 1);

        // Row 2 is new, row 3 takes S1's student number: nothing of the file is kept.
        let mut tx = store.begin().await.unwrap();
        let err = students::import_as(
            &mut tx,
            &crypto,
            &Actor::new(Role::Admin, "t"),
            &[record(2, "S2"), record(3, "S1")],
            &SchoolPolicy::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::StudentNoTaken);
        drop(tx);
        assert_eq!(count(&store, "students").await, 1);
        assert_eq!(count(&store, "cases").await, 1);

        // Re-importing a known ID number updates that student instead of duplicating it.
        let mut changed = record(1, "S1");
        changed.major = "统计学".into();
        let mut tx = store.begin().await.unwrap();
        let summary = students::import_as(
            &mut tx,
            &crypto,
            &Actor::new(Role::Admin, "t"),
            &[changed, record(2, "S2")],
            &SchoolPolicy::default(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!((summary.created, summary.updated), (1, 1));
        assert_eq!(count(&store, "students").await, 2);
        let s1 = case_of(&store, &crypto, 1).await;
        let row = students::get(&store, &s1.student_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.major, "统计学");
    })
    .await;
}

#[tokio::test]
async fn a_code_binds_to_its_first_session_and_reissue_revokes_it() {
    on_both(|store| async move {
        let crypto = crypto();
        import(&store, &crypto, &[record(1, "S1")]).await;
        let case = case_of(&store, &crypto, 1).await;
        let admin = Actor::new(Role::Admin, "t");
        let ttl = 3_600_000;

        let mut tx = store.begin().await.unwrap();
        let first = codes::issue(&mut tx, &crypto, &admin, &case.id, false)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(first.new);
        // Asking again without --reissue returns the same code.
        let mut tx = store.begin().await.unwrap();
        let again = codes::issue(&mut tx, &crypto, &admin, &case.id, false)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            (again.code.as_str(), again.new),
            (first.code.as_str(), false)
        );

        // First claim binds; typing it with spaces/lowercase is the same code.
        let typed = first.code.to_lowercase();
        let typed = format!("{} {}", &typed[..4], &typed[4..]);
        let mut tx = store.begin().await.unwrap();
        let claimed = codes::claim(&mut tx, &crypto, &typed, None, ttl)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let token = claimed.token.clone().unwrap();
        assert_eq!(
            cases::get(&store, &case.id).await.unwrap().unwrap().state,
            CaseState::Claimed
        );

        // Another session (or none) is refused; the binding session may re-open it.
        let mut tx = store.begin().await.unwrap();
        let err = codes::claim(&mut tx, &crypto, &first.code, None, ttl)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CodeAlreadyClaimed);
        let err = codes::claim(&mut tx, &crypto, &first.code, Some("not-my-session"), ttl)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CodeAlreadyClaimed);
        let reopened = codes::claim(
            &mut tx,
            &crypto,
            &first.code,
            Some(&sessions::token_hash(&token)),
            ttl,
        )
        .await
        .unwrap();
        assert_eq!(reopened.token, None);
        assert_eq!(reopened.case_id, case.id);
        drop(tx);

        // Re-issue: old code and its session stop working, the new code claims afresh.
        let mut tx = store.begin().await.unwrap();
        let second = codes::issue(&mut tx, &crypto, &admin, &case.id, true)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_ne!(second.code, first.code);
        let mut tx = store.begin().await.unwrap();
        let err = codes::claim(
            &mut tx,
            &crypto,
            &first.code,
            Some(&sessions::token_hash(&token)),
            ttl,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CodeRevoked);
        drop(tx);
        assert_eq!(
            codes::ensure_active(&store, &first.code_id)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::CodeRevoked
        );
        assert!(sessions::find_live(&store, &sessions::token_hash(&token))
            .await
            .unwrap()
            .is_none());
        let mut tx = store.begin().await.unwrap();
        let fresh = codes::claim(&mut tx, &crypto, &second.code, None, ttl)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(fresh.token.is_some());
        // The case stays claimed; the new claim is audited, not a second transition.
        let actions: Vec<AuditAction> = audit::for_subject(&store, &case.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            vec![
                AuditAction::CodeIssued,
                AuditAction::CodeClaimed,
                AuditAction::CodeReissued,
                AuditAction::CodeClaimed
            ]
        );
        let err = {
            let mut tx = store.begin().await.unwrap();
            codes::claim(&mut tx, &crypto, "NOSUCHCODE", None, ttl)
                .await
                .unwrap_err()
        };
        assert_eq!(err.code(), ErrorCode::CodeNotFound);
    })
    .await;
}

#[tokio::test]
async fn rate_limit_counts_attempts_per_window() {
    on_both(|store| async move {
        let limit = Limit {
            max_failures: 3,
            window_ms: 15 * 60_000,
        };
        ratelimit::check(&store, "identity:a", limit).await.unwrap();
        for left in [2, 1, 0] {
            assert_eq!(
                ratelimit::take(&store, "identity:a", limit).await.unwrap(),
                left
            );
        }
        let err = ratelimit::take(&store, "identity:a", limit)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::TooManyAttempts);
        let retry = err.retry_after_s.unwrap();
        assert!(retry > 0 && retry <= 15 * 60);
        let err = ratelimit::check(&store, "identity:a", limit)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::TooManyAttempts);
        // Other buckets are unaffected; a success gives its attempt back; a reset clears.
        ratelimit::check(&store, "identity:b", limit).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        ratelimit::give_back(&mut tx, "identity:a").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            ratelimit::take(&store, "identity:a", limit).await.unwrap(),
            0
        );
        let mut tx = store.begin().await.unwrap();
        ratelimit::reset(&mut tx, "identity:a").await.unwrap();
        tx.commit().await.unwrap();
        ratelimit::check(&store, "identity:a", limit).await.unwrap();
        // A window that has passed starts over.
        let expired = Limit {
            max_failures: 1,
            window_ms: 0,
        };
        for _ in 0..2 {
            assert_eq!(
                ratelimit::take(&store, "identity:c", expired)
                    .await
                    .unwrap(),
                0
            );
        }
    })
    .await;
}

/// Twenty parallel attempts against a limit of five: exactly five are let through, however
/// the requests interleave (the probe saw all twenty evaluated).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_attempts_cannot_slip_under_a_rate_limit() {
    on_both(|store| async move {
        let limit = Limit {
            max_failures: 5,
            window_ms: 15 * 60_000,
        };
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { ratelimit::take(&store, "identity:race", limit).await })
            })
            .collect();
        let mut passed = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => passed += 1,
                Err(e) => assert_eq!(e.code, ErrorCode::TooManyAttempts),
            }
        }
        assert_eq!(passed, 5);
    })
    .await;
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_job() {
    on_both(|store| async move {
        let mut tx = store.begin().await.unwrap();
        for i in 0..6 {
            jobs::enqueue(
                &mut tx,
                "analyze_attempt",
                &serde_json::json!({ "attempt_id": i }),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let claims = futures::future::join_all((0..8).map(|w| {
            let store = store.clone();
            async move {
                let mut mine = Vec::new();
                while let Some(job) = jobs::claim(&store, &format!("w{w}"), 60_000).await.unwrap() {
                    mine.push(job.id);
                }
                mine
            }
        }))
        .await;
        let mut all: Vec<String> = claims.into_iter().flatten().collect();
        assert_eq!(all.len(), 6);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 6, "a job was claimed twice");
        assert_eq!(jobs::pending_count(&store).await.unwrap(), 6);
        // A finished job is not pending any more.
        let mut tx = store.begin().await.unwrap();
        jobs::finish(&mut tx, &all[0]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(jobs::pending_count(&store).await.unwrap(), 5);
    })
    .await;
}

/// Applies one student event to a case and returns the case as stored afterwards.
async fn step(
    store: &Store,
    case_id: &str,
    event: Event,
    details: serde_json::Value,
) -> cases::CaseRow {
    let case = cases::get(store, case_id).await.unwrap().unwrap();
    let mut tx = store.begin().await.unwrap();
    cases::apply(
        &mut tx,
        &case,
        &event,
        &Actor::new(Role::Student, case_id),
        &demo_policy(),
        details,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    cases::get(store, case_id).await.unwrap().unwrap()
}

/// The reviewer's flag reasons are read from the latest submission's audit detail, in the
/// stored format (audit events are permanent, so the format cannot change under them); a
/// flagged submission recorded before reasons were written was flagged by the face comparison.
#[tokio::test]
async fn flag_reasons_come_from_the_latest_submission() {
    on_both(|store| async move {
        let crypto = crypto();
        import(&store, &crypto, &[record(1, "S1")]).await;
        let id = case_of(&store, &crypto, 1).await.id;
        for event in [
            Event::ClaimCode,
            Event::VerifyIdentity,
            Event::ConfirmRecord,
            Event::Pay,
        ] {
            step(&store, &id, event, serde_json::json!({})).await;
        }
        let case = step(
            &store,
            &id,
            Event::Submit { flagged: false },
            serde_json::json!({ "attempt_id": "a1" }),
        )
        .await;
        assert_eq!(review::flag_reasons(&store, &case).await.unwrap(), None);

        step(&store, &id, Event::Withdraw, serde_json::json!({})).await;
        let case = step(
            &store,
            &id,
            Event::Submit { flagged: true },
            serde_json::json!({
                "attempt_id": "a2",
                "flag": { "measures": ["sharpness", "tinted_glasses"], "face_mismatch": false },
            }),
        )
        .await;
        assert!(case.flagged);
        assert_eq!(
            review::flag_reasons(&store, &case).await.unwrap(),
            Some(FlagReasons {
                measures: vec![MeasureId::Sharpness, MeasureId::TintedGlasses],
                face_mismatch: false,
                face_unchecked: false,
            })
        );

        step(&store, &id, Event::Withdraw, serde_json::json!({})).await;
        let case = step(
            &store,
            &id,
            Event::Submit { flagged: true },
            serde_json::json!({ "attempt_id": "a3" }),
        )
        .await;
        assert_eq!(
            review::flag_reasons(&store, &case).await.unwrap(),
            Some(FlagReasons {
                measures: vec![],
                face_mismatch: true,
                face_unchecked: false,
            })
        );
    })
    .await;
}

/// One queued analysis job.
async fn one_job(store: &Store) -> String {
    let mut tx = store.begin().await.unwrap();
    let id = jobs::enqueue(
        &mut tx,
        jobs::KIND_ANALYZE_ATTEMPT,
        &serde_json::json!({ "attempt_id": "a1" }),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Claims as `worker` until a job comes free (bounded, so a job that never does fails the test
/// rather than hanging it).
async fn claim_when_free(store: &Store, worker: &str, lease_ms: i64) -> jobs::Job {
    for _ in 0..1200 {
        if let Some(job) = jobs::claim(store, worker, lease_ms).await.unwrap() {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the job never became claimable");
}

/// A worker that dies stops renewing: once its lease runs out another worker takes the job
/// over, and the dead worker's claim can no longer renew, complete or fail it.
#[tokio::test]
async fn a_job_whose_worker_stops_renewing_is_taken_over_after_its_lease() {
    on_both(|store| async move {
        let id = one_job(&store).await;
        let a = jobs::claim(&store, "a", 60_000).await.unwrap().unwrap();
        assert_eq!((a.id.as_str(), a.tries), (id.as_str(), 1));
        assert!(
            jobs::claim(&store, "b", 60_000).await.unwrap().is_none(),
            "a job was taken while its lease ran"
        );
        // The worker's last renewal, a short one; then it falls silent.
        assert!(jobs::renew(&store, &a, 200).await.unwrap());
        let b = claim_when_free(&store, "b", 60_000).await;
        assert_eq!(b.id, id);
        assert_eq!(b.tries, 2);
        assert_ne!(b.owner, a.owner);

        // The first claim is void: it neither keeps the job nor writes over the new owner.
        assert!(!jobs::renew(&store, &a, 60_000).await.unwrap());
        let mut tx = store.begin().await.unwrap();
        assert!(!jobs::complete(&mut tx, &a).await.unwrap());
        assert_eq!(
            jobs::fail(&mut tx, &a, "late").await.unwrap(),
            jobs::Failed::NotOwner
        );
        drop(tx);
        assert_eq!(jobs::pending_count(&store).await.unwrap(), 1);
        assert!(jobs::claim(&store, "c", 60_000).await.unwrap().is_none());

        let mut tx = store.begin().await.unwrap();
        assert!(jobs::complete(&mut tx, &b).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(jobs::pending_count(&store).await.unwrap(), 0);
    })
    .await;
}

/// A job whose worker keeps renewing (the worker's own heartbeat) is never claimed by
/// another, however long it runs — here for several times its lease; once the heartbeat
/// stops, the job comes free again. The lease is twenty renewals long: on a busy machine a
/// task or a database round trip can stall for a second or two, and a stall is not a death.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_keeps_renewing_is_never_claimed_twice() {
    on_both(|store| async move {
        const LEASE_MS: i64 = 4_000;
        const RENEW_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
        let id = one_job(&store).await;
        let a = jobs::claim(&store, "a", LEASE_MS).await.unwrap().unwrap();
        let heartbeat = gradphoto_server::jobs::Heartbeat::start(
            store.clone(),
            a.clone(),
            LEASE_MS,
            RENEW_EVERY,
        );
        let started = std::time::Instant::now();
        let mut looks = 0;
        while started.elapsed() < std::time::Duration::from_millis(3 * LEASE_MS as u64) {
            let other = jobs::claim(&store, "b", LEASE_MS).await.unwrap();
            assert!(
                other.is_none(),
                "{:?}, after {:?}: a renewed job was claimed twice: {other:?}",
                store.backend(),
                started.elapsed()
            );
            looks += 1;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(looks > 10);
        assert!(!heartbeat.lost());

        drop(heartbeat);
        let b = claim_when_free(&store, "b", LEASE_MS).await;
        assert_eq!((b.id.as_str(), b.tries), (id.as_str(), 2));
        let mut tx = store.begin().await.unwrap();
        assert!(!jobs::complete(&mut tx, &a).await.unwrap());
        assert!(jobs::complete(&mut tx, &b).await.unwrap());
        tx.commit().await.unwrap();
    })
    .await;
}

/// At the start of an embedded (SQLite) process every running job is a dead process's: it is
/// queued again at once, its tries kept, and the dead claim is void.
#[tokio::test]
async fn running_jobs_are_requeued_at_once_when_nothing_can_own_them() {
    let db = sqlite().await;
    let store = db.store.clone();
    let id = one_job(&store).await;
    let dead = jobs::claim(&store, "dead", 60_000).await.unwrap().unwrap();
    assert!(jobs::claim(&store, "new", 60_000).await.unwrap().is_none());
    assert_eq!(jobs::release_running(&store).await.unwrap(), 1);
    let job = jobs::claim(&store, "new", 60_000).await.unwrap().unwrap();
    assert_eq!((job.id.as_str(), job.tries), (id.as_str(), 2));
    assert!(!jobs::renew(&store, &dead, 60_000).await.unwrap());
    // Nothing else is running: a second release finds nothing but the new claim's job…
    let mut tx = store.begin().await.unwrap();
    assert!(jobs::complete(&mut tx, &job).await.unwrap());
    tx.commit().await.unwrap();
    // …and a finished job stays finished.
    assert_eq!(jobs::release_running(&store).await.unwrap(), 0);
    assert_eq!(jobs::pending_count(&store).await.unwrap(), 0);
    store.close().await;
}
