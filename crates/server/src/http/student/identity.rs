//! Claiming a code, consenting, verifying identity against the roster, confirming the record.

use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use axum::Json;
use gradphoto_api::student::{ClaimRequest, ClaimResponse, ConsentRequest, StudentCase};
use gradphoto_domain::text;

use super::*;
use crate::http::auth::{bearer_token, StudentSession};
use crate::http::error::{AppResult, ErrorCode};
use crate::http::extract::JsonBody;
use crate::journey::{self, student::IdentityForm};
use crate::store::{codes, sessions};
use crate::AppState;

pub(super) async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ClaimRequest>,
) -> AppResult<Json<ClaimResponse>> {
    let presented = bearer_token(&headers).map(str::to_string);
    let presented_hash = presented.as_deref().map(sessions::token_hash);
    let mut tx = state.store.begin().await?;
    let claimed = match codes::claim(
        &mut tx,
        &state.crypto,
        &req.code,
        presented_hash.as_deref(),
        state.session_ttl_ms(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) if e.code() == ErrorCode::CodeAlreadyClaimed => {
            drop(tx);
            let mut tx = state.store.begin().await?;
            codes::record_refusal(&mut tx, &state.crypto, &req.code).await?;
            tx.commit().await?;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let token = match (claimed.token, presented) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => return Err(codes::code_already_claimed().into()),
    };
    Ok(Json(ClaimResponse {
        token,
        case: case_view(&state, &claimed.case_id).await?,
    }))
}

pub(super) async fn get_case(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<StudentCase>> {
    Ok(Json(case_view(&state, &student.case_id).await?))
}

pub(super) async fn consent(
    State(state): State<AppState>,
    student: StudentSession,
    JsonBody(req): JsonBody<ConsentRequest>,
) -> AppResult<Json<StudentCase>> {
    journey::student::record_consent(
        &state,
        &student.actor(),
        &student.case_id,
        req.accepted,
        &req.version,
    )
    .await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

pub(super) async fn identity(
    State(state): State<AppState>,
    student: StudentSession,
    mut multipart: Multipart,
) -> AppResult<Json<StudentCase>> {
    // Refused before the images are read when the step is not open.
    journey::student::identity_open(&state, &student.case_id).await?;
    let max = state.config.max_upload_bytes;
    let mut form = IdentityForm::default();
    while let Some(mut field) = multipart.next_field().await.map_err(malformed_multipart)? {
        match field.name().unwrap_or_default().to_string().as_str() {
            "name" => form.name = Some(read_text(&mut field, text::PERSON_NAME).await?),
            "id_number" => form.id_number = Some(read_text(&mut field, text::ID_NUMBER).await?),
            "id_front" => form.id_front = Some(read_image(&mut field, max, "id_front").await?.0),
            "id_back" => form.id_back = Some(read_image(&mut field, max, "id_back").await?.0),
            _ => {}
        }
    }
    journey::student::verify_identity(&state, &student.actor(), &student.case_id, form).await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<StudentCase>> {
    journey::student::confirm_record(&state, &student.actor(), &student.case_id).await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}
