//! The workstation: who is signed in, what is claimed, and the commands the window calls.
//! Network work (claims, sync, leases) lives in `sync.rs`; views of cached data in `present.rs`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use gradphoto_client::Client;
use gradphoto_domain::reasons::{RejectReason, Rejection};
use gradphoto_domain::Localized;
use tokio::sync::{Mutex, Notify, RwLock};

use crate::cache::Cache;
use crate::error::{DeskError, DeskResult};
use crate::hints::Hinter;
use crate::session::{normalize_server_url, Account, AccountFile, Keyring};
use crate::view::{
    ConflictView, DecideRequest, DecideResult, DecisionInput, ItemView, QueueFilter, QueuePage,
    ReasonView, SessionView, SignInRequest, StartupView, SyncStatusView,
};

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

type Listener = Box<dyn Fn(&SyncStatusView) + Send + Sync>;

pub struct Workstation {
    data_dir: PathBuf,
    keyring: Keyring,
    pub(crate) signed: RwLock<Option<Arc<Signed>>>,
    pub(crate) status: StdMutex<SyncStatusView>,
    listener: StdMutex<Option<Listener>>,
    pub(crate) wake: Notify,
    /// One sync pass at a time (the background loop and "sync now" share it).
    pub(crate) sync_lock: Mutex<()>,
    pub(crate) hinter: Hinter,
    /// Server address offered on the sign-in form when none was used before.
    default_server: Option<String>,
}

impl std::fmt::Debug for Workstation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workstation")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
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

impl Workstation {
    pub fn new(data_dir: &Path) -> Workstation {
        Workstation::with_keyring(data_dir, Keyring::default())
    }

    pub fn with_keyring(data_dir: &Path, keyring: Keyring) -> Workstation {
        Workstation {
            data_dir: data_dir.to_path_buf(),
            keyring,
            signed: RwLock::new(None),
            status: StdMutex::new(SyncStatusView::default()),
            listener: StdMutex::new(None),
            wake: Notify::new(),
            sync_lock: Mutex::new(()),
            hinter: Hinter::default(),
            default_server: None,
        }
    }

    /// Offers `url` on the sign-in form until the reviewer has used another one.
    pub fn with_default_server(mut self, url: Option<String>) -> Workstation {
        self.default_server = url;
        self
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Called with the new status whenever the sync state changes.
    pub fn on_status(&self, f: impl Fn(&SyncStatusView) + Send + Sync + 'static) {
        if let Ok(mut l) = self.listener.lock() {
            *l = Some(Box::new(f));
        }
    }

    pub fn status(&self) -> SyncStatusView {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub(crate) fn update_status(&self, f: impl FnOnce(&mut SyncStatusView)) {
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

    pub(crate) async fn current(&self) -> DeskResult<Arc<Signed>> {
        self.signed
            .read()
            .await
            .clone()
            .ok_or(DeskError::NotSignedIn)
    }

    pub(crate) async fn refresh_counts(&self) {
        let Ok(s) = self.current().await else {
            return;
        };
        let outbox = s.cache.outbox_count().await.unwrap_or(0);
        let conflicts = s.cache.open_conflict_count().await.unwrap_or(0);
        let claimed = s.cache.claimed().await.map(|c| c.len()).unwrap_or(0);
        self.update_status(|st| {
            st.signed_in = true;
            st.outbox = outbox;
            st.conflicts = conflicts;
            st.claimed = u32::try_from(claimed).unwrap_or(u32::MAX);
        });
    }

    /// Restores the last session without the network: the account file names the account,
    /// the keyring holds its token, the cache holds its work.
    pub async fn startup(&self) -> DeskResult<StartupView> {
        let keyring = self.keyring.status();
        let file = AccountFile::load(&self.data_dir);
        if self.signed.read().await.is_none() {
            if let Some(account) = file.current.clone().filter(|a| !a.session_only) {
                if keyring.available {
                    if let Some(token) = self.keyring.load(&account.key())? {
                        self.activate(account, token, false).await?;
                    }
                }
            }
        }
        let session = self.signed.read().await.as_ref().map(|s| s.account.view());
        Ok(StartupView {
            session,
            keyring,
            last_server_url: file.last_server_url.or_else(|| self.default_server.clone()),
            last_user_name: file.last_user_name,
        })
    }

    async fn activate(
        &self,
        account: Account,
        token: String,
        session_only: bool,
    ) -> DeskResult<()> {
        let client = http_client(&account.server_url)?.with_token(token);
        let cache = Cache::open(&account.cache_file(&self.data_dir)).await?;
        *self.signed.write().await = Some(Arc::new(Signed {
            account,
            client,
            cache,
            session_only,
        }));
        self.update_status(|st| {
            *st = SyncStatusView {
                signed_in: true,
                ..SyncStatusView::default()
            }
        });
        self.refresh_counts().await;
        self.wake.notify_one();
        Ok(())
    }

    pub async fn sign_in(&self, req: SignInRequest) -> DeskResult<SessionView> {
        let server_url = normalize_server_url(&req.server_url)?;
        let user_name = req.user_name.trim().to_string();
        if !req.session_only {
            let status = self.keyring.status();
            if !status.available {
                return Err(DeskError::KeyringUnavailable(
                    status.detail.unwrap_or_default(),
                ));
            }
        }
        if self.signed.read().await.is_some() {
            self.sign_out().await?;
        }
        let mut client = http_client(&server_url)?;
        let login = client.login(&user_name, &req.password).await?;
        let account = Account {
            server_url: server_url.clone(),
            user_name: login.user.username.clone(),
            user_id: login.user.id.clone(),
            role: serde_json::to_value(login.user.role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            session_only: req.session_only,
        };
        if !req.session_only {
            self.keyring.store(&account.key(), &login.token)?;
        }
        let file = AccountFile {
            current: Some(account.clone()),
            last_server_url: Some(server_url),
            last_user_name: Some(account.user_name.clone()),
        };
        file.save(&self.data_dir)?;
        let view = account.view();
        self.activate(account, login.token, req.session_only)
            .await?;
        Ok(view)
    }

    /// Sends what can be sent, gives back held items, forgets the token. Undelivered decisions
    /// stay in this account's cache and go out at its next sign-in.
    pub async fn sign_out(&self) -> DeskResult<()> {
        let Some(signed) = self.signed.read().await.clone() else {
            return Ok(());
        };
        let _ = self.sync_pass().await;
        let _guard = self.sync_lock.lock().await;
        crate::sync::release_all(&signed).await;
        let mut client = signed.client.clone();
        // The server may be unreachable; the token is forgotten here regardless.
        let _ = client.logout().await;
        if !signed.session_only {
            self.keyring.delete(&signed.account.key())?;
        }
        let mut file = AccountFile::load(&self.data_dir);
        file.current = None;
        file.save(&self.data_dir)?;
        *self.signed.write().await = None;
        signed.cache.close().await;
        self.update_status(|st| *st = SyncStatusView::default());
        Ok(())
    }

    pub fn reasons(&self) -> Vec<ReasonView> {
        RejectReason::ALL
            .into_iter()
            .map(|r| ReasonView {
                code: r.code().to_string(),
                label_zh: r.label_zh().to_string(),
                label_en: r.label_en().to_string(),
                requires_comment: r.requires_comment(),
            })
            .collect()
    }

    pub async fn next_item(&self, after: Option<&str>) -> DeskResult<Option<String>> {
        self.current().await?.cache.next_claimed(after).await
    }

    pub async fn previous_item(&self, before: &str) -> DeskResult<Option<String>> {
        self.current().await?.cache.previous(before).await
    }

    pub async fn item(&self, item_id: &str) -> DeskResult<ItemView> {
        let s = self.current().await?;
        crate::present::item_view(&s.cache, item_id).await
    }

    pub async fn image(&self, item_id: &str, kind: &str) -> DeskResult<Option<(String, Vec<u8>)>> {
        self.current().await?.cache.image(item_id, kind).await
    }

    pub async fn queue(&self, filter: &QueueFilter) -> DeskResult<QueuePage> {
        let s = self.current().await?;
        crate::present::queue_page(&s.cache, filter, now_ms()).await
    }

    pub async fn conflicts(&self) -> DeskResult<Vec<ConflictView>> {
        let s = self.current().await?;
        crate::present::conflict_views(&s.cache).await
    }

    pub async fn acknowledge_conflict(&self, id: i64) -> DeskResult<()> {
        self.current()
            .await?
            .cache
            .acknowledge_conflict(id, now_ms())
            .await?;
        self.refresh_counts().await;
        Ok(())
    }

    /// Commits the decision locally (it survives a crash from here on), then lets the sync
    /// engine deliver it. Returns at once with the next item to show.
    pub async fn decide(&self, req: DecideRequest) -> DeskResult<DecideResult> {
        let s = self.current().await?;
        let decision = check_decision(req.decision)?;
        let decision_id = uuid::Uuid::now_v7().to_string();
        s.cache
            .record_decision(&req.item_id, &decision_id, &decision, now_ms())
            .await?;
        self.refresh_counts().await;
        self.wake.notify_one();
        let next_item_id = s.cache.next_claimed(Some(&req.item_id)).await?;
        Ok(DecideResult {
            decision_id,
            next_item_id,
        })
    }

    /// Runs the background work until the process ends: a sync pass every few seconds, and
    /// at once after each decision; hints for held items are computed on their own task so
    /// that the models never hold up delivery of decisions.
    pub async fn run_background(self: Arc<Self>, every: Duration) {
        let hints = self.clone();
        tokio::spawn(async move {
            loop {
                if hints.signed.read().await.is_some() {
                    hints.compute_missing_hints().await;
                }
                tokio::time::sleep(every).await;
            }
        });
        loop {
            let _ = tokio::time::timeout(every, self.wake.notified()).await;
            if self.signed.read().await.is_some() {
                let _ = self.sync_pass().await;
            }
        }
    }
}

/// Reasons must come from the catalogue; `other` needs a comment.
pub fn check_decision(d: DecisionInput) -> DeskResult<DecisionInput> {
    match d {
        DecisionInput::Approve => Ok(DecisionInput::Approve),
        DecisionInput::Reject { reasons, comment } => {
            let r = Rejection::parse(&reasons, comment.as_deref())
                .map_err(|e| DeskError::invalid(e.message_zh(), e.message_en()))?;
            Ok(DecisionInput::Reject {
                reasons: r.reasons.iter().map(|r| r.code().to_string()).collect(),
                comment: r.comment,
            })
        }
    }
}
