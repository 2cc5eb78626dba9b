//! Retention: a school's `retention_days` after export, the originals and ID-card images of
//! a case are deleted from the object store. The standardized photo, the decisions, the
//! consent records and the audit trail stay.

use gradphoto_domain::audit::{Actor, AuditAction};

use crate::http::error::AppResult;
use crate::store::{cases, schools};
use crate::AppState;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub cases: usize,
    pub objects: usize,
}

/// Purges every exported case whose retention period has ended by `now_ms`.
pub async fn purge_expired(state: &AppState, now_ms: i64) -> AppResult<Purged> {
    let mut purged = Purged::default();
    for due in cases::purge_candidates(&state.store).await? {
        let Some(school) = schools::get(&state.store, &due.school_id).await? else {
            continue;
        };
        let keep_ms = i64::from(school.policy.retention_days).saturating_mul(DAY_MS);
        if due.exported_at.saturating_add(keep_ms) > now_ms {
            continue;
        }
        let case_id = due.id;
        let keys = cases::object_keys(&state.store, &case_id).await?;
        // Objects first: if this stops half-way the case is simply purged again next time.
        for key in &keys {
            state.objects.delete(key).await?;
        }
        let mut tx = state.store.begin().await?;
        cases::mark_purged(&mut tx, &case_id, now_ms).await?;
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
    use chrono::Utc;
    use gradphoto_domain::audit::{Actor, AuditAction};
    use gradphoto_domain::role::Role;
    use gradphoto_domain::roster::RosterRecord;
    use gradphoto_domain::state::{CaseState, Event};

    use super::*;
    use crate::config::Config;
    use crate::crypto::hash_password;
    use crate::demo::{demo_id_number, demo_policy};
    use crate::http::student::tests::{analyzer, png, portrait, test_data};
    use crate::objects::ObjectKind;
    use crate::store::{attempts, audit, cases, codes, jobs, now_ms, students, users};

    /// One student taken through identity check, payment, an analysed photo and approval
    /// with the same store operations the API uses; returns the approved case.
    async fn approved_case(state: &AppState) -> cases::CaseRow {
        let policy = demo_policy();
        let admin = Actor::new(Role::Admin, "t");
        let record = RosterRecord {
            name: "学生1".into(),
            id_number: demo_id_number(1).unwrap(),
            student_no: "S1".into(),
            school: "测试大学".into(),
            college: "理学院".into(),
            major: "数学".into(),
            level: "本科".into(),
            graduation_year: 2025,
            enrollment_photo: None,
        };
        let mut tx = state.store.begin().await.unwrap();
        students::import_as(&mut tx, &state.crypto, &admin, &[record], &policy)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let school = schools::find_by_name(&state.store, "测试大学")
            .await
            .unwrap()
            .unwrap();
        let student = students::find_by_student_no(&state.store, &school.id, "S1")
            .await
            .unwrap()
            .unwrap();
        let case_id = cases::get_by_student(&state.store, &student.id)
            .await
            .unwrap()
            .unwrap()
            .id;
        let as_student = Actor::new(Role::Student, &case_id);

        let mut tx = state.store.begin().await.unwrap();
        let issued = codes::issue(&mut tx, &state.crypto, &admin, &case_id, false)
            .await
            .unwrap();
        codes::claim(
            &mut tx,
            &state.crypto,
            &issued.code,
            None,
            state.session_ttl_ms(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        // The card is the student's own, so the photo's analysis compares and reads it.
        let front = state
            .objects
            .put_sensitive(
                ObjectKind::IdCard,
                &test_data("idcards/idcard_astronaut.png"),
            )
            .await
            .unwrap();
        let back = state
            .objects
            .put_sensitive(ObjectKind::IdCard, &png(856, 540))
            .await
            .unwrap();
        let mut tx = state.store.begin().await.unwrap();
        cases::set_id_card(&mut tx, &case_id, &front, &back)
            .await
            .unwrap();
        for event in [Event::VerifyIdentity, Event::ConfirmRecord, Event::Pay] {
            let case = cases::get_in(tx.conn(), &case_id).await.unwrap();
            cases::apply(
                &mut tx,
                &case,
                &event,
                &as_student,
                &policy,
                serde_json::json!({}),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();

        let photo = portrait();
        let original = state
            .objects
            .put_sensitive(ObjectKind::Original, &photo)
            .await
            .unwrap();
        let mut tx = state.store.begin().await.unwrap();
        let case = cases::get_in(tx.conn(), &case_id).await.unwrap();
        let attempt_id = attempts::insert(
            &mut tx,
            &attempts::NewAttempt {
                case_id: &case_id,
                round: case.round,
                client_upload_id: None,
                source: "camera",
                original_key: &original,
                original_mime: "image/jpeg",
                original_size: photo.len() as i64,
            },
        )
        .await
        .unwrap();
        jobs::enqueue(
            &mut tx,
            jobs::KIND_ANALYZE_ATTEMPT,
            &serde_json::json!({ "attempt_id": attempt_id }),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        crate::jobs::drain(state).await.unwrap();
        let attempt = attempts::get(&state.store, &attempt_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(attempt.status, attempts::STATUS_CHECKED);
        assert!(attempt.standardized_key.is_some());
        assert_eq!(attempt.face_same_person, Some(true));

        let hash = tokio::task::spawn_blocking(|| hash_password("reviewer-Passw0rd!"))
            .await
            .unwrap()
            .unwrap();
        let mut tx = state.store.begin().await.unwrap();
        let reviewer_id = users::add(
            &mut tx,
            &admin,
            "reviewer1",
            "reviewer1",
            Role::Reviewer,
            &hash,
            None,
        )
        .await
        .unwrap();
        cases::set_submitted_attempt(&mut tx, &case_id, &attempt_id)
            .await
            .unwrap();
        let reviewer = Actor::new(Role::Reviewer, &reviewer_id);
        let steps = [
            (Event::Submit { flagged: false }, &as_student),
            (
                Event::ClaimForReview {
                    reviewer: reviewer_id.clone(),
                    lease_until: Utc::now() + chrono::Duration::minutes(15),
                },
                &reviewer,
            ),
            (
                Event::Approve {
                    by: reviewer_id.clone(),
                },
                &reviewer,
            ),
        ];
        for (event, actor) in &steps {
            let case = cases::get_in(tx.conn(), &case_id).await.unwrap();
            cases::apply(&mut tx, &case, event, actor, &policy, serde_json::json!({}))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let case = cases::get(&state.store, &case_id).await.unwrap().unwrap();
        assert_eq!(case.state, CaseState::Approved);
        case
    }

    #[tokio::test]
    async fn originals_and_id_cards_go_after_the_retention_period() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            workers: 0,
            ..Config::default()
        };
        let state = AppState::open(config, analyzer()).await.unwrap();
        let case = approved_case(&state).await;
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
