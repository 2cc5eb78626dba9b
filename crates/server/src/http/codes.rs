//! Students' codes for a school's administrators: issued to everyone who has none, re-issued
//! for one student (the old code stops working), and handed out as printable PDF sheets or a
//! CSV of links for the students a progress filter selects. Handing codes out is audited.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use gradphoto_api::admin::{CodesIssueRequest, CodesIssued, ProgressQuery};
use gradphoto_domain::audit::AuditAction;

use crate::http::admin::managed_school;
use crate::http::auth::{Admin, StaffSession};
use crate::http::download::{attachment, ExcelCsv, CSV};
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::http::extract::{JsonBody, Params};
use crate::invite::{self, InviteSelection};
use crate::sheet::{self, SheetCard};
use crate::store::progress::{self, ProgressStudent};
use crate::store::{codes, now_ms};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/schools/{school_id}/codes", post(issue))
        .route(
            "/api/admin/schools/{school_id}/codes/sheet.pdf",
            get(sheet_pdf),
        )
        .route(
            "/api/admin/schools/{school_id}/codes/links.csv",
            get(links_csv),
        )
}

async fn issue(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CodesIssueRequest>,
) -> AppResult<Json<CodesIssued>> {
    let school = managed_school(&state, &staff, &id).await?;
    let student_no = req.student_no.clone().filter(|s| !s.trim().is_empty());
    if req.reissue && student_no.is_none() {
        // Re-issuing a whole school would stop every code already handed out.
        return Err(AppError::new(
            ErrorCode::BadRequest,
            "重新发码只能针对一名学生，请填写学号。",
            "Codes are re-issued one student at a time: give a student number.",
        )
        .with_field("student_no"));
    }
    let links = invite::issue(
        &state,
        &staff.actor(),
        &InviteSelection {
            student_no: student_no.clone(),
            school: Some(school.name),
            reissue: req.reissue,
        },
    )
    .await?;
    let issued = links.iter().filter(|l| l.new).count() as u64;
    Ok(Json(CodesIssued {
        issued,
        unchanged: links.len() as u64 - issued,
        link: student_no.and_then(|_| links.into_iter().next().map(|l| l.link)),
    }))
}

/// The students `q` selects who hold an active code, with it, by student number.
async fn selected(
    state: &AppState,
    school_id: &str,
    q: &ProgressQuery,
) -> AppResult<Vec<(ProgressStudent, String)>> {
    let filter = crate::http::progress::filter(q)?;
    let students = progress::all_students(&state.store, school_id, now_ms(), &filter).await?;
    let ids: Vec<String> = students.iter().map(|s| s.case_id.clone()).collect();
    let mut codes = codes::active_codes(&state.store, &state.crypto, &ids).await?;
    Ok(students
        .into_iter()
        .filter_map(|s| codes.remove(&s.case_id).map(|code| (s, code)))
        .collect())
}

/// Codes are credentials: who handed out which ones is on record.
async fn audit_handout(
    state: &AppState,
    staff: &StaffSession,
    school_id: &str,
    what: &str,
    q: &ProgressQuery,
    students: usize,
) -> AppResult<()> {
    let mut tx = state.store.begin().await?;
    tx.audit(
        &staff.actor(),
        AuditAction::CodesPrinted,
        school_id,
        serde_json::json!({
            "format": what,
            "students": students,
            "filters": serde_json::to_value(q).unwrap_or_default(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn sheet_pdf(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Params(q): Params<ProgressQuery>,
) -> AppResult<Response> {
    let school = managed_school(&state, &staff, &id).await?;
    let students = selected(&state, &school.id, &q).await?;
    let cards: Vec<SheetCard> = students
        .iter()
        .map(|(s, code)| SheetCard {
            name: s.name.clone(),
            student_no: s.student_no.clone(),
            college: s.college.clone(),
            link: invite::link_for(&state.public_url, code),
        })
        .collect();
    let name = school.name.clone();
    let pdf = tokio::task::spawn_blocking(move || sheet::codes_pdf(&name, &cards))
        .await?
        .map_err(AppError::internal)?;
    audit_handout(&state, &staff, &school.id, "pdf", &q, students.len()).await?;
    Ok(attachment(
        "application/pdf",
        "codes.pdf",
        students.len(),
        pdf,
    ))
}

const CSV_HEADER: [&str; 6] = [
    "姓名 name",
    "学号 student_no",
    "学院 college",
    "专业 major",
    "层次 level",
    "链接 link",
];

async fn links_csv(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Params(q): Params<ProgressQuery>,
) -> AppResult<Response> {
    let school = managed_school(&state, &staff, &id).await?;
    let students = selected(&state, &school.id, &q).await?;
    let mut out = ExcelCsv::new(&CSV_HEADER)?;
    for (s, code) in &students {
        let link = invite::link_for(&state.public_url, code);
        out.row(&[
            s.name.as_str(),
            &s.student_no,
            &s.college,
            &s.major,
            &s.level,
            &link,
        ])?;
    }
    let body = out.finish()?;
    audit_handout(&state, &staff, &school.id, "csv", &q, students.len()).await?;
    Ok(attachment(CSV, "links.csv", students.len(), body))
}
