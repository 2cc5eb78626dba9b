//! Background work: photo analysis. `serve` runs workers in-process; `gradphoto worker`
//! runs them alone so API servers and workers can scale separately.
//!
//! A worker holds the job it runs under a short lease ([`LEASE_MS`]) that a [`Heartbeat`]
//! renews every [`RENEW_EVERY`] until the job's result is committed. Why a renewed lease: a
//! dead worker must be told from a slow one without asking it. One long lock either strands a
//! crashed worker's photo for its whole length or, if short, hands a long analysis to a second
//! worker while the first still runs it; holding the row lock for the whole run instead would
//! keep a transaction open for the length of an analysis, which SQLite (one writer) cannot
//! afford. With renewal, a job whose worker died is claimable within one lease, and one whose
//! worker lives never is, however long it runs. The embedded SQLite mode is one process by
//! design, so a process starting its workers there requeues every running job at once
//! ([`requeue_abandoned`]): none can have a live owner, and students need not wait a lease.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gradphoto_api::error::ErrorCode;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::analyzer::{AnalyzeError, AnalyzeInput, AnalyzeOutput};
use crate::http::error::{AppError, AppResult};
use crate::objects::ObjectKind;
use crate::store::jobs::{Failed, Job};
use crate::store::{attempts, cases, jobs, schools, students, Backend, Store};
use crate::AppState;

/// How long a claim lasts without renewal: how soon a dead worker's job runs again.
pub const LEASE_MS: i64 = 30_000;
/// How often a running job's lease is renewed. Several renewals fit in one lease, so a slow
/// database round or two (or clocks of worker hosts apart by less than the difference) never
/// lets a live worker's job go.
pub const RENEW_EVERY: Duration = Duration::from_secs(5);
const IDLE_POLL: Duration = Duration::from_secs(2);

pub fn spawn_workers(
    state: &AppState,
    count: usize,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    (0..count)
        .map(|i| {
            let state = state.clone();
            let stop = stop.clone();
            let name = format!("{}-{}", std::process::id(), i);
            tokio::spawn(async move { worker_loop(state, name, stop).await })
        })
        .collect()
}

/// Before a process starts its workers: on SQLite, requeues the jobs a killed process left
/// running (none can be alive: embedded mode is one process). On PostgreSQL other workers may
/// be running them, so their leases decide. Answers how many jobs were requeued.
pub async fn requeue_abandoned(state: &AppState) -> AppResult<u64> {
    if state.store.backend() != Backend::Sqlite {
        return Ok(0);
    }
    let n = jobs::release_running(&state.store).await?;
    if n > 0 {
        tracing::info!(jobs = n, "requeued jobs left running by an earlier process");
    }
    Ok(n)
}

/// Keeps a claimed job's lease alive while its worker runs it; stops when dropped.
pub struct Heartbeat {
    task: JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

impl Heartbeat {
    /// Renews `job`'s lease to `lease_ms` every `every`, until dropped or until the claim
    /// turns out no longer to be `job`'s.
    pub fn start(store: Store, job: Job, lease_ms: i64, every: Duration) -> Heartbeat {
        let lost = Arc::new(AtomicBool::new(false));
        let flag = lost.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match jobs::renew(&store, &job, lease_ms).await {
                    Ok(true) => {}
                    Ok(false) => {
                        flag.store(true, Ordering::SeqCst);
                        return;
                    }
                    // The lease outlasts several renewals: try again at the next beat.
                    Err(e) => tracing::warn!(job = %job.id, error = %e, "job lease renewal failed"),
                }
            }
        });
        Heartbeat { task, lost }
    }

    /// Whether a renewal found the claim gone (finished, or taken over after the lease ran
    /// out while renewals failed).
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn worker_loop(state: AppState, name: String, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        match run_one(&state, &name).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(worker = %name, error = %e, "job worker error"),
        }
        tokio::select! {
            _ = state.job_signal.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

/// How a job run ended, when it did not fail.
enum Ran {
    Done,
    /// The claim was taken over (this worker stalled past its lease): nothing was written.
    Superseded,
}

/// Runs one ready job, if any. Returns whether a job was run.
pub async fn run_one(state: &AppState, worker: &str) -> AppResult<bool> {
    let Some(job) = jobs::claim(&state.store, worker, LEASE_MS).await? else {
        return Ok(false);
    };
    // Renewed until every write of the job is committed: dropped at the end of this function.
    let heartbeat = Heartbeat::start(state.store.clone(), job.clone(), LEASE_MS, RENEW_EVERY);
    let result = if job.tries > jobs::MAX_TRIES {
        // A failed try gives up at MAX_TRIES, so claims beyond it come only from workers that
        // died running the job. The photo itself may be what kills them: stop, rather than
        // crash every worker that takes it.
        Err(AppError::new(
            ErrorCode::InternalError,
            "照片分析多次中断，请重新上传照片；如仍不成功请联系学校。",
            "Analysing this photo was interrupted repeatedly. Upload it again; if that does not help, contact your school.",
        ))
    } else {
        match job.kind.as_str() {
            jobs::KIND_ANALYZE_ATTEMPT => {
                match job.payload.get("attempt_id").and_then(|v| v.as_str()) {
                    Some(attempt_id) => analyze_attempt(state, &job, attempt_id).await,
                    None => Err(AppError::internal("analyze job without attempt_id")),
                }
            }
            other => Err(AppError::internal(format_args!("unknown job kind {other}"))),
        }
    };
    match result {
        Ok(Ran::Done) => {}
        Ok(Ran::Superseded) => superseded(&job, &heartbeat),
        Err(e) => {
            let mut tx = state.store.begin().await?;
            match jobs::fail(&mut tx, &job, &e.to_string()).await? {
                Failed::Retry => {}
                Failed::GaveUp => {
                    if let Some(attempt_id) = job.payload.get("attempt_id").and_then(|v| v.as_str())
                    {
                        // In the transaction that fails the job: a crash between the two would
                        // leave the attempt processing for ever.
                        attempts::mark_failed(&mut tx, attempt_id, &e).await?;
                    }
                }
                Failed::NotOwner => {
                    superseded(&job, &heartbeat);
                    return Ok(true);
                }
            }
            tx.commit().await?;
        }
    }
    drop(heartbeat);
    Ok(true)
}

fn superseded(job: &Job, heartbeat: &Heartbeat) {
    tracing::warn!(
        job = %job.id,
        renewal_failed = heartbeat.lost(),
        "job taken over by another worker after its lease ran out; result discarded"
    );
}

/// Runs every ready job until the queue is empty (used by tests, the demo and `worker --once`).
pub async fn drain(state: &AppState) -> AppResult<usize> {
    let mut n = 0;
    while run_one(state, "drain").await? {
        n += 1;
    }
    Ok(n)
}

async fn analyze_attempt(state: &AppState, job: &Job, attempt_id: &str) -> AppResult<Ran> {
    let attempt = attempts::get(&state.store, attempt_id)
        .await?
        .ok_or_else(|| AppError::not_found("照片", "Photo attempt"))?;
    let case = cases::get(&state.store, &attempt.case_id)
        .await?
        .ok_or_else(|| AppError::not_found("采集记录", "Case"))?;
    let student = students::get(&state.store, &case.student_id)
        .await?
        .ok_or_else(|| AppError::not_found("学生", "Student"))?;
    let photo = state.objects.get_sensitive(&attempt.original_key).await?;
    let id_card_front = match &case.id_front_key {
        Some(key) => Some(state.objects.get_sensitive(key).await?),
        None => None,
    };
    let id_number = students::reveal_id_number(&state.store, &state.crypto, &student.id).await?;
    // The school's spec: its background and file-size window (`SchoolPolicy::photo_spec`).
    let school = schools::get(&state.store, &case.school_id)
        .await?
        .ok_or_else(|| AppError::not_found("学校", "School"))?;
    let input = AnalyzeInput {
        photo,
        spec: school.policy.photo_spec(),
        id_card_front,
        typed: Some((student.name.clone(), id_number)),
    };
    let analyzer = state.analyzer.clone();
    let outcome = tokio::task::spawn_blocking(move || analyzer.analyze(input)).await?;
    match outcome {
        Ok(output) => store_analysis(state, job, &attempt, output).await,
        Err(err) => {
            let mut tx = state.store.begin().await?;
            // First, so that a superseded claim writes nothing (the transaction is dropped).
            if !jobs::complete(&mut tx, job).await? {
                return Ok(Ran::Superseded);
            }
            attempts::mark_failed(&mut tx, &attempt.id, &err).await?;
            cases::touch(&mut tx, &attempt.case_id).await?;
            tx.commit().await?;
            Ok(Ran::Done)
        }
    }
}

async fn store_analysis(
    state: &AppState,
    job: &Job,
    attempt: &attempts::AttemptRow,
    output: AnalyzeOutput,
) -> AppResult<Ran> {
    let standardized_key = match &output.standardized {
        Some(jpeg) => Some(
            state
                .objects
                .put_sensitive(ObjectKind::Standardized, jpeg)
                .await?,
        ),
        None => None,
    };
    let report_json = serde_json::to_string(&output.report)?;
    let overall = serde_json::to_value(output.report.overall())?;
    let overall = overall.as_str().unwrap_or("fail").to_string();
    let ocr_json = output.ocr.as_ref().map(serde_json::to_string).transpose()?;
    let same_person = output.face_match.as_ref().map(|m| m.same_person);
    let mut tx = state.store.begin().await?;
    // First, so that a superseded claim writes nothing (the transaction is dropped).
    if !jobs::complete(&mut tx, job).await? {
        return Ok(Ran::Superseded);
    }
    attempts::mark_checked(
        &mut tx,
        &attempt.id,
        &attempts::Analysed {
            standardized_key: standardized_key.as_deref(),
            report_json: &report_json,
            overall: &overall,
            face_distance: output.face_match.as_ref().map(|m| m.distance),
            face_same_person: same_person,
            ocr_json: ocr_json.as_deref(),
        },
    )
    .await?;
    // Face comparisons count per round only for attempts of the case's current round.
    if let Some(same) = same_person {
        cases::record_face_match(&mut tx, &attempt.case_id, attempt.round, same).await?;
    }
    cases::touch(&mut tx, &attempt.case_id).await?;
    tx.commit().await?;
    Ok(Ran::Done)
}

impl From<AnalyzeError> for AppError {
    fn from(e: AnalyzeError) -> Self {
        AppError::localized(&e)
    }
}
