//! Messages: the log with filters, and each message with its status history and exactly what
//! was sent — the mail as rendered (shown in a frame of its own, like the template preview)
//! or the SMS text with its parts and encoding.

use super::{Staff, UiError, local, path_id, respond};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use bellhop_domain::MessageStatus;
use bellhop_store::MessageFilter;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/messages", get(list))
        .route("/app/messages/{id}", get(show))
        .route("/app/messages/{id}/body", get(body))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    channel: Option<String>,
    property: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn list(State(s): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> Response {
    let result = async {
        let account = staff.account();
        let properties = s.engine.query().properties(account).await?;
        let zone_of: HashMap<Uuid, jiff::tz::TimeZone> = properties.iter().map(|p| (p.id, p.time_zone.clone())).collect();
        let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let zone = properties.first().map_or(jiff::tz::TimeZone::UTC, |p| p.time_zone.clone());
        let day = |v: &Option<String>| {
            blank(v)
                .and_then(|d| d.parse::<jiff::civil::Date>().ok())
                .and_then(|d| d.to_zoned(zone.clone()).ok())
                .map(|z| z.timestamp())
        };
        let filter = MessageFilter {
            status: blank(&q.status).and_then(|st| st.parse::<MessageStatus>().ok()),
            channel: blank(&q.channel).filter(|c| ["email", "sms", "voice", "webhook"].contains(&c.as_str())),
            property_id: blank(&q.property).and_then(|p| Uuid::parse_str(&p).ok()),
            due_from: day(&q.from),
            due_to: day(&q.to).map(|t| t + jiff::SignedDuration::from_hours(24)),
            limit: 200,
            ..Default::default()
        };
        let rows: Vec<Value> = s
            .engine
            .query()
            .messages(account, &filter)
            .await?
            .into_iter()
            .map(|m| {
                let zone = zone_of.get(&m.property_id).cloned().unwrap_or(jiff::tz::TimeZone::UTC);
                json!({"id": m.id, "due": local(m.due_at, &zone), "kind": m.kind, "channel": m.channel,
                       "status": m.status.as_str(), "reason": m.status_reason, "recipient": m.recipient,
                       "subject": m.subject, "booking_id": m.booking_id})
            })
            .collect();
        let statuses: Vec<&str> = MessageStatus::ALL.iter().map(|s| s.as_str()).collect();
        let props: Vec<Value> = properties.iter().map(|p| json!({"id": p.id, "name": p.name})).collect();
        Ok(staff.page(
            "messages.html",
            "messages",
            ctx! {
                rows => rows, statuses => statuses, properties => props,
                f => json!({"status": q.status, "channel": q.channel, "property": q.property, "from": q.from, "to": q.to}),
            },
        ))
    }
    .await;
    respond(staff.lang, result)
}

async fn show(State(s): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let result = async {
        let account = staff.account();
        let m = s.engine.query().message(account, path_id(&id)?).await?;
        let property = s.engine.query().property(account, m.property_id).await?;
        let zone = property.time_zone.clone();
        let events: Vec<Value> = s
            .engine
            .query()
            .message_events(account, m.id)
            .await?
            .into_iter()
            .map(|e| json!({"status": e.status, "detail": e.detail, "at": local(e.at, &zone)}))
            .collect();
        Ok(staff.page(
            "message.html",
            "messages",
            ctx! {
                m => json!({
                    "id": m.id, "kind": m.kind, "channel": m.channel, "status": m.status.as_str(),
                    "reason": m.status_reason, "code": m.status_code, "due": local(m.due_at, &zone),
                    "sent": m.sent_at.map(|t| local(t, &zone)), "delivered": m.delivered_at.map(|t| local(t, &zone)),
                    "recipient": m.recipient, "subject": m.subject, "language": m.language, "attempt": m.attempt,
                    "provider_ref": m.provider_ref, "parts": m.parts, "encoding": m.encoding,
                    "billing_month": m.billing_month, "booking_id": m.booking_id, "contact_id": m.contact_id,
                    "has_html": m.body_html.is_some(), "text": m.body_text,
                }),
                property => property.name, events => events,
            },
        ))
    }
    .await;
    respond(staff.lang, result)
}

/// The HTML as sent, for the message page's frame: the mail's own styles, nothing that runs.
async fn body(State(s): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let result = async {
        let m = s
            .engine
            .query()
            .message(staff.account(), path_id(&id)?)
            .await?;
        let html = m.body_html.ok_or(UiError::NotFound)?;
        Ok(super::mail_document(html))
    }
    .await;
    respond(staff.lang, result)
}
