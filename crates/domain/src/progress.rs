//! Collection progress as a school's staff follow it: each student is at exactly one stage,
//! from "no code yet" to "published". The stages refine the case state with two facts the
//! state does not carry (whether a code was handed out, whether a paid student has taken a
//! photo) because those are the two questions staff chase students about.

use serde::{Deserialize, Serialize};

use crate::state::CaseState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// On the roster, no active code issued yet.
    NoCode,
    /// A code was issued; nobody has opened it.
    CodeNotOpened,
    /// Opened; the identity check is not done.
    Opened,
    IdentityChecked,
    /// Record confirmed; not paid yet.
    RecordConfirmed,
    /// Paid (or free); no photo taken in this round.
    Paid,
    /// A photo was taken in this round but not submitted.
    PhotoTaken,
    /// Submitted, waiting for a reviewer.
    Submitted,
    /// A reviewer holds it.
    InReview,
    /// Not approved; the student has to retake.
    Rejected,
    Approved,
    /// Handed to the registry (上网中).
    Exported,
    /// Published by the registry (上网成功).
    Published,
}

impl Stage {
    pub const ALL: [Stage; 13] = [
        Stage::NoCode,
        Stage::CodeNotOpened,
        Stage::Opened,
        Stage::IdentityChecked,
        Stage::RecordConfirmed,
        Stage::Paid,
        Stage::PhotoTaken,
        Stage::Submitted,
        Stage::InReview,
        Stage::Rejected,
        Stage::Approved,
        Stage::Exported,
        Stage::Published,
    ];

    /// The stage of a case in `state`; `has_code` and `has_photo` (a photo in the current
    /// round) only matter for the states they refine.
    pub fn of(state: CaseState, has_code: bool, has_photo: bool) -> Stage {
        match state {
            CaseState::Invited if has_code => Stage::CodeNotOpened,
            CaseState::Invited => Stage::NoCode,
            CaseState::Claimed => Stage::Opened,
            CaseState::IdentityVerified => Stage::IdentityChecked,
            CaseState::RecordConfirmed => Stage::RecordConfirmed,
            CaseState::Ready if has_photo => Stage::PhotoTaken,
            CaseState::Ready => Stage::Paid,
            CaseState::PendingReview => Stage::Submitted,
            CaseState::InReview => Stage::InReview,
            CaseState::Rejected => Stage::Rejected,
            CaseState::Approved => Stage::Approved,
            CaseState::Exported => Stage::Exported,
            CaseState::Published => Stage::Published,
        }
    }

    /// Position in [`Stage::ALL`] (the journey's order).
    pub fn index(self) -> usize {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn code(self) -> &'static str {
        match self {
            Stage::NoCode => "no_code",
            Stage::CodeNotOpened => "code_not_opened",
            Stage::Opened => "opened",
            Stage::IdentityChecked => "identity_checked",
            Stage::RecordConfirmed => "record_confirmed",
            Stage::Paid => "paid",
            Stage::PhotoTaken => "photo_taken",
            Stage::Submitted => "submitted",
            Stage::InReview => "in_review",
            Stage::Rejected => "rejected",
            Stage::Approved => "approved",
            Stage::Exported => "exported",
            Stage::Published => "published",
        }
    }

    pub fn from_code(code: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Stage::NoCode => "未发采集码",
            Stage::CodeNotOpened => "未打开采集码",
            Stage::Opened => "已打开·待核验身份",
            Stage::IdentityChecked => "已核验身份",
            Stage::RecordConfirmed => "已确认学籍·待支付",
            Stage::Paid => "已支付·未拍照",
            Stage::PhotoTaken => "已拍照·未提交",
            Stage::Submitted => "已提交·待审核",
            Stage::InReview => "审核中",
            Stage::Rejected => "未通过·待重拍",
            Stage::Approved => "已通过",
            Stage::Exported => "已报送（上网中）",
            Stage::Published => "上网成功",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Stage::NoCode => "No code issued",
            Stage::CodeNotOpened => "Code not opened",
            Stage::Opened => "Opened, identity not checked",
            Stage::IdentityChecked => "Identity checked",
            Stage::RecordConfirmed => "Record confirmed, not paid",
            Stage::Paid => "Paid, no photo yet",
            Stage::PhotoTaken => "Photo taken, not submitted",
            Stage::Submitted => "Submitted, waiting for review",
            Stage::InReview => "In review",
            Stage::Rejected => "Rejected, waiting for a retake",
            Stage::Approved => "Approved",
            Stage::Exported => "Handed to the registry",
            Stage::Published => "Published",
        }
    }

    /// Whether a student at this stage still has something to do before the deadline (the
    /// list staff send reminders to).
    pub fn student_to_act(self) -> bool {
        matches!(
            self,
            Stage::CodeNotOpened
                | Stage::Opened
                | Stage::IdentityChecked
                | Stage::RecordConfirmed
                | Stage::Paid
                | Stage::PhotoTaken
                | Stage::Rejected
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_state_has_a_stage_and_codes_round_trip() {
        for state in CaseState::ALL {
            for (code, photo) in [(false, false), (true, false), (true, true)] {
                let stage = Stage::of(state, code, photo);
                assert_eq!(Stage::from_code(stage.code()), Some(stage));
                assert_eq!(Stage::ALL[stage.index()], stage);
            }
        }
        let mut codes: Vec<_> = Stage::ALL.iter().map(|s| s.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), Stage::ALL.len());
    }

    #[test]
    fn codes_and_photos_refine_only_the_states_they_belong_to() {
        assert_eq!(Stage::of(CaseState::Invited, false, false), Stage::NoCode);
        assert_eq!(
            Stage::of(CaseState::Invited, true, false),
            Stage::CodeNotOpened
        );
        assert_eq!(Stage::of(CaseState::Ready, true, false), Stage::Paid);
        assert_eq!(Stage::of(CaseState::Ready, true, true), Stage::PhotoTaken);
        assert_eq!(Stage::of(CaseState::Approved, true, true), Stage::Approved);
        assert_eq!(Stage::of(CaseState::Claimed, true, true), Stage::Opened);
    }
}
