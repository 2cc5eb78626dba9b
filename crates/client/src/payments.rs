//! The sandbox payment provider (development and tests): confirming a sandbox order plays the
//! role of the payer; the server then sends itself the signed callback.

use gradphoto_api::student::PaymentCallbackAnswer;

use crate::{seg, Client, ClientResult};

impl Client {
    /// Pays a sandbox order (`POST /api/payments/sandbox/pay/{order_id}`).
    pub async fn sandbox_pay(&self, order_id: &str) -> ClientResult<PaymentCallbackAnswer> {
        self.post_empty(&format!("/api/payments/sandbox/pay/{}", seg(order_id)))
            .await
    }

    /// Delivers a provider callback body with its headers, as the provider would.
    pub async fn payment_callback(
        &self,
        provider: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> ClientResult<PaymentCallbackAnswer> {
        let mut builder = self
            .request(
                reqwest::Method::POST,
                &format!("/api/payments/{}/callback", seg(provider)),
            )?
            .body(body);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        Client::json(builder).await
    }
}
