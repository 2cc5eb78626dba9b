//! Face comparison and ID card OCR with the real models on the test photos and the synthetic
//! ID card fronts of tests/data/idcards (fictitious names and numbers, public-domain portraits).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns; a failure is a test failure

use std::path::PathBuf;
use std::sync::OnceLock;

use gradphoto_domain::measures::{AssessStatus, MeasureId, Thresholds, Verdict};
use gradphoto_vision::embed::{compare, face_similarity_measure, Embedding, FaceEmbedder};
use gradphoto_vision::idcard::{
    analyze_id_card, check_against_typed, id_card_ocr_measure, portrait_embedding, read_id_card,
    IdCardModels,
};
use gradphoto_vision::models::{bytes, load_model, Plan};
use gradphoto_vision::ocr::OcrEngine;
use gradphoto_vision::raster::{warp_rgb, Affine};
use gradphoto_vision::{decode, DecodeLimits};
use image::RgbImage;
use tract_onnx::prelude::*;

struct FaceModels {
    detector: Plan,
    landmarker: Plan,
    embedder: FaceEmbedder,
}

fn face_models() -> &'static FaceModels {
    static M: OnceLock<FaceModels> = OnceLock::new();
    M.get_or_init(|| {
        let nhwc = |s: usize| f32::fact([1, s, s, 3]).into();
        FaceModels {
            detector: load_model("face_detection", bytes::FACE_DETECTION, nhwc(128)).unwrap(),
            landmarker: load_model("face_landmark", bytes::FACE_LANDMARK, nhwc(192)).unwrap(),
            embedder: FaceEmbedder::load().unwrap(),
        }
    })
}

fn ocr() -> &'static OcrEngine {
    static O: OnceLock<OcrEngine> = OnceLock::new();
    O.get_or_init(|| OcrEngine::load().unwrap())
}

fn data(rel: &str) -> RgbImage {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel);
    decode(&std::fs::read(&path).unwrap(), DecodeLimits::default())
        .unwrap()
        .rgb
}

fn embedding(img: &RgbImage) -> Embedding {
    let m = face_models();
    portrait_embedding(&m.detector, &m.landmarker, &m.embedder, img).unwrap()
}

/// `img` rotated by `deg` about its centre and scaled by `scale` (output sized to fit).
fn transformed(img: &RgbImage, deg: f64, scale: f64) -> RgbImage {
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let (s, c) = deg.to_radians().sin_cos();
    let out_w = ((w * c.abs() + h * s.abs()) * scale).ceil();
    let out_h = ((w * s.abs() + h * c.abs()) * scale).ceil();
    // Output pixel -> source pixel: undo the scale, rotate back about the centres.
    let k = 1.0 / scale;
    let (ocx, ocy, icx, icy) = (out_w / 2.0, out_h / 2.0, w / 2.0, h / 2.0);
    let m = Affine {
        a: k * c,
        b: k * s,
        c: icx - k * c * ocx - k * s * ocy,
        d: -k * s,
        e: k * c,
        f: icy + k * s * ocx - k * c * ocy,
    };
    warp_rgb(img, out_w as u32, out_h as u32, &m, [235, 235, 235])
}

const ASTRONAUT_NAME: &str = "林晓雯";
const ASTRONAUT_NUMBER: &str = "11010519900307128X";
const GAUSS_NAME: &str = "高思远";
const GAUSS_NUMBER: &str = "320102198504301376";

#[test]
fn ocr_reads_name_and_number_off_card_fronts() {
    let cases = [
        (
            "idcards/idcard_astronaut.png",
            ASTRONAUT_NAME,
            ASTRONAUT_NUMBER,
        ),
        (
            "idcards/idcard_astronaut_photo.jpg",
            ASTRONAUT_NAME,
            ASTRONAUT_NUMBER,
        ),
        ("idcards/idcard_gauss.png", GAUSS_NAME, GAUSS_NUMBER),
    ];
    let t = Thresholds::default();
    for (file, name, number) in cases {
        let reading = read_id_card(ocr(), &data(file)).unwrap();
        assert_eq!(
            reading.name.as_deref(),
            Some(name),
            "{file}: {:?}",
            reading.lines
        );
        assert_eq!(
            reading.id_number.as_deref(),
            Some(number),
            "{file}: {:?}",
            reading.lines
        );
        // Typed with spaces and a lower-case x: still the same.
        let typed = number.to_lowercase();
        let typed = format!("{} {}", &typed[..6], &typed[6..]);
        let check = check_against_typed(&reading, &format!(" {name}"), &typed);
        let m = id_card_ocr_measure(&check, &t);
        assert_eq!(m.id, MeasureId::IdCardOcr);
        assert_eq!(
            (m.verdict, m.status, m.raw),
            (Verdict::Pass, AssessStatus::Ok, Some(0.0))
        );
    }
}

#[test]
fn wrong_typed_details_are_reported_as_disagreeing() {
    let reading = read_id_card(ocr(), &data("idcards/idcard_astronaut.png")).unwrap();
    let t = Thresholds::default();
    // Another valid number (check digit correct), differing in the birth day.
    let wrong_number = "110105199003081285";
    let check = check_against_typed(&reading, ASTRONAUT_NAME, wrong_number);
    assert_eq!(check.name.agrees, Some(true));
    assert_eq!(check.id_number.agrees, Some(false));
    assert_eq!(check.id_number.first_difference, Some(14));
    let m = id_card_ocr_measure(&check, &t);
    assert_eq!(m.raw, Some(1.0));
    assert_ne!(m.verdict, Verdict::Pass);
    assert!(m.message_zh.contains("第 14 位"), "{}", m.message_zh);

    let both = check_against_typed(&reading, GAUSS_NAME, GAUSS_NUMBER);
    let m = id_card_ocr_measure(&both, &t);
    assert_eq!((m.raw, m.verdict), (Some(2.0), Verdict::Fail));
}

#[test]
fn same_person_is_below_the_threshold() {
    let photo = embedding(&data("photos/astronaut.png"));
    let variants = [
        ("card png", embedding(&data("idcards/idcard_astronaut.png"))),
        (
            "card photo",
            embedding(&data("idcards/idcard_astronaut_photo.jpg")),
        ),
        (
            "rotated +12°",
            embedding(&transformed(&data("photos/astronaut.png"), 12.0, 1.0)),
        ),
        (
            "rotated -8°, x0.6",
            embedding(&transformed(&data("photos/astronaut.png"), -8.0, 0.6)),
        ),
        (
            "x2.5",
            embedding(&transformed(&data("photos/astronaut.png"), 0.0, 2.5)),
        ),
        // 12 MP composite: the face is ~5x the chip, so the chip comes from dlib's pyramid.
        ("12 MP photo", embedding(&data("photos/phone_12mp.jpg"))),
    ];
    let t = Thresholds::default();
    for (what, e) in &variants {
        let m = compare(&photo, e);
        eprintln!(
            "astronaut photo vs {what}: distance {:.3}, similarity {}",
            m.distance, m.similarity
        );
        assert!(m.same_person, "{what}: {m:?}");
        assert!(m.similarity > 50);
        assert_ne!(face_similarity_measure(&m, &t).verdict, Verdict::Fail);
    }
    let gauss = compare(
        &embedding(&data("photos/gauss.png")),
        &embedding(&data("idcards/idcard_gauss.png")),
    );
    eprintln!("gauss photo vs gauss card: distance {:.3}", gauss.distance);
    assert!(gauss.same_person, "{gauss:?}");
}

#[test]
fn different_people_are_above_the_threshold() {
    let astronaut = embedding(&data("photos/astronaut.png"));
    let gauss = embedding(&data("photos/gauss.png"));
    let newton = embedding(&data("photos/newton.png"));
    let astronaut_card = embedding(&data("idcards/idcard_astronaut_photo.jpg"));
    let gauss_card = embedding(&data("idcards/idcard_gauss.png"));
    let t = Thresholds::default();
    for (what, a, b) in [
        ("astronaut vs gauss", &astronaut, &gauss),
        ("astronaut vs newton", &astronaut, &newton),
        ("astronaut photo vs gauss card", &astronaut, &gauss_card),
        ("gauss photo vs astronaut card", &gauss, &astronaut_card),
        ("newton photo vs astronaut card", &newton, &astronaut_card),
        ("newton photo vs gauss card", &newton, &gauss_card),
    ] {
        let m = compare(a, b);
        eprintln!(
            "{what}: distance {:.3}, similarity {}",
            m.distance, m.similarity
        );
        assert!(!m.same_person, "{what}: {m:?}");
        assert_eq!(face_similarity_measure(&m, &t).verdict, Verdict::Fail);
    }
    // Two painted portraits of old men: dlib itself puts them at 0.615, at its threshold.
    let m = compare(&gauss, &newton);
    eprintln!("gauss vs newton: distance {:.3}", m.distance);
    assert!(m.distance > 0.55, "{m:?}");
}

#[test]
fn card_analysis_gives_face_and_ocr_measures() {
    let m = face_models();
    let models = IdCardModels {
        detector: &m.detector,
        landmarker: &m.landmarker,
        embedder: &m.embedder,
        ocr: ocr(),
    };
    let t = Thresholds::default();
    let card = data("idcards/idcard_astronaut_photo.jpg");
    let verdicts = |a: &gradphoto_vision::idcard::IdCardAnalysis| {
        a.measures
            .iter()
            .map(|r| (r.id, r.verdict, r.status))
            .collect::<Vec<_>>()
    };

    let own = embedding(&data("photos/astronaut.png"));
    let typed = Some((ASTRONAUT_NAME, ASTRONAUT_NUMBER));
    let a = analyze_id_card(models, Some(&own), &card, typed, &t).unwrap();
    assert!(a.face_match.unwrap().same_person);
    assert_eq!(
        verdicts(&a),
        [
            (MeasureId::FaceSimilarity, Verdict::Pass, AssessStatus::Ok),
            (MeasureId::IdCardOcr, Verdict::Pass, AssessStatus::Ok),
        ]
    );

    // Someone else's photo and details against this card.
    let other = embedding(&data("photos/gauss.png"));
    let b = analyze_id_card(
        models,
        Some(&other),
        &card,
        Some((GAUSS_NAME, GAUSS_NUMBER)),
        &t,
    )
    .unwrap();
    assert!(!b.face_match.unwrap().same_person);
    assert_eq!(
        verdicts(&b),
        [
            (MeasureId::FaceSimilarity, Verdict::Fail, AssessStatus::Ok),
            (MeasureId::IdCardOcr, Verdict::Fail, AssessStatus::Ok),
        ]
    );

    // No face in the photo, nothing typed: only an unassessed face_similarity.
    let c = analyze_id_card(models, None, &card, None, &t).unwrap();
    assert!(c.face_match.is_none() && c.check.is_none());
    assert_eq!(
        verdicts(&c),
        [(
            MeasureId::FaceSimilarity,
            Verdict::Warn,
            AssessStatus::FailedToAssess
        )]
    );
    assert_eq!(c.reading.name.as_deref(), Some(ASTRONAUT_NAME));
}

#[test]
fn cards_photographed_sideways_or_upside_down_are_read() {
    let card = data("idcards/idcard_astronaut.png");
    for (turned, expected) in [
        (image::imageops::rotate270(&card), 90),
        (image::imageops::rotate180(&card), 180),
    ] {
        let r = read_id_card(ocr(), &turned).unwrap();
        assert_eq!(r.rotation_degrees, expected, "{:?}", r.lines);
        assert_eq!(r.name.as_deref(), Some(ASTRONAUT_NAME));
        assert_eq!(r.id_number.as_deref(), Some(ASTRONAUT_NUMBER));
    }
}

#[test]
fn engines_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<FaceEmbedder>();
    assert_send_sync::<OcrEngine>();
}
