//! HTTP routes. Each side of the API has its own module with a `routes()` router.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gradphoto_api::common::Health;

use crate::store::Backend;
use crate::AppState;

pub mod admin;
pub mod auth;
pub mod codes;
pub mod download;
pub mod drain;
pub mod error;
pub mod extract;
pub mod multipart;
pub mod portal;
pub mod progress;
pub mod quality;
pub mod review;
pub mod student;
pub mod supervisor;
pub mod sync;

pub use error::{AppError, AppResult, ErrorCode};

/// The largest JSON body any route takes (a decision with its comment is under 8 KiB).
pub const JSON_BODY_MAX: usize = 64 * 1024;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    // Uploads enforce their own, configurable limit per file while streaming; the largest body
    // is the identity form, two images each up to that limit. Those routes (and the roster
    // import) raise the limit for themselves; every other body is JSON and small.
    let upload_limit = usize::try_from(state.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_mul(2)
        .saturating_add(1024 * 1024);
    Router::new()
        .route("/healthz", get(healthz))
        .merge(auth::routes())
        .merge(student::routes(upload_limit))
        .merge(admin::routes())
        .merge(progress::routes())
        .merge(codes::routes())
        .merge(review::routes())
        .merge(supervisor::routes())
        .merge(quality::routes())
        .merge(sync::routes())
        .fallback_service(portal::service())
        .layer(axum::middleware::map_response(json_errors))
        .layer(DefaultBodyLimit::max(JSON_BODY_MAX))
        .layer(axum::middleware::from_fn(drain::drain_unread))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> AppResult<Json<Health>> {
    state.store.ping().await?;
    Ok(Json(Health {
        ok: true,
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: match state.store.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .to_string(),
    }))
}

/// Extractor rejections (malformed JSON, wrong content type, bad path or query values…)
/// come from axum as plain text; give them the same JSON shape and stable codes as every
/// other error.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let detail = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::BodyTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidBody,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        s if s.is_server_error() => ErrorCode::InternalError,
        _ => ErrorCode::BadRequest,
    };
    let en = if detail.trim().is_empty() {
        status
            .canonical_reason()
            .unwrap_or("Bad request")
            .to_string()
    } else {
        detail.trim().to_string()
    };
    let mut out = AppError::new(code, code.message_zh(), en).into_response();
    // Keep the original status (e.g. 405) and headers such as Allow.
    *out.status_mut() = status;
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
