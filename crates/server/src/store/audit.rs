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
use super::{now_ms, Store, WriteTx};

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
        sqlx::query(
            "INSERT INTO audit_events (seq, at_ms, actor_role, actor_id, action, subject, details, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
