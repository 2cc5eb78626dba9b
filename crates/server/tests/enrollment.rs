//! Enrollment photos given with a roster: stored encrypted at import and shown to the reviewer
//! of the student's submission. Every story runs on SQLite and on a throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use gradphoto_api::review::{ClaimRequest, ImageKind};
use gradphoto_domain::role::Role;
use gradphoto_server::enrollment;
use support::{fixture, flows, Db, TestServer};

stories!(an_enrollment_photo_given_with_the_roster_reaches_the_reviewer);

async fn an_enrollment_photo_given_with_the_roster_reaches_the_reviewer(db: Db) {
    let server = TestServer::start(db).await;
    let state = server.state();
    let folder = tempfile::tempdir().unwrap();
    let photo = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/photos/real/r_plain_wall.jpg"),
    )
    .unwrap();
    std::fs::write(folder.path().join("2021学籍.jpg"), &photo).unwrap();
    let mut records = fixture::records(fixture::SCHOOL, 2);
    records[0].enrollment_photo = Some("2021学籍.jpg".into());

    // A roster naming a file the folder does not have is refused, naming the student.
    let mut missing = records.clone();
    missing[1].enrollment_photo = Some("nobody.jpg".into());
    let problems = enrollment::read(&missing, Some(folder.path()), 20 << 20).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].student_no, records[1].student_no);
    // Without the folder, nothing is read.
    assert_eq!(
        enrollment::read(&records, None, 20 << 20)
            .unwrap_err()
            .len(),
        1
    );

    let photos = enrollment::read(&records, Some(folder.path()), 20 << 20).unwrap();
    assert_eq!(
        enrollment::store(state, &mut records, photos)
            .await
            .unwrap(),
        1
    );
    let key = records[0].enrollment_photo.clone().unwrap();
    assert!(key.starts_with("enrollment/"), "{key}");
    let fx = fixture::import_and_issue(state, fixture::SCHOOL, &records, &fixture::policy(0)).await;

    let anon = server.client();
    flows::to_pending(&anon, &fx.students[0]).await;
    flows::to_pending(&anon, &fx.students[1]).await;
    let reviewer = fixture::staff(state, &server.base_url, "reviewer1", Role::Reviewer).await;
    for s in &fx.students {
        reviewer
            .claim(&ClaimRequest {
                case_id: Some(s.case_id.clone()),
                ..ClaimRequest::default()
            })
            .await
            .unwrap();
    }
    let item = reviewer.review_item(&fx.students[0].case_id).await.unwrap();
    assert!(item.images.iter().any(|i| i.kind == ImageKind::Enrollment));
    let shown = reviewer
        .review_image(&fx.students[0].case_id, ImageKind::Enrollment)
        .await
        .unwrap();
    assert_eq!(shown.bytes.to_vec(), photo, "the photo as given, decrypted");
    // A student the roster gave no photo has none.
    let other = reviewer.review_item(&fx.students[1].case_id).await.unwrap();
    assert!(!other.images.iter().any(|i| i.kind == ImageKind::Enrollment));
    server.stop().await;
}

/// A zip archive at `path` holding `entries` (name, bytes), deflated.
fn write_zip(path: &std::path::Path, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn enrollment_photos_are_read_from_a_zip_archive_given_with_the_roster() {
    let dir = tempfile::tempdir().unwrap();
    let photo = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/photos/real/r_plain_wall.jpg"),
    )
    .unwrap();
    let mut records = fixture::records(fixture::SCHOOL, 3);
    records[0].enrollment_photo = Some("2021学籍.jpg".into());
    records[2].enrollment_photo = Some("b.jpg".into());

    // Whatever folder the archive keeps them in, photos are found by file name.
    let archive = dir.path().join("photos.zip");
    write_zip(
        &archive,
        &[
            ("学籍照片/2021学籍.jpg", &photo),
            ("学籍照片/b.jpg", &photo),
            ("readme.txt", b"not a photo"),
        ],
    );
    let read = enrollment::read(&records, Some(&archive), 20 << 20).unwrap();
    assert_eq!(read[0].as_deref(), Some(photo.as_slice()));
    assert!(read[1].is_none());
    assert_eq!(read[2].as_deref(), Some(photo.as_slice()));

    // A name two entries share, a name the archive lacks, a file that is not a picture and a
    // photo over the size limit are each refused, naming the student.
    let clashing = dir.path().join("clash.zip");
    write_zip(
        &clashing,
        &[("a/2021学籍.jpg", &photo), ("b/2021学籍.jpg", &photo)],
    );
    let problems = enrollment::read(&records, Some(&clashing), 20 << 20).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].message_en.contains("several files"),
        "{problems:?}"
    );
    assert!(
        problems[1].message_en.contains("No such file"),
        "{problems:?}"
    );
    let text = dir.path().join("text.zip");
    write_zip(&text, &[("2021学籍.jpg", b"plain text"), ("b.jpg", &photo)]);
    let problems = enrollment::read(&records, Some(&text), 20 << 20).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].student_no, records[0].student_no);
    let problems = enrollment::read(&records, Some(&archive), 1000).unwrap_err();
    assert_eq!(problems.len(), 2);
    assert!(
        problems[0].message_en.contains("larger than"),
        "{problems:?}"
    );

    // Something that is neither a folder nor an archive is one clear refusal.
    let bogus = dir.path().join("photos.rar");
    std::fs::write(&bogus, b"Rar!").unwrap();
    let problems = enrollment::read(&records, Some(&bogus), 20 << 20).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message_zh.contains(".zip"), "{problems:?}");
}
