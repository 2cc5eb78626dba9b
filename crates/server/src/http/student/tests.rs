//! The student journey over real HTTP against a real server (SQLite, port 0).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use gradphoto_api::common::{AttemptStatus, AttemptView, UploadFormat, UploadRules};
use gradphoto_api::error::ErrorBody;
use gradphoto_api::error::ErrorCode;
use gradphoto_api::student::{ClaimResponse, PaymentResponse, StudentCase};
use gradphoto_domain::audit::Actor;
use gradphoto_domain::gate::SubmitDecision;
use gradphoto_domain::measures::{MeasureId, Thresholds, Verdict};
use gradphoto_domain::role::Role;
use gradphoto_domain::roster::RosterRecord;
use gradphoto_domain::state::CaseState;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::config::Config;
use crate::demo::{demo_id_number, demo_policy};
use crate::store::{codes, students};
use crate::vision::VisionAnalyzer;
use crate::ServerHandle;

/// The production analyzer, one per test process so the models load once; shared by
/// every unit test of the crate that analyses photos.
pub(crate) fn analyzer() -> Arc<VisionAnalyzer> {
    static SHARED: OnceLock<Arc<VisionAnalyzer>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let analyzer = VisionAnalyzer::new(Thresholds::default());
            analyzer.warm().unwrap();
            Arc::new(analyzer)
        })
        .clone()
}

/// A file of the repository's `tests/data` (sample photos and synthetic ID cards).
pub(crate) fn test_data(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A phone photo (1920×1080 JPEG) that passes every blocking check; the face is the one
/// on `idcards/idcard_astronaut.png`.
pub(crate) fn portrait() -> Vec<u8> {
    test_data("photos/phone_1080p.jpg")
}

/// ID card front of the person in [`portrait`].
const SAME_PERSON_CARD: &str = "idcards/idcard_astronaut.png";
/// ID card front of someone else.
const OTHER_PERSON_CARD: &str = "idcards/idcard_gauss.png";

/// A generated PNG, for images that are stored but never analysed (the card's back).
pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 255) as u8, (y % 255) as u8, 200])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The upload limit of these tests: above the sample ID cards (about 330 KB).
const MAX_UPLOAD: u64 = 400 * 1024;

/// JPEG-looking bytes of exactly `len` bytes: accepted at upload, never decodable.
fn jpeg_of_size(len: u64) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(len as usize - 2, 0x55);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

/// The start of an iPhone photo (HEIC): what the sniffer sees of one.
fn heic() -> Vec<u8> {
    let mut bytes = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec();
    bytes.resize(4096, 0);
    bytes
}

struct World {
    handle: ServerHandle,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    world_with_upload_limit(MAX_UPLOAD).await
}

async fn world_with_upload_limit(max_upload_bytes: u64) -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        max_upload_bytes,
        identity_max_failures: 2,
        // Jobs run when the test drains the queue, so every check sees a finished analysis.
        workers: 0,
        payment: crate::config::PaymentConfig::sandbox(),
        ..Config::default()
    };
    let (addr, handle) = crate::serve(config, analyzer()).await.unwrap();
    let state = &handle.state;
    let records: Vec<RosterRecord> = (1..=2)
        .map(|i| RosterRecord {
            name: format!("学生{i}"),
            id_number: demo_id_number(i).unwrap(),
            student_no: format!("S{i}"),
            school: "测试大学".into(),
            college: "理学院".into(),
            major: "数学".into(),
            level: "本科".into(),
            graduation_year: 2025,
            enrollment_photo: None,
        })
        .collect();
    let mut tx = state.store.begin().await.unwrap();
    students::import_as(
        &mut tx,
        &state.crypto,
        &Actor::new(Role::Admin, "t"),
        &records,
        &demo_policy(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    World {
        handle,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl World {
    async fn code_for(&self, i: usize) -> String {
        let state = &self.handle.state;
        let school = crate::store::schools::find_by_name(&state.store, "测试大学")
            .await
            .unwrap()
            .unwrap();
        let s = students::find_by_student_no(&state.store, &school.id, &format!("S{i}"))
            .await
            .unwrap()
            .unwrap();
        let case = crate::store::cases::get_by_student(&state.store, &s.id)
            .await
            .unwrap()
            .unwrap();
        let mut tx = state.store.begin().await.unwrap();
        let issued = codes::issue(
            &mut tx,
            &state.crypto,
            &Actor::new(Role::Admin, "t"),
            &case.id,
            false,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        issued.code
    }

    /// GET `path` as the student holding `token`, read as JSON.
    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn error(resp: reqwest::Response, status: StatusCode) -> ErrorBody {
        assert_eq!(resp.status(), status);
        resp.json().await.unwrap()
    }

    fn identity_form(name: &str, id: &str, card: &str, back: bool) -> Form {
        let mut form = Form::new()
            .text("name", name.to_string())
            .text("id_number", id.to_string())
            .part(
                "id_front",
                Part::bytes(test_data(card)).file_name("front.png"),
            );
        if back {
            form = form.part("id_back", Part::bytes(png(40, 30)).file_name("back.png"));
        }
        form
    }
}

#[tokio::test]
async fn student_journey_over_http() {
    let w = world().await;
    let code = w.code_for(1).await;

    let school: serde_json::Value = w
        .http
        .get(w.url("/api/public/school"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        school["school"]["support_phone"],
        demo_policy().support_phone
    );

    // Claim binds the code to this session; another device is refused.
    let claim: ClaimResponse = w
        .http
        .post(w.url("/api/student/claim"))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(claim.case.state, CaseState::Claimed);
    let token = claim.token.clone();
    let err = World::error(
        w.http
            .post(w.url("/api/student/claim"))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(err.code, ErrorCode::CodeAlreadyClaimed);
    assert!(err.message_zh.contains("一人一码"));
    let again: ClaimResponse = w
        .http
        .post(w.url("/api/student/claim"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again.token, token);

    let post = |path: &str| w.http.post(w.url(path)).bearer_auth(&token);
    let id = demo_id_number(1).unwrap();

    // Identity needs consent first, then valid, matching data and both card sides.
    let err = World::error(
        post("/api/student/identity")
            .multipart(World::identity_form(
                "学生1",
                id.as_str(),
                SAME_PERSON_CARD,
                true,
            ))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(err.code, ErrorCode::ConsentRequired);
    // Malformed bodies get the same JSON error shape as everything else.
    let err = World::error(
        post("/api/student/consent")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(err.code, ErrorCode::BadRequest);
    let err = World::error(
        post("/api/student/consent")
            .json(&serde_json::json!({ "version": 3 }))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(err.code, ErrorCode::InvalidBody);
    let err = World::error(
        post("/api/student/consent")
            .json(&serde_json::json!({ "version": "old", "accepted": true }))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(err.code, ErrorCode::ConsentVersionMismatch);
    let case: StudentCase = post("/api/student/consent")
        .json(&serde_json::json!({ "version": demo_policy().privacy_version, "accepted": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(case.consent.unwrap().version, demo_policy().privacy_version);

    let mut bad = id.as_str().to_string();
    let last = if bad.ends_with('0') { '1' } else { '0' };
    bad.pop();
    bad.push(last);
    let err = World::error(
        post("/api/student/identity")
            .multipart(World::identity_form("学生1", &bad, SAME_PERSON_CARD, true))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(err.field.as_deref(), Some("id_number"));
    let err = World::error(
        post("/api/student/identity")
            .multipart(World::identity_form(
                "学生1",
                id.as_str(),
                SAME_PERSON_CARD,
                false,
            ))
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        (err.code.as_str(), err.field.as_deref()),
        ("id_card_required", Some("id_back"))
    );
    let err = World::error(
        post("/api/student/identity")
            .multipart(World::identity_form(
                "学生2",
                id.as_str(),
                SAME_PERSON_CARD,
                true,
            ))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(err.code, ErrorCode::IdentityMismatch);
    let case: StudentCase = post("/api/student/identity")
        .multipart(World::identity_form(
            "学生1",
            id.as_str(),
            SAME_PERSON_CARD,
            true,
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(case.state, CaseState::IdentityVerified);
    assert_eq!(case.record.unwrap().id_number_masked, id.masked());

    // Record, then a sandbox payment with a signed callback.
    let case: StudentCase = post("/api/student/confirm")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(case.state, CaseState::RecordConfirmed);
    let pay: PaymentResponse = post("/api/student/payment")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pay.order.amount_cents, demo_policy().fee_cents);
    let pay_url = pay.pay_url.unwrap();
    let forged = serde_json::json!({
        "order_id": pay.order.id, "provider_ref": "x", "amount_cents": pay.order.amount_cents, "paid": true
    });
    let err = World::error(
        w.http
            .post(w.url("/api/payments/sandbox/callback"))
            .header(crate::payment::SANDBOX_SIGNATURE_HEADER, "00ff")
            .json(&forged)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(err.code, ErrorCode::BadSignature);
    let sandbox = w.handle.state.payments.sandbox().unwrap();
    let cheap = serde_json::to_vec(&serde_json::json!({
        "order_id": pay.order.id, "provider_ref": "x", "amount_cents": 1, "paid": true
    }))
    .unwrap();
    let err = World::error(
        w.http
            .post(w.url("/api/payments/sandbox/callback"))
            .header(
                crate::payment::SANDBOX_SIGNATURE_HEADER,
                sandbox.sign(&cheap),
            )
            .body(cheap)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(err.code, ErrorCode::AmountMismatch);
    let paid: serde_json::Value = w
        .http
        .post(&pay_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["result"], "paid");
    let replay: serde_json::Value = w
        .http
        .post(&pay_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replay["result"], "already_paid");
    let case: StudentCase = w.get_json("/api/student/case", &token).await;
    assert_eq!(case.state, CaseState::Ready);

    // Uploads: the rules the case advertises are the ones enforced; content sniffed, size
    // limited, retried uploads deduplicated.
    let rules = case.uploads.clone();
    assert_eq!(rules.max_upload_bytes, MAX_UPLOAD);
    let formats: Vec<_> = rules.accepted_formats.iter().map(|f| f.format).collect();
    assert_eq!(formats, UploadFormat::ALL);
    let upload = |bytes: Vec<u8>, key: &str| {
        post("/api/student/attempts")
            .header("Idempotency-Key", key)
            .multipart(Form::new().part("photo", Part::bytes(bytes).file_name("p.jpg")))
    };
    let err = World::error(
        upload(b"%PDF-1.7 this is a document".to_vec(), "u0")
            .send()
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(err.code, ErrorCode::NotAnImage);
    // HEIC is a picture, but not one the analysis can read: refused at once, named, and
    // not counted as an attempt.
    let err = World::error(
        upload(heic(), "u-heic").send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(err.code, ErrorCode::UnsupportedFormat);
    assert_eq!(err.field.as_deref(), Some("photo"));
    assert!(err.message_zh.contains("HEIC"), "{}", err.message_zh);
    assert!(err.message_en.contains("JPEG or PNG"), "{}", err.message_en);
    let err = World::error(
        upload(jpeg_of_size(rules.max_upload_bytes + 1), "u-big")
            .send()
            .await
            .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(err.code, ErrorCode::UploadTooLarge);
    assert!(err.message_en.contains("400 KB"), "{}", err.message_en);
    let resp = upload(portrait(), "u1").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let first: AttemptView = resp.json().await.unwrap();
    let resp = upload(portrait(), "u1").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let retried: AttemptView = resp.json().await.unwrap();
    assert_eq!(retried.id, first.id);
    let attempts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM attempts")
        .fetch_one(w.handle.state.store.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 1);

    crate::jobs::drain(&w.handle.state).await.unwrap();
    let view: AttemptView = w
        .get_json(&format!("/api/student/attempts/{}", first.id), &token)
        .await;
    assert_eq!(view.status, AttemptStatus::Checked);
    assert!(view.has_standardized);
    let report = view.report.as_ref().unwrap();
    assert_eq!(report.config_version, Thresholds::default().version());
    assert_eq!(
        report.get(MeasureId::SingleFace).map(|m| m.verdict),
        Some(Verdict::Pass)
    );
    // The card is the student's own: the faces match.
    assert_eq!(view.face_match.as_ref().map(|m| m.same_person), Some(true));
    assert_eq!(view.gate, Some(SubmitDecision::Allowed));
    assert_eq!(
        report.get(MeasureId::FaceSimilarity).map(|m| m.verdict),
        Some(Verdict::Pass)
    );
    // The card was read; its printed name is not the roster's, which only a reviewer
    // weighs.
    assert!(view.ocr.is_some());
    let jpeg = w
        .http
        .get(w.url(&format!(
            "/api/student/attempts/{}/standardized.jpg",
            first.id
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
    let dims = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((dims.width(), dims.height()), (480, 640));

    // Submit, withdraw before any reviewer claims it, submit again.
    let submit =
        || post("/api/student/submit").json(&serde_json::json!({ "attempt_id": first.id }));
    let case: StudentCase = submit().send().await.unwrap().json().await.unwrap();
    assert_eq!(case.state, CaseState::PendingReview);
    assert!(!case.flagged);
    let case: StudentCase = post("/api/student/withdraw")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(case.state, CaseState::Ready);
    let case: StudentCase = submit().send().await.unwrap().json().await.unwrap();
    assert_eq!(case.state, CaseState::PendingReview);
    let err = World::error(
        upload(portrait(), "u2").send().await.unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(err.code, ErrorCode::NotReadyForPhotos);

    assert_eq!(
        crate::store::audit::verify(&w.handle.state.store)
            .await
            .unwrap(),
        Ok(crate::store::audit::count(&w.handle.state.store)
            .await
            .unwrap() as u64)
    );
    w.handle.shutdown().await;
}

/// The identity form carries two images, each held to the advertised limit and formats: two
/// at the limit pass together, one byte over or a HEIC is refused naming the field.
#[tokio::test]
async fn identity_images_are_held_to_the_advertised_upload_rules() {
    const LIMIT: u64 = 3 * 1024 * 1024;
    let w = world_with_upload_limit(LIMIT).await;
    let code = w.code_for(1).await;
    let claim: ClaimResponse = w
        .http
        .post(w.url("/api/student/claim"))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(claim.case.uploads, UploadRules::new(LIMIT));
    let token = claim.token;
    let post = |path: &str| w.http.post(w.url(path)).bearer_auth(&token);
    post("/api/student/consent")
        .json(&serde_json::json!({ "version": demo_policy().privacy_version, "accepted": true }))
        .send()
        .await
        .unwrap();
    let id = demo_id_number(1).unwrap();
    let form = |front: Vec<u8>, back: Vec<u8>| {
        Form::new()
            .text("name", "学生1")
            .text("id_number", id.as_str().to_string())
            .part("id_front", Part::bytes(front).file_name("front.jpg"))
            .part("id_back", Part::bytes(back).file_name("back.jpg"))
    };
    let err = World::error(
        post("/api/student/identity")
            .multipart(form(jpeg_of_size(LIMIT), jpeg_of_size(LIMIT + 1)))
            .send()
            .await
            .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(err.code, ErrorCode::UploadTooLarge);
    assert_eq!(err.field.as_deref(), Some("id_back"));
    assert!(err.message_zh.contains("3 MB"), "{}", err.message_zh);
    let err = World::error(
        post("/api/student/identity")
            .multipart(form(heic(), jpeg_of_size(1024)))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(err.code, ErrorCode::UnsupportedFormat);
    assert_eq!(err.field.as_deref(), Some("id_front"));
    // At exactly the limit both pictures are taken in and checked as a card: these are
    // size-padded test pictures, not cards, so the front is refused as a picture (never as
    // too large).
    let err = World::error(
        post("/api/student/identity")
            .multipart(form(jpeg_of_size(LIMIT), jpeg_of_size(LIMIT)))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        matches!(
            err.code,
            ErrorCode::NotAnIdCard | ErrorCode::UnreadableImage
        ),
        "{err:?}"
    );
    assert_eq!(err.field.as_deref(), Some("id_front"));
}

#[tokio::test]
async fn identity_failures_are_rate_limited_and_face_mismatches_flag_the_submission() {
    let w = world().await;
    let code = w.code_for(2).await;
    let claim: ClaimResponse = w
        .http
        .post(w.url("/api/student/claim"))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = claim.token;
    let post = |path: &str| w.http.post(w.url(path)).bearer_auth(&token);
    post("/api/student/consent")
        .json(&serde_json::json!({ "version": demo_policy().privacy_version, "accepted": true }))
        .send()
        .await
        .unwrap();
    let other = demo_id_number(1).unwrap();
    for _ in 0..2 {
        let err = World::error(
            post("/api/student/identity")
                .multipart(World::identity_form(
                    "学生2",
                    other.as_str(),
                    OTHER_PERSON_CARD,
                    true,
                ))
                .send()
                .await
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(err.code, ErrorCode::IdentityMismatch);
    }
    let right = demo_id_number(2).unwrap();
    let resp = post("/api/student/identity")
        .multipart(World::identity_form(
            "学生2",
            right.as_str(),
            OTHER_PERSON_CARD,
            true,
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key(reqwest::header::RETRY_AFTER));
    let err = World::error(resp, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(err.code, ErrorCode::TooManyAttempts);
    assert!(err.retry_after_s.unwrap() > 0);

    // Lift the limit (as if the window had passed) and continue to photos.
    sqlx::query("DELETE FROM rate_limits")
        .execute(w.handle.state.store.pool())
        .await
        .unwrap();
    let case: StudentCase = post("/api/student/identity")
        .multipart(World::identity_form(
            "学生2",
            right.as_str(),
            OTHER_PERSON_CARD,
            true,
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(case.state, CaseState::IdentityVerified);
    post("/api/student/confirm").send().await.unwrap();
    let pay: PaymentResponse = post("/api/student/payment")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    w.http.post(pay.pay_url.unwrap()).send().await.unwrap();

    // The card shows someone else, so every comparison fails: the first two photos must
    // be retaken, the third may go to review with a flag.
    let mut last = String::new();
    for n in 1..=3 {
        let a: AttemptView = post("/api/student/attempts")
            .multipart(Form::new().part("photo", Part::bytes(portrait()).file_name("p.jpg")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        crate::jobs::drain(&w.handle.state).await.unwrap();
        let view: AttemptView = w
            .get_json(&format!("/api/student/attempts/{}", a.id), &token)
            .await;
        assert_eq!(view.status, AttemptStatus::Checked);
        assert!(view.has_standardized);
        assert_eq!(view.face_match.as_ref().map(|m| m.same_person), Some(false));
        let similarity = view
            .report
            .as_ref()
            .and_then(|r| r.get(MeasureId::FaceSimilarity))
            .map(|m| m.verdict);
        assert_eq!(similarity, Some(Verdict::Fail));
        // The attempt carries what submit will say.
        let expected = if n < 3 {
            SubmitDecision::MustRetake {
                hard: vec![],
                soft: vec![],
                face_mismatch: true,
                attempts_left: Some(3 - n),
            }
        } else {
            SubmitDecision::AllowedWithFlag {
                measures: vec![],
                face_mismatch: true,
                face_unchecked: false,
            }
        };
        assert_eq!(view.gate, Some(expected));
        let resp = post("/api/student/submit")
            .json(&serde_json::json!({ "attempt_id": a.id }))
            .send()
            .await
            .unwrap();
        if n < 3 {
            let err = World::error(resp, StatusCode::CONFLICT).await;
            assert_eq!(err.code, ErrorCode::FaceMismatchRetake);
        } else {
            let case: StudentCase = resp.json().await.unwrap();
            assert_eq!(case.state, CaseState::PendingReview);
            assert!(case.flagged);
            assert_eq!(case.face_match_failures, 3);
        }
        last = a.id;
    }
    // The flagged submission is the third photo, not an earlier refused one.
    let case: StudentCase = w.get_json("/api/student/case", &token).await;
    assert_eq!(case.submitted_attempt_id.as_deref(), Some(last.as_str()));
    assert_eq!(case.attempts.len(), 3);
    w.handle.shutdown().await;
}
