//! One pass over a photo that every later step reuses: decode at working resolution, detect
//! faces, FaceMesh on the main face, person segmentation.

use image::RgbImage;

use crate::decode::{decode_reduced, header_size, DecodeLimits, Decoded};
use crate::detect::{detect_faces, detect_in, merge, rescale, Detection};
use crate::error::VisionError;
use crate::landmarks::{face_mesh, FaceMesh};
use crate::raster::{fit_within, Affine};
use crate::segment::{segment, CoarseMask};
use crate::Vision;

/// The working image keeps at least this many pixels on its short side: enough for a face that
/// fills a normal half-body photo to exceed the spec's face width without upscaling.
const WORKING_MIN_SHORT_SIDE: u32 = 1200;
/// Detection and segmentation run on a thumbnail this size (long side).
const THUMB_LONG_SIDE: u32 = 512;
/// Faces narrower than this fraction of the largest face are not counted (tiny false
/// positives in textured backgrounds).
const MIN_RELATIVE_FACE_WIDTH: f32 = 0.25;
/// FaceMesh's face-presence score a second detection needs to count as a face.
const EXTRA_FACE_PRESENCE: f32 = 0.5;

/// Everything found in one photo, in working-image pixel coordinates.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub decoded: Decoded,
    /// Counted faces, largest first.
    pub faces: Vec<Detection>,
    /// FaceMesh of the largest face.
    pub mesh: Option<FaceMesh>,
    pub mask: CoarseMask,
    pub thumb: RgbImage,
    /// Thumbnail pixels per working pixel.
    pub thumb_scale: f64,
}

impl Inspection {
    /// Working pixels per original pixel.
    pub fn working_scale(&self) -> f64 {
        self.decoded.scale()
    }

    pub fn primary(&self) -> Option<&Detection> {
        self.faces.first()
    }
}

/// Chooses how much a JPEG may be reduced while decoding.
pub fn working_reduction(bytes: &[u8]) -> Result<u32, VisionError> {
    let (w, h) = header_size(bytes)?;
    let short = w.min(h);
    Ok([4u32, 2]
        .into_iter()
        .find(|r| short / r >= WORKING_MIN_SHORT_SIDE)
        .unwrap_or(1))
}

pub(crate) fn inspect(
    vision: &Vision,
    bytes: &[u8],
    limits: DecodeLimits,
    max_reduction: Option<u32>,
) -> Result<Inspection, VisionError> {
    // Header first: the pixel limit is enforced before any pixel is decoded.
    let reduction = match max_reduction {
        Some(r) => r,
        None => working_reduction(bytes)?,
    };
    let decoded = decode_reduced(bytes, limits, reduction)?;
    inspect_decoded(vision, decoded)
}

pub(crate) fn inspect_decoded(
    vision: &Vision,
    decoded: Decoded,
) -> Result<Inspection, VisionError> {
    let thumb = fit_within(&decoded.rgb, THUMB_LONG_SIDE);
    let thumb_scale = f64::from(thumb.width()) / f64::from(decoded.rgb.width());
    // Segmentation does not depend on the faces: run it beside detection and landmarks.
    let (faces_mesh, mask) = std::thread::scope(|s| {
        let seg = s.spawn(|| segment(&vision.segmenter, &thumb));
        let faces = find_faces(vision, &decoded, &thumb, thumb_scale);
        let mask = seg
            .join()
            .unwrap_or_else(|_| Err(VisionError::Model("segmentation thread panicked".into())));
        (faces, mask)
    });
    let (faces, mesh) = faces_mesh?;
    let mut mask = mask?;
    mask.image_to_mask = mask.image_to_mask.then_after(&Affine::scale(thumb_scale));
    Ok(Inspection {
        decoded,
        faces,
        mesh,
        mask,
        thumb,
        thumb_scale,
    })
}

/// Faces (working coordinates, largest first) and the FaceMesh of the largest.
fn find_faces(
    vision: &Vision,
    decoded: &Decoded,
    thumb: &RgbImage,
    thumb_scale: f64,
) -> Result<(Vec<Detection>, Option<FaceMesh>), VisionError> {
    let mut found = detect_faces(&vision.detector, thumb)?;
    // Letterboxing a wide image into 128×128 leaves faces a few pixels tall. When nothing was
    // found, or the image is panoramic, also look in square tiles along the long side (half
    // a tile of overlap).
    let (w, h) = (f64::from(thumb.width()), f64::from(thumb.height()));
    if w.max(h) > 1.5 * w.min(h) && (found.is_empty() || w.max(h) > 2.0 * w.min(h)) {
        let side = w.min(h);
        let n = ((w.max(h) - side) / (side / 2.0)).ceil() as usize + 1;
        let stride = (w.max(h) - side) / (n - 1).max(1) as f64;
        for i in 0..n {
            let o = stride * i as f64;
            let (x0, y0) = if w > h { (o, 0.0) } else { (0.0, o) };
            found.extend(detect_in(&vision.detector, thumb, x0, y0, side, side)?);
        }
        found = merge(found);
    }
    let mut faces = rescale(&found, (1.0 / thumb_scale) as f32);
    faces.sort_by(|a, b| (b.width() * b.height()).total_cmp(&(a.width() * a.height())));
    if let Some(largest) = faces.first().map(Detection::width) {
        faces.retain(|d| d.width() >= largest * MIN_RELATIVE_FACE_WIDTH);
    }
    // BlazeFace alone finds a "face" now and then in foliage or a patterned wall. A second
    // detection counts only when FaceMesh also sees a face there; once one is confirmed the
    // smaller ones are kept as they are (the verdict, more than one face, is settled).
    while faces.len() > 1 {
        let extra = face_mesh(&vision.landmarker, &decoded.rgb, &faces[1])?;
        if extra.presence >= EXTRA_FACE_PRESENCE {
            break;
        }
        faces.remove(1);
    }
    let mesh = match faces.first() {
        Some(d) => Some(face_mesh(&vision.landmarker, &decoded.rgb, d)?),
        None => None,
    };
    Ok((faces, mesh))
}
