//! Review API under a full queue: 100,000 submissions waiting for review, served by the real
//! HTTP server on loopback and driven by the typed client, on SQLite and on PostgreSQL.
//!
//! Measures
//! - `queue_first_page`: `GET /api/review/queue?limit=50` (with the per-state counts, which
//!   the endpoint reuses for two seconds),
//! - `queue_deep_page`: the same from a keyset cursor half-way down the queue,
//! - `counts_uncached`: the four per-state counts straight from the store (no HTTP, no reuse),
//! - `claim_and_decide`: `POST /api/review/claim {count: 1}` then `POST …/decision` (approve),
//! - `decide`: the decision request alone (the claim happens in untimed setup).
//!
//! Run: `cargo bench -p gradphoto-server --bench review`. PostgreSQL runs in a throwaway
//! cluster (`tests/common/pg.rs`: binaries from /usr/lib/postgresql/*/bin, or an existing
//! server via `GRADPHOTO_TEST_PG_URL`); set
//! `GRADPHOTO_BENCH_PG=0` to skip it. `GRADPHOTO_BENCH_PENDING` overrides the queue size.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use gradphoto_api::review::{QueueQuery, Verdict};
use gradphoto_client::Client;
use gradphoto_domain::role::Role;
use gradphoto_server::store::{review, schools};
use support::{fixture, Db, TestServer};
use tokio::runtime::Runtime;

struct Setup {
    server: TestServer,
    reviewer: Client,
    deep_cursor: String,
}

fn pending_count() -> usize {
    std::env::var("GRADPHOTO_BENCH_PENDING")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

async fn setup(db: Db) -> Setup {
    let server = TestServer::start_with(db, support::analyzer(), |c| c.workers = 0).await;
    let state = server.state();
    let mut conn = state.store.begin().await.expect("begin");
    let school_id = schools::ensure(conn.conn(), fixture::SCHOOL, &fixture::policy(0))
        .await
        .expect("school");
    conn.commit().await.expect("commit");
    let n = pending_count();
    let started = Instant::now();
    support::seed::pending(&state.store, &state.crypto, &school_id, "B", n)
        .await
        .expect("seed");
    if db == Db::Postgres {
        sqlx::query("ANALYZE")
            .execute(state.store.pool())
            .await
            .expect("analyze");
    }
    eprintln!(
        "{db:?}: seeded {n} pending submissions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let reviewer = fixture::staff(state, &server.base_url, "bench-reviewer", Role::Reviewer).await;
    // A cursor half-way down the queue, found by walking keyset pages of 200.
    let mut cursor: Option<String> = None;
    let mut walked = 0;
    while walked < n / 2 {
        let page = reviewer
            .review_queue(&QueueQuery {
                limit: Some(200),
                cursor: cursor.clone(),
                ..QueueQuery::default()
            })
            .await
            .expect("queue page");
        walked += page.items.len();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Setup {
        server,
        reviewer,
        deep_cursor: cursor.unwrap_or_default(),
    }
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, db: Db) {
    let s = rt.block_on(setup(db));
    let name = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let mut group = c.benchmark_group(format!("review/{name}"));
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6));

    let first = QueueQuery {
        limit: Some(50),
        ..QueueQuery::default()
    };
    group.bench_function("queue_first_page", |b| {
        b.iter(|| {
            let page = rt.block_on(s.reviewer.review_queue(&first)).expect("queue");
            assert_eq!(page.items.len(), 50);
        })
    });
    let deep = QueueQuery {
        limit: Some(50),
        cursor: Some(s.deep_cursor.clone()),
        ..QueueQuery::default()
    };
    group.bench_function("queue_deep_page", |b| {
        b.iter(|| {
            let page = rt.block_on(s.reviewer.review_queue(&deep)).expect("queue");
            assert_eq!(page.items.len(), 50);
        })
    });
    // What the queue's counts cost when not reused (the endpoint reuses them for 2 s).
    let store = s.server.state().store.clone();
    group.bench_function("counts_uncached", |b| {
        b.iter(|| {
            let counts = rt
                .block_on(review::review_counts(&store, None))
                .expect("counts");
            assert_eq!(counts.len(), 4);
        })
    });
    group.bench_function("claim_and_decide", |b| {
        b.iter(|| {
            rt.block_on(async {
                let claimed = s.reviewer.claim_next(1).await.expect("claim");
                let case_id = &claimed.leases[0].case_id;
                let id = uuid::Uuid::new_v4().to_string();
                s.reviewer
                    .decide(case_id, &id, Verdict::Approve)
                    .await
                    .expect("decide");
            })
        })
    });
    group.bench_function("decide", |b| {
        b.iter_batched(
            || {
                let claimed = rt.block_on(s.reviewer.claim_next(1)).expect("claim");
                claimed.leases[0].case_id.clone()
            },
            |case_id| {
                let id = uuid::Uuid::new_v4().to_string();
                rt.block_on(s.reviewer.decide(&case_id, &id, Verdict::Approve))
                    .expect("decide");
            },
            BatchSize::PerIteration,
        )
    });
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
