//! The supervisor's audit history at scale: 1,000,000 audit events, served by the real HTTP
//! server on loopback and searched with the typed client, on SQLite and on PostgreSQL.
//!
//! Seeds three schools of 1,500 students with a case each, 50 staff accounts and a million
//! events about them over 180 days (`support::seed::audit_events`: mostly uploads, claims and
//! decisions, a few rare actions such as `audit_exported`; the third school's collection ended
//! half-way). Then measures `GET /api/supervisor/audit?limit=50` as one supervisor of all
//! schools:
//! - `newest_page`: no filter,
//! - `filter_school` (a school still collecting), `filter_school_ended` (the third school),
//!   `filter_actor` (a reviewer), `filter_action_common` (`photo_uploaded`),
//!   `filter_action_rare` (`audit_exported`), `filter_student` (by student number),
//!   `filter_time_day` (one day in the middle of the history): one filter each, newest first,
//! - `deep_page`: no filter, `before` a sequence number half-way down the log.
//!
//! Run: `cargo bench -p gradphoto-server --bench audit`. PostgreSQL runs in a throwaway
//! cluster (`tests/common/pg.rs`); set `GRADPHOTO_BENCH_PG=0` to skip it.
//! `GRADPHOTO_BENCH_AUDIT_EVENTS` overrides the number of events (20,000 when run as a test by
//! `cargo test --benches`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use criterion::Criterion;
use gradphoto_api::audit::{AuditEntry, AuditPage, AuditQuery};
use gradphoto_client::Client;
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::role::Role;
use gradphoto_server::store::{audit, schools};
use support::{fixture, Db, TestServer};
use tokio::runtime::Runtime;

/// Students (each with a case) per school, and the schools.
const STUDENTS_PER_SCHOOL: usize = 1_500;
const SCHOOLS: [&str; 3] = [fixture::SCHOOL, "第二示范大学", "第三示范大学"];
/// The page size a supervisor's screen asks for.
const PAGE: u32 = 50;
const DAY_MS: i64 = 24 * 3600 * 1000;

fn event_count() -> usize {
    // `cargo test --benches` runs each benchmark once (no `--bench` argument): a smaller log
    // keeps that a smoke run.
    let measuring = std::env::args().any(|a| a == "--bench");
    std::env::var("GRADPHOTO_BENCH_AUDIT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 1_000_000 } else { 20_000 })
}

/// One measured query: its name, the query, and what every listed event must satisfy.
struct Case {
    name: &'static str,
    query: AuditQuery,
    holds: Box<dyn Fn(&AuditEntry) -> bool>,
    /// Events the filters match in the whole log (counted once in setup).
    matching: i64,
}

struct Setup {
    server: TestServer,
    supervisor: Client,
    cases: Vec<Case>,
}

async fn setup(db: Db) -> Setup {
    let server = TestServer::start_with(db, support::analyzer(), |c| c.workers = 0).await;
    let state = server.state();
    let mut conn = state.store.begin().await.expect("begin");
    let mut school_ids = Vec::new();
    for name in SCHOOLS {
        school_ids.push(
            schools::ensure(conn.conn(), name, &fixture::policy(0))
                .await
                .expect("school"),
        );
    }
    conn.commit().await.expect("commit");
    let n = event_count();
    let started = Instant::now();
    let seeded = support::seed::audit_events(
        &state.store,
        &state.crypto,
        &school_ids,
        STUDENTS_PER_SCHOOL,
        n,
    )
    .await
    .expect("seed");
    let seeded_in = started.elapsed();
    if db == Db::Postgres {
        sqlx::query("ANALYZE")
            .execute(state.store.pool())
            .await
            .expect("analyze");
    }
    eprintln!(
        "{db:?}: seeded {n} audit events ({} schools, {} students) in {:.1} s (ready after {:.1} s)",
        school_ids.len(),
        school_ids.len() * STUDENTS_PER_SCHOOL,
        seeded_in.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let supervisor = fixture::staff(state, &server.base_url, "supervisor1", Role::Supervisor).await;

    let school = seeded.school_ids[1].clone();
    // The seeding ends the last school's collection half-way: its newest event is half-way
    // down the log.
    let ended = seeded.school_ids[2].clone();
    let actor = seeded
        .staff
        .iter()
        .find(|s| s.role == Role::Reviewer)
        .expect("a reviewer")
        .id
        .clone();
    let student_no = seeded.student_no(0, STUDENTS_PER_SCHOOL / 2);
    let student_cases = audit::cases_of_students(&state.store, &student_no, None, None)
        .await
        .expect("student's cases");
    assert_eq!(student_cases.len(), 1, "{student_no} is one student");
    let middle = seeded.first_at_ms + (seeded.last_at_ms - seeded.first_at_ms) / 2;
    let (from_ms, to_ms) = (middle, middle + DAY_MS);
    let before = seeded.first_seq + (seeded.last_seq - seeded.first_seq) / 2;
    let page = |q: AuditQuery| AuditQuery {
        limit: Some(PAGE),
        ..q
    };
    let common = AuditAction::PhotoUploaded.code();
    let rare = AuditAction::AuditExported.code();
    let mut cases = vec![
        Case {
            name: "newest_page",
            query: page(AuditQuery::default()),
            matching: 0,
            holds: Box::new(|_| true),
        },
        Case {
            name: "filter_school",
            query: page(AuditQuery {
                school: Some(school.clone()),
                ..AuditQuery::default()
            }),
            matching: 0,
            holds: Box::new(move |e| e.school_id.as_deref() == Some(school.as_str())),
        },
        Case {
            name: "filter_school_ended",
            query: page(AuditQuery {
                school: Some(ended.clone()),
                ..AuditQuery::default()
            }),
            matching: 0,
            holds: Box::new(move |e| e.school_id.as_deref() == Some(ended.as_str())),
        },
        Case {
            name: "filter_actor",
            query: page(AuditQuery {
                actor: Some(actor.clone()),
                ..AuditQuery::default()
            }),
            matching: 0,
            holds: Box::new(move |e| e.actor_id == actor),
        },
        Case {
            name: "filter_action_common",
            query: page(AuditQuery {
                action: Some(common.to_string()),
                ..AuditQuery::default()
            }),
            matching: 0,
            holds: Box::new(move |e| e.action == common),
        },
        Case {
            name: "filter_action_rare",
            query: page(AuditQuery {
                action: Some(rare.to_string()),
                ..AuditQuery::default()
            }),
            matching: 0,
            holds: Box::new(move |e| e.action == rare),
        },
        Case {
            name: "filter_student",
            query: page(AuditQuery {
                student: Some(student_no.clone()),
                ..AuditQuery::default()
            }),
            matching: 0,
            holds: Box::new(move |e| {
                e.student.as_ref().map(|s| s.student_no.as_str()) == Some(student_no.as_str())
            }),
        },
        Case {
            name: "filter_time_day",
            query: page(AuditQuery {
                from_ms: Some(from_ms),
                to_ms: Some(to_ms),
                ..AuditQuery::default()
            }),
            matching: 0,
            holds: Box::new(move |e| (from_ms..to_ms).contains(&e.at_ms)),
        },
        Case {
            name: "deep_page",
            query: page(AuditQuery {
                before: Some(before),
                ..AuditQuery::default()
            }),
            matching: 0,
            holds: Box::new(move |e| e.seq < before),
        },
    ];
    // How many events each filter matches over the whole log, for the record.
    for case in &mut cases {
        let q = &case.query;
        let filter = audit::AuditFilter {
            school_id: q.school.clone(),
            actor_id: q.actor.clone(),
            action: q.action.as_deref().map(|a| a.parse().expect("action")),
            subjects: q.student.as_ref().map(|_| student_cases.clone()),
            from_ms: q.from_ms,
            to_ms: q.to_ms,
        };
        case.matching = audit::count_matching(&state.store, &filter)
            .await
            .expect("count");
        eprintln!("{db:?}: {} matches {} events", case.name, case.matching);
    }
    Setup {
        server,
        supervisor,
        cases,
    }
}

/// How many events a page of the case lists: a full page when enough match.
fn expected(case: &Case) -> usize {
    usize::try_from(case.matching.min(i64::from(PAGE))).expect("count")
}

/// A page of events that all satisfy the case's filter, newest first, full when enough match.
fn check(case: &Case, page: &AuditPage) {
    assert_eq!(
        page.events.len(),
        expected(case),
        "{}: events listed of {} matching",
        case.name,
        case.matching
    );
    assert!(
        page.events.iter().all(|e| (case.holds)(e)),
        "{}: every event matches",
        case.name
    );
    assert!(
        page.events.windows(2).all(|w| w[0].seq > w[1].seq),
        "{}: newest first",
        case.name
    );
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, db: Db) {
    let s = rt.block_on(setup(db));
    let name = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let mut group = c.benchmark_group(format!("audit/{name}"));
    group.sample_size(50);
    for case in &s.cases {
        check(
            case,
            &rt.block_on(s.supervisor.audit_search(&case.query))
                .expect("page"),
        );
        let n = expected(case);
        group.bench_function(case.name, |b| {
            b.iter(|| {
                let page = rt
                    .block_on(s.supervisor.audit_search(&case.query))
                    .expect("page");
                assert_eq!(page.events.len(), n);
            })
        });
    }
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
