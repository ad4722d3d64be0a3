//! `/contacts`: guests and customers.

use super::validate::Check;
use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{self, Page, page_size, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use bellhop_domain::Contact;
use bellhop_domain::phone::{self, PhoneType};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A contact as submitted; absent fields are empty.
#[derive(Deserialize, Serialize, ToSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number as given; read in `phone_country`, else the contact's `country`, else the
    /// country of the property (or the account's first property).
    #[serde(default)]
    pub phone: Option<String>,
    /// Country a phone number without country code is read in (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing)]
    pub phone_country: Option<String>,
    /// Preferred language (BCP 47).
    #[serde(default)]
    pub language: Option<String>,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Country of residence (ISO 3166-1 alpha-2).
    #[serde(default)]
    pub country: Option<String>,
    /// Nationality (ISO 3166-1 alpha-2).
    #[serde(default)]
    pub nationality: Option<String>,
    /// Birth date, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<Date>,
}

/// A contact.
#[derive(Serialize, ToSchema)]
pub struct ContactOut {
    /// Id.
    pub id: Uuid,
    /// The contact's fields.
    #[serde(flatten)]
    pub fields: ContactIn,
    /// The phone number in E.164.
    pub phone_e164: Option<String>,
    /// Its type: `mobile`, `fixed_line`, `fixed_line_or_mobile`, ...
    #[schema(value_type = Option<String>)]
    pub phone_type: Option<PhoneType>,
    /// In the answer to a create or replace: what staff should know (an address missing,
    /// a consent the active rules of the contact's properties need).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<super::warnings::Warning>>,
}

impl From<&Contact> for ContactOut {
    fn from(c: &Contact) -> Self {
        ContactOut {
            id: c.id,
            fields: ContactIn {
                first_name: c.first_name.clone(),
                last_name: c.last_name.clone(),
                email: c.email.clone().map(String::from),
                phone: c.phone.clone(),
                phone_country: None,
                language: c.language.clone().map(String::from),
                address: c.address.clone(),
                postal_code: c.postal_code.clone(),
                city: c.city.clone(),
                country: c.country.clone(),
                nationality: c.nationality.clone(),
                birth_date: c.birth_date,
            },
            phone_e164: c.phone_e164.clone().map(String::from),
            phone_type: c.phone_type,
            warnings: None,
        }
    }
}

/// Validates a contact; `prefix` names the field path (`contact.` when inline in a booking).
pub fn to_contact(
    input: ContactIn,
    account_id: Uuid,
    id: Uuid,
    prefix: &str,
    today: jiff::civil::Date,
) -> Result<Contact, ApiError> {
    let mut check = Check::default();
    let f = |name: &str| format!("{prefix}{name}");
    for (name, value) in [
        ("first_name", &input.first_name),
        ("last_name", &input.last_name),
        ("city", &input.city),
        ("address", &input.address),
    ] {
        check.opt_line(&f(name), value, 200);
    }
    check.opt_line(&f("postal_code"), &input.postal_code, 20);
    check.opt_line(&f("phone"), &input.phone, 40);
    let given = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let email = given(&input.email).and_then(|e| check.email(&f("email"), &e.to_lowercase()));
    let language = given(&input.language).and_then(|l| check.language(&f("language"), &l));
    for (name, value) in [
        ("country", &input.country),
        ("nationality", &input.nationality),
    ] {
        if let Some(c) = value {
            check.country(&f(name), c);
        }
    }
    if let Some(c) = &input.phone_country {
        check.country(&f("phone_country"), c);
    }
    if let Some(born) = input.birth_date {
        check.birth_date(&f("birth_date"), born, today);
    }
    check.done()?;
    let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let phone_region = input.phone_country.clone().or(input.country.clone());
    let mut contact = Contact {
        id,
        account_id,
        first_name: blank(input.first_name),
        last_name: blank(input.last_name),
        email,
        phone: blank(input.phone),
        phone_e164: None,
        phone_type: None,
        language,
        address: blank(input.address),
        postal_code: blank(input.postal_code),
        city: blank(input.city),
        country: blank(input.country),
        nationality: blank(input.nationality),
        birth_date: input.birth_date,
    };
    if let Some(region) = phone_region {
        read_phone(&mut contact, Some(&region), &f("phone"))?;
    }
    Ok(contact)
}

/// Reads the contact's phone number in `region` (E.164 and type), or says why it cannot be.
/// A contact whose number has no region yet is read by the engine (the account's country).
pub fn read_phone(
    contact: &mut Contact,
    region: Option<&str>,
    field: &str,
) -> Result<(), ApiError> {
    let Some(raw) = &contact.phone else {
        return Ok(());
    };
    let number =
        phone::normalize(raw, region).map_err(|e| ApiError::invalid(field, e.to_string()))?;
    contact.phone_e164 = Some(number.e164);
    contact.phone_type = Some(number.kind);
    Ok(())
}

/// Creates a contact.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key")),
    responses((status = 201, body = ContactOut), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let contact = to_contact(
        parse_json(&body)?,
        tenant.account_id,
        Uuid::now_v7(),
        "",
        s.engine.today(),
    )?;
    extract::create(&s, tenant.account_id, &headers, &body, async |cmd| {
        cmd.upsert_contact(&contact).await?;
        let consent = cmd.contact_consent_warnings(&contact).await?;
        let mut out = ContactOut::from(&contact);
        out.warnings = Some(super::warnings::warnings(&contact, consent));
        Ok(out)
    })
    .await
}

/// Paging of contacts.
#[derive(Deserialize, IntoParams)]
pub struct ContactQuery {
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size (1–500, default 50).
    limit: Option<i64>,
}

/// Lists contacts in creation order.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactQuery), responses((status = 200, body = Page<ContactOut>)))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<ContactQuery>,
) -> Result<Json<Page<ContactOut>>, ApiError> {
    let limit = page_size(q.limit)?;
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse()
                .map_err(|_| ApiError::invalid("cursor", "not a cursor from this API"))
        })
        .transpose()?;
    let items = s
        .engine
        .query()
        .contacts(tenant.account_id, after, limit)
        .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| c.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: items.iter().map(ContactOut::from).collect(),
        next_cursor,
    }))
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, body = ContactOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ContactOut>, ApiError> {
    let c = s
        .engine
        .query()
        .contact(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(ContactOut::from(&c)))
}

/// Replaces a contact; the contact's bookings are re-planned (a missing-data mail stops once
/// the data is there).
#[utoipa::path(put, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)), request_body = ContactIn,
    responses((status = 200, body = ContactOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn replace(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ContactOut>, ApiError> {
    let id = path_id(&id)?;
    s.engine.query().contact(tenant.account_id, id).await?;
    let contact = to_contact(
        parse_json(&body)?,
        tenant.account_id,
        id,
        "",
        s.engine.today(),
    )?;
    s.engine.upsert_contact(&contact).await?;
    let consent = s
        .engine
        .contact_consent_warnings(tenant.account_id, id)
        .await?;
    let stored = s.engine.query().contact(tenant.account_id, id).await?;
    let mut out = ContactOut::from(&stored);
    out.warnings = Some(super::warnings::warnings(&stored, consent));
    Ok(Json(out))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contacts", get(list).post(create))
        .route("/contacts/{id}", get(get_one).put(replace))
}
