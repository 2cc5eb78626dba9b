//! The review queue: listing (`queue`), leases (`leases`: claim, renew, release, expiry),
//! decisions (`decisions`), statistics (`stats`), quality sampling (`rereview`) and overrides
//! waiting for a second supervisor (`overrides`).
//!
//! Every state change goes through [`cases::apply`], which runs the domain state machine and
//! appends the audit event in the same transaction. Claims are atomic: on PostgreSQL the
//! candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take
//! different rows; on SQLite the store's single write lock serializes the read and the update.

use std::collections::HashMap;

use gradphoto_domain::policy::SchoolPolicy;

use super::cases::{self, CaseRow, COLUMNS};
use super::error::{StoreError, StoreResult};
use super::{schools, WriteTx};

/// Most items one claim may take (the API's bound, so clients know it).
pub use gradphoto_api::review::MAX_CLAIM;
/// Expired leases returned to the queue per sweep; the rest go on the next call.
pub(crate) const SWEEP_BATCH: i64 = 200;

mod decisions;
mod leases;
pub mod overrides;
mod queue;
pub mod rereview;
mod stats;

pub use decisions::*;
pub use leases::*;
pub use queue::*;
pub use stats::*;

/// Reads a case inside the transaction, locking its row on PostgreSQL.
pub async fn lock_case(tx: &mut WriteTx, case_id: &str) -> StoreResult<CaseRow> {
    let sql = format!(
        "SELECT {COLUMNS} FROM cases WHERE id = $1{}",
        tx.backend().lock_rows()
    );
    let row = sqlx::query(&sql)
        .bind(case_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| StoreError::not_found("采集记录", "Case"))?;
    cases::from_row(&row)
}

/// Caches school policies for the duration of one transaction.
#[derive(Default)]
pub(crate) struct Policies(HashMap<String, SchoolPolicy>);

impl Policies {
    pub(crate) async fn get(
        &mut self,
        tx: &mut WriteTx,
        school_id: &str,
    ) -> StoreResult<SchoolPolicy> {
        if let Some(p) = self.0.get(school_id) {
            return Ok(p.clone());
        }
        let school = schools::get_in(tx.conn(), school_id)
            .await?
            .ok_or_else(|| {
                StoreError::internal(format_args!("case of unknown school {school_id}"))
            })?;
        self.0.insert(school_id.to_string(), school.policy.clone());
        Ok(school.policy)
    }
}
