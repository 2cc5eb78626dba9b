//! Incremental sync of the reviewer workstation.

use gradphoto_api::sync::{SyncPage, SyncQuery};

use crate::{Client, ClientResult};

impl Client {
    /// Changes after `cursor` (`GET /api/review/sync`, gzip-compressed on the wire).
    pub async fn sync_page(&self, cursor: i64, limit: Option<u32>) -> ClientResult<SyncPage> {
        self.get_query(
            "/api/review/sync",
            &SyncQuery {
                cursor: Some(cursor),
                limit,
            },
        )
        .await
    }
}
