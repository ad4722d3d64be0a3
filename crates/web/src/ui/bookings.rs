//! Bookings: the list with filters and search, a booking with its timeline (planned, sent,
//! suppressed, skipped and why), its change history and consent warnings, the guest's
//! missing data fixed in place, and bookings created and changed by hand (a channel's
//! booking refuses what the channel owns: the engine says so).

use super::{Form, Staff, Submitted, UiError, local, path_id, refusal, respond, see_other};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use bellhop_domain::booking::{BookingDetails, BookingFields, BookingStatus, Schedule};
use bellhop_domain::contact::{Contact, EmailAddress, GuestField};
use bellhop_domain::{Booking, Property};
use bellhop_store::{BookingFilter, MessageFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/bookings", get(list).post(create))
        .route("/app/bookings/new", get(new_form))
        .route("/app/bookings/{id}", get(show).post(change))
        .route("/app/bookings/{id}/guest", post(fix_guest))
}

/// The fields a guest record is missing (the ones the hotel moments ask for).
const GUEST_FIELDS: [GuestField; 4] = [
    GuestField::FirstName,
    GuestField::LastName,
    GuestField::Email,
    GuestField::Phone,
];

fn missing(contact: &Contact) -> Vec<&'static str> {
    GUEST_FIELDS
        .iter()
        .filter(|f| !contact.has(**f))
        .map(|f| f.as_str())
        .collect()
}

pub(super) fn guest_name(c: &Contact) -> String {
    let name = [c.first_name.as_deref(), c.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.trim().is_empty() {
        c.email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default()
    } else {
        name
    }
}

pub(super) fn when(b: &Booking, p: Option<&Property>) -> String {
    match &b.fields.schedule {
        Schedule::Stay { arrival, departure } => format!("{arrival} – {departure}"),
        Schedule::Appointment { start, end } => {
            let zone = p.map_or(jiff::tz::TimeZone::UTC, |p| p.time_zone.clone());
            let end = end.to_zoned(zone.clone()).strftime("%H:%M").to_string();
            format!("{} – {end}", local(*start, &zone))
        }
    }
}

fn first_day(b: &Booking, p: Option<&Property>) -> jiff::civil::Date {
    match &b.fields.schedule {
        Schedule::Stay { arrival, .. } => *arrival,
        Schedule::Appointment { start, .. } => start
            .to_zoned(p.map_or(jiff::tz::TimeZone::UTC, |p| p.time_zone.clone()))
            .date(),
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    property: Option<String>,
    status: Option<String>,
    channel: Option<String>,
    from: Option<String>,
    to: Option<String>,
    warnings: Option<String>,
    missing: Option<String>,
}

/// How many of the newest bookings the list filters and searches.
const LIST_WINDOW: i64 = 500;
/// How many rows it shows.
const LIST_ROWS: usize = 100;

async fn list(State(s): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> Response {
    respond(staff.lang, list_page(&s, &staff, q).await)
}

async fn list_page(s: &AppState, staff: &Staff, f: ListQuery) -> Result<Response, UiError> {
    let account = staff.account();
    let query = s.engine.query();
    let properties = query.properties(account).await?;
    let nonblank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let property = nonblank(&f.property).and_then(|p| Uuid::parse_str(&p).ok());
    let status = nonblank(&f.status)
        .and_then(|st| BookingStatus::ALL.into_iter().find(|x| x.as_str() == st));
    let from = nonblank(&f.from).and_then(|d| d.parse::<jiff::civil::Date>().ok());
    let to = nonblank(&f.to).and_then(|d| d.parse::<jiff::civil::Date>().ok());
    let search = nonblank(&f.q).map(|q| q.to_lowercase());
    let channel = nonblank(&f.channel);
    let bookings = query
        .bookings(
            account,
            &BookingFilter {
                property_id: property,
                status,
                limit: LIST_WINDOW,
                ..Default::default()
            },
        )
        .await?;
    let mut contacts: HashMap<Uuid, Contact> = HashMap::new();
    let mut rows = Vec::new();
    let mut channels = std::collections::BTreeSet::new();
    for b in bookings {
        let p = properties.iter().find(|p| p.id == b.fields.property_id);
        if let Some(c) = &b.fields.details.source_channel {
            channels.insert(c.clone());
        }
        let day = first_day(&b, p);
        if from.is_some_and(|from| day < from) || to.is_some_and(|to| day > to) {
            continue;
        }
        if channel
            .as_ref()
            .is_some_and(|c| b.fields.details.source_channel.as_deref() != Some(c.as_str()))
        {
            continue;
        }
        if !contacts.contains_key(&b.fields.contact_id) {
            let c = query.contact(account, b.fields.contact_id).await?;
            contacts.insert(c.id, c);
        }
        let contact = &contacts[&b.fields.contact_id];
        if let Some(needle) = &search {
            let hay = [
                contact.first_name.clone(),
                contact.last_name.clone(),
                Some(guest_name(contact)),
                contact.email.as_ref().map(|e| e.as_str().to_owned()),
                contact.phone.clone(),
                contact.phone_e164.as_ref().map(|p| p.to_string()),
                b.fields.details.voucher.clone(),
                b.fields.details.external_id.clone(),
            ];
            let digits: String = needle.chars().filter(char::is_ascii_digit).collect();
            let hit = hay.iter().flatten().any(|h| {
                let h = h.to_lowercase();
                h.contains(needle.as_str())
                    || (digits.len() >= 4
                        && h.chars()
                            .filter(char::is_ascii_digit)
                            .collect::<String>()
                            .contains(&digits))
            });
            if !hit {
                continue;
            }
        }
        let gaps = missing(contact);
        if f.missing.is_some() && gaps.is_empty() {
            continue;
        }
        let warnings = if f.warnings.is_some() || rows.len() < LIST_ROWS {
            s.engine
                .booking_consent_warnings(account, b.id)
                .await?
                .len()
        } else {
            0
        };
        if f.warnings.is_some() && warnings == 0 {
            continue;
        }
        rows.push(json!({
            "id": b.id,
            "guest": guest_name(contact),
            "property": p.map(|p| p.name.clone()),
            "when": when(&b, p),
            "status": b.fields.status.as_str(),
            "channel": b.fields.details.source_channel,
            "voucher": b.fields.details.voucher,
            "missing": gaps,
            "warnings": warnings,
        }));
        if rows.len() >= LIST_ROWS {
            break;
        }
    }
    let statuses: Vec<&str> = BookingStatus::ALL.iter().map(|s| s.as_str()).collect();
    let props: Vec<Value> = properties
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name}))
        .collect();
    Ok(staff.page(
        "bookings.html",
        "bookings",
        ctx! {
            rows => rows, properties => props, statuses => statuses, channels => channels,
            f => json!({
                "q": f.q, "property": f.property, "status": f.status, "channel": f.channel,
                "from": f.from, "to": f.to, "warnings": f.warnings.is_some(), "missing": f.missing.is_some(),
            }),
        },
    ))
}

async fn show(
    State(s): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let done = q.get("done").cloned();
    respond(staff.lang, detail(&s, &staff, &id, done, None).await)
}

async fn detail(
    s: &AppState,
    staff: &Staff,
    id: &str,
    done: Option<String>,
    problem: Option<String>,
) -> Result<Response, UiError> {
    let account = staff.account();
    let query = s.engine.query();
    let booking = query.booking(account, path_id(id)?).await?;
    let property = query.property(account, booking.fields.property_id).await?;
    let contact = query.contact(account, booking.fields.contact_id).await?;
    let zone = property.time_zone.clone();
    let rules: HashMap<Uuid, String> = query
        .rules(account, Some(property.id))
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let messages: Vec<Value> = query
        .messages(
            account,
            &MessageFilter {
                booking_id: Some(booking.id),
                limit: 200,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "due": local(m.due_at, &zone),
                "sent": m.sent_at.map(|t| local(t, &zone)),
                "rule": m.rule_id.and_then(|r| rules.get(&r).cloned()).unwrap_or_else(|| m.kind.clone()),
                "channel": m.channel,
                "status": m.status.as_str(),
                "reason": m.status_reason,
                "subject": m.subject,
            })
        })
        .collect();
    // Histories record `user:<id>` and `api:<key id>`: shown by name.
    let mut actors: HashMap<String, String> = HashMap::new();
    for u in s.engine.users(account).await? {
        actors.insert(format!("user:{}", u.id), u.name);
    }
    for k in s.engine.api_keys(account).await? {
        actors.insert(format!("api:{}", k.id), format!("API · {}", k.name));
    }
    let changes: Vec<Value> = query
        .booking_changes(account, booking.id)
        .await?
        .into_iter()
        .map(|c| {
            json!({
                "version": c.version,
                "actor": actors.get(&c.actor).cloned().unwrap_or_else(|| c.actor.clone()),
                "at": local(c.at, &zone),
                "changes": c.changes.to_string(),
            })
        })
        .collect();
    let warnings: Vec<String> = s
        .engine
        .booking_consent_warnings(account, booking.id)
        .await?
        .iter()
        .map(|w| super::contacts::warning_text(staff, w))
        .collect();
    Ok(staff.page(
        "booking.html",
        "bookings",
        ctx! {
            b => booking_json(&booking, &property),
            guest => guest_json(&contact),
            property => property.name,
            messages => messages,
            changes => changes,
            warnings => warnings,
            missing => missing(&contact),
            done => done,
            problem => problem,
            channel_owned => booking.fields.details.source_channel.is_some() && booking.fields.details.external_id.is_some(),
        },
    ))
}

fn booking_json(b: &Booking, p: &Property) -> Value {
    let (kind, arrival, departure, start, end) = match &b.fields.schedule {
        Schedule::Stay { arrival, departure } => (
            "stay",
            arrival.to_string(),
            departure.to_string(),
            String::new(),
            String::new(),
        ),
        Schedule::Appointment { start, end } => {
            let fmt = |t: &jiff::Timestamp| {
                t.to_zoned(p.time_zone.clone())
                    .strftime("%Y-%m-%dT%H:%M")
                    .to_string()
            };
            (
                "appointment",
                String::new(),
                String::new(),
                fmt(start),
                fmt(end),
            )
        }
    };
    let d = &b.fields.details;
    json!({
        "id": b.id, "version": b.version, "kind": kind, "status": b.fields.status.as_str(),
        "when": when(b, Some(p)), "arrival": arrival, "departure": departure, "start": start, "end": end,
        "property_id": p.id, "room_category": d.room_category, "service": d.service, "voucher": d.voucher,
        "notes": d.notes, "source_channel": d.source_channel, "external_id": d.external_id,
        "guests": d.guests,
    })
}

fn guest_json(c: &Contact) -> Value {
    json!({
        "id": c.id, "name": guest_name(c), "first_name": c.first_name, "last_name": c.last_name,
        "email": c.email.as_ref().map(|e| e.as_str()), "phone": c.phone,
        "language": c.language.as_ref().map(|l| l.to_string()),
    })
}

async fn new_form(State(s): State<AppState>, staff: Staff) -> Response {
    respond(
        staff.lang,
        form_page(&s, &staff, None, None, Vec::new()).await,
    )
}

async fn form_page(
    s: &AppState,
    staff: &Staff,
    values: Option<Value>,
    status: Option<axum::http::StatusCode>,
    errors: Vec<String>,
) -> Result<Response, UiError> {
    let properties = s.engine.query().properties(staff.account()).await?;
    let props: Vec<Value> = properties
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name}))
        .collect();
    let statuses: Vec<&str> = BookingStatus::ALL.iter().map(|s| s.as_str()).collect();
    let values = values.unwrap_or_else(|| {
        let mut fresh = echo(&Form(Vec::new()));
        fresh["kind"] = json!("stay");
        fresh["status"] = json!("confirmed");
        fresh["form_id"] = json!(Uuid::new_v4().to_string());
        fresh
    });
    Ok(staff.page_with_status(
        status.unwrap_or(axum::http::StatusCode::OK),
        "booking_form.html",
        "bookings",
        ctx! { properties => props, statuses => statuses, v => values, errors => errors },
    ))
}

/// The booking fields a form describes (the schedule in the property's zone).
fn fields_of(
    form: &Form,
    property: &Property,
    contact_id: Uuid,
    mut details: BookingDetails,
) -> Result<BookingFields, Vec<String>> {
    let mut errors = Vec::new();
    let status = form
        .get("status")
        .and_then(|st| BookingStatus::ALL.into_iter().find(|x| x.as_str() == st));
    if status.is_none() {
        errors.push("status".to_owned());
    }
    let schedule = if form.get("kind") == Some("appointment") {
        let at = |name: &str| {
            form.text(name)
                .and_then(|v| v.parse::<jiff::civil::DateTime>().ok())
                .and_then(|dt| dt.to_zoned(property.time_zone.clone()).ok())
                .map(|z| z.timestamp())
        };
        match (at("start"), at("end")) {
            (Some(start), Some(end)) => Some(Schedule::Appointment { start, end }),
            _ => {
                errors.push("start/end".to_owned());
                None
            }
        }
    } else {
        let day = |name: &str| {
            form.text(name)
                .and_then(|v| v.parse::<jiff::civil::Date>().ok())
        };
        match (day("arrival"), day("departure")) {
            (Some(arrival), Some(departure)) => Some(Schedule::Stay { arrival, departure }),
            _ => {
                errors.push("arrival/departure".to_owned());
                None
            }
        }
    };
    details.room_category = form.text("room_category");
    details.service = form.text("service");
    details.notes = form.text("notes");
    if details.source_channel.is_none() {
        details.voucher = form.text("voucher");
    }
    let (Some(status), Some(schedule)) = (status, schedule) else {
        return Err(errors);
    };
    let fields = BookingFields {
        details,
        ..BookingFields::new(property.id, contact_id, status, schedule)
    };
    fields
        .check()
        .map_err(|e| vec![format!("{}: {}", e.field, e.message)])?;
    Ok(fields)
}

/// Reads the guest fields of a form onto a contact; problems by field.
fn guest_from(form: &Form, contact: &mut Contact, country: &str) -> Vec<String> {
    let mut errors = Vec::new();
    contact.first_name = form.text("first_name");
    contact.last_name = form.text("last_name");
    contact.email = match form.text("email") {
        Some(e) => match EmailAddress::parse(&e) {
            Ok(e) => Some(e),
            Err(problem) => {
                errors.push(format!("email: {problem}"));
                None
            }
        },
        None => None,
    };
    contact.phone = form.text("phone");
    contact.phone_e164 = None;
    contact.phone_type = None;
    if let Some(raw) = &contact.phone {
        match bellhop_domain::phone::normalize(raw, Some(country)) {
            Ok(n) => {
                contact.phone_e164 = Some(n.e164);
                contact.phone_type = Some(n.kind);
            }
            Err(e) => errors.push(format!("phone: {e}")),
        }
    }
    if let Some(l) = form.text("language") {
        match bellhop_domain::language::LanguageTag::parse(&l) {
            Ok(l) => contact.language = Some(l),
            Err(e) => errors.push(format!("language: {e}")),
        }
    }
    errors
}

fn echo(form: &Form) -> Value {
    let mut v = serde_json::Map::new();
    for name in [
        "property_id",
        "status",
        "kind",
        "arrival",
        "departure",
        "start",
        "end",
        "room_category",
        "service",
        "voucher",
        "notes",
        "first_name",
        "last_name",
        "email",
        "phone",
        "language",
        "form_id",
    ] {
        v.insert(name.into(), json!(form.get(name).unwrap_or("")));
    }
    Value::Object(v)
}

async fn create(State(s): State<AppState>, Submitted { staff, form }: Submitted) -> Response {
    let result = async {
        let account = staff.account();
        let unprocessable = Some(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        let property = match form
            .get("property_id")
            .and_then(|p| Uuid::parse_str(p).ok())
        {
            Some(id) => s.engine.query().property(account, id).await.ok(),
            None => None,
        };
        let Some(property) = property else {
            return form_page(
                &s,
                &staff,
                Some(echo(&form)),
                unprocessable,
                vec!["property".into()],
            )
            .await;
        };
        let mut contact = Contact {
            id: Uuid::now_v7(),
            account_id: account,
            ..Default::default()
        };
        let mut errors = guest_from(&form, &mut contact, &property.country);
        if contact.email.is_none() && contact.phone.is_none() && contact.last_name.is_none() {
            errors.push(staff.t("booking-guest-needed"));
        }
        let fields = fields_of(&form, &property, contact.id, BookingDetails::default());
        if let Err(e) = &fields {
            errors.extend(e.iter().cloned());
        }
        let (Ok(fields), true) = (fields, errors.is_empty()) else {
            return form_page(&s, &staff, Some(echo(&form)), unprocessable, errors).await;
        };
        // The form's id is the idempotency key: a double click creates one booking.
        let key = form
            .text("form_id")
            .map(|id| bellhop_engine::IdempotencyKey {
                key: format!("ui-booking-{id}"),
                request_hash: bellhop_engine::staff::sha256_hex(
                    &serde_urlencoded::to_string(&form.0).unwrap_or_default(),
                ),
            });
        let actor = staff.actor();
        let answer = s
            .engine
            .idempotent(account, key.as_ref(), 201, async |cmd| {
                let contact_id = cmd.find_or_create_contact(&contact).await?.id;
                let fields = BookingFields {
                    contact_id,
                    ..fields
                };
                let (booking, _) = cmd.create_booking(fields, &actor).await?;
                Ok::<_, bellhop_engine::EngineError>(booking.id)
            })
            .await;
        match answer {
            Ok(answer) => {
                let id: Uuid = serde_json::from_str(&answer.body)
                    .map_err(|e| bellhop_engine::EngineError::Internal(e.to_string()))?;
                Ok(see_other(&format!("/app/bookings/{id}?done=created")))
            }
            Err(e) => {
                form_page(
                    &s,
                    &staff,
                    Some(echo(&form)),
                    unprocessable,
                    vec![refusal(e)?],
                )
                .await
            }
        }
    }
    .await;
    respond(staff.lang, result)
}

async fn change(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let account = staff.account();
        let booking = s.engine.query().booking(account, path_id(&id)?).await?;
        let property = s
            .engine
            .query()
            .property(account, booking.fields.property_id)
            .await?;
        let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
        let edited = s
            .engine
            .edit_booking(account, booking.id, version, &staff.actor(), |current| {
                fields_of(
                    &form,
                    &property,
                    current.fields.contact_id,
                    current.fields.details.clone(),
                )
                .map(|f| BookingFields {
                    option_until: current.fields.option_until,
                    hold_expires_at: current.fields.hold_expires_at,
                    ..f
                })
                .map_err(|errors| {
                    bellhop_engine::EngineError::invalid("booking", errors.join(", "))
                })
            })
            .await;
        match edited {
            Ok(_) => Ok(see_other(&format!(
                "/app/bookings/{}?done=saved",
                booking.id
            ))),
            Err(bellhop_engine::EngineError::Invalid { field, message }) => {
                detail(&s, &staff, &id, None, Some(format!("{field}: {message}"))).await
            }
            Err(bellhop_engine::EngineError::Conflict(message)) => {
                detail(&s, &staff, &id, None, Some(message)).await
            }
            Err(bellhop_engine::EngineError::Stale { .. }) => {
                detail(
                    &s,
                    &staff,
                    &id,
                    None,
                    Some(staff.t("booking-changed-meanwhile")),
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    respond(staff.lang, result)
}

async fn fix_guest(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let account = staff.account();
        let booking = s.engine.query().booking(account, path_id(&id)?).await?;
        let property = s
            .engine
            .query()
            .property(account, booking.fields.property_id)
            .await?;
        let mut contact = s
            .engine
            .query()
            .contact(account, booking.fields.contact_id)
            .await?;
        let errors = guest_from(&form, &mut contact, &property.country);
        if !errors.is_empty() {
            return detail(&s, &staff, &id, None, Some(errors.join(", "))).await;
        }
        s.engine.upsert_contact(&contact).await?;
        Ok(see_other(&format!(
            "/app/bookings/{}?done=guest-saved",
            booking.id
        )))
    }
    .await;
    respond(staff.lang, result)
}
