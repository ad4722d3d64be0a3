//! `/properties/{id}/channels` and `/channels/{id}`: the booking channels of a property —
//! their keys (shown once), webhook URLs, hold times, and last activity and error — and
//! `/bookings/by-voucher/{voucher}`, how support finds a channel booking.

use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{Record, own_record, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::channel::ConnectionKind;
use bellhop_engine::{ConnectionSecrets, ConnectionSettings};
use bellhop_store::Connection;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A channel connection to create or change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionIn {
    /// Shown to staff and stored as the bookings' source (`Slevomat`).
    pub name: String,
    /// `json` (bellhop's channel API) or `alpinebits`. Fixed once created.
    pub kind: String,
    /// Where staff changes of its bookings are sent (http or https; a public address unless
    /// the installation allows private ones).
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Minutes an unpaid cart hold lasts (default 60).
    #[serde(default)]
    pub hold_minutes: Option<i64>,
    /// Pull GuestRequests from the channel's AlpineBits server (AlpineBits connections;
    /// left out of a PUT, polling stops).
    #[serde(default)]
    pub poll: Option<PollIn>,
}

/// Where and how often bellhop polls a channel's AlpineBits server.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PollIn {
    /// The channel's AlpineBits endpoint.
    pub url: String,
    /// The user bellhop logs in as.
    pub user: String,
    /// Its password: stored sealed, never shown; leave out to keep the stored one.
    #[serde(default)]
    pub password: Option<String>,
    /// The hotel code the channel knows the property by.
    pub hotel_code: String,
    /// Seconds between polls (30 to 86,400; default 300).
    #[serde(default)]
    pub every_secs: Option<i64>,
}

/// A channel connection (its secrets are never shown again).
#[derive(Serialize, ToSchema)]
pub struct ConnectionOut {
    /// Id.
    pub id: Uuid,
    /// The property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// `json` or `alpinebits`.
    pub kind: String,
    /// The key's public part (`bhc_<prefix>_…`) or the AlpineBits user.
    pub key_prefix: String,
    /// Webhook URL.
    pub webhook_url: Option<String>,
    /// Hold time in minutes.
    pub hold_minutes: i64,
    /// The AlpineBits server polled, if any.
    pub poll_url: Option<String>,
    /// The user there.
    pub poll_user: Option<String>,
    /// The hotel code there.
    pub poll_hotel_code: Option<String>,
    /// Seconds between polls.
    pub poll_every_secs: Option<i64>,
    /// Last request taken or refused.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity_at: Option<Timestamp>,
    /// The last refusal.
    pub last_error: Option<String>,
    /// When.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_error_at: Option<Timestamp>,
    /// Revoked: its key is refused.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A connection with the secrets to hand to the channel: shown this once.
#[derive(Serialize, ToSchema)]
pub struct ConnectionCreated {
    /// The connection.
    pub connection: ConnectionOut,
    /// `Authorization: Bearer <api_key>` for `/channel/v1` (JSON connections).
    pub api_key: Option<String>,
    /// HTTP Basic user for `POST /alpinebits`.
    pub alpinebits_user: Option<String>,
    /// HTTP Basic password for `POST /alpinebits`.
    pub alpinebits_password: Option<String>,
    /// The secret of `Bellhop-Signature` on webhooks.
    pub webhook_secret: String,
}

fn out(c: Connection) -> ConnectionOut {
    ConnectionOut {
        id: c.id,
        property_id: c.property_id,
        name: c.name,
        kind: c.kind.as_str().to_owned(),
        key_prefix: c.key_prefix,
        webhook_url: c.webhook_url,
        hold_minutes: c.hold_minutes,
        poll_url: c.poll_url,
        poll_user: c.poll_user,
        poll_hotel_code: c.poll_hotel_code,
        poll_every_secs: c.poll_every_secs,
        last_activity_at: c.last_activity_at,
        last_error: c.last_error,
        last_error_at: c.last_error_at,
        revoked_at: c.revoked_at,
        created_at: c.created_at,
    }
}

fn created(s: ConnectionSecrets) -> ConnectionCreated {
    ConnectionCreated {
        connection: out(s.connection),
        api_key: s.api_key,
        alpinebits_user: s.alpinebits_user,
        alpinebits_password: s.alpinebits_password,
        webhook_secret: s.webhook_secret,
    }
}

async fn settings(
    state: &AppState,
    property_id: Uuid,
    input: ConnectionIn,
) -> Result<ConnectionSettings, ApiError> {
    let kind = ConnectionKind::parse(&input.kind)
        .ok_or_else(|| ApiError::invalid("kind", "json or alpinebits"))?;
    let webhook_url = match input.webhook_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) => {
            if url.len() > 2000 {
                return Err(ApiError::invalid("webhook_url", "at most 2,000 characters"));
            }
            state
                .webhook_targets
                .check_url_now(url)
                .await
                .map_err(|e| ApiError::invalid("webhook_url", e))?;
            Some(url.to_owned())
        }
    };
    let poll = match input.poll {
        Some(p) if kind == ConnectionKind::AlpineBits => {
            state
                .webhook_targets
                .check_url_now(p.url.trim())
                .await
                .map_err(|e| ApiError::invalid("poll.url", e))?;
            Some(bellhop_engine::PollSettings {
                url: p.url.trim().to_owned(),
                user: p.user,
                password: p.password,
                hotel_code: p.hotel_code,
                every_secs: p.every_secs.unwrap_or(300),
            })
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "poll",
                "only AlpineBits connections are polled",
            ));
        }
        None => None,
    };
    Ok(ConnectionSettings {
        property_id,
        name: input.name,
        kind,
        webhook_url,
        hold_minutes: input.hold_minutes.unwrap_or(60),
        poll,
    })
}

/// Connects a booking channel to a property; the answer holds its key (or AlpineBits
/// password) and webhook secret, shown only this once.
#[utoipa::path(post, path = "/api/v1/properties/{id}/channels", tag = "channels", params(("id" = Uuid, Path)),
    request_body = ConnectionIn,
    responses((status = 201, body = ConnectionCreated), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ConnectionCreated>), ApiError> {
    let property = own_record(&s, tenant.account_id, Record::Property, &id).await?;
    let input: ConnectionIn = parse_json(&body)?;
    let settings = settings(&s, property, input).await?;
    let secrets = s
        .engine
        .create_connection(tenant.account_id, settings)
        .await?;
    Ok((StatusCode::CREATED, Json(created(secrets))))
}

/// Filters of the connection list.
#[derive(Deserialize, IntoParams)]
pub struct ConnectionQuery {
    /// Only this property's.
    property_id: Option<Uuid>,
}

/// The account's channel connections.
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels", params(ConnectionQuery),
    responses((status = 200, body = Vec<ConnectionOut>)))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<ConnectionQuery>,
) -> Result<Json<Vec<ConnectionOut>>, ApiError> {
    let list = s
        .engine
        .query()
        .connections(tenant.account_id, q.property_id)
        .await?;
    Ok(Json(list.into_iter().map(out).collect()))
}

/// One connection, with its last activity and error.
#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = Uuid, Path)),
    responses((status = 200, body = ConnectionOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ConnectionOut>, ApiError> {
    let c = s
        .engine
        .query()
        .connection(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(out(c)))
}

/// Changes a connection's name, webhook URL or hold time (its kind and property stay).
#[utoipa::path(put, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = Uuid, Path)),
    request_body = ConnectionIn,
    responses((status = 200, body = ConnectionOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ConnectionOut>, ApiError> {
    let id = path_id(&id)?;
    let input: ConnectionIn = parse_json(&body)?;
    let current = s.engine.query().connection(tenant.account_id, id).await?;
    let settings = settings(&s, current.property_id, input).await?;
    let c = s
        .engine
        .update_connection(tenant.account_id, id, settings)
        .await?;
    Ok(Json(out(c)))
}

/// A new key (or AlpineBits password) and webhook secret; the old ones stop at once.
#[utoipa::path(post, path = "/api/v1/channels/{id}/rotate", tag = "channels", params(("id" = Uuid, Path)),
    responses((status = 200, body = ConnectionCreated), (status = 404, body = crate::error::Problem)))]
pub async fn rotate(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ConnectionCreated>, ApiError> {
    let secrets = s
        .engine
        .rotate_connection(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(created(secrets)))
}

/// Revokes the connection's key: its pushes are refused from now on (rotate to restore).
#[utoipa::path(post, path = "/api/v1/channels/{id}/revoke", tag = "channels", params(("id" = Uuid, Path)),
    responses((status = 200, body = ConnectionOut), (status = 404, body = crate::error::Problem)))]
pub async fn revoke(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ConnectionOut>, ApiError> {
    let c = s
        .engine
        .revoke_connection(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(out(c)))
}

/// The booking with this voucher number.
#[utoipa::path(get, path = "/api/v1/bookings/by-voucher/{voucher}", tag = "bookings", params(("voucher" = String, Path)),
    responses((status = 200, body = super::bookings::BookingOut), (status = 404, body = crate::error::Problem)))]
pub async fn by_voucher(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(voucher): Path<String>,
) -> Result<Json<super::bookings::BookingOut>, ApiError> {
    let id = s
        .engine
        .query()
        .booking_id_by_voucher(tenant.account_id, voucher.trim())
        .await?
        .ok_or(ApiError::NotFound)?;
    let b = s.engine.query().booking(tenant.account_id, id).await?;
    Ok(Json(super::bookings::out(&b)))
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/properties/{id}/channels", post(create))
        .route("/channels", get(list))
        .route("/channels/{id}", get(get_one).put(update))
        .route("/channels/{id}/rotate", post(rotate))
        .route("/channels/{id}/revoke", post(revoke))
        .route("/bookings/by-voucher/{voucher}", get(by_voucher))
}
