//! Photo attempts: each upload is stored, then analysed by a job (processing → checked |
//! failed).

use sqlx::AnyConnection;

use super::error::{StoreError, StoreResult};
use super::{new_id, now_ms, Store, WriteTx};

pub const STATUS_PROCESSING: &str = "processing";
pub const STATUS_CHECKED: &str = "checked";
pub const STATUS_FAILED: &str = "failed";

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRow {
    pub id: String,
    pub case_id: String,
    pub round: i64,
    pub client_upload_id: Option<String>,
    pub status: String,
    pub error_code: Option<String>,
    pub error_zh: Option<String>,
    pub error_en: Option<String>,
    pub source: String,
    pub original_key: String,
    pub original_mime: String,
    pub original_size: i64,
    pub standardized_key: Option<String>,
    pub report_json: Option<String>,
    pub overall: Option<String>,
    pub face_distance: Option<f64>,
    pub face_same_person: Option<bool>,
    pub ocr_json: Option<String>,
    pub created_at: i64,
    pub analyzed_at: Option<i64>,
}

pub const COLUMNS: &str = "id, case_id, round, client_upload_id, status, error_code, error_zh, error_en, source, original_key, original_mime, original_size, standardized_key, report_json, overall, face_distance, face_same_person, ocr_json, created_at, analyzed_at";

pub fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<AttemptRow> {
    use sqlx::Row;
    let same: Option<i64> = row.try_get("face_same_person")?;
    Ok(AttemptRow {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        round: row.try_get("round")?,
        client_upload_id: row.try_get("client_upload_id")?,
        status: row.try_get("status")?,
        error_code: row.try_get("error_code")?,
        error_zh: row.try_get("error_zh")?,
        error_en: row.try_get("error_en")?,
        source: row.try_get("source")?,
        original_key: row.try_get("original_key")?,
        original_mime: row.try_get("original_mime")?,
        original_size: row.try_get("original_size")?,
        standardized_key: row.try_get("standardized_key")?,
        report_json: row.try_get("report_json")?,
        overall: row.try_get("overall")?,
        face_distance: row.try_get("face_distance")?,
        face_same_person: same.map(|v| v != 0),
        ocr_json: row.try_get("ocr_json")?,
        created_at: row.try_get("created_at")?,
        analyzed_at: row.try_get("analyzed_at")?,
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<AttemptRow>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM attempts WHERE id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The attempts `ids`, by id (one read for a page of rows, not one per row).
pub async fn get_many(
    store: &Store,
    ids: &[String],
) -> StoreResult<std::collections::HashMap<String, AttemptRow>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM attempts WHERE id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        for row in q.fetch_all(store.pool()).await? {
            let a = from_row(&row)?;
            out.insert(a.id.clone(), a);
        }
    }
    Ok(out)
}

pub async fn get_in(conn: &mut AnyConnection, id: &str) -> StoreResult<AttemptRow> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM attempts WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::not_found("照片", "Photo attempt"))?;
    from_row(&row)
}

pub async fn by_upload_id(
    store: &Store,
    case_id: &str,
    client_upload_id: &str,
) -> StoreResult<Option<AttemptRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attempts WHERE case_id = $1 AND client_upload_id = $2"
    ))
    .bind(case_id)
    .bind(client_upload_id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// All attempts of a case, newest first.
pub async fn list_for_case(store: &Store, case_id: &str) -> StoreResult<Vec<AttemptRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attempts WHERE case_id = $1 ORDER BY created_at DESC, id DESC"
    ))
    .bind(case_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn count_in_round(
    conn: &mut AnyConnection,
    case_id: &str,
    round: i64,
) -> StoreResult<i64> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM attempts WHERE case_id = $1 AND round = $2")
            .bind(case_id)
            .bind(round)
            .fetch_one(conn)
            .await?;
    Ok(n)
}

/// `(attempt id, report JSON)` of every checked attempt of one round of a case: the submit
/// gate counts how often each photo check failed within the round.
pub async fn checked_reports_in_round(
    conn: &mut AnyConnection,
    case_id: &str,
    round: i64,
) -> StoreResult<Vec<(String, String)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, report_json FROM attempts
         WHERE case_id = $1 AND round = $2 AND status = $3 AND report_json IS NOT NULL
         ORDER BY created_at, id",
    )
    .bind(case_id)
    .bind(round)
    .bind(STATUS_CHECKED)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

pub struct NewAttempt<'a> {
    pub case_id: &'a str,
    pub round: i64,
    pub client_upload_id: Option<&'a str>,
    pub source: &'a str,
    pub original_key: &'a str,
    pub original_mime: &'a str,
    pub original_size: i64,
}

pub async fn insert(tx: &mut WriteTx, a: &NewAttempt<'_>) -> StoreResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO attempts (id, case_id, round, client_upload_id, status, source, original_key, original_mime, original_size, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(a.case_id)
    .bind(a.round)
    .bind(a.client_upload_id)
    .bind(STATUS_PROCESSING)
    .bind(a.source)
    .bind(a.original_key)
    .bind(a.original_mime)
    .bind(a.original_size)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(id)
}

pub struct Analysed<'a> {
    pub standardized_key: Option<&'a str>,
    pub report_json: &'a str,
    pub overall: &'a str,
    pub face_distance: Option<f64>,
    pub face_same_person: Option<bool>,
    pub ocr_json: Option<&'a str>,
}

pub async fn mark_checked(tx: &mut WriteTx, id: &str, a: &Analysed<'_>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE attempts SET status = $1, error_code = NULL, error_zh = NULL, error_en = NULL, standardized_key = $2, report_json = $3, overall = $4,
         face_distance = $5, face_same_person = $6, ocr_json = $7, analyzed_at = $8 WHERE id = $9",
    )
    .bind(STATUS_CHECKED)
    .bind(a.standardized_key)
    .bind(a.report_json)
    .bind(a.overall)
    .bind(a.face_distance)
    .bind(a.face_same_person.map(i64::from))
    .bind(a.ocr_json)
    .bind(now_ms())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn mark_failed(
    tx: &mut WriteTx,
    id: &str,
    error: &(impl gradphoto_domain::Localized + Sync),
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE attempts SET status = $1, error_code = $2, error_zh = $3, error_en = $4, analyzed_at = $5 WHERE id = $6",
    )
        .bind(STATUS_FAILED)
        .bind(error.code())
        .bind(error.message_zh())
        .bind(error.message_en())
        .bind(now_ms())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The attempt a client upload id already names in this case, read inside the writing
/// transaction so a retry racing the first upload finds it.
pub async fn id_by_upload_id(
    conn: &mut AnyConnection,
    case_id: &str,
    upload_id: &str,
) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM attempts WHERE case_id = $1 AND client_upload_id = $2")
            .bind(case_id)
            .bind(upload_id)
            .fetch_optional(conn)
            .await?,
    )
}
