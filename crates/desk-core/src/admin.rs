//! Administrator mode: the schools an administrator manages, each school's policy as a form,
//! and the staff accounts. The server checks every value (its codes and messages come back as they are); here
//! only what a form adds is read: the fee typed in yuan, holidays one per line, a background
//! by its code.

use gradphoto_api::admin::{PolicyUpdate, SchoolPolicyView, StaffAccount, StaffChange};
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::role::Role;
use gradphoto_domain::spec::Background;

use crate::account::Signed;
use crate::error::{DeskError, DeskResult};
use crate::present::rfc3339;
use crate::view::{
    AdminSchoolView, ChoiceView, PasswordResetView, PolicyFieldsView, PolicyVersionLineView,
    PolicyView, SavePolicyRequest, StaffAccountView,
};

pub async fn schools(s: &Signed) -> DeskResult<Vec<AdminSchoolView>> {
    Ok(s.client
        .admin_schools()
        .await?
        .into_iter()
        .map(|school| AdminSchoolView {
            id: school.id,
            name: school.name,
        })
        .collect())
}

pub async fn policy(s: &Signed, school_id: &str) -> DeskResult<PolicyView> {
    let current = s.client.school_policy(school_id).await?;
    with_versions(s, current).await
}

/// Saves the form as a new version made on `on_version`; answers the policy as it now stands.
pub async fn save(s: &Signed, req: &SavePolicyRequest) -> DeskResult<PolicyView> {
    let update = PolicyUpdate {
        on_version: req.on_version,
        policy: from_fields(&req.fields)?,
    };
    let saved = s.client.set_school_policy(&req.school_id, &update).await?;
    with_versions(s, saved).await
}

async fn with_versions(s: &Signed, current: SchoolPolicyView) -> DeskResult<PolicyView> {
    let versions = s.client.policy_versions(&current.school_id).await?;
    Ok(PolicyView {
        school_id: current.school_id,
        school_name: current.school_name,
        version: current.version,
        fields: fields(&current.policy),
        backgrounds: Background::ALL
            .into_iter()
            .map(|b| ChoiceView {
                code: b.code().to_string(),
                label_zh: b.label_zh().to_string(),
                label_en: b.label_en().to_string(),
            })
            .collect(),
        versions: versions
            .into_iter()
            .map(|v| PolicyVersionLineView {
                version: v.version,
                changed_by: v.changed_by,
                changed_at: rfc3339(v.changed_at_ms),
            })
            .collect(),
    })
}

fn account_view(a: StaffAccount) -> StaffAccountView {
    StaffAccountView {
        id: a.id,
        username: a.username,
        display_name: a.display_name,
        role: a.role.as_str().to_string(),
        role_zh: a.role.label_zh().to_string(),
        role_en: a.role.label_en().to_string(),
        school_id: a.school_id.unwrap_or_default(),
        disabled: a.disabled,
    }
}

pub async fn staff(s: &Signed) -> DeskResult<Vec<StaffAccountView>> {
    Ok(s.client
        .staff_accounts()
        .await?
        .into_iter()
        .map(account_view)
        .collect())
}

/// Disables or enables an account (disabling ends its sessions at once).
pub async fn set_disabled(
    s: &Signed,
    user_id: &str,
    disabled: bool,
) -> DeskResult<StaffAccountView> {
    let change = StaffChange {
        disabled: Some(disabled),
        ..StaffChange::default()
    };
    Ok(account_view(s.client.change_staff(user_id, &change).await?))
}

/// Gives an account another staff role (`reviewer`, `supervisor`, `admin`).
pub async fn set_role(s: &Signed, user_id: &str, role: &str) -> DeskResult<StaffAccountView> {
    let role: Role = role
        .parse()
        .ok()
        .filter(|r: &Role| *r != Role::Student)
        .ok_or_else(|| DeskError::InvalidInput {
            zh: "请从列表中选择角色。".into(),
            en: "Choose a role from the list.".into(),
        })?;
    let change = StaffChange {
        role: Some(role),
        ..StaffChange::default()
    };
    Ok(account_view(s.client.change_staff(user_id, &change).await?))
}

pub async fn reset_password(s: &Signed, user_id: &str) -> DeskResult<PasswordResetView> {
    let r = s.client.reset_staff_password(user_id).await?;
    Ok(PasswordResetView {
        username: r.username,
        password: r.password,
    })
}

/// Fen as yuan, with the cents only when there are any (`20`, `19.50`).
pub fn yuan(fen: i64) -> String {
    if fen % 100 == 0 {
        format!("{}", fen / 100)
    } else {
        format!("{}.{:02}", fen / 100, (fen % 100).abs())
    }
}

/// Yuan as typed (`20`, `19.5`, `19.50`, `¥20`) in fen; `None` for anything else, a
/// negative amount included.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let t = text.trim().trim_start_matches(['¥', '￥']).trim();
    let (whole, cents) = match t.split_once('.') {
        Some((w, c)) => (w, c),
        None => (t, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || cents.len() > 2 || !(cents.is_empty() || digits(cents)) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let cents: i64 = format!("{cents:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(cents)
}

fn fields(p: &SchoolPolicy) -> PolicyFieldsView {
    PolicyFieldsView {
        fee_yuan: yuan(p.fee_cents),
        retakes_free: p.retakes_free,
        max_attempts_per_round: p.max_attempts_per_round,
        album_allowed: p.album_allowed,
        face_match_failures_before_flag: p.face_match_failures_before_flag,
        check_failures_before_flag: p.check_failures_before_flag,
        privacy_version: p.privacy_version.clone(),
        privacy_text_zh: p.privacy_text_zh.clone(),
        privacy_text_en: p.privacy_text_en.clone(),
        support_phone: p.support_phone.clone(),
        support_hours: p.support_hours.clone(),
        retention_days: p.retention_days,
        review_sla_working_days: p.review_sla_working_days,
        holidays: p.holidays.join("\n"),
        rereview_percent: p.rereview_percent,
        override_needs_second_supervisor: p.override_needs_second_supervisor,
        photo_background: p.photo_background.code().to_string(),
        photo_min_kb: p.photo_min_kb,
        photo_max_kb: p.photo_max_kb,
        submission_deadline: p.submission_deadline.clone(),
    }
}

fn from_fields(f: &PolicyFieldsView) -> DeskResult<SchoolPolicy> {
    let fee_cents = parse_yuan(&f.fee_yuan).ok_or_else(|| DeskError::InvalidInput {
        zh: format!(
            "收费金额“{}”无法识别，请填写金额（元），例如 20 或 19.50。",
            f.fee_yuan
        ),
        en: format!(
            "The fee \"{}\" is not an amount; write it in yuan, e.g. 20 or 19.50.",
            f.fee_yuan
        ),
    })?;
    let photo_background =
        Background::from_code(&f.photo_background).ok_or_else(|| DeskError::InvalidInput {
            zh: "请从列表中选择背景颜色。".into(),
            en: "Choose a background colour from the list.".into(),
        })?;
    Ok(SchoolPolicy {
        fee_cents,
        retakes_free: f.retakes_free,
        max_attempts_per_round: f.max_attempts_per_round,
        album_allowed: f.album_allowed,
        face_match_failures_before_flag: f.face_match_failures_before_flag,
        check_failures_before_flag: f.check_failures_before_flag,
        privacy_version: f.privacy_version.trim().to_string(),
        privacy_text_zh: f.privacy_text_zh.trim().to_string(),
        privacy_text_en: f.privacy_text_en.trim().to_string(),
        support_phone: f.support_phone.trim().to_string(),
        support_hours: f.support_hours.trim().to_string(),
        retention_days: f.retention_days,
        review_sla_working_days: f.review_sla_working_days,
        holidays: f
            .holidays
            .split(['\n', ',', '，', ' '])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
        rereview_percent: f.rereview_percent,
        override_needs_second_supervisor: f.override_needs_second_supervisor,
        photo_background,
        photo_min_kb: f.photo_min_kb,
        photo_max_kb: f.photo_max_kb,
        submission_deadline: f.submission_deadline.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_typed_in_yuan_and_kept_in_fen() {
        for (text, fen) in [
            ("20", Some(2000)),
            ("19.5", Some(1950)),
            ("19.50", Some(1950)),
            (" ¥0 ", Some(0)),
            ("0.05", Some(5)),
            ("", None),
            ("-5", None),
            ("1.234", None),
            ("二十", None),
            ("20.", Some(2000)),
            (".5", None),
        ] {
            assert_eq!(parse_yuan(text), fen, "{text:?}");
        }
        for fen in [0, 5, 1950, 2000, 123_456] {
            assert_eq!(parse_yuan(&yuan(fen)), Some(fen));
        }
    }

    #[test]
    fn the_form_round_trips_a_policy() {
        let p = SchoolPolicy {
            fee_cents: 1950,
            holidays: vec!["2027-01-01".into(), "2027-02-10".into()],
            photo_background: Background::LightGrey,
            submission_deadline: "2027-06-30".into(),
            support_phone: "010-1".into(),
            support_hours: "9-17".into(),
            ..SchoolPolicy::default()
        };
        assert_eq!(from_fields(&fields(&p)).unwrap(), p);
        let mut f = fields(&p);
        f.fee_yuan = "twenty".into();
        assert!(matches!(
            from_fields(&f),
            Err(DeskError::InvalidInput { .. })
        ));
        f.fee_yuan = "20".into();
        f.photo_background = "red".into();
        assert!(matches!(
            from_fields(&f),
            Err(DeskError::InvalidInput { .. })
        ));
    }
}
