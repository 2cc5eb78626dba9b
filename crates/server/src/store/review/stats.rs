//! Review statistics for supervisors: the narrow, grouped rows `journey::stats` turns into
//! figures. A season holds some 100,000 decisions, so statistics never regroup a season per
//! request: `journey::stats_days` keeps each (school, day)'s groups in memory and regroups
//! only the days whose version in `decision_days` moved (triggers bump it with every change
//! to `decisions`, migration 0007). The queries here read `decisions` alone (each row keeps
//! its school, college, submission and claim times: migration 0006) over one school's run of
//! days and group in SQL by what the figures need: day numbers in China Standard Time, whole
//! seconds, the verdict. The working-day arithmetic, which depends on each school's holidays,
//! then runs once per group in Rust instead of once per decision.

use std::collections::HashMap;

use gradphoto_domain::calendar::{day_number_start_ms, CST_OFFSET_MS, DAY_MS};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::store::error::StoreResult;
use crate::store::Store;

/// Which decisions a statistics request counts: decided in `from_ms..to_ms` (whole days in
/// China Standard Time), of one school and one college when given.
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
// Which days changed

/// The version of one school's decisions on one day: it moves with every decision of that day
/// written, changed or deleted.
#[derive(Debug, Clone)]
pub struct DayVersion {
    /// `''` for decisions without a school.
    pub school_id: String,
    pub day: i64,
    pub version: i64,
}

/// The versions of the days `from_day..to_day` that have decisions (of one school when given).
pub async fn day_versions(
    store: &Store,
    school_id: Option<&str>,
    from_day: i64,
    to_day: i64,
) -> StoreResult<Vec<DayVersion>> {
    let mut sql = String::from(
        "SELECT school_id, day, version FROM decision_days WHERE day >= $1 AND day < $2",
    );
    let mut args = vec![Arg::Int(from_day), Arg::Int(to_day)];
    if let Some(s) = school_id {
        args.push(Arg::Text(s.to_string()));
        sql.push_str(" AND school_id = $3");
    }
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(DayVersion {
            school_id: row.try_get("school_id")?,
            day: row.try_get("day")?,
            version: row.try_get("version")?,
        });
    }
    Ok(out)
}

/// One school's decisions over the days `from_day..to_day`.
#[derive(Debug, Clone)]
pub struct DaySpan {
    /// `''` for decisions without a school.
    pub school_id: String,
    pub from_day: i64,
    pub to_day: i64,
}

impl DaySpan {
    /// `WHERE` over `decisions d` with its arguments, numbered from `$1`.
    fn decisions_where(&self) -> (String, Vec<Arg>) {
        let range = Arg::Int(day_number_start_ms(self.from_day));
        let end = Arg::Int(day_number_start_ms(self.to_day));
        if self.school_id.is_empty() {
            (
                " WHERE d.school_id IS NULL AND d.decided_at >= $1 AND d.decided_at < $2".into(),
                vec![range, end],
            )
        } else {
            (
                " WHERE d.school_id = $1 AND d.decided_at >= $2 AND d.decided_at < $3".into(),
                vec![Arg::Text(self.school_id.clone()), range, end],
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reviewers

/// Decisions of one reviewer on one day in one college, approved or not, that took `seconds`
/// from claim to decision (`None`: made without a claim, as overrides are).
#[derive(Debug, Clone)]
pub struct ReviewerGroup {
    pub day: i64,
    pub college: Option<String>,
    pub reviewer_id: String,
    pub seconds: Option<i64>,
    pub approved: bool,
    pub decisions: i64,
}

// The reviewer queries group decisions alone and name the reviewers afterwards: joined to
// `users` in SQL, SQLite may loop over the accounts outside and scan a season's decisions
// once per account.

pub async fn reviewer_groups(store: &Store, span: &DaySpan) -> StoreResult<Vec<ReviewerGroup>> {
    let (filter, args) = span.decisions_where();
    let day = day_of("d.decided_at");
    let sql = format!(
        "SELECT {day} AS day, d.college, d.reviewer_id,
                CASE WHEN d.claimed_at IS NULL THEN NULL
                     ELSE (d.decided_at - d.claimed_at) / 1000 END AS secs,
                {APPROVED} AS approved, CAST(COUNT(*) AS BIGINT) AS n
         FROM decisions d{filter}
         GROUP BY day, d.college, d.reviewer_id, secs, approved"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(ReviewerGroup {
            day: row.try_get("day")?,
            college: row.try_get("college")?,
            reviewer_id: row.try_get("reviewer_id")?,
            seconds: row.try_get("secs")?,
            approved: row.try_get::<i64, _>("approved")? != 0,
            decisions: row.try_get("n")?,
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
    /// `''` for decisions without a school.
    pub school_id: String,
    pub college: Option<String>,
    /// `None` when the submission time is unknown.
    pub submitted_day: Option<i64>,
    pub decided_day: i64,
    pub is_override: bool,
    pub approved: bool,
    pub decisions: i64,
}

pub async fn turnaround_groups(store: &Store, span: &DaySpan) -> StoreResult<Vec<TurnaroundGroup>> {
    let (filter, args) = span.decisions_where();
    let (sday, dday) = (day_of("d.submitted_at"), day_of("d.decided_at"));
    let sql = format!(
        "SELECT d.college, {sday} AS sday, {dday} AS dday,
                CASE WHEN {REVIEWER_KINDS} THEN 0 ELSE 1 END AS ovr, {APPROVED} AS approved,
                CAST(COUNT(*) AS BIGINT) AS n
         FROM decisions d{filter}
         GROUP BY d.college, sday, dday, ovr, approved"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(TurnaroundGroup {
            school_id: span.school_id.clone(),
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

/// The reviewer decisions of turnaround groups (of reviewer decisions of real schools): the
/// few a breach list shows, read without reading every late decision of a season.
pub async fn decisions_of_groups(
    store: &Store,
    groups: &[TurnaroundGroup],
) -> StoreResult<Vec<DecidedItem>> {
    let mut out = Vec::new();
    for chunk in groups.chunks(40) {
        let mut terms = Vec::with_capacity(chunk.len());
        let mut args = Vec::new();
        for g in chunk {
            let Some(sday) = g.submitted_day else {
                continue;
            };
            let mut term = String::from("(");
            args.push(Arg::Text(g.school_id.clone()));
            term.push_str(&format!("d.school_id = ${}", args.len()));
            match &g.college {
                Some(c) => {
                    args.push(Arg::Text(c.clone()));
                    term.push_str(&format!(" AND d.college = ${}", args.len()));
                }
                None => term.push_str(" AND d.college IS NULL"),
            }
            for (column, day) in [("d.decided_at", g.decided_day), ("d.submitted_at", sday)] {
                args.push(Arg::Int(day_number_start_ms(day)));
                term.push_str(&format!(" AND {column} >= ${}", args.len()));
                args.push(Arg::Int(day_number_start_ms(day + 1)));
                term.push_str(&format!(" AND {column} < ${}", args.len()));
            }
            term.push(')');
            terms.push(term);
        }
        if terms.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT d.case_id, d.school_id, d.submitted_at, d.decided_at FROM decisions d
             WHERE {REVIEWER_KINDS} AND ({})",
            terms.join(" OR ")
        );
        let rows = bind_all(sqlx::query(&sql), args)
            .fetch_all(store.pool())
            .await?;
        for row in &rows {
            out.push(DecidedItem {
                case_id: row.try_get("case_id")?,
                school_id: row.try_get("school_id")?,
                submitted_at: row.try_get("submitted_at")?,
                decided_at: row.try_get("decided_at")?,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Verdicts: reject reasons and hints

/// Decisions of one day and college, of one kind with the same reasons and the same doubted
/// measures.
#[derive(Debug, Clone)]
pub struct VerdictGroup {
    pub day: i64,
    pub college: Option<String>,
    pub kind: String,
    pub reasons_json: String,
    /// Space-separated measure codes; `None` when not recorded with the decision.
    pub doubted_measures: Option<String>,
    pub decisions: i64,
}

pub async fn verdict_groups(store: &Store, span: &DaySpan) -> StoreResult<Vec<VerdictGroup>> {
    let (filter, args) = span.decisions_where();
    let day = day_of("d.decided_at");
    let sql = format!(
        "SELECT {day} AS day, d.college, d.kind, d.reasons_json, d.doubted_measures,
                CAST(COUNT(*) AS BIGINT) AS n
         FROM decisions d{filter}
         GROUP BY day, d.college, d.kind, d.reasons_json, d.doubted_measures"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(VerdictGroup {
            day: row.try_get("day")?,
            college: row.try_get("college")?,
            kind: row.try_get("kind")?,
            reasons_json: row.try_get("reasons_json")?,
            doubted_measures: row.try_get("doubted_measures")?,
            decisions: row.try_get("n")?,
        });
    }
    Ok(out)
}

/// A reviewer decision made before its doubted measures were recorded with it, with the
/// decided attempt's stored report.
#[derive(Debug, Clone)]
pub struct UnrecordedReport {
    pub day: i64,
    pub college: Option<String>,
    pub kind: String,
    pub report_json: String,
}

pub async fn unrecorded_hint_reports(
    store: &Store,
    span: &DaySpan,
) -> StoreResult<Vec<UnrecordedReport>> {
    let (filter, args) = span.decisions_where();
    let day = day_of("d.decided_at");
    let sql = format!(
        "SELECT {day} AS day, d.college, d.kind, a.report_json
         FROM decisions d JOIN attempts a ON a.id = d.attempt_id
         {filter} AND {REVIEWER_KINDS} AND d.doubted_measures IS NULL
           AND a.report_json IS NOT NULL"
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(UnrecordedReport {
            day: row.try_get("day")?,
            college: row.try_get("college")?,
            kind: row.try_get("kind")?,
            report_json: row.try_get("report_json")?,
        });
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
