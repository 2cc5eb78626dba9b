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

/// What the views of a page of samples or override requests need beyond their rows, read once
/// for the whole page: the students (masked), the decided photos and the decisions.
struct PageFacts {
    students: HashMap<String, gradphoto_api::audit::AuditStudent>,
    attempts: HashMap<String, attempts::AttemptRow>,
    decisions: HashMap<String, DecisionRecord>,
}

impl PageFacts {
    async fn read(
        state: &AppState,
        case_ids: Vec<String>,
        attempt_ids: Vec<String>,
        decision_ids: Vec<String>,
    ) -> AppResult<PageFacts> {
        let (students, attempts, decisions) = tokio::try_join!(
            audit::students_of_cases(&state.store, &case_ids),
            attempts::get_many(&state.store, &attempt_ids),
            rstore::decisions_by_client_ids(&state.store, &decision_ids),
        )?;
        Ok(PageFacts {
            students,
            attempts,
            decisions,
        })
    }

    /// For re-review samples: the first decision is read only for those already answered.
    async fn of_samples(state: &AppState, rows: &[RereviewRow]) -> AppResult<PageFacts> {
        PageFacts::read(
            state,
            rows.iter().map(|r| r.case_id.clone()).collect(),
            rows.iter().filter_map(|r| r.attempt_id.clone()).collect(),
            rows.iter()
                .filter(|r| r.second.is_some())
                .map(|r| r.first_decision_id.clone())
                .collect(),
        )
        .await
    }

    /// For override requests: the decision a confirmed request made.
    async fn of_requests(state: &AppState, rows: &[OverrideRow]) -> AppResult<PageFacts> {
        PageFacts::read(
            state,
            rows.iter().map(|r| r.case_id.clone()).collect(),
            Vec::new(),
            rows.iter()
                .filter(|r| r.status == OverrideStatus::Confirmed)
                .map(|r| r.client_decision_id.clone())
                .collect(),
        )
        .await
    }

    fn student(&self, case_id: &str) -> AppResult<gradphoto_api::audit::AuditStudent> {
        self.students
            .get(case_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("学生", "Student"))
    }
}

/// A sample as the supervisor sees it: blind (no first decision, no reviewer) while open.
fn rereview_view(row: RereviewRow, facts: &PageFacts) -> AppResult<RereviewItem> {
    let student = facts.student(&row.case_id)?;
    let attempt = row
        .attempt_id
        .as_ref()
        .and_then(|id| facts.attempts.get(id))
        .cloned()
        .ok_or_else(|| AppError::not_found("照片", "Photo"))?;
    let attempt = timeline_attempt(&row.case_id, attempt, true)?;
    let state_now = row.state();
    let (reviewer_id, reviewer_name, first, second, agrees) = match row.second {
        None => (None, None, None, None, None),
        Some(second) => (
            Some(row.reviewer_id),
            Some(row.reviewer_name),
            facts.decisions.get(&row.first_decision_id).cloned(),
            Some(SecondLook {
                supervisor_id: second.supervisor_id,
                supervisor_name: second.supervisor_name,
                kind: second.kind,
                reasons: second.reasons,
                comment: second.comment,
                decided_at_ms: second.decided_at,
            }),
            Some(second.agrees),
        ),
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
    let facts = PageFacts::of_samples(&state, &rows).await?;
    let items = rows
        .into_iter()
        .map(|row| rereview_view(row, &facts))
        .collect::<AppResult<Vec<_>>>()?;
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
    Ok(Json(one_sample(&state, row).await?))
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
    Ok(Json(one_sample(&state, row).await?))
}

async fn agreement(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
) -> AppResult<Json<Vec<ReviewerAgreement>>> {
    Ok(Json(
        rereview::agreement(&state.store, staff.school_id.as_deref()).await?,
    ))
}

/// An override request with its student (masked) and, once confirmed, the decision it made
/// (given when just made, otherwise found in `facts`).
fn request_view(
    row: OverrideRow,
    decision: Option<DecisionRecord>,
    facts: &PageFacts,
) -> AppResult<OverrideRequestView> {
    let student = facts.student(&row.case_id)?;
    let decision = match (decision, row.status) {
        (Some(d), _) => Some(d),
        (None, OverrideStatus::Confirmed) => facts.decisions.get(&row.client_decision_id).cloned(),
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

/// One override request's view, with what it needs read for it alone.
pub(super) async fn one_request(
    state: &AppState,
    row: OverrideRow,
    decision: Option<DecisionRecord>,
) -> AppResult<OverrideRequestView> {
    let facts = PageFacts::of_requests(state, std::slice::from_ref(&row)).await?;
    request_view(row, decision, &facts)
}

/// One sample's view, with what it needs read for it alone.
async fn one_sample(state: &AppState, row: RereviewRow) -> AppResult<RereviewItem> {
    let facts = PageFacts::of_samples(state, std::slice::from_ref(&row)).await?;
    rereview_view(row, &facts)
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
    let facts = PageFacts::of_requests(&state, &rows).await?;
    let out = rows
        .into_iter()
        .map(|row| request_view(row, None, &facts))
        .collect::<AppResult<Vec<_>>>()?;
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
    Ok(Json(one_request(&state, row, Some(decision)).await?))
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
    Ok(Json(one_request(&state, row, None).await?))
}
