//! Gateway callbacks, outside `/api/v1` because gateways carry no API key: delivery reports
//! (Kannel, Twilio-compatible, generic HTTP), voice call status, and inbound SMS (Kannel's MO
//! `get-url`, Twilio's inbound webhook). Each is authenticated: our own per-message token in
//! the URL we handed out, a shared token in Kannel's `get-url`, or `X-Twilio-Signature`.

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bellhop_domain::Delivery;
use bellhop_engine::InboundSms;
use bellhop_transport::callbacks::{constant_time_eq, twilio_verify};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use uuid::Uuid;

/// What the callbacks need beyond the engine.
#[derive(Clone, Debug, Default)]
pub struct CallbackSettings {
    /// Twilio's auth token: the key of `X-Twilio-Signature`.
    pub twilio_auth_token: Option<secrecy::SecretString>,
    /// The token Kannel's `get-url` carries (`?token=`); without one, the installation's
    /// own (see `bellhop sms kannel-config`).
    pub kannel_mo_token: Option<secrecy::SecretString>,
}

type Params = BTreeMap<String, String>;

fn forbidden(why: &str) -> ApiError {
    ApiError::Forbidden(why.to_owned())
}

/// Reads parameters from the query and, for POSTs, a form body.
fn params(query: Option<&str>, body: &[u8]) -> Params {
    let mut out = Params::new();
    for source in [query.unwrap_or("").as_bytes(), body] {
        for (k, v) in form_urlencoded_pairs(source) {
            out.entry(k).or_insert(v);
        }
    }
    out
}

pub(crate) fn form_urlencoded_pairs(input: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(input).unwrap_or_default()
}

/// The message a delivery report is for, when its token is ours.
fn reported_message(s: &AppState, p: &Params) -> Result<Uuid, ApiError> {
    let id: Uuid = p
        .get("message")
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| ApiError::invalid("message", "missing or not a message id"))?;
    let token = p.get("token").map(String::as_str).unwrap_or("");
    if !s.engine.signer().verify("dlr", &id.to_string(), token) {
        return Err(forbidden(
            "the callback token does not belong to this message",
        ));
    }
    Ok(id)
}

async fn apply(
    s: &AppState,
    id: Uuid,
    report: Delivery,
    detail: String,
) -> Result<Response, ApiError> {
    s.engine.apply_delivery_report(id, report, &detail).await?;
    Ok((StatusCode::OK, "ok").into_response())
}

/// Kannel `dlr-url`: `type` is 1 delivered, 2 not delivered, 4 queued at the SMSC, 8
/// accepted by the SMSC, 16 refused by the SMSC; `reply` the SMSC's answer (`stat:EXPIRED`).
async fn kannel_dlr(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = params(q.as_deref(), &body);
    let id = reported_message(&s, &p)?;
    let kind: u32 = p.get("type").and_then(|t| t.parse().ok()).unwrap_or(0);
    let reply = p.get("reply").cloned().unwrap_or_default();
    let upper = reply.to_ascii_uppercase();
    let report = match kind {
        1 => Delivery::Delivered,
        2 | 16 if upper.contains("EXPIRED") => Delivery::Expired,
        2 | 16 => Delivery::Failed,
        _ => Delivery::Pending,
    };
    let meaning = match kind {
        1 => "delivered to the phone",
        2 => "not delivered to the phone",
        4 => "queued at the SMSC",
        8 => "accepted by the SMSC",
        16 => "refused by the SMSC",
        _ => "unknown report type",
    };
    apply(
        &s,
        id,
        report,
        format!("kannel report {kind} ({meaning}): {reply}"),
    )
    .await
}

/// Twilio-compatible `StatusCallback` of an SMS.
async fn twilio_status(
    State(s): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = twilio_form(&s, &uri, &headers, &body)?;
    let p = params(q.as_deref(), &[]);
    let id = reported_message(&s, &p)?;
    let status = form
        .get("MessageStatus")
        .or(form.get("SmsStatus"))
        .cloned()
        .unwrap_or_default();
    let report = match status.as_str() {
        "delivered" => Delivery::Delivered,
        "undelivered" | "failed" | "canceled" => Delivery::Failed,
        _ => Delivery::Pending,
    };
    let code = form
        .get("ErrorCode")
        .map(|c| format!(", error {c}"))
        .unwrap_or_default();
    apply(&s, id, report, format!("twilio status {status}{code}")).await
}

/// Twilio-compatible status of a voice call: `completed` means someone (or a machine) took it.
async fn twilio_call_status(
    State(s): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = twilio_form(&s, &uri, &headers, &body)?;
    let id = reported_message(&s, &params(q.as_deref(), &[]))?;
    let status = form.get("CallStatus").cloned().unwrap_or_default();
    let report = match status.as_str() {
        "completed" => Delivery::Delivered,
        "busy" | "no-answer" | "failed" | "canceled" => Delivery::Failed,
        _ => Delivery::Pending,
    };
    apply(&s, id, report, format!("call {status}")).await
}

/// Generic provider reports: `status` = delivered, failed/undelivered/rejected, expired, or
/// anything else for "still on its way".
async fn generic_dlr(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = params(q.as_deref(), &body);
    let id = reported_message(&s, &p)?;
    let status = p.get("status").cloned().unwrap_or_default();
    let report = match status.to_ascii_lowercase().as_str() {
        "delivered" | "delivrd" => Delivery::Delivered,
        "failed" | "undelivered" | "undeliv" | "rejected" | "rejectd" => Delivery::Failed,
        "expired" => Delivery::Expired,
        _ => Delivery::Pending,
    };
    apply(&s, id, report, format!("provider status {status}")).await
}

/// The form of a Twilio callback, after its signature checked out against the URL Twilio
/// called (the public URL and this request's path and query).
fn twilio_form(
    s: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Params, ApiError> {
    let Some(token) = &s.callbacks.twilio_auth_token else {
        return Err(forbidden("no Twilio account is configured"));
    };
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| forbidden("X-Twilio-Signature is missing"))?;
    let pairs = form_urlencoded_pairs(body);
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{path}", s.engine.signer().public_url);
    if !twilio_verify(token.expose_secret(), &url, &pairs, signature) {
        return Err(forbidden("X-Twilio-Signature does not match"));
    }
    Ok(pairs.into_iter().collect())
}

async fn inbound(
    s: &AppState,
    gateway: &str,
    from: Option<&String>,
    to: Option<&String>,
    text: Option<&String>,
    raw: &Params,
) -> Result<Response, ApiError> {
    let (Some(from), Some(text)) = (from, text) else {
        return Err(ApiError::invalid(
            "from",
            "an inbound SMS needs from and text",
        ));
    };
    let result = s
        .engine
        .receive_sms(InboundSms {
            gateway: gateway.to_owned(),
            from: from.clone(),
            to: to.cloned().unwrap_or_default(),
            text: text.clone(),
            raw: serde_json::to_value(raw).unwrap_or_default(),
        })
        .await?;
    tracing::info!(inbound = %result.id, keyword = ?result.keyword, accounts = result.accounts.len(), "inbound SMS");
    Ok((StatusCode::OK, "").into_response())
}

/// Kannel's MO `get-url`: `?token=...&from=%p&to=%P&text=%a`.
async fn kannel_mo(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = params(q.as_deref(), &body);
    let expected: String = match &s.callbacks.kannel_mo_token {
        Some(token) => token.expose_secret().to_owned(),
        None => s.engine.signer().sign("mo", "kannel"),
    };
    let given = p.get("token").map(String::as_str).unwrap_or("");
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(forbidden("the MO token does not match"));
    }
    let mut raw = p.clone();
    raw.remove("token");
    inbound(
        &s,
        "kannel",
        p.get("from"),
        p.get("to"),
        p.get("text"),
        &raw,
    )
    .await
}

/// Twilio-compatible inbound SMS webhook (`From`, `To`, `Body`).
async fn twilio_inbound(
    State(s): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = twilio_form(&s, &uri, &headers, &body)?;
    inbound(
        &s,
        "twilio",
        form.get("From"),
        form.get("To"),
        form.get("Body"),
        &form,
    )
    .await
}

/// The callback routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/callbacks/sms/kannel/dlr",
            get(kannel_dlr).post(kannel_dlr),
        )
        .route("/callbacks/sms/kannel/mo", get(kannel_mo).post(kannel_mo))
        .route("/callbacks/sms/twilio/status", post(twilio_status))
        .route("/callbacks/sms/twilio/inbound", post(twilio_inbound))
        .route("/callbacks/voice/twilio/status", post(twilio_call_status))
        .route(
            "/callbacks/sms/http/dlr",
            get(generic_dlr).post(generic_dlr),
        )
}
