//! Payment providers behind one trait. `waived` completes at once (nothing to pay);
//! `sandbox` is a test provider served by this server whose callbacks are signed with
//! HMAC-SHA256 and verified by the same code path a real provider's callbacks use. The sandbox
//! exists only when configured: it takes no money, so it must never stand in for a real provider
//! by default.

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

    /// The capability in the pay link: only the student who started the payment receives it
    /// (in the answer to their authenticated request), and it opens that one order's page only.
    pub fn ticket(&self, order_id: &str) -> String {
        hmac_sha256_hex(
            &self.secret,
            format!("sandbox-pay-ticket\0{order_id}").as_bytes(),
        )
    }

    /// Refuses a pay page or confirmation whose ticket was not issued for this order.
    pub fn check_ticket(&self, order_id: &str, ticket: Option<&str>) -> AppResult<()> {
        let ok = ticket.is_some_and(|t| {
            verify_hmac_sha256_hex(
                &self.secret,
                format!("sandbox-pay-ticket\0{order_id}").as_bytes(),
                t,
            )
        });
        if ok {
            Ok(())
        } else {
            Err(AppError::from(ErrorCode::PaymentTicketInvalid))
        }
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
            pay_url: format!(
                "{public_url}/api/payments/sandbox/pay/{}?ticket={}",
                order.order_id,
                self.ticket(&order.order_id)
            ),
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
    /// The provider that collects fees; `None` when nobody does (only free schools can work).
    collector: Option<&'static str>,
    sandbox: Option<Arc<Sandbox>>,
}

impl Payments {
    pub fn from_config(config: &Config, crypto: &Crypto) -> AppResult<Payments> {
        let mut providers: BTreeMap<&'static str, Arc<dyn PaymentProvider>> = BTreeMap::new();
        providers.insert("waived", Arc::new(Waived));
        let (collector, sandbox) = match config.payment.provider.as_deref() {
            None | Some("waived") => (None, None),
            Some("sandbox") => {
                let secret = match &config.payment.sandbox_secret {
                    Some(s) => s.expose().as_bytes().to_vec(),
                    None => crypto.sandbox_key().to_vec(),
                };
                let sandbox = Arc::new(Sandbox::new(secret));
                providers.insert("sandbox", sandbox.clone());
                (Some("sandbox"), Some(sandbox))
            }
            Some(other) => {
                return Err(AppError::internal(format_args!(
                    "unknown payment provider {other:?} (known: waived, sandbox)"
                )))
            }
        };
        Ok(Payments {
            providers,
            collector,
            sandbox,
        })
    }

    /// One line for the start-up log: who collects fees here.
    pub fn describe(&self) -> &'static str {
        match self.collector {
            Some("sandbox") => {
                "支付：沙箱（测试支付，不收取真实费用）/ payments: SANDBOX (test payments, no real money is taken)"
            }
            Some(_) => "支付：已配置 / payments: configured",
            None => "支付：不收费（仅限免费学校）/ payments: none (schools without a fee only)",
        }
    }

    /// Refuses a fee nobody here can collect (at start-up and when a school's policy is set).
    pub fn check_fee(&self, school: &str, fee_cents: i64) -> AppResult<()> {
        if fee_cents > 0 && self.collector.is_none() {
            return Err(AppError::new(
                ErrorCode::PaymentNotConfigured,
                format!(
                    "学校“{school}”收费 ¥{:.2}，但未配置支付方式：请设置 [payment] provider（或 GRADPHOTO_PAYMENT_PROVIDER），或将该校费用设为 0。",
                    fee_cents as f64 / 100.0
                ),
                format!(
                    "school {school:?} charges ¥{:.2} but no payment provider is configured: set [payment] provider (or GRADPHOTO_PAYMENT_PROVIDER), or set the school's fee to 0.",
                    fee_cents as f64 / 100.0
                ),
            ));
        }
        Ok(())
    }

    /// The provider for a fee: zero fees are always `waived`.
    pub fn for_fee(&self, fee_cents: i64) -> AppResult<Arc<dyn PaymentProvider>> {
        if fee_cents <= 0 {
            return self.get("waived");
        }
        let name = self
            .collector
            .ok_or_else(|| AppError::from(ErrorCode::PaymentNotConfigured))?;
        self.get(name)
    }

    pub fn get(&self, name: &str) -> AppResult<Arc<dyn PaymentProvider>> {
        self.providers
            .get(name)
            .cloned()
            .ok_or_else(|| AppError::not_found("支付方式", "Payment provider"))
    }

    /// The sandbox, when it is configured.
    pub fn sandbox(&self) -> AppResult<&Sandbox> {
        self.sandbox
            .as_deref()
            .ok_or_else(|| AppError::not_found("支付方式", "Payment provider"))
    }
}
