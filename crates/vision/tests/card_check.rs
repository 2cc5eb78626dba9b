//! The identity step's check of ID-card pictures with the real models: the synthetic card
//! fronts of tests/data/idcards pass; a blank page, a page without a portrait and portrait
//! photos (the test photos and the real portraits of ../shared/photos/real) do not.

#![allow(clippy::unwrap_used)] // a failure is a test failure

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gradphoto_vision::{CardProblem, Vision, VisionError};

fn vision() -> &'static Vision {
    static V: OnceLock<Vision> = OnceLock::new();
    V.get_or_init(|| Vision::load().unwrap())
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
}

fn png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn card_fronts_pass() {
    for card in [
        "idcards/idcard_astronaut.png",
        "idcards/idcard_gauss.png",
        "idcards/idcard_astronaut_photo.jpg",
    ] {
        let bytes = std::fs::read(data(card)).unwrap();
        vision()
            .check_card_front(&bytes)
            .unwrap_or_else(|e| panic!("{card}: {e}"));
        vision().check_card_back(&bytes).unwrap();
    }
}

#[test]
fn a_blank_page_has_no_portrait() {
    let blank = png(&image::RgbImage::from_pixel(
        856,
        540,
        image::Rgb([250, 250, 250]),
    ));
    assert!(matches!(
        vision().check_card_front(&blank),
        Err(VisionError::NotAnIdCard(CardProblem::NoPortrait))
    ));
    // The back side carries no portrait and is only held to being a readable picture.
    vision().check_card_back(&blank).unwrap();
}

#[test]
fn portrait_photos_are_not_cards() {
    for photo in [
        "photos/phone_1080p.jpg",
        "photos/astronaut.png",
        "photos/newton.png",
    ] {
        let bytes = std::fs::read(data(photo)).unwrap();
        let got = vision().check_card_front(&bytes);
        assert!(
            matches!(got, Err(VisionError::NotAnIdCard(CardProblem::NoCardText))),
            "{photo}: {got:?}"
        );
    }
}
