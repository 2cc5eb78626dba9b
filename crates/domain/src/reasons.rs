//! The fixed catalogue of reasons a reviewer can reject a submission for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Localized;

/// A reject reason. A decision carries one or more of these plus a separate free comment;
/// [`RejectReason::Other`] requires the comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Background,
    Selfie,
    EarsForeheadHidden,
    HairOverFace,
    HeadPose,
    ShouldersUneven,
    ExpressionMouth,
    TintedGlassesOrGlare,
    Accessories,
    Clothing,
    FaceShadow,
    MakeupFilterContacts,
    BlurryOrExposure,
    NotHalfBody,
    FaceMismatch,
    IdCardUnreadable,
    InfoMismatch,
    Other,
}

struct Texts {
    code: &'static str,
    label_zh: &'static str,
    label_en: &'static str,
    fix_zh: &'static str,
    fix_en: &'static str,
}

impl RejectReason {
    pub const ALL: [RejectReason; 18] = [
        RejectReason::Background,
        RejectReason::Selfie,
        RejectReason::EarsForeheadHidden,
        RejectReason::HairOverFace,
        RejectReason::HeadPose,
        RejectReason::ShouldersUneven,
        RejectReason::ExpressionMouth,
        RejectReason::TintedGlassesOrGlare,
        RejectReason::Accessories,
        RejectReason::Clothing,
        RejectReason::FaceShadow,
        RejectReason::MakeupFilterContacts,
        RejectReason::BlurryOrExposure,
        RejectReason::NotHalfBody,
        RejectReason::FaceMismatch,
        RejectReason::IdCardUnreadable,
        RejectReason::InfoMismatch,
        RejectReason::Other,
    ];

    fn texts(self) -> Texts {
        match self {
            RejectReason::Background => Texts {
                code: "background",
                label_zh: "背景不是纯白的墙面或有杂物/阴影",
                label_en: "Background is not a plain white wall, or has objects or shadows",
                fix_zh: "请在光线明亮处，站在干净的白色墙前约1米拍摄，身后不要有门框、挂画、杂物或人影。",
                fix_en: "Stand about 1 m in front of a clean white wall in a bright room, with no door frames, pictures, objects or people behind you.",
            },
            RejectReason::Selfie => Texts {
                code: "selfie",
                label_zh: "照片为自拍",
                label_en: "Photo is a selfie",
                fix_zh: "请他人使用手机后置摄像头为你拍摄，不要用前置摄像头自拍。",
                fix_en: "Ask someone else to take the photo with the phone's rear camera; do not take a selfie with the front camera.",
            },
            RejectReason::EarsForeheadHidden => Texts {
                code: "ears_forehead_hidden",
                label_zh: "耳朵或额头被遮挡",
                label_en: "Ears or forehead are covered",
                fix_zh: "请将头发梳到耳后，露出双耳和额头，不要佩戴帽子、发箍等头饰。",
                fix_en: "Tuck your hair behind your ears so both ears and your forehead show; remove hats, headbands and other headwear.",
            },
            RejectReason::HairOverFace => Texts {
                code: "hair_over_face",
                label_zh: "头发遮挡眉毛、眼睛或脸部",
                label_en: "Hair covers the eyebrows, eyes or face",
                fix_zh: "请整理刘海和碎发，头发不要遮住眉毛、眼睛和脸颊。",
                fix_en: "Move your fringe and loose hair away so it does not cover your eyebrows, eyes or cheeks.",
            },
            RejectReason::HeadPose => Texts {
                code: "head_pose",
                label_zh: "头部歪斜、侧转或抬头低头",
                label_en: "Head is tilted, turned, raised or lowered",
                fix_zh: "请正对镜头，头部摆正，不要歪头、侧脸、仰头或低头，拍摄者与你的眼睛保持同一高度。",
                fix_en: "Face the camera squarely with your head upright—no tilting, turning, raising or lowering; the photographer should hold the phone at your eye level.",
            },
            RejectReason::ShouldersUneven => Texts {
                code: "shoulders_uneven",
                label_zh: "双肩不平或身体侧转",
                label_en: "Shoulders are uneven or the body is turned",
                fix_zh: "请坐直或站直，双肩放松保持水平，身体正对镜头。",
                fix_en: "Sit or stand up straight, relax your shoulders so they are level, and turn your body to face the camera.",
            },
            RejectReason::ExpressionMouth => Texts {
                code: "expression_mouth",
                label_zh: "表情不自然或嘴巴张开",
                label_en: "Expression is not neutral or the mouth is open",
                fix_zh: "请保持自然平和的表情，双唇自然闭合，不要露齿大笑、噘嘴或做表情。",
                fix_en: "Keep a natural, neutral expression with your lips closed; no wide smiles, pouting or faces.",
            },
            RejectReason::TintedGlassesOrGlare => Texts {
                code: "tinted_glasses_or_glare",
                label_zh: "佩戴有色眼镜或镜片反光",
                label_en: "Tinted glasses or glare on the lenses",
                fix_zh: "请摘下有色眼镜或美瞳框镜；戴普通眼镜时镜框不要挡住眼睛，调整角度避免镜片反光，必要时摘下眼镜拍摄。",
                fix_en: "Remove tinted glasses; with regular glasses make sure the frames do not cover your eyes and tilt them slightly to avoid glare, or take them off.",
            },
            RejectReason::Accessories => Texts {
                code: "accessories",
                label_zh: "佩戴帽子、耳饰、项链等饰品",
                label_en: "Wearing a hat, earrings, necklace or other accessories",
                fix_zh: "请摘下帽子、头饰、耳环耳钉、项链等饰品后重新拍摄。",
                fix_en: "Take off hats, hair ornaments, earrings, necklaces and other accessories, then retake the photo.",
            },
            RejectReason::Clothing => Texts {
                code: "clothing",
                label_zh: "服装不符合要求（蓝色、无袖、低领或花纹）",
                label_en: "Clothing not allowed (blue, sleeveless, low-cut or patterned)",
                fix_zh: "请穿单一颜色、有领的正装或衬衫，不要穿蓝色衣服（背景会换成蓝色），不要穿无袖、低领或图案花哨的衣服。",
                fix_en: "Wear a single-colour collared shirt or formal top; no blue (the background becomes blue), no sleeveless, low-cut or busy patterned clothes.",
            },
            RejectReason::FaceShadow => Texts {
                code: "face_shadow",
                label_zh: "脸部有阴影（阴阳脸）",
                label_en: "Shadows on the face (one side darker)",
                fix_zh: "请在光线均匀明亮的地方拍摄，正面朝向光源，避免侧光和顶光造成的阴阳脸。",
                fix_en: "Take the photo in even, bright light facing the light source; avoid side or overhead light that darkens one side of the face.",
            },
            RejectReason::MakeupFilterContacts => Texts {
                code: "makeup_filter_contacts",
                label_zh: "化妆、美颜滤镜或佩戴美瞳",
                label_en: "Make-up, beauty filter or coloured contact lenses",
                fix_zh: "请素颜拍摄，关闭相机的美颜、滤镜功能，摘下彩色隐形眼镜（美瞳）。",
                fix_en: "Take the photo without make-up, turn off beauty and filter modes in the camera app, and remove coloured contact lenses.",
            },
            RejectReason::BlurryOrExposure => Texts {
                code: "blurry_or_exposure",
                label_zh: "照片模糊、过暗或过亮",
                label_en: "Photo is blurry, too dark or too bright",
                fix_zh: "请在光线充足但不刺眼的地方拍摄，拍摄时保持手机稳定，对焦到脸部后再按快门。",
                fix_en: "Use plenty of light that is not glaring, hold the phone steady and let it focus on the face before taking the photo.",
            },
            RejectReason::NotHalfBody => Texts {
                code: "not_half_body",
                label_zh: "不是半身照或头部不完整",
                label_en: "Not a head-and-shoulders photo, or the head is cut off",
                fix_zh: "请拍摄到胸部以上的半身照，头顶和双肩完整地在画面内，人像位于画面中间。",
                fix_en: "Frame from the chest up with the whole head and both shoulders inside the picture and the person centred.",
            },
            RejectReason::FaceMismatch => Texts {
                code: "face_mismatch",
                label_zh: "照片与身份证人像不是同一人",
                label_en: "Photo does not match the ID card portrait",
                fix_zh: "请本人拍摄照片；如果近期外貌变化较大，请重新拍摄清晰的正面照并联系学校说明情况。",
                fix_en: "The photo must be of you; if your appearance has changed a lot, retake a clear front-facing photo and contact the school to explain.",
            },
            RejectReason::IdCardUnreadable => Texts {
                code: "id_card_unreadable",
                label_zh: "身份证照片不清晰或不完整",
                label_en: "ID card photo is unclear or incomplete",
                fix_zh: "请将身份证平放在深色桌面上，在光线充足处拍摄完整、清晰、无反光的人像面和国徽面。",
                fix_en: "Lay the ID card flat on a dark table in good light and photograph the whole portrait side and emblem side, sharp and without glare.",
            },
            RejectReason::InfoMismatch => Texts {
                code: "info_mismatch",
                label_zh: "填写的信息与身份证或学籍不一致",
                label_en: "Entered details do not match the ID card or enrollment record",
                fix_zh: "请核对姓名和身份证号是否与身份证一致；如学籍信息有误，请联系学校学籍管理部门更正。",
                fix_en: "Check that your name and ID number match your ID card; if the enrollment record is wrong, ask the school's registry office to correct it.",
            },
            RejectReason::Other => Texts {
                code: "other",
                label_zh: "其他问题",
                label_en: "Other problem",
                fix_zh: "请按照审核意见修改后重新拍摄；如有疑问，请拨打页面上的咨询电话。",
                fix_en: "Follow the reviewer's comment and retake the photo; if anything is unclear, call the support number shown on the page.",
            },
        }
    }

    pub fn code(self) -> &'static str {
        self.texts().code
    }

    pub fn label_zh(self) -> &'static str {
        self.texts().label_zh
    }

    pub fn label_en(self) -> &'static str {
        self.texts().label_en
    }

    /// What the student should do, zh-CN.
    pub fn fix_zh(self) -> &'static str {
        self.texts().fix_zh
    }

    /// What the student should do, English.
    pub fn fix_en(self) -> &'static str {
        self.texts().fix_en
    }

    /// Only [`RejectReason::Other`] needs the reviewer's comment to make sense to the student.
    pub fn requires_comment(self) -> bool {
        matches!(self, RejectReason::Other)
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reject reason: {0:?}")]
pub struct UnknownReason(pub String);

impl Localized for UnknownReason {
    fn code(&self) -> &'static str {
        "unknown_reject_reason"
    }
    fn message_zh(&self) -> String {
        format!("未知的退回原因代码：{}", self.0)
    }
    fn message_en(&self) -> String {
        format!("Unknown reject reason code: {}", self.0)
    }
}

impl FromStr for RejectReason {
    type Err = UnknownReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        RejectReason::ALL
            .into_iter()
            .find(|r| r.code() == t)
            .ok_or_else(|| UnknownReason(s.to_string()))
    }
}

/// A reviewer's rejection, checked: reasons from the catalogue (each once, in the order given)
/// and the comment, trimmed (`None` when blank). The one place that says what a rejection
/// needs; the state machine, the server and the workstation all call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reasons: Vec<RejectReason>,
    pub comment: Option<String>,
}

/// Why a rejection cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectionError {
    #[error(transparent)]
    UnknownReason(#[from] UnknownReason),
    #[error("a rejection needs at least one reason")]
    ReasonsRequired,
    #[error("reason 'other' needs a comment")]
    CommentRequired,
}

impl RejectionError {
    /// The request field the problem is in.
    pub fn field(&self) -> &'static str {
        match self {
            RejectionError::UnknownReason(_) | RejectionError::ReasonsRequired => "reasons",
            RejectionError::CommentRequired => "comment",
        }
    }
}

impl Localized for RejectionError {
    fn code(&self) -> &'static str {
        match self {
            RejectionError::UnknownReason(e) => e.code(),
            RejectionError::ReasonsRequired => "reasons_required",
            RejectionError::CommentRequired => "comment_required",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            RejectionError::UnknownReason(e) => e.message_zh(),
            RejectionError::ReasonsRequired => "退回时请至少选择一条原因。".to_string(),
            RejectionError::CommentRequired => {
                "选择“其他问题”时，请填写具体的审核意见。".to_string()
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            RejectionError::UnknownReason(e) => e.message_en(),
            RejectionError::ReasonsRequired => {
                "Choose at least one reason when rejecting.".to_string()
            }
            RejectionError::CommentRequired => {
                "Reason \"other\" needs a comment explaining the problem.".to_string()
            }
        }
    }
}

impl Rejection {
    /// Parses reason codes as a client sends them.
    pub fn parse(codes: &[String], comment: Option<&str>) -> Result<Rejection, RejectionError> {
        let mut reasons: Vec<RejectReason> = Vec::with_capacity(codes.len());
        for code in codes {
            let reason: RejectReason = code.parse()?;
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        Rejection::new(reasons, comment)
    }

    /// Checks reasons already parsed: at least one, and a comment when one requires it.
    pub fn new(
        reasons: Vec<RejectReason>,
        comment: Option<&str>,
    ) -> Result<Rejection, RejectionError> {
        if reasons.is_empty() {
            return Err(RejectionError::ReasonsRequired);
        }
        let comment = comment
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if reasons.iter().any(|r| r.requires_comment()) && comment.is_none() {
            return Err(RejectionError::CommentRequired);
        }
        Ok(Rejection { reasons, comment })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_and_match_design() {
        let codes: Vec<&str> = RejectReason::ALL.iter().map(|r| r.code()).collect();
        let unique: HashSet<&str> = codes.iter().copied().collect();
        assert_eq!(unique.len(), codes.len());
        assert_eq!(
            codes,
            [
                "background",
                "selfie",
                "ears_forehead_hidden",
                "hair_over_face",
                "head_pose",
                "shoulders_uneven",
                "expression_mouth",
                "tinted_glasses_or_glare",
                "accessories",
                "clothing",
                "face_shadow",
                "makeup_filter_contacts",
                "blurry_or_exposure",
                "not_half_body",
                "face_mismatch",
                "id_card_unreadable",
                "info_mismatch",
                "other",
            ]
        );
    }

    #[test]
    fn parse_and_serde_round_trip() {
        for r in RejectReason::ALL {
            assert_eq!(r.code().parse::<RejectReason>().unwrap(), r);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.code()));
            assert_eq!(serde_json::from_str::<RejectReason>(&json).unwrap(), r);
        }
        assert_eq!(
            "nope".parse::<RejectReason>().unwrap_err().code(),
            "unknown_reject_reason"
        );
    }

    #[test]
    fn every_entry_has_texts() {
        let mut labels = HashSet::new();
        for r in RejectReason::ALL {
            for text in [r.label_zh(), r.label_en(), r.fix_zh(), r.fix_en()] {
                assert!(!text.trim().is_empty(), "{r:?}");
            }
            assert!(labels.insert(r.label_zh()), "duplicate label {r:?}");
        }
    }

    #[test]
    fn only_other_requires_comment() {
        let needing: Vec<_> = RejectReason::ALL
            .into_iter()
            .filter(|r| r.requires_comment())
            .collect();
        assert_eq!(needing, [RejectReason::Other]);
    }

    #[test]
    fn a_rejection_needs_a_known_reason_and_other_needs_a_comment() {
        let codes = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Rejection::parse(&[], Some("x")),
            Err(RejectionError::ReasonsRequired)
        );
        assert_eq!(
            Rejection::parse(&codes(&["other"]), Some("  ")),
            Err(RejectionError::CommentRequired)
        );
        assert!(matches!(
            Rejection::parse(&codes(&["nope"]), None),
            Err(RejectionError::UnknownReason(_))
        ));
        let r = Rejection::parse(
            &codes(&[" background", "background", "other"]),
            Some(" 蓝色 "),
        )
        .unwrap();
        assert_eq!(
            r.reasons,
            vec![RejectReason::Background, RejectReason::Other]
        );
        assert_eq!(r.comment.as_deref(), Some("蓝色"));
        assert_eq!(RejectionError::CommentRequired.field(), "comment");
        assert_eq!(RejectionError::ReasonsRequired.code(), "reasons_required");
    }
}
