//! Enrollment photos (学籍照片) named in a roster: read from the folder or the zip archive given
//! with it, checked as uploads are checked, and stored encrypted before the roster's rows are
//! written, each row then naming its photo's object key. All or nothing: one missing or
//! unreadable photo refuses the import, naming the row.

use std::collections::HashMap;
use std::io::Read;
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

/// Most entries a photo archive may hold (a school's roster is a few thousand students).
const MAX_ARCHIVE_ENTRIES: usize = 100_000;

/// Where the photos are: a folder, or a zip archive indexed by the plain file name of each
/// entry (whatever folder the archive put it in).
enum Source<'a> {
    Dir(&'a Path),
    Zip {
        archive: zip::ZipArchive<std::fs::File>,
        /// File name → entry index; `None` when two entries share the name.
        index: HashMap<String, Option<usize>>,
    },
}

type Failure = (String, String);

impl<'a> Source<'a> {
    fn open(path: &'a Path) -> Result<Source<'a>, Failure> {
        if path.is_dir() {
            return Ok(Source::Dir(path));
        }
        let unreadable = |e: &dyn std::fmt::Display| {
            (
                format!("无法读取照片压缩包（须是照片文件夹或 .zip 文件）：{e}"),
                format!("The photo archive cannot be read (give a folder or a .zip file): {e}"),
            )
        };
        let file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
        let archive = zip::ZipArchive::new(file).map_err(|e| unreadable(&e))?;
        if archive.len() > MAX_ARCHIVE_ENTRIES {
            return Err((
                format!("照片压缩包的文件超过 {MAX_ARCHIVE_ENTRIES} 个。"),
                format!("The photo archive holds more than {MAX_ARCHIVE_ENTRIES} files."),
            ));
        }
        let mut index: HashMap<String, Option<usize>> = HashMap::new();
        for i in 0..archive.len() {
            let Some(base) = archive
                .name_for_index(i)
                .and_then(|name| name.rsplit(['/', '\\']).next())
                .filter(|b| plain_name(b))
            else {
                continue;
            };
            index
                .entry(base.to_string())
                .and_modify(|e| *e = None)
                .or_insert(Some(i));
        }
        Ok(Source::Zip { archive, index })
    }

    /// The bytes of `file`, at most `max_bytes` of them.
    fn read(&mut self, file: &str, max_bytes: u64) -> Result<Vec<u8>, Failure> {
        let too_large = || {
            (
                format!("照片超过 {} MB。", max_bytes / (1024 * 1024)),
                format!("The photo is larger than {} MB.", max_bytes / (1024 * 1024)),
            )
        };
        match self {
            Source::Dir(dir) => {
                let path = dir.join(file);
                match std::fs::metadata(&path) {
                    Ok(m) if m.len() > max_bytes => Err(too_large()),
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
                }
            }
            Source::Zip { archive, index } => {
                let i = match index.get(file) {
                    Some(Some(i)) => *i,
                    Some(None) => {
                        return Err((
                            "照片压缩包中有多个同名文件，无法确定是哪一张。".into(),
                            "The photo archive holds several files of this name.".into(),
                        ))
                    }
                    None => {
                        return Err((
                            "照片压缩包中没有这个文件。".into(),
                            "No such file in the photo archive.".into(),
                        ))
                    }
                };
                let entry = archive.by_index(i).map_err(|e| {
                    (
                        format!("无法读取压缩包中的照片：{e}"),
                        format!("The photo cannot be read from the archive: {e}"),
                    )
                })?;
                // The declared size may lie: read one byte past the limit to know.
                if entry.size() > max_bytes {
                    return Err(too_large());
                }
                let mut bytes = Vec::new();
                entry
                    .take(max_bytes + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| {
                        (
                            format!("无法读取压缩包中的照片：{e}"),
                            format!("The photo cannot be read from the archive: {e}"),
                        )
                    })?;
                if bytes.len() as u64 > max_bytes {
                    return Err(too_large());
                }
                Ok(bytes)
            }
        }
    }
}

/// The photo each record names, read from `photos` (a folder or a zip archive) and checked;
/// `None` for records naming none.
pub fn read(
    records: &[RosterRecord],
    photos: Option<&Path>,
    max_bytes: u64,
) -> Result<Vec<Option<Vec<u8>>>, Vec<PhotoProblem>> {
    let mut source = match photos.map(Source::open).transpose() {
        Ok(s) => s,
        Err((zh, en)) => {
            return Err(vec![PhotoProblem {
                student_no: String::new(),
                file: photos.map(|p| p.display().to_string()).unwrap_or_default(),
                message_zh: zh,
                message_en: en,
            }])
        }
    };
    let mut out = Vec::with_capacity(records.len());
    let mut problems = Vec::new();
    for rec in records {
        let Some(file) = rec.enrollment_photo.as_deref() else {
            out.push(None);
            continue;
        };
        let Some(source) = source.as_mut() else {
            problems.push(PhotoProblem::new(
                rec,
                file,
                "名单写明了学籍照片，请用 --photos 指定照片所在的文件夹或 .zip 压缩包。".into(),
                "The roster names enrollment photos: give their folder or .zip archive with --photos."
                    .into(),
            ));
            out.push(None);
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
            out.push(None);
            continue;
        }
        match source.read(file, max_bytes).and_then(|b| {
            sniff_image(&b)
                .map(|_| b)
                .map_err(|e| (e.message_zh(), e.message_en()))
        }) {
            Ok(b) => out.push(Some(b)),
            Err((zh, en)) => {
                problems.push(PhotoProblem::new(rec, file, zh, en));
                out.push(None);
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
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
