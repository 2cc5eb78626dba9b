//! The job queue. Workers claim one ready job at a time; on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED` so many workers never take the same job. A job whose worker
//! died (lock expired) becomes claimable again.

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
    pub tries: i64,
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

/// Claims the oldest ready job for `worker`, locking it for `lock_ms`.
pub async fn claim(store: &Store, worker: &str, lock_ms: i64) -> StoreResult<Option<Job>> {
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
    sqlx::query(
        "UPDATE jobs SET status = $1, locked_by = $2, locked_until = $3, tries = tries + 1, updated_at = $4 WHERE id = $5",
    )
    .bind(STATUS_RUNNING)
    .bind(worker)
    .bind(now + lock_ms)
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
    }))
}

pub async fn finish(tx: &mut WriteTx, id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE jobs SET status = $1, locked_by = NULL, locked_until = NULL, updated_at = $2 WHERE id = $3")
        .bind(STATUS_DONE)
        .bind(now_ms())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Records an error; the job runs again later unless it has used up its tries.
pub async fn fail(store: &Store, job: &Job, error: &str) -> StoreResult<bool> {
    let give_up = job.tries >= MAX_TRIES;
    let now = now_ms();
    let mut tx = store.begin().await?;
    sqlx::query(
        "UPDATE jobs SET status = $1, last_error = $2, locked_by = NULL, locked_until = NULL, run_after = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(if give_up { STATUS_FAILED } else { STATUS_QUEUED })
    .bind(error)
    .bind(now + 2_000 * job.tries)
    .bind(now)
    .bind(&job.id)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(give_up)
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
