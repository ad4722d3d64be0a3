//! Pages customers open from a link in a mail, without logging in: one-click unsubscribe
//! (RFC 8058) and the consent page with its double opt-in. Server-rendered HTML that works
//! without JavaScript; every value is escaped; forms carry a token only the page knows.

mod consent;
mod unsubscribe;

use crate::AppState;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bellhop_domain::text::escape_html;
use bellhop_engine::{LinkError, OnlineEvidence};
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/u/{token}",
            get(unsubscribe::show).post(unsubscribe::one_click),
        )
        .route("/c/{token}", get(consent::show).post(consent::submit))
        .route(
            "/c/confirm/{token}",
            get(consent::show_confirmation).post(consent::confirm),
        )
}

/// The request's evidence: the peer's address, a proxy's `X-Forwarded-For`, the browser.
pub struct Online(pub OnlineEvidence);

impl<S: Send + Sync> FromRequestParts<S> for Online {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = |name: header::HeaderName, limit: usize| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().filter(|c| !c.is_control()).take(limit).collect())
        };
        Ok(Online(OnlineEvidence {
            ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip().to_string()),
            forwarded_for: header(header::HeaderName::from_static("x-forwarded-for"), 200),
            user_agent: header(header::USER_AGENT, 1000),
        }))
    }
}

/// The token a page's form carries: only someone who opened the page has it.
fn form_token(s: &AppState, token: &str) -> String {
    s.engine.signer().sign("consent_form", token)
}

/// Whether a posted form came from the page of this link: it carries the page's form token,
/// and the browser does not say it came from another site (`Sec-Fetch-Site`).
fn from_the_page(
    s: &AppState,
    token: &str,
    pairs: &[(String, String)],
    headers: &axum::http::HeaderMap,
) -> bool {
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    let carries_token = pairs.iter().any(|(k, v)| {
        k == "form_token"
            && bellhop_transport::callbacks::constant_time_eq(
                v.as_bytes(),
                form_token(s, token).as_bytes(),
            )
    });
    carries_token && !cross_site
}

/// A page in the property's colours. `body` is HTML made by this module (values escaped).
fn page(
    status: StatusCode,
    language: &str,
    title: &str,
    color: Option<&str>,
    body: &str,
) -> Response {
    let color = color
        .filter(|c| {
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|h| h.is_ascii_hexdigit())
        })
        .unwrap_or("#1f4e79");
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;color:#1f2937;background:#f3f4f6;margin:0;padding:24px}}\
         main{{max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px 28px;\
         border-top:6px solid {color}}}h1{{font-size:22px;margin-top:0}}\
         table{{border-collapse:collapse;width:100%;margin:16px 0}}td,th{{padding:8px;border-bottom:1px solid #e5e7eb;text-align:left}}\
         th.ch,td.ch{{text-align:center;width:70px}}button{{background:{color};color:#fff;border:0;\
         border-radius:4px;padding:10px 18px;font-size:16px;cursor:pointer}}\
         .note{{background:#ecfdf5;border:1px solid #a7f3d0;padding:10px;border-radius:4px}}\
         .text{{font-size:14px;color:#4b5563}}small{{color:#6b7280}}</style></head>\
         <body><main>{body}</main></body></html>",
        lang = escape_html(language),
        title = escape_html(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    // The URL holds the token: it goes nowhere else.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The page for a link that leads nowhere, in both languages (whose link it was is unknown).
fn refused(error: LinkError) -> Response {
    let (status, de, en) = match &error {
        LinkError::Invalid => (
            StatusCode::NOT_FOUND,
            "Dieser Link ist nicht gültig.",
            "This link is not valid.",
        ),
        LinkError::Expired => (
            StatusCode::GONE,
            "Dieser Link ist abgelaufen. Bitten Sie um einen neuen.",
            "This link has expired. Please ask for a new one.",
        ),
        LinkError::Engine(bellhop_engine::EngineError::Invalid { .. }) => (
            StatusCode::CONFLICT,
            "Die Seite hat sich inzwischen geändert. Bitte laden Sie sie neu.",
            "The page changed meanwhile. Please reload it.",
        ),
        LinkError::Engine(e) => {
            tracing::error!(error = %e, "a customer's link failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Das hat gerade nicht geklappt. Bitte versuchen Sie es später noch einmal.",
                "That did not work just now. Please try again later.",
            )
        }
    };
    page(
        status,
        "de",
        "bellhop",
        None,
        &format!("<p lang=\"de\">{de}</p><p lang=\"en\">{en}</p>"),
    )
}
