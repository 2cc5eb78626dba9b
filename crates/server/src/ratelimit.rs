//! Fixed-window failure counters kept in the database, so limits hold across restarts and
//! across several API servers.

use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::store::{now_ms, Store, WriteTx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max_failures: u32,
    pub window_ms: i64,
}

fn too_many(retry_after_ms: i64) -> AppError {
    let seconds = u64::try_from((retry_after_ms + 999) / 1000)
        .unwrap_or(1)
        .max(1);
    let minutes = seconds.div_ceil(60);
    AppError::new(
        ErrorCode::TooManyAttempts,
        format!("尝试次数过多，请约 {minutes} 分钟后再试。如确认信息无误，请联系学校。"),
        format!(
            "Too many attempts. Try again in about {minutes} minute(s). If your details are correct, contact your school."
        ),
    )
    .with_retry_after(seconds)
}

/// Refuses when the bucket has reached its limit within the current window.
pub async fn check(store: &Store, bucket: &str, limit: Limit) -> AppResult<()> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT window_start, hits FROM rate_limits WHERE bucket = $1")
            .bind(bucket)
            .fetch_optional(store.pool())
            .await?;
    let now = now_ms();
    match row {
        Some((start, hits))
            if now - start < limit.window_ms && hits >= i64::from(limit.max_failures) =>
        {
            Err(too_many(start + limit.window_ms - now))
        }
        _ => Ok(()),
    }
}

/// Counts one failure; returns the failures left in the current window.
pub async fn record_failure(tx: &mut WriteTx, bucket: &str, limit: Limit) -> AppResult<u32> {
    let now = now_ms();
    let (_, hits): (i64, i64) = sqlx::query_as(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (bucket) DO UPDATE SET
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END
         RETURNING window_start, hits",
    )
    .bind(bucket)
    .bind(now)
    .bind(now - limit.window_ms)
    .fetch_one(tx.conn())
    .await?;
    Ok(u32::try_from(i64::from(limit.max_failures) - hits).unwrap_or(0))
}

pub async fn reset(tx: &mut WriteTx, bucket: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM rate_limits WHERE bucket = $1")
        .bind(bucket)
        .execute(tx.conn())
        .await?;
    Ok(())
}
