//! Prints what the OCR reads off images as JSON, for the parity check against RapidOCR
//! (`models/parity/parity_ocr.py`) and for timing.
//!
//! ```text
//! ocr_dump IMAGE...            [{"file", "lines": [{"text", "score", "quad", "flipped"}], "name", "id_number", "ms"}]
//! ocr_dump --bench N IMAGE...  also time N reads of each image (to stderr)
//! ```

use std::time::Instant;

use gradphoto_vision::idcard::parse_card_lines;
use gradphoto_vision::ocr::OcrEngine;
use gradphoto_vision::{decode, DecodeLimits};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut bench = 0usize;
    let mut files = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--bench" {
            bench = it.next().ok_or("--bench needs N")?.parse()?;
        } else {
            files.push(a);
        }
    }
    let t0 = Instant::now();
    let ocr = OcrEngine::load()?;
    eprintln!(
        "OCR models loaded in {:.0} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );
    let mut out = Vec::new();
    for f in &files {
        let img = decode(&std::fs::read(f)?, DecodeLimits::default())?.rgb;
        let t = Instant::now();
        let lines = ocr.read(&img)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if bench > 0 {
            let t = Instant::now();
            for _ in 0..bench {
                ocr.read(&img)?;
            }
            let per = t.elapsed().as_secs_f64() * 1e3 / bench as f64;
            let t = Instant::now();
            for _ in 0..bench {
                ocr.detect(&img)?;
            }
            let det = t.elapsed().as_secs_f64() * 1e3 / bench as f64;
            eprintln!(
                "{f}: {per:.0} ms per read over {bench} runs ({} lines; detection alone {det:.0} ms)",
                lines.len()
            );
        }
        let reading = parse_card_lines(lines);
        out.push(json!({
            "file": f,
            "lines": reading.lines,
            "name": reading.name,
            "id_number": reading.id_number,
            "ms": ms,
        }));
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
