//! Reading multipart uploads within limits: text fields, images sniffed by content, and
//! the errors for malformed or oversized parts.

use axum::extract::multipart::Field;
use axum::http::StatusCode;
use gradphoto_api::common::UploadFormat;
use gradphoto_domain::text::Limit;

use crate::http::error::{AppError, AppResult, ErrorCode};
use crate::objects::sniff_image;

/// Reads one multipart field, counting bytes as they arrive and stopping at `limit`.
pub async fn read_field_limited(
    field: &mut Field<'_>,
    limit: u64,
    field_name: &str,
) -> AppResult<Vec<u8>> {
    let mut buf = Vec::new();
    loop {
        let chunk = field.chunk().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                upload_too_large(limit)
            } else {
                AppError::from(ErrorCode::UploadInterrupted).with_field(field_name)
            }
        })?;
        let Some(chunk) = chunk else {
            return Ok(buf);
        };
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(upload_too_large(limit).with_field(field_name));
        }
        buf.extend_from_slice(&chunk);
    }
}

pub(crate) fn upload_too_large(limit: u64) -> AppError {
    let max = size_text(limit);
    AppError::new(
        ErrorCode::UploadTooLarge,
        format!("文件太大，每个文件不能超过 {max}。"),
        format!("The file is too large; each file may be at most {max}."),
    )
}

/// A size in units of 1024, rounded down so a limit never reads larger than it is: "20 MB",
/// "1.5 MB", "400 KB" (the portal writes the advertised limit the same way).
pub(crate) fn size_text(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        let tenths = (bytes % MB) * 10 / MB;
        match tenths {
            0 => format!("{} MB", bytes / MB),
            t => format!("{}.{t} MB", bytes / MB),
        }
    } else if bytes >= KB {
        format!("{} KB", bytes / KB)
    } else {
        format!("{bytes} B")
    }
}

/// A text part within its `domain::text` limit: too long is a field error naming the field and
/// its limit in characters (never a file-size message).
pub(crate) async fn read_text(field: &mut Field<'_>, limit: Limit) -> AppResult<String> {
    let too_long = || AppError::localized(&limit.exceeded()).with_field(limit.field);
    // UTF-8 takes at most four bytes a character: more bytes than that are too many characters.
    let max_bytes = (limit.max_chars as u64).saturating_mul(4);
    let bytes = read_field_limited(field, max_bytes, limit.field)
        .await
        .map_err(|e| {
            if e.code == ErrorCode::UploadTooLarge {
                too_long()
            } else {
                e
            }
        })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| AppError::from(ErrorCode::BadText).with_field(limit.field))?;
    limit
        .check(&text)
        .map_err(|e| AppError::localized(&e).with_field(limit.field))?;
    Ok(text)
}

/// An image part: read within the limit, then its type sniffed from the content.
pub(crate) async fn read_image(
    field: &mut Field<'_>,
    limit: u64,
    name: &str,
) -> AppResult<(Vec<u8>, UploadFormat)> {
    let bytes = read_field_limited(field, limit, name).await?;
    let kind = sniff_image(&bytes).map_err(|e| e.with_field(name))?;
    Ok((bytes, kind))
}

pub(crate) fn malformed_multipart(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::from(ErrorCode::UploadTooLarge);
    }
    AppError::from(ErrorCode::BadMultipart)
}
