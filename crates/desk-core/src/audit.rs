//! Supervisor mode's audit history: pages of events with filters, the audited reveal of a
//! student's ID number, the chain check, and the CSV export written to a file as it arrives.
//! Nothing here is cached: the history is read from the server each time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Local, NaiveDate, TimeZone};
use gradphoto_api::audit::{AuditEntry, AuditQuery};
use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::state::CaseState;
use tokio::io::AsyncWriteExt;

use crate::account::Signed;
use crate::error::{DeskError, DeskResult};
use crate::view::{
    AuditActionView, AuditFilterView, AuditPageView, AuditRowView, AuditStudentView, ChainView,
    ConcernView, ExportDoneView, ExportProgressView, TimelineAttemptView, TimelineDecisionView,
    TimelineView,
};

/// Rows per page of the history.
pub const PAGE_ROWS: u32 = 50;
/// How long an export may take to download.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Every action, in the order the domain lists them, for the action filter.
pub fn actions() -> Vec<AuditActionView> {
    AuditAction::ALL
        .iter()
        .map(|a| AuditActionView {
            code: a.code().to_string(),
            label_zh: a.label_zh().to_string(),
            label_en: a.label_en().to_string(),
        })
        .collect()
}

fn bad_day(which: &str, text: &str) -> DeskError {
    DeskError::InvalidInput {
        zh: format!("{which}日期“{text}”无效，请按 年-月-日 填写。"),
        en: format!(
            "The {which_en} date {text:?} is not a date (use YYYY-MM-DD).",
            which_en = if which == "开始" { "start" } else { "end" }
        ),
    }
}

/// Midnight at the start of `day` on this computer's clock, in ms since the epoch.
fn local_midnight_ms(day: NaiveDate) -> Option<i64> {
    let midnight = day.and_hms_opt(0, 0, 0)?;
    Local
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.timestamp_millis())
}

fn day_bound(text: &str, which: &str, next_day: bool) -> DeskResult<Option<i64>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad_day(which, text))?;
    let day = if next_day {
        day.succ_opt().ok_or_else(|| bad_day(which, text))?
    } else {
        day
    };
    local_midnight_ms(day)
        .map(Some)
        .ok_or_else(|| bad_day(which, text))
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The server's query for the window's filters: days are whole local days, both inclusive.
pub fn query(filter: &AuditFilterView) -> DeskResult<AuditQuery> {
    Ok(AuditQuery {
        after: None,
        before: filter.before,
        limit: Some(PAGE_ROWS),
        student: non_empty(&filter.student),
        actor: non_empty(&filter.actor),
        action: non_empty(&filter.action),
        school: non_empty(&filter.school),
        from_ms: day_bound(&filter.from_day, "开始", false)?,
        to_ms: day_bound(&filter.to_day, "结束", true)?,
    })
}

pub(crate) fn local_time(ms: i64) -> String {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// A state code as people read it; an unknown code (a newer server) as it is. The students'
/// labels call both review states 审核中; staff tell waiting from claimed.
fn state_label(code: &str) -> (String, String) {
    match serde_json::from_value::<CaseState>(serde_json::Value::from(code)) {
        Ok(CaseState::PendingReview) => ("待审核".into(), "Waiting for review".into()),
        Ok(CaseState::InReview) => ("审核中（已领取）".into(), "In review (claimed)".into()),
        Ok(s) => (s.label_zh().to_string(), s.label_en().to_string()),
        Err(_) => (code.to_string(), code.to_string()),
    }
}

fn row(e: AuditEntry) -> AuditRowView {
    let (state_change_zh, state_change_en) = match (&e.state_from, &e.state_to) {
        (Some(from), Some(to)) => {
            let (from_zh, from_en) = state_label(from);
            let (to_zh, to_en) = state_label(to);
            (
                Some(format!("{from_zh} → {to_zh}")),
                Some(format!("{from_en} → {to_en}")),
            )
        }
        _ => (None, None),
    };
    AuditRowView {
        actor_name: e.actor_name,
        subject_name: e.subject_name,
        state_change_zh,
        state_change_en,
        seq: e.seq,
        at: local_time(e.at_ms),
        actor_role: e
            .actor_role
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
        actor_id: e.actor_id,
        action: e.action,
        action_zh: e.action_label_zh,
        action_en: e.action_label_en,
        school_id: e.school_id,
        student: e.student.map(|s| AuditStudentView {
            student_id: s.student_id,
            name: s.name,
            student_no: s.student_no,
            id_number_masked: s.id_number_masked,
        }),
        subject: e.subject,
        details: e.details.to_string(),
    }
}

/// One page of the history, newest first (older pages through `filter.before`).
pub async fn page(s: &Signed, filter: &AuditFilterView) -> DeskResult<AuditPageView> {
    let page = s.client.audit_search(&query(filter)?).await?;
    Ok(AuditPageView {
        rows: page.events.into_iter().map(row).collect(),
        next_cursor: page.next_cursor,
        has_more: page.has_more,
    })
}

/// A student's whole history, from the server.
pub async fn timeline(s: &Signed, case_id: &str) -> DeskResult<TimelineView> {
    let t = s.client.case_timeline(case_id).await?;
    let code = serde_json::to_value(t.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let (state_zh, state_en) = state_label(&code);
    Ok(TimelineView {
        case_id: t.case_id,
        state_zh,
        state_en,
        flagged: t.flagged,
        student_id: t.student_id,
        name: t.student.name,
        student_no: t.student.student_no,
        id_number_masked: t.student.id_number_masked,
        school: t.student.school_name,
        college: t.student.college,
        major: t.student.major,
        level: t.student.level,
        graduation_year: t.student.graduation_year,
        attempts: t.attempts.into_iter().map(attempt_view).collect(),
        decisions: t.decisions.into_iter().map(decision_view).collect(),
        events: t.events.into_iter().map(row).collect(),
    })
}

/// An attempt as the timeline (and a re-review sample) shows it.
pub(crate) fn attempt_view(a: gradphoto_api::audit::TimelineAttempt) -> TimelineAttemptView {
    TimelineAttemptView {
        attempt_id: a.attempt_id,
        round: a.round,
        at: local_time(a.created_at_ms),
        status: a.status,
        overall: a.overall,
        concerns: a
            .concerns
            .into_iter()
            .map(|c| ConcernView {
                verdict: c.verdict,
                label_zh: c.label_zh,
                label_en: c.label_en,
            })
            .collect(),
        face_same_person: a.face_same_person,
        submitted: a.submitted,
        photo_path: a.standardized_url,
    }
}

/// A decision as the timeline (and a re-review answer) shows it.
pub(crate) fn decision_view(d: gradphoto_api::review::DecisionRecord) -> TimelineDecisionView {
    TimelineDecisionView {
        kind: kind_code(d.kind),
        reasons: d.reasons,
        comment: d.comment,
        reviewer: d.reviewer_name,
        round: d.round,
        at: local_time(d.decided_at_ms),
    }
}

/// A decision kind's wire code (`approve`, `override_reject`, …).
pub(crate) fn kind_code(kind: gradphoto_api::review::DecisionKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A picture the timeline names, as a `data:` URL the window can show (it is not cached).
pub async fn photo(s: &Signed, path: &str) -> DeskResult<String> {
    use base64::Engine as _;
    let got = s.client.timeline_photo(path).await?;
    let mime = got.content_type.unwrap_or_else(|| "image/jpeg".into());
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&got.bytes)
    ))
}

/// A student's full ID number; the server records the reveal with its reason.
pub async fn reveal(s: &Signed, student_id: &str, reason: &str) -> DeskResult<String> {
    Ok(s.client.reveal_id_number(student_id, reason.trim()).await?)
}

/// Checks the whole audit chain on the server.
pub async fn verify(s: &Signed) -> DeskResult<ChainView> {
    let v = s.client.audit_verify().await?;
    let broken = v.first_broken;
    Ok(ChainView {
        ok: v.ok,
        checked: v.checked,
        broken_seq: broken.as_ref().map(|b| b.seq),
        broken_zh: broken.as_ref().map(|b| b.message_zh.clone()),
        broken_en: broken.map(|b| b.message_en),
    })
}

/// A file name in `dir` that does not exist yet: `审计记录-<time>.csv`, numbered if needed.
fn export_path(dir: &Path) -> PathBuf {
    let stamp = Local::now().format("%Y%m%d-%H%M%S");
    let mut path = dir.join(format!("审计记录-audit-{stamp}.csv"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("审计记录-audit-{stamp}-{n}.csv"));
        n += 1;
    }
    path
}

/// Writes every event matching `filter` (all pages) as CSV into a new file in `dir`, calling
/// `progress` as rows arrive. The file appears under its name only when complete: it is
/// written beside it first and renamed, so a failed export leaves no partial file.
pub async fn export(
    s: &Signed,
    filter: &AuditFilterView,
    dir: &Path,
    progress: impl Fn(ExportProgressView),
) -> DeskResult<ExportDoneView> {
    let mut q = query(filter)?;
    q.before = None;
    q.limit = None;
    tokio::fs::create_dir_all(dir).await?;
    let path = export_path(dir);
    let partial = path.with_extension("csv.part");
    let result = async {
        let mut stream = s.client.audit_export_stream(&q, EXPORT_TIMEOUT).await?;
        let mut file = tokio::fs::File::create(&partial).await?;
        // Rows end with CRLF and no cell holds a carriage return (text fields refuse control
        // characters), so counting CRs counts rows; the first is the header.
        let mut lines: u64 = 0;
        progress(ExportProgressView {
            written: 0,
            total: stream.total,
        });
        while let Some(chunk) = stream.chunk().await? {
            file.write_all(&chunk).await?;
            lines += chunk.iter().filter(|&&b| b == b'\r').count() as u64;
            progress(ExportProgressView {
                written: lines.saturating_sub(1),
                total: stream.total,
            });
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok::<u64, DeskError>(lines.saturating_sub(1))
    }
    .await;
    match result {
        Ok(events) => {
            tokio::fs::rename(&partial, &path).await?;
            Ok(ExportDoneView {
                path: path.to_string_lossy().into_owned(),
                events,
            })
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_whole_local_days() {
        let f = AuditFilterView {
            from_day: "2026-06-01".into(),
            to_day: "2026-06-01".into(),
            ..AuditFilterView::default()
        };
        let q = query(&f).unwrap();
        let (from, to) = (q.from_ms.unwrap(), q.to_ms.unwrap());
        // One day, give or take a daylight-saving change.
        assert!(
            (23 * 3_600_000..=25 * 3_600_000).contains(&(to - from)),
            "{}",
            to - from
        );
        assert_eq!(local_time(from), "2026-06-01 00:00:00");
    }

    #[test]
    fn empty_filters_are_absent_and_bad_days_are_named() {
        let q = query(&AuditFilterView {
            student: "  ".into(),
            action: "approved".into(),
            ..AuditFilterView::default()
        })
        .unwrap();
        assert_eq!(q.student, None);
        assert_eq!(q.action.as_deref(), Some("approved"));
        assert_eq!(q.limit, Some(PAGE_ROWS));
        let err = query(&AuditFilterView {
            to_day: "2026-13-01".into(),
            ..AuditFilterView::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("2026-13-01"), "{err}");
    }
}
