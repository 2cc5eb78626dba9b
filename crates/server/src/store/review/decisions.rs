//! Decisions: the checks a verdict must pass, reading decisions back, and `decide` (a
//! reviewer's decision or a supervisor's override), idempotent per client decision id.

use std::collections::HashMap;

use gradphoto_api::error::ErrorCode;
use gradphoto_api::review::{DecisionKind, DecisionRecord, Verdict};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::measures::CheckReport;
use gradphoto_domain::reasons::{RejectReason, Rejection};
use gradphoto_domain::state::{CaseState, Event, OverrideDecision};
use sqlx::Row;

use super::{ensure_visible, lock_case, Policies};
use crate::store::cases::{self, ms_to_utc, CaseRow};
use crate::store::error::{StoreError, StoreResult};
use crate::store::{new_id, now_ms, Actor, Store, WriteTx};

// ---------------------------------------------------------------------------------------------
// Decisions

/// A verdict whose reason codes have been checked against the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedVerdict {
    Approve,
    Reject {
        reasons: Vec<RejectReason>,
        comment: Option<String>,
    },
}

/// Longest comment accepted, in characters.
/// Comments are bounded where every text field is (`domain::text`).
const MAX_COMMENT_CHARS: usize = gradphoto_domain::text::COMMENT.max_chars;

pub fn check_comment(comment: Option<&str>, field: &str) -> StoreResult<Option<String>> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = comment {
        if c.chars().count() > MAX_COMMENT_CHARS {
            return Err(StoreError::refused(
                ErrorCode::CommentTooLong,
                format!("备注最多 {MAX_COMMENT_CHARS} 个字。"),
                format!("Comments are limited to {MAX_COMMENT_CHARS} characters."),
            )
            .with_field(field));
        }
    }
    Ok(comment.map(str::to_string))
}

/// Checks reason codes against the catalogue; `other` needs a comment.
pub fn check_verdict(verdict: &Verdict) -> StoreResult<CheckedVerdict> {
    match verdict {
        Verdict::Approve => Ok(CheckedVerdict::Approve),
        Verdict::Reject { reasons, comment } => {
            let comment = check_comment(comment.as_deref(), "comment")?;
            let r = Rejection::parse(reasons, comment.as_deref())
                .map_err(|e| StoreError::localized(&e).with_field(e.field()))?;
            Ok(CheckedVerdict::Reject {
                reasons: r.reasons,
                comment: r.comment,
            })
        }
    }
}

pub fn check_decision_id(id: &str) -> StoreResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::from(ErrorCode::BadDecisionId).with_field("decision_id"))
    }
}

pub(crate) fn reasons_of(v: &CheckedVerdict) -> (Vec<String>, Option<String>) {
    match v {
        CheckedVerdict::Approve => (Vec::new(), None),
        CheckedVerdict::Reject { reasons, comment } => (
            reasons.iter().map(|r| r.code().to_string()).collect(),
            comment.clone(),
        ),
    }
}

const DECISION_SELECT: &str =
    "SELECT d.client_decision_id, d.case_id, d.kind, d.reasons_json, d.comment,
        d.reviewer_id, u.display_name, d.round, d.decided_at
     FROM decisions d JOIN users u ON u.id = d.reviewer_id";

/// How a decision kind is stored in `decisions.kind`.
pub fn kind_str(kind: DecisionKind) -> &'static str {
    match kind {
        DecisionKind::Approve => "approve",
        DecisionKind::Reject => "reject",
        DecisionKind::OverrideApprove => "override_approve",
        DecisionKind::OverrideReject => "override_reject",
    }
}

pub fn parse_kind(s: &str) -> Option<DecisionKind> {
    [
        DecisionKind::Approve,
        DecisionKind::Reject,
        DecisionKind::OverrideApprove,
        DecisionKind::OverrideReject,
    ]
    .into_iter()
    .find(|k| kind_str(*k) == s)
}

/// Whether a decision (a reviewer's or an override) approves the photo.
pub(crate) fn approves(kind: DecisionKind) -> bool {
    matches!(kind, DecisionKind::Approve | DecisionKind::OverrideApprove)
}

fn decision_from_row(row: &sqlx::any::AnyRow) -> StoreResult<DecisionRecord> {
    let kind: String = row.try_get("kind")?;
    let kind = parse_kind(&kind)
        .ok_or_else(|| StoreError::internal(format_args!("unknown decision kind {kind:?}")))?;
    let reasons_json: String = row.try_get("reasons_json")?;
    Ok(DecisionRecord {
        decision_id: row.try_get("client_decision_id")?,
        case_id: row.try_get("case_id")?,
        kind,
        reasons: serde_json::from_str(&reasons_json)?,
        comment: row.try_get("comment")?,
        reviewer_id: row.try_get("reviewer_id")?,
        reviewer_name: row.try_get("display_name")?,
        round: row.try_get("round")?,
        decided_at_ms: row.try_get("decided_at")?,
        resulting_state: if approves(kind) {
            CaseState::Approved
        } else {
            CaseState::Rejected
        },
    })
}

async fn decision_by_client_id(
    tx: &mut WriteTx,
    decision_id: &str,
) -> StoreResult<Option<DecisionRecord>> {
    let row = sqlx::query(&format!(
        "{DECISION_SELECT} WHERE d.client_decision_id = $1"
    ))
    .bind(decision_id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(decision_from_row).transpose()
}

/// Decisions of a case, oldest first.
pub async fn decisions_for_case(store: &Store, case_id: &str) -> StoreResult<Vec<DecisionRecord>> {
    let rows = sqlx::query(&format!(
        "{DECISION_SELECT} WHERE d.case_id = $1 ORDER BY d.decided_at, d.id"
    ))
    .bind(case_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(decision_from_row).collect()
}

/// The newest decision on one case, as [`latest_decisions`] reads it for many.
pub async fn latest_decision(store: &Store, case_id: &str) -> StoreResult<Option<DecisionRecord>> {
    let row = sqlx::query(&format!(
        "{DECISION_SELECT} WHERE d.case_id = $1 ORDER BY d.decided_at DESC, d.id DESC LIMIT 1"
    ))
    .bind(case_id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(decision_from_row).transpose()
}

/// The decisions whose `column` is one of `values`, oldest first, read 500 values at a time.
async fn decisions_where_in(
    store: &Store,
    column: &str,
    values: &[String],
) -> StoreResult<Vec<DecisionRecord>> {
    let mut out = Vec::new();
    for chunk in values.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "{DECISION_SELECT} WHERE {column} IN ({}) ORDER BY d.decided_at, d.id",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for v in chunk {
            q = q.bind(v.clone());
        }
        for row in q.fetch_all(store.pool()).await? {
            out.push(decision_from_row(&row)?);
        }
    }
    Ok(out)
}

/// The latest decision of each of `case_ids`.
pub async fn latest_decisions(
    store: &Store,
    case_ids: &[String],
) -> StoreResult<HashMap<String, DecisionRecord>> {
    // Oldest first: each case keeps its last.
    Ok(decisions_where_in(store, "d.case_id", case_ids)
        .await?
        .into_iter()
        .map(|d| (d.case_id.clone(), d))
        .collect())
}

/// The decisions whose client decision ids are `ids`, by that id (one read for a page of
/// samples or override requests, not one per row).
pub async fn decisions_by_client_ids(
    store: &Store,
    ids: &[String],
) -> StoreResult<HashMap<String, DecisionRecord>> {
    Ok(decisions_where_in(store, "d.client_decision_id", ids)
        .await?
        .into_iter()
        .map(|d| (d.decision_id.clone(), d))
        .collect())
}

/// Who decides, and how.
pub struct DecisionInput<'a> {
    pub actor: &'a Actor,
    pub case_id: &'a str,
    pub decision_id: &'a str,
    pub verdict: CheckedVerdict,
    /// Set for a supervisor override: the supervisor's reason for overriding.
    pub override_comment: Option<String>,
    pub visible_school: Option<&'a str>,
}

/// How a decision came to be recorded, beyond its author.
#[derive(Default)]
pub(crate) struct Recording<'a> {
    /// The supervisor who confirmed an override another asked for: the state change is theirs.
    pub confirmed_by: Option<&'a Actor>,
    /// The override request this decision carries out.
    pub request_id: Option<&'a str>,
}

fn same_decision(existing: &DecisionRecord, input: &DecisionInput<'_>, kind: DecisionKind) -> bool {
    let (reasons, comment) = reasons_of(&input.verdict);
    existing.case_id == input.case_id
        && existing.reviewer_id == input.actor.id
        && existing.kind == kind
        && existing.reasons == reasons
        && existing.comment == comment
}

pub(crate) fn decision_id_reused() -> StoreError {
    StoreError::from(ErrorCode::DecisionIdReused).with_field("decision_id")
}

fn already_decided(state: CaseState) -> StoreError {
    StoreError::refused(
        ErrorCode::AlreadyDecided,
        format!("该照片已有审核结果（{}），不能再次审核。", state.label_zh()),
        format!(
            "This photo has already been decided ({}); it cannot be decided again.",
            state.label_en()
        ),
    )
}

fn withdrawn() -> StoreError {
    StoreError::from(ErrorCode::NoLongerSubmitted)
}

/// The kind a verdict is stored as, and the state machine event it is.
pub(crate) fn kind_and_event(
    verdict: &CheckedVerdict,
    is_override: bool,
    by: &str,
) -> (DecisionKind, Event) {
    let by = by.to_string();
    match (verdict, is_override) {
        (CheckedVerdict::Approve, false) => (DecisionKind::Approve, Event::Approve { by }),
        (CheckedVerdict::Reject { reasons, comment }, false) => (
            DecisionKind::Reject,
            Event::Reject {
                by,
                reasons: reasons.clone(),
                comment: comment.clone(),
            },
        ),
        (CheckedVerdict::Approve, true) => (
            DecisionKind::OverrideApprove,
            Event::Override {
                by,
                decision: OverrideDecision::Approve,
            },
        ),
        (CheckedVerdict::Reject { reasons, comment }, true) => (
            DecisionKind::OverrideReject,
            Event::Override {
                by,
                decision: OverrideDecision::Reject {
                    reasons: reasons.clone(),
                    comment: comment.clone(),
                },
            },
        ),
    }
}

/// The decision recorded under a client decision id, if any.
pub(crate) async fn existing_decision(
    tx: &mut WriteTx,
    input: &DecisionInput<'_>,
) -> StoreResult<Option<DecisionRecord>> {
    let kind = kind_and_event(&input.verdict, input.override_comment.is_some(), "").0;
    match decision_by_client_id(tx, input.decision_id).await? {
        Some(existing) if same_decision(&existing, input, kind) => Ok(Some(existing)),
        Some(_) => Err(decision_id_reused()),
        None => Ok(None),
    }
}

/// Records a reviewer's decision or a supervisor's override. A retry with the same
/// `decision_id` and the same content returns the original record, whatever happened since.
pub async fn decide(store: &Store, input: DecisionInput<'_>) -> StoreResult<DecisionRecord> {
    let mut tx = store.begin().await?;
    // Lock the case first so that concurrent retries of one decision serialize here.
    let case = lock_case(&mut tx, input.case_id).await?;
    let record = decide_in(&mut tx, &case, &input, Recording::default()).await?;
    tx.commit().await?;
    Ok(record)
}

/// [`decide`] inside `tx`, on `case` already locked by the caller.
pub(crate) async fn decide_in(
    tx: &mut WriteTx,
    case: &CaseRow,
    input: &DecisionInput<'_>,
    recording: Recording<'_>,
) -> StoreResult<DecisionRecord> {
    let is_override = input.override_comment.is_some();
    ensure_visible(case, input.visible_school)?;
    if let Some(existing) = existing_decision(tx, input).await? {
        return Ok(existing);
    }
    let now = ms_to_utc(now_ms());
    let effective = case.state.effective(now, case.lease.as_ref());
    if !is_override {
        match effective {
            CaseState::Approved
            | CaseState::Rejected
            | CaseState::Exported
            | CaseState::Published => return Err(already_decided(effective)),
            CaseState::PendingReview => {
                return Err(StoreError::localized(
                    &gradphoto_domain::state::TransitionError::LeaseExpired,
                ))
            }
            CaseState::InReview => {}
            _ => return Err(withdrawn()),
        }
    }
    let (reasons, comment) = reasons_of(&input.verdict);
    let (kind, event) = kind_and_event(&input.verdict, is_override, &input.actor.id);
    let mut policies = Policies::default();
    let policy = policies.get(tx, &case.school_id).await?;
    let mut details = serde_json::json!({
        "decision_id": input.decision_id,
        "round": case.round,
        "override_comment": input.override_comment,
    });
    if let (Some(confirmer), Some(obj)) = (recording.confirmed_by, details.as_object_mut()) {
        obj.insert("requested_by".into(), input.actor.id.clone().into());
        obj.insert("confirmed_by".into(), confirmer.id.clone().into());
        obj.insert("request_id".into(), recording.request_id.into());
    }
    let changed_by = recording.confirmed_by.unwrap_or(input.actor);
    cases::apply(tx, case, &event, changed_by, &policy, details).await?;
    let decided_at = now_ms();
    let row_id = new_id();
    let facts = StatsFacts::read(tx, case, &input.actor.id, is_override).await?;
    sqlx::query(
        "INSERT INTO decisions (id, client_decision_id, case_id, attempt_id, reviewer_id, kind,
                                reasons_json, comment, round, decided_at, school_id, college,
                                submitted_at, claimed_at, doubted_measures)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&row_id)
    .bind(input.decision_id)
    .bind(&case.id)
    .bind(case.submitted_attempt_id.clone())
    .bind(&input.actor.id)
    .bind(kind_str(kind))
    .bind(serde_json::to_string(&reasons)?)
    .bind(comment)
    .bind(case.round)
    .bind(decided_at)
    .bind(&case.school_id)
    .bind(facts.college)
    .bind(case.submitted_at)
    .bind(facts.claimed_at)
    .bind(facts.doubted_measures)
    .execute(tx.conn())
    .await?;
    if !is_override {
        super::rereview::sample_in(tx, &policy, &row_id, case, &input.actor.id).await?;
    }
    decision_by_client_id(tx, input.decision_id)
        .await?
        .ok_or_else(|| StoreError::internal("decision vanished inside its transaction"))
}

/// What statistics need of a decision, kept on its row when it is made (see migration 0006).
struct StatsFacts {
    college: Option<String>,
    /// When the deciding reviewer claimed the case: their last claim, from the audit log.
    claimed_at: Option<i64>,
    /// Space-separated codes of the decided photo's doubted measures (`CheckReport::doubted`).
    doubted_measures: Option<String>,
}

impl StatsFacts {
    async fn read(
        tx: &mut WriteTx,
        case: &cases::CaseRow,
        reviewer_id: &str,
        is_override: bool,
    ) -> StoreResult<StatsFacts> {
        let college: Option<String> =
            sqlx::query_scalar("SELECT college FROM students WHERE id = $1")
                .bind(&case.student_id)
                .fetch_optional(tx.conn())
                .await?;
        let claimed_at: Option<i64> = if is_override {
            None
        } else {
            sqlx::query_scalar(
                "SELECT MAX(at_ms) FROM audit_events
                 WHERE subject = $1 AND action = $2 AND actor_id = $3",
            )
            .bind(&case.id)
            .bind(AuditAction::Claimed.code())
            .bind(reviewer_id)
            .fetch_one(tx.conn())
            .await?
        };
        let report: Option<Option<String>> = match &case.submitted_attempt_id {
            Some(id) => {
                sqlx::query_scalar("SELECT report_json FROM attempts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(tx.conn())
                    .await?
            }
            None => None,
        };
        let doubted_measures = match report.flatten() {
            Some(json) => {
                let report: CheckReport = serde_json::from_str(&json)?;
                Some(
                    report
                        .doubted()
                        .map(|m| m.code())
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
            None => None,
        };
        Ok(StatsFacts {
            college,
            claimed_at,
            doubted_measures,
        })
    }
}
