//! The supervisor's view of the hash-chained audit log.

use gradphoto_domain::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Return events with `seq` greater than this (the previous page's `next_cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<i64>,
    /// Page size, 1–500 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_ms: i64,
    /// Absent for events the system itself recorded.
    pub actor_role: Option<Role>,
    pub actor_id: String,
    /// Stable action code (part of the hashed encoding).
    pub action: String,
    pub action_label_zh: String,
    pub action_label_en: String,
    pub subject: String,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEntry>,
    pub next_cursor: i64,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    pub seq: i64,
    /// `audit_hash_mismatch`, `audit_prev_hash_mismatch` or `audit_seq_gap`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// `GET /api/supervisor/audit/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub ok: bool,
    /// Number of events checked.
    pub checked: i64,
    /// The first broken link, when the chain does not verify.
    pub first_broken: Option<BrokenLink>,
}
