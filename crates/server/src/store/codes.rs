//! Per-student invitation codes (采集码). A code binds to the first session that claims it;
//! re-issuing revokes the old code and its sessions.

use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::state::{CaseState, Event};

use super::error::{StoreError, StoreResult};
use super::{cases, new_id, now_ms, schools, sessions, Actor, Store, WriteTx};
use crate::crypto::{random_code, Crypto};
use gradphoto_api::error::ErrorCode;

pub const CODE_HASH_PURPOSE: &str = "invite_code";
pub const CODE_LEN: usize = 12;

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_REVOKED: &str = "revoked";

/// Uppercase, without the spaces and dashes people add when typing a code.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

pub fn code_hash(crypto: &Crypto, code: &str) -> String {
    crypto.keyed_hash(CODE_HASH_PURPOSE, normalize(code).as_bytes())
}

pub fn code_not_found() -> StoreError {
    StoreError::from(ErrorCode::CodeNotFound)
}

pub fn code_revoked() -> StoreError {
    StoreError::from(ErrorCode::CodeRevoked)
}

pub fn code_already_claimed() -> StoreError {
    StoreError::from(ErrorCode::CodeAlreadyClaimed)
}

/// Issued code (plain text, for printing) and whether it is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub case_id: String,
    pub code_id: String,
    pub code: String,
    pub new: bool,
}

/// Returns the case's active code, creating one when there is none; with `reissue` the
/// current code (and every session opened with it) is revoked first.
pub async fn issue(
    tx: &mut WriteTx,
    crypto: &Crypto,
    actor: &Actor,
    case_id: &str,
    reissue: bool,
) -> StoreResult<Issued> {
    let active: Option<(String, Vec<u8>)> =
        sqlx::query_as("SELECT id, code_enc FROM codes WHERE case_id = $1 AND status = $2")
            .bind(case_id)
            .bind(STATUS_ACTIVE)
            .fetch_optional(tx.conn())
            .await?;
    let now = now_ms();
    let mut revoked = None;
    if let Some((code_id, enc)) = active {
        if !reissue {
            let code = String::from_utf8(crypto.decrypt(&enc)?)
                .map_err(|_| StoreError::internal("stored code is not UTF-8"))?;
            return Ok(Issued {
                case_id: case_id.to_string(),
                code_id,
                code,
                new: false,
            });
        }
        sqlx::query("UPDATE codes SET status = $1, revoked_at = $2 WHERE id = $3")
            .bind(STATUS_REVOKED)
            .bind(now)
            .bind(&code_id)
            .execute(tx.conn())
            .await?;
        sessions::revoke_for_code(tx, &code_id).await?;
        revoked = Some(code_id);
    }
    let code = random_code(CODE_LEN);
    let code_id = new_id();
    sqlx::query(
        "INSERT INTO codes (id, case_id, code_hash, code_enc, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&code_id)
    .bind(case_id)
    .bind(code_hash(crypto, &code))
    .bind(crypto.encrypt(code.as_bytes())?)
    .bind(STATUS_ACTIVE)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let action = if revoked.is_some() {
        AuditAction::CodeReissued
    } else {
        AuditAction::CodeIssued
    };
    tx.audit(
        actor,
        action,
        case_id,
        serde_json::json!({ "code_id": code_id, "revoked_code_id": revoked }),
    )
    .await?;
    Ok(Issued {
        case_id: case_id.to_string(),
        code_id,
        code,
        new: true,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub case_id: String,
    pub code_id: String,
    /// A new bearer token, or `None` when the caller's own session re-opened the code.
    pub token: Option<String>,
}

/// Claims a code. `presented` is the SHA-256 of the caller's current bearer token, if any:
/// the session that first claimed the code may re-open it; any other session is refused.
pub async fn claim(
    tx: &mut WriteTx,
    crypto: &Crypto,
    code: &str,
    presented: Option<&str>,
    session_ttl_ms: i64,
) -> StoreResult<Claimed> {
    let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, case_id, status, bound_session_hash FROM codes WHERE code_hash = $1",
    )
    .bind(code_hash(crypto, code))
    .fetch_optional(tx.conn())
    .await?;
    let (code_id, case_id, status, bound) = row.ok_or_else(code_not_found)?;
    if status != STATUS_ACTIVE {
        return Err(code_revoked());
    }
    if let Some(bound) = bound {
        let live = match presented {
            Some(p) if p == bound => {
                let expires: Option<i64> = sqlx::query_scalar(
                    "SELECT expires_at FROM sessions WHERE token_hash = $1 AND revoked = 0",
                )
                .bind(p)
                .fetch_optional(tx.conn())
                .await?;
                expires.is_some_and(|e| e > now_ms())
            }
            _ => false,
        };
        return if live {
            Ok(Claimed {
                case_id,
                code_id,
                token: None,
            })
        } else {
            Err(code_already_claimed())
        };
    }
    let (token, session) = sessions::create(
        tx.conn(),
        sessions::KIND_STUDENT,
        None,
        Some(&case_id),
        Some(&code_id),
        session_ttl_ms,
    )
    .await?;
    sqlx::query("UPDATE codes SET bound_session_hash = $1, claimed_at = $2 WHERE id = $3")
        .bind(&session.token_hash)
        .bind(now_ms())
        .bind(&code_id)
        .execute(tx.conn())
        .await?;
    let case = cases::get_in(tx.conn(), &case_id).await?;
    let actor = Actor::new(gradphoto_domain::role::Role::Student, &case_id);
    let details = serde_json::json!({ "code_id": code_id });
    if case.state == CaseState::Invited {
        let school = schools::get_in(tx.conn(), &case.school_id)
            .await?
            .ok_or_else(|| StoreError::internal("case without school"))?;
        cases::apply(
            tx,
            &case,
            &Event::ClaimCode,
            &actor,
            &school.policy,
            details,
        )
        .await?;
    } else {
        tx.audit(&actor, AuditAction::CodeClaimed, &case_id, details)
            .await?;
    }
    Ok(Claimed {
        case_id,
        code_id,
        token: Some(token),
    })
}

/// Records that a forwarded code was opened by another session.
pub async fn record_refusal(tx: &mut WriteTx, crypto: &Crypto, code: &str) -> StoreResult<()> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, case_id FROM codes WHERE code_hash = $1")
            .bind(code_hash(crypto, code))
            .fetch_optional(tx.conn())
            .await?;
    if let Some((code_id, case_id)) = row {
        tx.audit(
            &Actor::system(),
            AuditAction::CodeRefused,
            &case_id,
            serde_json::json!({ "code_id": code_id }),
        )
        .await?;
    }
    Ok(())
}

/// Refuses requests from a session whose code has since been re-issued.
pub async fn ensure_active(store: &Store, code_id: &str) -> StoreResult<()> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM codes WHERE id = $1")
        .bind(code_id)
        .fetch_optional(store.pool())
        .await?;
    match status.as_deref() {
        Some(STATUS_ACTIVE) => Ok(()),
        Some(_) => Err(code_revoked()),
        None => Err(code_not_found()),
    }
}

/// A student a code can be issued to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteTarget {
    pub case_id: String,
    pub name: String,
    pub student_no: String,
    pub school: String,
}

/// The students selected by student number and/or school name (all when both are `None`),
/// by school then student number.
pub async fn invite_targets(
    store: &Store,
    student_no: Option<&str>,
    school: Option<&str>,
) -> StoreResult<Vec<InviteTarget>> {
    Ok(sqlx::query_as(
        "SELECT c.id AS case_id, s.name, s.student_no, sc.name AS school FROM cases c
         JOIN students s ON s.id = c.student_id JOIN schools sc ON sc.id = c.school_id
         WHERE ($1 = '' OR s.student_no = $1) AND ($2 = '' OR sc.name = $2)
         ORDER BY sc.name, s.student_no",
    )
    .bind(student_no.unwrap_or_default())
    .bind(school.unwrap_or_default())
    .fetch_all(store.pool())
    .await?)
}

/// The active codes of `case_ids`, decrypted for printing (callers audit it), by case id; a
/// case without an active code is absent.
pub async fn active_codes(
    store: &Store,
    crypto: &Crypto,
    case_ids: &[String],
) -> StoreResult<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in case_ids.chunks(500) {
        let marks: Vec<String> = (2..=chunk.len() + 1).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT case_id, code_enc FROM codes WHERE status = $1 AND case_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, Vec<u8>)>(&sql).bind(STATUS_ACTIVE);
        for id in chunk {
            q = q.bind(id.clone());
        }
        for (case_id, enc) in q.fetch_all(store.pool()).await? {
            let code = String::from_utf8(crypto.decrypt(&enc)?)
                .map_err(|_| StoreError::internal("stored code is not UTF-8"))?;
            out.insert(case_id, code);
        }
    }
    Ok(out)
}

/// Frees a case's active code from the browser that claimed it, so that the next session to
/// open it claims it; that browser's session ends. Audited. Answers whether a browser held it.
pub async fn unbind(tx: &mut WriteTx, actor: &Actor, case_id: &str) -> StoreResult<bool> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT id, bound_session_hash FROM codes WHERE case_id = $1 AND status = $2",
    )
    .bind(case_id)
    .bind(STATUS_ACTIVE)
    .fetch_optional(tx.conn())
    .await?;
    let (code_id, bound) = row.ok_or_else(|| StoreError::from(ErrorCode::NoActiveCode))?;
    if bound.is_some() {
        sqlx::query("UPDATE codes SET bound_session_hash = NULL WHERE id = $1")
            .bind(&code_id)
            .execute(tx.conn())
            .await?;
        sessions::revoke_for_code(tx, &code_id).await?;
    }
    tx.audit(
        actor,
        AuditAction::CodeUnbound,
        case_id,
        serde_json::json!({ "code_id": code_id, "was_bound": bound.is_some() }),
    )
    .await?;
    Ok(bound.is_some())
}
