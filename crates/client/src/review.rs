//! Reviewer endpoints.

use gradphoto_api::review::{
    ClaimRequest, ClaimResponse, DecisionRecord, DecisionRequest, IdNumberView, ImageKind, Lease,
    QueuePage, QueueQuery, Released, ReviewItem, Verdict,
};

use crate::{seg, Client, ClientResult, Downloaded};

impl Client {
    /// `GET /api/review/queue`.
    pub async fn review_queue(&self, query: &QueueQuery) -> ClientResult<QueuePage> {
        self.get_query("/api/review/queue", query).await
    }

    /// Claims the next `count` items of the queue (`POST /api/review/claim`).
    pub async fn claim_next(&self, count: u32) -> ClientResult<ClaimResponse> {
        self.claim(&ClaimRequest {
            count: Some(count),
            ..ClaimRequest::default()
        })
        .await
    }

    /// Claims one named case.
    pub async fn claim_case(&self, case_id: &str) -> ClientResult<ClaimResponse> {
        self.claim(&ClaimRequest {
            case_id: Some(case_id.to_string()),
            ..ClaimRequest::default()
        })
        .await
    }

    pub async fn claim(&self, request: &ClaimRequest) -> ClientResult<ClaimResponse> {
        self.post("/api/review/claim", request).await
    }

    pub async fn renew_lease(&self, case_id: &str) -> ClientResult<Lease> {
        self.post_empty(&format!("/api/review/items/{}/renew", seg(case_id)))
            .await
    }

    pub async fn release_lease(&self, case_id: &str) -> ClientResult<Released> {
        self.post_empty(&format!("/api/review/items/{}/release", seg(case_id)))
            .await
    }

    pub async fn review_item(&self, case_id: &str) -> ClientResult<ReviewItem> {
        self.get(&format!("/api/review/items/{}", seg(case_id)))
            .await
    }

    /// The full ID number (the server audits this view).
    pub async fn review_id_number(&self, case_id: &str) -> ClientResult<IdNumberView> {
        self.get(&format!("/api/review/items/{}/id-number", seg(case_id)))
            .await
    }

    /// A decrypted image of the case. ID cards, the original and the enrollment photo are read
    /// under the caller's lease only (the server audits each view).
    pub async fn review_image(&self, case_id: &str, kind: ImageKind) -> ClientResult<Downloaded> {
        self.get_bytes(&format!(
            "/api/review/items/{}/images/{}",
            seg(case_id),
            kind.as_str()
        ))
        .await
    }

    /// A supervisor's read of the full ID number outside a lease, with the reason the audit
    /// log keeps.
    pub async fn review_id_number_because(
        &self,
        case_id: &str,
        reason: &str,
    ) -> ClientResult<IdNumberView> {
        self.get_query(
            &format!("/api/review/items/{}/id-number", seg(case_id)),
            &[("reason", reason)],
        )
        .await
    }

    /// A supervisor's read of a sensitive image outside a lease, with the reason.
    pub async fn review_image_because(
        &self,
        case_id: &str,
        kind: ImageKind,
        reason: &str,
    ) -> ClientResult<Downloaded> {
        self.get_bytes_query(
            &format!(
                "/api/review/items/{}/images/{}",
                seg(case_id),
                kind.as_str()
            ),
            &[("reason", reason)],
        )
        .await
    }

    /// Records a decision; retrying with the same `decision_id` returns the original record.
    pub async fn decide(
        &self,
        case_id: &str,
        decision_id: &str,
        verdict: Verdict,
    ) -> ClientResult<DecisionRecord> {
        self.post(
            &format!("/api/review/items/{}/decision", seg(case_id)),
            &DecisionRequest {
                decision_id: decision_id.to_string(),
                verdict,
            },
        )
        .await
    }
}
