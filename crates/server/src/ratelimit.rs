//! Fixed-window failure counters kept in the database, so limits hold across restarts and
//! across several API servers.

use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::store::{now_ms, rate_limits, Store, WriteTx};

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
    let row = rate_limits::window(store, bucket).await?;
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

/// Takes one attempt from the bucket before the attempt is judged, in one conditional write
/// committed at once, so parallel attempts are each counted against the limit; refuses (429,
/// `Retry-After`) when the window has none left. Answers the attempts left after this one.
/// A successful attempt gives its place back ([`give_back`]) or clears the bucket ([`reset`]).
pub async fn take(store: &Store, bucket: &str, limit: Limit) -> AppResult<u32> {
    let now = now_ms();
    let max = i64::from(limit.max_failures);
    let mut tx = store.begin().await?;
    let taken = rate_limits::take(&mut tx, bucket, now, now - limit.window_ms, max).await?;
    tx.commit().await?;
    match taken {
        Some(hits) => Ok(u32::try_from(max - hits).unwrap_or(0)),
        None => {
            let start = rate_limits::window(store, bucket)
                .await?
                .map_or(now, |(start, _)| start);
            Err(too_many(start + limit.window_ms - now))
        }
    }
}

pub async fn give_back(tx: &mut WriteTx, bucket: &str) -> AppResult<()> {
    Ok(rate_limits::give_back(tx, bucket).await?)
}

pub async fn reset(tx: &mut WriteTx, bucket: &str) -> AppResult<()> {
    Ok(rate_limits::clear(tx, bucket).await?)
}
