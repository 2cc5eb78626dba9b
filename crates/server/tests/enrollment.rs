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
