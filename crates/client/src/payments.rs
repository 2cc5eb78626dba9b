//! The sandbox payment provider (development and tests): confirming a sandbox order plays the
//! role of the payer; the server then sends itself the signed callback.

use gradphoto_api::student::PaymentCallbackAnswer;

use crate::{seg, Client, ClientError, ClientResult};

impl Client {
    /// Pays a sandbox order through the pay link the server answered when the payment started
    /// (`POST /api/payments/sandbox/pay/{order_id}?ticket=…`): the link's ticket is what lets
    /// its owner, and nobody else, confirm the order.
    pub async fn sandbox_pay(&self, pay_url: &str) -> ClientResult<PaymentCallbackAnswer> {
        let url = reqwest::Url::parse(pay_url)
            .map_err(|_| ClientError::BadBaseUrl(pay_url.to_string()))?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        self.post_empty(&path).await
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
