//! The accessory rules: tinted glasses, headwear, jewellery, hair over the eyes and ears.
//!
//! No redistributable model for these ships in a registry package (the multi-class selfie
//! segmenter and hair segmenter are only downloadable at run time; face-parsing networks are
//! trained on non-commercial data), so each is a measured heuristic on what the inspection
//! already has: the face mesh, the person mask and the colours of the face's own skin. Every
//! length is relative to the face, so the same rule holds at any resolution. They only warn
//! (see `default_limits` in the domain): a reviewer decides.

use gradphoto_domain::measures::{MeasureId, MeasureResult, Thresholds};
use image::RgbImage;

use crate::colour::{delta_e, lab};
use crate::inspect::Inspection;
use crate::landmarks::{idx, FaceMesh};
use crate::measures::{not_assessed, result, Msg, NO_FACE_EN, NO_FACE_ZH};
use crate::raster::{inside_polygon, regions_8};

/// The five accessory measures, in [`MeasureId::ALL`] order.
pub(crate) fn accessory_measures(ins: &Inspection, t: &Thresholds) -> Vec<MeasureResult> {
    let Some(mesh) = ins.mesh.as_ref() else {
        return ACCESSORY_IDS
            .into_iter()
            .map(|id| not_assessed(id, NO_FACE_ZH, NO_FACE_EN))
            .collect();
    };
    let img = &ins.decoded.rgb;
    let face = FaceFrame::new(mesh);
    let skin = Skin::sample(img, mesh, &face);
    let person = |x: f64, y: f64| ins.mask.at(x, y) > 0.5;
    let s = Scene {
        img,
        mesh,
        face,
        skin,
        person: &person,
    };
    vec![
        tinted_glasses(&s, t),
        headwear(&s, t),
        jewellery(&s, t),
        hair_over_eyes(&s, t),
        ears_visible(&s, t),
    ]
}

/// What every accessory rule looks at: the working image, the face mesh and its axes, the
/// face's own skin colour and the person mask (`person(x, y)`: is this pixel the person).
struct Scene<'a> {
    img: &'a RgbImage,
    mesh: &'a FaceMesh,
    face: FaceFrame,
    skin: Skin,
    person: &'a dyn Fn(f64, f64) -> bool,
}

pub(crate) const ACCESSORY_IDS: [MeasureId; 5] = [
    MeasureId::TintedGlasses,
    MeasureId::Headwear,
    MeasureId::Jewellery,
    MeasureId::HairOverEyes,
    MeasureId::EarsVisible,
];

/// The face's own axes: `up` from the chin to the top of the forehead, `right` across the
/// image left to right, lengths in working pixels.
struct FaceFrame {
    top: (f64, f64),
    up: (f64, f64),
    right: (f64, f64),
    height: f64,
    width: f64,
}

impl FaceFrame {
    fn new(mesh: &FaceMesh) -> FaceFrame {
        let top = mesh.xy(idx::FOREHEAD);
        let chin = mesh.xy(idx::CHIN);
        let (dx, dy) = (top.0 - chin.0, top.1 - chin.1);
        let height = dx.hypot(dy).max(1.0);
        let up = (dx / height, dy / height);
        FaceFrame {
            top,
            up,
            right: (-up.1, up.0),
            height,
            width: mesh.face_width().max(1.0),
        }
    }

    /// `p` moved by `u` face heights up and `r` face widths to the image right.
    fn offset(&self, p: (f64, f64), u: f64, r: f64) -> (f64, f64) {
        (
            p.0 + self.up.0 * u * self.height + self.right.0 * r * self.width,
            p.1 + self.up.1 * u * self.height + self.right.1 * r * self.width,
        )
    }
}

fn pixel_lab(img: &RgbImage, x: f64, y: f64) -> Option<[f64; 3]> {
    if x < 0.0 || y < 0.0 || x >= f64::from(img.width()) || y >= f64::from(img.height()) {
        return None;
    }
    let p = img.get_pixel(x as u32, y as u32).0;
    Some(lab([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]))
}

/// Lab of a square patch of `r` pixels around a point, sampled on a grid of at most 5×5.
fn patch(img: &RgbImage, c: (f64, f64), r: f64, out: &mut Vec<[f64; 3]>) {
    let step = (r / 2.0).max(1.0);
    let mut dy = -r;
    while dy <= r {
        let mut dx = -r;
        while dx <= r {
            out.extend(pixel_lab(img, c.0 + dx, c.1 + dy));
            dx += step;
        }
        dy += step;
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// The colour of the face's own skin, from the cheeks (rarely covered by hair, glasses or a
/// hat), and a test for "looks like this skin": lightness within 30 % and hue within 12 a*b*.
/// Relative to the person's skin, so it holds for every skin tone and for greyscale photos.
struct Skin {
    lab: [f64; 3],
}

impl Skin {
    fn sample(img: &RgbImage, mesh: &FaceMesh, face: &FaceFrame) -> Skin {
        let mut px = Vec::new();
        for i in idx::CHEEKS {
            patch(img, mesh.xy(i), face.width * 0.02, &mut px);
        }
        let channel = |k: usize| median(px.iter().map(|p| p[k]).collect()).unwrap_or(0.0);
        Skin {
            lab: [channel(0), channel(1), channel(2)],
        }
    }

    fn matches(&self, p: [f64; 3]) -> bool {
        let l = self.lab[0].max(5.0);
        (p[0] - l).abs() < 0.3 * l && (p[1] - self.lab[1]).hypot(p[2] - self.lab[2]) < 12.0
    }

    /// Share of the points that look like skin; `None` when no point is inside the photo.
    fn share(&self, img: &RgbImage, points: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
        let (mut n, mut hit) = (0usize, 0usize);
        for (x, y) in points {
            if let Some(p) = pixel_lab(img, x, y) {
                n += 1;
                hit += usize::from(self.matches(p));
            }
        }
        (n > 0).then(|| hit as f64 / n as f64)
    }
}

/// Share of the lens area around one eye that looks like skin: an ellipse of 1.5 × 1.1 eye
/// widths, centred a little below the eye (where a lens sits), without the eye itself.
fn lens_skin(img: &RgbImage, mesh: &FaceMesh, contour: &[usize; 16], skin: &Skin) -> Option<f64> {
    let outer = mesh.xy(contour[0]);
    let inner = mesh.xy(contour[8]);
    let ew = (inner.0 - outer.0).hypot(inner.1 - outer.1).max(1.0);
    let u = ((inner.0 - outer.0) / ew, (inner.1 - outer.1) / ew);
    let v = (-u.1, u.0);
    let eye: Vec<(f64, f64)> = contour.iter().map(|&i| mesh.xy(i)).collect();
    let n = eye.len() as f64;
    let c = eye
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0 / n, a.1 + p.1 / n));
    // The lens centre sits a tenth of an eye width below the eye (v points down when the
    // outer corner is on the image left, as for the right eye; flip for the other eye).
    let down = if v.1 >= 0.0 { v } else { (-v.0, -v.1) };
    let centre = (c.0 + down.0 * 0.1 * ew, c.1 + down.1 * 0.1 * ew);
    let (ra, rb) = (0.75 * ew, 0.55 * ew);
    let step = (ew / 30.0).max(1.0);
    let mut points = Vec::new();
    let mut y = centre.1 - ew;
    while y <= centre.1 + ew {
        let mut x = centre.0 - ew;
        while x <= centre.0 + ew {
            let (dx, dy) = (x - centre.0, y - centre.1);
            let a = (dx * u.0 + dy * u.1) / ra;
            let b = (dx * v.0 + dy * v.1) / rb;
            if a * a + b * b <= 1.0 && !inside_polygon(&eye, x, y) {
                points.push((x, y));
            }
            x += step;
        }
        y += step;
    }
    skin.share(img, points)
}

fn eye_width(mesh: &FaceMesh, contour: &[usize; 16]) -> f64 {
    mesh.dist(contour[0], contour[8])
}

/// Tinted or mirrored lenses cover the eye and the skin around it with one colour unlike the
/// face's; clear lenses let the lids and the skin under the eyes show through (30–60 % of the
/// lens area looks like the cheeks on real photos with clear glasses). Only eyes seen nearly
/// full width count: the far eye of a turned head is foreshortened and its ring falls on hair
/// or background.
fn tinted_glasses(s: &Scene, t: &Thresholds) -> MeasureResult {
    let (img, mesh, skin) = (s.img, s.mesh, &s.skin);
    let eyes = [idx::RIGHT_EYE_CONTOUR, idx::LEFT_EYE_CONTOUR];
    let widest = eyes
        .iter()
        .map(|c| eye_width(mesh, c))
        .fold(0.0_f64, f64::max);
    let seen = eyes
        .iter()
        .filter(|c| eye_width(mesh, c) >= 0.7 * widest)
        .filter_map(|c| lens_skin(img, mesh, c, skin))
        .fold(None, |best: Option<f64>, s| {
            Some(best.map_or(s, |b| b.max(s)))
        });
    let Some(best) = seen else {
        return not_assessed(
            MeasureId::TintedGlasses,
            "眼部不在照片内，无法检查眼镜。",
            "The eyes are outside the photo, so glasses could not be checked.",
        );
    };
    result(
        MeasureId::TintedGlasses,
        1.0 - best,
        t,
        Msg {
            ok_zh: "眼睛清晰可见，没有有色镜片或反光遮挡。",
            ok_en: "The eyes are clearly visible, with no tinted lenses or glare.",
            bad_zh: "眼睛似乎被有色镜片、墨镜或镜片反光遮住。请摘下有色眼镜；戴普通眼镜时调整角度避免反光，或摘下眼镜拍摄。".into(),
            bad_en: "The eyes seem hidden by tinted or mirrored lenses or by glare. Take off tinted glasses; with clear glasses, tilt them slightly to avoid glare, or take them off.".into(),
        },
    )
}

/// Person wider than this many face widths just above the forehead: a brim. Hair measured up
/// to 1.67 on real photos (one large curly head 1.82); brimmed hats 1.8–2.4.
const BRIM_WIDTH: f64 = 1.7;
/// Crown colour this far (ΔE) from the hair beside the face: a hat of another colour. Real
/// photos without a hat measured up to 53 (sunlit crowns, hair against a bright wall); a red
/// beanie over blond hair 60, a grey hat over black hair 71.
const CROWN_UNLIKE_HAIR: f64 = 55.0;

/// Two signs of a hat, cap, hood or head wrap, each as a ratio to its own warn level so that
/// the larger one is the evidence (≥ 1 warns):
/// - a brim or hood is wider than the head under it: the person mask is measured across a
///   seventh of a face height above the top of the forehead, where hair follows the skull;
/// - a hat's crown is another colour than the hair that hangs beside the face: the median
///   colours of both (skin excluded) are compared, when the person covers the crown area.
///
/// A cap or beanie of the hair's own colour that hugs the head shows neither sign; see
/// docs/accuracy.md for what this catches on real photos.
fn headwear(s: &Scene, t: &Thresholds) -> MeasureResult {
    let (img, mesh, face, skin, person) = (s.img, s.mesh, &s.face, &s.skin, s.person);
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let inside = |(x, y): (f64, f64)| x >= 0.0 && y >= 0.0 && x < w && y < h;
    let row = face.offset(face.top, 0.15, 0.0);
    let width = (-150..=150)
        .map(|k| face.offset(row, 0.0, f64::from(k) * 0.01))
        .filter(|&p| inside(p) && person(p.0, p.1))
        .count() as f64
        * 0.01;

    // Crown: 0.10–0.35 face heights above the forehead, ±0.3 face widths.
    let mut crown_in_frame = 0usize;
    let mut crown = Vec::new();
    for i in 0..10 {
        for j in 0..13 {
            let p = face.offset(
                face.top,
                0.1 + 0.025 * f64::from(i),
                -0.3 + 0.05 * f64::from(j),
            );
            if !inside(p) {
                continue;
            }
            crown_in_frame += 1;
            if person(p.0, p.1) {
                crown.extend(pixel_lab(img, p.0, p.1));
            }
        }
    }
    let covered = crown.len() as f64 / crown_in_frame.max(1) as f64;
    crown.retain(|&p| !skin.matches(p));
    // Hair beside the face: from the ear down to the jaw, 5–25 % of a face width outside.
    let mut hair = Vec::new();
    for (ear, jaw, sign) in [(idx::CHEEK_RIGHT, 172, -1.0), (idx::CHEEK_LEFT, 397, 1.0)] {
        let (a, b) = (mesh.xy(ear), mesh.xy(jaw));
        for i in 0..13 {
            let k = 0.05 * f64::from(i);
            let base = (a.0 + (b.0 - a.0) * k, a.1 + (b.1 - a.1) * k);
            for o in [0.05, 0.1, 0.15, 0.2, 0.25] {
                let p = face.offset(base, 0.0, sign * o);
                if inside(p) && person(p.0, p.1) {
                    hair.extend(pixel_lab(img, p.0, p.1).filter(|&c| !skin.matches(c)));
                }
            }
        }
    }
    let colour_gap = if covered >= 0.9 && crown.len() > 10 && hair.len() > 20 {
        let mid =
            |v: &[[f64; 3]], k: usize| median(v.iter().map(|p| p[k]).collect()).unwrap_or(0.0);
        let a = [mid(&crown, 0), mid(&crown, 1), mid(&crown, 2)];
        let b = [mid(&hair, 0), mid(&hair, 1), mid(&hair, 2)];
        delta_e(a, b)
    } else {
        0.0
    };
    let evidence = (width / BRIM_WIDTH).max(colour_gap / CROWN_UNLIKE_HAIR);
    result(
        MeasureId::Headwear,
        evidence,
        t,
        Msg {
            ok_zh: "没有发现帽子或头饰。",
            ok_en: "No hat or headwear was found.",
            bad_zh: "头顶似乎戴着帽子、头巾或其他头饰。请摘下帽子、发箍、头巾等，露出完整头部后重新拍摄。".into(),
            bad_en: "You seem to wear a hat, scarf or other headwear. Take off hats, headbands and head wraps so your whole head shows, and retake the photo.".into(),
        },
    )
}

/// Earrings (pearls, studs, metal) show as a small, round spot much brighter than the skin or
/// hair around it, just outside the face outline at earlobe height. Local contrast is taken
/// against the mean of a square a tenth of a face width across; a spot must be compact (about
/// as wide as tall, filling half its box) and 1.5–7 % of a face width across, which rules out
/// strands of hair and highlights on the jaw line.
fn jewellery(s: &Scene, t: &Thresholds) -> MeasureResult {
    let (img, mesh, face) = (s.img, s.mesh, &s.face);
    let mut best = 0.0_f64;
    let centre = mesh.mean_of(&[idx::CHEEK_RIGHT, idx::CHEEK_LEFT]);
    for (ear, jaw) in [
        (idx::CHEEK_RIGHT, idx::JAW_RIGHT),
        (idx::CHEEK_LEFT, idx::JAW_LEFT),
    ] {
        let (a, b) = (mesh.xy(ear), mesh.xy(jaw));
        let out = (a.0 - centre.0, a.1 - centre.1);
        let n = out.0.hypot(out.1).max(1.0);
        let c = (
            (a.0 + b.0) / 2.0 + out.0 / n * 0.07 * face.width,
            (a.1 + b.1) / 2.0 + out.1 / n * 0.07 * face.width,
        );
        let r = 0.11 * face.width;
        best = best.max(brightest_spot(img, c, r, 1.3 * r, face.width));
    }
    result(
        MeasureId::Jewellery,
        best,
        t,
        Msg {
            ok_zh: "没有发现耳饰。",
            ok_en: "No earrings were found.",
            bad_zh: "耳朵附近似乎戴着耳环或耳钉。学历照片不宜佩戴首饰，请摘下耳饰、项链后拍摄。".into(),
            bad_en: "You seem to wear earrings. Graduation photos should show no jewellery: take off earrings and necklaces before the photo.".into(),
        },
    )
}

/// Contrast of the brightest compact spot in the box `[c.x ± r, c.y − r, c.y + below]`.
fn brightest_spot(img: &RgbImage, c: (f64, f64), r: f64, below: f64, face_width: f64) -> f64 {
    let x0 = (c.0 - r).max(0.0) as i64;
    let x1 = (c.0 + r).min(f64::from(img.width())) as i64;
    let y0 = (c.1 - r).max(0.0) as i64;
    let y1 = (c.1 + below).min(f64::from(img.height())) as i64;
    if x1 - x0 < 5 || y1 - y0 < 5 {
        return 0.0;
    }
    let (w, h) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let l: Vec<f64> = (0..w * h)
        .map(|i| {
            let p = img
                .get_pixel((x0 + (i % w) as i64) as u32, (y0 + (i / w) as i64) as u32)
                .0;
            lab([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])])[0]
        })
        .collect();
    let bg = box_mean(&l, w, h, ((0.06 * face_width) as usize).max(1));
    let lifted: Vec<bool> = l.iter().zip(&bg).map(|(v, b)| v - b > 20.0).collect();
    let (amin, amax) = ((0.015 * face_width).powi(2), (0.07 * face_width).powi(2));
    let mut best = 0.0_f64;
    for region in regions_8(&lifted, w, h) {
        let (mut bx0, mut bx1, mut by0, mut by1) = (usize::MAX, 0, usize::MAX, 0);
        let mut sum = 0.0;
        for &i in &region {
            let (x, y) = (i % w, i / w);
            sum += l[i] - bg[i];
            (bx0, bx1, by0, by1) = (bx0.min(x), bx1.max(x), by0.min(y), by1.max(y));
        }
        let (bw, bh) = ((bx1 - bx0 + 1) as f64, (by1 - by0 + 1) as f64);
        let area = region.len() as f64;
        let compact = (0.5..=2.0).contains(&(bw / bh)) && area / (bw * bh) > 0.5;
        if compact && (amin..=amax).contains(&area) {
            best = best.max(sum / area);
        }
    }
    best
}

/// Mean over a `(2r+1)²` square, clamped at the edges (summed-area table).
fn box_mean(v: &[f64], w: usize, h: usize, r: usize) -> Vec<f64> {
    let mut sat = vec![0.0; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += v[y * w + x];
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        let (ya, yb) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (xa, xb) = (x.saturating_sub(r), (x + r + 1).min(w));
            let s = sat[yb * (w + 1) + xb] - sat[ya * (w + 1) + xb] - sat[yb * (w + 1) + xa]
                + sat[ya * (w + 1) + xa];
            out[y * w + x] = s / ((yb - ya) * (xb - xa)) as f64;
        }
    }
    out
}

/// Hair over the eyebrows replaces the skin just above them: the band from the brows' upper
/// edge up to 8 % of a face height is sampled and compared with the cheeks.
fn hair_over_eyes(s: &Scene, t: &Thresholds) -> MeasureResult {
    let (img, mesh, face, skin) = (s.img, s.mesh, &s.face, &s.skin);
    let points = idx::RIGHT_BROW_UPPER
        .iter()
        .chain(&idx::LEFT_BROW_UPPER)
        .flat_map(|&i| {
            let p = mesh.xy(i);
            [0.04, 0.08].map(|u| face.offset(p, u, 0.0))
        })
        .flat_map(|c| {
            let mut v = Vec::new();
            let r = face.width * 0.01;
            for (dx, dy) in [(0.0, 0.0), (-r, 0.0), (r, 0.0), (0.0, -r), (0.0, r)] {
                v.push((c.0 + dx, c.1 + dy));
            }
            v
        });
    let Some(share) = skin.share(img, points) else {
        return not_assessed(
            MeasureId::HairOverEyes,
            "眉毛不在照片内，无法检查。",
            "The eyebrows are outside the photo, so this could not be checked.",
        );
    };
    result(
        MeasureId::HairOverEyes,
        share,
        t,
        Msg {
            ok_zh: "眉毛和眼睛没有被头发遮挡。",
            ok_en: "Hair does not cover the eyebrows or eyes.",
            bad_zh: "头发似乎遮住了眉毛或眼睛。请把刘海梳起或别到两侧，露出眉毛和眼睛。".into(),
            bad_en: "Hair seems to cover the eyebrows or eyes. Comb or pin your fringe aside so both brows and eyes show.".into(),
        },
    )
}

/// Ears show as skin just outside the face outline at ear height; hair over them shows as
/// hair. The better side counts, so a slightly turned head (one ear hidden behind the cheek)
/// passes when the other ear shows.
fn ears_visible(s: &Scene, t: &Thresholds) -> MeasureResult {
    let (img, mesh, face, skin, person) = (s.img, s.mesh, &s.face, &s.skin, s.person);
    let centre = mesh.mean_of(&[idx::CHEEK_RIGHT, idx::CHEEK_LEFT]);
    let side = |ids: [usize; 3]| {
        let mut pts = Vec::new();
        for i in ids {
            let p = mesh.xy(i);
            let out = (p.0 - centre.0, p.1 - centre.1);
            let n = out.0.hypot(out.1).max(1.0);
            for o in [0.04, 0.08, 0.12] {
                let q = (
                    p.0 + out.0 / n * o * face.width,
                    p.1 + out.1 / n * o * face.width,
                );
                if person(q.0, q.1) {
                    let r = face.width * 0.01;
                    pts.extend([(q.0, q.1), (q.0 - r, q.1), (q.0 + r, q.1)]);
                }
            }
        }
        skin.share(img, pts)
    };
    let right = side([idx::CHEEK_RIGHT, idx::JAW_RIGHT, 132]);
    let left = side([idx::CHEEK_LEFT, idx::JAW_LEFT, 361]);
    let best = match (right, left) {
        (Some(a), Some(b)) => a.max(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 0.0,
    };
    result(
        MeasureId::EarsVisible,
        best,
        t,
        Msg {
            ok_zh: "耳朵露出。",
            ok_en: "The ears show.",
            bad_zh: "耳朵似乎被头发遮住。请把头发别到耳后，露出双耳。".into(),
            bad_en: "Hair seems to cover the ears. Tuck your hair behind your ears so they show."
                .into(),
        },
    )
}
