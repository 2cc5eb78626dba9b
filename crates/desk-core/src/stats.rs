//! Supervisor mode's statistics: the server's counts, summed and laid out for the window's
//! charts (stages, reviewers, days, reject reasons). Read from the server each time.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use gradphoto_api::review::Stats;
use gradphoto_domain::state::CaseState;

use crate::account::Signed;
use crate::error::DeskResult;
use crate::view::{BarView, DayStatsView, ReviewerStatsView, StatsView};

/// Days of decisions the server reports (`/api/supervisor/stats`).
pub const PERIOD_DAYS: i64 = 30;

pub async fn stats(s: &Signed) -> DeskResult<StatsView> {
    let stats = s.client.stats().await?;
    Ok(summarize(stats, today_cst()))
}

/// Today in China Standard Time, the calendar the server's days are counted in.
fn today_cst() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// The charts' data from the server's answer; `today` ends the daily series.
pub fn summarize(stats: Stats, today: NaiveDate) -> StatsView {
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

    let mut by_reviewer: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut by_day: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for d in &stats.per_reviewer_day {
        let r = by_reviewer.entry(d.reviewer_name.clone()).or_default();
        r.0 += d.approved;
        r.1 += d.rejected;
        let day = by_day.entry(d.day.clone()).or_default();
        day.0 += d.approved;
        day.1 += d.rejected;
    }
    let mut reviewers: Vec<ReviewerStatsView> = by_reviewer
        .into_iter()
        .map(|(name, (approved, rejected))| ReviewerStatsView {
            name,
            approved,
            rejected,
            approval_rate: if approved + rejected > 0 {
                approved as f64 / (approved + rejected) as f64
            } else {
                0.0
            },
        })
        .collect();
    reviewers.sort_by(|a, b| {
        (b.approved + b.rejected)
            .cmp(&(a.approved + a.rejected))
            .then_with(|| a.name.cmp(&b.name))
    });
    let days = (0..PERIOD_DAYS)
        .rev()
        .map(|back| {
            let day = (today - Duration::days(back))
                .format("%Y-%m-%d")
                .to_string();
            let (approved, rejected) = by_day.get(&day).copied().unwrap_or_default();
            DayStatsView {
                day,
                approved,
                rejected,
            }
        })
        .collect();
    let mut reject_reasons: Vec<BarView> = stats
        .reject_reasons
        .into_iter()
        .map(|r| BarView {
            key: r.code,
            label_zh: r.label_zh,
            label_en: r.label_en,
            value: r.count,
        })
        .collect();
    reject_reasons.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.key.cmp(&b.key)));
    StatsView {
        states,
        reviewers,
        days,
        reject_reasons,
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
    use gradphoto_api::review::{ReasonCount, ReviewerDay, StateCount};

    fn day(reviewer: &str, day: &str, approved: i64, rejected: i64) -> ReviewerDay {
        ReviewerDay {
            reviewer_id: reviewer.into(),
            reviewer_name: reviewer.into(),
            day: day.into(),
            approved,
            rejected,
        }
    }

    #[test]
    fn reviewers_days_and_reasons_are_summed_and_ordered() {
        let stats = Stats {
            counts: vec![
                StateCount {
                    state: CaseState::PendingReview,
                    count: 7,
                },
                StateCount {
                    state: CaseState::Approved,
                    count: 3,
                },
            ],
            per_reviewer_day: vec![
                day("李老师", "2026-12-07", 3, 1),
                day("王老师", "2026-12-07", 1, 0),
                day("李老师", "2026-12-05", 2, 2),
            ],
            reject_reasons: vec![
                ReasonCount {
                    code: "background".into(),
                    label_zh: "背景".into(),
                    label_en: "Background".into(),
                    count: 1,
                },
                ReasonCount {
                    code: "selfie".into(),
                    label_zh: "自拍".into(),
                    label_en: "Selfie".into(),
                    count: 2,
                },
            ],
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let v = summarize(stats, today);
        assert_eq!(v.states.len(), CaseState::ALL.len());
        let pending = v.states.iter().find(|b| b.label_zh == "待审核").unwrap();
        assert_eq!(pending.value, 7);
        assert_eq!(v.reviewers[0].name, "李老师");
        assert_eq!((v.reviewers[0].approved, v.reviewers[0].rejected), (5, 3));
        assert!((v.reviewers[0].approval_rate - 5.0 / 8.0).abs() < 1e-9);
        assert_eq!(v.days.len(), PERIOD_DAYS as usize);
        let last = v.days.last().unwrap();
        assert_eq!(
            (last.day.as_str(), last.approved, last.rejected),
            ("2026-12-07", 4, 1)
        );
        assert_eq!(
            v.days[v.days.len() - 2].approved,
            0,
            "a day without decisions is shown"
        );
        assert_eq!(v.reject_reasons[0].key, "selfie");
    }
}
