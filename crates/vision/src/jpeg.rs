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
/// File size relative to quality 85 for a 480×640 portrait (4:2:0), measured on the test
/// photos: the shape of the curve varies little between photos, so one encode predicts where
/// the limit falls to within a step or two.
const RELATIVE_SIZE: [(u8, f64); 8] = [
    (60, 0.616),
    (70, 0.713),
    (80, 0.868),
    (85, 1.0),
    (88, 1.125),
    (90, 1.233),
    (92, 1.337),
    (95, 1.727),
];

/// The largest quality in `[min_quality, 95]` whose file is not above `max_bytes`. File size is
/// monotone in quality, so this is a bracket search: one encode at 85, then the two qualities
/// around where the typical size curve through that point meets the limit, encoded at once (on
/// two cores, the cost of one), then interpolation on log size if still open. Usually three
/// encodes in two rounds of ≈ 2 ms. If even the top quality is below `min_bytes` (a very plain
/// image), the file is padded to the minimum.
pub fn encode_in_window(
    img: &RgbImage,
    min_quality: u8,
    min_bytes: u64,
    max_bytes: u64,
    dpi: u16,
) -> Result<(Vec<u8>, u8), VisionError> {
    let lo_q = min_quality.clamp(1, MAX_QUALITY);
    // `fits`: the best quality known to fit, with its file; `over`: the lowest known not to.
    let mut fits: Option<(u8, Vec<u8>)> = None;
    let mut over: Option<(u8, usize)> = None;
    loop {
        let lo = fits.as_ref().map(|(q, b)| (*q, b.len()));
        let candidates = next_candidates(lo_q, lo, over, max_bytes);
        if candidates.is_empty() {
            break;
        }
        for (q, bytes) in encode_many(img, &candidates, dpi)? {
            if bytes.len() as u64 <= max_bytes {
                if fits.as_ref().is_none_or(|(fq, _)| q > *fq) {
                    fits = Some((q, bytes));
                }
            } else if over.is_none_or(|(oq, _)| q < oq) {
                over = Some((q, bytes.len()));
            }
        }
    }
    match fits {
        Some((q, bytes)) => Ok((pad_to(bytes, min_bytes), q)),
        None => Err(VisionError::InvalidSpec(format!(
            "even quality {lo_q} gives {} bytes, above the {max_bytes}-byte limit",
            over.map(|(_, n)| n).unwrap_or(0)
        ))),
    }
}

/// The qualities to try next (at most two, strictly inside the bracket), or none when the
/// answer is known.
fn next_candidates(
    lo_q: u8,
    fits: Option<(u8, usize)>,
    over: Option<(u8, usize)>,
    max_bytes: u64,
) -> Vec<u8> {
    let above = fits.map_or(lo_q, |(q, _)| q + 1);
    let below = over.map_or(MAX_QUALITY, |(q, _)| q - 1);
    if fits.is_some_and(|(q, _)| q >= MAX_QUALITY) || over.is_some_and(|(q, _)| q <= lo_q) {
        return Vec::new();
    }
    if above > below {
        return Vec::new();
    }
    let mut qs: Vec<u8> = match (fits, over) {
        (None, None) => vec![FIRST_GUESS],
        (Some((q, size)), None) | (None, Some((q, size))) => {
            let p = predict_quality(q, size, max_bytes);
            vec![p, p.saturating_add(1)]
        }
        (Some((lq, ls)), Some((hq, hs))) => {
            // Interpolate on log size (close to linear in quality) and try both neighbours
            // of the crossing, so one round usually settles it.
            let target = (max_bytes as f64).ln();
            let (ls, hs) = ((ls.max(1) as f64).ln(), (hs.max(1) as f64).ln());
            let t = ((target - ls) / (hs - ls).max(1e-9)).clamp(0.0, 1.0);
            let q = (f64::from(lq) + t * f64::from(hq - lq)).floor() as u8;
            vec![q, q + 1]
        }
    };
    for q in &mut qs {
        *q = (*q).clamp(above, below);
    }
    qs.sort_unstable();
    qs.dedup();
    qs
}

/// The highest quality whose size, on the typical curve through (`q`, `size`), stays within
/// `max_bytes`.
fn predict_quality(q: u8, size: usize, max_bytes: u64) -> u8 {
    // ln(relative size) at any quality, linear between the table's points and extended
    // along the end segments.
    let ln_rel = |q: f64| -> f64 {
        let t = &RELATIVE_SIZE;
        let i = t
            .windows(2)
            .position(|w| q <= f64::from(w[1].0))
            .unwrap_or(t.len() - 2);
        let ((q0, r0), (q1, r1)) = (t[i], t[i + 1]);
        let f = (q - f64::from(q0)) / f64::from(q1 - q0);
        r0.ln() + f * (r1.ln() - r0.ln())
    };
    let base = (size.max(1) as f64).ln() - ln_rel(f64::from(q));
    let target = (max_bytes.max(1) as f64).ln();
    (1..=MAX_QUALITY)
        .rev()
        .find(|&c| base + ln_rel(f64::from(c)) <= target)
        .unwrap_or(1)
}

/// Encodes `img` at each quality, in parallel when there are several.
fn encode_many(
    img: &RgbImage,
    qualities: &[u8],
    dpi: u16,
) -> Result<Vec<(u8, Vec<u8>)>, VisionError> {
    match qualities {
        [] => Ok(Vec::new()),
        [q] => Ok(vec![(*q, encode(img, *q, dpi)?)]),
        [first, rest @ ..] => std::thread::scope(|s| {
            let others: Vec<_> = rest
                .iter()
                .map(|&q| s.spawn(move || encode(img, q, dpi).map(|b| (q, b))))
                .collect();
            let mut out = vec![(*first, encode(img, *first, dpi)?)];
            for h in others {
                out.push(
                    h.join()
                        .map_err(|_| VisionError::Model("jpeg encode thread panicked".into()))??,
                );
            }
            Ok(out)
        }),
    }
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
    fn quality_search_finds_the_highest_fitting_quality_for_any_window() {
        let img = textured(240, 320);
        let sizes: Vec<usize> = (1..=MAX_QUALITY)
            .map(|q| encode(&img, q, 300).unwrap().len())
            .collect();
        for max_kb in [6u64, 9, 12, 15, 20, 30, 60] {
            let max = max_kb * 1024;
            let expected = (1..=MAX_QUALITY)
                .filter(|&q| q >= 40 && sizes[usize::from(q) - 1] as u64 <= max)
                .max();
            match (encode_in_window(&img, 40, 0, max, 300), expected) {
                (Ok((bytes, q)), Some(e)) => {
                    assert_eq!(q, e, "window {max_kb} KB");
                    assert_eq!(bytes.len(), sizes[usize::from(q) - 1]);
                }
                (Err(_), None) => {}
                (got, e) => panic!("window {max_kb} KB: {:?} vs {e:?}", got.map(|g| g.1)),
            }
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
