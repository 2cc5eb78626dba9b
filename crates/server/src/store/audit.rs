//! Appending to and reading the hash-chained audit log.
//!
//! Appends take the `audit` counter row lock (see [`WriteTx::next_counter`]), so events are
//! numbered and chained in commit order even with many writers on PostgreSQL.

pub use gradphoto_domain::audit::Actor;
use gradphoto_domain::audit::{
    verify_chain_from, AuditAction, AuditEvent, BrokenLink, GENESIS_HASH,
};
use gradphoto_domain::role::Role;

use super::error::{StoreError, StoreResult};
use super::{now_ms, Backend, Store, WriteTx};

impl WriteTx {
    /// Appends an audit event inside this transaction: it commits or rolls back with the
    /// change it records.
    pub async fn audit(
        &mut self,
        actor: &Actor,
        action: AuditAction,
        subject: &str,
        details: serde_json::Value,
    ) -> StoreResult<i64> {
        let seq = self.next_counter("audit").await?;
        let prev: String = if seq <= 1 {
            GENESIS_HASH.to_string()
        } else {
            sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = $1")
                .bind(seq - 1)
                .fetch_optional(self.conn())
                .await?
                .ok_or_else(|| {
                    StoreError::internal(format_args!("audit event {} missing", seq - 1))
                })?
        };
        let seq_u = u64::try_from(seq).map_err(|_| StoreError::internal("audit seq"))?;
        let event =
            AuditEvent::new(seq_u, now_ms(), actor.clone(), action, subject, details).seal(&prev);
        // The school the event is about, for the history's school filter and for staff bound
        // to one school: the case's, the staff account's, or the school itself.
        let school_id: Option<String> = sqlx::query_scalar(
            "SELECT school_id FROM cases WHERE id = $1
             UNION ALL SELECT school_id FROM users WHERE id = $1
             UNION ALL SELECT id FROM schools WHERE id = $1",
        )
        .bind(subject)
        .fetch_optional(self.conn())
        .await?
        .flatten();
        sqlx::query(
            "INSERT INTO audit_events (seq, at_ms, actor_role, actor_id, action, subject, details, prev_hash, hash, school_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(seq)
        .bind(event.at_ms)
        .bind(event.actor.role.map(Role::as_str).unwrap_or(""))
        .bind(&event.actor.id)
        .bind(event.action.code())
        .bind(&event.subject)
        .bind(event.details.to_string())
        .bind(&event.prev_hash)
        .bind(&event.hash)
        .bind(school_id)
        .execute(self.conn())
        .await?;
        Ok(seq)
    }
}

/// An `audit_events` row as stored; [`AuditEvent`] is what it means.
#[derive(sqlx::FromRow)]
struct Record {
    seq: i64,
    at_ms: i64,
    actor_role: String,
    actor_id: String,
    action: String,
    subject: String,
    details: String,
    prev_hash: String,
    hash: String,
}

const COLUMNS: &str = "seq, at_ms, actor_role, actor_id, action, subject, details, prev_hash, hash";

fn from_record(r: Record) -> StoreResult<AuditEvent> {
    let role = if r.actor_role.is_empty() {
        None
    } else {
        Some(r.actor_role.parse::<Role>().map_err(|_| {
            StoreError::internal(format_args!("audit event {} has bad role", r.seq))
        })?)
    };
    Ok(AuditEvent {
        seq: u64::try_from(r.seq).map_err(|_| StoreError::internal("audit seq"))?,
        at_ms: r.at_ms,
        actor: Actor {
            role,
            id: r.actor_id,
        },
        action: r.action.parse().map_err(|_| {
            StoreError::internal(format_args!("audit event {} has unknown action", r.seq))
        })?,
        subject: r.subject,
        details: serde_json::from_str(&r.details)?,
        prev_hash: r.prev_hash,
        hash: r.hash,
    })
}

/// Events with `seq > after`, oldest first.
pub async fn list(store: &Store, after: i64, limit: i64) -> StoreResult<Vec<AuditEvent>> {
    let rows: Vec<Record> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(from_record).collect()
}

/// Events about one subject (a case or user id), oldest first.
pub async fn for_subject(store: &Store, subject: &str) -> StoreResult<Vec<AuditEvent>> {
    let rows: Vec<Record> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_events WHERE subject = $1 ORDER BY seq"
    ))
    .bind(subject)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(from_record).collect()
}

/// The details of the latest event of `action` about `subject`, if there is one.
pub async fn latest_details(
    store: &Store,
    subject: &str,
    action: AuditAction,
) -> StoreResult<Option<serde_json::Value>> {
    let details: Option<String> = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE subject = $1 AND action = $2
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(subject)
    .bind(action.code())
    .fetch_optional(store.pool())
    .await?;
    Ok(details.as_deref().map(serde_json::from_str).transpose()?)
}

pub async fn count(store: &Store) -> StoreResult<i64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(store.pool())
        .await?;
    Ok(n)
}

/// Verifies the whole chain page by page: the number of events, or the first broken link.
pub async fn verify(store: &Store) -> StoreResult<Result<u64, BrokenLink>> {
    const PAGE: i64 = 1000;
    let mut prev = GENESIS_HASH.to_string();
    let mut next_seq = 1u64;
    let mut after = 0i64;
    let mut total = 0u64;
    loop {
        let page = list(store, after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(Ok(total));
        };
        after = i64::try_from(last.seq).map_err(|_| StoreError::internal("audit seq"))?;
        match verify_chain_from(&prev, Some(next_seq), &page) {
            Ok(hash) => prev = hash,
            Err(broken) => return Ok(Err(broken)),
        }
        total += page.len() as u64;
        next_seq = last.seq + 1;
    }
}

// ---------------------------------------------------------------------------------------------
// The history as supervisors search it

/// Where a page of the history starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Newest first, below `before` (from the newest event when absent).
    Newest { before: Option<i64> },
    /// Oldest first, above `after`.
    Oldest { after: i64 },
}

/// Filters of the history; they combine. Each one alone is an index seek (school, actor,
/// action, subject, time), so a page costs the same at any depth of the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub school_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<AuditAction>,
    /// Only events about these subjects (a student's case). `Some` of nothing matches nothing.
    pub subjects: Option<Vec<String>>,
    /// At or after (ms).
    pub from_ms: Option<i64>,
    /// Before (ms).
    pub to_ms: Option<i64>,
}

/// An event of the history and the school it is about.
#[derive(Debug, Clone)]
pub struct Listed {
    pub event: AuditEvent,
    pub school_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ListedRecord {
    #[sqlx(flatten)]
    record: Record,
    school_id: Option<String>,
}

/// A value bound to a numbered placeholder of the history's queries.
enum Bind {
    Text(String),
    Int(i64),
}

/// The history's WHERE clause (after `WHERE 1 = 1`) and its values.
struct Conditions {
    sql: String,
    binds: Vec<Bind>,
    /// The column a page is ordered by before `seq` (equal in every row listed), when the
    /// page must be read through that column's index.
    lead: Option<&'static str>,
}

/// The conditions of `filter`, or `None` when nothing can match.
async fn conditions(store: &Store, filter: &AuditFilter) -> StoreResult<Option<Conditions>> {
    if filter.subjects.as_ref().is_some_and(Vec::is_empty) {
        return Ok(None);
    }
    let mut sql = String::new();
    let mut binds = Vec::new();
    let mut add = |sql: &mut String, clause: &str, value: Bind| {
        binds.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    // PostgreSQL assumes that the rows of a common school (or action) are spread evenly over
    // the log, so for the newest page it walks the log backwards by `seq` and skips the other
    // schools' rows; for a school whose collection ended months ago that is most of the log
    // (150 ms a page with 500,000 newer events). Ordering by the column first (a constant in
    // the result, so the order is the same) leaves that walk needing a sort of everything,
    // and makes the column's `(column, seq)` index the cheap way. The filter is written as a
    // range because PostgreSQL drops an ORDER BY column held equal to one value. SQLite reads
    // an equality filter through its index already, and keeps the plain form.
    let mut lead = None;
    let equal = [
        ("actor_id", filter.actor_id.clone()),
        ("action", filter.action.map(|a| a.code().to_string())),
        ("school_id", filter.school_id.clone()),
    ];
    for (column, value) in equal {
        let Some(value) = value else { continue };
        if lead.is_none() && store.backend() == Backend::Postgres {
            lead = Some(column);
            add(
                &mut sql,
                &format!(" AND {column} >= ? AND {column} <= ?"),
                Bind::Text(value),
            );
        } else {
            add(&mut sql, &format!(" AND {column} = ?"), Bind::Text(value));
        }
    }
    if let Some(subjects) = &filter.subjects {
        for (i, subject) in subjects.iter().enumerate() {
            let clause = if i == 0 { " AND subject IN (?" } else { ", ?" };
            add(&mut sql, clause, Bind::Text(subject.clone()));
        }
        sql.push(')');
    }
    // A time range becomes a range of sequence numbers (events are numbered in commit order,
    // so their times rise with them), which keeps every other filter's index usable; the
    // times themselves are still compared, so an event stamped out of order is never listed
    // wrongly.
    if let Some(from) = filter.from_ms {
        let first: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM audit_events WHERE at_ms >= $1 ORDER BY at_ms, seq LIMIT 1",
        )
        .bind(from)
        .fetch_optional(store.pool())
        .await?;
        let Some(first) = first else {
            return Ok(None);
        };
        add(&mut sql, " AND seq >= ?", Bind::Int(first));
        add(&mut sql, " AND at_ms >= ?", Bind::Int(from));
    }
    if let Some(to) = filter.to_ms {
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM audit_events WHERE at_ms < $1 ORDER BY at_ms DESC, seq DESC LIMIT 1",
        )
        .bind(to)
        .fetch_optional(store.pool())
        .await?;
        let Some(last) = last else {
            return Ok(None);
        };
        add(&mut sql, " AND seq <= ?", Bind::Int(last));
        add(&mut sql, " AND at_ms < ?", Bind::Int(to));
    }
    Ok(Some(Conditions { sql, binds, lead }))
}

/// One page of events matching `filter`, in the page's order.
pub async fn search(
    store: &Store,
    filter: &AuditFilter,
    page: Page,
    limit: u32,
) -> StoreResult<Vec<Listed>> {
    let Some(Conditions {
        sql: mut clause,
        mut binds,
        lead,
    }) = conditions(store, filter).await?
    else {
        return Ok(Vec::new());
    };
    let order = |direction: &str| match lead {
        Some(column) => format!(" ORDER BY {column} {direction}, seq {direction}"),
        None => format!(" ORDER BY seq {direction}"),
    };
    match page {
        Page::Newest {
            before: Some(before),
        } => {
            binds.push(Bind::Int(before));
            clause.push_str(&format!(" AND seq < ${}{}", binds.len(), order("DESC")));
        }
        Page::Newest { before: None } => clause.push_str(&order("DESC")),
        Page::Oldest { after } => {
            binds.push(Bind::Int(after));
            clause.push_str(&format!(" AND seq > ${}{}", binds.len(), order("ASC")));
        }
    };
    let sql =
        format!("SELECT {COLUMNS}, school_id FROM audit_events WHERE 1 = 1{clause} LIMIT {limit}");
    // Planned for its values every time, not cached: after five runs PostgreSQL runs a cached
    // statement with a generic plan, which assumes every value is as common as the average
    // and walks the whole log backwards by `seq` for a rare action, actor or school (250 ms at
    // a million events, against 1 ms through the filter's index). Planning anew costs well
    // under a millisecond, and the statements differ with the filters anyway.
    let mut q = sqlx::query_as::<_, ListedRecord>(&sql).persistent(false);
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(store.pool())
        .await?
        .into_iter()
        .map(|r| {
            Ok(Listed {
                event: from_record(r.record)?,
                school_id: r.school_id,
            })
        })
        .collect()
}

/// How many events match `filter` (the export announces it, for progress).
pub async fn count_matching(store: &Store, filter: &AuditFilter) -> StoreResult<i64> {
    let Some(Conditions {
        sql: clause, binds, ..
    }) = conditions(store, filter).await?
    else {
        return Ok(0);
    };
    let sql = format!("SELECT COUNT(*) FROM audit_events WHERE 1 = 1{clause}");
    // Planned for its values, as in `search`.
    let mut q = sqlx::query_scalar::<_, i64>(&sql).persistent(false);
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(i) => q.bind(i),
        };
    }
    Ok(q.fetch_one(store.pool()).await?)
}

/// Most students a student search resolves to (a common name); more are not listed.
pub const MAX_STUDENTS_FOUND: i64 = 100;

/// The cases of the students whose name or student number is `text`, or whose ID number has
/// the keyed hash `id_hash`, within `school_id` when given: the subjects of their events.
pub async fn cases_of_students(
    store: &Store,
    text: &str,
    id_hash: Option<&str>,
    school_id: Option<&str>,
) -> StoreResult<Vec<String>> {
    let mut sql = String::from(
        "SELECT c.id FROM students s JOIN cases c ON c.student_id = s.id
         WHERE (s.name = $1 OR s.student_no = $1 OR s.id_number_hash = $2)",
    );
    if school_id.is_some() {
        sql.push_str(" AND s.school_id = $3");
    }
    sql.push_str(&format!(" ORDER BY c.id LIMIT {MAX_STUDENTS_FOUND}"));
    let mut q = sqlx::query_scalar::<_, String>(&sql)
        .bind(text)
        .bind(id_hash.unwrap_or(""));
    if let Some(school) = school_id {
        q = q.bind(school);
    }
    Ok(q.fetch_all(store.pool()).await?)
}

/// The students whose cases are `case_ids`, by case id, as the history shows them (masked).
pub async fn students_of_cases(
    store: &Store,
    case_ids: &[String],
) -> StoreResult<std::collections::HashMap<String, gradphoto_api::audit::AuditStudent>> {
    use gradphoto_api::audit::AuditStudent;
    if case_ids.is_empty() {
        return Ok(Default::default());
    }
    let marks: Vec<String> = (1..=case_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT c.id AS case_id, s.id AS student_id, s.name, s.student_no, s.id_number_masked
         FROM cases c JOIN students s ON s.id = c.student_id
         WHERE c.id IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String, String, String, String, String)>(&sql);
    for id in case_ids {
        q = q.bind(id.clone());
    }
    Ok(q.fetch_all(store.pool())
        .await?
        .into_iter()
        .map(
            |(case_id, student_id, name, student_no, id_number_masked)| {
                (
                    case_id.clone(),
                    AuditStudent {
                        case_id,
                        student_id,
                        name,
                        student_no,
                        id_number_masked,
                    },
                )
            },
        )
        .collect())
}
