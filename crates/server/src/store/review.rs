//! The review queue: listing, leases (claim, renew, release, expiry) and decisions.
//!
//! Every state change goes through [`cases::apply`], which runs the domain state machine and
//! appends the audit event in the same transaction. Claims are atomic: on PostgreSQL the
//! candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take
//! different rows; on SQLite the store's single write lock serializes the read and the update.

use std::collections::HashMap;

use chrono::Duration;
use gradphoto_api::review::{
    DecisionKind, DecisionRecord, FlagReasons, QueueItem, ReasonCount, ReviewerDay, StateCount,
    Verdict,
};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::reasons::{RejectReason, Rejection};
use gradphoto_domain::state::{CaseState, Event, OverrideDecision};
use sqlx::Row;

use super::cases::{self, ms_to_utc, CaseRow, COLUMNS};
use super::error::{StoreError, StoreResult};
use super::{audit, new_id, now_ms, schools, Actor, Store, WriteTx};
use gradphoto_api::error::ErrorCode;

/// Most items one claim may take.
pub const MAX_CLAIM: u32 = 50;
/// Expired leases returned to the queue per sweep; the rest go on the next call.
const SWEEP_BATCH: i64 = 200;

/// Reads a case inside the transaction, locking its row on PostgreSQL.
pub async fn lock_case(tx: &mut WriteTx, case_id: &str) -> StoreResult<CaseRow> {
    let sql = format!(
        "SELECT {COLUMNS} FROM cases WHERE id = $1{}",
        tx.backend().lock_rows()
    );
    let row = sqlx::query(&sql)
        .bind(case_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| StoreError::not_found("采集记录", "Case"))?;
    cases::from_row(&row)
}

/// Caches school policies for the duration of one transaction.
#[derive(Default)]
struct Policies(HashMap<String, SchoolPolicy>);

impl Policies {
    async fn get(&mut self, tx: &mut WriteTx, school_id: &str) -> StoreResult<SchoolPolicy> {
        if let Some(p) = self.0.get(school_id) {
            return Ok(p.clone());
        }
        let school = schools::get_in(tx.conn(), school_id)
            .await?
            .ok_or_else(|| {
                StoreError::internal(format_args!("case of unknown school {school_id}"))
            })?;
        self.0.insert(school_id.to_string(), school.policy.clone());
        Ok(school.policy)
    }
}

// ---------------------------------------------------------------------------------------------
// Lease expiry

/// Whether any lease has run out (a cheap read, so callers only take the write lock when needed).
pub async fn has_expired_leases(store: &Store, now: i64) -> StoreResult<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM cases WHERE state = 'in_review' AND lease_until <= $1 LIMIT 1",
    )
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    Ok(found.is_some())
}

/// Returns in-review cases whose lease ran out to the queue, inside `tx`.
async fn expire_in(tx: &mut WriteTx, actor: &Actor, policies: &mut Policies) -> StoreResult<u64> {
    let sql = format!(
        "SELECT {COLUMNS} FROM cases WHERE state = 'in_review' AND lease_until <= $1
         ORDER BY lease_until LIMIT {SWEEP_BATCH}{}",
        tx.backend().lock_rows_skip_locked()
    );
    let rows = sqlx::query(&sql)
        .bind(now_ms())
        .fetch_all(tx.conn())
        .await?;
    let mut n = 0;
    for row in &rows {
        let case = cases::from_row(row)?;
        let policy = policies.get(tx, &case.school_id).await?;
        let holder = case.lease.as_ref().map(|l| l.holder.clone());
        cases::apply(
            tx,
            &case,
            &Event::ExpireLease,
            actor,
            &policy,
            serde_json::json!({ "expired_holder": holder }),
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Returns expired leases to the queue. `actor` is whoever's request noticed them.
pub async fn sweep_expired(store: &Store, actor: &Actor) -> StoreResult<u64> {
    if !has_expired_leases(store, now_ms()).await? {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let n = expire_in(&mut tx, actor, &mut Policies::default()).await?;
    tx.commit().await?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Queue

#[derive(Debug, Clone)]
pub struct QueueFilter {
    pub state: CaseState,
    pub school_id: Option<String>,
    pub flagged: Option<bool>,
    /// Only cases submitted at or before this time.
    pub submitted_before: Option<i64>,
    /// Keyset position: the (submitted_at, id) of the last item of the previous page.
    pub after: Option<(i64, String)>,
    pub limit: u32,
}

/// One page of the queue, oldest submission first, and whether more follow.
pub async fn queue(store: &Store, f: &QueueFilter) -> StoreResult<(Vec<QueueItem>, bool)> {
    let now = now_ms();
    let mut sql = String::from(
        "SELECT c.id, c.school_id, sc.name AS school_name, st.name AS student_name, st.student_no,
                c.state, c.flagged, c.round, c.submitted_at, c.lease_holder, c.lease_until
         FROM cases c
         JOIN students st ON st.id = c.student_id
         JOIN schools sc ON sc.id = c.school_id
         WHERE c.state = $1 AND c.submitted_at IS NOT NULL",
    );
    // Placeholders are numbered as they are added; binds follow in the same order.
    let mut n = 1;
    let mut next = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
    };
    if f.state == CaseState::InReview {
        next(&mut sql, " AND c.lease_until > ?");
    }
    if f.school_id.is_some() {
        next(&mut sql, " AND c.school_id = ?");
    }
    if f.flagged.is_some() {
        next(&mut sql, " AND c.flagged = ?");
    }
    if f.submitted_before.is_some() {
        next(&mut sql, " AND c.submitted_at <= ?");
    }
    if f.after.is_some() {
        // Spelled as a disjunction (not a row comparison) so both engines accept it; the
        // leading range term lets the (state, submitted_at, id) index seek.
        n += 1;
        let t = n;
        n += 1;
        let id = n;
        sql.push_str(&format!(
            " AND c.submitted_at >= ${t} AND (c.submitted_at > ${t} OR c.id > ${id})"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY c.submitted_at, c.id LIMIT {}",
        i64::from(f.limit) + 1
    ));

    let mut q = sqlx::query(&sql).bind(f.state.as_str());
    if f.state == CaseState::InReview {
        q = q.bind(now);
    }
    if let Some(school) = &f.school_id {
        q = q.bind(school.clone());
    }
    if let Some(flagged) = f.flagged {
        q = q.bind(i64::from(flagged));
    }
    if let Some(before) = f.submitted_before {
        q = q.bind(before);
    }
    if let Some((t, id)) = &f.after {
        q = q.bind(*t).bind(id.clone());
    }
    let rows = q.fetch_all(store.pool()).await?;
    let has_more = rows.len() > f.limit as usize;
    let mut items = Vec::with_capacity(rows.len().min(f.limit as usize));
    for row in rows.iter().take(f.limit as usize) {
        let state: String = row.try_get("state")?;
        items.push(QueueItem {
            case_id: row.try_get("id")?,
            school_id: row.try_get("school_id")?,
            school_name: row.try_get("school_name")?,
            student_name: row.try_get("student_name")?,
            student_no: row.try_get("student_no")?,
            state: cases::parse_state(&state)?,
            flagged: row.try_get::<i64, _>("flagged")? != 0,
            round: row.try_get("round")?,
            submitted_at_ms: row
                .try_get::<Option<i64>, _>("submitted_at")?
                .unwrap_or_default(),
            lease_holder: row.try_get("lease_holder")?,
            lease_until_ms: row.try_get("lease_until")?,
        });
    }
    Ok((items, has_more))
}

/// Counts of the review states. Each is one index range count, so they stay cheap with a
/// large queue; `in_review` counts live leases only.
pub async fn review_counts(store: &Store, school_id: Option<&str>) -> StoreResult<Vec<StateCount>> {
    let now = now_ms();
    let mut out = Vec::new();
    for state in [
        CaseState::PendingReview,
        CaseState::InReview,
        CaseState::Rejected,
        CaseState::Approved,
    ] {
        let live_only = state == CaseState::InReview;
        let sql = match (live_only, school_id.is_some()) {
            (false, false) => "SELECT COUNT(*) FROM cases WHERE state = $1",
            (false, true) => "SELECT COUNT(*) FROM cases WHERE state = $1 AND school_id = $2",
            (true, false) => "SELECT COUNT(*) FROM cases WHERE state = $1 AND lease_until > $2",
            (true, true) => {
                "SELECT COUNT(*) FROM cases WHERE state = $1 AND lease_until > $2 AND school_id = $3"
            }
        };
        let mut q = sqlx::query_scalar::<_, i64>(sql).bind(state.as_str());
        if live_only {
            q = q.bind(now);
        }
        if let Some(s) = school_id {
            q = q.bind(s.to_string());
        }
        let count = q.fetch_one(store.pool()).await?;
        out.push(StateCount { state, count });
    }
    Ok(out)
}

/// Cases per stored state (every state), with live/expired leases told apart.
pub async fn all_counts(store: &Store, school_id: Option<&str>) -> StoreResult<Vec<StateCount>> {
    let now = now_ms();
    let sql = if school_id.is_some() {
        "SELECT state, CASE WHEN state = 'in_review' AND lease_until <= $1 THEN 1 ELSE 0 END AS expired,
                COUNT(*) AS n
         FROM cases WHERE school_id = $2 GROUP BY state, expired"
    } else {
        "SELECT state, CASE WHEN state = 'in_review' AND lease_until <= $1 THEN 1 ELSE 0 END AS expired,
                COUNT(*) AS n
         FROM cases GROUP BY state, expired"
    };
    let mut q = sqlx::query(sql).bind(now);
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
    }
    let rows = q.fetch_all(store.pool()).await?;
    let mut counts: HashMap<CaseState, i64> = HashMap::new();
    for row in &rows {
        let state: String = row.try_get("state")?;
        let mut state = cases::parse_state(&state)?;
        let expired: i64 = row.try_get("expired")?;
        if expired != 0 {
            state = CaseState::PendingReview;
        }
        *counts.entry(state).or_default() += row.try_get::<i64, _>("n")?;
    }
    Ok(CaseState::ALL
        .into_iter()
        .map(|state| StateCount {
            state,
            count: counts.get(&state).copied().unwrap_or(0),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Leases

/// Claims up to `count` of the oldest pending cases (after returning expired leases to the
/// queue). Returns the claimed cases as stored after the claim.
pub async fn claim_next(
    store: &Store,
    actor: &Actor,
    count: u32,
    school_id: Option<&str>,
    lease_ms: i64,
) -> StoreResult<Vec<CaseRow>> {
    let mut tx = store.begin().await?;
    let mut policies = Policies::default();
    expire_in(&mut tx, actor, &mut policies).await?;
    let mut sql = format!("SELECT {COLUMNS} FROM cases WHERE state = 'pending_review'");
    if school_id.is_some() {
        sql.push_str(" AND school_id = $1");
    }
    sql.push_str(&format!(
        " ORDER BY submitted_at, id LIMIT {}{}",
        count.clamp(1, MAX_CLAIM),
        tx.backend().lock_rows_skip_locked()
    ));
    let mut q = sqlx::query(&sql);
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
    }
    let rows = q.fetch_all(tx.conn()).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        let case = cases::from_row(row)?;
        claimed.push(lease(&mut tx, &mut policies, &case, actor, lease_ms).await?);
    }
    tx.commit().await?;
    Ok(claimed)
}

/// Claims (or renews the caller's own claim on) one case.
pub async fn claim_case(
    store: &Store,
    actor: &Actor,
    case_id: &str,
    visible_school: Option<&str>,
    lease_ms: i64,
) -> StoreResult<CaseRow> {
    let mut tx = store.begin().await?;
    let case = lock_case(&mut tx, case_id).await?;
    ensure_visible(&case, visible_school)?;
    let mut policies = Policies::default();
    let claimed = lease(&mut tx, &mut policies, &case, actor, lease_ms).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Renews the caller's live lease; an expired lease is re-claimed if nobody else took it.
pub async fn renew(
    store: &Store,
    actor: &Actor,
    case_id: &str,
    visible_school: Option<&str>,
    lease_ms: i64,
) -> StoreResult<CaseRow> {
    let mut tx = store.begin().await?;
    let case = lock_case(&mut tx, case_id).await?;
    ensure_visible(&case, visible_school)?;
    if case.state != CaseState::InReview || case.lease.as_ref().is_none_or(|l| l.holder != actor.id)
    {
        return Err(lease_lost());
    }
    let mut policies = Policies::default();
    let renewed = lease(&mut tx, &mut policies, &case, actor, lease_ms).await?;
    tx.commit().await?;
    Ok(renewed)
}

pub async fn release(
    store: &Store,
    actor: &Actor,
    case_id: &str,
    visible_school: Option<&str>,
) -> StoreResult<CaseState> {
    let mut tx = store.begin().await?;
    let case = lock_case(&mut tx, case_id).await?;
    ensure_visible(&case, visible_school)?;
    let policy = Policies::default().get(&mut tx, &case.school_id).await?;
    let next = cases::apply(
        &mut tx,
        &case,
        &Event::ReleaseLease {
            by: actor.id.clone(),
        },
        actor,
        &policy,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

async fn lease(
    tx: &mut WriteTx,
    policies: &mut Policies,
    case: &CaseRow,
    actor: &Actor,
    lease_ms: i64,
) -> StoreResult<CaseRow> {
    let policy = policies.get(tx, &case.school_id).await?;
    let until = ms_to_utc(now_ms()) + Duration::milliseconds(lease_ms);
    cases::apply(
        tx,
        case,
        &Event::ClaimForReview {
            reviewer: actor.id.clone(),
            lease_until: until,
        },
        actor,
        &policy,
        serde_json::json!({ "lease_until": until.timestamp_millis() }),
    )
    .await?;
    cases::get_in(tx.conn(), &case.id).await
}

/// Staff bound to one school see only that school's cases; others look like missing cases.
pub fn ensure_visible(case: &CaseRow, visible_school: Option<&str>) -> StoreResult<()> {
    match visible_school {
        Some(s) if s != case.school_id => Err(StoreError::not_found("采集记录", "Case")),
        _ => Ok(()),
    }
}

fn lease_lost() -> StoreError {
    StoreError::from(ErrorCode::LeaseLost)
}

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
const MAX_COMMENT_CHARS: usize = 1000;

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

fn reasons_of(v: &CheckedVerdict) -> (Vec<String>, Option<String>) {
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

fn approves(kind: DecisionKind) -> bool {
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

/// The latest decision of each of `case_ids`.
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

pub async fn latest_decisions(
    store: &Store,
    case_ids: &[String],
) -> StoreResult<HashMap<String, DecisionRecord>> {
    let mut out: HashMap<String, DecisionRecord> = HashMap::new();
    for chunk in case_ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "{DECISION_SELECT} WHERE d.case_id IN ({}) ORDER BY d.decided_at, d.id",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        for row in q.fetch_all(store.pool()).await? {
            let d = decision_from_row(&row)?;
            out.insert(d.case_id.clone(), d);
        }
    }
    Ok(out)
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

fn same_decision(existing: &DecisionRecord, input: &DecisionInput<'_>, kind: DecisionKind) -> bool {
    let (reasons, comment) = reasons_of(&input.verdict);
    existing.case_id == input.case_id
        && existing.reviewer_id == input.actor.id
        && existing.kind == kind
        && existing.reasons == reasons
        && existing.comment == comment
}

fn decision_id_reused() -> StoreError {
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

/// Records a reviewer's decision or a supervisor's override. A retry with the same
/// `decision_id` and the same content returns the original record, whatever happened since.
pub async fn decide(store: &Store, input: DecisionInput<'_>) -> StoreResult<DecisionRecord> {
    let is_override = input.override_comment.is_some();
    let kind = match (&input.verdict, is_override) {
        (CheckedVerdict::Approve, false) => DecisionKind::Approve,
        (CheckedVerdict::Reject { .. }, false) => DecisionKind::Reject,
        (CheckedVerdict::Approve, true) => DecisionKind::OverrideApprove,
        (CheckedVerdict::Reject { .. }, true) => DecisionKind::OverrideReject,
    };
    let mut tx = store.begin().await?;
    // Lock the case first so that concurrent retries of one decision serialize here.
    let case = lock_case(&mut tx, input.case_id).await?;
    ensure_visible(&case, input.visible_school)?;
    if let Some(existing) = decision_by_client_id(&mut tx, input.decision_id).await? {
        return if same_decision(&existing, &input, kind) {
            Ok(existing)
        } else {
            Err(decision_id_reused())
        };
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
    let by = input.actor.id.clone();
    let event = match (&input.verdict, is_override) {
        (CheckedVerdict::Approve, false) => Event::Approve { by },
        (CheckedVerdict::Reject { reasons, comment }, false) => Event::Reject {
            by,
            reasons: reasons.clone(),
            comment: comment.clone(),
        },
        (CheckedVerdict::Approve, true) => Event::Override {
            by,
            decision: OverrideDecision::Approve,
        },
        (CheckedVerdict::Reject { reasons, comment }, true) => Event::Override {
            by,
            decision: OverrideDecision::Reject {
                reasons: reasons.clone(),
                comment: comment.clone(),
            },
        },
    };
    let policy = Policies::default().get(&mut tx, &case.school_id).await?;
    cases::apply(
        &mut tx,
        &case,
        &event,
        input.actor,
        &policy,
        serde_json::json!({
            "decision_id": input.decision_id,
            "round": case.round,
            "override_comment": input.override_comment,
        }),
    )
    .await?;
    let decided_at = now_ms();
    sqlx::query(
        "INSERT INTO decisions (id, client_decision_id, case_id, attempt_id, reviewer_id, kind,
                                reasons_json, comment, round, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new_id())
    .bind(input.decision_id)
    .bind(&case.id)
    .bind(case.submitted_attempt_id.clone())
    .bind(&input.actor.id)
    .bind(kind_str(kind))
    .bind(serde_json::to_string(&reasons)?)
    .bind(comment)
    .bind(case.round)
    .bind(decided_at)
    .execute(tx.conn())
    .await?;
    let record = decision_by_client_id(&mut tx, input.decision_id)
        .await?
        .ok_or_else(|| StoreError::internal("decision vanished inside its transaction"))?;
    tx.commit().await?;
    Ok(record)
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// Decisions per reviewer and calendar day (China Standard Time) over the last `days` days.
pub async fn decisions_per_reviewer_day(
    store: &Store,
    days: i64,
    school_id: Option<&str>,
) -> StoreResult<Vec<ReviewerDay>> {
    const DAY_MS: i64 = 86_400_000;
    const CST_OFFSET_MS: i64 = 8 * 3_600_000;
    let since = now_ms() - days * DAY_MS;
    // Integer division gives the day number in both engines; SUM is cast because PostgreSQL
    // sums BIGINT into NUMERIC.
    let mut sql = format!(
        "SELECT d.reviewer_id, u.display_name, (d.decided_at + {CST_OFFSET_MS}) / {DAY_MS} AS day,
                CAST(SUM(CASE WHEN d.kind IN ('approve', 'override_approve') THEN 1 ELSE 0 END) AS BIGINT) AS approved,
                CAST(SUM(CASE WHEN d.kind IN ('reject', 'override_reject') THEN 1 ELSE 0 END) AS BIGINT) AS rejected
         FROM decisions d JOIN users u ON u.id = d.reviewer_id"
    );
    if school_id.is_some() {
        sql.push_str(
            " JOIN cases c ON c.id = d.case_id WHERE d.decided_at >= $1 AND c.school_id = $2",
        );
    } else {
        sql.push_str(" WHERE d.decided_at >= $1");
    }
    sql.push_str(" GROUP BY d.reviewer_id, u.display_name, day ORDER BY day DESC, u.display_name");
    let mut q = sqlx::query(&sql).bind(since);
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
    }
    let rows = q.fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let day: i64 = row.try_get("day")?;
        let date = chrono::DateTime::from_timestamp(day * 86_400, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        out.push(ReviewerDay {
            reviewer_id: row.try_get("reviewer_id")?,
            reviewer_name: row.try_get("display_name")?,
            day: date,
            approved: row.try_get("approved")?,
            rejected: row.try_get("rejected")?,
        });
    }
    Ok(out)
}

/// How often each reject reason was used (every catalogue entry, most used first).
pub async fn reject_reason_histogram(
    store: &Store,
    school_id: Option<&str>,
) -> StoreResult<Vec<ReasonCount>> {
    let rows: Vec<String> =
        match school_id {
            Some(s) => {
                sqlx::query_scalar(
                    "SELECT d.reasons_json FROM decisions d JOIN cases c ON c.id = d.case_id
                 WHERE d.kind IN ('reject', 'override_reject') AND c.school_id = $1",
                )
                .bind(s.to_string())
                .fetch_all(store.pool())
                .await?
            }
            None => sqlx::query_scalar(
                "SELECT reasons_json FROM decisions WHERE kind IN ('reject', 'override_reject')",
            )
            .fetch_all(store.pool())
            .await?,
        };
    let mut counts: HashMap<RejectReason, i64> = HashMap::new();
    for json in rows {
        let codes: Vec<String> = serde_json::from_str(&json)?;
        for code in codes {
            if let Ok(r) = code.parse::<RejectReason>() {
                *counts.entry(r).or_default() += 1;
            }
        }
    }
    let mut out: Vec<ReasonCount> = RejectReason::ALL
        .into_iter()
        .map(|r| ReasonCount {
            code: r.code().to_string(),
            label_zh: r.label_zh().to_string(),
            label_en: r.label_en().to_string(),
            count: counts.get(&r).copied().unwrap_or(0),
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.count));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Load-test seeding

/// Rows per INSERT statement (well under both engines' bind-parameter limits).
const SEED_ROWS_PER_STATEMENT: usize = 400;
/// Rows per transaction.
const SEED_ROWS_PER_TX: usize = 20_000;

/// Inserts `count` synthetic students of `school_id`, each with a case already waiting for
/// review, for load tests and benchmarks only: it bypasses the student journey (one audit
/// event records the seeding). Submission times are spread one second apart, ending now.
/// Student numbers are `prefix` + a running number; ID numbers are valid, generated ones.
pub async fn seed_pending(
    store: &Store,
    crypto: &crate::crypto::Crypto,
    school_id: &str,
    prefix: &str,
    count: usize,
) -> StoreResult<()> {
    let now = now_ms();
    let first_submitted = now - (count as i64) * 1000;
    let mut done = 0usize;
    while done < count {
        let in_tx = (count - done).min(SEED_ROWS_PER_TX);
        let mut tx = store.begin().await?;
        let last_seq: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + $1 WHERE name = 'case_change' RETURNING value",
        )
        .bind(in_tx as i64)
        .fetch_one(tx.conn())
        .await?;
        let first_seq = last_seq - in_tx as i64 + 1;
        let mut offset = 0usize;
        while offset < in_tx {
            let rows = (in_tx - offset).min(SEED_ROWS_PER_STATEMENT);
            let mut students_sql = String::from(
                "INSERT INTO students (id, school_id, name, id_number_enc, id_number_hash,
                    id_number_masked, student_no, college, major, level, graduation_year,
                    created_at, updated_at) VALUES ",
            );
            let mut cases_sql = String::from(
                "INSERT INTO cases (id, student_id, school_id, state, change_seq, round, flagged,
                    face_match_failures, submitted_at, created_at, updated_at) VALUES ",
            );
            for r in 0..rows {
                let s = r * 13;
                if r > 0 {
                    students_sql.push_str(", ");
                    cases_sql.push_str(", ");
                }
                students_sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    s + 1,
                    s + 2,
                    s + 3,
                    s + 4,
                    s + 5,
                    s + 6,
                    s + 7,
                    s + 8,
                    s + 9,
                    s + 10,
                    s + 11,
                    s + 12,
                    s + 13
                ));
                let c = r * 6;
                cases_sql.push_str(&format!(
                    "(${}, ${}, ${}, 'pending_review', ${}, 0, 0, 0, ${}, ${}, ${})",
                    c + 1,
                    c + 2,
                    c + 3,
                    c + 4,
                    c + 5,
                    c + 6,
                    c + 5
                ));
            }
            let mut students_q = sqlx::query(&students_sql);
            let mut cases_q = sqlx::query(&cases_sql);
            for r in 0..rows {
                let i = done + offset + r;
                let number = seed_id_number(i);
                let student_id = new_id();
                let submitted_at = first_submitted + (i as i64) * 1000;
                students_q = students_q
                    .bind(student_id.clone())
                    .bind(school_id.to_string())
                    .bind(format!("考生{i}"))
                    .bind(crypto.encrypt(number.as_bytes())?)
                    .bind(super::students::id_hash(crypto, &number))
                    .bind(format!("{}********{}", &number[..6], &number[14..]))
                    .bind(format!("{prefix}{i:07}"))
                    .bind("计算机学院")
                    .bind("软件工程")
                    .bind("本科")
                    .bind(2025i64)
                    .bind(now)
                    .bind(now);
                cases_q = cases_q
                    .bind(new_id())
                    .bind(student_id)
                    .bind(school_id.to_string())
                    .bind(first_seq + (offset + r) as i64)
                    .bind(submitted_at)
                    .bind(now);
            }
            students_q.execute(tx.conn()).await?;
            cases_q.execute(tx.conn()).await?;
            offset += rows;
        }
        done += in_tx;
        if done == count {
            tx.audit(
                &Actor::system(),
                gradphoto_domain::audit::AuditAction::RosterImported,
                school_id,
                serde_json::json!({ "seeded_pending_for_load_test": count }),
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// A valid 18-character ID number for seed row `i`: region 110105, a birth date in 1990–2005
/// and a sequence number, with its MOD 11-2 check character. Unique for i < 5.8 million.
fn seed_id_number(i: usize) -> String {
    let day = (i / 1000) as i64;
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 1, 1)
        .unwrap_or_default()
        .checked_add_signed(Duration::days(day))
        .unwrap_or_default();
    let body = format!("110105{}{:03}", birth.format("%Y%m%d"), i % 1000);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b.wrapping_sub(b'0')) * w)
        .sum();
    let check = char::from(b"10X98765432"[(sum % 11) as usize]);
    format!("{body}{check}")
}

// ---------------------------------------------------------------------------------------------
// Flag reasons

/// Why a flagged case is flagged, as `submit` recorded it in the audit detail of the
/// submission (`flag`). The record is what the student was told and what the reviewer is asked
/// to check; re-deriving it from the attempts could drift when the school's policy or the gate
/// changes after the submission. `None` for an unflagged case.
pub async fn flag_reasons(store: &Store, case: &CaseRow) -> StoreResult<Option<FlagReasons>> {
    if !case.flagged {
        return Ok(None);
    }
    let details = audit::latest_details(store, &case.id, AuditAction::Submitted)
        .await?
        .ok_or_else(|| {
            StoreError::internal(format_args!(
                "flagged case {} has no submission event",
                case.id
            ))
        })?;
    match details.get("flag") {
        Some(flag) => Ok(Some(serde_json::from_value(flag.clone())?)),
        // Submissions recorded before soft photo checks could flag one carry no reasons: the
        // face comparison was then the only way to a flag.
        None => Ok(Some(FlagReasons {
            measures: Vec::new(),
            face_mismatch: true,
        })),
    }
}
