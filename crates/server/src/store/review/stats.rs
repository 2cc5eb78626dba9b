//! Review statistics for supervisors: the narrow, grouped rows `journey::stats` turns into
//! figures. A season holds some 100,000 decisions, so every query over decisions reads that
//! table alone (each row keeps its school, college, submission and claim times: migration
//! 0006) and groups in SQL by what the figures need: day numbers in China Standard Time,
//! whole seconds, the verdict. The working-day arithmetic, which depends on each school's
//! holidays, then runs once per group in Rust instead of once per decision.

use std::collections::HashMap;

use gradphoto_api::review::ReviewerDay;
use gradphoto_domain::calendar::{date_of_day_number, CST_OFFSET_MS, DAY_MS};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::store::error::StoreResult;
use crate::store::Store;

/// Which decisions a statistics request counts: decided in `from_ms..to_ms`, of one school
/// and one college when given.
#[derive(Debug, Clone)]
pub struct StatsFilter {
    pub from_ms: i64,
    pub to_ms: i64,
    pub school_id: Option<String>,
    pub college: Option<String>,
}

enum Arg {
    Int(i64),
    Text(String),
}

impl StatsFilter {
    /// `WHERE` over `decisions d` with its arguments, numbered from `$1`.
    fn decisions_where(&self) -> (String, Vec<Arg>) {
        let mut sql = String::from(" WHERE d.decided_at >= $1 AND d.decided_at < $2");
        let mut args = vec![Arg::Int(self.from_ms), Arg::Int(self.to_ms)];
        if let Some(s) = &self.school_id {
            args.push(Arg::Text(s.clone()));
            sql.push_str(&format!(" AND d.school_id = ${}", args.len()));
        }
        if let Some(c) = &self.college {
            args.push(Arg::Text(c.clone()));
            sql.push_str(&format!(" AND d.college = ${}", args.len()));
        }
        (sql, args)
    }
}

fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments<'q>>,
    args: Vec<Arg>,
) -> Query<'q, Any, AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Int(i) => q.bind(i),
            Arg::Text(t) => q.bind(t),
        };
    }
    q
}

const APPROVED: &str = "CASE WHEN d.kind IN ('approve', 'override_approve') THEN 1 ELSE 0 END";
const REVIEWER_KINDS: &str = "d.kind IN ('approve', 'reject')";

fn day_of(column: &str) -> String {
    format!("({column} + {CST_OFFSET_MS}) / {DAY_MS}")
}

// ---------------------------------------------------------------------------------------------
// Reviewers

/// Decisions of one reviewer that took `seconds` from claim to decision (`None`: made
/// without a claim, as overrides are).
#[derive(Debug, Clone)]
pub struct ReviewerSeconds {
    pub reviewer_id: String,
    pub seconds: Option<i64>,
    pub decisions: i64,
    pub approvals: i64,
}

// The reviewer queries group decisions alone and name the reviewers afterwards: joined to
// `users` in SQL, SQLite may loop over the accounts outside and scan a season's decisions
// once per account.

pub async fn reviewer_seconds(store: &Store, f: &StatsFilter) -> StoreResult<Vec<ReviewerSeconds>> {
    let (filter, args) = f.decisions_where();
    // SUM is cast because PostgreSQL sums BIGINT into NUMERIC.
    let sql = format!(
        "SELECT d.reviewer_id,
                CASE WHEN d.claimed_at IS NULL THEN NULL
                     ELSE (d.decided_at - d.claimed_at) / 1000 END AS secs,
                CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM({APPROVED}) AS BIGINT) AS approved
         FROM decisions d{filter}
         GROUP BY d.reviewer_id, secs"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(ReviewerSeconds {
            reviewer_id: row.try_get("reviewer_id")?,
            seconds: row.try_get("secs")?,
            decisions: row.try_get("n")?,
            approvals: row.try_get("approved")?,
        });
    }
    Ok(out)
}

/// Decisions per reviewer and calendar day (China Standard Time); `reviewer_name` is left
/// empty for the caller to fill in.
pub async fn decisions_per_reviewer_day(
    store: &Store,
    f: &StatsFilter,
) -> StoreResult<Vec<ReviewerDay>> {
    let (filter, args) = f.decisions_where();
    let day = day_of("d.decided_at");
    let sql = format!(
        "SELECT d.reviewer_id, {day} AS day,
                CAST(SUM({APPROVED}) AS BIGINT) AS approved,
                CAST(SUM(1 - {APPROVED}) AS BIGINT) AS rejected
         FROM decisions d{filter}
         GROUP BY d.reviewer_id, day ORDER BY day DESC"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let day: i64 = row.try_get("day")?;
        out.push(ReviewerDay {
            reviewer_id: row.try_get("reviewer_id")?,
            reviewer_name: String::new(),
            day: date_of_day_number(day).format("%Y-%m-%d").to_string(),
            approved: row.try_get("approved")?,
            rejected: row.try_get("rejected")?,
        });
    }
    Ok(out)
}

/// Display names of the accounts `ids`, by id.
pub async fn display_names(store: &Store, ids: &[String]) -> StoreResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, display_name FROM users WHERE id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        out.extend(q.fetch_all(store.pool()).await?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Turnaround

/// Decisions of one school and college submitted on day `submitted_day` and decided on
/// `decided_day` (day numbers in China Standard Time).
#[derive(Debug, Clone)]
pub struct TurnaroundGroup {
    pub school_id: Option<String>,
    pub college: Option<String>,
    /// `None` when the submission time is unknown.
    pub submitted_day: Option<i64>,
    pub decided_day: i64,
    pub is_override: bool,
    pub approved: bool,
    pub decisions: i64,
}

pub async fn turnaround_groups(
    store: &Store,
    f: &StatsFilter,
) -> StoreResult<Vec<TurnaroundGroup>> {
    let (filter, args) = f.decisions_where();
    let (sday, dday) = (day_of("d.submitted_at"), day_of("d.decided_at"));
    let sql = format!(
        "SELECT d.school_id, d.college, {sday} AS sday, {dday} AS dday,
                CASE WHEN {REVIEWER_KINDS} THEN 0 ELSE 1 END AS ovr, {APPROVED} AS approved,
                CAST(COUNT(*) AS BIGINT) AS n
         FROM decisions d{filter}
         GROUP BY d.school_id, d.college, sday, dday, ovr, approved"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(TurnaroundGroup {
            school_id: row.try_get("school_id")?,
            college: row.try_get("college")?,
            submitted_day: row.try_get("sday")?,
            decided_day: row.try_get("dday")?,
            is_override: row.try_get::<i64, _>("ovr")? != 0,
            approved: row.try_get::<i64, _>("approved")? != 0,
            decisions: row.try_get("n")?,
        });
    }
    Ok(out)
}

/// A reviewer decision that may have been late.
#[derive(Debug, Clone)]
pub struct DecidedItem {
    pub case_id: String,
    pub school_id: String,
    pub submitted_at: i64,
    pub decided_at: i64,
}

/// Reviewer decisions whose calendar days from submission to decision exceed `min_days`:
/// every late one is among them, since working days never outnumber calendar days.
pub async fn decided_after_days(
    store: &Store,
    f: &StatsFilter,
    min_days: i64,
) -> StoreResult<Vec<DecidedItem>> {
    let (filter, mut args) = f.decisions_where();
    args.push(Arg::Int(min_days));
    let (sday, dday) = (day_of("d.submitted_at"), day_of("d.decided_at"));
    let sql = format!(
        "SELECT d.case_id, d.school_id, d.submitted_at, d.decided_at FROM decisions d{filter}
           AND {REVIEWER_KINDS} AND d.submitted_at IS NOT NULL AND d.school_id IS NOT NULL
           AND {dday} - {sday} > ${}",
        args.len()
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(DecidedItem {
            case_id: row.try_get("case_id")?,
            school_id: row.try_get("school_id")?,
            submitted_at: row.try_get("submitted_at")?,
            decided_at: row.try_get("decided_at")?,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Verdicts: reject reasons and hints

/// Decisions of one kind with the same reasons and the same doubted measures.
#[derive(Debug, Clone)]
pub struct VerdictGroup {
    pub kind: String,
    pub reasons_json: String,
    /// Space-separated measure codes; `None` when not recorded with the decision.
    pub doubted_measures: Option<String>,
    pub decisions: i64,
}

pub async fn verdict_groups(store: &Store, f: &StatsFilter) -> StoreResult<Vec<VerdictGroup>> {
    let (filter, args) = f.decisions_where();
    let sql = format!(
        "SELECT d.kind, d.reasons_json, d.doubted_measures, CAST(COUNT(*) AS BIGINT) AS n
         FROM decisions d{filter}
         GROUP BY d.kind, d.reasons_json, d.doubted_measures"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(VerdictGroup {
            kind: row.try_get("kind")?,
            reasons_json: row.try_get("reasons_json")?,
            doubted_measures: row.try_get("doubted_measures")?,
            decisions: row.try_get("n")?,
        });
    }
    Ok(out)
}

/// Reviewer decisions made before their doubted measures were recorded with them, with the
/// decided attempt's stored report (kind, report JSON).
pub async fn unrecorded_hint_reports(
    store: &Store,
    f: &StatsFilter,
) -> StoreResult<Vec<(String, String)>> {
    let (filter, args) = f.decisions_where();
    let sql = format!(
        "SELECT d.kind, a.report_json FROM decisions d JOIN attempts a ON a.id = d.attempt_id
         {filter} AND {REVIEWER_KINDS} AND d.doubted_measures IS NULL
           AND a.report_json IS NOT NULL"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push((row.try_get("kind")?, row.try_get("report_json")?));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The queue now, and students

/// A submission waiting for a decision (pending, or claimed and not yet decided).
#[derive(Debug, Clone)]
pub struct WaitingItem {
    pub case_id: String,
    pub school_id: String,
    pub college: String,
    pub submitted_at: i64,
    pub student_name: String,
    pub student_no: String,
}

pub async fn waiting_items(
    store: &Store,
    school_id: Option<&str>,
    college: Option<&str>,
) -> StoreResult<Vec<WaitingItem>> {
    // CROSS JOIN keeps SQLite reading the few waiting cases first (through their state
    // index) and their students by key, never the other way round; PostgreSQL plans it as any
    // join.
    let mut sql = String::from(
        "SELECT c.id, c.school_id, c.submitted_at, s.college, s.name, s.student_no
         FROM cases c CROSS JOIN students s
         WHERE s.id = c.student_id AND c.state IN ('pending_review', 'in_review')
           AND c.submitted_at IS NOT NULL",
    );
    let mut args = Vec::new();
    if let Some(s) = school_id {
        args.push(Arg::Text(s.to_string()));
        sql.push_str(&format!(" AND c.school_id = ${}", args.len()));
    }
    if let Some(c) = college {
        args.push(Arg::Text(c.to_string()));
        sql.push_str(&format!(" AND s.college = ${}", args.len()));
    }
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(WaitingItem {
            case_id: row.try_get("id")?,
            school_id: row.try_get("school_id")?,
            college: row.try_get("college")?,
            submitted_at: row.try_get("submitted_at")?,
            student_name: row.try_get("name")?,
            student_no: row.try_get("student_no")?,
        });
    }
    Ok(out)
}

/// The student of each case (name, student number, college), by case id.
pub async fn students_of_cases(
    store: &Store,
    case_ids: &[String],
) -> StoreResult<HashMap<String, (String, String, String)>> {
    let mut out = HashMap::new();
    for chunk in case_ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT c.id, s.name, s.student_no, s.college
             FROM cases c CROSS JOIN students s WHERE s.id = c.student_id AND c.id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        for row in q.fetch_all(store.pool()).await? {
            out.insert(
                row.try_get("id")?,
                (
                    row.try_get("name")?,
                    row.try_get("student_no")?,
                    row.try_get("college")?,
                ),
            );
        }
    }
    Ok(out)
}
