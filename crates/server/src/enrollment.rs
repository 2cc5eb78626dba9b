//! Enrollment photos (学籍照片) named in a roster: read from the folder given with it, checked
//! as uploads are checked, and stored encrypted before the roster's rows are written, each
//! row then naming its photo's object key. All or nothing: one missing or unreadable photo
//! refuses the import, naming the row.

use std::path::Path;

use gradphoto_domain::roster::RosterRecord;
use gradphoto_domain::Localized;

use crate::http::error::AppResult;
use crate::objects::{sniff_image, ObjectKind};
use crate::AppState;

/// Why one row's photo cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoProblem {
    pub student_no: String,
    pub file: String,
    pub message_zh: String,
    pub message_en: String,
}

impl PhotoProblem {
    fn new(rec: &RosterRecord, file: &str, zh: String, en: String) -> PhotoProblem {
        PhotoProblem {
            student_no: rec.student_no.clone(),
            file: file.to_string(),
            message_zh: zh,
            message_en: en,
        }
    }
}

/// A plain file name: no folders, nothing hidden, so a roster can only name files in the
/// folder given with it.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', ':'])
        && !name.starts_with('.')
}

/// The photo each record names, read from `dir` and checked; `None` for records naming none.
pub fn read(
    records: &[RosterRecord],
    dir: Option<&Path>,
    max_bytes: u64,
) -> Result<Vec<Option<Vec<u8>>>, Vec<PhotoProblem>> {
    let mut photos = Vec::with_capacity(records.len());
    let mut problems = Vec::new();
    for rec in records {
        let Some(file) = rec.enrollment_photo.as_deref() else {
            photos.push(None);
            continue;
        };
        let Some(dir) = dir else {
            problems.push(PhotoProblem::new(
                rec,
                file,
                "名单写明了学籍照片，请用 --photos 指定照片所在的文件夹。".into(),
                "The roster names enrollment photos: give their folder with --photos.".into(),
            ));
            photos.push(None);
            continue;
        };
        if !plain_name(file) {
            problems.push(PhotoProblem::new(
                rec,
                file,
                "学籍照片须是照片文件夹中的文件名，不能含路径。".into(),
                "An enrollment photo must be a file name in the photo folder, without a path."
                    .into(),
            ));
            photos.push(None);
            continue;
        }
        let path = dir.join(file);
        let bytes = match std::fs::metadata(&path) {
            Ok(m) if m.len() > max_bytes => Err((
                format!("照片超过 {} MB。", max_bytes / (1024 * 1024)),
                format!("The photo is larger than {} MB.", max_bytes / (1024 * 1024)),
            )),
            Ok(_) => std::fs::read(&path).map_err(|e| {
                (
                    format!("无法读取照片：{e}"),
                    format!("The photo cannot be read: {e}"),
                )
            }),
            Err(_) => Err((
                "照片文件夹中没有这个文件。".into(),
                "No such file in the photo folder.".into(),
            )),
        };
        match bytes.and_then(|b| {
            sniff_image(&b)
                .map(|_| b)
                .map_err(|e| (e.message_zh(), e.message_en()))
        }) {
            Ok(b) => photos.push(Some(b)),
            Err((zh, en)) => {
                problems.push(PhotoProblem::new(rec, file, zh, en));
                photos.push(None);
            }
        }
    }
    if problems.is_empty() {
        Ok(photos)
    } else {
        Err(problems)
    }
}

/// Stores each photo encrypted and points its record at the object. Objects are named by a
/// keyed hash of their content, so importing the same roster again writes nothing new.
pub async fn store(
    state: &AppState,
    records: &mut [RosterRecord],
    photos: Vec<Option<Vec<u8>>>,
) -> AppResult<usize> {
    let mut stored = 0;
    for (rec, photo) in records.iter_mut().zip(photos) {
        if let Some(bytes) = photo {
            let key = state
                .objects
                .put_sensitive(ObjectKind::Enrollment, &bytes)
                .await?;
            rec.enrollment_photo = Some(key);
            stored += 1;
        }
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_are_read() {
        for ok in ["2021001.jpg", "张三.png", "a b.JPG"] {
            assert!(plain_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../etc/passwd",
            "a/b.jpg",
            "c:\\x.jpg",
            ".hidden.jpg",
        ] {
            assert!(!plain_name(bad), "{bad}");
        }
    }
}
