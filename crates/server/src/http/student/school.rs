//! Public school information (before a code is claimed) and the school of a signed-in student.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use gradphoto_api::common::{PhotoRule, ReasonView};
use gradphoto_api::student::PublicSchool;
use gradphoto_domain::reasons::RejectReason;
use serde::Deserialize;

use super::*;
use crate::http::auth::bearer_token;
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::http::extract::Params;
use crate::store::{cases, schools, sessions};
use crate::AppState;

#[derive(Debug, Deserialize)]
pub(super) struct SchoolQuery {
    id: Option<String>,
}

impl gradphoto_api::bounds::Bounded for SchoolQuery {
    fn check_bounds(&self) -> Result<(), gradphoto_domain::text::TextError> {
        gradphoto_domain::text::IDENTIFIER.check_opt(self.id.as_deref())
    }
}

pub(super) async fn public_school(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<SchoolQuery>,
) -> AppResult<Json<PublicSchool>> {
    let school = match q.id {
        Some(id) => schools::get(&state.store, &id).await?,
        None => match student_school_from_token(&state, &headers).await? {
            Some(s) => Some(s),
            None => {
                let mut all = schools::list(&state.store).await?;
                if all.len() == 1 {
                    all.pop()
                } else {
                    return Err(AppError::from(ErrorCode::SchoolRequired));
                }
            }
        },
    }
    .ok_or_else(|| AppError::not_found("学校", "School"))?;
    Ok(Json(PublicSchool {
        school: school_info(&school),
        policy: policy_summary(&school.policy),
        reject_reasons: RejectReason::ALL
            .into_iter()
            .map(ReasonView::from)
            .collect(),
        photo_rules: gradphoto_domain::rules::PHOTO_RULES
            .iter()
            .map(|(code, zh, en)| PhotoRule {
                code: code.to_string(),
                zh: zh.to_string(),
                en: en.to_string(),
            })
            .collect(),
        spec: school.policy.photo_spec(),
    }))
}

pub(super) async fn student_school_from_token(
    state: &AppState,
    headers: &HeaderMap,
) -> AppResult<Option<schools::SchoolRow>> {
    let Some(token) = bearer_token(headers) else {
        return Ok(None);
    };
    let Some(session) = sessions::find_live(&state.store, &sessions::token_hash(token)).await?
    else {
        return Ok(None);
    };
    let Some(case_id) = session.case_id else {
        return Ok(None);
    };
    let Some(case) = cases::get(&state.store, &case_id).await? else {
        return Ok(None);
    };
    Ok(schools::get(&state.store, &case.school_id).await?)
}
