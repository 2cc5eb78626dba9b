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

/// Which detector canvas to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetSize {
    /// RapidOCR's: long side 960 ([`det::CANVAS_LANDSCAPE`]); what [`OcrEngine::read`] uses.
    Standard,
    /// Long side 640 ([`det::SMALL_LANDSCAPE`]): for large print such as an ID card that
    /// fills the frame.
    Small,
}

impl DetSize {
    fn canvas(self, w: u32, h: u32) -> (u32, u32) {
        match self {
            DetSize::Standard => det::canvas_for(w, h),
            DetSize::Small => det::small_canvas_for(w, h),
        }
    }
}

/// Where each detector canvas's plan is kept.
fn det_slot(canvas: (u32, u32)) -> usize {
    match canvas {
        det::CANVAS_LANDSCAPE => 0,
        det::CANVAS_PORTRAIT => 1,
        det::SMALL_LANDSCAPE => 2,
        _ => 3,
    }
}

const DET_CANVASES: [(u32, u32); 4] = [
    det::CANVAS_LANDSCAPE,
    det::CANVAS_PORTRAIT,
    det::SMALL_LANDSCAPE,
    det::SMALL_PORTRAIT,
];

/// The three OCR models, loaded once; `read` takes `&self` and may run on many threads.
#[derive(Clone)]
pub struct OcrEngine {
    /// One detector plan per canvas of [`DET_CANVASES`], optimized on first use (the small
    /// landscape one, which card photos use first, at load).
    det: Arc<[OnceLock<Plan>; DET_CANVASES.len()]>,
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

/// The text boxes of an image, found by [`OcrEngine::find_text`] and read one at a time by
/// [`OcrEngine::read_box`], so a caller can stop once it has what it looks for.
pub struct FoundText<'a> {
    /// The image detection ran on: the caller's, or a reduced copy of a very large one.
    work: std::borrow::Cow<'a, RgbImage>,
    /// Original pixels per working pixel, horizontally and vertically.
    ratio: (f64, f64),
    raw_size: (u32, u32),
    /// Detector canvas pixels per working pixel.
    canvas_scale: f64,
    /// Text boxes (tl, tr, br, bl) in working pixels, in reading order.
    boxes: Vec<[[f64; 2]; 4]>,
}

impl FoundText<'_> {
    pub fn len(&self) -> usize {
        self.boxes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Box `i` in pixels of the image passed to [`OcrEngine::find_text`].
    pub fn quad(&self, i: usize) -> Option<[[f32; 2]; 4]> {
        let (rw, rh) = (f64::from(self.raw_size.0), f64::from(self.raw_size.1));
        self.boxes.get(i).map(|q| {
            q.map(|[x, y]| {
                [
                    (x * self.ratio.0).clamp(0.0, rw) as f32,
                    (y * self.ratio.1).clamp(0.0, rh) as f32,
                ]
            })
        })
    }

    /// Median height of the text boxes on the detector's canvas, in canvas pixels (0 when
    /// nothing was found): how large the print was where the detector saw it.
    pub fn median_text_height(&self) -> f64 {
        let d = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
        let mut heights: Vec<f64> = self
            .boxes
            .iter()
            .map(|q| d(q[0], q[1]).min(d(q[0], q[3])) * self.canvas_scale)
            .collect();
        heights.sort_by(f64::total_cmp);
        heights.get(heights.len() / 2).copied().unwrap_or(0.0)
    }
}

impl OcrEngine {
    /// Parses and optimizes the embedded models (once per process).
    pub fn load() -> Result<OcrEngine, VisionError> {
        let det: Arc<[OnceLock<Plan>; DET_CANVASES.len()]> =
            Arc::new(std::array::from_fn(|_| OnceLock::new()));
        let _ = det[det_slot(det::SMALL_LANDSCAPE)].set(load_det(det::SMALL_LANDSCAPE)?);
        let rec: Arc<[OnceLock<Plan>; rec::WIDTH_BUCKETS.len()]> =
            Arc::new(std::array::from_fn(|_| OnceLock::new()));
        // Names fit the narrowest bucket, addresses the next: have them ready.
        for (slot, &w) in rec.iter().zip(rec::WIDTH_BUCKETS.iter()).take(2) {
            let _ = slot.set(load_rec(w)?);
        }
        let cls_fact = f32::fact([1, 3, cls::HEIGHT as usize, cls::WIDTH as usize]).into();
        let cls = load_model("ch_ppocr_mobile_v2.0_cls_infer", CLS_MODEL, cls_fact)?;
        Ok(OcrEngine {
            det,
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

    fn det_plan(&self, canvas: (u32, u32)) -> Result<&Plan, VisionError> {
        let slot = &self.det[det_slot(canvas)];
        if let Some(p) = slot.get() {
            return Ok(p);
        }
        let p = load_det(canvas)?;
        Ok(slot.get_or_init(|| p))
    }

    /// Text boxes only (tl, tr, br, bl in `img` pixels), in reading order: the detection
    /// stage of [`OcrEngine::read`] without its reduction of very large images.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<[[f64; 2]; 4]>, VisionError> {
        self.detect_on(img, DetSize::Standard)
    }

    /// [`OcrEngine::detect`] on the canvas of `size`.
    pub fn detect_on(
        &self,
        img: &RgbImage,
        size: DetSize,
    ) -> Result<Vec<[[f64; 2]; 4]>, VisionError> {
        let canvas = size.canvas(img.width(), img.height());
        det::detect(self.det_plan(canvas)?, img, canvas)
    }

    pub fn model_versions(&self) -> &[ModelVersion] {
        &self.versions
    }

    /// All text lines in reading order (top to bottom, left to right), as RapidOCR reads
    /// them (standard canvas).
    pub fn read(&self, img: &RgbImage) -> Result<Vec<TextLine>, VisionError> {
        let found = self.find_text(img, DetSize::Standard)?;
        let mut lines = Vec::with_capacity(found.len());
        for i in 0..found.len() {
            lines.extend(self.read_box(&found, i)?);
        }
        Ok(lines)
    }

    /// The detection stage of [`OcrEngine::read`] (very large images reduced first) on the
    /// canvas of `size`; nothing is recognised yet.
    pub fn find_text<'a>(
        &self,
        img: &'a RgbImage,
        size: DetSize,
    ) -> Result<FoundText<'a>, VisionError> {
        let (raw_w, raw_h) = (img.width(), img.height());
        let mut found = FoundText {
            work: std::borrow::Cow::Borrowed(img),
            ratio: (1.0, 1.0),
            raw_size: (raw_w, raw_h),
            canvas_scale: 1.0,
            boxes: vec![],
        };
        if raw_w == 0 || raw_h == 0 {
            return Ok(found);
        }
        if raw_w.max(raw_h) > MAX_SIDE {
            let r = f64::from(MAX_SIDE) / f64::from(raw_w.max(raw_h));
            let r32 = |v: u32| {
                let s = (f64::from(v) * r).floor();
                (((s / 32.0).round_ties_even() * 32.0) as u32).max(32)
            };
            let (w, h) = (r32(raw_w), r32(raw_h));
            found.work = std::borrow::Cow::Owned(raster::resize_linear(img, w, h));
            found.ratio = (
                f64::from(raw_w) / f64::from(w),
                f64::from(raw_h) / f64::from(h),
            );
        }
        let work = found.work.as_ref();
        let canvas = size.canvas(work.width(), work.height());
        found.canvas_scale = det::fit(work.width(), work.height(), canvas).map_or(1.0, |f| f.0);
        found.boxes = det::detect(self.det_plan(canvas)?, work, canvas)?;
        Ok(found)
    }

    /// Recognises box `i` of `found`: `None` when it cannot be cut out or reads with a score
    /// below RapidOCR's `text_score`.
    pub fn read_box(
        &self,
        found: &FoundText<'_>,
        i: usize,
    ) -> Result<Option<TextLine>, VisionError> {
        let (Some(&quad), Some(out_quad)) = (found.boxes.get(i), found.quad(i)) else {
            return Ok(None);
        };
        let d = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
        let cw = d(quad[0], quad[1]).max(d(quad[2], quad[3])) as u32;
        let ch = d(quad[0], quad[3]).max(d(quad[1], quad[2])) as u32;
        if cw == 0 || ch == 0 {
            return Ok(None);
        }
        let Some(mut crop) = raster::crop_quad(found.work.as_ref(), &quad, cw, ch) else {
            return Ok(None);
        };
        // Tall crops are vertical text: read them turned a quarter.
        if f64::from(ch) / f64::from(cw) >= 1.5 {
            crop = raster::rot90_ccw(&crop);
        }
        let (crop, flipped) = cls::upright(&self.cls, crop)?;
        let (text, score) = rec::recognize(|b| self.rec_plan(b), &self.charset, &crop)?;
        if score < MIN_TEXT_SCORE {
            return Ok(None);
        }
        Ok(Some(TextLine {
            text,
            score,
            quad: out_quad,
            flipped,
        }))
    }
}
