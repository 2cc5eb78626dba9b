//! Files the administrators' endpoints answer with: CSV that Excel opens as UTF-8 (a BOM,
//! every cell quoted and guarded against running as a formula, CRLF rows) and attachments
//! naming how many students they hold.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use gradphoto_domain::text;

use crate::http::error::{AppError, AppResult};

/// A CSV being written: the BOM and the header row first.
pub struct ExcelCsv(csv::Writer<Vec<u8>>);

impl ExcelCsv {
    pub fn new(header: &[&str]) -> AppResult<ExcelCsv> {
        let mut out = ExcelCsv(
            csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::Always)
                .terminator(csv::Terminator::CRLF)
                .from_writer(b"\xEF\xBB\xBF".to_vec()),
        );
        out.row(header)?;
        Ok(out)
    }

    /// One row; names and the like come from rosters, so no cell may run as a formula.
    pub fn row(&mut self, cells: &[&str]) -> AppResult<()> {
        self.0
            .write_record(cells.iter().map(|c| text::csv_cell(c).into_owned()))
            .map_err(AppError::internal)
    }

    pub fn finish(self) -> AppResult<Vec<u8>> {
        self.0
            .into_inner()
            .map_err(|e| AppError::internal(e.error()))
    }
}

/// `body` as a download named `filename`, holding `items` students
/// (`api::admin::ITEMS_HEADER`).
pub fn attachment(content_type: &str, filename: &str, items: usize, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (
                header::HeaderName::from_static(gradphoto_api::admin::ITEMS_HEADER),
                items.to_string(),
            ),
        ],
        body,
    )
        .into_response()
}

pub const CSV: &str = "text/csv; charset=utf-8";
