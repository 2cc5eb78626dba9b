//! Background work: photo analysis. `serve` runs workers in-process; `gradphoto worker`
//! runs them alone so API servers and workers can scale separately.

use std::time::Duration;

use gradphoto_domain::spec::PhotoSpec;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::analyzer::{AnalyzeError, AnalyzeInput, AnalyzeOutput};
use crate::http::error::{AppError, AppResult};
use crate::objects::ObjectKind;
use crate::store::{attempts, cases, jobs, students};
use crate::AppState;

/// How long a claimed job stays locked before another worker may take it over.
const LOCK_MS: i64 = 5 * 60 * 1000;
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

/// Runs one ready job, if any. Returns whether a job was run.
pub async fn run_one(state: &AppState, worker: &str) -> AppResult<bool> {
    let Some(job) = jobs::claim(&state.store, worker, LOCK_MS).await? else {
        return Ok(false);
    };
    let result = match job.kind.as_str() {
        jobs::KIND_ANALYZE_ATTEMPT => {
            match job.payload.get("attempt_id").and_then(|v| v.as_str()) {
                Some(attempt_id) => analyze_attempt(state, &job.id, attempt_id).await,
                None => Err(AppError::internal("analyze job without attempt_id")),
            }
        }
        other => Err(AppError::internal(format_args!("unknown job kind {other}"))),
    };
    if let Err(e) = result {
        let gave_up = jobs::fail(&state.store, &job, &e.to_string()).await?;
        if gave_up {
            if let Some(attempt_id) = job.payload.get("attempt_id").and_then(|v| v.as_str()) {
                let mut tx = state.store.begin().await?;
                attempts::mark_failed(&mut tx, attempt_id, &e).await?;
                tx.commit().await?;
            }
        }
    }
    Ok(true)
}

/// Runs every ready job until the queue is empty (used by tests, the demo and `worker --once`).
pub async fn drain(state: &AppState) -> AppResult<usize> {
    let mut n = 0;
    while run_one(state, "drain").await? {
        n += 1;
    }
    Ok(n)
}

async fn analyze_attempt(state: &AppState, job_id: &str, attempt_id: &str) -> AppResult<()> {
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
    let input = AnalyzeInput {
        photo,
        spec: PhotoSpec::chsi(),
        id_card_front,
        typed: Some((student.name.clone(), id_number)),
    };
    let analyzer = state.analyzer.clone();
    let outcome = tokio::task::spawn_blocking(move || analyzer.analyze(input)).await?;
    match outcome {
        Ok(output) => store_analysis(state, job_id, &attempt, output).await,
        Err(err) => {
            let mut tx = state.store.begin().await?;
            attempts::mark_failed(&mut tx, &attempt.id, &err).await?;
            jobs::finish(&mut tx, job_id).await?;
            cases::touch(&mut tx, &attempt.case_id).await?;
            Ok(tx.commit().await?)
        }
    }
}

async fn store_analysis(
    state: &AppState,
    job_id: &str,
    attempt: &attempts::AttemptRow,
    output: AnalyzeOutput,
) -> AppResult<()> {
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
    jobs::finish(&mut tx, job_id).await?;
    cases::touch(&mut tx, &attempt.case_id).await?;
    Ok(tx.commit().await?)
}

impl From<AnalyzeError> for AppError {
    fn from(e: AnalyzeError) -> Self {
        AppError::localized(&e)
    }
}
