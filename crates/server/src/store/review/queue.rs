//! The queue as reviewers and supervisors list it, the per-state counts, and why a flagged
//! item is flagged.

use std::collections::HashMap;

use gradphoto_api::review::{FlagReasons, QueueItem, StateCount};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::state::CaseState;
use sqlx::Row;

use crate::store::cases::{self, CaseRow};
use crate::store::error::{StoreError, StoreResult};
use crate::store::{audit, now_ms, Store};

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

/// Cases per stored state (every state), with live/expired leases told apart. The states are
/// counted from the `(school_id, state)` / `(state, …)` indexes alone; only the few claimed
/// cases are read for their lease, and an expired one counts as waiting.
pub async fn all_counts(store: &Store, school_id: Option<&str>) -> StoreResult<Vec<StateCount>> {
    let (by_state, expired_sql) = if school_id.is_some() {
        (
            "SELECT state, COUNT(*) AS n FROM cases WHERE school_id = $1 GROUP BY state",
            "SELECT COUNT(*) FROM cases WHERE state = 'in_review' AND lease_until <= $1
               AND school_id = $2",
        )
    } else {
        (
            "SELECT state, COUNT(*) AS n FROM cases GROUP BY state",
            "SELECT COUNT(*) FROM cases WHERE state = 'in_review' AND lease_until <= $1",
        )
    };
    let mut q = sqlx::query(by_state);
    let mut expired_q = sqlx::query_scalar::<_, i64>(expired_sql).bind(now_ms());
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
        expired_q = expired_q.bind(s.to_string());
    }
    let (rows, expired) =
        tokio::try_join!(q.fetch_all(store.pool()), expired_q.fetch_one(store.pool()))?;
    let mut counts: HashMap<CaseState, i64> = HashMap::new();
    for row in &rows {
        let state: String = row.try_get("state")?;
        let state = cases::parse_state(&state)?;
        *counts.entry(state).or_default() += row.try_get::<i64, _>("n")?;
    }
    *counts.entry(CaseState::InReview).or_default() -= expired;
    *counts.entry(CaseState::PendingReview).or_default() += expired;
    Ok(CaseState::ALL
        .into_iter()
        .map(|state| StateCount {
            state,
            count: counts.get(&state).copied().unwrap_or(0),
        })
        .collect())
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
            face_unchecked: false,
        })),
    }
}
