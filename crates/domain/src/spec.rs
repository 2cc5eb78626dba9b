//! The output photo specification (CHSI 学历照片 by default; every number configurable).

use serde::{Deserialize, Serialize};

use crate::Localized;

/// A 24-bit colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rgb {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Rgb {
    /// The CHSI default background.
    pub const LIGHT_BLUE: Rgb = Rgb::new(100, 197, 255);
    pub const WHITE: Rgb = Rgb::new(255, 255, 255);
    pub const LIGHT_GREY: Rgb = Rgb::new(240, 240, 240);

    pub const fn new(r: u8, g: u8, b: u8) -> Rgb {
        Rgb { r, g, b }
    }

    /// `#RRGGBB`, upper case.
    pub fn to_hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.r, self.g, self.b)
    }
}

/// The background colours a school may choose for its standardized photos: CHSI's light blue
/// (学信网 学历照片, the default), white and light grey (as other registries and many
/// schools' own records ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Background {
    #[default]
    LightBlue,
    White,
    LightGrey,
}

impl Background {
    pub const ALL: [Background; 3] = [
        Background::LightBlue,
        Background::White,
        Background::LightGrey,
    ];

    /// The wire name (`light_blue`, `white`, `light_grey`).
    pub fn code(self) -> &'static str {
        match self {
            Background::LightBlue => "light_blue",
            Background::White => "white",
            Background::LightGrey => "light_grey",
        }
    }

    pub fn from_code(code: &str) -> Option<Background> {
        Background::ALL.into_iter().find(|b| b.code() == code)
    }

    pub fn rgb(self) -> Rgb {
        match self {
            Background::LightBlue => Rgb::LIGHT_BLUE,
            Background::White => Rgb::WHITE,
            Background::LightGrey => Rgb::LIGHT_GREY,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Background::LightBlue => "浅蓝色",
            Background::White => "白色",
            Background::LightGrey => "浅灰色",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Background::LightBlue => "light blue",
            Background::White => "white",
            Background::LightGrey => "light grey",
        }
    }
}

/// An inclusive pixel range, `min <= max` once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Range {
    pub min: u32,
    pub max: u32,
}

impl Range {
    pub const fn new(min: u32, max: u32) -> Range {
        Range { min, max }
    }

    pub fn contains(self, v: u32) -> bool {
        self.min <= v && v <= self.max
    }

    /// Middle of the range, the target standardization aims for.
    pub fn mid(self) -> u32 {
        self.min + (self.max.saturating_sub(self.min)) / 2
    }
}

/// What the standardized photo must look like. Vertical positions are measured from the top
/// edge of the output image; widths in output pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PhotoSpec {
    pub width: u32,
    pub height: u32,
    /// Written into the JPEG (JFIF density).
    pub dpi: u32,
    /// Lowest JPEG quality the encoder may use to fit the size window.
    pub min_jpeg_quality: u8,
    /// File size window in KiB (1024 bytes).
    pub min_kb: u32,
    pub max_kb: u32,
    /// Top of the hair below the top edge.
    pub hair_top_px: Range,
    /// Eye line below the top edge.
    pub eye_line_px: Range,
    /// Face width, cheek to cheek.
    pub face_width_px: Range,
    pub background: Rgb,
}

impl Default for PhotoSpec {
    fn default() -> Self {
        PhotoSpec::chsi()
    }
}

impl PhotoSpec {
    /// CHSI 学历照片 (教毕指〔2017〕99号): 480×640, 300 dpi, 20–40 KB, light blue background.
    pub fn chsi() -> PhotoSpec {
        PhotoSpec {
            width: 480,
            height: 640,
            dpi: 300,
            min_jpeg_quality: 60,
            min_kb: 20,
            max_kb: 40,
            hair_top_px: Range::new(50, 110),
            eye_line_px: Range::new(200, 300),
            face_width_px: Range::new(180, 300),
            background: Rgb::LIGHT_BLUE,
        }
    }

    pub fn min_bytes(&self) -> u64 {
        u64::from(self.min_kb) * 1024
    }

    pub fn max_bytes(&self) -> u64 {
        u64::from(self.max_kb) * 1024
    }

    /// Checks the spec is internally consistent, so standardization can always aim for it.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.width == 0 || self.height == 0 {
            return Err(SpecError::EmptyImage {
                width: self.width,
                height: self.height,
            });
        }
        if self.dpi == 0 {
            return Err(SpecError::ZeroDpi);
        }
        if !(1..=100).contains(&self.min_jpeg_quality) {
            return Err(SpecError::JpegQuality(self.min_jpeg_quality));
        }
        if self.max_kb == 0 || self.min_kb > self.max_kb {
            return Err(SpecError::SizeWindow {
                min_kb: self.min_kb,
                max_kb: self.max_kb,
            });
        }
        let ranges = [
            (SpecField::HairTop, self.hair_top_px, self.height),
            (SpecField::EyeLine, self.eye_line_px, self.height),
            (SpecField::FaceWidth, self.face_width_px, self.width),
        ];
        for (field, range, limit) in ranges {
            if range.min > range.max {
                return Err(SpecError::RangeUnordered {
                    field,
                    min: range.min,
                    max: range.max,
                });
            }
            if range.max > limit {
                return Err(SpecError::RangeOutsideImage {
                    field,
                    max: range.max,
                    limit,
                });
            }
        }
        if self.face_width_px.min == 0 {
            return Err(SpecError::RangeUnordered {
                field: SpecField::FaceWidth,
                min: 0,
                max: self.face_width_px.max,
            });
        }
        // The hair line must be able to sit above the eyes or no photo can satisfy both.
        if self.hair_top_px.min >= self.eye_line_px.max {
            return Err(SpecError::HairBelowEyes {
                hair_top_min: self.hair_top_px.min,
                eye_line_max: self.eye_line_px.max,
            });
        }
        Ok(())
    }
}

/// Which range of the spec a [`SpecError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecField {
    HairTop,
    EyeLine,
    FaceWidth,
}

impl SpecField {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecField::HairTop => "hair_top_px",
            SpecField::EyeLine => "eye_line_px",
            SpecField::FaceWidth => "face_width_px",
        }
    }

    fn label_zh(self) -> &'static str {
        match self {
            SpecField::HairTop => "头顶位置",
            SpecField::EyeLine => "眼睛位置",
            SpecField::FaceWidth => "脸宽",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("image size {width}x{height} is empty")]
    EmptyImage { width: u32, height: u32 },
    #[error("dpi must be positive")]
    ZeroDpi,
    #[error("minimum JPEG quality {0} is outside 1..=100")]
    JpegQuality(u8),
    #[error("file size window {min_kb}..{max_kb} KB is invalid")]
    SizeWindow { min_kb: u32, max_kb: u32 },
    #[error("{} range {min}..{max} is not ordered", field.as_str())]
    RangeUnordered {
        field: SpecField,
        min: u32,
        max: u32,
    },
    #[error("{} maximum {max} exceeds the image dimension {limit}", field.as_str())]
    RangeOutsideImage {
        field: SpecField,
        max: u32,
        limit: u32,
    },
    #[error("hair top minimum {hair_top_min} is not above eye line maximum {eye_line_max}")]
    HairBelowEyes {
        hair_top_min: u32,
        eye_line_max: u32,
    },
}

impl Localized for SpecError {
    fn code(&self) -> &'static str {
        match self {
            SpecError::EmptyImage { .. } => "spec_empty_image",
            SpecError::ZeroDpi => "spec_zero_dpi",
            SpecError::JpegQuality(_) => "spec_jpeg_quality",
            SpecError::SizeWindow { .. } => "spec_size_window",
            SpecError::RangeUnordered { .. } => "spec_range_unordered",
            SpecError::RangeOutsideImage { .. } => "spec_range_outside_image",
            SpecError::HairBelowEyes { .. } => "spec_hair_below_eyes",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            SpecError::EmptyImage { width, height } => {
                format!("照片尺寸 {width}×{height} 无效，宽和高都必须大于 0。")
            }
            SpecError::ZeroDpi => "分辨率（DPI）必须大于 0。".to_string(),
            SpecError::JpegQuality(q) => format!("JPEG 最低质量 {q} 无效，应在 1 到 100 之间。"),
            SpecError::SizeWindow { min_kb, max_kb } => {
                format!("文件大小范围 {min_kb}–{max_kb} KB 无效：上限必须大于 0 且不小于下限。")
            }
            SpecError::RangeUnordered { field, min, max } => format!(
                "{}范围 {min}–{max} 像素无效：下限不能大于上限，且必须大于 0。",
                field.label_zh()
            ),
            SpecError::RangeOutsideImage { field, max, limit } => format!(
                "{}上限 {max} 像素超出了照片尺寸 {limit} 像素。",
                field.label_zh()
            ),
            SpecError::HairBelowEyes {
                hair_top_min,
                eye_line_max,
            } => format!(
                "头顶位置下限 {hair_top_min} 像素不在眼睛位置上限 {eye_line_max} 像素之上，无法同时满足。"
            ),
        }
    }

    fn message_en(&self) -> String {
        match self {
            SpecError::EmptyImage { width, height } => {
                format!("Image size {width}×{height} is invalid; both must be positive.")
            }
            SpecError::ZeroDpi => "DPI must be positive.".to_string(),
            SpecError::JpegQuality(q) => {
                format!("Minimum JPEG quality {q} is invalid; use 1 to 100.")
            }
            SpecError::SizeWindow { min_kb, max_kb } => format!(
                "File size window {min_kb}–{max_kb} KB is invalid: the maximum must be positive and not below the minimum."
            ),
            SpecError::RangeUnordered { field, min, max } => format!(
                "Range {} {min}–{max} px is invalid: the minimum must be positive and not above the maximum.",
                field.as_str()
            ),
            SpecError::RangeOutsideImage { field, max, limit } => format!(
                "Range {} maximum {max} px exceeds the image dimension {limit} px.",
                field.as_str()
            ),
            SpecError::HairBelowEyes {
                hair_top_min,
                eye_line_max,
            } => format!(
                "Hair top minimum {hair_top_min} px is not above the eye line maximum {eye_line_max} px; no photo can satisfy both."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chsi_defaults_are_valid() {
        let s = PhotoSpec::chsi();
        assert_eq!((s.width, s.height, s.dpi), (480, 640, 300));
        assert_eq!((s.min_kb, s.max_kb, s.min_jpeg_quality), (20, 40, 60));
        assert_eq!(s.background, Rgb::LIGHT_BLUE);
        assert_eq!(s.background.to_hex(), "#64C5FF");
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(PhotoSpec::default(), s);
        assert_eq!(s.max_bytes(), 40 * 1024);
    }

    #[test]
    fn validate_catches_each_problem() {
        let base = PhotoSpec::chsi();
        let cases = [
            (
                PhotoSpec {
                    min_kb: 50,
                    ..base.clone()
                },
                "spec_size_window",
            ),
            (
                PhotoSpec {
                    min_jpeg_quality: 0,
                    ..base.clone()
                },
                "spec_jpeg_quality",
            ),
            (
                PhotoSpec {
                    min_jpeg_quality: 101,
                    ..base.clone()
                },
                "spec_jpeg_quality",
            ),
            (
                PhotoSpec {
                    eye_line_px: Range::new(300, 200),
                    ..base.clone()
                },
                "spec_range_unordered",
            ),
            (
                PhotoSpec {
                    face_width_px: Range::new(180, 481),
                    ..base.clone()
                },
                "spec_range_outside_image",
            ),
            (
                PhotoSpec {
                    eye_line_px: Range::new(200, 700),
                    ..base.clone()
                },
                "spec_range_outside_image",
            ),
            (
                PhotoSpec {
                    hair_top_px: Range::new(320, 330),
                    ..base.clone()
                },
                "spec_hair_below_eyes",
            ),
            (
                PhotoSpec {
                    width: 0,
                    ..base.clone()
                },
                "spec_empty_image",
            ),
            (PhotoSpec { dpi: 0, ..base }, "spec_zero_dpi"),
        ];
        for (spec, code) in cases {
            let err = spec.validate().unwrap_err();
            assert_eq!(err.code(), code, "{spec:?}");
            assert!(!err.message_zh().is_empty() && !err.message_en().is_empty());
        }
    }

    #[test]
    fn toml_round_trip() {
        let spec = PhotoSpec {
            background: Rgb::WHITE,
            max_kb: 200,
            ..PhotoSpec::chsi()
        };
        let text = toml::to_string(&spec).unwrap();
        let back: PhotoSpec = toml::from_str(&text).unwrap();
        assert_eq!(back, spec);

        let hand_written = r#"
            width = 480
            height = 640
            dpi = 300
            min_jpeg_quality = 60
            min_kb = 20
            max_kb = 40
            hair_top_px = { min = 50, max = 110 }
            eye_line_px = { min = 200, max = 300 }
            face_width_px = { min = 180, max = 300 }
            background = { r = 67, g = 142, b = 219 }
        "#;
        let parsed: PhotoSpec = toml::from_str(hand_written).unwrap();
        assert_eq!(parsed.background, Rgb::new(67, 142, 219));
        assert_eq!(parsed.validate(), Ok(()));
    }

    #[test]
    fn range_helpers() {
        let r = Range::new(200, 300);
        assert!(r.contains(200) && r.contains(300) && !r.contains(301));
        assert_eq!(r.mid(), 250);
    }
}
