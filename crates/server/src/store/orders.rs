//! Payment orders. Marking an order paid is idempotent: a replayed callback changes nothing.

use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::state::{CaseState, Event};

use super::error::{StoreError, StoreResult};
use super::{cases, new_id, now_ms, schools, Actor, Store, WriteTx};
use gradphoto_api::error::ErrorCode;

pub const STATUS_CREATED: &str = "created";
pub const STATUS_PAID: &str = "paid";
pub const STATUS_WAIVED: &str = "waived";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderRow {
    pub id: String,
    pub case_id: String,
    pub provider: String,
    pub amount_cents: i64,
    pub status: String,
    pub provider_ref: Option<String>,
    pub round: i64,
    pub created_at: i64,
    pub paid_at: Option<i64>,
}

const COLUMNS: &str =
    "id, case_id, provider, amount_cents, status, provider_ref, round, created_at, paid_at";

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<OrderRow>> {
    let row: Option<OrderRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM orders WHERE id = $1"))
            .bind(id)
            .fetch_optional(store.pool())
            .await?;
    Ok(row)
}

/// The most recent order of a case.
pub async fn latest_for_case(store: &Store, case_id: &str) -> StoreResult<Option<OrderRow>> {
    let row: Option<OrderRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE case_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(case_id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row)
}

/// An unpaid order of this round with this provider and amount, to reuse on a retry.
pub async fn open_order(
    tx: &mut WriteTx,
    case_id: &str,
    provider: &str,
    amount_cents: i64,
    round: i64,
) -> StoreResult<Option<OrderRow>> {
    let row: Option<OrderRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE case_id = $1 AND provider = $2 AND amount_cents = $3
         AND round = $4 AND status = $5 ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(case_id)
    .bind(provider)
    .bind(amount_cents)
    .bind(round)
    .bind(STATUS_CREATED)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

pub async fn create(
    tx: &mut WriteTx,
    actor: &Actor,
    case_id: &str,
    provider: &str,
    amount_cents: i64,
    round: i64,
    status: &str,
) -> StoreResult<OrderRow> {
    let now = now_ms();
    let order = OrderRow {
        id: new_id(),
        case_id: case_id.to_string(),
        provider: provider.to_string(),
        amount_cents,
        status: status.to_string(),
        provider_ref: None,
        round,
        created_at: now,
        paid_at: (status != STATUS_CREATED).then_some(now),
    };
    sqlx::query(&format!(
        "INSERT INTO orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&order.id)
    .bind(&order.case_id)
    .bind(&order.provider)
    .bind(order.amount_cents)
    .bind(&order.status)
    .bind(&order.provider_ref)
    .bind(order.round)
    .bind(order.created_at)
    .bind(order.paid_at)
    .execute(tx.conn())
    .await?;
    tx.audit(
        actor,
        AuditAction::PaymentStarted,
        case_id,
        serde_json::json!({
            "order_id": order.id, "provider": provider, "amount_cents": amount_cents, "status": status
        }),
    )
    .await?;
    Ok(order)
}

/// Whether the case moved on because of this payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Paid,
    AlreadyPaid,
}

/// Records a completed payment and advances the case (record_confirmed → ready).
pub async fn settle(
    tx: &mut WriteTx,
    order_id: &str,
    provider: &str,
    provider_ref: Option<&str>,
    amount_cents: i64,
) -> StoreResult<Settled> {
    let row: Option<OrderRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM orders WHERE id = $1"))
            .bind(order_id)
            .fetch_optional(tx.conn())
            .await?;
    let order = row.ok_or_else(|| StoreError::not_found("订单", "Order"))?;
    if order.provider != provider {
        return Err(StoreError::from(ErrorCode::ProviderMismatch));
    }
    if order.amount_cents != amount_cents {
        return Err(StoreError::from(ErrorCode::AmountMismatch));
    }
    if order.status != STATUS_CREATED {
        return Ok(Settled::AlreadyPaid);
    }
    let now = now_ms();
    sqlx::query("UPDATE orders SET status = $1, provider_ref = $2, paid_at = $3 WHERE id = $4")
        .bind(STATUS_PAID)
        .bind(provider_ref)
        .bind(now)
        .bind(&order.id)
        .execute(tx.conn())
        .await?;
    // The provider's verified notice moves the case, not the student: the audit says so.
    let actor = Actor {
        role: None,
        id: format!("payment:{}", order.provider),
    };
    complete_case_payment(tx, &order.case_id, &order.id, &actor).await?;
    Ok(Settled::Paid)
}

/// Moves a case waiting for payment on to `ready` and remembers the order.
pub async fn complete_case_payment(
    tx: &mut WriteTx,
    case_id: &str,
    order_id: &str,
    actor: &Actor,
) -> StoreResult<()> {
    sqlx::query("UPDATE cases SET paid_order_id = $1 WHERE id = $2")
        .bind(order_id)
        .bind(case_id)
        .execute(tx.conn())
        .await?;
    let case = cases::get_in(tx.conn(), case_id).await?;
    if case.state != CaseState::RecordConfirmed {
        // Paid after the case moved on (e.g. a late callback): the payment is kept on record.
        tx.audit(
            actor,
            AuditAction::PaymentCompleted,
            case_id,
            serde_json::json!({ "order_id": order_id, "state": case.state.as_str() }),
        )
        .await?;
        return Ok(());
    }
    let school = schools::get_in(tx.conn(), &case.school_id)
        .await?
        .ok_or_else(|| StoreError::internal("case without school"))?;
    cases::apply(
        tx,
        &case,
        &Event::Pay,
        actor,
        &school.policy,
        serde_json::json!({ "order_id": order_id }),
    )
    .await?;
    Ok(())
}

/// Closes an order the provider settled without a payment (a waived fee).
pub async fn mark_waived(tx: &mut WriteTx, order_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE orders SET status = $1, paid_at = $2 WHERE id = $3")
        .bind(STATUS_WAIVED)
        .bind(now_ms())
        .bind(order_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

impl From<Settled> for gradphoto_api::student::PaymentResult {
    fn from(s: Settled) -> Self {
        match s {
            Settled::Paid => gradphoto_api::student::PaymentResult::Paid,
            Settled::AlreadyPaid => gradphoto_api::student::PaymentResult::AlreadyPaid,
        }
    }
}
