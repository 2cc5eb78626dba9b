//! The one error type of the server. It renders as JSON `{code, message_zh, message_en}` (plus
//! `field` / `retry_after_s` when they apply); codes are [`ErrorCode`]s, declared once in
//! `gradphoto_api::error` with their status. Internal failures keep their cause, which is logged
//! once, where the response is made, and never sent.

use std::fmt;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gradphoto_api::error::ErrorBody;
pub use gradphoto_api::error::ErrorCode;
use gradphoto_domain::Localized;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub code: ErrorCode,
    pub message_zh: String,
    pub message_en: String,
    pub field: Option<String>,
    pub retry_after_s: Option<u64>,
    /// What failed inside (database, crypto, a task): logged with the response, never sent.
    cause: Option<String>,
}

pub type AppResult<T> = Result<T, AppError>;

impl From<ErrorCode> for AppError {
    /// The code with its default messages.
    fn from(code: ErrorCode) -> AppError {
        AppError::new(code, code.message_zh(), code.message_en())
    }
}

impl AppError {
    /// The code with messages more precise than its defaults (numbers, names, limits).
    pub fn new(
        code: ErrorCode,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> AppError {
        AppError {
            code,
            message_zh: message_zh.into(),
            message_en: message_en.into(),
            field: None,
            retry_after_s: None,
            cause: None,
        }
    }

    /// A domain or vision error, under the code it names itself by. A code the API does not
    /// list is a programming error: it answers as an internal error and logs the code.
    pub fn localized(err: &dyn Localized) -> AppError {
        match ErrorCode::parse(err.code()) {
            Some(code) => AppError::new(code, err.message_zh(), err.message_en()),
            None => AppError::internal(format_args!(
                "error code {:?} is not an API error code: {}",
                err.code(),
                err.message_en()
            )),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> AppError {
        self.field = Some(field.into());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> AppError {
        self.retry_after_s = Some(seconds);
        self
    }

    /// A failure inside the server; the client only learns that one happened.
    pub fn internal(cause: impl fmt::Display) -> AppError {
        let mut e = AppError::from(ErrorCode::InternalError);
        e.cause = Some(cause.to_string());
        e
    }

    pub fn not_found(what_zh: &str, what_en: &str) -> AppError {
        AppError::new(
            ErrorCode::NotFound,
            format!("未找到{what_zh}。"),
            format!("{what_en} not found."),
        )
    }

    pub fn unauthorized() -> AppError {
        ErrorCode::Unauthorized.into()
    }

    pub fn forbidden() -> AppError {
        ErrorCode::Forbidden.into()
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message_zh: self.message_zh.clone(),
            message_en: self.message_en.clone(),
            field: self.field.clone(),
            retry_after_s: self.retry_after_s,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{}: {cause}", self.code.as_str()),
            None => write!(f, "{}: {}", self.code.as_str(), self.message_en),
        }
    }
}

impl std::error::Error for AppError {}

impl Localized for AppError {
    fn code(&self) -> &'static str {
        self.code.as_str()
    }
    fn message_zh(&self) -> String {
        self.message_zh.clone()
    }
    fn message_en(&self) -> String {
        self.message_en.clone()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(code = self.code.as_str(), error = %cause, "internal error");
        }
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after_s {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Refused(r) => AppError {
                field: r.field,
                ..AppError::new(r.code, r.message_zh, r.message_en)
            },
            StoreError::NotFound { what_zh, what_en } => AppError::not_found(what_zh, what_en),
            other => AppError::internal(other),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::internal(format_args!("database: {e}"))
    }
}

impl From<sqlx::migrate::MigrateError> for AppError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        AppError::internal(format_args!("migration: {e}"))
    }
}

impl From<object_store::Error> for AppError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => AppError::not_found("文件", "File"),
            other => AppError::internal(format_args!("object store: {other}")),
        }
    }
}

impl From<crate::crypto::CryptoError> for AppError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        AppError::internal(format_args!("crypto: {e}"))
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::internal(format_args!("stored json: {e}"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::internal(format_args!("background task: {e}"))
    }
}

/// Domain errors answer under the code they name themselves by, so handlers can use `?`.
macro_rules! localized_from {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for AppError {
            fn from(e: $ty) -> Self {
                AppError::localized(&e)
            }
        }
    )*};
}

localized_from! {
    gradphoto_domain::idnumber::IdError,
    gradphoto_domain::state::TransitionError,
    gradphoto_domain::policy::PolicyError,
    gradphoto_domain::role::UnknownRole,
    gradphoto_domain::reasons::RejectionError,
}

#[cfg(test)]
mod tests {
    use super::*;
    use gradphoto_domain::idnumber::{DateProblem, IdError};
    use gradphoto_domain::policy::PolicyError;
    use gradphoto_domain::reasons::{RejectionError, UnknownReason};
    use gradphoto_domain::role::{Role, UnknownRole};
    use gradphoto_domain::state::{CaseState, EventKind, TransitionError};
    use gradphoto_vision::{CropShortfall, VisionError};

    /// Every error the domain and the vision code can raise through a handler answers under a
    /// code the API lists (not as an internal error).
    #[test]
    fn every_domain_and_vision_error_has_an_api_code() {
        let errors: Vec<Box<dyn Localized>> = vec![
            Box::new(IdError::Empty),
            Box::new(IdError::Length { got: 3 }),
            Box::new(IdError::InvalidChar {
                position: 1,
                ch: 'a',
            }),
            Box::new(IdError::Region { code: "00".into() }),
            Box::new(IdError::BirthDate {
                date: "19000230".into(),
                problem: DateProblem::DoesNotExist,
            }),
            Box::new(IdError::CheckDigit {
                expected: '1',
                got: '2',
            }),
            Box::new(TransitionError::NotAllowedInState {
                from: CaseState::Ready,
                event: EventKind::ClaimCode,
            }),
            Box::new(TransitionError::RoleNotPermitted {
                role: Role::Student,
                event: EventKind::ClaimCode,
            }),
            Box::new(TransitionError::LeaseHeldByOther {
                holder: "r".into(),
                until: chrono::Utc::now(),
            }),
            Box::new(TransitionError::LeaseExpired),
            Box::new(TransitionError::NotLeaseHolder { holder: "r".into() }),
            Box::new(TransitionError::LeaseUntilInPast {
                until: chrono::Utc::now(),
            }),
            Box::new(TransitionError::LockedAfterApproval),
            Box::new(TransitionError::AlreadyExported),
            Box::new(TransitionError::ReasonsRequired),
            Box::new(TransitionError::CommentRequired),
            Box::new(PolicyError::NegativeFee(-1)),
            Box::new(PolicyError::NoAttempts),
            Box::new(PolicyError::NoFaceMatchFailures),
            Box::new(PolicyError::NoCheckFailures),
            Box::new(PolicyError::MissingPrivacyVersion),
            Box::new(PolicyError::MissingSupportPhone),
            Box::new(PolicyError::MissingSupportHours),
            Box::new(PolicyError::NoRetention),
            Box::new(PolicyError::NoReviewSla),
            Box::new(PolicyError::BadHoliday("x".into())),
            Box::new(PolicyError::RereviewPercentOutOfRange(101)),
            Box::new(PolicyError::PhotoSizeWindow {
                min_kb: 1,
                max_kb: 2,
            }),
            Box::new(PolicyError::BadDeadline("x".into())),
            Box::new(PolicyError::PrivacyTextTooLong),
            Box::new(PolicyError::PrivacyTextWithoutNewVersion),
            Box::new(UnknownRole("x".into())),
            Box::new(RejectionError::UnknownReason(UnknownReason("x".into()))),
            Box::new(RejectionError::ReasonsRequired),
            Box::new(RejectionError::CommentRequired),
            Box::new(VisionError::UnreadableImage("x".into())),
            Box::new(VisionError::UnsupportedFormat("x".into())),
            Box::new(VisionError::TooManyPixels {
                pixels: 2,
                limit: 1,
            }),
            Box::new(VisionError::NoFace),
            Box::new(VisionError::MultipleFaces { count: 2 }),
            Box::new(VisionError::FaceTooSmall {
                face_width_px: 1.0,
                needed_px: 2.0,
            }),
            Box::new(VisionError::CannotCrop(CropShortfall::Bottom)),
            Box::new(VisionError::Model("x".into())),
            Box::new(VisionError::InvalidSpec("x".into())),
            Box::new(VisionError::NotAnIdCard(
                gradphoto_vision::CardProblem::NoPortrait,
            )),
            Box::new(gradphoto_domain::text::USERNAME.exceeded()),
            Box::new(gradphoto_domain::access::AccessError::LeaseRequired),
            Box::new(gradphoto_domain::access::AccessError::ReasonRequired),
        ];
        for e in errors {
            let code = ErrorCode::parse(e.code());
            assert!(code.is_some(), "{} is not in ErrorCode", e.code());
            assert_eq!(AppError::localized(e.as_ref()).code, code.unwrap());
        }
    }

    #[test]
    fn an_internal_error_keeps_its_cause_out_of_the_body() {
        let e = AppError::internal("database: disk I/O error");
        assert_eq!(e.code, ErrorCode::InternalError);
        assert!(e.to_string().contains("disk I/O"));
        let body = serde_json::to_string(&e.body()).unwrap();
        assert!(!body.contains("disk"), "{body}");
    }
}
