//! `/properties`: hotels and salons.

use super::validate::Check;
use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{self, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use bellhop_domain::Property;
use bellhop_domain::consent::ConsentPolicy;
use bellhop_domain::property::{Brand, Sender, SmsSettings};
use bellhop_domain::time::{LocalTime, parse_time_zone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A property as submitted.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PropertyIn {
    /// Display name.
    pub name: String,
    /// IANA time zone, such as `Europe/Vienna`.
    pub time_zone: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Language used when neither booking nor guest has one.
    #[serde(default = "default_language")]
    pub default_language: String,
    /// Local check-in time, `HH:MM` (default 15:00): the instant "arrival" means.
    #[serde(default = "default_check_in")]
    pub check_in_time: String,
    /// Local check-out time, `HH:MM` (default 10:00).
    #[serde(default = "default_check_out")]
    pub check_out_time: String,
    /// From address.
    pub sender_email: String,
    /// From display name.
    pub sender_name: String,
    /// Reply-To address.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// HTML layout; `{{ content }}` marks where each email's body goes.
    #[serde(default)]
    pub layout_html: Option<String>,
    /// Text layout.
    #[serde(default)]
    pub layout_text: Option<String>,
    /// How the property presents itself in the built-in layout and to templates
    /// (`property.logo_url`, ...): `logo_url`, `color` (`#RRGGBB`), `address`, `phone`,
    /// `website`, `map_url`, `booking_url`, each optional.
    #[serde(default)]
    pub brand: Brand,
    /// SMS: `sender` (1–11 letters, digits, spaces, or an E.164 number; none: no SMS),
    /// `plan` (`{"plan": "package", "size": 150, "price_cents": 1200}` or
    /// `{"plan": "per_sms", "price_cents": 8}`), `monthly_limit` (SMS per month),
    /// `smart_encoding`, `quiet_hours` (`{"start": "21:00", "end": "08:00"}` or null),
    /// `landline_voice`, `reminders` (`optional` or `mandatory`), `stop_applies_to`
    /// (`marketing` or `all`).
    #[serde(default)]
    #[schema(value_type = super::schemas::SmsSettingsSchema)]
    pub sms: SmsSettings,
    /// Consent: `service_needs_consent` (default false: confirmations and reminders rest on
    /// the contract, and only a withdrawal stops them; marketing and personalised messages
    /// always need a grant).
    #[serde(default)]
    pub consent: ConsentPolicy,
}

fn default_language() -> String {
    "en".into()
}
fn default_check_in() -> String {
    "15:00".into()
}
fn default_check_out() -> String {
    "10:00".into()
}

/// A property.
#[derive(Serialize, ToSchema)]
pub struct PropertyOut {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// IANA zone.
    pub time_zone: String,
    /// Country.
    pub country: String,
    /// Default language.
    pub default_language: String,
    /// Check-in time.
    pub check_in_time: String,
    /// Check-out time.
    pub check_out_time: String,
    /// From address.
    pub sender_email: String,
    /// From name.
    pub sender_name: String,
    /// Reply-To.
    pub reply_to: Option<String>,
    /// HTML layout.
    pub layout_html: Option<String>,
    /// Text layout.
    pub layout_text: Option<String>,
    /// Logo, colour, address, phone, links.
    pub brand: Brand,
    /// SMS settings.
    #[schema(value_type = super::schemas::SmsSettingsSchema)]
    pub sms: SmsSettings,
    /// Whether guests can reply to the SMS sender (and so send STOP): only a numeric sender
    /// can receive replies.
    pub sms_replies_possible: bool,
    /// Consent policy.
    pub consent: ConsentPolicy,
}

impl From<&Property> for PropertyOut {
    fn from(p: &Property) -> Self {
        PropertyOut {
            id: p.id,
            name: p.name.clone(),
            time_zone: p.time_zone_name.clone(),
            country: p.country.clone(),
            default_language: p.default_language.clone(),
            check_in_time: p.check_in_time.to_string(),
            check_out_time: p.check_out_time.to_string(),
            sender_email: p.sender.email.clone(),
            sender_name: p.sender.name.clone(),
            reply_to: p.sender.reply_to.clone(),
            layout_html: p.layout_html.clone(),
            layout_text: p.layout_text.clone(),
            brand: p.brand.clone(),
            sms: p.sms.clone(),
            sms_replies_possible: p
                .sms
                .sender
                .as_ref()
                .is_some_and(|s| s.can_receive_replies()),
            consent: p.consent,
        }
    }
}

/// The brand's broken rules, and links that point at a loopback, private or metadata address
/// (guests' mail programs and the staff's browsers would fetch them; they only ever need a
/// public address).
pub(crate) fn brand_problems(
    brand: &bellhop_domain::property::Brand,
) -> Vec<(&'static str, String)> {
    let mut problems: Vec<(&'static str, String)> = brand
        .problems()
        .into_iter()
        .map(|(f, m)| (f, m.to_owned()))
        .collect();
    let public = bellhop_transport::ssrf::OutboundPolicy::public_only();
    for (field, url) in [
        ("logo_url", &brand.logo_url),
        ("website", &brand.website),
        ("map_url", &brand.map_url),
        ("booking_url", &brand.booking_url),
    ] {
        if let Some(url) = url
            && !problems.iter().any(|(f, _)| *f == field)
            && let Err(why) = public.check_url(url)
        {
            problems.push((field, why));
        }
    }
    problems
}

fn to_property(input: PropertyIn, account_id: Uuid, id: Uuid) -> Result<Property, ApiError> {
    let mut check = Check::default();
    check.text("name", &input.name, 1, 200);
    check.country("country", &input.country);
    check.language("default_language", &input.default_language);
    check.email("sender_email", &input.sender_email);
    check.text("sender_name", &input.sender_name, 1, 200);
    if let Some(r) = &input.reply_to {
        check.email("reply_to", r);
    }
    for (field, layout) in [
        ("layout_html", &input.layout_html),
        ("layout_text", &input.layout_text),
    ] {
        if let Some(l) = layout
            && let Err(why) = bellhop_domain::render::check_layout(l, Default::default())
        {
            check.fail(field, why);
        }
    }
    for (field, message) in brand_problems(&input.brand) {
        check.fail(&format!("brand.{field}"), &message);
    }
    if let Err(e) = input.sms.plan.validate() {
        check.fail("sms.plan", e);
    }
    if input.sms.monthly_limit.is_some_and(|l| l > 10_000_000) {
        check.fail("sms.monthly_limit", "at most 10,000,000 SMS a month");
    }
    let zone = parse_time_zone(&input.time_zone);
    if let Err(e) = &zone {
        check.fail("time_zone", e.to_string());
    }
    let check_in = LocalTime::parse(&input.check_in_time);
    if let Err(e) = &check_in {
        check.fail("check_in_time", e.to_string());
    }
    let check_out = LocalTime::parse(&input.check_out_time);
    if let Err(e) = &check_out {
        check.fail("check_out_time", e.to_string());
    }
    check.done()?;
    let (Ok(time_zone), Ok(check_in_time), Ok(check_out_time)) = (zone, check_in, check_out) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "validated values failed to parse"
        )));
    };
    Ok(Property {
        id,
        account_id,
        name: input.name,
        // Stored as the database names it (`europe/vienna` → `Europe/Vienna`).
        time_zone_name: time_zone.iana_name().map_or(input.time_zone, str::to_owned),
        time_zone,
        country: input.country,
        default_language: input.default_language,
        check_in_time,
        check_out_time,
        sender: Sender {
            email: input.sender_email,
            name: input.sender_name,
            reply_to: input.reply_to,
        },
        layout_html: input.layout_html,
        layout_text: input.layout_text,
        brand: input.brand,
        consent: input.consent,
        sms: input.sms,
    })
}

/// Creates a property.
#[utoipa::path(post, path = "/api/v1/properties", tag = "properties", request_body = PropertyIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key")),
    responses((status = 201, body = PropertyOut), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let property = to_property(parse_json(&body)?, tenant.account_id, Uuid::now_v7())?;
    extract::create(&s, tenant.account_id, &headers, &body, async |cmd| {
        cmd.create_property(&property).await?;
        Ok(PropertyOut::from(&property))
    })
    .await
}

/// Lists the account's properties.
#[utoipa::path(get, path = "/api/v1/properties", tag = "properties", responses((status = 200, body = [PropertyOut])))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<PropertyOut>>, ApiError> {
    let all = s.engine.query().properties(tenant.account_id).await?;
    Ok(Json(all.iter().map(PropertyOut::from).collect()))
}

/// One property.
#[utoipa::path(get, path = "/api/v1/properties/{id}", tag = "properties", params(("id" = Uuid, Path)),
    responses((status = 200, body = PropertyOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<PropertyOut>, ApiError> {
    let p = s
        .engine
        .query()
        .property(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(PropertyOut::from(&p)))
}

/// Replaces a property's settings; planned messages move with the zone and check-in time.
#[utoipa::path(put, path = "/api/v1/properties/{id}", tag = "properties", params(("id" = Uuid, Path)), request_body = PropertyIn,
    responses((status = 200, body = PropertyOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn replace(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<PropertyOut>, ApiError> {
    let id = path_id(&id)?;
    s.engine.query().property(tenant.account_id, id).await?;
    let property = to_property(parse_json(&body)?, tenant.account_id, id)?;
    s.engine.update_property(&property).await?;
    Ok(Json(PropertyOut::from(&property)))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/properties", get(list).post(create))
        .route("/properties/{id}", get(get_one).put(replace))
}
