//! Text-line orientation (0° or 180°) with PaddleOCR's mobile v2.0 direction classifier, as
//! RapidOCR runs it: the line resized to height 48 keeping its aspect (at most 192 wide),
//! padded to 48×192, flipped when "180" wins with probability above 0.9.

use image::RgbImage;
use tract_onnx::prelude::*;

use super::raster::{bgr_planes, resize_linear, rot180};
use crate::error::VisionError;
use crate::models::Plan;

pub const HEIGHT: u32 = 48;
pub const WIDTH: u32 = 192;
const FLIP_THRESHOLD: f32 = 0.9;

/// Input width for a line image: ceil(48 · aspect), at most [`WIDTH`].
fn resized_width(w: u32, h: u32) -> u32 {
    let ratio = f64::from(w) / f64::from(h.max(1));
    let rw = (f64::from(HEIGHT) * ratio).ceil();
    if rw > f64::from(WIDTH) {
        WIDTH
    } else {
        (rw as u32).max(1)
    }
}

/// Probability that the line is upside down.
pub fn upside_down_probability(plan: &Plan, line: &RgbImage) -> Result<f32, VisionError> {
    let resized = resize_linear(line, resized_width(line.width(), line.height()), HEIGHT);
    let (h, w) = (HEIGHT as usize, WIDTH as usize);
    let input = tract_ndarray::Array4::from_shape_vec([1, 3, h, w], bgr_planes(&resized, w))
        .map_err(|e| VisionError::Model(format!("ocr cls input: {e}")))?;
    let out = plan.run(tvec!(Tensor::from(input).into()))?;
    let first = out
        .first()
        .ok_or_else(|| VisionError::Model("ocr cls: no output".into()))?;
    let view = first.to_plain_array_view::<f32>()?;
    let probs: Vec<f32> = view.iter().copied().collect();
    match probs.as_slice() {
        [p0, p180] => Ok(if p180 > p0 { *p180 } else { 0.0 }),
        _ => Err(VisionError::Model(format!(
            "ocr cls: {} outputs instead of 2",
            probs.len()
        ))),
    }
}

/// The line turned upright if the classifier is confident it is upside down.
pub fn upright(plan: &Plan, line: RgbImage) -> Result<(RgbImage, bool), VisionError> {
    if upside_down_probability(plan, &line)? > FLIP_THRESHOLD {
        Ok((rot180(&line), true))
    } else {
        Ok((line, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(resized_width(100, 48), 100);
        assert_eq!(resized_width(1000, 48), 192);
        assert_eq!(resized_width(10, 100), 5);
    }
}
