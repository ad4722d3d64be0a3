//! bellhop's REST API: JSON under `/api/v1`, RFC 9457 problems, API keys per account,
//! idempotency keys on creating POSTs, an OpenAPI 3 document at `/api/v1/openapi.json`,
//! and `/healthz`, `/readyz` and `/metrics` (Prometheus) for operators.

pub mod alpinebits;
pub mod api;
pub mod auth;
pub mod callbacks;
pub mod channel_api;
mod edge;
pub mod error;
pub mod extract;
pub mod metrics;
mod pages;
pub mod ui;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use bellhop_engine::Engine;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The engine (and through it the store and the clock).
    pub engine: Engine,
    /// Gateway callback settings.
    pub callbacks: callbacks::CallbackSettings,
    /// Where channel webhooks, AlpineBits servers and logo URLs may be (SSRF rules).
    pub webhook_targets: bellhop_transport::ssrf::OutboundPolicy,
    /// Where IMAP mailboxes may be.
    pub imap_targets: bellhop_transport::ssrf::OutboundPolicy,
    /// The staff web UI's mail and cookie settings.
    pub ui: ui::UiSettings,
}

/// Largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let app = probes()
        .nest(
            "/api/v1",
            api::router().layer(middleware::from_fn(edge::require_json)),
        )
        .nest(
            "/channel/v1",
            channel_api::router().layer(middleware::from_fn(edge::require_json)),
        )
        .merge(alpinebits::router())
        .merge(callbacks::router())
        .merge(pages::router())
        .merge(ui::router())
        .fallback(|| async { error::ApiError::NotFound })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(edge::problems_for_every_error))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    edge::with_telemetry(app)
}

/// Only the liveness and readiness probes: what a worker node serves.
pub fn health(state: AppState) -> Router {
    // Workers take gateway callbacks too: a load balancer may send them to any node.
    let health = probes()
        .merge(callbacks::router())
        .fallback(|| async { error::ApiError::NotFound })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(edge::problems_for_every_error))
        .with_state(state);
    edge::with_telemetry(health)
}

fn probes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.engine.query().ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}
