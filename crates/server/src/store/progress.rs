//! Collection progress: how many students of a school are at each stage
//! ([`gradphoto_domain::progress::Stage`]), per college, major and level, and who they are.
//!
//! Each case's stage is kept in `cases.progress_stage` and the number of cases at each stage
//! per school, college, major and level in `progress_counts`, both by triggers (migration
//! 0009) whatever code writes a case, a code or an attempt, so the dashboard reads a few
//! hundred rows. Whether a review lease is still live depends on the clock, so an `in_review`
//! case whose lease has run out is moved to "submitted" here, when read, as the queue treats it.

use gradphoto_domain::progress::Stage;

use super::error::{StoreError, StoreResult};
use super::Store;

/// One (college, major, level, stage) with its number of students.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageGroup {
    pub college: String,
    pub major: String,
    pub level: String,
    pub stage: Stage,
    pub count: u64,
}

fn parse_stage(code: &str) -> StoreResult<Stage> {
    Stage::from_code(code)
        .ok_or_else(|| StoreError::internal(format!("unknown progress stage {code:?}")))
}

/// A review lease that has run out (or was never set) leaves the case waiting.
const LEASE_LAPSED: &str = "(c.lease_until IS NULL OR c.lease_until <= $2)";

/// Every student of `school_id` counted by college, major, level and stage.
pub async fn counts(store: &Store, school_id: &str, now_ms: i64) -> StoreResult<Vec<StageGroup>> {
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT college, major, level, stage, n FROM progress_counts
         WHERE school_id = $1 AND n <> 0",
    )
    .bind(school_id)
    .fetch_all(store.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len() + 8);
    for (college, major, level, stage, n) in rows {
        out.push(StageGroup {
            college,
            major,
            level,
            stage: parse_stage(&stage)?,
            count: u64::try_from(n)
                .map_err(|_| StoreError::internal(format!("negative progress count {n}")))?,
        });
    }
    // The few cases in review whose lease lapsed are waiting again.
    let lapsed: Vec<(String, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT s.college, s.major, s.level, COUNT(*) FROM cases c
         JOIN students s ON s.id = c.student_id
         WHERE c.school_id = $1 AND c.progress_stage = 'in_review' AND {LEASE_LAPSED}
         GROUP BY s.college, s.major, s.level"
    ))
    .bind(school_id)
    .bind(now_ms)
    .fetch_all(store.pool())
    .await?;
    for (college, major, level, n) in lapsed {
        let n = u64::try_from(n).unwrap_or(0);
        let same = |g: &StageGroup, stage| {
            g.stage == stage && g.college == college && g.major == major && g.level == level
        };
        if let Some(g) = out.iter_mut().find(|g| same(g, Stage::InReview)) {
            g.count = g.count.saturating_sub(n);
        }
        match out.iter_mut().find(|g| same(g, Stage::Submitted)) {
            Some(g) => g.count += n,
            None => out.push(StageGroup {
                college: college.clone(),
                major: major.clone(),
                level: level.clone(),
                stage: Stage::Submitted,
                count: n,
            }),
        }
    }
    out.retain(|g| g.count > 0);
    Ok(out)
}

/// Which students a list shows; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudentFilter {
    pub stage: Option<Stage>,
    pub college: Option<String>,
    pub major: Option<String>,
    pub level: Option<String>,
    /// One student, by student number.
    pub student_no: Option<String>,
}

/// A student in a progress list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressStudent {
    pub case_id: String,
    pub student_id: String,
    pub name: String,
    pub student_no: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub stage: Stage,
    pub updated_at: i64,
}

/// The SQL condition for students at `stage` (`$2`: now).
fn stage_condition(stage: Stage) -> String {
    match stage {
        Stage::Submitted => format!(
            "(c.progress_stage = 'submitted' OR (c.progress_stage = 'in_review' AND {LEASE_LAPSED}))"
        ),
        Stage::InReview => "c.progress_stage = 'in_review' AND c.lease_until > $2".to_string(),
        // Stage codes are fixed identifiers, never input.
        other => format!("c.progress_stage = '{}'", other.code()),
    }
}

/// The WHERE clause and its text parameters (after `$1` school and `$2` now).
fn filter_sql(filter: &StudentFilter) -> (String, Vec<String>) {
    let mut sql = String::from("c.school_id = $1");
    let mut params = Vec::new();
    if let Some(stage) = filter.stage {
        sql.push_str(" AND ");
        sql.push_str(&stage_condition(stage));
    }
    for (column, value) in [
        ("s.college", &filter.college),
        ("s.major", &filter.major),
        ("s.level", &filter.level),
        ("s.student_no", &filter.student_no),
    ] {
        if let Some(v) = value {
            params.push(v.clone());
            sql.push_str(&format!(" AND {column} = ${}", params.len() + 2));
        }
    }
    (sql, params)
}

/// How many students match `filter`.
pub async fn count_students(
    store: &Store,
    school_id: &str,
    now_ms: i64,
    filter: &StudentFilter,
) -> StoreResult<u64> {
    let (cond, params) = filter_sql(filter);
    let sql =
        format!("SELECT COUNT(*) FROM cases c JOIN students s ON s.id = c.student_id WHERE {cond}");
    let mut q = sqlx::query_scalar::<_, i64>(&sql)
        .bind(school_id)
        .bind(now_ms);
    for p in &params {
        q = q.bind(p);
    }
    Ok(u64::try_from(q.fetch_one(store.pool()).await?).unwrap_or(0))
}

/// Students matching `filter` by student number, after `after` (exclusive), at most `limit`.
pub async fn students(
    store: &Store,
    school_id: &str,
    now_ms: i64,
    filter: &StudentFilter,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<ProgressStudent>> {
    let (mut cond, mut params) = filter_sql(filter);
    if let Some(after) = after {
        params.push(after.to_string());
        cond.push_str(&format!(" AND s.student_no > ${}", params.len() + 2));
    }
    let sql = format!(
        "SELECT c.id, s.id, s.name, s.student_no, s.college, s.major, s.level, c.progress_stage, \
         CASE WHEN c.lease_until > $2 THEN 1 ELSE 0 END, c.updated_at \
         FROM cases c JOIN students s ON s.id = c.student_id WHERE {cond} \
         ORDER BY s.student_no LIMIT {limit}"
    );
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
    );
    let mut q = sqlx::query_as::<_, Row>(&sql).bind(school_id).bind(now_ms);
    for p in &params {
        q = q.bind(p);
    }
    let mut out = Vec::new();
    for (case_id, student_id, name, student_no, college, major, level, stage, leased, updated_at) in
        q.fetch_all(store.pool()).await?
    {
        let stage = match parse_stage(&stage)? {
            Stage::InReview if leased == 0 => Stage::Submitted,
            s => s,
        };
        out.push(ProgressStudent {
            case_id,
            student_id,
            name,
            student_no,
            college,
            major,
            level,
            stage,
            updated_at,
        });
    }
    Ok(out)
}

/// Every student matching `filter`, by student number, read a few thousand at a time (a
/// whole list for a file: a CSV of names, sheets of codes).
pub async fn all_students(
    store: &Store,
    school_id: &str,
    now_ms: i64,
    filter: &StudentFilter,
) -> StoreResult<Vec<ProgressStudent>> {
    const BATCH: u32 = 5000;
    let mut out: Vec<ProgressStudent> = Vec::new();
    loop {
        let after = out.last().map(|s| s.student_no.clone());
        let batch = students(store, school_id, now_ms, filter, after.as_deref(), BATCH).await?;
        let full = batch.len() == BATCH as usize;
        out.extend(batch);
        if !full {
            return Ok(out);
        }
    }
}
