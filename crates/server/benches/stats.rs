//! Supervisors' statistics for a school season: 100,000 decisions, served by the real HTTP
//! server on loopback and read with the typed client, on SQLite and on PostgreSQL.
//!
//! Seeds one school's season (`support::seed::season`): 100,000 decided submissions over 120
//! days by 40 reviewers in eight colleges, 2,000 submissions still waiting, and a second
//! school of 10,000 decisions; PostgreSQL is then `ANALYZE`d, as autovacuum would have. Then
//! measures `GET /api/supervisor/stats` as one supervisor of all schools:
//! - `school_season`: the school, the whole season (every one of its 100,000 decisions),
//! - `school_college`: the school and one college, the whole season,
//! - `all_last_30_days`: no filter, the default range (the 30 days ending today),
//! - `school_season_after_a_decision`: the whole season through today, one decision dated now
//!   written (untimed) before each request, so today's groups are regrouped every time.
//!
//! The server keeps each day's groups between requests (`journey::stats_days`): the first
//! request of each case, which regroups everything it reads, is timed once and printed.
//!
//! Run: `cargo bench -p gradphoto-server --bench stats`. PostgreSQL runs in a throwaway
//! cluster (`tests/common/pg.rs`); set `GRADPHOTO_BENCH_PG=0` to skip it.
//! `GRADPHOTO_BENCH_STATS_DECISIONS` overrides the season's size (5,000 when run as a test by
//! `cargo test --benches`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use criterion::{BatchSize, Criterion};
use gradphoto_api::review::{Stats, StatsQuery};
use gradphoto_client::Client;
use gradphoto_domain::calendar;
use gradphoto_domain::role::Role;
use gradphoto_server::store::schools;
use support::{fixture, seed, Db, TestServer};
use tokio::runtime::Runtime;

const SCHOOLS: [&str; 2] = [fixture::SCHOOL, "第二示范大学"];
const SEASON_DAYS: i64 = 120;
const REVIEWERS: usize = 40;
const WAITING: usize = 2_000;

fn decision_count() -> usize {
    // `cargo test --benches` runs each benchmark once (no `--bench` argument): a smaller
    // season keeps that a smoke run.
    let measuring = std::env::args().any(|a| a == "--bench");
    std::env::var("GRADPHOTO_BENCH_STATS_DECISIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 100_000 } else { 5_000 })
}

struct Case {
    name: &'static str,
    query: StatsQuery,
    /// Decisions the answer must count.
    decisions: i64,
}

struct Setup {
    server: TestServer,
    supervisor: Client,
    cases: Vec<Case>,
}

async fn setup(db: Db) -> Setup {
    let server = TestServer::start_with(db, support::analyzer(), |c| c.workers = 0).await;
    let state = server.state();
    let mut tx = state.store.begin().await.expect("begin");
    let mut school_ids = Vec::new();
    for name in SCHOOLS {
        school_ids.push(
            schools::ensure(tx.conn(), name, &fixture::policy(0))
                .await
                .expect("school"),
        );
    }
    tx.commit().await.expect("commit");
    let n = decision_count();
    let started = Instant::now();
    let season = seed::season(
        &state.store,
        &state.crypto,
        &school_ids[0],
        "a",
        seed::SeasonShape {
            decided: n,
            waiting: WAITING,
            reviewers: REVIEWERS,
            days: SEASON_DAYS,
        },
    )
    .await
    .expect("seed season");
    seed::season(
        &state.store,
        &state.crypto,
        &school_ids[1],
        "b",
        seed::SeasonShape {
            decided: n / 10,
            waiting: WAITING / 10,
            reviewers: REVIEWERS / 4,
            days: SEASON_DAYS,
        },
    )
    .await
    .expect("seed second school");
    if db == Db::Postgres {
        // A season's tables are analysed by autovacuum long before anyone reads statistics.
        sqlx::query("ANALYZE")
            .execute(state.store.pool())
            .await
            .expect("analyze");
    }
    eprintln!(
        "{db:?}: seeded {n} + {} decisions in {:.1?}",
        n / 10,
        started.elapsed()
    );
    let supervisor = fixture::staff(state, &server.base_url, "supervisor1", Role::Supervisor).await;
    let day = |ms: i64| calendar::cst_date(ms).format("%Y-%m-%d").to_string();
    let whole = StatsQuery {
        from: Some(day(season.first_submitted_ms)),
        to: Some(day(season.last_decided_ms)),
        school: Some(school_ids[0].clone()),
        college: None,
    };
    let n = i64::try_from(n).expect("count");
    let colleges = seed::SEASON_COLLEGES.len() as i64;
    let cases = vec![
        Case {
            name: "school_season",
            query: whole.clone(),
            decisions: n,
        },
        Case {
            name: "school_college",
            query: StatsQuery {
                college: Some(seed::SEASON_COLLEGES[1].into()),
                ..whole
            },
            // Student i studies in college i mod 8.
            decisions: (n - 2 + colleges) / colleges,
        },
        Case {
            name: "all_last_30_days",
            query: StatsQuery::default(),
            decisions: -1,
        },
    ];
    Setup {
        server,
        supervisor,
        cases,
    }
}

fn decisions(stats: &Stats) -> i64 {
    stats.reviewers.iter().map(|r| r.decisions).sum()
}

fn check(case: &Case, stats: &Stats) {
    if case.decisions >= 0 {
        assert_eq!(decisions(stats), case.decisions, "{}", case.name);
    } else {
        assert!(decisions(stats) > 0, "{}", case.name);
    }
    let turned: i64 = stats.turnaround.iter().map(|t| t.decisions).sum();
    assert_eq!(turned, stats.decided_within_sla + stats.decided_late);
    assert!(
        stats.decided_late > 0,
        "{}: the season has late decisions",
        case.name
    );
    assert!(!stats.breaches.is_empty());
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, db: Db) {
    let s = rt.block_on(setup(db));
    let name = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let mut group = c.benchmark_group(format!("stats/{name}"));
    group.sample_size(20);
    for case in &s.cases {
        // The first request regroups every day it reads (nothing is kept yet); the measured
        // ones reuse the days that did not change, as a supervisor's next request does.
        let started = Instant::now();
        let first = rt.block_on(s.supervisor.stats(&case.query)).expect("stats");
        eprintln!(
            "stats/{name}/{}: first request {:.1?}",
            case.name,
            started.elapsed()
        );
        check(case, &first);
        let expected = decisions(&first);
        group.bench_function(case.name, |b| {
            b.iter(|| {
                let stats = rt.block_on(s.supervisor.stats(&case.query)).expect("stats");
                assert_eq!(decisions(&stats), expected);
            })
        });
    }
    // As in a working day: a reviewer has just decided, so today is regrouped (untimed: the
    // decision is written before each request).
    let season = &s.cases[0];
    let today = calendar::cst_date(chrono::Utc::now().timestamp_millis())
        .format("%Y-%m-%d")
        .to_string();
    let through_today = StatsQuery {
        to: season.query.to.clone().max(Some(today)),
        ..season.query.clone()
    };
    let state = s.server.state();
    let (case_id, reviewer_id, school_id, college): (String, String, String, String) = rt
        .block_on(
            sqlx::query_as(
                "SELECT case_id, reviewer_id, school_id, college FROM decisions
                 WHERE school_id = $1 ORDER BY decided_at DESC LIMIT 1",
            )
            .bind(season.query.school.clone())
            .fetch_one(state.store.pool()),
        )
        .expect("a decision of the season");
    let mut added = 0i64;
    group.bench_function("school_season_after_a_decision", |b| {
        b.iter_batched(
            || {
                let now = chrono::Utc::now().timestamp_millis();
                rt.block_on(
                    sqlx::query(
                        "INSERT INTO decisions (id, client_decision_id, case_id, reviewer_id,
                            kind, reasons_json, round, decided_at, school_id, college,
                            submitted_at, claimed_at, doubted_measures)
                         VALUES ($1, $2, $3, $4, 'approve', '[]', 0, $5, $6, $7, $8, $9, '')",
                    )
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(case_id.clone())
                    .bind(reviewer_id.clone())
                    .bind(now)
                    .bind(school_id.clone())
                    .bind(college.clone())
                    .bind(now - 3_600_000)
                    .bind(now - 40_000)
                    .execute(state.store.pool()),
                )
                .expect("a decision");
                added += 1;
            },
            |()| {
                rt.block_on(s.supervisor.stats(&through_today))
                    .expect("stats")
            },
            BatchSize::PerIteration,
        )
    });
    let last = rt
        .block_on(s.supervisor.stats(&through_today))
        .expect("stats");
    assert_eq!(
        decisions(&last),
        season.decisions + added,
        "every decision added is counted"
    );
    group.finish();
    rt.block_on(s.server.stop());
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
