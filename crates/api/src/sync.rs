//! Incremental sync for the reviewer workstation: `GET /api/review/sync?cursor=&limit=`.
//!
//! Every change to a case (state, lease, decision) gives the case a new, strictly larger
//! `change_seq`. A client keeps the largest `change_seq` it has applied and asks for what came
//! after it; a case changed several times between two syncs appears once, in its latest form.

use gradphoto_domain::state::CaseState;
use serde::{Deserialize, Serialize};

use crate::review::{DecisionRecord, Lease};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncQuery {
    /// The `next_cursor` of the previous page; 0 or absent for everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<i64>,
    /// Page size, 1–1000 (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// The current form of one changed case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseChange {
    pub change_seq: i64,
    pub case_id: String,
    pub school_id: String,
    /// The stored state; check `lease` for whether an `in_review` lease is still live.
    pub state: CaseState,
    pub round: i64,
    pub flagged: bool,
    pub student_name: String,
    pub student_no: String,
    pub submitted_at_ms: Option<i64>,
    pub updated_at_ms: i64,
    pub lease: Option<Lease>,
    /// The latest decision of the case, if any.
    pub latest_decision: Option<DecisionRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPage {
    pub changes: Vec<CaseChange>,
    /// Pass back as `cursor`; equals the request cursor when nothing changed.
    pub next_cursor: i64,
    pub has_more: bool,
}
