//! Reading what a request still has to send before answering it.
//!
//! Some answers come before the body is read: a body over its route's limit, a refused
//! sign-in, an upload replayed with a known `upload_id`. If the server then closed the
//! connection with the rest unread, the kernel would reset it and a client still sending (most
//! do not wait for `100 Continue`) would see a broken pipe instead of the answer. So the
//! unread rest is read and dropped, within a bound, before the answer goes out.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use http_body::{Frame, SizeHint};

/// The most read and dropped after an answer: beyond it the connection is closed instead.
pub const DRAIN_MAX: usize = 64 * 1024 * 1024;
/// How long a slow sender is waited for.
const DRAIN_TIME: Duration = Duration::from_secs(10);

type Slot = Arc<Mutex<Option<Body>>>;

/// The request body as the handler sees it; if dropped before its end, it hands the unread
/// rest back to the middleware.
struct Returning {
    inner: Option<Body>,
    ended: bool,
    slot: Slot,
}

impl http_body::Body for Returning {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if let Some(rest) = self.inner.take() {
            if !http_body::Body::is_end_stream(&rest) {
                *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(rest);
            }
        }
    }
}

/// Middleware: answer, then read whatever the handler left unread before sending the answer.
pub async fn drain_unread(req: Request, next: Next) -> Response {
    let slot: Slot = Arc::default();
    let (parts, body) = req.into_parts();
    let body = Body::new(Returning {
        inner: Some(body),
        ended: false,
        slot: slot.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let rest = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(rest) = rest {
        let declared = http_body::Body::size_hint(&rest).exact();
        let drained = match declared {
            Some(n) if n > DRAIN_MAX as u64 => false,
            _ => tokio::time::timeout(DRAIN_TIME, drain(rest))
                .await
                .unwrap_or(false),
        };
        if !drained {
            // Too much to read: say the connection ends here rather than leave it half-read.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    response
}

/// Reads and drops up to [`DRAIN_MAX`] bytes; true when the body ended within it.
async fn drain(rest: Body) -> bool {
    let mut stream = rest.into_data_stream();
    let mut read = 0usize;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                read += bytes.len();
                if read > DRAIN_MAX {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}
