//! Retention: a school's `retention_days` after export, the originals and ID-card images of
//! a case are deleted from the object store. The standardized photo, the decisions, the
//! consent records and the audit trail stay.

use gradphoto_domain::audit::{Actor, AuditAction};
use gradphoto_domain::state::CaseState;

use crate::http::error::AppResult;
use crate::store::schools;
use crate::AppState;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub cases: usize,
    pub objects: usize,
}

/// Purges every exported case whose retention period has ended by `now_ms`.
pub async fn purge_expired(state: &AppState, now_ms: i64) -> AppResult<Purged> {
    let due: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT id, school_id, exported_at FROM cases
         WHERE state IN ($1, $2) AND exported_at IS NOT NULL AND purged_at IS NULL
         ORDER BY exported_at",
    )
    .bind(CaseState::Exported.as_str())
    .bind(CaseState::Published.as_str())
    .fetch_all(state.store.pool())
    .await?;
    let mut purged = Purged::default();
    for (case_id, school_id, exported_at) in due {
        let Some(school) = schools::get(&state.store, &school_id).await? else {
            continue;
        };
        let keep_ms = i64::from(school.policy.retention_days).saturating_mul(DAY_MS);
        if exported_at.saturating_add(keep_ms) > now_ms {
            continue;
        }
        let cards: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT id_front_key, id_back_key FROM cases WHERE id = $1")
                .bind(&case_id)
                .fetch_optional(state.store.pool())
                .await?;
        let mut keys: Vec<String> =
            sqlx::query_scalar("SELECT original_key FROM attempts WHERE case_id = $1")
                .bind(&case_id)
                .fetch_all(state.store.pool())
                .await?;
        if let Some((front, back)) = cards {
            keys.extend(front);
            keys.extend(back);
        }
        keys.sort();
        keys.dedup();
        // Objects first: if this stops half-way the case is simply purged again next time.
        for key in &keys {
            state.objects.delete(key).await?;
        }
        let mut tx = state.store.begin().await?;
        sqlx::query(
            "UPDATE cases SET id_front_key = NULL, id_back_key = NULL, purged_at = $1 WHERE id = $2",
        )
        .bind(now_ms)
        .bind(&case_id)
        .execute(tx.conn())
        .await?;
        tx.audit(
            &Actor::system(),
            AuditAction::DataPurged,
            &case_id,
            serde_json::json!({ "objects": keys.len(), "retention_days": school.policy.retention_days }),
        )
        .await?;
        tx.commit().await?;
        purged.cases += 1;
        purged.objects += keys.len();
    }
    Ok(purged)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    use gradphoto_domain::audit::{Actor, AuditAction};
    use gradphoto_domain::role::Role;
    use gradphoto_domain::state::{CaseState, Event};

    use super::*;
    use crate::analyzer::testing::ResizeAnalyzer;
    use crate::config::Config;
    use crate::store::{attempts, audit, cases, now_ms};

    #[tokio::test]
    async fn originals_and_id_cards_go_after_the_retention_period() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            workers: 0,
            ..Config::default()
        };
        let analyzer = Arc::new(ResizeAnalyzer {
            same_person: AtomicBool::new(true),
        });
        let state = AppState::open(config, analyzer).await.unwrap();
        let report = crate::demo::seed(&state).await.unwrap();
        assert!(report.notes.is_empty(), "{:?}", report.notes);

        let approved: String = sqlx::query_scalar("SELECT id FROM cases WHERE state = $1")
            .bind(CaseState::Approved.as_str())
            .fetch_one(state.store.pool())
            .await
            .unwrap();
        let case = cases::get(&state.store, &approved).await.unwrap().unwrap();
        let school = schools::get(&state.store, &case.school_id)
            .await
            .unwrap()
            .unwrap();
        let mut tx = state.store.begin().await.unwrap();
        cases::apply(
            &mut tx,
            &case,
            &Event::Export,
            &Actor::new(Role::Admin, "t"),
            &school.policy,
            serde_json::json!({}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let attempt = attempts::get(&state.store, case.submitted_attempt_id.as_deref().unwrap())
            .await
            .unwrap()
            .unwrap();
        let front = case.id_front_key.clone().unwrap();
        assert!(state.objects.exists(&attempt.original_key).await.unwrap());

        // Within the retention period nothing happens.
        assert_eq!(
            purge_expired(&state, now_ms()).await.unwrap(),
            Purged::default()
        );

        let later = now_ms() + i64::from(school.policy.retention_days + 1) * DAY_MS;
        let purged = purge_expired(&state, later).await.unwrap();
        assert_eq!(purged.cases, 1);
        assert!(!state.objects.exists(&attempt.original_key).await.unwrap());
        assert!(!state.objects.exists(&front).await.unwrap());
        // The standardized photo stays for the registry.
        assert!(state
            .objects
            .exists(attempt.standardized_key.as_deref().unwrap())
            .await
            .unwrap());
        let after = cases::get(&state.store, &case.id).await.unwrap().unwrap();
        assert_eq!((after.id_front_key, after.id_back_key), (None, None));
        let events = audit::for_subject(&state.store, &case.id).await.unwrap();
        assert_eq!(events.last().unwrap().action, AuditAction::DataPurged);
        // Once purged, a case is not purged again.
        assert_eq!(
            purge_expired(&state, later).await.unwrap(),
            Purged::default()
        );
        assert!(audit::verify(&state.store).await.unwrap().is_ok());
    }
}
