//! The one error type of the vision crate. Every variant has a stable code and a zh-CN and an
//! English message written for the person who took the photo.

use gradphoto_domain::Localized;

#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    /// The bytes are not a readable image of a supported kind (truncated, corrupt, not an image).
    #[error("unreadable image: {0}")]
    UnreadableImage(String),
    /// A real image, but in a format the product does not accept.
    #[error("unsupported image format: {0}")]
    UnsupportedFormat(String),
    /// The header announces more pixels than allowed (decompression-bomb guard).
    #[error("image has {pixels} pixels, more than the limit of {limit}")]
    TooManyPixels { pixels: u64, limit: u64 },
    #[error("no face found")]
    NoFace,
    #[error("{count} faces found")]
    MultipleFaces { count: usize },
    /// The face is smaller in the original than the spec needs; the product never upscales.
    #[error(
        "face too small: {face_width_px:.0} px wide, the spec needs at least {needed_px:.0} px"
    )]
    FaceTooSmall { face_width_px: f64, needed_px: f64 },
    /// No placement of the spec's frame meets every band without inventing pixels where the
    /// person is; the shortfall says which requirement fails.
    #[error("cannot crop: {0}")]
    CannotCrop(CropShortfall),
    #[error("model error: {0}")]
    Model(String),
    /// The photo spec itself is unusable (e.g. a size window no JPEG quality can reach).
    #[error("invalid photo spec: {0}")]
    InvalidSpec(String),
    /// A picture given as the front of an ID card is not one the face comparison can use.
    #[error("not an ID card front: {0:?}")]
    NotAnIdCard(CardProblem),
}

/// Why a picture is not an ID card front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardProblem {
    /// No face anywhere on it (a blank page, the back side, a blurred shot).
    NoPortrait,
    /// No card text could be read: a portrait photo, or a card too blurred, dark or far away.
    NoCardText,
}

/// Which side of the photo lacks room for the spec crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropShortfall {
    /// The top of the photo cuts through the forehead: the head cannot be completed.
    Top,
    /// Not enough of the shoulders below the chin.
    Bottom,
    Left,
    Right,
    /// From the eyes to the top of the hair (or headwear) the head is too tall for the spec's
    /// face-width and hair-top bands together.
    HeadTooTall,
}

impl std::fmt::Display for CropShortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CropShortfall::Top => "the top of the head is cut off",
            CropShortfall::Bottom => "not enough room below the chin",
            CropShortfall::Left => "not enough room left of the head",
            CropShortfall::Right => "not enough room right of the head",
            CropShortfall::HeadTooTall => "hair or headwear too tall for the spec",
        })
    }
}

impl Localized for VisionError {
    fn code(&self) -> &'static str {
        match self {
            VisionError::UnreadableImage(_) => "unreadable_image",
            VisionError::UnsupportedFormat(_) => "unsupported_format",
            VisionError::TooManyPixels { .. } => "too_many_pixels",
            VisionError::NoFace => "no_face",
            VisionError::MultipleFaces { .. } => "multiple_faces",
            VisionError::FaceTooSmall { .. } => "face_too_small",
            VisionError::CannotCrop(_) => "cannot_crop",
            VisionError::Model(_) => "model_error",
            VisionError::InvalidSpec(_) => "invalid_spec",
            VisionError::NotAnIdCard(_) => "not_an_id_card",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            VisionError::UnreadableImage(_) => {
                "无法读取这张图片：文件可能已损坏或不完整。请重新拍摄或重新选择一张 JPEG 照片。".into()
            }
            VisionError::UnsupportedFormat(f) => format!(
                "暂不支持这种图片格式（{f}）。请上传 JPEG 或 PNG 照片；iPhone 可在“设置 > 相机 > 格式”中选择“兼容性最佳”。"
            ),
            VisionError::TooManyPixels { pixels, limit } => format!(
                "图片像素过多（{:.0} 万像素，上限 {:.0} 万像素）。请上传手机相机拍摄的普通照片。",
                *pixels as f64 / 1e4,
                *limit as f64 / 1e4
            ),
            VisionError::NoFace => {
                "照片中没有找到人脸。请正对镜头、露出完整面部，在光线充足处重新拍摄。".into()
            }
            VisionError::MultipleFaces { count } => format!(
                "照片中有 {count} 张人脸。学历照片只能有本人一人，请单独拍摄。"
            ),
            VisionError::FaceTooSmall { face_width_px, needed_px } => format!(
                "照片中的人脸太小（脸宽约 {face_width_px:.0} 像素，规格至少需要 {needed_px:.0} 像素），系统不会放大照片。请拍摄者走近一些，并使用相机的全分辨率（不要截图或压缩）重新拍摄。"
            ),
            VisionError::CannotCrop(side) => match side {
                CropShortfall::Top => "无法按规格裁剪：照片上边缘切到了额头，头顶没有拍进来。请拍摄者把手机稍微抬高或后退一些，让整个头部（含头发）和头顶上方的一点墙面都在画面里。".into(),
                CropShortfall::Bottom => "无法按规格裁剪：下巴以下（肩部）拍得不够。请拍摄者后退一些，拍到胸部以上的半身像。".into(),
                CropShortfall::Left | CropShortfall::Right => "无法按规格裁剪：肩膀被照片两侧切掉了。请拍摄者后退一些，让头部位于画面正中，两肩完整入镜。".into(),
                CropShortfall::HeadTooTall => "无法按规格裁剪：从眼睛到头顶（头发或头饰）太高，无法同时满足脸宽和头顶位置的要求。请摘下帽子、头饰，把蓬起的头发梳平后重新拍摄。".into(),
            },
            VisionError::Model(_) => {
                "照片分析时出现内部错误。请稍后重试；如果一直出现，请联系学校客服。".into()
            }
            VisionError::InvalidSpec(_) => {
                "照片规格配置有误，无法生成标准照。请联系学校管理员。".into()
            }
            VisionError::NotAnIdCard(CardProblem::NoPortrait) => {
                "这张图片中找不到身份证人像。请在光线充足处拍摄身份证正面（带照片的一面），让整张卡片清晰、完整地出现在画面中。".into()
            }
            VisionError::NotAnIdCard(CardProblem::NoCardText) => {
                "无法识别身份证上的文字：这张图片可能不是身份证正面，或拍得太模糊、太暗、太远。请在光线充足处对准身份证正面（带照片的一面）重新拍摄，让整张卡片清晰地占满大部分画面。".into()
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            VisionError::UnreadableImage(_) => "This image cannot be read: the file may be damaged or incomplete. Please take or choose the photo again as a JPEG.".into(),
            VisionError::UnsupportedFormat(f) => format!(
                "This image format ({f}) is not supported. Please upload a JPEG or PNG photo; on an iPhone choose Settings > Camera > Formats > Most Compatible."
            ),
            VisionError::TooManyPixels { pixels, limit } => format!(
                "The image has too many pixels ({:.1} MP, the limit is {:.1} MP). Please upload an ordinary photo from a phone camera.",
                *pixels as f64 / 1e6,
                *limit as f64 / 1e6
            ),
            VisionError::NoFace => "No face was found in the photo. Face the camera with your whole face visible, in good light, and take the photo again.".into(),
            VisionError::MultipleFaces { count } => format!(
                "The photo shows {count} faces. A graduation photo must show only you: please take it alone."
            ),
            VisionError::FaceTooSmall { face_width_px, needed_px } => format!(
                "The face is too small for the photo spec (about {face_width_px:.0} px wide, at least {needed_px:.0} px needed), and photos are never enlarged. Ask the photographer to step closer and use the camera's full resolution (no screenshots or compressed copies)."
            ),
            VisionError::CannotCrop(side) => match side {
                CropShortfall::Top => "The photo cannot be cropped to the spec: its top edge cuts through the forehead, so the top of the head is missing. Ask the photographer to raise the phone a little or step back, so the whole head with the hair and a little wall above it is in the picture.".into(),
                CropShortfall::Bottom => "The photo cannot be cropped to the spec: not enough of the shoulders below the chin is in the photo. Ask the photographer to step back and frame you from the chest up.".into(),
                CropShortfall::Left | CropShortfall::Right => "The photo cannot be cropped to the spec: the shoulders are cut off at the sides. Ask the photographer to step back, with your head in the middle of the picture and both shoulders in it.".into(),
                CropShortfall::HeadTooTall => "The photo cannot be cropped to the spec: from the eyes to the top of the hair or headwear the head is too tall to meet both the face-width and the hair-top requirements. Take off any hat or headwear, smooth down raised hair, and retake.".into(),
            },
            VisionError::Model(_) => "An internal error occurred while analysing the photo. Please try again later; if it keeps happening, contact the school's support line.".into(),
            VisionError::InvalidSpec(_) => "The photo specification is misconfigured, so no standardized photo can be made. Please contact the school's administrator.".into(),
            VisionError::NotAnIdCard(CardProblem::NoPortrait) => "No ID-card portrait was found in this picture. Photograph the front of the ID card (the side with the photo) in good light, with the whole card sharp and in the picture.".into(),
            VisionError::NotAnIdCard(CardProblem::NoCardText) => "The text of an ID card cannot be read in this picture: it may not be the card's front, or it is too blurred, dark or far away. Photograph the front of the ID card (the side with the photo) again in good light, with the whole card sharp and filling most of the picture.".into(),
        }
    }
}

impl From<tract_onnx::prelude::TractError> for VisionError {
    fn from(e: tract_onnx::prelude::TractError) -> Self {
        VisionError::Model(format!("{e:#}"))
    }
}
