//! Administrator mode's codes screen: codes issued to every student who has none, one
//! student's code re-issued or freed from a lost browser, and sheets to hand out (A4 PDF of QR
//! codes, or a CSV of links) saved as files for the students a progress filter selects.

use std::path::Path;

use gradphoto_api::admin::CodesIssueRequest;

use crate::account::Signed;
use crate::error::DeskResult;
use crate::progress::query;
use crate::view::{CodesIssuedView, ProgressFilterView, SavedFileView};

/// Codes for every student of `school_id` without one, or, with `student_no`, for that
/// student; `reissue` revokes the student's current code first.
pub async fn issue(
    s: &Signed,
    school_id: &str,
    student_no: &str,
    reissue: bool,
) -> DeskResult<CodesIssuedView> {
    let student_no = Some(student_no.trim().to_string()).filter(|n| !n.is_empty());
    let done = s
        .client
        .issue_codes(
            school_id,
            &CodesIssueRequest {
                student_no,
                reissue,
            },
        )
        .await?;
    Ok(CodesIssuedView {
        issued: done.issued,
        unchanged: done.unchanged,
        link: done.link,
    })
}

/// Frees a student's code from the browser that claimed it; answers whether one held it.
pub async fn unbind(s: &Signed, case_id: &str) -> DeskResult<bool> {
    Ok(s.client.unbind_code(case_id).await?.was_bound)
}

/// What the file holds: `pdf` (sheets) or `csv` (links).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handout {
    Sheets,
    Links,
}

impl Handout {
    /// File name stem and extension.
    fn name(self) -> (&'static str, &'static str) {
        match self {
            Handout::Sheets => ("采集码-codes", "pdf"),
            Handout::Links => ("采集码链接-links", "csv"),
        }
    }
}

/// Saves the codes of the students `filter` selects into a new file in `dir`; it gets its
/// name only once complete.
pub async fn save(
    s: &Signed,
    school_id: &str,
    filter: &ProgressFilterView,
    kind: Handout,
    dir: &Path,
) -> DeskResult<SavedFileView> {
    let q = query(filter);
    let got = match kind {
        Handout::Sheets => s.client.codes_sheet(school_id, &q).await?,
        Handout::Links => s.client.codes_links(school_id, &q).await?,
    };
    let (stem, ext) = kind.name();
    let path = crate::saved::save_new(
        dir,
        stem,
        &crate::saved::filter_label(filter),
        ext,
        &got.bytes,
    )
    .await?;
    Ok(SavedFileView {
        path: path.to_string_lossy().into_owned(),
        rows: got.items.unwrap_or_default(),
    })
}
