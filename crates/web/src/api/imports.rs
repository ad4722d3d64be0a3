//! `POST /bookings/import`: many bookings at once, idempotent by each booking's reference.
//!
//! The body is a JSON array or NDJSON (one booking per line) of up to 10,000 bookings, each
//! shaped as for `POST /bookings` and with `external_id` (the reference its source gave it).
//! Every item is checked first; if any is wrong the answer is one 422 naming each field as
//! `[index].field`, and nothing is stored. The command line (`bellhop import bookings`) reads
//! its CSV or NDJSON rows through the same `item`.

use super::bookings::{BookingIn, to_draft};
use super::contacts::{read_phone, to_contact};
use crate::AppState;
use crate::auth::Tenant;
use crate::error::{ApiError, FieldError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use bellhop_engine::{ImportContact, ImportItem, ImportReport, OnInvalid, Refusal};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// Most bookings in one request.
pub const MAX_ITEMS: usize = 10_000;

/// Largest import body: 10,000 bookings of about a kilobyte each, with room to spare.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    /// New bookings.
    pub created: usize,
    /// Bookings imported before under the same reference, now changed.
    pub updated: usize,
    /// Bookings imported before under the same reference, identical.
    pub unchanged: usize,
    /// Messages newly planned.
    pub planned: u32,
    /// Messages skipped because they were already late when booked.
    pub skipped: u32,
    /// Messages moved by changes.
    pub moved: u32,
    /// Messages cancelled by changes.
    pub cancelled: u32,
}

impl From<ImportReport> for ImportResult {
    fn from(r: ImportReport) -> Self {
        ImportResult {
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            planned: r.plan.planned + r.plan.reopened,
            skipped: r.plan.skipped,
            moved: r.plan.moved,
            cancelled: r.plan.cancelled,
        }
    }
}

/// One item of an import, checked: a booking and its contact, or every field error with
/// the item's index. `countries` gives each property's country, in which a phone number
/// typed without country code is read.
/// What reading an import item needs to know besides the item.
pub struct ItemContext {
    /// The importing account.
    pub account: Uuid,
    /// Each property's country, to read national phone numbers.
    pub countries: HashMap<Uuid, String>,
    /// Today (UTC), the latest date of birth.
    pub today: jiff::civil::Date,
}

pub fn item(
    value: serde_json::Value,
    index: usize,
    ctx: &ItemContext,
) -> Result<ImportItem, Vec<FieldError>> {
    let (account, countries) = (ctx.account, &ctx.countries);
    let at = |field: &str| format!("[{index}].{field}");
    if !value.is_object() {
        return Err(vec![FieldError {
            field: format!("[{index}]"),
            message: "each booking must be a JSON object".into(),
        }]);
    }
    let input: BookingIn = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        vec![FieldError {
            field: if path == "." {
                format!("[{index}]")
            } else {
                at(&path)
            },
            message: e.into_inner().to_string(),
        }]
    })?;
    let rename = |e: ApiError| match e {
        ApiError::Invalid(fields) => fields
            .into_iter()
            .map(|f| FieldError {
                field: at(&f.field),
                message: f.message,
            })
            .collect(),
        other => vec![FieldError {
            field: format!("[{index}]"),
            message: other.to_string(),
        }],
    };
    let contact = match (input.contact_id, &input.contact) {
        (Some(id), None) => ImportContact::Existing(id),
        (None, Some(c)) => {
            let mut contact = to_contact(c.clone(), account, Uuid::nil(), "contact.", ctx.today)
                .map_err(rename)?;
            if contact.phone_e164.is_none() {
                let country = countries.get(&input.property_id).map(String::as_str);
                read_phone(&mut contact, country, "contact.phone").map_err(rename)?;
            }
            ImportContact::New(Box::new(contact))
        }
        _ => {
            return Err(vec![FieldError {
                field: at("contact_id"),
                message: "give either contact_id or contact".into(),
            }]);
        }
    };
    let draft = to_draft(&input, Uuid::nil()).map_err(rename)?;
    Ok(ImportItem {
        index,
        draft,
        contact,
    })
}

/// Field errors of item `index` as the engine's refusals (field paths without the index).
pub fn refusals(index: usize, errors: Vec<FieldError>) -> Vec<Refusal> {
    let prefix = format!("[{index}].");
    errors
        .into_iter()
        .map(|e| Refusal {
            index,
            field: e.field.strip_prefix(&prefix).unwrap_or(&e.field).to_owned(),
            message: e.message,
        })
        .collect()
}

/// The items of an import body: a JSON array, or NDJSON when the content type says so.
fn values(headers: &HeaderMap, body: &[u8]) -> Result<Vec<serde_json::Value>, ApiError> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let ndjson = [
        "application/x-ndjson",
        "application/jsonl",
        "application/ndjson",
    ]
    .iter()
    .any(|t| content_type.starts_with(t));
    if crate::extract::contains_nul_escape(body) {
        return Err(ApiError::invalid(
            "body",
            "text must not contain NUL (\\u0000)",
        ));
    }
    let values: Vec<serde_json::Value> = if ndjson {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::BadRequest("NDJSON must be UTF-8".into()))?;
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(n, line)| {
                serde_json::from_str(line)
                    .map_err(|e| ApiError::BadRequest(format!("line {}: invalid JSON: {e}", n + 1)))
            })
            .collect::<Result<_, _>>()?
    } else {
        match serde_json::from_slice(body) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(_) => {
                return Err(ApiError::BadRequest(
                    "an import is a JSON array of bookings (or NDJSON, one per line)".into(),
                ));
            }
            Err(e) => return Err(ApiError::BadRequest(format!("invalid JSON: {e}"))),
        }
    };
    if values.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            "body",
            format!(
                "at most {MAX_ITEMS} bookings per request ({} given): split the file",
                values.len()
            ),
        ));
    }
    Ok(values)
}

/// Imports bookings: new references are created, known ones changed where they differ.
#[utoipa::path(post, path = "/api/v1/bookings/import", tag = "bookings",
    request_body(content = [BookingIn], description = "A JSON array, or NDJSON (application/x-ndjson) with one booking per line; at most 10,000"),
    responses((status = 200, body = ImportResult), (status = 400, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn import(
    State(s): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportResult>, ApiError> {
    let account = tenant.account_id;
    let values = values(&headers, &body)?;
    let ctx = ItemContext {
        account,
        countries: s
            .engine
            .query()
            .properties(account)
            .await?
            .into_iter()
            .map(|p| (p.id, p.country))
            .collect(),
        today: s.engine.today(),
    };
    let mut items = Vec::with_capacity(values.len());
    let mut refused = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        match item(value, index, &ctx) {
            Ok(i) => items.push(i),
            Err(errors) => refused.extend(refusals(index, errors)),
        }
    }
    let report = s
        .engine
        .import_bookings(
            account,
            items,
            refused,
            &tenant.actor(),
            OnInvalid::Refuse,
            &|_| {},
        )
        .await?;
    Ok(Json(report.into()))
}
