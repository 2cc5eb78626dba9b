//! The one error type of the server. It renders as JSON `{code, message_zh, message_en}` (plus
//! `field` / `retry_after_s` when they apply); codes are stable snake_case.

use std::fmt;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gradphoto_api::error::ErrorBody;
use gradphoto_domain::Localized;

/// What kind of failure, which decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Gone,
    PayloadTooLarge,
    UnsupportedMedia,
    Unprocessable,
    TooManyRequests,
    Internal,
    Unavailable,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Gone => StatusCode::GONE,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
    pub field: Option<String>,
    pub retry_after_s: Option<u64>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(
        kind: ErrorKind,
        code: &'static str,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> AppError {
        AppError {
            kind,
            code,
            message_zh: message_zh.into(),
            message_en: message_en.into(),
            field: None,
            retry_after_s: None,
        }
    }

    pub fn localized(kind: ErrorKind, err: &dyn Localized) -> AppError {
        AppError::new(kind, err.code(), err.message_zh(), err.message_en())
    }

    pub fn with_field(mut self, field: impl Into<String>) -> AppError {
        self.field = Some(field.into());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> AppError {
        self.retry_after_s = Some(seconds);
        self
    }

    /// Logs the cause and returns a generic message; internals never reach the client.
    pub fn internal(cause: impl fmt::Display) -> AppError {
        tracing::error!(error = %cause, "internal error");
        AppError::new(
            ErrorKind::Internal,
            "internal_error",
            "服务器内部错误，请稍后重试。",
            "Internal server error. Please try again later.",
        )
    }

    pub fn not_found(what_zh: &str, what_en: &str) -> AppError {
        AppError::new(
            ErrorKind::NotFound,
            "not_found",
            format!("未找到{what_zh}。"),
            format!("{what_en} not found."),
        )
    }

    pub fn unauthorized() -> AppError {
        AppError::new(
            ErrorKind::Unauthorized,
            "unauthorized",
            "请先登录或重新打开您的采集链接。",
            "Please sign in, or open your personal link again.",
        )
    }

    pub fn forbidden() -> AppError {
        AppError::new(
            ErrorKind::Forbidden,
            "forbidden",
            "您没有执行此操作的权限。",
            "You are not allowed to do this.",
        )
    }

    pub fn invalid(
        code: &'static str,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> AppError {
        AppError::new(ErrorKind::Invalid, code, message_zh, message_en)
    }

    pub fn conflict(
        code: &'static str,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> AppError {
        AppError::new(ErrorKind::Conflict, code, message_zh, message_en)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_string(),
            message_zh: self.message_zh.clone(),
            message_en: self.message_en.clone(),
            field: self.field.clone(),
            retry_after_s: self.retry_after_s,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message_en)
    }
}

impl std::error::Error for AppError {}

impl Localized for AppError {
    fn code(&self) -> &'static str {
        self.code
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
        let mut response = (self.kind.status(), axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after_s {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
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

/// Domain errors map to a kind here, once, so handlers can use `?` on them.
macro_rules! localized_from {
    ($($ty:ty => $kind:expr),* $(,)?) => {$(
        impl From<$ty> for AppError {
            fn from(e: $ty) -> Self {
                AppError::localized($kind, &e)
            }
        }
    )*};
}

localized_from! {
    gradphoto_domain::idnumber::IdError => ErrorKind::Unprocessable,
    gradphoto_domain::state::TransitionError => ErrorKind::Conflict,
    gradphoto_domain::policy::PolicyError => ErrorKind::Invalid,
    gradphoto_domain::role::UnknownRole => ErrorKind::Invalid,
}
