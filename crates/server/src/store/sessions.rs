//! Bearer sessions. Only the SHA-256 of a token is stored.

use gradphoto_domain::role::Role;
use sqlx::AnyConnection;

use super::error::{StoreError, StoreResult};
use super::{now_ms, Store, WriteTx};
use crate::crypto::{random_token, sha256_hex};

pub const KIND_STUDENT: &str = "student";
pub const KIND_STAFF: &str = "staff";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub case_id: Option<String>,
    pub code_id: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffIdentity {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub school_id: Option<String>,
}

pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Creates a session row and returns the bearer token (shown once, never stored).
pub async fn create(
    conn: &mut AnyConnection,
    kind: &str,
    user_id: Option<&str>,
    case_id: Option<&str>,
    code_id: Option<&str>,
    ttl_ms: i64,
) -> StoreResult<(String, SessionRow)> {
    let token = random_token();
    let now = now_ms();
    let row = SessionRow {
        token_hash: token_hash(&token),
        kind: kind.to_string(),
        user_id: user_id.map(str::to_string),
        case_id: case_id.map(str::to_string),
        code_id: code_id.map(str::to_string),
        expires_at: now + ttl_ms,
    };
    sqlx::query(
        "INSERT INTO sessions (token_hash, kind, user_id, case_id, code_id, created_at, expires_at, revoked)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
    )
    .bind(&row.token_hash)
    .bind(&row.kind)
    .bind(&row.user_id)
    .bind(&row.case_id)
    .bind(&row.code_id)
    .bind(now)
    .bind(row.expires_at)
    .execute(conn)
    .await?;
    Ok((token, row))
}

type SessionRaw = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

/// A live (unexpired, unrevoked) session for this token hash.
/// What a presented token is: a live session, one that has ended (expired or signed out), or
/// nothing this server ever issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Live(SessionRow),
    Ended,
    Unknown,
}

pub async fn lookup(store: &Store, token_hash: &str) -> StoreResult<Lookup> {
    if let Some(row) = find_live(store, token_hash).await? {
        return Ok(Lookup::Live(row));
    }
    let known: Option<String> =
        sqlx::query_scalar("SELECT token_hash FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(store.pool())
            .await?;
    Ok(if known.is_some() {
        Lookup::Ended
    } else {
        Lookup::Unknown
    })
}

pub async fn find_live(store: &Store, token_hash: &str) -> StoreResult<Option<SessionRow>> {
    let row: Option<SessionRaw> = sqlx::query_as(
        "SELECT token_hash, kind, user_id, case_id, code_id, expires_at FROM sessions
             WHERE token_hash = $1 AND revoked = 0 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(
        |(token_hash, kind, user_id, case_id, code_id, expires_at)| SessionRow {
            token_hash,
            kind,
            user_id,
            case_id,
            code_id,
            expires_at,
        },
    ))
}

pub async fn staff_identity(store: &Store, user_id: &str) -> StoreResult<Option<StaffIdentity>> {
    let row: Option<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, username, display_name, role, school_id FROM users
         WHERE id = $1 AND disabled = 0",
    )
    .bind(user_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|(user_id, username, display_name, role, school_id)| {
        let role: Role = role
            .parse()
            .map_err(|_| StoreError::internal(format_args!("user {user_id} has bad role")))?;
        Ok(StaffIdentity {
            user_id,
            username,
            display_name,
            role,
            school_id,
        })
    })
    .transpose()
}

pub async fn revoke(tx: &mut WriteTx, token_hash: &str) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE token_hash = $1")
        .bind(token_hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends every session of a staff account (its tokens stop working at their next request).
pub async fn revoke_for_user(tx: &mut WriteTx, user_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE user_id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends every session attached to a code (used when the code is re-issued).
pub async fn revoke_for_code(tx: &mut WriteTx, code_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE code_id = $1")
        .bind(code_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
