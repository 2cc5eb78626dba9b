//! Prints face descriptors as JSON, for the parity check against dlib
//! (`models/parity/parity_dlib.py`) and for timing.
//!
//! ```text
//! embed_dump PHOTO [--min-window F]           every face: detection, FaceMesh, 5 points, chip, descriptor
//! embed_dump PHOTO --points x0,y0,...,x4,y4   chip from the given dlib-order points, descriptor
//! embed_dump --chip CHIP.png                  descriptor of a ready 150x150 chip
//! options: --save-chips DIR   --mesh (also print the 468 landmarks)
//!          --bench N (time N embeddings of the first chip, to stderr)
//! ```

use std::path::PathBuf;
use std::time::Instant;

use gradphoto_vision::align::{face_chip, FivePoints};
use gradphoto_vision::embed::FaceEmbedder;
use gradphoto_vision::idcard::detect_faces_multiscale;
use gradphoto_vision::landmarks::face_mesh;
use gradphoto_vision::models::{bytes, load_model};
use gradphoto_vision::{decode, DecodeLimits};
use serde_json::json;
use tract_onnx::prelude::*;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

macro_rules! bail {
    ($($t:tt)*) => { return Err(format!($($t)*).into()) };
}

fn need<T>(v: Option<T>, what: &str) -> Result<T> {
    v.ok_or_else(|| what.into())
}

struct Args {
    photo: Option<PathBuf>,
    chip: Option<PathBuf>,
    points: Option<[[f64; 2]; 5]>,
    min_window: f64,
    save_chips: Option<PathBuf>,
    bench: usize,
    mesh: bool,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        photo: None,
        chip: None,
        points: None,
        min_window: 0.33,
        save_chips: None,
        bench: 0,
        mesh: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--chip" => a.chip = Some(need(it.next(), "--chip needs a path")?.into()),
            "--points" => {
                let v: Vec<f64> = need(it.next(), "--points needs 10 numbers")?
                    .split(',')
                    .map(|s| s.trim().parse::<f64>())
                    .collect::<std::result::Result<_, _>>()?;
                if v.len() != 10 {
                    bail!("--points needs 10 numbers, got {}", v.len());
                }
                let mut p = [[0.0; 2]; 5];
                for (i, q) in p.iter_mut().enumerate() {
                    *q = [v[2 * i], v[2 * i + 1]];
                }
                a.points = Some(p);
            }
            "--min-window" => a.min_window = need(it.next(), "--min-window needs F")?.parse()?,
            "--save-chips" => {
                a.save_chips = Some(need(it.next(), "--save-chips needs DIR")?.into())
            }
            "--mesh" => a.mesh = true,
            "--bench" => a.bench = need(it.next(), "--bench needs N")?.parse()?,
            s if s.starts_with("--") => bail!("unknown option {s}"),
            _ => a.photo = Some(arg.into()),
        }
    }
    Ok(a)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let t0 = Instant::now();
    let embedder = FaceEmbedder::load()?;
    eprintln!(
        "embedding model loaded in {:.0} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );

    let mut chips = Vec::new();
    let mut faces = Vec::new();
    if let Some(path) = &args.chip {
        chips.push(image::open(path)?.to_rgb8());
        faces.push(json!({ "chip": path }));
    } else {
        let path = need(args.photo.as_ref(), "give a photo or --chip")?;
        let img = decode(&std::fs::read(path)?, DecodeLimits::default())?.rgb;
        if let Some(p) = args.points {
            chips.push(face_chip(&img, &FivePoints(p))?);
            faces.push(json!({ "points": p }));
        } else {
            let nhwc = |s: usize| f32::fact([1, s, s, 3]).into();
            let detector = load_model("face_detection", bytes::FACE_DETECTION, nhwc(128))?;
            let landmarker = load_model("face_landmark", bytes::FACE_LANDMARK, nhwc(192))?;
            let mut fracs = vec![1.0];
            let mut f = 0.5;
            while f >= args.min_window {
                fracs.push(f);
                f *= 0.66;
            }
            for det in detect_faces_multiscale(&detector, &img, &fracs)? {
                let mesh = face_mesh(&landmarker, &img, &det)?;
                let Some(points) = FivePoints::from_mesh(&mesh) else {
                    continue;
                };
                chips.push(face_chip(&img, &points)?);
                let mut face = json!({ "bbox": det.bbox, "score": det.score, "points": points.0 });
                if args.mesh {
                    face["mesh"] = json!(mesh.points);
                }
                faces.push(face);
            }
        }
    }

    let mut out = Vec::new();
    for (i, (chip, mut face)) in chips.iter().zip(faces).enumerate() {
        if let Some(dir) = &args.save_chips {
            std::fs::create_dir_all(dir)?;
            chip.save(dir.join(format!("chip_{i:02}.png")))?;
        }
        let e = embedder.embed(chip)?;
        face["descriptor"] = json!(e.to_vec());
        out.push(face);
    }
    if args.bench > 0 {
        if let Some(chip) = chips.first() {
            let t = Instant::now();
            for _ in 0..args.bench {
                embedder.embed(chip)?;
            }
            let ms = t.elapsed().as_secs_f64() * 1e3 / args.bench as f64;
            eprintln!("embedding: {ms:.2} ms per face over {} runs", args.bench);
        }
    }
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
