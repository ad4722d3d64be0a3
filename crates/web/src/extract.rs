//! Request helpers: JSON parsing with readable errors, idempotency keys, pagination.

use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bellhop_store::{IdempotencyStart, SavedResponse, Tx};
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

/// Parses one JSON value of any shape strictly (see `parse_json`).
pub fn parse_value<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
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

/// The `Idempotency-Key` of a creating POST, with the hash of its body.
pub struct Idempotency {
    key: Option<String>,
    hash: String,
}

impl Idempotency {
    /// Reads the header; keys are 1–255 visible ASCII characters.
    pub fn from_request(headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let key = match headers.get("idempotency-key") {
            None => None,
            Some(v) => {
                let key = v
                    .to_str()
                    .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))?;
                if key.is_empty() || key.len() > 255 {
                    return Err(ApiError::invalid(
                        "Idempotency-Key",
                        "must have 1 to 255 characters",
                    ));
                }
                Some(key.to_owned())
            }
        };
        Ok(Idempotency {
            key,
            hash: hex::encode(Sha256::digest(body)),
        })
    }

    /// Reserves the key in `tx`; a replay returns the first response.
    pub async fn start(
        &self,
        tx: &mut Tx,
        account: Uuid,
        now: jiff::Timestamp,
    ) -> Result<Option<Response>, ApiError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        match tx.begin_idempotent(account, key, &self.hash, now).await? {
            IdempotencyStart::Fresh => Ok(None),
            IdempotencyStart::Replay(saved) => {
                let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
                let mut response = (status, saved.body).into_response();
                response
                    .headers_mut()
                    .insert("content-type", HeaderValue::from_static("application/json"));
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                Ok(Some(response))
            }
            IdempotencyStart::Mismatch => Err(ApiError::invalid(
                "Idempotency-Key",
                "this key was already used with a different request body",
            )),
        }
    }

    /// Saves the response in `tx` and returns it.
    pub async fn finish<T: Serialize>(
        &self,
        tx: &mut Tx,
        account: Uuid,
        status: StatusCode,
        body: &T,
        now: jiff::Timestamp,
    ) -> Result<Response, ApiError> {
        let text = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.into()))?;
        if let Some(key) = &self.key {
            tx.save_idempotent_response(
                account,
                key,
                &SavedResponse {
                    status: status.as_u16(),
                    body: text.clone(),
                },
                now,
            )
            .await?;
        }
        let mut response = (status, text).into_response();
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        Ok(response)
    }
}

/// A creating POST in progress: its transaction, with the idempotency key reserved in it.
pub struct Creation {
    idem: Idempotency,
    tx: Tx,
    account: Uuid,
    now: jiff::Timestamp,
}

/// How a creating POST starts.
pub enum Begun {
    /// The key was used before with this body: answer with the first response.
    Replay(Response),
    /// Do the work in `Creation::tx`, then `finish`.
    Fresh(Creation),
}

impl Creation {
    /// Opens the transaction and reserves the request's `Idempotency-Key`, if it has one.
    pub async fn begin(
        state: &crate::AppState,
        account: Uuid,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Begun, ApiError> {
        let idem = Idempotency::from_request(headers, body)?;
        let now = state.engine.now();
        let mut tx = state.engine.store().begin().await?;
        Ok(match idem.start(&mut tx, account, now).await? {
            Some(replay) => Begun::Replay(replay),
            None => Begun::Fresh(Creation {
                idem,
                tx,
                account,
                now,
            }),
        })
    }

    /// The transaction the work happens in.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Saves the 201 response under the key and commits everything together.
    pub async fn finish<T: Serialize>(mut self, body: &T) -> Result<Response, ApiError> {
        let response = self
            .idem
            .finish(
                &mut self.tx,
                self.account,
                StatusCode::CREATED,
                body,
                self.now,
            )
            .await?;
        self.tx.commit().await?;
        Ok(response)
    }
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

/// Parses an RFC 3339 instant from a query parameter.
pub fn instant(field: &str, text: &str) -> Result<jiff::Timestamp, ApiError> {
    text.parse().map_err(|_| {
        ApiError::invalid(
            field,
            "expected an RFC 3339 instant such as 2026-04-01T10:00:00Z",
        )
    })
}
