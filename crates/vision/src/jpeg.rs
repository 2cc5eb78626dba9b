//! Writing the output JPEG: 24-bit colour, the spec's dpi in the JFIF header, and the highest
//! quality (≥ the spec's minimum) whose file fits the spec's size window.

use image::RgbImage;
use jpeg_encoder::{ColorType, Density, Encoder};

use crate::error::VisionError;

pub fn encode(img: &RgbImage, quality: u8, dpi: u16) -> Result<Vec<u8>, VisionError> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut enc = Encoder::new(&mut buf, quality.clamp(1, 100));
    enc.set_density(Density::Inch { x: dpi, y: dpi });
    let (w, h) = (
        u16::try_from(img.width())
            .map_err(|_| VisionError::InvalidSpec("width too large".into()))?,
        u16::try_from(img.height())
            .map_err(|_| VisionError::InvalidSpec("height too large".into()))?,
    );
    enc.encode(img.as_raw(), w, h, ColorType::Rgb)
        .map_err(|e| VisionError::Model(format!("jpeg encode: {e}")))?;
    Ok(buf)
}

/// Highest quality this search considers: above it files grow fast for no visible gain.
pub const MAX_QUALITY: u8 = 95;

/// The largest quality in `[min_quality, 95]` whose file is not above `max_bytes`, found by
/// interpolating on file size (monotone in quality) and narrowing the bracket: usually 3–4
/// encodes. If even the top quality is below `min_bytes` (a very plain image), the file is
/// padded to the minimum.
pub fn encode_in_window(
    img: &RgbImage,
    min_quality: u8,
    min_bytes: u64,
    max_bytes: u64,
    dpi: u16,
) -> Result<(Vec<u8>, u8), VisionError> {
    let lo_q = min_quality.clamp(1, MAX_QUALITY);
    let top = encode(img, MAX_QUALITY, dpi)?;
    if top.len() as u64 <= max_bytes {
        return Ok((pad_to(top, min_bytes), MAX_QUALITY));
    }
    let at_lo = encode(img, lo_q, dpi)?;
    if at_lo.len() as u64 > max_bytes {
        return Err(VisionError::InvalidSpec(format!(
            "even quality {lo_q} gives {} bytes, above the {max_bytes}-byte limit",
            at_lo.len()
        )));
    }
    // Bracket: `lo` fits, `hi` does not.
    let (mut lo, mut lo_size) = (lo_q, at_lo.len() as f64);
    let (mut hi, mut hi_size) = (MAX_QUALITY, top.len() as f64);
    let mut best = at_lo;
    while hi - lo > 1 {
        let t = ((max_bytes as f64 - lo_size) / (hi_size - lo_size).max(1.0)).clamp(0.0, 1.0);
        let guess = (f64::from(lo) + t * f64::from(hi - lo)).round() as u8;
        let q = guess.clamp(lo + 1, hi - 1);
        let bytes = encode(img, q, dpi)?;
        if bytes.len() as u64 <= max_bytes {
            lo = q;
            lo_size = bytes.len() as f64;
            best = bytes;
        } else {
            hi = q;
            hi_size = bytes.len() as f64;
        }
    }
    Ok((pad_to(best, min_bytes), lo))
}

/// Very plain images stay under the window's minimum even at quality 100; a JPEG comment
/// segment (ignored by decoders) brings the file up to the minimum size the registry checks.
fn pad_to(jpeg: Vec<u8>, min_bytes: u64) -> Vec<u8> {
    let missing = (min_bytes as usize).saturating_sub(jpeg.len());
    if missing == 0 || jpeg.len() < 2 {
        return jpeg;
    }
    let payload = missing.saturating_sub(4).clamp(1, 65533);
    let seg_len = (payload + 2) as u16;
    let mut out = Vec::with_capacity(jpeg.len() + payload + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&seg_len.to_be_bytes());
    out.extend(std::iter::repeat_n(b' ', payload));
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn textured(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = ((x * 37 + y * 91) ^ (x * y)) % 256;
            image::Rgb([v as u8, (255 - v) as u8, ((v * 3) % 256) as u8])
        })
    }

    #[test]
    fn quality_search_fits_the_window() {
        let img = textured(480, 640);
        let (bytes, q) = encode_in_window(&img, 30, 20 * 1024, 80 * 1024, 300).unwrap();
        assert!(bytes.len() <= 80 * 1024 && q >= 30);
        // One step up would not fit (or the top quality was reached).
        if q < MAX_QUALITY {
            assert!(encode(&img, q + 1, 300).unwrap().len() > 80 * 1024);
        }
    }

    #[test]
    fn plain_images_are_padded_to_the_minimum() {
        let flat = RgbImage::from_pixel(480, 640, image::Rgb([100, 197, 255]));
        let (bytes, _) = encode_in_window(&flat, 60, 20 * 1024, 40 * 1024, 300).unwrap();
        assert!(bytes.len() >= 20 * 1024 && bytes.len() <= 40 * 1024);
        let back = image::load_from_memory(&bytes).unwrap();
        assert_eq!((back.width(), back.height()), (480, 640));
    }

    #[test]
    fn impossible_window_is_an_error() {
        let img = textured(480, 640);
        assert!(encode_in_window(&img, 95, 0, 2 * 1024, 300).is_err());
    }
}
