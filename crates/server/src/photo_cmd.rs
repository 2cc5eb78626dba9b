//! `gradphoto photo …` and `gradphoto idcard …`: the vision pipeline on local files, for staff
//! checking a photo by hand and for scripting (`--json`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use gradphoto_domain::measures::{Thresholds, Verdict};
use gradphoto_domain::spec::PhotoSpec;
use gradphoto_domain::Localized;
use gradphoto_vision::{render_report_json, render_report_text, Lang, Vision, VisionError};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum PhotoCommand {
    /// Run every compliance measure on a photo.
    Check {
        input: PathBuf,
        #[command(flatten)]
        common: Common,
        /// Thresholds file (TOML); measures it does not list keep their defaults.
        #[arg(long)]
        thresholds: Option<PathBuf>,
    },
    /// Produce the standardized ID photo (480×640 JPEG for the default CHSI spec).
    Standardize {
        input: PathBuf,
        /// Where to write the JPEG.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Compare the faces of two photos (the second may be a photo of an ID card front).
    Compare {
        a: PathBuf,
        b: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Subcommand)]
pub enum IdCardCommand {
    /// Read the name and ID number off a photo of an ID card front (人像面).
    Read {
        input: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// Photo spec file (TOML); the CHSI default otherwise.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Language of the text output: zh or en.
    #[arg(long, default_value = "zh")]
    lang: Lang,
}

impl Common {
    fn spec(&self) -> anyhow::Result<PhotoSpec> {
        let Some(path) = &self.spec else {
            return Ok(PhotoSpec::chsi());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read spec file {}", path.display()))?;
        let spec: PhotoSpec = toml::from_str(&text)
            .with_context(|| format!("invalid spec file {}", path.display()))?;
        spec.validate()
            .map_err(|e| anyhow::anyhow!("invalid spec file {}: {e}", path.display()))?;
        Ok(spec)
    }
}

pub fn run_photo(command: PhotoCommand) -> anyhow::Result<ExitCode> {
    match command {
        PhotoCommand::Check {
            input,
            common,
            thresholds,
        } => {
            let thresholds = match thresholds {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    toml::from_str::<Thresholds>(&text)
                        .with_context(|| format!("invalid thresholds file {}", path.display()))?
                }
                None => Thresholds::default(),
            };
            let (vision, photo) = (load()?, read(&input)?);
            let report = match vision.check(&photo, &common.spec()?, &thresholds) {
                Ok(r) => r,
                Err(e) => return Ok(fail(&e, common.json, common.lang)),
            };
            if common.json {
                println!("{}", render_report_json(&report));
            } else {
                print!("{}", render_report_text(&report, common.lang));
            }
            Ok(match report.overall() {
                Verdict::Fail => ExitCode::from(1),
                _ => ExitCode::SUCCESS,
            })
        }
        PhotoCommand::Standardize {
            input,
            output,
            common,
        } => {
            let (vision, photo) = (load()?, read(&input)?);
            let std = match vision.standardize(&photo, &common.spec()?) {
                Ok(s) => s,
                Err(e) => return Ok(fail(&e, common.json, common.lang)),
            };
            std::fs::write(&output, &std.jpeg)
                .with_context(|| format!("cannot write {}", output.display()))?;
            let g = &std.geometry;
            if common.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "output": output,
                        "geometry": g,
                    }))?
                );
            } else {
                let (zh, en) = (common.lang == Lang::Zh, output.display());
                if zh {
                    println!("已生成标准照片：{en}");
                } else {
                    println!("standardized photo written to {en}");
                }
                println!(
                    "  {}: {:.0} px   {}: {:.0} px   {}: {:.0} px",
                    if zh { "头顶距上边" } else { "hair top" },
                    g.hair_top_px,
                    if zh { "眼线距上边" } else { "eye line" },
                    g.eye_line_px,
                    if zh { "脸宽" } else { "face width" },
                    g.face_width_px
                );
                println!(
                    "  {}: {:.3}   {}: {:.1}°   JPEG {}: {}   {} KB",
                    if zh { "缩放" } else { "scale" },
                    g.scale,
                    if zh { "转正" } else { "roll corrected" },
                    g.roll_deg,
                    if zh { "质量" } else { "quality" },
                    g.quality,
                    g.bytes.div_ceil(1024)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PhotoCommand::Compare { a, b, common } => {
            let (vision, a, b) = (load()?, read(&a)?, read(&b)?);
            let m = match vision.compare(&a, &b) {
                Ok(m) => m,
                Err(e) => return Ok(fail(&e, common.json, common.lang)),
            };
            if common.json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else if common.lang == Lang::Zh {
                println!(
                    "{}（相似度 {} / 100，距离 {:.3}，阈值 {:.2}）",
                    if m.same_person {
                        "同一人"
                    } else {
                        "不是同一人"
                    },
                    m.similarity,
                    m.distance,
                    m.threshold
                );
            } else {
                println!(
                    "{} (similarity {} / 100, distance {:.3}, threshold {:.2})",
                    if m.same_person {
                        "same person"
                    } else {
                        "different people"
                    },
                    m.similarity,
                    m.distance,
                    m.threshold
                );
            }
            Ok(if m.same_person {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

pub fn run_idcard(command: IdCardCommand) -> anyhow::Result<ExitCode> {
    let IdCardCommand::Read { input, common } = command;
    let (vision, card) = (load()?, read(&input)?);
    let reading = match vision.read_id_card(&card) {
        Ok(r) => r,
        Err(e) => return Ok(fail(&e, common.json, common.lang)),
    };
    if common.json {
        println!("{}", serde_json::to_string_pretty(&reading)?);
    } else {
        let none = if common.lang == Lang::Zh {
            "（未识别）"
        } else {
            "(not read)"
        };
        let (n, i) = if common.lang == Lang::Zh {
            ("姓名", "公民身份号码")
        } else {
            ("name", "ID number")
        };
        println!("{n}: {}", reading.name.as_deref().unwrap_or(none));
        println!("{i}: {}", reading.id_number.as_deref().unwrap_or(none));
    }
    Ok(if reading.name.is_some() && reading.id_number.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn load() -> anyhow::Result<Vision> {
    Vision::load().map_err(|e| anyhow::anyhow!("{}", e.message_en()))
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A photo the pipeline cannot use is an answer, not a crash: say what is wrong and what to
/// do, and exit with 2 (1 means "checked, and it fails").
fn fail(e: &VisionError, json: bool, lang: Lang) -> ExitCode {
    if json {
        println!(
            "{}",
            json!({"error": {"code": e.code(), "message_zh": e.message_zh(), "message_en": e.message_en()}})
        );
    } else {
        let msg = match lang {
            Lang::Zh => e.message_zh(),
            Lang::En => e.message_en(),
        };
        eprintln!("{msg} [{}]", e.code());
    }
    ExitCode::from(2)
}
