//! The front of the resident ID card (人像面): the printed portrait, embedded for the face
//! comparison, and the name (after 姓名) and the 18-character number (after 公民身份号码) read
//! by OCR and checked against what the student typed.
//!
//! The verdict is strict: the name must equal the typed name once whitespace is removed and
//! the number must equal the typed number once whitespace is removed and `x` upper-cased.
//! Characters OCR commonly confuses (0/O, 1/I/l, 8/B, …) are only mentioned in the report so
//! a reviewer can tell a misread from a real mismatch; they never make a mismatch pass.

use gradphoto_domain::measures::{AssessStatus, MeasureId, MeasureResult, Thresholds, Verdict};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::align::{face_chip, FivePoints};
use crate::detect::{detect_faces, Detection};
use crate::embed::{
    compare_with, face_similarity_measure, threshold_from, Embedding, FaceEmbedder, FaceMatch,
};
use crate::error::VisionError;
use crate::landmarks::{face_mesh, FaceMesh};
use crate::models::Plan;
use crate::ocr::{DetSize, FoundText, OcrEngine, TextLine};

const NAME_LABEL: &str = "姓名";
const NUMBER_LABEL: &str = "公民身份号码";
const NUMBER_LEN: usize = 18;

/// What OCR found on the card front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdCardReading {
    pub name: Option<String>,
    /// Normalised: ASCII digits and upper-case X.
    pub id_number: Option<String>,
    /// The lines recognised, in reading order: lines are recognised until both fields are
    /// known, so a card read in full has all its lines here, others only those needed.
    pub lines: Vec<TextLine>,
    /// Clockwise quarter-turn (0, 90, 180 or 270 degrees) applied to the image before the
    /// lines were read: a card photographed sideways or upside down. `lines` refer to the
    /// turned image.
    #[serde(default)]
    pub rotation_degrees: u16,
}

impl IdCardReading {
    /// Whether the text read is an ID card's: a name or a number found in their places, or
    /// the number's printed label. A portrait photo or a blank page has none of these.
    pub fn looks_like_a_card(&self) -> bool {
        self.fields_found() > 0
            || self
                .lines
                .iter()
                .any(|l| squeeze(&l.text).contains(NUMBER_LABEL))
    }

    fn fields_found(&self) -> usize {
        usize::from(self.name.is_some()) + usize::from(self.id_number.is_some())
    }
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Keeps what can be part of a printed name: CJK ideographs and the middle dot of
/// transliterated names.
fn name_chars(s: &str) -> String {
    s.chars()
        .filter(|&c| matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '·' | '•'))
        .map(|c| if c == '•' { '·' } else { c })
        .collect()
}

/// The first run of exactly 18 characters of digits with a final digit or X.
fn find_number(text: &str) -> Option<String> {
    let norm: Vec<char> = squeeze(text)
        .chars()
        .map(|c| match c {
            'x' | '×' => 'X',
            c => c,
        })
        .collect();
    let mut i = 0;
    while i < norm.len() {
        if !norm[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < norm.len() && (norm[i].is_ascii_digit() || norm[i] == 'X') {
            i += 1;
        }
        let run: String = norm[start..i].iter().collect();
        let body_digits = run.chars().take(NUMBER_LEN - 1).all(|c| c.is_ascii_digit());
        if run.chars().count() == NUMBER_LEN && body_digits {
            return Some(run);
        }
    }
    None
}

/// Words printed as labels on the card front: never a value.
const LABELS: [&str; 6] = ["姓名", "性别", "民族", "出生", "住址", "公民身份号码"];

/// The line to the right of `label` on the same row, if the detector split label and value.
/// Only for horizontal text: on a card photographed sideways "right" is not the reading
/// direction, and the caller turns the image instead.
fn right_neighbour<'a>(lines: &'a [TextLine], label: &TextLine) -> Option<&'a TextLine> {
    let centre_y = |l: &TextLine| l.quad.iter().map(|p| p[1]).sum::<f32>() / 4.0;
    let height = (label.quad[3][1] - label.quad[0][1]).abs().max(1.0);
    let width = (label.quad[1][0] - label.quad[0][0]).abs();
    if width < height {
        return None;
    }
    let (ly, lx) = (centre_y(label), label.quad[1][0]);
    lines
        .iter()
        .filter(|l| (centre_y(l) - ly).abs() < height * 0.6 && l.quad[0][0] >= lx - height)
        .filter(|l| !std::ptr::eq(*l, label))
        .min_by(|a, b| a.quad[0][0].total_cmp(&b.quad[0][0]))
}

/// The fields found among some lines, and whether the number stood on or beside its label.
struct Fields {
    name: Option<String>,
    id_number: Option<String>,
    number_by_label: bool,
}

fn parse_fields(lines: &[TextLine]) -> Fields {
    let mut name = None;
    for line in lines {
        let text = squeeze(&line.text);
        if let Some(rest) = text.strip_prefix(NAME_LABEL) {
            let mut value = name_chars(rest);
            if value.is_empty() {
                if let Some(next) = right_neighbour(lines, line) {
                    value = name_chars(&next.text);
                }
            }
            if !value.is_empty() && !LABELS.iter().any(|l| value.starts_with(l)) {
                name = Some(value);
                break;
            }
        }
    }
    // Prefer the number on or right of the 公民身份号码 label; else any 18-character run.
    let mut id_number = None;
    for line in lines {
        let text = squeeze(&line.text);
        if text.contains(NUMBER_LABEL) {
            id_number = find_number(&text)
                .or_else(|| right_neighbour(lines, line).and_then(|n| find_number(&n.text)));
            if id_number.is_some() {
                break;
            }
        }
    }
    let number_by_label = id_number.is_some();
    if id_number.is_none() {
        id_number = lines.iter().find_map(|l| find_number(&l.text));
    }
    Fields {
        name,
        id_number,
        number_by_label,
    }
}

/// Extracts the name and number from recognised lines of a card front.
pub fn parse_card_lines(lines: Vec<TextLine>) -> IdCardReading {
    let Fields {
        name, id_number, ..
    } = parse_fields(&lines);
    IdCardReading {
        name,
        id_number,
        lines,
        rotation_degrees: 0,
    }
}

/// The order lines are recognised in: alternately from the top and from the bottom, since the
/// name heads the card and the number closes it (or the other way round on a card turned a
/// half turn).
fn recognition_order(n: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |k| if k % 2 == 0 { k / 2 } else { n - 1 - k / 2 })
}

/// A box's state while a card is read.
enum Slot {
    /// Not recognised yet: stands in the layout with empty text, so that a label's
    /// neighbour is chosen among all boxes, read or not, exactly as in a full reading.
    Unread(TextLine),
    Read(TextLine),
    /// Recognised with too low a score: not a line, as in [`OcrEngine::read`].
    Dropped,
}

/// Reads the boxes of `found` until the name and the labelled number are both known (or all
/// are read). Stopping early gives the fields a full reading gives: a label's value is only
/// taken once the box the layout puts beside it has been read. `lines` holds the lines
/// recognised.
fn read_fields(ocr: &OcrEngine, found: &FoundText<'_>) -> Result<IdCardReading, VisionError> {
    let mut slots: Vec<Slot> = (0..found.len())
        .map(|i| {
            Slot::Unread(TextLine {
                text: String::new(),
                score: 0.0,
                quad: found.quad(i).unwrap_or_default(),
                flipped: false,
            })
        })
        .collect();
    let layout = |slots: &[Slot]| -> Vec<TextLine> {
        slots
            .iter()
            .filter_map(|s| match s {
                Slot::Unread(l) | Slot::Read(l) => Some(l.clone()),
                Slot::Dropped => None,
            })
            .collect()
    };
    let order: Vec<usize> = recognition_order(found.len()).collect();
    // Two lines at a time, one from the top and one from the bottom, each on its own core:
    // by the time the text is found, whatever ran beside the reading is usually done.
    for pair in order.chunks(2) {
        let (first, second) = std::thread::scope(|s| {
            let second = pair
                .get(1)
                .map(|&j| s.spawn(move || ocr.read_box(found, j)));
            let first = ocr.read_box(found, pair[0]);
            let second = second.map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(VisionError::Model(
                        "text recognition thread panicked".into(),
                    ))
                })
            });
            (first, second)
        });
        for (&i, line) in pair.iter().zip(std::iter::once(first).chain(second)) {
            slots[i] = match line? {
                Some(line) => Slot::Read(line),
                None => Slot::Dropped,
            };
        }
        let f = parse_fields(&layout(&slots));
        if f.name.is_some() && f.number_by_label {
            break;
        }
    }
    let Fields {
        name, id_number, ..
    } = parse_fields(&layout(&slots));
    let lines = slots
        .into_iter()
        .filter_map(|s| match s {
            Slot::Read(l) => Some(l),
            Slot::Unread(_) | Slot::Dropped => None,
        })
        .collect();
    Ok(IdCardReading {
        name,
        id_number,
        lines,
        rotation_degrees: 0,
    })
}

/// Print on the small detector canvas at least this tall (median box height, canvas pixels)
/// is read there; smaller print is detected on the standard canvas. A card filling the frame
/// gives 21–27 px; a card at 40 % of a 1600×1200 photo gives 12 px, and the small canvas then
/// finds only 5 of its 13 lines.
const MIN_SMALL_CANVAS_TEXT_PX: f64 = 14.0;

/// The canvas to read a card on, from what the small canvas found.
fn detector_size(small: &FoundText<'_>) -> DetSize {
    if !small.is_empty() && small.median_text_height() >= MIN_SMALL_CANVAS_TEXT_PX {
        DetSize::Small
    } else {
        DetSize::Standard
    }
}

/// Reads the name and number off a photo of the card front. When the upright reading misses
/// a field but found text, the card may have been photographed sideways or upside down: the
/// image is read again turned by a quarter, three quarters and a half turn, and the reading
/// with the most fields wins (the upright one on a tie).
///
/// Lines are only recognised until both fields are known. Large print is first detected on
/// the small canvas ([`DetSize::Small`]); only when that misses a field is the card read as
/// RapidOCR reads it, on the standard canvas, upright and then turned.
pub fn read_id_card(ocr: &OcrEngine, card: &RgbImage) -> Result<IdCardReading, VisionError> {
    let small = ocr.find_text(card, DetSize::Small)?;
    if detector_size(&small) == DetSize::Small {
        let r = read_fields(ocr, &small)?;
        if r.fields_found() == 2 {
            return Ok(r);
        }
    }
    let mut best = read_fields(ocr, &ocr.find_text(card, DetSize::Standard)?)?;
    if best.fields_found() == 2 || best.lines.is_empty() {
        return Ok(best);
    }
    type Turn = fn(&RgbImage) -> RgbImage;
    let turns: [(u16, Turn); 3] = [
        (90, image::imageops::rotate90),
        (270, image::imageops::rotate270),
        (180, image::imageops::rotate180),
    ];
    for (degrees, turn) in turns {
        let turned = turn(card);
        let mut r = read_fields(ocr, &ocr.find_text(&turned, DetSize::Standard)?)?;
        r.rotation_degrees = degrees;
        if r.fields_found() > best.fields_found() {
            best = r;
            if best.fields_found() == 2 {
                break;
            }
        }
    }
    Ok(best)
}

/// One field compared with what was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCheck {
    /// `None` when the field could not be read off the card.
    pub agrees: Option<bool>,
    /// The values differ, but only in characters OCR often confuses: likely a misread.
    /// Informational; `agrees` stays `Some(false)`.
    pub ocr_confusable: bool,
    /// 1-based position of the first differing character (for numbers; names report none).
    pub first_difference: Option<usize>,
}

/// The card compared with the typed name and number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdCardCheck {
    pub name: FieldCheck,
    pub id_number: FieldCheck,
}

fn confusable_digit(c: char) -> char {
    match c {
        'O' | 'o' | 'D' | 'Q' => '0',
        'I' | 'l' | '|' | 'i' | 'L' => '1',
        'Z' | 'z' => '2',
        'S' | 's' => '5',
        'G' | 'b' => '6',
        'B' => '8',
        'g' | 'q' => '9',
        '×' | 'x' => 'X',
        c => c,
    }
}

/// Compares the reading with the typed name and number.
pub fn check_against_typed(
    reading: &IdCardReading,
    typed_name: &str,
    typed_number: &str,
) -> IdCardCheck {
    let typed_name = squeeze(typed_name);
    let typed_number = squeeze(typed_number).to_uppercase();
    let name = match &reading.name {
        None => FieldCheck {
            agrees: None,
            ocr_confusable: false,
            first_difference: None,
        },
        Some(read) => FieldCheck {
            agrees: Some(*read == typed_name),
            ocr_confusable: false,
            first_difference: None,
        },
    };
    let id_number = match &reading.id_number {
        None => FieldCheck {
            agrees: None,
            ocr_confusable: false,
            first_difference: None,
        },
        Some(read) => {
            let agrees = *read == typed_number;
            let map = |s: &str| s.chars().map(confusable_digit).collect::<String>();
            let first_difference = if agrees {
                None
            } else {
                let (a, b): (Vec<char>, Vec<char>) =
                    (read.chars().collect(), typed_number.chars().collect());
                Some(
                    a.iter()
                        .zip(b.iter())
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.len().min(b.len()))
                        + 1,
                )
            };
            FieldCheck {
                agrees: Some(agrees),
                ocr_confusable: !agrees && map(read) == map(&typed_number),
                first_difference,
            }
        }
    };
    IdCardCheck { name, id_number }
}

/// The id_card_ocr measure: raw = number of fields read off the card that disagree with what
/// was typed (0–2). A field that cannot be read makes the result `failed_to_assess`.
pub fn id_card_ocr_measure(check: &IdCardCheck, thresholds: &Thresholds) -> MeasureResult {
    let fields = [&check.name, &check.id_number];
    let mismatches = fields.iter().filter(|f| f.agrees == Some(false)).count();
    let unreadable = fields.iter().any(|f| f.agrees.is_none());
    let raw = mismatches as f64;
    let mut verdict = thresholds.verdict(MeasureId::IdCardOcr, raw);
    let mut zh = Vec::new();
    let mut en = Vec::new();
    if check.name.agrees == Some(false) {
        zh.push("身份证上的姓名与填写的姓名不一致".to_string());
        en.push("the name on the ID card differs from the name you entered".to_string());
    }
    if check.id_number.agrees == Some(false) {
        let pos = check.id_number.first_difference.unwrap_or(1);
        zh.push(format!("身份证号码从第 {pos} 位起与填写的不一致"));
        en.push(format!(
            "the ID number on the card differs from the one you entered from character {pos} on"
        ));
        if check.id_number.ocr_confusable {
            zh.push("（差异可能是识别误差，审核员会人工核对）".to_string());
            en.push("(possibly a misreading; a reviewer will check it)".to_string());
        }
    }
    if unreadable {
        zh.push("身份证人像面上的姓名或号码无法识别".to_string());
        en.push("the name or number on the front of the ID card could not be read".to_string());
    }
    let (message_zh, message_en) = if zh.is_empty() {
        (
            "身份证上的姓名和号码与填写的一致。".to_string(),
            "The name and number on the ID card match what you entered.".to_string(),
        )
    } else {
        let mut fix_zh = "请核对填写的姓名和身份证号".to_string();
        let mut fix_en = "Check the name and ID number you entered".to_string();
        if unreadable {
            fix_zh.push_str(
                "，并在光线充足处重新拍摄身份证人像面：整张卡片入镜、对焦清晰、无反光无遮挡",
            );
            fix_en.push_str(", and photograph the front of the ID card again in good light: the whole card in the frame, in focus, without glare or anything covering it");
        }
        (
            format!("{}。{}。", zh.join("；"), fix_zh),
            format!("{}. {}.", capitalise(&en.join("; ")), fix_en),
        )
    };
    let status = if unreadable {
        verdict = verdict.max(Verdict::Warn);
        AssessStatus::FailedToAssess
    } else {
        AssessStatus::Ok
    };
    MeasureResult {
        id: MeasureId::IdCardOcr,
        raw: Some(raw),
        score: Some(match mismatches {
            0 if !unreadable => 100,
            0 => 50,
            1 => 50,
            _ => 0,
        }),
        verdict,
        status,
        message_zh,
        message_en,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn iou(a: &Detection, b: &Detection) -> f32 {
    let ix = (a.bbox[2].min(b.bbox[2]) - a.bbox[0].max(b.bbox[0])).max(0.0);
    let iy = (a.bbox[3].min(b.bbox[3]) - a.bbox[1].max(b.bbox[1])).max(0.0);
    let inter = ix * iy;
    let union = a.width() * a.height() + b.width() * b.height() - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

fn window_starts(len: u32, win: u32) -> Vec<u32> {
    if win >= len {
        return vec![0];
    }
    let stride = (win / 2).max(1) as usize;
    let mut v: Vec<u32> = (0..=(len - win)).step_by(stride).collect();
    if v.last() != Some(&(len - win)) {
        v.push(len - win);
    }
    v
}

/// Faces at one window size: the image cut into half-overlapping square windows of side
/// `frac` × the longer image side, each run through the detector, duplicates merged (IoU > 0.3,
/// higher score kept). Coordinates are in `img` pixels.
fn detect_in_windows(
    detector: &Plan,
    img: &RgbImage,
    frac: f64,
) -> Result<Vec<Detection>, VisionError> {
    let (w, h) = (img.width(), img.height());
    let side = ((f64::from(w.max(h)) * frac).round() as u32).clamp(1, w.max(h));
    let (ww, wh) = (side.min(w), side.min(h));
    let mut found: Vec<Detection> = Vec::new();
    for y0 in window_starts(h, wh) {
        for x0 in window_starts(w, ww) {
            let window = image::imageops::crop_imm(img, x0, y0, ww, wh).to_image();
            for d in detect_faces(detector, &window)? {
                let (dx, dy) = (x0 as f32, y0 as f32);
                found.push(Detection {
                    score: d.score,
                    bbox: [
                        d.bbox[0] + dx,
                        d.bbox[1] + dy,
                        d.bbox[2] + dx,
                        d.bbox[3] + dy,
                    ],
                    keypoints: d.keypoints.map(|(x, y)| (x + dx, y + dy)),
                });
            }
        }
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in found {
        if kept.iter().all(|k| iou(k, &d) <= 0.3) {
            kept.push(d);
        }
    }
    Ok(kept)
}

/// Faces of every size: BlazeFace short-range only sees faces that fill a fair part of its
/// 128-px input, so small faces (a card's portrait, a group photo) are searched for in
/// windows. `fracs` are window sides relative to the longer image side, e.g. `[1.0, 0.5,
/// 0.33]`; a face found at an earlier (larger) scale wins over an overlapping later one.
pub fn detect_faces_multiscale(
    detector: &Plan,
    img: &RgbImage,
    fracs: &[f64],
) -> Result<Vec<Detection>, VisionError> {
    let mut kept: Vec<Detection> = Vec::new();
    for &frac in fracs {
        for d in detect_in_windows(detector, img, frac)? {
            // A face seen whole in a larger window is more reliable than a window's cut of it.
            let overlaps = kept.iter().any(|k| {
                iou(k, &d) > 0.3
                    || (d.bbox[0] >= k.bbox[0]
                        && d.bbox[1] >= k.bbox[1]
                        && d.bbox[2] <= k.bbox[2]
                        && d.bbox[3] <= k.bbox[3])
            });
            if !overlaps {
                kept.push(d);
            }
        }
    }
    Ok(kept)
}

/// Finds the portrait on a photo of the card: the whole frame first, then smaller windows.
/// Returns the largest face found at the first scale that finds any, in `card` pixels.
pub fn find_portrait(detector: &Plan, card: &RgbImage) -> Result<Option<Detection>, VisionError> {
    for frac in [1.0f64, 0.5, 0.33] {
        let found = detect_in_windows(detector, card, frac)?;
        if let Some(best) = found
            .into_iter()
            .max_by(|a, b| (a.width() * a.height()).total_cmp(&(b.width() * b.height())))
        {
            return Ok(Some(best));
        }
    }
    Ok(None)
}

/// The portrait's detection, its FaceMesh and its aligned chip.
fn locate_portrait(
    detector: &Plan,
    mesh: &Plan,
    card: &RgbImage,
) -> Result<(Detection, FaceMesh, RgbImage), VisionError> {
    let det = find_portrait(detector, card)?.ok_or(VisionError::NoFace)?;
    let mesh = face_mesh(mesh, card, &det)?;
    let points = FivePoints::from_mesh(&mesh)
        .ok_or_else(|| VisionError::Model("face landmarks: too few points".into()))?;
    let chip = face_chip(card, &points)?;
    Ok((det, mesh, chip))
}

/// The aligned 150×150 chip of the face on a card photo (or any photo): detection, FaceMesh,
/// the five dlib points, dlib's chip.
pub fn portrait_chip(
    detector: &Plan,
    mesh: &Plan,
    card: &RgbImage,
) -> Result<RgbImage, VisionError> {
    Ok(locate_portrait(detector, mesh, card)?.2)
}

/// The portrait on a card photo: where it is (for drawing it) and its descriptor (for the
/// comparison), from one search.
#[derive(Debug, Clone)]
pub struct Portrait {
    /// In pixels of the card image searched.
    pub detection: Detection,
    pub mesh: FaceMesh,
    pub embedding: Embedding,
}

/// Finds, landmarks and embeds the portrait on a card photo.
pub fn portrait(
    detector: &Plan,
    mesh: &Plan,
    embedder: &FaceEmbedder,
    card: &RgbImage,
) -> Result<Portrait, VisionError> {
    let (detection, mesh, chip) = locate_portrait(detector, mesh, card)?;
    Ok(Portrait {
        detection,
        mesh,
        embedding: embedder.embed(&chip)?,
    })
}

/// The descriptor of the portrait on a card photo.
pub fn portrait_embedding(
    detector: &Plan,
    mesh: &Plan,
    embedder: &FaceEmbedder,
    card: &RgbImage,
) -> Result<Embedding, VisionError> {
    embedder.embed(&portrait_chip(detector, mesh, card)?)
}

/// The models [`analyze_id_card`] needs, borrowed from wherever they are loaded.
#[derive(Clone, Copy)]
pub struct IdCardModels<'a> {
    pub detector: &'a Plan,
    pub landmarker: &'a Plan,
    pub embedder: &'a FaceEmbedder,
    pub ocr: &'a OcrEngine,
}

/// Everything the card front contributes to a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdCardAnalysis {
    /// `None` when either face could not be found.
    pub face_match: Option<FaceMatch>,
    pub reading: IdCardReading,
    /// `None` when nothing typed was given.
    pub check: Option<IdCardCheck>,
    /// face_similarity (always) and id_card_ocr (when `typed` was given).
    pub measures: Vec<MeasureResult>,
}

/// Compares the photo's face (`photo_face`, from [`FaceEmbedder::embed_face`]; `None` if the
/// photo has no usable face) with the card's portrait, and reads the card against the typed
/// `(name, id_number)`. The face-match threshold follows `thresholds` (face_similarity fail
/// limit).
pub fn analyze_id_card(
    models: IdCardModels<'_>,
    photo_face: Option<&Embedding>,
    card: &RgbImage,
    typed: Option<(&str, &str)>,
    thresholds: &Thresholds,
) -> Result<IdCardAnalysis, VisionError> {
    let mut measures = Vec::with_capacity(2);
    let card_face =
        match portrait_embedding(models.detector, models.landmarker, models.embedder, card) {
            Ok(e) => Some(e),
            Err(VisionError::NoFace) => None,
            Err(e) => return Err(e),
        };
    let face_match = match (photo_face, &card_face) {
        (Some(p), Some(c)) => {
            let m = compare_with(p, c, threshold_from(thresholds));
            measures.push(face_similarity_measure(&m, thresholds));
            Some(m)
        }
        (None, _) => {
            measures.push(MeasureResult::failed_to_assess(
                MeasureId::FaceSimilarity,
                "照片中没有找到可比对的人脸，无法与身份证人像比对。请按要求重新拍摄。".into(),
                "No face to compare was found in the photo, so it cannot be compared with the ID card portrait. Please retake the photo as described.".into(),
            ));
            None
        }
        (Some(_), None) => {
            measures.push(MeasureResult::failed_to_assess(
                MeasureId::FaceSimilarity,
                "身份证人像面上没有找到人像。请在光线充足处重新拍摄身份证人像面：整张卡片入镜、对焦清晰、无反光。".into(),
                "No portrait was found on the photo of the ID card front. Photograph the front of the card again in good light: the whole card in the frame, in focus, without glare.".into(),
            ));
            None
        }
    };
    let reading = read_id_card(models.ocr, card)?;
    let check = typed.map(|(name, number)| check_against_typed(&reading, name, number));
    if let Some(c) = &check {
        measures.push(id_card_ocr_measure(c, thresholds));
    }
    Ok(IdCardAnalysis {
        face_match,
        reading,
        check,
        measures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn engine() -> &'static OcrEngine {
        static E: OnceLock<OcrEngine> = OnceLock::new();
        E.get_or_init(|| OcrEngine::load().unwrap())
    }

    fn card(file: &str) -> RgbImage {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/idcards")
            .join(file);
        crate::decode::decode(&std::fs::read(p).unwrap(), Default::default())
            .unwrap()
            .rgb
    }

    const CARDS: [(&str, &str, &str); 3] = [
        ("idcard_astronaut.png", "林晓雯", "11010519900307128X"),
        ("idcard_gauss.png", "高思远", "320102198504301376"),
        ("idcard_astronaut_photo.jpg", "林晓雯", "11010519900307128X"),
    ];

    #[test]
    fn cards_filling_the_frame_are_read_exactly_on_the_small_canvas() {
        for (file, name, number) in CARDS {
            let img = card(file);
            let small = engine().find_text(&img, DetSize::Small).unwrap();
            assert_eq!(detector_size(&small), DetSize::Small, "{file}");
            let r = read_fields(engine(), &small).unwrap();
            assert_eq!(r.name.as_deref(), Some(name), "{file}: {:?}", r.lines);
            assert_eq!(
                r.id_number.as_deref(),
                Some(number),
                "{file}: {:?}",
                r.lines
            );
            // What RapidOCR's own canvas reads, every line recognised: the same fields.
            let full = parse_card_lines(engine().read(&img).unwrap());
            assert_eq!((full.name, full.id_number), (r.name, r.id_number), "{file}");
            // Reading stopped once both fields were known.
            assert!(r.lines.len() < small.len(), "{file}: {:?}", r.lines);
            let r = read_id_card(engine(), &img).unwrap();
            assert_eq!(
                (
                    r.name.as_deref(),
                    r.id_number.as_deref(),
                    r.rotation_degrees
                ),
                (Some(name), Some(number), 0),
                "{file}"
            );
        }
    }

    #[test]
    fn cards_small_in_the_frame_are_still_read() {
        // The card at 50 % and 40 % on a large desk: the print is near or below what the small
        // canvas detects.
        let front = card("idcard_astronaut.png");
        for percent in [50, 40] {
            let shrunk = image::imageops::resize(
                &front,
                front.width() * percent / 100,
                front.height() * percent / 100,
                image::imageops::FilterType::Triangle,
            );
            let mut desk = RgbImage::from_pixel(1600, 1200, image::Rgb([70, 60, 50]));
            image::imageops::overlay(&mut desk, &shrunk, 500, 400);
            let r = read_id_card(engine(), &desk).unwrap();
            assert_eq!(
                r.name.as_deref(),
                Some("林晓雯"),
                "{percent}%: {:?}",
                r.lines
            );
            assert_eq!(
                r.id_number.as_deref(),
                Some("11010519900307128X"),
                "{percent}%: {:?}",
                r.lines
            );
        }
    }

    #[test]
    fn recognition_alternates_between_top_and_bottom() {
        assert_eq!(
            recognition_order(5).collect::<Vec<_>>(),
            vec![0, 4, 1, 3, 2]
        );
        assert_eq!(recognition_order(4).collect::<Vec<_>>(), vec![0, 3, 1, 2]);
        assert_eq!(recognition_order(0).count(), 0);
    }

    fn line(text: &str, x: f32, y: f32, w: f32) -> TextLine {
        TextLine {
            text: text.into(),
            score: 0.9,
            quad: [[x, y], [x + w, y], [x + w, y + 30.0], [x, y + 30.0]],
            flipped: false,
        }
    }

    #[test]
    fn label_and_value_in_one_line() {
        let r = parse_card_lines(vec![
            line("姓名 林晓雯", 10.0, 10.0, 200.0),
            line("公民身份号码 11010519900307128x", 10.0, 400.0, 600.0),
        ]);
        assert_eq!(r.name.as_deref(), Some("林晓雯"));
        assert_eq!(r.id_number.as_deref(), Some("11010519900307128X"));
    }

    #[test]
    fn label_and_value_split() {
        let r = parse_card_lines(vec![
            line("姓名", 10.0, 10.0, 60.0),
            line("高思远", 120.0, 8.0, 110.0),
            line("性别男", 10.0, 60.0, 60.0),
            line("公民身份号码", 10.0, 400.0, 160.0),
            line("320102198504301376", 260.0, 395.0, 400.0),
        ]);
        assert_eq!(r.name.as_deref(), Some("高思远"));
        assert_eq!(r.id_number.as_deref(), Some("320102198504301376"));
    }

    #[test]
    fn sideways_labels_take_no_neighbour() {
        let tall = |text: &str, x: f32, y: f32| TextLine {
            text: text.into(),
            score: 0.9,
            quad: [[x, y], [x + 30.0, y], [x + 30.0, y + 70.0], [x, y + 70.0]],
            flipped: true,
        };
        let r = parse_card_lines(vec![tall("姓名", 100.0, 840.0), tall("性别", 180.0, 840.0)]);
        assert_eq!(r.name, None);
        // A label is never taken as the value, even on a horizontal row.
        let r = parse_card_lines(vec![
            line("姓名", 10.0, 10.0, 60.0),
            line("性别", 120.0, 10.0, 60.0),
        ]);
        assert_eq!(r.name, None);
    }

    #[test]
    fn numbers_must_be_exactly_18() {
        assert_eq!(find_number("号码1101051990030712"), None);
        assert_eq!(find_number("1101051990030712812"), None);
        assert_eq!(
            find_number("a 110105 19900307 128X b").as_deref(),
            Some("11010519900307128X")
        );
        assert_eq!(find_number("11010519900307X28X"), None);
    }

    #[test]
    fn typed_values_are_compared_exactly() {
        let reading = IdCardReading {
            name: Some("林晓雯".into()),
            id_number: Some("11010519900307128X".into()),
            lines: vec![],
            rotation_degrees: 0,
        };
        let t = Thresholds::default();
        let ok = check_against_typed(&reading, " 林晓 雯", "110105 19900307128x");
        assert_eq!(ok.name.agrees, Some(true));
        assert_eq!(ok.id_number.agrees, Some(true));
        let m = id_card_ocr_measure(&ok, &t);
        assert_eq!(
            (m.verdict, m.status, m.raw),
            (Verdict::Pass, AssessStatus::Ok, Some(0.0))
        );

        let wrong = check_against_typed(&reading, "林晓雯", "110105199003071236");
        assert_eq!(wrong.id_number.agrees, Some(false));
        assert_eq!(wrong.id_number.first_difference, Some(17));
        assert!(!wrong.id_number.ocr_confusable);
        let m = id_card_ocr_measure(&wrong, &t);
        assert_eq!(m.raw, Some(1.0));
        assert_ne!(m.verdict, Verdict::Pass);
        assert!(m.message_zh.contains("第 17 位"), "{}", m.message_zh);

        // A misread O for 0 still disagrees, but the report says it may be a misread.
        let misread = IdCardReading {
            id_number: Some("11O10519900307128X".into()),
            ..reading.clone()
        };
        let c = check_against_typed(&misread, "林晓雯", "11010519900307128X");
        assert_eq!(c.id_number.agrees, Some(false));
        assert!(c.id_number.ocr_confusable);

        let both = check_against_typed(&reading, "林小雯", "110105199003071236");
        assert_eq!(id_card_ocr_measure(&both, &t).verdict, Verdict::Fail);
    }

    #[test]
    fn unreadable_is_failed_to_assess() {
        let reading = IdCardReading {
            name: None,
            id_number: Some("11010519900307128X".into()),
            lines: vec![],
            rotation_degrees: 0,
        };
        let c = check_against_typed(&reading, "林晓雯", "11010519900307128X");
        let m = id_card_ocr_measure(&c, &Thresholds::default());
        assert_eq!(m.status, AssessStatus::FailedToAssess);
        assert_eq!(m.verdict, Verdict::Warn);
    }
}
