//! `GET /api/review/sync`: incremental, paged, gzip-compressed case changes for the reviewer
//! workstation.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use gradphoto_api::error::ErrorCode;
use gradphoto_api::sync::{SyncPage, SyncQuery};
use tower_http::compression::CompressionLayer;

use crate::http::auth::StaffSession;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::Params;
use crate::store::review as rstore;
use crate::store::sync as sstore;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/review/sync", get(sync))
        .layer(CompressionLayer::new())
}

async fn sync(
    State(state): State<AppState>,
    staff: StaffSession,
    Params(q): Params<SyncQuery>,
) -> AppResult<Json<SyncPage>> {
    staff.require_reviewer()?;
    let limit = match q.limit {
        None => 200,
        Some(n) if (1..=1000).contains(&n) => n,
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::BadLimit,
                "每页数量须在 1 到 1000 之间。",
                "The page size must be between 1 and 1000.",
            )
            .with_field("limit"))
        }
    };
    let cursor = q.cursor.unwrap_or(0);
    if cursor < 0 {
        return Err(AppError::new(
            ErrorCode::BadCursor,
            "同步游标无效。",
            "The sync cursor is invalid.",
        )
        .with_field("cursor"));
    }
    // Expired leases become visible as changes (back to pending_review) in this very page.
    rstore::sweep_expired(&state.store, &staff.actor()).await?;
    let (changes, has_more) =
        sstore::changes(&state.store, cursor, limit, staff.school_id.as_deref()).await?;
    let next_cursor = changes.last().map_or(cursor, |c| c.change_seq);
    Ok(Json(SyncPage {
        changes,
        next_cursor,
        has_more,
    }))
}
