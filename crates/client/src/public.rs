//! Endpoints that need no sign-in.

use gradphoto_api::common::Health;
use gradphoto_api::student::PublicSchool;

use crate::{Client, ClientResult};

impl Client {
    pub async fn health(&self) -> ClientResult<Health> {
        self.get("/healthz").await
    }

    /// The school's policy, rules and reject reasons. `school_id` may be omitted when the
    /// server hosts one school or the client holds a student token.
    pub async fn public_school(&self, school_id: Option<&str>) -> ClientResult<PublicSchool> {
        match school_id {
            Some(id) => self.get_query("/api/public/school", &[("id", id)]).await,
            None => self.get("/api/public/school").await,
        }
    }
}
