//! HTTP routes. Each side of the API has its own module with a `routes()` router.

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use axum::{Json, Router};
use gradphoto_api::common::Health;

use crate::store::Backend;
use crate::AppState;

pub mod admin;
pub mod auth;
pub mod error;
pub mod review;
pub mod student;
pub mod supervisor;
pub mod sync;

pub use error::{AppError, AppResult, ErrorKind};

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    // Uploads enforce their own, configurable limit while streaming; other bodies are small.
    let upload_limit = usize::try_from(state.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    Router::new()
        .route("/healthz", get(healthz))
        .merge(auth::routes())
        .merge(student::routes())
        .merge(admin::routes())
        .merge(review::routes())
        .merge(supervisor::routes())
        .merge(sync::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> AppResult<Json<Health>> {
    sqlx::query("SELECT 1").execute(state.store.pool()).await?;
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

async fn not_found() -> AppError {
    AppError::new(
        ErrorKind::NotFound,
        "no_such_endpoint",
        "请求的地址不存在。",
        "No such endpoint.",
    )
}
