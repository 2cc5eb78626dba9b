//! Submitting a checked photo for review (the gate decides), withdrawing, retaking.

use axum::extract::State;
use axum::Json;
use gradphoto_api::student::{StudentCase, SubmitRequest};
use gradphoto_domain::state::Event;

use super::*;
use crate::http::auth::StudentSession;
use crate::http::error::AppResult;
use crate::http::extract::JsonBody;
use crate::journey;
use crate::AppState;

pub(super) async fn submit(
    State(state): State<AppState>,
    student: StudentSession,
    JsonBody(req): JsonBody<SubmitRequest>,
) -> AppResult<Json<StudentCase>> {
    journey::student::submit(&state, &student.actor(), &student.case_id, &req.attempt_id).await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

pub(super) async fn withdraw(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<StudentCase>> {
    journey::student::step(&state, &student.actor(), &student.case_id, Event::Withdraw).await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

pub(super) async fn retake(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<StudentCase>> {
    journey::student::step(&state, &student.actor(), &student.case_id, Event::Retake).await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}
