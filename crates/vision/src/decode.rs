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
    if reduction == 1 && zune_handles(bytes) {
        if let Some(decoded) = decode_jpeg_full(bytes, w, h) {
            return decoded;
        }
        // zune-jpeg gave up by panicking: jpeg-decoder reads it whole below.
    }
    let (ow, oh) = if reduction > 1 {
        // `scale` picks the IDCT size from the requested size of each side.
        let req_w = u16::try_from(w.div_ceil(reduction)).unwrap_or(u16::MAX);
        let req_h = u16::try_from(h.div_ceil(reduction)).unwrap_or(u16::MAX);
        let (sw, sh) = d.scale(req_w, req_h).map_err(unreadable)?;
        if (u32::from(sw), u32::from(sh)) != (req_w.into(), req_h.into()) {
            // The decoder picks the first IDCT size at which either side reaches its request,
            // so a side of a few pixels can take the other below it: decode whole instead.
            return decode_jpeg(bytes, limits, 1);
        }
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
    let img = RgbImage::from_raw(ow, oh, rgb)
        .ok_or_else(|| VisionError::UnreadableImage("JPEG buffer size mismatch".into()))?;
    // The output is exactly the original reduced by `reduction` on both sides (checked above).
    Ok((img, (w, h), reduction))
}

/// Whether zune-jpeg can decode this frame. zune-jpeg 0.5.15 panics in its upsampler when a
/// component has larger sampling factors than the first one (a valid but unusual layout; the
/// first is the luma in every camera's files): such frames, and anything this cannot read,
/// go to jpeg-decoder.
fn zune_handles(bytes: &[u8]) -> bool {
    let mut i = 2;
    while let (Some(0xFF), Some(&marker)) = (bytes.get(i), bytes.get(i + 1)) {
        if marker == 0xFF || matches!(marker, 0x01 | 0xD0..=0xD9) {
            i += if marker == 0xFF { 1 } else { 2 };
            continue;
        }
        let Some(len) = bytes
            .get(i + 2..i + 4)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return false;
        };
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let Some(components) = bytes.get(i + 10..i + 2 + len) else {
                return false;
            };
            let factors = |c: &[u8]| (c[1] >> 4, c[1] & 0x0F);
            let Some((h0, v0)) = components.chunks_exact(3).next().map(factors) else {
                return false;
            };
            return components
                .chunks_exact(3)
                .map(factors)
                .all(|(h, v)| h <= h0 && v <= v0);
        }
        i += 2 + len;
    }
    false
}

/// Pixels, the original size and the reduction.
type JpegDecoded = (RgbImage, (u32, u32), u32);

/// Full size: zune-jpeg is about a third faster than jpeg-decoder, which is kept for the
/// reduced sizes only it can produce. Strict mode, so a truncated or corrupt upload is an error
/// rather than a photo with a grey bottom.
fn decode_jpeg_full(bytes: &[u8], w: u32, h: u32) -> Option<Result<JpegDecoded, VisionError>> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    // zune-jpeg 0.5.15 also panics on some malformed progressive scans (found by fuzzing,
    // crates/vision/tests/fuzz_decode.rs): a panic there is `None`, for jpeg-decoder to try,
    // never a crashed analysis.
    let pixels = std::panic::catch_unwind(|| {
        let options = DecoderOptions::default()
            .set_strict_mode(true)
            .set_max_width(w as usize)
            .set_max_height(h as usize)
            .jpeg_set_out_colorspace(ColorSpace::RGB);
        zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options).decode()
    })
    .ok()?;
    Some(pixels.map_err(unreadable).and_then(|pixels| {
        let img = RgbImage::from_raw(w, h, pixels)
            .ok_or_else(|| VisionError::UnreadableImage("JPEG buffer size mismatch".into()))?;
        Ok((img, (w, h), 1))
    }))
}

/// The PNG decoder (png 0.18.1) panics on a palette that is not whole RGB entries instead of
/// refusing it; such a file is invalid (PNG 11.2.3), so it is refused here first.
fn check_png_palette(bytes: &[u8]) -> Result<(), VisionError> {
    let mut i = 8;
    while let Some(head) = bytes.get(i..i + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..8] {
            b"PLTE" if !len.is_multiple_of(3) => {
                return Err(VisionError::UnreadableImage("invalid PNG palette".into()))
            }
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        i = i.saturating_add(12).saturating_add(len);
    }
    Ok(())
}

fn decode_png(
    bytes: &[u8],
    limits: DecodeLimits,
) -> Result<(RgbImage, (u32, u32), u32), VisionError> {
    use image::ImageDecoder;
    let d = image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(unreadable)?;
    let (w, h) = d.dimensions();
    check_pixels(w, h, limits)?;
    check_png_palette(bytes)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (crates/vision/tests/fuzz_decode.rs): zune-jpeg panicked on a frame
    /// whose second component has larger sampling factors than the first (and on malformed
    /// progressive scans, which reach the same guard).
    #[test]
    fn a_jpeg_with_chroma_sampled_finer_than_luma_decodes() {
        let pixels: Vec<u8> = (0..8 * 8 * 3).map(|i| (i * 7 % 256) as u8).collect();
        let mut jpeg = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut jpeg, 90);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
        enc.set_progressive(true);
        enc.encode(&pixels, 8, 8, jpeg_encoder::ColorType::Rgb)
            .expect("encode");
        // Give the second component 2×2 sampling (luma and the other chroma stay 1×1); the scan
        // data no longer matches, so the decode may fail, but it must not panic.
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC2])
            .expect("a progressive frame");
        jpeg[sof + 2 + 2 + 6 + 3 + 1] = 0x22;
        assert!(!zune_handles(&jpeg));
        // And had it gone to zune-jpeg, its panic would have been contained.
        assert!(decode_jpeg_full(&jpeg, 8, 8).is_none());
        for max in [1, 2, 8] {
            let _ = decode_reduced(&jpeg, DecodeLimits::default(), max);
        }
        assert!(zune_handles(&{
            let mut j = jpeg.clone();
            j[sof + 2 + 2 + 6 + 3 + 1] = 0x11;
            j
        }));
    }

    /// A 1×1 palette PNG with the given PLTE and tRNS chunk data.
    fn palette_png(plte: &[u8], trns: &[u8]) -> Vec<u8> {
        let chunk = |out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            // The CRC of the type and data (PNG's CRC-32).
            let mut c = 0xFFFF_FFFFu32;
            for &b in kind.iter().chain(data) {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            out.extend_from_slice(&(c ^ 0xFFFF_FFFF).to_be_bytes());
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 3, 0, 0, 0]);
        chunk(&mut png, b"PLTE", plte);
        if !trns.is_empty() {
            chunk(&mut png, b"tRNS", trns);
        }
        // zlib, one stored block: filter 0, index 0; then the Adler-32 of those two bytes.
        let idat = [0x78, 0x01, 1, 2, 0, 0xFD, 0xFF, 0, 0, 0, 0x01, 0, 0x01];
        chunk(&mut png, b"IDAT", &idat);
        chunk(&mut png, b"IEND", &[]);
        png
    }

    /// Found by fuzzing (crates/vision/tests/fuzz_decode.rs): the PNG decoder panicked on a
    /// palette that is not whole RGB entries.
    #[test]
    fn malformed_png_palettes_are_refused_not_panicked_on() {
        let ok = decode(&palette_png(&[10, 20, 30], &[128]), DecodeLimits::default());
        assert_eq!(ok.expect("a valid palette PNG").rgb.dimensions(), (1, 1));
        for (plte, trns) in [
            (&[10, 20, 30, 40][..], &[][..]),
            (&[10, 20, 30, 40, 50][..], &[128][..]),
            (&[10, 20, 30, 40, 50, 60, 70][..], &[1, 2, 3, 4, 5][..]),
        ] {
            let err = decode(&palette_png(plte, trns), DecodeLimits::default()).unwrap_err();
            assert!(matches!(err, VisionError::UnreadableImage(_)), "{err:?}");
        }
    }

    /// Found by fuzzing (crates/vision/tests/fuzz_decode.rs): a JPEG one pixel wide was
    /// reported as not reduced while its height was (so `scale()` mapped rows wrongly), and a
    /// side of a few pixels let the decoder reduce the other side more than asked.
    #[test]
    fn a_one_pixel_wide_jpeg_reports_its_reduction() {
        for (w, h) in [(1u16, 64u16), (64, 1), (1, 1), (3, 17)] {
            let pixels = vec![128u8; usize::from(w) * usize::from(h) * 3];
            let mut jpeg = Vec::new();
            jpeg_encoder::Encoder::new(&mut jpeg, 90)
                .encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb)
                .expect("encode");
            for max in [2, 4, 8] {
                let d = decode_reduced(&jpeg, DecodeLimits::default(), max).expect("decode");
                let r = d.reduction;
                assert!(r <= max, "{w}×{h}: reduced by {r}, asked at most {max}");
                assert_eq!(
                    d.rgb.dimensions(),
                    (u32::from(w).div_ceil(r), u32::from(h).div_ceil(r)),
                    "{w}×{h} reduced by {r}"
                );
            }
        }
    }
}
