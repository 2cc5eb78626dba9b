//! Supervisors' statistics on a small world with known figures: decisions made through the
//! real review flow, then moved to known days (a weekend and a school holiday in between),
//! so turnaround in working days, the SLA breaches, the backlog, reviewer medians, reject
//! reasons, hint overrules and the school and college breakdowns are exact. Also: who may
//! read them, and that staff bound to a school see nothing of another. Every story runs on
//! SQLite and on a throwaway PostgreSQL.

// Stories are tests: a failed unwrap is a failed story.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

use chrono::NaiveDate;
use gradphoto_api::error::ErrorCode;
use gradphoto_api::review::{BreachKind, Stats, StatsQuery, Verdict};
use gradphoto_client::{Client, ClientError};
use gradphoto_domain::calendar::{cst_day_start_ms, parse_date};
use gradphoto_domain::measures::CheckReport;
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::role::Role;
use gradphoto_server::AppState;
use support::fixture::{self, Fixture};
use support::{flows, Db, TestServer};

stories!(
    figures_count_working_days_against_each_schools_sla,
    staff_see_only_their_school_and_reviewers_none,
    figures_follow_every_change_to_days_already_read,
);

const OTHER_SCHOOL: &str = "第二示范大学";
const LANGUAGES: &str = "外国语学院";

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An instant in China Standard Time: `day` at `hh:mm:ss`.
fn cst(day: &str, hh: i64, mm: i64, ss: i64) -> i64 {
    cst_day_start_ms(parse_date(day).unwrap()) + ((hh * 60 + mm) * 60 + ss) * 1000
}

fn november() -> StatsQuery {
    StatsQuery {
        from: Some("2026-11-01".into()),
        to: Some("2026-11-30".into()),
        ..StatsQuery::default()
    }
}

async fn api_error(err: ClientError) -> (u16, ErrorCode) {
    match err {
        ClientError::Api { status, body } => (status, body.code),
        other => panic!("{other:?}"),
    }
}

/// The school's policy: review within 2 working days; Wednesday 2026-11-04 is a holiday.
fn strict_policy() -> SchoolPolicy {
    SchoolPolicy {
        review_sla_working_days: 2,
        holidays: vec!["2026-11-04".into()],
        ..fixture::policy(0)
    }
}

/// Moves one decision (and its case's submission) to known instants.
async fn place(state: &AppState, case_id: &str, submitted: i64, claimed: i64, decided: i64) {
    sqlx::query(
        "UPDATE decisions SET submitted_at = $1, claimed_at = $2, decided_at = $3 WHERE case_id = $4",
    )
    .bind(submitted)
    .bind(claimed)
    .bind(decided)
    .bind(case_id)
    .execute(state.store.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE cases SET submitted_at = $1 WHERE id = $2")
        .bind(submitted)
        .bind(case_id)
        .execute(state.store.pool())
        .await
        .unwrap();
}

async fn set_doubted(state: &AppState, case_id: &str, doubted: Option<&str>) {
    sqlx::query("UPDATE decisions SET doubted_measures = $1 WHERE case_id = $2")
        .bind(doubted.map(str::to_string))
        .bind(case_id)
        .execute(state.store.pool())
        .await
        .unwrap();
}

struct World {
    server: TestServer,
    a: Fixture,
    b: Fixture,
    reviewer1: Client,
    reviewer2: Client,
}

/// School A (SLA 2, a holiday): students 0 and 1 of 计算机学院, 2 of 外国语学院 decided,
/// 3 and 4 waiting. School B (default SLA 3): student 0 decided.
async fn world(db: Db) -> World {
    let server = TestServer::start(db).await;
    let state = server.state();
    let base = server.base_url.clone();
    let mut records = fixture::records(fixture::SCHOOL, 5);
    records[2].college = LANGUAGES.into();
    let a = fixture::import_and_issue(state, fixture::SCHOOL, &records, &strict_policy()).await;
    let b = fixture::seed_school(state, OTHER_SCHOOL, 1, &fixture::policy(0)).await;
    let anon = server.client();
    for s in a.students.iter().chain(&b.students) {
        flows::to_pending(&anon, s).await;
    }
    let reviewer1 = fixture::staff(state, &base, "reviewer1", Role::Reviewer).await;
    let reviewer2 = fixture::staff(state, &base, "reviewer2", Role::Reviewer).await;
    let decide = |who: &Client, case_id: String, verdict: Verdict| {
        let who = who.clone();
        async move {
            who.claim_case(&case_id).await.unwrap();
            who.decide(&case_id, &new_id(), verdict).await.unwrap();
        }
    };
    let background = Verdict::Reject {
        reasons: vec!["background".into()],
        comment: None,
    };
    decide(&reviewer1, a.students[0].case_id.clone(), Verdict::Approve).await;
    decide(&reviewer1, a.students[1].case_id.clone(), background).await;
    decide(&reviewer2, a.students[2].case_id.clone(), Verdict::Approve).await;
    decide(&reviewer2, b.students[0].case_id.clone(), Verdict::Approve).await;
    World {
        server,
        a,
        b,
        reviewer1,
        reviewer2,
    }
}

/// What a decision keeps for statistics is what the case, the audit log and the decided
/// photo's analysis said when it was made.
async fn check_recorded_facts(state: &AppState, case_id: &str, college: &str) {
    let (school, coll, submitted, claimed, decided, doubted, report): (
        String,
        String,
        i64,
        i64,
        i64,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT d.school_id, d.college, d.submitted_at, d.claimed_at, d.decided_at,
                d.doubted_measures, a.report_json
         FROM decisions d JOIN attempts a ON a.id = d.attempt_id WHERE d.case_id = $1",
    )
    .bind(case_id)
    .fetch_one(state.store.pool())
    .await
    .unwrap();
    let case = gradphoto_server::store::cases::get(&state.store, case_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(school, case.school_id);
    assert_eq!(coll, college);
    assert_eq!(Some(submitted), case.submitted_at);
    assert!(submitted <= claimed && claimed <= decided);
    let report: CheckReport = serde_json::from_str(&report).unwrap();
    let expected: Vec<&str> = report.doubted().map(|m| m.code()).collect();
    assert_eq!(doubted, expected.join(" "));
}

async fn figures_count_working_days_against_each_schools_sla(db: Db) {
    let w = world(db).await;
    let state = w.server.state();
    let base = w.server.base_url.clone();
    let (a, b) = (&w.a, &w.b);
    check_recorded_facts(state, &a.students[0].case_id, "计算机学院").await;
    check_recorded_facts(state, &a.students[2].case_id, LANGUAGES).await;

    // A0: submitted Friday, decided Monday (1 working day; 120 s under claim).
    place(
        state,
        &a.students[0].case_id,
        cst("2026-11-06", 10, 0, 0),
        cst("2026-11-09", 9, 0, 0),
        cst("2026-11-09", 9, 2, 0),
    )
    .await;
    // A1: Monday to Thursday over the Wednesday holiday: 2 working days, within the SLA
    // (3 without the holiday). 60 s under claim.
    place(
        state,
        &a.students[1].case_id,
        cst("2026-11-02", 10, 0, 0),
        cst("2026-11-05", 9, 59, 0),
        cst("2026-11-05", 10, 0, 0),
    )
    .await;
    // A2: Friday evening to the next Thursday: 4 working days, late. 300 s under claim.
    place(
        state,
        &a.students[2].case_id,
        cst("2026-11-06", 16, 0, 0),
        cst("2026-11-12", 10, 0, 0),
        cst("2026-11-12", 10, 5, 0),
    )
    .await;
    // B0: Friday to Tuesday: 2 working days, within B's 3. 30 s under claim.
    place(
        state,
        &b.students[0].case_id,
        cst("2026-11-06", 11, 0, 0),
        cst("2026-11-10", 15, 0, 0),
        cst("2026-11-10", 15, 0, 30),
    )
    .await;
    // A3 has waited since 2 November (overdue); A4 was submitted just now.
    sqlx::query("UPDATE cases SET submitted_at = $1 WHERE id = $2")
        .bind(cst("2026-11-02", 8, 0, 0))
        .bind(&a.students[3].case_id)
        .execute(state.store.pool())
        .await
        .unwrap();
    // The hints each decided photo showed: A0 doubted sharpness and exposure and was
    // approved; A1 passed everything and was rejected; A2 doubted sharpness, approved.
    set_doubted(state, &a.students[0].case_id, Some("sharpness exposure")).await;
    set_doubted(state, &a.students[1].case_id, Some("")).await;
    set_doubted(state, &a.students[2].case_id, Some("sharpness")).await;
    set_doubted(state, &b.students[0].case_id, Some("")).await;

    let supervisor = fixture::staff(state, &base, "supervisor1", Role::Supervisor).await;
    let all = supervisor.stats(&november()).await.unwrap();
    assert_eq!(
        (all.from.as_str(), all.to.as_str()),
        ("2026-11-01", "2026-11-30")
    );

    // Reviewers: totals, approval rate and the median seconds from claim to decision.
    let r = |name: &str| {
        all.reviewers
            .iter()
            .find(|r| r.reviewer_name == name)
            .unwrap()
    };
    assert_eq!(all.reviewers.len(), 2);
    let r1 = r("reviewer1");
    assert_eq!((r1.decisions, r1.approvals), (2, 1));
    assert!((r1.approval_rate - 0.5).abs() < 1e-9);
    assert_eq!(r1.median_decision_seconds, Some(60));
    let r2 = r("reviewer2");
    assert_eq!((r2.decisions, r2.approvals), (2, 2));
    assert_eq!(r2.median_decision_seconds, Some(30));

    // Turnaround in working days, against each school's SLA.
    let turnaround: Vec<(i64, i64, i64)> = all
        .turnaround
        .iter()
        .map(|t| (t.working_days, t.decisions, t.late))
        .collect();
    assert_eq!(turnaround, vec![(1, 1, 0), (2, 2, 0), (4, 1, 1)]);
    assert_eq!((all.decided_within_sla, all.decided_late), (3, 1));
    assert_eq!(all.pending_overdue, 1);

    // Breaches: the long-waiting item first, then the late decision; students masked.
    assert_eq!(all.breaches_total, 2);
    let kinds: Vec<(BreachKind, &str)> = all
        .breaches
        .iter()
        .map(|b| (b.kind, b.case_id.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (BreachKind::PendingOverdue, a.students[3].case_id.as_str()),
            (BreachKind::DecidedLate, a.students[2].case_id.as_str()),
        ]
    );
    let late = &all.breaches[1];
    assert_eq!((late.working_days, late.sla_working_days), (4, 2));
    assert_eq!(late.college, LANGUAGES);
    assert_eq!(late.school_name, fixture::SCHOOL);
    assert_eq!(late.student_name_masked, "张*");
    assert_eq!(late.student_no_masked, "20*****03");
    assert_eq!(late.decided_at_ms, Some(cst("2026-11-12", 10, 5, 0)));
    assert!(all.breaches[0].working_days > 11);
    assert_eq!(all.breaches[0].decided_at_ms, None);

    // Backlog: one item submitted now, one waiting for weeks.
    let backlog: Vec<(i64, i64, i64)> = all
        .backlog
        .iter()
        .map(|b| (b.min_working_days, b.count, b.overdue))
        .collect();
    assert_eq!(backlog[0], (0, 1, 0));
    assert_eq!(*backlog.last().unwrap(), (11, 1, 1));
    assert_eq!(all.backlog.iter().map(|b| b.count).sum::<i64>(), 2);

    // Reject reasons and hints.
    let reason = |s: &Stats, code: &str| {
        s.reject_reasons
            .iter()
            .find(|r| r.code == code)
            .unwrap()
            .count
    };
    assert_eq!(reason(&all, "background"), 1);
    assert_eq!(all.reject_reasons[0].code, "background");
    let h = &all.hints;
    assert_eq!(
        (h.decisions, h.rejections, h.rejected_all_passed),
        (4, 1, 1)
    );
    let m: Vec<(&str, i64, i64)> = h
        .measures
        .iter()
        .map(|m| (m.code.as_str(), m.doubted, m.approved))
        .collect();
    assert_eq!(m, vec![("sharpness", 2, 2), ("exposure", 1, 1)]);

    // Per school and per college.
    let school = |id: &str| all.schools.iter().find(|s| s.key == id).unwrap();
    let sa = school(&a.school_id);
    assert_eq!(
        (
            sa.decisions,
            sa.approvals,
            sa.decided_late,
            sa.pending_overdue
        ),
        (3, 2, 1, 1)
    );
    assert_eq!(sa.name, fixture::SCHOOL);
    assert!((sa.mean_turnaround_working_days.unwrap() - 7.0 / 3.0).abs() < 1e-9);
    let sb = school(&b.school_id);
    assert_eq!((sb.decisions, sb.approvals, sb.decided_late), (1, 1, 0));
    assert_eq!(sb.mean_turnaround_working_days, Some(2.0));
    let colleges: Vec<(&str, &str, i64, i64)> = all
        .colleges
        .iter()
        .map(|c| {
            (
                c.school_id.as_str(),
                c.key.as_str(),
                c.decisions,
                c.decided_late,
            )
        })
        .collect();
    assert!(colleges.contains(&(a.school_id.as_str(), "计算机学院", 2, 0)));
    assert!(colleges.contains(&(a.school_id.as_str(), LANGUAGES, 1, 1)));
    assert!(colleges.contains(&(b.school_id.as_str(), "计算机学院", 1, 0)));
    assert_eq!(colleges.len(), 3);

    // Decisions per reviewer and day.
    let days: Vec<(&str, &str, i64, i64)> = all
        .per_reviewer_day
        .iter()
        .map(|d| {
            (
                d.reviewer_name.as_str(),
                d.day.as_str(),
                d.approved,
                d.rejected,
            )
        })
        .collect();
    assert!(days.contains(&("reviewer1", "2026-11-05", 0, 1)));
    assert!(days.contains(&("reviewer1", "2026-11-09", 1, 0)));
    assert_eq!(days.len(), 4);

    // Filters: one college; a range that ends before the late decision.
    let languages = supervisor
        .stats(&StatsQuery {
            college: Some(LANGUAGES.into()),
            ..november()
        })
        .await
        .unwrap();
    assert_eq!(languages.reviewers.len(), 1);
    assert_eq!(languages.reviewers[0].reviewer_name, "reviewer2");
    assert_eq!(languages.decided_late, 1);
    assert_eq!(languages.backlog.iter().map(|b| b.count).sum::<i64>(), 0);
    let early = supervisor
        .stats(&StatsQuery {
            to: Some("2026-11-09".into()),
            ..november()
        })
        .await
        .unwrap();
    assert_eq!((early.decided_within_sla, early.decided_late), (2, 0));
    assert_eq!(early.breaches_total, 1, "the overdue item is the queue now");

    // Decisions recorded before their hints were kept are read from the photo's analysis.
    set_doubted(state, &b.students[0].case_id, None).await;
    let fallback = supervisor.stats(&november()).await.unwrap();
    assert_eq!(fallback.hints.decisions, 4);

    // Without the holiday, A1's three working days are late too.
    let mut relaxed = strict_policy();
    relaxed.holidays.clear();
    gradphoto_server::journey::admin::change_policy(
        state,
        &gradphoto_domain::audit::Actor::system(),
        &a.school_id,
        &relaxed,
        None,
    )
    .await
    .unwrap();
    let no_holiday = supervisor.stats(&november()).await.unwrap();
    assert_eq!(no_holiday.decided_late, 2);

    // A range the server refuses.
    for (from, to) in [
        ("2026-11-30", "2026-11-01"),
        ("2026-11-1", "2026-11-30"),
        ("2025-01-01", "2026-11-30"),
    ] {
        let err = supervisor
            .stats(&StatsQuery {
                from: Some(from.into()),
                to: Some(to.into()),
                ..StatsQuery::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            api_error(err).await,
            (400, ErrorCode::BadDateRange),
            "{from}..{to}"
        );
    }
    // The default range is the 30 days ending today (China Standard Time).
    let default = supervisor.stats(&StatsQuery::default()).await.unwrap();
    let (from, to) = (
        NaiveDate::parse_from_str(&default.from, "%Y-%m-%d").unwrap(),
        NaiveDate::parse_from_str(&default.to, "%Y-%m-%d").unwrap(),
    );
    assert_eq!((to - from).num_days(), 29);
    w.server.stop().await;
}

async fn staff_see_only_their_school_and_reviewers_none(db: Db) {
    let w = world(db).await;
    let state = w.server.state();
    let base = w.server.base_url.clone();
    let (a, b) = (&w.a, &w.b);
    for case in [&a.students[0].case_id, &b.students[0].case_id] {
        place(
            state,
            case,
            cst("2026-11-02", 10, 0, 0),
            cst("2026-11-03", 10, 0, 0),
            cst("2026-11-03", 10, 1, 0),
        )
        .await;
    }
    let bound = fixture::staff_of(
        state,
        &base,
        "supervisor_b",
        Role::Supervisor,
        Some(&b.school_id),
    )
    .await;
    let own = bound.stats(&november()).await.unwrap();
    assert_eq!(own.schools.len(), 1);
    assert_eq!(own.schools[0].key, b.school_id);
    assert_eq!(own.reviewers.len(), 1);
    assert_eq!(own.reviewers[0].decisions, 1);
    assert_eq!(own.backlog.iter().map(|b| b.count).sum::<i64>(), 0);
    assert!(own.breaches.iter().all(|x| x.school_id == b.school_id));
    assert!(own.colleges.iter().all(|c| c.school_id == b.school_id));
    let total: i64 = own.counts.iter().map(|c| c.count).sum();
    assert_eq!(total, 1, "only school B's one case is counted");
    // Naming their own school is the same; naming another is refused.
    let named = bound
        .stats(&StatsQuery {
            school: Some(b.school_id.clone()),
            ..november()
        })
        .await
        .unwrap();
    assert_eq!(named.reviewers, own.reviewers);
    let err = bound
        .stats(&StatsQuery {
            school: Some(a.school_id.clone()),
            ..november()
        })
        .await
        .unwrap_err();
    assert_eq!(api_error(err).await.0, 403);

    // A supervisor of every school may narrow to one.
    let all = fixture::staff(state, &base, "supervisor_all", Role::Supervisor).await;
    let only_a = all
        .stats(&StatsQuery {
            school: Some(a.school_id.clone()),
            ..november()
        })
        .await
        .unwrap();
    assert_eq!(only_a.schools.len(), 1);
    assert_eq!(only_a.schools[0].key, a.school_id);
    assert_eq!(only_a.backlog.iter().map(|b| b.count).sum::<i64>(), 2);

    // Reviewers get no statistics at all.
    for reviewer in [&w.reviewer1, &w.reviewer2] {
        let err = reviewer.stats(&november()).await.unwrap_err();
        assert_eq!(api_error(err).await, (403, ErrorCode::Forbidden));
    }
    w.server.stop().await;
}

fn decided(stats: &Stats) -> i64 {
    stats.reviewers.iter().map(|r| r.decisions).sum()
}

/// The server keeps each day's grouped decisions between requests: a decision written on a
/// day already read, or moved from one day to another by any code, shows in the next figures.
async fn figures_follow_every_change_to_days_already_read(db: Db) {
    let w = world(db).await;
    let state = w.server.state();
    let base = w.server.base_url.clone();
    let supervisor = fixture::staff(state, &base, "supervisor1", Role::Supervisor).await;
    let day = gradphoto_domain::calendar::cst_date(chrono::Utc::now().timestamp_millis())
        .format("%Y-%m-%d")
        .to_string();
    let today = StatsQuery {
        from: Some(day.clone()),
        to: Some(day),
        ..StatsQuery::default()
    };

    // The world's four decisions were made today; November has none yet.
    assert_eq!(decided(&supervisor.stats(&today).await.unwrap()), 4);
    assert_eq!(decided(&supervisor.stats(&november()).await.unwrap()), 0);

    // Moved to November: gone from today, found in November, on both days already read.
    place(
        state,
        &w.a.students[0].case_id,
        cst("2026-11-06", 10, 0, 0),
        cst("2026-11-09", 9, 0, 0),
        cst("2026-11-09", 9, 2, 0),
    )
    .await;
    assert_eq!(decided(&supervisor.stats(&today).await.unwrap()), 3);
    let nov = supervisor.stats(&november()).await.unwrap();
    assert_eq!(decided(&nov), 1);
    assert_eq!(nov.turnaround.iter().map(|t| t.decisions).sum::<i64>(), 1);
    assert_eq!(nov.reviewers[0].median_decision_seconds, Some(120));

    // A decision made through the review flow today joins today's figures.
    w.reviewer2
        .claim_case(&w.a.students[3].case_id)
        .await
        .unwrap();
    w.reviewer2
        .decide(&w.a.students[3].case_id, &new_id(), Verdict::Approve)
        .await
        .unwrap();
    let now = supervisor.stats(&today).await.unwrap();
    assert_eq!(decided(&now), 4);
    let r2 = now
        .reviewers
        .iter()
        .find(|r| r.reviewer_name.contains("reviewer2"))
        .unwrap();
    assert_eq!(r2.decisions, 3);

    // A change to what a decision says (its reasons) shows too.
    sqlx::query("UPDATE decisions SET reasons_json = $1 WHERE case_id = $2")
        .bind(r#"["expression_mouth"]"#)
        .bind(&w.a.students[1].case_id)
        .execute(state.store.pool())
        .await
        .unwrap();
    let reasons = supervisor.stats(&today).await.unwrap().reject_reasons;
    let count = |code: &str| reasons.iter().find(|r| r.code == code).unwrap().count;
    assert_eq!((count("expression_mouth"), count("background")), (1, 0));
    w.server.stop().await;
}
