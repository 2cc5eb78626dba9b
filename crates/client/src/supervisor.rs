//! Supervisor endpoints.

use gradphoto_api::audit::{
    AuditPage, AuditQuery, AuditVerification, CaseTimeline, RevealRequest, RevealedIdNumber,
};
use gradphoto_api::quality::{
    DeclineRequest, OverrideOutcome, OverrideQuery, OverrideRequestView, OverrideStatus,
    RereviewItem, RereviewPage, RereviewQuery, RereviewRequest, ReviewerAgreement,
};
use gradphoto_api::review::{OverrideRequest, Stats, StatsQuery, Verdict};

use crate::{seg, Client, ClientResult, Downloaded};

impl Client {
    pub async fn override_decision(
        &self,
        case_id: &str,
        decision_id: &str,
        verdict: Verdict,
        override_comment: &str,
    ) -> ClientResult<OverrideOutcome> {
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

    /// Samples of reviewers' decisions for a second look (blind while open).
    pub async fn rereviews(&self, query: &RereviewQuery) -> ClientResult<RereviewPage> {
        self.get_query("/api/supervisor/rereviews", query).await
    }

    pub async fn rereview(&self, id: &str) -> ClientResult<RereviewItem> {
        self.get(&format!("/api/supervisor/rereviews/{}", seg(id)))
            .await
    }

    /// The supervisor's own verdict on a sample; the answer reveals the first decision.
    pub async fn rereview_decide(&self, id: &str, verdict: Verdict) -> ClientResult<RereviewItem> {
        self.post(
            &format!("/api/supervisor/rereviews/{}/decision", seg(id)),
            &RereviewRequest { verdict },
        )
        .await
    }

    /// Per reviewer: sampled, re-reviewed and disagreed-with decisions.
    pub async fn rereview_agreement(&self) -> ClientResult<Vec<ReviewerAgreement>> {
        self.get("/api/supervisor/rereviews/reviewers").await
    }

    /// Override requests of one status (pending ones when `None`).
    pub async fn override_requests(
        &self,
        status: Option<OverrideStatus>,
    ) -> ClientResult<Vec<OverrideRequestView>> {
        self.get_query("/api/supervisor/overrides", &OverrideQuery { status })
            .await
    }

    pub async fn confirm_override(&self, request_id: &str) -> ClientResult<OverrideRequestView> {
        self.post(
            &format!("/api/supervisor/overrides/{}/confirm", seg(request_id)),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn decline_override(
        &self,
        request_id: &str,
        comment: &str,
    ) -> ClientResult<OverrideRequestView> {
        self.post(
            &format!("/api/supervisor/overrides/{}/decline", seg(request_id)),
            &DeclineRequest {
                comment: comment.to_string(),
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
        let query = AuditQuery {
            after: Some(cursor.unwrap_or(0)),
            limit,
            ..AuditQuery::default()
        };
        self.get_query("/api/supervisor/audit", &query).await
    }

    /// One page of the audit history with filters (newest first unless `after` is given).
    pub async fn audit_search(&self, query: &AuditQuery) -> ClientResult<AuditPage> {
        self.get_query("/api/supervisor/audit", query).await
    }

    /// Every event matching `query`'s filters, as the CSV file the export answers.
    pub async fn audit_export(&self, query: &AuditQuery) -> ClientResult<Downloaded> {
        self.get_bytes_query("/api/supervisor/audit/export", query)
            .await
    }

    /// The CSV export of `query`'s events as it arrives, for writing to a file with progress.
    /// `timeout` bounds the whole download (a long history takes longer than one request).
    pub async fn audit_export_stream(
        &self,
        query: &AuditQuery,
        timeout: std::time::Duration,
    ) -> ClientResult<ExportStream> {
        let builder = self
            .request(reqwest::Method::GET, "/api/supervisor/audit/export")?
            .query(query)
            .timeout(timeout);
        let response = Client::send(builder).await?;
        let total = response
            .headers()
            .get("x-audit-events")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Ok(ExportStream { response, total })
    }

    /// A student's full ID number, given a reason; the reveal is recorded in the audit log.
    pub async fn reveal_id_number(&self, student_id: &str, reason: &str) -> ClientResult<String> {
        let body: RevealedIdNumber = self
            .post(
                &format!("/api/supervisor/students/{}/id-number", seg(student_id)),
                &RevealRequest {
                    reason: reason.to_string(),
                },
            )
            .await?;
        Ok(body.id_number)
    }

    /// A student's whole history: attempts with their checks, decisions, audit events.
    pub async fn case_timeline(&self, case_id: &str) -> ClientResult<CaseTimeline> {
        self.get(&format!("/api/supervisor/cases/{}/timeline", seg(case_id)))
            .await
    }

    /// A picture the timeline names by its path (`standardized_url`).
    pub async fn timeline_photo(&self, path: &str) -> ClientResult<Downloaded> {
        self.get_bytes(path).await
    }

    pub async fn audit_verify(&self) -> ClientResult<AuditVerification> {
        self.get("/api/supervisor/audit/verify").await
    }

    /// Statistics over a date range, school and college (all optional).
    pub async fn stats(&self, query: &StatsQuery) -> ClientResult<Stats> {
        self.get_query("/api/supervisor/stats", query).await
    }
}

/// A CSV export being received.
#[derive(Debug)]
pub struct ExportStream {
    response: reqwest::Response,
    /// How many events the server announced.
    pub total: Option<u64>,
}

impl ExportStream {
    /// The next piece of the file, or `None` at its end.
    pub async fn chunk(&mut self) -> ClientResult<Option<bytes::Bytes>> {
        Ok(self.response.chunk().await?)
    }
}
