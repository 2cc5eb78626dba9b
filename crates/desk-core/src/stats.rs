//! Supervisor mode's statistics: the server's figures laid out for the window's charts
//! (stages, days, reviewers, turnaround against the SLA, breaches, backlog, reject reasons,
//! hint overrules, schools and colleges). Read from the server each time, never cached.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate};
use gradphoto_api::review::{BreachKind, GroupStats, Stats, StatsQuery};
use gradphoto_domain::calendar::CST_OFFSET_MS;
use gradphoto_domain::state::CaseState;

use crate::account::Signed;
use crate::error::DeskResult;
use crate::view::{
    BacklogView, BarView, BreachView, DayStatsView, GroupStatsView, HintOverrulesView,
    MeasureOverruleView, ReviewerStatsView, StatsFilterView, StatsView, TurnaroundView,
};

/// Days of decisions the server reports when no range is chosen.
pub const PERIOD_DAYS: i64 = 30;

pub async fn stats(s: &Signed, filter: &StatsFilterView) -> DeskResult<StatsView> {
    let stats = s.client.stats(&query(filter)).await?;
    Ok(summarize(stats))
}

fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The server's query from the window's filters (the server checks the dates).
pub fn query(f: &StatsFilterView) -> StatsQuery {
    StatsQuery {
        from: non_empty(&f.from_day),
        to: non_empty(&f.to_day),
        school: non_empty(&f.school),
        college: non_empty(&f.college),
    }
}

/// An instant as `YYYY-MM-DD HH:MM` in China Standard Time, the calendar of the SLA.
fn cst_minute(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms + CST_OFFSET_MS)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn group(g: GroupStats) -> GroupStatsView {
    GroupStatsView {
        key: g.key,
        name: g.name,
        school_id: g.school_id,
        decisions: g.decisions,
        approval_rate: g.approval_rate,
        mean_turnaround: g.mean_turnaround_working_days,
        decided_late: g.decided_late,
        pending_overdue: g.pending_overdue,
    }
}

/// The charts' data from the server's answer: every day of its range, every step of
/// turnaround up to the longest.
pub fn summarize(stats: Stats) -> StatsView {
    let count = |state: CaseState| {
        stats
            .counts
            .iter()
            .filter(|c| c.state == state)
            .map(|c| c.count)
            .sum::<i64>()
    };
    let states = CaseState::ALL
        .into_iter()
        .map(|st| BarView {
            key: format!("{st:?}"),
            label_zh: staff_label_zh(st).to_string(),
            label_en: staff_label_en(st).to_string(),
            value: count(st),
        })
        .collect();

    let mut by_day: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for d in &stats.per_reviewer_day {
        let day = by_day.entry(d.day.clone()).or_default();
        day.0 += d.approved;
        day.1 += d.rejected;
    }
    let reviewers = stats
        .reviewers
        .iter()
        .map(|r| ReviewerStatsView {
            name: r.reviewer_name.clone(),
            approved: r.approvals,
            rejected: r.decisions - r.approvals,
            approval_rate: r.approval_rate,
            median_seconds: r.median_decision_seconds,
        })
        .collect();
    let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    let days = match (parse(&stats.from), parse(&stats.to)) {
        (Some(from), Some(to)) => (0..=(to - from).num_days())
            .map(|i| {
                let day = (from + Duration::days(i)).format("%Y-%m-%d").to_string();
                let (approved, rejected) = by_day.get(&day).copied().unwrap_or_default();
                DayStatsView {
                    day,
                    approved,
                    rejected,
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut reject_reasons: Vec<BarView> = stats
        .reject_reasons
        .into_iter()
        .filter(|r| r.count > 0)
        .map(|r| BarView {
            key: r.code,
            label_zh: r.label_zh,
            label_en: r.label_en,
            value: r.count,
        })
        .collect();
    reject_reasons.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.key.cmp(&b.key)));
    let longest = stats
        .turnaround
        .iter()
        .map(|t| t.working_days)
        .max()
        .unwrap_or(0);
    let turnaround = (0..=longest)
        .map(|days| {
            let t = stats.turnaround.iter().find(|t| t.working_days == days);
            TurnaroundView {
                working_days: days,
                within: t.map_or(0, |t| t.decisions - t.late),
                late: t.map_or(0, |t| t.late),
            }
        })
        .collect();
    let backlog = stats
        .backlog
        .iter()
        .map(|b| BacklogView {
            label: match b.max_working_days {
                Some(max) if max == b.min_working_days => max.to_string(),
                Some(max) => format!("{}–{max}", b.min_working_days),
                None => format!("{}+", b.min_working_days),
            },
            count: b.count,
            overdue: b.overdue,
        })
        .collect();
    let breaches = stats
        .breaches
        .into_iter()
        .map(|b| {
            let (kind, kind_zh, kind_en) = match b.kind {
                BreachKind::DecidedLate => ("decided_late", "超时审结", "Decided late"),
                BreachKind::PendingOverdue => ("pending_overdue", "超时待审", "Overdue, waiting"),
            };
            BreachView {
                case_id: b.case_id,
                kind: kind.into(),
                kind_zh: kind_zh.into(),
                kind_en: kind_en.into(),
                school_name: b.school_name,
                college: b.college,
                student: b.student_name_masked,
                student_no: b.student_no_masked,
                submitted: cst_minute(b.submitted_at_ms),
                decided: b.decided_at_ms.map(cst_minute).unwrap_or_default(),
                working_days: b.working_days,
                sla_working_days: b.sla_working_days,
            }
        })
        .collect();
    let hints = HintOverrulesView {
        decisions: stats.hints.decisions,
        rejections: stats.hints.rejections,
        rejected_all_passed: stats.hints.rejected_all_passed,
        measures: stats
            .hints
            .measures
            .into_iter()
            .map(|m| MeasureOverruleView {
                rate: if m.doubted > 0 {
                    m.approved as f64 / m.doubted as f64
                } else {
                    0.0
                },
                key: m.code,
                label_zh: m.label_zh,
                label_en: m.label_en,
                doubted: m.doubted,
                approved: m.approved,
            })
            .collect(),
    };
    StatsView {
        from_day: stats.from,
        to_day: stats.to,
        states,
        reviewers,
        days,
        reject_reasons,
        turnaround,
        decided_within_sla: stats.decided_within_sla,
        decided_late: stats.decided_late,
        pending_overdue: stats.pending_overdue,
        breaches,
        breaches_total: stats.breaches_total,
        backlog,
        hints,
        schools: stats.schools.into_iter().map(group).collect(),
        colleges: stats.colleges.into_iter().map(group).collect(),
    }
}

/// Stage names as staff use them: the students' labels call both review states 审核中.
fn staff_label_zh(st: CaseState) -> &'static str {
    match st {
        CaseState::PendingReview => "待审核",
        CaseState::InReview => "审核中（已领取）",
        other => other.label_zh(),
    }
}

fn staff_label_en(st: CaseState) -> &'static str {
    match st {
        CaseState::PendingReview => "Waiting for review",
        CaseState::InReview => "In review (claimed)",
        other => other.label_en(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gradphoto_api::review::{
        BacklogBucket, Breach, HintOverrules, ReasonCount, ReviewerDay, ReviewerStats, StateCount,
        TurnaroundCount,
    };

    fn day(reviewer: &str, day: &str, approved: i64, rejected: i64) -> ReviewerDay {
        ReviewerDay {
            reviewer_id: reviewer.into(),
            reviewer_name: reviewer.into(),
            day: day.into(),
            approved,
            rejected,
        }
    }

    fn reason(code: &str, count: i64) -> ReasonCount {
        ReasonCount {
            code: code.into(),
            label_zh: code.into(),
            label_en: code.into(),
            count,
        }
    }

    #[test]
    fn days_turnaround_backlog_and_breaches_are_laid_out() {
        let stats = Stats {
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            counts: vec![StateCount {
                state: CaseState::PendingReview,
                count: 7,
            }],
            per_reviewer_day: vec![
                day("李老师", "2026-11-07", 3, 1),
                day("王老师", "2026-11-07", 1, 0),
                day("李老师", "2026-11-05", 2, 2),
            ],
            reject_reasons: vec![
                reason("background", 1),
                reason("selfie", 2),
                reason("blur", 0),
            ],
            reviewers: vec![ReviewerStats {
                reviewer_id: "l".into(),
                reviewer_name: "李老师".into(),
                decisions: 8,
                approvals: 5,
                approval_rate: 5.0 / 8.0,
                median_decision_seconds: Some(42),
            }],
            turnaround: vec![
                TurnaroundCount {
                    working_days: 1,
                    decisions: 4,
                    late: 0,
                },
                TurnaroundCount {
                    working_days: 4,
                    decisions: 2,
                    late: 2,
                },
            ],
            decided_within_sla: 4,
            decided_late: 2,
            pending_overdue: 0,
            breaches: vec![Breach {
                kind: BreachKind::DecidedLate,
                case_id: "c1".into(),
                school_id: "s".into(),
                school_name: "示范大学".into(),
                college: "计算机学院".into(),
                student_name_masked: "张*".into(),
                student_no_masked: "20*****03".into(),
                // 2026-11-06 16:00 CST.
                submitted_at_ms: 1_793_952_000_000,
                decided_at_ms: None,
                working_days: 4,
                sla_working_days: 2,
            }],
            breaches_total: 1,
            backlog: vec![
                BacklogBucket {
                    min_working_days: 0,
                    max_working_days: Some(0),
                    count: 3,
                    overdue: 0,
                },
                BacklogBucket {
                    min_working_days: 4,
                    max_working_days: Some(5),
                    count: 1,
                    overdue: 1,
                },
                BacklogBucket {
                    min_working_days: 11,
                    max_working_days: None,
                    count: 0,
                    overdue: 0,
                },
            ],
            hints: HintOverrules {
                decisions: 0,
                rejections: 0,
                rejected_all_passed: 0,
                measures: Vec::new(),
            },
            schools: Vec::new(),
            colleges: Vec::new(),
        };
        let v = summarize(stats);
        assert_eq!(v.states.len(), CaseState::ALL.len());
        let pending = v.states.iter().find(|b| b.label_zh == "待审核").unwrap();
        assert_eq!(pending.value, 7);
        assert_eq!(v.days.len(), 30);
        assert_eq!(v.days[0].day, "2026-11-01");
        let d7 = v.days.iter().find(|d| d.day == "2026-11-07").unwrap();
        assert_eq!((d7.approved, d7.rejected), (4, 1));
        assert_eq!(v.days[1].approved, 0, "a day without decisions is shown");
        assert_eq!((v.reviewers[0].approved, v.reviewers[0].rejected), (5, 3));
        assert_eq!(v.reviewers[0].median_seconds, Some(42));
        let keys: Vec<&str> = v.reject_reasons.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            vec!["selfie", "background"],
            "unused reasons are left out"
        );
        let t: Vec<(i64, i64, i64)> = v
            .turnaround
            .iter()
            .map(|t| (t.working_days, t.within, t.late))
            .collect();
        assert_eq!(
            t,
            vec![(0, 0, 0), (1, 4, 0), (2, 0, 0), (3, 0, 0), (4, 0, 2)]
        );
        let labels: Vec<&str> = v.backlog.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, vec!["0", "4–5", "11+"]);
        assert_eq!(v.breaches[0].kind_zh, "超时审结");
        assert_eq!(v.breaches[0].submitted, "2026-11-06 16:00");
        assert_eq!(v.breaches[0].decided, "");
    }
}
