//! What an outside probe of the running server tried, kept as stories: each one guards a hole
//! that was found and closed. Every story runs on SQLite and on a throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::error::ErrorCode;
use gradphoto_api::review::{ImageKind, QueueQuery};
use gradphoto_client::{ClientError, PhotoUpload};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use gradphoto_server::analyzer::{
    AnalyzeError, AnalyzeInput, AnalyzeOutput, CardSide, PhotoAnalyzer,
};
use gradphoto_server::config::PaymentConfig;
use gradphoto_server::store::audit;
use gradphoto_server::{serve_state, AppState};
use support::{fixture, flows, photos, Db, TestServer};

/// A raw JSON POST, for bodies the typed client would never send.
async fn post_raw(base: &str, path: &str, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn error_body(res: reqwest::Response) -> gradphoto_api::error::ErrorBody {
    res.json().await.unwrap()
}

stories!(
    nobody_pays_by_posting,
    what_a_stranger_sends_is_bounded_before_it_is_kept,
    staff_sign_in_is_throttled_per_account_and_address,
    reviewers_read_sensitive_data_only_under_their_lease,
    one_reviewer_cannot_take_the_whole_queue,
    the_face_comparison_cannot_be_skipped,
    small_findings_answer_with_the_right_code,
    a_fee_nobody_collects_stops_the_server_at_start,
    a_free_school_needs_no_payment_provider,
);

fn code(err: ClientError) -> ErrorCode {
    err.code()
        .unwrap_or_else(|| panic!("expected a server error code, got {err:?}"))
}

/// The sandbox's pay link carries a ticket only its student receives; the bare order URL, another
/// order's ticket or no ticket at all pay nothing, and the payment is recorded as the provider's.
async fn nobody_pays_by_posting(db: Db) {
    let server = TestServer::start(db).await;
    let fx = fixture::seed(server.state(), 2, &fixture::policy(2000)).await;
    let anon = server.client();
    let (sa, sb) = (&fx.students[0], &fx.students[1]);
    let a = flows::to_record_confirmed(&anon, sa, photos::id_card_sides()).await;
    let b = flows::to_record_confirmed(&anon, sb, photos::id_card_sides()).await;
    let pa = a.start_payment().await.unwrap();
    let pb = b.start_payment().await.unwrap();
    let url_a = pa.pay_url.unwrap();
    let url_b = pb.pay_url.unwrap();

    // The probe's request: the order's URL without a ticket, anonymous or as another student.
    let bare = format!(
        "{}/api/payments/sandbox/pay/{}",
        server.base_url, pa.order.id
    );
    for client in [&anon, &b] {
        let err = client.sandbox_pay(&bare).await.unwrap_err();
        assert_eq!(code(err), ErrorCode::PaymentTicketInvalid);
    }
    // Another order's ticket does not open this order, and the page itself is closed too.
    let swapped = url_b.replace(&pb.order.id, &pa.order.id);
    assert_ne!(swapped, url_a);
    let err = b.sandbox_pay(&swapped).await.unwrap_err();
    assert_eq!(code(err), ErrorCode::PaymentTicketInvalid);
    let page = reqwest::get(&bare).await.unwrap();
    assert_eq!(page.status().as_u16(), 403);
    assert_eq!(
        a.student_case().await.unwrap().state,
        CaseState::RecordConfirmed,
        "nothing was paid"
    );

    // The owner's link pays, and the page it opens is the order's.
    let page = reqwest::get(&url_a).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains(&pa.order.id));
    a.sandbox_pay(&url_a).await.unwrap();
    assert_eq!(a.student_case().await.unwrap().state, CaseState::Ready);
    assert_eq!(
        b.student_case().await.unwrap().state,
        CaseState::RecordConfirmed
    );

    // The audit names the provider's notice as the payer's word, not the student.
    let events = audit::for_subject(&server.state().store, &sa.case_id)
        .await
        .unwrap();
    let paid = events
        .iter()
        .rev()
        .find(|e| e.details.get("order_id").is_some() && e.action != AuditAction::PaymentStarted)
        .unwrap_or_else(|| panic!("no payment event: {events:?}"));
    assert_eq!(paid.actor.role, None, "{paid:?}");
    assert_eq!(paid.actor.id, "payment:sandbox");
    server.stop().await;
}

/// With no payment configuration nobody collects fees: a school with a fee stops the server at
/// start-up, with a message naming the school and the setting, instead of students meeting it.
async fn a_fee_nobody_collects_stops_the_server_at_start(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TestServer::config(db, dir.path()).await;
    let state = AppState::open(config.clone(), support::analyzer())
        .await
        .unwrap();
    fixture::seed(&state, 1, &fixture::policy(2000)).await;
    drop(state);

    config.payment = PaymentConfig::default();
    let state = AppState::open(config.clone(), support::analyzer())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = serve_state(listener, state).await.err().unwrap();
    assert_eq!(err.code, ErrorCode::PaymentNotConfigured);
    assert!(err.message_en.contains(fixture::SCHOOL), "{err:?}");
    assert!(err.message_en.contains("provider"), "{err:?}");

    // Configured explicitly, the same data serves.
    config.payment = PaymentConfig::sandbox();
    let state = AppState::open(config, support::analyzer()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (_, handle) = serve_state(listener, state).await.unwrap();
    handle.shutdown().await;
}

/// A school without a fee works with no payment configuration at all, and the sandbox's routes
/// do not exist there.
async fn a_free_school_needs_no_payment_provider(db: Db) {
    let server = TestServer::start_with(db, support::analyzer(), |c| {
        c.payment = PaymentConfig::default();
    })
    .await;
    let fx = fixture::seed(server.state(), 1, &fixture::policy(0)).await;
    let anon = server.client();
    let s = &fx.students[0];
    let student = flows::to_record_confirmed(&anon, s, photos::id_card_sides()).await;
    if student.student_case().await.unwrap().state == CaseState::RecordConfirmed {
        let paid = student.start_payment().await.unwrap();
        assert_eq!(paid.pay_url, None);
    }
    assert_eq!(
        student.student_case().await.unwrap().state,
        CaseState::Ready
    );
    let page = reqwest::get(format!(
        "{}/api/payments/sandbox/pay/anything?ticket=00",
        server.base_url
    ))
    .await
    .unwrap();
    assert_eq!(page.status().as_u16(), 404);
    server.stop().await;
}

/// A 15 MiB username made a 15 MiB audit row: now a body over the JSON limit is refused before
/// it is read, a field over its limit is refused by name, and a failed sign-in keeps a bounded,
/// visible rendering of what was typed.
async fn what_a_stranger_sends_is_bounded_before_it_is_kept(db: Db) {
    let server = TestServer::start(db).await;
    let store = &server.state().store;
    let before = audit::count(store).await.unwrap();
    let base = &server.base_url;

    // Answered before the body is read, and still answered (not a broken pipe) every time.
    let huge = "x".repeat(15 * 1024 * 1024);
    let body = serde_json::to_vec(&serde_json::json!({"username": huge, "password": "p"})).unwrap();
    for _ in 0..12 {
        let res = post_raw(base, "/api/auth/login", body.clone()).await;
        assert_eq!(res.status().as_u16(), 413);
        assert_eq!(error_body(res).await.code, ErrorCode::BodyTooLarge);
    }

    let long = "名".repeat(65);
    let body = serde_json::to_vec(&serde_json::json!({"username": long, "password": "p"})).unwrap();
    let res = post_raw(base, "/api/auth/login", body).await;
    assert_eq!(res.status().as_u16(), 400);
    let err = error_body(res).await;
    assert_eq!(err.code, ErrorCode::FieldTooLong);
    assert_eq!(err.field.as_deref(), Some("username"));
    assert!(err.message_en.contains("64"), "{err:?}");
    assert_eq!(audit::count(store).await.unwrap(), before, "nothing kept");

    // Invisible and control characters are refused by name (PostgreSQL could not even store a
    // NUL); an unknown account within the limits is one failed sign-in on record, as typed.
    let mut anon = server.client();
    let err = anon
        .login("admin\u{202E}\u{0}nimda", "wrong")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::FieldBadChar));
    assert_eq!(audit::count(store).await.unwrap(), before, "nothing kept");
    let err = anon.login("no-such-user", "wrong").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::BadCredentials));
    let kept = text_subjects(store, AuditAction::LoginFailed).await;
    assert_eq!(kept, vec!["no-such-user".to_string()]);

    // Student text fields too: a name over its limit is a field error, not a file size.
    let fx = fixture::seed(server.state(), 1, &fixture::policy(0)).await;
    let student = flows::claim(&anon, &fx.students[0]).await;
    let case = student.student_case().await.unwrap();
    student
        .consent(&case.policy.privacy_version, true)
        .await
        .unwrap();
    let (front, back) = photos::id_card_sides();
    let err = student
        .verify_identity(&"名".repeat(2000), &fx.students[0].id_number, front, back)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::FieldTooLong), "{err:?}");
    let ClientError::Api { body, .. } = err else {
        unreachable!()
    };
    assert_eq!(body.field.as_deref(), Some("name"));
    assert!(!body.message_en.contains("MB"), "{body:?}");

    // Query strings too: a queue cursor with a NUL reached PostgreSQL (an error 500 there).
    let reviewer = fixture::staff(server.state(), base, "reviewer1", Role::Reviewer).await;
    for cursor in ["1.a\u{0}b".to_string(), format!("1.{}", "c".repeat(300))] {
        let query = QueueQuery {
            cursor: Some(cursor),
            ..QueueQuery::default()
        };
        let err = reviewer.review_queue(&query).await.unwrap_err();
        let ClientError::Api { status, body } = err else {
            panic!("{err:?}")
        };
        assert_eq!((status, body.field.as_deref()), (400, Some("cursor")));
    }
    server.stop().await;
}

async fn text_subjects(store: &gradphoto_server::store::Store, action: AuditAction) -> Vec<String> {
    audit::list(store, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.subject)
        .collect()
}

/// Sixty wrong passwords were all answered 401. Now an account locks after its limit (429 with
/// `Retry-After`, even for the right password), and one address cannot go on guessing across
/// accounts; a successful sign-in does not count against its address.
async fn staff_sign_in_is_throttled_per_account_and_address(db: Db) {
    let server = TestServer::start_with(db, support::analyzer(), |c| {
        c.login_max_failures = 3;
        c.login_address_max_failures = 5;
    })
    .await;
    let state = server.state();
    fixture::staff(state, &server.base_url, "reviewer1", Role::Reviewer).await;
    fixture::staff(state, &server.base_url, "reviewer2", Role::Reviewer).await;
    let right = "reviewer1-Passw0rd!";
    let base = &server.base_url;
    let login = |user: &str, password: &str| {
        let body = serde_json::to_vec(&serde_json::json!({"username": user, "password": password}))
            .unwrap();
        post_raw(base, "/api/auth/login", body)
    };

    // A success is not a failure: it does not use up the address's allowance.
    for _ in 0..6 {
        assert_eq!(
            login("reviewer2", "reviewer2-Passw0rd!")
                .await
                .status()
                .as_u16(),
            200
        );
    }
    for _ in 0..3 {
        assert_eq!(login("reviewer1", "guess").await.status().as_u16(), 401);
    }
    let locked = login("reviewer1", right).await;
    assert_eq!(locked.status().as_u16(), 429);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert_eq!(error_body(locked).await.code, ErrorCode::TooManyAttempts);

    // Four of the address's five are used (the refused try was an attempt from it too): one
    // more guess at an unknown account, and the address is refused for every account.
    let mut answers = Vec::new();
    for i in 0..4 {
        answers.push(
            login(&format!("nobody{i}"), "guess")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(answers, vec![401, 429, 429, 429]);
    assert_eq!(
        login("reviewer2", "reviewer2-Passw0rd!")
            .await
            .status()
            .as_u16(),
        429
    );
    server.stop().await;
}

/// Any reviewer could read the full ID number, the ID-card images and the original of any case
/// in any state, and the sync feed listed every case. Now those reads need the reader's lease
/// (a supervisor may read with a reason, kept in the audit log), cases not submitted look
/// missing, and the feed names only students whose cases are in review.
async fn reviewers_read_sensitive_data_only_under_their_lease(db: Db) {
    let server = TestServer::start(db).await;
    let fx = fixture::seed(server.state(), 3, &fixture::policy(0)).await;
    let anon = server.client();
    let (a, b, c) = (&fx.students[0], &fx.students[1], &fx.students[2]);
    flows::to_pending(&anon, a).await;
    flows::to_pending(&anon, b).await;
    flows::to_ready(&anon, c).await;
    let state = server.state();
    let r1 = fixture::staff(state, &server.base_url, "reviewer1", Role::Reviewer).await;
    let r2 = fixture::staff(state, &server.base_url, "reviewer2", Role::Reviewer).await;
    let sup = fixture::staff(state, &server.base_url, "supervisor1", Role::Supervisor).await;
    r1.claim_case(&a.case_id).await.unwrap();

    // The holder reads; the other reviewer does not, for the held case or a waiting one.
    assert_eq!(
        r1.review_id_number(&a.case_id).await.unwrap().id_number,
        a.id_number
    );
    for kind in [ImageKind::IdFront, ImageKind::IdBack, ImageKind::Original] {
        r1.review_image(&a.case_id, kind).await.unwrap();
        let err = r2.review_image(&a.case_id, kind).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::LeaseRequired), "{kind:?}");
    }
    for case in [&a.case_id, &b.case_id] {
        let err = r2.review_id_number(case).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::LeaseRequired));
        // A reviewer's reason is no substitute for the lease.
        let err = r2
            .review_id_number_because(case, "curious")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::LeaseRequired));
    }
    // What is under review stays visible to every reviewer.
    r2.review_item(&a.case_id).await.unwrap();
    r2.review_image(&a.case_id, ImageKind::Standardized)
        .await
        .unwrap();

    // A case not yet submitted is the student's alone.
    for err in [
        r1.review_item(&c.case_id).await.unwrap_err(),
        sup.review_id_number_because(&c.case_id, "check")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), Some(ErrorCode::NotFound));
    }

    // A supervisor outside a lease states a reason, which the audit log keeps.
    let err = sup.review_id_number(&b.case_id).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ReasonRequired));
    let seen = sup
        .review_id_number_because(&b.case_id, "学生申诉复核")
        .await
        .unwrap();
    assert_eq!(seen.id_number, b.id_number);
    sup.review_image_because(&b.case_id, ImageKind::IdFront, "学生申诉复核")
        .await
        .unwrap();
    let events = audit::for_subject(&state.store, &b.case_id).await.unwrap();
    let viewed: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e.action,
                AuditAction::IdNumberViewed | AuditAction::IdCardViewed
            )
        })
        .collect();
    assert_eq!(viewed.len(), 2, "{viewed:?}");
    for e in viewed {
        assert_eq!(e.details["basis"], "supervisor_reason");
        assert_eq!(e.details["reason"], "学生申诉复核");
    }
    let held = audit::for_subject(&state.store, &a.case_id).await.unwrap();
    assert!(held
        .iter()
        .any(|e| e.action == AuditAction::IdNumberViewed && e.details["basis"] == "lease"));

    // The feed: every change is there, but only cases in review carry the student's name.
    let page = r2.sync_page(0, Some(1000)).await.unwrap();
    let by_case = |id: &str| {
        page.changes
            .iter()
            .find(|ch| ch.case_id == id)
            .unwrap_or_else(|| panic!("no change for {id}"))
            .clone()
    };
    assert_eq!(by_case(&a.case_id).student_name, a.name);
    let hidden = by_case(&c.case_id);
    assert_eq!(hidden.state, CaseState::Ready);
    assert_eq!(hidden.student_name, "");
    assert_eq!(hidden.student_no, "");
    server.stop().await;
}

/// Two `claim {"count": 50}` calls leased all 36 pending items. Now a claim takes at most
/// `MAX_CLAIM`, and no reviewer holds more than `review_max_held`, even claiming in parallel.
async fn one_reviewer_cannot_take_the_whole_queue(db: Db) {
    let server = TestServer::start_with(db, support::analyzer(), |c| c.review_max_held = 3).await;
    let state = server.state();
    let fx = fixture::seed(state, 1, &fixture::policy(0)).await;
    support::seed::pending(&state.store, &state.crypto, &fx.school_id, "queue", 12)
        .await
        .unwrap();
    let r1 = fixture::staff(state, &server.base_url, "reviewer1", Role::Reviewer).await;
    let r2 = fixture::staff(state, &server.base_url, "reviewer2", Role::Reviewer).await;

    let err = r1
        .claim_next(gradphoto_api::review::MAX_CLAIM + 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::BadClaim));
    let first = r1
        .claim_next(gradphoto_api::review::MAX_CLAIM)
        .await
        .unwrap();
    assert_eq!(first.leases.len(), 3);
    let err = r1.claim_next(1).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::HoldLimitReached));
    // Renewing what one holds is not a new claim.
    r1.claim_case(&first.leases[0].case_id).await.unwrap();

    // Parallel claims of one reviewer share the same cap.
    let (x, y) = tokio::join!(r2.claim_next(3), r2.claim_next(3));
    let held: usize = [x, y]
        .into_iter()
        .map(|r| r.map(|c| c.leases.len()).unwrap_or(0))
        .sum();
    assert_eq!(held, 3);
    // Deciding one makes room for one.
    let case = &first.leases[1].case_id;
    r1.decide(
        case,
        &uuid::Uuid::new_v4().to_string(),
        gradphoto_api::review::Verdict::Approve,
    )
    .await
    .unwrap();
    assert_eq!(r1.claim_next(5).await.unwrap().leases.len(), 1);
    server.stop().await;
}

/// A PNG whose header announces `width`×`height` pixels, with no pixel data to speak of: what a
/// decompression bomb looks like to a decoder that reads the header first.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    // An empty zlib stream: decoders read the header as far as the first data chunk.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The production analyzer, except that its face comparison never produces a result: what
/// the server meets when the comparison cannot run on a photo.
struct ComparisonCannotRun(std::sync::Arc<dyn PhotoAnalyzer>);

impl PhotoAnalyzer for ComparisonCannotRun {
    fn analyze(&self, input: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError> {
        let mut out = self.0.analyze(input)?;
        out.face_match = None;
        Ok(out)
    }

    fn check_id_card(&self, side: CardSide, picture: &[u8]) -> Result<(), AnalyzeError> {
        self.0.check_id_card(side, picture)
    }
}

/// A 30000×30000 blank PNG passed the identity step as the ID card front; the comparison then
/// had nothing to compare with and the submission reached review unflagged. Now the card is
/// checked at the identity step like a photo (readable, within the pixel limit, a portrait
/// and a card's text), and a comparison that cannot run flags the submission.
async fn the_face_comparison_cannot_be_skipped(db: Db) {
    let server = TestServer::start_with(
        db,
        std::sync::Arc::new(ComparisonCannotRun(support::analyzer())),
        |_| {},
    )
    .await;
    let fx = fixture::seed(server.state(), 1, &fixture::policy(0)).await;
    let anon = server.client();
    let s = &fx.students[0];
    let student = flows::claim(&anon, s).await;
    let case = student.student_case().await.unwrap();
    student
        .consent(&case.policy.privacy_version, true)
        .await
        .unwrap();
    let (_, back) = photos::id_card_sides();
    let refusals = [
        (png_header_only(30_000, 30_000), ErrorCode::TooManyPixels),
        (blank_png(856, 540), ErrorCode::NotAnIdCard),
        // A portrait is not a card.
        (photos::portrait().bytes, ErrorCode::NotAnIdCard),
    ];
    for (front, expected) in refusals {
        let front = PhotoUpload::new(front, "front.png", "image/png");
        let err = student
            .verify_identity(&s.name, &s.id_number, front, back.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(expected), "{err:?}");
        let ClientError::Api { body, .. } = err else {
            unreachable!()
        };
        assert_eq!(body.field.as_deref(), Some("id_front"));
    }
    // Nothing was kept, and no attempt was counted against the identity limit.
    let kept = audit::for_subject(&server.state().store, &s.case_id)
        .await
        .unwrap();
    assert!(
        !kept.iter().any(|e| matches!(
            e.action,
            AuditAction::IdCardUploaded | AuditAction::IdentityFailed
        )),
        "{kept:?}"
    );
    assert_eq!(
        student.student_case().await.unwrap().state,
        CaseState::Claimed
    );

    // A real card passes; the photo's comparison cannot run, so the reviewer is asked to
    // compare by hand.
    let (front, back) = photos::id_card_sides();
    student
        .verify_identity(&s.name, &s.id_number, front, back)
        .await
        .unwrap();
    student.confirm_record().await.unwrap();
    let attempt = flows::upload_checked(&student, photos::portrait()).await;
    assert_eq!(attempt.face_match, None);
    let submitted = student.submit(&attempt.id).await.unwrap();
    assert_eq!(submitted.state, CaseState::PendingReview);
    assert!(submitted.flagged);
    let reviewer = fixture::staff(
        server.state(),
        &server.base_url,
        "reviewer1",
        Role::Reviewer,
    )
    .await;
    let item = reviewer.review_item(&s.case_id).await.unwrap();
    let flag = item.flag.unwrap();
    assert!(flag.face_unchecked && !flag.face_mismatch, "{flag:?}");
    server.stop().await;
}

/// The small findings: each answers with the code that names it, and an answer given before a
/// large body is read still reaches the client.
async fn small_findings_answer_with_the_right_code(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let base = &server.base_url;
    let fx = fixture::seed(state, 1, &fixture::policy(0)).await;
    let http = reqwest::Client::new();

    // An account for a school that does not exist: a field error, not a 500.
    let admin = fixture::staff(state, base, "admin1", Role::Admin).await;
    let res = http
        .post(format!("{base}/api/admin/users"))
        .bearer_auth(admin.token().unwrap())
        .json(&serde_json::json!({"username": "r9", "role": "reviewer", "school_id": "no-such-school"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let err = error_body(res).await;
    assert_eq!(err.code, ErrorCode::UnknownSchool);
    assert_eq!(err.field.as_deref(), Some("school_id"));

    // A missing asset is not found, not a bad request.
    let res = http
        .get(format!("{base}/assets/x.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(error_body(res).await.code, ErrorCode::NotFound);

    // A token this server never issued is unauthorized; a signed-out one has expired.
    let res = http
        .get(format!("{base}/api/auth/me"))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(res).await.code, ErrorCode::Unauthorized);
    let mut gone = fixture::staff(state, base, "reviewer9", Role::Reviewer).await;
    let token = gone.token().unwrap().to_string();
    gone.logout().await.unwrap();
    let res = http
        .get(format!("{base}/api/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(res).await.code, ErrorCode::SessionExpired);

    // A text part over its limit names the field and its limit in characters, not a file size.
    let anon = server.client();
    let student = flows::to_ready(&anon, &fx.students[0]).await;
    let long_id = "u".repeat(5000);
    let err = student
        .upload_attempt(photos::portrait(), "camera", Some(&long_id))
        .await
        .unwrap_err();
    let ClientError::Api { body, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(body.code, ErrorCode::FieldTooLong);
    assert_eq!(body.field.as_deref(), Some("upload_id"));
    assert!(!body.message_en.contains("MB"), "{body:?}");

    // A replayed upload is answered from its id, before the photo is read: the client, still
    // sending the photo, gets the answer rather than a broken pipe.
    let first = student
        .upload_attempt(photos::portrait(), "camera", Some("replay-1"))
        .await
        .unwrap();
    let big = photos::generated_jpeg(4000, 3000);
    assert!(big.len() > 512 * 1024, "{}", big.len());
    let form = reqwest::multipart::Form::new()
        .text("upload_id", "replay-1")
        .text("source", "camera")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(big)
                .file_name("p.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let res = http
        .post(format!("{base}/api/student/attempts"))
        .bearer_auth(student.token().unwrap())
        .multipart(form)
        .send()
        .await
        .expect("the answer arrives, not a broken pipe");
    assert!(res.status().is_success(), "{}", res.status());
    let again: gradphoto_api::common::AttemptView = res.json().await.unwrap();
    assert_eq!(again.id, first.id);

    // Cells a spreadsheet would run as formulas are written as text.
    let dir = tempfile::tempdir().unwrap();
    let link = gradphoto_api::admin::InviteLink {
        name: "=HYPERLINK(\"http://x\")".into(),
        student_no: "+1".into(),
        school: fixture::SCHOOL.into(),
        link: format!("{base}/c/CODE"),
        new: true,
    };
    gradphoto_server::invite::write_outputs(dir.path(), &[link]).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("links.csv")).unwrap();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(csv.contains("'+1"), "{csv}");
    server.stop().await;
}
