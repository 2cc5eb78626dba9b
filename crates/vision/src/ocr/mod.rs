//! OCR with RapidOCR's PP-OCRv4 models (Apache-2.0, from the PyPI wheel
//! `rapidocr-onnxruntime==1.4.4`) run by tract: text detection ([`det`]), line orientation
//! ([`cls`]) and recognition ([`rec`]), with RapidOCR's pre- and post-processing so the texts
//! agree with it (checked by `models/parity/parity_ocr.py`).

pub mod cls;
pub mod det;
pub mod geometry;
pub mod raster;
pub mod rec;

use std::sync::{Arc, OnceLock};

use gradphoto_domain::measures::ModelVersion;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

use crate::error::VisionError;
use crate::models::{load_model, model_version, Plan};

pub const DET_MODEL: &[u8] = include_bytes!("../../../../models/ch_PP-OCRv4_det_infer.onnx");
pub const CLS_MODEL: &[u8] =
    include_bytes!("../../../../models/ch_ppocr_mobile_v2.0_cls_infer.onnx");
pub const REC_MODEL: &[u8] = include_bytes!("../../../../models/ch_PP-OCRv4_rec_infer.onnx");
/// The recognizer's dictionary (identical to the rec model's `character` metadata).
pub const KEYS: &str = include_str!("../../../../models/ppocr_keys.txt");

/// RapidOCR's `max_side_len`: larger photos are reduced before anything else.
const MAX_SIDE: u32 = 2000;
/// RapidOCR's `text_score`: lines recognised with a lower mean probability are dropped.
const MIN_TEXT_SCORE: f32 = 0.5;

/// One recognised line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextLine {
    pub text: String,
    /// Mean probability of the recognised characters (0–1).
    pub score: f32,
    /// Corners tl, tr, br, bl in pixels of the image passed to [`OcrEngine::read`].
    pub quad: [[f32; 2]; 4],
    /// The line was upside down and read after a half turn.
    pub flipped: bool,
}

/// The three OCR models, loaded once; `read` takes `&self` and may run on many threads.
#[derive(Clone)]
pub struct OcrEngine {
    det_landscape: Plan,
    /// Optimized on first use: most card photos are landscape.
    det_portrait: Arc<OnceLock<Plan>>,
    cls: Plan,
    /// One plan per width bucket, optimized on first use (the narrow ones at load).
    rec: Arc<[OnceLock<Plan>; rec::WIDTH_BUCKETS.len()]>,
    charset: Arc<rec::Charset>,
    versions: Vec<ModelVersion>,
}

fn load_det(canvas: (u32, u32)) -> Result<Plan, VisionError> {
    let fact = f32::fact([1, 3, canvas.1 as usize, canvas.0 as usize]).into();
    load_model("ch_PP-OCRv4_det_infer", DET_MODEL, fact)
}

fn load_rec(width: u32) -> Result<Plan, VisionError> {
    let fact = f32::fact([1, 3, rec::HEIGHT as usize, width as usize]).into();
    load_model("ch_PP-OCRv4_rec_infer", REC_MODEL, fact)
}

impl OcrEngine {
    /// Parses and optimizes the embedded models (once per process).
    pub fn load() -> Result<OcrEngine, VisionError> {
        let det_landscape = load_det(det::CANVAS_LANDSCAPE)?;
        let rec: Arc<[OnceLock<Plan>; rec::WIDTH_BUCKETS.len()]> =
            Arc::new(std::array::from_fn(|_| OnceLock::new()));
        // Names fit the narrowest bucket, addresses the next: have them ready.
        for (slot, &w) in rec.iter().zip(rec::WIDTH_BUCKETS.iter()).take(2) {
            let _ = slot.set(load_rec(w)?);
        }
        let cls_fact = f32::fact([1, 3, cls::HEIGHT as usize, cls::WIDTH as usize]).into();
        let cls = load_model("ch_ppocr_mobile_v2.0_cls_infer", CLS_MODEL, cls_fact)?;
        Ok(OcrEngine {
            det_landscape,
            det_portrait: Arc::new(OnceLock::new()),
            cls,
            rec,
            charset: Arc::new(rec::Charset::from_keys(KEYS)),
            versions: vec![
                model_version("ch_PP-OCRv4_det_infer", DET_MODEL),
                model_version("ch_ppocr_mobile_v2.0_cls_infer", CLS_MODEL),
                model_version("ch_PP-OCRv4_rec_infer", REC_MODEL),
            ],
        })
    }

    fn rec_plan(&self, bucket: usize) -> Result<Plan, VisionError> {
        let slot = self
            .rec
            .get(bucket)
            .ok_or_else(|| VisionError::Model(format!("ocr rec: no width bucket {bucket}")))?;
        if let Some(p) = slot.get() {
            return Ok(p.clone());
        }
        let p = load_rec(rec::WIDTH_BUCKETS[bucket])?;
        Ok(slot.get_or_init(|| p).clone())
    }

    /// Text boxes only (tl, tr, br, bl in `img` pixels), in reading order: the detection
    /// stage of [`OcrEngine::read`] without its reduction of very large images.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<[[f64; 2]; 4]>, VisionError> {
        let canvas = det::canvas_for(img.width(), img.height());
        let plan = if canvas == det::CANVAS_LANDSCAPE {
            &self.det_landscape
        } else {
            match self.det_portrait.get() {
                Some(p) => p,
                None => {
                    let p = load_det(canvas)?;
                    self.det_portrait.get_or_init(|| p)
                }
            }
        };
        det::detect(plan, img, canvas)
    }

    pub fn model_versions(&self) -> &[ModelVersion] {
        &self.versions
    }

    /// All text lines in reading order (top to bottom, left to right).
    pub fn read(&self, img: &RgbImage) -> Result<Vec<TextLine>, VisionError> {
        let (raw_w, raw_h) = (img.width(), img.height());
        if raw_w == 0 || raw_h == 0 {
            return Ok(vec![]);
        }
        let reduced;
        let (work, ratio_w, ratio_h) = if raw_w.max(raw_h) > MAX_SIDE {
            let r = f64::from(MAX_SIDE) / f64::from(raw_w.max(raw_h));
            let r32 = |v: u32| {
                let s = (f64::from(v) * r).floor();
                (((s / 32.0).round_ties_even() * 32.0) as u32).max(32)
            };
            let (w, h) = (r32(raw_w), r32(raw_h));
            reduced = raster::resize_linear(img, w, h);
            (
                &reduced,
                f64::from(raw_w) / f64::from(w),
                f64::from(raw_h) / f64::from(h),
            )
        } else {
            (img, 1.0, 1.0)
        };

        let boxes = self.detect(work)?;
        let mut lines = Vec::with_capacity(boxes.len());
        for quad in boxes {
            let d = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
            let cw = d(quad[0], quad[1]).max(d(quad[2], quad[3])) as u32;
            let ch = d(quad[0], quad[3]).max(d(quad[1], quad[2])) as u32;
            if cw == 0 || ch == 0 {
                continue;
            }
            let Some(mut crop) = raster::crop_quad(work, &quad, cw, ch) else {
                continue;
            };
            // Tall crops are vertical text: read them turned a quarter.
            if f64::from(ch) / f64::from(cw) >= 1.5 {
                crop = raster::rot90_ccw(&crop);
            }
            let (crop, flipped) = cls::upright(&self.cls, crop)?;
            let (text, score) = rec::recognize(|b| self.rec_plan(b), &self.charset, &crop)?;
            if score < MIN_TEXT_SCORE {
                continue;
            }
            let quad = quad.map(|[x, y]| {
                [
                    (x * ratio_w).clamp(0.0, f64::from(raw_w)) as f32,
                    (y * ratio_h).clamp(0.0, f64::from(raw_h)) as f32,
                ]
            });
            lines.push(TextLine {
                text,
                score,
                quad,
                flipped,
            });
        }
        Ok(lines)
    }
}
