//! Reviewer endpoints: the queue, leases, the review record with its images, and decisions.
//! Every handler checks the staff role and, for staff bound to a school, the case's school.

use gradphoto_api::error::ErrorCode;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gradphoto_api::review::{
    AttemptSummary, ClaimRequest, ClaimResponse, DecisionRecord, DecisionRequest, FaceMatchSummary,
    IdNumberView, ImageKind, ImageRef, Lease, QueuePage, QueueQuery, Released, ReviewItem,
    ReviewStudent, SensitiveQuery, StateCount,
};
use gradphoto_domain::access;
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::measures::CheckReport;
use gradphoto_domain::state::CaseState;

use crate::http::auth::{Reviewer, StaffSession};
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{JsonBody, Params};
use crate::journey::{self, review::Decider};
use crate::store::cases::{self, CaseRow};
use crate::store::review::{self as rstore, QueueFilter, MAX_CLAIM};
use crate::store::{attempts, now_ms, schools, students};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/review/queue", get(queue))
        .route("/api/review/claim", post(claim))
        .route("/api/review/items/{case_id}", get(item))
        .route("/api/review/items/{case_id}/renew", post(renew))
        .route("/api/review/items/{case_id}/release", post(release))
        .route("/api/review/items/{case_id}/id-number", get(id_number))
        .route("/api/review/items/{case_id}/images/{kind}", get(image))
        .route("/api/review/items/{case_id}/decision", post(decision))
}

/// Lease length from the configuration, in milliseconds.
pub fn lease_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.review_lease_seconds)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
}

fn lease_of(case: &CaseRow) -> Option<Lease> {
    case.lease.as_ref().map(|l| Lease {
        case_id: case.id.clone(),
        holder: l.holder.clone(),
        until_ms: cases::utc_to_ms(l.until),
    })
}

/// The school filter a staff member may use: bound staff are held to their school.
pub fn school_scope(staff: &StaffSession, requested: Option<&str>) -> AppResult<Option<String>> {
    match (&staff.school_id, requested) {
        (Some(own), Some(req)) if own != req => Err(AppError::forbidden()),
        (Some(own), _) => Ok(Some(own.clone())),
        (None, req) => Ok(req.map(str::to_string)),
    }
}

fn bad_cursor() -> AppError {
    AppError::from(ErrorCode::BadCursor).with_field("cursor")
}

/// Queue cursors are `<submitted_at>.<case id>` of the last item of a page.
pub(super) fn parse_queue_cursor(cursor: &str) -> AppResult<(i64, String)> {
    let (t, id) = cursor.split_once('.').ok_or_else(bad_cursor)?;
    let t: i64 = t.parse().map_err(|_| bad_cursor())?;
    if id.is_empty() || id.len() > 64 {
        return Err(bad_cursor());
    }
    Ok((t, id.to_string()))
}

pub(super) fn page_limit(limit: Option<u32>, default: u32, max: u32) -> AppResult<u32> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(AppError::new(
            ErrorCode::BadLimit,
            format!("每页数量须在 1 到 {max} 之间。"),
            format!("The page size must be between 1 and {max}."),
        )
        .with_field("limit")),
    }
}

async fn queue(
    State(state): State<AppState>,
    Reviewer(staff): Reviewer,
    Params(q): Params<QueueQuery>,
) -> AppResult<Json<QueuePage>> {
    let school = school_scope(&staff, q.school.as_deref())?;
    let limit = page_limit(q.limit, 50, 200)?;
    let review_state = q.state.unwrap_or(CaseState::PendingReview);
    if !matches!(
        review_state,
        CaseState::PendingReview | CaseState::InReview | CaseState::Rejected | CaseState::Approved
    ) {
        return Err(AppError::from(ErrorCode::BadQueueState).with_field("state"));
    }
    if q.waiting_min.is_some_and(|m| m < 0) {
        return Err(AppError::from(ErrorCode::BadWaitingMin).with_field("waiting_min"));
    }
    rstore::sweep_expired(&state.store, &staff.actor()).await?;
    let filter = QueueFilter {
        state: review_state,
        school_id: school.clone(),
        flagged: q.flagged,
        submitted_before: q
            .waiting_min
            .map(|m| now_ms().saturating_sub(m.saturating_mul(60_000))),
        after: q.cursor.as_deref().map(parse_queue_cursor).transpose()?,
        limit,
    };
    let (items, has_more) = rstore::queue(&state.store, &filter).await?;
    let next_cursor = if has_more {
        items
            .last()
            .map(|i| format!("{}.{}", i.submitted_at_ms, i.case_id))
    } else {
        None
    };
    let counts = cached_counts(&state, school.as_deref()).await?;
    Ok(Json(QueuePage {
        items,
        next_cursor,
        has_more,
        counts,
    }))
}

/// How long the queue's per-state counts are reused. Exact counts cost a scan of every
/// pending row (tens of milliseconds on PostgreSQL with 100,000 waiting), while the list
/// itself is an index seek; reviewers paging through the queue see counts at most this old.
const COUNTS_TTL: Duration = Duration::from_secs(2);

/// When each school filter's counts were read, and what they were.
type CountsBySchool = HashMap<Option<String>, (Instant, Vec<StateCount>)>;

/// Per-server cache of the queue's per-state counts, by school filter.
#[derive(Debug, Default)]
pub struct CountsCache(Mutex<CountsBySchool>);

async fn cached_counts(state: &AppState, school: Option<&str>) -> AppResult<Vec<StateCount>> {
    let key = school.map(str::to_string);
    if let Ok(map) = state.review_counts.0.lock() {
        if let Some((at, counts)) = map.get(&key) {
            if at.elapsed() < COUNTS_TTL {
                return Ok(counts.clone());
            }
        }
    }
    let counts = rstore::review_counts(&state.store, school).await?;
    if let Ok(mut map) = state.review_counts.0.lock() {
        map.retain(|_, (at, _)| at.elapsed() < COUNTS_TTL);
        map.insert(key, (Instant::now(), counts.clone()));
    }
    Ok(counts)
}

async fn claim(
    State(state): State<AppState>,
    Reviewer(staff): Reviewer,
    JsonBody(req): JsonBody<ClaimRequest>,
) -> AppResult<Json<ClaimResponse>> {
    let lease = lease_ms(&state);
    let claimed = match (&req.case_id, req.count) {
        (Some(case_id), None) => vec![
            rstore::claim_case(
                &state.store,
                &staff.actor(),
                case_id,
                staff.school_id.as_deref(),
                lease,
                state.config.review_max_held,
            )
            .await?,
        ],
        (None, Some(count)) if (1..=MAX_CLAIM).contains(&count) => {
            let school = school_scope(&staff, req.school.as_deref())?;
            rstore::claim_next(
                &state.store,
                &staff.actor(),
                count,
                school.as_deref(),
                lease,
                state.config.review_max_held,
            )
            .await?
        }
        _ => {
            return Err(AppError::new(
                ErrorCode::BadClaim,
                format!("请指定 count（1 到 {MAX_CLAIM}）或 case_id 其中之一。"),
                format!("Give either count (1 to {MAX_CLAIM}) or case_id."),
            ))
        }
    };
    Ok(Json(ClaimResponse {
        leases: claimed.iter().filter_map(lease_of).collect(),
        lease_seconds: state.config.review_lease_seconds,
    }))
}

async fn renew(
    State(state): State<AppState>,
    Reviewer(staff): Reviewer,
    Path(case_id): Path<String>,
) -> AppResult<Json<Lease>> {
    let case = rstore::renew(
        &state.store,
        &staff.actor(),
        &case_id,
        staff.school_id.as_deref(),
        lease_ms(&state),
    )
    .await?;
    lease_of(&case)
        .map(Json)
        .ok_or_else(|| AppError::internal("renewed case without lease"))
}

async fn release(
    State(state): State<AppState>,
    Reviewer(staff): Reviewer,
    Path(case_id): Path<String>,
) -> AppResult<Json<Released>> {
    let state = rstore::release(
        &state.store,
        &staff.actor(),
        &case_id,
        staff.school_id.as_deref(),
    )
    .await?;
    Ok(Json(Released { case_id, state }))
}

async fn decision(
    State(state): State<AppState>,
    Reviewer(staff): Reviewer,
    Path(case_id): Path<String>,
    JsonBody(req): JsonBody<DecisionRequest>,
) -> AppResult<Json<DecisionRecord>> {
    let actor = staff.actor();
    let who = Decider {
        actor: &actor,
        case_id: &case_id,
        decision_id: &req.decision_id,
        visible_school: staff.school_id.as_deref(),
    };
    Ok(Json(
        journey::review::decide(&state, who, &req.verdict).await?,
    ))
}

/// Loads a case the staff member may see: of their school, and submitted for review (before
/// that, and after a withdrawal, it is the student's alone and looks missing).
pub async fn visible_case(
    state: &AppState,
    staff: &StaffSession,
    case_id: &str,
) -> AppResult<CaseRow> {
    let case = cases::get(&state.store, case_id)
        .await?
        .filter(|c| access::visible_to_reviewers(c.state))
        .ok_or_else(|| AppError::not_found("采集记录", "Case"))?;
    rstore::ensure_visible(&case, staff.school_id.as_deref())?;
    Ok(case)
}

/// Allows a read of the case's sensitive parts (the rule is `domain::access`) and records it,
/// with its basis, before anything leaves the server.
async fn sensitive_read(
    state: &AppState,
    staff: &StaffSession,
    case: &CaseRow,
    reason: Option<&str>,
    action: AuditAction,
    details: serde_json::Value,
) -> AppResult<()> {
    let now = now_ms();
    let holds_lease = case.state == CaseState::InReview
        && case
            .lease
            .as_ref()
            .is_some_and(|l| l.holder == staff.user_id && cases::utc_to_ms(l.until) > now);
    let basis = access::sensitive_read(staff.role, holds_lease, reason)
        .map_err(|e| AppError::localized(&e))?;
    let mut record = serde_json::json!({ "basis": basis.as_str() });
    if let access::Basis::SupervisorReason(why) = basis {
        record["reason"] = serde_json::Value::from(why);
    }
    if let (Some(all), Some(extra)) = (record.as_object_mut(), details.as_object()) {
        all.extend(extra.clone());
    }
    let mut tx = state.store.begin().await?;
    tx.audit(&staff.actor(), action, &case.id, record).await?;
    tx.commit().await?;
    Ok(())
}

/// The student a case is about and the record staff see of them (the ID number masked); the
/// student row is returned too, for what only the server reads (the enrollment photo's key).
pub async fn case_student(
    state: &AppState,
    case: &CaseRow,
) -> AppResult<(students::StudentRow, ReviewStudent)> {
    let student = students::get(&state.store, &case.student_id)
        .await?
        .ok_or_else(|| AppError::internal("case without student"))?;
    let school = schools::get(&state.store, &case.school_id)
        .await?
        .ok_or_else(|| AppError::internal("case without school"))?;
    let record = ReviewStudent {
        name: student.name.clone(),
        id_number_masked: student.id_number_masked.clone(),
        student_no: student.student_no.clone(),
        school_id: school.id,
        school_name: school.name,
        college: student.college.clone(),
        major: student.major.clone(),
        level: student.level.clone(),
        graduation_year: student.graduation_year,
    };
    Ok((student, record))
}

async fn item(
    State(state): State<AppState>,
    Reviewer(staff): Reviewer,
    Path(case_id): Path<String>,
) -> AppResult<Json<ReviewItem>> {
    let case = visible_case(&state, &staff, &case_id).await?;
    let (student, record) = case_student(&state, &case).await?;
    let attempt_rows = attempts::list_for_case(&state.store, &case.id).await?;
    let submitted = case
        .submitted_attempt_id
        .as_deref()
        .and_then(|id| attempt_rows.iter().find(|a| a.id == id));
    let report: Option<CheckReport> = submitted
        .and_then(|a| a.report_json.as_deref())
        .map(serde_json::from_str)
        .transpose()?;
    let face_match = FaceMatchSummary {
        same_person: submitted.and_then(|a| a.face_same_person),
        distance: submitted.and_then(|a| a.face_distance),
        failures: case.face_match_failures,
    };
    let base = format!("/api/review/items/{}/images", case.id);
    let mut images = Vec::new();
    let mut add = |kind: ImageKind, present: bool| {
        if present {
            images.push(ImageRef {
                kind,
                url: format!("{base}/{}", kind.as_str()),
            });
        }
    };
    add(ImageKind::IdFront, case.id_front_key.is_some());
    add(ImageKind::IdBack, case.id_back_key.is_some());
    add(ImageKind::Enrollment, student.enrollment_photo.is_some());
    add(ImageKind::Original, submitted.is_some());
    add(
        ImageKind::Standardized,
        submitted.is_some_and(|a| a.standardized_key.is_some()),
    );
    let attempts = attempt_rows
        .iter()
        .map(|a| AttemptSummary {
            attempt_id: a.id.clone(),
            round: a.round,
            status: a.status.clone(),
            overall: a.overall.clone(),
            face_same_person: a.face_same_person,
            created_at_ms: a.created_at,
            submitted: case.submitted_attempt_id.as_deref() == Some(a.id.as_str()),
        })
        .collect();
    let decisions = rstore::decisions_for_case(&state.store, &case.id).await?;
    let flag = rstore::flag_reasons(&state.store, &case).await?;
    let spec = schools::get(&state.store, &case.school_id)
        .await?
        .ok_or_else(|| AppError::not_found("学校", "School"))?
        .policy
        .photo_spec();
    let now = cases::ms_to_utc(now_ms());
    Ok(Json(ReviewItem {
        case_id: case.id.clone(),
        state: case.state.effective(now, case.lease.as_ref()),
        round: case.round,
        flagged: case.flagged,
        flag,
        submitted_at_ms: case.submitted_at,
        lease: lease_of(&case).filter(|l| l.until_ms > now.timestamp_millis()),
        student: record,
        attempts,
        decisions,
        images,
        report,
        face_match,
        spec,
    }))
}

async fn id_number(
    State(state): State<AppState>,
    Reviewer(staff): Reviewer,
    Path(case_id): Path<String>,
    Params(q): Params<SensitiveQuery>,
) -> AppResult<Json<IdNumberView>> {
    let case = visible_case(&state, &staff, &case_id).await?;
    sensitive_read(
        &state,
        &staff,
        &case,
        q.reason.as_deref(),
        AuditAction::IdNumberViewed,
        serde_json::json!({}),
    )
    .await?;
    let id_number =
        students::reveal_id_number(&state.store, &state.crypto, &case.student_id).await?;
    Ok(Json(IdNumberView {
        case_id: case.id,
        id_number,
    }))
}

fn image_not_found() -> AppError {
    AppError::not_found("图片", "Image")
}

fn content_type_of(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.len() > 12 && &bytes[4..8] == b"ftyp" {
        "image/heic"
    } else {
        "application/octet-stream"
    }
}

async fn image(
    State(state): State<AppState>,
    Reviewer(staff): Reviewer,
    Path((case_id, kind)): Path<(String, String)>,
    Params(q): Params<SensitiveQuery>,
) -> AppResult<Response> {
    let kind = ImageKind::parse(&kind)
        .ok_or_else(|| AppError::from(ErrorCode::BadImageKind).with_field("kind"))?;
    let case = visible_case(&state, &staff, &case_id).await?;
    let submitted = match &case.submitted_attempt_id {
        Some(id) => attempts::get(&state.store, id).await?,
        None => None,
    };
    let key = match kind {
        ImageKind::IdFront => case.id_front_key.clone(),
        ImageKind::IdBack => case.id_back_key.clone(),
        ImageKind::Enrollment => students::get(&state.store, &case.student_id)
            .await?
            .and_then(|s| s.enrollment_photo),
        ImageKind::Original => submitted.map(|a| a.original_key),
        ImageKind::Standardized => submitted.and_then(|a| a.standardized_key),
    }
    .ok_or_else(image_not_found)?;
    // ID cards, the untouched original and the school's enrollment photo are sensitive: read
    // under the rule of `domain::access`, recorded before the bytes leave. The standardized
    // photo is what is under review, and visible with the case.
    let sensitive = match kind {
        ImageKind::IdFront | ImageKind::IdBack => Some(AuditAction::IdCardViewed),
        ImageKind::Original | ImageKind::Enrollment => Some(AuditAction::PhotoViewed),
        ImageKind::Standardized => None,
    };
    if let Some(action) = sensitive {
        sensitive_read(
            &state,
            &staff,
            &case,
            q.reason.as_deref(),
            action,
            serde_json::json!({ "image": kind.as_str() }),
        )
        .await?;
    }
    let bytes = state.objects.get_sensitive(&key).await?;
    let content_type = HeaderValue::from_static(content_type_of(&bytes));
    let mut response = Response::new(Body::from(bytes));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    // Decrypted personal images must not linger in shared caches.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response.into_response())
}
