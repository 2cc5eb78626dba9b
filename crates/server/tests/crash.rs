//! Crash tests: the real `gradphoto` binary, killed with SIGKILL at random moments during a
//! photo upload, a reviewer's decision and an analysis, then started again on the same data
//! directory. After every restart: what was answered 2xx is there, a retry with the same
//! idempotency key finds the same row (never a second one), every attempt reaches a final
//! status and the audit chain verifies. Embedded SQLite only: a killed process is the same
//! event on PostgreSQL, where the job leases themselves are covered by the store suite.
//!
//! The moments come from a seeded RNG. Each test prints its seed (shown with a failure);
//! `GRADPHOTO_CRASH_SEED=<seed>` replays a run.
#![allow(clippy::unwrap_used)]

// The story helpers this file needs, without the in-process server and PostgreSQL harness
// the rest of `support` brings.
#[allow(dead_code)]
#[path = "support/fixture.rs"]
mod fixture;
#[allow(dead_code)]
#[path = "support/flows.rs"]
mod flows;
#[allow(dead_code)]
#[path = "support/photos.rs"]
mod photos;
#[allow(dead_code)]
#[path = "support/seed.rs"]
mod seed;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fixture::StudentFixture;
use gradphoto_api::common::{AttemptStatus, AttemptView};
use gradphoto_api::error::ErrorCode;
use gradphoto_api::review::Verdict;
use gradphoto_client::Client;
use gradphoto_domain::audit::Actor;
use gradphoto_domain::measures::Thresholds;
use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use gradphoto_server::config::{Config, PaymentConfig};
use gradphoto_server::crypto::hash_password;
use gradphoto_server::store::{jobs, users, Store};
use gradphoto_server::vision::VisionAnalyzer;
use gradphoto_server::AppState;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Kills per test.
const TRIALS: usize = 20;
/// Decisions made before the kills, to learn how long one takes.
const CALIBRATION_DECISIONS: usize = 3;
const REVIEWER: &str = "reviewer";
/// Verifies the audit chain through the API after every restart.
const SUPERVISOR: &str = "supervisor";
const STAFF_PASSWORD: &str = "crash-Passw0rd!";
/// How long a restarted server may take to bring an attempt to a final status before the
/// attempt counts as stranded: many analyses long, so only a photo nobody runs fails it.
const FINAL_WITHIN: Duration = Duration::from_secs(120);

/// The seed of this run: `GRADPHOTO_CRASH_SEED` when set, else a fresh one.
fn rng_seed(test: &str) -> u64 {
    let seed = std::env::var("GRADPHOTO_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("{test}: seed {seed} (GRADPHOTO_CRASH_SEED={seed} replays this run)");
    seed
}

/// A random moment in `[0, window]`.
fn moment(rng: &mut StdRng, window: Duration) -> Duration {
    let max = u64::try_from(window.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rng.gen_range(0..=max))
}

/// How long requests of one kind take here when nothing interrupts them. Kill moments are
/// drawn from twice the median, so they fall before, during and after such a request.
#[derive(Default)]
struct Timing(Vec<Duration>);

impl Timing {
    fn record(&mut self, took: Duration) {
        self.0.push(took);
    }

    fn window(&self) -> Duration {
        let mut seen = self.0.clone();
        seen.sort();
        // The lower median: the first request of a fresh process is the slow one.
        seen.get(seen.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or_default()
            * 2
    }
}

/// Runs `request`, answering its result and how long it took.
async fn timed<T>(request: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = request.await;
    (out, started.elapsed())
}

/// One test's directory: `data/` for the server, `server.log` for its log.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        Site {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The binary with this site's settings and nothing from the caller's environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gradphoto"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GRADPHOTO_") {
                cmd.env_remove(key);
            }
        }
        // Port 0: the server takes a free port and prints it, so parallel tests never race
        // for one.
        cmd.args(args)
            .env("GRADPHOTO_DATA_DIR", self.data())
            .env("GRADPHOTO_LISTEN", "127.0.0.1:0")
            .env("GRADPHOTO_PAYMENT_PROVIDER", "sandbox")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// The configuration the binary reads from the environment above, for seeding and
    /// inspecting the same database through the library.
    fn config(&self) -> Config {
        Config {
            data_dir: self.data(),
            payment: PaymentConfig::sandbox(),
            ..Config::default()
        }
    }

    /// Seeds, through the library and before any server runs: `students` students with codes
    /// (their school charging nothing, allowing plenty of photos per round), `pending` cases
    /// waiting for review, a reviewer and a supervisor.
    async fn seed(&self, students: usize, pending: usize) -> Vec<StudentFixture> {
        let analyzer = Arc::new(VisionAnalyzer::new(Thresholds::default()));
        let state = AppState::open(self.config(), analyzer).await.unwrap();
        let mut policy = fixture::policy(0);
        policy.max_attempts_per_round = 100;
        let fx = fixture::seed(&state, students, &policy).await;
        if pending > 0 {
            seed::pending(&state.store, &state.crypto, &fx.school_id, "K", pending)
                .await
                .unwrap();
        }
        let hash = tokio::task::spawn_blocking(|| hash_password(STAFF_PASSWORD))
            .await
            .unwrap()
            .unwrap();
        let mut tx = state.store.begin().await.unwrap();
        for (username, role) in [(REVIEWER, Role::Reviewer), (SUPERVISOR, Role::Supervisor)] {
            users::add(
                &mut tx,
                &Actor::new(Role::Admin, "crash-test"),
                username,
                username,
                role,
                &hash,
                None,
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        state.store.close().await;
        fx.students
    }

    /// `gradphoto serve`, once it listens.
    async fn serve(&self) -> Server {
        self.serve_with(&[]).await
    }

    /// `gradphoto serve` with more settings in its environment.
    async fn serve_with(&self, env: &[(&str, &str)]) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .unwrap();
        let mut child = self
            .command(&["serve"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Reads to the end, so the server never writes into a closed pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.split("listening on ").nth(1) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.trim().to_string());
                    }
                }
            }
        });
        // Built before waiting, so a server that never listens is killed with the panic.
        let mut server = Server { child, base: None };
        match tokio::time::timeout(Duration::from_secs(120), rx).await {
            Ok(Ok(base)) => server.base = Some(base),
            _ => panic!("the server did not start:\n{}", self.log()),
        }
        server
    }

    /// After the last kill: the audit chain verifies, no job is left queued or running and no
    /// attempt processing. Answers the database for further checks.
    async fn check_at_rest(&self, seed: u64) -> Store {
        let out = self.run(&["audit", "verify"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.starts_with("OK"),
            "seed {seed}: audit verify: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let store = Store::connect(&self.config().database_url()).await.unwrap();
        let unfinished: Vec<(String, String)> =
            sqlx::query_as("SELECT id, status FROM jobs WHERE status IN ('queued', 'running')")
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert!(unfinished.is_empty(), "seed {seed}: {unfinished:?}");
        let processing: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM attempts WHERE status = 'processing'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(processing, 0, "seed {seed}: attempts left processing");
        store
    }
}

struct Server {
    child: Child,
    base: Option<String>,
}

impl Server {
    fn client(&self) -> Client {
        Client::new(self.base.as_deref().unwrap()).unwrap()
    }

    fn with_token(&self, token: &str) -> Client {
        self.client().with_token(token)
    }

    /// Signs a staff account in; its token stays valid across restarts.
    async fn sign_in(&self, username: &str) -> String {
        let mut client = self.client();
        client.login(username, STAFF_PASSWORD).await.unwrap();
        client.token().unwrap().to_string()
    }

    /// The audit chain verifies (the supervisor's check, `supervisor` a supervisor's token).
    async fn assert_audit_intact(&self, supervisor: &str, at: &str) {
        let verified = self.with_token(supervisor).audit_verify().await.unwrap();
        assert!(verified.ok, "{at}: the audit chain is broken: {verified:?}");
    }

    /// SIGKILL (`Child::kill` on Unix): no shutdown, no flushing, no cleanup.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls an attempt until its analysis has ended.
async fn wait_final(client: &Client, attempt_id: &str, seed: u64) -> AttemptView {
    let started = Instant::now();
    loop {
        let attempt = client.attempt(attempt_id).await.unwrap();
        if attempt.status != AttemptStatus::Processing {
            return attempt;
        }
        assert!(
            started.elapsed() < FINAL_WITHIN,
            "seed {seed}: attempt {attempt_id} is stuck processing after a restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two sites run at once, each for this many photos, so that each kind of kill happens
/// [`TRIALS`] times while both cores are busy.
const PHOTOS_PER_SITE: usize = TRIALS / 2;

/// Each photo is killed twice on its way: during its upload, then during its analysis.
/// After the first restart, an upload answered 2xx is there with its photo, and a retry with
/// its `upload_id`, answered or not, is that one attempt (never a second). After the second,
/// the analysis has run to its end: at once after `gradphoto worker --once` (it runs the jobs
/// that are ready and exits, so the interrupted one must be ready when it starts), soon after
/// `serve`. After every restart the audit chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_during_uploads_and_analyses_lose_double_and_strand_nothing() {
    let seed = rng_seed("upload and analysis");
    let (a, b) = futures::future::join(photo_site(seed, 0), photo_site(seed, 1)).await;
    let answered = a.answered + b.answered;
    let interrupted = a.interrupted + b.interrupted;
    eprintln!(
        "upload and analysis: {answered} of {TRIALS} uploads were answered before the kill; \
         {interrupted} analyses were interrupted by a kill"
    );
    // Claims of an analysis beyond its first were each made after a kill stopped it: the
    // kills did land while analyses ran.
    assert!(
        interrupted >= (TRIALS / 4) as i64,
        "seed {seed}: only {interrupted} kills fell during an analysis"
    );
}

struct PhotoSite {
    answered: usize,
    interrupted: i64,
}

async fn photo_site(seed: u64, site_no: u64) -> PhotoSite {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(site_no));
    let site = Site::new();
    let students = site.seed(1, 0).await;
    let mut server = site.serve().await;
    let supervisor = server.sign_in(SUPERVISOR).await;
    let token = flows::to_ready(&server.client(), &students[0])
        .await
        .token()
        .unwrap()
        .to_string();
    let photo = photos::portrait();

    // A photo nobody interrupts says how long an upload and an analysis take here.
    let student = server.with_token(&token);
    let (mut uploads, mut analyses) = (Timing::default(), Timing::default());
    let (first, took) = timed(student.upload_attempt(photo.clone(), "camera", Some("first"))).await;
    let first = first.unwrap();
    uploads.record(took);
    let (_, took) = timed(wait_final(&student, &first.id, seed)).await;
    analyses.record(took);

    let mut expected = BTreeSet::from([first.id]);
    let mut answered = 0;
    for photo_no in 0..PHOTOS_PER_SITE {
        let at = format!("seed {seed}, site {site_no}, photo {photo_no}");
        let upload_id = format!("up-{photo_no}");

        // Killed during the upload.
        let request = tokio::spawn({
            let student = server.with_token(&token);
            let photo = photo.clone();
            let upload_id = upload_id.clone();
            async move { timed(student.upload_attempt(photo, "camera", Some(&upload_id))).await }
        });
        tokio::time::sleep(moment(&mut rng, uploads.window())).await;
        server.kill();
        let (outcome, took) = request.await.unwrap();
        if outcome.is_ok() {
            uploads.record(took);
        }

        server = site.serve().await;
        server.assert_audit_intact(&supervisor, &at).await;
        let student = server.with_token(&token);
        // Not timed: the restarted server may be busy with a requeued analysis meanwhile.
        let again = student
            .upload_attempt(photo.clone(), "camera", Some(&upload_id))
            .await
            .unwrap_or_else(|e| panic!("{at}: retried upload: {e}"));
        if let Ok(before) = &outcome {
            answered += 1;
            assert_eq!(before.id, again.id, "{at}: the retry made a second attempt");
        }
        let original = student.attempt_original(&again.id).await.unwrap();
        assert!(
            original.bytes.as_ref() == photo.bytes.as_slice(),
            "{at}: the stored photo differs from the upload"
        );
        expected.insert(again.id.clone());
        let case = student.student_case().await.unwrap();
        let stored: BTreeSet<String> = case.attempts.iter().map(|a| a.id.clone()).collect();
        assert_eq!(stored, expected, "{at}: attempts");

        // Killed during its analysis, which this server runs now: kills fall within the time
        // an analysis takes.
        tokio::time::sleep(moment(&mut rng, analyses.window() / 2)).await;
        server.kill();

        let done = if photo_no % 2 == 1 {
            let out = site.run(&["worker", "--once"]);
            assert!(
                out.status.success(),
                "{at}: worker --once: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            server = site.serve().await;
            let done = server.with_token(&token).attempt(&again.id).await.unwrap();
            assert_ne!(
                done.status,
                AttemptStatus::Processing,
                "{at}: `worker --once` left the interrupted analysis"
            );
            done
        } else {
            server = site.serve().await;
            let student = server.with_token(&token);
            let started = Instant::now();
            let first_look = student.attempt(&again.id).await.unwrap();
            if first_look.status == AttemptStatus::Processing {
                let done = wait_final(&student, &again.id, seed).await;
                // An analysis run again from its start says how long one takes.
                analyses.record(started.elapsed());
                done
            } else {
                first_look
            }
        };
        assert_eq!(done.status, AttemptStatus::Checked, "{at}: {done:?}");
        server.assert_audit_intact(&supervisor, &at).await;
    }
    server.kill();

    let store = site.check_at_rest(seed).await;
    let per_upload: Vec<(String, i64)> = sqlx::query_as(
        "SELECT client_upload_id, COUNT(*) FROM attempts GROUP BY client_upload_id HAVING COUNT(*) <> 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(per_upload.is_empty(), "seed {seed}: {per_upload:?}");
    let interrupted: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(tries - 1), 0) FROM jobs")
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    PhotoSite {
        answered,
        interrupted,
    }
}

/// Decisions answered 2xx survive a kill; a retry with the same `decision_id`, answered or
/// not, answers the one decision of that id, and no case is decided twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_a_decision_loses_and_doubles_nothing() {
    let seed = rng_seed("decision");
    let mut rng = StdRng::seed_from_u64(seed);
    let site = Site::new();
    site.seed(1, TRIALS + CALIBRATION_DECISIONS).await;
    let mut server = site.serve().await;
    let supervisor = server.sign_in(SUPERVISOR).await;
    let token = server.sign_in(REVIEWER).await;
    let reviewer = server.with_token(&token);

    // Decisions nobody interrupts say how long one takes here (the first on a fresh process
    // takes longer than the rest).
    let mut timing = Timing::default();
    let mut decided = Vec::new();
    for calibration in 0..CALIBRATION_DECISIONS {
        let claimed = reviewer.claim_next(1).await.unwrap();
        let case_id = claimed.leases[0].case_id.clone();
        let decision_id = format!("dec-first-{calibration}");
        let (done, took) = timed(reviewer.decide(&case_id, &decision_id, Verdict::Approve)).await;
        done.unwrap();
        timing.record(took);
        decided.push((case_id, decision_id));
    }

    let mut answered = 0;
    for trial in 0..TRIALS {
        let reviewer = server.with_token(&token);
        let claimed = reviewer.claim_next(1).await.unwrap();
        let case_id = claimed.leases[0].case_id.clone();
        let decision_id = format!("dec-{trial}");
        let approve = rng.gen_bool(0.5);
        let verdict = if approve {
            Verdict::Approve
        } else {
            Verdict::Reject {
                reasons: vec!["background".into()],
                comment: None,
            }
        };
        let request = tokio::spawn({
            let (case_id, decision_id, verdict) =
                (case_id.clone(), decision_id.clone(), verdict.clone());
            async move { timed(reviewer.decide(&case_id, &decision_id, verdict)).await }
        });
        tokio::time::sleep(moment(&mut rng, timing.window())).await;
        server.kill();
        let (outcome, took) = request.await.unwrap();
        if outcome.is_ok() {
            timing.record(took);
        }

        server = site.serve().await;
        server
            .assert_audit_intact(&supervisor, &format!("seed {seed}, trial {trial}"))
            .await;
        let again = server
            .with_token(&token)
            .decide(&case_id, &decision_id, verdict)
            .await
            .unwrap_or_else(|e| panic!("seed {seed}, trial {trial}: retried decision: {e}"));
        assert_eq!(again.decision_id, decision_id);
        let state_after = if approve {
            CaseState::Approved
        } else {
            CaseState::Rejected
        };
        assert_eq!(
            again.resulting_state, state_after,
            "seed {seed}, trial {trial}"
        );
        if let Ok(before) = &outcome {
            answered += 1;
            assert_eq!(
                before, &again,
                "seed {seed}, trial {trial}: the retry answered another decision"
            );
        }
        decided.push((case_id, decision_id));
    }
    server.kill();
    eprintln!("decision: {answered} of {TRIALS} decisions were answered before the kill");

    let store = site.check_at_rest(seed).await;
    for (case_id, decision_id) in &decided {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT client_decision_id FROM decisions WHERE case_id = $1")
                .bind(case_id)
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert_eq!(rows, vec![decision_id.clone()], "seed {seed}: {case_id}");
    }
    store.close().await;
}

/// A photo whose analysis every worker died running (claimed beyond the tries a failing
/// analysis gets, never finished) is failed with a message rather than run again: the photo
/// may be what kills them, and a student can upload another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_whose_analysis_keeps_dying_is_failed_not_run_for_ever() {
    let site = Site::new();
    let students = site.seed(1, 0).await;
    // Without workers the upload's analysis stays queued.
    let server = site.serve_with(&[("GRADPHOTO_WORKERS", "0")]).await;
    let token = flows::to_ready(&server.client(), &students[0])
        .await
        .token()
        .unwrap()
        .to_string();
    let attempt = server
        .with_token(&token)
        .upload_attempt(photos::portrait(), "camera", Some("dies"))
        .await
        .unwrap();
    server.kill();

    // As a killed worker leaves it, for the last of the tries.
    let store = Store::connect(&site.config().database_url()).await.unwrap();
    sqlx::query(
        "UPDATE jobs SET status = 'running', tries = $1, locked_by = 'dead', locked_until = 0",
    )
    .bind(jobs::MAX_TRIES)
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;

    let server = site.serve().await;
    let done = wait_final(&server.with_token(&token), &attempt.id, 0).await;
    assert_eq!(done.status, AttemptStatus::Failed, "{done:?}");
    let error = done.error.unwrap();
    assert_eq!(error.code, ErrorCode::InternalError);
    assert!(
        error.message_en.contains("interrupted repeatedly"),
        "{error:?}"
    );
    assert!(error.message_zh.contains("多次中断"), "{error:?}");
    server.kill();
    site.check_at_rest(0).await.close().await;
}
