//! Views of cached data for the window. Nothing here touches the network, so every view is
//! as fast offline as online.

use chrono::{TimeZone, Utc};
use gradphoto_api::review::{DecisionKind, ImageKind as ApiImageKind, ReviewItem};
use gradphoto_domain::reasons::Rejection;
use gradphoto_domain::spec::PhotoSpec;
use gradphoto_domain::Localized;

use crate::cache::{Cache, CachedRow};
use crate::error::{DeskError, DeskResult};
use crate::view::{
    ConflictView, DecisionInput, FlagMeasureView, FlagView, GuideView, HistoryEntry, ImageKind,
    ImageRef, ItemView, LocalDecisionView, QueueFilter, QueuePage, QueueRow, StudentView,
};

pub fn rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// The window's name for a server image kind.
pub fn view_kind(k: ApiImageKind) -> ImageKind {
    match k {
        ApiImageKind::IdFront => ImageKind::IdCardFront,
        ApiImageKind::IdBack => ImageKind::IdCardBack,
        ApiImageKind::Enrollment => ImageKind::Enrollment,
        ApiImageKind::Original => ImageKind::Original,
        ApiImageKind::Standardized => ImageKind::Standardized,
    }
}

/// Path part of the `gpimg:` URL of a cached image.
pub fn image_path(item_id: &str, kind: ApiImageKind) -> String {
    format!("{item_id}/{}", kind.as_str())
}

pub fn guide(spec: &PhotoSpec) -> GuideView {
    GuideView {
        width: spec.width,
        height: spec.height,
        hair_top: [spec.hair_top_px.min, spec.hair_top_px.max],
        eye_line: [spec.eye_line_px.min, spec.eye_line_px.max],
        face_width: [spec.face_width_px.min, spec.face_width_px.max],
    }
}

/// Why the item is flagged, each photo check with the labels the hints show for it; `None`
/// when it is not flagged.
pub fn flag_view(item: &ReviewItem) -> Option<FlagView> {
    if !item.flagged {
        return None;
    }
    // A server that predates flag reasons sends none with a flag: the window says so rather
    // than guess one.
    let Some(reasons) = &item.flag else {
        return Some(FlagView {
            measures: Vec::new(),
            face_mismatch: false,
            face_unchecked: false,
            reasons_known: false,
        });
    };
    Some(FlagView {
        measures: reasons
            .measures
            .iter()
            .map(|m| FlagMeasureView {
                id: m.code().to_string(),
                label_zh: m.label_zh().to_string(),
                label_en: m.label_en().to_string(),
            })
            .collect(),
        face_mismatch: reasons.face_mismatch,
        face_unchecked: reasons.face_unchecked,
        reasons_known: true,
    })
}

fn queue_row(r: CachedRow, now_ms: i64) -> QueueRow {
    QueueRow {
        item_id: r.item_id,
        student_name: r.student_name,
        student_no: r.student_no,
        school: r.school,
        college: r.college,
        submitted_at: rfc3339(r.submitted_ms),
        // Times come from the server: saturate rather than overflow on extreme ones.
        waiting_minutes: now_ms.saturating_sub(r.submitted_ms).max(0) / 60_000,
        status: r.status,
        flagged: r.flagged,
        attempt_no: u32::try_from(r.round).unwrap_or(0),
        hint_verdict: r.hint_verdict,
    }
}

pub async fn queue_page(cache: &Cache, filter: &QueueFilter, now_ms: i64) -> DeskResult<QueuePage> {
    let (rows, matching) = cache.list(filter, now_ms).await?;
    Ok(QueuePage {
        rows: rows.into_iter().map(|r| queue_row(r, now_ms)).collect(),
        counts: cache.counts().await?,
        matching,
        schools: cache.schools().await?,
    })
}

fn decision_kind_str(d: &DecisionInput) -> (&'static str, Vec<String>, Option<String>) {
    match d {
        DecisionInput::Approve => ("approve", Vec::new(), None),
        DecisionInput::Reject { reasons, comment } => ("reject", reasons.clone(), comment.clone()),
    }
}

pub async fn item_view(cache: &Cache, item_id: &str) -> DeskResult<ItemView> {
    let row = cache
        .row(item_id)
        .await?
        .ok_or_else(|| DeskError::ItemNotFound(item_id.to_string()))?;
    let detail = cache
        .detail(item_id)
        .await?
        .ok_or_else(|| DeskError::ItemNotFound(item_id.to_string()))?;
    let item: ReviewItem = serde_json::from_str(&detail).map_err(DeskError::data)?;
    let have = cache.image_kinds(item_id).await?;
    let images = item
        .images
        .iter()
        .filter(|i| have.iter().any(|k| k == i.kind.as_str()))
        .map(|i| ImageRef {
            kind: view_kind(i.kind),
            path: image_path(item_id, i.kind),
        })
        .collect();
    let history = item
        .decisions
        .iter()
        .map(|d| HistoryEntry {
            attempt_no: u32::try_from(d.round).unwrap_or(0),
            submitted_at: None,
            outcome: Some(
                if matches!(
                    d.kind,
                    DecisionKind::Approve | DecisionKind::OverrideApprove
                ) {
                    "approved"
                } else {
                    "rejected"
                }
                .to_string(),
            ),
            reasons: d.reasons.clone(),
            comment: d.comment.clone(),
            reviewer: Some(match d.kind {
                DecisionKind::OverrideApprove | DecisionKind::OverrideReject => {
                    format!("{}（主管改判 override）", d.reviewer_name)
                }
                _ => d.reviewer_name.clone(),
            }),
            decided_at: Some(rfc3339(d.decided_at_ms)),
        })
        .collect();
    let local_decision = cache.decision_for(item_id).await?.map(|o| {
        let (kind, reasons, comment) = decision_kind_str(&o.decision);
        LocalDecisionView {
            decision_id: o.decision_id,
            kind: kind.to_string(),
            reasons,
            comment,
            decided_at: rfc3339(o.decided_ms),
            synced: o.state == "synced",
        }
    });
    let s = &item.student;
    Ok(ItemView {
        item_id: item_id.to_string(),
        status: row.status,
        lease_until: row.lease_until_ms.map(rfc3339),
        submitted_at: rfc3339(row.submitted_ms),
        attempt_no: u32::try_from(item.attempts.len().max(1)).unwrap_or(1),
        flagged: item.flagged,
        flag: flag_view(&item),
        face_match_failures: u32::try_from(item.face_match.failures).unwrap_or(0),
        student: StudentView {
            name: s.name.clone(),
            id_number_masked: s.id_number_masked.clone(),
            student_no: s.student_no.clone(),
            school: s.school_name.clone(),
            college: s.college.clone(),
            major: s.major.clone(),
            level: s.level.clone(),
            graduation_year: u16::try_from(s.graduation_year).unwrap_or(0),
        },
        images,
        guide: guide(&item.spec),
        history,
        local_decision,
    })
}

pub async fn conflict_views(cache: &Cache) -> DeskResult<Vec<ConflictView>> {
    Ok(cache
        .conflicts()
        .await?
        .into_iter()
        .map(|c| {
            let (kind, reasons, _) =
                c.decision
                    .as_ref()
                    .map(decision_kind_str)
                    .unwrap_or(("approve", Vec::new(), None));
            ConflictView {
                id: c.id,
                item_id: c.item_id,
                student_name: c.student_name,
                kind: c.kind,
                code: c.code,
                message_zh: c.message_zh,
                message_en: c.message_en,
                decision_kind: kind.to_string(),
                reasons,
                created_at: rfc3339(c.created_ms),
            }
        })
        .collect())
}

/// Reasons must come from the catalogue; `other` needs a comment (`domain::reasons`).
pub fn checked_decision(d: DecisionInput) -> DeskResult<DecisionInput> {
    match d {
        DecisionInput::Approve => Ok(DecisionInput::Approve),
        DecisionInput::Reject { reasons, comment } => {
            let r = Rejection::parse(&reasons, comment.as_deref())
                .map_err(|e| DeskError::invalid(e.message_zh(), e.message_en()))?;
            Ok(DecisionInput::Reject {
                reasons: r.reasons.iter().map(|r| r.code().to_string()).collect(),
                comment: r.comment,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use gradphoto_api::review::{FaceMatchSummary, FlagReasons, ReviewStudent};
    use gradphoto_domain::measures::MeasureId;
    use gradphoto_domain::state::CaseState;

    use super::*;

    fn item(flagged: bool, flag: Option<FlagReasons>) -> ReviewItem {
        ReviewItem {
            case_id: "c1".into(),
            state: CaseState::InReview,
            round: 1,
            flagged,
            flag,
            submitted_at_ms: Some(0),
            lease: None,
            student: ReviewStudent {
                name: "张三".into(),
                id_number_masked: "110105********123X".into(),
                student_no: "S1".into(),
                school_id: "s".into(),
                school_name: "示范大学".into(),
                college: "理学院".into(),
                major: "数学".into(),
                level: "本科".into(),
                graduation_year: 2025,
            },
            attempts: vec![],
            decisions: vec![],
            images: vec![],
            report: None,
            face_match: FaceMatchSummary {
                same_person: Some(false),
                distance: None,
                failures: 3,
            },
            spec: PhotoSpec::chsi(),
        }
    }

    #[test]
    fn a_flag_names_each_check_with_its_labels() {
        let flagged = item(
            true,
            Some(FlagReasons {
                measures: vec![MeasureId::Sharpness, MeasureId::TintedGlasses],
                face_mismatch: true,
                face_unchecked: false,
            }),
        );
        let view = flag_view(&flagged).expect("flagged");
        assert!(view.reasons_known && view.face_mismatch);
        let labels: Vec<(&str, &str, &str)> = view
            .measures
            .iter()
            .map(|m| (m.id.as_str(), m.label_zh.as_str(), m.label_en.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("sharpness", "清晰度", "Sharpness"),
                (
                    "tinted_glasses",
                    "有色眼镜或反光",
                    "Tinted glasses or glare"
                ),
            ]
        );
    }

    #[test]
    fn unflagged_items_have_no_flag_and_unknown_reasons_are_not_guessed() {
        assert_eq!(flag_view(&item(false, None)), None);
        // A server that predates flag reasons: flagged, but nothing named.
        assert_eq!(
            flag_view(&item(true, None)),
            Some(FlagView {
                measures: vec![],
                face_mismatch: false,
                face_unchecked: false,
                reasons_known: false,
            })
        );
        // A cached record from such a server still reads.
        let mut json = serde_json::to_value(item(true, None)).expect("serialize");
        json.as_object_mut().expect("object").remove("flag");
        let old: ReviewItem = serde_json::from_value(json).expect("reads without `flag`");
        assert_eq!(old.flag, None);
    }

    /// Found by fuzzing (tests/fuzz_cache.rs): a queue row with an extreme submission time from
    /// the server overflowed the waiting time (a panic in debug builds, nonsense in release).
    #[test]
    fn waiting_time_of_an_extreme_submission_time_does_not_overflow() {
        let row = |submitted_ms| CachedRow {
            item_id: "c1".into(),
            student_name: "张三".into(),
            student_no: "S1".into(),
            school: "示范大学".into(),
            college: "理学院".into(),
            submitted_ms,
            round: 1,
            flagged: false,
            status: crate::view::RowStatus::Pending,
            lease_until_ms: None,
            hint_verdict: None,
        };
        assert_eq!(
            queue_row(row(i64::MIN), i64::MAX).waiting_minutes,
            i64::MAX / 60_000
        );
        assert_eq!(queue_row(row(i64::MAX), i64::MIN).waiting_minutes, 0);
        assert_eq!(queue_row(row(0), 120_000).waiting_minutes, 2);
    }
}
