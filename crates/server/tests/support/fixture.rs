//! Data every story starts from: one school with a roster, personal codes and staff accounts.
//! Set up through the server's own store functions (the same ones the admin CLI uses).

use chrono::Utc;
use gradphoto_client::Client;
use gradphoto_domain::idnumber::IdNumber;
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::role::Role;
use gradphoto_domain::roster::RosterRecord;
use gradphoto_server::crypto::hash_password;
use gradphoto_server::store::{cases, codes, schools, students, users, Actor};
use gradphoto_server::AppState;

use super::photos::id_number;

pub const SCHOOL: &str = "示范大学";

#[derive(Debug, Clone)]
pub struct StudentFixture {
    pub name: String,
    pub id_number: String,
    pub student_no: String,
    pub case_id: String,
    pub code: String,
}

#[derive(Debug, Clone)]
pub struct Fixture {
    pub school_id: String,
    pub students: Vec<StudentFixture>,
}

pub fn policy(fee_cents: i64) -> SchoolPolicy {
    SchoolPolicy {
        fee_cents,
        support_phone: "010-62750000".into(),
        support_hours: "工作日 8:30–17:00".into(),
        ..SchoolPolicy::default()
    }
}

const NAMES: [&str; 8] = [
    "王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强",
];

/// Imports `n` students into [`SCHOOL`] and issues each a personal code.
pub async fn seed(state: &AppState, n: usize, policy: &SchoolPolicy) -> Fixture {
    seed_school(state, SCHOOL, n, policy).await
}

/// Imports `n` students into the school named `school` and issues each a personal code. The
/// same `n` gives the same names and ID numbers in every school (one person on two rosters).
pub async fn seed_school(
    state: &AppState,
    school: &str,
    n: usize,
    policy: &SchoolPolicy,
) -> Fixture {
    import_and_issue(state, school, &records(school, n), policy).await
}

/// `n` roster rows of the school named `school` (names, ID numbers and student numbers as
/// [`seed_school`] gives them).
pub fn records(school: &str, n: usize) -> Vec<RosterRecord> {
    let today = Utc::now().date_naive();
    let mut records = Vec::new();
    for i in 0..n {
        let number = id_number(
            &format!("2001{:02}{:02}", 1 + (i / 28) % 12, 1 + i % 28),
            i as u32,
        );
        records.push(RosterRecord {
            name: match i / NAMES.len() {
                0 => NAMES[i].to_string(),
                n => format!("{}{n}", NAMES[i % NAMES.len()]),
            },
            id_number: IdNumber::parse(&number, today).expect("valid test ID number"),
            student_no: format!("2021{:05}", i + 1),
            school: school.to_string(),
            college: "计算机学院".into(),
            major: "软件工程".into(),
            level: "本科".into(),
            graduation_year: 2025,
            enrollment_photo: None,
        });
    }
    records
}

/// Imports `records` (all of the school named `school`) and issues each student a code.
pub async fn import_and_issue(
    state: &AppState,
    school: &str,
    records: &[RosterRecord],
    policy: &SchoolPolicy,
) -> Fixture {
    let admin = Actor::new(Role::Admin, "fixture");
    let mut tx = state.store.begin().await.expect("begin");
    students::import(&mut tx, &state.crypto, records, policy)
        .await
        .expect("import roster");
    tx.commit().await.expect("commit roster");
    let school = schools::find_by_name(&state.store, school)
        .await
        .expect("school")
        .expect("school exists");
    let mut out = Vec::new();
    for rec in records {
        let student = students::find_by_student_no(&state.store, &school.id, &rec.student_no)
            .await
            .expect("find student")
            .expect("student exists");
        let case = cases::get_by_student(&state.store, &student.id)
            .await
            .expect("case")
            .expect("case exists");
        let mut tx = state.store.begin().await.expect("begin");
        let issued = codes::issue(&mut tx, &state.crypto, &admin, &case.id, false)
            .await
            .expect("issue code");
        tx.commit().await.expect("commit code");
        out.push(StudentFixture {
            name: rec.name.clone(),
            id_number: rec.id_number.as_str().to_string(),
            student_no: rec.student_no.clone(),
            case_id: case.id,
            code: issued.code,
        });
    }
    Fixture {
        school_id: school.id,
        students: out,
    }
}

/// Creates a staff account and returns a client signed in as it.
pub async fn staff(state: &AppState, base_url: &str, username: &str, role: Role) -> Client {
    staff_of(state, base_url, username, role, None).await
}

/// A staff account bound to `school_id` (all schools when `None`), signed in.
pub async fn staff_of(
    state: &AppState,
    base_url: &str,
    username: &str,
    role: Role,
    school_id: Option<&str>,
) -> Client {
    let password = format!("{username}-Passw0rd!");
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .expect("join")
        .expect("hash");
    let mut tx = state.store.begin().await.expect("begin");
    users::add(
        &mut tx,
        &Actor::new(Role::Admin, "fixture"),
        username,
        username,
        role,
        &hash,
        school_id,
    )
    .await
    .expect("add user");
    tx.commit().await.expect("commit user");
    let mut client = Client::new(base_url).expect("client");
    client.login(username, &password).await.expect("login");
    client
}
