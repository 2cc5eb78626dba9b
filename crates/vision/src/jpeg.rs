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

/// Binary search over quality for the largest file not above `max_bytes`; if even that is below
/// `min_bytes` (a very plain image), the highest quality is used and the caller sees the size.
pub fn encode_in_window(
    img: &RgbImage,
    min_quality: u8,
    min_bytes: u64,
    max_bytes: u64,
    dpi: u16,
) -> Result<(Vec<u8>, u8), VisionError> {
    let lo_q = min_quality.clamp(1, 100);
    let at_lo = encode(img, lo_q, dpi)?;
    if at_lo.len() as u64 > max_bytes {
        return Err(VisionError::InvalidSpec(format!(
            "even quality {lo_q} gives {} bytes, above the {max_bytes}-byte limit",
            at_lo.len()
        )));
    }
    let (mut lo, mut hi) = (lo_q, 100u8);
    let mut best = (at_lo, lo_q);
    // Invariant: quality `lo` fits; find the largest fitting quality.
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let bytes = encode(img, mid, dpi)?;
        if bytes.len() as u64 <= max_bytes {
            lo = mid;
            best = (bytes, mid);
        } else {
            hi = mid - 1;
        }
    }
    if (best.0.len() as u64) < min_bytes {
        best.0 = pad_to(best.0, min_bytes);
    }
    Ok(best)
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
