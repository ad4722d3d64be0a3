//! Booking channels and the autoresponder: connections (a new one's key shown once, rotated,
//! revoked — owners only), the webhooks sent to channels and how they fared, mailboxes with
//! their windows and case numbers, every inbound mail with its decision and the mail as
//! received, and sequences with their enrolments.

use super::{OwnerSubmitted, Staff, Submitted, UiError, local, path_id, refusal, respond};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bellhop_domain::channel::ConnectionKind;
use bellhop_engine::{ConnectionSecrets, ConnectionSettings};
use bellhop_store::{InboundFilter, MessageFilter};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/channels", get(channels).post(create_connection))
        .route("/app/channels/{id}/rotate", post(rotate))
        .route("/app/channels/{id}/revoke", post(revoke))
        .route("/app/mailboxes", get(mailboxes))
        .route("/app/inbound/{id}", get(inbound_mail))
}

async fn channels(State(s): State<AppState>, staff: Staff) -> Response {
    let result = channels_page(&s, &staff, Vec::new(), StatusCode::OK).await;
    respond(staff.lang, result)
}

async fn channels_page(
    s: &AppState,
    staff: &Staff,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let account = staff.account();
    let q = s.engine.query();
    let properties = q.properties(account).await?;
    let name_of: HashMap<Uuid, String> =
        properties.iter().map(|p| (p.id, p.name.clone())).collect();
    let zone = properties
        .first()
        .map_or(jiff::tz::TimeZone::UTC, |p| p.time_zone.clone());
    let connections: Vec<Value> = q
        .connections(account, None)
        .await?
        .into_iter()
        .map(|c| {
            json!({
                "id": c.id, "name": c.name, "kind": c.kind.as_str(), "property": name_of.get(&c.property_id),
                "prefix": c.key_prefix, "webhook": c.webhook_url, "hold": c.hold_minutes,
                "poll": c.poll_url, "last_activity": c.last_activity_at.map(|t| local(t, &zone)),
                "last_error": c.last_error, "revoked": c.revoked_at.is_some(),
            })
        })
        .collect();
    let deliveries: Vec<Value> = q
        .messages(account, &MessageFilter { channel: Some("webhook".into()), limit: 30, ..Default::default() })
        .await?
        .into_iter()
        .map(|m| {
            json!({"id": m.id, "due": local(m.due_at, &zone), "status": m.status.as_str(), "reason": m.status_reason,
                   "attempt": m.attempt, "booking_id": m.booking_id, "recipient": m.recipient})
        })
        .collect();
    let props: Vec<Value> = properties
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name}))
        .collect();
    Ok(staff.page_with_status(
        status,
        "channels.html",
        "channels",
        ctx! { connections => connections, deliveries => deliveries, properties => props, errors => errors },
    ))
}

fn secrets_page(staff: &Staff, secrets: &ConnectionSecrets) -> Response {
    let mut shown: Vec<(String, String)> = Vec::new();
    if let Some(key) = &secrets.api_key {
        shown.push((staff.t("channel-api-key"), key.clone()));
    }
    if let Some(user) = &secrets.alpinebits_user {
        shown.push((staff.t("channel-alpinebits-user"), user.clone()));
    }
    if let Some(password) = &secrets.alpinebits_password {
        shown.push((staff.t("password"), password.clone()));
    }
    shown.push((
        staff.t("channel-webhook-secret"),
        secrets.webhook_secret.clone(),
    ));
    staff.page(
        "secret.html",
        "channels",
        ctx! { title => "channel-secrets", secrets => shown, back => "/app/channels" },
    )
}

async fn create_connection(
    State(s): State<AppState>,
    OwnerSubmitted(Submitted { staff, form }): OwnerSubmitted,
) -> Response {
    let result = async {
        let property_id = form
            .get("property")
            .and_then(|p| Uuid::parse_str(p).ok())
            .ok_or(UiError::BadForm)?;
        let kind = form
            .get("kind")
            .and_then(ConnectionKind::parse)
            .ok_or(UiError::BadForm)?;
        let webhook_url = form.text("webhook_url");
        if let Some(url) = &webhook_url
            && let Err(e) = s.webhook_targets.check_url_now(url).await
        {
            return channels_page(
                &s,
                &staff,
                vec![format!("{}: {e}", staff.t("channel-webhook"))],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        let settings = ConnectionSettings {
            property_id,
            name: form.text("name").unwrap_or_default(),
            kind,
            webhook_url,
            hold_minutes: form.text("hold").and_then(|h| h.parse().ok()).unwrap_or(30),
            poll: None,
        };
        match s.engine.create_connection(staff.account(), settings).await {
            Ok(secrets) => Ok(secrets_page(&staff, &secrets)),
            Err(e) => {
                channels_page(
                    &s,
                    &staff,
                    vec![refusal(e)?],
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    }
    .await;
    respond(staff.lang, result)
}

async fn rotate(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OwnerSubmitted(Submitted { staff, .. }): OwnerSubmitted,
) -> Response {
    let result = async {
        let secrets = s
            .engine
            .rotate_connection(staff.account(), path_id(&id)?)
            .await?;
        Ok(secrets_page(&staff, &secrets))
    }
    .await;
    respond(staff.lang, result)
}

async fn revoke(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OwnerSubmitted(Submitted { staff, .. }): OwnerSubmitted,
) -> Response {
    let result = async {
        s.engine
            .revoke_connection(staff.account(), path_id(&id)?)
            .await?;
        Ok(super::see_other("/app/channels"))
    }
    .await;
    respond(staff.lang, result)
}

async fn mailboxes(
    State(s): State<AppState>,
    staff: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let account = staff.account();
        let query = s.engine.query();
        let properties = query.properties(account).await?;
        let zone = properties.first().map_or(jiff::tz::TimeZone::UTC, |p| p.time_zone.clone());
        let boxes = query.mailboxes(account).await?;
        let names: HashMap<Uuid, String> = boxes.iter().map(|m| (m.id, m.name.clone())).collect();
        let mailboxes: Vec<Value> = boxes
            .iter()
            .map(|m| {
                json!({
                    "id": m.id, "name": m.name, "address": m.address, "aliases": m.aliases.join(", "),
                    "enabled": m.enabled, "from": m.active_from.map(|t| local(t, &zone)),
                    "until": m.active_until.map(|t| local(t, &zone)),
                    "period_days": m.period_secs / 86_400, "period_hours": (m.period_secs % 86_400) / 3600,
                    "case_prefix": m.case_prefix, "languages": m.replies.keys().cloned().collect::<Vec<_>>(),
                    "imap": m.imap.as_ref().map(|i| i.host.clone()),
                })
            })
            .collect();
        let decision = q.get("decision").filter(|d| ["replied", "not_replied", "refused", "failed"].contains(&d.as_str())).cloned();
        let mails: Vec<Value> = query
            .inbound_mails(account, &InboundFilter { decision: decision.clone(), limit: 100, ..Default::default() })
            .await?
            .into_iter()
            .map(|m| {
                json!({
                    "id": m.id, "mailbox": names.get(&m.mailbox_id), "from": m.from_address.or(m.envelope_from),
                    "subject": m.subject, "decision": m.decision, "code": m.reason_code, "reason": m.reason,
                    "case": m.case_number, "at": local(m.received_at, &zone), "via": m.via,
                })
            })
            .collect();
        let mut sequences = Vec::new();
        for seq in query.sequences(account).await? {
            let enrolments = query.enrolments(account, Some(seq.id), None).await?;
            let active = enrolments.iter().filter(|e| e.status == "active").count();
            sequences.push(json!({
                "id": seq.id, "name": seq.name, "steps": seq.steps.len(), "on_booking": seq.enrol_new_bookings,
                "enrolled": enrolments.len(), "active": active,
            }));
        }
        Ok(staff.page(
            "mailboxes.html",
            "mailboxes",
            ctx! { mailboxes => mailboxes, mails => mails, sequences => sequences, decision => decision },
        ))
    }
    .await;
    respond(staff.lang, result)
}

/// How much of a mail as received the page shows.
const RAW_SHOWN: usize = 64 * 1024;

async fn inbound_mail(State(s): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let result = async {
        let account = staff.account();
        let (mail, raw) = s.engine.query().inbound_mail(account, path_id(&id)?).await?;
        let properties = s.engine.query().properties(account).await?;
        let zone = properties
            .iter()
            .find(|p| p.id == mail.property_id)
            .map_or(jiff::tz::TimeZone::UTC, |p| p.time_zone.clone());
        let raw = raw.map(|r| {
            let shown = &r[..r.len().min(RAW_SHOWN)];
            String::from_utf8_lossy(shown).into_owned()
        });
        Ok(staff.page(
            "inbound_mail.html",
            "mailboxes",
            ctx! {
                m => json!({
                    "id": mail.id, "from": mail.from_address, "name": mail.from_name, "envelope_from": mail.envelope_from,
                    "envelope_to": mail.envelope_to, "subject": mail.subject, "decision": mail.decision,
                    "code": mail.reason_code, "reason": mail.reason, "case": mail.case_number, "language": mail.language,
                    "at": local(mail.received_at, &zone), "via": mail.via, "size": mail.size,
                    "reply": mail.reply_message_id, "contact": mail.contact_id,
                }),
                raw => raw,
            },
        ))
    }
    .await;
    respond(staff.lang, result)
}
