//! `/bookings`: stays and appointments. Every change re-plans the booking's messages in the
//! same transaction, and is recorded in the booking's history.

use super::contacts::{ContactIn, to_contact};
use super::validate::Check;
use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{self, Page, instant, page_size, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use bellhop_domain::{
    Booking, BookingDetails, BookingFields, BookingKind, BookingStatus, Schedule,
};
use bellhop_store::{BookingChange, BookingFilter, PlanSummary};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A booking as submitted. Stays give `arrival` and `departure` (local dates); appointments
/// give `start` and `end` (instants). Give `contact_id`, or `contact` to create or reuse a
/// contact by email.
#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct BookingIn {
    /// Property.
    pub property_id: Uuid,
    /// An existing contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    /// Or a contact to create (reused when the email is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactIn>,
    /// `stay` or `appointment`.
    #[schema(value_type = String, example = "stay")]
    pub kind: BookingKind,
    /// Status (default `confirmed`).
    #[serde(default = "confirmed")]
    #[schema(value_type = String, example = "confirmed")]
    pub status: BookingStatus,
    /// Arrival date (stays).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub arrival: Option<Date>,
    /// Departure date (stays).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub departure: Option<Date>,
    /// Start instant (appointments).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<Timestamp>,
    /// End instant (appointments).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<Timestamp>,
    /// End of an option (status `option`).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub option_until: Option<Timestamp>,
    /// End of a cart hold (status `pending_payment`).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub hold_expires_at: Option<Timestamp>,
    /// Room, service, prices, language and the other details ([`BookingDetails`]), under
    /// their own names. Kept as JSON until checked: a flattened struct would lose the name of
    /// the field a bad value came in, and any key that is not a detail is refused there.
    #[serde(flatten)]
    #[schema(value_type = BookingDetails)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

fn confirmed() -> BookingStatus {
    BookingStatus::Confirmed
}

/// A booking.
#[derive(Serialize, ToSchema)]
pub struct BookingOut {
    /// Id.
    pub id: Uuid,
    /// The booking's fields.
    #[serde(flatten)]
    pub fields: BookingIn,
    /// Increments with every change; send it back as `If-Match` to guard against lost updates.
    pub version: i64,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// The answer to a create or change: the booking, what was planned, and warnings.
#[derive(Serialize, ToSchema)]
pub struct BookingResult {
    /// The booking.
    pub booking: BookingOut,
    /// Messages planned, moved, cancelled.
    #[schema(value_type = super::schemas::PlanSummarySchema)]
    pub plan: PlanSummary,
    /// Things staff should know: an address missing, a landline, a consent the property's
    /// active rules need and the guest has not given (their messages will be suppressed).
    pub warnings: Vec<super::warnings::Warning>,
}

fn fields_of(b: &Booking) -> BookingIn {
    let (arrival, departure, start, end) = match b.fields.schedule {
        Schedule::Stay { arrival, departure } => (Some(arrival), Some(departure), None, None),
        Schedule::Appointment { start, end } => (None, None, Some(start), Some(end)),
    };
    BookingIn {
        property_id: b.fields.property_id,
        contact_id: Some(b.fields.contact_id),
        contact: None,
        kind: b.kind(),
        status: b.fields.status,
        arrival,
        departure,
        start,
        end,
        option_until: b.fields.option_until,
        hold_expires_at: b.fields.hold_expires_at,
        details: match serde_json::to_value(&b.fields.details) {
            Ok(serde_json::Value::Object(details)) => details,
            _ => serde_json::Map::new(),
        },
    }
}

pub fn out(b: &Booking) -> BookingOut {
    BookingOut {
        id: b.id,
        fields: fields_of(b),
        version: b.version,
        created_at: b.created_at,
        updated_at: b.updated_at,
    }
}

pub(crate) fn to_draft(input: &BookingIn, contact_id: Uuid) -> Result<BookingFields, ApiError> {
    let mut check = Check::default();
    let schedule = match input.kind {
        BookingKind::Stay => match (input.arrival, input.departure, input.start.or(input.end)) {
            (Some(arrival), Some(departure), None) => Some(Schedule::Stay { arrival, departure }),
            (_, _, Some(_)) => {
                check.fail(
                    "start",
                    "stays take arrival and departure dates, not start and end",
                );
                None
            }
            _ => {
                check.fail(
                    "arrival",
                    "a stay needs arrival and departure dates (YYYY-MM-DD)",
                );
                None
            }
        },
        BookingKind::Appointment => {
            match (input.start, input.end, input.arrival.or(input.departure)) {
                (Some(start), Some(end), None) => Some(Schedule::Appointment { start, end }),
                (_, _, Some(_)) => {
                    check.fail(
                        "arrival",
                        "appointments take start and end instants, not arrival and departure",
                    );
                    None
                }
                _ => {
                    check.fail(
                        "start",
                        "an appointment needs start and end instants (RFC 3339)",
                    );
                    None
                }
            }
        }
    };
    if let Some(s) = &schedule
        && let Err(m) = s.validate()
    {
        check.fail(
            if input.kind == BookingKind::Stay {
                "departure"
            } else {
                "end"
            },
            m,
        );
    }
    let details = details_of(&input.details, &mut check);
    if let Some(details) = &details {
        for problem in details.problems() {
            check.fail(problem.field, problem.message);
        }
    }
    check.done()?;
    let (Some(schedule), Some(details)) = (schedule, details) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "booking fields missing after validation"
        )));
    };
    Ok(BookingFields {
        property_id: input.property_id,
        contact_id,
        status: input.status,
        schedule,
        option_until: input.option_until,
        hold_expires_at: input.hold_expires_at,
        details,
    })
}

/// The details of a booking, each bad value or unknown key named by its field.
fn details_of(
    given: &serde_json::Map<String, serde_json::Value>,
    check: &mut Check,
) -> Option<BookingDetails> {
    let known = match serde_json::to_value(BookingDetails::default()) {
        Ok(serde_json::Value::Object(known)) => known,
        _ => serde_json::Map::new(),
    };
    let mut ok = true;
    for (key, value) in given {
        if !known.contains_key(key) {
            check.fail(key, "unknown field");
            ok = false;
            continue;
        }
        let mut one = serde_json::Map::new();
        one.insert(key.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<BookingDetails>(serde_json::Value::Object(one)) {
            check.fail(key, e.to_string());
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    serde_json::from_value(serde_json::Value::Object(given.clone()))
        .map_err(|e| check.fail("body", e.to_string()))
        .ok()
}

/// What staff should know about a booking's contact.
/// Creates a booking and plans its messages.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings", request_body = BookingIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key"), CreateQuery),
    responses((status = 201, body = BookingResult), (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem, description = "a booking with this external_id from this source exists (`existing_booking_id`)"), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(query): Query<CreateQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: BookingIn = parse_json(&body)?;
    let account = tenant.account_id;
    let contact = match (&input.contact_id, &input.contact) {
        (Some(_), None) => None,
        (None, Some(c)) => Some(to_contact(
            c.clone(),
            account,
            Uuid::now_v7(),
            "contact.",
            s.engine.today(),
        )?),
        _ => {
            return Err(ApiError::invalid(
                "contact_id",
                "give either contact_id or contact",
            ));
        }
    };
    let actor = tenant.actor();
    extract::create(&s, account, &headers, &body, async |cmd| {
        let contact_id = match (input.contact_id, contact) {
            (Some(id), _) => id,
            (None, None) => {
                return Err(ApiError::invalid(
                    "contact_id",
                    "give either contact_id or contact",
                ));
            }
            (None, Some(mut contact)) => {
                if contact.phone_e164.is_none() {
                    // A number typed without country code is read in the property's country.
                    let country = cmd
                        .property(input.property_id)
                        .await
                        .map(|p| p.country)
                        .ok();
                    super::contacts::read_phone(&mut contact, country.as_deref(), "contact.phone")?;
                }
                cmd.find_or_create_contact(&contact).await?.id
            }
        };
        let draft = to_draft(&input, contact_id)?;
        let created = cmd.create_booking(draft.clone(), &actor).await;
        let (booking, plan) = match (created, query.on_conflict) {
            (
                Err(bellhop_engine::EngineError::Duplicate { existing, .. }),
                Some(OnConflict::Update),
            ) => cmd.replace_booking(existing, draft, &actor).await?,
            (created, _) => created?,
        };
        let contact = cmd.contact(contact_id).await?;
        let consent = cmd.booking_consent_warnings(&booking).await?;
        Ok(BookingResult {
            booking: out(&booking),
            plan,
            warnings: super::warnings::warnings(&contact, consent),
        })
    })
    .await
}

/// What a create does when the external id exists.
#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Answer 409 with the existing booking's id (the default).
    Refuse,
    /// Replace the existing booking's fields with the request's.
    Update,
}

/// Options of a create.
#[derive(Deserialize, IntoParams)]
pub struct CreateQuery {
    /// With `update`, a booking whose `external_id` (from the same `source_channel`) exists
    /// at the property is replaced instead of refused.
    on_conflict: Option<OnConflict>,
}

/// Filters and paging of bookings.
#[derive(Deserialize, IntoParams)]
pub struct BookingQuery {
    /// Only this property.
    property_id: Option<Uuid>,
    /// Only this status.
    status: Option<String>,
    /// Created at or after (RFC 3339).
    created_from: Option<String>,
    /// Created before (RFC 3339).
    created_to: Option<String>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size (1–500, default 50).
    limit: Option<i64>,
}

/// Lists bookings by creation.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(BookingQuery), responses((status = 200, body = Page<BookingOut>)))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<BookingQuery>,
) -> Result<Json<Page<BookingOut>>, ApiError> {
    let limit = page_size(q.limit)?;
    let filter = BookingFilter {
        property_id: q.property_id,
        status: q
            .status
            .as_deref()
            .map(|s| {
                s.parse()
                    .map_err(|e: bellhop_domain::booking::UnknownName| {
                        ApiError::invalid("status", e.to_string())
                    })
            })
            .transpose()?,
        created_from: q
            .created_from
            .as_deref()
            .map(|t| instant("created_from", t))
            .transpose()?,
        created_to: q
            .created_to
            .as_deref()
            .map(|t| instant("created_to", t))
            .transpose()?,
        after: q
            .cursor
            .as_deref()
            .map(|c| {
                c.parse()
                    .map_err(|_| ApiError::invalid("cursor", "not a cursor from this API"))
            })
            .transpose()?,
        limit,
    };
    let items = s
        .engine
        .query()
        .bookings(tenant.account_id, &filter)
        .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|b| b.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: items.iter().map(out).collect(),
        next_cursor,
    }))
}

/// One booking.
#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = BookingOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<BookingOut>, ApiError> {
    let b = s
        .engine
        .query()
        .booking(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(out(&b)))
}

/// RFC 7396 JSON merge patch.
fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Changes a booking (JSON merge patch: fields given replace, `null` clears). Send the
/// version you read as `If-Match` to refuse the change if someone else changed it meanwhile.
#[utoipa::path(patch, path = "/api/v1/bookings/{id}", tag = "bookings", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "expected version")),
    request_body(content = BookingIn, content_type = "application/merge-patch+json", description = "Any of the booking's fields: those given replace, null clears"),
    responses((status = 200, body = BookingResult), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn patch(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BookingResult>, ApiError> {
    let id = path_id(&id)?;
    let patch: serde_json::Value = parse_json(&body)?;
    if !patch.is_object() {
        return Err(ApiError::BadRequest(
            "a merge patch must be a JSON object".into(),
        ));
    }
    let expected = match headers.get("if-match") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(|s| s.trim_matches('"'))
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::invalid("If-Match", "must be the booking's version number")
                })?,
        ),
        None => None,
    };
    // The merge happens on the booking as stored when the change is written, so a
    // concurrent change of other fields is kept, never overwritten with what was read before.
    let (booking, plan) = s
        .engine
        .edit_booking(
            tenant.account_id,
            id,
            expected,
            &tenant.actor(),
            |current| {
                let mut merged = serde_json::to_value(fields_of(current))
                    .map_err(|e| ApiError::Internal(e.into()))?;
                merge(&mut merged, &patch);
                let input: BookingIn = parse_json(merged.to_string().as_bytes())?;
                if input.contact.is_some() {
                    return Err(ApiError::invalid(
                        "contact",
                        "change the contact with PUT /contacts/{id}, or set contact_id",
                    ));
                }
                let contact_id = input
                    .contact_id
                    .ok_or_else(|| ApiError::invalid("contact_id", "is required"))?;
                to_draft(&input, contact_id)
            },
        )
        .await?;
    let consent = s
        .engine
        .booking_consent_warnings(tenant.account_id, booking.id)
        .await?;
    let warnings = super::warnings::warnings(
        &s.engine
            .query()
            .contact(tenant.account_id, booking.fields.contact_id)
            .await?,
        consent,
    );
    Ok(Json(BookingResult {
        booking: out(&booking),
        plan,
        warnings,
    }))
}

/// One recorded change.
#[derive(Serialize, ToSchema)]
pub struct ChangeOut {
    /// Version produced.
    pub version: i64,
    /// Who.
    pub actor: String,
    /// Field → [old, new].
    #[schema(value_type = super::schemas::ChangesSchema)]
    pub changes: serde_json::Value,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

impl From<BookingChange> for ChangeOut {
    fn from(c: BookingChange) -> Self {
        ChangeOut {
            version: c.version,
            actor: c.actor,
            changes: c.changes,
            at: c.at,
        }
    }
}

/// A booking's change history.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/changes", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = [ChangeOut]), (status = 404, body = crate::error::Problem)))]
pub async fn changes(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Vec<ChangeOut>>, ApiError> {
    let id = path_id(&id)?;
    s.engine.query().booking(tenant.account_id, id).await?;
    let all: Vec<BookingChange> = s
        .engine
        .query()
        .booking_changes(tenant.account_id, id)
        .await?;
    Ok(Json(all.into_iter().map(ChangeOut::from).collect()))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bookings", get(list).post(create))
        .route(
            "/bookings/import",
            axum::routing::post(super::imports::import).layer(
                axum::extract::DefaultBodyLimit::max(super::imports::MAX_BODY),
            ),
        )
        .route("/bookings/{id}", get(get_one).patch(patch))
        .route("/bookings/{id}/changes", get(changes))
}
