//! The photo rules as the student reads them before taking the photo, zh-CN and English. The
//! checks that enforce them are the measures (`measures.rs`); reviewers hold photos to the same
//! list.

/// `(id, zh-CN, English)`, in the order they are shown.
pub const PHOTO_RULES: &[(&str, &str, &str)] = &[
    ("room", "在光线明亮的室内，站在干净的纯白墙面前约1米处。", "In a bright room, stand about 1 m in front of a clean plain white wall."),
    ("rear_camera", "请他人用手机后置摄像头拍摄半身照（至胸部），不要自拍。", "Have someone else take a half-body photo (to the chest) with the rear camera; no selfies."),
    ("ears_forehead", "露出双耳和额头，头发不遮挡眉毛、眼睛和耳朵。", "Ears and forehead visible; hair off the eyebrows, eyes and ears."),
    ("pose", "正对镜头，双肩水平，表情自然，双唇闭合。", "Face the camera, shoulders level, natural expression, lips closed."),
    ("glasses", "不戴有色眼镜；可戴普通眼镜，但镜片不能反光，镜框不能遮挡眼睛。", "No tinted glasses; regular glasses are fine without glare and with frames clear of the eyes."),
    ("accessories", "不戴帽子、头饰、耳环、项链等饰物。", "No headwear, earrings, necklaces or other accessories."),
    ("clothing", "穿单色有领上衣；不穿无袖、低领或花纹复杂的衣服；不要穿蓝色衣服（背景会被替换为蓝色）。", "Wear a single-colour collared top; no sleeveless, low-cut or busy patterns; no blue clothing (the background becomes blue)."),
    ("shadow", "脸部光线均匀，不能有阴阳脸。", "Even light on the face, no shadow on one side."),
    ("natural", "不化妆，不使用美颜滤镜，不戴彩色隐形眼镜。", "No make-up, beauty filters or coloured contact lenses."),
];
