//! gradphoto server: HTTP API (axum), store (sqlx over SQLite or PostgreSQL), object storage,
//! background jobs and the admin command line.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub mod analyzer;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod enrollment;
pub mod http;
pub mod invite;
pub mod jobs;
pub mod journey;
pub mod objects;
pub mod payment;
pub mod ratelimit;
pub mod retention;
pub mod sheet;
pub mod store;
pub mod tls;
pub mod vision;

use analyzer::PhotoAnalyzer;
use config::Config;
use crypto::{Crypto, KeySource};
use http::error::{AppError, AppResult};
use objects::Objects;
use payment::Payments;
use store::Store;

pub use http::app;

/// Everything a request handler or a worker needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub objects: Objects,
    pub crypto: Arc<Crypto>,
    pub analyzer: Arc<dyn PhotoAnalyzer>,
    pub payments: Arc<Payments>,
    /// Wakes in-process job workers when a job is queued.
    pub job_signal: Arc<Notify>,
    /// Base URL for links shown to students (no trailing slash).
    pub public_url: String,
    /// The review queue's per-state counts, briefly cached (see `http::review`).
    pub review_counts: Arc<http::review::CountsCache>,
    /// Each school's decisions per day, grouped for statistics (see `journey::stats_days`).
    pub stats_days: Arc<journey::stats_days::DayCache>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Opens the database (migrating it), the key and the object store.
    pub async fn open(config: Config, analyzer: Arc<dyn PhotoAnalyzer>) -> AppResult<AppState> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            AppError::internal(format_args!(
                "creating data directory {}: {e}",
                config.data_dir.display()
            ))
        })?;
        let crypto = match &config.encryption_key {
            Some(key) => Crypto::from_base64(key.expose())?,
            None => {
                let path = config.key_file();
                let (crypto, source) = Crypto::load_or_create_file(&path)?;
                if source == KeySource::GeneratedFile {
                    println!(
                        "生成了新的加密密钥 / generated a new encryption key: {} (keep it safe and back it up; without it stored ID numbers and images cannot be read)",
                        path.display()
                    );
                }
                crypto
            }
        };
        let crypto = Arc::new(crypto);
        let store = Store::connect(&config.database_url()).await?;
        store.migrate().await?;
        let objects = Objects::from_config(&config, crypto.clone())?;
        let payments = Arc::new(Payments::from_config(&config, &crypto)?);
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen))
            .trim_end_matches('/')
            .to_string();
        Ok(AppState {
            config: Arc::new(config),
            store,
            objects,
            crypto,
            analyzer,
            payments,
            job_signal: Arc::new(Notify::new()),
            public_url,
            review_counts: Arc::default(),
            stats_days: Arc::default(),
        })
    }

    pub fn session_ttl_ms(&self) -> i64 {
        i64::try_from(self.config.session_hours)
            .unwrap_or(i64::MAX / 3_600_000)
            .saturating_mul(3_600_000)
    }
}

/// A running server. Dropping the handle does not stop it; call [`ServerHandle::shutdown`].
pub struct ServerHandle {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        for w in self.workers {
            let _ = w.await;
        }
        self.state.store.close().await;
    }

    /// Waits until the server stops (Ctrl-C handling is the caller's business).
    pub async fn wait(self) -> std::io::Result<()> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    pub fn stop_signal(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }
}

/// Opens everything, binds `config.listen` (port 0 picks a free port), starts the
/// in-process job workers and serves until shut down.
pub async fn serve(
    config: Config,
    analyzer: Arc<dyn PhotoAnalyzer>,
) -> AppResult<(SocketAddr, ServerHandle)> {
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| AppError::internal(format_args!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::internal(format_args!("local address: {e}")))?;
    let mut config = config;
    if config.public_url.is_none() {
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        config.public_url = Some(format!("{scheme}://{addr}"));
    }
    let state = AppState::open(config, analyzer).await?;
    serve_state(listener, state).await
}

/// Serves an already opened state on a bound listener.
pub async fn serve_state(
    listener: TcpListener,
    state: AppState,
) -> AppResult<(SocketAddr, ServerHandle)> {
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::internal(format_args!("local address: {e}")))?;
    // A fee nobody collects would let students past it, or stop them at the payment step:
    // refuse to serve until the configuration says who collects it.
    for school in store::schools::charging_fee(&state.store).await? {
        state
            .payments
            .check_fee(&school.name, school.policy.fee_cents)?;
    }
    tracing::info!("{}", state.payments.describe());
    tokio::task::spawn_blocking(crypto::prepare_dummy_hash)
        .await
        .map_err(|e| AppError::internal(format_args!("dummy hash: {e}")))?;
    let (stop, mut stopped) = watch::channel(false);
    let tls = match &state.config.tls {
        Some(tls) => Some(tls::server_config(tls)?),
        None => None,
    };
    if state.config.workers > 0 {
        // Before this process's workers claim anything, so none of their claims is released.
        jobs::requeue_abandoned(&state).await?;
    }
    let mut workers = jobs::spawn_workers(&state, state.config.workers, stop.subscribe());
    if state.config.workers > 0 {
        workers.push(spawn_retention(state.clone(), stop.subscribe()));
    }
    let router = app(state.clone());
    let shutdown = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let task = match tls {
        Some(config) => {
            let listener = tls::TlsListener::new(listener, config, stop.subscribe())
                .map_err(|e| AppError::internal(format_args!("TLS listener: {e}")))?;
            // `tap_io` gives the TLS listener the connection info the plain one has (the
            // client's address, for sign-in throttling).
            let listener = axum::serve::ListenerExt::tap_io(listener, |_| ());
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(shutdown)
                .await
            })
        }
        None => tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }),
    };
    Ok((
        addr,
        ServerHandle {
            addr,
            state,
            stop,
            task,
            workers,
        },
    ))
}

/// Purges expired originals and ID-card images once an hour while the server runs.
fn spawn_retention(state: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = chrono::Utc::now().timestamp_millis();
            match retention::purge_expired(&state, now).await {
                Ok(p) if p.cases > 0 => {
                    tracing::info!(cases = p.cases, objects = p.objects, "retention purge")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}
