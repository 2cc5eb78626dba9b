//! Working days in China Standard Time: the calendar a school's review deadline (SLA) is
//! counted in.
//!
//! A working day is a Monday to Friday that is not on the school's holiday list. Turnaround is
//! counted in whole working days: the working days after the day something happened, up to and
//! including the day it was answered. A submission decided the same day took 0 working days;
//! one submitted on a Friday and decided on the next Monday took 1; one submitted on a Saturday
//! and decided on the Monday also took 1 (the office could not have answered before Monday, but
//! the student has waited into a working day). Whole days keep the figure the same for a
//! reviewer, a supervisor and a student, whatever hour each looks at it.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Weekday};

/// China Standard Time is UTC+8 all year (no daylight saving).
pub const CST_OFFSET_MS: i64 = 8 * 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// The day number (days since 1970-01-01) of an instant in China Standard Time. Day numbers
/// are what SQL can compute on both engines (`(ms + offset) / day`), so statistics group by
/// them and turn them into dates here.
pub fn cst_day_number(ms: i64) -> i64 {
    (ms + CST_OFFSET_MS).div_euclid(DAY_MS)
}

/// The calendar date of a day number.
pub fn date_of_day_number(day: i64) -> NaiveDate {
    // Day numbers of stored instants are far inside chrono's range; the epoch stands in for
    // anything outside it rather than panicking on a corrupt row.
    DateTime::from_timestamp(day.saturating_mul(86_400), 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// The day number of a date (inverse of [`date_of_day_number`]).
pub fn day_number_of(date: NaiveDate) -> i64 {
    (date - NaiveDate::default()).num_days()
}

/// The first instant (epoch ms) of a China Standard Time date.
pub fn cst_day_start_ms(date: NaiveDate) -> i64 {
    day_number_start_ms(day_number_of(date))
}

/// The first instant (epoch ms) of a day number in China Standard Time (inverse of
/// [`cst_day_number`] for a day's first instant).
pub fn day_number_start_ms(day: i64) -> i64 {
    day * DAY_MS - CST_OFFSET_MS
}

/// The calendar date of an instant in China Standard Time.
pub fn cst_date(ms: i64) -> NaiveDate {
    date_of_day_number(cst_day_number(ms))
}

/// An instant in China Standard Time (`None` outside chrono's range).
pub fn cst_datetime(ms: i64) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let offset = chrono::FixedOffset::east_opt(i32::try_from(CST_OFFSET_MS / 1000).ok()?)?;
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&offset))
}

/// Parses a holiday as written in a school's policy (`YYYY-MM-DD`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    // chrono accepts a one-digit month or day; the policy format is the fixed ISO width.
    if t.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

/// A school's working calendar: weekends and its holidays are not working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingCalendar {
    /// Holidays falling on a weekday; weekend holidays change nothing and are dropped.
    holidays: BTreeSet<NaiveDate>,
}

impl WorkingCalendar {
    /// A calendar from policy holiday strings; entries that are not dates are ignored here
    /// ([`crate::policy::SchoolPolicy::validate`] refuses them before they are stored).
    pub fn from_policy_dates<S: AsRef<str>>(dates: &[S]) -> Self {
        Self::new(dates.iter().filter_map(|d| parse_date(d.as_ref())))
    }

    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        WorkingCalendar {
            holidays: holidays.into_iter().filter(|d| !is_weekend(*d)).collect(),
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !is_weekend(date) && !self.holidays.contains(&date)
    }

    /// Working days in `(from, to]`: after `from`'s day, up to and including `to`'s day.
    /// Zero when `to` is not after `from`. Constant work per call apart from the holiday
    /// lookup, so a season's statistics can call it per submission.
    pub fn working_days_after(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to <= from {
            return 0;
        }
        let weekdays = weekdays_up_to(to) - weekdays_up_to(from);
        let first = from + Duration::days(1);
        let holidays = self.holidays.range(first..=to).count() as i64;
        weekdays - holidays
    }

    /// [`Self::working_days_after`] between two instants, each taken in China Standard Time.
    pub fn working_days_between_ms(&self, from_ms: i64, to_ms: i64) -> i64 {
        self.working_days_after(cst_date(from_ms), cst_date(to_ms))
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Monday-to-Friday days from a fixed Monday up to and including `d` (negative before it);
/// differences of two of these count the weekdays between them.
fn weekdays_up_to(d: NaiveDate) -> i64 {
    // 1970-01-05 was a Monday; day numbers are counted from 1970-01-01 (a Thursday).
    let since_monday = day_number_of(d) - 4;
    let weeks = since_monday.div_euclid(7);
    let rest = since_monday.rem_euclid(7); // 0 = Monday .. 6 = Sunday
    weeks * 5 + (rest + 1).min(5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    /// The definition, one day at a time.
    fn naive(cal: &WorkingCalendar, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut n = 0;
        let mut day = from + Duration::days(1);
        while day <= to {
            if cal.is_working_day(day) {
                n += 1;
            }
            day += Duration::days(1);
        }
        n
    }

    #[test]
    fn weekends_and_holidays_are_skipped() {
        let cal = WorkingCalendar::default();
        // 2026-12-04 is a Friday.
        assert_eq!(cal.working_days_after(d("2026-12-04"), d("2026-12-04")), 0);
        assert_eq!(cal.working_days_after(d("2026-12-04"), d("2026-12-07")), 1);
        assert_eq!(cal.working_days_after(d("2026-12-05"), d("2026-12-07")), 1);
        assert_eq!(cal.working_days_after(d("2026-12-04"), d("2026-12-11")), 5);
        assert_eq!(cal.working_days_after(d("2026-12-07"), d("2026-12-04")), 0);
        let cal = WorkingCalendar::from_policy_dates(&["2026-12-08", "2026-12-05", "bad"]);
        assert!(!cal.is_working_day(d("2026-12-08")));
        assert!(cal.is_working_day(d("2026-12-09")));
        assert_eq!(cal.working_days_after(d("2026-12-04"), d("2026-12-09")), 2);
    }

    #[test]
    fn instants_are_read_in_china_standard_time() {
        let cal = WorkingCalendar::default();
        // Friday 2026-12-04 23:30 CST = 15:30 UTC; Monday 2026-12-07 00:30 CST = Sunday 16:30 UTC.
        let fri = cst_day_start_ms(d("2026-12-04")) + 23 * 3_600_000 + 1_800_000;
        let mon = cst_day_start_ms(d("2026-12-07")) + 1_800_000;
        assert_eq!(cst_date(fri), d("2026-12-04"));
        assert_eq!(cst_date(mon), d("2026-12-07"));
        assert_eq!(cal.working_days_between_ms(fri, mon), 1);
        assert_eq!(
            cst_date(cst_day_start_ms(d("2026-12-07")) - 1),
            d("2026-12-06")
        );
    }

    #[test]
    fn policy_dates_have_the_iso_form() {
        assert_eq!(parse_date(" 2026-10-01 "), Some(d("2026-10-01")));
        assert_eq!(parse_date("2026-10-1"), None);
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("10/01/2026"), None);
    }

    proptest! {
        #[test]
        fn counting_matches_the_definition(
            start in 0i64..30_000,
            span in -20i64..400,
            holidays in proptest::collection::vec(0i64..420, 0..30),
        ) {
            let from = date_of_day_number(start);
            let to = from + Duration::days(span);
            let cal = WorkingCalendar::new(holidays.iter().map(|h| from + Duration::days(*h)));
            prop_assert_eq!(cal.working_days_after(from, to), naive(&cal, from, to));
            prop_assert_eq!(day_number_of(from), start);
        }

        #[test]
        fn turnaround_adds_up(a in 0i64..20_000, b in 0i64..200, c in 0i64..200) {
            let cal = WorkingCalendar::new([date_of_day_number(a + 3)]);
            let x = date_of_day_number(a);
            let y = x + Duration::days(b);
            let z = y + Duration::days(c);
            prop_assert_eq!(
                cal.working_days_after(x, z),
                cal.working_days_after(x, y) + cal.working_days_after(y, z)
            );
        }
    }
}
