//! Whether a checked photo may be submitted: the one place that decides which automatic
//! results block a submission, which only flag it for the reviewer once the student has
//! failed them often enough, and how the face comparison with the ID card weighs in.
//!
//! The server enforces the decision on submit and sends it with every attempt, so the portal
//! offers exactly what the server will accept and never re-derives the rule.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::measures::{CheckReport, MeasureId, Verdict};
use crate::policy::SchoolPolicy;
use crate::state::{submit_gate, SubmitGate};

/// How a measure's `Fail` weighs on submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateClass {
    /// No standardized photo can be made without it: a fail always blocks.
    Hard,
    /// A fail blocks until the round holds [`SchoolPolicy::check_failures_before_flag`]
    /// attempts failing it; then the student may submit anyway, flagged for the reviewer.
    Soft,
    /// Not a check of the photo itself: the face comparison has its own count
    /// ([`submit_gate`]) and the ID-card reading is weighed by the reviewer.
    Separate,
}

/// Measures whose fail no number of attempts overcomes: without exactly one face, large
/// enough in the original (the photo is never upscaled), with room for the spec's crop, no
/// standardized photo can be made.
pub const HARD_MEASURES: [MeasureId; 4] = [
    MeasureId::SingleFace,
    MeasureId::FaceSize,
    MeasureId::InterEyeDistance,
    MeasureId::CropFeasible,
];

impl MeasureId {
    pub fn gate_class(self) -> GateClass {
        match self {
            MeasureId::FaceSimilarity | MeasureId::IdCardOcr => GateClass::Separate,
            m if HARD_MEASURES.contains(&m) => GateClass::Hard,
            // Everything else (pose, expression, light, clothing, …, and measures added
            // later) describes a photo a reviewer can still judge, so repeated failures
            // must not lock a student out.
            _ => GateClass::Soft,
        }
    }
}

/// The automatic results of one checked photo attempt.
#[derive(Debug, Clone, Copy)]
pub struct CheckedPhoto<'a> {
    /// Submission round the attempt belongs to.
    pub round: i64,
    pub report: &'a CheckReport,
    /// Whether a standardized photo could be made; without one there is nothing to submit.
    pub standardized: bool,
    /// The comparison with the ID card portrait: `Some(false)` when it failed, `None` when
    /// none was made (no card face).
    pub same_person: Option<bool>,
    /// The case holds an ID card front, so a comparison was expected: when none could be
    /// made, the submission goes to the reviewer flagged instead of passing unchecked.
    pub card_given: bool,
}

/// What the server accepts on submit of one attempt, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SubmitDecision {
    /// Nothing blocks and nothing needs the reviewer's special attention.
    Allowed,
    /// The student failed these often enough this round: they may retake or submit anyway,
    /// and the submission is flagged for the reviewer.
    AllowedWithFlag {
        /// Soft measures failing on this photo.
        measures: Vec<MeasureId>,
        /// The face comparison with the ID card failed on this photo.
        face_mismatch: bool,
        /// The face comparison could not be made (no portrait found on the card, or none in
        /// the photo): the reviewer compares the faces.
        #[serde(default)]
        face_unchecked: bool,
    },
    /// The photo must be retaken.
    MustRetake {
        /// Hard measures failing on this photo.
        hard: Vec<MeasureId>,
        /// Soft measures failing on this photo that the round has not failed often enough.
        soft: Vec<MeasureId>,
        /// The face comparison failed and has not failed often enough this round.
        face_mismatch: bool,
        /// Further attempts failing the same way after which the student may submit anyway;
        /// `None` when no number of attempts helps (a hard measure fails, or no standardized
        /// photo could be made).
        attempts_left: Option<u32>,
    },
}

impl SubmitDecision {
    pub fn allows_submit(&self) -> bool {
        !matches!(self, SubmitDecision::MustRetake { .. })
    }

    /// Whether a submission of this attempt carries the reviewer's flag.
    pub fn flagged(&self) -> bool {
        matches!(self, SubmitDecision::AllowedWithFlag { .. })
    }
}

fn failing(report: &CheckReport) -> BTreeSet<MeasureId> {
    report
        .measures
        .iter()
        .filter(|m| m.verdict == Verdict::Fail)
        .map(|m| m.id)
        .collect()
}

/// Decides the submission of `photo`.
///
/// `others` are the case's other checked attempts as `(round, report)`; only those of
/// `photo.round` count, since every round starts afresh. `face_match_failures` is the
/// round's count of failed face comparisons, this attempt's included.
///
/// A soft measure failing on `photo` stops blocking once the attempts of the round failing
/// that same measure, this one included, reach the policy's number: failures of different
/// measures in different attempts do not add up, so a student cannot reach the flag path by
/// failing something new each time.
pub fn submit_decision<'a>(
    photo: CheckedPhoto<'_>,
    others: impl IntoIterator<Item = (i64, &'a CheckReport)>,
    face_match_failures: u32,
    policy: &SchoolPolicy,
) -> SubmitDecision {
    let now = failing(photo.report);
    let hard: Vec<MeasureId> = now
        .iter()
        .copied()
        .filter(|m| m.gate_class() == GateClass::Hard)
        .collect();
    let soft_now: Vec<MeasureId> = now
        .iter()
        .copied()
        .filter(|m| m.gate_class() == GateClass::Soft)
        .collect();

    let mut counts: Vec<u32> = vec![1; soft_now.len()];
    for (_, report) in others.into_iter().filter(|(r, _)| *r == photo.round) {
        let earlier = failing(report);
        for (id, n) in soft_now.iter().zip(counts.iter_mut()) {
            if earlier.contains(id) {
                *n = n.saturating_add(1);
            }
        }
    }
    let needed = policy.check_failures_before_flag;
    let mut soft_short = Vec::new();
    let mut left: u32 = 0;
    for (id, n) in soft_now.iter().zip(&counts) {
        if *n < needed {
            soft_short.push(*id);
            left = left.max(needed - n);
        }
    }

    let face = match photo.same_person {
        Some(passed) => submit_gate(face_match_failures, passed, policy),
        None => SubmitGate::Allowed,
    };
    if face == SubmitGate::MustRetake {
        left = left.max(
            policy
                .face_match_failures_before_flag
                .saturating_sub(face_match_failures),
        );
    }
    let face_short = face == SubmitGate::MustRetake;

    if !hard.is_empty() || !photo.standardized {
        return SubmitDecision::MustRetake {
            hard,
            soft: soft_short,
            face_mismatch: face_short,
            attempts_left: None,
        };
    }
    if !soft_short.is_empty() || face_short {
        return SubmitDecision::MustRetake {
            hard,
            soft: soft_short,
            face_mismatch: face_short,
            // Never 0 while something still blocks: at least the next attempt is needed.
            attempts_left: Some(left.max(1)),
        };
    }
    let face_mismatch = face == SubmitGate::AllowedWithFlag;
    let face_unchecked = photo.card_given && photo.same_person.is_none();
    if soft_now.is_empty() && !face_mismatch && !face_unchecked {
        SubmitDecision::Allowed
    } else {
        SubmitDecision::AllowedWithFlag {
            measures: soft_now,
            face_mismatch,
            face_unchecked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measures::{AssessStatus, MeasureResult, Thresholds};

    fn report(fails: &[MeasureId]) -> CheckReport {
        CheckReport {
            measures: MeasureId::ALL
                .into_iter()
                .map(|id| MeasureResult {
                    id,
                    raw: Some(0.0),
                    score: Some(50),
                    verdict: if fails.contains(&id) {
                        Verdict::Fail
                    } else if id == MeasureId::MouthClosed {
                        // A warning never blocks.
                        Verdict::Warn
                    } else {
                        Verdict::Pass
                    },
                    status: AssessStatus::Ok,
                    message_zh: String::new(),
                    message_en: String::new(),
                })
                .collect(),
            models: vec![],
            config_version: Thresholds::default().version(),
        }
    }

    fn photo(round: i64, report: &CheckReport) -> CheckedPhoto<'_> {
        CheckedPhoto {
            round,
            report,
            standardized: true,
            same_person: Some(true),
            card_given: true,
        }
    }

    fn decide(
        this: CheckedPhoto<'_>,
        others: &[(i64, CheckReport)],
        face_failures: u32,
    ) -> SubmitDecision {
        submit_decision(
            this,
            others.iter().map(|(r, rep)| (*r, rep)),
            face_failures,
            &SchoolPolicy::default(),
        )
    }

    fn retake(soft: &[MeasureId], left: u32) -> SubmitDecision {
        SubmitDecision::MustRetake {
            hard: vec![],
            soft: soft.to_vec(),
            face_mismatch: false,
            attempts_left: Some(left),
        }
    }

    use MeasureId::*;

    #[test]
    fn classification() {
        for id in MeasureId::ALL {
            let expected = match id {
                SingleFace | FaceSize | InterEyeDistance | CropFeasible => GateClass::Hard,
                FaceSimilarity | IdCardOcr => GateClass::Separate,
                _ => GateClass::Soft,
            };
            assert_eq!(id.gate_class(), expected, "{id}");
        }
    }

    #[test]
    fn clean_and_warned_photos_are_allowed() {
        let r = report(&[]);
        assert_eq!(decide(photo(1, &r), &[], 0), SubmitDecision::Allowed);
        // The comparison and the card reading are not photo checks.
        let r = report(&[FaceSimilarity, IdCardOcr]);
        let p = CheckedPhoto {
            same_person: Some(true),
            ..photo(1, &r)
        };
        assert_eq!(decide(p, &[], 0), SubmitDecision::Allowed);
        // Without a card there is nothing to compare with, and nothing to flag.
        let p = CheckedPhoto {
            same_person: None,
            card_given: false,
            ..photo(1, &r)
        };
        assert_eq!(decide(p, &[], 0), SubmitDecision::Allowed);
    }

    #[test]
    fn a_comparison_that_could_not_run_goes_to_the_reviewer_flagged() {
        let r = report(&[]);
        let p = CheckedPhoto {
            same_person: None,
            ..photo(1, &r)
        };
        let d = decide(p, &[], 0);
        assert_eq!(
            d,
            SubmitDecision::AllowedWithFlag {
                measures: vec![],
                face_mismatch: false,
                face_unchecked: true,
            }
        );
        assert!(d.allows_submit() && d.flagged());
    }

    #[test]
    fn a_soft_failure_blocks_until_the_round_repeats_it() {
        let r = report(&[Sharpness]);
        assert_eq!(decide(photo(1, &r), &[], 0), retake(&[Sharpness], 2));
        let earlier = vec![(1, report(&[Sharpness]))];
        assert_eq!(decide(photo(1, &r), &earlier, 0), retake(&[Sharpness], 1));
        let earlier = vec![(1, report(&[Sharpness])), (1, report(&[Sharpness, Yaw]))];
        let d = decide(photo(1, &r), &earlier, 0);
        assert_eq!(
            d,
            SubmitDecision::AllowedWithFlag {
                measures: vec![Sharpness],
                face_mismatch: false,
                face_unchecked: false,
            }
        );
        assert!(d.allows_submit() && d.flagged());
        // Passing attempts of the round in between change nothing.
        let mut with_passes = earlier.clone();
        with_passes.push((1, report(&[])));
        assert_eq!(decide(photo(1, &r), &with_passes, 0), d);
    }

    #[test]
    fn failures_of_different_measures_do_not_add_up() {
        let r = report(&[Sharpness]);
        let earlier = vec![
            (1, report(&[Yaw])),
            (1, report(&[Exposure])),
            (1, report(&[EyesOpen])),
        ];
        assert_eq!(decide(photo(1, &r), &earlier, 0), retake(&[Sharpness], 2));
        // Two soft failures: each needs its own count; the one short of it blocks.
        let r = report(&[Sharpness, Yaw]);
        let earlier = vec![(1, report(&[Sharpness])), (1, report(&[Sharpness, Yaw]))];
        assert_eq!(decide(photo(1, &r), &earlier, 0), retake(&[Yaw], 1));
    }

    #[test]
    fn the_count_is_per_round() {
        let r = report(&[Sharpness]);
        let earlier: Vec<(i64, CheckReport)> = (0..5).map(|_| (1, report(&[Sharpness]))).collect();
        assert_eq!(decide(photo(2, &r), &earlier, 0), retake(&[Sharpness], 2));
        let mut mixed = earlier;
        mixed.push((2, report(&[Sharpness])));
        assert_eq!(decide(photo(2, &r), &mixed, 0), retake(&[Sharpness], 1));
    }

    #[test]
    fn a_hard_failure_blocks_after_any_number_of_attempts() {
        for hard in HARD_MEASURES {
            let r = report(&[hard, Sharpness]);
            let earlier: Vec<(i64, CheckReport)> =
                (0..20).map(|_| (1, report(&[hard, Sharpness]))).collect();
            let d = decide(photo(1, &r), &earlier, 0);
            assert_eq!(
                d,
                SubmitDecision::MustRetake {
                    hard: vec![hard],
                    soft: vec![],
                    face_mismatch: false,
                    attempts_left: None
                },
                "{hard}"
            );
            assert!(!d.allows_submit());
        }
        // Without a standardized photo there is nothing to submit, whatever the report.
        let r = report(&[]);
        let p = CheckedPhoto {
            standardized: false,
            ..photo(1, &r)
        };
        assert!(matches!(
            decide(p, &[], 0),
            SubmitDecision::MustRetake {
                attempts_left: None,
                ..
            }
        ));
    }

    #[test]
    fn the_face_comparison_keeps_its_own_count() {
        let r = report(&[FaceSimilarity]);
        let mismatch = CheckedPhoto {
            same_person: Some(false),
            ..photo(1, &r)
        };
        assert_eq!(
            decide(mismatch, &[], 1),
            SubmitDecision::MustRetake {
                hard: vec![],
                soft: vec![],
                face_mismatch: true,
                attempts_left: Some(2)
            }
        );
        assert_eq!(
            decide(mismatch, &[], 3),
            SubmitDecision::AllowedWithFlag {
                measures: vec![],
                face_mismatch: true,
                face_unchecked: false,
            }
        );
        // A soft failure reached its count but the face has not: still a retake, and the
        // wait is the longer of the two.
        let r = report(&[FaceSimilarity, Sharpness]);
        let both = CheckedPhoto {
            same_person: Some(false),
            ..photo(1, &r)
        };
        let earlier = vec![(1, report(&[Sharpness])), (1, report(&[Sharpness]))];
        assert_eq!(
            decide(both, &earlier, 1),
            SubmitDecision::MustRetake {
                hard: vec![],
                soft: vec![],
                face_mismatch: true,
                attempts_left: Some(2)
            }
        );
        assert_eq!(
            decide(both, &earlier, 3),
            SubmitDecision::AllowedWithFlag {
                measures: vec![Sharpness],
                face_mismatch: true,
                face_unchecked: false,
            }
        );
        // A photo that matches is not held back by earlier failed comparisons.
        let r = report(&[]);
        assert_eq!(decide(photo(1, &r), &[], 5), SubmitDecision::Allowed);
    }

    #[test]
    fn the_school_sets_the_number() {
        let r = report(&[IlluminationUniformity]);
        let lenient = SchoolPolicy {
            check_failures_before_flag: 1,
            ..SchoolPolicy::default()
        };
        assert_eq!(
            submit_decision(photo(1, &r), [], 0, &lenient),
            SubmitDecision::AllowedWithFlag {
                measures: vec![IlluminationUniformity],
                face_mismatch: false,
                face_unchecked: false,
            }
        );
        let strict = SchoolPolicy {
            check_failures_before_flag: 5,
            ..SchoolPolicy::default()
        };
        let earlier = [
            report(&[IlluminationUniformity]),
            report(&[IlluminationUniformity]),
        ];
        assert_eq!(
            submit_decision(photo(1, &r), earlier.iter().map(|e| (1, e)), 0, &strict),
            retake(&[IlluminationUniformity], 2)
        );
    }

    #[test]
    fn wire_shape() {
        let d = SubmitDecision::MustRetake {
            hard: vec![],
            soft: vec![Sharpness],
            face_mismatch: false,
            attempts_left: Some(2),
        };
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({
                "kind": "must_retake", "hard": [], "soft": ["sharpness"],
                "face_mismatch": false, "attempts_left": 2
            })
        );
        let d = SubmitDecision::AllowedWithFlag {
            measures: vec![Yaw],
            face_mismatch: true,
            face_unchecked: false,
        };
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["kind"], "allowed_with_flag");
        assert_eq!(serde_json::from_value::<SubmitDecision>(json).unwrap(), d);
        assert_eq!(
            serde_json::to_value(SubmitDecision::Allowed).unwrap(),
            serde_json::json!({ "kind": "allowed" })
        );
    }
}
