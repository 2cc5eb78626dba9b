//! Human-readable rendering of a [`CheckReport`] for the command line and logs.

use std::fmt::Write;

use gradphoto_domain::measures::{AssessStatus, CheckReport, Verdict};
use serde::{Deserialize, Serialize};

/// Language of rendered text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Zh,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" => Ok(Lang::Zh),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?} (use zh or en)")),
        }
    }
}

/// One line per measure (verdict, label, raw value, score, message), then the overall verdict
/// and the model/config versions.
pub fn render_report_text(report: &CheckReport, lang: Lang) -> String {
    let mut s = String::new();
    let verdict = |v: Verdict| match lang {
        Lang::Zh => v.label_zh(),
        Lang::En => v.label_en(),
    };
    let mark = |v: Verdict| match v {
        Verdict::Pass => "✓",
        Verdict::Warn => "!",
        Verdict::Fail => "✗",
    };
    for m in &report.measures {
        let label = match lang {
            Lang::Zh => m.id.label_zh(),
            Lang::En => m.id.label_en(),
        };
        let raw = m
            .raw
            .map(|r| format!("{r:.3}"))
            .unwrap_or_else(|| "-".into());
        let score = m.score.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
        let status = match (m.status, lang) {
            (AssessStatus::Ok, _) => String::new(),
            (AssessStatus::FailedToAssess, Lang::Zh) => " [无法评估]".into(),
            (AssessStatus::FailedToAssess, Lang::En) => " [not assessed]".into(),
        };
        let msg = match lang {
            Lang::Zh => &m.message_zh,
            Lang::En => &m.message_en,
        };
        let _ = writeln!(
            s,
            "{} {:<8} {:<24} raw={:<10} score={:<3}{} {}",
            mark(m.verdict),
            verdict(m.verdict),
            label,
            raw,
            score,
            status,
            msg
        );
    }
    let overall = report.overall();
    let _ = match lang {
        Lang::Zh => writeln!(s, "总体结论：{}", verdict(overall)),
        Lang::En => writeln!(s, "Overall: {}", verdict(overall)),
    };
    let models: Vec<String> = report
        .models
        .iter()
        .map(|m| format!("{}@{}", m.name, m.sha256.get(..12).unwrap_or(&m.sha256)))
        .collect();
    let _ = match lang {
        Lang::Zh => writeln!(
            s,
            "模型：{}；阈值配置：{}",
            models.join(", "),
            report.config_version
        ),
        Lang::En => writeln!(
            s,
            "Models: {}; thresholds: {}",
            models.join(", "),
            report.config_version
        ),
    };
    s
}

/// The report as pretty JSON (the same serde form the API uses).
pub fn render_report_json(report: &CheckReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
