//! The size bounds of every request body and query, from `domain::text`: the server checks
//! them before it uses or stores anything a request carries.

use gradphoto_domain::text::{self, check_items, Limit, TextError};

use crate::admin::{
    CodesIssueRequest, InviteRequest, NewUserRequest, PolicyUpdate, ProgressQuery, StaffChange,
};
use crate::audit::{AuditQuery, RevealRequest};
use crate::common::LoginRequest;
use crate::quality::{DeclineRequest, OverrideQuery, RereviewQuery, RereviewRequest};
use crate::review::{self, DecisionRequest, OverrideRequest, QueueQuery, SensitiveQuery, Verdict};
use crate::student::{self, ConsentRequest, SubmitRequest};
use crate::sync::SyncQuery;

/// A request whose text fields are bounded.
pub trait Bounded {
    fn check_bounds(&self) -> Result<(), TextError>;
}

const DECISION_ID: Limit = text::IDENTIFIER.named("decision_id");
const CASE_ID: Limit = text::IDENTIFIER.named("case_id");
const ATTEMPT_ID: Limit = text::IDENTIFIER.named("attempt_id");
const SCHOOL: Limit = text::LABEL.named("school");
const SCHOOL_ID: Limit = text::IDENTIFIER.named("school_id");
const STUDENT_NO: Limit = text::LABEL.named("student_no");
const VERSION: Limit = text::LABEL.named("version");
const REASON: Limit = text::LABEL.named("reasons");
/// `<submitted_at>.<case id>`: a number, a dot and an identifier.
const QUEUE_CURSOR: Limit = Limit::new("cursor", 20 + 1 + 64);
const OVERRIDE_COMMENT: Limit = text::COMMENT.named("override_comment");

impl Bounded for LoginRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        text::USERNAME.check(&self.username)?;
        text::PASSWORD.check(&self.password)
    }
}

impl Bounded for NewUserRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        text::USERNAME.check(&self.username)?;
        text::DISPLAY_NAME.check_opt(self.display_name.as_deref())?;
        SCHOOL_ID.check_opt(self.school_id.as_deref())
    }
}

/// Holidays a school lists in its policy: a year's worth, and more, is plenty.
pub const MAX_HOLIDAYS: usize = 400;

impl Bounded for PolicyUpdate {
    fn check_bounds(&self) -> Result<(), TextError> {
        let p = &self.policy;
        text::LABEL
            .named("privacy_version")
            .check(&p.privacy_version)?;
        text::LABEL.named("support_phone").check(&p.support_phone)?;
        text::LABEL.named("support_hours").check(&p.support_hours)?;
        text::LABEL
            .named("submission_deadline")
            .check(&p.submission_deadline)?;
        for text in [&p.privacy_text_zh, &p.privacy_text_en] {
            text::AGREEMENT.check(text)?;
        }
        check_items("holidays", &p.holidays, MAX_HOLIDAYS)?;
        for day in &p.holidays {
            text::LABEL.named("holidays").check(day)?;
        }
        Ok(())
    }
}

impl Bounded for StaffChange {
    fn check_bounds(&self) -> Result<(), TextError> {
        // A flag and a role: nothing of unbounded size.
        Ok(())
    }
}

impl Bounded for ProgressQuery {
    fn check_bounds(&self) -> Result<(), TextError> {
        text::IDENTIFIER
            .named("stage")
            .check_opt(self.stage.as_deref())?;
        text::LABEL
            .named("college")
            .check_opt(self.college.as_deref())?;
        text::LABEL
            .named("major")
            .check_opt(self.major.as_deref())?;
        text::LABEL
            .named("level")
            .check_opt(self.level.as_deref())?;
        STUDENT_NO.named("after").check_opt(self.after.as_deref())
    }
}

impl Bounded for CodesIssueRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        STUDENT_NO.check_opt(self.student_no.as_deref())
    }
}

impl Bounded for InviteRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        STUDENT_NO.check_opt(self.student_no.as_deref())?;
        SCHOOL.check_opt(self.school.as_deref())
    }
}

impl Bounded for AuditQuery {
    fn check_bounds(&self) -> Result<(), TextError> {
        // A name, a student number or an ID number: the longest of their bounds.
        text::LABEL
            .named("student")
            .check_opt(self.student.as_deref())?;
        text::IDENTIFIER
            .named("actor")
            .check_opt(self.actor.as_deref())?;
        text::IDENTIFIER
            .named("action")
            .check_opt(self.action.as_deref())?;
        SCHOOL_ID.named("school").check_opt(self.school.as_deref())
    }
}

impl Bounded for review::StatsQuery {
    fn check_bounds(&self) -> Result<(), TextError> {
        // Dates are checked for their form by the handler; the bound keeps junk short.
        text::IDENTIFIER
            .named("from")
            .check_opt(self.from.as_deref())?;
        text::IDENTIFIER.named("to").check_opt(self.to.as_deref())?;
        SCHOOL_ID
            .named("school")
            .check_opt(self.school.as_deref())?;
        text::LABEL
            .named("college")
            .check_opt(self.college.as_deref())
    }
}

impl Bounded for RevealRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        text::COMMENT.named("reason").check(&self.reason)
    }
}

impl Bounded for SyncQuery {
    fn check_bounds(&self) -> Result<(), TextError> {
        Ok(())
    }
}

impl Bounded for QueueQuery {
    fn check_bounds(&self) -> Result<(), TextError> {
        SCHOOL_ID
            .named("school")
            .check_opt(self.school.as_deref())?;
        QUEUE_CURSOR.check_opt(self.cursor.as_deref())
    }
}

impl Bounded for SensitiveQuery {
    fn check_bounds(&self) -> Result<(), TextError> {
        text::COMMENT
            .named("reason")
            .check_opt(self.reason.as_deref())
    }
}

impl Bounded for review::ClaimRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        CASE_ID.check_opt(self.case_id.as_deref())?;
        SCHOOL_ID.named("school").check_opt(self.school.as_deref())
    }
}

impl Bounded for Verdict {
    fn check_bounds(&self) -> Result<(), TextError> {
        match self {
            Verdict::Approve => Ok(()),
            Verdict::Reject { reasons, comment } => {
                check_items("reasons", reasons, text::MAX_REASONS)?;
                for r in reasons {
                    REASON.check(r)?;
                }
                text::COMMENT.check_opt(comment.as_deref())
            }
        }
    }
}

impl Bounded for DecisionRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        DECISION_ID.check(&self.decision_id)?;
        self.verdict.check_bounds()
    }
}

impl Bounded for RereviewQuery {
    fn check_bounds(&self) -> Result<(), TextError> {
        text::IDENTIFIER
            .named("reviewer")
            .check_opt(self.reviewer.as_deref())?;
        QUEUE_CURSOR.check_opt(self.cursor.as_deref())
    }
}

impl Bounded for RereviewRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        self.verdict.check_bounds()
    }
}

impl Bounded for OverrideQuery {
    fn check_bounds(&self) -> Result<(), TextError> {
        Ok(())
    }
}

impl Bounded for DeclineRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        text::COMMENT.named("comment").check(&self.comment)
    }
}

impl Bounded for OverrideRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        DECISION_ID.check(&self.decision_id)?;
        self.verdict.check_bounds()?;
        OVERRIDE_COMMENT.check(&self.override_comment)
    }
}

impl Bounded for student::ClaimRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        text::CODE.check(&self.code)
    }
}

impl Bounded for ConsentRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        VERSION.check(&self.version)
    }
}

impl Bounded for SubmitRequest {
    fn check_bounds(&self) -> Result<(), TextError> {
        ATTEMPT_ID.check(&self.attempt_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_username_is_refused_by_name() {
        let req = LoginRequest {
            username: "a".repeat(65),
            password: "x".into(),
        };
        assert_eq!(req.check_bounds().unwrap_err().field, "username");
    }

    #[test]
    fn a_rejection_is_bounded_in_reasons_and_comment() {
        let many = Verdict::Reject {
            reasons: vec!["other".into(); 17],
            comment: None,
        };
        assert_eq!(many.check_bounds().unwrap_err().field, "reasons");
        let long = Verdict::Reject {
            reasons: vec!["other".into()],
            comment: Some("长".repeat(1001)),
        };
        assert_eq!(long.check_bounds().unwrap_err().field, "comment");
    }

    #[test]
    fn a_queue_cursor_is_bounded_in_length_and_characters() {
        let cursor = |c: String| QueueQuery {
            cursor: Some(c),
            ..QueueQuery::default()
        };
        let case_id = "c".repeat(64);
        assert!(cursor(format!("{}.{case_id}", i64::MIN))
            .check_bounds()
            .is_ok());
        for bad in [
            format!("1.{}", "c".repeat(200)),
            "1.a\u{0}b".to_string(),
            "1.a\u{200B}".to_string(),
        ] {
            assert_eq!(cursor(bad).check_bounds().unwrap_err().field, "cursor");
        }
    }
}
