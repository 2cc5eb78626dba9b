//! What the student sees: the case with its attempts, gate decisions, order and latest
//! decision; the school and its policy summary.

use chrono::Utc;
use gradphoto_api::common::{
    AttemptStatus, AttemptView, DecisionView, FaceMatchView, OcrView, PhotoSource, PolicySummary,
    ReasonView, SchoolInfo, UploadRules,
};
use gradphoto_api::error::ErrorBody;
use gradphoto_api::student::{ConsentView, OrderStatus, OrderView, RecordView, StudentCase};
use gradphoto_domain::gate::SubmitDecision;
use gradphoto_domain::measures::{CheckReport, Verdict};
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::reasons::RejectReason;

use crate::analyzer::OcrResult;
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::journey::student::{gate_of, load_case, round_reports, round_reports_of};
use crate::store::{attempts, cases, consents, orders, review, schools, students};
use crate::AppState;

pub fn school_info(school: &schools::SchoolRow) -> SchoolInfo {
    SchoolInfo {
        id: school.id.clone(),
        name: school.name.clone(),
        support_phone: school.policy.support_phone.clone(),
        support_hours: school.policy.support_hours.clone(),
        submission_deadline: school.policy.submission_deadline.trim().to_string(),
        days_left: school
            .policy
            .days_left(gradphoto_domain::calendar::cst_date(
                Utc::now().timestamp_millis(),
            )),
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
        photo_background_zh: p.photo_background.label_zh().to_string(),
        photo_background_en: p.photo_background.label_en().to_string(),
        photo_min_kb: p.photo_min_kb,
        photo_max_kb: p.photo_max_kb,
        privacy_text_zh: p.privacy_text_zh.trim().to_string(),
        privacy_text_en: p.privacy_text_en.trim().to_string(),
    }
}

pub(super) fn parse_enum<T: serde::de::DeserializeOwned>(s: &str) -> AppResult<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| AppError::internal(format_args!("unknown stored value {s:?}")))
}

/// The attempt as the portal sees it, with the submit decision of the current round.
pub(super) async fn attempt_view_in_case(
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

pub(super) fn order_view(o: &orders::OrderRow) -> AppResult<OrderView> {
    Ok(OrderView {
        id: o.id.clone(),
        provider: o.provider.clone(),
        amount_cents: o.amount_cents,
        status: parse_enum::<OrderStatus>(&o.status)?,
        round: o.round,
    })
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
