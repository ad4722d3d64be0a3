//! API keys: `bh_<prefix>_<secret>`. The prefix finds the key; only the SHA-256 of the secret
//! is stored, and it is compared in constant time. Keys are 128 random bits, so a fast hash is
//! the right tool (argon2 is for low-entropy passwords).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use bellhop_engine::staff::sha256_hex;
use bellhop_transport::callbacks::constant_time_eq;
use uuid::Uuid;

/// The account a request acts for.
#[derive(Clone, Copy, Debug)]
pub struct Tenant {
    /// Account.
    pub account_id: Uuid,
    /// The key used.
    pub key_id: Uuid,
}

impl Tenant {
    /// The actor name recorded in histories.
    pub fn actor(&self) -> String {
        format!("api:{}", self.key_id)
    }
}

pub use bellhop_engine::staff::{NewKey, generate_key};

/// The token of an `Authorization: Bearer` header (the scheme is case-insensitive, RFC 9110
/// §11.1).
pub(crate) fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized);
    }
    Ok(token.trim())
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let rest = token.strip_prefix("bh_").ok_or(ApiError::Unauthorized)?;
        let (prefix, secret) = rest.split_once('_').ok_or(ApiError::Unauthorized)?;
        if prefix.len() != 12 || secret.len() != 32 {
            return Err(ApiError::Unauthorized);
        }
        let key = match state.engine.query().api_key_by_prefix(prefix).await {
            Ok(k) => k,
            Err(bellhop_store::StoreError::NotFound) => return Err(ApiError::Unauthorized),
            Err(e) => return Err(e.into()),
        };
        if key.revoked
            || !constant_time_eq(sha256_hex(secret).as_bytes(), key.secret_hash.as_bytes())
        {
            return Err(ApiError::Unauthorized);
        }
        tracing::Span::current().record("account_id", tracing::field::display(key.account_id));
        Ok(Tenant {
            account_id: key.account_id,
            key_id: key.id,
        })
    }
}
