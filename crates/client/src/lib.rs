//! Typed client of the gradphoto server API, used by the desktop workstation and the tests.
//!
//! One [`Client`] holds the server address and, once signed in, a bearer token (a staff token
//! after [`Client::login`], a student token after [`Client::claim_code`]). Every endpoint is a
//! method returning `gradphoto_api` types; failures are a [`ClientError`] that carries the
//! server's `{code, message_zh, message_en}` when the server answered with an error.

mod admin;
mod error;
mod payments;
mod public;
mod review;
mod student;
mod supervisor;
mod sync;

use reqwest::{Method, RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use error::ClientError;
pub use student::PhotoUpload;
pub use supervisor::ExportStream;

/// Result of every client call.
pub type ClientResult<T> = Result<T, ClientError>;

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl Client {
    /// `base_url` is the server root, e.g. `http://127.0.0.1:8080`.
    pub fn new(base_url: &str) -> ClientResult<Client> {
        let http = reqwest::Client::builder()
            .build()
            .map_err(ClientError::Transport)?;
        Client::with_http(http, base_url)
    }

    /// Uses a caller-configured `reqwest::Client` (timeouts, TLS roots, proxies).
    pub fn with_http(http: reqwest::Client, base_url: &str) -> ClientResult<Client> {
        let mut base =
            Url::parse(base_url).map_err(|_| ClientError::BadBaseUrl(base_url.into()))?;
        if base.cannot_be_a_base() {
            return Err(ClientError::BadBaseUrl(base_url.into()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Client {
            http,
            base,
            token: None,
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    /// A copy of this client that sends `token`.
    pub fn with_token(&self, token: impl Into<String>) -> Client {
        Client {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    fn url(&self, path: &str) -> ClientResult<Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|_| ClientError::BadBaseUrl(format!("{}{path}", self.base)))
    }

    fn request(&self, method: Method, path: &str) -> ClientResult<RequestBuilder> {
        let mut builder = self.http.request(method, self.url(path)?);
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        Ok(builder)
    }

    async fn send(builder: RequestBuilder) -> ClientResult<Response> {
        let response = builder.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let bytes = response.bytes().await?;
        match serde_json::from_slice::<gradphoto_api::error::ErrorBody>(&bytes) {
            Ok(body) => Err(ClientError::Api {
                status: status.as_u16(),
                body,
            }),
            Err(_) => Err(ClientError::Unexpected {
                status: status.as_u16(),
                snippet: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
            }),
        }
    }

    async fn json<T: DeserializeOwned>(builder: RequestBuilder) -> ClientResult<T> {
        Ok(Client::send(builder).await?.json::<T>().await?)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> ClientResult<T> {
        Client::json(self.request(Method::GET, path)?).await
    }

    async fn get_query<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> ClientResult<T> {
        Client::json(self.request(Method::GET, path)?.query(query)).await
    }

    async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> ClientResult<T> {
        Client::json(self.request(Method::POST, path)?.json(body)).await
    }

    async fn put<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> ClientResult<T> {
        Client::json(self.request(Method::PUT, path)?.json(body)).await
    }

    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> ClientResult<T> {
        Client::json(self.request(Method::POST, path)?).await
    }

    async fn get_bytes(&self, path: &str) -> ClientResult<Downloaded> {
        self.get_bytes_query(path, &[] as &[(&str, &str)]).await
    }

    async fn get_bytes_query<Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> ClientResult<Downloaded> {
        let response = Client::send(self.request(Method::GET, path)?.query(query)).await?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let items = response
            .headers()
            .get(gradphoto_api::admin::ITEMS_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let bytes = response.bytes().await?;
        Ok(Downloaded {
            content_type,
            items,
            bytes,
        })
    }
}

/// A binary response (image, export archive, QR code).
#[derive(Debug, Clone)]
pub struct Downloaded {
    pub content_type: Option<String>,
    /// What the file holds, when the server says (`api::admin::ITEMS_HEADER`).
    pub items: Option<u64>,
    pub bytes: bytes::Bytes,
}

/// Percent-encodes one path segment (ids are UUIDs, but never trust that).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_under_a_prefixed_base() {
        let c = Client::new("http://127.0.0.1:8080/gradphoto").unwrap();
        assert_eq!(
            c.url("/api/review/queue").unwrap().as_str(),
            "http://127.0.0.1:8080/gradphoto/api/review/queue"
        );
        let c = Client::new("https://photos.example.edu.cn/").unwrap();
        assert_eq!(
            c.url("/healthz").unwrap().as_str(),
            "https://photos.example.edu.cn/healthz"
        );
    }

    #[test]
    fn bad_base_urls_are_refused() {
        assert!(matches!(
            Client::new("not a url"),
            Err(ClientError::BadBaseUrl(_))
        ));
        assert!(matches!(
            Client::new("mailto:someone@example.com"),
            Err(ClientError::BadBaseUrl(_))
        ));
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(seg("0193-abc_DEF.~"), "0193-abc_DEF.~");
        assert_eq!(seg("../admin"), "..%2Fadmin");
        assert_eq!(seg("a b?c#"), "a%20b%3Fc%23");
        assert_eq!(seg("王"), "%E7%8E%8B");
    }

    #[test]
    fn tokens_travel_with_copies() {
        let c = Client::new("http://127.0.0.1:1").unwrap();
        assert_eq!(c.token(), None);
        let t = c.with_token("abc");
        assert_eq!(t.token(), Some("abc"));
        assert_eq!(c.token(), None);
    }
}
