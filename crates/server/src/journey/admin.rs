//! What administrators change: a school's policy, checked, versioned and audited in one
//! transaction. The HTTP handlers and `gradphoto school policy` both call it.

use gradphoto_domain::audit::{Actor, AuditAction};
use gradphoto_domain::policy::SchoolPolicy;

use crate::http::error::{AppError, AppResult};
use crate::store::schools;
use crate::AppState;

/// Replaces a school's policy: validated (each problem with its own code and zh/en message),
/// its fee checked against the payment providers this server has, then stored as a new
/// version with an audit event naming the settings that changed. With `on_version`, refused
/// when someone else changed the policy since that version. Answers the new version. New
/// attempts follow the new policy; what was decided under the old one stays.
pub async fn change_policy(
    state: &AppState,
    actor: &Actor,
    school_id: &str,
    policy: &SchoolPolicy,
    on_version: Option<i64>,
) -> AppResult<i64> {
    policy.validate().map_err(|e| AppError::localized(&e))?;
    let mut tx = state.store.begin().await?;
    let before = schools::get_in(tx.conn(), school_id)
        .await?
        .ok_or_else(|| AppError::not_found("学校", "School"))?;
    before
        .policy
        .check_change(policy)
        .map_err(|e| AppError::localized(&e))?;
    state.payments.check_fee(&before.name, policy.fee_cents)?;
    let version = schools::set_policy(tx.conn(), school_id, policy, actor, on_version).await?;
    tx.audit(
        actor,
        AuditAction::PolicyChanged,
        school_id,
        serde_json::json!({
            "version": version,
            "from_version": before.policy_version,
            "changed": before.policy.changed_fields(policy),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}
