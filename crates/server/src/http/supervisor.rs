//! Supervisor endpoints: overrides, the audit log (paged, verifiable) and statistics.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use gradphoto_api::audit::{AuditEntry, AuditPage, AuditQuery, AuditVerification, BrokenLink};
use gradphoto_api::error::ErrorCode;
use gradphoto_api::review::{DecisionRecord, OverrideRequest, Stats};
use gradphoto_domain::audit::AuditEvent;
use gradphoto_domain::Localized;

use crate::http::auth::Supervisor;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{JsonBody, Params};
use crate::journey::{self, review::Decider};
use crate::store::audit;
use crate::store::review as rstore;
use crate::AppState;

/// Days of per-reviewer statistics returned.
const STATS_DAYS: i64 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/supervisor/items/{case_id}/override",
            post(override_decision),
        )
        .route("/api/supervisor/audit", get(audit_page))
        .route("/api/supervisor/audit/verify", get(audit_verify))
        .route("/api/supervisor/stats", get(stats))
}

async fn override_decision(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path(case_id): Path<String>,
    JsonBody(req): JsonBody<OverrideRequest>,
) -> AppResult<Json<DecisionRecord>> {
    let actor = staff.actor();
    let who = Decider {
        actor: &actor,
        case_id: &case_id,
        decision_id: &req.decision_id,
        visible_school: staff.school_id.as_deref(),
    };
    let record =
        journey::review::override_decision(&state, who, &req.verdict, &req.override_comment)
            .await?;
    Ok(Json(record))
}

async fn audit_page(
    State(state): State<AppState>,
    _: Supervisor,
    Params(q): Params<AuditQuery>,
) -> AppResult<Json<AuditPage>> {
    let limit = match q.limit {
        None => 100,
        Some(n) if (1..=500).contains(&n) => n,
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::BadLimit,
                "每页数量须在 1 到 500 之间。",
                "The page size must be between 1 and 500.",
            )
            .with_field("limit"))
        }
    };
    let cursor = q.cursor.unwrap_or(0).max(0);
    let mut events = audit::list(&state.store, cursor, i64::from(limit) + 1).await?;
    let has_more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let events: Vec<AuditEntry> = events.into_iter().map(entry).collect();
    let next_cursor = events.last().map_or(cursor, |e| e.seq);
    Ok(Json(AuditPage {
        events,
        next_cursor,
        has_more,
    }))
}

async fn audit_verify(
    State(state): State<AppState>,
    _: Supervisor,
) -> AppResult<Json<AuditVerification>> {
    let verification = match audit::verify(&state.store).await? {
        Ok(checked) => AuditVerification {
            ok: true,
            checked: i64::try_from(checked).unwrap_or(i64::MAX),
            first_broken: None,
        },
        Err(broken) => AuditVerification {
            ok: false,
            checked: i64::try_from(broken.seq.saturating_sub(1)).unwrap_or(i64::MAX),
            first_broken: Some(BrokenLink {
                seq: i64::try_from(broken.seq).unwrap_or(i64::MAX),
                code: broken.code().to_string(),
                message_zh: broken.message_zh(),
                message_en: broken.message_en(),
            }),
        },
    };
    Ok(Json(verification))
}

fn entry(e: AuditEvent) -> AuditEntry {
    AuditEntry {
        seq: i64::try_from(e.seq).unwrap_or(i64::MAX),
        at_ms: e.at_ms,
        actor_role: e.actor.role,
        actor_id: e.actor.id,
        action: e.action.code().to_string(),
        action_label_zh: e.action.label_zh().to_string(),
        action_label_en: e.action.label_en().to_string(),
        subject: e.subject,
        details: e.details,
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

async fn stats(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
) -> AppResult<Json<Stats>> {
    let school = staff.school_id.as_deref();
    Ok(Json(Stats {
        counts: rstore::all_counts(&state.store, school).await?,
        per_reviewer_day: rstore::decisions_per_reviewer_day(&state.store, STATS_DAYS, school)
            .await?,
        reject_reasons: rstore::reject_reason_histogram(&state.store, school).await?,
    }))
}
