//! The student journey over HTTP: claim a code, consent, verify identity, confirm the record,
//! pay, upload photos, submit, withdraw, retake; plus public school information and payment
//! callbacks. Each part is its own module; what a request does to the data is in
//! [`crate::journey`], so the demo and the HTTP API share it.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

mod identity;
mod payment;
mod photos;
mod sandbox;
mod school;
mod submit;
mod views;

#[cfg(test)]
pub(crate) mod tests;

use crate::http::multipart::*;
use identity::*;
pub use payment::handle_callback;
use payment::*;
use photos::*;
use sandbox::*;
use school::*;
use submit::*;
use views::*;
pub use views::{attempt_view, case_view, latest_decision, policy_summary, school_info};

/// The student's routes; `upload_limit` bounds the two multipart bodies (identity, attempts),
/// every other body stays within the application's small JSON limit.
pub fn routes(upload_limit: usize) -> Router<AppState> {
    let uploads = DefaultBodyLimit::max(upload_limit);
    Router::new()
        .route("/api/public/school", get(public_school))
        .route("/api/student/claim", post(claim))
        .route("/api/student/case", get(get_case))
        .route("/api/student/consent", post(consent))
        .route("/api/student/identity", post(identity).layer(uploads))
        .route("/api/student/confirm", post(confirm))
        .route("/api/student/payment", post(payment))
        .route("/api/student/attempts", post(upload_attempt).layer(uploads))
        .route("/api/student/attempts/{id}", get(get_attempt))
        .route(
            "/api/student/attempts/{id}/standardized.jpg",
            get(standardized_image),
        )
        .route("/api/student/attempts/{id}/original", get(original_image))
        .route("/api/student/submit", post(submit))
        .route("/api/student/withdraw", post(withdraw))
        .route("/api/student/retake", post(retake))
        .route(
            "/api/payments/sandbox/pay/{order_id}",
            get(sandbox_page).post(sandbox_confirm),
        )
        .route("/api/payments/{provider}/callback", post(payment_callback))
}
