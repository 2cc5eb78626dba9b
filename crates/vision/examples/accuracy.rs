//! Accuracy of the checks and of the standardizer on a folder of labelled real photos, as
//! Markdown: `accuracy PHOTO_DIR LABELS.tsv > docs/accuracy.md` (see `scripts/accuracy.sh`).
//!
//! The labels file has one row per photo: `file`, the photo set's own labels and labels added
//! by eye, comma-separated (`-` for none). A photo whose only labels are `jewellery` or
//! `clear_glasses` is *clean*: no check may fail it, and it should be standardized within every
//! band of the spec with a clean background.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context;
use gradphoto_domain::measures::{AssessStatus, MeasureId, Verdict};
use gradphoto_vision::{PhotoSpec, Thresholds, Vision};

/// Labels that do not make a photo unusable.
const HARMLESS: [&str; 2] = ["jewellery", "clear_glasses"];

/// Which measures are expected to flag a labelled condition.
fn measures_for(label: &str) -> &'static [MeasureId] {
    match label {
        "head_turned" => &[MeasureId::Yaw, MeasureId::Pitch],
        "greyscale" => &[MeasureId::NaturalColour],
        "tinted_glasses" => &[MeasureId::TintedGlasses],
        "headwear" => &[MeasureId::Headwear],
        "jewellery" => &[MeasureId::Jewellery],
        _ => &[],
    }
}

struct Row {
    file: String,
    labels: Vec<String>,
    fails: Vec<MeasureId>,
    warns: Vec<MeasureId>,
    unassessed: Vec<MeasureId>,
    outcome: String,
    within_spec: bool,
    clean_background: bool,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: accuracy PHOTO_DIR LABELS.tsv";
    let dir = args.next().context(usage)?;
    let labels_path = args.next().context(usage)?;
    let labels = read_labels(&labels_path)?;
    let vision = Vision::load()?;
    let spec = PhotoSpec::chsi();
    let thresholds = Thresholds::default();
    let within = |v: f64, r: gradphoto_domain::spec::Range| {
        v >= f64::from(r.min) - 0.5 && v <= f64::from(r.max) + 0.5
    };

    let mut rows = Vec::new();
    for (file, labels) in &labels {
        let bytes = std::fs::read(format!("{dir}/{file}")).with_context(|| file.clone())?;
        let a = vision.analyze(&bytes, &spec, &thresholds, None, None)?;
        let pick = |v: Verdict| {
            a.report
                .measures
                .iter()
                .filter(|m| m.verdict == v && m.status == AssessStatus::Ok)
                .map(|m| m.id)
                .collect::<Vec<_>>()
        };
        let (fails, warns) = (pick(Verdict::Fail), pick(Verdict::Warn));
        let unassessed = a
            .report
            .measures
            .iter()
            .filter(|m| m.status == AssessStatus::FailedToAssess)
            .map(|m| m.id)
            .collect();
        let (outcome, within_spec, clean_background) = match &a.standardized {
            Some(s) => {
                let g = &s.geometry;
                let bg = vision.check_background(s, &spec)?;
                let ok = within(g.hair_top_px, spec.hair_top_px)
                    && within(g.eye_line_px, spec.eye_line_px)
                    && within(g.face_width_px, spec.face_width_px);
                (
                    format!(
                        "hair {:.0}, eyes {:.0}, face {:.0}; stray {} px, blob {} px",
                        g.hair_top_px,
                        g.eye_line_px,
                        g.face_width_px,
                        bg.stray_px,
                        bg.largest_blob_px
                    ),
                    ok,
                    bg.is_clean(),
                )
            }
            None => (
                a.standardize_error
                    .as_ref()
                    .map(|p| format!("refused: `{}`", p.code))
                    .unwrap_or_default(),
                false,
                false,
            ),
        };
        rows.push(Row {
            file: file.clone(),
            labels: labels.clone(),
            fails,
            warns,
            unassessed,
            outcome,
            within_spec,
            clean_background,
        });
    }
    print!("{}", report(&rows, &dir));
    Ok(())
}

fn read_labels(path: &str) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let text = std::fs::read_to_string(path).with_context(|| path.to_string())?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.starts_with("file\t") || line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let file = cols.next().context("empty row")?.to_string();
        let labels = cols
            .flat_map(|c| c.split(','))
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "-")
            .map(str::to_string)
            .collect();
        out.insert(file, labels);
    }
    Ok(out)
}

fn is_clean(r: &Row) -> bool {
    r.labels.iter().all(|l| HARMLESS.contains(&l.as_str()))
}

fn codes(ids: &[MeasureId]) -> String {
    ids.iter()
        .map(|m| format!("`{}`", m.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "–".into()
    } else {
        format!("{:.0} % ({n}/{d})", 100.0 * n as f64 / d as f64)
    }
}

fn report(rows: &[Row], dir: &str) -> String {
    let mut s = String::new();
    let clean: Vec<&Row> = rows.iter().filter(|r| is_clean(r)).collect();
    let failed: Vec<&&Row> = clean.iter().filter(|r| !r.fails.is_empty()).collect();
    let standardized = clean
        .iter()
        .filter(|r| r.within_spec && r.clean_background)
        .count();
    let _ = writeln!(s, "## Summary ({} photos from `{dir}`)\n", rows.len());
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| clean photos | {} |", clean.len());
    let _ = writeln!(
        s,
        "| clean photos failed by a check | {} |",
        pct(failed.len(), clean.len())
    );
    let _ = writeln!(
        s,
        "| clean photos standardized within every band, clean background | {} |",
        pct(standardized, clean.len())
    );
    let all_std = rows
        .iter()
        .filter(|r| r.within_spec && r.clean_background)
        .count();
    let _ = writeln!(
        s,
        "| all photos standardized within every band, clean background | {} |\n",
        pct(all_std, rows.len())
    );

    let _ = writeln!(s, "## Per measure\n");
    let _ = writeln!(
        s,
        "Caught: photos with a label the measure is meant to flag on which it warned or failed \
         (not assessed: no face was found, so the measure could not look). False alarms: \
         photos without such a label on which it warned or failed. On clean photos: how \
         often it warned and failed.\n"
    );
    let _ = writeln!(
        s,
        "| measure | labelled | caught | not assessed | false alarms | clean: warn | clean: fail |\n|---|---|---|---|---|---|---|"
    );
    for id in MeasureId::ALL {
        if matches!(id, MeasureId::FaceSimilarity | MeasureId::IdCardOcr) {
            continue;
        }
        let labelled: Vec<&Row> = rows
            .iter()
            .filter(|r| r.labels.iter().any(|l| measures_for(l).contains(&id)))
            .collect();
        let caught = labelled
            .iter()
            .filter(|r| r.fails.contains(&id) || r.warns.contains(&id))
            .count();
        let unassessed = labelled
            .iter()
            .filter(|r| r.unassessed.contains(&id))
            .count();
        let others: Vec<&Row> = rows
            .iter()
            .filter(|r| !r.labels.iter().any(|l| measures_for(l).contains(&id)))
            .collect();
        let false_alarms = others
            .iter()
            .filter(|r| r.fails.contains(&id) || r.warns.contains(&id))
            .count();
        let warn = clean.iter().filter(|r| r.warns.contains(&id)).count();
        let fail = clean.iter().filter(|r| r.fails.contains(&id)).count();
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            id.code(),
            labelled.len(),
            if labelled.is_empty() {
                "–".into()
            } else {
                pct(caught, labelled.len())
            },
            if labelled.is_empty() {
                "–".into()
            } else {
                unassessed.to_string()
            },
            pct(false_alarms, others.len()),
            pct(warn, clean.len()),
            pct(fail, clean.len())
        );
    }

    let _ = writeln!(s, "\n## Per photo\n");
    let _ = writeln!(
        s,
        "| photo | labels | fail | warn | standardized |\n|---|---|---|---|---|"
    );
    for r in rows {
        let mark = if r.within_spec && r.clean_background {
            "✓ "
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {mark}{} |",
            r.file,
            if r.labels.is_empty() {
                "–".into()
            } else {
                r.labels.join(", ")
            },
            codes(&r.fails),
            codes(&r.warns),
            r.outcome
        );
    }
    s
}
