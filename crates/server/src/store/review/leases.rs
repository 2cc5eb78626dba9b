//! Leases: claiming items (the next ones, or one by id), renewing and releasing them, and
//! returning expired ones to the queue.

use chrono::Duration;
use gradphoto_api::error::ErrorCode;
use gradphoto_domain::state::{CaseState, Event};

use super::{lock_case, Policies, MAX_CLAIM, SWEEP_BATCH};
use crate::store::cases::{self, ms_to_utc, CaseRow, COLUMNS};
use crate::store::error::{StoreError, StoreResult};
use crate::store::{now_ms, Actor, Store, WriteTx};

// ---------------------------------------------------------------------------------------------
// Lease expiry

/// Whether any lease has run out (a cheap read, so callers only take the write lock when needed).
pub async fn has_expired_leases(store: &Store, now: i64) -> StoreResult<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM cases WHERE state = 'in_review' AND lease_until <= $1 LIMIT 1",
    )
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    Ok(found.is_some())
}

/// How a sweep treats an expired case whose row another transaction holds.
#[derive(Clone, Copy)]
enum Locked {
    /// Wait for it: whoever lists the queue next must see the case back in it. The holder may
    /// be a request that just failed on that very lease and whose rollback is still on its
    /// way to the database.
    Wait,
    /// Skip it: a claim takes whatever else is free rather than queue behind another claim.
    Skip,
}

/// Returns in-review cases whose lease ran out to the queue, inside `tx`.
async fn expire_in(
    tx: &mut WriteTx,
    actor: &Actor,
    policies: &mut Policies,
    locked: Locked,
) -> StoreResult<u64> {
    let lock = match locked {
        Locked::Wait => tx.backend().lock_rows(),
        Locked::Skip => tx.backend().lock_rows_skip_locked(),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM cases WHERE state = 'in_review' AND lease_until <= $1
         ORDER BY lease_until LIMIT {SWEEP_BATCH}{lock}"
    );
    let rows = sqlx::query(&sql)
        .bind(now_ms())
        .fetch_all(tx.conn())
        .await?;
    let mut n = 0;
    for row in &rows {
        let case = cases::from_row(row)?;
        let policy = policies.get(tx, &case.school_id).await?;
        let holder = case.lease.as_ref().map(|l| l.holder.clone());
        cases::apply(
            tx,
            &case,
            &Event::ExpireLease,
            actor,
            &policy,
            serde_json::json!({ "expired_holder": holder }),
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Returns expired leases to the queue. `actor` is whoever's request noticed them.
pub async fn sweep_expired(store: &Store, actor: &Actor) -> StoreResult<u64> {
    if !has_expired_leases(store, now_ms()).await? {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let n = expire_in(&mut tx, actor, &mut Policies::default(), Locked::Wait).await?;
    tx.commit().await?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Leases

/// How many live leases `actor` holds, counted under a lock on their account row: two claims
/// of one reviewer in parallel cannot both see room for more.
async fn held_by(tx: &mut WriteTx, actor: &Actor) -> StoreResult<i64> {
    let lock = format!(
        "SELECT id FROM users WHERE id = $1{}",
        tx.backend().lock_rows()
    );
    sqlx::query(&lock)
        .bind(&actor.id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases WHERE state = 'in_review' AND lease_holder = $1 AND lease_until > $2",
    )
    .bind(&actor.id)
    .bind(now_ms())
    .fetch_one(tx.conn())
    .await?)
}

fn hold_limit(max_held: u32) -> StoreError {
    StoreError::refused(
        ErrorCode::HoldLimitReached,
        format!("您已领取 {max_held} 张照片（上限），请先审核或释放后再领取。"),
        format!("You already hold {max_held} items (the limit); decide or release some first."),
    )
}

/// Claims up to `count` of the oldest pending cases (after returning expired leases to the
/// queue), never past `max_held` live leases for the actor. Returns the claimed cases as
/// stored after the claim.
pub async fn claim_next(
    store: &Store,
    actor: &Actor,
    count: u32,
    school_id: Option<&str>,
    lease_ms: i64,
    max_held: u32,
) -> StoreResult<Vec<CaseRow>> {
    let mut tx = store.begin().await?;
    let mut policies = Policies::default();
    expire_in(&mut tx, actor, &mut policies, Locked::Skip).await?;
    let room = i64::from(max_held) - held_by(&mut tx, actor).await?;
    if room <= 0 {
        return Err(hold_limit(max_held));
    }
    let count = i64::from(count.clamp(1, MAX_CLAIM)).min(room);
    let mut sql = format!("SELECT {COLUMNS} FROM cases WHERE state = 'pending_review'");
    if school_id.is_some() {
        sql.push_str(" AND school_id = $1");
    }
    sql.push_str(&format!(
        " ORDER BY submitted_at, id LIMIT {}{}",
        count,
        tx.backend().lock_rows_skip_locked()
    ));
    let mut q = sqlx::query(&sql);
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
    }
    let rows = q.fetch_all(tx.conn()).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        let case = cases::from_row(row)?;
        claimed.push(lease(&mut tx, &mut policies, &case, actor, lease_ms).await?);
    }
    tx.commit().await?;
    Ok(claimed)
}

/// Claims (or renews the caller's own claim on) one case.
pub async fn claim_case(
    store: &Store,
    actor: &Actor,
    case_id: &str,
    visible_school: Option<&str>,
    lease_ms: i64,
    max_held: u32,
) -> StoreResult<CaseRow> {
    let mut tx = store.begin().await?;
    let held = held_by(&mut tx, actor).await?;
    let case = lock_case(&mut tx, case_id).await?;
    ensure_visible(&case, visible_school)?;
    let already_mine = case.lease.as_ref().is_some_and(|l| l.holder == actor.id);
    if !already_mine && held >= i64::from(max_held) {
        return Err(hold_limit(max_held));
    }
    let mut policies = Policies::default();
    let claimed = lease(&mut tx, &mut policies, &case, actor, lease_ms).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Renews the caller's live lease; an expired lease is re-claimed if nobody else took it.
pub async fn renew(
    store: &Store,
    actor: &Actor,
    case_id: &str,
    visible_school: Option<&str>,
    lease_ms: i64,
) -> StoreResult<CaseRow> {
    let mut tx = store.begin().await?;
    let case = lock_case(&mut tx, case_id).await?;
    ensure_visible(&case, visible_school)?;
    if case.state != CaseState::InReview || case.lease.as_ref().is_none_or(|l| l.holder != actor.id)
    {
        return Err(lease_lost());
    }
    let mut policies = Policies::default();
    let renewed = lease(&mut tx, &mut policies, &case, actor, lease_ms).await?;
    tx.commit().await?;
    Ok(renewed)
}

pub async fn release(
    store: &Store,
    actor: &Actor,
    case_id: &str,
    visible_school: Option<&str>,
) -> StoreResult<CaseState> {
    let mut tx = store.begin().await?;
    let case = lock_case(&mut tx, case_id).await?;
    ensure_visible(&case, visible_school)?;
    let policy = Policies::default().get(&mut tx, &case.school_id).await?;
    let next = cases::apply(
        &mut tx,
        &case,
        &Event::ReleaseLease {
            by: actor.id.clone(),
        },
        actor,
        &policy,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

async fn lease(
    tx: &mut WriteTx,
    policies: &mut Policies,
    case: &CaseRow,
    actor: &Actor,
    lease_ms: i64,
) -> StoreResult<CaseRow> {
    let policy = policies.get(tx, &case.school_id).await?;
    let until = ms_to_utc(now_ms()) + Duration::milliseconds(lease_ms);
    cases::apply(
        tx,
        case,
        &Event::ClaimForReview {
            reviewer: actor.id.clone(),
            lease_until: until,
        },
        actor,
        &policy,
        serde_json::json!({ "lease_until": until.timestamp_millis() }),
    )
    .await?;
    cases::get_in(tx.conn(), &case.id).await
}

/// Staff bound to one school see only that school's cases; others look like missing cases.
pub fn ensure_visible(case: &CaseRow, visible_school: Option<&str>) -> StoreResult<()> {
    match visible_school {
        Some(s) if s != case.school_id => Err(StoreError::not_found("采集记录", "Case")),
        _ => Ok(()),
    }
}

fn lease_lost() -> StoreError {
    StoreError::from(ErrorCode::LeaseLost)
}
