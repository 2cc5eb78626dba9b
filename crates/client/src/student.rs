//! Student (portal) endpoints. A student client holds the token returned by
//! [`Client::claim_code`].

use gradphoto_api::common::AttemptView;
use gradphoto_api::student::{
    ClaimRequest, ClaimResponse, ConsentRequest, PaymentResponse, StudentCase, SubmitRequest,
};
use reqwest::multipart::{Form, Part};
use reqwest::Method;

use crate::{seg, Client, ClientResult, Downloaded};

/// One file for a multipart upload.
#[derive(Debug, Clone)]
pub struct PhotoUpload {
    pub bytes: Vec<u8>,
    pub file_name: String,
    /// e.g. `image/jpeg`; the server sniffs the content and does not trust this.
    pub mime: String,
}

impl PhotoUpload {
    pub fn new(bytes: Vec<u8>, file_name: &str, mime: &str) -> PhotoUpload {
        PhotoUpload {
            bytes,
            file_name: file_name.to_string(),
            mime: mime.to_string(),
        }
    }

    fn part(self) -> ClientResult<Part> {
        Ok(Part::bytes(self.bytes)
            .file_name(self.file_name)
            .mime_str(&self.mime)?)
    }
}

impl Client {
    /// Claims a personal code. Send it with the token this client already holds (if any) so
    /// that reopening the link in the same browser session is recognised; a new client
    /// opening someone else's claimed code is refused.
    pub async fn claim_code(&self, code: &str) -> ClientResult<ClaimResponse> {
        self.post(
            "/api/student/claim",
            &ClaimRequest {
                code: code.to_string(),
            },
        )
        .await
    }

    pub async fn student_case(&self) -> ClientResult<StudentCase> {
        self.get("/api/student/case").await
    }

    pub async fn consent(&self, version: &str, accepted: bool) -> ClientResult<StudentCase> {
        self.post(
            "/api/student/consent",
            &ConsentRequest {
                version: version.to_string(),
                accepted,
            },
        )
        .await
    }

    /// Identity check: name and ID number as typed, with both sides of the ID card.
    pub async fn verify_identity(
        &self,
        name: &str,
        id_number: &str,
        id_front: PhotoUpload,
        id_back: PhotoUpload,
    ) -> ClientResult<StudentCase> {
        let form = Form::new()
            .text("name", name.to_string())
            .text("id_number", id_number.to_string())
            .part("id_front", id_front.part()?)
            .part("id_back", id_back.part()?);
        Client::json(
            self.request(Method::POST, "/api/student/identity")?
                .multipart(form),
        )
        .await
    }

    pub async fn confirm_record(&self) -> ClientResult<StudentCase> {
        self.post_empty("/api/student/confirm").await
    }

    /// Starts payment (free schools complete at once; otherwise follow `pay_url`).
    pub async fn start_payment(&self) -> ClientResult<PaymentResponse> {
        self.post_empty("/api/student/payment").await
    }

    /// Uploads a photo attempt. `upload_id` makes retries idempotent; `source` is `camera` or
    /// `album`.
    pub async fn upload_attempt(
        &self,
        photo: PhotoUpload,
        source: &str,
        upload_id: Option<&str>,
    ) -> ClientResult<AttemptView> {
        let mut form = Form::new()
            .text("source", source.to_string())
            .part("photo", photo.part()?);
        if let Some(id) = upload_id {
            form = form.text("upload_id", id.to_string());
        }
        Client::json(
            self.request(Method::POST, "/api/student/attempts")?
                .multipart(form),
        )
        .await
    }

    pub async fn attempt(&self, attempt_id: &str) -> ClientResult<AttemptView> {
        self.get(&format!("/api/student/attempts/{}", seg(attempt_id)))
            .await
    }

    pub async fn attempt_standardized(&self, attempt_id: &str) -> ClientResult<Downloaded> {
        self.get_bytes(&format!(
            "/api/student/attempts/{}/standardized.jpg",
            seg(attempt_id)
        ))
        .await
    }

    pub async fn attempt_original(&self, attempt_id: &str) -> ClientResult<Downloaded> {
        self.get_bytes(&format!(
            "/api/student/attempts/{}/original",
            seg(attempt_id)
        ))
        .await
    }

    pub async fn submit(&self, attempt_id: &str) -> ClientResult<StudentCase> {
        self.post(
            "/api/student/submit",
            &SubmitRequest {
                attempt_id: attempt_id.to_string(),
            },
        )
        .await
    }

    pub async fn withdraw(&self) -> ClientResult<StudentCase> {
        self.post_empty("/api/student/withdraw").await
    }

    pub async fn retake(&self) -> ClientResult<StudentCase> {
        self.post_empty("/api/student/retake").await
    }
}
