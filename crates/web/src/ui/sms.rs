//! SMS: a property's settings as Belbo offers them (plan, monthly limit, sender type and id,
//! the online-booking choice, landline voice calls, quiet hours, the country whose prefix a
//! number without one gets, smart encoding, what STOP stops) and the month's overview with a
//! chart of each day (sent, delivered, rejected). Settings are for owners.

use super::{Form, OwnerSubmitted, Staff, Submitted, UiError, refusal, respond, see_other};
use crate::AppState;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use bellhop_domain::billing::{Month, SmsPlan};
use bellhop_domain::property::{ReminderChoice, StopScope};
use bellhop_domain::quiet::QuietHours;
use bellhop_domain::sms::SenderId;
use bellhop_domain::time::LocalTime;
use bellhop_domain::{MessageStatus, Property};
use bellhop_store::MessageFilter;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new().route("/app/sms", get(show).post(save))
}

#[derive(Deserialize)]
struct SmsQuery {
    property: Option<String>,
    month: Option<String>,
    done: Option<String>,
}

async fn show(State(s): State<AppState>, staff: Staff, Query(q): Query<SmsQuery>) -> Response {
    let result = page(
        &s,
        &staff,
        q.property,
        q.month,
        q.done,
        Vec::new(),
        StatusCode::OK,
    )
    .await;
    respond(staff.lang, result)
}

/// Days of the month with their SMS by outcome, as bars.
fn chart(days: &[(u32, i64, i64, i64)]) -> Value {
    let max = days
        .iter()
        .map(|d| d.1.max(d.2).max(d.3))
        .max()
        .unwrap_or(0)
        .max(1);
    let bars: Vec<Value> = days
        .iter()
        .enumerate()
        .map(|(i, (day, sent, delivered, rejected))| {
            let h = |n: i64| (n as f64 / max as f64 * 120.0).round();
            json!({"x": 30 + i * 22, "day": day, "sent": sent, "delivered": delivered, "rejected": rejected,
                   "h_sent": h(*sent), "h_delivered": h(*delivered), "h_rejected": h(*rejected)})
        })
        .collect();
    json!({"bars": bars, "max": max, "width": 40 + days.len() * 22})
}

#[allow(clippy::too_many_arguments)]
async fn page(
    s: &AppState,
    staff: &Staff,
    property: Option<String>,
    month: Option<String>,
    done: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let account = staff.account();
    let properties = s.engine.query().properties(account).await?;
    let Some(p) = property
        .as_deref()
        .and_then(|p| Uuid::parse_str(p).ok())
        .and_then(|id| properties.iter().find(|p| p.id == id))
        .or(properties.first())
    else {
        return Err(UiError::NotFound);
    };
    let overview = s
        .engine
        .sms_overview(account, p.id, month.as_deref())
        .await?;
    let month = Month::parse(&overview.month)
        .map_err(|e| bellhop_engine::EngineError::invalid("month", e))?;
    let (from, to) = month.range(&p.time_zone);
    let messages = s
        .engine
        .query()
        .messages(
            account,
            &MessageFilter {
                property_id: Some(p.id),
                channel: Some("sms".into()),
                due_from: Some(from),
                due_to: Some(to),
                limit: 10_000,
                ..Default::default()
            },
        )
        .await?;
    let days_in_month = from.to_zoned(p.time_zone.clone()).days_in_month();
    let mut days: Vec<(u32, i64, i64, i64)> =
        (1..=days_in_month as u32).map(|d| (d, 0, 0, 0)).collect();
    for m in &messages {
        let at = m.sent_at.unwrap_or(m.due_at).to_zoned(p.time_zone.clone());
        let Some(day) = days.get_mut(at.day() as usize - 1) else {
            continue;
        };
        match m.status {
            MessageStatus::Sent => day.1 += 1,
            MessageStatus::Delivered => {
                day.1 += 1;
                day.2 += 1;
            }
            MessageStatus::Rejected | MessageStatus::Failed | MessageStatus::Expired => day.3 += 1,
            _ => {}
        }
    }
    let sms = &p.sms;
    let (plan, size, price) = match sms.plan {
        SmsPlan::Package { size, price_cents } => ("package", size, price_cents),
        // The package size a switch to packages would start from.
        SmsPlan::PerSms { price_cents } => ("per_sms", 150, price_cents),
    };
    let settings = json!({
        "plan": plan, "package_size": size, "price": format!("{:.2}", price as f64 / 100.0),
        "limit": sms.monthly_limit,
        "sender_type": match &sms.sender { Some(SenderId::Number(_)) => "number", _ => "name" },
        "sender": sms.sender.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        "reminders": serde_json::to_value(sms.reminders).unwrap_or_default(),
        "landline_voice": sms.landline_voice, "smart_encoding": sms.smart_encoding,
        "quiet": sms.quiet_hours.is_some(),
        "quiet_start": sms.quiet_hours.map(|q| q.start.to_string()).unwrap_or_else(|| "21:00".into()),
        "quiet_end": sms.quiet_hours.map(|q| q.end.to_string()).unwrap_or_else(|| "08:00".into()),
        "stop": serde_json::to_value(sms.stop_applies_to).unwrap_or_default(),
        "country": p.country,
    });
    let c = &overview.counts;
    let props: Vec<Value> = properties
        .iter()
        .map(|x| json!({"id": x.id, "name": x.name}))
        .collect();
    Ok(staff.page_with_status(
        status,
        "sms.html",
        "sms",
        ctx! {
            properties => props, property => json!({"id": p.id, "name": p.name}),
            month => overview.month.clone(), settings => settings, errors => errors, done => done,
            overview => json!({
                "parts": overview.parts, "packages": overview.packages, "left_in_package": overview.left_in_package,
                "left": overview.left_under_limit, "limit": overview.monthly_limit,
                "cost": format!("{:.2}", overview.cost_cents as f64 / 100.0),
                "sent": c.sent, "delivered": c.delivered, "failed": c.failed, "rejected": c.rejected,
                "expired": c.expired, "voice": c.voice,
            }),
            chart => chart(&days),
        },
    ))
}

/// The SMS settings a form describes, on top of the property's; problems by field.
fn apply(form: &Form, p: &mut Property, staff: &Staff) -> Vec<String> {
    let mut errors = Vec::new();
    let cents = |name: &str| {
        form.text(name)
            .and_then(|v| v.replace(',', ".").parse::<f64>().ok())
            .filter(|v| *v >= 0.0)
            .map(|v| (v * 100.0).round() as i64)
    };
    let sms = &mut p.sms;
    sms.plan = match (form.get("plan"), cents("price")) {
        (Some("package"), Some(price_cents)) => match form
            .text("package_size")
            .and_then(|v| v.parse::<u32>().ok())
        {
            Some(size) if size > 0 => SmsPlan::Package { size, price_cents },
            _ => {
                errors.push(format!("{}: 1…", staff.t("sms-package-size")));
                sms.plan
            }
        },
        (Some("per_sms"), Some(price_cents)) => SmsPlan::PerSms { price_cents },
        _ => {
            errors.push(staff.t("sms-plan"));
            sms.plan
        }
    };
    if let Err(e) = sms.plan.validate() {
        errors.push(e);
    }
    sms.monthly_limit = match form.text("limit") {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(format!("{}: {v}", staff.t("sms-limit")));
                sms.monthly_limit
            }
        },
    };
    sms.sender = match form.text("sender") {
        None => None,
        Some(v) => {
            let wants_number = form.get("sender_type") == Some("number");
            match SenderId::parse(&v) {
                Ok(id) if matches!(id, SenderId::Number(_)) == wants_number => Some(id),
                Ok(_) => {
                    errors.push(format!(
                        "{}: {}",
                        staff.t("sms-sender"),
                        staff.t("sms-sender-type-mismatch")
                    ));
                    sms.sender.clone()
                }
                Err(e) => {
                    errors.push(format!("{}: {e}", staff.t("sms-sender")));
                    sms.sender.clone()
                }
            }
        }
    };
    sms.reminders = if form.get("reminders") == Some("mandatory") {
        ReminderChoice::Mandatory
    } else {
        ReminderChoice::Optional
    };
    sms.stop_applies_to = if form.get("stop") == Some("all") {
        StopScope::All
    } else {
        StopScope::Marketing
    };
    sms.landline_voice = form.checked("landline_voice");
    sms.smart_encoding = form.checked("smart_encoding");
    sms.quiet_hours = if form.checked("quiet") {
        match (
            form.text("quiet_start").map(|t| LocalTime::parse(&t)),
            form.text("quiet_end").map(|t| LocalTime::parse(&t)),
        ) {
            (Some(Ok(start)), Some(Ok(end))) => Some(QuietHours { start, end }),
            _ => {
                errors.push(staff.t("sms-quiet-hours"));
                sms.quiet_hours
            }
        }
    } else {
        None
    };
    if let Some(country) = form.text("country") {
        let country = country.to_uppercase();
        if country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic()) {
            p.country = country;
        } else {
            errors.push(format!("{}: {country}", staff.t("sms-country")));
        }
    }
    errors
}

async fn save(
    State(s): State<AppState>,
    OwnerSubmitted(Submitted { staff, form }): OwnerSubmitted,
) -> Response {
    let result = async {
        let id = form
            .get("property")
            .and_then(|p| Uuid::parse_str(p).ok())
            .ok_or(UiError::BadForm)?;
        let mut property = s.engine.query().property(staff.account(), id).await?;
        let errors = apply(&form, &mut property, &staff);
        if !errors.is_empty() {
            return page(
                &s,
                &staff,
                Some(id.to_string()),
                None,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        match s.engine.update_property(&property).await {
            Ok(_) => Ok(see_other(&format!("/app/sms?property={id}&done=saved"))),
            Err(e) => {
                page(
                    &s,
                    &staff,
                    Some(id.to_string()),
                    None,
                    None,
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
