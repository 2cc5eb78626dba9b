//! Text detection with PP-OCRv4's DB (differentiable binarization) model, pre- and
//! post-processing as RapidOCR 1.4.4 does it: the image scaled to fit a fixed canvas (long
//! side at most 960) and padded, BGR normalised to [−1, 1], probability map thresholded at 0.3 and
//! dilated 2×2, one box per connected region (minimum-area rectangle), regions scoring below
//! 0.5 dropped, boxes grown ("unclipped") by area·1.6/perimeter.

use image::RgbImage;
use tract_onnx::prelude::*;

use super::geometry::{area_perimeter, in_convex, min_area_rect, order_box, Pt};
use super::raster::{bgr_planes, resize_linear};
use crate::error::VisionError;
use crate::models::Plan;
use crate::raster::regions_8;

/// Detector input canvases. tract cannot prove the detector's feature-pyramid shapes line up
/// for a symbolic input size, so the model is optimized for fixed sizes: the image is scaled
/// to fit (never enlarged) and padded at the right and bottom. 960 on the long side follows
/// RapidOCR's `limit_type: max` with `limit_side_len: 960`; 736 fits a 4:3 photo.
pub const CANVAS_LANDSCAPE: (u32, u32) = (960, 736);
pub const CANVAS_PORTRAIT: (u32, u32) = (736, 960);
/// Smaller canvases for large print (an ID card filling the frame): 2.3× fewer pixels, and
/// the detector's time follows the pixel count.
pub const SMALL_LANDSCAPE: (u32, u32) = (640, 480);
pub const SMALL_PORTRAIT: (u32, u32) = (480, 640);
const THRESH: f32 = 0.3;
const BOX_THRESH: f64 = 0.5;
const UNCLIP_RATIO: f64 = 1.6;
const MIN_SIZE: f64 = 3.0;
const MAX_CANDIDATES: usize = 1000;

/// The canvas for an image of this size.
pub fn canvas_for(w: u32, h: u32) -> (u32, u32) {
    if w >= h {
        CANVAS_LANDSCAPE
    } else {
        CANVAS_PORTRAIT
    }
}

/// The small canvas for an image of this size.
pub fn small_canvas_for(w: u32, h: u32) -> (u32, u32) {
    if w >= h {
        SMALL_LANDSCAPE
    } else {
        SMALL_PORTRAIT
    }
}

/// Scale of the image on `canvas` and its scaled size; `None` if it would vanish.
pub fn fit(w: u32, h: u32, canvas: (u32, u32)) -> Option<(f64, u32, u32)> {
    if w == 0 || h == 0 {
        return None;
    }
    let s = (f64::from(canvas.0) / f64::from(w))
        .min(f64::from(canvas.1) / f64::from(h))
        .min(1.0);
    let (sw, sh) = (
        ((f64::from(w) * s).round() as u32).min(canvas.0),
        ((f64::from(h) * s).round() as u32).min(canvas.1),
    );
    (sw > 0 && sh > 0).then_some((s, sw, sh))
}

/// Text boxes (tl, tr, br, bl, integer pixel coordinates of `img`) in reading order. `plan`
/// must have been optimized for input `[1, 3, canvas.1, canvas.0]`.
pub fn detect(
    plan: &Plan,
    img: &RgbImage,
    canvas: (u32, u32),
) -> Result<Vec<[Pt; 4]>, VisionError> {
    let Some((_, sw, sh)) = fit(img.width(), img.height(), canvas) else {
        return Ok(vec![]);
    };
    let resized = resize_linear(img, sw, sh);
    let (cw, ch) = (canvas.0 as usize, canvas.1 as usize);
    let mut planes = vec![0f32; 3 * cw * ch];
    let small = bgr_planes(&resized, sw as usize);
    let (sw_u, sh_u) = (sw as usize, sh as usize);
    for c in 0..3 {
        for y in 0..sh_u {
            let src = &small[c * sw_u * sh_u + y * sw_u..c * sw_u * sh_u + (y + 1) * sw_u];
            planes[c * cw * ch + y * cw..c * cw * ch + y * cw + sw_u].copy_from_slice(src);
        }
    }
    let input = tract_ndarray::Array4::from_shape_vec([1, 3, ch, cw], planes)
        .map_err(|e| VisionError::Model(format!("ocr det input: {e}")))?;
    let out = plan.run(tvec!(Tensor::from(input).into()))?;
    let first = out
        .first()
        .ok_or_else(|| VisionError::Model("ocr det: no output".into()))?;
    let view = first.to_plain_array_view::<f32>()?;
    if view.len() != cw * ch {
        return Err(VisionError::Model(format!(
            "ocr det: {} values for a {cw}x{ch} map",
            view.len()
        )));
    }
    // Only the part of the map covering the image matters; crop it so box coordinates scale
    // back exactly as RapidOCR's do (map size -> image size).
    let mut prob = Vec::with_capacity(sw_u * sh_u);
    let all: Vec<f32> = view.iter().copied().collect();
    for y in 0..sh_u {
        prob.extend_from_slice(&all[y * cw..y * cw + sw_u]);
    }
    let boxes = boxes_from_map(&prob, sw_u, sh_u, img.width(), img.height());
    let boxes = filter_boxes(boxes, img.width(), img.height());
    Ok(sort_boxes(boxes))
}

/// Thresholded and 2×2-dilated probability map (OpenCV's anchor for an even kernel is its
/// centre, so each pixel takes the maximum over itself and its left/up neighbours).
fn bitmap(prob: &[f32], w: usize, h: usize) -> Vec<bool> {
    let raw: Vec<bool> = prob.iter().map(|&p| p > THRESH).collect();
    let mut out = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let at = |xx: usize, yy: usize| raw[yy * w + xx];
            out[y * w + x] = at(x, y)
                || (x > 0 && at(x - 1, y))
                || (y > 0 && at(x, y - 1))
                || (x > 0 && y > 0 && at(x - 1, y - 1));
        }
    }
    out
}

/// For each 8-connected region, the leftmost and rightmost pixel of every row it spans: enough
/// for its convex hull.
fn regions(mask: &[bool], w: usize, h: usize) -> Vec<Vec<Pt>> {
    regions_8(mask, w, h)
        .into_iter()
        .map(|region| {
            // row -> (min x, max x)
            let mut rows: std::collections::BTreeMap<usize, (usize, usize)> = Default::default();
            for i in region {
                let (x, y) = (i % w, i / w);
                let e = rows.entry(y).or_insert((x, x));
                e.0 = e.0.min(x);
                e.1 = e.1.max(x);
            }
            rows.into_iter()
                .flat_map(|(y, (x0, x1))| [[x0 as f64, y as f64], [x1 as f64, y as f64]])
                .collect()
        })
        .collect()
}

/// Mean probability inside the box (RapidOCR's `box_score_fast`).
fn box_score(prob: &[f32], w: usize, h: usize, quad: &[Pt; 4]) -> f64 {
    let clampi = |v: f64, hi: usize| (v.max(0.0) as usize).min(hi - 1);
    let xs = quad.iter().map(|p| p[0]);
    let ys = quad.iter().map(|p| p[1]);
    let xmin = clampi(xs.clone().fold(f64::MAX, f64::min).floor(), w);
    let xmax = clampi(xs.fold(f64::MIN, f64::max).ceil(), w);
    let ymin = clampi(ys.clone().fold(f64::MAX, f64::min).floor(), h);
    let ymax = clampi(ys.fold(f64::MIN, f64::max).ceil(), h);
    // OpenCV fills the polygon with its vertices truncated to integers, edges included.
    let poly: Vec<Pt> = quad.iter().map(|p| [p[0].trunc(), p[1].trunc()]).collect();
    let (mut sum, mut n) = (0.0, 0usize);
    for y in ymin..=ymax {
        for x in xmin..=xmax {
            if in_convex(&poly, [x as f64, y as f64], 0.5) {
                sum += f64::from(prob[y * w + x]);
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

fn boxes_from_map(prob: &[f32], w: usize, h: usize, dest_w: u32, dest_h: u32) -> Vec<[Pt; 4]> {
    let mask = bitmap(prob, w, h);
    let mut boxes = Vec::new();
    for region in regions(&mask, w, h).into_iter().take(MAX_CANDIDATES) {
        let Some(rect) = min_area_rect(region) else {
            continue;
        };
        if rect.short_side() < MIN_SIZE {
            continue;
        }
        let quad = order_box(rect.corners());
        if box_score(prob, w, h, &quad) < BOX_THRESH {
            continue;
        }
        // Offsetting a rectangle outwards by d (round joins) and taking the minimum-area
        // rectangle again gives the rectangle grown by d on every side.
        let (area, perimeter) = area_perimeter(&quad);
        if perimeter <= 0.0 {
            continue;
        }
        let grown = rect.grown(area * UNCLIP_RATIO / perimeter);
        if grown.short_side() < MIN_SIZE + 2.0 {
            continue;
        }
        let (sx, sy) = (f64::from(dest_w) / w as f64, f64::from(dest_h) / h as f64);
        let quad = order_box(grown.corners()).map(|[x, y]| {
            [
                (x * sx).round_ties_even().clamp(0.0, f64::from(dest_w)),
                (y * sy).round_ties_even().clamp(0.0, f64::from(dest_h)),
            ]
        });
        boxes.push(quad);
    }
    boxes
}

/// RapidOCR's `filter_tag_det_res`: clockwise order from the top-left, clip into the image,
/// drop boxes 3 px or less on a side.
fn filter_boxes(boxes: Vec<[Pt; 4]>, img_w: u32, img_h: u32) -> Vec<[Pt; 4]> {
    let (mw, mh) = (f64::from(img_w) - 1.0, f64::from(img_h) - 1.0);
    boxes
        .into_iter()
        .filter_map(|b| {
            let mut xs = b;
            xs.sort_by(|a, c| a[0].total_cmp(&c[0]));
            let (mut left, mut right) = ([xs[0], xs[1]], [xs[2], xs[3]]);
            left.sort_by(|a, c| a[1].total_cmp(&c[1]));
            right.sort_by(|a, c| a[1].total_cmp(&c[1]));
            let q = [left[0], right[0], right[1], left[1]]
                .map(|[x, y]| [x.clamp(0.0, mw).trunc(), y.clamp(0.0, mh).trunc()]);
            let d = |a: Pt, c: Pt| (a[0] - c[0]).hypot(a[1] - c[1]).trunc();
            (d(q[0], q[1]) > 3.0 && d(q[0], q[3]) > 3.0).then_some(q)
        })
        .collect()
}

/// Top to bottom, then left to right within a line (boxes whose tops are < 10 px apart).
fn sort_boxes(mut boxes: Vec<[Pt; 4]>) -> Vec<[Pt; 4]> {
    boxes.sort_by(|a, b| {
        a[0][1]
            .total_cmp(&b[0][1])
            .then(a[0][0].total_cmp(&b[0][0]))
    });
    for i in 0..boxes.len().saturating_sub(1) {
        let mut j = i as i64;
        while j >= 0 {
            let k = j as usize;
            if (boxes[k + 1][0][1] - boxes[k][0][1]).abs() < 10.0
                && boxes[k + 1][0][0] < boxes[k][0][0]
            {
                boxes.swap(k, k + 1);
                j -= 1;
            } else {
                break;
            }
        }
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canvases() {
        assert_eq!(canvas_for(1000, 630), CANVAS_LANDSCAPE);
        assert_eq!(canvas_for(630, 1000), CANVAS_PORTRAIT);
        assert_eq!(small_canvas_for(1012, 638), SMALL_LANDSCAPE);
        assert_eq!(small_canvas_for(638, 1012), SMALL_PORTRAIT);
        for c in [CANVAS_LANDSCAPE, SMALL_LANDSCAPE] {
            // The detector downsamples by 32.
            assert!(c.0 % 32 == 0 && c.1 % 32 == 0, "{c:?}");
        }
        let (s, w, h) = fit(4000, 3000, CANVAS_LANDSCAPE).unwrap();
        assert!((s - 0.24).abs() < 1e-9 && (w, h) == (960, 720));
        assert_eq!(fit(500, 300, CANVAS_LANDSCAPE), Some((1.0, 500, 300)));
        assert_eq!(fit(0, 10, CANVAS_LANDSCAPE), None);
    }

    #[test]
    fn one_bar_gives_one_grown_box() {
        let (w, h) = (100, 40);
        let mut prob = vec![0f32; w * h];
        for y in 15..25 {
            for x in 10..90 {
                prob[y * w + x] = 0.9;
            }
        }
        let boxes = boxes_from_map(&prob, w, h, 200, 80);
        assert_eq!(boxes.len(), 1);
        let b = filter_boxes(boxes, 200, 80);
        let q = b[0];
        // The bar spans x 10..=90 after dilation (pixel centres 10..89 plus one): grown by
        // area*1.6/perimeter ≈ 7 px and scaled by 2.
        assert!(q[0][0] < 20.0 && q[1][0] > 180.0, "{q:?}");
        assert!(q[0][1] < 30.0 && q[2][1] > 50.0, "{q:?}");
    }

    #[test]
    fn weak_regions_are_dropped() {
        let (w, h) = (50, 20);
        let mut prob = vec![0f32; w * h];
        for y in 5..15 {
            for x in 5..45 {
                prob[y * w + x] = 0.35;
            }
        }
        assert!(boxes_from_map(&prob, w, h, 50, 20).is_empty());
    }

    #[test]
    fn reading_order() {
        let b = |x: f64, y: f64| [[x, y], [x + 10.0, y], [x + 10.0, y + 5.0], [x, y + 5.0]];
        let sorted = sort_boxes(vec![b(50.0, 12.0), b(0.0, 40.0), b(5.0, 10.0)]);
        assert_eq!(sorted[0][0], [5.0, 10.0]);
        assert_eq!(sorted[1][0], [50.0, 12.0]);
        assert_eq!(sorted[2][0], [0.0, 40.0]);
    }
}
