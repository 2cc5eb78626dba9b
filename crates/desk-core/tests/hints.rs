//! Local hints on real photos with the real models.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::Path;

use gradphoto_desk_core::hints::{compute, HintSubject, Models};
use gradphoto_desk_core::view::ImageKind;

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/photos")
            .join(name),
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
    };
    let card = photo("id_card_text.png");
    // An ID card text image has no face big enough for a portrait photo.
    match compute(&models, &subject, &card, None, None) {
        Ok(h) => assert_ne!(h.overall, "pass", "{h:?}"),
        Err(e) => assert!(!e.view().message_zh.is_empty()),
    }
}
