//! The student journey: claim a code, consent, verify identity, confirm the record, pay,
//! upload photos, submit, withdraw, retake. Plus public school information and payment
//! callbacks.

use axum::body::Bytes;
use axum::extract::multipart::Field;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gradphoto_api::common::{
    AttemptStatus, AttemptView, DecisionView, FaceMatchView, OcrView, PhotoRule, PhotoSource,
    PolicySummary, ReasonView, SchoolInfo, UploadFormat, UploadRules,
};
use gradphoto_api::error::ErrorBody;
use gradphoto_api::review::FlagReasons;
use gradphoto_api::student::{
    ClaimRequest, ClaimResponse, ConsentRequest, ConsentView, OrderStatus, OrderView,
    PaymentResponse, PublicSchool, RecordView, StudentCase, SubmitRequest,
};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::gate::{submit_decision, CheckedPhoto, SubmitDecision};
use gradphoto_domain::idnumber::IdNumber;
use gradphoto_domain::measures::{CheckReport, MeasureId, Verdict};
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::reasons::RejectReason;
use gradphoto_domain::spec::PhotoSpec;
use gradphoto_domain::state::{CaseState, Event, EventKind, TransitionError};
use serde::Deserialize;

use crate::analyzer::OcrResult;
use crate::http::auth::{bearer_token, StudentSession};
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::objects::{sniff_image, ObjectKind};
use crate::payment::{OrderRequest, PaymentNotice, PaymentStart};
use crate::ratelimit::{self, Limit};
use crate::store::{
    attempts, cases, codes, consents, jobs, orders, review, schools, sessions, students,
};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/public/school", get(public_school))
        .route("/api/student/claim", post(claim))
        .route("/api/student/case", get(get_case))
        .route("/api/student/consent", post(consent))
        .route("/api/student/identity", post(identity))
        .route("/api/student/confirm", post(confirm))
        .route("/api/student/payment", post(payment))
        .route("/api/student/attempts", post(upload_attempt))
        .route("/api/student/attempts/{id}", get(get_attempt))
        .route(
            "/api/student/attempts/{id}/standardized.jpg",
            get(standardized_image),
        )
        .route("/api/student/attempts/{id}/original", get(original_image))
        .route("/api/student/submit", post(submit))
        .route("/api/student/withdraw", post(withdraw))
        .route("/api/student/retake", post(retake))
        .route(
            "/api/payments/sandbox/pay/{order_id}",
            get(sandbox_page).post(sandbox_confirm),
        )
        .route("/api/payments/{provider}/callback", post(payment_callback))
}

/// The photo rules shown before the camera (and checked by reviewers).
pub const PHOTO_RULES: &[(&str, &str, &str)] = &[
    ("room", "在光线明亮的室内，站在干净的纯白墙面前约1米处。", "In a bright room, stand about 1 m in front of a clean plain white wall."),
    ("rear_camera", "请他人用手机后置摄像头拍摄半身照（至胸部），不要自拍。", "Have someone else take a half-body photo (to the chest) with the rear camera; no selfies."),
    ("ears_forehead", "露出双耳和额头，头发不遮挡眉毛、眼睛和耳朵。", "Ears and forehead visible; hair off the eyebrows, eyes and ears."),
    ("pose", "正对镜头，双肩水平，表情自然，双唇闭合。", "Face the camera, shoulders level, natural expression, lips closed."),
    ("glasses", "不戴有色眼镜；可戴普通眼镜，但镜片不能反光，镜框不能遮挡眼睛。", "No tinted glasses; regular glasses are fine without glare and with frames clear of the eyes."),
    ("accessories", "不戴帽子、头饰、耳环、项链等饰物。", "No headwear, earrings, necklaces or other accessories."),
    ("clothing", "穿单色有领上衣；不穿无袖、低领或花纹复杂的衣服；不要穿蓝色衣服（背景会被替换为蓝色）。", "Wear a single-colour collared top; no sleeveless, low-cut or busy patterns; no blue clothing (the background becomes blue)."),
    ("shadow", "脸部光线均匀，不能有阴阳脸。", "Even light on the face, no shadow on one side."),
    ("natural", "不化妆，不使用美颜滤镜，不戴彩色隐形眼镜。", "No make-up, beauty filters or coloured contact lenses."),
];

// ---------------------------------------------------------------------------------------
// Views

pub fn school_info(school: &schools::SchoolRow) -> SchoolInfo {
    SchoolInfo {
        id: school.id.clone(),
        name: school.name.clone(),
        support_phone: school.policy.support_phone.clone(),
        support_hours: school.policy.support_hours.clone(),
    }
}

pub fn policy_summary(p: &SchoolPolicy) -> PolicySummary {
    PolicySummary {
        fee_cents: p.fee_cents,
        retakes_free: p.retakes_free,
        album_allowed: p.album_allowed,
        max_attempts_per_round: p.max_attempts_per_round,
        face_match_failures_before_flag: p.face_match_failures_before_flag,
        check_failures_before_flag: p.check_failures_before_flag,
        privacy_version: p.privacy_version.clone(),
    }
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: &str) -> AppResult<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| AppError::internal(format_args!("unknown stored value {s:?}")))
}

/// The parsed reports of a round's checked attempts, by attempt id.
type RoundReports = Vec<(String, CheckReport)>;

fn parse_report(json: &str) -> AppResult<CheckReport> {
    Ok(serde_json::from_str(json)?)
}

/// Reads the checked reports of the case's current round from the store.
async fn round_reports(
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
fn round_reports_of(rows: &[attempts::AttemptRow], round: i64) -> AppResult<RoundReports> {
    rows.iter()
        .filter(|a| a.round == round && a.status == attempts::STATUS_CHECKED)
        .filter_map(|a| a.report_json.as_deref().map(|json| (a, json)))
        .map(|(a, json)| Ok((a.id.clone(), parse_report(json)?)))
        .collect()
}

/// What `submit` accepts for this attempt: the domain's decision over this photo, the other
/// attempts of the round and the round's failed face comparisons. `None` for attempts that
/// are not checked or belong to an earlier round; nothing can be submitted from them.
fn gate_of(
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
    };
    let others = round
        .iter()
        .filter(|(id, _)| *id != a.id)
        .map(|(_, r)| (case.round, r));
    // The counter cannot be negative or beyond u32 in practice; saturate rather than fail.
    let face_failures = u32::try_from(case.face_match_failures).unwrap_or(u32::MAX);
    Ok(Some(submit_decision(photo, others, face_failures, policy)))
}

/// The attempt as the portal sees it, with the submit decision of the current round.
async fn attempt_view_in_case(
    state: &AppState,
    case: &cases::CaseRow,
    policy: &SchoolPolicy,
    a: &attempts::AttemptRow,
) -> AppResult<AttemptView> {
    let round = if a.status == attempts::STATUS_CHECKED && a.round == case.round {
        let mut conn = state.store.pool().acquire().await?;
        round_reports(&mut conn, case).await?
    } else {
        Vec::new()
    };
    attempt_view(a, gate_of(a, case, policy, &round)?)
}

pub fn attempt_view(
    a: &attempts::AttemptRow,
    gate: Option<SubmitDecision>,
) -> AppResult<AttemptView> {
    let status = parse_enum::<AttemptStatus>(&a.status)?;
    let error = match (&a.error_code, &a.error_zh, &a.error_en) {
        // Stored as the vision error named itself; every such code is an API code.
        (Some(code), zh, en) => Some(ErrorBody {
            code: ErrorCode::parse(code).unwrap_or(ErrorCode::Unknown),
            message_zh: zh.clone().unwrap_or_default(),
            message_en: en.clone().unwrap_or_default(),
            field: None,
            retry_after_s: None,
        }),
        _ => None,
    };
    let report: Option<CheckReport> = a
        .report_json
        .as_deref()
        .map(serde_json::from_str)
        .transpose()?;
    let overall: Option<Verdict> = a.overall.as_deref().map(parse_enum).transpose()?;
    let ocr: Option<OcrResult> = a
        .ocr_json
        .as_deref()
        .map(serde_json::from_str)
        .transpose()?;
    Ok(AttemptView {
        id: a.id.clone(),
        round: a.round,
        status,
        source: parse_enum::<PhotoSource>(&a.source)?,
        error,
        overall,
        report,
        face_match: match (a.face_distance, a.face_same_person) {
            (Some(distance), Some(same_person)) => Some(FaceMatchView {
                distance,
                same_person,
            }),
            _ => None,
        },
        ocr: ocr.map(|o| OcrView {
            name: o.name,
            id_number_masked: o.id_number.as_deref().map(gradphoto_domain::idnumber::mask),
            agree: o.agree,
        }),
        has_standardized: a.standardized_key.is_some(),
        original_size: a.original_size,
        created_at_ms: a.created_at,
        gate,
    })
}

/// The newest decision on a case, as the review side wrote it, for the student.
pub async fn latest_decision(state: &AppState, case_id: &str) -> AppResult<Option<DecisionView>> {
    let Some(d) = review::latest_decision(&state.store, case_id).await? else {
        return Ok(None);
    };
    let reasons = d
        .reasons
        .iter()
        .map(|code| code.parse::<RejectReason>().map(ReasonView::from))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::internal(format_args!("stored decision {}: {e}", d.decision_id)))?;
    Ok(Some(DecisionView {
        id: d.decision_id,
        kind: d.kind,
        reasons,
        comment: d.comment,
        round: d.round,
        decided_at_ms: d.decided_at_ms,
    }))
}

fn order_view(o: &orders::OrderRow) -> AppResult<OrderView> {
    Ok(OrderView {
        id: o.id.clone(),
        provider: o.provider.clone(),
        amount_cents: o.amount_cents,
        status: parse_enum::<OrderStatus>(&o.status)?,
        round: o.round,
    })
}

async fn load_case(
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

pub async fn case_view(state: &AppState, case_id: &str) -> AppResult<StudentCase> {
    let (case, school) = load_case(state, case_id).await?;
    let consent = consents::latest(&state.store, case_id, consents::KIND_PRIVACY)
        .await?
        .filter(|c| c.version == school.policy.privacy_version)
        .map(|c| ConsentView {
            version: c.version,
            accepted_at_ms: c.accepted_at,
        });
    let record = if case.identity_verified_at.is_some() {
        students::get(&state.store, &case.student_id)
            .await?
            .map(|s| RecordView {
                name: s.name,
                id_number_masked: s.id_number_masked,
                school: school.name.clone(),
                college: s.college,
                major: s.major,
                level: s.level,
                student_no: s.student_no,
                graduation_year: s.graduation_year,
            })
    } else {
        None
    };
    let order = orders::latest_for_case(&state.store, case_id)
        .await?
        .as_ref()
        .map(order_view)
        .transpose()?;
    let rows = attempts::list_for_case(&state.store, case_id).await?;
    let round = round_reports_of(&rows, case.round)?;
    let attempts = rows
        .iter()
        .map(|a| attempt_view(a, gate_of(a, &case, &school.policy, &round)?))
        .collect::<AppResult<Vec<_>>>()?;
    let state_now = case.state.effective(Utc::now(), case.lease.as_ref());
    // Students see "in review" for a case in the queue as well; the lease is staff business.
    Ok(StudentCase {
        case_id: case.id.clone(),
        state: state_now,
        state_label_zh: state_now.label_zh().to_string(),
        state_label_en: state_now.label_en().to_string(),
        round: case.round,
        school: school_info(&school),
        policy: policy_summary(&school.policy),
        consent,
        record,
        order,
        attempts,
        submitted_attempt_id: case.submitted_attempt_id.clone(),
        flagged: case.flagged,
        face_match_failures: case.face_match_failures,
        latest_decision: latest_decision(state, case_id).await?,
        uploads: UploadRules::new(state.config.max_upload_bytes),
    })
}

// ---------------------------------------------------------------------------------------
// Public

#[derive(Debug, Deserialize)]
struct SchoolQuery {
    id: Option<String>,
}

async fn public_school(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SchoolQuery>,
) -> AppResult<Json<PublicSchool>> {
    let school = match q.id {
        Some(id) => schools::get(&state.store, &id).await?,
        None => match student_school_from_token(&state, &headers).await? {
            Some(s) => Some(s),
            None => {
                let mut all = schools::list(&state.store).await?;
                if all.len() == 1 {
                    all.pop()
                } else {
                    return Err(AppError::from(ErrorCode::SchoolRequired));
                }
            }
        },
    }
    .ok_or_else(|| AppError::not_found("学校", "School"))?;
    Ok(Json(PublicSchool {
        school: school_info(&school),
        policy: policy_summary(&school.policy),
        reject_reasons: RejectReason::ALL
            .into_iter()
            .map(ReasonView::from)
            .collect(),
        photo_rules: PHOTO_RULES
            .iter()
            .map(|(code, zh, en)| PhotoRule {
                code: code.to_string(),
                zh: zh.to_string(),
                en: en.to_string(),
            })
            .collect(),
        spec: PhotoSpec::chsi(),
    }))
}

async fn student_school_from_token(
    state: &AppState,
    headers: &HeaderMap,
) -> AppResult<Option<schools::SchoolRow>> {
    let Some(token) = bearer_token(headers) else {
        return Ok(None);
    };
    let Some(session) = sessions::find_live(&state.store, &sessions::token_hash(token)).await?
    else {
        return Ok(None);
    };
    let Some(case_id) = session.case_id else {
        return Ok(None);
    };
    let Some(case) = cases::get(&state.store, &case_id).await? else {
        return Ok(None);
    };
    Ok(schools::get(&state.store, &case.school_id).await?)
}

// ---------------------------------------------------------------------------------------
// Claim, consent, identity, record

async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<ClaimRequest>,
) -> AppResult<Json<ClaimResponse>> {
    let presented = bearer_token(&headers).map(str::to_string);
    let presented_hash = presented.as_deref().map(sessions::token_hash);
    let mut tx = state.store.begin().await?;
    let claimed = match codes::claim(
        &mut tx,
        &state.crypto,
        &req.code,
        presented_hash.as_deref(),
        state.session_ttl_ms(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) if e.code() == ErrorCode::CodeAlreadyClaimed => {
            drop(tx);
            let mut tx = state.store.begin().await?;
            codes::record_refusal(&mut tx, &state.crypto, &req.code).await?;
            tx.commit().await?;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let token = match (claimed.token, presented) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => return Err(codes::code_already_claimed().into()),
    };
    Ok(Json(ClaimResponse {
        token,
        case: case_view(&state, &claimed.case_id).await?,
    }))
}

async fn get_case(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<StudentCase>> {
    Ok(Json(case_view(&state, &student.case_id).await?))
}

async fn consent(
    State(state): State<AppState>,
    student: StudentSession,
    Json(req): Json<ConsentRequest>,
) -> AppResult<Json<StudentCase>> {
    let (_, school) = load_case(&state, &student.case_id).await?;
    if !req.accepted {
        return Err(consent_required());
    }
    if req.version != school.policy.privacy_version {
        return Err(AppError::from(ErrorCode::ConsentVersionMismatch).with_field("version"));
    }
    let mut tx = state.store.begin().await?;
    consents::record(
        &mut tx,
        &student.actor(),
        &student.case_id,
        consents::KIND_PRIVACY,
        &req.version,
    )
    .await?;
    cases::touch(&mut tx, &student.case_id).await?;
    tx.commit().await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

fn consent_required() -> AppError {
    AppError::from(ErrorCode::ConsentRequired)
}

/// Reads one multipart field, counting bytes as they arrive and stopping at `limit`.
pub async fn read_field_limited(
    field: &mut Field<'_>,
    limit: u64,
    field_name: &str,
) -> AppResult<Vec<u8>> {
    let mut buf = Vec::new();
    loop {
        let chunk = field.chunk().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                upload_too_large(limit)
            } else {
                AppError::from(ErrorCode::UploadInterrupted).with_field(field_name)
            }
        })?;
        let Some(chunk) = chunk else {
            return Ok(buf);
        };
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(upload_too_large(limit).with_field(field_name));
        }
        buf.extend_from_slice(&chunk);
    }
}

fn upload_too_large(limit: u64) -> AppError {
    let max = size_text(limit);
    AppError::new(
        ErrorCode::UploadTooLarge,
        format!("文件太大，每个文件不能超过 {max}。"),
        format!("The file is too large; each file may be at most {max}."),
    )
}

/// A size in units of 1024, rounded down so a limit never reads larger than it is: "20 MB",
/// "1.5 MB", "400 KB" (the portal writes the advertised limit the same way).
fn size_text(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        let tenths = (bytes % MB) * 10 / MB;
        match tenths {
            0 => format!("{} MB", bytes / MB),
            t => format!("{}.{t} MB", bytes / MB),
        }
    } else if bytes >= KB {
        format!("{} KB", bytes / KB)
    } else {
        format!("{bytes} B")
    }
}

const TEXT_FIELD_LIMIT: u64 = 4096;

async fn read_text(field: &mut Field<'_>, name: &str) -> AppResult<String> {
    let bytes = read_field_limited(field, TEXT_FIELD_LIMIT, name).await?;
    String::from_utf8(bytes).map_err(|_| AppError::from(ErrorCode::BadText).with_field(name))
}

/// An image part: read within the limit, then its type sniffed from the content.
async fn read_image(
    field: &mut Field<'_>,
    limit: u64,
    name: &str,
) -> AppResult<(Vec<u8>, UploadFormat)> {
    let bytes = read_field_limited(field, limit, name).await?;
    let kind = sniff_image(&bytes).map_err(|e| e.with_field(name))?;
    Ok((bytes, kind))
}

fn malformed_multipart(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::from(ErrorCode::UploadTooLarge);
    }
    AppError::from(ErrorCode::BadMultipart)
}

fn identity_limit(state: &AppState) -> Limit {
    Limit {
        max_failures: state.config.identity_max_failures,
        window_ms: i64::try_from(state.config.identity_window_minutes)
            .unwrap_or(15)
            .saturating_mul(60_000),
    }
}

async fn identity(
    State(state): State<AppState>,
    student: StudentSession,
    mut multipart: Multipart,
) -> AppResult<Json<StudentCase>> {
    let bucket = format!("identity:{}", student.case_id);
    let limit = identity_limit(&state);
    ratelimit::check(&state.store, &bucket, limit).await?;
    let (case, school) = load_case(&state, &student.case_id).await?;
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
    let max = state.config.max_upload_bytes;
    let (mut name, mut id_number, mut front, mut back) = (None, None, None, None);
    while let Some(mut field) = multipart.next_field().await.map_err(malformed_multipart)? {
        match field.name().unwrap_or_default().to_string().as_str() {
            "name" => name = Some(read_text(&mut field, "name").await?),
            "id_number" => id_number = Some(read_text(&mut field, "id_number").await?),
            "id_front" => front = Some(read_image(&mut field, max, "id_front").await?),
            "id_back" => back = Some(read_image(&mut field, max, "id_back").await?),
            _ => {}
        }
    }
    let name = name.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() {
        return Err(AppError::from(ErrorCode::NameRequired).with_field("name"));
    }
    let id_number = IdNumber::parse(
        id_number.as_deref().unwrap_or_default().trim(),
        Utc::now().date_naive(),
    )
    .map_err(|e| AppError::from(e).with_field("id_number"))?;
    let Some((front, _)) = front else {
        return Err(id_card_required("id_front"));
    };
    let Some((back, _)) = back else {
        return Err(id_card_required("id_back"));
    };
    let record = students::get(&state.store, &case.student_id)
        .await?
        .ok_or_else(|| AppError::internal("case without student"))?;
    let matches = record.name == name
        && record.id_number_hash == students::id_hash(&state.crypto, id_number.as_str());
    if !matches {
        let mut tx = state.store.begin().await?;
        let left = ratelimit::record_failure(&mut tx, &bucket, limit).await?;
        tx.audit(
            &student.actor(),
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
    sqlx::query("UPDATE cases SET id_front_key = $1, id_back_key = $2 WHERE id = $3")
        .bind(&front_key)
        .bind(&back_key)
        .bind(&case.id)
        .execute(tx.conn())
        .await?;
    ratelimit::reset(&mut tx, &bucket).await?;
    tx.audit(
        &student.actor(),
        AuditAction::IdCardUploaded,
        &case.id,
        serde_json::json!({ "sides": ["front", "back"] }),
    )
    .await?;
    cases::apply(
        &mut tx,
        &case,
        &Event::VerifyIdentity,
        &student.actor(),
        &school.policy,
        serde_json::json!({ "id_card_images": 2 }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

fn id_card_required(field: &str) -> AppError {
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

async fn confirm(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<StudentCase>> {
    let (case, school) = load_case(&state, &student.case_id).await?;
    let actor = student.actor();
    let mut tx = state.store.begin().await?;
    cases::apply(
        &mut tx,
        &case,
        &Event::ConfirmRecord,
        &actor,
        &school.policy,
        serde_json::json!({}),
    )
    .await?;
    if school.policy.fee_cents <= 0 {
        let order = orders::create(
            &mut tx,
            &actor,
            &case.id,
            "waived",
            0,
            case.round,
            orders::STATUS_WAIVED,
        )
        .await?;
        orders::complete_case_payment(&mut tx, &case.id, &order.id, &actor).await?;
    }
    tx.commit().await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

// ---------------------------------------------------------------------------------------
// Payment

async fn payment(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<PaymentResponse>> {
    let (case, school) = load_case(&state, &student.case_id).await?;
    if case.state != CaseState::RecordConfirmed {
        return Err(AppError::from(ErrorCode::PaymentNotDue));
    }
    let actor = student.actor();
    let provider = state.payments.for_fee(school.policy.fee_cents)?;
    let amount = school.policy.fee_cents.max(0);
    let mut tx = state.store.begin().await?;
    let order =
        match orders::open_order(&mut tx, &case.id, provider.name(), amount, case.round).await? {
            Some(o) => o,
            None => {
                orders::create(
                    &mut tx,
                    &actor,
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
            sqlx::query("UPDATE orders SET status = $1, paid_at = $2 WHERE id = $3")
                .bind(orders::STATUS_WAIVED)
                .bind(crate::store::now_ms())
                .bind(&order.id)
                .execute(tx.conn())
                .await?;
            orders::complete_case_payment(&mut tx, &case.id, &order.id, &actor).await?;
            None
        }
        PaymentStart::Redirect { pay_url } => Some(pay_url),
    };
    tx.commit().await?;
    let order = orders::get(&state.store, &order.id)
        .await?
        .ok_or_else(|| AppError::not_found("订单", "Order"))?;
    Ok(Json(PaymentResponse {
        order: order_view(&order)?,
        pay_url,
        case: case_view(&state, &student.case_id).await?,
    }))
}

/// Verifies and applies a provider callback. The sandbox's own confirmation goes through
/// here too, exactly like a real provider's callback.
pub async fn handle_callback(
    state: &AppState,
    provider: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<orders::Settled> {
    let provider = state.payments.get(provider)?;
    let notice: PaymentNotice = provider.verify_callback(headers, body)?;
    if !notice.paid {
        return Err(AppError::from(ErrorCode::PaymentNotCompleted));
    }
    let mut tx = state.store.begin().await?;
    let settled = orders::settle(
        &mut tx,
        &notice.order_id,
        provider.name(),
        Some(&notice.provider_ref),
        notice.amount_cents,
    )
    .await?;
    tx.commit().await?;
    Ok(settled)
}

async fn payment_callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<serde_json::Value>> {
    let settled = handle_callback(&state, &provider, &headers, &body).await?;
    Ok(Json(serde_json::json!({
        "ok": true,
        "result": match settled {
            orders::Settled::Paid => "paid",
            orders::Settled::AlreadyPaid => "already_paid",
        }
    })))
}

async fn sandbox_page(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
) -> AppResult<Html<String>> {
    let order = orders::get(&state.store, &order_id)
        .await?
        .ok_or_else(|| AppError::not_found("订单", "Order"))?;
    let yuan = order.amount_cents as f64 / 100.0;
    Ok(Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>沙箱支付 / Sandbox payment</title></head><body>\
         <h1>沙箱支付（测试）/ Sandbox payment (test)</h1>\
         <p>订单 / Order: {id}</p><p>金额 / Amount: ¥{yuan:.2}</p><p>状态 / Status: {status}</p>\
         <form method=\"post\"><button type=\"submit\">确认支付 / Pay</button></form>\
         <p><a href=\"{back}/\">返回 / Back</a></p></body></html>",
        id = order.id,
        status = order.status,
        back = state.public_url,
    )))
}

/// The sandbox provider "takes" the payment and sends its signed callback.
async fn sandbox_confirm(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let order = orders::get(&state.store, &order_id)
        .await?
        .ok_or_else(|| AppError::not_found("订单", "Order"))?;
    if order.provider != "sandbox" {
        return Err(AppError::not_found("订单", "Order"));
    }
    let notice = PaymentNotice {
        order_id: order.id.clone(),
        provider_ref: format!("sandbox-{}", order.id),
        amount_cents: order.amount_cents,
        paid: true,
    };
    let (body, signature) = state.payments.sandbox().callback_for(&notice)?;
    let mut callback_headers = HeaderMap::new();
    callback_headers.insert(
        crate::payment::SANDBOX_SIGNATURE_HEADER,
        signature
            .parse()
            .map_err(|_| AppError::internal("signature header"))?,
    );
    let settled = handle_callback(&state, "sandbox", &callback_headers, &body).await?;
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        return Ok(Redirect::to(&format!("{}/", state.public_url)).into_response());
    }
    Ok(Json(serde_json::json!({
        "ok": true,
        "order_id": order.id,
        "result": match settled {
            orders::Settled::Paid => "paid",
            orders::Settled::AlreadyPaid => "already_paid",
        }
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------
// Photos

async fn upload_attempt(
    State(state): State<AppState>,
    student: StudentSession,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> AppResult<(StatusCode, Json<AttemptView>)> {
    let (case, school) = load_case(&state, &student.case_id).await?;
    ensure_ready(&case)?;
    let mut upload_id = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(id) = &upload_id {
        if let Some(existing) = attempts::by_upload_id(&state.store, &case.id, id).await? {
            let view = attempt_view_in_case(&state, &case, &school.policy, &existing).await?;
            return Ok((StatusCode::OK, Json(view)));
        }
    }
    let mut source = PhotoSource::Camera;
    let mut photo = None;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed_multipart)? {
        match field.name().unwrap_or_default().to_string().as_str() {
            "upload_id" => {
                let id = read_text(&mut field, "upload_id").await?.trim().to_string();
                if !id.is_empty() && upload_id.is_none() {
                    if let Some(existing) =
                        attempts::by_upload_id(&state.store, &case.id, &id).await?
                    {
                        let view =
                            attempt_view_in_case(&state, &case, &school.policy, &existing).await?;
                        return Ok((StatusCode::OK, Json(view)));
                    }
                    upload_id = Some(id);
                }
            }
            "source" => {
                source = match read_text(&mut field, "source").await?.trim() {
                    "album" => PhotoSource::Album,
                    "camera" | "" => PhotoSource::Camera,
                    _ => return Err(AppError::from(ErrorCode::BadSource).with_field("source")),
                };
            }
            "photo" => {
                photo = Some(read_image(&mut field, state.config.max_upload_bytes, "photo").await?)
            }
            _ => {}
        }
    }
    if source == PhotoSource::Album && !school.policy.album_allowed {
        return Err(AppError::from(ErrorCode::AlbumNotAllowed).with_field("source"));
    }
    let Some((bytes, kind)) = photo else {
        return Err(AppError::from(ErrorCode::PhotoRequired).with_field("photo"));
    };
    let key = state
        .objects
        .put_sensitive(ObjectKind::Original, &bytes)
        .await?;
    let mut tx = state.store.begin().await?;
    // Re-read inside the write transaction: the case may have moved on meanwhile.
    let case = cases::get_in(tx.conn(), &case.id).await?;
    ensure_ready(&case)?;
    if let Some(id) = &upload_id {
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM attempts WHERE case_id = $1 AND client_upload_id = $2",
        )
        .bind(&case.id)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        if let Some(existing) = existing {
            drop(tx);
            let a = attempts::get(&state.store, &existing)
                .await?
                .ok_or_else(|| AppError::not_found("照片", "Photo attempt"))?;
            let view = attempt_view_in_case(&state, &case, &school.policy, &a).await?;
            return Ok((StatusCode::OK, Json(view)));
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
    let source_str = match source {
        PhotoSource::Camera => "camera",
        PhotoSource::Album => "album",
    };
    let attempt_id = attempts::insert(
        &mut tx,
        &attempts::NewAttempt {
            case_id: &case.id,
            round: case.round,
            client_upload_id: upload_id.as_deref(),
            source: source_str,
            original_key: &key,
            original_mime: kind.mime(),
            original_size: bytes.len() as i64,
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
        &student.actor(),
        AuditAction::PhotoUploaded,
        &case.id,
        serde_json::json!({
            "attempt_id": attempt_id, "bytes": bytes.len(), "type": kind.mime(), "source": source_str
        }),
    )
    .await?;
    tx.commit().await?;
    state.job_signal.notify_one();
    let a = attempts::get(&state.store, &attempt_id)
        .await?
        .ok_or_else(|| AppError::not_found("照片", "Photo attempt"))?;
    let view = attempt_view_in_case(&state, &case, &school.policy, &a).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

fn ensure_ready(case: &cases::CaseRow) -> AppResult<()> {
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

async fn own_attempt(
    state: &AppState,
    student: &StudentSession,
    id: &str,
) -> AppResult<attempts::AttemptRow> {
    match attempts::get(&state.store, id).await? {
        Some(a) if a.case_id == student.case_id => Ok(a),
        _ => Err(AppError::not_found("照片", "Photo attempt")),
    }
}

async fn get_attempt(
    State(state): State<AppState>,
    student: StudentSession,
    Path(id): Path<String>,
) -> AppResult<Json<AttemptView>> {
    let a = own_attempt(&state, &student, &id).await?;
    let (case, school) = load_case(&state, &student.case_id).await?;
    Ok(Json(
        attempt_view_in_case(&state, &case, &school.policy, &a).await?,
    ))
}

fn image_response(bytes: Vec<u8>, mime: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

async fn standardized_image(
    State(state): State<AppState>,
    student: StudentSession,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let a = own_attempt(&state, &student, &id).await?;
    let key = a
        .standardized_key
        .ok_or_else(|| AppError::not_found("标准化照片", "Standardized photo"))?;
    let bytes = state.objects.get_sensitive(&key).await?;
    Ok(image_response(bytes, "image/jpeg"))
}

async fn original_image(
    State(state): State<AppState>,
    student: StudentSession,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let a = own_attempt(&state, &student, &id).await?;
    let bytes = state.objects.get_sensitive(&a.original_key).await?;
    Ok(image_response(bytes, &a.original_mime))
}

// ---------------------------------------------------------------------------------------
// Submit, withdraw, retake

async fn submit(
    State(state): State<AppState>,
    student: StudentSession,
    Json(req): Json<SubmitRequest>,
) -> AppResult<Json<StudentCase>> {
    let (_, school) = load_case(&state, &student.case_id).await?;
    let mut tx = state.store.begin().await?;
    let case = cases::get_in(tx.conn(), &student.case_id).await?;
    let attempt = attempts::get_in(tx.conn(), &req.attempt_id).await?;
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
        } => serde_json::json!({
            "attempt_id": attempt.id,
            "flag": FlagReasons { measures: measures.clone(), face_mismatch: *face_mismatch },
        }),
        SubmitDecision::MustRetake {
            hard,
            soft,
            face_mismatch,
            attempts_left,
        } => return Err(retake_error(hard, soft, *face_mismatch, *attempts_left)),
    };
    sqlx::query("UPDATE cases SET submitted_attempt_id = $1 WHERE id = $2")
        .bind(&attempt.id)
        .bind(&case.id)
        .execute(tx.conn())
        .await?;
    cases::apply(
        &mut tx,
        &case,
        &Event::Submit {
            flagged: decision.flagged(),
        },
        &student.actor(),
        &school.policy,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

fn labels(ids: &[MeasureId], zh: bool) -> String {
    let names: Vec<&str> = ids
        .iter()
        .map(|m| if zh { m.label_zh() } else { m.label_en() })
        .collect();
    names.join(if zh { "、" } else { ", " })
}

/// The refusal of a photo the gate sends back for a retake. Codes are stable: hard failures
/// (or no standardized photo) `photo_failed_checks`; soft failures not repeated often enough
/// yet `photo_failed_checks_retake`; a face mismatch alone `face_mismatch_retake`.
fn retake_error(
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

async fn simple_event(state: &AppState, student: &StudentSession, event: Event) -> AppResult<()> {
    let (case, school) = load_case(state, &student.case_id).await?;
    let mut tx = state.store.begin().await?;
    cases::apply(
        &mut tx,
        &case,
        &event,
        &student.actor(),
        &school.policy,
        serde_json::json!({}),
    )
    .await?;
    Ok(tx.commit().await?)
}

async fn withdraw(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<StudentCase>> {
    simple_event(&state, &student, Event::Withdraw).await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

async fn retake(
    State(state): State<AppState>,
    student: StudentSession,
) -> AppResult<Json<StudentCase>> {
    simple_event(&state, &student, Event::Retake).await?;
    Ok(Json(case_view(&state, &student.case_id).await?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    //! The student journey over real HTTP against a real server (SQLite, port 0).

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
            .json(
                &serde_json::json!({ "version": demo_policy().privacy_version, "accepted": true }),
            )
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
        let sandbox = w.handle.state.payments.sandbox();
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
            .json(
                &serde_json::json!({ "version": demo_policy().privacy_version, "accepted": true }),
            )
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
        let resp = post("/api/student/identity")
            .multipart(form(jpeg_of_size(LIMIT), jpeg_of_size(LIMIT)))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let case: StudentCase = resp.json().await.unwrap();
        assert_eq!(case.state, CaseState::IdentityVerified);
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
            .json(
                &serde_json::json!({ "version": demo_policy().privacy_version, "accepted": true }),
            )
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
}
