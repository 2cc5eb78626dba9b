//! Overrides where the school asks for a second pair of eyes: the first supervisor's override
//! is kept as a request, checked against the state machine at once, and carried out only when
//! another supervisor confirms it (or closed when one declines it).

use gradphoto_api::error::ErrorCode;
use gradphoto_api::quality::OverrideStatus;
use gradphoto_api::review::{DecisionKind, DecisionRecord, Verdict};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::role::Role;
use sqlx::Row;

use super::decisions::{
    check_comment, check_verdict, decide_in, decision_id_reused, existing_decision, kind_and_event,
    kind_str, parse_kind, reasons_of, DecisionInput, Recording,
};
use super::{lock_case, Policies};
use crate::store::cases;
use crate::store::error::{StoreError, StoreResult};
use crate::store::{new_id, now_ms, Actor, Store, WriteTx};

/// An override request as stored, with the names of the supervisors involved.
#[derive(Debug, Clone)]
pub struct OverrideRow {
    pub id: String,
    pub client_decision_id: String,
    pub case_id: String,
    pub school_id: String,
    pub requested_by: String,
    pub requested_by_name: String,
    pub kind: DecisionKind,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub override_comment: String,
    pub requested_at: i64,
    pub status: OverrideStatus,
    pub answered_by: Option<String>,
    pub answered_by_name: Option<String>,
    pub answer_comment: Option<String>,
    pub answered_at: Option<i64>,
}

/// What an override did.
#[derive(Debug, Clone)]
pub enum Outcome {
    Applied(DecisionRecord),
    AwaitingConfirmation(OverrideRow),
}

const SELECT: &str = "SELECT o.id, o.client_decision_id, o.case_id, o.school_id, o.requested_by,
        ru.display_name AS requested_by_name, o.kind, o.reasons_json, o.comment, o.override_comment,
        o.requested_at, o.status, o.answered_by, au.display_name AS answered_by_name,
        o.answer_comment, o.answered_at
     FROM override_requests o JOIN users ru ON ru.id = o.requested_by
     LEFT JOIN users au ON au.id = o.answered_by";

fn status_str(s: OverrideStatus) -> &'static str {
    match s {
        OverrideStatus::Pending => "pending",
        OverrideStatus::Confirmed => "confirmed",
        OverrideStatus::Declined => "declined",
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<OverrideRow> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let reasons: String = row.try_get("reasons_json")?;
    Ok(OverrideRow {
        id: row.try_get("id")?,
        client_decision_id: row.try_get("client_decision_id")?,
        case_id: row.try_get("case_id")?,
        school_id: row.try_get("school_id")?,
        requested_by: row.try_get("requested_by")?,
        requested_by_name: row.try_get("requested_by_name")?,
        kind: parse_kind(&kind)
            .ok_or_else(|| StoreError::internal(format_args!("unknown override kind {kind:?}")))?,
        reasons: serde_json::from_str(&reasons)?,
        comment: row.try_get("comment")?,
        override_comment: row.try_get("override_comment")?,
        requested_at: row.try_get("requested_at")?,
        status: [
            OverrideStatus::Pending,
            OverrideStatus::Confirmed,
            OverrideStatus::Declined,
        ]
        .into_iter()
        .find(|s| status_str(*s) == status)
        .ok_or_else(|| StoreError::internal(format_args!("unknown override status {status:?}")))?,
        answered_by: row.try_get("answered_by")?,
        answered_by_name: row.try_get("answered_by_name")?,
        answer_comment: row.try_get("answer_comment")?,
        answered_at: row.try_get("answered_at")?,
    })
}

async fn get_in(tx: &mut WriteTx, id: &str) -> StoreResult<Option<OverrideRow>> {
    let row = sqlx::query(&format!("{SELECT} WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<OverrideRow>> {
    let row = sqlx::query(&format!("{SELECT} WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Requests of one status, oldest first for pending ones (the ones waiting longest) and newest
/// first otherwise.
pub async fn list(
    store: &Store,
    status: OverrideStatus,
    school_id: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<OverrideRow>> {
    let mut sql = format!("{SELECT} WHERE o.status = $1");
    if school_id.is_some() {
        sql.push_str(" AND o.school_id = $2");
    }
    sql.push_str(if status == OverrideStatus::Pending {
        " ORDER BY o.requested_at, o.id"
    } else {
        " ORDER BY o.requested_at DESC, o.id DESC"
    });
    sql.push_str(&format!(" LIMIT {limit}"));
    let mut q = sqlx::query(&sql).bind(status_str(status));
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
    }
    q.fetch_all(store.pool())
        .await?
        .iter()
        .map(from_row)
        .collect()
}

fn not_found() -> StoreError {
    StoreError::not_found("改判申请", "Override request")
}

/// A supervisor's override: carried out at once, or, where the school's policy asks for a
/// second supervisor, kept as a request after checking that it could be carried out now.
/// The same decision id sent again answers what the first call did.
pub async fn request_or_apply(store: &Store, input: DecisionInput<'_>) -> StoreResult<Outcome> {
    let mut tx = store.begin().await?;
    let case = lock_case(&mut tx, input.case_id).await?;
    super::ensure_visible(&case, input.visible_school)?;
    if let Some(done) = existing_decision(&mut tx, &input).await? {
        return Ok(Outcome::Applied(done));
    }
    let (kind, event) = kind_and_event(&input.verdict, true, &input.actor.id);
    let (reasons, comment) = reasons_of(&input.verdict);
    let earlier = sqlx::query(&format!("{SELECT} WHERE o.client_decision_id = $1"))
        .bind(input.decision_id)
        .fetch_optional(tx.conn())
        .await?;
    if let Some(row) = earlier {
        let earlier = from_row(&row)?;
        let same = earlier.case_id == case.id
            && earlier.requested_by == input.actor.id
            && earlier.kind == kind
            && earlier.reasons == reasons
            && earlier.comment == comment;
        return if same {
            Ok(Outcome::AwaitingConfirmation(earlier))
        } else {
            Err(decision_id_reused())
        };
    }
    let policy = Policies::default().get(&mut tx, &case.school_id).await?;
    if !policy.override_needs_second_supervisor {
        let record = decide_in(&mut tx, &case, &input, Recording::default()).await?;
        tx.commit().await?;
        return Ok(Outcome::Applied(record));
    }
    cases::check(&case, &event, input.actor, &policy)?;
    let pending: Option<String> = sqlx::query_scalar(
        "SELECT id FROM override_requests WHERE case_id = $1 AND status = 'pending'",
    )
    .bind(&case.id)
    .fetch_optional(tx.conn())
    .await?;
    if pending.is_some() {
        return Err(StoreError::from(ErrorCode::OverrideAlreadyPending));
    }
    let id = new_id();
    let override_comment = input.override_comment.clone().unwrap_or_default();
    sqlx::query(
        "INSERT INTO override_requests (id, client_decision_id, case_id, school_id, requested_by,
                kind, reasons_json, comment, override_comment, requested_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')",
    )
    .bind(&id)
    .bind(input.decision_id)
    .bind(&case.id)
    .bind(&case.school_id)
    .bind(&input.actor.id)
    .bind(kind_str(kind))
    .bind(serde_json::to_string(&reasons)?)
    .bind(comment.clone())
    .bind(&override_comment)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    tx.audit(
        input.actor,
        AuditAction::OverrideRequested,
        &case.id,
        serde_json::json!({
            "request_id": id,
            "decision_id": input.decision_id,
            "kind": kind_str(kind),
            "reasons": reasons,
            "comment": comment,
            "override_comment": override_comment,
            "from": case.state.as_str(),
        }),
    )
    .await?;
    let row = get_in(&mut tx, &id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(Outcome::AwaitingConfirmation(row))
}

/// Locks a request of the caller's school for an answer.
async fn lock_request(
    tx: &mut WriteTx,
    id: &str,
    visible_school: Option<&str>,
) -> StoreResult<OverrideRow> {
    let lock = format!(
        "SELECT id FROM override_requests WHERE id = $1{}",
        tx.backend().lock_rows()
    );
    sqlx::query(&lock)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    let row = get_in(tx, id).await?.ok_or_else(not_found)?;
    if visible_school.is_some_and(|own| own != row.school_id) {
        return Err(not_found());
    }
    Ok(row)
}

/// A second supervisor confirms a request: the override is carried out (the decision is the
/// requester's, the state change the confirmer's). Confirming again answers the same.
pub async fn confirm(
    store: &Store,
    id: &str,
    actor: &Actor,
    visible_school: Option<&str>,
) -> StoreResult<(OverrideRow, DecisionRecord)> {
    let mut tx = store.begin().await?;
    let request = lock_request(&mut tx, id, visible_school).await?;
    let requester = Actor::new(Role::Supervisor, request.requested_by.clone());
    let verdict = match request.kind {
        DecisionKind::OverrideApprove | DecisionKind::Approve => Verdict::Approve,
        DecisionKind::OverrideReject | DecisionKind::Reject => Verdict::Reject {
            reasons: request.reasons.clone(),
            comment: request.comment.clone(),
        },
    };
    let input = DecisionInput {
        actor: &requester,
        case_id: &request.case_id,
        decision_id: &request.client_decision_id,
        verdict: check_verdict(&verdict)?,
        override_comment: Some(request.override_comment.clone()),
        visible_school,
    };
    match request.status {
        OverrideStatus::Confirmed if request.answered_by.as_deref() == Some(actor.id.as_str()) => {
            let decision = existing_decision(&mut tx, &input)
                .await?
                .ok_or_else(|| StoreError::internal("confirmed override without its decision"))?;
            return Ok((request, decision));
        }
        OverrideStatus::Pending => {}
        _ => return Err(StoreError::from(ErrorCode::OverrideRequestClosed)),
    }
    if request.requested_by == actor.id {
        return Err(StoreError::from(ErrorCode::OverrideNeedsAnotherSupervisor));
    }
    let case = lock_case(&mut tx, &request.case_id).await?;
    let decision = decide_in(
        &mut tx,
        &case,
        &input,
        Recording {
            confirmed_by: Some(actor),
            request_id: Some(&request.id),
        },
    )
    .await?;
    sqlx::query(
        "UPDATE override_requests SET status = 'confirmed', answered_by = $1, answered_at = $2
         WHERE id = $3",
    )
    .bind(&actor.id)
    .bind(now_ms())
    .bind(&request.id)
    .execute(tx.conn())
    .await?;
    let row = get_in(&mut tx, &request.id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok((row, decision))
}

/// A second supervisor declines a request, saying why; nothing changes for the student.
pub async fn decline(
    store: &Store,
    id: &str,
    actor: &Actor,
    comment: &str,
    visible_school: Option<&str>,
) -> StoreResult<OverrideRow> {
    let comment = check_comment(Some(comment), "comment")?
        .ok_or_else(|| StoreError::from(ErrorCode::DeclineCommentRequired).with_field("comment"))?;
    let mut tx = store.begin().await?;
    let request = lock_request(&mut tx, id, visible_school).await?;
    match request.status {
        OverrideStatus::Declined
            if request.answered_by.as_deref() == Some(actor.id.as_str())
                && request.answer_comment.as_deref() == Some(comment.as_str()) =>
        {
            return Ok(request)
        }
        OverrideStatus::Pending => {}
        _ => return Err(StoreError::from(ErrorCode::OverrideRequestClosed)),
    }
    sqlx::query(
        "UPDATE override_requests SET status = 'declined', answered_by = $1, answer_comment = $2,
                answered_at = $3
         WHERE id = $4",
    )
    .bind(&actor.id)
    .bind(&comment)
    .bind(now_ms())
    .bind(&request.id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        actor,
        AuditAction::OverrideDeclined,
        &request.case_id,
        serde_json::json!({
            "request_id": request.id,
            "requested_by": request.requested_by,
            "comment": comment,
        }),
    )
    .await?;
    let row = get_in(&mut tx, &request.id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(row)
}
