//! `gradphoto demo`: a demo school with a roster, staff accounts and cases in several states,
//! created through the same store operations the API uses, so a newcomer can click through
//! every screen. Photos come from `tests/data/photos` when present and are analysed by the
//! analyzer of the running configuration.

use gradphoto_api::error::ErrorCode;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, Utc};
use gradphoto_domain::idnumber::{check_char, IdNumber};
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::reasons::RejectReason;
use gradphoto_domain::role::Role;
use gradphoto_domain::roster::RosterRecord;
use gradphoto_domain::state::CaseState;

use crate::crypto::{hash_password, random_code};
use crate::enrollment;
use crate::http::error::{AppError, AppResult};
use crate::journey;
use crate::journey::review::Decider;
use crate::journey::student::{IdentityForm, Recorded, Upload};
use crate::store::{cases, codes, new_id, review, schools, students, users, Actor};
use crate::AppState;
use gradphoto_api::common::PhotoSource;
use gradphoto_api::review::Verdict;

pub const DEMO_SCHOOL: &str = "演示大学 Demo University";

const NAMES: [&str; 12] = [
    "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周婷", "吴杰", "徐丽", "孙浩",
];

#[derive(Debug, Default)]
pub struct DemoReport {
    pub accounts: Vec<(String, Role, String)>,
    /// (student name, state reached, student session token when one was opened)
    pub cases: Vec<(String, CaseState, Option<String>)>,
    pub notes: Vec<String>,
}

impl DemoReport {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "演示数据已创建 / demo data created: {DEMO_SCHOOL}");
        let _ = writeln!(out, "账号 / accounts:");
        for (user, role, password) in &self.accounts {
            let _ = writeln!(out, "  {user:<12} {role:<10} 密码 password: {password}");
        }
        let _ = writeln!(out, "学生 / students:");
        for (name, state, token) in &self.cases {
            let _ = writeln!(
                out,
                "  {name:<6} {:<18} {}",
                state.as_str(),
                token
                    .as_deref()
                    .map(|t| format!("token: {t}"))
                    .unwrap_or_default()
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "注意 / note: {note}");
        }
        out
    }
}

pub fn demo_policy() -> SchoolPolicy {
    SchoolPolicy {
        fee_cents: 2000,
        retakes_free: true,
        support_phone: "010-6275 0000".into(),
        support_hours: "工作日 9:00–17:00 / weekdays 9:00–17:00".into(),
        privacy_version: "2024-1".into(),
        // The demo shows supervisors' quality work: every decision is sampled for a second
        // look, and an override waits for a second supervisor.
        rereview_percent: 100,
        override_needs_second_supervisor: true,
        ..SchoolPolicy::default()
    }
}

/// A valid resident ID number for demo student `i` (region 110105, born 2002).
pub fn demo_id_number(i: usize) -> AppResult<IdNumber> {
    let birth = NaiveDate::from_ymd_opt(2002, 1, 1)
        .unwrap_or_default()
        .checked_add_signed(Duration::days(i as i64 * 29))
        .unwrap_or_default();
    let first17 = format!("110105{}{:03}", birth.format("%Y%m%d"), 100 + i * 2 + 1);
    let check = check_char(&first17).ok_or_else(|| AppError::internal("demo ID number"))?;
    IdNumber::parse(&format!("{first17}{check}"), Utc::now().date_naive())
        .map_err(|e| AppError::internal(format_args!("demo ID number: {e}")))
}

/// `tests/data/<rel>` under the working directory, else in the source tree this binary was
/// built from.
fn test_data(rel: &str) -> PathBuf {
    let here = Path::new("tests/data").join(rel);
    if here.exists() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data")
            .join(rel)
    }
}

/// The sample portraits that meet the photo rules (a person before a plain wall, taken at phone
/// resolution), so demo submissions get through the real checks to the review queue.
fn demo_photos() -> Vec<PathBuf> {
    ["photos/phone_1080p.jpg", "photos/phone_12mp.jpg"]
        .iter()
        .map(|rel| test_data(rel))
        .filter(|p| p.is_file())
        .collect()
}

/// The synthetic ID card front of the sample portraits' person (fictitious name and number,
/// see tests/data/idcards/README.md), so reviewers see a face comparison in the demo.
fn demo_card_front() -> AppResult<Vec<u8>> {
    match std::fs::read(test_data("idcards/idcard_astronaut.png")) {
        Ok(bytes) => Ok(bytes),
        Err(_) => demo_card(0),
    }
}

/// A plain synthetic card image (PNG) for the demo's ID-card uploads.
fn demo_card(side: u8) -> AppResult<Vec<u8>> {
    let img = image::RgbImage::from_fn(428, 270, |x, y| {
        if side == 0 && (30..130).contains(&x) && (50..200).contains(&y) {
            image::Rgb([200, 200, 205])
        } else if y % 40 == 0 {
            image::Rgb([180, 190, 210])
        } else {
            image::Rgb([235, 238, 245])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| AppError::internal(format_args!("demo card: {e}")))?;
    Ok(out.into_inner())
}

/// Surnames and given names of the students `seed_with_ready` adds beyond `NAMES`.
const EXTRA_SURNAMES: [&str; 10] = ["何", "罗", "高", "林", "郭", "马", "梁", "宋", "郑", "谢"];
const EXTRA_GIVEN: [&str; 20] = [
    "晨", "宇", "欣", "涛", "悦", "凯", "琳", "博", "佳", "航", "然", "睿", "雪", "鹏", "倩", "昊",
    "颖", "峰", "萱", "毅",
];

/// The name of the `n`th student added beyond `NAMES` (distinct for the first 200).
fn extra_name(n: usize) -> String {
    format!(
        "{}{}",
        EXTRA_SURNAMES[n % EXTRA_SURNAMES.len()],
        EXTRA_GIVEN[(n / EXTRA_SURNAMES.len()) % EXTRA_GIVEN.len()]
    )
}

/// Seeds the demo. Refuses when the demo school already exists.
pub async fn seed(state: &AppState) -> AppResult<DemoReport> {
    seed_with_ready(state, 0).await
}

/// Seeds the demo with `extra_ready` more students at `ready` (paid, a photo still to take),
/// so that review can be tried at volume: each takes a photo and submits it like any student.
pub async fn seed_with_ready(state: &AppState, extra_ready: usize) -> AppResult<DemoReport> {
    if schools::find_by_name(&state.store, DEMO_SCHOOL)
        .await?
        .is_some()
    {
        return Err(AppError::from(ErrorCode::DemoExists));
    }
    let mut report = DemoReport::default();
    let admin = Actor::new(Role::Admin, "demo");
    let policy = demo_policy();
    // The demo school charges a fee, paid through the sandbox: it must be configured.
    state.payments.check_fee(DEMO_SCHOOL, policy.fee_cents)?;

    // Roster.
    let mut records = Vec::new();
    let names = NAMES
        .iter()
        .map(|n| n.to_string())
        .chain((0..extra_ready).map(extra_name));
    for (i, name) in names.enumerate() {
        records.push(RosterRecord {
            name,
            id_number: demo_id_number(i)?,
            student_no: format!("2021{:04}", i + 1),
            school: DEMO_SCHOOL.to_string(),
            college: if i % 2 == 0 {
                "计算机学院"
            } else {
                "经济管理学院"
            }
            .to_string(),
            major: if i % 2 == 0 {
                "软件工程"
            } else {
                "会计学"
            }
            .to_string(),
            level: "本科".to_string(),
            graduation_year: 2025,
            enrollment_photo: None,
        });
    }
    // The school's enrollment photos (学籍照片): the sample portrait's person as the school
    // photographed them, for two students in three, so the reviewer's enrollment pane shows
    // one and the others show its absence.
    if let Ok(enrolled) = std::fs::read(test_data("photos/astronaut.png")) {
        let photos = (0..records.len())
            .map(|i| (i % 3 != 2).then(|| enrolled.clone()))
            .collect();
        enrollment::store(state, &mut records, photos).await?;
    }
    let mut tx = state.store.begin().await?;
    students::import_as(&mut tx, &state.crypto, &admin, &records, &policy).await?;
    tx.commit().await?;

    // Staff.
    for (username, role) in [
        ("reviewer", Role::Reviewer),
        ("supervisor", Role::Supervisor),
        ("supervisor2", Role::Supervisor),
        ("admin", Role::Admin),
    ] {
        let password = random_code(12);
        let pw = password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&pw)).await??;
        let mut tx = state.store.begin().await?;
        if users::find_by_username(&state.store, username)
            .await?
            .is_none()
        {
            users::add(&mut tx, &admin, username, username, role, &hash, None).await?;
            tx.commit().await?;
            report.accounts.push((username.to_string(), role, password));
        } else {
            report
                .notes
                .push(format!("account {username} already exists; left unchanged"));
        }
    }
    let reviewer = users::find_by_username(&state.store, "reviewer")
        .await?
        .ok_or_else(|| AppError::internal("demo reviewer"))?;

    let photos = demo_photos();
    if photos.is_empty() {
        report.notes.push(
            "tests/data/photos not found here: cases that need photos stop at `ready`".into(),
        );
    }
    // Target state per student, in roster order.
    let targets = [
        CaseState::Invited,
        CaseState::Invited,
        CaseState::Claimed,
        CaseState::IdentityVerified,
        CaseState::RecordConfirmed,
        CaseState::Ready,
        CaseState::PendingReview,
        CaseState::PendingReview,
        CaseState::Rejected,
        CaseState::Approved,
        CaseState::PendingReview,
        CaseState::Invited,
    ];
    for (i, rec) in records.iter().enumerate() {
        let case = demo_case(state, rec).await?;
        let photo = photos.get(i % photos.len().max(1)).cloned();
        let (reached, token) = advance(
            state,
            rec,
            &case.id,
            targets.get(i).copied().unwrap_or(CaseState::Ready),
            photo.as_deref(),
            &reviewer.id,
            &mut report,
        )
        .await?;
        report.cases.push((rec.name.clone(), reached, token));
    }
    request_override(state, &records, &mut report).await?;
    Ok(report)
}

/// The case of a demo roster row.
async fn demo_case(state: &AppState, rec: &RosterRecord) -> AppResult<cases::CaseRow> {
    let student =
        students::find_by_student_no(&state.store, &school_id(state).await?, &rec.student_no)
            .await?
            .ok_or_else(|| AppError::internal("demo student"))?;
    cases::get_by_student(&state.store, &student.id)
        .await?
        .ok_or_else(|| AppError::internal("demo case"))
}

/// The second supervisor asks to overturn the approved photo, so the first finds a request
/// waiting for their confirmation (the demo school asks for a second pair of eyes).
async fn request_override(
    state: &AppState,
    records: &[RosterRecord],
    report: &mut DemoReport,
) -> AppResult<()> {
    let Some(rec) = report
        .cases
        .iter()
        .position(|(_, reached, _)| *reached == CaseState::Approved)
        .and_then(|i| records.get(i))
    else {
        return Ok(());
    };
    let Some(second) = users::find_by_username(&state.store, "supervisor2").await? else {
        return Ok(());
    };
    let case = demo_case(state, rec).await?;
    let actor = Actor::new(Role::Supervisor, second.id);
    let who = Decider {
        actor: &actor,
        case_id: &case.id,
        decision_id: &new_id(),
        visible_school: None,
    };
    let verdict = Verdict::Reject {
        reasons: vec![RejectReason::Selfie.code().to_string()],
        comment: None,
    };
    journey::review::override_decision(
        state,
        who,
        &verdict,
        "演示：抽检发现是前置摄像头自拍，面部变形 / demo: a front-camera selfie, the face is distorted",
    )
    .await?;
    Ok(())
}

async fn school_id(state: &AppState) -> AppResult<String> {
    Ok(schools::find_by_name(&state.store, DEMO_SCHOOL)
        .await?
        .ok_or_else(|| AppError::internal("demo school"))?
        .id)
}

/// Walks one case forward through the student (and review) steps until `target`.
async fn advance(
    state: &AppState,
    record: &RosterRecord,
    case_id: &str,
    target: CaseState,
    photo: Option<&Path>,
    reviewer_id: &str,
    report: &mut DemoReport,
) -> AppResult<(CaseState, Option<String>)> {
    if target == CaseState::Invited {
        return Ok((CaseState::Invited, None));
    }
    let student = Actor::new(Role::Student, case_id);
    let policy = demo_policy();
    let admin = Actor::new(Role::Admin, "demo");

    let mut tx = state.store.begin().await?;
    let issued = codes::issue(&mut tx, &state.crypto, &admin, case_id, false).await?;
    let claimed = codes::claim(
        &mut tx,
        &state.crypto,
        &issued.code,
        None,
        state.session_ttl_ms(),
    )
    .await?;
    tx.commit().await?;
    let token = claimed.token;
    if target == CaseState::Claimed {
        return Ok((CaseState::Claimed, token));
    }

    journey::student::record_consent(state, &student, case_id, true, &policy.privacy_version)
        .await?;
    let form = IdentityForm {
        name: Some(record.name.clone()),
        id_number: Some(record.id_number.as_str().to_string()),
        id_front: Some(demo_card_front()?),
        id_back: Some(demo_card(1)?),
    };
    journey::student::verify_identity(state, &student, case_id, form).await?;
    if target == CaseState::IdentityVerified {
        return Ok((target, token));
    }

    journey::student::confirm_record(state, &student, case_id).await?;
    let (order, _) = journey::student::start_payment(state, &student, case_id).await?;
    if target == CaseState::RecordConfirmed {
        return Ok((target, token));
    }

    // Pay through the sandbox's signed callback, like a student would.
    let notice = crate::payment::PaymentNotice {
        order_id: order.id.clone(),
        provider_ref: format!("sandbox-{}", order.id),
        amount_cents: order.amount_cents,
        paid: true,
    };
    let (body, signature) = state.payments.sandbox()?.callback_for(&notice)?;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        crate::payment::SANDBOX_SIGNATURE_HEADER,
        signature
            .parse()
            .map_err(|_| AppError::internal("signature header"))?,
    );
    crate::http::student::handle_callback(state, "sandbox", &headers, &body).await?;
    if target == CaseState::Ready {
        return Ok((target, token));
    }

    let Some(photo) = photo else {
        return Ok((CaseState::Ready, token));
    };
    let bytes = std::fs::read(photo)
        .map_err(|e| AppError::internal(format_args!("reading {}: {e}", photo.display())))?;
    let kind = crate::objects::sniff_image(&bytes)?;
    let upload = Upload {
        source: PhotoSource::Camera,
        upload_id: None,
        bytes,
        mime: kind.mime(),
    };
    let attempt_id = match journey::student::record_upload(state, &student, case_id, upload).await?
    {
        Recorded::New(id) | Recorded::Again(id) => id,
    };
    // The server's own worker may have taken the job already: wait for the result either way.
    crate::jobs::drain(state).await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while crate::store::attempts::get(&state.store, &attempt_id)
        .await?
        .is_some_and(|a| a.analyzed_at.is_none())
    {
        if std::time::Instant::now() > deadline {
            return Err(AppError::internal("demo photo analysis did not finish"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        crate::jobs::drain(state).await?;
    }
    // The student's next step is the portal's: submit what the checks allow.
    if let Err(e) = journey::student::submit(state, &student, case_id, &attempt_id).await {
        report.notes.push(format!(
            "photo {} was not accepted for submission ({}): case left at `ready`",
            photo.display(),
            e.code.as_str()
        ));
        return Ok((CaseState::Ready, token));
    }
    if target == CaseState::PendingReview {
        return Ok((target, token));
    }

    // A reviewer claims and decides, as the review API does it.
    let reviewer = Actor::new(Role::Reviewer, reviewer_id);
    review::claim_case(
        &state.store,
        &reviewer,
        case_id,
        None,
        Duration::minutes(15).num_milliseconds(),
        state.config.review_max_held,
    )
    .await?;
    let verdict = if target == CaseState::Rejected {
        Verdict::Reject {
            reasons: [RejectReason::Background, RejectReason::Clothing]
                .iter()
                .map(|r| r.code().to_string())
                .collect(),
            comment: Some("演示：请换一件非蓝色的有领上衣，站在白墙前重拍。".into()),
        }
    } else {
        Verdict::Approve
    };
    let who = Decider {
        actor: &reviewer,
        case_id,
        decision_id: &new_id(),
        visible_school: None,
    };
    journey::review::decide(state, who, &verdict).await?;
    Ok((target, token))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// `--ready` accepts up to 200: each added student has a name of their own, none of them
    /// one of the twelve, so the demo's output (one line per name) stays unambiguous.
    #[test]
    fn added_students_have_distinct_names_unlike_the_twelve() {
        let names: HashSet<String> = (0..200).map(extra_name).collect();
        assert_eq!(names.len(), 200);
        assert!(NAMES.iter().all(|n| !names.contains(*n)));
        assert!(names.iter().all(|n| n.chars().count() == 2));
    }
}
