//! Supervisor endpoints: overrides, the audit log (paged, verifiable), a case's timeline and
//! statistics. Quality sampling and override confirmations are in `quality`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderName};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use chrono::Utc;
use gradphoto_api::audit::{
    AuditEntry, AuditPage, AuditQuery, AuditStudent, AuditVerification, BrokenLink, CaseTimeline,
    RevealRequest, RevealedIdNumber, TimelineAttempt, TimelineConcern,
};
use gradphoto_api::error::ErrorCode;
use gradphoto_api::quality::OverrideOutcome;
use gradphoto_api::review::{OverrideRequest, Stats, StatsQuery, MAX_STATS_DAYS};
use gradphoto_domain::access;
use gradphoto_domain::audit::{AuditAction, AuditEvent};
use gradphoto_domain::calendar;
use gradphoto_domain::idnumber::IdNumber;
use gradphoto_domain::measures::{CheckReport, Verdict as MeasureVerdict};
use gradphoto_domain::text;
use gradphoto_domain::Localized;

use crate::http::auth::{StaffSession, Supervisor};
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{JsonBody, Params};
use crate::http::review::{case_student, school_scope};
use crate::journey::{self, review::Decider};
use crate::store::review as rstore;
use crate::store::{attempts, audit, cases, now_ms, students, users};
use crate::AppState;

/// Days of statistics returned when no range is asked for.
const STATS_DAYS: i64 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/supervisor/items/{case_id}/override",
            post(override_decision),
        )
        .route("/api/supervisor/audit", get(audit_page))
        .route("/api/supervisor/audit/verify", get(audit_verify))
        .route("/api/supervisor/audit/export", get(audit_export))
        .route(
            "/api/supervisor/students/{student_id}/id-number",
            post(reveal_id_number),
        )
        .route("/api/supervisor/cases/{case_id}/timeline", get(timeline))
        .route(
            "/api/supervisor/cases/{case_id}/attempts/{attempt_id}/standardized.jpg",
            get(timeline_photo),
        )
        .route("/api/supervisor/stats", get(stats))
}

async fn override_decision(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path(case_id): Path<String>,
    JsonBody(req): JsonBody<OverrideRequest>,
) -> AppResult<Json<OverrideOutcome>> {
    let actor = staff.actor();
    let who = Decider {
        actor: &actor,
        case_id: &case_id,
        decision_id: &req.decision_id,
        visible_school: staff.school_id.as_deref(),
    };
    let outcome =
        journey::review::override_decision(&state, who, &req.verdict, &req.override_comment)
            .await?;
    Ok(Json(match outcome {
        rstore::overrides::Outcome::Applied(decision) => OverrideOutcome::Applied { decision },
        rstore::overrides::Outcome::AwaitingConfirmation(row) => {
            OverrideOutcome::AwaitingConfirmation {
                request: Box::new(super::quality::one_request(&state, row, None).await?),
            }
        }
    }))
}

/// Most events one page holds.
const AUDIT_PAGE_MAX: u32 = 500;
/// Events read per query while the export streams.
const EXPORT_BATCH: u32 = 1000;

fn audit_limit(limit: Option<u32>) -> AppResult<u32> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=AUDIT_PAGE_MAX).contains(&n) => Ok(n),
        Some(_) => Err(AppError::new(
            ErrorCode::BadLimit,
            format!("每页数量须在 1 到 {AUDIT_PAGE_MAX} 之间。"),
            format!("The page size must be between 1 and {AUDIT_PAGE_MAX}."),
        )
        .with_field("limit")),
    }
}

/// The store's filter for a query, within what `staff` may see: staff bound to a school see
/// only its events, and a student is found only among its students.
async fn audit_filter(
    state: &AppState,
    staff: &StaffSession,
    q: &AuditQuery,
) -> AppResult<audit::AuditFilter> {
    let school_id = school_scope(staff, q.school.as_deref())?;
    let action = match q.action.as_deref() {
        None => None,
        Some(code) => Some(code.parse::<AuditAction>().map_err(|_| {
            AppError::new(
                ErrorCode::BadRequest,
                format!("未知的操作类型：{}", text::stranger(code)),
                format!("Unknown action: {}", text::stranger(code)),
            )
            .with_field("action")
        })?),
    };
    if let (Some(from), Some(to)) = (q.from_ms, q.to_ms) {
        if from >= to {
            return Err(AppError::new(
                ErrorCode::BadRequest,
                "时间范围的开始须早于结束。",
                "The start of the time range must be before its end.",
            )
            .with_field("from_ms"));
        }
    }
    let subjects = match q.student.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(who) => {
            // An ID number is found through its keyed hash, however it was typed.
            let id_hash = IdNumber::parse(who, Utc::now().date_naive())
                .ok()
                .map(|id| students::id_hash(&state.crypto, id.as_str()));
            Some(
                audit::cases_of_students(
                    &state.store,
                    who,
                    id_hash.as_deref(),
                    school_id.as_deref(),
                )
                .await?,
            )
        }
    };
    Ok(audit::AuditFilter {
        school_id,
        actor_id: q.actor.clone().filter(|a| !a.is_empty()),
        action,
        subjects,
        from_ms: q.from_ms,
        to_ms: q.to_ms,
    })
}

async fn audit_page(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Params(q): Params<AuditQuery>,
) -> AppResult<Json<AuditPage>> {
    let limit = audit_limit(q.limit)?;
    let filter = audit_filter(&state, &staff, &q).await?;
    let page = match (q.after, q.before) {
        (Some(after), _) => audit::Page::Oldest {
            after: after.max(0),
        },
        (None, before) => audit::Page::Newest { before },
    };
    let mut listed = audit::search(&state.store, &filter, page, limit + 1).await?;
    let has_more = listed.len() > limit as usize;
    listed.truncate(limit as usize);
    let events = entries(&state, listed).await?;
    let next_cursor = match (events.last(), page) {
        (Some(last), _) => last.seq,
        (None, audit::Page::Oldest { after }) => after,
        (None, audit::Page::Newest { .. }) => 0,
    };
    Ok(Json(AuditPage {
        events,
        next_cursor,
        has_more,
    }))
}

/// The page's events as the history shows them, each case event with its student (masked).
async fn entries(state: &AppState, listed: Vec<audit::Listed>) -> AppResult<Vec<AuditEntry>> {
    // Subjects and actors are case ids (students act on their own case) or account ids.
    let mut ids: Vec<String> = listed
        .iter()
        .flat_map(|l| [l.event.subject.clone(), l.event.actor.id.clone()])
        .collect();
    ids.sort();
    ids.dedup();
    let students = audit::students_of_cases(&state.store, &ids).await?;
    let accounts = users::names(&state.store, &ids).await?;
    Ok(listed
        .into_iter()
        .map(|l| {
            let student = students.get(&l.event.subject).cloned();
            let actor_name = accounts
                .get(&l.event.actor.id)
                .cloned()
                .or_else(|| students.get(&l.event.actor.id).map(|s| s.name.clone()));
            let subject_name = accounts.get(&l.event.subject).cloned();
            let mut e = entry(l.event, l.school_id, student);
            e.actor_name = actor_name;
            e.subject_name = subject_name;
            e
        })
        .collect())
}

/// Every event matching the filters, oldest first, as CSV (UTF-8 with a byte-order mark so
/// spreadsheets read the Chinese text). Read and written a batch at a time; the number of
/// events is sent first (`X-Audit-Events`) so a client can show progress. The export is itself
/// an audit event.
async fn audit_export(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Params(q): Params<AuditQuery>,
) -> AppResult<Response> {
    let filter = audit_filter(&state, &staff, &q).await?;
    let total = audit::count_matching(&state.store, &filter).await?;
    let mut tx = state.store.begin().await?;
    tx.audit(
        &staff.actor(),
        AuditAction::AuditExported,
        staff.school_id.as_deref().unwrap_or("audit"),
        serde_json::json!({ "events": total, "filters": serde_json::to_value(&q).unwrap_or_default() }),
    )
    .await?;
    tx.commit().await?;

    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::spawn(async move {
        let head = csv_lines([EXPORT_HEADER.map(String::from)]).map(|lines| {
            let mut head = b"\xEF\xBB\xBF".to_vec();
            head.extend(lines);
            head
        });
        if sender.send(head).await.is_err() {
            return;
        }
        let mut after = 0;
        loop {
            let batch = match audit::search(
                &state.store,
                &filter,
                audit::Page::Oldest { after },
                EXPORT_BATCH,
            )
            .await
            {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!("audit export: {e}");
                    let _ = sender
                        .send(Err(std::io::Error::other("audit export")))
                        .await;
                    return;
                }
            };
            let Some(last) = batch.last() else {
                return;
            };
            after = i64::try_from(last.event.seq).unwrap_or(i64::MAX);
            let rows = match entries(&state, batch).await {
                Ok(rows) => rows,
                Err(_) => {
                    let _ = sender
                        .send(Err(std::io::Error::other("audit export")))
                        .await;
                    return;
                }
            };
            if sender
                .send(csv_lines(rows.iter().map(export_cells)))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let body = Body::from_stream(futures::stream::unfold(receiver, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"".to_string(),
            ),
            (HeaderName::from_static("x-audit-events"), total.to_string()),
        ],
        body,
    )
        .into_response())
}

const EXPORT_HEADER: [&str; 14] = [
    "序号 seq",
    "时间 time (UTC)",
    "操作人角色 actor role",
    "操作人 actor",
    "操作人姓名 actor name",
    "操作 action",
    "操作名称 action name",
    "学校 school",
    "姓名 name",
    "学号 student no",
    "身份证号（已遮盖）ID number (masked)",
    "状态变化 state change",
    "对象 subject",
    "详情 details",
];

fn export_cells(e: &AuditEntry) -> [String; 14] {
    let at = chrono::DateTime::from_timestamp_millis(e.at_ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_default();
    let student = e.student.as_ref();
    let change = match (&e.state_from, &e.state_to) {
        (Some(from), Some(to)) => format!("{from} → {to}"),
        _ => String::new(),
    };
    [
        e.seq.to_string(),
        at,
        e.actor_role
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
        e.actor_id.clone(),
        e.actor_name.clone().unwrap_or_default(),
        e.action.clone(),
        format!("{} / {}", e.action_label_zh, e.action_label_en),
        e.school_id.clone().unwrap_or_default(),
        student.map(|s| s.name.clone()).unwrap_or_default(),
        student.map(|s| s.student_no.clone()).unwrap_or_default(),
        student
            .map(|s| s.id_number_masked.clone())
            .unwrap_or_default(),
        change,
        e.subject.clone(),
        e.details.to_string(),
    ]
}

/// CSV lines, every cell quoted and ending in CRLF (what spreadsheets expect), with text a
/// spreadsheet would run as a formula written as text.
fn csv_lines<const N: usize>(
    rows: impl IntoIterator<Item = [String; N]>,
) -> Result<Vec<u8>, std::io::Error> {
    let mut out = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        out.write_record(row.iter().map(|c| text::csv_cell(c).into_owned()))
            .map_err(std::io::Error::other)?;
    }
    out.into_inner().map_err(|e| e.into_error())
}

/// Most events one timeline lists (a case has a few dozen in a normal season).
const TIMELINE_EVENTS: u32 = 2000;

/// A case of the supervisor's school (any state: the history is read before submission too).
async fn supervised_case(
    state: &AppState,
    staff: &StaffSession,
    case_id: &str,
) -> AppResult<cases::CaseRow> {
    let case = cases::get(&state.store, case_id)
        .await?
        .ok_or_else(|| AppError::not_found("采集记录", "Case"))?;
    rstore::ensure_visible(&case, staff.school_id.as_deref())?;
    Ok(case)
}

/// A student's whole history: every attempt with what its checks said, every decision and
/// override, and every audit event about the case.
async fn timeline(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path(case_id): Path<String>,
) -> AppResult<Json<CaseTimeline>> {
    let case = supervised_case(&state, &staff, &case_id).await?;
    let (student, record) = case_student(&state, &case).await?;
    let listed = audit::search(
        &state.store,
        &audit::AuditFilter {
            subjects: Some(vec![case.id.clone()]),
            ..audit::AuditFilter::default()
        },
        audit::Page::Oldest { after: 0 },
        TIMELINE_EVENTS,
    )
    .await?;
    let events = entries(&state, listed).await?;
    // Every attempt ever sent to review, in this round or an earlier one.
    let submitted: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e.action == AuditAction::Submitted.code())
        .filter_map(|e| e.details.get("attempt_id").and_then(|v| v.as_str()))
        .chain(case.submitted_attempt_id.as_deref())
        .collect();
    let mut attempts = Vec::new();
    for a in attempts::list_for_case(&state.store, &case.id).await? {
        let was_submitted = submitted.contains(a.id.as_str());
        attempts.push(timeline_attempt(&case.id, a, was_submitted)?);
    }
    attempts.sort_by_key(|a| a.created_at_ms);
    let now = cases::ms_to_utc(now_ms());
    Ok(Json(CaseTimeline {
        state: case.state.effective(now, case.lease.as_ref()),
        round: case.round,
        flagged: case.flagged,
        student: record,
        student_id: student.id,
        attempts,
        decisions: rstore::decisions_for_case(&state.store, &case.id).await?,
        events,
        case_id: case.id,
    }))
}

/// One attempt as the timeline (and a re-review sample) shows it: its photo's address and
/// what its checks did not pass.
pub(super) fn timeline_attempt(
    case_id: &str,
    a: attempts::AttemptRow,
    submitted: bool,
) -> AppResult<TimelineAttempt> {
    let report: Option<CheckReport> = a
        .report_json
        .as_deref()
        .map(serde_json::from_str)
        .transpose()?;
    let concerns = report
        .iter()
        .flat_map(|r| &r.measures)
        .filter(|m| m.verdict != MeasureVerdict::Pass)
        .map(|m| TimelineConcern {
            measure: m.id.code().to_string(),
            verdict: if m.verdict == MeasureVerdict::Fail {
                "fail"
            } else {
                "warn"
            }
            .to_string(),
            label_zh: m.id.label_zh().to_string(),
            label_en: m.id.label_en().to_string(),
        })
        .collect();
    Ok(TimelineAttempt {
        standardized_url: a.standardized_key.as_ref().map(|_| {
            format!(
                "/api/supervisor/cases/{}/attempts/{}/standardized.jpg",
                case_id, a.id
            )
        }),
        submitted,
        attempt_id: a.id,
        round: a.round,
        status: a.status,
        overall: a.overall,
        concerns,
        face_same_person: a.face_same_person,
        created_at_ms: a.created_at,
    })
}

/// The standardized photo of one of a case's attempts: what was (or would have been)
/// reviewed, shown with the case's history as it is to reviewers.
async fn timeline_photo(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path((case_id, attempt_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let case = supervised_case(&state, &staff, &case_id).await?;
    let key = attempts::get(&state.store, &attempt_id)
        .await?
        .filter(|a| a.case_id == case.id)
        .and_then(|a| a.standardized_key)
        .ok_or_else(|| AppError::not_found("图片", "Image"))?;
    let bytes = state.objects.get_sensitive(&key).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            // Decrypted personal images must not linger in shared caches.
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// A student's full ID number for a supervisor who gives a reason, recorded (with the reason)
/// in the audit log before it leaves the server.
async fn reveal_id_number(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Path(student_id): Path<String>,
    JsonBody(req): JsonBody<RevealRequest>,
) -> AppResult<Json<RevealedIdNumber>> {
    let student = students::get(&state.store, &student_id)
        .await?
        .filter(|s| {
            staff
                .school_id
                .as_deref()
                .is_none_or(|own| own == s.school_id)
        })
        .ok_or_else(|| AppError::not_found("学生", "Student"))?;
    let basis = access::sensitive_read(staff.role, false, Some(req.reason.as_str()))
        .map_err(|e| AppError::localized(&e))?;
    let case = cases::get_by_student(&state.store, &student.id).await?;
    let subject = case.as_ref().map_or(student.id.as_str(), |c| c.id.as_str());
    let mut tx = state.store.begin().await?;
    tx.audit(
        &staff.actor(),
        AuditAction::IdNumberViewed,
        subject,
        serde_json::json!({ "basis": basis.as_str(), "reason": req.reason, "from": "audit" }),
    )
    .await?;
    tx.commit().await?;
    let id_number = students::reveal_id_number(&state.store, &state.crypto, &student.id).await?;
    Ok(Json(RevealedIdNumber { id_number }))
}

async fn audit_verify(
    State(state): State<AppState>,
    _: Supervisor,
) -> AppResult<Json<AuditVerification>> {
    let verification = match audit::verify(&state.store).await? {
        Ok(checked) => AuditVerification {
            ok: true,
            checked: i64::try_from(checked).unwrap_or(i64::MAX),
            first_broken: None,
        },
        Err(broken) => AuditVerification {
            ok: false,
            checked: i64::try_from(broken.seq.saturating_sub(1)).unwrap_or(i64::MAX),
            first_broken: Some(BrokenLink {
                seq: i64::try_from(broken.seq).unwrap_or(i64::MAX),
                code: broken.code().to_string(),
                message_zh: broken.message_zh(),
                message_en: broken.message_en(),
            }),
        },
    };
    Ok(Json(verification))
}

fn entry(e: AuditEvent, school_id: Option<String>, student: Option<AuditStudent>) -> AuditEntry {
    let state = |key: &str| {
        e.details
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let (state_from, state_to) = match (state("from"), state("to")) {
        (Some(from), Some(to)) => (Some(from), Some(to)),
        _ => (None, None),
    };
    AuditEntry {
        school_id,
        student,
        actor_name: None,
        subject_name: None,
        state_from,
        state_to,
        seq: i64::try_from(e.seq).unwrap_or(i64::MAX),
        at_ms: e.at_ms,
        actor_role: e.actor.role,
        actor_id: e.actor.id,
        action: e.action.code().to_string(),
        action_label_zh: e.action.label_zh().to_string(),
        action_label_en: e.action.label_en().to_string(),
        subject: e.subject,
        details: e.details,
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

async fn stats(
    State(state): State<AppState>,
    Supervisor(staff): Supervisor,
    Params(q): Params<StatsQuery>,
) -> AppResult<Json<Stats>> {
    let school_id = school_scope(&staff, q.school.as_deref())?;
    let now = now_ms();
    let (from, to) = stats_range(&q, calendar::cst_date(now))?;
    let filter = rstore::StatsFilter {
        from_ms: calendar::cst_day_start_ms(from),
        to_ms: calendar::cst_day_start_ms(to + chrono::Duration::days(1)),
        school_id,
        college: q
            .college
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    };
    Ok(Json(
        journey::stats::figures(&state.store, &state.stats_days, &filter, from, to, now).await?,
    ))
}

/// The statistics' days: `from..=to` in China Standard Time, by default the 30 days ending
/// today, at most [`MAX_STATS_DAYS`].
fn stats_range(q: &StatsQuery, today: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
    let parse = |text: Option<&str>, field: &'static str| -> AppResult<Option<NaiveDate>> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => calendar::parse_date(t)
                .map(Some)
                .ok_or_else(|| AppError::from(ErrorCode::BadDateRange).with_field(field)),
        }
    };
    let to = parse(q.to.as_deref(), "to")?.unwrap_or(today);
    let from =
        parse(q.from.as_deref(), "from")?.unwrap_or(to - chrono::Duration::days(STATS_DAYS - 1));
    if from > to || (to - from).num_days() >= MAX_STATS_DAYS {
        return Err(AppError::from(ErrorCode::BadDateRange).with_field("from"));
    }
    Ok((from, to))
}
