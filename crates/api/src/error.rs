//! The error body every endpoint returns on failure, and the one list of its codes.

use serde::{Deserialize, Serialize};

/// `code` is stable snake_case and safe to match on; messages are for display, zh-CN first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message_zh: String,
    pub message_en: String,
    /// The request field the error is about, when there is one.
    // Absent rather than null when `None`: `optional` says so to TypeScript, which does not
    // read `skip_serializing_if`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub field: Option<String>,
    /// Seconds until a rate-limited request may be retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "number"))]
    pub retry_after_s: Option<u64>,
}

impl ErrorBody {
    /// A body with the code's default messages.
    pub fn of(code: ErrorCode) -> ErrorBody {
        ErrorBody {
            code,
            message_zh: code.message_zh().to_string(),
            message_en: code.message_en().to_string(),
            field: None,
            retry_after_s: None,
        }
    }
}

/// Declares every code once: its wire name, HTTP status and default messages. Call sites may
/// give a more precise message (with numbers, names); the code and status never vary.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $status:literal, $zh:literal, $en:literal;)*) => {
        /// Every code the server can send. A client meeting a code newer than itself reads it
        /// as [`ErrorCode::Unknown`] and still shows the body's messages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(test, derive(ts_rs::TS))]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $code)] $variant,)*
            // ts-rs does not read `serde(other)`, and skips the whole attribute with it.
            #[serde(other, rename = "unknown")]
            #[cfg_attr(test, ts(rename = "unknown"))]
            Unknown,
        }

        impl ErrorCode {
            /// Every code except [`ErrorCode::Unknown`].
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as sent on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Unknown => "unknown",
                }
            }

            /// The code a domain or vision error names itself by, when the API knows it.
            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }

            /// The HTTP status that carries this code.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                    ErrorCode::Unknown => 500,
                }
            }

            pub fn message_zh(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $zh,)*
                    ErrorCode::Unknown => "发生未知错误。",
                }
            }

            pub fn message_en(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $en,)*
                    ErrorCode::Unknown => "An unknown error occurred.",
                }
            }
        }
    };
}

error_codes! {
    // Requests the server cannot read at all.
    BadRequest = "bad_request", 400, "请求格式不正确。", "The request is malformed.";
    InvalidBody = "invalid_body", 422, "请求内容缺少字段或字段类型不正确。", "The request body is missing fields or has fields of the wrong type.";
    UnsupportedMediaType = "unsupported_media_type", 415, "请求的内容类型不正确。", "The request's content type is not supported.";
    MethodNotAllowed = "method_not_allowed", 405, "不支持此请求方法。", "This request method is not supported.";
    NoSuchEndpoint = "no_such_endpoint", 404, "请求的地址不存在。", "No such endpoint.";
    NotFound = "not_found", 404, "未找到请求的内容。", "Not found.";
    InternalError = "internal_error", 500, "服务器内部错误，请稍后重试。", "Internal server error. Please try again later.";

    // Who is asking.
    Unauthorized = "unauthorized", 401, "请先登录或重新打开您的采集链接。", "Please sign in, or open your personal link again.";
    SessionExpired = "session_expired", 401, "登录已失效，请重新登录或重新打开您的采集链接。", "Your session has expired. Sign in again or reopen your personal link.";
    BadCredentials = "bad_credentials", 401, "用户名或密码错误。", "Wrong username or password.";
    Forbidden = "forbidden", 403, "您没有执行此操作的权限。", "You are not allowed to do this.";
    TooManyAttempts = "too_many_attempts", 429, "尝试次数过多，请稍后再试。", "Too many attempts; try again later.";

    // Collection codes.
    CodeNotFound = "code_not_found", 404, "采集码无效，请检查链接是否完整，或联系学校。", "This code is not valid. Check that the link is complete, or contact your school.";
    CodeRevoked = "code_revoked", 410, "此采集码已被学校重新发放而失效，请使用最新的链接或二维码。", "This code was replaced by the school and no longer works; use your newest link or QR code.";
    CodeAlreadyClaimed = "code_already_claimed", 409, "此采集码已在另一设备上使用。一人一码，转发无效。如需更换设备请联系学校。", "This code is already in use on another device. Each code belongs to one person and cannot be forwarded. Contact your school to switch devices.";
    SchoolRequired = "school_required", 400, "请指定学校。", "Please specify the school.";

    // The student's identity and consent.
    ConsentRequired = "consent_required", 409, "请先阅读并同意《身份证件及人像信息使用协议》。", "Please read and agree to the agreement on the use of your ID card and face images first.";
    ConsentVersionMismatch = "consent_version_mismatch", 409, "隐私协议已更新，请阅读最新版本后重新同意。", "The privacy agreement has changed; read the current version and agree again.";
    NameRequired = "name_required", 400, "请填写姓名。", "Please enter your name.";
    IdCardRequired = "id_card_required", 400, "请上传身份证照片。", "Please upload the photos of your ID card.";
    IdentityMismatch = "identity_mismatch", 422, "姓名或身份证号与学校名单中的信息不一致，请核对后重试。", "The name or ID number does not match the school's roster; check them and try again.";
    IdNumberEmpty = "id_number_empty", 422, "请填写身份证号。", "Please enter the ID number.";
    IdNumberLength = "id_number_length", 422, "身份证号应为 18 位。", "The ID number must have 18 characters.";
    IdNumberInvalidChar = "id_number_invalid_char", 422, "身份证号只能包含数字和末位的 X。", "The ID number may contain digits and a final X only.";
    IdNumberRegion = "id_number_region", 422, "身份证号的地区码无效。", "The ID number's region code is not valid.";
    IdNumberBirthDate = "id_number_birth_date", 422, "身份证号中的出生日期无效。", "The ID number's date of birth is not valid.";
    IdNumberCheckDigit = "id_number_check_digit", 422, "身份证号校验位不正确，请核对。", "The ID number's check digit is wrong; check the number.";

    // Payment.
    PaymentNotDue = "payment_not_due", 409, "当前无需支付。", "No payment is due now.";
    PaymentNotCompleted = "payment_not_completed", 400, "支付未完成。", "The payment was not completed.";
    ProviderMismatch = "provider_mismatch", 400, "支付回调来自与订单不符的支付方式。", "The callback comes from a different provider than the order's.";
    AmountMismatch = "amount_mismatch", 400, "支付金额与订单金额不符，已拒绝。", "The paid amount does not match the order; refused.";
    NoCallbacks = "no_callbacks", 400, "免缴费方式没有支付回调。", "The waived provider has no callbacks.";
    BadSignature = "bad_signature", 401, "支付回调签名无效，已拒绝。", "The payment callback signature is invalid; refused.";
    BadCallback = "bad_callback", 400, "支付回调内容无法识别。", "The payment callback body is not understood.";
    PaymentNotConfigured = "payment_not_configured", 503, "学校收取费用，但本系统尚未配置收费方式，请联系学校。", "The school charges a fee but no payment provider is set up here; please contact the school.";
    PaymentTicketInvalid = "payment_ticket_invalid", 403, "支付链接无效，请回到门户重新发起支付。", "The payment link is not valid; start the payment again from the portal.";

    // Uploads.
    UploadTooLarge = "upload_too_large", 413, "上传内容太大。", "The upload is too large.";
    UploadInterrupted = "upload_interrupted", 400, "上传中断或内容不完整，请重新上传。", "The upload was interrupted or incomplete; please upload again.";
    BadMultipart = "bad_multipart", 400, "上传内容格式错误或不完整，请重新上传。", "The upload is malformed or incomplete; please upload again.";
    BadText = "bad_text", 400, "文本内容不是有效的 UTF-8。", "Text is not valid UTF-8.";
    EmptyUpload = "empty_upload", 400, "上传的文件是空的，请重新选择照片。", "The uploaded file is empty; please choose the photo again.";
    NotAnImage = "not_an_image", 415, "文件不是支持的图片格式（JPEG 或 PNG）。", "The file is not a supported image (JPEG or PNG).";
    TruncatedImage = "truncated_image", 400, "图片文件不完整（可能上传中断），请重新上传。", "The image file is incomplete (the upload may have been cut off); please upload it again.";
    BadSource = "bad_source", 400, "照片来源只能是 camera 或 album。", "The photo source must be camera or album.";
    AlbumNotAllowed = "album_not_allowed", 400, "学校要求现场拍摄，不能从相册选择照片。", "Your school requires a photo taken now; choosing from the album is not allowed.";
    PhotoRequired = "photo_required", 400, "请选择或拍摄一张照片。", "Please take or choose a photo.";
    TooManyPhotos = "too_many_photos", 409, "本轮上传的照片已达上限。如需帮助请联系学校。", "You have uploaded the most photos allowed this round. Contact your school for help.";
    NotReadyForPhotos = "not_ready_for_photos", 409, "当前步骤不能上传照片，请按页面提示完成前面的步骤。", "Photos cannot be uploaded at this step; complete the earlier steps first.";

    // The photo's checks (what the student sees when a photo cannot be used).
    NotAnIdCard = "not_an_id_card", 422, "这张图片不是可用的身份证正面照片。", "This picture is not a usable photo of an ID card's front.";
    UnreadableImage = "unreadable_image", 422, "无法读取这张图片，请重新拍摄或选择。", "This image cannot be read; take or choose another.";
    UnsupportedFormat = "unsupported_format", 422, "不支持这种图片格式，请使用 JPEG 或 PNG。", "This image format is not supported; use JPEG or PNG.";
    TooManyPixels = "too_many_pixels", 422, "图片像素过多，请使用较小的照片。", "The image has too many pixels; use a smaller photo.";
    NoFace = "no_face", 422, "照片中没有找到人脸。", "No face was found in the photo.";
    MultipleFaces = "multiple_faces", 422, "照片中有多张人脸，请只拍本人。", "The photo shows more than one face; only you may be in it.";
    FaceTooSmall = "face_too_small", 422, "照片中的人脸太小，请靠近一些。", "The face is too small in the photo; come closer.";
    CannotCrop = "cannot_crop", 422, "无法从这张照片裁出符合要求的证件照。", "No ID photo meeting the spec can be cut from this photo.";
    ModelError = "model_error", 422, "照片检测暂时无法完成，请稍后重试。", "The photo check could not run; try again later.";
    InvalidSpec = "invalid_spec", 422, "照片规格配置无效。", "The photo specification is invalid.";

    // Submitting and withdrawing.
    AttemptOutdated = "attempt_outdated", 409, "这张照片属于之前的一轮，请重新拍摄。", "This photo belongs to an earlier round; please take a new one.";
    AttemptNotReady = "attempt_not_ready", 409, "这张照片尚未完成检测或无法处理，请稍候或重新拍摄。", "This photo has not finished checking or could not be processed; wait or take a new one.";
    PhotoFailedChecks = "photo_failed_checks", 409, "这张照片未通过自动检测，无法生成标准照，请按提示调整后重新拍摄。", "This photo failed the automatic checks and cannot become a standard photo; follow the hints and take a new one.";
    PhotoFailedChecksRetake = "photo_failed_checks_retake", 409, "这张照片未通过自动检测，请按提示调整后重新拍摄。", "This photo failed the automatic checks; follow the hints and take a new one.";
    FaceMismatchRetake = "face_mismatch_retake", 409, "照片中的人脸与身份证照片比对未通过，请重新拍摄。", "The face in the photo does not match the ID card photo. Please retake it.";
    ConcurrentChange = "concurrent_change", 409, "该记录刚被其他操作修改，请刷新后重试。", "This case was changed by another action just now; refresh and try again.";
    NotAllowedInState = "not_allowed_in_state", 409, "当前状态下不能进行此操作。", "This is not possible in the current state.";
    RoleNotPermitted = "role_not_permitted", 409, "您的角色不能进行此操作。", "Your role may not do this.";
    LockedAfterApproval = "locked_after_approval", 409, "照片已审核通过，不能再修改。", "The photo has been approved and can no longer change.";
    AlreadyExported = "already_exported", 409, "照片已报送，不能再修改。", "The photo has been handed over and can no longer change.";

    // Review.
    LeaseLost = "lease_lost", 409, "您已不再持有该审核任务（已超时、已释放或被他人领取），请重新领取。", "You no longer hold this item (the lease ran out, was released or was taken); claim it again.";
    LeaseHeldByOther = "lease_held_by_other", 409, "该审核任务正由其他审核员处理。", "Another reviewer holds this item.";
    LeaseExpired = "lease_expired", 409, "审核任务的领取已超时，请重新领取。", "Your hold on this item ran out; claim it again.";
    NotLeaseHolder = "not_lease_holder", 409, "您没有领取该审核任务。", "You do not hold this item.";
    LeaseUntilInPast = "lease_until_in_past", 409, "领取的截止时间已过。", "The lease would end in the past.";
    AlreadyDecided = "already_decided", 409, "该照片已有审核结果，不能再次审核。", "This photo has already been decided; it cannot be decided again.";
    NoLongerSubmitted = "no_longer_submitted", 409, "学生已撤回该提交，无需再审核。", "The student withdrew this submission; there is nothing to decide.";
    DecisionIdReused = "decision_id_reused", 409, "该 decision_id 已用于另一项不同的审核决定。", "This decision_id was already used for a different decision.";
    BadDecisionId = "bad_decision_id", 400, "decision_id 须为客户端生成的标识（如 UUID），最长 64 个字符。", "decision_id must be a client-generated id (e.g. a UUID), at most 64 characters.";
    ReasonsRequired = "reasons_required", 400, "退回时请至少选择一条原因。", "Choose at least one reason when rejecting.";
    CommentRequired = "comment_required", 400, "选择“其他问题”时，请填写具体的审核意见。", "Reason \"other\" needs a comment explaining the problem.";
    UnknownRejectReason = "unknown_reject_reason", 400, "不通过原因无效。", "Unknown reject reason.";
    CommentTooLong = "comment_too_long", 400, "备注太长。", "The comment is too long.";
    FieldTooLong = "field_too_long", 400, "填写的内容太长。", "A field is too long.";
    FieldBadChar = "field_bad_char", 400, "填写的内容含有不允许的字符。", "A field holds a character it may not hold.";
    BodyTooLarge = "body_too_large", 413, "请求内容太大。", "The request body is too large.";
    OverrideCommentRequired = "override_comment_required", 400, "改判时请说明理由。", "Explain why you override the decision.";
    /// Another override of the case already waits for a second supervisor.
    OverrideAlreadyPending = "override_already_pending", 409, "该学生已有一条待确认的改判申请，请先确认或驳回。", "An override of this case already waits for confirmation; confirm or decline it first.";
    /// The school asks for a second pair of eyes: the requester cannot confirm their own.
    OverrideNeedsAnotherSupervisor = "override_needs_another_supervisor", 403, "改判须由另一位主管确认，不能确认自己的申请。", "Another supervisor must confirm this override; you cannot confirm your own.";
    OverrideRequestClosed = "override_request_closed", 409, "该改判申请已处理。", "This override request has already been answered.";
    DeclineCommentRequired = "decline_comment_required", 400, "驳回改判申请时请说明理由。", "Explain why you decline the override.";
    /// A sample already has another supervisor's (or another) answer.
    RereviewAlreadyDone = "rereview_already_done", 409, "该抽检已复核，结果不能更改。", "This sample has already been re-reviewed; the answer cannot change.";
    LeaseRequired = "lease_required", 403, "只有在您领取该照片审核期间，才能查看敏感信息。", "Sensitive data can be viewed only while you hold the item for review.";
    ReasonRequired = "reason_required", 400, "查看敏感信息须填写理由。", "Viewing sensitive data needs a reason.";
    HoldLimitReached = "hold_limit_reached", 409, "您领取的照片已达上限，请先审核或释放后再领取。", "You hold as many items as allowed; decide or release some first.";
    BadClaim = "bad_claim", 400, "请指定 count 或 case_id 其中之一。", "Give either count or case_id.";
    BadImageKind = "bad_image_kind", 400, "图片类型须为 id_front、id_back、enrollment、original 或 standardized。", "The image kind must be id_front, id_back, enrollment, original or standardized.";
    BadQueueState = "bad_queue_state", 400, "审核队列只能按 待审核、审核中、未通过、已通过 筛选。", "The queue can be filtered by pending_review, in_review, rejected or approved only.";
    BadWaitingMin = "bad_waiting_min", 400, "等待时长不能为负数。", "The waiting time must not be negative.";
    BadLimit = "bad_limit", 400, "每页数量超出范围。", "The page size is out of range.";
    BadDateRange = "bad_date_range", 400, "日期范围无效：请按 YYYY-MM-DD 填写，开始不晚于结束，最长一年。", "The date range is invalid: use YYYY-MM-DD, a start not after the end, at most a year.";
    BadCursor = "bad_cursor", 400, "分页游标无效，请从第一页重新开始。", "The page cursor is invalid; start again from the first page.";

    // Administration.
    BadRole = "bad_role", 400, "学生不使用账号登录，请使用 reviewer、supervisor 或 admin。", "Students do not have accounts; use reviewer, supervisor or admin.";
    UnknownRole = "unknown_role", 400, "未知的角色。", "Unknown role.";
    UnknownSchool = "unknown_school", 422, "没有这所学校。", "There is no such school.";
    BadUsername = "bad_username", 400, "用户名不能为空、不能含空格，且不超过64个字符。", "Usernames must be 1–64 characters without spaces.";
    UsernameTaken = "username_taken", 409, "用户名已存在。", "The username is already taken.";
    StudentNoTaken = "student_no_taken", 409, "学号已属于另一名学生，整个文件未导入。", "A student number belongs to another student; nothing was imported.";
    RosterInvalid = "roster_invalid", 422, "名单有错误，未导入任何记录。", "The roster has errors; nothing was imported.";
    DemoExists = "demo_exists", 409, "演示数据已经存在。", "The demo data already exists.";
    PolicyNegativeFee = "policy_negative_fee", 400, "费用不能为负数。", "The fee must not be negative.";
    PolicyNoAttempts = "policy_no_attempts", 400, "每轮至少允许上传一张照片。", "At least one photo per round must be allowed.";
    PolicyNoFaceMatchFailures = "policy_no_face_match_failures", 400, "人像比对允许的失败次数至少为 1。", "At least one failed face comparison must be allowed.";
    PolicyNoCheckFailures = "policy_no_check_failures", 400, "检测允许的失败次数至少为 1。", "At least one failed check must be allowed.";
    PolicyMissingPrivacyVersion = "policy_missing_privacy_version", 400, "请填写隐私协议版本。", "The privacy agreement version is missing.";
    PolicyMissingSupportPhone = "policy_missing_support_phone", 400, "请填写咨询电话。", "The support phone number is missing.";
    PolicyMissingSupportHours = "policy_missing_support_hours", 400, "请填写咨询时间。", "The support hours are missing.";
    PolicyNoRetention = "policy_no_retention", 400, "保存期限至少为 1 天。", "The retention period must be at least one day.";
    PolicyNoReviewSla = "policy_no_review_sla", 400, "审核时限至少为 1 个工作日。", "The review deadline must be at least one working day.";
    PolicyBadHoliday = "policy_bad_holiday", 400, "节假日日期格式不正确（YYYY-MM-DD）。", "A holiday is not a YYYY-MM-DD date.";
    PolicyRereviewPercent = "policy_rereview_percent", 400, "抽检复核比例须在 0 到 100 之间。", "The re-review share must be between 0 and 100 percent.";
    PolicyPhotoSizeWindow = "policy_photo_size_window", 400, "照片文件大小范围不可用。", "The photo file size window cannot be used.";
    PolicyBadDeadline = "policy_bad_deadline", 400, "提交截止日期格式不正确（YYYY-MM-DD）。", "The submission deadline is not a YYYY-MM-DD date.";
    PolicyPrivacyTextTooLong = "policy_privacy_text_too_long", 400, "隐私协议太长。", "The privacy agreement is too long.";
    PolicyPrivacyVersionUnchanged = "policy_privacy_version_unchanged", 409, "隐私协议内容已修改，请同时更新协议版本。", "The privacy agreement changed: give it a new version too.";
    NoActiveCode = "no_active_code", 409, "该学生没有可用的采集码，请先发放。", "The student has no active code; issue one first.";
    CannotChangeOwnAccount = "cannot_change_own_account", 409, "不能停用自己的账号或修改自己的角色，请由另一位管理员操作。", "You cannot disable your own account or change your own role; ask another administrator.";
    PolicyVersionStale = "policy_version_stale", 409, "学校政策已被他人修改，请刷新后在最新版本上修改。", "Someone else changed the school policy; reload it and make your change on the latest version.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_name() {
        for &code in ErrorCode::ALL {
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(wire, serde_json::Value::from(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(wire).unwrap(), code);
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn wire_names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
        }
    }

    #[test]
    fn a_code_newer_than_the_client_reads_as_unknown_and_keeps_its_messages() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"code":"some_future_code","message_zh":"新","message_en":"new"}"#,
        )
        .unwrap();
        assert_eq!(body.code, ErrorCode::Unknown);
        assert_eq!(body.message_en, "new");
    }

    #[test]
    fn every_status_is_an_error_status() {
        for &code in ErrorCode::ALL {
            assert!((400..600).contains(&code.status()), "{}", code.as_str());
            assert!(!code.message_zh().is_empty() && !code.message_en().is_empty());
        }
    }
}
