//! Local hints: the compliance measures, the face comparison with the ID card and the face
//! geometry for the overlays, computed on this machine with the same models as the server.
//! Advisory only: the server recomputes what it stores.

use std::sync::Arc;
use std::time::Instant;

use gradphoto_api::review::ReviewItem;
use gradphoto_domain::measures::{AssessStatus, Limits, MeasureResult, Verdict};
use gradphoto_domain::Localized;
use gradphoto_vision::detect::Detection;
use gradphoto_vision::embed::FaceMatch;
use gradphoto_vision::idcard::{IdCardReading, Portrait};
use gradphoto_vision::landmarks::FaceMesh;
use gradphoto_vision::{Decoded, Inspection, PhotoSpec, Thresholds, Vision, VisionError};
use tokio::sync::OnceCell;

use crate::account::Signed;
use crate::error::{DeskError, DeskResult};
use crate::view::{FaceMatchView, HintsView, ImageKind, MeasureView, OcrView, OverlayView};

/// The models, loaded once on first use (on a blocking thread: it takes a moment).
#[derive(Default)]
pub struct Hinter {
    models: OnceCell<Arc<Models>>,
}

pub struct Models {
    pub vision: Vision,
}

impl Models {
    pub fn load() -> Result<Models, VisionError> {
        Ok(Models {
            vision: Vision::load()?,
        })
    }
}

fn ocr_view(r: &IdCardReading, subject: &HintSubject) -> OcrView {
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    // Masked as the record is, so a read number is compared without the full number ever
    // being shown on this machine.
    let number_masked = r.id_number.as_deref().map(gradphoto_domain::idnumber::mask);
    OcrView {
        name_read: r.name.clone(),
        number_read: number_masked.clone(),
        name_expected: subject.name.clone(),
        number_expected_masked: subject.id_number_masked.clone(),
        name_matches: r
            .name
            .as_deref()
            .is_some_and(|n| squeeze(n) == squeeze(&subject.name)),
        number_matches: number_masked
            .is_some_and(|m| m.eq_ignore_ascii_case(&subject.id_number_masked)),
    }
}

fn face_view(m: &FaceMatch) -> FaceMatchView {
    FaceMatchView {
        similarity: f64::from(m.similarity) / 100.0,
        distance: m.distance,
        // `similarity` is 50 exactly at the distance threshold.
        threshold: 0.5,
        same_person: m.same_person,
    }
}

fn hints_error(e: &VisionError) -> DeskError {
    DeskError::Hints {
        code: e.code().to_string(),
        zh: e.message_zh(),
        en: e.message_en(),
    }
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The pass range of a measure as a reviewer reads it, e.g. "≥ 0.20" or "50–230".
pub fn threshold_text(l: &Limits) -> Option<String> {
    match (l.pass_min, l.pass_max) {
        (Some(a), Some(b)) if a == b => Some(format!("= {}", num(a))),
        (Some(a), Some(b)) if a == -b => Some(format!("± {}", num(b))),
        (Some(a), Some(b)) => Some(format!("{}–{}", num(a), num(b))),
        (Some(a), None) => Some(format!("≥ {}", num(a))),
        (None, Some(b)) => Some(format!("≤ {}", num(b))),
        (None, None) => None,
    }
}

fn measure_view(m: &MeasureResult, thresholds: &Thresholds) -> MeasureView {
    MeasureView {
        id: m.id.code().to_string(),
        label_zh: m.id.label_zh().to_string(),
        label_en: m.id.label_en().to_string(),
        raw: m.raw.filter(|v| v.is_finite()),
        score: m.score,
        threshold: threshold_text(&thresholds.get(m.id)),
        verdict: verdict_str(m.verdict).to_string(),
        status: match m.status {
            AssessStatus::Ok => "ok",
            AssessStatus::FailedToAssess => "failed_to_assess",
        }
        .to_string(),
        message_zh: m.message_zh.clone(),
        message_en: m.message_en.clone(),
    }
}

/// Face box and landmarks of a face found on an image decoded at `scale` (working pixels per
/// original pixel), in the image's original pixels.
fn overlay_view(
    image: ImageKind,
    (width, height): (u32, u32),
    scale: f64,
    face: Option<&Detection>,
    mesh: Option<&FaceMesh>,
) -> OverlayView {
    let k = 1.0 / scale;
    let face_box = face.map(|d| {
        let b = d.bbox.map(|v| f64::from(v) * k);
        [b[0], b[1], b[2] - b[0], b[3] - b[1]]
    });
    let landmarks = mesh
        .map(|m| {
            m.points
                .iter()
                .map(|p| [f64::from(p[0]) * k, f64::from(p[1]) * k])
                .collect()
        })
        .unwrap_or_default();
    OverlayView {
        image,
        width,
        height,
        face_box,
        landmarks,
    }
}

/// The main face of an inspected photo.
fn inspection_overlay(ins: &Inspection, image: ImageKind) -> OverlayView {
    overlay_view(
        image,
        ins.decoded.original_size,
        ins.working_scale(),
        ins.primary(),
        ins.mesh.as_ref(),
    )
}

/// The portrait on the card, as found for the face comparison.
fn card_overlay(card: &Decoded, portrait: Option<&Portrait>) -> OverlayView {
    overlay_view(
        ImageKind::IdCardFront,
        card.original_size,
        card.scale(),
        portrait.map(|p| &p.detection),
        portrait.map(|p| &p.mesh),
    )
}

/// What the hints say about the item beyond its images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintSubject {
    pub item_id: String,
    pub name: String,
    pub id_number_masked: String,
    pub flagged: bool,
    pub face_match_failures: u32,
    /// The school's photo spec, as the server sent it with the item.
    pub spec: PhotoSpec,
}

impl From<&ReviewItem> for HintSubject {
    fn from(item: &ReviewItem) -> Self {
        HintSubject {
            item_id: item.case_id.clone(),
            name: item.student.name.clone(),
            id_number_masked: item.student.id_number_masked.clone(),
            flagged: item.flagged,
            face_match_failures: u32::try_from(item.face_match.failures).unwrap_or(0),
            spec: item.spec.clone(),
        }
    }
}

/// Everything the hints panel shows for one item, from the cached images.
pub fn compute(
    models: &Models,
    item: &HintSubject,
    original: &[u8],
    standardized: Option<&[u8]>,
    id_card_front: Option<&[u8]>,
) -> DeskResult<HintsView> {
    let started = Instant::now();
    let vision = &models.vision;
    let spec = &item.spec;
    let thresholds = Thresholds::default();
    // The card is decoded once for its reading and its portrait, and every image is
    // inspected once: the overlays reuse what the measures and the comparison found.
    let card = id_card_front.map(|b| vision.decode_card(b));
    // Reading the card takes longest: it runs beside everything else (the reviewer waits for
    // the slowest, not the sum). The full ID number stays on the server: the reading is
    // compared with the record's masked number here.
    let (check, reading, card_overlay, standardized_overlay) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| {
            card.as_ref()
                .and_then(|c| c.as_ref().ok())
                .and_then(|c| vision.read_decoded_card(c).ok())
        });
        let portrait = match &card {
            Some(Ok(c)) => Some(vision.card_portrait(c)),
            _ => None,
        };
        // Why the comparison cannot be made, if it cannot: the card or its portrait.
        let card_face = match (&card, &portrait) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e)),
            (_, Some(Ok(p))) => Some(Ok(&p.embedding)),
            _ => None,
        };
        let check = vision.review_check(original, spec, &thresholds, card_face);
        let card_overlay = card
            .as_ref()
            .and_then(|c| c.as_ref().ok())
            .map(|c| card_overlay(c, portrait.as_ref().and_then(|p| p.as_ref().ok())));
        let standardized_overlay = standardized.and_then(|b| {
            let ins = vision.inspect(b).ok()?;
            Some(inspection_overlay(&ins, ImageKind::Standardized))
        });
        (
            check,
            reading.join().ok().flatten(),
            card_overlay,
            standardized_overlay,
        )
    });
    let check = check.map_err(|e| hints_error(&e))?;
    let overlays = [
        Some(inspection_overlay(&check.inspection, ImageKind::Original)),
        standardized_overlay,
        card_overlay,
    ]
    .into_iter()
    .flatten()
    .collect();
    let measures: Vec<MeasureView> = check
        .report
        .measures
        .iter()
        .map(|m| measure_view(m, &thresholds))
        .collect();
    let face_match = check.face_match.as_ref().map(face_view);
    let ocr = reading.map(|r| ocr_view(&r, item));

    let mut overall = check.report.overall();
    if ocr
        .as_ref()
        .is_some_and(|o| !(o.name_matches && o.number_matches))
    {
        overall = overall.max(Verdict::Warn);
    }
    Ok(HintsView {
        item_id: item.item_id.clone(),
        overall: verdict_str(overall).to_string(),
        measures,
        face_match,
        ocr,
        flagged: item.flagged,
        face_match_failures: item.face_match_failures,
        overlays,
        models: check.report.models.iter().map(|m| m.name.clone()).collect(),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

impl Hinter {
    pub async fn models(&self) -> DeskResult<Arc<Models>> {
        self.models
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(Models::load)
                    .await
                    .map_err(|e| DeskError::Hints {
                        code: "model_error".into(),
                        zh: format!("模型加载中断：{e}"),
                        en: format!("Loading the models was interrupted: {e}"),
                    })?
                    .map(Arc::new)
                    .map_err(|e| hints_error(&e))
            })
            .await
            .cloned()
    }

    /// The hints of an item held by `s`: from its cache when computed before, else computed now.
    pub async fn hints(&self, s: &Signed, item_id: &str) -> DeskResult<HintsView> {
        if let Some(json) = s.cache.hints(item_id).await? {
            if let Ok(h) = serde_json::from_str::<HintsView>(&json) {
                return Ok(h);
            }
        }
        let detail = s
            .cache
            .detail(item_id)
            .await?
            .ok_or_else(|| DeskError::ItemNotFound(item_id.to_string()))?;
        let item: ReviewItem = serde_json::from_str(&detail).map_err(DeskError::data)?;
        let subject = HintSubject::from(&item);
        let image = |kind: &'static str| {
            let cache = s.cache.clone();
            let id = item_id.to_string();
            async move { cache.image(&id, kind).await.map(|o| o.map(|(_, b)| b)) }
        };
        let original = image("original").await?.ok_or_else(|| DeskError::Hints {
            code: "no_original".into(),
            zh: "本机没有该照片的原始上传，无法计算。".into(),
            en: "The original upload is not cached here; nothing to compute.".into(),
        })?;
        let standardized = image("standardized").await?;
        let card = image("id_front").await?;
        let models = self.models().await?;
        let hints = tokio::task::spawn_blocking(move || {
            compute(
                &models,
                &subject,
                &original,
                standardized.as_deref(),
                card.as_deref(),
            )
        })
        .await
        .map_err(|e| DeskError::Hints {
            code: "model_error".into(),
            zh: format!("计算中断：{e}"),
            en: format!("The computation was interrupted: {e}"),
        })??;
        let json = serde_json::to_string(&hints).map_err(DeskError::data)?;
        s.cache.set_hints(item_id, &hints.overall, &json).await?;
        Ok(hints)
    }

    /// Computes hints for the items `s` holds ahead of the reviewer, one at a time.
    pub async fn compute_missing(&self, s: &Signed) {
        let Ok(ids) = s.cache.missing_hints().await else {
            return;
        };
        for id in ids {
            if let Err(e) = self.hints(s, &id).await {
                tracing::debug!(item = %id, error = %e, "hints not computed");
                // Remember the failure so the loop does not retry it forever.
                let _ = s.cache.set_hints(&id, "warn", "null").await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gradphoto_domain::measures::MeasureId;

    #[test]
    fn a_number_read_off_the_card_is_masked_and_compared_as_the_record_shows_it() {
        let subject = HintSubject {
            item_id: "c1".into(),
            name: "张 三".into(),
            id_number_masked: "110105********002X".into(),
            flagged: false,
            face_match_failures: 0,
            spec: PhotoSpec::chsi(),
        };
        let reading = |number: &str| IdCardReading {
            name: Some("张三".into()),
            id_number: Some(number.into()),
            lines: Vec::new(),
            rotation_degrees: 0,
        };
        let same = ocr_view(&reading("11010519491231002X"), &subject);
        assert_eq!(same.number_read.as_deref(), Some("110105********002X"));
        assert!(same.number_matches && same.name_matches);
        let other = ocr_view(&reading("11010519491231003X"), &subject);
        assert!(!other.number_matches);
        // A partial reading shows nothing of the number.
        assert_eq!(
            ocr_view(&reading("1101051949"), &subject)
                .number_read
                .as_deref(),
            Some("**********")
        );
    }

    #[test]
    fn thresholds_read_naturally() {
        let t = Thresholds::default();
        assert_eq!(
            threshold_text(&t.get(MeasureId::Yaw)).as_deref(),
            Some("± 5")
        );
        assert_eq!(
            threshold_text(&t.get(MeasureId::EyesOpen)).as_deref(),
            Some("≥ 0.20")
        );
        assert_eq!(
            threshold_text(&t.get(MeasureId::Exposure)).as_deref(),
            Some("90–200")
        );
        assert_eq!(
            threshold_text(&t.get(MeasureId::SingleFace)).as_deref(),
            Some("= 1")
        );
    }
}
