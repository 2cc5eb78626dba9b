//! Administrator mode's progress dashboard: where a school's students stand, summed by the
//! dimension the administrator picks (college, major or level), the students behind a count,
//! and those lists saved as CSV files for reminders.

use std::path::Path;

use gradphoto_api::admin::{ProgressQuery, SchoolProgress};
use gradphoto_domain::progress::Stage;

use crate::account::Signed;
use crate::error::{DeskError, DeskResult};
use crate::present::rfc3339;
use crate::view::{
    ProgressFilterView, ProgressRowView, ProgressStudentView, ProgressStudentsView, ProgressView,
    SavedFileView, StageCountView,
};

/// How the dashboard's rows are summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    College,
    Major,
    Level,
}

impl GroupBy {
    pub fn parse(code: &str) -> DeskResult<GroupBy> {
        match code {
            "college" => Ok(GroupBy::College),
            "major" => Ok(GroupBy::Major),
            "level" => Ok(GroupBy::Level),
            other => Err(DeskError::InvalidInput {
                zh: format!("不能按“{other}”汇总"),
                en: format!("Cannot group by \"{other}\""),
            }),
        }
    }
}

/// The dashboard of `school_id`, one row per college, major (with its college) or level.
pub async fn progress(s: &Signed, school_id: &str, by: GroupBy) -> DeskResult<ProgressView> {
    let p = s.client.school_progress(school_id).await?;
    Ok(view(p, by))
}

fn view(p: SchoolProgress, by: GroupBy) -> ProgressView {
    let mut rows: Vec<ProgressRowView> = Vec::new();
    for g in p.groups {
        let (college, major, level) = match by {
            GroupBy::College => (g.college, String::new(), String::new()),
            GroupBy::Major => (g.college, g.major, String::new()),
            GroupBy::Level => (String::new(), String::new(), g.level),
        };
        let row = match rows
            .iter()
            .position(|r| r.college == college && r.major == major && r.level == level)
        {
            Some(i) => &mut rows[i],
            None => {
                rows.push(ProgressRowView {
                    college,
                    major,
                    level,
                    counts: vec![0; g.counts.len()],
                    total: 0,
                });
                let last = rows.len() - 1;
                &mut rows[last]
            }
        };
        for (sum, n) in row.counts.iter_mut().zip(&g.counts) {
            *sum += n;
        }
        row.total += g.counts.iter().sum::<u64>();
    }
    rows.sort_by(|a, b| (&a.college, &a.major, &a.level).cmp(&(&b.college, &b.major, &b.level)));
    let (deadline_zh, deadline_en) = deadline_text(&p.submission_deadline, p.days_left);
    let done = p
        .stages
        .iter()
        .filter(|s| !s.student_to_act && s.stage.index() >= Stage::Submitted.index())
        .map(|s| s.count)
        .sum::<u64>();
    ProgressView {
        school_id: p.school_id,
        school_name: p.school_name,
        deadline: p.submission_deadline,
        days_left: p.days_left,
        deadline_zh,
        deadline_en,
        total: p.total,
        submitted: done,
        stages: p
            .stages
            .into_iter()
            .map(|s| StageCountView {
                code: s.stage.code().to_string(),
                label_zh: s.label_zh,
                label_en: s.label_en,
                count: s.count,
                to_act: s.student_to_act,
            })
            .collect(),
        rows,
    }
}

/// "提交截止 2026-12-18（还剩 10 天）" and its English, or how long ago it passed.
fn deadline_text(deadline: &str, days_left: Option<i64>) -> (String, String) {
    match days_left {
        None => (
            "未设提交截止日期".into(),
            "No submission deadline set".into(),
        ),
        Some(0) => (
            format!("提交截止 {deadline}（今天截止）"),
            format!("Submit by {deadline} (today)"),
        ),
        Some(d) if d > 0 => (
            format!("提交截止 {deadline}（还剩 {d} 天）"),
            format!(
                "Submit by {deadline} ({d} day{} left)",
                if d == 1 { "" } else { "s" }
            ),
        ),
        Some(d) => (
            format!("提交已于 {deadline} 截止（已过 {} 天）", -d),
            format!(
                "Submissions closed on {deadline} ({} day{} ago)",
                -d,
                if d == -1 { "" } else { "s" }
            ),
        ),
    }
}

pub(crate) fn query(f: &ProgressFilterView) -> ProgressQuery {
    let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    ProgressQuery {
        stage: opt(&f.stage),
        college: opt(&f.college),
        major: opt(&f.major),
        level: opt(&f.level),
        student_no: opt(&f.student_no),
        after: None,
        limit: None,
    }
}

/// A page of the students behind a count; `after` is the previous page's `next_after`.
pub async fn students(
    s: &Signed,
    school_id: &str,
    filter: &ProgressFilterView,
    after: Option<String>,
) -> DeskResult<ProgressStudentsView> {
    let page = s
        .client
        .progress_students(
            school_id,
            &ProgressQuery {
                after: after.filter(|a| !a.is_empty()),
                ..query(filter)
            },
        )
        .await?;
    Ok(ProgressStudentsView {
        total: page.total,
        next_after: page.next_after,
        students: page
            .students
            .into_iter()
            .map(|x| ProgressStudentView {
                case_id: x.case_id,
                name: x.name,
                student_no: x.student_no,
                college: x.college,
                major: x.major,
                level: x.level,
                stage: x.stage.code().to_string(),
                stage_zh: x.stage_zh,
                stage_en: x.stage_en,
                updated_at: rfc3339(x.updated_at_ms),
            })
            .collect(),
    })
}

/// Saves the whole list behind `filter` as a CSV file in `dir` (UTF-8 with BOM, as the server
/// writes it). The file gets its name only once complete.
pub async fn export(
    s: &Signed,
    school_id: &str,
    filter: &ProgressFilterView,
    dir: &Path,
) -> DeskResult<SavedFileView> {
    let got = s.client.progress_csv(school_id, &query(filter)).await?;
    let path = crate::saved::save_new(
        dir,
        "进度-progress",
        &crate::saved::filter_label(filter),
        "csv",
        &got.bytes,
    )
    .await?;
    // Rows end with CRLF and no cell holds a carriage return; the first line is the header.
    let rows = got.bytes.iter().filter(|&&b| b == b'\r').count() as u64;
    Ok(SavedFileView {
        path: path.to_string_lossy().into_owned(),
        rows: rows.saturating_sub(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gradphoto_api::admin::{ProgressGroup, StageCount};

    fn school() -> SchoolProgress {
        let group = |college: &str, major: &str, level: &str, n: u64| {
            let mut counts = vec![0; Stage::ALL.len()];
            counts[Stage::Paid.index()] = n;
            counts[Stage::Approved.index()] = 1;
            ProgressGroup {
                college: college.into(),
                major: major.into(),
                level: level.into(),
                counts,
            }
        };
        SchoolProgress {
            school_id: "s".into(),
            school_name: "示范大学".into(),
            submission_deadline: "2026-12-18".into(),
            days_left: Some(1),
            total: 9,
            stages: Stage::ALL
                .iter()
                .map(|s| StageCount {
                    stage: *s,
                    label_zh: s.label_zh().into(),
                    label_en: s.label_en().into(),
                    count: match s {
                        Stage::Paid => 6,
                        Stage::Approved => 3,
                        _ => 0,
                    },
                    student_to_act: s.student_to_act(),
                })
                .collect(),
            groups: vec![
                group("理学院", "数学", "本科", 1),
                group("理学院", "物理", "硕士", 2),
                group("文学院", "中文", "本科", 3),
            ],
        }
    }

    #[test]
    fn rows_sum_the_groups_by_the_chosen_dimension() {
        let by_college = view(school(), GroupBy::College);
        assert_eq!(by_college.rows.len(), 2);
        let science = by_college
            .rows
            .iter()
            .find(|r| r.college == "理学院")
            .unwrap();
        assert_eq!(science.counts[Stage::Paid.index()], 3);
        assert_eq!(science.total, 5);
        assert_eq!(view(school(), GroupBy::Major).rows.len(), 3);
        let by_level = view(school(), GroupBy::Level);
        let undergrad = by_level.rows.iter().find(|r| r.level == "本科").unwrap();
        assert_eq!(undergrad.counts[Stage::Paid.index()], 4);
        assert_eq!(undergrad.college, "");
        assert_eq!(by_college.submitted, 3);
        assert_eq!(by_college.deadline_en, "Submit by 2026-12-18 (1 day left)");
    }

    #[test]
    fn the_deadline_reads_as_days_left_or_passed() {
        assert_eq!(
            deadline_text("2026-12-18", Some(0)).0,
            "提交截止 2026-12-18（今天截止）"
        );
        assert_eq!(
            deadline_text("2026-12-18", Some(-3)).1,
            "Submissions closed on 2026-12-18 (3 days ago)"
        );
        assert_eq!(deadline_text("", None).1, "No submission deadline set");
    }

    #[test]
    fn unknown_groupings_are_refused() {
        assert!(GroupBy::parse("college").is_ok());
        assert!(matches!(
            GroupBy::parse("planet"),
            Err(DeskError::InvalidInput { .. })
        ));
    }
}
