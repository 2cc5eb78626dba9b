//! Quality sampling: a share of each reviewer's decisions is drawn, as they are recorded, for a
//! supervisor to decide again without seeing the first decision; the second look is kept with
//! whether it agrees.

use gradphoto_api::error::ErrorCode;
use gradphoto_api::quality::{RereviewState, ReviewerAgreement};
use gradphoto_api::review::DecisionKind;
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::policy::SchoolPolicy;
use sqlx::Row;

use super::decisions::{
    approves, kind_and_event, kind_str, parse_kind, reasons_of, CheckedVerdict,
};
use crate::store::cases::CaseRow;
use crate::store::error::{StoreError, StoreResult};
use crate::store::{bool_i64, new_id, now_ms, Actor, Store, WriteTx};

/// Draws whether the decision just recorded (row `decision_row_id`) is sampled, and if so
/// queues it for a supervisor, inside the decision's own transaction.
pub(crate) async fn sample_in(
    tx: &mut WriteTx,
    policy: &SchoolPolicy,
    decision_row_id: &str,
    case: &CaseRow,
    reviewer_id: &str,
) -> StoreResult<()> {
    if !policy.samples_for_rereview(rand::random::<f64>()) {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO rereviews (id, decision_id, case_id, school_id, reviewer_id, sampled_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(decision_row_id)
    .bind(&case.id)
    .bind(&case.school_id)
    .bind(reviewer_id)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A sample as stored, with what the listing needs of the first decision.
#[derive(Debug, Clone)]
pub struct RereviewRow {
    pub id: String,
    pub case_id: String,
    pub school_id: String,
    pub reviewer_id: String,
    pub reviewer_name: String,
    pub sampled_at: i64,
    /// The client id of the first decision (`decisions.client_decision_id`).
    pub first_decision_id: String,
    pub attempt_id: Option<String>,
    pub second: Option<SecondRow>,
}

#[derive(Debug, Clone)]
pub struct SecondRow {
    pub supervisor_id: String,
    pub supervisor_name: String,
    pub kind: DecisionKind,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub agrees: bool,
    pub decided_at: i64,
}

impl RereviewRow {
    pub fn state(&self) -> RereviewState {
        if self.second.is_some() {
            RereviewState::Done
        } else {
            RereviewState::Open
        }
    }
}

const SELECT: &str =
    "SELECT r.id, r.case_id, r.school_id, r.reviewer_id, ru.display_name AS reviewer_name,
        r.sampled_at, r.supervisor_id, su.display_name AS supervisor_name, r.kind, r.reasons_json,
        r.comment, r.agrees, r.decided_at, d.attempt_id, d.client_decision_id
     FROM rereviews r JOIN decisions d ON d.id = r.decision_id
     JOIN users ru ON ru.id = r.reviewer_id LEFT JOIN users su ON su.id = r.supervisor_id";

fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<RereviewRow> {
    let decided_at: Option<i64> = row.try_get("decided_at")?;
    let second = match decided_at {
        None => None,
        Some(decided_at) => {
            let kind: String = row.try_get("kind")?;
            let reasons: Option<String> = row.try_get("reasons_json")?;
            let agrees: Option<i64> = row.try_get("agrees")?;
            let supervisor_name: Option<String> = row.try_get("supervisor_name")?;
            let supervisor_id: Option<String> = row.try_get("supervisor_id")?;
            Some(SecondRow {
                supervisor_id: supervisor_id.unwrap_or_default(),
                supervisor_name: supervisor_name.unwrap_or_default(),
                kind: parse_kind(&kind).ok_or_else(|| {
                    StoreError::internal(format_args!("unknown re-review kind {kind:?}"))
                })?,
                reasons: reasons
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()?
                    .unwrap_or_default(),
                comment: row.try_get("comment")?,
                agrees: agrees == Some(1),
                decided_at,
            })
        }
    };
    Ok(RereviewRow {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        school_id: row.try_get("school_id")?,
        reviewer_id: row.try_get("reviewer_id")?,
        reviewer_name: row.try_get("reviewer_name")?,
        sampled_at: row.try_get("sampled_at")?,
        first_decision_id: row.try_get("client_decision_id")?,
        attempt_id: row.try_get("attempt_id")?,
        second,
    })
}

/// Which samples a page lists.
#[derive(Debug, Clone, Default)]
pub struct RereviewFilter {
    pub state: RereviewState,
    pub school_id: Option<String>,
    pub reviewer_id: Option<String>,
    pub disagreements_only: bool,
    /// The last row of the previous page: (sampled_at for open ones, decided_at for done
    /// ones, id).
    pub after: Option<(i64, String)>,
    pub limit: u32,
}

enum Arg {
    Text(String),
    Int(i64),
}

/// One page of samples (open ones oldest first, done ones newest first) and whether more follow.
pub async fn list(store: &Store, f: &RereviewFilter) -> StoreResult<(Vec<RereviewRow>, bool)> {
    let mut sql = format!("{SELECT} WHERE ");
    let mut n = 0;
    let mut mark = || {
        n += 1;
        format!("${n}")
    };
    let (time, order) = match f.state {
        RereviewState::Open => {
            sql.push_str("r.decided_at IS NULL");
            ("r.sampled_at", "r.sampled_at, r.id")
        }
        RereviewState::Done => {
            sql.push_str("r.decided_at IS NOT NULL");
            ("r.decided_at", "r.decided_at DESC, r.id DESC")
        }
    };
    // Values in placeholder order.
    let mut args: Vec<Arg> = Vec::new();
    if let Some(s) = &f.school_id {
        sql.push_str(&format!(" AND r.school_id = {}", mark()));
        args.push(Arg::Text(s.clone()));
    }
    if let Some(r) = &f.reviewer_id {
        sql.push_str(&format!(" AND r.reviewer_id = {}", mark()));
        args.push(Arg::Text(r.clone()));
    }
    if f.disagreements_only {
        sql.push_str(" AND r.agrees = 0");
    }
    if let Some((at, id)) = &f.after {
        let (t, i) = (mark(), mark());
        let cmp = if f.state == RereviewState::Open {
            ">"
        } else {
            "<"
        };
        sql.push_str(&format!(
            " AND ({time} {cmp} {t} OR ({time} = {t} AND r.id {cmp} {i}))"
        ));
        args.push(Arg::Int(*at));
        args.push(Arg::Text(id.clone()));
    }
    sql.push_str(&format!(
        " ORDER BY {order} LIMIT {}",
        u64::from(f.limit) + 1
    ));
    let mut q = sqlx::query(&sql);
    for a in args {
        q = match a {
            Arg::Text(t) => q.bind(t),
            Arg::Int(i) => q.bind(i),
        };
    }
    let rows = q.fetch_all(store.pool()).await?;
    let mut out = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    let more = out.len() > f.limit as usize;
    out.truncate(f.limit as usize);
    Ok((out, more))
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<RereviewRow>> {
    let row = sqlx::query(&format!("{SELECT} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

fn not_found() -> StoreError {
    StoreError::not_found("抽检记录", "Re-review sample")
}

/// Records a supervisor's second look at a sample and whether it agrees with the first
/// decision. The same answer sent again returns the sample; a different one is refused.
pub async fn decide(
    store: &Store,
    id: &str,
    actor: &Actor,
    verdict: &CheckedVerdict,
    visible_school: Option<&str>,
) -> StoreResult<RereviewRow> {
    let (kind, _) = kind_and_event(verdict, false, &actor.id);
    let (reasons, comment) = reasons_of(verdict);
    let mut tx = store.begin().await?;
    let lock = format!(
        "SELECT r.school_id, r.case_id, r.decided_at, r.supervisor_id, r.kind, r.reasons_json,
                r.comment, d.kind AS first_kind, d.client_decision_id
         FROM rereviews r JOIN decisions d ON d.id = r.decision_id WHERE r.id = $1{}",
        tx.backend().lock_rows()
    );
    let row = sqlx::query(&lock)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(not_found)?;
    let school_id: String = row.try_get("school_id")?;
    if visible_school.is_some_and(|own| own != school_id) {
        return Err(not_found());
    }
    let decided_at: Option<i64> = row.try_get("decided_at")?;
    if decided_at.is_some() {
        let same = row
            .try_get::<Option<String>, _>("supervisor_id")?
            .as_deref()
            == Some(actor.id.as_str())
            && row.try_get::<Option<String>, _>("kind")?.as_deref() == Some(kind_str(kind))
            && row.try_get::<Option<String>, _>("reasons_json")?
                == Some(serde_json::to_string(&reasons)?)
            && row.try_get::<Option<String>, _>("comment")? == comment;
        drop(tx);
        return if same {
            get(store, id).await?.ok_or_else(not_found)
        } else {
            Err(StoreError::from(ErrorCode::RereviewAlreadyDone))
        };
    }
    let first: String = row.try_get("first_kind")?;
    let first = parse_kind(&first)
        .ok_or_else(|| StoreError::internal(format_args!("unknown decision kind {first:?}")))?;
    let agrees = approves(first) == approves(kind);
    let case_id: String = row.try_get("case_id")?;
    let first_decision_id: String = row.try_get("client_decision_id")?;
    sqlx::query(
        "UPDATE rereviews SET supervisor_id = $1, kind = $2, reasons_json = $3, comment = $4,
                agrees = $5, decided_at = $6
         WHERE id = $7 AND decided_at IS NULL",
    )
    .bind(&actor.id)
    .bind(kind_str(kind))
    .bind(serde_json::to_string(&reasons)?)
    .bind(comment.clone())
    .bind(bool_i64(agrees))
    .bind(now_ms())
    .bind(id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        actor,
        AuditAction::Rereviewed,
        &case_id,
        serde_json::json!({
            "rereview_id": id,
            "first_decision_id": first_decision_id,
            "kind": kind_str(kind),
            "reasons": reasons,
            "comment": comment,
            "agrees": agrees,
        }),
    )
    .await?;
    tx.commit().await?;
    get(store, id).await?.ok_or_else(not_found)
}

/// Per reviewer: decisions sampled, re-reviewed and disagreed with, most disagreements first.
pub async fn agreement(
    store: &Store,
    school_id: Option<&str>,
) -> StoreResult<Vec<ReviewerAgreement>> {
    let mut sql = String::from(
        "SELECT r.reviewer_id, u.display_name,
                COUNT(*) AS sampled,
                CAST(SUM(CASE WHEN r.decided_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS rereviewed,
                CAST(SUM(CASE WHEN r.agrees = 0 THEN 1 ELSE 0 END) AS BIGINT) AS disagreements
         FROM rereviews r JOIN users u ON u.id = r.reviewer_id",
    );
    if school_id.is_some() {
        sql.push_str(" WHERE r.school_id = $1");
    }
    sql.push_str(" GROUP BY r.reviewer_id, u.display_name");
    let mut q = sqlx::query(&sql);
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
    }
    let mut out = Vec::new();
    for row in q.fetch_all(store.pool()).await? {
        out.push(ReviewerAgreement {
            reviewer_id: row.try_get("reviewer_id")?,
            reviewer_name: row.try_get("display_name")?,
            sampled: row.try_get("sampled")?,
            rereviewed: row.try_get("rereviewed")?,
            disagreements: row.try_get("disagreements")?,
        });
    }
    out.sort_by(|a, b| {
        b.disagreements
            .cmp(&a.disagreements)
            .then_with(|| a.reviewer_name.cmp(&b.reviewer_name))
    });
    Ok(out)
}
