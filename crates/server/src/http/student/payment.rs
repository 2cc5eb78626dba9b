//! Paying: the order for the current round and the providers' signed callbacks.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use gradphoto_api::student::{PaymentCallbackAnswer, PaymentResponse};

use super::*;
use crate::http::auth::StudentSession;
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::journey;
use crate::payment::PaymentNotice;
use crate::store::orders;
use crate::AppState;

pub(super) async fn payment(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<PaymentResponse>> {
    let (order, pay_url) =
        journey::student::start_payment(&state, &student.actor(), &student.case_id).await?;
    Ok(Json(PaymentResponse {
        order: order_view(&order)?,
        pay_url,
        case: case_view(&state, &student.case_id).await?,
    }))
}

/// Verifies and applies a provider callback. The sandbox's own confirmation goes through
/// here too, exactly like a real provider's callback.
pub async fn handle_callback(
    state: &AppState,
    provider: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<orders::Settled> {
    let provider = state.payments.get(provider)?;
    let notice: PaymentNotice = provider.verify_callback(headers, body)?;
    if !notice.paid {
        return Err(AppError::from(ErrorCode::PaymentNotCompleted));
    }
    let mut tx = state.store.begin().await?;
    let settled = orders::settle(
        &mut tx,
        &notice.order_id,
        provider.name(),
        Some(&notice.provider_ref),
        notice.amount_cents,
    )
    .await?;
    tx.commit().await?;
    Ok(settled)
}

pub(super) async fn payment_callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<PaymentCallbackAnswer>> {
    let settled = handle_callback(&state, &provider, &headers, &body).await?;
    Ok(Json(PaymentCallbackAnswer {
        ok: true,
        order_id: None,
        result: settled.into(),
    }))
}
