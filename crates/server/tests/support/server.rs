//! Starts the real server on a free loopback port with a temporary data directory, on SQLite
//! or on a fresh database of the shared throwaway PostgreSQL cluster (`tests/common/pg.rs`).

use std::sync::Arc;

use gradphoto_client::Client;
use gradphoto_server::analyzer::PhotoAnalyzer;
use gradphoto_server::config::{Config, PaymentConfig, Secret};
use gradphoto_server::{serve, AppState, ServerHandle};
use tempfile::TempDir;

use super::pg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running server; dropped at the end of a test (call [`TestServer::stop`] to shut down
/// cleanly first).
pub struct TestServer {
    pub base_url: String,
    pub db: Db,
    handle: Option<ServerHandle>,
    _dir: TempDir,
}

impl TestServer {
    /// The configuration a test server runs with: a free port, `data_dir`, two workers, the
    /// sandbox payment provider, SQLite in `data_dir` or a fresh PostgreSQL database.
    pub async fn config(db: Db, data_dir: &std::path::Path) -> Config {
        let database = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(pg::PgCluster::shared().fresh_database().await),
        };
        Config {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.to_path_buf(),
            workers: 2,
            payment: PaymentConfig::sandbox(),
            // SQLite uses the default: a file in the data directory.
            database_url: database.map(Secret::new),
            ..Config::default()
        }
    }

    pub async fn start(db: Db) -> TestServer {
        TestServer::start_with(db, super::analyzer(), |_| {}).await
    }

    pub async fn start_with(
        db: Db,
        analyzer: Arc<dyn PhotoAnalyzer>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = TestServer::config(db, dir.path()).await;
        tweak(&mut config);
        let (addr, handle) = serve(config, analyzer).await.expect("server starts");
        TestServer {
            base_url: format!("http://{addr}"),
            db,
            handle: Some(handle),
            _dir: dir,
        }
    }

    pub fn state(&self) -> &AppState {
        &self.handle.as_ref().expect("server running").state
    }

    /// A client without a token.
    pub fn client(&self) -> Client {
        Client::new(&self.base_url).expect("client")
    }

    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await;
        }
    }
}
