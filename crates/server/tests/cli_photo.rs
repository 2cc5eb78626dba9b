//! `gradphoto photo …` and `gradphoto idcard read` run as a user would run them: the real
//! binary, the real models, real photos.

use std::path::PathBuf;
use std::process::{Command, Output};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
}

fn gradphoto(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradphoto"))
        .args(args)
        .output()
        .expect("gradphoto runs")
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn photo_check_json_reports_every_measure_with_versions() {
    let out = gradphoto(&[
        "photo",
        "check",
        data("photos/astronaut.png").to_str().unwrap(),
        "--json",
    ]);
    let report = json_of(&out);
    let measures = report["measures"].as_array().expect("measures");
    assert!(measures.len() >= 15, "{report}");
    let single = measures
        .iter()
        .find(|m| m["id"] == "single_face")
        .expect("single_face measure");
    assert_eq!(single["verdict"], "pass");
    assert!(!report["models"].as_array().unwrap().is_empty());
    assert!(report["config_version"].as_str().is_some());
}

#[test]
fn photo_check_text_is_readable_in_both_languages() {
    let path = data("photos/astronaut.png");
    let zh = gradphoto(&["photo", "check", path.to_str().unwrap()]);
    let en = gradphoto(&["photo", "check", path.to_str().unwrap(), "--lang", "en"]);
    let (zh, en) = (
        String::from_utf8_lossy(&zh.stdout),
        String::from_utf8_lossy(&en.stdout),
    );
    assert!(
        zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{zh}"
    );
    assert!(en.is_ascii() || en.contains("face"), "{en}");
    assert_ne!(zh, en);
}

#[test]
fn photo_standardize_writes_a_spec_jpeg_and_reports_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jpg");
    let out = gradphoto(&[
        "photo",
        "standardize",
        data("photos/phone_1080p.jpg").to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    let g = &v["geometry"];
    let eye = g["eye_line_px"].as_f64().unwrap();
    let hair = g["hair_top_px"].as_f64().unwrap();
    let face = g["face_width_px"].as_f64().unwrap();
    assert!((200.0..=300.0).contains(&eye), "{g}");
    assert!((50.0..=110.0).contains(&hair), "{g}");
    assert!((180.0..=300.0).contains(&face), "{g}");
    assert!(g["scale"].as_f64().unwrap() <= 1.0);
    let jpeg = std::fs::read(&out_path).unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    assert!(
        (20 * 1024..=40 * 1024).contains(&jpeg.len()),
        "{} bytes",
        jpeg.len()
    );
    let img = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (480, 640));
}

#[test]
fn photo_standardize_with_a_spec_file_uses_its_background() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.toml");
    let mut spec = gradphoto_domain::spec::PhotoSpec::chsi();
    spec.background = gradphoto_domain::spec::Rgb::WHITE;
    std::fs::write(&spec_path, toml::to_string(&spec).unwrap()).unwrap();
    let out_path = dir.path().join("white.jpg");
    let out = gradphoto(&[
        "photo",
        "standardize",
        data("photos/phone_1080p.jpg").to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
        "--spec",
        spec_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&out_path).unwrap().to_rgb8();
    let corner = img.get_pixel(4, 4);
    assert!(corner.0.iter().all(|&c| c > 235), "corner {corner:?}");
}

#[test]
fn photo_standardize_refuses_a_photo_without_a_face_with_a_clear_code() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("wall.png");
    image::RgbImage::from_pixel(800, 1000, image::Rgb([235, 235, 230]))
        .save(&blank)
        .unwrap();
    let out = gradphoto(&[
        "photo",
        "standardize",
        blank.to_str().unwrap(),
        "-o",
        dir.path().join("x.jpg").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert_eq!(v["error"]["code"], "no_face");
    assert!(!v["error"]["message_zh"].as_str().unwrap().is_empty());
    assert!(!dir.path().join("x.jpg").exists(), "no output on failure");
}

#[test]
fn photo_check_of_a_file_that_is_not_an_image_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, b"these are not pixels").unwrap();
    let out = gradphoto(&["photo", "check", text.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let code = json_of(&out)["error"]["code"].as_str().unwrap().to_string();
    assert!(
        code == "unreadable_image" || code == "unsupported_format",
        "{code}"
    );
}

#[test]
fn photo_compare_tells_same_person_from_different_people() {
    let astronaut = data("photos/astronaut.png");
    let card = data("idcards/idcard_astronaut.png");
    let gauss = data("photos/gauss.png");
    let same = gradphoto(&[
        "photo",
        "compare",
        astronaut.to_str().unwrap(),
        card.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        same.status.success(),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert_eq!(json_of(&same)["same_person"], true);
    let different = gradphoto(&[
        "photo",
        "compare",
        gauss.to_str().unwrap(),
        card.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(different.status.code(), Some(1));
    assert_eq!(json_of(&different)["same_person"], false);
}

#[test]
fn idcard_read_returns_name_and_number() {
    let out = gradphoto(&[
        "idcard",
        "read",
        data("idcards/idcard_astronaut.png").to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["name"], "林晓雯");
    assert_eq!(v["id_number"], "11010519900307128X");
}
