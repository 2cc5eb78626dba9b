//! Administrator endpoints and staff sign-in.

use gradphoto_api::common::{LoginRequest, LoginResponse, StaffUser};

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
        let _: serde_json::Value = self.post_empty("/api/auth/logout").await?;
        self.token = None;
        Ok(())
    }

    pub async fn me(&self) -> ClientResult<StaffUser> {
        self.get("/api/auth/me").await
    }
}
