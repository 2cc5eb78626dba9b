//! The student's steps, through the client, as the portal performs them.

use std::time::Duration;

use gradphoto_api::common::{AttemptStatus, AttemptView};
use gradphoto_client::{Client, PhotoUpload};
use gradphoto_domain::state::CaseState;

use super::fixture::StudentFixture;
use super::photos;

/// Claims the code with a fresh session and returns a client holding the student token.
pub async fn claim(base: &Client, student: &StudentFixture) -> Client {
    let claimed = base.claim_code(&student.code).await.expect("claim code");
    assert_eq!(claimed.case.state, CaseState::Claimed);
    base.with_token(claimed.token)
}

/// Consent, identity check, record confirmation and payment (sandbox when the school charges).
pub async fn to_ready(base: &Client, student: &StudentFixture) -> Client {
    to_ready_with_card(base, student, photos::id_card_sides()).await
}

/// [`to_ready`] with the given ID card (front, back).
pub async fn to_ready_with_card(
    base: &Client,
    student: &StudentFixture,
    card: (PhotoUpload, PhotoUpload),
) -> Client {
    let client = to_record_confirmed(base, student, card).await;
    // A school that charges nothing needs no payment step.
    if client.student_case().await.expect("case").state == CaseState::RecordConfirmed {
        let paid = client.start_payment().await.expect("payment");
        if let Some(pay_url) = &paid.pay_url {
            client.sandbox_pay(pay_url).await.expect("sandbox pay");
        }
    }
    let case = client.student_case().await.expect("case");
    assert_eq!(case.state, CaseState::Ready);
    client
}

/// Consent, identity check and record confirmation: the case waits for payment when the school
/// charges (`record_confirmed`), or is ready when it does not.
pub async fn to_record_confirmed(
    base: &Client,
    student: &StudentFixture,
    (front, back): (PhotoUpload, PhotoUpload),
) -> Client {
    let client = claim(base, student).await;
    let case = client.student_case().await.expect("case");
    let version = case.policy.privacy_version.clone();
    client.consent(&version, true).await.expect("consent");
    let case = client
        .verify_identity(&student.name, &student.id_number, front, back)
        .await
        .expect("identity");
    assert_eq!(case.state, CaseState::IdentityVerified);
    client.confirm_record().await.expect("confirm");
    client
}

/// Uploads a photo and waits (polling) until its analysis has finished.
pub async fn upload_checked(client: &Client, photo: PhotoUpload) -> AttemptView {
    let attempt = client
        .upload_attempt(photo, "camera", None)
        .await
        .expect("upload");
    wait_checked(client, &attempt.id).await
}

pub async fn wait_checked(client: &Client, attempt_id: &str) -> AttemptView {
    // Bounded so a broken worker fails the test instead of hanging it.
    for _ in 0..2400 {
        let a = client.attempt(attempt_id).await.expect("attempt");
        if a.status != AttemptStatus::Processing {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("attempt {attempt_id} was never analysed");
}

/// From a fresh code to a submitted photo (pending review); returns the student client.
pub async fn to_pending(base: &Client, student: &StudentFixture) -> Client {
    let client = to_ready(base, student).await;
    let attempt = upload_checked(&client, photos::portrait()).await;
    assert_eq!(attempt.status, AttemptStatus::Checked, "{attempt:?}");
    let case = client.submit(&attempt.id).await.expect("submit");
    assert_eq!(case.state, CaseState::PendingReview);
    client
}
