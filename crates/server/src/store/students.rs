//! The roster: one student record per graduate, ID number encrypted with a keyed hash for
//! lookup. Importing a roster creates a case (state `invited`) for every new student.

use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::roster::RosterRecord;
use gradphoto_domain::state::CaseState;

use gradphoto_domain::audit::AuditAction;

use super::error::{StoreError, StoreResult};
use super::{new_id, now_ms, schools, Actor, Store, WriteTx};
use crate::crypto::Crypto;
use gradphoto_api::error::ErrorCode;

pub const ID_HASH_PURPOSE: &str = "id_number";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StudentRow {
    pub id: String,
    pub school_id: String,
    pub name: String,
    pub id_number_hash: String,
    pub id_number_masked: String,
    pub student_no: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub graduation_year: i64,
    pub enrollment_photo: Option<String>,
}

const COLUMNS: &str = "id, school_id, name, id_number_hash, id_number_masked, student_no, college, major, level, graduation_year, enrollment_photo";

pub fn id_hash(crypto: &Crypto, id_number: &str) -> String {
    crypto.keyed_hash(ID_HASH_PURPOSE, id_number.as_bytes())
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<StudentRow>> {
    let row: Option<StudentRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM students WHERE id = $1"))
            .bind(id)
            .fetch_optional(store.pool())
            .await?;
    Ok(row)
}

/// Finds a student by ID number without decrypting anything.
pub async fn find_by_id_number(
    store: &Store,
    crypto: &Crypto,
    school_id: &str,
    id_number: &str,
) -> StoreResult<Option<StudentRow>> {
    let row: Option<StudentRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM students WHERE school_id = $1 AND id_number_hash = $2"
    ))
    .bind(school_id)
    .bind(id_hash(crypto, id_number))
    .fetch_optional(store.pool())
    .await?;
    Ok(row)
}

pub async fn find_by_student_no(
    store: &Store,
    school_id: &str,
    student_no: &str,
) -> StoreResult<Option<StudentRow>> {
    let row: Option<StudentRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM students WHERE school_id = $1 AND student_no = $2"
    ))
    .bind(school_id)
    .bind(student_no)
    .fetch_optional(store.pool())
    .await?;
    Ok(row)
}

/// Decrypts the stored ID number (callers audit the access).
pub async fn reveal_id_number(store: &Store, crypto: &Crypto, id: &str) -> StoreResult<String> {
    let enc: Vec<u8> = sqlx::query_scalar("SELECT id_number_enc FROM students WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("学生", "Student"))?;
    let plain = crypto.decrypt(&enc)?;
    String::from_utf8(plain).map_err(|_| StoreError::internal("stored ID number is not UTF-8"))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

/// [`import_as`] on behalf of the system (fixtures and seeding).
pub async fn import(
    tx: &mut WriteTx,
    crypto: &Crypto,
    records: &[RosterRecord],
    default_policy: &SchoolPolicy,
) -> StoreResult<ImportSummary> {
    import_as(tx, crypto, &Actor::system(), records, default_policy).await
}

/// Imports validated roster records inside the caller's transaction (all rows or none).
///
/// A record whose ID number already exists in its school updates that student's roster
/// fields; a student number that already belongs to a different student is refused.
pub async fn import_as(
    tx: &mut WriteTx,
    crypto: &Crypto,
    actor: &Actor,
    records: &[RosterRecord],
    default_policy: &SchoolPolicy,
) -> StoreResult<ImportSummary> {
    let mut summary = ImportSummary::default();
    let now = now_ms();
    for (index, rec) in records.iter().enumerate() {
        let school_id = schools::ensure(tx.conn(), rec.school.trim(), default_policy).await?;
        let hash = id_hash(crypto, rec.id_number.as_str());
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM students WHERE school_id = $1 AND id_number_hash = $2",
        )
        .bind(&school_id)
        .bind(&hash)
        .fetch_optional(tx.conn())
        .await?;
        let holder: Option<String> =
            sqlx::query_scalar("SELECT id FROM students WHERE school_id = $1 AND student_no = $2")
                .bind(&school_id)
                .bind(&rec.student_no)
                .fetch_optional(tx.conn())
                .await?;
        if let Some(holder) = &holder {
            if existing.as_deref() != Some(holder.as_str()) {
                return Err(StoreError::refused(
                    ErrorCode::StudentNoTaken,
                    format!(
                        "第{}条记录：学号 {} 已属于另一名学生，整个文件未导入。",
                        index + 1,
                        rec.student_no
                    ),
                    format!(
                        "Record {}: student number {} already belongs to another student; nothing was imported.",
                        index + 1,
                        rec.student_no
                    ),
                )
                .with_field("student_no"));
            }
        }
        match existing {
            Some(student_id) => {
                sqlx::query(
                    "UPDATE students SET name = $1, student_no = $2, college = $3, major = $4, level = $5,
                     graduation_year = $6, enrollment_photo = $7, updated_at = $8 WHERE id = $9",
                )
                .bind(&rec.name)
                .bind(&rec.student_no)
                .bind(&rec.college)
                .bind(&rec.major)
                .bind(&rec.level)
                .bind(i64::from(rec.graduation_year))
                .bind(&rec.enrollment_photo)
                .bind(now)
                .bind(&student_id)
                .execute(tx.conn())
                .await?;
                summary.updated += 1;
            }
            None => {
                let student_id = new_id();
                sqlx::query(&format!(
                    "INSERT INTO students ({COLUMNS}, id_number_enc, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
                ))
                .bind(&student_id)
                .bind(&school_id)
                .bind(&rec.name)
                .bind(&hash)
                .bind(rec.id_number.masked())
                .bind(&rec.student_no)
                .bind(&rec.college)
                .bind(&rec.major)
                .bind(&rec.level)
                .bind(i64::from(rec.graduation_year))
                .bind(&rec.enrollment_photo)
                .bind(crypto.encrypt(rec.id_number.as_str().as_bytes())?)
                .bind(now)
                .execute(tx.conn())
                .await?;
                let seq = tx.next_change_seq().await?;
                sqlx::query(
                    "INSERT INTO cases (id, student_id, school_id, state, change_seq, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(new_id())
                .bind(&student_id)
                .bind(&school_id)
                .bind(crate::store::cases::state_str(CaseState::Invited))
                .bind(seq)
                .bind(now)
                .execute(tx.conn())
                .await?;
                summary.created += 1;
            }
        }
    }
    tx.audit(
        actor,
        AuditAction::RosterImported,
        "roster",
        serde_json::json!({
            "created": summary.created,
            "updated": summary.updated,
            "rows": records.len(),
        }),
    )
    .await?;
    Ok(summary)
}
