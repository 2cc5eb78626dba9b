//! Review statistics for supervisors: decisions per reviewer and day, reject reasons.

use std::collections::HashMap;

use gradphoto_api::review::{ReasonCount, ReviewerDay};
use gradphoto_domain::reasons::RejectReason;
use sqlx::Row;

use crate::store::error::StoreResult;
use crate::store::{now_ms, Store};

// ---------------------------------------------------------------------------------------------
// Statistics

/// Decisions per reviewer and calendar day (China Standard Time) over the last `days` days.
pub async fn decisions_per_reviewer_day(
    store: &Store,
    days: i64,
    school_id: Option<&str>,
) -> StoreResult<Vec<ReviewerDay>> {
    const DAY_MS: i64 = 86_400_000;
    const CST_OFFSET_MS: i64 = 8 * 3_600_000;
    let since = now_ms() - days * DAY_MS;
    // Integer division gives the day number in both engines; SUM is cast because PostgreSQL
    // sums BIGINT into NUMERIC.
    let mut sql = format!(
        "SELECT d.reviewer_id, u.display_name, (d.decided_at + {CST_OFFSET_MS}) / {DAY_MS} AS day,
                CAST(SUM(CASE WHEN d.kind IN ('approve', 'override_approve') THEN 1 ELSE 0 END) AS BIGINT) AS approved,
                CAST(SUM(CASE WHEN d.kind IN ('reject', 'override_reject') THEN 1 ELSE 0 END) AS BIGINT) AS rejected
         FROM decisions d JOIN users u ON u.id = d.reviewer_id"
    );
    if school_id.is_some() {
        sql.push_str(
            " JOIN cases c ON c.id = d.case_id WHERE d.decided_at >= $1 AND c.school_id = $2",
        );
    } else {
        sql.push_str(" WHERE d.decided_at >= $1");
    }
    sql.push_str(" GROUP BY d.reviewer_id, u.display_name, day ORDER BY day DESC, u.display_name");
    let mut q = sqlx::query(&sql).bind(since);
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
    }
    let rows = q.fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let day: i64 = row.try_get("day")?;
        let date = chrono::DateTime::from_timestamp(day * 86_400, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        out.push(ReviewerDay {
            reviewer_id: row.try_get("reviewer_id")?,
            reviewer_name: row.try_get("display_name")?,
            day: date,
            approved: row.try_get("approved")?,
            rejected: row.try_get("rejected")?,
        });
    }
    Ok(out)
}

/// How often each reject reason was used (every catalogue entry, most used first).
pub async fn reject_reason_histogram(
    store: &Store,
    school_id: Option<&str>,
) -> StoreResult<Vec<ReasonCount>> {
    let rows: Vec<String> =
        match school_id {
            Some(s) => {
                sqlx::query_scalar(
                    "SELECT d.reasons_json FROM decisions d JOIN cases c ON c.id = d.case_id
                 WHERE d.kind IN ('reject', 'override_reject') AND c.school_id = $1",
                )
                .bind(s.to_string())
                .fetch_all(store.pool())
                .await?
            }
            None => sqlx::query_scalar(
                "SELECT reasons_json FROM decisions WHERE kind IN ('reject', 'override_reject')",
            )
            .fetch_all(store.pool())
            .await?,
        };
    let mut counts: HashMap<RejectReason, i64> = HashMap::new();
    for json in rows {
        let codes: Vec<String> = serde_json::from_str(&json)?;
        for code in codes {
            if let Ok(r) = code.parse::<RejectReason>() {
                *counts.entry(r).or_default() += 1;
            }
        }
    }
    let mut out: Vec<ReasonCount> = RejectReason::ALL
        .into_iter()
        .map(|r| ReasonCount {
            code: r.code().to_string(),
            label_zh: r.label_zh().to_string(),
            label_en: r.label_en().to_string(),
            count: counts.get(&r).copied().unwrap_or(0),
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.count));
    Ok(out)
}
