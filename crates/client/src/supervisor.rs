//! Supervisor endpoints.

use gradphoto_api::audit::{AuditPage, AuditQuery, AuditVerification};
use gradphoto_api::review::{DecisionRecord, OverrideRequest, Stats, Verdict};

use crate::{seg, Client, ClientResult};

impl Client {
    pub async fn override_decision(
        &self,
        case_id: &str,
        decision_id: &str,
        verdict: Verdict,
        override_comment: &str,
    ) -> ClientResult<DecisionRecord> {
        self.post(
            &format!("/api/supervisor/items/{}/override", seg(case_id)),
            &OverrideRequest {
                decision_id: decision_id.to_string(),
                verdict,
                override_comment: override_comment.to_string(),
            },
        )
        .await
    }

    /// One page of the audit log, oldest first, after `cursor`.
    pub async fn audit_page(
        &self,
        cursor: Option<i64>,
        limit: Option<u32>,
    ) -> ClientResult<AuditPage> {
        self.get_query("/api/supervisor/audit", &AuditQuery { cursor, limit })
            .await
    }

    pub async fn audit_verify(&self) -> ClientResult<AuditVerification> {
        self.get("/api/supervisor/audit/verify").await
    }

    pub async fn stats(&self) -> ClientResult<Stats> {
        self.get("/api/supervisor/stats").await
    }
}
