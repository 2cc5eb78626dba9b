//! Face comparison between the submitted photo and the ID card portrait.

use gradphoto_domain::measures::{MeasureResult, Thresholds};
use gradphoto_vision::align::{face_chip, FivePoints};
use gradphoto_vision::embed::{self, Embedding, FaceEmbedder, FaceMatch};
use gradphoto_vision::{Vision, VisionError};

use crate::view::FaceMatchView;

fn embedding(vision: &Vision, embedder: &FaceEmbedder, bytes: &[u8]) -> Result<Embedding, VisionError> {
    let ins = vision.inspect(bytes)?;
    let mesh = ins.mesh.as_ref().ok_or(VisionError::NoFace)?;
    let points = FivePoints::from_mesh(mesh).ok_or(VisionError::NoFace)?;
    let chip = face_chip(&ins.decoded.rgb, &points)?;
    embedder.embed(&chip)
}

pub fn compare(
    vision: &Vision,
    embedder: &FaceEmbedder,
    photo: &[u8],
    id_card_front: &[u8],
) -> Result<FaceMatch, VisionError> {
    let a = embedding(vision, embedder, photo)?;
    let b = embedding(vision, embedder, id_card_front)?;
    Ok(embed::compare(&a, &b))
}

pub fn view(m: &FaceMatch) -> FaceMatchView {
    FaceMatchView {
        similarity: f64::from(m.similarity) / 100.0,
        distance: m.distance,
        threshold: 0.5,
        same_person: m.same_person,
    }
}

pub fn similarity_measure(m: &FaceMatch, thresholds: &Thresholds) -> MeasureResult {
    embed::face_similarity_measure(m, thresholds)
}
