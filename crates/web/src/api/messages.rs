//! `/messages`, `/timeline`, `/notifications`: what will be sent, what was sent, and why not.

use super::message_out::{MessageEventOut, MessageOut, NotificationOut};
use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{Page, instant, page_size, path_id};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::MessageStatus;
use bellhop_domain::time::{format_local, parse_time_zone};
use bellhop_store::{MessageFilter, StaffAction, TimelineRow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Filters and paging of messages.
#[derive(Deserialize, IntoParams)]
pub struct MessageQuery {
    /// planned, skipped, cancelled, sending, deferred, sent, delivered, expired, rejected,
    /// failed, suppressed.
    status: Option<String>,
    /// Only this booking.
    booking_id: Option<Uuid>,
    /// Only this contact.
    contact_id: Option<Uuid>,
    /// Only this property.
    property_id: Option<Uuid>,
    /// Only this channel: `email`, `sms`, `voice` (as sent), or a rule's channel while planned.
    channel: Option<String>,
    /// Only SMS counted (or rejected) in this property-local month, `YYYY-MM`.
    month: Option<String>,
    /// Only this bulk SMS.
    campaign_id: Option<Uuid>,
    /// Due at or after (RFC 3339).
    from: Option<String>,
    /// Due before (RFC 3339).
    to: Option<String>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size (1–500, default 50).
    limit: Option<i64>,
}

fn parse_cursor(c: &str) -> Result<(Timestamp, Uuid), ApiError> {
    let bad = || ApiError::invalid("cursor", "not a cursor from this API");
    let (ms, id) = c.split_once('_').ok_or_else(bad)?;
    let ms: i64 = ms.parse().map_err(|_| bad())?;
    Ok((
        Timestamp::from_millisecond(ms).map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// Lists messages by due time.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", params(MessageQuery), responses((status = 200, body = Page<MessageOut>)))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<MessageQuery>,
) -> Result<Json<Page<MessageOut>>, ApiError> {
    let limit = page_size(q.limit)?;
    let filter = MessageFilter {
        status: q
            .status
            .as_deref()
            .map(|s| {
                s.parse::<MessageStatus>()
                    .map_err(|e| ApiError::invalid("status", e.to_string()))
            })
            .transpose()?,
        booking_id: q.booking_id,
        contact_id: q.contact_id,
        property_id: q.property_id,
        channel: q.channel.clone(),
        billing_month: q
            .month
            .as_deref()
            .map(|m| {
                bellhop_domain::billing::Month::parse(m)
                    .map(|m| m.to_string())
                    .map_err(|e| ApiError::invalid("month", e))
            })
            .transpose()?,
        campaign_id: q.campaign_id,
        due_from: q.from.as_deref().map(|t| instant("from", t)).transpose()?,
        due_to: q.to.as_deref().map(|t| instant("to", t)).transpose()?,
        after: q.cursor.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let items = s
        .engine
        .query()
        .messages(tenant.account_id, &filter)
        .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| {
            items
                .last()
                .map(|m| format!("{}_{}", m.due_at.as_millisecond(), m.id))
        })
        .flatten();
    Ok(Json(Page {
        items: items.into_iter().map(MessageOut::from).collect(),
        next_cursor,
    }))
}

/// One message with its rendered content.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", params(("id" = Uuid, Path)),
    responses((status = 200, body = MessageOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    Ok(Json(
        s.engine
            .query()
            .message(tenant.account_id, path_id(&id)?)
            .await?
            .into(),
    ))
}

/// A message's status history.
#[utoipa::path(get, path = "/api/v1/messages/{id}/history", tag = "messages", params(("id" = Uuid, Path)),
    responses((status = 200, body = [MessageEventOut]), (status = 404, body = crate::error::Problem)))]
pub async fn history(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Vec<MessageEventOut>>, ApiError> {
    let id = path_id(&id)?;
    s.engine.query().message(tenant.account_id, id).await?;
    Ok(Json(
        s.engine
            .query()
            .message_events(tenant.account_id, id)
            .await?
            .into_iter()
            .map(MessageEventOut::from)
            .collect(),
    ))
}

async fn staff_action(
    s: &AppState,
    tenant: &Tenant,
    id: &str,
    action: StaffAction,
) -> Result<Json<MessageOut>, ApiError> {
    let id = path_id(id)?;
    Ok(Json(
        s.engine
            .act_on_message(tenant.account_id, id, action, &tenant.actor())
            .await?
            .into(),
    ))
}

/// Cancels a message that has not gone out; the planner will not bring it back.
#[utoipa::path(post, path = "/api/v1/messages/{id}/cancel", tag = "messages", params(("id" = Uuid, Path)),
    responses((status = 200, body = MessageOut), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn cancel(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    staff_action(&s, &tenant, &id, StaffAction::Cancel).await
}

/// Sends a waiting message now.
#[utoipa::path(post, path = "/api/v1/messages/{id}/send-now", tag = "messages", params(("id" = Uuid, Path)),
    responses((status = 200, body = MessageOut), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn send_now(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    staff_action(&s, &tenant, &id, StaffAction::SendNow).await
}

/// The range of a timeline.
#[derive(Deserialize, IntoParams)]
pub struct TimelineQuery {
    /// From (RFC 3339; default now).
    from: Option<String>,
    /// To (RFC 3339; default from + 7 days).
    to: Option<String>,
    /// At most this many rows (default 500, at most 5000).
    limit: Option<i64>,
}

/// A timeline row with local time.
#[derive(Serialize, ToSchema)]
pub struct TimelineOut {
    /// The row.
    #[serde(flatten)]
    #[schema(value_type = super::schemas::TimelineRowSchema)]
    pub row: TimelineRow,
    /// Due time in the property's zone.
    pub due_local: String,
    /// For a planned message that will be suppressed as things stand (a consent the guest has
    /// not given): why. It still goes if the consent arrives before it is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub will_be_suppressed: Option<String>,
}

/// What will be (or was) sent in a time range, and why some will not.
#[utoipa::path(get, path = "/api/v1/timeline", tag = "messages", params(TimelineQuery), responses((status = 200, body = [TimelineOut])))]
pub async fn timeline(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<TimelineQuery>,
) -> Result<Json<Vec<TimelineOut>>, ApiError> {
    let from = q
        .from
        .as_deref()
        .map(|t| instant("from", t))
        .transpose()?
        .unwrap_or_else(|| s.engine.now());
    let to = match q.to.as_deref() {
        Some(t) => instant("to", t)?,
        None => from
            .checked_add(jiff::SignedDuration::from_hours(24 * 7))
            .unwrap_or(from),
    };
    if to <= from {
        return Err(ApiError::invalid("to", "must be after from"));
    }
    let limit = q.limit.unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 5000"));
    }
    let rows = s
        .engine
        .query()
        .timeline(Some(tenant.account_id), from, to, limit)
        .await?;
    let mut forecast = s.engine.consent_forecast(tenant.account_id, &rows).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| {
                let due_local = parse_time_zone(&row.time_zone)
                    .map(|tz| format_local(&tz, row.due_at))
                    .unwrap_or_else(|_| row.due_at.to_string());
                TimelineOut {
                    will_be_suppressed: forecast.remove(&row.message_id),
                    row,
                    due_local,
                }
            })
            .collect(),
    ))
}

/// Staff notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "messages", responses((status = 200, body = [NotificationOut])))]
pub async fn notifications(
    State(s): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<NotificationOut>>, ApiError> {
    Ok(Json(
        s.engine
            .query()
            .notifications(tenant.account_id, 200)
            .await?
            .into_iter()
            .map(NotificationOut::from)
            .collect(),
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/messages", get(list))
        .route("/messages/{id}", get(get_one))
        .route("/messages/{id}/history", get(history))
        .route("/messages/{id}/cancel", post(cancel))
        .route("/messages/{id}/send-now", post(send_now))
        .route("/timeline", get(timeline))
        .route("/notifications", get(notifications))
}
