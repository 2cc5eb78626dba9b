//! Load on the real server: students reading their status while reviewers claim and decide,
//! for a fixed time, on loopback, over SQLite or a throwaway PostgreSQL.
//!
//! - `students` tasks, each a student with a claimed code and its own connection pool, read
//!   `GET /api/student/case` back to back with their own token;
//! - `reviewers` tasks, each a signed-in reviewer (one sign-in each) with its own pool, loop:
//!   `POST /api/review/claim` with a count of 1 to `GRADPHOTO_LOAD_CLAIM_MAX`, then for every
//!   item held `GET /api/review/items/{id}` and `POST /api/review/items/{id}/decision` (one in
//!   ten a rejection, the rest approvals).
//!
//! Reported per kind of request: throughput, latency p50/p95/p99/max of the answered requests,
//! lease conflicts between reviewers (409 with a lease code: an expected outcome, counted
//! apart) and errors by status and code; and the CPU time of the server's threads, of the load
//! generator's threads (both share the machine) and, on PostgreSQL, of its backends.
//!
//! Run: `cargo bench -p gradphoto-server --bench load`. Environment:
//! `GRADPHOTO_LOAD_SECONDS` (60), `GRADPHOTO_LOAD_STUDENTS` (200), `GRADPHOTO_LOAD_REVIEWERS`
//! (20), `GRADPHOTO_LOAD_DB` (`sqlite` | `postgres`), `GRADPHOTO_LOAD_WARMUP` (3 s of load not
//! recorded), `GRADPHOTO_LOAD_PENDING` (submissions seeded for review; 1,000 per second of run
//! plus 10,000, so reviewers do not run dry), `GRADPHOTO_LOAD_CLAIM_MAX` (5). Without `--bench` (e.g.
//! `cargo test --benches`) it runs a one-second smoke run with a handful of users.
//!
//! The server runs in its own tokio runtime (2 worker threads, `gp-server`), the load in
//! another (2 worker threads, `gp-load`), so the two are scheduled like two processes.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gradphoto_api::error::{ErrorBody, ErrorCode};
use gradphoto_api::review::Verdict;
use gradphoto_client::{Client, ClientError};
use gradphoto_domain::role::Role;
use support::{fixture, Db, TestServer};
use tokio::runtime::Runtime;

/// What one run does.
#[derive(Debug, Clone)]
struct Params {
    db: Db,
    seconds: u64,
    warmup: u64,
    students: usize,
    reviewers: usize,
    pending: usize,
    claim_max: u32,
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

impl Params {
    fn from_env(bench: bool) -> Params {
        let db = match std::env::var("GRADPHOTO_LOAD_DB").as_deref() {
            Err(_) | Ok("sqlite") => Db::Sqlite,
            Ok("postgres") => Db::Postgres,
            Ok(other) => panic!("GRADPHOTO_LOAD_DB={other:?}: use sqlite or postgres"),
        };
        if !bench {
            return Params {
                db,
                seconds: 1,
                warmup: 0,
                students: 4,
                reviewers: 2,
                pending: 200,
                claim_max: 3,
            };
        }
        let seconds = env_num("GRADPHOTO_LOAD_SECONDS", 60u64).max(1);
        Params {
            db,
            seconds,
            warmup: env_num("GRADPHOTO_LOAD_WARMUP", 3u64),
            students: env_num("GRADPHOTO_LOAD_STUDENTS", 200usize),
            reviewers: env_num("GRADPHOTO_LOAD_REVIEWERS", 20usize),
            pending: env_num(
                "GRADPHOTO_LOAD_PENDING",
                usize::try_from((seconds + 10) * 1000).unwrap_or(usize::MAX),
            ),
            claim_max: env_num("GRADPHOTO_LOAD_CLAIM_MAX", 5u32).max(1),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Recording

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    StudentCase,
    Claim,
    Item,
    Decision,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::StudentCase, Kind::Claim, Kind::Item, Kind::Decision];

    fn label(self) -> &'static str {
        match self {
            Kind::StudentCase => "GET /api/student/case",
            Kind::Claim => "POST /api/review/claim",
            Kind::Item => "GET /api/review/items/{id}",
            Kind::Decision => "POST /api/review/items/{id}/decision",
        }
    }
}

/// How a request ended.
enum Outcome {
    Ok,
    /// 409 with a lease code: another reviewer got there first, or the hold ran out.
    LeaseConflict(ErrorCode),
    /// Anything else: `status code` (or `transport …`).
    Error(String),
}

fn is_lease_conflict(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::LeaseLost
            | ErrorCode::LeaseHeldByOther
            | ErrorCode::LeaseExpired
            | ErrorCode::NotLeaseHolder
            | ErrorCode::ConcurrentChange
            | ErrorCode::AlreadyDecided
    )
}

fn outcome_of_api(status: u16, code: ErrorCode) -> Outcome {
    if status == 409 && is_lease_conflict(code) {
        Outcome::LeaseConflict(code)
    } else {
        Outcome::Error(format!("{status} {}", code.as_str()))
    }
}

fn outcome_of_client(e: &ClientError) -> Outcome {
    match (e, e.status(), e.code()) {
        (_, Some(status), Some(code)) => outcome_of_api(status, code),
        (_, Some(status), None) => Outcome::Error(format!("{status} (no error body)")),
        (ClientError::Transport(t), None, _) => Outcome::Error(transport_label(t)),
        (other, None, _) => Outcome::Error(format!("client {other}")),
    }
}

fn transport_label(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_decode() {
        "decode"
    } else if e.is_body() {
        "body"
    } else {
        "request"
    };
    format!("transport {what}")
}

/// One task's record of one kind of request.
#[derive(Default)]
struct Tally {
    /// Latencies of answered (2xx) requests, in microseconds.
    ok_us: Vec<u32>,
    conflicts: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
}

/// One task's records, by kind, plus reviewer-side counts.
#[derive(Default)]
struct Recorder {
    window: Option<(Instant, Instant)>,
    tallies: BTreeMap<Kind, Tally>,
    /// Claims answered with no item (the queue ran dry).
    empty_claims: u64,
    items_held: u64,
}

impl Recorder {
    fn new(from: Instant, until: Instant) -> Recorder {
        Recorder {
            window: Some((from, until)),
            ..Recorder::default()
        }
    }

    /// Records a request started at `started` if it started inside the measured window.
    fn record(&mut self, kind: Kind, started: Instant, elapsed: Duration, outcome: Outcome) {
        let Some((from, until)) = self.window else {
            return;
        };
        if started < from || started >= until {
            return;
        }
        let tally = self.tallies.entry(kind).or_default();
        match outcome {
            Outcome::Ok => tally
                .ok_us
                .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX)),
            Outcome::LeaseConflict(code) => {
                *tally
                    .conflicts
                    .entry(format!("409 {}", code.as_str()))
                    .or_default() += 1
            }
            Outcome::Error(label) => *tally.errors.entry(label).or_default() += 1,
        }
    }

    fn in_window(&self, t: Instant) -> bool {
        self.window
            .is_some_and(|(from, until)| t >= from && t < until)
    }

    fn merge(&mut self, other: Recorder) {
        for (kind, t) in other.tallies {
            let mine = self.tallies.entry(kind).or_default();
            mine.ok_us.extend(t.ok_us);
            for (k, n) in t.conflicts {
                *mine.conflicts.entry(k).or_default() += n;
            }
            for (k, n) in t.errors {
                *mine.errors.entry(k).or_default() += n;
            }
        }
        self.empty_claims += other.empty_claims;
        self.items_held += other.items_held;
    }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc)

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU ticks used so far by this process's threads: (load generator, everything else).
fn thread_ticks() -> (u64, u64) {
    let mut load = 0;
    let mut server = 0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        // Fields after the name: state is field 3; utime and stime are fields 14 and 15.
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks: u64 = rest
            .get(11..13)
            .map(|f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
            .unwrap_or(0);
        if name.starts_with("gp-load") {
            load += ticks;
        } else {
            server += ticks;
        }
    }
    (load, server)
}

/// Whole-machine (busy, total) ticks from /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0, 0);
    };
    let Some(line) = stat.lines().next() else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// `(name, parent pid, utime + stime)` of a process, from /proc/<pid>/stat.
fn process_stat(pid: &str) -> Option<(String, u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let ppid = rest.get(1)?.parse().ok()?;
    let ticks = rest
        .get(11..13)?
        .iter()
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    Some((stat[open + 1..close].to_string(), ppid, ticks))
}

/// CPU ticks used so far by the PostgreSQL server listening on `port` (the postmaster, found by
/// its `-p PORT` argument, and its children: the backends serving this run).
fn postgres_ticks(port: u16) -> u64 {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let pids: Vec<String> = procs
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let port = port.to_string();
    let postmaster = pids.iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
            let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
            args.windows(2)
                .any(|w| w[0] == b"-p" && w[1] == port.as_bytes())
        })
    });
    let Some(postmaster) = postmaster.and_then(|p| p.parse::<u32>().ok()) else {
        return 0;
    };
    pids.iter()
        .filter_map(|pid| {
            let (name, ppid, ticks) = process_stat(pid)?;
            let is_ours = pid.parse::<u32>().ok() == Some(postmaster) || ppid == postmaster;
            (is_ours && name.starts_with("postgres")).then_some(ticks)
        })
        .sum()
}

/// The port in a `postgres://user@host:port/db` URL.
fn url_port(url: &str) -> Option<u16> {
    let authority = url.split("://").nth(1)?.split('/').next()?;
    authority.rsplit(':').next()?.parse().ok()
}

struct CpuMark {
    at: Instant,
    threads: (u64, u64),
    machine: (u64, u64),
    postgres: u64,
    /// The 1-minute load average.
    loadavg: String,
}

fn cpu_mark(postgres_port: Option<u16>) -> CpuMark {
    CpuMark {
        at: Instant::now(),
        threads: thread_ticks(),
        machine: machine_ticks(),
        postgres: postgres_port.map_or(0, postgres_ticks),
        loadavg: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_string))
            .unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------------
// Set-up

struct Student {
    http: reqwest::Client,
    token: String,
}

struct Setup {
    server: TestServer,
    students: Vec<Student>,
    reviewers: Vec<Client>,
}

/// Starts the server on its runtime, seeds the school, the students with codes, the pending
/// submissions and the reviewer accounts there; claims the codes and builds the users'
/// clients on the load runtime (so their connections belong to it).
fn setup(p: &Params, server_rt: &Runtime, load_rt: &Runtime) -> Setup {
    let started = Instant::now();
    let (server, fx, reviewer_tokens) = server_rt.block_on(async {
        let server = TestServer::start_with(p.db, support::analyzer(), |c| c.workers = 0).await;
        let state = server.state();
        let fx = fixture::seed(state, p.students, &fixture::policy(0)).await;
        let seeded = Instant::now();
        support::seed::pending(&state.store, &state.crypto, &fx.school_id, "L", p.pending)
            .await
            .expect("seed pending submissions");
        eprintln!(
            "seeded {} pending submissions in {:.1} s",
            p.pending,
            seeded.elapsed().as_secs_f64()
        );
        if p.db == Db::Postgres {
            sqlx::query("ANALYZE")
                .execute(state.store.pool())
                .await
                .expect("analyze");
        }
        // One sign-in per reviewer (sign-in is throttled per address on failures only).
        let mut tokens = Vec::with_capacity(p.reviewers);
        for i in 0..p.reviewers {
            let c = fixture::staff(
                state,
                &server.base_url,
                &format!("load-reviewer-{i:02}"),
                Role::Reviewer,
            )
            .await;
            tokens.push(c.token().expect("reviewer token").to_string());
        }
        (server, fx, tokens)
    });
    let base = server.base_url.clone();
    let (students, reviewers) = load_rt.block_on(async {
        let mut students = Vec::with_capacity(fx.students.len());
        for s in &fx.students {
            let http = reqwest::Client::new();
            let client = Client::with_http(http.clone(), &base).expect("client");
            let claimed = client.claim_code(&s.code).await.expect("claim code");
            students.push(Student {
                http,
                token: claimed.token,
            });
        }
        let reviewers = reviewer_tokens
            .into_iter()
            .map(|token| {
                let mut c = Client::new(&base).expect("client");
                c.set_token(Some(token));
                c
            })
            .collect::<Vec<_>>();
        (students, reviewers)
    });
    eprintln!(
        "{:?}: set up {} students, {} reviewers, {} pending in {:.1} s",
        p.db,
        students.len(),
        reviewers.len(),
        p.pending,
        started.elapsed().as_secs_f64()
    );
    Setup {
        server,
        students,
        reviewers,
    }
}

// ---------------------------------------------------------------------------------------------
// The simulated users

async fn student_loop(s: Student, url: Arc<str>, from: Instant, until: Instant) -> Recorder {
    let mut rec = Recorder::new(from, until);
    while Instant::now() < until {
        let started = Instant::now();
        let result = s.http.get(&*url).bearer_auth(&s.token).send().await;
        let outcome = match result {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(_) if status.is_success() => Outcome::Ok,
                    Ok(body) => match serde_json::from_slice::<ErrorBody>(&body) {
                        Ok(e) => outcome_of_api(status.as_u16(), e.code),
                        Err(_) => Outcome::Error(format!("{} (no error body)", status.as_u16())),
                    },
                    Err(e) => Outcome::Error(transport_label(&e)),
                }
            }
            Err(e) => Outcome::Error(transport_label(&e)),
        };
        let failed = !matches!(outcome, Outcome::Ok);
        rec.record(Kind::StudentCase, started, started.elapsed(), outcome);
        if failed {
            // Do not spin on a failing server.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    rec
}

async fn reviewer_loop(
    c: Client,
    index: usize,
    claim_max: u32,
    from: Instant,
    until: Instant,
) -> Recorder {
    let mut rec = Recorder::new(from, until);
    let mut n: u64 = index as u64;
    let mut items: u64 = index as u64;
    while Instant::now() < until {
        // Counts 1..=claim_max in turn, offset per reviewer.
        let count = u32::try_from(n % u64::from(claim_max)).unwrap_or(0) + 1;
        n += 1;
        let started = Instant::now();
        let claimed = c.claim_next(count).await;
        let leases = match claimed {
            Ok(r) => {
                rec.record(Kind::Claim, started, started.elapsed(), Outcome::Ok);
                r.leases
            }
            Err(e) => {
                rec.record(
                    Kind::Claim,
                    started,
                    started.elapsed(),
                    outcome_of_client(&e),
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if leases.is_empty() {
            if rec.in_window(started) {
                rec.empty_claims += 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        if rec.in_window(started) {
            rec.items_held += leases.len() as u64;
        }
        for lease in leases {
            if Instant::now() >= until {
                break;
            }
            let started = Instant::now();
            let item = c.review_item(&lease.case_id).await;
            let ok = item.is_ok();
            let outcome = match &item {
                Ok(_) => Outcome::Ok,
                Err(e) => outcome_of_client(e),
            };
            rec.record(Kind::Item, started, started.elapsed(), outcome);
            if !ok {
                continue;
            }
            items += 1;
            let verdict = if items.is_multiple_of(10) {
                Verdict::Reject {
                    reasons: vec!["background".into()],
                    comment: None,
                }
            } else {
                Verdict::Approve
            };
            let decision_id = uuid::Uuid::new_v4().to_string();
            let started = Instant::now();
            let decided = c.decide(&lease.case_id, &decision_id, verdict).await;
            let outcome = match &decided {
                Ok(_) => Outcome::Ok,
                Err(e) => outcome_of_client(e),
            };
            rec.record(Kind::Decision, started, started.elapsed(), outcome);
        }
    }
    rec
}

// ---------------------------------------------------------------------------------------------
// Report

fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

/// Prints the figures; answers the number of failed requests (lease conflicts not counted).
fn report(
    p: &Params,
    rec: &mut Recorder,
    measured: Duration,
    before: &CpuMark,
    after: &CpuMark,
) -> u64 {
    let secs = measured.as_secs_f64();
    println!();
    println!(
        "load/{}: {} students, {} reviewers (claims of 1–{}), {:.1} s measured after {} s warm-up",
        match p.db {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        },
        p.students,
        p.reviewers,
        p.claim_max,
        secs,
        p.warmup
    );
    println!();
    println!("| request | answered | req/s | p50 ms | p95 ms | p99 ms | max ms | lease conflicts (409) | errors |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut total_errors = 0u64;
    for kind in Kind::ALL {
        let t = rec.tallies.entry(kind).or_default();
        t.ok_us.sort_unstable();
        let n = t.ok_us.len();
        let conflicts: u64 = t.conflicts.values().sum();
        let errors: u64 = t.errors.values().sum();
        total_errors += errors;
        if n == 0 && conflicts == 0 && errors == 0 {
            // Nobody sent this kind (e.g. no reviewers).
            continue;
        }
        let detail = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let conflicts_s = if conflicts == 0 {
            "0".to_string()
        } else {
            format!("{conflicts} ({})", detail(&t.conflicts))
        };
        let errors_s = if errors == 0 {
            "0".to_string()
        } else {
            format!("{errors} ({})", detail(&t.errors))
        };
        println!(
            "| `{}` | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} |",
            kind.label(),
            n,
            n as f64 / secs,
            percentile(&t.ok_us, 0.50),
            percentile(&t.ok_us, 0.95),
            percentile(&t.ok_us, 0.99),
            percentile(&t.ok_us, 1.0),
            conflicts_s,
            errors_s
        );
    }
    println!();
    println!(
        "items claimed: {} ({:.0}/s); claims answered with no item (queue dry): {}",
        rec.items_held,
        rec.items_held as f64 / secs,
        rec.empty_claims
    );
    let tck = clock_ticks();
    let wall = after.at.duration_since(before.at).as_secs_f64();
    let load_cpu = (after.threads.0 - before.threads.0) as f64 / tck;
    let server_cpu = (after.threads.1 - before.threads.1) as f64 / tck;
    let postgres_cpu = (after.postgres - before.postgres) as f64 / tck;
    let busy = after.machine.0 - before.machine.0;
    let total = (after.machine.1 - before.machine.1).max(1);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "CPU over {wall:.1} s ({cores} cores, load average {} before, {} after):",
        before.loadavg, after.loadavg
    );
    println!(
        "  server threads {server_cpu:.1} s ({:.2} cores), load generator {load_cpu:.1} s \
         ({:.2} cores)",
        server_cpu / wall,
        load_cpu / wall,
    );
    if p.db == Db::Postgres {
        println!(
            "  PostgreSQL (postmaster and backends) {postgres_cpu:.1} s ({:.2} cores)",
            postgres_cpu / wall
        );
    }
    println!(
        "  whole machine {:.0} % busy (other processes on the machine included)",
        100.0 * busy as f64 / total as f64,
    );
    let answered: usize = rec.tallies.values().map(|t| t.ok_us.len()).sum();
    if answered > 0 {
        println!(
            "  server CPU per answered request: {:.2} ms{} ({answered} answered)",
            1000.0 * server_cpu / answered as f64,
            if p.db == Db::Postgres {
                format!(
                    ", PostgreSQL CPU per answered request: {:.2} ms",
                    1000.0 * postgres_cpu / answered as f64
                )
            } else {
                String::new()
            }
        );
    }
    if total_errors > 0 {
        println!("ERRORS: {total_errors} requests failed (see the table)");
    }
    total_errors
}

// ---------------------------------------------------------------------------------------------

fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) gets a smoke run.
    let bench = std::env::args().any(|a| a == "--bench");
    let p = Params::from_env(bench);
    let server_rt = runtime("gp-server");
    let load_rt = runtime("gp-load");
    let s = setup(&p, &server_rt, &load_rt);

    let postgres_port = s
        .server
        .state()
        .config
        .database_url
        .as_ref()
        .and_then(|u| url_port(u.expose()));
    let url: Arc<str> = format!("{}/api/student/case", s.server.base_url).into();
    let start = Instant::now();
    let from = start + Duration::from_secs(p.warmup);
    let until = from + Duration::from_secs(p.seconds);
    let (mut rec, measured, before, after) = load_rt.block_on(async {
        let mut tasks = Vec::new();
        for st in s.students {
            tasks.push(tokio::spawn(student_loop(st, url.clone(), from, until)));
        }
        for (i, c) in s.reviewers.into_iter().enumerate() {
            tasks.push(tokio::spawn(reviewer_loop(c, i, p.claim_max, from, until)));
        }
        tokio::time::sleep_until(from.into()).await;
        let before = cpu_mark(postgres_port);
        tokio::time::sleep_until(until.into()).await;
        let after = cpu_mark(postgres_port);
        let mut all = Recorder::default();
        for t in tasks {
            // Bounded: a request in flight at the end gets a few seconds to finish.
            match tokio::time::timeout(Duration::from_secs(30), t).await {
                Ok(Ok(r)) => all.merge(r),
                Ok(Err(e)) => panic!("load task failed: {e}"),
                Err(_) => panic!("a load task did not finish 30 s after the end"),
            }
        }
        (all, until.duration_since(from), before, after)
    });
    let errors = report(&p, &mut rec, measured, &before, &after);
    let answered: usize = rec.tallies.values().map(|t| t.ok_us.len()).sum();
    assert!(answered > 0, "no request was answered");
    // The smoke run checks the set-up and the loops: at that load nothing may fail.
    assert!(bench || errors == 0, "{errors} requests failed");
    server_rt.block_on(s.server.stop());
}
