//! Request helpers: JSON parsing with readable errors, idempotency keys, pagination.

use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bellhop_engine::{Command, IdempotencyKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Parses a JSON body strictly, naming the path of the first bad field: one JSON object and
/// nothing after it (an array never fills an object by position), no NUL in any text.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| body[i]) {
        None => return Err(ApiError::BadRequest("the request needs a JSON body".into())),
        Some(b'{') => {}
        Some(_) => {
            return Err(ApiError::BadRequest(
                "the body must be a JSON object ({...})".into(),
            ));
        }
    }
    parse_value(body)
}

/// Parses one JSON value strictly: no NUL, nothing after the value.
fn parse_value<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if contains_nul_escape(body) {
        return Err(ApiError::invalid(
            "body",
            "text must not contain NUL (\\u0000)",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest(format!("invalid JSON: {inner}"))
        } else {
            ApiError::invalid(if path == "." { "body" } else { &path }, inner.to_string())
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON: data after the value ({e})")))?;
    Ok(value)
}

/// Whether a JSON text escapes a NUL character, which no field takes (PostgreSQL cannot store
/// it in text, and no name or note needs it).
pub(crate) fn contains_nul_escape(body: &[u8]) -> bool {
    body.windows(6).enumerate().any(|(i, w)| {
        w[0] == b'\\'
            && w[1] == b'u'
            && &w[2..] == b"0000"
            && body[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

/// The `Idempotency-Key` of a request (1–255 visible ASCII characters), with a hash of its
/// body.
pub fn idempotency_key(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))?;
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "must have 1 to 255 characters",
        ));
    }
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        request_hash: hex::encode(Sha256::digest(body)),
    }))
}

/// A creating POST: runs `work` through the engine's door for idempotent requests and
/// answers 201 with what it returns (or with the first answer to the same key).
pub async fn create<R: Serialize>(
    state: &crate::AppState,
    account: Uuid,
    headers: &HeaderMap,
    body: &[u8],
    work: impl AsyncFnOnce(&mut Command<'_>) -> Result<R, ApiError>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(headers, body)?;
    let answer = state
        .engine
        .idempotent(account, key.as_ref(), StatusCode::CREATED.as_u16(), work)
        .await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A page of results with the cursor for the next one.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Page size: default 50, at most 500.
pub fn page_size(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid("limit", "must be between 1 and 500")),
    }
}

/// Parses an id from a path or query, as a 404 (not a 400) when it is malformed: a wrong id is
/// indistinguishable from a missing one.
pub fn path_id(text: &str) -> Result<Uuid, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound)
}

/// The kind of record a path id names, for [`own_record`].
#[derive(Clone, Copy, Debug)]
pub enum Record {
    Contact,
    Property,
    Sequence,
}

/// The id of a record of the caller's account, looked up before the body is read: a request
/// on another account's record, or on none, is a 404 whatever its body says, so no answer
/// tells "exists elsewhere" from "invalid" (tests/api/isolation.rs walks every operation).
pub async fn own_record(
    state: &crate::AppState,
    account: Uuid,
    kind: Record,
    id: &str,
) -> Result<Uuid, ApiError> {
    let id = path_id(id)?;
    let query = state.engine.query();
    match kind {
        Record::Contact => query.contact(account, id).await.map(|_| ())?,
        Record::Property => query.property(account, id).await.map(|_| ())?,
        Record::Sequence => query.sequence(account, id).await.map(|_| ())?,
    }
    Ok(id)
}

/// Parses an RFC 3339 instant from a query parameter.
pub fn instant(field: &str, text: &str) -> Result<jiff::Timestamp, ApiError> {
    text.parse().map_err(|_| {
        ApiError::invalid(
            field,
            "expected an RFC 3339 instant such as 2026-04-01T10:00:00Z",
        )
    })
}
