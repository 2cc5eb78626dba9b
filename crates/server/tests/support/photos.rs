//! Test images: the sample photos of `tests/data/photos/`, the synthetic ID card fronts of
//! `tests/data/idcards/` (fictitious data, see the README there) and generated images where
//! the content must be plain: a card back, which is stored but never analysed, and a bare
//! wall, in which no face can be found.

use std::io::Cursor;
use std::path::PathBuf;

use gradphoto_client::PhotoUpload;
use image::{ImageFormat, Rgb, RgbImage};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

fn sample(rel: &str, mime: &str) -> PhotoUpload {
    let path = data_dir().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("photo")
        .to_string();
    PhotoUpload::new(bytes, &name, mime)
}

/// A person in front of a white wall, as a phone's rear camera takes it (1920×1080 JPEG; see
/// `tests/data/photos/PROVENANCE.md`). Passes every blocking check; the face matches the
/// card of [`id_card_sides`].
pub fn portrait() -> PhotoUpload {
    sample("photos/phone_1080p.jpg", "image/jpeg")
}

fn reencoded(img: &image::DynamicImage, name: &str) -> PhotoUpload {
    let mut out = Vec::new();
    img.to_rgb8()
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .expect("encode jpeg");
    PhotoUpload::new(out, name, "image/jpeg")
}

fn decoded_portrait() -> image::DynamicImage {
    image::load_from_memory(&portrait().bytes).expect("decode the sample portrait")
}

/// [`portrait`] strongly blurred (Gaussian, σ = 4 px), as a shaken or misfocused phone takes
/// it: the sharpness check fails, a soft failure a reviewer can still judge; the face is still
/// found, large enough for the spec and the person of [`id_card_sides`].
pub fn blurred_portrait() -> PhotoUpload {
    reencoded(&decoded_portrait().blur(4.0), "blurred.jpg")
}

/// [`portrait`] scaled down to a quarter (480×270): the face is about 60 px wide, far below
/// the spec's 180 px, and photos are never upscaled, so it is a hard failure.
pub fn small_face_portrait() -> PhotoUpload {
    let img = decoded_portrait();
    let small = img.resize(
        img.width() / 4,
        img.height() / 4,
        image::imageops::FilterType::Triangle,
    );
    reencoded(&small, "small.jpg")
}

/// The 12-megapixel phone-sized sample (about 1.2 MB) of the same scene.
pub fn large_photo() -> PhotoUpload {
    sample("photos/phone_12mp.jpg", "image/jpeg")
}

/// An evenly lit, plain off-white wall (800×1000 PNG): a photo without a face.
pub fn bare_wall() -> PhotoUpload {
    let img = RgbImage::from_pixel(800, 1000, Rgb([236, 232, 224]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .expect("encode png");
    PhotoUpload::new(out, "wall.png", "image/png")
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

/// Front and back of an ID card. The front is the synthetic card of the person in
/// [`portrait`] (printed name and number are not any roster's); the back is generated
/// (856×540).
pub fn id_card_sides() -> (PhotoUpload, PhotoUpload) {
    (
        sample("idcards/idcard_astronaut.png", "image/png"),
        PhotoUpload::new(generated_jpeg(856, 540), "back.jpg", "image/jpeg"),
    )
}

/// Front and back of the synthetic ID card of someone other than the person in [`portrait`]:
/// every comparison of that portrait with it fails.
pub fn other_person_id_card_sides() -> (PhotoUpload, PhotoUpload) {
    (
        sample("idcards/idcard_gauss.png", "image/png"),
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
