//! The progress counts kept by the database's triggers, checked against the cases.

use gradphoto_domain::progress::Stage;
use gradphoto_domain::state::CaseState;

/// The stages the migration's triggers keep must be the stages `Stage::of` defines, and the
/// counts the number of cases at each: both worked out again here from the cases themselves.
#[allow(clippy::unwrap_used, clippy::type_complexity)] // a test helper: a failed unwrap fails the test
pub async fn assert_counts_follow_the_cases(state: &gradphoto_server::AppState) {
    let rows: Vec<(String, String, String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT c.school_id, s.college, s.major, s.level, c.state, c.progress_stage,
            CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = c.id AND k.status = 'active') THEN 1 ELSE 0 END,
            CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = c.id AND a.round = c.round) THEN 1 ELSE 0 END
         FROM cases c JOIN students s ON s.id = c.student_id",
    )
    .fetch_all(state.store.pool())
    .await
    .unwrap();
    let mut expected = std::collections::BTreeMap::new();
    for (school, college, major, level, st, stage, code, photo) in rows {
        let st = CaseState::ALL
            .into_iter()
            .find(|s| s.as_str() == st)
            .unwrap();
        let want = Stage::of(st, code != 0, photo != 0);
        assert_eq!(stage, want.code(), "{st:?} code={code} photo={photo}");
        *expected
            .entry((school, college, major, level, stage))
            .or_insert(0i64) += 1;
    }
    let kept: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
        "SELECT school_id, college, major, level, stage, n FROM progress_counts WHERE n <> 0",
    )
    .fetch_all(state.store.pool())
    .await
    .unwrap();
    let kept: std::collections::BTreeMap<_, _> = kept
        .into_iter()
        .map(|(a, b, c, d, e, n)| ((a, b, c, d, e), n))
        .collect();
    assert_eq!(kept, expected);
}
