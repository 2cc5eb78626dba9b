//! The local SQLite cache: queue rows, claimed items with their images, the outbox of
//! decisions and the conflict list. Everything the reviewer did survives a crash because each
//! decision is committed here before anything is sent.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::error::{DeskError, DeskResult};
use crate::view::{ConflictKind, DecisionInput, QueueCounts, QueueFilter, RowStatus};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/desk");

/// Upper bound of rows one queue listing returns (the list is virtualized; filters narrow it).
pub const MAX_LIST_ROWS: i64 = 50_000;

#[derive(Debug, Clone)]
pub struct Cache {
    pool: SqlitePool,
}

/// A queue row as the server describes it (from the queue listing or the sync feed).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteRow {
    pub item_id: String,
    pub student_name: String,
    pub student_no: String,
    pub school: String,
    pub submitted_ms: i64,
    pub round: i64,
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CachedRow {
    pub item_id: String,
    pub student_name: String,
    pub student_no: String,
    pub school: String,
    pub college: String,
    pub submitted_ms: i64,
    pub round: i64,
    pub flagged: bool,
    pub status: RowStatus,
    pub lease_until_ms: Option<i64>,
    pub hint_verdict: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub decision_id: String,
    pub item_id: String,
    pub decision: DecisionInput,
    pub decided_ms: i64,
    pub state: String,
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRow {
    pub id: i64,
    pub decision_id: String,
    pub item_id: String,
    pub student_name: String,
    pub kind: ConflictKind,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    pub decision: Option<DecisionInput>,
    pub created_ms: i64,
}

pub fn status_str(s: RowStatus) -> &'static str {
    match s {
        RowStatus::Pending => "pending",
        RowStatus::Claimed => "claimed",
        RowStatus::Decided => "decided",
        RowStatus::Synced => "synced",
        RowStatus::Conflict => "conflict",
    }
}

fn parse_status(s: &str) -> DeskResult<RowStatus> {
    Ok(match s {
        "pending" => RowStatus::Pending,
        "claimed" => RowStatus::Claimed,
        "decided" => RowStatus::Decided,
        "synced" => RowStatus::Synced,
        "conflict" => RowStatus::Conflict,
        other => return Err(DeskError::data(format!("unknown item status {other:?}"))),
    })
}

pub fn conflict_str(k: ConflictKind) -> &'static str {
    match k {
        ConflictKind::LeaseLost => "lease_lost",
        ConflictKind::Withdrawn => "withdrawn",
        ConflictKind::Overridden => "overridden",
        ConflictKind::Refused => "refused",
    }
}

fn parse_conflict(s: &str) -> ConflictKind {
    match s {
        "lease_lost" => ConflictKind::LeaseLost,
        "withdrawn" => ConflictKind::Withdrawn,
        "overridden" => ConflictKind::Overridden,
        _ => ConflictKind::Refused,
    }
}

fn row_of(r: &sqlx::sqlite::SqliteRow) -> DeskResult<CachedRow> {
    Ok(CachedRow {
        item_id: r.try_get("item_id")?,
        student_name: r.try_get("student_name")?,
        student_no: r.try_get("student_no")?,
        school: r.try_get("school")?,
        college: r.try_get("college")?,
        submitted_ms: r.try_get("submitted_ms")?,
        round: r.try_get("round")?,
        flagged: r.try_get::<i64, _>("flagged")? != 0,
        status: parse_status(&r.try_get::<String, _>("status")?)?,
        lease_until_ms: r.try_get("lease_until_ms")?,
        hint_verdict: r.try_get("hint_verdict")?,
    })
}

const ROW_COLUMNS: &str =
    "item_id, student_name, student_no, school, college, submitted_ms, round, \
     flagged, status, lease_until_ms, hint_verdict";

impl Cache {
    /// Opens (creating if needed) the cache file and brings its schema up to date.
    pub async fn open(path: &Path) -> DeskResult<Cache> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Every decision must be on disk before the UI moves on.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Cache { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn meta(&self, key: &str) -> DeskResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> DeskResult<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records rows waiting in the server's queue. Rows this workstation works on keep their
    /// local status; only their descriptive fields are refreshed.
    pub async fn upsert_pending(&self, rows: &[RemoteRow], now_ms: i64) -> DeskResult<()> {
        let mut tx = self.pool.begin().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO items (item_id, student_name, student_no, school, submitted_ms, round, flagged, status, updated_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                 ON CONFLICT (item_id) DO UPDATE SET
                   student_name = excluded.student_name, student_no = excluded.student_no,
                   school = excluded.school, submitted_ms = excluded.submitted_ms,
                   flagged = excluded.flagged, updated_ms = excluded.updated_ms,
                   -- A new round is a new submission: forget the old local work on it.
                   status = CASE WHEN items.round <> excluded.round AND items.status IN ('synced', 'pending') THEN 'pending' ELSE items.status END,
                   round = excluded.round",
            )
            .bind(&r.item_id)
            .bind(&r.student_name)
            .bind(&r.student_no)
            .bind(&r.school)
            .bind(r.submitted_ms)
            .bind(r.round)
            .bind(r.flagged)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Drops a queue row the server no longer lists as waiting, unless local work depends on it.
    pub async fn forget_pending(&self, item_id: &str) -> DeskResult<()> {
        sqlx::query("DELETE FROM items WHERE item_id = ? AND status = 'pending'")
            .bind(item_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a claimed item with its review record, ready to be shown offline.
    pub async fn store_claimed(
        &self,
        row: &RemoteRow,
        college: &str,
        lease_until_ms: i64,
        detail_json: &str,
        now_ms: i64,
    ) -> DeskResult<()> {
        let mut tx = self.pool.begin().await?;
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(claim_seq), 0) + 1 FROM items")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO items (item_id, student_name, student_no, school, college, submitted_ms, round, flagged,
                                status, lease_until_ms, claim_seq, detail, updated_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'claimed', ?, ?, ?, ?)
             ON CONFLICT (item_id) DO UPDATE SET
               student_name = excluded.student_name, student_no = excluded.student_no, school = excluded.school,
               college = excluded.college, submitted_ms = excluded.submitted_ms, round = excluded.round,
               flagged = excluded.flagged, status = 'claimed', lease_until_ms = excluded.lease_until_ms,
               claim_seq = excluded.claim_seq, detail = excluded.detail, updated_ms = excluded.updated_ms,
               hints = CASE WHEN items.round = excluded.round THEN items.hints ELSE NULL END,
               hint_verdict = CASE WHEN items.round = excluded.round THEN items.hint_verdict ELSE NULL END",
        )
        .bind(&row.item_id)
        .bind(&row.student_name)
        .bind(&row.student_no)
        .bind(&row.school)
        .bind(college)
        .bind(row.submitted_ms)
        .bind(row.round)
        .bind(row.flagged)
        .bind(lease_until_ms)
        .bind(seq)
        .bind(detail_json)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn store_image(
        &self,
        item_id: &str,
        kind: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> DeskResult<()> {
        sqlx::query(
            "INSERT INTO images (item_id, kind, content_type, bytes) VALUES (?, ?, ?, ?)
             ON CONFLICT (item_id, kind) DO UPDATE SET content_type = excluded.content_type, bytes = excluded.bytes",
        )
        .bind(item_id)
        .bind(kind)
        .bind(content_type)
        .bind(bytes)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn image(&self, item_id: &str, kind: &str) -> DeskResult<Option<(String, Vec<u8>)>> {
        let row =
            sqlx::query("SELECT content_type, bytes FROM images WHERE item_id = ? AND kind = ?")
                .bind(item_id)
                .bind(kind)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => Ok(Some((r.try_get("content_type")?, r.try_get("bytes")?))),
            None => Ok(None),
        }
    }

    pub async fn image_kinds(&self, item_id: &str) -> DeskResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT kind FROM images WHERE item_id = ?")
                .bind(item_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn row(&self, item_id: &str) -> DeskResult<Option<CachedRow>> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM items WHERE item_id = ?");
        match sqlx::query(&sql)
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => Ok(Some(row_of(&r)?)),
            None => Ok(None),
        }
    }

    pub async fn detail(&self, item_id: &str) -> DeskResult<Option<String>> {
        Ok(
            sqlx::query_scalar::<_, Option<String>>("SELECT detail FROM items WHERE item_id = ?")
                .bind(item_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    pub async fn set_lease(&self, item_id: &str, until_ms: i64) -> DeskResult<()> {
        sqlx::query("UPDATE items SET lease_until_ms = ? WHERE item_id = ?")
            .bind(until_ms)
            .bind(item_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Items held and not yet decided, in claim order.
    pub async fn claimed(&self) -> DeskResult<Vec<CachedRow>> {
        let sql =
            format!("SELECT {ROW_COLUMNS} FROM items WHERE status = 'claimed' ORDER BY claim_seq");
        sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row_of)
            .collect()
    }

    /// Gives up a held, undecided item (released, or the lease was lost).
    pub async fn unclaim(&self, item_id: &str) -> DeskResult<()> {
        sqlx::query(
            "UPDATE items SET status = 'pending', claim_seq = NULL, lease_until_ms = NULL
             WHERE item_id = ? AND status = 'claimed'",
        )
        .bind(item_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The next undecided item after `after` in the work list (wrapping to the first).
    pub async fn next_claimed(&self, after: Option<&str>) -> DeskResult<Option<String>> {
        let seq = match after {
            Some(id) => self.claim_seq(id).await?.unwrap_or(0),
            None => 0,
        };
        let next: Option<String> = sqlx::query_scalar(
            "SELECT item_id FROM items WHERE status = 'claimed' AND claim_seq > ? ORDER BY claim_seq LIMIT 1",
        )
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?;
        if next.is_some() {
            return Ok(next);
        }
        Ok(sqlx::query_scalar(
            "SELECT item_id FROM items WHERE status = 'claimed' AND item_id <> ? ORDER BY claim_seq LIMIT 1",
        )
        .bind(after.unwrap_or(""))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The item worked on just before `before` (decided ones included, to look back).
    pub async fn previous(&self, before: &str) -> DeskResult<Option<String>> {
        let Some(seq) = self.claim_seq(before).await? else {
            return Ok(None);
        };
        Ok(sqlx::query_scalar(
            "SELECT item_id FROM items WHERE claim_seq < ? ORDER BY claim_seq DESC LIMIT 1",
        )
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn claim_seq(&self, item_id: &str) -> DeskResult<Option<i64>> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT claim_seq FROM items WHERE item_id = ?")
                .bind(item_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    /// Commits a decision to the outbox and marks the item decided, atomically.
    pub async fn record_decision(
        &self,
        item_id: &str,
        decision_id: &str,
        decision: &DecisionInput,
        now_ms: i64,
    ) -> DeskResult<()> {
        let body = serde_json::to_string(decision).map_err(DeskError::data)?;
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE items SET status = 'decided', updated_ms = ? WHERE item_id = ? AND status = 'claimed'",
        )
        .bind(now_ms)
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(DeskError::NotClaimed(item_id.to_string()));
        }
        sqlx::query(
            "INSERT INTO outbox (decision_id, item_id, body, decided_ms, state) VALUES (?, ?, ?, ?, 'queued')",
        )
        .bind(decision_id)
        .bind(item_id)
        .bind(body)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    fn outbox_of(r: &sqlx::sqlite::SqliteRow) -> DeskResult<OutboxEntry> {
        let body: String = r.try_get("body")?;
        Ok(OutboxEntry {
            decision_id: r.try_get("decision_id")?,
            item_id: r.try_get("item_id")?,
            decision: serde_json::from_str(&body).map_err(DeskError::data)?,
            decided_ms: r.try_get("decided_ms")?,
            state: r.try_get("state")?,
            attempts: r.try_get("attempts")?,
        })
    }

    /// Decisions not yet accepted or refused by the server, oldest first.
    pub async fn queued(&self) -> DeskResult<Vec<OutboxEntry>> {
        sqlx::query("SELECT * FROM outbox WHERE state = 'queued' ORDER BY decided_ms, decision_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Cache::outbox_of)
            .collect()
    }

    /// The latest decision made here on an item.
    pub async fn decision_for(&self, item_id: &str) -> DeskResult<Option<OutboxEntry>> {
        match sqlx::query("SELECT * FROM outbox WHERE item_id = ? ORDER BY decided_ms DESC LIMIT 1")
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => Ok(Some(Cache::outbox_of(&r)?)),
            None => Ok(None),
        }
    }

    pub async fn note_attempt(&self, decision_id: &str, error: &str) -> DeskResult<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE decision_id = ?",
        )
        .bind(error)
        .bind(decision_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mark_synced(&self, entry: &OutboxEntry, now_ms: i64) -> DeskResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE outbox SET state = 'synced', synced_ms = ?, attempts = attempts + 1, last_error = NULL WHERE decision_id = ?")
            .bind(now_ms)
            .bind(&entry.decision_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE items SET status = 'synced', lease_until_ms = NULL, updated_ms = ? WHERE item_id = ? AND status = 'decided'")
            .bind(now_ms)
            .bind(&entry.item_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn mark_conflict(
        &self,
        entry: &OutboxEntry,
        kind: ConflictKind,
        view: &crate::view::ErrorView,
        now_ms: i64,
    ) -> DeskResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE outbox SET state = 'conflict', attempts = attempts + 1, last_error = ? WHERE decision_id = ?")
            .bind(&view.code)
            .bind(&entry.decision_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE items SET status = 'conflict', lease_until_ms = NULL, updated_ms = ? WHERE item_id = ?")
            .bind(now_ms)
            .bind(&entry.item_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO conflicts (decision_id, item_id, kind, code, message_zh, message_en, created_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&entry.decision_id)
        .bind(&entry.item_id)
        .bind(conflict_str(kind))
        .bind(&view.code)
        .bind(&view.message_zh)
        .bind(&view.message_en)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Conflicts not yet acknowledged, newest first.
    pub async fn conflicts(&self) -> DeskResult<Vec<ConflictRow>> {
        let rows = sqlx::query(
            "SELECT c.id, c.decision_id, c.item_id, COALESCE(i.student_name, '') AS student_name, c.kind, c.code,
                    c.message_zh, c.message_en, c.created_ms, o.body
             FROM conflicts c LEFT JOIN items i ON i.item_id = c.item_id
             LEFT JOIN outbox o ON o.decision_id = c.decision_id
             WHERE c.acknowledged_ms IS NULL ORDER BY c.created_ms DESC, c.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let body: Option<String> = r.try_get("body")?;
                Ok(ConflictRow {
                    id: r.try_get("id")?,
                    decision_id: r.try_get("decision_id")?,
                    item_id: r.try_get("item_id")?,
                    student_name: r.try_get("student_name")?,
                    kind: parse_conflict(&r.try_get::<String, _>("kind")?),
                    code: r.try_get("code")?,
                    message_zh: r.try_get("message_zh")?,
                    message_en: r.try_get("message_en")?,
                    decision: body.and_then(|b| serde_json::from_str(&b).ok()),
                    created_ms: r.try_get("created_ms")?,
                })
            })
            .collect()
    }

    /// Marks a conflict as seen; the row stays in the file as a record.
    pub async fn acknowledge_conflict(&self, id: i64, now_ms: i64) -> DeskResult<()> {
        sqlx::query("UPDATE conflicts SET acknowledged_ms = ? WHERE id = ?")
            .bind(now_ms)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_hints(
        &self,
        item_id: &str,
        verdict: &str,
        hints_json: &str,
    ) -> DeskResult<()> {
        sqlx::query("UPDATE items SET hint_verdict = ?, hints = ? WHERE item_id = ?")
            .bind(verdict)
            .bind(hints_json)
            .bind(item_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn hints(&self, item_id: &str) -> DeskResult<Option<String>> {
        Ok(
            sqlx::query_scalar::<_, Option<String>>("SELECT hints FROM items WHERE item_id = ?")
                .bind(item_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    /// Held, undecided items fit for grid review, in claim order: the local hints are computed
    /// and all pass, the server did not flag the submission, and the standardized photo is
    /// here to be shown. The rule of what is clean is this one query.
    pub async fn grid_rows(&self, limit: u32) -> DeskResult<Vec<CachedRow>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM items
             WHERE status = 'claimed' AND flagged = 0 AND hint_verdict = 'pass'
               AND EXISTS (SELECT 1 FROM images WHERE images.item_id = items.item_id AND images.kind = 'standardized')
             ORDER BY claim_seq LIMIT ?"
        );
        sqlx::query(&sql)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row_of)
            .collect()
    }

    /// Of the held, undecided items: how many there are and how many still wait for hints.
    pub async fn held_counts(&self) -> DeskResult<(u32, u32)> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS held, COALESCE(SUM(hints IS NULL), 0) AS waiting
             FROM items WHERE status = 'claimed'",
        )
        .fetch_one(&self.pool)
        .await?;
        let n = |k: &str| -> DeskResult<u32> {
            Ok(u32::try_from(r.try_get::<i64, _>(k)?).unwrap_or(u32::MAX))
        };
        Ok((n("held")?, n("waiting")?))
    }

    /// Claimed items whose hints are not computed yet, in claim order.
    pub async fn missing_hints(&self) -> DeskResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT item_id FROM items WHERE status = 'claimed' AND hints IS NULL ORDER BY claim_seq",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn counts(&self) -> DeskResult<QueueCounts> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS total,
                    COALESCE(SUM(status = 'pending'), 0) AS pending,
                    COALESCE(SUM(status = 'claimed'), 0) AS claimed,
                    COALESCE(SUM(status = 'decided'), 0) AS decided,
                    COALESCE(SUM(status = 'conflict'), 0) AS conflicts,
                    COALESCE(SUM(flagged <> 0), 0) AS flagged
             FROM items",
        )
        .fetch_one(&self.pool)
        .await?;
        let n = |k: &str| -> DeskResult<u32> {
            Ok(u32::try_from(r.try_get::<i64, _>(k)?).unwrap_or(u32::MAX))
        };
        Ok(QueueCounts {
            total: n("total")?,
            pending: n("pending")?,
            claimed: n("claimed")?,
            decided: n("decided")?,
            conflicts: n("conflicts")?,
            flagged: n("flagged")?,
        })
    }

    pub async fn outbox_count(&self) -> DeskResult<u32> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'queued'")
            .fetch_one(&self.pool)
            .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub async fn open_conflict_count(&self) -> DeskResult<u32> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM conflicts WHERE acknowledged_ms IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub async fn schools(&self) -> DeskResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT school FROM items ORDER BY school")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The filtered queue, oldest submission first, with the number of matching rows.
    pub async fn list(&self, f: &QueueFilter, now_ms: i64) -> DeskResult<(Vec<CachedRow>, u32)> {
        let mut clauses: Vec<&str> = Vec::new();
        if f.school.is_some() {
            clauses.push("school = ?");
        }
        if f.status.is_some() {
            clauses.push("status = ?");
        }
        if f.min_wait_minutes.is_some() {
            clauses.push("submitted_ms <= ?");
        }
        if f.flagged_only {
            clauses.push("flagged <> 0");
        }
        if f.hint_fail_only {
            clauses.push("hint_verdict = 'fail'");
        }
        let search = f
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", s.replace(['%', '_'], "")));
        if search.is_some() {
            clauses.push("(student_name LIKE ? OR student_no LIKE ?)");
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let list_sql = format!(
            "SELECT {ROW_COLUMNS} FROM items {filter} ORDER BY submitted_ms, item_id LIMIT {MAX_LIST_ROWS}"
        );
        let count_sql = format!("SELECT COUNT(*) FROM items {filter}");
        let min_wait_cutoff = f
            .min_wait_minutes
            .map(|m| now_ms.saturating_sub(i64::from(m) * 60_000));

        macro_rules! bind_all {
            ($q:expr) => {{
                let mut q = $q;
                if let Some(s) = &f.school {
                    q = q.bind(s.clone());
                }
                if let Some(s) = f.status {
                    q = q.bind(status_str(s));
                }
                if let Some(c) = min_wait_cutoff {
                    q = q.bind(c);
                }
                if let Some(s) = &search {
                    q = q.bind(s.clone()).bind(s.clone());
                }
                q
            }};
        }
        let rows = bind_all!(sqlx::query(&list_sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row_of)
            .collect::<DeskResult<Vec<_>>>()?;
        let matching: i64 = bind_all!(sqlx::query_scalar(&count_sql))
            .fetch_one(&self.pool)
            .await?;
        Ok((rows, u32::try_from(matching).unwrap_or(u32::MAX)))
    }
}
