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

/// Counts one failure at `now`, starting a new window when the bucket's began at or before
/// `expired_at`; returns the failures in the window after counting. One statement, so
/// concurrent failures are all counted.
pub async fn count_failure(
    tx: &mut WriteTx,
    bucket: &str,
    now: i64,
    expired_at: i64,
) -> StoreResult<i64> {
    let (_, hits): (i64, i64) = sqlx::query_as(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (bucket) DO UPDATE SET
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END
         RETURNING window_start, hits",
    )
    .bind(bucket)
    .bind(now)
    .bind(expired_at)
    .fetch_one(tx.conn())
    .await?;
    Ok(hits)
}

pub async fn clear(tx: &mut WriteTx, bucket: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM rate_limits WHERE bucket = $1")
        .bind(bucket)
        .execute(tx.conn())
        .await?;
    Ok(())
}
