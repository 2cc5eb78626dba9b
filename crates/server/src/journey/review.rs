//! The review side's decisions: a reviewer's on an item they hold, a supervisor's override
//! (at once, or waiting for a second supervisor).
//! The verdict's checks (reasons, comment, decision id) run here once for every caller.

use gradphoto_api::review::{DecisionRecord, Verdict};
use gradphoto_domain::audit::Actor;

use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::store::review::overrides::Outcome;
use crate::store::review::{self, DecisionInput};
use crate::AppState;

/// Who decides on which item, under which client decision id (the same id sent again is the
/// same decision), and what the decider may see.
#[derive(Debug, Clone, Copy)]
pub struct Decider<'a> {
    pub actor: &'a Actor,
    pub case_id: &'a str,
    pub decision_id: &'a str,
    /// The decider's school, for staff bound to one.
    pub visible_school: Option<&'a str>,
}

/// A reviewer's decision on an item they hold.
pub async fn decide(
    state: &AppState,
    who: Decider<'_>,
    verdict: &Verdict,
) -> AppResult<DecisionRecord> {
    Ok(review::decide(&state.store, checked(who, verdict, None)?).await?)
}

/// A supervisor's override of a decision (or of a pending item), with the reason for it:
/// carried out at once, or kept for a second supervisor where the school's policy asks.
pub async fn override_decision(
    state: &AppState,
    who: Decider<'_>,
    verdict: &Verdict,
    override_comment: &str,
) -> AppResult<Outcome> {
    let override_comment = review::check_comment(Some(override_comment), "override_comment")?
        .ok_or_else(|| {
            AppError::from(ErrorCode::OverrideCommentRequired).with_field("override_comment")
        })?;
    let input = checked(who, verdict, Some(override_comment))?;
    Ok(review::overrides::request_or_apply(&state.store, input).await?)
}

/// The store's input for a decision, once its id and verdict pass their checks.
fn checked<'a>(
    who: Decider<'a>,
    verdict: &Verdict,
    override_comment: Option<String>,
) -> AppResult<DecisionInput<'a>> {
    review::check_decision_id(who.decision_id)?;
    Ok(DecisionInput {
        actor: who.actor,
        case_id: who.case_id,
        decision_id: who.decision_id,
        verdict: review::check_verdict(verdict)?,
        override_comment,
        visible_school: who.visible_school,
    })
}
