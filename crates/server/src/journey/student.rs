//! The student's journey: consent, identity, record, payment, uploads, submission.

use chrono::Utc;
use gradphoto_api::common::PhotoSource;
use gradphoto_api::review::FlagReasons;
use gradphoto_domain::audit::{Actor, AuditAction};
use gradphoto_domain::gate::{submit_decision, CheckedPhoto, SubmitDecision};
use gradphoto_domain::idnumber::IdNumber;
use gradphoto_domain::measures::{CheckReport, MeasureId};
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::state::{CaseState, Event, EventKind, TransitionError};

use crate::analyzer::CardSide;
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::objects::ObjectKind;
use crate::payment::{OrderRequest, PaymentStart};
use crate::ratelimit::{self, Limit};
use crate::store::{attempts, cases, consents, jobs, orders, schools, students};
use crate::AppState;

pub async fn load_case(
    state: &AppState,
    case_id: &str,
) -> AppResult<(cases::CaseRow, schools::SchoolRow)> {
    let case = cases::get(&state.store, case_id)
        .await?
        .ok_or_else(|| AppError::not_found("采集记录", "Case"))?;
    let school = schools::get(&state.store, &case.school_id)
        .await?
        .ok_or_else(|| AppError::internal("case without school"))?;
    Ok((case, school))
}

/// The parsed reports of a round's checked attempts, by attempt id.
pub type RoundReports = Vec<(String, CheckReport)>;

pub fn parse_report(json: &str) -> AppResult<CheckReport> {
    Ok(serde_json::from_str(json)?)
}

/// Reads the checked reports of the case's current round from the store.
pub async fn round_reports(
    conn: &mut sqlx::AnyConnection,
    case: &cases::CaseRow,
) -> AppResult<RoundReports> {
    attempts::checked_reports_in_round(conn, &case.id, case.round)
        .await?
        .into_iter()
        .map(|(id, json)| Ok((id, parse_report(&json)?)))
        .collect()
}

/// The same, from attempts already loaded (any round).
pub fn round_reports_of(rows: &[attempts::AttemptRow], round: i64) -> AppResult<RoundReports> {
    rows.iter()
        .filter(|a| a.round == round && a.status == attempts::STATUS_CHECKED)
        .filter_map(|a| a.report_json.as_deref().map(|json| (a, json)))
        .map(|(a, json)| Ok((a.id.clone(), parse_report(json)?)))
        .collect()
}

/// What `submit` accepts for this attempt: the domain's decision over this photo, the other
/// attempts of the round and the round's failed face comparisons. `None` for attempts that
/// are not checked or belong to an earlier round; nothing can be submitted from them.
pub fn gate_of(
    a: &attempts::AttemptRow,
    case: &cases::CaseRow,
    policy: &SchoolPolicy,
    round: &RoundReports,
) -> AppResult<Option<SubmitDecision>> {
    if a.status != attempts::STATUS_CHECKED || a.round != case.round {
        return Ok(None);
    }
    let Some(json) = a.report_json.as_deref() else {
        return Ok(None);
    };
    let report = parse_report(json)?;
    let photo = CheckedPhoto {
        round: a.round,
        report: &report,
        standardized: a.standardized_key.is_some(),
        same_person: a.face_same_person,
        card_given: case.id_front_key.is_some(),
    };
    let others = round
        .iter()
        .filter(|(id, _)| *id != a.id)
        .map(|(_, r)| (case.round, r));
    // The counter cannot be negative or beyond u32 in practice; saturate rather than fail.
    let face_failures = u32::try_from(case.face_match_failures).unwrap_or(u32::MAX);
    Ok(Some(submit_decision(photo, others, face_failures, policy)))
}

pub fn consent_required() -> AppError {
    AppError::from(ErrorCode::ConsentRequired)
}

pub fn identity_limit(state: &AppState) -> Limit {
    Limit {
        max_failures: state.config.identity_max_failures,
        window_ms: i64::try_from(state.config.identity_window_minutes)
            .unwrap_or(15)
            .saturating_mul(60_000),
    }
}

pub fn id_card_required(field: &str) -> AppError {
    let (zh, en) = if field == "id_front" {
        (
            "请上传身份证人像面照片。",
            "Please upload the photo side of your ID card.",
        )
    } else {
        (
            "请上传身份证国徽面照片。",
            "Please upload the emblem side of your ID card.",
        )
    };
    AppError::new(ErrorCode::IdCardRequired, zh, en).with_field(field)
}

pub fn ensure_ready(case: &cases::CaseRow) -> AppResult<()> {
    if case.state == CaseState::Ready {
        return Ok(());
    }
    let (zh, en) = if case.state.is_terminal_for_student() {
        (
            "照片已审核通过，不能再上传。",
            "Your photo has been approved; no more uploads are possible.",
        )
    } else {
        (
            "当前步骤不能上传照片，请按页面提示完成前面的步骤。",
            "Photos cannot be uploaded at this step; complete the earlier steps first.",
        )
    };
    Err(AppError::new(ErrorCode::NotReadyForPhotos, zh, en))
}

pub fn labels(ids: &[MeasureId], zh: bool) -> String {
    let names: Vec<&str> = ids
        .iter()
        .map(|m| if zh { m.label_zh() } else { m.label_en() })
        .collect();
    names.join(if zh { "、" } else { ", " })
}

/// The refusal of a photo the gate sends back for a retake. Codes are stable: hard failures
/// (or no standardized photo) `photo_failed_checks`; soft failures not repeated often enough
/// yet `photo_failed_checks_retake`; a face mismatch alone `face_mismatch_retake`.
pub fn retake_error(
    hard: &[MeasureId],
    soft: &[MeasureId],
    face_mismatch: bool,
    attempts_left: Option<u32>,
) -> AppError {
    let Some(left) = attempts_left else {
        let (zh, en) = if hard.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!("（{}）", labels(hard, true)),
                format!(" ({})", labels(hard, false)),
            )
        };
        return AppError::new(
            ErrorCode::PhotoFailedChecks,
            format!("这张照片未通过自动检测{zh}，无法生成标准照，请按提示调整后重新拍摄。"),
            format!("This photo failed the automatic checks{en} and cannot become a standard photo; follow the hints and take a new one."),
        );
    };
    if !soft.is_empty() {
        return AppError::new(
            ErrorCode::PhotoFailedChecksRetake,
            format!(
                "这张照片未通过自动检测（{}），请按提示调整后重新拍摄（同一项检测再有 {left} 次未通过后，可以直接提交，由审核老师人工核对）。",
                labels(soft, true)
            ),
            format!(
                "This photo failed the automatic checks ({}); follow the hints and take a new one (after {left} more attempt(s) failing the same check you may submit anyway for a manual check).",
                labels(soft, false)
            ),
        );
    }
    debug_assert!(face_mismatch, "a retake names what blocks it");
    AppError::new(
        ErrorCode::FaceMismatchRetake,
        format!("照片中的人脸与身份证照片比对未通过，请重新拍摄（再失败 {left} 次后可直接提交，由审核员人工核对）。"),
        format!("The face in the photo does not match the ID card photo. Please retake it (after {left} more failed comparison(s) you may submit anyway for a manual check)."),
    )
}

/// Records the student's consent to the privacy agreement of the school's current version.
pub async fn record_consent(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    accepted: bool,
    version: &str,
) -> AppResult<()> {
    let (_, school) = load_case(state, case_id).await?;
    if !accepted {
        return Err(consent_required());
    }
    if version != school.policy.privacy_version {
        return Err(AppError::from(ErrorCode::ConsentVersionMismatch).with_field("version"));
    }
    let mut tx = state.store.begin().await?;
    consents::record(&mut tx, actor, case_id, consents::KIND_PRIVACY, version).await?;
    cases::touch(&mut tx, case_id).await?;
    Ok(tx.commit().await?)
}

/// Refuses the identity step before anything is read: too many recent failures, the wrong
/// step, or no consent to the current agreement.
pub async fn identity_open(state: &AppState, case_id: &str) -> AppResult<()> {
    ratelimit::check(
        &state.store,
        &identity_bucket(case_id),
        identity_limit(state),
    )
    .await?;
    let (case, school) = load_case(state, case_id).await?;
    if case.state != CaseState::Claimed {
        return Err(TransitionError::NotAllowedInState {
            from: case.state,
            event: EventKind::VerifyIdentity,
        }
        .into());
    }
    let consent = consents::latest(&state.store, &case.id, consents::KIND_PRIVACY).await?;
    if consent.is_none_or(|c| c.version != school.policy.privacy_version) {
        return Err(consent_required());
    }
    Ok(())
}

/// Both sides of the card checked by the analyzer on a blocking thread; an error names the side.
async fn check_id_card(
    state: &AppState,
    front: Vec<u8>,
    back: Vec<u8>,
) -> AppResult<(Vec<u8>, Vec<u8>)> {
    let analyzer = state.analyzer.clone();
    tokio::task::spawn_blocking(move || {
        for (side, picture) in [(CardSide::Front, &front), (CardSide::Back, &back)] {
            analyzer
                .check_id_card(side, picture)
                .map_err(|e| AppError::localized(&e).with_field(side.field()))?;
        }
        Ok((front, back))
    })
    .await?
}

fn identity_bucket(case_id: &str) -> String {
    format!("identity:{case_id}")
}

/// What the student states and shows at the identity step, as received.
#[derive(Debug, Default)]
pub struct IdentityForm {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub id_front: Option<Vec<u8>>,
    pub id_back: Option<Vec<u8>>,
}

/// Checks the stated name and ID number against the roster, keeps both sides of the ID card
/// and moves the case on. A mismatch counts against the identity rate limit.
pub async fn verify_identity(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    form: IdentityForm,
) -> AppResult<()> {
    identity_open(state, case_id).await?;
    let (case, school) = load_case(state, case_id).await?;
    let name = form.name.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() {
        return Err(AppError::from(ErrorCode::NameRequired).with_field("name"));
    }
    let id_number = IdNumber::parse(
        form.id_number.as_deref().unwrap_or_default().trim(),
        Utc::now().date_naive(),
    )
    .map_err(|e| AppError::from(e).with_field("id_number"))?;
    let Some(front) = form.id_front else {
        return Err(id_card_required("id_front"));
    };
    let Some(back) = form.id_back else {
        return Err(id_card_required("id_back"));
    };
    // The card is checked as a photo is, before it counts as an attempt or is kept: a picture
    // without a card's portrait would leave the face comparison nothing to compare with.
    let (front, back) = check_id_card(state, front, back).await?;
    let record = students::get(&state.store, &case.student_id)
        .await?
        .ok_or_else(|| AppError::internal("case without student"))?;
    // The attempt is counted before it is judged, so parallel attempts cannot all slip under
    // the limit; a match clears the count again.
    let bucket = identity_bucket(case_id);
    let left = ratelimit::take(&state.store, &bucket, identity_limit(state)).await?;
    let matches = record.name == name
        && record.id_number_hash == students::id_hash(&state.crypto, id_number.as_str());
    if !matches {
        let mut tx = state.store.begin().await?;
        tx.audit(
            actor,
            AuditAction::IdentityFailed,
            &case.id,
            serde_json::json!({ "attempts_left": left }),
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::new(
            ErrorCode::IdentityMismatch,
            format!("姓名或身份证号与学校名单中的信息不一致，请核对后重试（还可尝试 {left} 次）。"),
            format!(
                "The name or ID number does not match the school's record. Check and try again ({left} attempt(s) left)."
            ),
        ));
    }
    let front_key = state
        .objects
        .put_sensitive(ObjectKind::IdCard, &front)
        .await?;
    let back_key = state
        .objects
        .put_sensitive(ObjectKind::IdCard, &back)
        .await?;
    let mut tx = state.store.begin().await?;
    cases::set_id_card(&mut tx, &case.id, &front_key, &back_key).await?;
    ratelimit::reset(&mut tx, &bucket).await?;
    tx.audit(
        actor,
        AuditAction::IdCardUploaded,
        &case.id,
        serde_json::json!({ "sides": ["front", "back"] }),
    )
    .await?;
    cases::apply(
        &mut tx,
        &case,
        &Event::VerifyIdentity,
        actor,
        &school.policy,
        serde_json::json!({ "id_card_images": 2 }),
    )
    .await?;
    Ok(tx.commit().await?)
}

/// The student confirms the roster record; with no fee the payment step is settled at once.
pub async fn confirm_record(state: &AppState, actor: &Actor, case_id: &str) -> AppResult<()> {
    let (case, school) = load_case(state, case_id).await?;
    let mut tx = state.store.begin().await?;
    cases::apply(
        &mut tx,
        &case,
        &Event::ConfirmRecord,
        actor,
        &school.policy,
        serde_json::json!({}),
    )
    .await?;
    if school.policy.fee_cents <= 0 {
        let order = orders::create(
            &mut tx,
            actor,
            &case.id,
            "waived",
            0,
            case.round,
            orders::STATUS_WAIVED,
        )
        .await?;
        orders::complete_case_payment(&mut tx, &case.id, &order.id, actor).await?;
    }
    Ok(tx.commit().await?)
}

/// Opens (or reuses) the round's order with the school's provider. Returns the order and,
/// when the provider takes the payment elsewhere, where the student pays.
pub async fn start_payment(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
) -> AppResult<(orders::OrderRow, Option<String>)> {
    let (case, school) = load_case(state, case_id).await?;
    if case.state != CaseState::RecordConfirmed {
        return Err(AppError::from(ErrorCode::PaymentNotDue));
    }
    let provider = state.payments.for_fee(school.policy.fee_cents)?;
    let amount = school.policy.fee_cents.max(0);
    let mut tx = state.store.begin().await?;
    let order =
        match orders::open_order(&mut tx, &case.id, provider.name(), amount, case.round).await? {
            Some(o) => o,
            None => {
                orders::create(
                    &mut tx,
                    actor,
                    &case.id,
                    provider.name(),
                    amount,
                    case.round,
                    orders::STATUS_CREATED,
                )
                .await?
            }
        };
    let start = provider.start(
        &OrderRequest {
            order_id: order.id.clone(),
            amount_cents: amount,
            description: format!("{} 学历照片采集", school.name),
        },
        &state.public_url,
    )?;
    let pay_url = match start {
        PaymentStart::Completed => {
            orders::mark_waived(&mut tx, &order.id).await?;
            orders::complete_case_payment(&mut tx, &case.id, &order.id, actor).await?;
            None
        }
        PaymentStart::Redirect { pay_url } => Some(pay_url),
    };
    tx.commit().await?;
    let order = orders::get(&state.store, &order.id)
        .await?
        .ok_or_else(|| AppError::not_found("订单", "Order"))?;
    Ok((order, pay_url))
}

/// A photo as received, its type already recognised from its content.
#[derive(Debug)]
pub struct Upload {
    pub source: PhotoSource,
    /// The client's idempotency key: the same upload sent again is the same attempt.
    pub upload_id: Option<String>,
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

/// What became of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new attempt, queued for analysis.
    New(String),
    /// The same upload was recorded before (a retry): that attempt.
    Again(String),
}

/// Keeps the photo, records the attempt within the round's allowance and queues its analysis.
pub async fn record_upload(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    upload: Upload,
) -> AppResult<Recorded> {
    let (case, school) = load_case(state, case_id).await?;
    ensure_ready(&case)?;
    if upload.source == PhotoSource::Album && !school.policy.album_allowed {
        return Err(AppError::from(ErrorCode::AlbumNotAllowed).with_field("source"));
    }
    let key = state
        .objects
        .put_sensitive(ObjectKind::Original, &upload.bytes)
        .await?;
    let mut tx = state.store.begin().await?;
    // Re-read inside the write transaction: the case may have moved on meanwhile.
    let case = cases::get_in(tx.conn(), &case.id).await?;
    ensure_ready(&case)?;
    if let Some(id) = &upload.upload_id {
        if let Some(existing) = attempts::id_by_upload_id(tx.conn(), &case.id, id).await? {
            return Ok(Recorded::Again(existing));
        }
    }
    let used = attempts::count_in_round(tx.conn(), &case.id, case.round).await?;
    if used >= i64::from(school.policy.max_attempts_per_round) {
        return Err(AppError::new(
            ErrorCode::TooManyPhotos,
            format!(
                "本轮最多可上传 {} 张照片，已达上限。如需帮助请联系学校。",
                school.policy.max_attempts_per_round
            ),
            format!(
                "You can upload at most {} photos per round and have reached the limit. Contact your school for help.",
                school.policy.max_attempts_per_round
            ),
        ));
    }
    let source = match upload.source {
        PhotoSource::Camera => "camera",
        PhotoSource::Album => "album",
    };
    let attempt_id = attempts::insert(
        &mut tx,
        &attempts::NewAttempt {
            case_id: &case.id,
            round: case.round,
            client_upload_id: upload.upload_id.as_deref(),
            source,
            original_key: &key,
            original_mime: upload.mime,
            original_size: upload.bytes.len() as i64,
        },
    )
    .await?;
    jobs::enqueue(
        &mut tx,
        jobs::KIND_ANALYZE_ATTEMPT,
        &serde_json::json!({ "attempt_id": attempt_id }),
    )
    .await?;
    cases::touch(&mut tx, &case.id).await?;
    tx.audit(
        actor,
        AuditAction::PhotoUploaded,
        &case.id,
        serde_json::json!({
            "attempt_id": attempt_id, "bytes": upload.bytes.len(), "type": upload.mime, "source": source
        }),
    )
    .await?;
    tx.commit().await?;
    state.job_signal.notify_one();
    Ok(Recorded::New(attempt_id))
}

/// Submits a checked attempt of the current round for review, as the gate allows: refused
/// for a retake, or let through flagged with what the reviewer should look at.
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    attempt_id: &str,
) -> AppResult<()> {
    let (_, school) = load_case(state, case_id).await?;
    let mut tx = state.store.begin().await?;
    let case = cases::get_in(tx.conn(), case_id).await?;
    let attempt = attempts::get_in(tx.conn(), attempt_id).await?;
    if attempt.case_id != case.id {
        return Err(AppError::not_found("照片", "Photo attempt"));
    }
    if attempt.round != case.round {
        return Err(AppError::from(ErrorCode::AttemptOutdated));
    }
    if attempt.status != attempts::STATUS_CHECKED {
        return Err(AppError::from(ErrorCode::AttemptNotReady));
    }
    let round = round_reports(tx.conn(), &case).await?;
    let decision = gate_of(&attempt, &case, &school.policy, &round)?
        .ok_or_else(|| AppError::internal("checked attempt without report"))?;
    let detail = match &decision {
        SubmitDecision::Allowed => serde_json::json!({ "attempt_id": attempt.id }),
        // The audit names what the reviewer was asked to look at; the review item reads the
        // reasons back from here (`store::review::flag_reasons`), so both use one type.
        SubmitDecision::AllowedWithFlag {
            measures,
            face_mismatch,
            face_unchecked,
        } => serde_json::json!({
            "attempt_id": attempt.id,
            "flag": FlagReasons {
                measures: measures.clone(),
                face_mismatch: *face_mismatch,
                face_unchecked: *face_unchecked,
            },
        }),
        SubmitDecision::MustRetake {
            hard,
            soft,
            face_mismatch,
            attempts_left,
        } => return Err(retake_error(hard, soft, *face_mismatch, *attempts_left)),
    };
    cases::set_submitted_attempt(&mut tx, &case.id, &attempt.id).await?;
    cases::apply(
        &mut tx,
        &case,
        &Event::Submit {
            flagged: decision.flagged(),
        },
        actor,
        &school.policy,
        detail,
    )
    .await?;
    Ok(tx.commit().await?)
}

/// A step that only moves the case (withdraw a submission, retake after a rejection).
pub async fn step(state: &AppState, actor: &Actor, case_id: &str, event: Event) -> AppResult<()> {
    let (case, school) = load_case(state, case_id).await?;
    let mut tx = state.store.begin().await?;
    cases::apply(
        &mut tx,
        &case,
        &event,
        actor,
        &school.policy,
        serde_json::json!({}),
    )
    .await?;
    Ok(tx.commit().await?)
}
