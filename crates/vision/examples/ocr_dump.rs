//! Prints what the OCR reads off images as JSON, for the parity check against RapidOCR
//! (`models/parity/parity_ocr.py`) and for timing.
//!
//! ```text
//! ocr_dump IMAGE...            [{"file", "lines": [{"text", "score", "quad", "flipped"}], "name", "id_number", "ms"}]
//! ocr_dump --bench N IMAGE...  also time N reads of each image (to stderr): the full read,
//!                              detection alone on each canvas, and the ID card reading
//! ```

use std::time::Instant;

use gradphoto_vision::idcard::{parse_card_lines, read_id_card};
use gradphoto_vision::ocr::{DetSize, OcrEngine};
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
            let t = Instant::now();
            for _ in 0..bench {
                ocr.find_text(&img, DetSize::Small)?;
            }
            let small = t.elapsed().as_secs_f64() * 1e3 / bench as f64;
            let found = ocr.find_text(&img, DetSize::Small)?;
            let mut per_line = Vec::with_capacity(found.len());
            for i in 0..found.len() {
                let t = Instant::now();
                ocr.read_box(&found, i)?;
                per_line.push(t.elapsed().as_secs_f64() * 1e3);
            }
            per_line.sort_by(f64::total_cmp);
            let t = Instant::now();
            let mut card = read_id_card(&ocr, &img)?;
            for _ in 1..bench {
                card = read_id_card(&ocr, &img)?;
            }
            let card_ms = t.elapsed().as_secs_f64() * 1e3 / bench as f64;
            eprintln!(
                "{f}: card reading {card_ms:.0} ms ({} lines recognised, name {:?}, number {:?}); \
                 small-canvas detection {small:.0} ms ({} boxes, median text height {:.1} px); \
                 one line recognised in {:.0}–{:.0} ms (median {:.0})",
                card.lines.len(),
                card.name,
                card.id_number,
                found.len(),
                found.median_text_height(),
                per_line.first().unwrap_or(&0.0),
                per_line.last().unwrap_or(&0.0),
                per_line.get(per_line.len() / 2).unwrap_or(&0.0),
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
