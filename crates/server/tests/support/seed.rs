//! Load-test seeding for the review benchmark: thousands of submissions waiting for review,
//! written straight into the tables (the student journey would take hours at this size). One
//! audit event records the seeding.

use gradphoto_domain::audit::AuditAction;
use gradphoto_server::crypto::Crypto;
use gradphoto_server::store::{new_id, now_ms, students, Actor, Store, StoreError};

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
                let i = done + offset + r;
                let number = seed_id_number(i);
                let student_id = new_id();
                let submitted_at = first_submitted + (i as i64) * 1000;
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
