//! A contact's consent: purposes × channels with the event that decides each, the whole
//! history with its evidence, a decision recorded by staff (with what the guest said and
//! how), and the consent form sent to the guest by mail.

use super::{Staff, Submitted, UiError, i18n, local, path_id, respond, see_other};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use bellhop_domain::consent::{Channel, Purpose, Source, State as ConsentState};
use bellhop_engine::{ConsentDecision, ConsentWarning};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/contacts/{id}", get(show))
        .route("/app/contacts/{id}/consent", post(record))
        .route("/app/contacts/{id}/consent-request", post(request))
}

/// A consent warning in the user's words.
pub(super) fn warning_text(staff: &Staff, w: &ConsentWarning) -> String {
    let rules: Vec<&str> = w.rules.iter().map(|r| r.name.as_str()).collect();
    i18n::text(
        staff.lang,
        "consent-warning",
        &[
            ("purpose", staff.t(&format!("purpose-{}", w.purpose)).into()),
            ("channel", staff.t(&format!("channel-{}", w.channel)).into()),
            ("rules", rules.join(", ").into()),
        ],
    )
}

async fn show(
    State(s): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let account = staff.account();
        let contact = s.engine.query().contact(account, path_id(&id)?).await?;
        let consents = s.engine.consents(account, contact.id).await?;
        let properties = s.engine.query().properties(account).await?;
        let zone = properties.first().map_or(jiff::tz::TimeZone::UTC, |p| p.time_zone.clone());
        let state = |st: ConsentState| match st {
            ConsentState::Granted => "granted",
            ConsentState::Withdrawn => "withdrawn",
            ConsentState::Unknown => "unknown",
        };
        let rows: Vec<Value> = Purpose::ALL
            .iter()
            .map(|p| {
                let cells: Vec<Value> = Channel::ALL
                    .iter()
                    .map(|c| {
                        let cell = consents.matrix.iter().find(|x| x.purpose == *p && x.channel == *c);
                        json!({
                            "channel": c.as_str(),
                            "state": cell.map_or("unknown", |x| state(x.state)),
                            "address": cell.and_then(|x| x.address.clone()),
                            "since": cell.and_then(|x| x.deciding.as_ref()).map(|e| local(e.at, &zone)),
                        })
                    })
                    .collect();
                json!({"purpose": p.as_str(), "cells": cells})
            })
            .collect();
        let history: Vec<Value> = consents
            .history
            .iter()
            .map(|e| {
                json!({
                    "at": local(e.at, &zone), "purpose": e.purpose.as_str(), "channel": e.channel.as_str(),
                    "granted": e.granted, "source": e.source.as_str(), "actor": e.actor, "address": e.address,
                    "ip": e.ip, "user_agent": e.user_agent, "text_version": e.text_version,
                    "evidence": if e.evidence.is_null() { String::new() } else { e.evidence.to_string() },
                })
            })
            .collect();
        let mut warnings = Vec::new();
        for w in s.engine.contact_consent_warnings(account, contact.id).await? {
            warnings.push(warning_text(&staff, &w));
        }
        let name = [contact.first_name.clone(), contact.last_name.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let props: Vec<Value> = properties.iter().map(|p| json!({"id": p.id, "name": p.name})).collect();
        Ok(staff.page(
            "contact.html",
            "bookings",
            ctx! {
                c => json!({"id": contact.id, "name": name, "email": contact.email.as_ref().map(|e| e.as_str()), "phone": contact.phone}),
                rows => rows, history => history, warnings => warnings, properties => props,
                purposes => Purpose::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                channels => Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                done => q.get("done"),
            },
        ))
    }
    .await;
    respond(staff.lang, result)
}

async fn record(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let contact = path_id(&id)?;
        let purpose = form
            .get("purpose")
            .and_then(Purpose::parse)
            .ok_or(UiError::BadForm)?;
        let channel = form
            .get("channel")
            .and_then(Channel::parse)
            .ok_or(UiError::BadForm)?;
        let granted = match form.get("decision") {
            Some("granted") => true,
            Some("withdrawn") => false,
            _ => return Err(UiError::BadForm),
        };
        let property_id = form.get("property").and_then(|p| Uuid::parse_str(p).ok());
        let decision = ConsentDecision {
            purpose,
            channel,
            granted,
            source: Source::Staff,
            actor: Some(staff.actor()),
            property_id,
            text_id: None,
            ip: None,
            user_agent: None,
            evidence: json!({
                "how": form.text("how").unwrap_or_else(|| "in person".into()),
                "note": form.text("note"),
                "recorded_by": staff.session.user.email,
            }),
        };
        s.engine
            .record_consent(staff.account(), contact, &decision)
            .await?;
        Ok(see_other(&format!(
            "/app/contacts/{contact}?done=consent-recorded"
        )))
    }
    .await;
    respond(staff.lang, result)
}

async fn request(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let contact = path_id(&id)?;
        let property = form
            .get("property")
            .and_then(|p| Uuid::parse_str(p).ok())
            .ok_or(UiError::BadForm)?;
        s.engine
            .request_consent(staff.account(), contact, property)
            .await?;
        Ok(see_other(&format!(
            "/app/contacts/{contact}?done=consent-requested"
        )))
    }
    .await;
    respond(staff.lang, result)
}
