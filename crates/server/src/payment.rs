//! Payment providers behind one trait. `waived` completes at once (the school pays);
//! `sandbox` is a test provider served by this server whose callbacks are signed with
//! HMAC-SHA256 and verified by the same code path a real provider's callbacks use.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::crypto::{hmac_sha256_hex, verify_hmac_sha256_hex, Crypto};
use crate::http::error::{AppError, AppResult, ErrorCode};

pub const SANDBOX_SIGNATURE_HEADER: &str = "x-sandbox-signature";

/// An order to collect, as the provider sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub order_id: String,
    pub amount_cents: i64,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStart {
    /// Nothing to pay: the order is complete.
    Completed,
    /// The student pays at this URL; the provider calls back when done.
    Redirect { pay_url: String },
}

/// A verified provider notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentNotice {
    pub order_id: String,
    pub provider_ref: String,
    pub amount_cents: i64,
    pub paid: bool,
}

pub trait PaymentProvider: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn start(&self, order: &OrderRequest, public_url: &str) -> AppResult<PaymentStart>;
    /// Checks the callback's authenticity and reads it; refuses anything unsigned or altered.
    fn verify_callback(&self, headers: &HeaderMap, body: &[u8]) -> AppResult<PaymentNotice>;
}

pub struct Waived;

impl PaymentProvider for Waived {
    fn name(&self) -> &'static str {
        "waived"
    }

    fn start(&self, _order: &OrderRequest, _public_url: &str) -> AppResult<PaymentStart> {
        Ok(PaymentStart::Completed)
    }

    fn verify_callback(&self, _headers: &HeaderMap, _body: &[u8]) -> AppResult<PaymentNotice> {
        Err(AppError::from(ErrorCode::NoCallbacks))
    }
}

pub struct Sandbox {
    secret: Vec<u8>,
}

fn bad_signature() -> AppError {
    AppError::from(ErrorCode::BadSignature)
}

impl Sandbox {
    pub fn new(secret: Vec<u8>) -> Sandbox {
        Sandbox { secret }
    }

    /// Signs a callback body the way the sandbox provider does.
    pub fn sign(&self, body: &[u8]) -> String {
        hmac_sha256_hex(&self.secret, body)
    }

    /// The callback the sandbox sends when a student confirms a payment.
    pub fn callback_for(&self, notice: &PaymentNotice) -> AppResult<(Vec<u8>, String)> {
        let body = serde_json::to_vec(notice)?;
        let signature = self.sign(&body);
        Ok((body, signature))
    }
}

impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn start(&self, order: &OrderRequest, public_url: &str) -> AppResult<PaymentStart> {
        Ok(PaymentStart::Redirect {
            pay_url: format!("{public_url}/api/payments/sandbox/pay/{}", order.order_id),
        })
    }

    fn verify_callback(&self, headers: &HeaderMap, body: &[u8]) -> AppResult<PaymentNotice> {
        let signature = headers
            .get(SANDBOX_SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(bad_signature)?;
        if !verify_hmac_sha256_hex(&self.secret, body, signature) {
            return Err(bad_signature());
        }
        serde_json::from_slice(body).map_err(|_| AppError::from(ErrorCode::BadCallback))
    }
}

/// The providers this server knows, and which one collects fees.
pub struct Payments {
    providers: BTreeMap<&'static str, Arc<dyn PaymentProvider>>,
    active: &'static str,
    sandbox: Arc<Sandbox>,
}

impl Payments {
    pub fn from_config(config: &Config, crypto: &Crypto) -> AppResult<Payments> {
        let secret = match &config.payment.sandbox_secret {
            Some(s) => s.expose().as_bytes().to_vec(),
            None => crypto.sandbox_key().to_vec(),
        };
        let sandbox = Arc::new(Sandbox::new(secret));
        let mut providers: BTreeMap<&'static str, Arc<dyn PaymentProvider>> = BTreeMap::new();
        providers.insert("waived", Arc::new(Waived));
        providers.insert("sandbox", sandbox.clone());
        let active = providers
            .keys()
            .copied()
            .find(|k| *k == config.payment.provider.as_str())
            .ok_or_else(|| {
                AppError::internal(format_args!(
                    "unknown payment provider {:?} (known: waived, sandbox)",
                    config.payment.provider
                ))
            })?;
        Ok(Payments {
            providers,
            active,
            sandbox,
        })
    }

    /// The provider for a fee: free schools and zero fees are always `waived`.
    pub fn for_fee(&self, fee_cents: i64) -> AppResult<Arc<dyn PaymentProvider>> {
        let name = if fee_cents <= 0 {
            "waived"
        } else {
            self.active
        };
        self.get(name)
    }

    pub fn get(&self, name: &str) -> AppResult<Arc<dyn PaymentProvider>> {
        self.providers
            .get(name)
            .cloned()
            .ok_or_else(|| AppError::not_found("支付方式", "Payment provider"))
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }
}
