//! One error type for the API, rendered as RFC 9457 problem details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bellhop_engine::EngineError;
use bellhop_store::StoreError;
use serde::Serialize;

/// A field that failed validation.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field.
    pub field: String,
    /// What is wrong, for people.
    pub message: String,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not the JSON we expect.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or a wrong API key.
    #[error("a valid API key is required")]
    Unauthorized,
    /// 403: a callback whose token or signature does not check out.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such record for this account (also for other accounts' records).
    #[error("not found")]
    NotFound,
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 415: a body that is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Any other error status, from a layer below the handlers (413, a query string that
    /// does not parse): its status and what it said.
    #[error("{1}")]
    Status(StatusCode, String),
    /// 409: state conflict.
    #[error("{0}")]
    Conflict(String),
    /// 409: the record changed since the client read it.
    #[error("changed meanwhile")]
    Stale {
        /// The version it is at now.
        current_version: i64,
    },
    /// 409: a booking with this external id from this source exists.
    #[error("duplicate external id")]
    Duplicate {
        /// The booking that exists.
        existing: uuid::Uuid,
        /// The external id.
        external_id: String,
    },
    /// 422: semantically invalid fields.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// 500: our fault; the error and its causes go to the log (once), not to the client.
    #[error("internal error")]
    Internal(anyhow::Error),
    /// 503: the store is unavailable.
    #[error("unavailable")]
    Unavailable(String),
}

impl ApiError {
    /// A single-field 422.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Status(status, _) => *status,
            ApiError::Conflict(_) | ApiError::Stale { .. } | ApiError::Duplicate { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The problem document (RFC 9457).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Explanation for this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Per-field errors (422).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The version the record is at now (409 on a changed record): read it again, or send
    /// this as `If-Match` to overwrite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// The booking that exists already (409 on a second create with the same external id):
    /// read it, or create again with `?on_conflict=update` to replace it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_booking_id: Option<uuid::Uuid>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let current_version = match &self {
            ApiError::Stale { current_version } => Some(*current_version),
            _ => None,
        };
        let existing_booking_id = match &self {
            ApiError::Duplicate { existing, .. } => Some(*existing),
            _ => None,
        };
        let (slug, detail, errors) = match self {
            ApiError::BadRequest(d) => ("bad-request", Some(d), vec![]),
            ApiError::Unauthorized => (
                "unauthorized",
                Some("send an API key as 'Authorization: Bearer <key>'".into()),
                vec![],
            ),
            ApiError::Forbidden(d) => ("forbidden", Some(d), vec![]),
            ApiError::NotFound => ("not-found", None, vec![]),
            ApiError::MethodNotAllowed => (
                "method-not-allowed",
                Some("this path does not take this method".into()),
                vec![],
            ),
            ApiError::UnsupportedMediaType(d) => ("unsupported-media-type", Some(d), vec![]),
            ApiError::Status(status, d) => (
                match status {
                    StatusCode::PAYLOAD_TOO_LARGE => "too-large",
                    StatusCode::BAD_REQUEST => "bad-request",
                    _ => "error",
                },
                Some(d),
                vec![],
            ),
            ApiError::Conflict(d) => ("conflict", Some(d), vec![]),
            ApiError::Duplicate {
                existing,
                external_id,
            } => (
                "duplicate",
                Some(format!(
                    "booking {existing} has external_id {external_id:?} from this source \
                     already; send ?on_conflict=update to replace it"
                )),
                vec![],
            ),
            ApiError::Stale { current_version } => (
                "stale",
                Some(format!(
                    "it changed since you read it and is at version {current_version} now"
                )),
                vec![],
            ),
            ApiError::Invalid(errors) => {
                ("invalid", Some("some fields are invalid".into()), errors)
            }
            ApiError::Internal(cause) => {
                // `{:#}` prints the whole chain: "a: b: c".
                tracing::error!(cause = format!("{cause:#}"), "request failed");
                (
                    "internal",
                    Some("an internal error occurred; it has been logged".into()),
                    vec![],
                )
            }
            ApiError::Unavailable(cause) => {
                tracing::error!(%cause, "store unavailable");
                (
                    "unavailable",
                    Some("the service is temporarily unavailable; try again".into()),
                    vec![],
                )
            }
        };
        let problem = Problem {
            kind: format!("https://bellhop.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            current_version,
            existing_booking_id,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Invalid { field, message } => ApiError::invalid(&field, message),
            EngineError::InvalidItems(fields) => ApiError::Invalid(
                fields
                    .into_iter()
                    .map(|(field, message)| FieldError { field, message })
                    .collect(),
            ),
            EngineError::NotFound => ApiError::NotFound,
            EngineError::Conflict(m) => ApiError::Conflict(m),
            EngineError::Duplicate {
                existing,
                external_id,
            } => ApiError::Duplicate {
                existing,
                external_id,
            },
            EngineError::Stale { current } => ApiError::Stale {
                current_version: current,
            },
            EngineError::Store(s) => s.into(),
            EngineError::Busy(m) => ApiError::Unavailable(m),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Stale { current } => ApiError::Stale {
                current_version: current,
            },
            StoreError::Duplicate { constraint } => {
                ApiError::Conflict(format!("already exists ({constraint})"))
            }
            StoreError::ForeignKey => {
                ApiError::invalid("reference", "a referenced record does not exist")
            }
            StoreError::Unavailable(reason) => ApiError::Unavailable(reason),
            other => ApiError::Internal(other.into()),
        }
    }
}
