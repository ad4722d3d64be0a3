//! Today: what goes out today and in the next seven days, what failed and why, the staff
//! notifications, and each property's SMS month so far.

use super::{Staff, UiError, local, respond};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use bellhop_domain::MessageStatus;
use bellhop_store::MessageFilter;
use jiff::SignedDuration;
use serde_json::json;

pub async fn show(State(s): State<AppState>, staff: Staff) -> Response {
    let lang = staff.lang;
    respond(lang, page(&s, &staff).await)
}

async fn page(s: &AppState, staff: &Staff) -> Result<Response, UiError> {
    let account = staff.account();
    let q = s.engine.query();
    let now = s.engine.now();
    let properties = q.properties(account).await?;
    let zone_of = |id: uuid::Uuid| {
        properties
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.time_zone.clone())
            .unwrap_or(jiff::tz::TimeZone::UTC)
    };
    let rows = q
        .timeline(
            Some(account),
            now,
            now + SignedDuration::from_hours(24 * 7),
            200,
        )
        .await?;
    let (mut today, mut week) = (Vec::new(), Vec::new());
    for row in rows {
        let zone = zone_of(row.property_id);
        let is_today =
            row.due_at.to_zoned(zone.clone()).date() == now.to_zoned(zone.clone()).date();
        let item = json!({
            "due": local(row.due_at, &zone),
            "property": row.property,
            "rule": row.rule,
            "guest": row.guest,
            "channel": row.channel,
            "status": row.status.as_str(),
            "booking_id": row.booking_id,
            "message_id": row.message_id,
        });
        if is_today {
            today.push(item)
        } else {
            week.push(item)
        }
    }
    let failed: Vec<_> = q
        .messages(
            account,
            &MessageFilter {
                status: Some(MessageStatus::Failed),
                limit: 20,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "due": local(m.due_at, &zone_of(m.property_id)),
                "channel": m.channel,
                "recipient": m.recipient,
                "subject": m.subject,
                "reason": m.status_reason,
                "booking_id": m.booking_id,
            })
        })
        .collect();
    let notifications: Vec<_> = q
        .notifications(account, 10)
        .await?
        .into_iter()
        .map(|n| {
            json!({
                "at": local(n.created_at, &n.property_id.map_or(jiff::tz::TimeZone::UTC, zone_of)),
                "text": n.rendered_text(),
                "message_id": n.message_id,
            })
        })
        .collect();
    let mut sms = Vec::new();
    for p in properties.iter().filter(|p| p.sms.sender.is_some()) {
        let o = s.engine.sms_overview(account, p.id, None).await?;
        sms.push(json!({
            "property": p.name,
            "month": o.month,
            "parts": o.parts,
            "packages": o.packages,
            "cost": format!("{:.2}", o.cost_cents as f64 / 100.0),
            "limit": o.monthly_limit,
            "left": o.left_under_limit,
        }));
    }
    Ok(staff.page(
        "today.html",
        "today",
        ctx! { today => today, week => week, failed => failed, notifications => notifications, sms => sms },
    ))
}
