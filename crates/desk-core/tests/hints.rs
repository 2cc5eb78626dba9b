//! Local hints on real photos with the real models.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::Path;

use gradphoto_desk_core::hints::{compute, HintSubject, Models};
use gradphoto_desk_core::view::ImageKind;
use gradphoto_domain::measures::MeasureId;
use gradphoto_vision::{PhotoSpec, Thresholds};

fn photo(name: &str) -> Vec<u8> {
    test_data(&format!("photos/{name}"))
}

fn test_data(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data")
            .join(rel),
    )
    .unwrap()
}

#[test]
fn hints_cover_every_measure_with_threshold_and_the_face_geometry() {
    let models = Models::load().unwrap();
    let subject = HintSubject {
        item_id: "c1".into(),
        name: "张三".into(),
        id_number_masked: "110105********123X".into(),
        flagged: true,
        face_match_failures: 3,
        spec: PhotoSpec::chsi(),
    };
    let original = photo("phone_1080p.jpg");
    let card = photo("id_card_text.png");
    let h = compute(&models, &subject, &original, None, Some(&card)).unwrap();

    assert_eq!(h.item_id, "c1");
    assert!(h.flagged);
    assert_eq!(h.face_match_failures, 3);
    assert!(["pass", "warn", "fail"].contains(&h.overall.as_str()));
    assert!(
        h.measures.len() >= 12,
        "{:?}",
        h.measures.iter().map(|m| &m.id).collect::<Vec<_>>()
    );
    for m in &h.measures {
        assert!(
            ["pass", "warn", "fail"].contains(&m.verdict.as_str()),
            "{m:?}"
        );
        assert!(!m.label_zh.is_empty() && !m.label_en.is_empty());
        if m.status == "ok" && m.id != "single_face" {
            assert!(m.threshold.is_some(), "{m:?}");
        }
    }
    assert!(h.measures.iter().any(|m| m.id == "face_similarity"));
    // Every hint is named as the domain names it, Chinese first and in English, never by its
    // code; the accessory hints among them.
    for m in &h.measures {
        let id = MeasureId::ALL
            .into_iter()
            .find(|id| id.code() == m.id)
            .unwrap_or_else(|| panic!("unknown measure {m:?}"));
        assert_eq!(
            (m.label_zh.as_str(), m.label_en.as_str()),
            (id.label_zh(), id.label_en())
        );
        assert_ne!(m.label_zh, m.id);
        assert_ne!(m.label_en, m.id);
        assert!(
            m.label_zh
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{m:?}"
        );
    }
    for id in [
        MeasureId::TintedGlasses,
        MeasureId::Headwear,
        MeasureId::Jewellery,
        MeasureId::HairOverEyes,
        MeasureId::EarsVisible,
    ] {
        assert!(
            h.measures.iter().any(|m| m.id == id.code()),
            "no {id:?} in the hints"
        );
    }
    let orig = h
        .overlays
        .iter()
        .find(|o| o.image == ImageKind::Original)
        .expect("the face on the original is located");
    let [x, y, w, hgt] = orig.face_box.unwrap();
    assert!(w > 0.0 && hgt > 0.0 && x >= 0.0 && y >= 0.0);
    assert!(x + w <= f64::from(orig.width) + 1.0 && y + hgt <= f64::from(orig.height) + 1.0);
    assert_eq!(orig.landmarks.len(), 468);
    assert!(!h.models.is_empty());
}

#[test]
fn a_photo_without_a_face_is_reported_not_hidden() {
    let models = Models::load().unwrap();
    let subject = HintSubject {
        item_id: "c2".into(),
        name: "李四".into(),
        id_number_masked: "110105********0011".into(),
        flagged: false,
        face_match_failures: 0,
        spec: PhotoSpec::chsi(),
    };
    let card = photo("id_card_text.png");
    // An ID card text image has no face big enough for a portrait photo.
    match compute(&models, &subject, &card, None, None) {
        Ok(h) => assert_ne!(h.overall, "pass", "{h:?}"),
        Err(e) => assert!(!e.view().message_zh.is_empty()),
    }
}

#[test]
fn hints_with_the_card_front_agree_with_a_full_analysis() {
    let models = Models::load().unwrap();
    let vision = &models.vision;
    // The same (fictitious) person on the photo and the synthetic card.
    let subject = HintSubject {
        item_id: "c3".into(),
        name: "林晓雯".into(),
        id_number_masked: "110105********128X".into(),
        flagged: false,
        face_match_failures: 0,
        spec: PhotoSpec::chsi(),
    };
    let original = photo("phone_1080p.jpg");
    let card = test_data("idcards/idcard_astronaut.png");
    let h = compute(&models, &subject, &original, None, Some(&card)).unwrap();

    let ocr = h.ocr.as_ref().unwrap();
    assert_eq!(ocr.name_read.as_deref(), Some("林晓雯"));
    assert_eq!(ocr.number_read.as_deref(), Some("110105********128X"));
    assert!(ocr.name_matches && ocr.number_matches, "{ocr:?}");
    assert!(
        h.face_match.as_ref().unwrap().same_person,
        "{:?}",
        h.face_match
    );

    // The measures are those of the full analysis of the same photo and card, though the
    // photo was inspected once for the measures and its overlay.
    let analysis = vision
        .analyze(
            &original,
            &PhotoSpec::chsi(),
            &Thresholds::default(),
            Some(&card),
            None,
        )
        .unwrap();
    let expected: Vec<_> = analysis
        .report
        .measures
        .iter()
        .map(|m| {
            (
                m.id.code().to_string(),
                m.raw.filter(|v| v.is_finite()),
                m.score,
            )
        })
        .collect();
    let got: Vec<_> = h
        .measures
        .iter()
        .map(|m| (m.id.clone(), m.raw, m.score))
        .collect();
    assert_eq!(got, expected);
    let similarity = analysis.face_match.unwrap().similarity;
    assert_eq!(
        h.face_match.as_ref().unwrap().similarity,
        f64::from(similarity) / 100.0
    );

    // The overlays are where an inspection of each image puts the face.
    let overlay = |kind| h.overlays.iter().find(|o| o.image == kind).unwrap();
    let ins = vision.inspect(&original).unwrap();
    let k = 1.0 / ins.working_scale();
    let b = ins.primary().unwrap().bbox.map(|v| f64::from(v) * k);
    let orig = overlay(ImageKind::Original);
    assert_eq!(orig.face_box, Some([b[0], b[1], b[2] - b[0], b[3] - b[1]]));
    assert_eq!(orig.landmarks.len(), 468);
    let front = overlay(ImageKind::IdCardFront);
    assert_eq!((front.width, front.height), (1012, 638));
    let [x, y, w, hgt] = front.face_box.unwrap();
    let card_ins = vision.inspect(&card).unwrap();
    let c = card_ins.primary().unwrap().bbox.map(f64::from);
    // The portrait as found for the comparison overlaps the face an inspection finds.
    let ix = (x + w).min(c[2]) - x.max(c[0]);
    let iy = (y + hgt).min(c[3]) - y.max(c[1]);
    assert!(
        ix > 0.5 * w && iy > 0.5 * hgt,
        "{:?} vs {c:?}",
        front.face_box
    );
    assert_eq!(front.landmarks.len(), 468);
}
