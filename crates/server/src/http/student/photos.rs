//! Photos: uploads (analysed in the background), the attempt, and its images.

use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gradphoto_api::common::{AttemptView, PhotoSource};
use gradphoto_domain::text;

use super::*;
use crate::http::auth::StudentSession;
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::journey::{
    self,
    student::{ensure_ready, load_case, Recorded, Upload},
};
use crate::store::attempts;
use crate::AppState;

pub(super) async fn upload_attempt(
    State(state): State<AppState>,
    student: StudentSession,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<AttemptView>)> {
    let (case, school) = load_case(&state, &student.case_id).await?;
    ensure_ready(&case)?;
    let mut upload_id = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(id) = &upload_id {
        if let Some(existing) = attempts::by_upload_id(&state.store, &case.id, id).await? {
            let view = attempt_view_in_case(&state, &case, &school.policy, &existing).await?;
            return Ok((StatusCode::OK, Json(view)));
        }
    }
    let mut source = PhotoSource::Camera;
    let mut photo = None;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed_multipart)? {
        match field.name().unwrap_or_default().to_string().as_str() {
            "upload_id" => {
                let id = read_text(&mut field, text::IDENTIFIER.named("upload_id"))
                    .await?
                    .trim()
                    .to_string();
                if !id.is_empty() && upload_id.is_none() {
                    if let Some(existing) =
                        attempts::by_upload_id(&state.store, &case.id, &id).await?
                    {
                        let view =
                            attempt_view_in_case(&state, &case, &school.policy, &existing).await?;
                        return Ok((StatusCode::OK, Json(view)));
                    }
                    upload_id = Some(id);
                }
            }
            "source" => {
                source = match read_text(&mut field, text::LABEL.named("source"))
                    .await?
                    .trim()
                {
                    "album" => PhotoSource::Album,
                    "camera" | "" => PhotoSource::Camera,
                    _ => return Err(AppError::from(ErrorCode::BadSource).with_field("source")),
                };
            }
            "photo" => {
                photo = Some(read_image(&mut field, state.config.max_upload_bytes, "photo").await?)
            }
            _ => {}
        }
    }
    let Some((bytes, kind)) = photo else {
        return Err(AppError::from(ErrorCode::PhotoRequired).with_field("photo"));
    };
    let upload = Upload {
        source,
        upload_id,
        bytes,
        mime: kind.mime(),
    };
    let (status, attempt_id) =
        match journey::student::record_upload(&state, &student.actor(), &case.id, upload).await? {
            Recorded::New(id) => (StatusCode::CREATED, id),
            Recorded::Again(id) => (StatusCode::OK, id),
        };
    let a = attempts::get(&state.store, &attempt_id)
        .await?
        .ok_or_else(|| AppError::not_found("照片", "Photo attempt"))?;
    let view = attempt_view_in_case(&state, &case, &school.policy, &a).await?;
    Ok((status, Json(view)))
}

pub(super) async fn own_attempt(
    state: &AppState,
    student: &StudentSession,
    id: &str,
) -> AppResult<attempts::AttemptRow> {
    match attempts::get(&state.store, id).await? {
        Some(a) if a.case_id == student.case_id => Ok(a),
        _ => Err(AppError::not_found("照片", "Photo attempt")),
    }
}

pub(super) async fn get_attempt(
    State(state): State<AppState>,
    student: StudentSession,
    Path(id): Path<String>,
) -> AppResult<Json<AttemptView>> {
    let a = own_attempt(&state, &student, &id).await?;
    let (case, school) = load_case(&state, &student.case_id).await?;
    Ok(Json(
        attempt_view_in_case(&state, &case, &school.policy, &a).await?,
    ))
}

pub(super) fn image_response(bytes: Vec<u8>, mime: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

pub(super) async fn standardized_image(
    State(state): State<AppState>,
    student: StudentSession,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let a = own_attempt(&state, &student, &id).await?;
    let key = a
        .standardized_key
        .ok_or_else(|| AppError::not_found("标准化照片", "Standardized photo"))?;
    let bytes = state.objects.get_sensitive(&key).await?;
    Ok(image_response(bytes, "image/jpeg"))
}

pub(super) async fn original_image(
    State(state): State<AppState>,
    student: StudentSession,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let a = own_attempt(&state, &student, &id).await?;
    let bytes = state.objects.get_sensitive(&a.original_key).await?;
    Ok(image_response(bytes, &a.original_mime))
}
