//! The one error type of the client.

use gradphoto_api::error::{ErrorBody, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body (`{code, message_zh, message_en}`).
    #[error("server error {status} {}: {}", body.code.as_str(), body.message_en)]
    Api { status: u16, body: ErrorBody },
    /// The server answered with an error status but no error body (e.g. a proxy in between).
    #[error("unexpected response {status}: {snippet}")]
    Unexpected { status: u16, snippet: String },
    /// The request could not be sent or the response not read or decoded.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("invalid server address {0:?}")]
    BadBaseUrl(String),
}

impl ClientError {
    /// The server's stable error code, when the server answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Unexpected { status, .. } => {
                Some(*status)
            }
            ClientError::Transport(e) => e.status().map(|s| s.as_u16()),
            ClientError::BadBaseUrl(_) => None,
        }
    }

    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            ClientError::Api { body, .. } => Some(body),
            _ => None,
        }
    }
}
