//! Administrators' collection progress over a school of 100,000 students, served by the real
//! HTTP server on loopback and read with the typed client, on SQLite and on PostgreSQL.
//!
//! Seeds one school (`support::seed::collection`): 100,000 students in eight colleges, 24
//! majors and two levels, spread over every stage of the journey, and a second school of
//! 10,000; PostgreSQL is then `ANALYZE`d, as autovacuum would have. Then measures, as an
//! administrator of all schools:
//! - `overview`: `GET /api/admin/schools/{id}/progress`, every student counted per stage and
//!   per college, major and level (the dashboard);
//! - `stage_page`: the first 100 students at one stage (a click on a count);
//! - `stage_csv`: the whole list of one stage as CSV (5,000 students: a reminder list).
//!
//! Run: `cargo bench -p gradphoto-server --bench progress`. PostgreSQL runs in a throwaway
//! cluster (`tests/common/pg.rs`); set `GRADPHOTO_BENCH_PG=0` to skip it.
//! `GRADPHOTO_BENCH_PROGRESS_STUDENTS` overrides the school's size (5,000 when run as a test
//! by `cargo test --benches`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use criterion::Criterion;
use gradphoto_api::admin::{ProgressQuery, SchoolProgress};
use gradphoto_client::Client;
use gradphoto_domain::progress::Stage;
use gradphoto_domain::role::Role;
use gradphoto_server::store::schools;
use support::{fixture, seed, Db, TestServer};
use tokio::runtime::Runtime;

fn student_count() -> usize {
    // `cargo test --benches` runs each benchmark once (no `--bench` argument): a smaller
    // school keeps that a smoke run.
    let measuring = std::env::args().any(|a| a == "--bench");
    std::env::var("GRADPHOTO_BENCH_PROGRESS_STUDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 100_000 } else { 5_000 })
}

struct Setup {
    _server: TestServer,
    admin: Client,
    school_id: String,
    students: usize,
}

async fn setup(db: Db) -> Setup {
    let server = TestServer::start_with(db, support::analyzer(), |c| c.workers = 0).await;
    let state = server.state();
    let mut tx = state.store.begin().await.expect("begin");
    let mut ids = Vec::new();
    for name in [fixture::SCHOOL, "第二示范大学"] {
        ids.push(
            schools::ensure(tx.conn(), name, &fixture::policy(0))
                .await
                .expect("school"),
        );
    }
    tx.commit().await.expect("commit");
    let n = student_count();
    let started = Instant::now();
    seed::collection(&state.store, &state.crypto, &ids[0], "a", n)
        .await
        .expect("seed");
    seed::collection(&state.store, &state.crypto, &ids[1], "b", n / 10)
        .await
        .expect("seed second school");
    if db == Db::Postgres {
        sqlx::query("ANALYZE")
            .execute(state.store.pool())
            .await
            .expect("analyze");
    }
    eprintln!(
        "{db:?}: seeded {n} + {} students in {:.1?}",
        n / 10,
        started.elapsed()
    );
    let admin = fixture::staff(state, &server.base_url, "admin1", Role::Admin).await;
    Setup {
        _server: server,
        admin,
        school_id: ids.swap_remove(0),
        students: n,
    }
}

fn check(p: &SchoolProgress, students: usize) {
    assert_eq!(p.total, students as u64);
    let at = |stage: Stage| p.stages[stage.index()].count;
    // One in twenty of the students per share of `seed::COLLECTION_STATES`, give or take one.
    let twentieth = (students / 20) as u64;
    for stage in [
        Stage::NoCode,
        Stage::Paid,
        Stage::PhotoTaken,
        Stage::InReview,
    ] {
        assert!(
            at(stage).abs_diff(twentieth) <= 1,
            "{stage:?}: {}",
            at(stage)
        );
    }
    assert!(at(Stage::Approved).abs_diff(6 * twentieth) <= 6);
    assert_eq!(p.groups.len(), 8 * 3 * 2);
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, db: Db) {
    let s = rt.block_on(setup(db));
    let name = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let started = Instant::now();
    let first = rt
        .block_on(s.admin.school_progress(&s.school_id))
        .expect("progress");
    eprintln!(
        "progress/{name}/overview: first request {:.1?}",
        started.elapsed()
    );
    check(&first, s.students);
    let mut group = c.benchmark_group(format!("progress/{name}"));
    group.sample_size(20);
    group.bench_function("overview", |b| {
        b.iter(|| {
            let p = rt
                .block_on(s.admin.school_progress(&s.school_id))
                .expect("progress");
            assert_eq!(p.total, first.total);
        })
    });
    let paid = ProgressQuery {
        stage: Some(Stage::Paid.code().into()),
        ..ProgressQuery::default()
    };
    let expected = first.stages[Stage::Paid.index()].count;
    group.bench_function("stage_page", |b| {
        b.iter(|| {
            let page = rt
                .block_on(s.admin.progress_students(&s.school_id, &paid))
                .expect("page");
            assert_eq!(page.total, expected);
        })
    });
    group.bench_function("stage_csv", |b| {
        b.iter(|| {
            let csv = rt
                .block_on(s.admin.progress_csv(&s.school_id, &paid))
                .expect("csv");
            assert!(csv.bytes.len() > 100);
        })
    });
    group.finish();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut c = Criterion::default().configure_from_args();
    bench_backend(&mut c, &rt, Db::Sqlite);
    if std::env::var("GRADPHOTO_BENCH_PG").map_or(true, |v| v != "0") {
        bench_backend(&mut c, &rt, Db::Postgres);
    }
    c.final_summary();
}
