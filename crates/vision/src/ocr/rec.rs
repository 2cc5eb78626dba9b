//! Text-line recognition with PP-OCRv4's SVTR-LCNet model and greedy CTC decoding, as
//! RapidOCR runs it: the line resized to height 48 keeping its aspect, padded on the right to
//! at least 320 wide, normalised BGR; per time step the most probable class, repeats merged,
//! blanks dropped; the line's score is the mean probability of the kept characters.

use image::RgbImage;
use tract_onnx::prelude::*;

use super::raster::{bgr_planes, resize_linear};
use crate::error::VisionError;
use crate::models::Plan;

pub const HEIGHT: u32 = 48;
pub const MIN_WIDTH: u32 = 320;
/// Input widths the recognizer is optimized for. tract cannot optimize it for a symbolic
/// width (a reshape depends on it), so a line is padded on the right to the next bucket —
/// RapidOCR pads every line of a batch to the batch's widest the same way.
pub const WIDTH_BUCKETS: [u32; 7] = [320, 480, 640, 960, 1280, 1920, 2560];

/// The recognizer's classes: 0 is the CTC blank, then the dictionary, then a space.
#[derive(Debug, Clone)]
pub struct Charset {
    classes: Vec<String>,
}

impl Charset {
    /// From the dictionary text (one character per line; the rec model's `character`
    /// metadata, also shipped as `models/ppocr_keys.txt`).
    pub fn from_keys(keys: &str) -> Charset {
        let mut classes = vec![String::new()];
        classes.extend(
            keys.strip_suffix('\n')
                .unwrap_or(keys)
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string()),
        );
        classes.push(" ".to_string());
        Charset { classes }
    }

    /// Number of classes the model must output.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.len() <= 2
    }
}

/// Index into [`WIDTH_BUCKETS`] and the resized image width for a line of the given size.
pub fn widths(w: u32, h: u32) -> (usize, u32) {
    let ratio = f64::from(w) / f64::from(h.max(1));
    let max_ratio = (f64::from(MIN_WIDTH) / f64::from(HEIGHT)).max(ratio);
    let needed = (f64::from(HEIGHT) * max_ratio) as u32;
    let bucket = WIDTH_BUCKETS
        .iter()
        .position(|&b| b >= needed)
        .unwrap_or(WIDTH_BUCKETS.len() - 1);
    let resized_w = ((f64::from(HEIGHT) * ratio).ceil() as u32).clamp(1, WIDTH_BUCKETS[bucket]);
    (bucket, resized_w)
}

/// Greedy CTC decoding of a `[steps, classes]` probability matrix.
pub fn ctc_decode(probs: &[f32], classes: usize, charset: &Charset) -> (String, f32) {
    let mut text = String::new();
    let mut confs = Vec::new();
    let mut prev: Option<usize> = None;
    for step in probs.chunks_exact(classes) {
        let (idx, p) = step
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |best, (i, v)| if v > best.1 { (i, v) } else { best },
            );
        if idx != 0 && prev != Some(idx) {
            if let Some(c) = charset.classes.get(idx) {
                text.push_str(c);
                confs.push(p);
            }
        }
        prev = Some(idx);
    }
    let score = if confs.is_empty() {
        0.0
    } else {
        confs.iter().sum::<f32>() / confs.len() as f32
    };
    (text, score)
}

/// Reads one upright text line. `plan_for` returns the plan optimized for a bucket of
/// [`WIDTH_BUCKETS`] (input `[1, 3, 48, width]`).
pub fn recognize(
    plan_for: impl Fn(usize) -> Result<Plan, VisionError>,
    charset: &Charset,
    line: &RgbImage,
) -> Result<(String, f32), VisionError> {
    let (bucket, resized_w) = widths(line.width(), line.height());
    let resized = resize_linear(line, resized_w, HEIGHT);
    let (h, w) = (HEIGHT as usize, WIDTH_BUCKETS[bucket] as usize);
    let input = tract_ndarray::Array4::from_shape_vec([1, 3, h, w], bgr_planes(&resized, w))
        .map_err(|e| VisionError::Model(format!("ocr rec input: {e}")))?;
    let out = plan_for(bucket)?.run(tvec!(Tensor::from(input).into()))?;
    let first = out
        .first()
        .ok_or_else(|| VisionError::Model("ocr rec: no output".into()))?;
    let classes = first.shape().last().copied().unwrap_or(0);
    if classes != charset.len() {
        return Err(VisionError::Model(format!(
            "ocr rec: {classes} classes, dictionary has {}",
            charset.len()
        )));
    }
    let view = first.to_plain_array_view::<f32>()?;
    let probs: Vec<f32> = view.iter().copied().collect();
    Ok(ctc_decode(&probs, classes, charset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_layout() {
        let c = Charset::from_keys("a\nb\n\u{3000}\n");
        assert_eq!(c.len(), 5);
        assert_eq!(c.classes[1], "a");
        assert_eq!(c.classes[3], "\u{3000}");
        assert_eq!(c.classes[4], " ");
    }

    #[test]
    fn greedy_decoding_merges_repeats_and_drops_blanks() {
        let c = Charset::from_keys("a\nb\n");
        // steps: a a blank a b b
        let steps = [1usize, 1, 0, 1, 2, 2];
        let mut probs = vec![0f32; steps.len() * c.len()];
        for (t, &k) in steps.iter().enumerate() {
            probs[t * c.len() + k] = 0.8;
        }
        let (text, score) = ctc_decode(&probs, c.len(), &c);
        assert_eq!(text, "aab");
        assert!((score - 0.8).abs() < 1e-6);
    }

    #[test]
    fn widths_follow_rapidocr() {
        assert_eq!(widths(100, 48), (0, 100));
        assert_eq!(widths(400, 48), (1, 400));
        assert_eq!(widths(960, 48), (3, 960));
        assert_eq!(widths(50, 100), (0, 24));
        assert_eq!(widths(100_000, 48), (6, 2560));
    }
}
