//! The sandbox provider's payment page (demo and tests).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use gradphoto_api::student::PaymentCallbackAnswer;

use super::*;
use crate::http::error::{AppError, AppResult};
use crate::payment::PaymentNotice;
use crate::store::orders;
use crate::AppState;

/// The pay link's capability (see `Sandbox::ticket`).
#[derive(serde::Deserialize)]
pub(super) struct Ticket {
    ticket: Option<String>,
}

/// The sandbox order a ticket opens; anything else is refused before the order is read.
async fn ticketed_order(
    state: &AppState,
    order_id: &str,
    ticket: &Ticket,
) -> AppResult<orders::OrderRow> {
    state
        .payments
        .sandbox()?
        .check_ticket(order_id, ticket.ticket.as_deref())?;
    let order = orders::get(&state.store, order_id)
        .await?
        .ok_or_else(|| AppError::not_found("订单", "Order"))?;
    if order.provider != "sandbox" {
        return Err(AppError::not_found("订单", "Order"));
    }
    Ok(order)
}

pub(super) async fn sandbox_page(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
    Query(ticket): Query<Ticket>,
) -> AppResult<Html<String>> {
    let order = ticketed_order(&state, &order_id, &ticket).await?;
    let yuan = order.amount_cents as f64 / 100.0;
    Ok(Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>沙箱支付 / Sandbox payment</title></head><body>\
         <h1>沙箱支付（测试）/ Sandbox payment (test)</h1>\
         <p>订单 / Order: {id}</p><p>金额 / Amount: ¥{yuan:.2}</p><p>状态 / Status: {status}</p>\
         <form method=\"post\"><button type=\"submit\">确认支付 / Pay</button></form>\
         <p><a href=\"{back}/\">返回 / Back</a></p></body></html>",
        id = order.id,
        status = order.status,
        back = state.public_url,
    )))
}

/// The sandbox provider "takes" the payment and sends its signed callback.
pub(super) async fn sandbox_confirm(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
    Query(ticket): Query<Ticket>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let order = ticketed_order(&state, &order_id, &ticket).await?;
    let notice = PaymentNotice {
        order_id: order.id.clone(),
        provider_ref: format!("sandbox-{}", order.id),
        amount_cents: order.amount_cents,
        paid: true,
    };
    let (body, signature) = state.payments.sandbox()?.callback_for(&notice)?;
    let mut callback_headers = HeaderMap::new();
    callback_headers.insert(
        crate::payment::SANDBOX_SIGNATURE_HEADER,
        signature
            .parse()
            .map_err(|_| AppError::internal("signature header"))?,
    );
    let settled = handle_callback(&state, "sandbox", &callback_headers, &body).await?;
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        return Ok(Redirect::to(&format!("{}/", state.public_url)).into_response());
    }
    Ok(Json(PaymentCallbackAnswer {
        ok: true,
        order_id: Some(order.id),
        result: settled.into(),
    })
    .into_response())
}
