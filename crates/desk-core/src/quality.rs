//! Supervisor mode's quality work: the re-review samples (decided blind, then shown beside the
//! first decision), how each reviewer's samples fared, overrides (at once, or waiting for a
//! second supervisor) and the requests other supervisors wait on. Read from the server each
//! time, never cached.

use gradphoto_api::quality::{
    OverrideOutcome, OverrideRequestView, OverrideStatus, RereviewItem, RereviewQuery,
    RereviewState,
};
use gradphoto_api::review::DecisionKind;

use crate::account::Signed;
use crate::audit::{attempt_view, decision_view, kind_code, local_time};
use crate::error::{DeskError, DeskResult};
use crate::view::{
    AgreementView, DecisionInput, OverrideRequestRowView, OverrideResultView, RereviewFilterView,
    RereviewPageView, RereviewView, TimelineDecisionView,
};

/// Samples per page.
pub const PAGE_ROWS: u32 = 30;

fn sample_view(i: RereviewItem) -> RereviewView {
    let second = i.second.map(|s| TimelineDecisionView {
        kind: kind_code(s.kind),
        reasons: s.reasons,
        comment: s.comment,
        reviewer: s.supervisor_name,
        round: i.attempt.round,
        at: local_time(s.decided_at_ms),
    });
    RereviewView {
        rereview_id: i.rereview_id,
        case_id: i.case_id,
        name: i.student.name,
        student_no: i.student.student_no,
        id_number_masked: i.student.id_number_masked,
        sampled_at: local_time(i.sampled_at_ms),
        open: i.state == RereviewState::Open,
        attempt: attempt_view(i.attempt),
        reviewer: i.reviewer_name,
        first: i.first.map(decision_view),
        second,
        agrees: i.agrees,
    }
}

/// One page of samples: open ones (oldest first) or done ones (newest first).
pub async fn page(s: &Signed, filter: &RereviewFilterView) -> DeskResult<RereviewPageView> {
    let query = RereviewQuery {
        state: Some(if filter.done {
            RereviewState::Done
        } else {
            RereviewState::Open
        }),
        reviewer: filter.reviewer_id.clone().filter(|r| !r.is_empty()),
        disagreements: filter.disagreements.then_some(true),
        limit: Some(PAGE_ROWS),
        cursor: filter.cursor.clone(),
    };
    let page = s.client.rereviews(&query).await?;
    Ok(RereviewPageView {
        items: page.items.into_iter().map(sample_view).collect(),
        next_cursor: page.next_cursor,
    })
}

/// The supervisor's own verdict on a sample; the answer shows the first decision beside it.
pub async fn decide(s: &Signed, id: &str, decision: DecisionInput) -> DeskResult<RereviewView> {
    let decision = crate::present::checked_decision(decision)?;
    Ok(sample_view(
        s.client.rereview_decide(id, decision.to_verdict()).await?,
    ))
}

/// Per reviewer: sampled, re-reviewed, disagreements and their share, most disagreements first.
pub async fn agreement(s: &Signed) -> DeskResult<Vec<AgreementView>> {
    Ok(s.client
        .rereview_agreement()
        .await?
        .into_iter()
        .map(|a| AgreementView {
            disagreement_rate: if a.rereviewed > 0 {
                a.disagreements as f64 / a.rereviewed as f64
            } else {
                0.0
            },
            reviewer_id: a.reviewer_id,
            reviewer: a.reviewer_name,
            sampled: a.sampled,
            rereviewed: a.rereviewed,
            disagreements: a.disagreements,
        })
        .collect())
}

fn status_code(s: OverrideStatus) -> String {
    match s {
        OverrideStatus::Pending => "pending",
        OverrideStatus::Confirmed => "confirmed",
        OverrideStatus::Declined => "declined",
    }
    .to_string()
}

fn request_view(s: &Signed, r: OverrideRequestView) -> OverrideRequestRowView {
    OverrideRequestRowView {
        mine: r.requested_by_id == s.account.user_id,
        request_id: r.request_id,
        case_id: r.case_id,
        name: r.student.name,
        student_no: r.student.student_no,
        approve: matches!(
            r.kind,
            DecisionKind::OverrideApprove | DecisionKind::Approve
        ),
        reasons: r.reasons,
        comment: r.comment,
        override_comment: r.override_comment,
        requested_by: r.requested_by_name,
        requested_at: local_time(r.requested_at_ms),
        status: status_code(r.status),
        answered_by: r.answered_by_name,
        answer_comment: r.answer_comment,
        answered_at: r.answered_at_ms.map(local_time),
    }
}

/// A supervisor's override of a case, with the reason for it: applied at once, or waiting
/// for another supervisor where the school asks for one. `decision_id` is the client's, so a
/// retry after a lost answer is the same override.
pub async fn override_case(
    s: &Signed,
    case_id: &str,
    decision_id: &str,
    decision: DecisionInput,
    reason: &str,
) -> DeskResult<OverrideResultView> {
    let decision = crate::present::checked_decision(decision)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DeskError::invalid(
            "改判时请说明理由。",
            "Explain why you override the decision.",
        ));
    }
    Ok(
        match s
            .client
            .override_decision(case_id, decision_id, decision.to_verdict(), reason)
            .await?
        {
            OverrideOutcome::Applied { decision } => OverrideResultView {
                applied: true,
                decision: Some(decision_view(decision)),
                request: None,
            },
            OverrideOutcome::AwaitingConfirmation { request } => OverrideResultView {
                applied: false,
                decision: None,
                request: Some(request_view(s, *request)),
            },
        },
    )
}

/// Override requests waiting for a second supervisor (or, with `answered`, the answered ones).
pub async fn requests(s: &Signed, answered: bool) -> DeskResult<Vec<OverrideRequestRowView>> {
    let mut out = Vec::new();
    let statuses: &[OverrideStatus] = if answered {
        &[OverrideStatus::Confirmed, OverrideStatus::Declined]
    } else {
        &[OverrideStatus::Pending]
    };
    for status in statuses {
        out.extend(
            s.client
                .override_requests(Some(*status))
                .await?
                .into_iter()
                .map(|r| request_view(s, r)),
        );
    }
    Ok(out)
}

pub async fn confirm(s: &Signed, request_id: &str) -> DeskResult<OverrideRequestRowView> {
    let r = s.client.confirm_override(request_id).await?;
    Ok(request_view(s, r))
}

pub async fn decline(
    s: &Signed,
    request_id: &str,
    comment: &str,
) -> DeskResult<OverrideRequestRowView> {
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(DeskError::invalid(
            "驳回改判申请时请说明理由。",
            "Explain why you decline the override.",
        ));
    }
    let r = s.client.decline_override(request_id, comment).await?;
    Ok(request_view(s, r))
}
