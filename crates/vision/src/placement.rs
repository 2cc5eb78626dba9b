//! Where the spec's frame goes on a photo: the search for a scale and an eye-line height that
//! meet every band of the spec at once, with no padding where the person is.
//!
//! The search works in the *levelled* frame of the working image (rotated so that the eyes are
//! level). A placement is two numbers: `scale` (output pixels per working pixel) and `eye_out`
//! (height of the eye line in the output). Given the head's measurements, the bands are linear
//! constraints on them:
//!
//! - face width: `fmin ≤ scale·face_width ≤ fmax`;
//! - eye line: `emin ≤ eye_out ≤ emax`;
//! - top of hair: `hmin ≤ eye_out − scale·crown ≤ hmax`;
//! - never upscale: `scale ≤ max_scale`;
//!
//! and one constraint is not linear: the frame may not need pixels the photo does not have
//! where the person is (below the chin, beside the shoulders). Above the photo's top edge the
//! frame may be extended with the background colour, so the top never counts.
//!
//! The padding test is monotone: zooming in (larger `scale`, eye line at its highest allowed
//! position) shrinks the frame towards the head on every side, and for a fixed scale moving the
//! eye line down the output (larger `eye_out`) lifts the frame's bottom edge. So the feasible
//! scales form one interval `[s*, s_max]`, found by bisection, and for each scale the feasible
//! eye lines form one interval, found the same way. The placement returned is the feasible
//! point nearest the middle of every band (squared distances in units of each band's width).

use gradphoto_domain::spec::PhotoSpec;

use crate::error::CropShortfall;
use crate::raster::Affine;

/// The head, measured in the levelled frame of the working image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Head {
    /// Rotation that levels the eyes (radians; the levelled frame is the working frame rotated
    /// by −roll about the origin).
    pub roll: f64,
    /// Levelled x of the face's centre line.
    pub centre_x: f64,
    /// Levelled y of the eye line.
    pub eye_y: f64,
    /// Cheek-to-cheek width.
    pub face_width: f64,
    /// Eye line to the top of the hair (or to the photo's top edge where the hair is cut).
    pub crown: f64,
}

/// Scale and eye-line height of the output frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// Output pixels per working pixel.
    pub scale: f64,
    /// Height of the eye line in the output (px from the top).
    pub eye_out: f64,
}

/// Outcome of the padding test for one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Padding {
    /// Fraction of the output that would need pixels the photo does not have where the person
    /// is (above the top edge does not count: the background is painted there).
    pub fraction: f64,
    /// The side most of them are on.
    pub side: Option<CropShortfall>,
}

impl Padding {
    pub const NONE: Padding = Padding {
        fraction: 0.0,
        side: None,
    };

    pub fn fits(&self) -> bool {
        self.fraction <= PADDING_TOLERANCE
    }
}

/// Fractions up to this are edge noise of the coarse mask, not a real shortfall.
pub const PADDING_TOLERANCE: f64 = 0.003;

/// Why no placement exists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// Even the smallest face width of the spec would need enlarging the photo.
    FaceTooSmall { needed_scale: f64 },
    /// The bands contradict each other for this head (hair or headwear too tall for the face).
    HeadTooTall,
    /// Every placement meeting the bands needs pixels beyond the photo where the person is;
    /// `padding` is the best one's.
    Padding(Padding),
}

impl Head {
    /// Output → working transform for a placement.
    pub fn out_to_work(&self, spec: &PhotoSpec, p: Placement) -> Affine {
        let k = 1.0 / p.scale;
        let (s, c) = self.roll.sin_cos();
        let levelled = Affine {
            a: k,
            b: 0.0,
            c: self.centre_x - k * f64::from(spec.width) / 2.0,
            d: 0.0,
            e: k,
            f: self.eye_y - k * p.eye_out,
        };
        let unlevel = Affine {
            a: c,
            b: -s,
            c: 0.0,
            d: s,
            e: c,
            f: 0.0,
        };
        unlevel.then_after(&levelled)
    }
}

/// The spec's bands as floating-point ranges.
struct Bands {
    face: (f64, f64),
    eye: (f64, f64),
    hair: (f64, f64),
}

/// The placement aims this far inside every band when it can: another tool measuring the
/// output (iris centres instead of eye contours, a colour edge instead of the matte for the top
/// of the hair) lands a pixel or two away, and a photo on a band's very edge would read as out
/// of spec. A photo that fits only without the margin is still placed.
const AIM_MARGIN_PX: f64 = 3.0;

impl Bands {
    fn of(spec: &PhotoSpec) -> Bands {
        Bands::inset(spec, 0.0)
    }

    fn inset(spec: &PhotoSpec, margin: f64) -> Bands {
        let r = |r: gradphoto_domain::spec::Range| {
            let (lo, hi) = (f64::from(r.min), f64::from(r.max));
            if hi - lo > 4.0 * margin {
                (lo + margin, hi - margin)
            } else {
                (lo, hi)
            }
        };
        Bands {
            face: r(spec.face_width_px),
            eye: r(spec.eye_line_px),
            hair: r(spec.hair_top_px),
        }
    }
}

fn mid((lo, hi): (f64, f64)) -> f64 {
    (lo + hi) / 2.0
}

/// Band width as a unit of distance (a degenerate band still weighs like a 1-px one).
fn span((lo, hi): (f64, f64)) -> f64 {
    (hi - lo).max(1.0)
}

/// Finds the placement nearest the middle of every band among those that need no padding
/// where the person is; see the module comment. `max_scale` is the largest scale that does not
/// enlarge the original; `padding` tests one frame (output → working transform).
pub fn search(
    head: &Head,
    spec: &PhotoSpec,
    max_scale: f64,
    padding: impl Fn(&Affine) -> Padding,
) -> Result<(Placement, Padding), Refusal> {
    search_in(
        &Bands::inset(spec, AIM_MARGIN_PX),
        head,
        spec,
        max_scale,
        &padding,
    )
    .or_else(|_| search_in(&Bands::of(spec), head, spec, max_scale, &padding))
}

fn search_in(
    b: &Bands,
    head: &Head,
    spec: &PhotoSpec,
    max_scale: f64,
    padding: &impl Fn(&Affine) -> Padding,
) -> Result<(Placement, Padding), Refusal> {
    let (fw, crown) = (head.face_width.max(1e-6), head.crown.max(1e-6));
    let smallest_face = b.face.0 / fw;
    if smallest_face > max_scale * (1.0 + 1e-9) {
        return Err(Refusal::FaceTooSmall {
            needed_scale: smallest_face,
        });
    }
    // Scales meeting the face band, the never-upscale rule, and leaving some eye line whose
    // hair top is in its band.
    let lo = smallest_face.max((b.eye.0 - b.hair.1) / crown).max(1e-9);
    let hi = (b.face.1 / fw)
        .min((b.eye.1 - b.hair.0) / crown)
        .min(max_scale);
    if lo > hi {
        return Err(Refusal::HeadTooTall);
    }
    // Eye lines meeting the eye band and the hair band at scale `s`.
    let eye_band = |s: f64| {
        (
            b.eye.0.max(b.hair.0 + s * crown),
            b.eye.1.min(b.hair.1 + s * crown),
        )
    };
    let test = |s: f64, e: f64| {
        padding(&head.out_to_work(
            spec,
            Placement {
                scale: s,
                eye_out: e,
            },
        ))
    };
    let at_top = |s: f64| test(s, eye_band(s).1);

    let best_possible = at_top(hi);
    if !best_possible.fits() {
        return Err(Refusal::Padding(best_possible));
    }
    // Smallest feasible scale.
    let s_min = if at_top(lo).fits() {
        lo
    } else {
        let (mut bad, mut good) = (lo, hi);
        for _ in 0..24 {
            if good - bad <= 1e-4 * good {
                break;
            }
            let m = (bad + good) / 2.0;
            if at_top(m).fits() {
                good = m;
            } else {
                bad = m;
            }
        }
        good
    };

    // For a scale, the eye line nearest the eye and hair bands' middles within the feasible
    // eye lines, and its cost.
    let (we, wh) = (span(b.eye).powi(-2), span(b.hair).powi(-2));
    let place = |s: f64| -> (Placement, f64) {
        let (band_lo, band_hi) = eye_band(s);
        let e_pad = if test(s, band_lo).fits() {
            band_lo
        } else {
            let (mut bad, mut good) = (band_lo, band_hi);
            for _ in 0..20 {
                if good - bad <= 0.25 {
                    break;
                }
                let m = (bad + good) / 2.0;
                if test(s, m).fits() {
                    good = m;
                } else {
                    bad = m;
                }
            }
            good
        };
        let wanted = (we * mid(b.eye) + wh * (mid(b.hair) + s * crown)) / (we + wh);
        let e = wanted.clamp(e_pad, band_hi);
        let cost = ((s * fw - mid(b.face)) / span(b.face)).powi(2)
            + ((e - mid(b.eye)) / span(b.eye)).powi(2)
            + ((e - s * crown - mid(b.hair)) / span(b.hair)).powi(2);
        (
            Placement {
                scale: s,
                eye_out: e,
            },
            cost,
        )
    };

    // The cost is a smooth function of the scale with one minimum in the bands' middles; a
    // few evenly spaced candidates plus the unconstrained optimum find it within a pixel.
    let ideal = unconstrained_scale(b, fw, crown).clamp(s_min, hi);
    const STEPS: usize = 8;
    let candidates = (0..=STEPS)
        .map(|i| s_min + (hi - s_min) * i as f64 / STEPS as f64)
        .chain(std::iter::once(ideal));
    let mut best: Option<(Placement, f64)> = None;
    for s in candidates {
        let (p, cost) = place(s);
        if best.is_none_or(|(_, c)| cost < c) {
            best = Some((p, cost));
        }
    }
    let Some((p, _)) = best else {
        return Err(Refusal::Padding(best_possible));
    };
    let pad = test(p.scale, p.eye_out);
    if pad.fits() {
        Ok((p, pad))
    } else {
        // Only reachable if the padding test is not monotone for this photo: the most
        // zoomed-in placement is known to fit.
        let s = hi;
        Ok((
            Placement {
                scale: s,
                eye_out: eye_band(s).1,
            },
            best_possible,
        ))
    }
}

/// The scale minimising the bands' cost with the eye line at its best for each scale: the
/// minimum of `A(s·fw − F)² + min_e [B(e − E)² + C(e − s·crown − H)²]`, a quadratic in `s`.
fn unconstrained_scale(b: &Bands, fw: f64, crown: f64) -> f64 {
    let (wf, we, wh) = (
        span(b.face).powi(-2),
        span(b.eye).powi(-2),
        span(b.hair).powi(-2),
    );
    // min over e of B(e−E)² + C(e−s·crown−H)² = (BC/(B+C))·(E − H − s·crown)².
    let k = we * wh / (we + wh);
    let target = mid(b.eye) - mid(b.hair);
    (wf * fw * mid(b.face) + k * crown * target) / (wf * fw * fw + k * crown * crown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A synthetic person in a `w × h` working image: an elliptical head (with hair above it)
    /// and a body widening from the neck down to the bottom edge and beyond.
    #[derive(Debug, Clone, Copy)]
    struct Scene {
        w: f64,
        h: f64,
        head: Head,
        /// Half-width of the shoulders at the chin's height plus one face width, over the face
        /// width.
        shoulders: f64,
    }

    impl Scene {
        fn person(&self, x: f64, y: f64) -> bool {
            let (s, c) = self.head.roll.sin_cos();
            // Working → levelled.
            let (lx, ly) = (x * c + y * s, -x * s + y * c);
            let fw = self.head.face_width;
            let dx = lx - self.head.centre_x;
            let top = self.head.eye_y - self.head.crown;
            let chin = self.head.eye_y + 0.9 * fw;
            let head_cy = (top + chin) / 2.0;
            let (rx, ry) = (0.6 * fw, (chin - top) / 2.0);
            let in_head = (dx / rx).powi(2) + ((ly - head_cy) / ry).powi(2) <= 1.0;
            let below = ly - chin;
            let in_body = below >= 0.0 && dx.abs() <= 0.35 * fw + below * self.shoulders;
            in_head || in_body
        }

        /// The padding test of the standardizer on this scene: output samples beyond the
        /// image (not above it) whose nearest image pixel is person.
        fn padding(&self, spec: &PhotoSpec, m: &Affine) -> Padding {
            let (mut total, mut bad, mut sides) = (0u32, 0u32, [0u32; 3]);
            for v in (0..spec.height).step_by(16) {
                for u in (0..spec.width).step_by(16) {
                    total += 1;
                    let (x, y) = m.apply(f64::from(u) + 0.5, f64::from(v) + 0.5);
                    if y < 0.0 || (x >= 0.0 && x < self.w && y < self.h) {
                        continue;
                    }
                    let (nx, ny) = (x.clamp(0.5, self.w - 0.5), y.clamp(0.5, self.h - 0.5));
                    if self.person(nx, ny) {
                        bad += 1;
                        sides[if y >= self.h {
                            0
                        } else if x < 0.0 {
                            1
                        } else {
                            2
                        }] += 1;
                    }
                }
            }
            let worst = (0..3).max_by_key(|&i| sides[i]).unwrap_or(0);
            Padding {
                fraction: f64::from(bad) / f64::from(total.max(1)),
                side: (bad > 0).then_some(
                    [
                        CropShortfall::Bottom,
                        CropShortfall::Left,
                        CropShortfall::Right,
                    ][worst],
                ),
            }
        }
    }

    fn within(v: f64, (lo, hi): (f64, f64), tol: f64) -> bool {
        v >= lo - tol && v <= hi + tol
    }

    /// Every constraint of the spec at a placement.
    fn meets_bands(head: &Head, spec: &PhotoSpec, max_scale: f64, p: Placement) -> bool {
        let b = Bands::of(spec);
        p.scale <= max_scale * (1.0 + 1e-9)
            && within(p.scale * head.face_width, b.face, 1e-6)
            && within(p.eye_out, b.eye, 1e-6)
            && within(p.eye_out - p.scale * head.crown, b.hair, 1e-6)
    }

    /// Brute force over a fine grid of placements: does any meet every band without padding?
    fn exists(scene: &Scene, spec: &PhotoSpec, max_scale: f64) -> bool {
        let b = Bands::of(spec);
        let fw = scene.head.face_width;
        let (s0, s1) = (b.face.0 / fw, (b.face.1 / fw).min(max_scale));
        (0..=80).any(|i| {
            let s = s0 + (s1 - s0) * f64::from(i) / 80.0;
            (0..=50).any(|j| {
                let e = b.eye.0 + (b.eye.1 - b.eye.0) * f64::from(j) / 50.0;
                let p = Placement {
                    scale: s,
                    eye_out: e,
                };
                s1 >= s0
                    && meets_bands(&scene.head, spec, max_scale, p)
                    && scene.padding(spec, &scene.head.out_to_work(spec, p)).fits()
            })
        })
    }

    fn scene() -> impl Strategy<Value = (Scene, f64)> {
        (
            600.0..3000.0f64,
            600.0..3000.0f64,
            (0.05..0.45f64, 0.15..0.85f64, 0.2..0.8f64),
            (-0.15..0.15f64, 0.45..1.5f64, 0.1..1.2f64),
            0.6..1.6f64,
        )
            .prop_map(
                |(w, h, (fw_rel, cx_rel, eye_rel), (roll, crown_rel, shoulders), up)| {
                    let fw = fw_rel * w.min(h);
                    let head = Head {
                        roll,
                        centre_x: cx_rel * w,
                        eye_y: eye_rel * h,
                        face_width: fw,
                        crown: crown_rel * fw,
                    };
                    // `up` > 1 lets the face be small enough to need enlarging.
                    let max_scale = up * 240.0 / fw;
                    (
                        Scene {
                            w,
                            h,
                            head,
                            shoulders,
                        },
                        max_scale.min(1.0),
                    )
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn a_crop_is_returned_exactly_when_one_exists((scene, max_scale) in scene()) {
            let spec = PhotoSpec::chsi();
            let found = search(&scene.head, &spec, max_scale, |m| scene.padding(&spec, m));
            let exists = exists(&scene, &spec, max_scale);
            match found {
                Ok((p, pad)) => {
                    prop_assert!(meets_bands(&scene.head, &spec, max_scale, p), "{p:?} out of the bands");
                    prop_assert!(pad.fits());
                    prop_assert!(scene.padding(&spec, &scene.head.out_to_work(&spec, p)).fits());
                }
                Err(r) => prop_assert!(!exists, "refused ({r:?}) although a crop exists"),
            }
        }
    }

    #[test]
    fn a_head_with_room_everywhere_is_placed_in_the_middle_of_the_bands() {
        let spec = PhotoSpec::chsi();
        let scene = Scene {
            w: 3000.0,
            h: 4000.0,
            head: Head {
                roll: 0.0,
                centre_x: 1500.0,
                eye_y: 1400.0,
                face_width: 600.0,
                crown: 0.8 * 600.0,
            },
            shoulders: 0.4,
        };
        let (p, _) = search(&scene.head, &spec, 1.0, |m| scene.padding(&spec, m)).unwrap();
        let fw_out = p.scale * 600.0;
        assert!((fw_out - 240.0).abs() < 30.0, "face width {fw_out}");
        assert!((p.eye_out - 250.0).abs() < 30.0, "eye line {}", p.eye_out);
        let hair = p.eye_out - p.scale * 480.0;
        assert!((50.0..=110.0).contains(&hair), "hair top {hair}");
    }

    #[test]
    fn too_little_below_the_chin_is_refused_with_the_bottom_named() {
        let spec = PhotoSpec::chsi();
        // The photo ends 50 px below the chin: even at the largest face and the lowest eye line
        // the frame reaches about 80 px below the photo.
        let scene = Scene {
            w: 2000.0,
            h: 1400.0,
            head: Head {
                roll: 0.0,
                centre_x: 1000.0,
                eye_y: 900.0,
                face_width: 500.0,
                crown: 400.0,
            },
            shoulders: 0.8,
        };
        let err = search(&scene.head, &spec, 1.0, |m| scene.padding(&spec, m)).unwrap_err();
        match err {
            Refusal::Padding(p) => assert_eq!(p.side, Some(CropShortfall::Bottom)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_face_that_would_need_enlarging_is_refused() {
        let spec = PhotoSpec::chsi();
        let head = Head {
            roll: 0.0,
            centre_x: 500.0,
            eye_y: 500.0,
            face_width: 120.0,
            crown: 100.0,
        };
        let err = search(&head, &spec, 1.0, |_| Padding::NONE).unwrap_err();
        assert!(matches!(err, Refusal::FaceTooSmall { .. }), "{err:?}");
    }
}
