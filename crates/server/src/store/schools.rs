//! Schools and their policy.

use gradphoto_api::error::ErrorCode;
use gradphoto_domain::audit::Actor;
use gradphoto_domain::policy::SchoolPolicy;
use sqlx::{AnyConnection, Row};

use super::error::{StoreError, StoreResult};
use super::{new_id, now_ms, Store};

#[derive(Debug, Clone)]
pub struct SchoolRow {
    pub id: String,
    pub name: String,
    pub policy: SchoolPolicy,
    /// The version of `policy` (1 for a school's first; each change adds one).
    pub policy_version: i64,
}

const COLUMNS: &str = "id, name, policy_json, policy_version";

fn from_raw(
    (id, name, policy_json, policy_version): (String, String, String, i64),
) -> StoreResult<SchoolRow> {
    Ok(SchoolRow {
        id,
        name,
        policy: serde_json::from_str(&policy_json)?,
        policy_version,
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<SchoolRow>> {
    let raw: Option<(String, String, String, i64)> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM schools WHERE id = $1"))
            .bind(id)
            .fetch_optional(store.pool())
            .await?;
    raw.map(from_raw).transpose()
}

pub async fn get_in(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<SchoolRow>> {
    let raw: Option<(String, String, String, i64)> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM schools WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    raw.map(from_raw).transpose()
}

pub async fn find_by_name(store: &Store, name: &str) -> StoreResult<Option<SchoolRow>> {
    let raw: Option<(String, String, String, i64)> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM schools WHERE name = $1"))
            .bind(name)
            .fetch_optional(store.pool())
            .await?;
    raw.map(from_raw).transpose()
}

pub async fn list(store: &Store) -> StoreResult<Vec<SchoolRow>> {
    let raw: Vec<(String, String, String, i64)> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM schools ORDER BY name"))
            .fetch_all(store.pool())
            .await?;
    raw.into_iter().map(from_raw).collect()
}

/// The school with this name, created with `default_policy` when it does not exist yet.
pub async fn ensure(
    conn: &mut AnyConnection,
    name: &str,
    default_policy: &SchoolPolicy,
) -> StoreResult<String> {
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM schools WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = new_id();
    let (json, now) = (serde_json::to_string(default_policy)?, now_ms());
    sqlx::query(
        "INSERT INTO schools (id, name, policy_json, policy_version, created_at)
         VALUES ($1, $2, $3, 1, $4)",
    )
    .bind(&id)
    .bind(name)
    .bind(&json)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO policy_versions (school_id, version, policy_json, changed_by, changed_at)
         VALUES ($1, 1, $2, 'system', $3)",
    )
    .bind(&id)
    .bind(&json)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Replaces a school's policy with a new version and keeps it in the history; answers the new
/// version. With `on_version`, the change is refused (`policy_version_stale`) unless that is
/// still the current version: someone else's change made meanwhile is never overwritten.
pub async fn set_policy(
    conn: &mut AnyConnection,
    id: &str,
    policy: &SchoolPolicy,
    actor: &Actor,
    on_version: Option<i64>,
) -> StoreResult<i64> {
    let json = serde_json::to_string(policy)?;
    // One conditional update: two changes made on the same version cannot both pass it.
    let updated = match on_version {
        Some(v) => {
            sqlx::query(
                "UPDATE schools SET policy_json = $1, policy_version = policy_version + 1
                 WHERE id = $2 AND policy_version = $3",
            )
            .bind(&json)
            .bind(id)
            .bind(v)
            .execute(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(
                "UPDATE schools SET policy_json = $1, policy_version = policy_version + 1
                 WHERE id = $2",
            )
            .bind(&json)
            .bind(id)
            .execute(&mut *conn)
            .await?
        }
    };
    if updated.rows_affected() == 0 {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT policy_version FROM schools WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        return Err(match exists {
            Some(_) => StoreError::from(ErrorCode::PolicyVersionStale),
            None => StoreError::from(ErrorCode::UnknownSchool),
        });
    }
    let version: i64 = sqlx::query_scalar("SELECT policy_version FROM schools WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO policy_versions (school_id, version, policy_json, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(version)
    .bind(&json)
    .bind(actor.id.clone())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(version)
}

/// One version of a school's policy, with who made it (their display name when an account).
#[derive(Debug, Clone)]
pub struct PolicyVersionRow {
    pub version: i64,
    pub policy: SchoolPolicy,
    pub changed_by: String,
    pub changed_by_name: Option<String>,
    pub changed_at: i64,
}

/// Every version of a school's policy, the newest first.
pub async fn policy_versions(store: &Store, id: &str) -> StoreResult<Vec<PolicyVersionRow>> {
    let rows = sqlx::query(
        "SELECT v.version, v.policy_json, v.changed_by, u.display_name, v.changed_at
         FROM policy_versions v LEFT JOIN users u ON u.id = v.changed_by
         WHERE v.school_id = $1 ORDER BY v.version DESC",
    )
    .bind(id)
    .fetch_all(store.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let json: String = row.try_get("policy_json")?;
        out.push(PolicyVersionRow {
            version: row.try_get("version")?,
            policy: serde_json::from_str(&json)?,
            changed_by: row.try_get("changed_by")?,
            changed_by_name: row.try_get("display_name")?,
            changed_at: row.try_get("changed_at")?,
        });
    }
    Ok(out)
}

/// Schools whose policy charges a fee (the start-up check that someone collects it).
pub async fn charging_fee(store: &Store) -> StoreResult<Vec<SchoolRow>> {
    Ok(list(store)
        .await?
        .into_iter()
        .filter(|s| s.policy.fee_cents > 0)
        .collect())
}
