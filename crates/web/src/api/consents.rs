//! `/contacts/{id}/consents`: what a contact agreed to, per purpose and channel, with every
//! decision and its evidence; and `/properties/{id}/consent-texts`: what customers are shown.

use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{Record, own_record, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::consent::{self, Channel, Purpose, Source};
use bellhop_engine::{ConsentDecision, ContactConsents};
use bellhop_store::{ConsentEvent, ConsentText};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One consent decision to record.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentIn {
    /// `service`, `marketing` or `personalized`.
    pub purpose: String,
    /// `email` or `sms`.
    pub channel: String,
    /// Granted (`true`) or withdrawn (`false`).
    pub granted: bool,
    /// Where it came from: `staff`, `online_booking`, `import`, `channel` or `api`
    /// (`consent_page`, `unsubscribe_link` and `sms_keyword` are recorded by bellhop itself).
    pub source: Option<String>,
    /// The property it was given at.
    #[serde(default)]
    pub property_id: Option<Uuid>,
    /// The consent text shown (from `/properties/{id}/consent-texts`).
    #[serde(default)]
    pub text_id: Option<Uuid>,
    /// The customer's IP address, for online grants.
    #[serde(default)]
    pub ip: Option<String>,
    /// The customer's browser, for online grants.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Anything else that proves it (a form id, a note): at most 2,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// Sources only bellhop records: the evidence behind them is its own.
const OWN_SOURCES: [Source; 3] = [
    Source::ConsentPage,
    Source::UnsubscribeLink,
    Source::SmsKeyword,
];

fn decision(input: ConsentIn, actor: String) -> Result<ConsentDecision, ApiError> {
    let mut problems = Vec::new();
    let mut bad = |field: &str, message: String| {
        problems.push(crate::error::FieldError {
            field: field.into(),
            message,
        })
    };
    let names = |all: &[&str]| all.join(", ");
    let purpose = Purpose::parse(&input.purpose);
    if purpose.is_none() {
        let all: Vec<&str> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
        bad("purpose", format!("one of {}", names(&all)));
    }
    let channel = Channel::parse(&input.channel);
    if channel.is_none() {
        bad("channel", "email or sms".into());
    }
    let source = match input.source.as_deref() {
        None => {
            bad(
                "source",
                "say where the decision came from (staff, online_booking, import, channel, api)"
                    .into(),
            );
            None
        }
        Some(s) => match Source::parse(s) {
            Some(src) if OWN_SOURCES.contains(&src) => {
                bad("source", format!("{s} is recorded by bellhop itself"));
                None
            }
            Some(src) => Some(src),
            None => {
                bad(
                    "source",
                    "one of staff, online_booking, import, channel, api".into(),
                );
                None
            }
        },
    };
    for (field, value, limit) in [
        ("ip", &input.ip, 64),
        ("user_agent", &input.user_agent, 1000),
        ("note", &input.note, 2000),
    ] {
        if let Some(v) = value
            && (v.chars().count() > limit || v.chars().any(char::is_control))
        {
            bad(
                field,
                format!("at most {limit} characters, no control characters"),
            );
        }
    }
    if let Some(ip) = &input.ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        bad("ip", "not an IP address".into());
    }
    let (Some(purpose), Some(channel), Some(source)) = (purpose, channel, source) else {
        return Err(ApiError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let mut d = ConsentDecision::new(purpose, channel, input.granted, source);
    d.actor = Some(actor);
    d.property_id = input.property_id;
    d.text_id = input.text_id;
    d.ip = input.ip;
    d.user_agent = input.user_agent;
    if let Some(note) = input.note {
        d.evidence = serde_json::json!({ "note": note });
    }
    Ok(d)
}

/// A contact's consent: purpose × channel → granted, withdrawn or unknown, with the event
/// that decides each, and the whole history (oldest first).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/consents", tag = "consent", params(("id" = Uuid, Path)),
    responses((status = 200, body = super::schemas::ContactConsentsSchema), (status = 404, body = crate::error::Problem)))]
pub async fn get_consents(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ContactConsents>, ApiError> {
    Ok(Json(
        s.engine.consents(tenant.account_id, path_id(&id)?).await?,
    ))
}

/// Records one consent decision for the contact's address on that channel.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/consents", tag = "consent", params(("id" = Uuid, Path)), request_body = ConsentIn,
    responses((status = 201, body = super::schemas::ConsentEventSchema), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn record(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ConsentEvent>), ApiError> {
    let contact = own_record(&s, tenant.account_id, Record::Contact, &id).await?;
    let d = decision(parse_json(&body)?, tenant.actor())?;
    if let Some(text) = d.text_id
        && !s
            .engine
            .query()
            .consent_texts(tenant.account_id, d.property_id.unwrap_or_default())
            .await?
            .iter()
            .any(|t| t.id == text)
    {
        return Err(ApiError::invalid(
            "text_id",
            "not a consent text of this property (give its property_id)",
        ));
    }
    let event = s
        .engine
        .record_consent(tenant.account_id, contact, &d)
        .await?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// A new version of a property's consent text in one language.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentTextIn {
    /// Language tag (`de`, `en`, ...).
    pub language: String,
    /// The text (plain text, at most 100,000 characters).
    pub body: String,
}

/// Every version of a property's consent texts, newest first per language.
#[utoipa::path(get, path = "/api/v1/properties/{id}/consent-texts", tag = "consent", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<super::schemas::ConsentTextSchema>), (status = 404, body = crate::error::Problem)))]
pub async fn texts(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Vec<ConsentText>>, ApiError> {
    let property = path_id(&id)?;
    s.engine
        .query()
        .property(tenant.account_id, property)
        .await?;
    Ok(Json(
        s.engine
            .query()
            .consent_texts(tenant.account_id, property)
            .await?,
    ))
}

/// Writes a new version of a property's consent text: decisions from then on refer to it;
/// earlier ones keep the version they were shown.
#[utoipa::path(post, path = "/api/v1/properties/{id}/consent-texts", tag = "consent", params(("id" = Uuid, Path)), request_body = ConsentTextIn,
    responses((status = 201, body = super::schemas::ConsentTextSchema), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn write_text(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ConsentText>), ApiError> {
    let property = own_record(&s, tenant.account_id, Record::Property, &id).await?;
    let input: ConsentTextIn = parse_json(&body)?;
    let language = bellhop_domain::language::LanguageTag::parse(&input.language)
        .map_err(|e| ApiError::invalid("language", e.to_string()))?;
    if let Some(problem) = consent::text_problem(&input.body) {
        return Err(ApiError::invalid("body", problem));
    }
    let text = s
        .engine
        .write_consent_text(tenant.account_id, property, &language, &input.body)
        .await?;
    Ok((StatusCode::CREATED, Json(text)))
}

/// Which property's consent page to send.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequestIn {
    /// The property whose page and name the mail shows.
    pub property_id: Uuid,
}

/// The consent request mail, queued.
#[derive(serde::Serialize, ToSchema)]
pub struct ConsentRequestOut {
    /// The mail's message id (it shows in the contact's messages).
    pub message_id: Uuid,
    /// How long its link holds, in days.
    pub valid_days: i64,
}

/// Emails the contact a signed link to their consent page (valid 14 days): they tick
/// purposes and channels in their language, and every change is recorded with evidence.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/consent-requests", tag = "consent", params(("id" = Uuid, Path)), request_body = ConsentRequestIn,
    responses((status = 202, body = ConsentRequestOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn request(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ConsentRequestOut>), ApiError> {
    let contact = path_id(&id)?;
    let input: ConsentRequestIn = parse_json(&body)?;
    let message_id = s
        .engine
        .request_consent(tenant.account_id, contact, input.property_id)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ConsentRequestOut {
            message_id,
            valid_days: bellhop_engine::CONSENT_LINK_DAYS,
        }),
    ))
}

/// Everything bellhop keeps about a contact (GDPR Art. 15 and 20): the contact, bookings
/// with their history, messages with bodies and history, consent with evidence, SMS received
/// from their number, one-time codes (never the codes).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/export", tag = "consent", params(("id" = Uuid, Path)),
    responses((status = 200, body = ContactExportOut), (status = 404, body = crate::error::Problem)))]
pub async fn export(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ContactExportOut>, ApiError> {
    let e = s
        .engine
        .export_contact(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(ContactExportOut {
        exported_at: e.exported_at,
        contact: super::contacts::ContactOut::from(&e.contact),
        bookings: e
            .bookings
            .into_iter()
            .map(|b| ExportedBookingOut {
                booking: super::bookings::out(&b.booking),
                changes: b.changes.into_iter().map(Into::into).collect(),
            })
            .collect(),
        messages: e
            .messages
            .into_iter()
            .map(|m| ExportedMessageOut {
                message: m.message.into(),
                events: m.events.into_iter().map(Into::into).collect(),
            })
            .collect(),
        consent: e.consent,
        inbound_sms: e.inbound_sms,
        one_time_codes: e.one_time_codes,
        inbound_mails: e
            .inbound_mails
            .into_iter()
            .map(|m| super::mailboxes::inbound(m.mail, m.raw.map(String::into_bytes)))
            .collect(),
    }))
}

/// Everything kept about a contact, in the API's shapes.
#[derive(serde::Serialize, ToSchema)]
pub struct ContactExportOut {
    /// When the export was made.
    #[schema(value_type = String, format = DateTime)]
    pub exported_at: jiff::Timestamp,
    /// The contact.
    pub contact: super::contacts::ContactOut,
    /// Bookings with their change history.
    pub bookings: Vec<ExportedBookingOut>,
    /// Messages with bodies and status history.
    pub messages: Vec<ExportedMessageOut>,
    /// Consent matrix and history with evidence.
    #[schema(value_type = super::schemas::ContactConsentsSchema)]
    pub consent: ContactConsents,
    /// SMS received from the contact's number.
    #[schema(value_type = Vec<super::schemas::InboundSmsSchema>)]
    pub inbound_sms: Vec<bellhop_store::InboundSmsRow>,
    /// One-time codes (never the codes).
    #[schema(value_type = Vec<super::schemas::TanExportSchema>)]
    pub one_time_codes: Vec<bellhop_store::TanRow>,
    /// Mail they wrote to the autoresponder's mailboxes, with the message as received.
    pub inbound_mails: Vec<super::mailboxes::InboundOut>,
}

/// A booking with its history.
#[derive(serde::Serialize, ToSchema)]
pub struct ExportedBookingOut {
    /// The booking.
    pub booking: super::bookings::BookingOut,
    /// Its changes.
    pub changes: Vec<super::bookings::ChangeOut>,
}

/// A message with its history.
#[derive(serde::Serialize, ToSchema)]
pub struct ExportedMessageOut {
    /// The message, with the bodies kept.
    pub message: super::message_out::MessageOut,
    /// Its status history.
    pub events: Vec<super::message_out::MessageEventOut>,
}

/// Erases a contact (GDPR Art. 17): personal data leaves every table and every kept body;
/// bookings and messages stay without it; planned messages are cancelled; a digest of each
/// address keeps their withdrawal of marketing honoured. It cannot be undone.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/erase", tag = "consent", params(("id" = Uuid, Path)),
    responses((status = 200, body = super::schemas::ErasedSchema), (status = 404, body = crate::error::Problem)))]
pub async fn erase(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<bellhop_store::Erased>, ApiError> {
    Ok(Json(
        s.engine
            .erase_contact(
                tenant.account_id,
                path_id(&id)?,
                Source::Api,
                &tenant.actor(),
            )
            .await?,
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contacts/{id}/consents", get(get_consents).post(record))
        .route("/contacts/{id}/consent-requests", post(request))
        .route("/contacts/{id}/export", get(export))
        .route("/contacts/{id}/erase", post(erase))
        .route(
            "/properties/{id}/consent-texts",
            get(texts).post(write_text),
        )
}
