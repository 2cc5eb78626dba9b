//! The job queue. Workers claim one ready job at a time; on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED` so many workers never take the same job.
//!
//! A claim is a lease: the job stays the claimant's until `locked_until`, and the running
//! worker keeps pushing that moment forward ([`renew`]) for as long as it works on the job. A
//! worker that dies stops renewing, so its job becomes claimable again within one lease —
//! whether its process was killed or its host vanished. Each claim writes a fresh owner token
//! into `locked_by`; renewing, completing and failing a job all require that token, so a worker
//! that lost its lease (it stalled past it and another worker took the job over) can neither
//! keep the job alive nor write its late result over the new owner's.

use super::error::StoreResult;
use super::{new_id, now_ms, Store, WriteTx};

pub const KIND_ANALYZE_ATTEMPT: &str = "analyze_attempt";

pub const STATUS_QUEUED: &str = "queued";
pub const STATUS_RUNNING: &str = "running";
pub const STATUS_DONE: &str = "done";
pub const STATUS_FAILED: &str = "failed";

/// Attempts before a job is given up.
pub const MAX_TRIES: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Claims so far, this one included (a claim of an abandoned job counts too).
    pub tries: i64,
    /// This claim's owner token (`locked_by`): the worker's name and an id of its own, so two
    /// processes using the same worker name still hold different claims.
    pub owner: String,
}

pub async fn enqueue(
    tx: &mut WriteTx,
    kind: &str,
    payload: &serde_json::Value,
) -> StoreResult<String> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, status, tries, run_after, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5, $5, $5)",
    )
    .bind(&id)
    .bind(kind)
    .bind(payload.to_string())
    .bind(STATUS_QUEUED)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Claims the oldest ready job for `worker` under a lease of `lease_ms`: a queued job whose
/// time has come, or a running one whose lease ran out (its worker stopped renewing).
pub async fn claim(store: &Store, worker: &str, lease_ms: i64) -> StoreResult<Option<Job>> {
    let mut tx = store.begin().await?;
    let now = now_ms();
    let sql = format!(
        "SELECT id, kind, payload, tries FROM jobs
         WHERE (status = $1 AND run_after <= $2) OR (status = $3 AND locked_until < $2)
         ORDER BY run_after, id LIMIT 1{}",
        store.backend().lock_rows_skip_locked()
    );
    let row: Option<(String, String, String, i64)> = sqlx::query_as(&sql)
        .bind(STATUS_QUEUED)
        .bind(now)
        .bind(STATUS_RUNNING)
        .fetch_optional(tx.conn())
        .await?;
    let Some((id, kind, payload, tries)) = row else {
        return Ok(None);
    };
    let owner = format!("{worker} {}", new_id());
    sqlx::query(
        "UPDATE jobs SET status = $1, locked_by = $2, locked_until = $3, tries = tries + 1, updated_at = $4 WHERE id = $5",
    )
    .bind(STATUS_RUNNING)
    .bind(&owner)
    .bind(now.saturating_add(lease_ms))
    .bind(now)
    .bind(&id)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(Job {
        id,
        kind,
        payload: serde_json::from_str(&payload)?,
        tries: tries + 1,
        owner,
    }))
}

/// Extends the lease of a job its worker is still running to `lease_ms` from now. Answers
/// false when the claim is no longer this worker's: the job finished, or it was taken over
/// after the lease ran out.
pub async fn renew(store: &Store, job: &Job, lease_ms: i64) -> StoreResult<bool> {
    let now = now_ms();
    let mut tx = store.begin().await?;
    let renewed = sqlx::query(
        "UPDATE jobs SET locked_until = $1, updated_at = $2 WHERE id = $3 AND status = $4 AND locked_by = $5",
    )
    .bind(now.saturating_add(lease_ms))
    .bind(now)
    .bind(&job.id)
    .bind(STATUS_RUNNING)
    .bind(&job.owner)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(renewed == 1)
}

/// Marks a job done whoever holds it. Workers finish the jobs they claimed with [`complete`].
pub async fn finish(tx: &mut WriteTx, id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE jobs SET status = $1, locked_by = NULL, locked_until = NULL, updated_at = $2 WHERE id = $3")
        .bind(STATUS_DONE)
        .bind(now_ms())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Marks a claimed job done, in the transaction that records its result. Answers false when
/// the claim is no longer `job`'s (another worker took the job over): the caller must then
/// roll back, leaving the result to the job's owner.
pub async fn complete(tx: &mut WriteTx, job: &Job) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = $1, locked_by = NULL, locked_until = NULL, updated_at = $2
         WHERE id = $3 AND status = $4 AND locked_by = $5",
    )
    .bind(STATUS_DONE)
    .bind(now_ms())
    .bind(&job.id)
    .bind(STATUS_RUNNING)
    .bind(&job.owner)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// What [`fail`] did with a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// Queued again, to run after a pause.
    Retry,
    /// The job used up its tries: it is failed for good, and its subject should say so in
    /// the same transaction.
    GaveUp,
    /// The claim is no longer `job`'s; the job was left to its new owner.
    NotOwner,
}

/// Records an error of a claimed job: it runs again later unless it has used up its tries.
pub async fn fail(tx: &mut WriteTx, job: &Job, error: &str) -> StoreResult<Failed> {
    let give_up = job.tries >= MAX_TRIES;
    let now = now_ms();
    let changed = sqlx::query(
        "UPDATE jobs SET status = $1, last_error = $2, locked_by = NULL, locked_until = NULL, run_after = $3, updated_at = $4
         WHERE id = $5 AND status = $6 AND locked_by = $7",
    )
    .bind(if give_up { STATUS_FAILED } else { STATUS_QUEUED })
    .bind(error)
    .bind(now.saturating_add(2_000_i64.saturating_mul(job.tries)))
    .bind(now)
    .bind(&job.id)
    .bind(STATUS_RUNNING)
    .bind(&job.owner)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(match (changed, give_up) {
        (0, _) => Failed::NotOwner,
        (_, true) => Failed::GaveUp,
        (_, false) => Failed::Retry,
    })
}

/// Queues every running job again at once, keeping its tries. Only for a start-up where no
/// other process can be running jobs on this database (embedded SQLite): every claim found is
/// then a dead process's, and waiting for its lease would only keep students waiting.
pub async fn release_running(store: &Store) -> StoreResult<u64> {
    let now = now_ms();
    let mut tx = store.begin().await?;
    let released = sqlx::query(
        "UPDATE jobs SET status = $1, locked_by = NULL, locked_until = NULL, updated_at = $2 WHERE status = $3",
    )
    .bind(STATUS_QUEUED)
    .bind(now)
    .bind(STATUS_RUNNING)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(released)
}

/// Jobs not yet finished (queued or running).
pub async fn pending_count(store: &Store) -> StoreResult<i64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status IN ($1, $2)")
        .bind(STATUS_QUEUED)
        .bind(STATUS_RUNNING)
        .fetch_one(store.pool())
        .await?;
    Ok(n)
}
