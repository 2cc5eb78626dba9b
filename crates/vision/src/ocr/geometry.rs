//! Planar geometry for text boxes: convex hull, minimum-area rectangle (OpenCV's
//! `minAreaRect` + `boxPoints`), point ordering and the perspective transform of a quad.

/// A point in pixel coordinates (x right, y down).
pub type Pt = [f64; 2];

fn cross(o: Pt, a: Pt, b: Pt) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/// Convex hull (Andrew's monotone chain), counter-clockwise in a y-up frame, no repeated
/// points. Fewer than three distinct points are returned as they are.
pub fn convex_hull(mut pts: Vec<Pt>) -> Vec<Pt> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut lower: Vec<Pt> = Vec::with_capacity(pts.len());
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<Pt> = Vec::with_capacity(pts.len());
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// A rotated rectangle: centre, side lengths along the unit vectors `u` and `v = u⊥`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    pub center: Pt,
    pub u: Pt,
    pub width: f64,
    pub height: f64,
}

impl RotatedRect {
    pub fn short_side(&self) -> f64 {
        self.width.min(self.height)
    }

    /// The same rectangle grown by `d` on every side.
    pub fn grown(&self, d: f64) -> RotatedRect {
        RotatedRect {
            width: self.width + 2.0 * d,
            height: self.height + 2.0 * d,
            ..*self
        }
    }

    pub fn corners(&self) -> [Pt; 4] {
        let (hu, hv) = (self.width / 2.0, self.height / 2.0);
        let v = [-self.u[1], self.u[0]];
        let c = self.center;
        let at = |a: f64, b: f64| {
            [
                c[0] + a * self.u[0] + b * v[0],
                c[1] + a * self.u[1] + b * v[1],
            ]
        };
        [at(-hu, -hv), at(hu, -hv), at(hu, hv), at(-hu, hv)]
    }
}

/// Minimum-area enclosing rectangle of a point set (rotating calipers over the hull edges).
/// `None` for an empty set; a single point or a segment gives a zero-width rectangle.
pub fn min_area_rect(points: Vec<Pt>) -> Option<RotatedRect> {
    let hull = convex_hull(points);
    match hull.len() {
        0 => return None,
        1 => {
            return Some(RotatedRect {
                center: hull[0],
                u: [1.0, 0.0],
                width: 0.0,
                height: 0.0,
            })
        }
        _ => {}
    }
    let mut best: Option<(f64, RotatedRect)> = None;
    for i in 0..hull.len() {
        let a = hull[i];
        let b = hull[(i + 1) % hull.len()];
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = dx.hypot(dy);
        if len == 0.0 {
            continue;
        }
        let u = [dx / len, dy / len];
        let v = [-u[1], u[0]];
        let (mut umin, mut umax, mut vmin, mut vmax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in &hull {
            let pu = p[0] * u[0] + p[1] * u[1];
            let pv = p[0] * v[0] + p[1] * v[1];
            umin = umin.min(pu);
            umax = umax.max(pu);
            vmin = vmin.min(pv);
            vmax = vmax.max(pv);
        }
        let area = (umax - umin) * (vmax - vmin);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((umin + umax) / 2.0, (vmin + vmax) / 2.0);
            let rect = RotatedRect {
                center: [cu * u[0] + cv * v[0], cu * u[1] + cv * v[1]],
                u,
                width: umax - umin,
                height: vmax - vmin,
            };
            best = Some((area, rect));
        }
    }
    best.map(|(_, r)| r)
}

/// RapidOCR's `get_mini_boxes` order: top-left, top-right, bottom-right, bottom-left, decided
/// by sorting on x and then on y within the left and right pairs.
pub fn order_box(mut pts: [Pt; 4]) -> [Pt; 4] {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (tl, bl) = if pts[1][1] > pts[0][1] {
        (pts[0], pts[1])
    } else {
        (pts[1], pts[0])
    };
    let (tr, br) = if pts[3][1] > pts[2][1] {
        (pts[2], pts[3])
    } else {
        (pts[3], pts[2])
    };
    [tl, tr, br, bl]
}

/// Shoelace area and perimeter of a polygon.
pub fn area_perimeter(poly: &[Pt]) -> (f64, f64) {
    let n = poly.len();
    let (mut a, mut p) = (0.0, 0.0);
    for i in 0..n {
        let (q, r) = (poly[i], poly[(i + 1) % n]);
        a += q[0] * r[1] - r[0] * q[1];
        p += (r[0] - q[0]).hypot(r[1] - q[1]);
    }
    (a.abs() / 2.0, p)
}

/// Whether `p` is inside the convex polygon `poly` or within `tol` of its boundary.
pub fn in_convex(poly: &[Pt], p: Pt, tol: f64) -> bool {
    let n = poly.len();
    let mut sign = 0.0;
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        if len == 0.0 {
            continue;
        }
        let c = cross(a, b, p) / len;
        if c.abs() <= tol {
            continue;
        }
        if sign == 0.0 {
            sign = c.signum();
        } else if c.signum() != sign {
            return false;
        }
    }
    true
}

/// The homography mapping `src[i]` to `dst[i]` (OpenCV's `getPerspectiveTransform`), as a
/// row-major 3×3 matrix with h22 = 1. `None` if the points are degenerate.
pub fn perspective(src: &[Pt; 4], dst: &[Pt; 4]) -> Option<[f64; 9]> {
    let mut m = [[0.0f64; 9]; 8];
    for i in 0..4 {
        let ([x, y], [u, v]) = (src[i], dst[i]);
        m[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        m[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gaussian elimination with partial pivoting on the 8×9 augmented matrix.
    for col in 0..8 {
        let piv = (col..8).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[piv][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, piv);
        let pivot = m[col];
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot[col];
                if f != 0.0 {
                    for (v, p) in r.iter_mut().zip(pivot.iter()).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
    }
    let h: Vec<f64> = (0..8).map(|i| m[i][8] / m[i][i]).collect();
    Some([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0])
}

/// Inverse of a 3×3 matrix, `None` if singular.
pub fn invert3(m: &[f64; 9]) -> Option<[f64; 9]> {
    let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
        + m[2] * (m[3] * m[7] - m[4] * m[6]);
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let inv = [
        m[4] * m[8] - m[5] * m[7],
        m[2] * m[7] - m[1] * m[8],
        m[1] * m[5] - m[2] * m[4],
        m[5] * m[6] - m[3] * m[8],
        m[0] * m[8] - m[2] * m[6],
        m[2] * m[3] - m[0] * m[5],
        m[3] * m[7] - m[4] * m[6],
        m[1] * m[6] - m[0] * m[7],
        m[0] * m[4] - m[1] * m[3],
    ];
    Some(inv.map(|v| v / det))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_aligned_rect() {
        let pts: Vec<Pt> = (0..=10)
            .flat_map(|x| (0..=4).map(move |y| [f64::from(x), f64::from(y)]))
            .collect();
        let r = min_area_rect(pts).unwrap();
        let (w, h) = (r.width.max(r.height), r.width.min(r.height));
        assert!((w - 10.0).abs() < 1e-9 && (h - 4.0).abs() < 1e-9);
        assert!((r.center[0] - 5.0).abs() < 1e-9 && (r.center[1] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn rotated_rect_is_found() {
        let (s, c) = 0.3f64.sin_cos();
        let mut pts = vec![];
        for i in 0..=40 {
            for j in 0..=10 {
                let (x, y) = (f64::from(i), f64::from(j));
                pts.push([c * x - s * y + 100.0, s * x + c * y + 50.0]);
            }
        }
        let r = min_area_rect(pts).unwrap();
        let (w, h) = (r.width.max(r.height), r.width.min(r.height));
        assert!(
            (w - 40.0).abs() < 1e-6 && (h - 10.0).abs() < 1e-6,
            "{w} {h}"
        );
    }

    #[test]
    fn ordering_and_area() {
        let b = order_box([[10.0, 5.0], [0.0, 0.0], [10.0, 0.0], [0.0, 5.0]]);
        assert_eq!(b, [[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0]]);
        let (a, p) = area_perimeter(&b);
        assert_eq!((a, p), (50.0, 30.0));
        assert!(in_convex(&b, [5.0, 2.0], 0.0));
        assert!(in_convex(&b, [10.4, 2.0], 0.5));
        assert!(!in_convex(&b, [11.0, 2.0], 0.5));
    }

    #[test]
    fn homography_round_trip() {
        let src = [[10.0, 10.0], [110.0, 20.0], [105.0, 60.0], [5.0, 50.0]];
        let dst = [[0.0, 0.0], [100.0, 0.0], [100.0, 40.0], [0.0, 40.0]];
        let h = perspective(&src, &dst).unwrap();
        for (s, d) in src.iter().zip(dst.iter()) {
            let w = h[6] * s[0] + h[7] * s[1] + h[8];
            let u = (h[0] * s[0] + h[1] * s[1] + h[2]) / w;
            let v = (h[3] * s[0] + h[4] * s[1] + h[5]) / w;
            assert!((u - d[0]).abs() < 1e-6 && (v - d[1]).abs() < 1e-6);
        }
        assert!(invert3(&h).is_some());
    }
}
