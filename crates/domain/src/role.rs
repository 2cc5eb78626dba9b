//! Who is acting.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Localized;

/// The four kinds of account. Every endpoint checks the role as well as resource ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Student,
    Reviewer,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Student, Role::Reviewer, Role::Supervisor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Reviewer => "reviewer",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Student => "学生",
            Role::Reviewer => "审核员",
            Role::Supervisor => "审核主管",
            Role::Admin => "管理员",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Student => "Student",
            Role::Reviewer => "Reviewer",
            Role::Supervisor => "Supervisor",
            Role::Admin => "Administrator",
        }
    }

    /// Staff may review photos; supervisors review as well as oversee.
    pub fn can_review(self) -> bool {
        matches!(self, Role::Reviewer | Role::Supervisor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role: {0:?}")]
pub struct UnknownRole(pub String);

impl Localized for UnknownRole {
    fn code(&self) -> &'static str {
        "unknown_role"
    }
    fn message_zh(&self) -> String {
        format!("未知的角色：{}", self.0)
    }
    fn message_en(&self) -> String {
        format!("Unknown role: {}", self.0)
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trip_and_serde() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), r);
        }
        assert_eq!(" Admin ".parse::<Role>().unwrap(), Role::Admin);
        let err = "root".parse::<Role>().unwrap_err();
        assert_eq!(err.code(), "unknown_role");
    }

    #[test]
    fn only_reviewers_and_supervisors_review() {
        assert!(Role::Reviewer.can_review());
        assert!(Role::Supervisor.can_review());
        assert!(!Role::Student.can_review());
        assert!(!Role::Admin.can_review());
    }
}
