//! Administrator endpoints: roster check and import, invitations and staff accounts over
//! HTTP (the CLI offers the same).

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gradphoto_api::admin::{
    AdminSchool, CodeUnbound, InviteLink, InviteRequest, NewUser, NewUserRequest, PasswordReset,
    PolicyUpdate, PolicyVersionView, RosterCheck, RosterImported, RosterRowProblem,
    SchoolPolicyView, StaffAccount, StaffChange,
};
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::roster::{parse_roster_csv, RosterRowError};

use crate::http::auth::Admin;
use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::http::extract::JsonBody;
use crate::invite::{self, InviteSelection};
use crate::store::{schools, students, users};
use crate::AppState;

/// A roster CSV: tens of thousands of students fit well within it.
pub const ROSTER_BODY_MAX: usize = 16 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/roster/check",
            post(roster_check).layer(DefaultBodyLimit::max(ROSTER_BODY_MAX)),
        )
        .route(
            "/api/admin/roster/import",
            post(roster_import).layer(DefaultBodyLimit::max(ROSTER_BODY_MAX)),
        )
        .route("/api/admin/invites", post(invites))
        .route("/api/admin/users", post(add_user).get(list_users))
        .route("/api/admin/users/{user_id}", post(change_user))
        .route("/api/admin/users/{user_id}/password", post(reset_password))
        .route("/api/admin/schools", get(managed_schools))
        .route("/api/admin/cases/{case_id}/unbind", post(unbind_code))
        .route(
            "/api/admin/schools/{school_id}/policy",
            get(policy_get).put(policy_put),
        )
        .route(
            "/api/admin/schools/{school_id}/policy/versions",
            get(policy_versions),
        )
}

/// A school the administrator may manage: any for an unbound one, their own otherwise.
pub(crate) async fn managed_school(
    state: &AppState,
    staff: &crate::http::auth::StaffSession,
    id: &str,
) -> AppResult<schools::SchoolRow> {
    if !staff.can_see_school(id) {
        return Err(AppError::forbidden());
    }
    schools::get(&state.store, id)
        .await?
        .ok_or_else(|| AppError::not_found("学校", "School"))
}

async fn managed_schools(
    State(state): State<AppState>,
    Admin(staff): Admin,
) -> AppResult<Json<Vec<AdminSchool>>> {
    Ok(Json(
        schools::list(&state.store)
            .await?
            .into_iter()
            .filter(|s| staff.can_see_school(&s.id))
            .map(|s| AdminSchool {
                id: s.id,
                name: s.name,
                policy_version: s.policy_version,
            })
            .collect(),
    ))
}

fn policy_view(school: schools::SchoolRow) -> SchoolPolicyView {
    SchoolPolicyView {
        school_id: school.id,
        school_name: school.name,
        version: school.policy_version,
        spec: school.policy.photo_spec(),
        policy: school.policy,
    }
}

async fn policy_get(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
) -> AppResult<Json<SchoolPolicyView>> {
    Ok(Json(policy_view(
        managed_school(&state, &staff, &id).await?,
    )))
}

async fn policy_put(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<PolicyUpdate>,
) -> AppResult<Json<SchoolPolicyView>> {
    managed_school(&state, &staff, &id).await?;
    crate::journey::admin::change_policy(
        &state,
        &staff.actor(),
        &id,
        &req.policy,
        Some(req.on_version),
    )
    .await?;
    Ok(Json(policy_view(
        managed_school(&state, &staff, &id).await?,
    )))
}

async fn policy_versions(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<PolicyVersionView>>> {
    managed_school(&state, &staff, &id).await?;
    Ok(Json(
        schools::policy_versions(&state.store, &id)
            .await?
            .into_iter()
            .map(|v| PolicyVersionView {
                version: v.version,
                policy: v.policy,
                changed_by: v.changed_by_name.unwrap_or(v.changed_by),
                changed_at_ms: v.changed_at,
            })
            .collect(),
    ))
}

fn problems(errors: &[RosterRowError]) -> Vec<RosterRowProblem> {
    errors
        .iter()
        .map(|e| RosterRowProblem {
            line: e.line,
            field: e.field.clone(),
            code: e.code.as_str().to_string(),
            message_zh: e.message_zh.clone(),
            message_en: e.message_en.clone(),
        })
        .collect()
}

/// Body: the CSV file as uploaded (UTF-8 or GBK).
async fn roster_check(_: Admin, body: Bytes) -> AppResult<Json<RosterCheck>> {
    Ok(Json(
        match parse_roster_csv(&body, Utc::now().date_naive()) {
            Ok(rows) => RosterCheck {
                ok: true,
                rows: rows.len(),
                problems: Vec::new(),
            },
            Err(errors) => RosterCheck {
                ok: false,
                rows: 0,
                problems: problems(&errors),
            },
        },
    ))
}

/// Imports every row or none; an invalid file is refused with every problem listed.
async fn roster_import(
    State(state): State<AppState>,
    Admin(staff): Admin,
    body: Bytes,
) -> AppResult<Json<RosterImported>> {
    let records = parse_roster_csv(&body, Utc::now().date_naive()).map_err(|errors| {
        let first = errors
            .first()
            .map(|e| format!("line {}: {}", e.line, e.message_en))
            .unwrap_or_default();
        AppError::new(
            ErrorCode::RosterInvalid,
            format!("名单有 {} 处错误，未导入任何记录。", errors.len()),
            format!(
                "The roster has {} problem(s); nothing was imported. First: {first}",
                errors.len()
            ),
        )
    })?;
    if let Some(own) = &staff.school_id {
        let own = schools::get(&state.store, own)
            .await?
            .ok_or_else(|| AppError::internal("admin bound to a missing school"))?;
        if let Some(other) = records.iter().find(|r| r.school.trim() != own.name) {
            return Err(AppError::forbidden().with_field(format!("school: {}", other.school)));
        }
    }
    let mut tx = state.store.begin().await?;
    let summary = students::import_as(
        &mut tx,
        &state.crypto,
        &staff.actor(),
        &records,
        &SchoolPolicy::default(),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(RosterImported {
        created: summary.created,
        updated: summary.updated,
    }))
}

/// Issues (or re-issues) codes and returns the links; QR codes are printed from the links.
async fn invites(
    State(state): State<AppState>,
    Admin(staff): Admin,
    JsonBody(req): JsonBody<InviteRequest>,
) -> AppResult<Json<Vec<InviteLink>>> {
    let school = match &staff.school_id {
        Some(id) => Some(
            schools::get(&state.store, id)
                .await?
                .ok_or_else(|| AppError::internal("admin bound to a missing school"))?
                .name,
        ),
        None => req.school.clone(),
    };
    let sel = InviteSelection {
        student_no: req.student_no.clone(),
        school,
        reissue: req.reissue,
    };
    Ok(Json(invite::issue(&state, &staff.actor(), &sel).await?))
}

/// Creates a staff account with a generated password, shown once in the response.
async fn add_user(
    State(state): State<AppState>,
    Admin(staff): Admin,
    JsonBody(req): JsonBody<NewUserRequest>,
) -> AppResult<Json<NewUser>> {
    // A school's administrator creates accounts for that school only.
    let school_id = staff.school_id.clone().or(req.school_id.clone());
    let password = crate::crypto::random_code(16);
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::crypto::hash_password(&pw)).await??;
    let display_name = req
        .display_name
        .clone()
        .unwrap_or_else(|| req.username.clone());
    let mut tx = state.store.begin().await?;
    users::add(
        &mut tx,
        &staff.actor(),
        &req.username,
        &display_name,
        req.role,
        &hash,
        school_id.as_deref(),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(NewUser {
        username: req.username.trim().to_string(),
        display_name,
        role: req.role,
        password,
    }))
}

async fn unbind_code(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(case_id): Path<String>,
) -> AppResult<Json<CodeUnbound>> {
    let case = crate::store::cases::get(&state.store, &case_id)
        .await?
        .ok_or_else(|| AppError::not_found("采集记录", "Case"))?;
    if !staff.can_see_school(&case.school_id) {
        return Err(AppError::forbidden());
    }
    let mut tx = state.store.begin().await?;
    let was_bound = crate::store::codes::unbind(&mut tx, &staff.actor(), &case.id).await?;
    tx.commit().await?;
    Ok(Json(CodeUnbound {
        case_id: case.id,
        was_bound,
    }))
}

fn account_view(u: users::UserRow) -> StaffAccount {
    StaffAccount {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        role: u.role,
        school_id: u.school_id,
        disabled: u.disabled,
    }
}

async fn list_users(
    State(state): State<AppState>,
    Admin(staff): Admin,
) -> AppResult<Json<Vec<StaffAccount>>> {
    Ok(Json(
        users::list(&state.store, staff.school_id.as_deref())
            .await?
            .into_iter()
            .map(account_view)
            .collect(),
    ))
}

/// An account this administrator may manage: an unbound administrator any, one bound to a
/// school only that school's accounts. Never their own (they would lock themselves out).
async fn managed_user(
    state: &AppState,
    staff: &crate::http::auth::StaffSession,
    user_id: &str,
) -> AppResult<users::UserRow> {
    let user = users::find(&state.store, user_id)
        .await?
        .ok_or_else(|| AppError::not_found("账号", "Account"))?;
    if staff.school_id.is_some() && staff.school_id != user.school_id {
        return Err(AppError::forbidden());
    }
    if user.id == staff.user_id {
        return Err(AppError::from(ErrorCode::CannotChangeOwnAccount));
    }
    Ok(user)
}

async fn change_user(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(user_id): Path<String>,
    JsonBody(req): JsonBody<StaffChange>,
) -> AppResult<Json<StaffAccount>> {
    let user = managed_user(&state, &staff, &user_id).await?;
    let mut tx = state.store.begin().await?;
    if let Some(role) = req.role.filter(|r| *r != user.role) {
        users::set_role(&mut tx, &staff.actor(), &user, role).await?;
    }
    if let Some(disabled) = req.disabled.filter(|d| *d != user.disabled) {
        users::set_disabled(&mut tx, &staff.actor(), &user.id, disabled).await?;
    }
    tx.commit().await?;
    let user = users::find(&state.store, &user_id)
        .await?
        .ok_or_else(|| AppError::not_found("账号", "Account"))?;
    Ok(Json(account_view(user)))
}

async fn reset_password(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(user_id): Path<String>,
) -> AppResult<Json<PasswordReset>> {
    let user = managed_user(&state, &staff, &user_id).await?;
    let password = crate::crypto::random_code(16);
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::crypto::hash_password(&pw)).await??;
    let mut tx = state.store.begin().await?;
    users::set_password(&mut tx, &staff.actor(), &user.id, &hash).await?;
    tx.commit().await?;
    Ok(Json(PasswordReset {
        username: user.username,
        password,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use gradphoto_api::admin::{InviteLink, NewUser, RosterImported};
    use gradphoto_api::common::LoginResponse;
    use gradphoto_domain::audit::Actor;
    use gradphoto_domain::role::Role;
    use reqwest::StatusCode;

    use crate::config::Config;
    use crate::demo::demo_id_number;
    use crate::store::users;

    #[tokio::test]
    async fn administrators_import_invite_and_add_accounts_over_http() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            workers: 0,
            ..Config::default()
        };
        let (addr, handle) = crate::serve(
            config,
            Arc::new(crate::vision::VisionAnalyzer::new(Default::default())),
        )
        .await
        .unwrap();
        let state = &handle.state;
        let hash = crate::crypto::hash_password("admin-password").unwrap();
        let mut tx = state.store.begin().await.unwrap();
        users::add(
            &mut tx,
            &Actor::new(Role::Admin, "t"),
            "root",
            "Root",
            Role::Admin,
            &hash,
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let http = reqwest::Client::new();
        let url = |p: &str| format!("http://{addr}{p}");
        let login = |user: &str, password: &str| {
            http.post(url("/api/auth/login"))
                .json(&serde_json::json!({ "username": user, "password": password }))
                .send()
        };
        let wrong = login("root", "nope").await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let admin: LoginResponse = login("root", "admin-password")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();

        let csv = format!(
            "name,id_number,student_no,school,college,major,level,graduation_year\n张三,{},S1,测试大学,理学院,数学,本科,2025\n",
            demo_id_number(1).unwrap().as_str()
        );
        let imported: RosterImported = http
            .post(url("/api/admin/roster/import"))
            .bearer_auth(&admin.token)
            .body(csv)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(imported.created, 1);
        let links: Vec<InviteLink> = http
            .post(url("/api/admin/invites"))
            .bearer_auth(&admin.token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(links.len(), 1);
        assert!(links[0].link.contains("/c/"));

        let created: NewUser = http
            .post(url("/api/admin/users"))
            .bearer_auth(&admin.token)
            .json(&serde_json::json!({ "username": "wang", "role": "reviewer" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let reviewer: LoginResponse = login("wang", &created.password)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(reviewer.user.role, Role::Reviewer);
        // Reviewers are not administrators.
        let refused = http
            .post(url("/api/admin/invites"))
            .bearer_auth(&reviewer.token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        handle.shutdown().await;
    }
}
