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
    /// The spec crop would need padding: not enough image above the head or below the chin.
    #[error("cannot crop: {0}")]
    CannotCrop(CropShortfall),
    #[error("model error: {0}")]
    Model(String),
    /// The photo spec itself is unusable (e.g. a size window no JPEG quality can reach).
    #[error("invalid photo spec: {0}")]
    InvalidSpec(String),
}

/// Which side of the photo lacks room for the spec crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropShortfall {
    Top,
    Bottom,
    Left,
    Right,
}

impl std::fmt::Display for CropShortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CropShortfall::Top => "not enough room above the head",
            CropShortfall::Bottom => "not enough room below the chin",
            CropShortfall::Left => "not enough room left of the head",
            CropShortfall::Right => "not enough room right of the head",
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
            VisionError::CannotCrop(side) => {
                let what = match side {
                    CropShortfall::Top => "头顶上方留白不够",
                    CropShortfall::Bottom => "下巴以下（肩部）拍得不够",
                    CropShortfall::Left | CropShortfall::Right => "头部两侧留白不够",
                };
                format!(
                    "无法按规格裁剪：{what}。请拍摄者后退一些，拍到胸部以上的半身像，头部居中，上方留出空白。"
                )
            }
            VisionError::Model(_) => {
                "照片分析时出现内部错误。请稍后重试；如果一直出现，请联系学校客服。".into()
            }
            VisionError::InvalidSpec(_) => {
                "照片规格配置有误，无法生成标准照。请联系学校管理员。".into()
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
            VisionError::CannotCrop(side) => {
                let what = match side {
                    CropShortfall::Top => "there is not enough room above the head",
                    CropShortfall::Bottom => "not enough of the shoulders below the chin is in the photo",
                    CropShortfall::Left | CropShortfall::Right => "there is not enough room beside the head",
                };
                format!(
                    "The photo cannot be cropped to the spec: {what}. Ask the photographer to step back, frame you from the chest up with the head centred and space above it."
                )
            }
            VisionError::Model(_) => "An internal error occurred while analysing the photo. Please try again later; if it keeps happening, contact the school's support line.".into(),
            VisionError::InvalidSpec(_) => "The photo specification is misconfigured, so no standardized photo can be made. Please contact the school's administrator.".into(),
        }
    }
}

impl From<tract_onnx::prelude::TractError> for VisionError {
    fn from(e: tract_onnx::prelude::TractError) -> Self {
        VisionError::Model(format!("{e:#}"))
    }
}
