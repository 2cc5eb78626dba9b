//! Fixed-window failure counters per bucket. The policy (limits, the refusal) is in
//! `crate::ratelimit`; this is only how the counters are kept.

use super::error::StoreResult;
use super::{Store, WriteTx};

/// The bucket's current window: when it started and how many failures it holds.
pub async fn window(store: &Store, bucket: &str) -> StoreResult<Option<(i64, i64)>> {
    Ok(
        sqlx::query_as("SELECT window_start, hits FROM rate_limits WHERE bucket = $1")
            .bind(bucket)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Takes one attempt at `now` in one conditional write: counted when the bucket has room (or
/// its window began at or before `expired_at`, which starts a new one), refused otherwise.
/// Answers the attempts in the window after taking, or `None` when none was left. Concurrent
/// callers cannot all pass a check made before any of them counted.
pub async fn take(
    tx: &mut WriteTx,
    bucket: &str,
    now: i64,
    expired_at: i64,
    max: i64,
) -> StoreResult<Option<i64>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (bucket) DO UPDATE SET
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END
         WHERE rate_limits.window_start <= $3 OR rate_limits.hits < $4
         RETURNING window_start, hits",
    )
    .bind(bucket)
    .bind(now)
    .bind(expired_at)
    .bind(max)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|(_, hits)| hits))
}

/// Gives one taken attempt back (it succeeded, so it is not a failure to count).
pub async fn give_back(tx: &mut WriteTx, bucket: &str) -> StoreResult<()> {
    sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE bucket = $1 AND hits > 0")
        .bind(bucket)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn clear(tx: &mut WriteTx, bucket: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM rate_limits WHERE bucket = $1")
        .bind(bucket)
        .execute(tx.conn())
        .await?;
    Ok(())
}
