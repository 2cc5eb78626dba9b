//! Invitations: a per-student code, printed as a QR-code PNG and listed in a CSV of links.

use std::path::Path;

use gradphoto_api::admin::InviteLink;
use image::Luma;
use qrcode::QrCode;

use crate::http::error::{AppError, AppResult};
use crate::store::{codes, Actor};
use crate::AppState;

#[derive(Debug, Clone, Default)]
pub struct InviteSelection {
    /// Only this student number (otherwise every student).
    pub student_no: Option<String>,
    /// Only this school (by name).
    pub school: Option<String>,
    /// Revoke current codes and issue new ones.
    pub reissue: bool,
}

pub fn link_for(public_url: &str, code: &str) -> String {
    format!("{public_url}/c/{code}")
}

/// Issues (or re-issues) codes for the selected students in one transaction.
pub async fn issue(
    state: &AppState,
    actor: &Actor,
    sel: &InviteSelection,
) -> AppResult<Vec<InviteLink>> {
    let rows = codes::invite_targets(
        &state.store,
        sel.student_no.as_deref(),
        sel.school.as_deref(),
    )
    .await?;
    if rows.is_empty() {
        return Err(AppError::not_found("符合条件的学生", "Matching student"));
    }
    let mut tx = state.store.begin().await?;
    let mut links = Vec::with_capacity(rows.len());
    for t in rows {
        let issued = codes::issue(&mut tx, &state.crypto, actor, &t.case_id, sel.reissue).await?;
        links.push(InviteLink {
            name: t.name,
            student_no: t.student_no,
            school: t.school,
            link: link_for(&state.public_url, &issued.code),
            new: issued.new,
        });
    }
    tx.commit().await?;
    Ok(links)
}

fn file_stem(link: &InviteLink) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}-{}", clean(&link.school), clean(&link.student_no))
}

/// Writes `links.csv` and one QR-code PNG per student into `dir`.
pub fn write_outputs(dir: &Path, links: &[InviteLink]) -> Result<(), std::io::Error> {
    std::fs::create_dir_all(dir)?;
    let mut csv = csv::Writer::from_path(dir.join("links.csv"))?;
    csv.write_record([
        "姓名 name",
        "学号 student_no",
        "学校 school",
        "链接 link",
        "qr_png",
    ])?;
    for link in links {
        let png = format!("{}.png", file_stem(link));
        let code = QrCode::new(link.link.as_bytes()).map_err(std::io::Error::other)?;
        let img = code
            .render::<Luma<u8>>()
            .min_dimensions(360, 360)
            .quiet_zone(true)
            .build();
        img.save_with_format(dir.join(&png), image::ImageFormat::Png)
            .map_err(std::io::Error::other)?;
        // Names come from a school's roster: never let a spreadsheet run one as a formula.
        csv.write_record(
            [&link.name, &link.student_no, &link.school, &link.link, &png]
                .map(|cell| gradphoto_domain::text::csv_cell(cell).into_owned()),
        )?;
    }
    csv.flush()
}
