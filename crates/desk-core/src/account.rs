//! The leaf the workstation's parts share: the clock, the signed-in account (its server client
//! and local cache) and the sync status the window watches. It imports none of them, so the
//! sync engine and the hinter take what they need from here and never reach back into the
//! [`Workstation`](crate::Workstation) façade.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use gradphoto_client::Client;
use tokio::sync::RwLock;

use crate::cache::Cache;
use crate::error::{DeskError, DeskResult};
use crate::session::Account;
use crate::view::SyncStatusView;

/// Requests that get no answer within this time count as "server unreachable".
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A signed-in account with its server client and local cache.
#[derive(Debug)]
pub struct Signed {
    pub account: Account,
    pub client: Client,
    pub cache: Cache,
    /// The token is held in memory only (session-only sign-in).
    pub session_only: bool,
}

pub(crate) fn http_client(server_url: &str) -> DeskResult<Client> {
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .gzip(true)
        .build()
        .map_err(|e| DeskError::Unreachable(e.to_string()))?;
    Ok(Client::with_http(http, server_url)?)
}

/// Who is signed in, if anyone. Parts hold the account only for the length of one operation,
/// so signing out never waits for them.
#[derive(Debug, Default)]
pub struct SignedIn(RwLock<Option<Arc<Signed>>>);

impl SignedIn {
    pub async fn current(&self) -> DeskResult<Arc<Signed>> {
        self.0.read().await.clone().ok_or(DeskError::NotSignedIn)
    }

    pub async fn is_signed_in(&self) -> bool {
        self.0.read().await.is_some()
    }

    pub(crate) async fn set(&self, signed: Option<Arc<Signed>>) {
        *self.0.write().await = signed;
    }
}

type Listener = Box<dyn Fn(&SyncStatusView) + Send + Sync>;

/// The sync status and the one listener (the window) told of every change.
#[derive(Default)]
pub struct StatusBoard {
    status: StdMutex<SyncStatusView>,
    listener: StdMutex<Option<Listener>>,
}

impl std::fmt::Debug for StatusBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusBoard")
            .field("status", &self.snapshot())
            .finish_non_exhaustive()
    }
}

impl StatusBoard {
    pub fn snapshot(&self) -> SyncStatusView {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn on_change(&self, f: impl Fn(&SyncStatusView) + Send + Sync + 'static) {
        if let Ok(mut l) = self.listener.lock() {
            *l = Some(Box::new(f));
        }
    }

    pub fn update(&self, f: impl FnOnce(&mut SyncStatusView)) {
        let snapshot = match self.status.lock() {
            Ok(mut s) => {
                f(&mut s);
                s.clone()
            }
            Err(_) => return,
        };
        if let Ok(l) = self.listener.lock() {
            if let Some(cb) = l.as_ref() {
                cb(&snapshot);
            }
        }
    }

    /// Re-reads the counts the status bar shows from the account's cache.
    pub async fn refresh_counts(&self, s: &Signed) {
        let outbox = s.cache.outbox_count().await.unwrap_or(0);
        let conflicts = s.cache.open_conflict_count().await.unwrap_or(0);
        let claimed = s.cache.claimed().await.map(|c| c.len()).unwrap_or(0);
        self.update(|st| {
            st.signed_in = true;
            st.outbox = outbox;
            st.conflicts = conflicts;
            st.claimed = u32::try_from(claimed).unwrap_or(u32::MAX);
        });
    }

    pub fn mark_online(&self, online: bool, error: Option<&DeskError>) {
        self.update(|st| {
            st.online = online;
            st.last_error = error.map(DeskError::view);
            if online {
                st.last_sync_at = Some(chrono::Utc::now().to_rfc3339());
            }
        });
    }
}
