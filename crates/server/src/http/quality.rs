//! Supervisor endpoints for quality: the re-review samples (decided blind, then compared with
//! the first decision) and the overrides waiting for a second supervisor.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use gradphoto_api::quality::{
    DeclineRequest, OverrideQuery, OverrideRequestView, OverrideStatus, RereviewItem, RereviewPage,
    RereviewQuery, RereviewRequest, RereviewState, ReviewerAgreement, SecondLook,
};
use gradphoto_api::review::DecisionRecord;

use crate::http::auth::Supervisor;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{JsonBody, Params};
use crate::http::review::{page_limit, parse_queue_cursor};
use crate::http::supervisor::timeline_attempt;
use crate::store::review::overrides::{self, OverrideRow};
use crate::store::review::rereview::{self, RereviewFilter, RereviewRow};
use crate::store::review::{self as rstore};
use crate::store::{attempts, audit};
use crate::AppState;

/// Most override requests one answer lists.
const OVERRIDES_MAX: u32 = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/supervisor/rereviews", get(rereview_page))
        .route("/api/supervisor/rereviews/reviewers", get(agreement))
        .route("/api/supervisor/rereviews/{id}", get(rereview_item))
        .route(
            "/api/supervisor/rereviews/{id}/decision",
            post(rereview_decide),
        )
        .route("/api/supervisor/overrides", get(override_list))
        .route(
            "/api/supervisor/overrides/{id}/confirm",
            post(override_confirm),
        )
        .route(
            "/api/supervisor/overrides/{id}/decline",
            post(override_decline),
        )
}

/// A sample as the supervisor sees it: blind (no first decision, no reviewer) while open.
async fn rereview_view(
    state: &AppState,
    row: RereviewRow,
    students: &HashMap<String, gradphoto_api::audit::AuditStudent>,
) -> AppResult<RereviewItem> {
    let student = students
        .get(&row.case_id)
        .cloned()
        .ok_or_else(|| AppError::not_found("学生", "Student"))?;
    let attempt_id = row
        .attempt_id
        .clone()
        .ok_or_else(|| AppError::not_found("照片", "Photo"))?;
    let attempt = attempts::get(&state.store, &attempt_id)
        .await?
        .ok_or_else(|| AppError::not_found("照片", "Photo"))?;
    let attempt = timeline_attempt(&row.case_id, attempt, true)?;
    let state_now = row.state();
    let (reviewer_id, reviewer_name, first, second, agrees) = match row.second {
        None => (None, None, None, None, None),
        Some(second) => {
            let first = rstore::decisions_for_case(&state.store, &row.case_id)
                .await?
                .into_iter()
                .find(|d| d.decision_id == row.first_decision_id);
            (
                Some(row.reviewer_id),
                Some(row.reviewer_name),
                first,
                Some(SecondLook {
                    supervisor_id: second.supervisor_id,
                    supervisor_name: second.supervisor_name,
                    kind: second.kind,
                    reasons: second.reasons,
                    comment: second.comment,
                    decided_at_ms: second.decided_at,
                }),
                Some(second.agrees),
            )
        }
    };
    Ok(RereviewItem {
        rereview_id: row.id,
        case_id: row.case_id,
        student,
        sampled_at_ms: row.sampled_at,
        attempt,
        state: state_now,
        reviewer_id,
        reviewer_name,
        first,
        second,
        agrees,
    })
}

async fn students_of(
    state: &AppState,
    case_ids: Vec<String>,
) -> AppResult<HashMap<String, gradphoto_api::audit::AuditStudent>> {
    Ok(audit::students_of_cases(&state.store, &case_ids).await?)
}

async fn rereview_page(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Params(q): Params<RereviewQuery>,
) -> AppResult<Json<RereviewPage>> {
    let filter = RereviewFilter {
        state: q.state.unwrap_or_default(),
        school_id: staff.school_id.clone(),
        reviewer_id: q.reviewer,
        disagreements_only: q.disagreements.unwrap_or(false),
        after: q.cursor.as_deref().map(parse_queue_cursor).transpose()?,
        limit: page_limit(q.limit, 50, 200)?,
    };
    let (rows, more) = rereview::list(&state.store, &filter).await?;
    let next_cursor = if more {
        rows.last().map(|r| {
            let at = match (&filter.state, &r.second) {
                (RereviewState::Done, Some(s)) => s.decided_at,
                _ => r.sampled_at,
            };
            format!("{at}.{}", r.id)
        })
    } else {
        None
    };
    let students = students_of(&state, rows.iter().map(|r| r.case_id.clone()).collect()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(rereview_view(&state, row, &students).await?);
    }
    Ok(Json(RereviewPage { items, next_cursor }))
}

/// A sample of the caller's school.
async fn visible_sample(
    state: &AppState,
    staff_school: Option<&str>,
    id: &str,
) -> AppResult<RereviewRow> {
    rereview::get(&state.store, id)
        .await?
        .filter(|r| staff_school.is_none_or(|own| own == r.school_id))
        .ok_or_else(|| AppError::not_found("抽检记录", "Re-review sample"))
}

async fn rereview_item(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path(id): Path<String>,
) -> AppResult<Json<RereviewItem>> {
    let row = visible_sample(&state, staff.school_id.as_deref(), &id).await?;
    let students = students_of(&state, vec![row.case_id.clone()]).await?;
    Ok(Json(rereview_view(&state, row, &students).await?))
}

async fn rereview_decide(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<RereviewRequest>,
) -> AppResult<Json<RereviewItem>> {
    let verdict = rstore::check_verdict(&req.verdict)?;
    let row = rereview::decide(
        &state.store,
        &id,
        &staff.actor(),
        &verdict,
        staff.school_id.as_deref(),
    )
    .await?;
    let students = students_of(&state, vec![row.case_id.clone()]).await?;
    Ok(Json(rereview_view(&state, row, &students).await?))
}

async fn agreement(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
) -> AppResult<Json<Vec<ReviewerAgreement>>> {
    Ok(Json(
        rereview::agreement(&state.store, staff.school_id.as_deref()).await?,
    ))
}

/// An override request with its student (masked) and, once confirmed, the decision it made.
pub(super) async fn request_view(
    state: &AppState,
    row: OverrideRow,
    decision: Option<DecisionRecord>,
) -> AppResult<OverrideRequestView> {
    let students = students_of(state, vec![row.case_id.clone()]).await?;
    let student = students
        .get(&row.case_id)
        .cloned()
        .ok_or_else(|| AppError::not_found("学生", "Student"))?;
    let decision = match (decision, row.status) {
        (Some(d), _) => Some(d),
        (None, OverrideStatus::Confirmed) => rstore::decisions_for_case(&state.store, &row.case_id)
            .await?
            .into_iter()
            .find(|d| d.decision_id == row.client_decision_id),
        (None, _) => None,
    };
    Ok(OverrideRequestView {
        request_id: row.id,
        case_id: row.case_id,
        student,
        kind: row.kind,
        reasons: row.reasons,
        comment: row.comment,
        override_comment: row.override_comment,
        requested_by_id: row.requested_by,
        requested_by_name: row.requested_by_name,
        requested_at_ms: row.requested_at,
        status: row.status,
        answered_by_id: row.answered_by,
        answered_by_name: row.answered_by_name,
        answer_comment: row.answer_comment,
        answered_at_ms: row.answered_at,
        decision,
    })
}

async fn override_list(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Params(q): Params<OverrideQuery>,
) -> AppResult<Json<Vec<OverrideRequestView>>> {
    let rows = overrides::list(
        &state.store,
        q.status.unwrap_or(OverrideStatus::Pending),
        staff.school_id.as_deref(),
        OVERRIDES_MAX,
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(request_view(&state, row, None).await?);
    }
    Ok(Json(out))
}

async fn override_confirm(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path(id): Path<String>,
) -> AppResult<Json<OverrideRequestView>> {
    let (row, decision) = overrides::confirm(
        &state.store,
        &id,
        &staff.actor(),
        staff.school_id.as_deref(),
    )
    .await?;
    Ok(Json(request_view(&state, row, Some(decision)).await?))
}

async fn override_decline(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<DeclineRequest>,
) -> AppResult<Json<OverrideRequestView>> {
    let row = overrides::decline(
        &state.store,
        &id,
        &staff.actor(),
        &req.comment,
        staff.school_id.as_deref(),
    )
    .await?;
    Ok(Json(request_view(&state, row, None).await?))
}
