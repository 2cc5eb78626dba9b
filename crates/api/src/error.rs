//! The error body every endpoint returns on failure.

use serde::{Deserialize, Serialize};

/// `code` is stable snake_case and safe to match on; messages are for display, zh-CN first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    /// The request field the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds until a rate-limited request may be retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}
