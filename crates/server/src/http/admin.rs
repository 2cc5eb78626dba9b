//! Administrator endpoints: roster check and import over HTTP (the CLI offers the same).

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use gradphoto_api::admin::{RosterCheck, RosterImported, RosterRowProblem};
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::roster::{parse_roster_csv, RosterRowError};

use crate::http::auth::StaffSession;
use crate::http::error::{AppError, AppResult, ErrorKind};
use crate::store::students;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/roster/check", post(roster_check))
        .route("/api/admin/roster/import", post(roster_import))
}

fn problems(errors: &[RosterRowError]) -> Vec<RosterRowProblem> {
    errors
        .iter()
        .map(|e| RosterRowProblem {
            line: e.line,
            field: e.field.clone(),
            code: e.code.as_str().to_string(),
            message_zh: e.message_zh.clone(),
            message_en: e.message_en.clone(),
        })
        .collect()
}

/// Body: the CSV file as uploaded (UTF-8 or GBK).
async fn roster_check(staff: StaffSession, body: Bytes) -> AppResult<Json<RosterCheck>> {
    staff.require_admin()?;
    Ok(Json(
        match parse_roster_csv(&body, Utc::now().date_naive()) {
            Ok(rows) => RosterCheck {
                ok: true,
                rows: rows.len(),
                problems: Vec::new(),
            },
            Err(errors) => RosterCheck {
                ok: false,
                rows: 0,
                problems: problems(&errors),
            },
        },
    ))
}

/// Imports every row or none; an invalid file is refused with every problem listed.
async fn roster_import(
    State(state): State<AppState>,
    staff: StaffSession,
    body: Bytes,
) -> AppResult<Json<RosterImported>> {
    staff.require_admin()?;
    let records = parse_roster_csv(&body, Utc::now().date_naive()).map_err(|errors| {
        let first = errors
            .first()
            .map(|e| format!("line {}: {}", e.line, e.message_en))
            .unwrap_or_default();
        AppError::new(
            ErrorKind::Unprocessable,
            "roster_invalid",
            format!("名单有 {} 处错误，未导入任何记录。", errors.len()),
            format!(
                "The roster has {} problem(s); nothing was imported. First: {first}",
                errors.len()
            ),
        )
    })?;
    let mut tx = state.store.begin().await?;
    let summary = students::import_as(
        &mut tx,
        &state.crypto,
        &staff.actor(),
        &records,
        &SchoolPolicy::default(),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(RosterImported {
        created: summary.created,
        updated: summary.updated,
    }))
}
