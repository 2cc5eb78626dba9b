//! The workstation: the façade the window's commands call. It owns the parts and delegates:
//! the signed-in account and status (`account.rs`), network work (`sync.rs`, a [`SyncEngine`]),
//! local hints (`hints.rs`, a [`Hinter`]) and views of cached data (`present.rs`). Imports run
//! one way: the parts never reach back into the façade.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gradphoto_domain::reasons::RejectReason;

use crate::account::{http_client, now_ms, Signed, SignedIn, StatusBoard};
use crate::audit;
use crate::cache::Cache;
use crate::error::{DeskError, DeskResult};
use crate::hints::Hinter;
use crate::quality;
use crate::session::{normalize_server_url, Account, AccountFile, Keyring};
use crate::sync::SyncEngine;
use crate::view::{
    AdminSchoolView, AgreementView, AuditFilterView, AuditPageView, ChainView, ClaimResult,
    CodesIssuedView, ConflictView, DecideRequest, DecideResult, DecisionInput, ExportDoneView,
    ExportProgressView, GridApproveRequest, GridApproveResult, GridView, HintsView, ItemView,
    OverrideRequestRowView, OverrideResultView, PasswordResetView, PolicyView, ProgressFilterView,
    ProgressStudentsView, ProgressView, QueueFilter, QueuePage, ReasonView, RereviewFilterView,
    RereviewPageView, RereviewView, SavePolicyRequest, SavedFileView, SessionView, SignInRequest,
    StaffAccountView, StartupView, StatsFilterView, StatsView, SyncStatusView, TimelineView,
};

pub struct Workstation {
    data_dir: PathBuf,
    keyring: Keyring,
    signed: SignedIn,
    status: Arc<StatusBoard>,
    sync: SyncEngine,
    hinter: Hinter,
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

impl Workstation {
    pub fn new(data_dir: &Path) -> Workstation {
        Workstation::with_keyring(data_dir, Keyring::default())
    }

    pub fn with_keyring(data_dir: &Path, keyring: Keyring) -> Workstation {
        let status = Arc::new(StatusBoard::default());
        Workstation {
            data_dir: data_dir.to_path_buf(),
            keyring,
            signed: SignedIn::default(),
            sync: SyncEngine::new(status.clone()),
            status,
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
        self.status.on_change(f);
    }

    pub fn status(&self) -> SyncStatusView {
        self.status.snapshot()
    }

    async fn current(&self) -> DeskResult<Arc<Signed>> {
        self.signed.current().await
    }

    async fn refresh_counts(&self) {
        if let Ok(s) = self.current().await {
            self.status.refresh_counts(&s).await;
        }
    }

    /// Claims up to `count` items and caches each with its images, oldest first.
    pub async fn claim(&self, count: u32) -> DeskResult<ClaimResult> {
        let s = self.current().await?;
        self.sync.claim(&s, count).await
    }

    /// One pass of all network work. Returns the resulting status; being offline is a
    /// status, not an error.
    pub async fn sync_pass(&self) -> DeskResult<SyncStatusView> {
        let s = self.current().await?;
        self.sync.pass(&s).await
    }

    /// The hints of a held item: from the cache when computed before, else computed now.
    pub async fn hints(&self, item_id: &str) -> DeskResult<HintsView> {
        let s = self.current().await?;
        self.hinter.hints(&s, item_id).await
    }

    /// Supervisor mode: one page of the audit history.
    pub async fn audit_page(&self, filter: &AuditFilterView) -> DeskResult<AuditPageView> {
        let s = self.current().await?;
        audit::page(&s, filter).await
    }

    /// Supervisor mode: a student's full ID number, for a reason the server records.
    pub async fn audit_reveal(&self, student_id: &str, reason: &str) -> DeskResult<String> {
        let s = self.current().await?;
        audit::reveal(&s, student_id, reason).await
    }

    /// Supervisor mode: a student's whole history.
    pub async fn timeline(&self, case_id: &str) -> DeskResult<TimelineView> {
        let s = self.current().await?;
        audit::timeline(&s, case_id).await
    }

    /// Supervisor mode: a picture of the timeline, as a `data:` URL.
    pub async fn timeline_photo(&self, path: &str) -> DeskResult<String> {
        let s = self.current().await?;
        audit::photo(&s, path).await
    }

    /// Administrator mode: the schools this administrator manages.
    pub async fn admin_schools(&self) -> DeskResult<Vec<AdminSchoolView>> {
        let s = self.current().await?;
        crate::admin::schools(&s).await
    }

    /// Administrator mode: a school's policy, with its versions.
    pub async fn school_policy(&self, school_id: &str) -> DeskResult<PolicyView> {
        let s = self.current().await?;
        crate::admin::policy(&s, school_id).await
    }

    /// Administrator mode: saves a school's policy as a new version.
    pub async fn save_school_policy(&self, req: &SavePolicyRequest) -> DeskResult<PolicyView> {
        let s = self.current().await?;
        crate::admin::save(&s, req).await
    }

    /// Administrator mode: where a school's students stand, rows by `by` (`college`, `major`
    /// or `level`).
    pub async fn progress(&self, school_id: &str, by: &str) -> DeskResult<ProgressView> {
        let by = crate::progress::GroupBy::parse(by)?;
        let s = self.current().await?;
        crate::progress::progress(&s, school_id, by).await
    }

    /// Administrator mode: a page of the students behind a progress count.
    pub async fn progress_students(
        &self,
        school_id: &str,
        filter: &ProgressFilterView,
        after: Option<String>,
    ) -> DeskResult<ProgressStudentsView> {
        let s = self.current().await?;
        crate::progress::students(&s, school_id, filter, after).await
    }

    /// Administrator mode: saves the whole list behind a count as CSV in `dir`.
    pub async fn progress_export(
        &self,
        school_id: &str,
        filter: &ProgressFilterView,
        dir: &Path,
    ) -> DeskResult<SavedFileView> {
        let s = self.current().await?;
        crate::progress::export(&s, school_id, filter, dir).await
    }

    /// Administrator mode: codes for every student without one, or (re-)issued for one.
    pub async fn issue_codes(
        &self,
        school_id: &str,
        student_no: &str,
        reissue: bool,
    ) -> DeskResult<CodesIssuedView> {
        let s = self.current().await?;
        crate::codes::issue(&s, school_id, student_no, reissue).await
    }

    /// Administrator mode: frees a student's code from a lost browser.
    pub async fn unbind_code(&self, case_id: &str) -> DeskResult<bool> {
        let s = self.current().await?;
        crate::codes::unbind(&s, case_id).await
    }

    /// Administrator mode: saves sheets (`pdf`) or links (`csv`) of the codes of the students
    /// `filter` selects, in `dir`.
    pub async fn save_codes(
        &self,
        school_id: &str,
        filter: &ProgressFilterView,
        format: &str,
        dir: &Path,
    ) -> DeskResult<SavedFileView> {
        let kind = match format {
            "pdf" => crate::codes::Handout::Sheets,
            "csv" => crate::codes::Handout::Links,
            other => {
                return Err(DeskError::InvalidInput {
                    zh: format!("不能保存为“{other}”"),
                    en: format!("Cannot save as \"{other}\""),
                })
            }
        };
        let s = self.current().await?;
        crate::codes::save(&s, school_id, filter, kind, dir).await
    }

    /// Administrator mode: the staff accounts managed.
    pub async fn staff_accounts(&self) -> DeskResult<Vec<StaffAccountView>> {
        let s = self.current().await?;
        crate::admin::staff(&s).await
    }

    /// Administrator mode: disables or enables an account.
    pub async fn set_staff_disabled(
        &self,
        user_id: &str,
        disabled: bool,
    ) -> DeskResult<StaffAccountView> {
        let s = self.current().await?;
        crate::admin::set_disabled(&s, user_id, disabled).await
    }

    /// Administrator mode: gives an account another role.
    pub async fn set_staff_role(&self, user_id: &str, role: &str) -> DeskResult<StaffAccountView> {
        let s = self.current().await?;
        crate::admin::set_role(&s, user_id, role).await
    }

    /// Administrator mode: a new password for an account, shown once.
    pub async fn reset_staff_password(&self, user_id: &str) -> DeskResult<PasswordResetView> {
        let s = self.current().await?;
        crate::admin::reset_password(&s, user_id).await
    }

    /// Supervisor mode: the statistics' charts.
    pub async fn stats(&self, filter: &StatsFilterView) -> DeskResult<StatsView> {
        let s = self.current().await?;
        crate::stats::stats(&s, filter).await
    }

    /// Supervisor mode: a page of re-review samples.
    pub async fn rereviews(&self, filter: &RereviewFilterView) -> DeskResult<RereviewPageView> {
        let s = self.current().await?;
        quality::page(&s, filter).await
    }

    /// Supervisor mode: the supervisor's own verdict on a sample.
    pub async fn rereview_decide(
        &self,
        id: &str,
        decision: DecisionInput,
    ) -> DeskResult<RereviewView> {
        let s = self.current().await?;
        quality::decide(&s, id, decision).await
    }

    /// Supervisor mode: how each reviewer's samples fared.
    pub async fn rereview_agreement(&self) -> DeskResult<Vec<AgreementView>> {
        let s = self.current().await?;
        quality::agreement(&s).await
    }

    /// Supervisor mode: overrides a case's decision, with a reason.
    pub async fn override_case(
        &self,
        case_id: &str,
        decision_id: &str,
        decision: DecisionInput,
        reason: &str,
    ) -> DeskResult<OverrideResultView> {
        let s = self.current().await?;
        quality::override_case(&s, case_id, decision_id, decision, reason).await
    }

    /// Supervisor mode: override requests, pending or answered.
    pub async fn override_requests(
        &self,
        answered: bool,
    ) -> DeskResult<Vec<OverrideRequestRowView>> {
        let s = self.current().await?;
        quality::requests(&s, answered).await
    }

    pub async fn override_confirm(&self, request_id: &str) -> DeskResult<OverrideRequestRowView> {
        let s = self.current().await?;
        quality::confirm(&s, request_id).await
    }

    pub async fn override_decline(
        &self,
        request_id: &str,
        comment: &str,
    ) -> DeskResult<OverrideRequestRowView> {
        let s = self.current().await?;
        quality::decline(&s, request_id, comment).await
    }

    /// Supervisor mode: checks the audit chain.
    pub async fn audit_verify(&self) -> DeskResult<ChainView> {
        let s = self.current().await?;
        audit::verify(&s).await
    }

    /// Supervisor mode: exports the filtered history as CSV into `dir`.
    pub async fn audit_export(
        &self,
        filter: &AuditFilterView,
        dir: &Path,
        progress: impl Fn(ExportProgressView),
    ) -> DeskResult<ExportDoneView> {
        let s = self.current().await?;
        audit::export(&s, filter, dir, progress).await
    }

    /// Restores the last session without the network: the account file names the account,
    /// the keyring holds its token, the cache holds its work.
    pub async fn startup(&self) -> DeskResult<StartupView> {
        let keyring = self.keyring.status();
        let file = AccountFile::load(&self.data_dir);
        if !self.signed.is_signed_in().await {
            if let Some(account) = file.current.clone().filter(|a| !a.session_only) {
                if keyring.available {
                    if let Some(token) = self.keyring.load(&account.key())? {
                        self.activate(account, token, false).await?;
                    }
                }
            }
        }
        let session = self.current().await.ok().map(|s| s.account.view());
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
        self.signed
            .set(Some(Arc::new(Signed {
                account,
                client,
                cache,
                session_only,
            })))
            .await;
        self.status.update(|st| {
            *st = SyncStatusView {
                signed_in: true,
                ..SyncStatusView::default()
            }
        });
        self.refresh_counts().await;
        self.sync.wake();
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
        if self.signed.is_signed_in().await {
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
        let Ok(signed) = self.current().await else {
            return Ok(());
        };
        let _ = self.sync.pass(&signed).await;
        let _guard = self.sync.exclusive().await;
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
        self.signed.set(None).await;
        signed.cache.close().await;
        self.status.update(|st| *st = SyncStatusView::default());
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

    /// The full ID number of an item this reviewer holds, read from the server, which allows it
    /// only under the lease and records the view; never kept in the cache.
    pub async fn reveal_id_number(&self, item_id: &str) -> DeskResult<String> {
        let s = self.current().await?;
        Ok(s.client.review_id_number(item_id).await?.id_number)
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
        self.sync.wake();
        let next_item_id = s.cache.next_claimed(Some(&req.item_id)).await?;
        Ok(DecideResult {
            decision_id,
            next_item_id,
        })
    }

    /// Grid review: the held items whose hints all pass, as the cache holds them now.
    pub async fn grid(&self) -> DeskResult<GridView> {
        let s = self.current().await?;
        crate::grid::view(&s.cache).await
    }

    /// Grid review: claims until a full grid is held, then answers the grid.
    pub async fn grid_fill(&self) -> DeskResult<GridView> {
        let s = self.current().await?;
        crate::grid::fill(&self.sync, &s).await
    }

    /// Grid review: approves the chosen photos, each as its own decision, and tells what became
    /// of each.
    pub async fn grid_approve(&self, req: GridApproveRequest) -> DeskResult<GridApproveResult> {
        let s = self.current().await?;
        let result = crate::grid::approve(&self.sync, &s, &req.item_ids).await?;
        self.refresh_counts().await;
        Ok(result)
    }

    /// Runs the background work until the process ends: a sync pass every few seconds, and
    /// at once after each decision; hints for held items are computed on their own task so
    /// that the models never hold up delivery of decisions.
    pub async fn run_background(self: Arc<Self>, every: Duration) {
        let hints = self.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(s) = hints.current().await {
                    hints.hinter.compute_missing(&s).await;
                }
                tokio::time::sleep(every).await;
            }
        });
        loop {
            self.sync.wait(every).await;
            if let Ok(s) = self.current().await {
                let _ = self.sync.pass(&s).await;
            }
        }
    }
}

/// Reasons must come from the catalogue; `other` needs a comment.
pub fn check_decision(d: DecisionInput) -> DeskResult<DecisionInput> {
    crate::present::checked_decision(d)
}
