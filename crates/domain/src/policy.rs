//! A school's configurable rules for the student journey.

use serde::{Deserialize, Serialize};

use crate::spec::{Background, PhotoSpec};
use crate::Localized;

/// The file-size window a school may set for its photos, in KiB: a standardized 480×640 JPEG
/// of a detailed portrait needs about 30 KiB at the lowest quality the encoder may use, and
/// the window must leave room between its ends for the encoder to land in.
pub const PHOTO_KB_MIN: u32 = 10;
pub const PHOTO_KB_MAX: u32 = 500;
pub const PHOTO_MAX_KB_AT_LEAST: u32 = 30;
pub const PHOTO_KB_WINDOW_AT_LEAST: u32 = 10;

/// Per-school policy. `Default` gives the usual settings, but support contact fields are empty
/// on purpose: a deployment must fill them in, and [`SchoolPolicy::validate`] refuses a policy
/// without them (students must always see a real phone number and hours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchoolPolicy {
    /// Photo fee in fen (1/100 CNY); 0 means the school pays (the `waived` provider).
    pub fee_cents: i64,
    /// Whether a paid order also covers retakes after a rejection.
    pub retakes_free: bool,
    /// Upload attempts allowed per submission round.
    pub max_attempts_per_round: u32,
    /// Whether students may choose a photo from the album instead of capturing one.
    pub album_allowed: bool,
    /// Failed face comparisons after which the student may submit anyway (flagged).
    pub face_match_failures_before_flag: u32,
    /// Attempts of a round failing the same soft photo check after which the student may
    /// submit anyway (flagged); hard failures always block (see [`crate::gate`]).
    pub check_failures_before_flag: u32,
    /// Version of the privacy agreement students must accept.
    pub privacy_version: String,
    pub support_phone: String,
    pub support_hours: String,
    /// Days after export after which originals and ID card images are purged.
    pub retention_days: u32,
    /// Working days within which a submission should be decided (the review SLA), counted
    /// as [`crate::calendar`] counts them; statistics list the submissions past it.
    pub review_sla_working_days: u32,
    /// Days (`YYYY-MM-DD`, China Standard Time) that are not working days besides weekends:
    /// public holidays and the school's own closures.
    pub holidays: Vec<String>,
    /// Share of each reviewer's decisions, in percent, sampled for a supervisor to decide
    /// again without seeing the first decision (quality sampling). 0 turns sampling off.
    pub rereview_percent: u32,
    /// Whether a supervisor's override waits for a second supervisor to confirm it.
    pub override_needs_second_supervisor: bool,
    /// Background of the school's standardized photos (from the allowed set).
    pub photo_background: Background,
    /// File-size window of the school's standardized photos, in KiB.
    pub photo_min_kb: u32,
    pub photo_max_kb: u32,
    /// Last day (`YYYY-MM-DD`, China Standard Time) students should submit their photo; empty
    /// when the school has not set one.
    pub submission_deadline: String,
    /// The privacy agreement students accept, in Chinese and in English, paragraphs separated
    /// by a blank line; empty: the product's standard agreement. A change of either text
    /// needs a new `privacy_version` ([`SchoolPolicy::check_change`]), so that every consent
    /// names the text it accepted.
    pub privacy_text_zh: String,
    pub privacy_text_en: String,
}

/// The longest privacy agreement a policy holds, in characters per language: a few pages.
pub const PRIVACY_TEXT_MAX_CHARS: usize = 20_000;

impl Default for SchoolPolicy {
    fn default() -> Self {
        SchoolPolicy {
            fee_cents: 0,
            retakes_free: true,
            max_attempts_per_round: 10,
            album_allowed: true,
            face_match_failures_before_flag: 3,
            check_failures_before_flag: 3,
            privacy_version: "2025-09".to_string(),
            support_phone: String::new(),
            support_hours: String::new(),
            retention_days: 180,
            review_sla_working_days: 3,
            holidays: Vec::new(),
            rereview_percent: 5,
            override_needs_second_supervisor: false,
            photo_background: Background::LightBlue,
            photo_min_kb: 20,
            photo_max_kb: 40,
            submission_deadline: String::new(),
            privacy_text_zh: String::new(),
            privacy_text_en: String::new(),
        }
    }
}

/// The first problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("fee must not be negative (got {0} fen)")]
    NegativeFee(i64),
    #[error("max_attempts_per_round must be at least 1")]
    NoAttempts,
    #[error("face_match_failures_before_flag must be at least 1")]
    NoFaceMatchFailures,
    #[error("check_failures_before_flag must be at least 1")]
    NoCheckFailures,
    #[error("privacy_version must not be empty")]
    MissingPrivacyVersion,
    #[error("support_phone must not be empty")]
    MissingSupportPhone,
    #[error("support_hours must not be empty")]
    MissingSupportHours,
    #[error("retention_days must be at least 1")]
    NoRetention,
    #[error("review_sla_working_days must be at least 1")]
    NoReviewSla,
    #[error("holiday {0:?} is not a YYYY-MM-DD date")]
    BadHoliday(String),
    #[error("rereview_percent must be between 0 and 100 (got {0})")]
    RereviewPercentOutOfRange(u32),
    #[error("photo size window {min_kb}–{max_kb} KiB is not allowed")]
    PhotoSizeWindow { min_kb: u32, max_kb: u32 },
    #[error("submission deadline {0:?} is not a YYYY-MM-DD date")]
    BadDeadline(String),
    #[error("the privacy agreement is longer than {PRIVACY_TEXT_MAX_CHARS} characters")]
    PrivacyTextTooLong,
    #[error("the privacy agreement changed but its version did not")]
    PrivacyTextWithoutNewVersion,
}

impl Localized for PolicyError {
    fn code(&self) -> &'static str {
        match self {
            PolicyError::NegativeFee(_) => "policy_negative_fee",
            PolicyError::NoAttempts => "policy_no_attempts",
            PolicyError::NoFaceMatchFailures => "policy_no_face_match_failures",
            PolicyError::NoCheckFailures => "policy_no_check_failures",
            PolicyError::MissingPrivacyVersion => "policy_missing_privacy_version",
            PolicyError::MissingSupportPhone => "policy_missing_support_phone",
            PolicyError::MissingSupportHours => "policy_missing_support_hours",
            PolicyError::NoRetention => "policy_no_retention",
            PolicyError::NoReviewSla => "policy_no_review_sla",
            PolicyError::BadHoliday(_) => "policy_bad_holiday",
            PolicyError::RereviewPercentOutOfRange(_) => "policy_rereview_percent",
            PolicyError::PhotoSizeWindow { .. } => "policy_photo_size_window",
            PolicyError::BadDeadline(_) => "policy_bad_deadline",
            PolicyError::PrivacyTextTooLong => "policy_privacy_text_too_long",
            PolicyError::PrivacyTextWithoutNewVersion => "policy_privacy_version_unchanged",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            PolicyError::NegativeFee(v) => format!("收费金额不能为负数（当前为 {v} 分）。"),
            PolicyError::NoAttempts => "每轮允许的上传次数至少为 1 次。".to_string(),
            PolicyError::NoFaceMatchFailures => "人像比对失败次数阈值至少为 1 次。".to_string(),
            PolicyError::NoCheckFailures => {
                "同一检测项未通过后允许仍然提交的次数阈值至少为 1 次。".to_string()
            }
            PolicyError::MissingPrivacyVersion => "请填写隐私协议版本。".to_string(),
            PolicyError::MissingSupportPhone => {
                "请填写咨询电话，学生在每个页面都会看到。".to_string()
            }
            PolicyError::MissingSupportHours => {
                "请填写咨询时间，学生在每个页面都会看到。".to_string()
            }
            PolicyError::NoRetention => "原始照片保留天数至少为 1 天。".to_string(),
            PolicyError::NoReviewSla => "审核时限至少为 1 个工作日。".to_string(),
            PolicyError::BadHoliday(d) => {
                format!("节假日“{d}”不是有效日期，请按 YYYY-MM-DD 填写。")
            }
            PolicyError::RereviewPercentOutOfRange(v) => {
                format!("抽检复核比例须在 0 到 100 之间（当前为 {v}）。")
            }
            PolicyError::PhotoSizeWindow { min_kb, max_kb } => format!(
                "照片文件大小范围 {min_kb}–{max_kb} KB 不可用：下限至少 {PHOTO_KB_MIN} KB，上限在 \
                 {PHOTO_MAX_KB_AT_LEAST}–{PHOTO_KB_MAX} KB 之间，且上限比下限至少大 \
                 {PHOTO_KB_WINDOW_AT_LEAST} KB。"
            ),
            PolicyError::BadDeadline(d) => {
                format!("提交截止日期“{d}”不是有效日期，请按 YYYY-MM-DD 填写，或留空。")
            }
            PolicyError::PrivacyTextTooLong => {
                format!("隐私协议每种语言不能超过 {PRIVACY_TEXT_MAX_CHARS} 个字。")
            }
            PolicyError::PrivacyTextWithoutNewVersion => {
                "隐私协议内容已修改，请同时填写新的协议版本，学生的同意记录才能对应到所同意的文本。"
                    .to_string()
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            PolicyError::NegativeFee(v) => format!("The fee must not be negative (got {v} fen)."),
            PolicyError::NoAttempts => "At least one upload attempt per round is required.".into(),
            PolicyError::NoFaceMatchFailures => {
                "The face comparison failure threshold must be at least 1.".into()
            }
            PolicyError::NoCheckFailures => {
                "The number of failed attempts of one photo check before submitting anyway must be at least 1."
                    .into()
            }
            PolicyError::MissingPrivacyVersion => "Enter the privacy agreement version.".into(),
            PolicyError::MissingSupportPhone => {
                "Enter the support phone number; students see it on every page.".into()
            }
            PolicyError::MissingSupportHours => {
                "Enter the support hours; students see them on every page.".into()
            }
            PolicyError::NoRetention => "Originals must be kept for at least one day.".into(),
            PolicyError::NoReviewSla => {
                "The review deadline must be at least one working day.".into()
            }
            PolicyError::BadHoliday(d) => {
                format!("Holiday \"{d}\" is not a valid date; write it as YYYY-MM-DD.")
            }
            PolicyError::RereviewPercentOutOfRange(v) => {
                format!("The re-review share must be between 0 and 100 percent (got {v}).")
            }
            PolicyError::PhotoSizeWindow { min_kb, max_kb } => format!(
                "A photo file size of {min_kb}–{max_kb} KB cannot be used: the lower end must be \
                 at least {PHOTO_KB_MIN} KB, the upper end between {PHOTO_MAX_KB_AT_LEAST} and \
                 {PHOTO_KB_MAX} KB and at least {PHOTO_KB_WINDOW_AT_LEAST} KB above the lower end."
            ),
            PolicyError::BadDeadline(d) => format!(
                "The submission deadline \"{d}\" is not a valid date; write it as YYYY-MM-DD, or leave it empty."
            ),
            PolicyError::PrivacyTextTooLong => format!(
                "The privacy agreement may hold at most {PRIVACY_TEXT_MAX_CHARS} characters per language."
            ),
            PolicyError::PrivacyTextWithoutNewVersion => {
                "The privacy agreement changed: give it a new version too, so that each student's consent names the text they accepted."
                    .into()
            }
        }
    }
}

impl SchoolPolicy {
    /// Checks the policy before it is stored or served.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.fee_cents < 0 {
            return Err(PolicyError::NegativeFee(self.fee_cents));
        }
        if self.max_attempts_per_round == 0 {
            return Err(PolicyError::NoAttempts);
        }
        if self.face_match_failures_before_flag == 0 {
            return Err(PolicyError::NoFaceMatchFailures);
        }
        if self.check_failures_before_flag == 0 {
            return Err(PolicyError::NoCheckFailures);
        }
        if self.privacy_version.trim().is_empty() {
            return Err(PolicyError::MissingPrivacyVersion);
        }
        if self.support_phone.trim().is_empty() {
            return Err(PolicyError::MissingSupportPhone);
        }
        if self.support_hours.trim().is_empty() {
            return Err(PolicyError::MissingSupportHours);
        }
        if self.retention_days == 0 {
            return Err(PolicyError::NoRetention);
        }
        if self.review_sla_working_days == 0 {
            return Err(PolicyError::NoReviewSla);
        }
        if let Some(bad) = self
            .holidays
            .iter()
            .find(|d| crate::calendar::parse_date(d).is_none())
        {
            return Err(PolicyError::BadHoliday(bad.clone()));
        }
        if self.rereview_percent > 100 {
            return Err(PolicyError::RereviewPercentOutOfRange(
                self.rereview_percent,
            ));
        }
        let (min_kb, max_kb) = (self.photo_min_kb, self.photo_max_kb);
        if min_kb < PHOTO_KB_MIN
            || !(PHOTO_MAX_KB_AT_LEAST..=PHOTO_KB_MAX).contains(&max_kb)
            || max_kb < min_kb.saturating_add(PHOTO_KB_WINDOW_AT_LEAST)
        {
            return Err(PolicyError::PhotoSizeWindow { min_kb, max_kb });
        }
        if [&self.privacy_text_zh, &self.privacy_text_en]
            .iter()
            .any(|t| t.chars().count() > PRIVACY_TEXT_MAX_CHARS)
        {
            return Err(PolicyError::PrivacyTextTooLong);
        }
        let deadline = self.submission_deadline.trim();
        if !deadline.is_empty() && crate::calendar::parse_date(deadline).is_none() {
            return Err(PolicyError::BadDeadline(self.submission_deadline.clone()));
        }
        Ok(())
    }

    /// The submission deadline, when the school set one.
    pub fn deadline(&self) -> Option<chrono::NaiveDate> {
        crate::calendar::parse_date(self.submission_deadline.trim())
    }

    /// Calendar days from `today` to the deadline: 0 on the day itself, negative once it has
    /// passed; `None` without a deadline.
    pub fn days_left(&self, today: chrono::NaiveDate) -> Option<i64> {
        self.deadline().map(|d| (d - today).num_days())
    }

    /// Whether `new` may replace this policy beyond each being valid: a changed privacy
    /// agreement needs a new version.
    pub fn check_change(&self, new: &SchoolPolicy) -> Result<(), PolicyError> {
        let text_changed = self.privacy_text_zh.trim() != new.privacy_text_zh.trim()
            || self.privacy_text_en.trim() != new.privacy_text_en.trim();
        if text_changed && self.privacy_version.trim() == new.privacy_version.trim() {
            return Err(PolicyError::PrivacyTextWithoutNewVersion);
        }
        Ok(())
    }

    /// The names of the settings that differ between two policies, for the audit trail of a
    /// change (the whole policies go to the version history).
    pub fn changed_fields(&self, new: &SchoolPolicy) -> Vec<String> {
        let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
            (serde_json::to_value(self), serde_json::to_value(new))
        else {
            return Vec::new();
        };
        b.iter()
            .filter(|(k, v)| a.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The school's photo spec: CHSI's geometry and resolution, with the school's background
    /// and file-size window. Every check, standardization and review hint of the school's
    /// students uses it.
    pub fn photo_spec(&self) -> PhotoSpec {
        PhotoSpec {
            background: self.photo_background.rgb(),
            min_kb: self.photo_min_kb,
            max_kb: self.photo_max_kb,
            ..PhotoSpec::chsi()
        }
    }

    /// Whether a reviewer's decision goes to quality sampling, given a uniform `draw` in
    /// [0, 1) made for that decision alone: each decision is sampled independently, so a
    /// reviewer cannot tell from their own count which ones a supervisor will see.
    pub fn samples_for_rereview(&self, draw: f64) -> bool {
        draw * 100.0 < f64::from(self.rereview_percent)
    }

    /// Whether students pay anything at all.
    pub fn is_free(&self) -> bool {
        self.fee_cents == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rereview_share_samples_that_share_of_draws() {
        let p = |rereview_percent| SchoolPolicy {
            rereview_percent,
            ..complete()
        };
        let draws: Vec<f64> = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
        let share = |policy: &SchoolPolicy| {
            draws
                .iter()
                .filter(|&&d| policy.samples_for_rereview(d))
                .count()
        };
        assert_eq!(share(&p(0)), 0);
        assert_eq!(share(&p(5)), 50);
        assert_eq!(share(&p(100)), 1000);
        assert_eq!(
            p(101).validate(),
            Err(PolicyError::RereviewPercentOutOfRange(101))
        );
        assert_eq!(p(100).validate(), Ok(()));
    }

    #[test]
    fn photo_spec_is_chsi_with_the_schools_background_and_size_window() {
        let default = complete();
        assert_eq!(default.photo_spec(), PhotoSpec::chsi());
        let white = SchoolPolicy {
            photo_background: Background::White,
            photo_min_kb: 30,
            photo_max_kb: 60,
            ..complete()
        };
        assert_eq!(white.validate(), Ok(()));
        let spec = white.photo_spec();
        assert_eq!(spec.background, crate::spec::Rgb::WHITE);
        assert_eq!((spec.min_kb, spec.max_kb), (30, 60));
        assert_eq!(spec.eye_line_px, PhotoSpec::chsi().eye_line_px);
        assert_eq!(spec.validate(), Ok(()));
    }

    #[test]
    fn photo_size_windows_outside_what_the_encoder_can_meet_are_refused() {
        for (min_kb, max_kb) in [(5, 40), (20, 25), (20, 600), (35, 40), (50, 40)] {
            let p = SchoolPolicy {
                photo_min_kb: min_kb,
                photo_max_kb: max_kb,
                ..complete()
            };
            assert_eq!(
                p.validate(),
                Err(PolicyError::PhotoSizeWindow { min_kb, max_kb }),
                "{min_kb}–{max_kb}"
            );
        }
        // Every colour of the allowed set is a valid spec; a colour outside it does not parse.
        for background in Background::ALL {
            let p = SchoolPolicy {
                photo_background: background,
                ..complete()
            };
            assert_eq!(p.photo_spec().validate(), Ok(()));
        }
        assert!(serde_json::from_str::<SchoolPolicy>(r#"{"photo_background":"red"}"#).is_err());
    }

    #[test]
    fn a_deadline_is_a_date_or_nothing_and_changes_name_their_fields() {
        let with = |d: &str| SchoolPolicy {
            submission_deadline: d.into(),
            ..complete()
        };
        assert_eq!(with("").validate(), Ok(()));
        assert_eq!(with("2027-06-30").validate(), Ok(()));
        assert_eq!(
            with("2027-02-30").validate(),
            Err(PolicyError::BadDeadline("2027-02-30".into()))
        );
        assert_eq!(with("").deadline(), None);
        let day = |d: &str| crate::calendar::parse_date(d).unwrap();
        assert_eq!(with("2027-06-30").days_left(day("2027-06-28")), Some(2));
        assert_eq!(with("2027-06-30").days_left(day("2027-06-30")), Some(0));
        assert_eq!(with("2027-06-30").days_left(day("2027-07-01")), Some(-1));
        assert_eq!(with("").days_left(day("2027-07-01")), None);
        assert_eq!(
            with("2027-06-30").deadline(),
            chrono::NaiveDate::from_ymd_opt(2027, 6, 30)
        );
        let new = SchoolPolicy {
            fee_cents: 1500,
            ..with("2027-06-30")
        };
        assert_eq!(
            complete().changed_fields(&new),
            vec!["fee_cents".to_string(), "submission_deadline".to_string()]
        );
        assert!(new.changed_fields(&new).is_empty());
    }

    fn complete() -> SchoolPolicy {
        SchoolPolicy {
            support_phone: "010-62750000".into(),
            support_hours: "工作日 8:30–17:00".into(),
            ..SchoolPolicy::default()
        }
    }

    #[test]
    fn defaults_match_the_contract() {
        let p = SchoolPolicy::default();
        assert_eq!(p.fee_cents, 0);
        assert!(p.retakes_free);
        assert_eq!(p.max_attempts_per_round, 10);
        assert!(p.album_allowed);
        assert_eq!(p.face_match_failures_before_flag, 3);
        assert_eq!(p.check_failures_before_flag, 3);
        assert_eq!(p.privacy_version, "2025-09");
        assert_eq!(p.review_sla_working_days, 3);
        assert!(p.holidays.is_empty());
        assert!(p.is_free());
    }

    #[test]
    fn default_policy_needs_support_contacts() {
        assert_eq!(
            SchoolPolicy::default().validate(),
            Err(PolicyError::MissingSupportPhone)
        );
        assert_eq!(complete().validate(), Ok(()));
        let no_hours = SchoolPolicy {
            support_hours: "  ".into(),
            ..complete()
        };
        assert_eq!(no_hours.validate(), Err(PolicyError::MissingSupportHours));
    }

    #[test]
    fn rejects_bad_numbers() {
        let p = SchoolPolicy {
            fee_cents: -1,
            ..complete()
        };
        assert_eq!(p.validate(), Err(PolicyError::NegativeFee(-1)));
        let p = SchoolPolicy {
            max_attempts_per_round: 0,
            ..complete()
        };
        assert_eq!(p.validate().unwrap_err().code(), "policy_no_attempts");
        let p = SchoolPolicy {
            retention_days: 0,
            ..complete()
        };
        assert_eq!(p.validate(), Err(PolicyError::NoRetention));
        let p = SchoolPolicy {
            review_sla_working_days: 0,
            ..complete()
        };
        assert_eq!(p.validate(), Err(PolicyError::NoReviewSla));
        let p = SchoolPolicy {
            holidays: vec!["2026-10-01".into(), "2026-13-01".into()],
            ..complete()
        };
        assert_eq!(
            p.validate(),
            Err(PolicyError::BadHoliday("2026-13-01".into()))
        );
        assert_eq!(p.validate().unwrap_err().code(), "policy_bad_holiday");
        let p = SchoolPolicy {
            check_failures_before_flag: 0,
            ..complete()
        };
        let err = p.validate().unwrap_err();
        assert_eq!(err, PolicyError::NoCheckFailures);
        assert_eq!(err.code(), "policy_no_check_failures");
        assert!(err.message_zh().contains("至少为 1"));
        assert!(err.message_en().contains("at least 1"));
    }

    #[test]
    fn partial_json_fills_defaults() {
        let p: SchoolPolicy =
            serde_json::from_str(r#"{"fee_cents": 2500, "support_phone": "123"}"#).unwrap();
        assert_eq!(p.fee_cents, 2500);
        assert_eq!(p.max_attempts_per_round, 10);
        assert_eq!(p.support_phone, "123");
    }

    #[test]
    fn stored_policy_without_the_check_threshold_loads_with_the_default() {
        // Policies stored before the soft-check threshold existed name only the face one.
        let p: SchoolPolicy =
            serde_json::from_str(r#"{"face_match_failures_before_flag": 5}"#).unwrap();
        assert_eq!(p.face_match_failures_before_flag, 5);
        assert_eq!(p.check_failures_before_flag, 3);
        let p: SchoolPolicy = toml::from_str("check_failures_before_flag = 2").unwrap();
        assert_eq!(p.check_failures_before_flag, 2);
    }
}
