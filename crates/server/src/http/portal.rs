//! The student portal: the built `ui/portal/dist`, embedded in the binary, served at `/` with
//! the single-page app's fallback to `index.html` for its own routes (e.g. `/c/<code>`).

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response};
use include_dir::{include_dir, Dir};
use tower_http::compression::CompressionLayer;

use super::error::{AppError, ErrorCode};

static DIST: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../ui/portal/dist");

/// Serves the portal for GET/HEAD outside `/api/`; everything else gets the JSON 404.
pub fn service() -> axum::Router {
    axum::Router::new()
        .fallback(handle)
        .layer(CompressionLayer::new())
}

async fn handle(req: Request<Body>) -> Response<Body> {
    let path = req.uri().path();
    if !(req.method() == Method::GET || req.method() == Method::HEAD)
        || path.starts_with("/api/")
        || path == "/api"
    {
        return axum::response::IntoResponse::into_response(AppError::from(
            ErrorCode::NoSuchEndpoint,
        ));
    }
    let rel = path.trim_start_matches('/');
    match DIST.get_file(rel).filter(|_| !rel.is_empty()) {
        Some(file) => respond(file.path(), file.contents()),
        // A route of the app itself: the app decides what to show.
        None if !rel.starts_with("assets/") => match DIST.get_file("index.html") {
            Some(index) => respond(index.path(), index.contents()),
            None => missing(),
        },
        None => missing(),
    }
}

fn respond(path: &std::path::Path, bytes: &'static [u8]) -> Response<Body> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let content_type = match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    // Hashed asset names never change content; the page itself must be revalidated so a new
    // release reaches phones at once.
    let cache = if path.starts_with("assets") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Personal codes are in the URL: never hand them to another site.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

fn missing() -> Response<Body> {
    axum::response::IntoResponse::into_response(AppError::not_found("文件", "File"))
}
