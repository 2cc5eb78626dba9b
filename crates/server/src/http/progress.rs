//! The collection progress of a school for its administrators: counts per stage and group,
//! the students behind a count, and the same list as a CSV for reminders.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use gradphoto_api::admin::{
    ProgressGroup, ProgressPage, ProgressQuery, ProgressStudent, SchoolProgress, StageCount,
};
use gradphoto_domain::progress::Stage;

use crate::http::admin::managed_school;
use crate::http::auth::Admin;
use crate::http::download::{attachment, ExcelCsv, CSV};
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::http::extract::Params;
use crate::store::now_ms;
use crate::store::progress::{self, StudentFilter};
use crate::AppState;

/// A page of the on-screen list.
const PAGE_DEFAULT: u32 = 100;
const PAGE_MAX: u32 = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/schools/{school_id}/progress", get(overview))
        .route(
            "/api/admin/schools/{school_id}/progress/students",
            get(student_page),
        )
        .route(
            "/api/admin/schools/{school_id}/progress/students.csv",
            get(student_csv),
        )
}

async fn overview(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
) -> AppResult<Json<SchoolProgress>> {
    let school = managed_school(&state, &staff, &id).await?;
    let groups = progress::counts(&state.store, &school.id, now_ms()).await?;
    let mut totals = [0u64; Stage::ALL.len()];
    let mut rows: Vec<ProgressGroup> = Vec::new();
    for g in groups {
        let i = g.stage.index();
        totals[i] += g.count;
        let row = match rows
            .iter_mut()
            .position(|r| r.college == g.college && r.major == g.major && r.level == g.level)
        {
            Some(p) => &mut rows[p],
            None => {
                rows.push(ProgressGroup {
                    college: g.college,
                    major: g.major,
                    level: g.level,
                    counts: vec![0; Stage::ALL.len()],
                });
                let last = rows.len() - 1;
                &mut rows[last]
            }
        };
        row.counts[i] += g.count;
    }
    rows.sort_by(|a, b| (&a.college, &a.major, &a.level).cmp(&(&b.college, &b.major, &b.level)));
    let today = gradphoto_domain::calendar::cst_date(Utc::now().timestamp_millis());
    Ok(Json(SchoolProgress {
        school_id: school.id,
        school_name: school.name,
        submission_deadline: school.policy.submission_deadline.trim().to_string(),
        days_left: school.policy.days_left(today),
        total: totals.iter().sum(),
        stages: Stage::ALL
            .iter()
            .map(|s| StageCount {
                stage: *s,
                label_zh: s.label_zh().to_string(),
                label_en: s.label_en().to_string(),
                count: totals[s.index()],
                student_to_act: s.student_to_act(),
            })
            .collect(),
        groups: rows,
    }))
}

pub(crate) fn filter(q: &ProgressQuery) -> AppResult<StudentFilter> {
    let stage = match q.stage.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(code) => Some(Stage::from_code(code).ok_or_else(|| {
            AppError::new(
                ErrorCode::BadRequest,
                format!("没有这个进度阶段：{code}"),
                format!("No such progress stage: {code}"),
            )
            .with_field("stage")
        })?),
    };
    let keep = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Ok(StudentFilter {
        stage,
        college: keep(&q.college),
        major: keep(&q.major),
        level: keep(&q.level),
        student_no: keep(&q.student_no),
    })
}

fn student_view(s: progress::ProgressStudent) -> ProgressStudent {
    ProgressStudent {
        case_id: s.case_id,
        name: s.name,
        student_no: s.student_no,
        college: s.college,
        major: s.major,
        level: s.level,
        stage: s.stage,
        stage_zh: s.stage.label_zh().to_string(),
        stage_en: s.stage.label_en().to_string(),
        updated_at_ms: s.updated_at,
    }
}

async fn student_page(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Params(q): Params<ProgressQuery>,
) -> AppResult<Json<ProgressPage>> {
    let school = managed_school(&state, &staff, &id).await?;
    let f = filter(&q)?;
    let limit = q.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX);
    let now = now_ms();
    let total = progress::count_students(&state.store, &school.id, now, &f).await?;
    let students =
        progress::students(&state.store, &school.id, now, &f, q.after.as_deref(), limit).await?;
    let next_after = if students.len() == limit as usize {
        students.last().map(|s| s.student_no.clone())
    } else {
        None
    };
    Ok(Json(ProgressPage {
        total,
        students: students.into_iter().map(student_view).collect(),
        next_after,
    }))
}

const CSV_HEADER: [&str; 8] = [
    "姓名 name",
    "学号 student_no",
    "学院 college",
    "专业 major",
    "层次 level",
    "进度 stage",
    "进度（英文） stage (English)",
    "最近变化 last change",
];

/// The whole list as CSV: UTF-8 with a BOM so Excel opens it as such, every cell guarded
/// against being run as a formula.
async fn student_csv(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Params(q): Params<ProgressQuery>,
) -> AppResult<Response> {
    let school = managed_school(&state, &staff, &id).await?;
    let f = filter(&q)?;
    let now = now_ms();
    let mut out = ExcelCsv::new(&CSV_HEADER)?;
    let students = progress::all_students(&state.store, &school.id, now, &f).await?;
    for s in &students {
        let changed = gradphoto_domain::calendar::cst_datetime(s.updated_at)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        out.row(&[
            s.name.as_str(),
            &s.student_no,
            &s.college,
            &s.major,
            &s.level,
            s.stage.label_zh(),
            s.stage.label_en(),
            &changed,
        ])?;
    }
    let rows = students.len();
    Ok(attachment(CSV, "progress.csv", rows, out.finish()?))
}
