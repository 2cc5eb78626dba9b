//! The store's own error type. The store knows nothing of HTTP: the handler layer maps a
//! [`StoreError`] to its response once (`impl From<StoreError> for AppError`).

use std::fmt;

use gradphoto_api::error::ErrorCode;
use gradphoto_domain::Localized;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The store cannot do its job: stored data it cannot read (an unknown state, bytes that do
    /// not decrypt), or a database address it cannot use.
    #[error("store: {0}")]
    Internal(String),
    /// No such row; the caller's words say what was looked for.
    #[error("{what_en} not found")]
    NotFound {
        what_zh: &'static str,
        what_en: &'static str,
    },
    /// A rule the stored data enforces refused the change (a username taken, a lease lost, a
    /// decision already made): shown to the user as it is.
    #[error("{}: {}", .0.code.as_str(), .0.message_en)]
    Refused(Refusal),
}

/// Why the store refused, in the API's code and both product languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message_zh: String,
    pub message_en: String,
    pub field: Option<String>,
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn internal(cause: impl fmt::Display) -> StoreError {
        StoreError::Internal(cause.to_string())
    }

    pub fn not_found(what_zh: &'static str, what_en: &'static str) -> StoreError {
        StoreError::NotFound { what_zh, what_en }
    }

    pub fn refused(
        code: ErrorCode,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> StoreError {
        StoreError::Refused(Refusal {
            code,
            message_zh: message_zh.into(),
            message_en: message_en.into(),
            field: None,
        })
    }

    /// A domain error met while writing (an illegal transition, a rejection without reason),
    /// under the code it names itself by.
    pub fn localized(err: &dyn Localized) -> StoreError {
        match ErrorCode::parse(err.code()) {
            Some(code) => StoreError::refused(code, err.message_zh(), err.message_en()),
            None => StoreError::Internal(format!(
                "error code {:?} is not an API error code: {}",
                err.code(),
                err.message_en()
            )),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> StoreError {
        if let StoreError::Refused(r) = &mut self {
            r.field = Some(field.into());
        }
        self
    }

    /// The code the user would see.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Refused(r) => r.code,
            StoreError::NotFound { .. } => ErrorCode::NotFound,
            _ => ErrorCode::InternalError,
        }
    }
}

impl From<ErrorCode> for StoreError {
    /// The refusal with the code's default messages.
    fn from(code: ErrorCode) -> StoreError {
        StoreError::refused(code, code.message_zh(), code.message_en())
    }
}

impl From<crate::crypto::CryptoError> for StoreError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        StoreError::internal(format_args!("crypto: {e}"))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::internal(format_args!("stored json: {e}"))
    }
}

macro_rules! localized_from {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for StoreError {
            fn from(e: $ty) -> Self {
                StoreError::localized(&e)
            }
        }
    )*};
}

localized_from! {
    gradphoto_domain::state::TransitionError,
    gradphoto_domain::idnumber::IdError,
    gradphoto_domain::role::UnknownRole,
    gradphoto_domain::reasons::RejectionError,
}
