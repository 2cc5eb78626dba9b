//! Load-test seeding for the benchmarks, written straight into the tables (the student journey
//! would take hours at this size): thousands of submissions waiting for review (one audit event
//! records the seeding), and an audit history of a million events.

use gradphoto_domain::audit::AuditAction;
use gradphoto_domain::role::Role;
use gradphoto_server::crypto::Crypto;
use gradphoto_server::store::{new_id, now_ms, students, Actor, Backend, Store, StoreError};

/// Rows per INSERT statement (well under both engines' bind-parameter limits).
const SEED_ROWS_PER_STATEMENT: usize = 400;
/// Rows per transaction.
const SEED_ROWS_PER_TX: usize = 20_000;

/// Inserts `count` synthetic students of `school_id`, each with a case already waiting for
/// review, for load tests and benchmarks only: it bypasses the student journey (one audit
/// event records the seeding). Submission times are spread one second apart, ending now.
/// Student numbers are `prefix` + a running number; ID numbers are valid, generated ones.
pub async fn pending(
    store: &Store,
    crypto: &Crypto,
    school_id: &str,
    prefix: &str,
    count: usize,
) -> Result<(), StoreError> {
    pending_from(store, crypto, school_id, prefix, 0, count).await
}

/// [`pending`] numbering its students from `first` on, so that a school seeded twice gets
/// distinct ID numbers.
pub async fn pending_from(
    store: &Store,
    crypto: &Crypto,
    school_id: &str,
    prefix: &str,
    first: usize,
    count: usize,
) -> Result<(), StoreError> {
    let now = now_ms();
    let first_submitted = now - (count as i64) * 1000;
    let mut done = 0usize;
    while done < count {
        let in_tx = (count - done).min(SEED_ROWS_PER_TX);
        let mut tx = store.begin().await?;
        let last_seq: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + $1 WHERE name = 'case_change' RETURNING value",
        )
        .bind(in_tx as i64)
        .fetch_one(tx.conn())
        .await?;
        let first_seq = last_seq - in_tx as i64 + 1;
        let mut offset = 0usize;
        while offset < in_tx {
            let rows = (in_tx - offset).min(SEED_ROWS_PER_STATEMENT);
            let mut students_sql = String::from(
                "INSERT INTO students (id, school_id, name, id_number_enc, id_number_hash,
                    id_number_masked, student_no, college, major, level, graduation_year,
                    created_at, updated_at) VALUES ",
            );
            let mut cases_sql = String::from(
                "INSERT INTO cases (id, student_id, school_id, state, change_seq, round, flagged,
                    face_match_failures, submitted_at, created_at, updated_at) VALUES ",
            );
            for r in 0..rows {
                let s = r * 13;
                if r > 0 {
                    students_sql.push_str(", ");
                    cases_sql.push_str(", ");
                }
                students_sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    s + 1,
                    s + 2,
                    s + 3,
                    s + 4,
                    s + 5,
                    s + 6,
                    s + 7,
                    s + 8,
                    s + 9,
                    s + 10,
                    s + 11,
                    s + 12,
                    s + 13
                ));
                let c = r * 6;
                cases_sql.push_str(&format!(
                    "(${}, ${}, ${}, 'pending_review', ${}, 0, 0, 0, ${}, ${}, ${})",
                    c + 1,
                    c + 2,
                    c + 3,
                    c + 4,
                    c + 5,
                    c + 6,
                    c + 5
                ));
            }
            let mut students_q = sqlx::query(&students_sql);
            let mut cases_q = sqlx::query(&cases_sql);
            for r in 0..rows {
                let n = done + offset + r;
                let i = first + n;
                let number = seed_id_number(i);
                let student_id = new_id();
                let submitted_at = first_submitted + (n as i64) * 1000;
                students_q = students_q
                    .bind(student_id.clone())
                    .bind(school_id.to_string())
                    .bind(format!("考生{i}"))
                    .bind(crypto.encrypt(number.as_bytes())?)
                    .bind(students::id_hash(crypto, &number))
                    .bind(gradphoto_domain::idnumber::mask(&number))
                    .bind(format!("{prefix}{i:07}"))
                    .bind("计算机学院")
                    .bind("软件工程")
                    .bind("本科")
                    .bind(2025i64)
                    .bind(now)
                    .bind(now);
                cases_q = cases_q
                    .bind(new_id())
                    .bind(student_id)
                    .bind(school_id.to_string())
                    .bind(first_seq + (offset + r) as i64)
                    .bind(submitted_at)
                    .bind(now);
            }
            students_q.execute(tx.conn()).await?;
            cases_q.execute(tx.conn()).await?;
            offset += rows;
        }
        done += in_tx;
        if done == count {
            tx.audit(
                &Actor::system(),
                AuditAction::RosterImported,
                school_id,
                serde_json::json!({ "seeded_pending_for_load_test": count }),
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// A valid 18-character ID number for seed row `i`: region 110105, a birth date in 1990–2005
/// and a sequence number, with its MOD 11-2 check character. Unique for i < 5.8 million.
fn seed_id_number(i: usize) -> String {
    let day = (i / 1000) as i64;
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 1, 1)
        .unwrap_or_default()
        .checked_add_signed(chrono::Duration::days(day))
        .unwrap_or_default();
    let body = format!("110105{}{:03}", birth.format("%Y%m%d"), i % 1000);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b.wrapping_sub(b'0')) * w)
        .sum();
    let check = char::from(b"10X98765432"[(sum % 11) as usize]);
    format!("{body}{check}")
}

/// Audit rows per INSERT statement. Fewer than for students: sqlx finds each of a SQLite
/// statement's numbered parameters by walking the list of its names, so binding costs grow with
/// the square of the parameters per statement (400 rows of 10 spent half the seeding there).
const AUDIT_ROWS_PER_STATEMENT: usize = 100;
/// Audit rows per transaction (a million events in ten).
const AUDIT_ROWS_PER_TX: usize = 100_000;
/// The seeded history's span, ending now.
const AUDIT_SPAN_MS: i64 = 180 * 24 * 3600 * 1000;
/// Staff accounts acting in the seeded history: reviewers (each bound to one school), then
/// supervisors and admins (all schools).
const AUDIT_REVIEWERS: usize = 40;
const AUDIT_SUPERVISORS: usize = 6;
const AUDIT_ADMINS: usize = 4;

/// A staff account acting in the seeded history. Only its id appears in the events (no
/// `users` row): the history's actor filter matches the id as text.
#[derive(Debug, Clone)]
pub struct SeededStaff {
    pub id: String,
    pub role: Role,
    /// Index into [`SeededAudit::school_ids`]; `None` for staff of all schools.
    pub school: Option<usize>,
}

/// What [`audit_events`] wrote, so that a benchmark can pick filters that match.
#[derive(Debug, Clone)]
pub struct SeededAudit {
    pub school_ids: Vec<String>,
    /// Student-number prefix per school (see [`SeededAudit::student_no`]).
    pub student_prefixes: Vec<String>,
    pub students_per_school: usize,
    pub staff: Vec<SeededStaff>,
    /// Sequence numbers and times of the first and last seeded events.
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_at_ms: i64,
    pub last_at_ms: i64,
}

impl SeededAudit {
    /// The student number of student `i` of school `school` (as [`pending`] numbers them).
    pub fn student_no(&self, school: usize, i: usize) -> String {
        format!("{}{i:07}", self.student_prefixes[school])
    }
}

/// Who records an action in the seeded history, and what it is about.
#[derive(Debug, Clone, Copy)]
enum Recorded {
    /// The student, about their own case (the actor id is the case id, as in the journey).
    Student,
    /// Staff of this role, about a case of a school they may see.
    Staff(Role),
    /// The system, about a case.
    System,
    /// A staff member about their own account (sign-in, sign-out, password).
    OwnAccount,
    /// An admin, about a staff account.
    Account,
    /// The system, about a username nobody has (a failed sign-in): no school.
    Stranger,
    /// An admin, about a school.
    School,
    /// A supervisor, about the log itself (subject `audit`, no school).
    Log,
}

/// How often each action occurs (weights, about per 100,000 events) and who records it: a
/// season of collection is mostly students uploading and reviewers claiming and deciding;
/// account, school and log events are rare. Exhaustive, so a new action must be given a share.
fn audit_mix(action: AuditAction) -> (u64, Recorded) {
    use AuditAction as A;
    match action {
        A::PhotoUploaded => (17_000, Recorded::Student),
        A::IdCardUploaded => (6_000, Recorded::Student),
        A::CodeIssued => (4_000, Recorded::Staff(Role::Admin)),
        A::CodeReissued => (300, Recorded::Staff(Role::Admin)),
        A::CodeClaimed => (4_000, Recorded::Student),
        A::CodeRefused => (100, Recorded::System),
        A::CodeUnbound => (20, Recorded::Staff(Role::Admin)),
        A::CodesPrinted => (10, Recorded::Staff(Role::Admin)),
        A::IdentityVerified => (4_000, Recorded::Student),
        A::IdentityFailed => (800, Recorded::Student),
        A::ConsentRecorded => (4_000, Recorded::Student),
        A::RecordConfirmed => (4_000, Recorded::Student),
        A::PaymentStarted => (3_000, Recorded::Student),
        A::PaymentCompleted => (2_800, Recorded::Student),
        A::PaymentFailed => (200, Recorded::Student),
        A::Submitted => (5_000, Recorded::Student),
        A::Withdrawn => (300, Recorded::Student),
        A::Claimed => (12_000, Recorded::Staff(Role::Reviewer)),
        A::LeaseRenewed => (2_000, Recorded::Staff(Role::Reviewer)),
        A::LeaseReleased => (1_000, Recorded::Staff(Role::Reviewer)),
        A::LeaseExpired => (500, Recorded::System),
        A::Approved => (9_000, Recorded::Staff(Role::Reviewer)),
        A::Rejected => (2_500, Recorded::Staff(Role::Reviewer)),
        A::Overridden => (200, Recorded::Staff(Role::Supervisor)),
        A::OverrideRequested => (20, Recorded::Staff(Role::Supervisor)),
        A::OverrideDeclined => (5, Recorded::Staff(Role::Supervisor)),
        A::Rereviewed => (400, Recorded::Staff(Role::Supervisor)),
        A::RetakeStarted => (2_000, Recorded::Student),
        A::Exported => (4_000, Recorded::System),
        A::Published => (3_500, Recorded::System),
        A::UserCreated => (20, Recorded::Account),
        A::UserUpdated => (20, Recorded::Account),
        A::UserDisabled => (5, Recorded::Account),
        A::PasswordChanged => (20, Recorded::OwnAccount),
        A::Login => (1_500, Recorded::OwnAccount),
        A::LoginFailed => (100, Recorded::Stranger),
        A::Logout => (800, Recorded::OwnAccount),
        A::IdNumberViewed => (150, Recorded::Staff(Role::Supervisor)),
        A::IdCardViewed => (300, Recorded::Staff(Role::Supervisor)),
        A::PhotoViewed => (1_000, Recorded::Staff(Role::Reviewer)),
        A::RosterImported => (5, Recorded::School),
        A::PolicyChanged => (5, Recorded::School),
        A::SpecChanged => (3, Recorded::School),
        A::ThresholdsChanged => (3, Recorded::School),
        A::DataPurged => (100, Recorded::System),
        A::ChainVerified => (20, Recorded::Log),
        A::AuditExported => (10, Recorded::Log),
    }
}

/// The details of a seeded event: small, shaped like the journey's (state changes carry
/// `from` and `to`, which the history shows).
fn seeded_details(action: AuditAction, r: u64) -> String {
    use AuditAction as A;
    let moved = |from: &str, to: &str| serde_json::json!({ "from": from, "to": to });
    let value = match action {
        A::PhotoUploaded | A::IdCardUploaded => serde_json::json!({
            "bytes": 300_000 + r % 3_000_000,
            "type": "image/jpeg",
            "source": if r & 1 == 0 { "camera" } else { "album" },
        }),
        A::CodeClaimed => moved("invited", "claimed"),
        A::IdentityVerified => moved("claimed", "identity_verified"),
        A::RecordConfirmed => moved("identity_verified", "record_confirmed"),
        A::PaymentCompleted => moved("record_confirmed", "ready"),
        A::Submitted => moved("ready", "pending_review"),
        A::Withdrawn => moved("pending_review", "ready"),
        A::Claimed | A::LeaseRenewed => moved("pending_review", "in_review"),
        A::LeaseReleased | A::LeaseExpired => moved("in_review", "pending_review"),
        A::Approved => moved("in_review", "approved"),
        A::Rejected => serde_json::json!({
            "from": "in_review", "to": "rejected", "reasons": ["background"],
        }),
        A::Overridden => moved("rejected", "approved"),
        A::RetakeStarted => moved("rejected", "ready"),
        A::Exported => moved("approved", "exported"),
        A::Published => moved("exported", "published"),
        A::PaymentStarted | A::PaymentFailed => serde_json::json!({ "amount_cents": 2_000 }),
        A::IdNumberViewed => serde_json::json!({ "reason": "核对学籍" }),
        _ => serde_json::json!({}),
    };
    value.to_string()
}

/// SplitMix64: the seeded history is the same on every run without a random-number crate.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One seeded audit row.
struct AuditRow {
    actor_role: &'static str,
    actor_id: String,
    action: AuditAction,
    subject: String,
    school_id: Option<String>,
}

/// Bulk-inserts `count` audit events for benchmarks of the history: `students_per_school`
/// students with a case each in every school of `school_ids` (through [`pending`]; student
/// `i` of school `k` has number `S{k}-` + seven digits), 50 staff accounts, and events about
/// their cases, accounts, schools and the log, in the mix of [`audit_mix`], one every
/// 180 days / `count` up to now. The last school's events stop half-way (its collection
/// ended). Each event's `school_id` is the one `WriteTx::audit` would derive from its subject.
///
/// The rows are written in multi-row INSERTs with the `audit` counter advanced by the batch,
/// so events appended afterwards continue the numbering. **The hash chain is not valid**
/// (`prev_hash` and `hash` are placeholders): the history's queries never read it, and sealing
/// a million events one by one would take longer than the benchmark; `audit verify` reports
/// the first seeded event as a broken link.
pub async fn audit_events(
    store: &Store,
    crypto: &Crypto,
    school_ids: &[String],
    students_per_school: usize,
    count: usize,
) -> Result<SeededAudit, StoreError> {
    assert!(!school_ids.is_empty(), "audit seeding needs a school");
    let student_prefixes: Vec<String> = (0..school_ids.len()).map(|k| format!("S{k}-")).collect();
    // Cases: (id, school index).
    let mut cases: Vec<(String, usize)> = Vec::new();
    for (k, school_id) in school_ids.iter().enumerate() {
        pending(
            store,
            crypto,
            school_id,
            &student_prefixes[k],
            students_per_school,
        )
        .await?;
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM cases WHERE school_id = $1 ORDER BY id")
                .bind(school_id)
                .fetch_all(store.pool())
                .await?;
        cases.extend(ids.into_iter().map(|id| (id, k)));
    }
    assert!(!cases.is_empty(), "audit seeding needs students");

    let staff: Vec<SeededStaff> = (0..AUDIT_REVIEWERS)
        .map(|i| (Role::Reviewer, Some(i % school_ids.len())))
        .chain((0..AUDIT_SUPERVISORS).map(|_| (Role::Supervisor, None)))
        .chain((0..AUDIT_ADMINS).map(|_| (Role::Admin, None)))
        .map(|(role, school)| SeededStaff {
            id: new_id(),
            role,
            school,
        })
        .collect();
    let by_role = |role: Role, school: Option<usize>| -> Vec<usize> {
        (0..staff.len())
            .filter(|&i| staff[i].role == role && (school.is_none() || staff[i].school == school))
            .collect()
    };
    // Reviewers act on the cases of their own school; supervisors and admins on any.
    let reviewers_of: Vec<Vec<usize>> = (0..school_ids.len())
        .map(|k| by_role(Role::Reviewer, Some(k)))
        .collect();
    let supervisors = by_role(Role::Supervisor, None);
    let admins = by_role(Role::Admin, None);

    // The mix as cumulative weights over every action.
    let mut cumulative = Vec::with_capacity(AuditAction::ALL.len());
    let mut total = 0u64;
    for &action in AuditAction::ALL {
        let (weight, recorded) = audit_mix(action);
        total += weight;
        cumulative.push((total, action, recorded));
    }

    // With more than one school, the last one's collection ends half-way through the history:
    // nothing happens about it, nor do its reviewers act, in the second half (a school's
    // season is a few months; the history keeps it).
    let ended = (school_ids.len() > 1).then_some(school_ids.len() - 1);
    let cases_late = cases.iter().filter(|(_, k)| Some(*k) != ended).count();
    let everyone: Vec<usize> = (0..staff.len()).collect();
    let staff_late: Vec<usize> = (0..staff.len())
        .filter(|&i| ended.is_none() || staff[i].school != ended)
        .collect();

    let pick = |r: u64, of: &[usize]| -> usize { of[(r % of.len() as u64) as usize] };
    let row = |j: usize| -> AuditRow {
        let late = j >= count / 2;
        let r = mix(j as u64);
        let draw = r % total;
        let (_, action, recorded) = cumulative[cumulative.partition_point(|(c, _, _)| *c <= draw)];
        let r2 = mix(r);
        // Cases are in school order, so the active schools' cases come first.
        let active_cases = if late { cases_late } else { cases.len() };
        let (case_id, school) = &cases[(r2 % active_cases as u64) as usize];
        let active_staff = if late { &staff_late } else { &everyone };
        let about_case = |actor_role: &'static str, id: &str| AuditRow {
            actor_role,
            actor_id: id.to_string(),
            action,
            subject: case_id.clone(),
            school_id: Some(school_ids[*school].clone()),
        };
        let r3 = r2 >> 32;
        match recorded {
            Recorded::Student => about_case(Role::Student.as_str(), case_id),
            Recorded::Staff(role) => {
                let of = match role {
                    Role::Reviewer => &reviewers_of[*school],
                    Role::Supervisor => &supervisors,
                    _ => &admins,
                };
                about_case(role.as_str(), &staff[pick(r3, of)].id)
            }
            Recorded::System => about_case("", "system"),
            Recorded::OwnAccount => {
                let who = &staff[pick(r3, active_staff)];
                AuditRow {
                    actor_role: who.role.as_str(),
                    actor_id: who.id.clone(),
                    action,
                    subject: who.id.clone(),
                    school_id: who.school.map(|k| school_ids[k].clone()),
                }
            }
            Recorded::Account => {
                let whom = &staff[pick(r3, active_staff)];
                AuditRow {
                    actor_role: Role::Admin.as_str(),
                    actor_id: staff[pick(r3 >> 8, &admins)].id.clone(),
                    action,
                    subject: whom.id.clone(),
                    school_id: whom.school.map(|k| school_ids[k].clone()),
                }
            }
            Recorded::Stranger => AuditRow {
                actor_role: "",
                actor_id: "system".to_string(),
                action,
                subject: ["admin", "root", "test", "审核员"][(r3 % 4) as usize].to_string(),
                school_id: None,
            },
            Recorded::School => AuditRow {
                actor_role: Role::Admin.as_str(),
                actor_id: staff[pick(r3, &admins)].id.clone(),
                action,
                subject: school_ids[*school].clone(),
                school_id: Some(school_ids[*school].clone()),
            },
            Recorded::Log => AuditRow {
                actor_role: Role::Supervisor.as_str(),
                actor_id: staff[pick(r3, &supervisors)].id.clone(),
                action,
                subject: "audit".to_string(),
                school_id: None,
            },
        }
    };

    // SQLite's page cache (2 MB by default) is far smaller than the log's indexes, and the
    // subject, actor and school indexes take their rows in random order: with the default,
    // every batch rereads and rewrites index pages. The writer connection gets a larger cache
    // for the seeding (a million events in 44 s instead of 62 s) and its own back afterwards.
    let sqlite_cache: Option<i64> = if store.backend() == Backend::Sqlite {
        let mut tx = store.begin().await?;
        let before: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(tx.conn())
            .await?;
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Some(before)
    } else {
        None
    };

    let first_at_ms = now_ms() - AUDIT_SPAN_MS;
    let at_ms = |j: usize| first_at_ms + (j as i64) * AUDIT_SPAN_MS / (count.max(1) as i64);
    let mut first_seq = 0i64;
    let mut last_seq = 0i64;
    let mut done = 0usize;
    while done < count {
        let in_tx = (count - done).min(AUDIT_ROWS_PER_TX);
        let mut tx = store.begin().await?;
        last_seq = sqlx::query_scalar(
            "UPDATE counters SET value = value + $1 WHERE name = 'audit' RETURNING value",
        )
        .bind(in_tx as i64)
        .fetch_one(tx.conn())
        .await?;
        let tx_first_seq = last_seq - in_tx as i64 + 1;
        if done == 0 {
            first_seq = tx_first_seq;
        }
        let mut offset = 0usize;
        while offset < in_tx {
            let rows = (in_tx - offset).min(AUDIT_ROWS_PER_STATEMENT);
            let mut sql = String::from(
                "INSERT INTO audit_events (seq, at_ms, actor_role, actor_id, action, subject,
                    details, prev_hash, hash, school_id) VALUES ",
            );
            for r in 0..rows {
                if r > 0 {
                    sql.push_str(", ");
                }
                let marks: Vec<String> = (1..=10).map(|c| format!("${}", r * 10 + c)).collect();
                sql.push_str(&format!("({})", marks.join(", ")));
            }
            let mut q = sqlx::query(&sql);
            for r in 0..rows {
                let j = done + offset + r;
                let seq = tx_first_seq + (offset + r) as i64;
                let e = row(j);
                q = q
                    .bind(seq)
                    .bind(at_ms(j))
                    .bind(e.actor_role)
                    .bind(e.actor_id)
                    .bind(e.action.code())
                    .bind(e.subject)
                    .bind(seeded_details(e.action, mix(j as u64 ^ 0x5EED)))
                    // Placeholders, not a chain (see above).
                    .bind(format!("{:064x}", seq - 1))
                    .bind(format!("{seq:064x}"))
                    .bind(e.school_id);
            }
            q.execute(tx.conn()).await?;
            offset += rows;
        }
        tx.commit().await?;
        done += in_tx;
    }
    if let Some(before) = sqlite_cache {
        let mut tx = store.begin().await?;
        sqlx::query(&format!("PRAGMA cache_size = {before}"))
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
    }
    Ok(SeededAudit {
        school_ids: school_ids.to_vec(),
        student_prefixes,
        students_per_school,
        staff,
        first_seq,
        last_seq,
        first_at_ms,
        last_at_ms: at_ms(count.saturating_sub(1)),
    })
}

/// Decision rows per INSERT statement (13 parameters each; see `AUDIT_ROWS_PER_STATEMENT`).
const DECISION_ROWS_PER_STATEMENT: usize = 100;
/// Colleges of a seeded season, so the college filter has something to narrow.
pub const SEASON_COLLEGES: [&str; 8] = [
    "计算机学院",
    "外国语学院",
    "经济管理学院",
    "机械工程学院",
    "化学学院",
    "法学院",
    "医学院",
    "艺术学院",
];
/// What the seeded photos' analyses doubted (space-separated measure codes), in turn.
const SEASON_DOUBTS: [&str; 6] = [
    "",
    "",
    "sharpness",
    "exposure sharpness",
    "background_uniformity",
    "",
];

/// The size of a seeded [`season`].
#[derive(Debug, Clone, Copy)]
pub struct SeasonShape {
    pub decided: usize,
    pub waiting: usize,
    pub reviewers: usize,
    pub days: i64,
}

/// What [`season`] wrote.
#[derive(Debug, Clone)]
pub struct SeededSeason {
    pub reviewer_ids: Vec<String>,
    pub first_submitted_ms: i64,
    pub last_decided_ms: i64,
}

/// A school's review season for load tests and benchmarks, written straight into the tables:
/// `decided` students whose cases were decided by `reviewers` reviewers over `days` days
/// ending now (eight in ten approved; most within two days of submission, one in ten after a
/// week), each decision with its school, college, submission and claim times and doubted
/// measures as the review flow records them; then `waiting` more submissions still waiting.
pub async fn season(
    store: &Store,
    crypto: &Crypto,
    school_id: &str,
    prefix: &str,
    shape: SeasonShape,
) -> Result<SeededSeason, StoreError> {
    const DAY: i64 = 24 * 3600 * 1000;
    let SeasonShape {
        decided,
        waiting,
        reviewers,
        days,
    } = shape;
    pending(store, crypto, school_id, &format!("{prefix}d"), decided).await?;
    let now = now_ms();
    let first_submitted = now - days * DAY;
    let mut tx = store.begin().await?;
    let mut reviewer_ids = Vec::with_capacity(reviewers);
    for r in 0..reviewers {
        let id = new_id();
        sqlx::query(
            "INSERT INTO users (id, username, display_name, role, password_hash, school_id, created_at)
             VALUES ($1, $2, $3, $4, 'seeded: never signs in', $5, $6)",
        )
        .bind(id.clone())
        .bind(format!("{prefix}reviewer{r}"))
        .bind(format!("审核员{prefix}{r}"))
        .bind(Role::Reviewer.as_str())
        .bind(school_id.to_string())
        .bind(now)
        .execute(tx.conn())
        .await?;
        reviewer_ids.push(id);
    }
    // The seeded cases are decided; their colleges spread over the season's colleges.
    sqlx::query(
        "UPDATE cases SET state = 'approved', decided_at = submitted_at
         WHERE school_id = $1 AND state = 'pending_review'",
    )
    .bind(school_id.to_string())
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let cases: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.id, s.student_no FROM cases c JOIN students s ON s.id = c.student_id
         WHERE c.school_id = $1 AND c.state = 'approved' ORDER BY s.student_no",
    )
    .bind(school_id.to_string())
    .fetch_all(store.pool())
    .await?;
    let reasons: Vec<&str> = gradphoto_domain::reasons::RejectReason::ALL
        .iter()
        .map(|r| r.code())
        .filter(|c| *c != "other")
        .collect();
    let span = days * DAY - 10 * DAY;
    let mut last_decided = 0;
    for chunk in cases.chunks(SEED_ROWS_PER_TX) {
        let mut tx = store.begin().await?;
        for rows in chunk.chunks(DECISION_ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO decisions (id, client_decision_id, case_id, reviewer_id, kind,
                    reasons_json, round, decided_at, school_id, college, submitted_at,
                    claimed_at, doubted_measures) VALUES ",
            );
            for r in 0..rows.len() {
                let p = r * 12;
                if r > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, 0, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8,
                    p + 9,
                    p + 10,
                    p + 11,
                    p + 12
                ));
            }
            let mut q = sqlx::query(&sql);
            for (case_id, student_no) in rows {
                // A stable number per student: the same season every run.
                let i: usize = student_no
                    .get(student_no.len().saturating_sub(7)..)
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(0);
                let submitted = first_submitted + (i as i64 * span) / decided.max(1) as i64;
                let delay = match i % 10 {
                    3 => 7 * DAY + (i as i64 % 5) * DAY,
                    4..=8 => (i as i64 % 3) * DAY + 3_600_000,
                    _ => 2 * 3_600_000 + (i as i64 % 7) * 600_000,
                };
                let decided_at = submitted + delay;
                last_decided = last_decided.max(decided_at);
                let claimed = decided_at - 1000 * (20 + (i as i64 * 37) % 400);
                let approve = i % 5 != 1;
                let reasons_json = if approve {
                    "[]".to_string()
                } else {
                    format!("[\"{}\"]", reasons[i % reasons.len()])
                };
                q = q
                    .bind(new_id())
                    .bind(new_id())
                    .bind(case_id.clone())
                    .bind(reviewer_ids[i % reviewer_ids.len().max(1)].clone())
                    .bind(if approve { "approve" } else { "reject" })
                    .bind(reasons_json)
                    .bind(decided_at)
                    .bind(school_id.to_string())
                    .bind(SEASON_COLLEGES[i % SEASON_COLLEGES.len()])
                    .bind(submitted)
                    .bind(claimed)
                    .bind(SEASON_DOUBTS[i % SEASON_DOUBTS.len()]);
            }
            q.execute(tx.conn()).await?;
        }
        tx.commit().await?;
    }
    pending_from(
        store,
        crypto,
        school_id,
        &format!("{prefix}w"),
        decided,
        waiting,
    )
    .await?;
    Ok(SeededSeason {
        reviewer_ids,
        first_submitted_ms: first_submitted,
        last_decided_ms: last_decided,
    })
}

/// The share of a collection at each state, by `change_seq % 20` (see [`collection`]).
pub const COLLECTION_STATES: [&str; 20] = [
    "invited",
    "invited",
    "claimed",
    "identity_verified",
    "record_confirmed",
    "ready",
    "ready",
    "pending_review",
    "pending_review",
    "in_review",
    "rejected",
    "approved",
    "approved",
    "approved",
    "approved",
    "approved",
    "approved",
    "exported",
    "exported",
    "published",
];

/// A school's collection in full swing, written straight into the tables: `count` students
/// in the season's colleges, 24 majors and two levels, spread over every state of the
/// journey ([`COLLECTION_STATES`]); half of the invited ones hold a code, half of the paid
/// ones have taken a photo, and the ones in review hold a live lease.
pub async fn collection(
    store: &Store,
    crypto: &Crypto,
    school_id: &str,
    prefix: &str,
    count: usize,
) -> Result<(), StoreError> {
    pending(store, crypto, school_id, prefix, count).await?;
    let now = now_ms();
    let mut tx = store.begin().await?;
    let mut colleges =
        String::from("CASE (SELECT change_seq FROM cases c WHERE c.student_id = students.id) % 8");
    for (i, c) in SEASON_COLLEGES.iter().enumerate() {
        colleges.push_str(&format!(" WHEN {i} THEN '{c}'"));
    }
    colleges.push_str(" END");
    sqlx::query(&format!(
        "UPDATE students SET college = {colleges},
            major = '专业' || ((SELECT change_seq FROM cases c WHERE c.student_id = students.id) % 24),
            level = CASE (SELECT change_seq FROM cases c WHERE c.student_id = students.id) % 5
                WHEN 0 THEN '硕士' ELSE '本科' END
         WHERE school_id = $1"
    ))
    .bind(school_id.to_string())
    .execute(tx.conn())
    .await?;
    let mut states = String::from("CASE change_seq % 20");
    for (i, s) in COLLECTION_STATES.iter().enumerate() {
        states.push_str(&format!(" WHEN {i} THEN '{s}'"));
    }
    states.push_str(" END");
    sqlx::query(&format!(
        "UPDATE cases SET state = {states},
            lease_until = CASE WHEN change_seq % 20 = 9 THEN $2 ELSE NULL END
         WHERE school_id = $1"
    ))
    .bind(school_id.to_string())
    .bind(now + 3_600_000)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO codes (id, case_id, code_hash, code_enc, status, created_at)
         SELECT 'k' || id, id, 'seeded-' || id, $2, 'active', $3 FROM cases
         WHERE school_id = $1 AND change_seq % 20 = 1",
    )
    .bind(school_id.to_string())
    .bind(crypto.encrypt(b"SEEDEDCODE00")?)
    .bind(now)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO attempts (id, case_id, round, status, source, original_key, original_mime,
            original_size, created_at)
         SELECT 'a' || id, id, round, 'checked', 'camera', 'seeded', 'image/jpeg', 1, $2
         FROM cases WHERE school_id = $1 AND change_seq % 20 = 6",
    )
    .bind(school_id.to_string())
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}
