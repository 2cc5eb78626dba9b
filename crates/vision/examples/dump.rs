//! Prints what the vision pipeline finds in photos as JSON, for the parity scripts and for
//! one-shot timing: `cargo run --release -p gradphoto-vision --example dump -- photo.jpg...`
//!
//! Coordinates are in upright original pixels. `--mask` adds the 256×256 segmentation mask;
//! `--standardize DIR` also writes DIR/<name>.jpg; `--report` adds the check report.

use std::time::Instant;

use anyhow::Context;
use gradphoto_vision::{PhotoSpec, Thresholds, Vision};
use serde_json::{json, Value};

fn main() -> anyhow::Result<()> {
    let mut paths = Vec::new();
    let mut with_mask = false;
    let mut with_report = false;
    let mut out_dir: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mask" => with_mask = true,
            "--report" => with_report = true,
            "--standardize" => {
                out_dir = Some(args.next().context("--standardize needs a directory")?)
            }
            _ => paths.push(a),
        }
    }
    let t0 = Instant::now();
    let vision = Vision::load()?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let spec = PhotoSpec::chsi();
    let thresholds = Thresholds::default();
    let mut photos = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        let t = Instant::now();
        let ins = vision.inspect(&bytes)?;
        let inspect_ms = t.elapsed().as_secs_f64() * 1e3;
        let k = 1.0 / ins.working_scale();
        let faces: Vec<Value> = ins
            .faces
            .iter()
            .map(|d| {
                json!({
                    "score": d.score,
                    "bbox": d.bbox.map(|v| f64::from(v) * k),
                    "keypoints": d.keypoints.map(|(x, y)| [f64::from(x) * k, f64::from(y) * k]),
                })
            })
            .collect();
        let landmarks = ins.mesh.as_ref().map(|m| {
            m.points
                .iter()
                .map(|p| {
                    [
                        f64::from(p[0]) * k,
                        f64::from(p[1]) * k,
                        f64::from(p[2]) * k,
                    ]
                })
                .collect::<Vec<_>>()
        });
        let mut entry = json!({
            "path": path,
            "original_size": ins.decoded.original_size,
            "working_reduction": ins.decoded.reduction,
            "exif": ins.decoded.exif,
            "faces": faces,
            "landmarks": landmarks,
            "presence": ins.mesh.as_ref().map(|m| m.presence),
            "pose": ins.mesh.as_ref().map(gradphoto_vision::pose::head_pose),
            "inspect_ms": inspect_ms,
        });
        if with_mask {
            entry["mask256"] = json!(ins.mask.mask.data);
            entry["thumb_size"] = json!(ins.thumb.dimensions());
        }
        if with_report || out_dir.is_some() {
            let t = Instant::now();
            let analysis = vision.analyze(&bytes, &spec, &thresholds, None, None)?;
            entry["analyze_ms"] = json!(t.elapsed().as_secs_f64() * 1e3);
            if with_report {
                entry["report"] = serde_json::to_value(&analysis.report)?;
            }
            entry["standardize_error"] = serde_json::to_value(&analysis.standardize_error)?;
            if let Some(s) = &analysis.standardized {
                entry["geometry"] = serde_json::to_value(&s.geometry)?;
                if let Some(dir) = &out_dir {
                    let name = std::path::Path::new(path)
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or("photo");
                    std::fs::write(format!("{dir}/{name}.jpg"), &s.jpeg)?;
                }
            }
        }
        photos.push(entry);
    }
    let out = json!({ "load_ms": load_ms, "photos": photos });
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
