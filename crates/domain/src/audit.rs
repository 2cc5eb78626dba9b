//! The append-only, hash-chained audit log.
//!
//! # Canonical encoding (version 1)
//!
//! The hash of an event is `SHA-256(encoding)` in lower-case hex, where `encoding` is the
//! concatenation of these fields, in this order, each written as its byte length (u64,
//! big-endian) followed by its bytes:
//!
//! 1. the domain tag `gradphoto-audit-v1`
//! 2. `seq` as decimal ASCII
//! 3. `at_ms` as decimal ASCII (may be negative)
//! 4. actor role code (`student`, `reviewer`, …; empty for the system)
//! 5. actor id
//! 6. action code (snake_case)
//! 7. subject
//! 8. details as canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace,
//!    strings and numbers as serde_json writes them
//! 9. `prev_hash` (64 hex characters; [`GENESIS_HASH`] for the first event)
//!
//! Length prefixes make the encoding unambiguous: no two different events encode alike.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::role::Role;
use crate::Localized;

/// `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN_TAG: &str = "gradphoto-audit-v1";

/// Who did it. `role: None` is the system itself (background jobs, lease expiry).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub role: Option<Role>,
    pub id: String,
}

impl Actor {
    pub fn new(role: Role, id: impl Into<String>) -> Actor {
        Actor {
            role: Some(role),
            id: id.into(),
        }
    }

    pub fn system() -> Actor {
        Actor {
            role: None,
            id: "system".to_string(),
        }
    }
}

macro_rules! audit_actions {
    ($($variant:ident => $code:literal, $zh:literal, $en:literal;)*) => {
        /// What happened. Codes are stable: they are part of the hashed encoding.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            pub fn code(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $code,)*
                }
            }

            pub fn label_zh(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $zh,)*
                }
            }

            pub fn label_en(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $en,)*
                }
            }
        }
    };
}

audit_actions! {
    CodeIssued => "code_issued", "发放采集码", "Code issued";
    CodeReissued => "code_reissued", "重新发放采集码", "Code re-issued";
    CodeClaimed => "code_claimed", "领取采集码", "Code claimed";
    CodeRefused => "code_refused", "拒绝转发的采集码", "Forwarded code refused";
    CodeUnbound => "code_unbound", "解除采集码绑定", "Code unbound from its browser";
    CodesPrinted => "codes_printed", "导出采集码（打印页或链接）", "Codes exported (print sheets or links)";
    IdentityVerified => "identity_verified", "身份核验通过", "Identity verified";
    IdentityFailed => "identity_failed", "身份核验失败", "Identity check failed";
    ConsentRecorded => "consent_recorded", "同意隐私协议", "Consent recorded";
    RecordConfirmed => "record_confirmed", "确认学籍", "Enrollment record confirmed";
    PaymentStarted => "payment_started", "发起支付", "Payment started";
    PaymentCompleted => "payment_completed", "支付完成", "Payment completed";
    PaymentFailed => "payment_failed", "支付失败", "Payment failed";
    PhotoUploaded => "photo_uploaded", "上传照片", "Photo uploaded";
    IdCardUploaded => "id_card_uploaded", "上传身份证照片", "ID card uploaded";
    Submitted => "submitted", "提交审核", "Submitted";
    Withdrawn => "withdrawn", "撤回提交", "Withdrawn";
    Claimed => "claimed", "领取审核任务", "Claimed for review";
    LeaseRenewed => "lease_renewed", "续期审核任务", "Review claim renewed";
    LeaseReleased => "lease_released", "释放审核任务", "Review claim released";
    LeaseExpired => "lease_expired", "审核任务超时", "Review claim expired";
    Approved => "approved", "审核通过", "Approved";
    Rejected => "rejected", "审核退回", "Rejected";
    Overridden => "overridden", "主管改判", "Overridden by supervisor";
    OverrideRequested => "override_requested", "申请改判（待另一位主管确认）", "Override requested (awaiting a second supervisor)";
    OverrideDeclined => "override_declined", "驳回改判申请", "Override request declined";
    Rereviewed => "rereviewed", "抽检复核", "Re-reviewed (quality sample)";
    RetakeStarted => "retake_started", "重新拍摄", "Retake started";
    Exported => "exported", "导出照片", "Exported";
    Published => "published", "上网成功", "Published";
    UserCreated => "user_created", "创建账号", "User created";
    UserUpdated => "user_updated", "修改账号", "User updated";
    UserDisabled => "user_disabled", "停用账号", "User disabled";
    PasswordChanged => "password_changed", "修改密码", "Password changed";
    Login => "login", "登录", "Signed in";
    LoginFailed => "login_failed", "登录失败", "Sign-in failed";
    Logout => "logout", "退出登录", "Signed out";
    IdNumberViewed => "id_number_viewed", "查看身份证号", "ID number viewed";
    IdCardViewed => "id_card_viewed", "查看身份证照片", "ID card viewed";
    PhotoViewed => "photo_viewed", "查看原始照片", "Original photo viewed";
    RosterImported => "roster_imported", "导入学籍名单", "Roster imported";
    PolicyChanged => "policy_changed", "修改学校政策", "School policy changed";
    SpecChanged => "spec_changed", "修改照片规格", "Photo spec changed";
    ThresholdsChanged => "thresholds_changed", "修改检测阈值", "Thresholds changed";
    DataPurged => "data_purged", "清除到期数据", "Expired data purged";
    ChainVerified => "chain_verified", "校验审计链", "Audit chain verified";
    AuditExported => "audit_exported", "导出审计记录", "Audit events exported";
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action: {0:?}")]
pub struct UnknownAction(pub String);

impl Localized for UnknownAction {
    fn code(&self) -> &'static str {
        "unknown_audit_action"
    }
    fn message_zh(&self) -> String {
        format!("未知的审计操作类型：{}", self.0)
    }
    fn message_en(&self) -> String {
        format!("Unknown audit action: {}", self.0)
    }
}

impl FromStr for AuditAction {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .iter()
            .copied()
            .find(|a| a.code() == s.trim())
            .ok_or_else(|| UnknownAction(s.to_string()))
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: u64,
    /// Milliseconds since the Unix epoch (UTC).
    pub at_ms: i64,
    pub actor: Actor,
    pub action: AuditAction,
    /// The case, user or other entity acted on.
    pub subject: String,
    pub details: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// An unsealed event; call [`AuditEvent::seal`] with the previous event's hash.
    pub fn new(
        seq: u64,
        at_ms: i64,
        actor: Actor,
        action: AuditAction,
        subject: impl Into<String>,
        details: Value,
    ) -> AuditEvent {
        AuditEvent {
            seq,
            at_ms,
            actor,
            action,
            subject: subject.into(),
            details,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// Links the event to its predecessor and computes its hash.
    pub fn seal(mut self, prev_hash: &str) -> AuditEvent {
        self.prev_hash = prev_hash.to_string();
        self.hash = chain_hash(&self);
        self
    }

    /// The canonical encoding described in the module documentation.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let seq = self.seq.to_string();
        let at = self.at_ms.to_string();
        let role = self.actor.role.map(Role::as_str).unwrap_or("");
        let details = canonical_json(&self.details);
        let fields: [&[u8]; 9] = [
            DOMAIN_TAG.as_bytes(),
            seq.as_bytes(),
            at.as_bytes(),
            role.as_bytes(),
            self.actor.id.as_bytes(),
            self.action.code().as_bytes(),
            self.subject.as_bytes(),
            details.as_bytes(),
            self.prev_hash.as_bytes(),
        ];
        let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 8).sum());
        for f in fields {
            out.extend_from_slice(&(f.len() as u64).to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    }
}

/// Hex SHA-256 of the event's canonical encoding, which includes its `prev_hash` (the
/// stored `hash` field itself is not part of it).
pub fn chain_hash(event: &AuditEvent) -> String {
    hex::encode(Sha256::digest(event.canonical_bytes()))
}

/// JSON with object keys sorted and no whitespace, independent of how `serde_json` was
/// built (its `preserve_order` feature would otherwise change key order).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BrokenReason {
    /// The stored hash does not match the event's contents (the event was altered).
    HashMismatch { stored: String, computed: String },
    /// The event does not point at its predecessor (an event was removed, inserted or moved).
    PrevHashMismatch { expected: String, found: String },
    /// Sequence numbers are not consecutive.
    SeqGap { expected: u64, found: u64 },
}

/// The first broken link found, at event `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {reason:?}")]
pub struct BrokenLink {
    pub seq: u64,
    pub reason: BrokenReason,
}

impl Localized for BrokenLink {
    fn code(&self) -> &'static str {
        match self.reason {
            BrokenReason::HashMismatch { .. } => "audit_hash_mismatch",
            BrokenReason::PrevHashMismatch { .. } => "audit_prev_hash_mismatch",
            BrokenReason::SeqGap { .. } => "audit_seq_gap",
        }
    }

    fn message_zh(&self) -> String {
        let seq = self.seq;
        match &self.reason {
            BrokenReason::HashMismatch { .. } => {
                format!("审计记录第 {seq} 条的内容与其哈希不符，该记录可能被篡改。")
            }
            BrokenReason::PrevHashMismatch { .. } => {
                format!("审计记录第 {seq} 条未指向前一条记录，记录可能被删除、插入或调换顺序。")
            }
            BrokenReason::SeqGap { expected, found } => {
                format!("审计记录序号不连续：应为 {expected}，实际为 {found}，可能有记录被删除。")
            }
        }
    }

    fn message_en(&self) -> String {
        let seq = self.seq;
        match &self.reason {
            BrokenReason::HashMismatch { .. } => format!(
                "Audit event {seq} does not match its hash; it may have been altered."
            ),
            BrokenReason::PrevHashMismatch { .. } => format!(
                "Audit event {seq} does not point at its predecessor; events may have been removed, inserted or reordered."
            ),
            BrokenReason::SeqGap { expected, found } => format!(
                "Audit sequence gap: expected {expected}, found {found}; events may have been removed."
            ),
        }
    }
}

/// Verifies a whole chain starting at the genesis hash. Returns the first broken link.
///
/// Removing events from the end cannot be detected from the events alone; keep the latest
/// hash elsewhere (e.g. in exports) and compare.
pub fn verify_chain(events: &[AuditEvent]) -> Result<(), BrokenLink> {
    verify_chain_from(GENESIS_HASH, None, events).map(|_| ())
}

/// Verifies a segment that continues after an event with hash `prev_hash`; `next_seq` is the
/// expected first sequence number if known. Returns the hash of the last event, to continue
/// from in the next page.
pub fn verify_chain_from(
    prev_hash: &str,
    next_seq: Option<u64>,
    events: &[AuditEvent],
) -> Result<String, BrokenLink> {
    let mut prev = prev_hash.to_string();
    let mut expected_seq = next_seq;
    for e in events {
        if let Some(expected) = expected_seq {
            if e.seq != expected {
                return Err(BrokenLink {
                    seq: e.seq,
                    reason: BrokenReason::SeqGap {
                        expected,
                        found: e.seq,
                    },
                });
            }
        }
        let computed = chain_hash(e);
        if computed != e.hash {
            return Err(BrokenLink {
                seq: e.seq,
                reason: BrokenReason::HashMismatch {
                    stored: e.hash.clone(),
                    computed,
                },
            });
        }
        if e.prev_hash != prev {
            return Err(BrokenLink {
                seq: e.seq,
                reason: BrokenReason::PrevHashMismatch {
                    expected: prev,
                    found: e.prev_hash.clone(),
                },
            });
        }
        prev = e.hash.clone();
        expected_seq = e.seq.checked_add(1);
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chain(n: u64) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let action = AuditAction::ALL[(seq as usize) % AuditAction::ALL.len()];
                let e = AuditEvent::new(
                    seq,
                    1_780_000_000_000 + seq as i64 * 1000,
                    Actor::new(Role::Reviewer, format!("u{seq}")),
                    action,
                    format!("case-{}", seq % 3),
                    json!({"z": seq, "a": {"y": [1, 2, "三"], "b": null}, "reason": "背景"}),
                )
                .seal(&prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn a_valid_chain_verifies() {
        assert_eq!(verify_chain(&[]), Ok(()));
        let events = chain(6);
        assert_eq!(events[0].prev_hash, GENESIS_HASH);
        assert_eq!(events[0].hash.len(), 64);
        assert_eq!(verify_chain(&events), Ok(()));
        // Verifying in pages gives the same result.
        let mid = verify_chain_from(GENESIS_HASH, Some(1), &events[..3]).unwrap();
        assert_eq!(
            verify_chain_from(&mid, Some(4), &events[3..]).unwrap(),
            events[5].hash
        );
    }

    /// Alters one field of an event without resealing it.
    fn tamper(e: &mut AuditEvent, field: usize) {
        match field {
            0 => e.at_ms += 1,
            1 => e.actor.id.push('x'),
            2 => e.actor.role = Some(Role::Admin),
            3 => {
                e.action = if e.action == AuditAction::Approved {
                    AuditAction::Rejected
                } else {
                    AuditAction::Approved
                }
            }
            4 => e.subject.push('1'),
            5 => e.details["z"] = json!(999),
            6 => e.details["a"]["y"][2] = json!("四"),
            7 => {
                e.hash = chain_hash(&AuditEvent::new(
                    0,
                    0,
                    Actor::system(),
                    AuditAction::Login,
                    "",
                    json!({}),
                ))
            }
            8 => e.actor.role = None,
            _ => unreachable!(),
        }
    }

    #[test]
    fn tampering_any_field_of_any_event_is_detected_there() {
        let events = chain(5);
        for i in 0..events.len() {
            for field in 0..9 {
                let mut copy = events.clone();
                tamper(&mut copy[i], field);
                let broken = verify_chain(&copy).unwrap_err();
                assert_eq!(broken.seq, copy[i].seq, "event {i} field {field}");
                assert!(
                    matches!(broken.reason, BrokenReason::HashMismatch { .. }),
                    "{broken:?}"
                );
            }
        }
    }

    #[test]
    fn resealing_a_tampered_event_breaks_the_next_link() {
        let mut events = chain(4);
        let altered = AuditEvent {
            subject: "case-x".into(),
            ..events[1].clone()
        };
        events[1] = altered.seal(&events[0].hash);
        let broken = verify_chain(&events).unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(matches!(
            broken.reason,
            BrokenReason::PrevHashMismatch { .. }
        ));
    }

    #[test]
    fn deleting_an_event_is_detected() {
        let events = chain(5);
        let mut gap = events.clone();
        gap.remove(2);
        let broken = verify_chain(&gap).unwrap_err();
        assert_eq!(
            broken,
            BrokenLink {
                seq: 4,
                reason: BrokenReason::SeqGap {
                    expected: 3,
                    found: 4
                }
            }
        );
        assert_eq!(broken.code(), "audit_seq_gap");

        let mut first_gone = events.clone();
        first_gone.remove(0);
        let broken = verify_chain(&first_gone).unwrap_err();
        assert_eq!(broken.seq, 2);
        assert!(matches!(
            broken.reason,
            BrokenReason::PrevHashMismatch { .. }
        ));
    }

    #[test]
    fn reordering_is_detected() {
        let mut events = chain(5);
        events.swap(1, 3);
        let broken = verify_chain(&events).unwrap_err();
        assert_eq!(broken.seq, 4);
        // Renumbering to hide the swap changes the hashed content.
        let mut renumbered = chain(5);
        renumbered.swap(1, 3);
        renumbered[1].seq = 2;
        renumbered[3].seq = 4;
        let broken = verify_chain(&renumbered).unwrap_err();
        assert_eq!(broken.seq, 2);
        assert!(matches!(broken.reason, BrokenReason::HashMismatch { .. }));
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"d": [true, {"y": 1, "x": "引号\""}], "c": 2.5}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":2.5,"d":[true,{"x":"引号\"","y":1}]},"b":1}"#
        );
        let reordered: Value =
            serde_json::from_str(r#"{"a":{"c":2.5,"d":[true,{"x":"引号\"","y":1}]},"b":1}"#)
                .unwrap();
        assert_eq!(canonical_json(&reordered), canonical_json(&a));
    }

    #[test]
    fn encoding_is_unambiguous() {
        // Moving a character between adjacent fields must change the hash.
        let a = AuditEvent::new(
            1,
            0,
            Actor::new(Role::Admin, "ab"),
            AuditAction::Login,
            "c",
            json!(null),
        );
        let b = AuditEvent::new(
            1,
            0,
            Actor::new(Role::Admin, "a"),
            AuditAction::Login,
            "bc",
            json!(null),
        );
        assert_ne!(a.seal(GENESIS_HASH).hash, b.seal(GENESIS_HASH).hash);
    }

    #[test]
    fn actions_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &a in AuditAction::ALL {
            assert!(seen.insert(a.code()));
            assert_eq!(a.code().parse::<AuditAction>().unwrap(), a);
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.code())
            );
            assert!(!a.label_zh().is_empty() && !a.label_en().is_empty());
        }
        for code in [
            "code_issued",
            "id_number_viewed",
            "roster_imported",
            "lease_released",
        ] {
            assert!(code.parse::<AuditAction>().is_ok(), "{code}");
        }
    }

    #[test]
    fn events_serialize_and_still_verify() {
        let events = chain(3);
        let json = serde_json::to_string(&events).unwrap();
        let back: Vec<AuditEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, events);
        assert_eq!(verify_chain(&back), Ok(()));
    }
}
