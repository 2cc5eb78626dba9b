//! Student cases and the one place their state changes: [`apply`] runs the domain state
//! machine, bumps the change sequence and appends the audit event in the caller's transaction.

use chrono::{DateTime, TimeZone, Utc};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::role::Role;
use gradphoto_domain::state::{self, CaseState, DecisionStep, Event, Lease, TransitionContext};
use sqlx::AnyConnection;

use super::error::{StoreError, StoreResult};
use super::{now_ms, Actor, Store, WriteTx};
use gradphoto_api::error::ErrorCode;

#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    pub id: String,
    pub student_id: String,
    pub school_id: String,
    pub state: CaseState,
    pub lease: Option<Lease>,
    pub change_seq: i64,
    /// Submission round: increases with every retake.
    pub round: i64,
    pub flagged: bool,
    pub face_match_failures: i64,
    pub last_match_passed: Option<bool>,
    pub submitted_attempt_id: Option<String>,
    pub paid_order_id: Option<String>,
    pub id_front_key: Option<String>,
    pub id_back_key: Option<String>,
    pub identity_verified_at: Option<i64>,
    pub record_confirmed_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub const COLUMNS: &str = "id, student_id, school_id, state, lease_holder, lease_until, change_seq, round, flagged, face_match_failures, last_match_passed, submitted_attempt_id, paid_order_id, id_front_key, id_back_key, identity_verified_at, record_confirmed_at, submitted_at, decided_at, created_at, updated_at";

pub fn state_str(s: CaseState) -> &'static str {
    s.as_str()
}

pub fn parse_state(s: &str) -> StoreResult<CaseState> {
    CaseState::ALL
        .into_iter()
        .find(|c| c.as_str() == s)
        .ok_or_else(|| StoreError::internal(format_args!("unknown case state {s:?} in database")))
}

pub fn ms_to_utc(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub fn utc_to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<CaseRow> {
    use sqlx::Row;
    let holder: Option<String> = row.try_get("lease_holder")?;
    let until: Option<i64> = row.try_get("lease_until")?;
    let lease = match (holder, until) {
        (Some(holder), Some(until)) => Some(Lease {
            holder,
            until: ms_to_utc(until),
        }),
        _ => None,
    };
    let state: String = row.try_get("state")?;
    let last_match: Option<i64> = row.try_get("last_match_passed")?;
    Ok(CaseRow {
        id: row.try_get("id")?,
        student_id: row.try_get("student_id")?,
        school_id: row.try_get("school_id")?,
        state: parse_state(&state)?,
        lease,
        change_seq: row.try_get("change_seq")?,
        round: row.try_get("round")?,
        flagged: row.try_get::<i64, _>("flagged")? != 0,
        face_match_failures: row.try_get("face_match_failures")?,
        last_match_passed: last_match.map(|v| v != 0),
        submitted_attempt_id: row.try_get("submitted_attempt_id")?,
        paid_order_id: row.try_get("paid_order_id")?,
        id_front_key: row.try_get("id_front_key")?,
        id_back_key: row.try_get("id_back_key")?,
        identity_verified_at: row.try_get("identity_verified_at")?,
        record_confirmed_at: row.try_get("record_confirmed_at")?,
        submitted_at: row.try_get("submitted_at")?,
        decided_at: row.try_get("decided_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<CaseRow>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM cases WHERE id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Reads the case inside a write transaction.
pub async fn get_in(conn: &mut AnyConnection, id: &str) -> StoreResult<CaseRow> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM cases WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::not_found("采集记录", "Case"))?;
    from_row(&row)
}

pub async fn get_by_student(store: &Store, student_id: &str) -> StoreResult<Option<CaseRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM cases WHERE student_id = $1"
    ))
    .bind(student_id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

fn concurrent_change() -> StoreError {
    StoreError::from(ErrorCode::ConcurrentChange)
}

/// Runs `event` through the domain state machine and stores the result: new state, lease
/// fields, submission flag, a fresh change sequence and the audit event. `expected_seq`
/// guards against a concurrent change between the caller's read and this write.
pub async fn apply(
    tx: &mut WriteTx,
    case: &CaseRow,
    event: &Event,
    actor: &Actor,
    policy: &SchoolPolicy,
    details: serde_json::Value,
) -> StoreResult<CaseState> {
    let now = now_ms();
    let paid_for_retake = match event {
        Event::Retake => retake_owed_by_school(tx, case).await?,
        _ => false,
    };
    let ctx = TransitionContext {
        now: ms_to_utc(now),
        // The system itself (lease expiry, housekeeping) acts with administrator rights.
        actor: actor.role.unwrap_or(Role::Admin),
        lease: case.lease.as_ref(),
        policy,
        paid_for_retake,
    };
    let next = state::transition(case.state, event, &ctx)?;
    let (lease_holder, lease_until) = match event {
        Event::ClaimForReview {
            reviewer,
            lease_until,
        } => (Some(reviewer.clone()), Some(utc_to_ms(*lease_until))),
        _ if next == CaseState::InReview => (
            case.lease.as_ref().map(|l| l.holder.clone()),
            case.lease.as_ref().map(|l| utc_to_ms(l.until)),
        ),
        _ => (None, None),
    };
    let seq = tx.next_change_seq().await?;
    let mut sql = String::from(
        "UPDATE cases SET state = $1, lease_holder = $2, lease_until = $3, change_seq = $4, updated_at = $5",
    );
    match event {
        Event::Submit { flagged } => {
            sql.push_str(if *flagged {
                ", flagged = 1, submitted_at = $5"
            } else {
                ", flagged = 0, submitted_at = $5"
            });
        }
        Event::Withdraw => sql.push_str(", submitted_at = NULL, submitted_attempt_id = NULL"),
        Event::Approve { .. } | Event::Reject { .. } | Event::Override { .. } => {
            sql.push_str(", decided_at = $5")
        }
        Event::Retake => sql.push_str(
            ", round = round + 1, face_match_failures = 0, last_match_passed = NULL, flagged = 0, submitted_at = NULL, submitted_attempt_id = NULL",
        ),
        Event::VerifyIdentity => sql.push_str(", identity_verified_at = $5"),
        Event::ConfirmRecord => sql.push_str(", record_confirmed_at = $5"),
        Event::Export => sql.push_str(", exported_at = $5"),
        _ => {}
    }
    sql.push_str(" WHERE id = $6 AND change_seq = $7");
    let done = sqlx::query(&sql)
        .bind(next.as_str())
        .bind(lease_holder)
        .bind(lease_until)
        .bind(seq)
        .bind(now)
        .bind(&case.id)
        .bind(case.change_seq)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() != 1 {
        return Err(concurrent_change());
    }
    let mut audit_details = serde_json::json!({
        "from": case.state.as_str(),
        "to": next.as_str(),
        "event": event,
    });
    if let (Some(obj), serde_json::Value::Object(extra)) = (audit_details.as_object_mut(), details)
    {
        obj.extend(extra);
    }
    tx.audit(actor, audit_action(event, case), &case.id, audit_details)
        .await?;
    Ok(next)
}

/// Whether `event` may happen to `case` now, by `actor`, without changing anything: for a
/// step that is asked for now and carried out later (an override waiting for a second
/// supervisor), so that the request is refused at once when it could never apply.
pub fn check(
    case: &CaseRow,
    event: &Event,
    actor: &Actor,
    policy: &SchoolPolicy,
) -> StoreResult<CaseState> {
    let ctx = TransitionContext {
        now: ms_to_utc(now_ms()),
        actor: actor.role.unwrap_or(Role::Admin),
        lease: case.lease.as_ref(),
        policy,
        paid_for_retake: false,
    };
    Ok(state::transition(case.state, event, &ctx)?)
}

/// Whether the retake the student starts is on the school (`domain::state::retake_owed_by_school`),
/// from the decisions of the case's current round.
async fn retake_owed_by_school(tx: &mut WriteTx, case: &CaseRow) -> StoreResult<bool> {
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM decisions WHERE case_id = $1 AND round = $2 ORDER BY decided_at, id",
    )
    .bind(&case.id)
    .bind(case.round)
    .fetch_all(tx.conn())
    .await?;
    let steps: Vec<DecisionStep> = kinds
        .iter()
        .map(|k| match k.as_str() {
            "approve" | "override_approve" => DecisionStep::Approved,
            "override_reject" => DecisionStep::OverrideRejected,
            _ => DecisionStep::Rejected,
        })
        .collect();
    Ok(state::retake_owed_by_school(&steps))
}

/// The audit action recording a state machine event.
pub fn audit_action(event: &Event, case: &CaseRow) -> AuditAction {
    match event {
        Event::ClaimCode => AuditAction::CodeClaimed,
        Event::VerifyIdentity => AuditAction::IdentityVerified,
        Event::ConfirmRecord => AuditAction::RecordConfirmed,
        Event::Pay => AuditAction::PaymentCompleted,
        Event::Submit { .. } => AuditAction::Submitted,
        Event::Withdraw => AuditAction::Withdrawn,
        Event::ClaimForReview { reviewer, .. } => match &case.lease {
            Some(l) if &l.holder == reviewer && case.state == CaseState::InReview => {
                AuditAction::LeaseRenewed
            }
            _ => AuditAction::Claimed,
        },
        Event::ReleaseLease { .. } => AuditAction::LeaseReleased,
        Event::ExpireLease => AuditAction::LeaseExpired,
        Event::Approve { .. } => AuditAction::Approved,
        Event::Reject { .. } => AuditAction::Rejected,
        Event::Retake => AuditAction::RetakeStarted,
        Event::Override { .. } => AuditAction::Overridden,
        Event::Export => AuditAction::Exported,
        Event::Publish => AuditAction::Published,
    }
}

/// Bumps the change sequence of a case whose visible data changed without a state change
/// (e.g. a new attempt), so sync cursors pick it up.
pub async fn touch(tx: &mut WriteTx, case_id: &str) -> StoreResult<i64> {
    let seq = tx.next_change_seq().await?;
    sqlx::query("UPDATE cases SET change_seq = $1, updated_at = $2 WHERE id = $3")
        .bind(seq)
        .bind(now_ms())
        .bind(case_id)
        .execute(tx.conn())
        .await?;
    Ok(seq)
}

/// Counts one face comparison of an attempt of `round`; attempts of an earlier round do not
/// count, since the count is per round.
pub async fn record_face_match(
    tx: &mut WriteTx,
    case_id: &str,
    round: i64,
    same_person: bool,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE cases SET last_match_passed = $1,
         face_match_failures = face_match_failures + $2 WHERE id = $3 AND round = $4",
    )
    .bind(i64::from(same_person))
    .bind(i64::from(!same_person))
    .bind(case_id)
    .bind(round)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ids of the cases in `state`, in id order.
pub async fn ids_in_state(store: &Store, state: CaseState) -> StoreResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM cases WHERE state = $1 ORDER BY id")
            .bind(state.as_str())
            .fetch_all(store.pool())
            .await?,
    )
}

/// A handed-over case whose data has not been purged yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PurgeCandidate {
    pub id: String,
    pub school_id: String,
    pub exported_at: i64,
}

/// Exported or published cases not yet purged, oldest hand-over first.
pub async fn purge_candidates(store: &Store) -> StoreResult<Vec<PurgeCandidate>> {
    Ok(sqlx::query_as(
        "SELECT id, school_id, exported_at FROM cases
         WHERE state IN ($1, $2) AND exported_at IS NOT NULL AND purged_at IS NULL
         ORDER BY exported_at",
    )
    .bind(CaseState::Exported.as_str())
    .bind(CaseState::Published.as_str())
    .fetch_all(store.pool())
    .await?)
}

/// Every stored object a case's data lives in (ID card sides, every upload's original),
/// sorted and without repeats.
pub async fn object_keys(store: &Store, case_id: &str) -> StoreResult<Vec<String>> {
    let cards: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT id_front_key, id_back_key FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(store.pool())
            .await?;
    let mut keys: Vec<String> =
        sqlx::query_scalar("SELECT original_key FROM attempts WHERE case_id = $1")
            .bind(case_id)
            .fetch_all(store.pool())
            .await?;
    if let Some((front, back)) = cards {
        keys.extend(front);
        keys.extend(back);
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// Forgets the case's ID card objects and marks it purged at `now`.
pub async fn mark_purged(tx: &mut WriteTx, case_id: &str, now: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE cases SET id_front_key = NULL, id_back_key = NULL, purged_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(case_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Where the case's ID card sides are kept (object keys).
pub async fn set_id_card(
    tx: &mut WriteTx,
    case_id: &str,
    front_key: &str,
    back_key: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE cases SET id_front_key = $1, id_back_key = $2 WHERE id = $3")
        .bind(front_key)
        .bind(back_key)
        .bind(case_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The attempt a submission puts up for review.
pub async fn set_submitted_attempt(
    tx: &mut WriteTx,
    case_id: &str,
    attempt_id: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE cases SET submitted_attempt_id = $1 WHERE id = $2")
        .bind(attempt_id)
        .bind(case_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
