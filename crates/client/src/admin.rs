//! Administrator endpoints and staff sign-in.

use gradphoto_api::admin::{RosterCheck, RosterImported};
use gradphoto_api::common::{LoginRequest, LoginResponse, SignedOut, StaffUser};
use reqwest::Method;

use crate::{Client, ClientResult};

impl Client {
    /// Signs in and keeps the token in this client.
    pub async fn login(&mut self, username: &str, password: &str) -> ClientResult<LoginResponse> {
        let response: LoginResponse = self
            .post(
                "/api/auth/login",
                &LoginRequest {
                    username: username.to_string(),
                    password: password.to_string(),
                },
            )
            .await?;
        self.token = Some(response.token.clone());
        Ok(response)
    }

    pub async fn logout(&mut self) -> ClientResult<()> {
        let _: SignedOut = self.post_empty("/api/auth/logout").await?;
        self.token = None;
        Ok(())
    }

    pub async fn me(&self) -> ClientResult<StaffUser> {
        self.get("/api/auth/me").await
    }

    /// Checks a roster CSV (UTF-8 or GBK, zh or en headers) without importing it.
    pub async fn roster_check(&self, csv: Vec<u8>) -> ClientResult<RosterCheck> {
        Client::json(
            self.request(Method::POST, "/api/admin/roster/check")?
                .header(reqwest::header::CONTENT_TYPE, "text/csv")
                .body(csv),
        )
        .await
    }

    /// Imports a roster CSV: all rows or none.
    pub async fn roster_import(&self, csv: Vec<u8>) -> ClientResult<RosterImported> {
        Client::json(
            self.request(Method::POST, "/api/admin/roster/import")?
                .header(reqwest::header::CONTENT_TYPE, "text/csv")
                .body(csv),
        )
        .await
    }
}
