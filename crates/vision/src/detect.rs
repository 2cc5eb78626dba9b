//! BlazeFace short-range face detection as MediaPipe runs it: 128×128 letterboxed input in
//! [-1, 1], 896 SSD anchors (strides 8, 16, 16, 16), box/keypoint decoding relative to the
//! anchors, sigmoid scores and weighted non-maximum suppression (IoU 0.3).

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::VisionError;
use crate::models::{run_nhwc, Plan};
use crate::raster::{supersampling, warp_rgb, Affine};

const INPUT: usize = 128;
/// MediaPipe's minimum detection score.
pub const MIN_SCORE: f32 = 0.5;
const NMS_IOU: f32 = 0.3;
/// MediaPipe clips raw logits to ±100; ±80 keeps the sigmoid finite in f32.
const RAW_SCORE_LIMIT: f32 = 80.0;

/// One detected face in the pixel coordinates of the image it was run on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub score: f32,
    /// `[xmin, ymin, xmax, ymax]`.
    pub bbox: [f32; 4],
    /// Right eye, left eye (the person's), nose tip, mouth centre, right ear tragion, left ear
    /// tragion. Index 0 is on the image's left for an upright, unmirrored face.
    pub keypoints: [(f32, f32); 6],
}

impl Detection {
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }
    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }
    fn iou(&self, o: &Detection) -> f32 {
        let ix = (self.bbox[2].min(o.bbox[2]) - self.bbox[0].max(o.bbox[0])).max(0.0);
        let iy = (self.bbox[3].min(o.bbox[3]) - self.bbox[1].max(o.bbox[1])).max(0.0);
        let inter = ix * iy;
        let union = self.width() * self.height() + o.width() * o.height() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
    fn scaled(&self, k: f32) -> Detection {
        Detection {
            score: self.score,
            bbox: self.bbox.map(|v| v * k),
            keypoints: self.keypoints.map(|(x, y)| (x * k, y * k)),
        }
    }
}

fn anchors() -> Vec<(f32, f32)> {
    // (stride, anchors per cell): one 16×16 layer with 2 anchors, three 8×8 layers with 2 each
    // merged into one grid with 6.
    let mut out = Vec::with_capacity(896);
    for (stride, repeats) in [(8usize, 2usize), (16, 6)] {
        let n = INPUT / stride;
        for y in 0..n {
            for x in 0..n {
                let c = ((x as f32 + 0.5) / n as f32, (y as f32 + 0.5) / n as f32);
                out.extend(std::iter::repeat_n(c, repeats));
            }
        }
    }
    out
}

/// Runs the detector on `img` (any size; a thumbnail of ~512 px is plenty) and returns every
/// face with score ≥ [`MIN_SCORE`], best first, in `img` pixel coordinates.
pub fn detect_faces(plan: &Plan, img: &RgbImage) -> Result<Vec<Detection>, VisionError> {
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    detect_in(plan, img, 0.0, 0.0, w, h)
}

/// Detection in the region `[x0, x0+w) × [y0, y0+h)` of `img`, letterboxed to 128×128 (longer
/// side scaled to 128, centred, black padding). Coordinates returned are `img` pixels.
pub fn detect_in(
    plan: &Plan,
    img: &RgbImage,
    x0: f64,
    y0: f64,
    w: f64,
    h: f64,
) -> Result<Vec<Detection>, VisionError> {
    let k = w.max(h) / INPUT as f64;
    let ox = (INPUT as f64 * k - w) / 2.0 - x0;
    let oy = (INPUT as f64 * k - h) / 2.0 - y0;
    let to_img = Affine {
        a: k,
        b: 0.0,
        c: -ox,
        d: 0.0,
        e: k,
        f: -oy,
    };
    let input = block_mean_letterbox(img, &to_img)
        .unwrap_or_else(|| warp_rgb(img, INPUT as u32, INPUT as u32, &to_img, [0, 0, 0]));
    let data: Vec<f32> = input
        .as_raw()
        .iter()
        .map(|&v| f32::from(v) / 127.5 - 1.0)
        .collect();
    let out = run_nhwc(plan, data, [1, INPUT, INPUT, 3])?;
    let (Some(boxes), Some(scores)) = (out.first(), out.get(1)) else {
        return Err(VisionError::Model("face detector: missing outputs".into()));
    };
    let anchors = anchors();
    if boxes.len() < anchors.len() * 16 || scores.len() < anchors.len() {
        return Err(VisionError::Model(
            "face detector: unexpected output size".into(),
        ));
    }
    let s = INPUT as f32;
    let mut raw: Vec<Detection> = Vec::new();
    for (i, &(ax, ay)) in anchors.iter().enumerate() {
        let score = 1.0 / (1.0 + (-scores[i].clamp(-RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)).exp());
        if score < MIN_SCORE {
            continue;
        }
        let r = &boxes[i * 16..i * 16 + 16];
        let cx = r[0] / s + ax;
        let cy = r[1] / s + ay;
        let bw = r[2] / s;
        let bh = r[3] / s;
        if bw <= 0.0 || bh <= 0.0 {
            continue;
        }
        let mut kp = [(0f32, 0f32); 6];
        for (j, p) in kp.iter_mut().enumerate() {
            *p = (r[4 + 2 * j] / s + ax, r[5 + 2 * j] / s + ay);
        }
        raw.push(Detection {
            score,
            bbox: [cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0],
            keypoints: kp,
        });
    }
    let merged = weighted_nms(raw);
    // Normalised letterbox coordinates → image pixels.
    let to_px = |x: f32, y: f32| -> (f32, f32) {
        let (px, py) = to_img.apply(f64::from(x) * INPUT as f64, f64::from(y) * INPUT as f64);
        (px as f32, py as f32)
    };
    Ok(merged
        .into_iter()
        .map(|d| {
            let (x0, y0) = to_px(d.bbox[0], d.bbox[1]);
            let (x1, y1) = to_px(d.bbox[2], d.bbox[3]);
            Detection {
                score: d.score,
                bbox: [x0, y0, x1, y1],
                keypoints: d.keypoints.map(|(x, y)| to_px(x, y)),
            }
        })
        .collect())
}

/// The letterbox by plain block means when it maps each input pixel onto a whole `k × k` block
/// of `img` (integer scale and offsets: the usual case, a 512-px thumbnail into 128 px). The
/// supersampling warp then samples exactly those pixel centres, so this gives the same pixels
/// at a fraction of the cost. `None` when the geometry is not of that form.
fn block_mean_letterbox(img: &RgbImage, to_img: &Affine) -> Option<RgbImage> {
    let k = to_img.a;
    let is_int = |v: f64| (v - v.round()).abs() < 1e-9;
    if to_img.b != 0.0 || to_img.d != 0.0 || to_img.e != k || k < 1.0 || !is_int(k) {
        return None;
    }
    if !is_int(to_img.c) || !is_int(to_img.f) || supersampling(to_img) != k as u32 {
        return None;
    }
    let (k, cx, cy) = (k as i64, to_img.c as i64, to_img.f as i64);
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let raw = img.as_raw();
    let norm = 1.0 / (k * k) as f32;
    let mut out = RgbImage::new(INPUT as u32, INPUT as u32);
    for (v, row) in out.chunks_exact_mut(INPUT * 3).enumerate() {
        let y0 = v as i64 * k + cy;
        for (u, px) in row.chunks_exact_mut(3).enumerate() {
            let x0 = u as i64 * k + cx;
            let mut sum = [0u32; 3];
            for y in y0.max(0)..(y0 + k).min(h) {
                for x in x0.max(0)..(x0 + k).min(w) {
                    let i = ((y * w + x) * 3) as usize;
                    for c in 0..3 {
                        sum[c] += u32::from(raw[i + c]);
                    }
                }
            }
            for c in 0..3 {
                px[c] = (sum[c] as f32 * norm).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Some(out)
}

/// Merges detections from overlapping runs (tiles) into one list, best first.
pub fn merge(dets: Vec<Detection>) -> Vec<Detection> {
    weighted_nms(dets)
}

/// MediaPipe's weighted NMS: each kept detection is the score-weighted mean of all detections
/// overlapping the best remaining one by more than the IoU threshold.
fn weighted_nms(mut dets: Vec<Detection>) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(best) = dets.first().cloned() {
        let (cands, rest): (Vec<Detection>, Vec<Detection>) =
            dets.into_iter().partition(|d| d.iou(&best) > NMS_IOU);
        let total: f32 = cands.iter().map(|d| d.score).sum();
        let mut merged = best.clone();
        if total > 0.0 && !cands.is_empty() {
            merged.bbox = [0.0; 4];
            merged.keypoints = [(0.0, 0.0); 6];
            for d in &cands {
                let wgt = d.score / total;
                for k in 0..4 {
                    merged.bbox[k] += d.bbox[k] * wgt;
                }
                for k in 0..6 {
                    merged.keypoints[k].0 += d.keypoints[k].0 * wgt;
                    merged.keypoints[k].1 += d.keypoints[k].1 * wgt;
                }
            }
        }
        out.push(merged);
        dets = rest;
    }
    out
}

/// Maps detections found on a thumbnail back to the image it was made from.
pub fn rescale(dets: &[Detection], k: f32) -> Vec<Detection> {
    dets.iter().map(|d| d.scaled(k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_mean_letterbox_gives_the_warps_pixels() {
        for (w, h) in [(512u32, 288u32), (384, 512), (512, 510), (512, 512)] {
            let img = RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x % 256) as u8, ((x * y) % 251) as u8, (y % 256) as u8])
            });
            let k = f64::from(w.max(h)) / INPUT as f64;
            let to_img = Affine {
                a: k,
                b: 0.0,
                c: -(INPUT as f64 * k - f64::from(w)) / 2.0,
                d: 0.0,
                e: k,
                f: -(INPUT as f64 * k - f64::from(h)) / 2.0,
            };
            let fast = block_mean_letterbox(&img, &to_img).expect("integer geometry");
            let slow = warp_rgb(&img, INPUT as u32, INPUT as u32, &to_img, [0, 0, 0]);
            assert_eq!(fast, slow, "{w}×{h}");
        }
        // A fractional scale is left to the warp.
        let odd = Affine {
            a: 3.7,
            e: 3.7,
            ..Affine::IDENTITY
        };
        assert!(block_mean_letterbox(&RgbImage::new(474, 300), &odd).is_none());
    }

    #[test]
    fn anchor_layout_matches_mediapipe() {
        let a = anchors();
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], (1.0 / 32.0, 1.0 / 32.0));
        assert_eq!(a[511], (31.0 / 32.0, 31.0 / 32.0));
        assert_eq!(a[512], (1.0 / 16.0, 1.0 / 16.0));
        assert_eq!(a[895], (15.0 / 16.0, 15.0 / 16.0));
    }

    #[test]
    fn weighted_nms_merges_overlaps_and_keeps_separate_faces() {
        let d = |x: f32, s: f32| Detection {
            score: s,
            bbox: [x, 0.0, x + 10.0, 10.0],
            keypoints: [(x, 0.0); 6],
        };
        let out = weighted_nms(vec![d(0.0, 0.9), d(1.0, 0.6), d(50.0, 0.7)]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        assert!((out[0].bbox[0] - 0.4).abs() < 1e-5);
        assert_eq!(out[1].bbox[0], 50.0);
    }
}
