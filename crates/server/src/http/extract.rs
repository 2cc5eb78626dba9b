//! Request extractors that hold every JSON body and query string to the bounds of
//! `api::bounds` before a handler sees it: nothing a request carries is used or stored unchecked.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gradphoto_api::bounds::Bounded;
use serde::de::DeserializeOwned;

use super::error::AppError;

/// A JSON body, decoded and within its bounds.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned + Bounded,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        bounded(value)
            .map(JsonBody)
            .map_err(IntoResponse::into_response)
    }
}

/// A query string, decoded and within its bounds.
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned + Bounded,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        bounded(value)
            .map(Params)
            .map_err(IntoResponse::into_response)
    }
}

fn bounded<T: Bounded>(value: T) -> Result<T, AppError> {
    value
        .check_bounds()
        .map_err(|e| AppError::localized(&e).with_field(e.field))?;
    Ok(value)
}
