//! Staff accounts.

use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::role::Role;

use super::error::{StoreError, StoreResult};
use super::{new_id, now_ms, Actor, Store, WriteTx};
use gradphoto_api::error::ErrorCode;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub school_id: Option<String>,
    pub disabled: bool,
}

/// A `users` row as stored; [`UserRow`] is what it means.
#[derive(sqlx::FromRow)]
struct Record {
    id: String,
    username: String,
    display_name: String,
    role: String,
    password_hash: String,
    school_id: Option<String>,
    disabled: i64,
}

fn from_record(r: Record) -> StoreResult<UserRow> {
    let role = r
        .role
        .parse()
        .map_err(|_| StoreError::internal(format_args!("user {} has bad role", r.id)))?;
    Ok(UserRow {
        id: r.id,
        username: r.username,
        display_name: r.display_name,
        role,
        password_hash: r.password_hash,
        school_id: r.school_id,
        disabled: r.disabled != 0,
    })
}

const COLUMNS: &str = "id, username, display_name, role, password_hash, school_id, disabled";

pub async fn find_by_username(store: &Store, username: &str) -> StoreResult<Option<UserRow>> {
    let record: Option<Record> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(store.pool())
            .await?;
    record.map(from_record).transpose()
}

pub async fn find(store: &Store, id: &str) -> StoreResult<Option<UserRow>> {
    let record: Option<Record> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(store.pool())
            .await?;
    record.map(from_record).transpose()
}

/// Creates a staff account from an already hashed password.
pub async fn add(
    tx: &mut WriteTx,
    actor: &Actor,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
    school_id: Option<&str>,
) -> StoreResult<String> {
    if role == Role::Student {
        return Err(StoreError::from(ErrorCode::BadRole));
    }
    let username = username.trim();
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
        return Err(StoreError::from(ErrorCode::BadUsername).with_field("username"));
    }
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(tx.conn())
        .await?;
    if exists.is_some() {
        return Err(StoreError::refused(
            ErrorCode::UsernameTaken,
            format!("用户名 {username} 已存在。"),
            format!("The username {username} is already taken."),
        )
        .with_field("username"));
    }
    // Named, rather than left to the foreign key: the caller learns which field is wrong.
    if let Some(school) = school_id {
        if super::schools::get_in(tx.conn(), school).await?.is_none() {
            return Err(StoreError::from(ErrorCode::UnknownSchool).with_field("school_id"));
        }
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO users (id, username, display_name, role, password_hash, school_id, disabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(&id)
    .bind(username)
    .bind(display_name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(school_id)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    tx.audit(
        actor,
        AuditAction::UserCreated,
        &id,
        serde_json::json!({ "username": username, "role": role.as_str() }),
    )
    .await?;
    Ok(id)
}

/// How the accounts `ids` are shown in the audit history (display name and username), by id;
/// ids that are not accounts are left out.
pub async fn names(
    store: &Store,
    ids: &[String],
) -> StoreResult<std::collections::HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, display_name, username FROM users WHERE id IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
    for id in ids {
        q = q.bind(id.clone());
    }
    Ok(q.fetch_all(store.pool())
        .await?
        .into_iter()
        .map(|(id, display, username)| {
            let shown = if display.is_empty() || display == username {
                username
            } else {
                format!("{display}（{username}）")
            };
            (id, shown)
        })
        .collect())
}

/// Staff accounts, by username; only those bound to `school_id` when given.
pub async fn list(store: &Store, school_id: Option<&str>) -> StoreResult<Vec<UserRow>> {
    let records: Vec<Record> = match school_id {
        Some(s) => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM users WHERE school_id = $1 ORDER BY username"
            ))
            .bind(s)
            .fetch_all(store.pool())
            .await?
        }
        None => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
                .fetch_all(store.pool())
                .await?
        }
    };
    records.into_iter().map(from_record).collect()
}

/// Disables or enables an account; disabling ends its sessions in the same transaction.
pub async fn set_disabled(
    tx: &mut WriteTx,
    actor: &Actor,
    user_id: &str,
    disabled: bool,
) -> StoreResult<()> {
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    if disabled {
        super::sessions::revoke_for_user(tx, user_id).await?;
    }
    let action = if disabled {
        AuditAction::UserDisabled
    } else {
        AuditAction::UserUpdated
    };
    tx.audit(
        actor,
        action,
        user_id,
        serde_json::json!({ "disabled": disabled }),
    )
    .await?;
    Ok(())
}

/// Changes an account's role; its sessions end, so the new role applies from its next sign-in.
pub async fn set_role(
    tx: &mut WriteTx,
    actor: &Actor,
    user: &UserRow,
    role: Role,
) -> StoreResult<()> {
    if role == Role::Student {
        return Err(StoreError::from(ErrorCode::BadRole));
    }
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(&user.id)
        .execute(tx.conn())
        .await?;
    super::sessions::revoke_for_user(tx, &user.id).await?;
    tx.audit(
        actor,
        AuditAction::UserUpdated,
        &user.id,
        serde_json::json!({ "role": { "from": user.role.as_str(), "to": role.as_str() } }),
    )
    .await?;
    Ok(())
}

/// Replaces an account's password (already hashed) and ends its sessions.
pub async fn set_password(
    tx: &mut WriteTx,
    actor: &Actor,
    user_id: &str,
    password_hash: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    super::sessions::revoke_for_user(tx, user_id).await?;
    tx.audit(
        actor,
        AuditAction::PasswordChanged,
        user_id,
        serde_json::json!({ "reset": true }),
    )
    .await?;
    Ok(())
}
