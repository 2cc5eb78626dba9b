//! The sync engine: claims with their images, lease renewal, delivery of the outbox, and the
//! incremental pull of queue changes. Each step tolerates the server going away mid-way; what
//! was not done is done on the next pass.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use gradphoto_api::error::ErrorCode;
use gradphoto_api::review::{ImageKind as ApiImageKind, QueueQuery, ReviewItem, MAX_CLAIM};
use gradphoto_api::sync::CaseChange;
use gradphoto_domain::state::CaseState;
use tokio::sync::{Mutex, MutexGuard, Notify};

use crate::account::{now_ms, Signed, StatusBoard};
use crate::cache::{Cache, OutboxEntry, RemoteRow};
use crate::error::{DeskError, DeskResult};
use crate::view::{ClaimResult, ConflictKind, SyncStatusView};

/// Renew a lease when less than this much of it is left.
const RENEW_MARGIN_MS: i64 = 5 * 60 * 1000;
/// Pages of the change feed read per pass (each up to `SYNC_PAGE` changes).
const SYNC_PAGES_PER_PASS: usize = 50;
const SYNC_PAGE: u32 = 1000;
const QUEUE_PAGE: u32 = 200;

const META_CURSOR: &str = "sync_cursor";
const META_SCHOOLS: &str = "school_names";

/// The images a reviewer looks at, as the server names them.
pub const FETCHED_IMAGES: [ApiImageKind; 5] = [
    ApiImageKind::IdFront,
    ApiImageKind::IdBack,
    ApiImageKind::Enrollment,
    ApiImageKind::Original,
    ApiImageKind::Standardized,
];

fn remote_row(item: &ReviewItem) -> RemoteRow {
    RemoteRow {
        item_id: item.case_id.clone(),
        student_name: item.student.name.clone(),
        student_no: item.student.student_no.clone(),
        school: item.student.school_name.clone(),
        submitted_ms: item.submitted_at_ms.unwrap_or(0),
        round: item.round,
        flagged: item.flagged,
    }
}

/// How a refusal of a queued decision is filed.
fn conflict_kind(code: Option<ErrorCode>) -> ConflictKind {
    match code {
        Some(
            ErrorCode::LeaseLost
            | ErrorCode::LeaseExpired
            | ErrorCode::NotLeaseHolder
            | ErrorCode::LeaseHeldByOther,
        ) => ConflictKind::LeaseLost,
        Some(ErrorCode::NoLongerSubmitted) => ConflictKind::Withdrawn,
        Some(ErrorCode::AlreadyDecided) => ConflictKind::Overridden,
        _ => ConflictKind::Refused,
    }
}

/// The server no longer knows this reviewer's hold on the item (it ran out, was released or
/// taken), or the item itself.
fn lease_gone(e: &DeskError) -> bool {
    matches!(
        e.server_code(),
        Some(
            ErrorCode::LeaseLost
                | ErrorCode::LeaseExpired
                | ErrorCode::NotLeaseHolder
                | ErrorCode::LeaseHeldByOther
                | ErrorCode::NotFound
        )
    )
}

/// Fetches an item's review record and images into the cache under the given lease.
pub(crate) async fn cache_item(s: &Signed, case_id: &str, lease_until_ms: i64) -> DeskResult<()> {
    let item = s.client.review_item(case_id).await?;
    for img in &item.images {
        if !FETCHED_IMAGES.contains(&img.kind) {
            continue;
        }
        let got = s.client.review_image(case_id, img.kind).await?;
        let ct = got
            .content_type
            .unwrap_or_else(|| "application/octet-stream".into());
        s.cache
            .store_image(case_id, img.kind.as_str(), &ct, &got.bytes)
            .await?;
    }
    let detail = serde_json::to_string(&item).map_err(DeskError::data)?;
    s.cache
        .store_claimed(
            &remote_row(&item),
            &item.student.college,
            lease_until_ms,
            &detail,
            now_ms(),
        )
        .await
}

/// Gives back every held, undecided item (sign-out). Unreachable servers expire the leases.
pub(crate) async fn release_all(s: &Signed) {
    let Ok(held) = s.cache.claimed().await else {
        return;
    };
    for row in held {
        if s.client.release_lease(&row.item_id).await.is_ok() {
            let _ = s.cache.unclaim(&row.item_id).await;
        }
    }
}

/// The network side of the workstation for the signed-in account it is handed: one pass at a
/// time, woken after every decision and on a timer.
#[derive(Debug)]
pub struct SyncEngine {
    status: Arc<StatusBoard>,
    wake: Notify,
    /// One sync pass at a time (the background loop, "sync now" and sign-out share it).
    lock: Mutex<()>,
}

impl SyncEngine {
    pub fn new(status: Arc<StatusBoard>) -> SyncEngine {
        SyncEngine {
            status,
            wake: Notify::new(),
            lock: Mutex::new(()),
        }
    }

    /// Asks for a pass as soon as possible (a decision was recorded, an account signed in).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits until woken, or `every` at most.
    pub async fn wait(&self, every: Duration) {
        let _ = tokio::time::timeout(every, self.wake.notified()).await;
    }

    /// Holds off every other pass (sign-out gives back its items under it).
    pub async fn exclusive(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().await
    }

    /// Claims up to `count` items and caches each with its images, oldest first.
    pub async fn claim(&self, s: &Signed, count: u32) -> DeskResult<ClaimResult> {
        let response = match s.client.claim_next(count.clamp(1, MAX_CLAIM)).await {
            Ok(r) => r,
            Err(e) => {
                let e = DeskError::from(e);
                // Holding as many as allowed is not a failure: work on what is held.
                if e.server_code() == Some(ErrorCode::HoldLimitReached) {
                    return Ok(ClaimResult {
                        claimed: 0,
                        first_item_id: s.cache.next_claimed(None).await?,
                    });
                }
                if e.is_offline() {
                    self.status.mark_online(false, Some(&e));
                }
                return Err(e);
            }
        };
        let mut first = None;
        let mut claimed = 0u32;
        for lease in &response.leases {
            match cache_item(s, &lease.case_id, lease.until_ms).await {
                Ok(()) => {
                    claimed += 1;
                    first.get_or_insert_with(|| lease.case_id.clone());
                }
                Err(e) if e.is_offline() => {
                    self.status.mark_online(false, Some(&e));
                    break;
                }
                Err(e) => {
                    tracing::warn!(case = %lease.case_id, error = %e, "claimed item could not be cached")
                }
            }
        }
        self.status.mark_online(true, None);
        self.status.refresh_counts(s).await;
        self.wake();
        // The first claimed item is shown; an older held one comes first in the work list.
        let first_item_id = match s.cache.next_claimed(None).await? {
            Some(id) => Some(id),
            None => first,
        };
        Ok(ClaimResult {
            claimed,
            first_item_id,
        })
    }

    /// One pass of all network work. Returns the resulting status; being offline is a
    /// status, not an error.
    pub async fn pass(&self, s: &Signed) -> DeskResult<SyncStatusView> {
        let _guard = self.lock.lock().await;
        // Administrators hold no items and make no decisions: nothing to send or pull.
        if !s.account.reviews() {
            return Ok(self.status.snapshot());
        }
        self.status.update(|st| st.syncing = true);
        let result = async {
            self.deliver_outbox(s).await?;
            self.renew_leases(s).await?;
            self.pull_changes(s).await?;
            self.complete_cache(s).await
        }
        .await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "sync pass stopped");
        }
        match &result {
            Ok(()) => self.status.mark_online(true, None),
            Err(e) if e.is_offline() => self.status.mark_online(false, Some(e)),
            Err(e) => self.status.update(|st| st.last_error = Some(e.view())),
        }
        self.status.update(|st| st.syncing = false);
        self.status.refresh_counts(s).await;
        match result {
            Err(e) if !e.is_offline() && matches!(e, DeskError::Server { status: 401, .. }) => {
                Err(DeskError::NotSignedIn)
            }
            _ => Ok(self.status.snapshot()),
        }
    }

    async fn deliver_outbox(&self, s: &Signed) -> DeskResult<()> {
        for entry in s.cache.queued().await? {
            self.deliver(s, &entry).await?;
        }
        Ok(())
    }

    /// Sends one decision. A lapsed lease is re-claimed when nobody else took the item, so
    /// work done offline still counts; every other refusal becomes a conflict.
    async fn deliver(&self, s: &Signed, entry: &OutboxEntry) -> DeskResult<()> {
        let send = || {
            s.client.decide(
                &entry.item_id,
                &entry.decision_id,
                entry.decision.to_verdict(),
            )
        };
        let first = send().await.map_err(DeskError::from);
        let outcome = match first {
            Err(e) if lease_gone(&e) => match s.client.claim_case(&entry.item_id).await {
                Ok(_) => send().await.map_err(DeskError::from),
                Err(claim_err) => {
                    let claim_err = DeskError::from(claim_err);
                    if claim_err.is_offline() {
                        Err(claim_err)
                    } else {
                        Err(e)
                    }
                }
            },
            other => other,
        };
        match outcome {
            Ok(_) => s.cache.mark_synced(entry, now_ms()).await,
            Err(e) if e.is_offline() => {
                s.cache
                    .note_attempt(&entry.decision_id, &e.to_string())
                    .await?;
                Err(e)
            }
            Err(e @ DeskError::Server { status: 401, .. }) => Err(e),
            Err(e @ DeskError::Server { status, .. }) if status >= 500 => {
                s.cache
                    .note_attempt(&entry.decision_id, &e.to_string())
                    .await?;
                Err(e)
            }
            Err(e) => {
                let view = e.view();
                let kind = conflict_kind(e.server_code());
                s.cache.mark_conflict(entry, kind, &view, now_ms()).await
            }
        }
    }

    async fn renew_leases(&self, s: &Signed) -> DeskResult<()> {
        let now = now_ms();
        for row in s.cache.claimed().await? {
            if row
                .lease_until_ms
                .is_some_and(|u| u - now > RENEW_MARGIN_MS)
            {
                continue;
            }
            match s
                .client
                .renew_lease(&row.item_id)
                .await
                .map_err(DeskError::from)
            {
                Ok(lease) => s.cache.set_lease(&row.item_id, lease.until_ms).await?,
                Err(e) if e.is_offline() => return Err(e),
                Err(e)
                    if lease_gone(&e) || e.server_code() == Some(ErrorCode::ConcurrentChange) =>
                {
                    // Taken back while we were away: hold it again if it is still free.
                    match s
                        .client
                        .claim_case(&row.item_id)
                        .await
                        .map_err(DeskError::from)
                    {
                        Ok(r) => {
                            if let Some(l) = r.leases.first() {
                                s.cache.set_lease(&row.item_id, l.until_ms).await?;
                            }
                        }
                        Err(e) if e.is_offline() => return Err(e),
                        Err(_) => s.cache.unclaim(&row.item_id).await?,
                    }
                }
                Err(e) => {
                    tracing::warn!(case = %row.item_id, error = %e, "lease renewal refused");
                    s.cache.unclaim(&row.item_id).await?;
                }
            }
        }
        Ok(())
    }

    async fn school_names(cache: &Cache) -> HashMap<String, String> {
        cache
            .meta(META_SCHOOLS)
            .await
            .ok()
            .flatten()
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default()
    }

    /// Applies the change feed since the last cursor; the first time, reads the whole queue.
    async fn pull_changes(&self, s: &Signed) -> DeskResult<()> {
        let mut cursor: i64 = s
            .cache
            .meta(META_CURSOR)
            .await?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut schools = SyncEngine::school_names(&s.cache).await;
        if cursor == 0 {
            self.read_whole_queue(s, &mut schools).await?;
        }
        for _ in 0..SYNC_PAGES_PER_PASS {
            let page = s
                .client
                .sync_page(cursor, Some(SYNC_PAGE))
                .await
                .map_err(DeskError::from)?;
            self.apply_changes(s, &page.changes, &schools).await?;
            cursor = page.next_cursor;
            s.cache.set_meta(META_CURSOR, &cursor.to_string()).await?;
            if !page.has_more {
                break;
            }
        }
        Ok(())
    }

    async fn read_whole_queue(
        &self,
        s: &Signed,
        schools: &mut HashMap<String, String>,
    ) -> DeskResult<()> {
        let mut query = QueueQuery {
            limit: Some(QUEUE_PAGE),
            ..QueueQuery::default()
        };
        loop {
            let page = s
                .client
                .review_queue(&query)
                .await
                .map_err(DeskError::from)?;
            let rows: Vec<RemoteRow> = page
                .items
                .iter()
                .map(|i| {
                    schools.insert(i.school_id.clone(), i.school_name.clone());
                    RemoteRow {
                        item_id: i.case_id.clone(),
                        student_name: i.student_name.clone(),
                        student_no: i.student_no.clone(),
                        school: i.school_name.clone(),
                        submitted_ms: i.submitted_at_ms,
                        round: i.round,
                        flagged: i.flagged,
                    }
                })
                .collect();
            s.cache.upsert_pending(&rows, now_ms()).await?;
            match page.next_cursor {
                Some(c) if page.has_more => query.cursor = Some(c),
                _ => break,
            }
        }
        let json = serde_json::to_string(schools).map_err(DeskError::data)?;
        s.cache.set_meta(META_SCHOOLS, &json).await
    }

    async fn apply_changes(
        &self,
        s: &Signed,
        changes: &[CaseChange],
        schools: &HashMap<String, String>,
    ) -> DeskResult<()> {
        let now = now_ms();
        let mut waiting = Vec::new();
        for c in changes {
            let live_lease = c.lease.as_ref().filter(|l| l.until_ms > now);
            let is_waiting = c.state == CaseState::PendingReview
                || (c.state == CaseState::InReview && live_lease.is_none());
            let mine = live_lease.is_some_and(|l| l.holder == s.account.user_id);
            if is_waiting {
                waiting.push(RemoteRow {
                    item_id: c.case_id.clone(),
                    student_name: c.student_name.clone(),
                    student_no: c.student_no.clone(),
                    school: schools
                        .get(&c.school_id)
                        .cloned()
                        .unwrap_or_else(|| c.school_id.clone()),
                    submitted_ms: c.submitted_at_ms.unwrap_or(0),
                    round: c.round,
                    flagged: c.flagged,
                });
            } else {
                s.cache.forget_pending(&c.case_id).await?;
            }
            // A held, undecided item that someone else now holds (or that left review) is no
            // longer ours to decide; nothing was decided on it, so nothing is lost.
            if !mine && !is_waiting {
                if let Some(row) = s.cache.row(&c.case_id).await? {
                    if row.status == crate::view::RowStatus::Claimed {
                        s.cache.unclaim(&c.case_id).await?;
                        s.cache.forget_pending(&c.case_id).await?;
                    }
                }
            }
        }
        s.cache.upsert_pending(&waiting, now).await
    }

    /// Fetches images a claim could not get because the connection dropped half-way.
    async fn complete_cache(&self, s: &Signed) -> DeskResult<()> {
        for row in s.cache.claimed().await? {
            let Some(detail) = s.cache.detail(&row.item_id).await? else {
                continue;
            };
            let Ok(item) = serde_json::from_str::<ReviewItem>(&detail) else {
                continue;
            };
            let have = s.cache.image_kinds(&row.item_id).await?;
            for img in &item.images {
                if FETCHED_IMAGES.contains(&img.kind)
                    && !have.iter().any(|k| k == img.kind.as_str())
                {
                    let got = match s.client.review_image(&row.item_id, img.kind).await {
                        Ok(got) => got,
                        Err(e) => {
                            let e = DeskError::from(e);
                            // The lease lapsed before the images came: the server shows
                            // them only under a lease, and the lease's fate is settled by
                            // renewal and the change feed, not here.
                            if e.server_code() == Some(ErrorCode::LeaseRequired) {
                                break;
                            }
                            return Err(e);
                        }
                    };
                    let ct = got
                        .content_type
                        .unwrap_or_else(|| "application/octet-stream".into());
                    s.cache
                        .store_image(&row.item_id, img.kind.as_str(), &ct, &got.bytes)
                        .await?;
                }
            }
        }
        Ok(())
    }
}
