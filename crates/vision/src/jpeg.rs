//! Writing the output JPEG: 24-bit colour, the spec's dpi in the JFIF header, and the highest
//! quality (≥ the spec's minimum) whose file fits the spec's size window.

use image::RgbImage;
use jpeg_encoder::{ColorType, Density, Encoder, SamplingFactor};

use crate::error::VisionError;

pub fn encode(img: &RgbImage, quality: u8, dpi: u16) -> Result<Vec<u8>, VisionError> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut enc = Encoder::new(&mut buf, quality.clamp(1, 100));
    enc.set_density(Density::Inch { x: dpi, y: dpi });
    // Always 4:2:0: the encoder would switch to 4:4:4 at quality ≥ 90, making the file size
    // jump and the quality search erratic.
    enc.set_sampling_factor(SamplingFactor::R_4_2_0);
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
/// Where the search starts: 480×640 portraits reach 20–40 KB around this quality.
const FIRST_GUESS: u8 = 85;
/// Upward probing step when the first guess fits.
const STEP: u8 = 5;

/// The largest quality in `[min_quality, 95]` whose file is not above `max_bytes`, found by
/// bracketing from quality 85 (steps of 5 up, or the minimum quality down) and interpolating
/// on file size (monotone in quality): usually 3–5 encodes of ≈ 2 ms. If even the top quality is below `min_bytes` (a very plain image), the file is
/// padded to the minimum.
pub fn encode_in_window(
    img: &RgbImage,
    min_quality: u8,
    min_bytes: u64,
    max_bytes: u64,
    dpi: u16,
) -> Result<(Vec<u8>, u8), VisionError> {
    let lo_q = min_quality.clamp(1, MAX_QUALITY);
    // Start where photos at this size usually land, then find the other end of the bracket.
    let first_q = FIRST_GUESS.clamp(lo_q, MAX_QUALITY);
    let first = encode(img, first_q, dpi)?;
    let ((lo, at_lo), (hi, at_hi)) = if first.len() as u64 <= max_bytes {
        // Step up until a quality does not fit (or the top one does).
        let (mut q, mut fits) = (first_q, first);
        loop {
            if q == MAX_QUALITY {
                return Ok((pad_to(fits, min_bytes), MAX_QUALITY));
            }
            let next_q = (q + STEP).min(MAX_QUALITY);
            let next = encode(img, next_q, dpi)?;
            if next.len() as u64 > max_bytes {
                break ((q, fits), (next_q, next));
            }
            (q, fits) = (next_q, next);
        }
    } else {
        let bottom = if first_q == lo_q {
            first.clone()
        } else {
            encode(img, lo_q, dpi)?
        };
        if bottom.len() as u64 > max_bytes {
            return Err(VisionError::InvalidSpec(format!(
                "even quality {lo_q} gives {} bytes, above the {max_bytes}-byte limit",
                bottom.len()
            )));
        }
        ((lo_q, bottom), (first_q, first))
    };
    // Bracket: `lo` fits, `hi` does not.
    let (mut lo, mut lo_size) = (lo, at_lo.len() as f64);
    let (mut hi, mut hi_size) = (hi, at_hi.len() as f64);
    let mut best = at_lo;
    let mut interpolate = true;
    while hi - lo > 1 {
        // Interpolate on log size (close to linear in quality); when that barely narrows the
        // bracket (file size is convex near the top), bisect on the next step.
        let q = if interpolate {
            let target = (max_bytes as f64).ln();
            let t =
                ((target - lo_size.ln()) / (hi_size.ln() - lo_size.ln()).max(1e-9)).clamp(0.0, 1.0);
            (f64::from(lo) + t * f64::from(hi - lo)).round() as u8
        } else {
            lo + (hi - lo) / 2
        }
        .clamp(lo + 1, hi - 1);
        let before = hi - lo;
        let bytes = encode(img, q, dpi)?;
        if bytes.len() as u64 <= max_bytes {
            lo = q;
            lo_size = bytes.len() as f64;
            best = bytes;
        } else {
            hi = q;
            hi_size = bytes.len() as f64;
        }
        interpolate = (hi - lo) * 2 <= before;
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
