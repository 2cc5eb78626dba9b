//! Test images: the sample photos of `tests/data/photos/`, and small generated images for
//! ID card sides (the dimensions-only analyzer reads no ID card).

use std::io::Cursor;
use std::path::PathBuf;

use gradphoto_client::PhotoUpload;
use image::{ImageFormat, Rgb, RgbImage};

fn photos_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos")
}

fn sample(name: &str, mime: &str) -> PhotoUpload {
    let path = photos_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    PhotoUpload::new(bytes, name, mime)
}

/// A person in front of a white wall, as a phone's rear camera takes it (1920×1080 JPEG; see
/// `tests/data/photos/PROVENANCE.md`).
pub fn portrait() -> PhotoUpload {
    sample("phone_1080p.jpg", "image/jpeg")
}

/// The 12-megapixel phone-sized sample (about 1.2 MB).
pub fn large_photo() -> PhotoUpload {
    sample("phone_12mp.jpg", "image/jpeg")
}

/// A generated JPEG of the given size with a gradient, so it compresses like a photo.
pub fn generated_jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            ((x + y) % 256) as u8,
        ])
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .expect("encode jpeg");
    out
}

/// Front (the rendered text sample of `tests/data/photos/`) and back (generated, 856×540) of
/// an ID card.
pub fn id_card_sides() -> (PhotoUpload, PhotoUpload) {
    (
        sample("id_card_text.png", "image/png"),
        PhotoUpload::new(generated_jpeg(856, 540), "back.jpg", "image/jpeg"),
    )
}

/// A valid 18-character resident ID number: area 110105, the given birth date (YYYYMMDD)
/// and sequence (three digits), with its ISO 7064 MOD 11-2 check character.
pub fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("110105{birth}{:03}", seq % 1000);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}
