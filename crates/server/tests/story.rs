//! End-to-end stories through the real server on a free loopback port and the typed client.
//! Every story runs twice: on SQLite and on a throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::error::ErrorCode;
use gradphoto_api::quality::OverrideOutcome;
use std::collections::HashSet;
use std::time::Duration;

use gradphoto_api::common::{AttemptStatus, DecisionKind, UploadRules};
use gradphoto_api::review::{FlagReasons, ImageKind, QueueQuery, Verdict};
use gradphoto_client::{Client, ClientError, PhotoUpload};
use gradphoto_domain::gate::{SubmitDecision, HARD_MEASURES};
use gradphoto_domain::measures::{MeasureId, Thresholds, Verdict as MeasureVerdict};
use gradphoto_domain::role::Role;
use gradphoto_domain::state::CaseState;
use support::fixture::{self, Fixture};
use support::{flows, photos, Db, TestServer};

stories!(
    code_to_approval,
    rejection_and_free_retake,
    withdraw_only_before_claim,
    two_reviewers_race_for_one_item,
    lease_expiry_returns_item_to_queue,
    decision_retry_is_idempotent,
    forwarded_code_is_refused,
    identity_mismatch_and_invalid_id_number,
    oversized_and_non_image_uploads,
    tampered_audit_chain_is_detected,
    supervisor_override_and_stats,
    sync_and_queue_paging,
    demo_data_has_the_audit_trail_of_real_use,
    repeated_soft_check_failures_may_be_submitted_flagged,
    hard_check_failures_always_block,
    repeated_face_mismatches_reach_the_reviewer_flagged,
    a_schools_photo_spec_reaches_checks_standardization_portal_and_reviewer,
);

fn code(err: ClientError) -> ErrorCode {
    err.code()
        .unwrap_or_else(|| panic!("expected a server error code, got {err:?}"))
}

fn reject(reasons: &[&str], comment: Option<&str>) -> Verdict {
    Verdict::Reject {
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        comment: comment.map(str::to_string),
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

struct World {
    server: TestServer,
    fixture: Fixture,
    anon: Client,
}

async fn world(db: Db, students: usize, fee_cents: i64) -> World {
    world_with(db, students, fee_cents, |_| {}).await
}

async fn world_with(
    db: Db,
    students: usize,
    fee_cents: i64,
    tweak: impl FnOnce(&mut gradphoto_server::config::Config),
) -> World {
    let server = TestServer::start_with(db, support::analyzer(), tweak).await;
    let fixture = fixture::seed(server.state(), students, &fixture::policy(fee_cents)).await;
    let anon = server.client();
    World {
        server,
        fixture,
        anon,
    }
}

impl World {
    async fn staff(&self, username: &str, role: Role) -> Client {
        fixture::staff(self.server.state(), &self.server.base_url, username, role).await
    }
}

async fn code_to_approval(db: Db) {
    let w = world(db, 1, 2000).await;
    let s = &w.fixture.students[0];
    let student = flows::to_pending(&w.anon, s).await;
    let reviewer = w.staff("reviewer1", Role::Reviewer).await;

    let queue = reviewer.review_queue(&QueueQuery::default()).await.unwrap();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].case_id, s.case_id);
    assert_eq!(queue.items[0].student_name, s.name);
    assert!(!queue.items[0].flagged);
    let pending = queue
        .counts
        .iter()
        .find(|c| c.state == CaseState::PendingReview)
        .unwrap();
    assert_eq!(pending.count, 1);

    let claimed = reviewer.claim_next(5).await.unwrap();
    assert_eq!(claimed.leases.len(), 1);
    assert_eq!(claimed.leases[0].case_id, s.case_id);
    assert_eq!(claimed.lease_seconds, 15 * 60);

    let item = reviewer.review_item(&s.case_id).await.unwrap();
    assert_eq!(item.state, CaseState::InReview);
    assert_eq!(item.student.name, s.name);
    assert_ne!(item.student.id_number_masked, s.id_number);
    assert!(item.student.id_number_masked.contains('*'));
    assert_eq!(item.attempts.len(), 1);
    assert!(item.attempts[0].submitted);
    // The report of the submitted photo carries the measures, model versions and threshold
    // version of the analysis, and the face on the card matches the photo.
    let report = item.report.as_ref().unwrap();
    assert_eq!(report.config_version, Thresholds::default().version());
    assert!(!report.models.is_empty());
    // The card's printed name and number are not the roster's, so only the reading of the
    // card may disagree; it does not block submission.
    for m in report
        .measures
        .iter()
        .filter(|m| m.id != MeasureId::IdCardOcr)
    {
        assert_ne!(m.verdict, MeasureVerdict::Fail, "{m:?}");
    }
    for id in [MeasureId::SingleFace, MeasureId::FaceSimilarity] {
        let m = report
            .get(id)
            .unwrap_or_else(|| panic!("no {id:?} in {report:?}"));
        assert_eq!(m.verdict, MeasureVerdict::Pass, "{m:?}");
    }
    assert!(report.get(MeasureId::IdCardOcr).is_some());
    assert_eq!(item.face_match.same_person, Some(true));
    assert_eq!(item.face_match.failures, 0);
    assert!(!item.flagged);
    assert_eq!(item.flag, None);
    let kinds: HashSet<ImageKind> = item.images.iter().map(|i| i.kind).collect();
    for k in [
        ImageKind::IdFront,
        ImageKind::IdBack,
        ImageKind::Original,
        ImageKind::Standardized,
    ] {
        assert!(kinds.contains(&k), "missing image {k:?}");
    }

    let standardized = reviewer
        .review_image(&s.case_id, ImageKind::Standardized)
        .await
        .unwrap();
    assert_eq!(standardized.content_type.as_deref(), Some("image/jpeg"));
    let img = image::load_from_memory(&standardized.bytes).unwrap();
    assert_eq!((img.width(), img.height()), (480, 640));
    let original = reviewer
        .review_image(&s.case_id, ImageKind::Original)
        .await
        .unwrap();
    assert_eq!(original.bytes.as_ref(), photos::portrait().bytes.as_slice());
    let front = reviewer
        .review_image(&s.case_id, ImageKind::IdFront)
        .await
        .unwrap();
    assert_eq!(
        front.bytes.as_ref(),
        photos::id_card_sides().0.bytes.as_slice()
    );
    let full = reviewer.review_id_number(&s.case_id).await.unwrap();
    assert_eq!(full.id_number, s.id_number);

    // Students cannot use review endpoints; reviewers cannot use supervisor endpoints.
    assert_eq!(
        code(
            student
                .review_queue(&QueueQuery::default())
                .await
                .unwrap_err()
        ),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(reviewer.audit_verify().await.unwrap_err()),
        ErrorCode::Forbidden
    );

    let decision = reviewer
        .decide(&s.case_id, &new_id(), Verdict::Approve)
        .await
        .unwrap();
    assert_eq!(decision.kind, DecisionKind::Approve);
    assert_eq!(decision.resulting_state, CaseState::Approved);

    let case = student.student_case().await.unwrap();
    assert_eq!(case.state, CaseState::Approved);
    assert_eq!(
        case.latest_decision.map(|d| d.kind),
        Some(DecisionKind::Approve)
    );
    // After approval nothing can be changed.
    assert!(student.withdraw().await.is_err());
    assert!(student.retake().await.is_err());

    // The sensitive views and every state change are in the audit log, and it verifies.
    let supervisor = w.staff("super1", Role::Supervisor).await;
    let mut actions = Vec::new();
    let mut cursor = 0;
    loop {
        let page = supervisor.audit_page(Some(cursor), Some(50)).await.unwrap();
        actions.extend(
            page.events
                .iter()
                .filter(|e| e.subject == s.case_id)
                .map(|e| e.action.clone()),
        );
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    for expected in [
        "submitted",
        "claimed",
        "id_number_viewed",
        "id_card_viewed",
        "approved",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "no {expected} in {actions:?}"
        );
    }
    let verified = supervisor.audit_verify().await.unwrap();
    assert!(verified.ok, "{verified:?}");
    assert!(verified.checked > 5);
    support::progress::assert_counts_follow_the_cases(w.server.state()).await;
    w.server.stop().await;
}

async fn rejection_and_free_retake(db: Db) {
    let w = world(db, 1, 2000).await;
    let s = &w.fixture.students[0];
    let student = flows::to_pending(&w.anon, s).await;
    let reviewer = w.staff("reviewer1", Role::Reviewer).await;
    reviewer.claim_case(&s.case_id).await.unwrap();

    let err = reviewer
        .decide(
            &s.case_id,
            &new_id(),
            reject(&["background", "blurry"], None),
        )
        .await
        .unwrap_err();
    assert_eq!(err.body().and_then(|b| b.field.as_deref()), Some("reasons"));
    assert_eq!(code(err), ErrorCode::UnknownRejectReason);
    let err = reviewer
        .decide(&s.case_id, &new_id(), reject(&["other"], Some("  ")))
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::CommentRequired);
    let err = reviewer
        .decide(&s.case_id, &new_id(), reject(&[], None))
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::ReasonsRequired);

    let decision = reviewer
        .decide(
            &s.case_id,
            &new_id(),
            reject(
                &["background", "other"],
                Some("背景有阴影 / shadow on the wall"),
            ),
        )
        .await
        .unwrap();
    assert_eq!(decision.resulting_state, CaseState::Rejected);
    assert_eq!(decision.reasons, vec!["background", "other"]);

    let case = student.student_case().await.unwrap();
    assert_eq!(case.state, CaseState::Rejected);
    let latest = case.latest_decision.unwrap();
    assert_eq!(latest.kind, DecisionKind::Reject);
    assert_eq!(latest.reasons.len(), 2);

    // The school's paid order covers the retake: straight back to capturing.
    let case = student.retake().await.unwrap();
    assert_eq!(case.state, CaseState::Ready);
    assert_eq!(case.round, 1);
    let attempt = flows::upload_checked(&student, photos::portrait()).await;
    assert_eq!(attempt.round, 1);
    let case = student.submit(&attempt.id).await.unwrap();
    assert_eq!(case.state, CaseState::PendingReview);

    let queue = reviewer.review_queue(&QueueQuery::default()).await.unwrap();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].round, 1);
    let item = reviewer.review_item(&s.case_id).await.unwrap();
    assert_eq!(item.decisions.len(), 1, "earlier decision is shown");
    assert_eq!(item.attempts.len(), 2);
    support::progress::assert_counts_follow_the_cases(w.server.state()).await;
    w.server.stop().await;
}

async fn withdraw_only_before_claim(db: Db) {
    let w = world(db, 1, 0).await;
    let s = &w.fixture.students[0];
    let student = flows::to_pending(&w.anon, s).await;
    let case = student.withdraw().await.unwrap();
    assert_eq!(case.state, CaseState::Ready);

    let reviewer = w.staff("reviewer1", Role::Reviewer).await;
    let queue = reviewer.review_queue(&QueueQuery::default()).await.unwrap();
    assert!(queue.items.is_empty());

    let attempt = flows::upload_checked(&student, photos::portrait()).await;
    student.submit(&attempt.id).await.unwrap();
    let claimed = reviewer.claim_next(1).await.unwrap();
    assert_eq!(claimed.leases.len(), 1);
    let err = student.withdraw().await.unwrap_err();
    assert_eq!(code(err), ErrorCode::NotAllowedInState);
    assert_eq!(
        student.student_case().await.unwrap().state,
        CaseState::InReview
    );
    w.server.stop().await;
}

async fn two_reviewers_race_for_one_item(db: Db) {
    let w = world(db, 2, 0).await;
    let _a = flows::to_pending(&w.anon, &w.fixture.students[0]).await;
    let r1 = w.staff("reviewer1", Role::Reviewer).await;
    let r2 = w.staff("reviewer2", Role::Reviewer).await;

    // Eight claim requests for the next item at once, from both reviewers: exactly one wins.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let r = if i % 2 == 0 { r1.clone() } else { r2.clone() };
            tokio::spawn(async move { r.claim_next(1).await })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += t.await.unwrap().unwrap().leases.len();
    }
    assert_eq!(won, 1);

    // Both ask for the same named item at once: one wins, the other is told who holds it.
    let b = &w.fixture.students[1];
    let _b = flows::to_pending(&w.anon, b).await;
    let (x, y) = tokio::join!(r1.claim_case(&b.case_id), r2.claim_case(&b.case_id));
    let (won, lost) = match (x, y) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("exactly one claim must win: {other:?}"),
    };
    assert_eq!(won.leases.len(), 1);
    assert_eq!(code(lost), ErrorCode::LeaseHeldByOther);
    w.server.stop().await;
}

async fn lease_expiry_returns_item_to_queue(db: Db) {
    let w = world_with(db, 1, 0, |c| c.review_lease_seconds = 1).await;
    let s = &w.fixture.students[0];
    let _student = flows::to_pending(&w.anon, s).await;
    let r1 = w.staff("reviewer1", Role::Reviewer).await;
    let r2 = w.staff("reviewer2", Role::Reviewer).await;
    let claimed = r1.claim_next(1).await.unwrap();
    assert_eq!(claimed.lease_seconds, 1);
    assert_eq!(
        code(r2.claim_case(&s.case_id).await.unwrap_err()),
        ErrorCode::LeaseHeldByOther
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;

    let err = r1
        .decide(&s.case_id, &new_id(), Verdict::Approve)
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::LeaseExpired);
    let queue = r2.review_queue(&QueueQuery::default()).await.unwrap();
    assert_eq!(queue.items.len(), 1, "expired lease is back in the queue");
    let claimed = r2.claim_next(1).await.unwrap();
    assert_eq!(claimed.leases.len(), 1);
    assert_eq!(
        code(r1.renew_lease(&s.case_id).await.unwrap_err()),
        ErrorCode::LeaseLost
    );
    let err = r1
        .decide(&s.case_id, &new_id(), Verdict::Approve)
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::NotLeaseHolder);
    support::progress::assert_counts_follow_the_cases(w.server.state()).await;
    w.server.stop().await;
}

async fn decision_retry_is_idempotent(db: Db) {
    let w = world(db, 1, 0).await;
    let s = &w.fixture.students[0];
    let _student = flows::to_pending(&w.anon, s).await;
    let reviewer = w.staff("reviewer1", Role::Reviewer).await;
    reviewer.claim_next(1).await.unwrap();
    let id = new_id();
    let verdict = reject(&["head_pose"], Some("请正对镜头"));
    let first = reviewer
        .decide(&s.case_id, &id, verdict.clone())
        .await
        .unwrap();
    // The lease ended with the decision; the retry still returns the original result.
    let again = reviewer
        .decide(&s.case_id, &id, verdict.clone())
        .await
        .unwrap();
    assert_eq!(first, again);
    let err = reviewer
        .decide(&s.case_id, &id, Verdict::Approve)
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::DecisionIdReused);
    let err = reviewer
        .decide(&s.case_id, &new_id(), Verdict::Approve)
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::AlreadyDecided);
    let item = reviewer.review_item(&s.case_id).await.unwrap();
    assert_eq!(item.decisions.len(), 1);
    assert_eq!(item.state, CaseState::Rejected);
    w.server.stop().await;
}

async fn forwarded_code_is_refused(db: Db) {
    let w = world(db, 1, 0).await;
    let s = &w.fixture.students[0];
    let student = flows::claim(&w.anon, s).await;
    // The same browser session may reopen its link.
    let again = student.claim_code(&s.code).await.unwrap();
    assert_eq!(again.case.case_id, s.case_id);
    // Anyone else who got the link is refused.
    let other = w.server.client();
    let err = other.claim_code(&s.code).await.unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert_eq!(code(err), ErrorCode::CodeAlreadyClaimed);
    let err = other.claim_code("NOT-A-CODE").await.unwrap_err();
    assert_eq!(code(err), ErrorCode::CodeNotFound);
    w.server.stop().await;
}

async fn identity_mismatch_and_invalid_id_number(db: Db) {
    let w = world(db, 2, 0).await;
    let s = &w.fixture.students[0];
    let student = flows::claim(&w.anon, s).await;
    let version = student.student_case().await.unwrap().policy.privacy_version;
    student.consent(&version, true).await.unwrap();
    let try_identity = |name: String, number: String| {
        let student = student.clone();
        async move {
            let (front, back) = photos::id_card_sides();
            student.verify_identity(&name, &number, front, back).await
        }
    };
    let err = try_identity("李四".into(), s.id_number.clone())
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::IdentityMismatch);
    // A valid number that belongs to someone else.
    let other = w.fixture.students[1].id_number.clone();
    let err = try_identity(s.name.clone(), other).await.unwrap_err();
    assert_eq!(code(err), ErrorCode::IdentityMismatch);
    // An invalid number gets the precise reason.
    let mut bad = s.id_number.clone();
    let last = if bad.ends_with('0') { '1' } else { '0' };
    bad.pop();
    bad.push(last);
    let err = try_identity(s.name.clone(), bad).await.unwrap_err();
    assert_eq!(
        err.body().and_then(|b| b.field.as_deref()),
        Some("id_number")
    );
    assert_eq!(code(err), ErrorCode::IdNumberCheckDigit);
    let err = try_identity(s.name.clone(), "11010520019999001X".into())
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::IdNumberBirthDate);
    let err = try_identity(s.name.clone(), "1101052001".into())
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::IdNumberLength);
    assert_eq!(
        student.student_case().await.unwrap().state,
        CaseState::Claimed
    );
    // The right pair passes.
    let (front, back) = photos::id_card_sides();
    let case = student
        .verify_identity(&s.name, &s.id_number, front, back)
        .await
        .unwrap();
    assert_eq!(case.state, CaseState::IdentityVerified);
    w.server.stop().await;
}

async fn oversized_and_non_image_uploads(db: Db) {
    let w = world_with(db, 1, 0, |c| c.max_upload_bytes = 1024 * 1024).await;
    let s = &w.fixture.students[0];
    let student = flows::to_ready(&w.anon, s).await;
    // The case advertises the configured limit and the formats the analysis reads, and those
    // are what the upload enforces.
    let rules = student.student_case().await.unwrap().uploads;
    assert_eq!(rules, UploadRules::new(1024 * 1024));
    let big = photos::large_photo();
    assert!(big.bytes.len() as u64 > rules.max_upload_bytes);
    let err = student
        .upload_attempt(big, "camera", None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(413));
    assert_eq!(code(err), ErrorCode::UploadTooLarge);
    let mut heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec();
    heic.resize(64 * 1024, 0);
    assert!(!rules
        .accepted_formats
        .iter()
        .any(|f| f.mime == "image/heic"));
    let err = student
        .upload_attempt(
            PhotoUpload::new(heic, "IMG_0001.HEIC", "image/heic"),
            "camera",
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert_eq!(code(err), ErrorCode::UnsupportedFormat);
    let text = PhotoUpload::new(
        b"this is not a photo, just text".to_vec(),
        "photo.jpg",
        "image/jpeg",
    );
    let err = student
        .upload_attempt(text, "camera", None)
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::NotAnImage);
    let case = student.student_case().await.unwrap();
    assert!(case.attempts.is_empty(), "no attempt row is left behind");
    // A picture without a face is an image, so it is checked, but it cannot be
    // standardized or submitted.
    let wall = flows::upload_checked(&student, photos::bare_wall()).await;
    assert_eq!(wall.status, AttemptStatus::Checked, "{wall:?}");
    assert!(!wall.has_standardized);
    let report = wall.report.as_ref().unwrap();
    let single = report.get(MeasureId::SingleFace).unwrap();
    assert_eq!(single.verdict, MeasureVerdict::Fail, "{single:?}");
    assert_eq!(wall.overall, Some(MeasureVerdict::Fail));
    assert_eq!(wall.face_match, None);
    // No face is a hard failure: the same refusal as any photo that cannot become a
    // standard photo.
    assert_eq!(
        code(student.submit(&wall.id).await.unwrap_err()),
        ErrorCode::PhotoFailedChecks
    );
    // A photo of the student still goes through afterwards.
    let attempt = flows::upload_checked(&student, photos::portrait()).await;
    assert_eq!(attempt.status, AttemptStatus::Checked, "{attempt:?}");
    w.server.stop().await;
}

async fn tampered_audit_chain_is_detected(db: Db) {
    let w = world(db, 1, 0).await;
    let s = &w.fixture.students[0];
    let _student = flows::to_pending(&w.anon, s).await;
    let supervisor = w.staff("super1", Role::Supervisor).await;
    let before = supervisor.audit_verify().await.unwrap();
    assert!(before.ok, "{before:?}");
    let target = before.checked / 2;
    assert!(target > 1);
    sqlx::query("UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = $1")
        .bind(target)
        .execute(w.server.state().store.pool())
        .await
        .unwrap();
    let after = supervisor.audit_verify().await.unwrap();
    assert!(!after.ok);
    let broken = after.first_broken.unwrap();
    assert_eq!(broken.seq, target);
    assert_eq!(broken.code, "audit_hash_mismatch");
    assert!(broken.message_zh.contains(&target.to_string()));
    w.server.stop().await;
}

async fn supervisor_override_and_stats(db: Db) {
    let w = world(db, 2, 0).await;
    let a = &w.fixture.students[0];
    let b = &w.fixture.students[1];
    let student_a = flows::to_pending(&w.anon, a).await;
    let _student_b = flows::to_pending(&w.anon, b).await;
    let reviewer = w.staff("reviewer1", Role::Reviewer).await;
    let supervisor = w.staff("super1", Role::Supervisor).await;
    reviewer.claim_next(2).await.unwrap();
    reviewer
        .decide(&a.case_id, &new_id(), Verdict::Approve)
        .await
        .unwrap();
    reviewer
        .decide(&b.case_id, &new_id(), reject(&["clothing"], None))
        .await
        .unwrap();

    let err = reviewer
        .override_decision(&a.case_id, &new_id(), reject(&["selfie"], None), "x")
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::Forbidden);
    let err = supervisor
        .override_decision(&a.case_id, &new_id(), reject(&["selfie"], None), " ")
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::OverrideCommentRequired);
    let id = new_id();
    let overridden = supervisor
        .override_decision(
            &a.case_id,
            &id,
            reject(&["selfie"], None),
            "前置摄像头自拍 / front-camera selfie",
        )
        .await
        .unwrap();
    let OverrideOutcome::Applied {
        decision: overridden,
    } = overridden
    else {
        panic!("no second supervisor asked for: {overridden:?}");
    };
    assert_eq!(overridden.kind, DecisionKind::OverrideReject);
    assert_eq!(overridden.resulting_state, CaseState::Rejected);
    let again = supervisor
        .override_decision(
            &a.case_id,
            &id,
            reject(&["selfie"], None),
            "前置摄像头自拍 / front-camera selfie",
        )
        .await
        .unwrap();
    assert_eq!(
        again,
        OverrideOutcome::Applied {
            decision: overridden
        }
    );
    assert_eq!(
        student_a.student_case().await.unwrap().state,
        CaseState::Rejected
    );

    let stats = supervisor
        .stats(&gradphoto_api::review::StatsQuery::default())
        .await
        .unwrap();
    let count = |st: CaseState| {
        stats
            .counts
            .iter()
            .find(|c| c.state == st)
            .map(|c| c.count)
            .unwrap()
    };
    assert_eq!(count(CaseState::Rejected), 2);
    assert_eq!(count(CaseState::Approved), 0);
    let reasons = |c: &str| {
        stats
            .reject_reasons
            .iter()
            .find(|r| r.code == c)
            .map(|r| r.count)
            .unwrap()
    };
    assert_eq!(reasons("clothing"), 1);
    assert_eq!(reasons("selfie"), 1);
    assert_eq!(reasons("background"), 0);
    let r1: Vec<_> = stats
        .per_reviewer_day
        .iter()
        .filter(|d| d.reviewer_name == "reviewer1")
        .collect();
    assert_eq!(r1.len(), 1);
    assert_eq!((r1[0].approved, r1[0].rejected), (1, 1));
    support::progress::assert_counts_follow_the_cases(w.server.state()).await;
    w.server.stop().await;
}

async fn sync_and_queue_paging(db: Db) {
    let w = world(db, 5, 0).await;
    for s in &w.fixture.students {
        flows::to_pending(&w.anon, s).await;
    }
    let reviewer = w.staff("reviewer1", Role::Reviewer).await;

    // Queue: keyset pages of two, oldest submission first, nothing twice.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = reviewer
            .review_queue(&QueueQuery {
                limit: Some(2),
                cursor: cursor.clone(),
                ..QueueQuery::default()
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(
            page.items
                .iter()
                .map(|i| (i.submitted_at_ms, i.case_id.clone())),
        );
        if !page.has_more {
            assert!(page.next_cursor.is_none());
            break;
        }
        cursor = page.next_cursor;
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    let ids: HashSet<_> = seen.iter().map(|(_, id)| id.clone()).collect();
    let expected: HashSet<_> = w
        .fixture
        .students
        .iter()
        .map(|s| s.case_id.clone())
        .collect();
    assert_eq!(ids, expected);
    let err = reviewer
        .review_queue(&QueueQuery {
            cursor: Some("garbage".into()),
            ..QueueQuery::default()
        })
        .await
        .unwrap_err();
    assert_eq!(code(err), ErrorCode::BadCursor);

    // Sync: everything from the start, in pages of two, cursor strictly increasing.
    let mut cursor = 0;
    let mut synced = HashSet::new();
    loop {
        let page = reviewer.sync_page(cursor, Some(2)).await.unwrap();
        assert!(page.changes.len() <= 2);
        for c in &page.changes {
            assert!(c.change_seq > cursor);
            synced.insert(c.case_id.clone());
        }
        assert!(page.next_cursor >= cursor);
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(synced, expected);
    let quiet = reviewer.sync_page(cursor, None).await.unwrap();
    assert!(quiet.changes.is_empty());
    assert_eq!(quiet.next_cursor, cursor);

    // A decision shows up as one change carrying the decision.
    let target = &w.fixture.students[2];
    reviewer.claim_case(&target.case_id).await.unwrap();
    reviewer
        .decide(&target.case_id, &new_id(), Verdict::Approve)
        .await
        .unwrap();
    let page = reviewer.sync_page(cursor, None).await.unwrap();
    assert_eq!(page.changes.len(), 1);
    let change = &page.changes[0];
    assert_eq!(change.case_id, target.case_id);
    assert_eq!(change.state, CaseState::Approved);
    assert_eq!(
        change.latest_decision.as_ref().map(|d| d.kind),
        Some(DecisionKind::Approve)
    );

    // The feed is gzip-compressed on the wire.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let response = raw
        .get(format!("{}/api/review/sync?cursor=0", w.server.base_url))
        .bearer_auth(reviewer.token().unwrap())
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    w.server.stop().await;
}

/// The school's number of attempts failing the same soft check (a blurred photo) are refused
/// with a retake that says how many remain; the last one may be submitted, flagged for the
/// reviewer, and the audit names the check.
async fn repeated_soft_check_failures_may_be_submitted_flagged(db: Db) {
    let w = world(db, 1, 0).await;
    let needed = fixture::policy(0).check_failures_before_flag;
    assert!(needed >= 2, "the story needs at least one refused attempt");
    let s = &w.fixture.students[0];
    let student = flows::to_ready(&w.anon, s).await;
    let blurred = photos::blurred_portrait();
    let mut flagged_measures = Vec::new();
    for n in 1..=needed {
        let a = flows::upload_checked(&student, blurred.clone()).await;
        assert_eq!(a.status, AttemptStatus::Checked, "{a:?}");
        assert!(a.has_standardized, "{a:?}");
        let report = a.report.as_ref().unwrap();
        let sharpness = report.get(MeasureId::Sharpness).unwrap();
        assert_eq!(sharpness.verdict, MeasureVerdict::Fail, "{sharpness:?}");
        for m in report
            .measures
            .iter()
            .filter(|m| HARD_MEASURES.contains(&m.id))
        {
            assert_ne!(m.verdict, MeasureVerdict::Fail, "{m:?}");
        }
        assert_eq!(a.face_match.as_ref().map(|m| m.same_person), Some(true));
        let result = student.submit(&a.id).await;
        if n < needed {
            let left = needed - n;
            match a.gate.as_ref().unwrap() {
                SubmitDecision::MustRetake {
                    hard,
                    soft,
                    face_mismatch,
                    attempts_left,
                } => {
                    assert!(hard.is_empty(), "{hard:?}");
                    assert!(soft.contains(&MeasureId::Sharpness), "{soft:?}");
                    assert!(!face_mismatch);
                    assert_eq!(*attempts_left, Some(left));
                }
                other => panic!("attempt {n} should be a retake, got {other:?}"),
            }
            let err = result.unwrap_err();
            let body = err.body().unwrap().clone();
            assert_eq!(body.code, ErrorCode::PhotoFailedChecksRetake);
            assert!(
                body.message_zh.contains(&format!("再有 {left} 次")),
                "{}",
                body.message_zh
            );
            assert!(
                body.message_en.contains(&format!("after {left} more")),
                "{}",
                body.message_en
            );
        } else {
            match a.gate.as_ref().unwrap() {
                SubmitDecision::AllowedWithFlag {
                    measures,
                    face_mismatch,
                    face_unchecked,
                } => {
                    assert!(!face_unchecked, "the comparison ran");
                    assert!(measures.contains(&MeasureId::Sharpness), "{measures:?}");
                    assert!(!face_mismatch);
                    flagged_measures = measures.clone();
                }
                other => panic!("attempt {n} should be allowed with a flag, got {other:?}"),
            }
            let case = result.unwrap();
            assert_eq!(case.state, CaseState::PendingReview);
            assert!(case.flagged);
            assert_eq!(case.submitted_attempt_id.as_deref(), Some(a.id.as_str()));
        }
    }
    // Earlier attempts of the round now reach the count as well: the case view sends the
    // same decision for each of them.
    let case = student.student_case().await.unwrap();
    assert_eq!(case.attempts.len(), needed as usize);
    assert!(case
        .attempts
        .iter()
        .all(|a| matches!(a.gate, Some(SubmitDecision::AllowedWithFlag { .. }))));

    let reviewer = w.staff("reviewer1", Role::Reviewer).await;
    let flagged = reviewer
        .review_queue(&QueueQuery {
            flagged: Some(true),
            ..QueueQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(flagged.items.len(), 1);
    assert_eq!(flagged.items[0].case_id, s.case_id);
    // The review item names the checks the student was allowed past, exactly as the gate
    // decided them on submit; the face comparison passed.
    let item = reviewer.review_item(&s.case_id).await.unwrap();
    assert!(item.flagged);
    assert_eq!(
        item.flag,
        Some(FlagReasons {
            measures: flagged_measures,
            face_mismatch: false,
            face_unchecked: false,
        })
    );

    let supervisor = w.staff("super1", Role::Supervisor).await;
    let mut submitted = Vec::new();
    let mut cursor = 0;
    loop {
        let page = supervisor.audit_page(Some(cursor), Some(50)).await.unwrap();
        submitted.extend(
            page.events
                .into_iter()
                .filter(|e| e.subject == s.case_id && e.action == "submitted"),
        );
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(
        submitted.len(),
        1,
        "refused submissions leave no audit event"
    );
    let flag = &submitted[0].details["flag"];
    assert_eq!(flag["face_mismatch"], false, "{flag}");
    assert!(
        flag["measures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "sharpness"),
        "{flag}"
    );
    w.server.stop().await;
}

/// A face far too small for the spec fails a hard check: refused after more attempts than
/// the school's number, and never offered the flag path.
async fn hard_check_failures_always_block(db: Db) {
    let w = world(db, 1, 0).await;
    let policy = fixture::policy(0);
    let s = &w.fixture.students[0];
    let student = flows::to_ready(&w.anon, s).await;
    let small = photos::small_face_portrait();
    for _ in 0..=policy.check_failures_before_flag {
        let a = flows::upload_checked(&student, small.clone()).await;
        assert_eq!(a.status, AttemptStatus::Checked, "{a:?}");
        let report = a.report.as_ref().unwrap();
        assert_eq!(
            report.get(MeasureId::FaceSize).map(|m| m.verdict),
            Some(MeasureVerdict::Fail),
            "{report:?}"
        );
        match a.gate.as_ref().unwrap() {
            SubmitDecision::MustRetake {
                hard,
                attempts_left,
                ..
            } => {
                assert!(hard.contains(&MeasureId::FaceSize), "{hard:?}");
                assert_eq!(*attempts_left, None);
            }
            other => panic!("a hard failure must be retaken, got {other:?}"),
        }
        let err = student.submit(&a.id).await.unwrap_err();
        let body = err.body().unwrap();
        assert_eq!(body.code, ErrorCode::PhotoFailedChecks);
        assert!(body.message_zh.contains("人脸大小"), "{}", body.message_zh);
    }
    let case = student.student_case().await.unwrap();
    assert_eq!(case.state, CaseState::Ready);
    assert!(!case.flagged);
    w.server.stop().await;
}

/// A card of someone else: every comparison fails, the school's number of failed comparisons
/// opens the flag path, and the reviewer's item says the face comparison is why it is flagged
/// (and no photo check, since the portrait passes them all).
async fn repeated_face_mismatches_reach_the_reviewer_flagged(db: Db) {
    let w = world(db, 1, 0).await;
    let needed = fixture::policy(0).face_match_failures_before_flag;
    assert!(needed >= 1);
    let s = &w.fixture.students[0];
    let student = flows::to_ready_with_card(&w.anon, s, photos::other_person_id_card_sides()).await;
    for n in 1..=needed {
        let a = flows::upload_checked(&student, photos::portrait()).await;
        assert_eq!(a.status, AttemptStatus::Checked, "{a:?}");
        assert_eq!(a.face_match.as_ref().map(|m| m.same_person), Some(false));
        let result = student.submit(&a.id).await;
        if n < needed {
            assert_eq!(code(result.unwrap_err()), ErrorCode::FaceMismatchRetake);
        } else {
            assert_eq!(
                a.gate,
                Some(SubmitDecision::AllowedWithFlag {
                    measures: vec![],
                    face_mismatch: true,
                    face_unchecked: false,
                })
            );
            let case = result.unwrap();
            assert_eq!(case.state, CaseState::PendingReview);
            assert!(case.flagged);
        }
    }
    let reviewer = w.staff("reviewer1", Role::Reviewer).await;
    let item = reviewer.review_item(&s.case_id).await.unwrap();
    assert!(item.flagged);
    assert_eq!(
        item.flag,
        Some(FlagReasons {
            measures: vec![],
            face_mismatch: true,
            face_unchecked: false,
        })
    );
    assert_eq!(item.face_match.same_person, Some(false));
    assert_eq!(i64::from(needed), item.face_match.failures);
    w.server.stop().await;
}

/// The demo walks its students through the same journey functions as the HTTP API, so its
/// cases carry the rows and audit events real use leaves (consent, ID card, upload, submission,
/// the reviewer's decision), never a shortcut.
async fn demo_data_has_the_audit_trail_of_real_use(db: Db) {
    use gradphoto_domain::audit::AuditAction;
    use gradphoto_server::demo::{seed, DEMO_SCHOOL};
    use gradphoto_server::store::{audit, cases, review, schools, students};

    let server = TestServer::start(db).await;
    let state = server.state();
    let report = seed(state).await.unwrap();
    let school = schools::find_by_name(&state.store, DEMO_SCHOOL)
        .await
        .unwrap()
        .unwrap();
    let past = |reached: CaseState, states: &[CaseState]| states.contains(&reached);
    let mut reviewed = 0;
    for (i, (name, reached, _)) in report.cases.iter().enumerate() {
        let student =
            students::find_by_student_no(&state.store, &school.id, &format!("2021{:04}", i + 1))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(&student.name, name);
        let case = cases::get_by_student(&state.store, &student.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.state, *reached, "{name}");
        let actions: HashSet<AuditAction> = audit::for_subject(&state.store, &case.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        use CaseState::*;
        let mut expected = Vec::new();
        if past(
            *reached,
            &[
                IdentityVerified,
                RecordConfirmed,
                Ready,
                PendingReview,
                Rejected,
                Approved,
            ],
        ) {
            expected.extend([
                AuditAction::ConsentRecorded,
                AuditAction::IdCardUploaded,
                AuditAction::IdentityVerified,
            ]);
        }
        if past(*reached, &[PendingReview, Rejected, Approved]) {
            expected.extend([AuditAction::PhotoUploaded, AuditAction::Submitted]);
        }
        if past(*reached, &[Rejected, Approved]) {
            expected.push(AuditAction::Claimed);
            let decisions = review::decisions_for_case(&state.store, &case.id)
                .await
                .unwrap();
            assert_eq!(decisions.len(), 1, "{name}: one decision row");
            reviewed += 1;
        }
        for action in expected {
            assert!(
                actions.contains(&action),
                "{name} ({reached:?}) lacks {action:?}: {actions:?}"
            );
        }
    }
    assert_eq!(
        reviewed, 2,
        "the demo has one rejected and one approved case"
    );
    support::progress::assert_counts_follow_the_cases(server.state()).await;
    server.stop().await;
}

/// A school that asks for a white background and 30–60 KB files gets them: the analysis job
/// standardizes to its spec, the portal shows it, and the reviewer's hints check against it.
async fn a_schools_photo_spec_reaches_checks_standardization_portal_and_reviewer(db: Db) {
    use gradphoto_domain::spec::{Background, Rgb};
    let server = TestServer::start_with(db, support::analyzer(), |_| {}).await;
    let policy = gradphoto_domain::policy::SchoolPolicy {
        photo_background: Background::White,
        photo_min_kb: 30,
        photo_max_kb: 60,
        ..fixture::policy(0)
    };
    let fixture = fixture::seed(server.state(), 1, &policy).await;
    let s = &fixture.students[0];
    let student = flows::to_pending(&server.client(), s).await;

    // The portal: the school's spec, and its rules named in both languages.
    let school = server.client().public_school(None).await.unwrap();
    assert_eq!(school.spec.background, Rgb::WHITE);
    assert_eq!((school.spec.min_kb, school.spec.max_kb), (30, 60));
    let case = student.student_case().await.unwrap();
    assert_eq!(
        (
            case.policy.photo_background_zh.as_str(),
            case.policy.photo_background_en.as_str(),
            case.policy.photo_min_kb,
            case.policy.photo_max_kb
        ),
        ("白色", "white", 30, 60)
    );

    // The reviewer receives the spec with the item, and the standardized photo meets it.
    let reviewer = fixture::staff(
        server.state(),
        &server.base_url,
        "reviewer1",
        Role::Reviewer,
    )
    .await;
    reviewer.claim_case(&s.case_id).await.unwrap();
    let item = reviewer.review_item(&s.case_id).await.unwrap();
    assert_eq!(item.spec, policy.photo_spec());
    let jpeg = reviewer
        .review_image(&s.case_id, ImageKind::Standardized)
        .await
        .unwrap()
        .bytes;
    let kb = jpeg.len() as f64 / 1024.0;
    assert!((30.0..=60.0).contains(&kb), "{kb:.1} KB");
    let img = image::load_from_memory(&jpeg).unwrap().to_rgb8();
    // The top corners are background: white, not CHSI's light blue.
    for (x, y) in [(4, 4), (475, 4)] {
        let p = img.get_pixel(x, y).0;
        assert!(p.iter().all(|&c| c >= 245), "pixel ({x}, {y}) is {p:?}");
    }
    server.stop().await;
}
