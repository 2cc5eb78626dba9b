//! Decoding uploaded photos: format sniffing, a pixel-count limit checked from the header before
//! any pixel is decoded (decompression bombs), EXIF metadata and orientation, and JPEG decoding
//! at a reduced scale (DCT scaling) when the full resolution is not needed.

use std::io::Cursor;

use image::{DynamicImage, RgbImage};
use serde::{Deserialize, Serialize};

use crate::error::VisionError;

/// Limits applied before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted width × height as announced by the file header.
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_pixels: 50_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    Jpeg,
    Png,
}

/// Camera metadata kept from EXIF. Strings are trimmed; absent tags are `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExifInfo {
    pub make: Option<String>,
    pub model: Option<String>,
    pub lens_make: Option<String>,
    pub lens_model: Option<String>,
    pub software: Option<String>,
    /// Focal length in mm (actual, not 35 mm equivalent).
    pub focal_length_mm: Option<f64>,
    /// 35 mm-equivalent focal length in mm.
    pub focal_length_35mm: Option<f64>,
    /// EXIF orientation 1–8 as found in the file (1 when absent); already applied to pixels.
    pub orientation: u16,
}

/// A decoded photo, upright (EXIF orientation applied).
#[derive(Debug, Clone)]
pub struct Decoded {
    pub rgb: RgbImage,
    pub exif: ExifInfo,
    /// Upright size of the full-resolution original.
    pub original_size: (u32, u32),
    pub format: ImageFormat,
    /// `rgb` is the original reduced by this factor (1, 2, 4 or 8): pixel `i` of `rgb` covers
    /// original pixels `[i·r, (i+1)·r)`.
    pub reduction: u32,
}

impl Decoded {
    /// Working-image pixels per original pixel.
    pub fn scale(&self) -> f64 {
        1.0 / f64::from(self.reduction)
    }
}

/// Decodes at full resolution.
pub fn decode(bytes: &[u8], limits: DecodeLimits) -> Result<Decoded, VisionError> {
    decode_reduced(bytes, limits, 1)
}

/// Decodes reduced by the largest factor in {1, 2, 4, 8} that is ≤ `max_reduction` (JPEG only:
/// the IDCT produces the smaller image directly, which is several times faster than decoding
/// everything and resizing; PNG is always decoded whole).
pub fn decode_reduced(
    bytes: &[u8],
    limits: DecodeLimits,
    max_reduction: u32,
) -> Result<Decoded, VisionError> {
    let format = sniff(bytes)?;
    let exif = read_exif(bytes);
    let (rgb, full, reduction) = match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, limits, max_reduction)?,
        ImageFormat::Png => decode_png(bytes, limits)?,
    };
    let mut img = DynamicImage::ImageRgb8(rgb);
    let swaps = matches!(exif.orientation, 5..=8);
    if let Some(o) = u8::try_from(exif.orientation)
        .ok()
        .and_then(image::metadata::Orientation::from_exif)
    {
        img.apply_orientation(o);
    }
    let original_size = if swaps { (full.1, full.0) } else { full };
    Ok(Decoded {
        rgb: img.into_rgb8(),
        exif,
        original_size,
        format,
        reduction,
    })
}

/// Width and height announced by the header, without decoding pixels.
pub fn header_size(bytes: &[u8]) -> Result<(u32, u32), VisionError> {
    match sniff(bytes)? {
        ImageFormat::Jpeg => {
            let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
            d.read_info().map_err(unreadable)?;
            let info = d
                .info()
                .ok_or_else(|| VisionError::UnreadableImage("no JPEG frame header".into()))?;
            Ok((u32::from(info.width), u32::from(info.height)))
        }
        ImageFormat::Png => {
            use image::ImageDecoder;
            let d = image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(unreadable)?;
            Ok(d.dimensions())
        }
    }
}

fn unreadable(e: impl std::fmt::Display) -> VisionError {
    VisionError::UnreadableImage(e.to_string())
}

fn check_pixels(w: u32, h: u32, limits: DecodeLimits) -> Result<(), VisionError> {
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(VisionError::TooManyPixels {
            pixels,
            limit: limits.max_pixels,
        });
    }
    if pixels == 0 {
        return Err(VisionError::UnreadableImage("image has no pixels".into()));
    }
    Ok(())
}

/// The format of an image from its first bytes: one this crate decodes, or
/// [`VisionError::UnsupportedFormat`] naming a known image format it does not (so the person
/// can be told which), or [`VisionError::UnreadableImage`]. The server accepts uploads by this,
/// so it takes exactly what the analysis can read.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, VisionError> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageFormat::Png);
    }
    let unsupported = |name: &str| Err(VisionError::UnsupportedFormat(name.to_string()));
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        // ISO media files share the `ftyp` box; only the HEIF and AVIF brands are pictures
        // (others are videos, which are not images at all).
        const HEIF_BRANDS: [&[u8]; 8] = [
            b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
        ];
        match &bytes[8..12] {
            b"avif" | b"avis" => return unsupported("AVIF"),
            brand if HEIF_BRANDS.contains(&brand) => return unsupported("HEIC"),
            _ => {}
        }
    }
    if starts(b"GIF8") {
        return unsupported("GIF");
    }
    if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return unsupported("WebP");
    }
    if starts(b"BM") {
        return unsupported("BMP");
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return unsupported("TIFF");
    }
    Err(VisionError::UnreadableImage(
        "not a JPEG or PNG image".into(),
    ))
}

fn decode_jpeg(
    bytes: &[u8],
    limits: DecodeLimits,
    max_reduction: u32,
) -> Result<(RgbImage, (u32, u32), u32), VisionError> {
    use jpeg_decoder::PixelFormat;
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    d.read_info().map_err(unreadable)?;
    let info = d
        .info()
        .ok_or_else(|| VisionError::UnreadableImage("no JPEG frame header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    check_pixels(w, h, limits)?;
    let reduction = [8u32, 4, 2, 1]
        .into_iter()
        .find(|r| *r <= max_reduction.max(1))
        .unwrap_or(1);
    if reduction == 1 {
        return decode_jpeg_full(bytes, w, h);
    }
    let (ow, oh) = if reduction > 1 {
        // `scale` picks the smallest IDCT size whose output is at least the requested size.
        let req_w = u16::try_from(w.div_ceil(reduction)).unwrap_or(u16::MAX);
        let req_h = u16::try_from(h.div_ceil(reduction)).unwrap_or(u16::MAX);
        let (sw, sh) = d.scale(req_w, req_h).map_err(unreadable)?;
        (u32::from(sw), u32::from(sh))
    } else {
        (w, h)
    };
    let pixels = d.decode().map_err(unreadable)?;
    let info = d
        .info()
        .ok_or_else(|| VisionError::UnreadableImage("no JPEG frame header".into()))?;
    let n = (ow as usize) * (oh as usize);
    let rgb: Vec<u8> = match info.pixel_format {
        PixelFormat::RGB24 => pixels,
        PixelFormat::L8 => pixels.iter().flat_map(|&v| [v, v, v]).collect(),
        PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|c| {
                let v = c[0];
                [v, v, v]
            })
            .collect(),
        PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|c| {
                let k = u16::from(c[3]);
                let f = |v: u8| ((u16::from(v) * k) / 255) as u8;
                [f(c[0]), f(c[1]), f(c[2])]
            })
            .collect(),
    };
    if rgb.len() < n * 3 {
        return Err(VisionError::UnreadableImage("truncated JPEG data".into()));
    }
    // The exact factor between the IDCT output and the original, as the decoder chose it.
    let actual = if ow == w { 1 } else { w.div_ceil(ow).max(1) };
    let img = RgbImage::from_raw(ow, oh, rgb)
        .ok_or_else(|| VisionError::UnreadableImage("JPEG buffer size mismatch".into()))?;
    Ok((img, (w, h), actual.next_power_of_two()))
}

/// Full size: zune-jpeg is about a third faster than jpeg-decoder, which is kept for the
/// reduced sizes only it can produce. Strict mode, so a truncated or corrupt upload is an error
/// rather than a photo with a grey bottom.
fn decode_jpeg_full(
    bytes: &[u8],
    w: u32,
    h: u32,
) -> Result<(RgbImage, (u32, u32), u32), VisionError> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(w as usize)
        .set_max_height(h as usize)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = d.decode().map_err(unreadable)?;
    let img = RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| VisionError::UnreadableImage("JPEG buffer size mismatch".into()))?;
    Ok((img, (w, h), 1))
}

fn decode_png(
    bytes: &[u8],
    limits: DecodeLimits,
) -> Result<(RgbImage, (u32, u32), u32), VisionError> {
    use image::ImageDecoder;
    let d = image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(unreadable)?;
    let (w, h) = d.dimensions();
    check_pixels(w, h, limits)?;
    let img = DynamicImage::from_decoder(d).map_err(unreadable)?;
    let rgb = if img.color().has_alpha() {
        // Transparent areas become white, like paper, rather than whatever RGB they hide.
        let rgba = img.into_rgba8();
        let (w, h) = rgba.dimensions();
        let mut out = RgbImage::new(w, h);
        for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
            let a = u16::from(p[3]);
            for c in 0..3 {
                o[c] = ((u16::from(p[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
            }
        }
        out
    } else {
        img.into_rgb8()
    };
    Ok((rgb, (w, h), 1))
}

fn read_exif(bytes: &[u8]) -> ExifInfo {
    use exif::{In, Tag, Value};
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return ExifInfo {
            orientation: 1,
            ..ExifInfo::default()
        };
    };
    let text = |tag: Tag| -> Option<String> {
        let f = exif.get_field(tag, In::PRIMARY)?;
        match &f.value {
            Value::Ascii(parts) => {
                let s: String = parts
                    .iter()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ");
                let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
                (!s.is_empty()).then(|| s.to_string())
            }
            Value::Undefined(b, _) => {
                let s = String::from_utf8_lossy(b);
                let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
                (!s.is_empty()).then(|| s.to_string())
            }
            _ => None,
        }
    };
    let number = |tag: Tag| -> Option<f64> {
        let f = exif.get_field(tag, In::PRIMARY)?;
        match &f.value {
            Value::Rational(v) => v.first().map(|r| r.to_f64()),
            Value::SRational(v) => v.first().map(|r| r.to_f64()),
            other => other.get_uint(0).map(f64::from),
        }
        .filter(|v| v.is_finite() && *v > 0.0)
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u16::try_from(v).ok())
        .filter(|v| (1..=8).contains(v))
        .unwrap_or(1);
    ExifInfo {
        make: text(Tag::Make),
        model: text(Tag::Model),
        lens_make: text(Tag::LensMake),
        lens_model: text(Tag::LensModel),
        software: text(Tag::Software),
        focal_length_mm: number(Tag::FocalLength),
        focal_length_35mm: number(Tag::FocalLengthIn35mmFilm),
        orientation,
    }
}
