//! The database: one implementation over sqlx's `Any` driver for SQLite and PostgreSQL.
//!
//! All SQL uses `$1, $2…` placeholders, BIGINT integers (epoch-millisecond timestamps, 0/1
//! booleans) and TEXT ids so the same statements run on both engines. Writes go through
//! [`WriteTx`], which also appends audit events inside the same transaction.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub mod attempts;
pub mod audit;
pub mod cases;
pub mod codes;
pub mod consents;
pub mod error;
pub mod jobs;
pub mod orders;
pub mod progress;
pub mod rate_limits;
pub mod schools;
pub mod sessions;
pub mod students;
pub mod users;

pub use audit::Actor;
pub use error::{Refusal, StoreError, StoreResult};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer; serializing write transactions in-process avoids
    /// SQLITE_BUSY when a deferred transaction upgrades to a write lock.
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite: the one connection write transactions run on, used only under `write_lock`, so
    /// a writer holding the lock never queues for a connection behind the readers.
    writer: Option<AnyPool>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Store {
    /// Connects to `sqlite://…` or `postgres://…` (creating the SQLite file if needed).
    pub async fn connect(url: &str) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::internal(
                "database_url must start with sqlite: or postgres:",
            ));
        };
        let options: AnyConnectOptions = url.parse()?;
        let sqlite_pool = |max_connections: u32| {
            AnyPoolOptions::new()
                .max_connections(max_connections)
                // A local file: a pooled connection cannot have gone away while idle, so no
                // ping (a round trip to the connection's thread) before every query.
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        Ok(())
                    })
                })
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(8).connect_with(options.clone()).await?;
                (pool, Some(sqlite_pool(1).connect_lazy_with(options)))
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?;
                (pool, None)
            }
        };
        if backend == Backend::Sqlite {
            // WAL is a property of the file: readers keep working while one writer commits.
            sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_optional(&pool)
                .await?;
        }
        Ok(Store {
            pool,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            writer,
        })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For reads; writes use [`Store::begin`].
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. Dropping it without [`WriteTx::commit`] rolls back
    /// everything, audit events included.
    /// One round trip to the database (the health check).
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn begin(&self) -> StoreResult<WriteTx> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = self.writer.as_ref().unwrap_or(&self.pool).begin().await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            _guard: guard,
        })
    }

    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

pub struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Next value of a named counter row. The row lock is held until commit, so values are
    /// handed out in commit order — sync cursors never skip a change committed late.
    pub async fn next_counter(&mut self, name: &str) -> StoreResult<i64> {
        let value: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value",
        )
        .bind(name)
        .fetch_one(self.conn())
        .await?;
        Ok(value)
    }

    /// A fresh change sequence number for a case row (`cases.change_seq`).
    pub async fn next_change_seq(&mut self) -> StoreResult<i64> {
        self.next_counter("case_change").await
    }
}

/// The one SQLite ↔ PostgreSQL difference in the SQL: row locking. SQLite serializes writers
/// (one write transaction at a time, see [`WriteTx`]), so it needs no row locks; PostgreSQL
/// locks the rows a transaction reads to change.
impl Backend {
    /// Appended to a `SELECT` of a row the transaction will change: others wait for it.
    pub fn lock_rows(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// Appended to a `SELECT` of rows a worker is about to claim: rows another worker holds
    /// are skipped rather than waited for.
    pub fn lock_rows_skip_locked(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }
}

pub fn bool_i64(b: bool) -> i64 {
    i64::from(b)
}
pub mod review;
pub mod sync;
