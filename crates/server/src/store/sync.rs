//! Incremental case changes for the reviewer workstation, by `cases.change_seq`.
//!
//! `change_seq` values come from one counter row that stays locked until commit, so they are
//! handed out in commit order: a reader that saw `change_seq = n` never later finds a newly
//! committed change below `n`.

use gradphoto_api::review::Lease;
use gradphoto_api::sync::CaseChange;
use gradphoto_domain::access;
use sqlx::Row;

use super::error::StoreResult;
use super::{cases, review, Store};

/// Changes after `cursor`, oldest first, and whether more follow. `school_id` restricts the
/// feed for staff bound to one school. A case outside review (not yet submitted, or withdrawn)
/// is listed by id and state only, without the student's name or number: a workstation learns
/// that it is not waiting, and nothing about the student.
pub async fn changes(
    store: &Store,
    cursor: i64,
    limit: u32,
    school_id: Option<&str>,
) -> StoreResult<(Vec<CaseChange>, bool)> {
    let mut sql = String::from(
        "SELECT c.id, c.school_id, c.state, c.round, c.flagged, c.change_seq, c.submitted_at,
                c.updated_at, c.lease_holder, c.lease_until, st.name AS student_name, st.student_no
         FROM cases c JOIN students st ON st.id = c.student_id
         WHERE c.change_seq > $1",
    );
    if school_id.is_some() {
        sql.push_str(" AND c.school_id = $2");
    }
    sql.push_str(&format!(
        " ORDER BY c.change_seq LIMIT {}",
        i64::from(limit) + 1
    ));
    let mut q = sqlx::query(&sql).bind(cursor);
    if let Some(s) = school_id {
        q = q.bind(s.to_string());
    }
    let rows = q.fetch_all(store.pool()).await?;
    let has_more = rows.len() > limit as usize;
    let mut out = Vec::with_capacity(rows.len().min(limit as usize));
    for row in rows.iter().take(limit as usize) {
        let case_id: String = row.try_get("id")?;
        let state = cases::parse_state(&row.try_get::<String, _>("state")?)?;
        let seen = access::visible_to_reviewers(state);
        let holder: Option<String> = row.try_get("lease_holder")?;
        let until: Option<i64> = row.try_get("lease_until")?;
        out.push(CaseChange {
            change_seq: row.try_get("change_seq")?,
            lease: match (holder, until) {
                (Some(holder), Some(until_ms)) => Some(Lease {
                    case_id: case_id.clone(),
                    holder,
                    until_ms,
                }),
                _ => None,
            },
            case_id,
            school_id: row.try_get("school_id")?,
            state,
            round: row.try_get("round")?,
            flagged: row.try_get::<i64, _>("flagged")? != 0,
            student_name: if seen {
                row.try_get("student_name")?
            } else {
                String::new()
            },
            student_no: if seen {
                row.try_get("student_no")?
            } else {
                String::new()
            },
            submitted_at_ms: row.try_get("submitted_at")?,
            updated_at_ms: row.try_get("updated_at")?,
            latest_decision: None,
        });
    }
    let ids: Vec<String> = out.iter().map(|c| c.case_id.clone()).collect();
    let mut latest = review::latest_decisions(store, &ids).await?;
    for change in &mut out {
        change.latest_decision = latest.remove(&change.case_id);
    }
    Ok((out, has_more))
}
