//! `/sms/...`: the SMS editor's live analysis, one-time codes, bulk SMS, the monthly overview
//! and a contact's SMS record (opt-outs, delivery).

use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{self, Record, instant, own_record, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::consent::{Channel as ConsentChannel, Purpose, State as ConsentState};
use bellhop_domain::language::LanguageTag;
use bellhop_domain::sms::{self, SmsAnalysis};
use bellhop_engine::{CampaignDraft, CampaignPlan, SmsOverview, TanCheck, TanCreated, TanRequest};
use bellhop_store::{AudienceFilter, CampaignRecord, ConsentEvent, MessageFilter};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A text to analyse.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectIn {
    /// The SMS text.
    pub text: String,
    /// Apply smart encoding (default: the property's setting, or on).
    #[serde(default)]
    pub smart_encoding: Option<bool>,
    /// Use this property's smart-encoding setting.
    #[serde(default)]
    pub property_id: Option<Uuid>,
}

/// The analysis, and whether bellhop would send it.
#[derive(Serialize, ToSchema)]
pub struct InspectOut {
    /// Encoding, number of SMS, units, units left, characters, the characters that force
    /// UCS-2, the parts, the text sent, smart-encoding replacements.
    #[serde(flatten)]
    #[schema(value_type = super::schemas::SmsAnalysisSchema)]
    pub analysis: SmsAnalysis,
    /// Units per SMS of one part (160 or 70).
    pub single_limit: usize,
    /// Units per part of a longer message (153 or 67).
    pub part_limit: usize,
    /// Why it cannot be sent as it is.
    pub problem: Option<String>,
}

/// Encoding, segments and the characters that force UCS-2 of an SMS text, as an editor shows
/// them while typing.
#[utoipa::path(post, path = "/api/v1/sms/inspect", tag = "sms", request_body = InspectIn,
    responses((status = 200, body = InspectOut), (status = 422, body = crate::error::Problem)))]
pub async fn inspect(
    State(s): State<AppState>,
    tenant: Tenant,
    body: Bytes,
) -> Result<Json<InspectOut>, ApiError> {
    let input: InspectIn = parse_json(&body)?;
    if input.text.chars().count() > 20_000 {
        return Err(ApiError::invalid("text", "at most 20,000 characters"));
    }
    let smart = match (input.smart_encoding, input.property_id) {
        (Some(on), _) => on,
        (None, Some(p)) => {
            s.engine
                .query()
                .property(tenant.account_id, p)
                .await
                .map_err(|_| ApiError::invalid("property_id", "no such property"))?
                .sms
                .smart_encoding
        }
        (None, None) => true,
    };
    let analysis = sms::analyze(&input.text, smart);
    Ok(Json(InspectOut {
        single_limit: analysis.encoding.single_limit(),
        part_limit: analysis.encoding.part_limit(),
        problem: sms::check_sendable(&input.text, smart)
            .err()
            .map(|e| e.to_string()),
        analysis,
    }))
}

/// The month to show.
#[derive(Deserialize, IntoParams)]
pub struct UsageQuery {
    /// `YYYY-MM` in the property's zone (default: this month).
    month: Option<String>,
}

/// The monthly SMS overview: sent, delivered, failed, expired, rejected, parts, packages, cost.
#[utoipa::path(get, path = "/api/v1/properties/{id}/sms/usage", tag = "sms", params(("id" = Uuid, Path), UsageQuery),
    responses((status = 200, body = super::schemas::SmsOverviewSchema), (status = 404, body = crate::error::Problem)))]
pub async fn usage(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    Query(q): Query<UsageQuery>,
) -> Result<Json<SmsOverview>, ApiError> {
    Ok(Json(
        s.engine
            .sms_overview(tenant.account_id, path_id(&id)?, q.month.as_deref())
            .await?,
    ))
}

/// A one-time code to send.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TanIn {
    /// Property (sender, country for numbers without country code).
    pub property_id: Uuid,
    /// The contact, or
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    /// a phone number (a contact is found by it or created).
    #[serde(default)]
    pub phone: Option<String>,
    /// Text showing `{{ code }}` (default: a short text in the contact's language).
    #[serde(default)]
    pub text: Option<String>,
    /// Language of the default text.
    #[serde(default)]
    pub language: Option<String>,
    /// What the code is for, for the record.
    #[serde(default)]
    pub purpose: Option<String>,
    /// Seconds the code holds (default 600).
    #[serde(default)]
    pub ttl_secs: Option<i64>,
    /// Send this code instead of a generated one (you check it yourself then).
    #[serde(default)]
    pub code: Option<String>,
}

/// Sends a one-time code at once, ahead of everything else. bellhop keeps only a keyed hash
/// of the code and erases the SMS text once it is final; check a guess with `/verify`.
#[utoipa::path(post, path = "/api/v1/sms/tans", tag = "sms", request_body = TanIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key")),
    responses((status = 201, body = super::schemas::TanCreatedSchema), (status = 422, body = crate::error::Problem)))]
pub async fn create_tan(
    State(s): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: TanIn = parse_json(&body)?;
    if let Some(p) = &input.purpose
        && p.chars().count() > 100
    {
        return Err(ApiError::invalid("purpose", "at most 100 characters"));
    }
    let request = TanRequest {
        property_id: input.property_id,
        contact_id: input.contact_id,
        phone: input.phone,
        text: input.text,
        language: input
            .language
            .as_deref()
            .map(LanguageTag::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("language", e.to_string()))?,
        purpose: input.purpose,
        ttl: SignedDuration::from_secs(input.ttl_secs.unwrap_or(600)),
    };
    extract::create(&s, tenant.account_id, &headers, &body, async |cmd| {
        let created: TanCreated = cmd.create_tan(request, input.code).await?;
        Ok(created)
    })
    .await
}

/// A guess.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    /// The code the person typed.
    pub code: String,
}

/// Checks a one-time code: `verified` once, `wrong` (with guesses left), `expired` or `locked`.
#[utoipa::path(post, path = "/api/v1/sms/tans/{id}/verify", tag = "sms", params(("id" = Uuid, Path)), request_body = VerifyIn,
    responses((status = 200, body = super::schemas::TanCheckSchema), (status = 404, body = crate::error::Problem)))]
pub async fn verify_tan(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TanCheck>, ApiError> {
    let input: VerifyIn = parse_json(&body)?;
    if input.code.len() > 64 {
        return Err(ApiError::invalid("code", "at most 64 characters"));
    }
    Ok(Json(
        s.engine
            .verify_tan(tenant.account_id, path_id(&id)?, &input.code)
            .await?,
    ))
}

/// A bulk SMS.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignIn {
    /// Property (sender, quiet hours, billing).
    pub property_id: Uuid,
    /// Name for staff.
    pub name: String,
    /// The text (`{{ guest.first_name }}`, `{{ property.name }}`) in the property's default
    /// language. An opt-out line is added in each language unless the text has one.
    pub text: String,
    /// The same in other languages: `{"en": "Spring offer ..."}`; each customer gets the text
    /// of their language, else the default.
    #[serde(default)]
    pub translations: std::collections::BTreeMap<String, String>,
    /// Which contacts (all with a booking at the property when empty): `contact_ids`,
    /// `languages`, `countries`, `booking_statuses`, `booked_from`, `booked_to`.
    #[serde(default)]
    #[schema(value_type = super::schemas::AudienceSchema)]
    pub filter: AudienceFilter,
    /// When to send (RFC 3339; default now; quiet hours still apply).
    #[serde(default)]
    pub send_at: Option<String>,
    /// Only say who would get it and what it costs.
    #[serde(default)]
    pub dry_run: bool,
}

/// Sends an SMS to a filtered set of contacts. Bulk SMS are marketing: numbers that opted
/// out never get one. `dry_run` says who would, who would not and why, and the cost.
#[utoipa::path(post, path = "/api/v1/sms/campaigns", tag = "sms", request_body = CampaignIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key")),
    responses((status = 201, body = super::schemas::CampaignPlanSchema), (status = 200, body = super::schemas::CampaignPlanSchema, description = "dry run"), (status = 422, body = crate::error::Problem)))]
pub async fn create_campaign(
    State(s): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: CampaignIn = parse_json(&body)?;
    let send_at = input
        .send_at
        .as_deref()
        .map(|t| instant("send_at", t))
        .transpose()?;
    let draft = CampaignDraft {
        property_id: input.property_id,
        name: input.name,
        text: input.text,
        translations: input.translations,
        filter: input.filter,
        send_at,
    };
    if input.dry_run {
        let plan: CampaignPlan = s
            .engine
            .create_campaign(tenant.account_id, draft, true, &tenant.actor())
            .await?;
        return Ok((StatusCode::OK, Json(plan)).into_response());
    }
    extract::create(&s, tenant.account_id, &headers, &body, async |cmd| {
        Ok(cmd.create_campaign(draft, false, &tenant.actor()).await?)
    })
    .await
}

/// Which campaigns.
#[derive(Deserialize, IntoParams)]
pub struct CampaignQuery {
    /// The property.
    property_id: Uuid,
}

/// The property's bulk SMS, newest first (their messages: `/messages?campaign_id=`).
#[utoipa::path(get, path = "/api/v1/sms/campaigns", tag = "sms", params(CampaignQuery), responses((status = 200, body = [super::schemas::CampaignSchema])))]
pub async fn campaigns(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<CampaignQuery>,
) -> Result<Json<Vec<CampaignRecord>>, ApiError> {
    Ok(Json(
        s.engine
            .query()
            .campaigns(tenant.account_id, q.property_id)
            .await?,
    ))
}

/// A contact's SMS record.
#[derive(Serialize, ToSchema)]
pub struct ContactSms {
    /// The number in E.164.
    pub phone_e164: Option<String>,
    /// Its type.
    pub phone_type: Option<String>,
    /// The number withdrew service SMS (a STOP not lifted by START, or a staff opt-out).
    pub opted_out: bool,
    /// Every SMS consent decision, oldest first, with its evidence (all channels:
    /// `/contacts/{id}/consents`).
    #[schema(value_type = Vec<super::schemas::ConsentEventSchema>)]
    pub consent_events: Vec<ConsentEvent>,
    /// SMS and calls to the contact, newest first: status, when sent, when it reached the phone.
    #[schema(value_type = Vec<super::schemas::ContactSmsMessageSchema>)]
    pub messages: Vec<serde_json::Value>,
}

/// A contact's SMS: opt-outs, and when each SMS reached the phone.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/sms", tag = "sms", params(("id" = Uuid, Path)),
    responses((status = 200, body = ContactSms), (status = 404, body = crate::error::Problem)))]
pub async fn contact_sms(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ContactSms>, ApiError> {
    let store = s.engine.query();
    let contact = store.contact(tenant.account_id, path_id(&id)?).await?;
    let consents = s.engine.consents(tenant.account_id, contact.id).await?;
    let opted_out = consents.matrix.iter().any(|cell| {
        cell.channel == ConsentChannel::Sms
            && cell.purpose == Purpose::Service
            && cell.state == ConsentState::Withdrawn
    });
    let events: Vec<ConsentEvent> = consents
        .history
        .into_iter()
        .filter(|e| e.channel == ConsentChannel::Sms)
        .collect();
    let mut messages = Vec::new();
    for channel in ["sms", "voice"] {
        let filter = MessageFilter {
            contact_id: Some(contact.id),
            channel: Some(channel.into()),
            limit: 200,
            ..MessageFilter::default()
        };
        for m in store.messages(tenant.account_id, &filter).await? {
            messages.push(serde_json::json!({
                "id": m.id, "channel": m.channel, "status": m.status, "kind": m.kind,
                "recipient": m.recipient, "sent_at": m.sent_at, "delivered_at": m.delivered_at,
                "parts": m.parts, "encoding": m.encoding, "status_reason": m.status_reason,
                "status_code": m.status_code,
            }));
        }
    }
    messages.sort_by(|a, b| b["sent_at"].to_string().cmp(&a["sent_at"].to_string()));
    Ok(Json(ContactSms {
        phone_e164: contact.phone_e164.map(String::from),
        phone_type: contact.phone_type.map(|t| t.as_str().to_owned()),
        opted_out,
        consent_events: events,
        messages,
    }))
}

/// An opt-out or opt-in by staff.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentIn {
    /// `opt_out` or `opt_in`.
    pub action: String,
}

/// Records that the contact's number opts out of SMS (or back in), as staff were told.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/sms/consent", tag = "sms", params(("id" = Uuid, Path)), request_body = ConsentIn,
    responses((status = 200, body = ContactSms), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn set_consent(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ContactSms>, ApiError> {
    let contact = own_record(&s, tenant.account_id, Record::Contact, &id).await?;
    let input: ConsentIn = parse_json(&body)?;
    let opt_in = match input.action.as_str() {
        "opt_in" => true,
        "opt_out" => false,
        _ => return Err(ApiError::invalid("action", "opt_out or opt_in")),
    };
    s.engine
        .set_sms_consent(
            tenant.account_id,
            contact,
            opt_in,
            bellhop_domain::consent::Source::Api,
            &tenant.actor(),
        )
        .await?;
    contact_sms(State(s), tenant, Path(id)).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sms/inspect", post(inspect))
        .route("/sms/tans", post(create_tan))
        .route("/sms/tans/{id}/verify", post(verify_tan))
        .route("/sms/campaigns", get(campaigns).post(create_campaign))
        .route("/properties/{id}/sms/usage", get(usage))
        .route("/contacts/{id}/sms", get(contact_sms))
        .route("/contacts/{id}/sms/consent", post(set_consent))
}
