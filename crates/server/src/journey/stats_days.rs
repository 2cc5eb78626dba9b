//! Each (school, day)'s grouped decisions, kept in memory between statistics requests.
//!
//! Regrouping a season of 100,000 decisions takes the database the better part of a second;
//! a supervisor asks for the same season again and again while only today's decisions
//! change. So the grouped rows of every (school, day) read are kept here with the day's
//! version from `decision_days`, which triggers move in the transaction of every decision
//! written, changed or deleted (by any code path: reviews, overrides, sync, imports). A request
//! reads the versions of its days (one row per school and day), reuses the days whose version
//! has not moved and regroups the others in runs of consecutive days.
//!
//! **Versions are read before the days are regrouped**, so a decision committed in between
//! is at worst regrouped once more on the next request, never missed. Each server process
//! keeps its own copy: several processes over one PostgreSQL database stay correct.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gradphoto_domain::calendar::cst_day_number;
use gradphoto_domain::measures::{CheckReport, MeasureId};

use crate::store::error::StoreResult;
use crate::store::review::{self as rstore, DaySpan, StatsFilter};
use crate::store::Store;

/// One school's decisions of one day, grouped.
#[derive(Debug, Default)]
pub struct Day {
    version: i64,
    pub reviewers: Vec<rstore::ReviewerGroup>,
    pub turnaround: Vec<rstore::TurnaroundGroup>,
    pub verdicts: Vec<rstore::VerdictGroup>,
    /// Reviewer decisions made before their doubted measures were recorded with them: college,
    /// kind and the measures their attempt's report doubted.
    pub unrecorded: Vec<(Option<String>, String, Vec<MeasureId>)>,
}

/// The days kept, by school (`''` for decisions without a school) and day number.
#[derive(Debug, Default)]
pub struct DayCache {
    days: Mutex<HashMap<(String, i64), Arc<Day>>>,
}

impl DayCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, i64), Arc<Day>>> {
        // A panic while the map was held leaves whole entries behind (each is one insert).
        self.days.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The grouped decisions of every day in `filter`'s range (of its school when given), by
    /// school: the days unchanged since they were last read from memory, the others regrouped.
    pub async fn days(
        &self,
        store: &Store,
        filter: &StatsFilter,
    ) -> StoreResult<Vec<(String, Arc<Day>)>> {
        let from_day = cst_day_number(filter.from_ms);
        let to_day = cst_day_number(filter.to_ms);
        let versions =
            rstore::day_versions(store, filter.school_id.as_deref(), from_day, to_day).await?;
        let mut out = Vec::with_capacity(versions.len());
        let mut stale: Vec<rstore::DayVersion> = Vec::new();
        {
            let days = self.lock();
            for v in versions {
                match days.get(&(v.school_id.clone(), v.day)) {
                    Some(d) if d.version == v.version => out.push((v.school_id, d.clone())),
                    _ => stale.push(v),
                }
            }
        }
        stale.sort_by(|a, b| (&a.school_id, a.day).cmp(&(&b.school_id, b.day)));
        for run in runs(&stale) {
            let span = DaySpan {
                school_id: run[0].school_id.clone(),
                from_day: run[0].day,
                to_day: run[run.len() - 1].day + 1,
            };
            let regrouped = regroup(store, &span, run).await?;
            let mut days = self.lock();
            for (day, d) in regrouped {
                let d = Arc::new(d);
                days.insert((span.school_id.clone(), day), d.clone());
                out.push((span.school_id.clone(), d));
            }
        }
        Ok(out)
    }
}

/// Runs of consecutive days of one school in `stale` (sorted by school and day).
fn runs(stale: &[rstore::DayVersion]) -> Vec<&[rstore::DayVersion]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=stale.len() {
        let breaks = i == stale.len()
            || stale[i].school_id != stale[i - 1].school_id
            || stale[i].day != stale[i - 1].day + 1;
        if breaks {
            out.push(&stale[start..i]);
            start = i;
        }
    }
    out
}

/// The days of `run` regrouped from the database, each with the version read before.
async fn regroup(
    store: &Store,
    span: &DaySpan,
    run: &[rstore::DayVersion],
) -> StoreResult<Vec<(i64, Day)>> {
    let (reviewers, turnaround, verdicts, unrecorded) = tokio::try_join!(
        rstore::reviewer_groups(store, span),
        rstore::turnaround_groups(store, span),
        rstore::verdict_groups(store, span),
        rstore::unrecorded_hint_reports(store, span),
    )?;
    let mut days: HashMap<i64, Day> = run
        .iter()
        .map(|v| {
            let day = Day {
                version: v.version,
                ..Day::default()
            };
            (v.day, day)
        })
        .collect();
    // A row of a day without a version cannot be (the triggers write the version with the
    // row); were it so, it would be left out rather than kept under a version it never had.
    for g in reviewers {
        if let Some(d) = days.get_mut(&g.day) {
            d.reviewers.push(g);
        }
    }
    for g in turnaround {
        if let Some(d) = days.get_mut(&g.decided_day) {
            d.turnaround.push(g);
        }
    }
    for g in verdicts {
        if let Some(d) = days.get_mut(&g.day) {
            d.verdicts.push(g);
        }
    }
    for r in unrecorded {
        let report: CheckReport = serde_json::from_str(&r.report_json)?;
        if let Some(d) = days.get_mut(&r.day) {
            d.unrecorded
                .push((r.college, r.kind, report.doubted().collect()));
        }
    }
    Ok(days.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(school: &str, day: i64) -> rstore::DayVersion {
        rstore::DayVersion {
            school_id: school.into(),
            day,
            version: 1,
        }
    }

    #[test]
    fn stale_days_regroup_in_runs_of_consecutive_days_per_school() {
        let stale = [v("a", 1), v("a", 2), v("a", 4), v("b", 5), v("b", 6)];
        let runs: Vec<Vec<(String, i64)>> = runs(&stale)
            .into_iter()
            .map(|r| r.iter().map(|v| (v.school_id.clone(), v.day)).collect())
            .collect();
        assert_eq!(
            runs,
            vec![
                vec![("a".to_string(), 1), ("a".to_string(), 2)],
                vec![("a".to_string(), 4)],
                vec![("b".to_string(), 5), ("b".to_string(), 6)],
            ]
        );
        assert!(super::runs(&[]).is_empty());
    }
}
