//! Face alignment for the face-embedding network: the 150×150 "face chip" exactly as dlib's
//! `get_face_chip_details` + `extract_image_chip` cut it (padding 0.25, bilinear sampling, an
//! image pyramid when the face is much larger than the chip).
//!
//! The network was trained on chips made this way, so every detail that moves pixels —
//! the 5-point template, the least-squares similarity fit, dlib's rectangle conventions, the
//! pyramid and its coordinate offsets, truncation to 8 bits — is reproduced; small alignment
//! differences change descriptors more than anything inside the network.
//!
//! dlib's 5 points come from its own landmark model; here they are taken from the MediaPipe
//! FaceMesh 468 landmarks (see [`FivePoints::from_mesh`]).

use image::{Rgb, RgbImage};

use crate::error::VisionError;
use crate::landmarks::FaceMesh;

/// Side of the chip the embedding network takes.
pub const CHIP_SIZE: u32 = 150;
/// Margin around the 5-point template, as a fraction of the template size (dlib's
/// `compute_face_descriptor` default).
pub const CHIP_PADDING: f64 = 0.25;

/// FaceMesh 468 indices of dlib's five points, in dlib's order.
///
/// "Left"/"right" are the subject's: the subject's left eye appears on the image's right.
/// - 263: outer corner of the subject's left eye (dlib part 0)
/// - 362: inner corner of the subject's left eye (dlib part 1)
/// - 33: outer corner of the subject's right eye (dlib part 2)
/// - 133: inner corner of the subject's right eye (dlib part 3)
/// - 2: base of the nose, below the tip between the nostrils (dlib part 4)
pub const MESH_FIVE_POINTS: [usize; 5] = [263, 362, 33, 133, 2];

/// Systematic offsets from FaceMesh's points to where dlib's 5-point model puts the same
/// landmarks, in (along the eye line, down the face) units of the inter-eye distance. FaceMesh
/// places eye corners slightly wider and higher/lower and its point 2 about 4 % of the eye
/// distance above dlib's nose base. Measured (mirror-symmetrised, rounded) on the 32 faces
/// of the test photos that both find; the residual scatter is ~4–6 % (see
/// `models/dlib/README.md`).
const MESH_TO_DLIB: [[f64; 2]; 5] = [
    [-0.020, 0.011],
    [0.022, -0.012],
    [0.020, 0.011],
    [-0.022, -0.012],
    [0.0, 0.039],
];

/// dlib's 5-point face template (unit square, before padding), in dlib's part order.
const TEMPLATE: [[f64; 2]; 5] = [
    [0.859_567_459_599_2, 0.213_498_153_801_4],
    [0.646_060_476_410_4, 0.228_967_438_767_7],
    [0.120_575_062_078_9, 0.213_727_452_684_8],
    [0.334_085_061_371_2, 0.229_064_240_324_2],
    [0.490_112_313_567_9, 0.627_797_531_647_5],
];

/// Five landmarks in image pixel coordinates (x right, y down), in dlib's part order: subject's
/// left eye outer and inner corner, right eye outer and inner corner, nose base.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FivePoints(pub [[f64; 2]; 5]);

impl FivePoints {
    /// Picks the five points out of FaceMesh's 468 landmarks.
    pub fn from_mesh(mesh: &FaceMesh) -> Option<FivePoints> {
        Self::from_mesh_points(&mesh.points)
    }

    /// As [`FivePoints::from_mesh`], from bare `[x, y, z]` landmarks in image pixels. `None`
    /// if there are fewer than 468.
    pub fn from_mesh_points(points: &[[f32; 3]]) -> Option<FivePoints> {
        let mut pts = [[0.0; 2]; 5];
        for (dst, &idx) in pts.iter_mut().zip(MESH_FIVE_POINTS.iter()) {
            let p = points.get(idx)?;
            *dst = [f64::from(p[0]), f64::from(p[1])];
        }
        // Move each point by MESH_TO_DLIB, expressed in the face's own frame (x along the eye
        // line, y down the face, unit = distance between the eye centres).
        let raw = FivePoints(pts);
        let iod = raw.inter_eye_distance();
        if !(iod.is_finite() && iod > 0.0) {
            return Some(raw);
        }
        let p = &raw.0;
        let ex = [
            ((p[0][0] + p[1][0]) - (p[2][0] + p[3][0])) / 2.0 / iod,
            ((p[0][1] + p[1][1]) - (p[2][1] + p[3][1])) / 2.0 / iod,
        ];
        let ey = [-ex[1], ex[0]];
        for (q, d) in pts.iter_mut().zip(MESH_TO_DLIB.iter()) {
            q[0] += iod * (d[0] * ex[0] + d[1] * ey[0]);
            q[1] += iod * (d[0] * ex[1] + d[1] * ey[1]);
        }
        Some(FivePoints(pts))
    }

    /// The same points in an image scaled by `s` (e.g. landmarks found on a reduced copy).
    pub fn scaled(&self, s: f64) -> FivePoints {
        FivePoints(self.0.map(|[x, y]| [x * s, y * s]))
    }

    /// Distance between the two eye centres (mean of each eye's corners), in pixels.
    pub fn inter_eye_distance(&self) -> f64 {
        let p = &self.0;
        let l = [(p[0][0] + p[1][0]) / 2.0, (p[0][1] + p[1][1]) / 2.0];
        let r = [(p[2][0] + p[3][0]) / 2.0, (p[2][1] + p[3][1]) / 2.0];
        (l[0] - r[0]).hypot(l[1] - r[1])
    }
}

/// dlib's `drectangle`: inclusive corners, so width = right − left + 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DRect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl DRect {
    fn is_empty(&self) -> bool {
        self.top > self.bottom || self.left > self.right
    }
    fn width(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.right - self.left + 1.0
        }
    }
    fn height(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.bottom - self.top + 1.0
        }
    }
    fn area(&self) -> f64 {
        self.width() * self.height()
    }
    fn center(&self) -> [f64; 2] {
        [
            (self.left + self.right) / 2.0,
            (self.top + self.bottom) / 2.0,
        ]
    }
    /// `centered_drect`: dlib shrinks the requested size by one because corners are inclusive.
    fn centered(c: [f64; 2], width: f64, height: f64) -> DRect {
        let (w, h) = ((width - 1.0) / 2.0, (height - 1.0) / 2.0);
        DRect {
            left: c[0] - w,
            top: c[1] - h,
            right: c[0] + w,
            bottom: c[1] + h,
        }
    }
    fn translated(&self, dx: f64, dy: f64) -> DRect {
        DRect {
            left: self.left + dx,
            top: self.top + dy,
            right: self.right + dx,
            bottom: self.bottom + dy,
        }
    }
    /// `pyramid_down<2>::rect_down`.
    fn down(&self) -> DRect {
        let [l, t] = pyr_point_down([self.left, self.top]);
        let [r, b] = pyr_point_down([self.right, self.bottom]);
        DRect {
            left: l,
            top: t,
            right: r,
            bottom: b,
        }
    }
    fn corners(&self) -> [[f64; 2]; 4] {
        [
            [self.left, self.top],
            [self.right, self.top],
            [self.left, self.bottom],
            [self.right, self.bottom],
        ]
    }
}

/// `pyramid_down<2>::point_down`; the odd offsets are dlib's and define where its pyramid
/// levels sample.
fn pyr_point_down(p: [f64; 2]) -> [f64; 2] {
    [p[0] / 2.0 - 1.25, p[1] / 2.0 - 0.75]
}

fn rotate_about(center: [f64; 2], p: [f64; 2], angle: f64) -> [f64; 2] {
    let (s, c) = angle.sin_cos();
    let (x, y) = (p[0] - center[0], p[1] - center[1]);
    [c * x - s * y + center[0], s * x + c * y + center[1]]
}

/// Where and how a chip is cut: dlib's `chip_details`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChipDetails {
    /// The chip's extent in the image before rotation.
    pub rect: DRect,
    /// Rotation (radians) of the chip about the centre of `rect`.
    pub angle: f64,
    pub rows: u32,
    pub cols: u32,
}

/// dlib's `get_face_chip_details` for 5 points: the least-squares similarity transform from
/// the padded template to the landmarks, expressed as a rectangle plus an angle.
pub fn face_chip_details(
    points: &FivePoints,
    size: u32,
    padding: f64,
) -> Result<ChipDetails, VisionError> {
    if points.0.iter().flatten().any(|v| !v.is_finite()) {
        return Err(VisionError::Model("face landmarks are not finite".into()));
    }
    let s = f64::from(size);
    let chip_pts = TEMPLATE.map(|[x, y]| {
        [
            (padding + x) / (2.0 * padding + 1.0) * s,
            (padding + y) / (2.0 * padding + 1.0) * s,
        ]
    });
    // Least-squares similarity chip -> image (Umeyama; in 2-D it has this closed form, and a
    // reflection can never be the best fit for a real face, so no sign correction is needed).
    let n = chip_pts.len() as f64;
    let mean = |pts: &[[f64; 2]]| {
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p[0], a.1 + p[1]));
        [sx / n, sy / n]
    };
    let (mf, mt) = (mean(&chip_pts), mean(&points.0));
    let (mut a, mut b, mut var) = (0.0, 0.0, 0.0);
    for (f, t) in chip_pts.iter().zip(points.0.iter()) {
        let (fx, fy) = (f[0] - mf[0], f[1] - mf[1]);
        let (tx, ty) = (t[0] - mt[0], t[1] - mt[1]);
        a += fx * tx + fy * ty;
        b += fx * ty - fy * tx;
        var += fx * fx + fy * fy;
    }
    // m = [[ca, -cb], [cb, ca]] maps chip offsets to image offsets.
    let (ca, cb) = (a / var, b / var);
    let scale = ca.hypot(cb);
    if !(scale.is_finite() && scale > 1e-6) {
        return Err(VisionError::Model("face landmarks are degenerate".into()));
    }
    let angle = cb.atan2(ca);
    let tform = |p: [f64; 2]| {
        let (x, y) = (p[0] - mf[0], p[1] - mf[1]);
        [ca * x - cb * y + mt[0], cb * x + ca * y + mt[1]]
    };
    let centre = tform([s / 2.0, s / 2.0]);
    Ok(ChipDetails {
        rect: DRect::centered(centre, s * scale, s * scale),
        angle,
        rows: size,
        cols: size,
    })
}

/// A borrowed RGB view with an origin offset, so pyramid levels and the cropped original are
/// addressed alike.
struct View<'a> {
    data: &'a [u8],
    stride: usize,
    width: i64,
    height: i64,
}

impl View<'_> {
    fn px(&self, x: i64, y: i64) -> [u8; 3] {
        // Callers stay within bounds; the index arithmetic is done in usize once checked.
        let i = (y as usize) * self.stride + (x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }
}

/// An owned pyramid level.
struct Level {
    data: Vec<u8>,
    width: usize,
    height: usize,
}

impl Level {
    fn view(&self) -> View<'_> {
        View {
            data: &self.data,
            stride: self.width * 3,
            width: self.width as i64,
            height: self.height as i64,
        }
    }
}

/// dlib's `pyramid_down<2>` for RGB: 5-tap [1 4 6 4 1] filter in both directions with integer
/// arithmetic and truncation, output (n − 3) / 2 per side. Returns `None` for tiny inputs, as
/// dlib returns an empty image.
fn pyramid_down(src: &View<'_>) -> Option<Level> {
    if src.width <= 8 || src.height <= 8 {
        return None;
    }
    let (w, h) = (src.width as usize, src.height as usize);
    let tw = (w - 3) / 2;
    let oh = (h - 3) / 2;
    // Row filter at full height. dlib keeps these sums in uint16 (max 16·255, no overflow).
    let mut temp = vec![0u32; h * tw * 3];
    for r in 0..h {
        for c in 0..tw {
            let oc = 2 * c;
            for ch in 0..3 {
                let p = |k: usize| u32::from(src.data[r * src.stride + (oc + k) * 3 + ch]);
                temp[(r * tw + c) * 3 + ch] = p(0) + 4 * p(1) + 6 * p(2) + 4 * p(3) + p(4);
            }
        }
    }
    // Column filter on every other row, starting at row 2; dlib's loop runs while r < h − 2.
    let mut out = vec![0u8; oh * tw * 3];
    let mut dr = 0;
    let mut r = 2;
    while r + 2 < h && dr < oh {
        for c in 0..tw {
            for ch in 0..3 {
                let t = |k: usize| temp[(k * tw + c) * 3 + ch];
                // At most 256·255 = 65280: dlib's uint16 accumulator never wraps.
                let v = t(r - 2) + 4 * t(r - 1) + 6 * t(r) + 4 * t(r + 1) + t(r + 2);
                out[(dr * tw + c) * 3 + ch] = (v / 256) as u8;
            }
        }
        dr += 1;
        r += 2;
    }
    Some(Level {
        data: out,
        width: tw,
        height: oh,
    })
}

fn bilinear(view: &View<'_>, x: f64, y: f64) -> Option<[u8; 3]> {
    let left = x.floor();
    let top = y.floor();
    if !(left.is_finite() && top.is_finite()) {
        return None;
    }
    let (l, t) = (left as i64, top as i64);
    if !(l >= 0 && t >= 0 && l + 1 < view.width && t + 1 < view.height) {
        return None;
    }
    let (fx, fy) = (x - left, y - top);
    let (tl, tr, bl, br) = (
        view.px(l, t),
        view.px(l + 1, t),
        view.px(l, t + 1),
        view.px(l + 1, t + 1),
    );
    let mut out = [0u8; 3];
    for ch in 0..3 {
        let v = (1.0 - fy) * ((1.0 - fx) * f64::from(tl[ch]) + fx * f64::from(tr[ch]))
            + fy * ((1.0 - fx) * f64::from(bl[ch]) + fx * f64::from(br[ch]));
        // dlib assigns double to unsigned char by truncation.
        out[ch] = v.clamp(0.0, 255.0) as u8;
    }
    Some(out)
}

/// dlib's `extract_image_chip` with bilinear interpolation; parts of the chip outside the
/// image are black.
pub fn extract_chip(img: &RgbImage, details: &ChipDetails) -> RgbImage {
    let mut chip = RgbImage::new(details.cols, details.rows);
    let chip_area = f64::from(details.cols) * f64::from(details.rows);
    if details.rect.is_empty() || chip_area == 0.0 || img.width() == 0 || img.height() == 0 {
        return chip;
    }

    // Pyramid depth and the region of the image the chip can touch.
    let mut depth = 0usize;
    let mut grow = 2.0;
    let mut r = details.rect.down();
    while r.area() > chip_area && depth < 32 {
        r = r.down();
        depth += 1;
        grow = grow * 2.0 + 2.0;
    }
    let cent = details.rect.center();
    let rot = details
        .rect
        .corners()
        .map(|p| rotate_about(cent, p, details.angle));
    let bounds = DRect {
        left: rot.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min) - grow,
        top: rot.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min) - grow,
        right: rot.iter().map(|p| p[0]).fold(f64::NEG_INFINITY, f64::max) + grow,
        bottom: rot.iter().map(|p| p[1]).fold(f64::NEG_INFINITY, f64::max) + grow,
    };
    let (iw, ih) = (f64::from(img.width()), f64::from(img.height()));
    let clipped = DRect {
        left: bounds.left.max(0.0),
        top: bounds.top.max(0.0),
        right: bounds.right.min(iw - 1.0),
        bottom: bounds.bottom.min(ih - 1.0),
    };
    if clipped.is_empty() {
        return chip;
    }
    // drectangle -> rectangle rounds each corner.
    let round = |v: f64| (v + 0.5).floor() as i64;
    let (bl, bt, br, bb) = (
        round(clipped.left),
        round(clipped.top),
        round(clipped.right),
        round(clipped.bottom),
    );
    if bl > br || bt > bb {
        return chip;
    }
    let stride = img.width() as usize * 3;
    let raw: &[u8] = img.as_raw();
    let start = bt as usize * stride + bl as usize * 3;
    let base = View {
        data: &raw[start..],
        stride,
        width: br - bl + 1,
        height: bb - bt + 1,
    };

    let mut levels: Vec<Level> = Vec::with_capacity(depth);
    for _ in 0..depth {
        let next = match levels.last() {
            None => pyramid_down(&base),
            Some(prev) => pyramid_down(&prev.view()),
        };
        match next {
            Some(l) => levels.push(l),
            None => break,
        }
    }

    let mut rect = details.rect.translated(-(bl as f64), -(bt as f64));
    let mut level: Option<usize> = None;
    while rect.down().area() > chip_area {
        level = Some(level.map_or(0, |l| l + 1));
        rect = rect.down();
        if level.is_some_and(|l| l >= 32) {
            break;
        }
    }
    let view = match level {
        None => base,
        Some(l) => match levels.get(l) {
            Some(lv) => lv.view(),
            // dlib would sample an empty level: every pixel is background.
            None => return chip,
        },
    };

    // Chip corners (0,0), (cols−1,0), (0,rows−1) map to the rotated rectangle corners.
    let c = rect.center();
    let o = rotate_about(c, [rect.left, rect.top], details.angle);
    let tr = rotate_about(c, [rect.right, rect.top], details.angle);
    let blc = rotate_about(c, [rect.left, rect.bottom], details.angle);
    let (cols, rows) = (f64::from(details.cols), f64::from(details.rows));
    let ex = [
        (tr[0] - o[0]) / (cols - 1.0).max(1.0),
        (tr[1] - o[1]) / (cols - 1.0).max(1.0),
    ];
    let ey = [
        (blc[0] - o[0]) / (rows - 1.0).max(1.0),
        (blc[1] - o[1]) / (rows - 1.0).max(1.0),
    ];
    for (x, y, px) in chip.enumerate_pixels_mut() {
        let (fx, fy) = (f64::from(x), f64::from(y));
        let sx = o[0] + fx * ex[0] + fy * ey[0];
        let sy = o[1] + fx * ex[1] + fy * ey[1];
        if let Some(v) = bilinear(&view, sx, sy) {
            *px = Rgb(v);
        }
    }
    chip
}

/// The 150×150 chip the embedding network takes, from five landmarks.
pub fn face_chip(img: &RgbImage, points: &FivePoints) -> Result<RgbImage, VisionError> {
    let details = face_chip_details(points, CHIP_SIZE, CHIP_PADDING)?;
    Ok(extract_chip(img, &details))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template_points(scale: f64, angle: f64, offset: [f64; 2]) -> FivePoints {
        let s = f64::from(CHIP_SIZE);
        let p = CHIP_PADDING;
        FivePoints(TEMPLATE.map(|[x, y]| {
            let cx = (p + x) / (2.0 * p + 1.0) * s;
            let cy = (p + y) / (2.0 * p + 1.0) * s;
            let (sn, cs) = angle.sin_cos();
            [
                scale * (cs * cx - sn * cy) + offset[0],
                scale * (sn * cx + cs * cy) + offset[1],
            ]
        }))
    }

    #[test]
    fn identity_template_gives_unit_rect() {
        let d = face_chip_details(&template_points(1.0, 0.0, [0.0, 0.0]), 150, 0.25).unwrap();
        assert!(d.angle.abs() < 1e-12);
        assert!((d.rect.left - 0.5).abs() < 1e-9, "{:?}", d.rect);
        assert!((d.rect.right - 149.5).abs() < 1e-9, "{:?}", d.rect);
    }

    #[test]
    fn recovers_rotation_and_scale() {
        let d = face_chip_details(&template_points(2.0, 0.3, [40.0, 10.0]), 150, 0.25).unwrap();
        assert!((d.angle - 0.3).abs() < 1e-9);
        assert!((d.rect.width() - 300.0).abs() < 1e-6);
    }

    #[test]
    fn degenerate_points_are_an_error() {
        assert!(face_chip_details(&FivePoints([[5.0, 5.0]; 5]), 150, 0.25).is_err());
        assert!(face_chip_details(&FivePoints([[f64::NAN, 5.0]; 5]), 150, 0.25).is_err());
    }

    #[test]
    fn chip_of_template_is_a_copy() {
        // Landmarks exactly at the template positions in a 150x150 image: the chip samples
        // (almost) the same pixel grid.
        let img = RgbImage::from_fn(150, 150, |x, y| Rgb([x as u8, y as u8, (x ^ y) as u8]));
        let chip = face_chip(&img, &template_points(1.0, 0.0, [0.0, 0.0])).unwrap();
        let mut max_err = 0i32;
        for y in 1..149 {
            for x in 1..149 {
                let a = chip.get_pixel(x, y).0[0] as i32;
                let b = img.get_pixel(x, y).0[0] as i32;
                max_err = max_err.max((a - b).abs());
            }
        }
        assert!(max_err <= 1, "max error {max_err}");
    }

    #[test]
    fn large_faces_use_the_pyramid_and_stay_smooth() {
        // A face 8x larger than the chip: a flat grey image stays flat through the pyramid.
        let img = RgbImage::from_pixel(1400, 1400, Rgb([200, 100, 50]));
        let chip = face_chip(&img, &template_points(8.0, 0.1, [60.0, 40.0])).unwrap();
        let centre = chip.get_pixel(75, 75).0;
        assert!(
            centre[0].abs_diff(200) <= 2 && centre[2].abs_diff(50) <= 2,
            "{centre:?}"
        );
    }

    #[test]
    fn outside_the_image_is_black() {
        let img = RgbImage::from_pixel(100, 100, Rgb([255, 255, 255]));
        let chip = face_chip(&img, &template_points(1.0, 0.0, [60.0, 60.0])).unwrap();
        assert_eq!(chip.get_pixel(149, 149).0, [0, 0, 0]);
        assert_eq!(chip.get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn mesh_indices() {
        let mut mesh = vec![[0.0f32; 3]; 468];
        for (k, &i) in MESH_FIVE_POINTS.iter().enumerate() {
            mesh[i] = [k as f32, 10.0 * k as f32, 0.0];
        }
        // Eyes level and 10 px apart: the nose base moves down by 0.039 × 10 px.
        mesh[263] = [10.0, 0.0, 0.0];
        mesh[362] = [10.0, 0.0, 0.0];
        mesh[33] = [0.0, 0.0, 0.0];
        mesh[133] = [0.0, 0.0, 0.0];
        mesh[2] = [5.0, 8.0, 0.0];
        let p = FivePoints::from_mesh_points(&mesh).unwrap();
        assert!(
            (p.0[4][0] - 5.0).abs() < 1e-9 && (p.0[4][1] - 8.39).abs() < 1e-9,
            "{:?}",
            p.0[4]
        );
        assert!(
            (p.0[0][0] - 9.8).abs() < 1e-9 && (p.0[0][1] - 0.11).abs() < 1e-9,
            "{:?}",
            p.0[0]
        );
        assert!(FivePoints::from_mesh_points(&mesh[..300]).is_none());
    }
}
