//! Supervisors' statistics: the store's grouped rows turned into figures with each school's
//! working calendar and review SLA (`domain::calendar`, `SchoolPolicy`).
//!
//! Definitions, each in one place:
//! - a reviewer's decisions count approvals and rejections they made, overrides included;
//!   their median time runs from their claim to their decision (the lower middle value);
//! - turnaround, the SLA and breaches concern reviewer decisions only: an override
//!   re-decides a submission that was already answered, and would count it twice;
//! - a submission is decided late when its working days from submission to decision exceed
//!   its school's SLA, and overdue when it is still waiting and the working days up to now
//!   exceed it;
//! - the backlog and overdue items are the queue now, whatever the date range;
//! - the breach list shows the most overdue first (then the earliest submitted), at most
//!   [`MAX_STATS_BREACHES`]; the total counts them all.
//!
//! Decisions come grouped per school and day from [`DayCache`], which regroups only the days
//! that changed since a supervisor last read them.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use gradphoto_api::review::{
    BacklogBucket, Breach, BreachKind, GroupStats, HintOverrules, MeasureOverrule, ReasonCount,
    ReviewerDay, ReviewerStats, Stats, TurnaroundCount, MAX_STATS_BREACHES,
};
use gradphoto_domain::calendar::{date_of_day_number, WorkingCalendar};
use gradphoto_domain::measures::MeasureId;
use gradphoto_domain::reasons::RejectReason;
use gradphoto_domain::redact;

use super::stats_days::DayCache;
use crate::store::error::StoreResult;
use crate::store::review::{self as rstore, StatsFilter};
use crate::store::{schools, Store};

/// Age buckets of the backlog in working days (inclusive bounds; the last has no end).
const BACKLOG_BUCKETS: [(i64, Option<i64>); 7] = [
    (0, Some(0)),
    (1, Some(1)),
    (2, Some(2)),
    (3, Some(3)),
    (4, Some(5)),
    (6, Some(10)),
    (11, None),
];

/// A school as the figures need it.
struct SchoolRules {
    name: String,
    sla: i64,
    calendar: WorkingCalendar,
}

/// Sums for one school or one college.
#[derive(Default)]
struct GroupSums {
    decisions: i64,
    approvals: i64,
    turnaround_days: i64,
    turnaround_decisions: i64,
    decided_late: i64,
    pending_overdue: i64,
}

impl GroupSums {
    fn figures(&self, key: String, name: String, school_id: String) -> GroupStats {
        GroupStats {
            key,
            name,
            school_id,
            decisions: self.decisions,
            approvals: self.approvals,
            approval_rate: rate(self.approvals, self.decisions),
            mean_turnaround_working_days: (self.turnaround_decisions > 0)
                .then(|| self.turnaround_days as f64 / self.turnaround_decisions as f64),
            decided_late: self.decided_late,
            pending_overdue: self.pending_overdue,
        }
    }
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// The figures of decisions in `from..=to` within `filter`, and of the queue at `now_ms`.
pub async fn figures(
    store: &Store,
    days: &DayCache,
    filter: &StatsFilter,
    from: NaiveDate,
    to: NaiveDate,
    now_ms: i64,
) -> StoreResult<Stats> {
    let school = filter.school_id.as_deref();
    let college = filter.college.as_deref();
    // Independent reads; on a pool they run side by side.
    let (schools, counts, waiting, days) = tokio::try_join!(
        schools::list(store),
        rstore::all_counts(store, school),
        rstore::waiting_items(store, school, college),
        days.days(store, filter),
    )?;
    let in_college = |c: &Option<String>| college.is_none_or(|want| c.as_deref() == Some(want));
    let reviewer_groups: Vec<&rstore::ReviewerGroup> = days
        .iter()
        .flat_map(|(_, d)| d.reviewers.iter())
        .filter(|g| in_college(&g.college))
        .collect();
    let mut reviewer_ids: Vec<String> = reviewer_groups
        .iter()
        .map(|r| r.reviewer_id.clone())
        .collect();
    reviewer_ids.sort();
    reviewer_ids.dedup();
    let names = rstore::display_names(store, &reviewer_ids).await?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let per_reviewer_day = per_reviewer_day(&reviewer_groups, &name_of);
    let rules: HashMap<String, SchoolRules> = schools
        .into_iter()
        .map(|s| {
            let rules = SchoolRules {
                name: s.name,
                sla: i64::from(s.policy.review_sla_working_days),
                calendar: WorkingCalendar::from_policy_dates(&s.policy.holidays),
            };
            (s.id, rules)
        })
        .collect();

    let mut by_school: BTreeMap<String, GroupSums> = BTreeMap::new();
    let mut by_college: BTreeMap<(String, String), GroupSums> = BTreeMap::new();

    // Turnaround, per school and college.
    let mut turnaround: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    let (mut within, mut late) = (0i64, 0i64);
    // Late groups of reviewer decisions with their working days past the SLA.
    let mut late_groups: Vec<(i64, &rstore::TurnaroundGroup)> = Vec::new();
    for g in days
        .iter()
        .flat_map(|(_, d)| d.turnaround.iter())
        .filter(|g| in_college(&g.college))
    {
        let college_name = g.college.clone().unwrap_or_default();
        let mut sums = [
            by_school.entry(g.school_id.clone()).or_default(),
            by_college
                .entry((g.school_id.clone(), college_name))
                .or_default(),
        ];
        for s in sums.iter_mut() {
            s.decisions += g.decisions;
            if g.approved {
                s.approvals += g.decisions;
            }
        }
        let (Some(sday), false, Some(r)) =
            (g.submitted_day, g.is_override, rules.get(&g.school_id))
        else {
            continue;
        };
        let days = r
            .calendar
            .working_days_after(date_of_day_number(sday), date_of_day_number(g.decided_day));
        let is_late = days > r.sla;
        let bucket = turnaround.entry(days).or_default();
        bucket.0 += g.decisions;
        if is_late {
            bucket.1 += g.decisions;
            late += g.decisions;
            late_groups.push((days - r.sla, g));
        } else {
            within += g.decisions;
        }
        for s in sums.iter_mut() {
            s.turnaround_days += days * g.decisions;
            s.turnaround_decisions += g.decisions;
            if is_late {
                s.decided_late += g.decisions;
            }
        }
    }

    let mut breaches: Vec<Breach> = Vec::new();
    for d in rstore::decisions_of_groups(store, &listed_late_groups(late_groups)).await? {
        let Some(r) = rules.get(&d.school_id) else {
            continue;
        };
        let days = r
            .calendar
            .working_days_between_ms(d.submitted_at, d.decided_at);
        if days > r.sla {
            breaches.push(Breach {
                kind: BreachKind::DecidedLate,
                case_id: d.case_id,
                school_id: d.school_id.clone(),
                school_name: r.name.clone(),
                college: String::new(),
                student_name_masked: String::new(),
                student_no_masked: String::new(),
                submitted_at_ms: d.submitted_at,
                decided_at_ms: Some(d.decided_at),
                working_days: days,
                sla_working_days: r.sla,
            });
        }
    }

    // The queue now: backlog by age, overdue items.
    let mut backlog: Vec<BacklogBucket> = BACKLOG_BUCKETS
        .iter()
        .map(|&(min, max)| BacklogBucket {
            min_working_days: min,
            max_working_days: max,
            count: 0,
            overdue: 0,
        })
        .collect();
    let mut pending_overdue = 0i64;
    for w in waiting {
        let Some(r) = rules.get(&w.school_id) else {
            continue;
        };
        let days = r.calendar.working_days_between_ms(w.submitted_at, now_ms);
        let overdue = days > r.sla;
        if let Some(b) = backlog
            .iter_mut()
            .find(|b| days >= b.min_working_days && b.max_working_days.is_none_or(|m| days <= m))
        {
            b.count += 1;
            if overdue {
                b.overdue += 1;
            }
        }
        if !overdue {
            continue;
        }
        pending_overdue += 1;
        by_school
            .entry(w.school_id.clone())
            .or_default()
            .pending_overdue += 1;
        by_college
            .entry((w.school_id.clone(), w.college.clone()))
            .or_default()
            .pending_overdue += 1;
        breaches.push(Breach {
            kind: BreachKind::PendingOverdue,
            case_id: w.case_id,
            school_id: w.school_id,
            school_name: r.name.clone(),
            college: w.college,
            student_name_masked: redact::name(&w.student_name),
            student_no_masked: redact::student_no(&w.student_no),
            submitted_at_ms: w.submitted_at,
            decided_at_ms: None,
            working_days: days,
            sla_working_days: r.sla,
        });
    }
    // Every decided-late decision is a breach, listed or not.
    let breaches_total = late + pending_overdue;
    breaches.sort_by(|a, b| {
        (b.working_days - b.sla_working_days)
            .cmp(&(a.working_days - a.sla_working_days))
            .then_with(|| a.submitted_at_ms.cmp(&b.submitted_at_ms))
            .then_with(|| a.case_id.cmp(&b.case_id))
    });
    breaches.truncate(MAX_STATS_BREACHES);
    name_students(store, &mut breaches).await?;

    let (reject_reasons, hints) = verdicts(
        days.iter()
            .flat_map(|(_, d)| d.verdicts.iter())
            .filter(|g| in_college(&g.college)),
        days.iter()
            .flat_map(|(_, d)| d.unrecorded.iter())
            .filter(|(c, _, _)| in_college(c)),
    )?;

    let schools_out = by_school
        .iter()
        .map(|(id, s)| {
            let name = rules.get(id).map(|r| r.name.clone()).unwrap_or_default();
            s.figures(id.clone(), name, id.clone())
        })
        .collect();
    let colleges_out = by_college
        .iter()
        .map(|((school_id, college), s)| {
            s.figures(college.clone(), college.clone(), school_id.clone())
        })
        .collect();

    Ok(Stats {
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        counts,
        per_reviewer_day,
        reject_reasons,
        reviewers: reviewers(&reviewer_groups, &name_of),
        turnaround: turnaround
            .into_iter()
            .map(|(working_days, (decisions, late))| TurnaroundCount {
                working_days,
                decisions,
                late,
            })
            .collect(),
        decided_within_sla: within,
        decided_late: late,
        pending_overdue,
        breaches,
        breaches_total,
        backlog,
        hints,
        schools: schools_out,
        colleges: colleges_out,
    })
}

/// The late groups whose decisions the breach list can show: the list is the most overdue
/// first, then the earliest submitted, so the groups most past their SLA (then the earliest
/// submission days) until [`MAX_STATS_BREACHES`] decisions, and every group tied with the last.
fn listed_late_groups(
    mut groups: Vec<(i64, &rstore::TurnaroundGroup)>,
) -> Vec<rstore::TurnaroundGroup> {
    groups.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.submitted_day.cmp(&b.1.submitted_day))
    });
    let mut out = Vec::new();
    let mut count = 0i64;
    let mut last: Option<(i64, Option<i64>)> = None;
    for (excess, g) in groups {
        match last {
            Some(l) if l != (excess, g.submitted_day) => break,
            _ => {}
        }
        out.push(g.clone());
        count += g.decisions;
        if last.is_none() && count >= MAX_STATS_BREACHES as i64 {
            last = Some((excess, g.submitted_day));
        }
    }
    out
}

/// Decisions per reviewer and day (China Standard Time), approved and rejected, the latest
/// day first.
fn per_reviewer_day(
    groups: &[&rstore::ReviewerGroup],
    name_of: &dyn Fn(&str) -> String,
) -> Vec<ReviewerDay> {
    let mut by_day: HashMap<(&str, i64), (i64, i64)> = HashMap::new();
    for g in groups {
        let e = by_day.entry((g.reviewer_id.as_str(), g.day)).or_default();
        if g.approved {
            e.0 += g.decisions;
        } else {
            e.1 += g.decisions;
        }
    }
    let mut out: Vec<ReviewerDay> = by_day
        .into_iter()
        .map(|((id, day), (approved, rejected))| ReviewerDay {
            reviewer_id: id.to_string(),
            reviewer_name: name_of(id),
            day: date_of_day_number(day).format("%Y-%m-%d").to_string(),
            approved,
            rejected,
        })
        .collect();
    out.sort_by(|a, b| {
        b.day
            .cmp(&a.day)
            .then_with(|| a.reviewer_name.cmp(&b.reviewer_name))
            .then_with(|| a.reviewer_id.cmp(&b.reviewer_id))
    });
    out
}

/// Fills in the students of decided-late breaches (pending ones came with theirs), for the
/// listed ones only.
async fn name_students(store: &Store, breaches: &mut [Breach]) -> StoreResult<()> {
    let ids: Vec<String> = breaches
        .iter()
        .filter(|b| b.kind == BreachKind::DecidedLate)
        .map(|b| b.case_id.clone())
        .collect();
    let students = rstore::students_of_cases(store, &ids).await?;
    for b in breaches
        .iter_mut()
        .filter(|b| b.kind == BreachKind::DecidedLate)
    {
        if let Some((name, no, college)) = students.get(&b.case_id) {
            b.student_name_masked = redact::name(name);
            b.student_no_masked = redact::student_no(no);
            b.college = college.clone();
        }
    }
    Ok(())
}

/// Per reviewer: totals and the median seconds from claim to decision, from groups of equal
/// seconds.
fn reviewers(
    groups: &[&rstore::ReviewerGroup],
    name_of: &dyn Fn(&str) -> String,
) -> Vec<ReviewerStats> {
    struct Sums {
        name: String,
        decisions: i64,
        approvals: i64,
        seconds: Vec<(i64, i64)>,
    }
    let mut by_id: BTreeMap<&str, Sums> = BTreeMap::new();
    for g in groups {
        let s = by_id.entry(g.reviewer_id.as_str()).or_insert_with(|| Sums {
            name: name_of(&g.reviewer_id),
            decisions: 0,
            approvals: 0,
            seconds: Vec::new(),
        });
        s.decisions += g.decisions;
        if g.approved {
            s.approvals += g.decisions;
        }
        if let Some(secs) = g.seconds {
            s.seconds.push((secs.max(0), g.decisions));
        }
    }
    let mut out: Vec<ReviewerStats> = by_id
        .into_iter()
        .map(|(id, mut s)| ReviewerStats {
            reviewer_id: id.to_string(),
            reviewer_name: s.name,
            decisions: s.decisions,
            approvals: s.approvals,
            approval_rate: rate(s.approvals, s.decisions),
            median_decision_seconds: lower_median(&mut s.seconds),
        })
        .collect();
    out.sort_by(|a, b| {
        b.decisions
            .cmp(&a.decisions)
            .then_with(|| a.reviewer_name.cmp(&b.reviewer_name))
    });
    out
}

/// The lower middle value of `(value, count)` groups.
fn lower_median(groups: &mut [(i64, i64)]) -> Option<i64> {
    groups.sort_unstable();
    let total: i64 = groups.iter().map(|g| g.1).sum();
    if total == 0 {
        return None;
    }
    let middle = (total - 1) / 2;
    let mut seen = 0;
    for &(value, count) in groups.iter() {
        seen += count;
        if seen > middle {
            return Some(value);
        }
    }
    None
}

fn is_reviewer_kind(kind: &str) -> bool {
    matches!(kind, "approve" | "reject")
}

fn is_rejection(kind: &str) -> bool {
    matches!(kind, "reject" | "override_reject")
}

/// Reject reasons (every catalogue entry, most used first) and the hint overrules, from
/// verdict groups and the decisions whose doubted measures were not recorded with them.
fn verdicts<'a>(
    groups: impl Iterator<Item = &'a rstore::VerdictGroup>,
    unrecorded: impl Iterator<Item = &'a (Option<String>, String, Vec<MeasureId>)>,
) -> StoreResult<(Vec<ReasonCount>, HintOverrules)> {
    let mut reasons: HashMap<RejectReason, i64> = HashMap::new();
    let mut hints = HintTally::default();
    for g in groups {
        if is_rejection(&g.kind) {
            let codes: Vec<String> = serde_json::from_str(&g.reasons_json)?;
            for code in codes {
                if let Ok(r) = code.parse::<RejectReason>() {
                    *reasons.entry(r).or_default() += g.decisions;
                }
            }
        }
        if !is_reviewer_kind(&g.kind) {
            continue;
        }
        // Groups without recorded measures come one by one in `unrecorded`.
        if let Some(codes) = &g.doubted_measures {
            hints.add(
                &g.kind,
                codes.split_whitespace().filter_map(|c| c.parse().ok()),
                g.decisions,
            );
        }
    }
    for (_, kind, doubted) in unrecorded {
        hints.add(kind, doubted.iter().copied(), 1);
    }
    let mut reject_reasons: Vec<ReasonCount> = RejectReason::ALL
        .into_iter()
        .map(|r| ReasonCount {
            code: r.code().to_string(),
            label_zh: r.label_zh().to_string(),
            label_en: r.label_en().to_string(),
            count: reasons.get(&r).copied().unwrap_or(0),
        })
        .collect();
    reject_reasons.sort_by_key(|r| std::cmp::Reverse(r.count));
    Ok((reject_reasons, hints.finish()))
}

#[derive(Default)]
struct HintTally {
    decisions: i64,
    rejections: i64,
    rejected_all_passed: i64,
    /// Per measure: (doubted, approved anyway).
    measures: HashMap<MeasureId, (i64, i64)>,
}

impl HintTally {
    fn add(&mut self, kind: &str, doubted: impl Iterator<Item = MeasureId>, n: i64) {
        let approved = !is_rejection(kind);
        self.decisions += n;
        let mut any = false;
        for m in doubted {
            any = true;
            let e = self.measures.entry(m).or_default();
            e.0 += n;
            if approved {
                e.1 += n;
            }
        }
        if !approved {
            self.rejections += n;
            if !any {
                self.rejected_all_passed += n;
            }
        }
    }

    fn finish(self) -> HintOverrules {
        let mut measures: Vec<MeasureOverrule> = self
            .measures
            .into_iter()
            .map(|(m, (doubted, approved))| MeasureOverrule {
                code: m.code().to_string(),
                label_zh: m.label_zh().to_string(),
                label_en: m.label_en().to_string(),
                doubted,
                approved,
            })
            .collect();
        measures.sort_by(|a, b| {
            b.approved
                .cmp(&a.approved)
                .then_with(|| b.doubted.cmp(&a.doubted))
                .then_with(|| a.code.cmp(&b.code))
        });
        HintOverrules {
            decisions: self.decisions,
            rejections: self.rejections,
            rejected_all_passed: self.rejected_all_passed,
            measures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_groups_is_the_lower_middle() {
        assert_eq!(lower_median(&mut []), None);
        assert_eq!(lower_median(&mut [(30, 1)]), Some(30));
        // 10, 20, 20, 90 → lower middle 20.
        assert_eq!(lower_median(&mut [(90, 1), (10, 1), (20, 2)]), Some(20));
        // 10, 10, 10, 50, 60 → 10.
        assert_eq!(lower_median(&mut [(50, 1), (60, 1), (10, 3)]), Some(10));
    }

    #[test]
    fn hints_count_approvals_against_doubts_and_rejections_of_clean_photos() {
        let mut t = HintTally::default();
        t.add("approve", [MeasureId::Sharpness].into_iter(), 3);
        t.add(
            "reject",
            [MeasureId::Sharpness, MeasureId::Exposure].into_iter(),
            2,
        );
        t.add("reject", std::iter::empty(), 4);
        t.add("approve", std::iter::empty(), 5);
        let h = t.finish();
        assert_eq!(
            (h.decisions, h.rejections, h.rejected_all_passed),
            (14, 6, 4)
        );
        assert_eq!(h.measures[0].code, "sharpness");
        assert_eq!((h.measures[0].doubted, h.measures[0].approved), (5, 3));
        assert_eq!((h.measures[1].doubted, h.measures[1].approved), (2, 0));
    }
}
