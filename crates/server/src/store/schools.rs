//! Schools and their policy.

use gradphoto_domain::policy::SchoolPolicy;
use sqlx::AnyConnection;

use super::error::StoreResult;
use super::{new_id, now_ms, Store};

#[derive(Debug, Clone)]
pub struct SchoolRow {
    pub id: String,
    pub name: String,
    pub policy: SchoolPolicy,
}

fn from_raw((id, name, policy_json): (String, String, String)) -> StoreResult<SchoolRow> {
    Ok(SchoolRow {
        id,
        name,
        policy: serde_json::from_str(&policy_json)?,
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<SchoolRow>> {
    let raw: Option<(String, String, String)> =
        sqlx::query_as("SELECT id, name, policy_json FROM schools WHERE id = $1")
            .bind(id)
            .fetch_optional(store.pool())
            .await?;
    raw.map(from_raw).transpose()
}

pub async fn get_in(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<SchoolRow>> {
    let raw: Option<(String, String, String)> =
        sqlx::query_as("SELECT id, name, policy_json FROM schools WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    raw.map(from_raw).transpose()
}

pub async fn find_by_name(store: &Store, name: &str) -> StoreResult<Option<SchoolRow>> {
    let raw: Option<(String, String, String)> =
        sqlx::query_as("SELECT id, name, policy_json FROM schools WHERE name = $1")
            .bind(name)
            .fetch_optional(store.pool())
            .await?;
    raw.map(from_raw).transpose()
}

pub async fn list(store: &Store) -> StoreResult<Vec<SchoolRow>> {
    let raw: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, name, policy_json FROM schools ORDER BY name")
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
    sqlx::query("INSERT INTO schools (id, name, policy_json, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(name)
        .bind(serde_json::to_string(default_policy)?)
        .bind(now_ms())
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn set_policy(
    conn: &mut AnyConnection,
    id: &str,
    policy: &SchoolPolicy,
) -> StoreResult<()> {
    sqlx::query("UPDATE schools SET policy_json = $1 WHERE id = $2")
        .bind(serde_json::to_string(policy)?)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Schools whose policy charges a fee (the start-up check that someone collects it).
pub async fn charging_fee(store: &Store) -> StoreResult<Vec<SchoolRow>> {
    Ok(list(store)
        .await?
        .into_iter()
        .filter(|s| s.policy.fee_cents > 0)
        .collect())
}
