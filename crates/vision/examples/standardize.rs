//! One-shot standardization, as a command-line tool would do it (models loaded per run):
//! `standardize IN.jpg OUT.jpg`. Used to measure start-to-finish time and peak memory.

use anyhow::Context;
use gradphoto_vision::{PhotoSpec, Vision};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let input = args.next().context("usage: standardize IN OUT")?;
    let output = args.next().context("usage: standardize IN OUT")?;
    let bytes = std::fs::read(&input).with_context(|| format!("reading {input}"))?;
    let vision = Vision::load()?;
    let std = vision.standardize(&bytes, &PhotoSpec::chsi())?;
    std::fs::write(&output, &std.jpeg).with_context(|| format!("writing {output}"))?;
    println!("{}", serde_json::to_string(&std.geometry)?);
    Ok(())
}
