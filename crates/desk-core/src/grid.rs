//! Grid review: the held items whose local hints all pass and that the server did not flag,
//! shown together and approved in one action. Each approval is still its own outbox decision
//! with its own client decision id, delivered by the sync engine under the same lease rules as
//! a single approval, so sync, audit and conflicts see nothing new.

use std::collections::HashSet;

use gradphoto_api::review::{ImageKind as ApiImageKind, GRID_MAX, MAX_CLAIM};

use crate::account::{now_ms, Signed};
use crate::cache::Cache;
use crate::error::{DeskError, DeskResult};
use crate::present::image_path;
use crate::sync::SyncEngine;
use crate::view::{
    DecisionInput, ErrorView, GridApproveResult, GridItemResult, GridOutcome, GridTileView,
    GridView, RowStatus,
};

/// The grid as the cache holds it now (no network).
pub async fn view(cache: &Cache) -> DeskResult<GridView> {
    let (held, waiting_hints) = cache.held_counts().await?;
    let clean = cache.grid_rows(held).await?;
    let clean_count = u32::try_from(clean.len()).unwrap_or(u32::MAX);
    let tiles = clean
        .into_iter()
        .take(GRID_MAX as usize)
        .map(|r| GridTileView {
            photo: image_path(&r.item_id, ApiImageKind::Standardized),
            item_id: r.item_id,
            student_name: r.student_name,
            student_no: r.student_no,
            college: r.college,
        })
        .collect();
    Ok(GridView {
        tiles,
        held,
        waiting_hints,
        held_back: held.saturating_sub(waiting_hints.saturating_add(clean_count)),
        max: GRID_MAX,
    })
}

/// Claims until this workstation holds a full grid (in claims of at most `MAX_CLAIM`), then
/// answers the grid. The new items' hints are computed in the background: they join the grid
/// when they all pass. Offline, the grid is what is already held.
pub async fn fill(engine: &SyncEngine, s: &Signed) -> DeskResult<GridView> {
    let (mut held, _) = s.cache.held_counts().await?;
    while held < GRID_MAX {
        let want = (GRID_MAX - held).min(MAX_CLAIM);
        match engine.claim(s, want).await {
            Ok(r) if r.claimed > 0 => held += r.claimed,
            Ok(_) => break,
            Err(e) if e.is_offline() => break,
            Err(e) => return Err(e),
        }
    }
    view(&s.cache).await
}

fn not_in_grid() -> ErrorView {
    ErrorView {
        code: "not_in_grid".into(),
        message_zh: "这张照片不在宫格审核中（已处理、未领取或辅助判断未全部通过），请单张审核。"
            .into(),
        message_en:
            "This photo is not in the grid (already decided, not held, or its hints do not all \
             pass): review it on its own."
                .into(),
    }
}

/// Approves each of `item_ids` that is in the grid: one outbox decision per item, each with
/// its own decision id, committed locally first (as a single approval is), then delivered in
/// one sync pass. Answers what became of each item, in the order asked.
pub async fn approve(
    engine: &SyncEngine,
    s: &Signed,
    item_ids: &[String],
) -> DeskResult<GridApproveResult> {
    let (held, _) = s.cache.held_counts().await?;
    let clean: HashSet<String> = s
        .cache
        .grid_rows(held)
        .await?
        .into_iter()
        .map(|r| r.item_id)
        .collect();
    let mut seen = HashSet::new();
    let mut results = Vec::new();
    for id in item_ids {
        if !seen.insert(id.as_str()) {
            continue;
        }
        let student_name = s
            .cache
            .row(id)
            .await?
            .map(|r| r.student_name)
            .unwrap_or_default();
        let mut result = GridItemResult {
            item_id: id.clone(),
            student_name,
            outcome: GridOutcome::Refused,
            decision_id: None,
            error: None,
        };
        if !clean.contains(id) || seen.len() > GRID_MAX as usize {
            result.error = Some(not_in_grid());
            results.push(result);
            continue;
        }
        let decision_id = uuid::Uuid::now_v7().to_string();
        match s
            .cache
            .record_decision(id, &decision_id, &DecisionInput::Approve, now_ms())
            .await
        {
            Ok(()) => {
                result.outcome = GridOutcome::Queued;
                result.decision_id = Some(decision_id);
            }
            // Decided meanwhile in another window of the same account: not an error of the batch.
            Err(e @ DeskError::NotClaimed(_)) => result.error = Some(e.view()),
            Err(e) => return Err(e),
        }
        results.push(result);
    }
    // Deliver now so that each photo's fate can be told; offline, they stay queued.
    if let Err(e) = engine.pass(s).await {
        tracing::warn!(error = %e, "grid approvals recorded, delivery deferred");
    }
    let conflicts = s.cache.conflicts().await?;
    for r in results.iter_mut() {
        let Some(decision_id) = &r.decision_id else {
            continue;
        };
        match s.cache.row(&r.item_id).await?.map(|row| row.status) {
            Some(RowStatus::Synced) => r.outcome = GridOutcome::Approved,
            Some(RowStatus::Conflict) => {
                r.outcome = GridOutcome::Conflict;
                r.error = conflicts
                    .iter()
                    .find(|c| &c.decision_id == decision_id)
                    .map(|c| ErrorView {
                        code: c.code.clone(),
                        message_zh: c.message_zh.clone(),
                        message_en: c.message_en.clone(),
                    });
            }
            _ => r.outcome = GridOutcome::Queued,
        }
    }
    let count = |o: GridOutcome| {
        u32::try_from(results.iter().filter(|r| r.outcome == o).count()).unwrap_or(u32::MAX)
    };
    Ok(GridApproveResult {
        approved: count(GridOutcome::Approved),
        queued: count(GridOutcome::Queued),
        conflicts: count(GridOutcome::Conflict),
        refused: count(GridOutcome::Refused),
        results,
    })
}
