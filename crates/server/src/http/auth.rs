//! Bearer-token extractors (`StudentSession`, `StaffSession`) and staff sign-in.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use gradphoto_api::common::{LoginRequest, LoginResponse, SignedOut, StaffUser};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::role::Role;
use gradphoto_domain::text;

use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::http::extract::JsonBody;
use crate::ratelimit::{self, Limit};
use crate::store::sessions::{self, SessionRow, KIND_STAFF, KIND_STUDENT};
use crate::store::{users, Actor};
use crate::AppState;

/// The student behind a claimed code.
#[derive(Debug, Clone)]
pub struct StudentSession {
    pub case_id: String,
    pub code_id: String,
    pub token_hash: String,
}

impl StudentSession {
    pub fn actor(&self) -> Actor {
        Actor::new(Role::Student, &self.case_id)
    }
}

/// A signed-in reviewer, supervisor or administrator.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub school_id: Option<String>,
    pub token_hash: String,
}

impl StaffSession {
    pub fn actor(&self) -> Actor {
        Actor::new(self.role, &self.user_id)
    }

    pub fn require(&self, allowed: &[Role]) -> AppResult<()> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Reviewers and supervisors.
    pub fn require_reviewer(&self) -> AppResult<()> {
        self.require(&[Role::Reviewer, Role::Supervisor])
    }

    pub fn require_supervisor(&self) -> AppResult<()> {
        self.require(&[Role::Supervisor])
    }

    pub fn require_admin(&self) -> AppResult<()> {
        self.require(&[Role::Admin])
    }

    /// Staff bound to a school only see that school; unbound staff see all schools.
    pub fn can_see_school(&self, school_id: &str) -> bool {
        self.school_id.as_deref().is_none_or(|s| s == school_id)
    }
}

/// A staff member of the role a route is for, checked before anything else of the request is
/// read: a caller of another role learns nothing from how the body would have been judged.
macro_rules! staff_of_role {
    ($(#[$doc:meta])* $name:ident, $check:ident) => {
        $(#[$doc])*
        pub struct $name(pub StaffSession);

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
                let staff = StaffSession::from_request_parts(parts, state).await?;
                staff.$check()?;
                Ok($name(staff))
            }
        }
    };
}

staff_of_role!(
    /// A reviewer or a supervisor (supervisors review as well).
    Reviewer,
    require_reviewer
);
staff_of_role!(
    /// A supervisor.
    Supervisor,
    require_supervisor
);
staff_of_role!(
    /// An administrator.
    Admin,
    require_admin
);

/// The bearer token of the request, if any.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

async fn live_session(parts: &Parts, state: &AppState, kind: &str) -> AppResult<SessionRow> {
    let token = bearer_token(&parts.headers).ok_or_else(AppError::unauthorized)?;
    // A token this server never issued is no session at all; one that ended has expired.
    let row = match sessions::lookup(&state.store, &sessions::token_hash(token)).await? {
        sessions::Lookup::Live(row) => row,
        sessions::Lookup::Ended => return Err(session_expired()),
        sessions::Lookup::Unknown => return Err(AppError::unauthorized()),
    };
    if row.kind != kind {
        return Err(AppError::forbidden());
    }
    Ok(row)
}

fn session_expired() -> AppError {
    AppError::from(ErrorCode::SessionExpired)
}

impl FromRequestParts<AppState> for StudentSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let row = live_session(parts, state, KIND_STUDENT).await?;
        let (Some(case_id), Some(code_id)) = (row.case_id, row.code_id) else {
            return Err(AppError::internal("student session without case"));
        };
        crate::store::codes::ensure_active(&state.store, &code_id).await?;
        Ok(StudentSession {
            case_id,
            code_id,
            token_hash: row.token_hash,
        })
    }
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let row = live_session(parts, state, KIND_STAFF).await?;
        let user_id = row
            .user_id
            .ok_or_else(|| AppError::internal("staff session without user"))?;
        let who = sessions::staff_identity(&state.store, &user_id)
            .await?
            .ok_or_else(session_expired)?;
        Ok(StaffSession {
            user_id: who.user_id,
            username: who.username,
            display_name: who.display_name,
            role: who.role,
            school_id: who.school_id,
            token_hash: row.token_hash,
        })
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", axum::routing::get(me))
}

/// The client's address, when the server was started with connection info (always, outside
/// unit tests that call the router directly).
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

fn login_limits(state: &AppState) -> (Limit, Limit) {
    let window_ms = i64::try_from(state.config.login_window_minutes)
        .unwrap_or(15)
        .saturating_mul(60_000);
    (
        Limit {
            max_failures: state.config.login_max_failures,
            window_ms,
        },
        Limit {
            max_failures: state.config.login_address_max_failures,
            window_ms,
        },
    )
}

async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    JsonBody(req): JsonBody<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let username = req.username.trim().to_string();
    // Counted before the password is checked, per account and per address, so neither a
    // burst of parallel guesses nor guesses spread over many accounts get past the limits.
    let (per_account, per_address) = login_limits(&state);
    let address_bucket = peer.map(|ip| format!("login-address:{ip}"));
    if let Some(bucket) = &address_bucket {
        ratelimit::take(&state.store, bucket, per_address).await?;
    }
    let account_bucket = format!("login-account:{}", username.to_lowercase());
    ratelimit::take(&state.store, &account_bucket, per_account).await?;

    let user = users::find_by_username(&state.store, &username)
        .await?
        .filter(|u| !u.disabled);
    let password = req.password.clone();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || {
        crate::crypto::verify_password_or_dummy(&password, hash.as_deref())
    })
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        // Failed sign-ins are kept on record: which account was tried, as far as it is fit to
        // keep (bounded, invisible characters shown), and when.
        let mut tx = state.store.begin().await?;
        tx.audit(
            &Actor::system(),
            AuditAction::LoginFailed,
            &text::stranger(&username),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::from(ErrorCode::BadCredentials));
    };
    let mut tx = state.store.begin().await?;
    ratelimit::reset(&mut tx, &account_bucket).await?;
    if let Some(bucket) = &address_bucket {
        ratelimit::give_back(&mut tx, bucket).await?;
    }
    tx.commit().await?;
    let mut tx = state.store.begin().await?;
    let ttl = state.session_ttl_ms();
    let (token, _) =
        sessions::create(tx.conn(), KIND_STAFF, Some(&user.id), None, None, ttl).await?;
    tx.audit(
        &Actor::new(user.role, &user.id),
        AuditAction::Login,
        &user.id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(LoginResponse {
        token,
        user: StaffUser {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            school_id: user.school_id,
        },
    }))
}

async fn logout(State(state): State<AppState>, staff: StaffSession) -> AppResult<Json<SignedOut>> {
    let mut tx = state.store.begin().await?;
    sessions::revoke(&mut tx, &staff.token_hash).await?;
    tx.audit(
        &staff.actor(),
        AuditAction::Logout,
        &staff.user_id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(SignedOut { ok: true }))
}

async fn me(staff: StaffSession) -> Json<StaffUser> {
    Json(StaffUser {
        id: staff.user_id,
        username: staff.username,
        display_name: staff.display_name,
        role: staff.role,
        school_id: staff.school_id,
    })
}
