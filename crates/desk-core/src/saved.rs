//! Files the administrator saves (lists, sheets of codes): named for what they hold and when,
//! never over another file, and under their name only once complete.

use std::path::{Path, PathBuf};

use chrono::Local;
use tokio::io::AsyncWriteExt;

use crate::error::DeskResult;
use crate::view::ProgressFilterView;

/// What a progress filter selects, for a file name: `code_not_opened_计算机学院`, or `all`.
pub fn filter_label(filter: &ProgressFilterView) -> String {
    let what: String = [
        &filter.stage,
        &filter.college,
        &filter.major,
        &filter.level,
        &filter.student_no,
    ]
    .into_iter()
    .filter(|v| !v.is_empty())
    .cloned()
    .collect::<Vec<_>>()
    .join("_")
    .chars()
    .map(|c| {
        if c.is_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        }
    })
    .collect();
    if what.is_empty() {
        "all".into()
    } else {
        what
    }
}

/// A name in `dir` not taken yet: `<stem>-<what>-<time>.<ext>`, numbered if needed.
fn free_path(dir: &Path, stem: &str, what: &str, ext: &str) -> PathBuf {
    let stamp = Local::now().format("%Y%m%d-%H%M%S");
    let mut path = dir.join(format!("{stem}-{what}-{stamp}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{what}-{stamp}-{n}.{ext}"));
        n += 1;
    }
    path
}

/// Writes `bytes` to a new file in `dir` named as [`free_path`] says: beside its name first,
/// renamed when complete, so a failed save leaves no partial file under it.
pub async fn save_new(
    dir: &Path,
    stem: &str,
    what: &str,
    ext: &str,
    bytes: &[u8],
) -> DeskResult<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let path = free_path(dir, stem, what, ext);
    let partial = path.with_extension("part");
    let mut file = tokio::fs::File::create(&partial).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&partial, &path).await?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_filter_in_file_safe_characters() {
        let f = ProgressFilterView {
            stage: "paid".into(),
            college: "计算机/学院".into(),
            ..ProgressFilterView::default()
        };
        assert_eq!(filter_label(&f), "paid_计算机-学院");
        assert_eq!(filter_label(&ProgressFilterView::default()), "all");
    }

    #[tokio::test]
    async fn a_second_save_in_the_same_second_gets_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let a = save_new(dir.path(), "进度-progress", "all", "csv", b"a")
            .await
            .unwrap();
        let b = save_new(dir.path(), "进度-progress", "all", "csv", b"b")
            .await
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), b"a");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
