//! Consent records (kept even after images are purged).

use gradphoto_domain::audit::AuditAction;

use super::error::StoreResult;
use super::{new_id, now_ms, Actor, Store, WriteTx};

pub const KIND_PRIVACY: &str = "privacy_id_face";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub kind: String,
    pub version: String,
    pub accepted_at: i64,
}

pub async fn record(
    tx: &mut WriteTx,
    actor: &Actor,
    case_id: &str,
    kind: &str,
    version: &str,
) -> StoreResult<ConsentRow> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO consents (id, case_id, kind, version, accepted_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new_id())
    .bind(case_id)
    .bind(kind)
    .bind(version)
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.audit(
        actor,
        AuditAction::ConsentRecorded,
        case_id,
        serde_json::json!({ "kind": kind, "version": version }),
    )
    .await?;
    Ok(ConsentRow {
        kind: kind.to_string(),
        version: version.to_string(),
        accepted_at: now,
    })
}

/// The most recent consent of this kind.
pub async fn latest(store: &Store, case_id: &str, kind: &str) -> StoreResult<Option<ConsentRow>> {
    let row: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, version, accepted_at FROM consents WHERE case_id = $1 AND kind = $2
         ORDER BY accepted_at DESC, id DESC LIMIT 1",
    )
    .bind(case_id)
    .bind(kind)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|(kind, version, accepted_at)| ConsentRow {
        kind,
        version,
        accepted_at,
    }))
}
