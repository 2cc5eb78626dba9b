//! gradphoto-vision: images and models for graduation ID photos.
//!
//! Decoding (EXIF orientation, decompression-bomb guard, reduced-scale JPEG decoding), face
//! detection (BlazeFace short range), 468 FaceMesh landmarks, head pose, eye and mouth state,
//! person segmentation refined into an alpha matte, standardization to the CHSI photo spec and
//! the compliance measures. All models are embedded and run with tract-onnx; no IO beyond the
//! bytes handed in.
//!
//! ```no_run
//! use gradphoto_vision::{Vision, PhotoSpec, Thresholds};
//! # fn main() -> Result<(), gradphoto_vision::VisionError> {
//! let vision = Vision::load()?; // once per process; share with Arc
//! let photo = std::fs::read("photo.jpg").unwrap();
//! let analysis = vision.analyze(&photo, &PhotoSpec::chsi(), &Thresholds::default(), None, None)?;
//! println!("{}", gradphoto_vision::render_report_text(&analysis.report, gradphoto_vision::Lang::Zh));
//! if let Some(std) = analysis.standardized { std::fs::write("out.jpg", &std.jpeg).unwrap(); }
//! # Ok(()) }
//! ```

pub mod accessories;
pub mod colour;
pub mod decode;
pub mod detect;
pub mod error;
pub mod inspect;
pub mod jpeg;
pub mod landmarks;
pub mod measures;
pub mod models;
pub mod placement;
pub mod pose;
pub mod raster;
pub mod report;
pub mod segment;
pub mod shoulders;
pub mod standardize;

use gradphoto_domain::measures::{CheckReport, MeasureId, ModelVersion};
use gradphoto_domain::Localized;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

pub use decode::{decode, sniff, DecodeLimits, Decoded, ExifInfo, ImageFormat};
pub use error::{CardProblem, CropShortfall, VisionError};
pub use gradphoto_domain::measures::Thresholds;
pub use gradphoto_domain::spec::PhotoSpec;
pub use inspect::Inspection;
pub use report::{render_report_json, render_report_text, Lang};
pub use standardize::{Geometry, Standardized};

use crate::models::{bytes, load_model, model_version, Plan};

/// The loaded models. Load once per process (≈ 0.1–0.3 s) and share (`Vision: Send + Sync`).
pub struct Vision {
    pub(crate) detector: Plan,
    pub(crate) landmarker: Plan,
    pub(crate) segmenter: Plan,
    versions: Vec<ModelVersion>,
    limits: DecodeLimits,
    // Loaded on first use: photo checks and standardization do not pay for them.
    embedder: std::sync::OnceLock<embed::FaceEmbedder>,
    ocr: std::sync::OnceLock<ocr::OcrEngine>,
}

/// A user-facing message with its stable code, kept where an error is part of a result rather
/// than the reason there is none (e.g. why no standardized photo could be made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl From<&VisionError> for Problem {
    fn from(e: &VisionError) -> Self {
        Problem {
            code: e.code().to_string(),
            message_zh: e.message_zh(),
            message_en: e.message_en(),
        }
    }
}

/// Result of [`Vision::analyze`].
#[derive(Debug, Clone)]
pub struct Analysis {
    /// All measures; face_similarity when an ID card was given, id_card_ocr when the typed
    /// name and number were given too.
    pub report: CheckReport,
    /// Comparison with the ID card portrait, when an ID card was given and both faces found.
    pub face_match: Option<embed::FaceMatch>,
    /// What OCR read on the ID card, when an ID card and the typed details were given.
    pub ocr: Option<idcard::IdCardReading>,
    /// The standardized photo, when one could be made.
    pub standardized: Option<Standardized>,
    /// Why there is no standardized photo (no face, face too small, cannot crop, …).
    pub standardize_error: Option<Problem>,
}

impl Vision {
    /// Loads and optimizes the embedded models.
    pub fn load() -> Result<Vision, VisionError> {
        let nhwc = |s: usize| -> InferenceFact { f32::fact([1, s, s, 3]).into() };
        // Parsing and optimizing dominate start-up; the three models load in parallel.
        let (detector, landmarker, segmenter) = std::thread::scope(|s| {
            let det = s.spawn(|| {
                load_model(
                    "face_detection_short_range",
                    bytes::FACE_DETECTION,
                    nhwc(128),
                )
            });
            let seg = s
                .spawn(|| load_model("selfie_segmentation", bytes::SELFIE_SEGMENTATION, nhwc(256)));
            let lm = load_model("face_landmark", bytes::FACE_LANDMARK, nhwc(192));
            let joined = |r: std::thread::Result<Result<Plan, VisionError>>| {
                r.unwrap_or_else(|_| Err(VisionError::Model("model loading panicked".into())))
            };
            (joined(det.join()), lm, joined(seg.join()))
        });
        Ok(Vision {
            detector: detector?,
            landmarker: landmarker?,
            segmenter: segmenter?,
            versions: vec![
                model_version("face_detection_short_range.onnx", bytes::FACE_DETECTION),
                model_version("face_landmark.onnx", bytes::FACE_LANDMARK),
                model_version("selfie_segmentation.onnx", bytes::SELFIE_SEGMENTATION),
            ],
            limits: DecodeLimits::default(),
            embedder: std::sync::OnceLock::new(),
            ocr: std::sync::OnceLock::new(),
        })
    }

    fn embedder(&self) -> Result<&embed::FaceEmbedder, VisionError> {
        if let Some(e) = self.embedder.get() {
            return Ok(e);
        }
        let loaded = embed::FaceEmbedder::load()?;
        Ok(self.embedder.get_or_init(|| loaded))
    }

    fn ocr_engine(&self) -> Result<&ocr::OcrEngine, VisionError> {
        if let Some(e) = self.ocr.get() {
            return Ok(e);
        }
        let loaded = ocr::OcrEngine::load()?;
        Ok(self.ocr.get_or_init(|| loaded))
    }

    /// The face descriptor of the main face of a photo (or of the portrait on an ID card
    /// photo, which is searched for at several scales).
    fn embedding_of(&self, ins: &Inspection) -> Result<embed::Embedding, VisionError> {
        let mesh = ins.mesh.as_ref().ok_or(VisionError::NoFace)?;
        let points = align::FivePoints::from_mesh(mesh)
            .ok_or_else(|| VisionError::Model("face landmarks: too few points".into()))?;
        self.embedder()?
            .embed(&align::face_chip(&ins.decoded.rgb, &points)?)
    }

    fn card_image(&self, card: &[u8]) -> Result<image::RgbImage, VisionError> {
        let r = inspect::working_reduction(card)?;
        Ok(decode::decode_reduced(card, self.limits, r)?.rgb)
    }

    /// Compares the main faces of two photos (e.g. the photo and the ID card front).
    /// `b` may be a photo of an ID card: its portrait is found at several scales.
    pub fn compare(&self, a: &[u8], b: &[u8]) -> Result<embed::FaceMatch, VisionError> {
        let ea = self.embedding_of(&self.inspect(a)?)?;
        let eb = self.card_embedding(&self.card_image(b)?)?;
        Ok(embed::compare(&ea, &eb))
    }

    fn card_embedding(&self, card: &image::RgbImage) -> Result<embed::Embedding, VisionError> {
        idcard::portrait_embedding(&self.detector, &self.landmarker, self.embedder()?, card)
    }

    /// Reads name and ID number off a photo of the ID card front.
    pub fn read_id_card(&self, front: &[u8]) -> Result<idcard::IdCardReading, VisionError> {
        idcard::read_id_card(self.ocr_engine()?, &self.card_image(front)?)
    }

    /// Changes the decoding limits (default: 50 MP).
    pub fn with_limits(mut self, limits: DecodeLimits) -> Vision {
        self.limits = limits;
        self
    }

    /// The models behind every report, by name and SHA-256.
    pub fn model_versions(&self) -> &[ModelVersion] {
        &self.versions
    }

    /// Faces in `img` (any size), best first; see [`detect::detect_faces`].
    pub fn detect(&self, img: &image::RgbImage) -> Result<Vec<detect::Detection>, VisionError> {
        detect::detect_faces(&self.detector, img)
    }

    /// FaceMesh landmarks of one detection in `img`.
    pub fn face_mesh(
        &self,
        img: &image::RgbImage,
        det: &detect::Detection,
    ) -> Result<landmarks::FaceMesh, VisionError> {
        landmarks::face_mesh(&self.landmarker, img, det)
    }

    /// The coarse person mask of `img`.
    pub fn segment(&self, img: &image::RgbImage) -> Result<segment::CoarseMask, VisionError> {
        segment::segment(&self.segmenter, img)
    }

    /// The segmentation model's plan (for rendering a plan outside [`Vision::standardize`]).
    pub fn segmenter_plan(&self) -> &Plan {
        &self.segmenter
    }

    /// The face detector's plan, for modules that look for faces elsewhere (ID card portrait).
    pub fn detector_plan(&self) -> &Plan {
        &self.detector
    }

    /// How clean the painted background of a standardized photo is (see
    /// [`standardize::BackgroundCheck`]), with the person found on the output itself.
    pub fn check_background(
        &self,
        std: &Standardized,
        spec: &PhotoSpec,
    ) -> Result<standardize::BackgroundCheck, VisionError> {
        let ins = self.inspect(&std.jpeg)?;
        let out = &ins.decoded.rgb;
        let mask: Vec<f32> = out
            .enumerate_pixels()
            .map(|(x, y, _)| ins.mask.at(f64::from(x) + 0.5, f64::from(y) + 0.5))
            .collect();
        Ok(standardize::BackgroundCheck::of(out, &mask, spec))
    }

    /// Decodes the photo and finds faces, landmarks and the person mask (no measures).
    pub fn inspect(&self, photo: &[u8]) -> Result<Inspection, VisionError> {
        inspect::inspect(self, photo, self.limits, None)
    }

    /// The standardized photo for `spec`. Errors: decoding errors, `no_face`,
    /// `multiple_faces`, `face_too_small` (never upscaled), `cannot_crop`.
    pub fn standardize(&self, photo: &[u8], spec: &PhotoSpec) -> Result<Standardized, VisionError> {
        spec.validate()
            .map_err(|e| VisionError::InvalidSpec(e.to_string()))?;
        let ins = self.inspect(photo)?;
        match ins.faces.len() {
            0 => return Err(VisionError::NoFace),
            1 => {}
            n => return Err(VisionError::MultipleFaces { count: n }),
        }
        let (ins, plan) = self.plan_with_resolution(photo, ins, spec);
        standardize::render(&self.segmenter, &ins, &plan?, spec)
    }

    /// All compliance measures (except face similarity and ID card OCR) for `photo`.
    pub fn check(
        &self,
        photo: &[u8],
        spec: &PhotoSpec,
        thresholds: &Thresholds,
    ) -> Result<CheckReport, VisionError> {
        Ok(self.analyze(photo, spec, thresholds, None, None)?.report)
    }

    /// Measures and, when possible, the standardized photo, from one decode and one pass of
    /// every model. With `id_card_front`, the face is compared with the card's portrait
    /// (face_similarity); with `typed` (name, ID number) as well, the card is read and checked
    /// against them (id_card_ocr). A card that cannot be used makes those measures
    /// `failed_to_assess` rather than failing the whole analysis.
    pub fn analyze(
        &self,
        photo: &[u8],
        spec: &PhotoSpec,
        thresholds: &Thresholds,
        id_card_front: Option<&[u8]>,
        typed: Option<(&str, &str)>,
    ) -> Result<Analysis, VisionError> {
        let Measured {
            ins,
            plan,
            plan_err,
            mut measures,
        } = self.measure_photo(photo, spec, thresholds)?;
        let mut models = self.versions.clone();
        let (mut face_match, mut ocr) = (None, None);
        if let Some(card_bytes) = id_card_front {
            let card = self.card_image(card_bytes);
            let card_face = card
                .as_ref()
                .map_err(clone_err)
                .and_then(|card| self.card_embedding(card));
            face_match = self.face_similarity(
                &ins,
                card_face.as_ref(),
                thresholds,
                &mut measures,
                &mut models,
            );
            if let Some((name, number)) = typed {
                let reading = card
                    .as_ref()
                    .map_err(clone_err)
                    .and_then(|card| idcard::read_id_card(self.ocr_engine()?, card));
                measures.push(match &reading {
                    Ok(r) => idcard::id_card_ocr_measure(
                        &idcard::check_against_typed(r, name, number),
                        thresholds,
                    ),
                    Err(e) => not_assessed(MeasureId::IdCardOcr, e),
                });
                ocr = reading.ok();
                if let Ok(e) = self.ocr_engine() {
                    models.extend(e.model_versions().iter().cloned());
                }
            }
        }
        let (standardized, standardize_error) = match (&plan, &plan_err) {
            _ if ins.faces.is_empty() => (None, Some(Problem::from(&VisionError::NoFace))),
            _ if ins.faces.len() > 1 => (
                None,
                Some(Problem::from(&VisionError::MultipleFaces {
                    count: ins.faces.len(),
                })),
            ),
            (Some(p), _) => match standardize::render(&self.segmenter, &ins, p, spec) {
                Ok(s) => (Some(s), None),
                Err(e) => (None, Some(Problem::from(&e))),
            },
            (None, Some(e)) => (None, Some(Problem::from(e))),
            (None, None) => (None, Some(Problem::from(&VisionError::NoFace))),
        };
        Ok(Analysis {
            report: CheckReport {
                measures,
                models,
                config_version: thresholds.version(),
            },
            face_match,
            ocr,
            standardized,
            standardize_error,
        })
    }

    /// The part of every photo check: one inspection, the crop plan (or why there is none)
    /// and all measures that need only the photo.
    fn measure_photo(
        &self,
        photo: &[u8],
        spec: &PhotoSpec,
        thresholds: &Thresholds,
    ) -> Result<Measured, VisionError> {
        spec.validate()
            .map_err(|e| VisionError::InvalidSpec(e.to_string()))?;
        let ins = self.inspect(photo)?;
        let (ins, plan, plan_err) = if ins.mesh.is_some() {
            match self.plan_with_resolution(photo, ins, spec) {
                (ins, Ok(plan)) => (ins, Some(plan), None),
                (ins, Err(e)) => (ins, None, Some(e)),
            }
        } else {
            (ins, None, None)
        };
        let measures =
            measures::measure_all(&ins, plan.as_ref(), plan_err.as_ref(), spec, thresholds);
        Ok(Measured {
            ins,
            plan,
            plan_err,
            measures,
        })
    }

    /// Compares the photo's face with the card portrait's descriptor (or reports why it
    /// cannot), adding the face_similarity measure and the embedding model's version.
    fn face_similarity(
        &self,
        ins: &Inspection,
        card_face: Result<&embed::Embedding, &VisionError>,
        thresholds: &Thresholds,
        measures: &mut Vec<gradphoto_domain::measures::MeasureResult>,
        models: &mut Vec<gradphoto_domain::measures::ModelVersion>,
    ) -> Option<embed::FaceMatch> {
        let matched = self.embedding_of(ins).and_then(|photo_face| {
            let card_face = card_face.map_err(clone_err)?;
            Ok(embed::compare_with(
                &photo_face,
                card_face,
                embed::threshold_from(thresholds),
            ))
        });
        measures.push(match &matched {
            Ok(m) => embed::face_similarity_measure(m, thresholds),
            Err(e) => not_assessed(MeasureId::FaceSimilarity, e),
        });
        if let Ok(e) = self.embedder() {
            models.push(e.model_version().clone());
        }
        matched.ok()
    }

    /// Plans the crop; when the reduced working image is too coarse for the chosen scale the
    /// photo is decoded again at full resolution (the original still has the pixels). The
    /// inspection the plan refers to is returned either way.
    fn plan_with_resolution(
        &self,
        photo: &[u8],
        ins: Inspection,
        spec: &PhotoSpec,
    ) -> (Inspection, Result<standardize::CropPlan, VisionError>) {
        match standardize::plan(&ins, spec) {
            Ok(p) => (ins, Ok(p)),
            Err(standardize::PlanError::Vision(e)) => (ins, Err(e)),
            Err(standardize::PlanError::NeedsFullResolution) => {
                let full = match inspect::inspect(self, photo, self.limits, Some(1)) {
                    Ok(full) => full,
                    Err(e) => return (ins, Err(e)),
                };
                match standardize::plan(&full, spec) {
                    Ok(p) => (full, Ok(p)),
                    Err(standardize::PlanError::Vision(e)) => (full, Err(e)),
                    Err(standardize::PlanError::NeedsFullResolution) => (
                        full,
                        Err(VisionError::Model(
                            "full resolution still too coarse".into(),
                        )),
                    ),
                }
            }
        }
    }

    /// The ID card front decoded the way every card step decodes it (reduced like a photo
    /// when large), so that one decode serves both [`Vision::read_decoded_card`] and
    /// [`Vision::card_portrait`].
    pub fn decode_card(&self, front: &[u8]) -> Result<Decoded, VisionError> {
        let r = inspect::working_reduction(front)?;
        decode::decode_reduced(front, self.limits, r)
    }

    /// Whether a picture can serve as the front of an ID card: decodable within the pixel
    /// limit, with a portrait, and with a card's printed text (a name, a number or the number's
    /// label read where a card has them). Checked when the student gives the card, so that the
    /// face comparison later has a portrait to compare with and the reviewer a card to read.
    /// A face's size does not tell a card from a portrait photo (on the test photos and the
    /// real portraits the face takes 6–56 % of the width, on the cards 10–17 %); the text does.
    pub fn check_card_front(&self, front: &[u8]) -> Result<(), VisionError> {
        let card = self.decode_card(front)?;
        if idcard::find_portrait(&self.detector, &card.rgb)?.is_none() {
            return Err(VisionError::NotAnIdCard(CardProblem::NoPortrait));
        }
        if !self.read_decoded_card(&card)?.looks_like_a_card() {
            return Err(VisionError::NotAnIdCard(CardProblem::NoCardText));
        }
        Ok(())
    }

    /// Whether a picture can serve as the back of an ID card: decodable within the pixel limit.
    pub fn check_card_back(&self, back: &[u8]) -> Result<(), VisionError> {
        self.decode_card(back).map(|_| ())
    }

    /// [`Vision::read_id_card`] on a card from [`Vision::decode_card`].
    pub fn read_decoded_card(&self, card: &Decoded) -> Result<idcard::IdCardReading, VisionError> {
        idcard::read_id_card(self.ocr_engine()?, &card.rgb)
    }

    /// The portrait on a card from [`Vision::decode_card`]: where it is (in `card.rgb`
    /// pixels) and the descriptor the face comparison uses.
    pub fn card_portrait(&self, card: &Decoded) -> Result<idcard::Portrait, VisionError> {
        idcard::portrait(
            &self.detector,
            &self.landmarker,
            self.embedder()?,
            &card.rgb,
        )
    }

    /// What a reviewer's hints need from a photo, from one inspection: the measures
    /// [`Vision::analyze`] reports — face_similarity too when `card_face` is given (the
    /// card portrait's descriptor, or why there is none) — and the inspection they were
    /// taken from, to draw the face. The standardized photo is not rendered.
    pub fn review_check(
        &self,
        photo: &[u8],
        spec: &PhotoSpec,
        thresholds: &Thresholds,
        card_face: Option<Result<&embed::Embedding, &VisionError>>,
    ) -> Result<ReviewCheck, VisionError> {
        let Measured {
            ins, mut measures, ..
        } = self.measure_photo(photo, spec, thresholds)?;
        let mut models = self.versions.clone();
        let face_match = card_face.and_then(|card_face| {
            self.face_similarity(&ins, card_face, thresholds, &mut measures, &mut models)
        });
        Ok(ReviewCheck {
            report: CheckReport {
                measures,
                models,
                config_version: thresholds.version(),
            },
            face_match,
            inspection: ins,
        })
    }
}

fn not_assessed(id: MeasureId, e: &VisionError) -> gradphoto_domain::measures::MeasureResult {
    gradphoto_domain::measures::MeasureResult::failed_to_assess(id, e.message_zh(), e.message_en())
}

/// Errors are not `Clone` (they may wrap foreign errors); a second use of a card that failed
/// to decode needs its own copy of the message.
fn clone_err(e: &VisionError) -> VisionError {
    match e {
        VisionError::UnreadableImage(m) => VisionError::UnreadableImage(m.clone()),
        VisionError::UnsupportedFormat(m) => VisionError::UnsupportedFormat(m.clone()),
        VisionError::TooManyPixels { pixels, limit } => VisionError::TooManyPixels {
            pixels: *pixels,
            limit: *limit,
        },
        VisionError::NoFace => VisionError::NoFace,
        VisionError::MultipleFaces { count } => VisionError::MultipleFaces { count: *count },
        VisionError::FaceTooSmall {
            face_width_px,
            needed_px,
        } => VisionError::FaceTooSmall {
            face_width_px: *face_width_px,
            needed_px: *needed_px,
        },
        VisionError::CannotCrop(s) => VisionError::CannotCrop(*s),
        VisionError::Model(m) => VisionError::Model(m.clone()),
        VisionError::InvalidSpec(m) => VisionError::InvalidSpec(m.clone()),
        VisionError::NotAnIdCard(p) => VisionError::NotAnIdCard(*p),
    }
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn vision_is_send_and_sync() {
        assert_send_sync::<super::Vision>();
    }
}

// Face embedding and comparison with the ID card portrait, and ID card OCR.
pub mod align;
pub mod embed;
pub mod idcard;
pub mod ocr;

/// What [`Vision::analyze`] and [`Vision::review_check`] share.
struct Measured {
    ins: Inspection,
    plan: Option<standardize::CropPlan>,
    plan_err: Option<VisionError>,
    measures: Vec<gradphoto_domain::measures::MeasureResult>,
}

/// Result of [`Vision::review_check`].
#[derive(Debug, Clone)]
pub struct ReviewCheck {
    /// The measures [`Vision::analyze`] reports for the same photo and card.
    pub report: CheckReport,
    pub face_match: Option<embed::FaceMatch>,
    /// The inspection the measures were taken from (at full resolution when the crop plan
    /// needed it).
    pub inspection: Inspection,
}
