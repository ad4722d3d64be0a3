//! What every request passes at the edge: a request id and a span, JSON bodies only where
//! JSON is expected, and a problem document (RFC 9457) for every error, whichever layer
//! produced it.

use crate::error::ApiError;
use axum::body::HttpBody;
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Content types a request body of the API may have.
const JSON_TYPES: [&str; 5] = [
    "application/json",
    "application/merge-patch+json",
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
];

/// Refuses a body that does not say it is JSON (415), before any handler reads it.
pub(crate) async fn require_json(request: Request, next: Next) -> Response {
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    );
    // Known empty (no Content-Length or zero) or not: a chunked body counts as one.
    let has_body = request.body().size_hint().exact() != Some(0);
    let headers = request.headers();
    if writes && has_body {
        let media_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        let json = media_type
            .as_deref()
            .is_some_and(|t| JSON_TYPES.contains(&t));
        if !json {
            return ApiError::UnsupportedMediaType(format!(
                "send the body as application/json (or {}), not {}",
                JSON_TYPES[1..].join(", "),
                media_type.as_deref().unwrap_or("without a Content-Type")
            ))
            .into_response();
        }
    }
    next.run(request).await
}

/// Turns an error response that is not a problem document (axum's own rejections: 413,
/// a query string that does not parse, a path parameter, 405) into one, keeping its status
/// and its text as the detail.
/// Marks a response whose error body follows its protocol, not RFC 9457.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnErrorFormat;

pub(crate) async fn problems_for_every_error(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json") || v.starts_with("text/html"));
    // A problem already, a page for a person (the customer pages answer in HTML), or a
    // protocol's own error format (AlpineBits).
    if is_problem || response.extensions().get::<OwnErrorFormat>().is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut problem = ApiError::Status(status, detail).into_response();
    for (name, value) in &parts.headers {
        if name == header::ALLOW || name == header::RETRY_AFTER {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}

/// Adds the request id (`X-Request-Id`: the client's, else a new UUID) to the request, its
/// span and its response, and one span per request with the method, path, account and a
/// closing line with status and latency.
pub(crate) fn with_telemetry(router: axum::Router) -> axum::Router {
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    use tower_http::trace::{DefaultOnResponse, TraceLayer};
    let trace = TraceLayer::new_for_http()
        .make_span_with(request_span)
        .on_request(())
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
        .on_body_chunk(())
        .on_eos(())
        .on_failure(());
    // The last layer runs first: the id is set before the span reads it.
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        account_id = tracing::field::Empty,
    )
}
