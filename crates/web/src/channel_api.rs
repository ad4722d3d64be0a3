//! `/channel/v1`: what booking channels call, authenticated by their connection's key
//! (`Authorization: Bearer bhc_…`), never an account key. A key reaches its own property's
//! reservations only.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::parse_json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use bellhop_domain::channel::Reservation;
use bellhop_engine::{EngineError, PushOutcome};
use bellhop_store::Connection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The connection a channel request comes from.
pub struct ChannelKey(pub Connection);

impl FromRequestParts<AppState> for ChannelKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::auth::bearer(parts)?;
        match state.engine.connection_by_api_key(token).await {
            Ok(c) => Ok(ChannelKey(c)),
            Err(EngineError::NotFound) => Err(ApiError::Unauthorized),
            Err(e) => Err(e.into()),
        }
    }
}

/// What a push did.
#[derive(Serialize, ToSchema)]
pub struct PushResult {
    /// `created`, `updated`, `unchanged` (the same push again: nothing sent), `hold_lapsed`
    /// (an unpaid hold re-sent after it lapsed) or `ignored` (a replaced order, or a
    /// cancellation of a reservation never received).
    #[schema(value_type = String)]
    pub outcome: PushOutcome,
    /// The booking in bellhop.
    pub booking_id: Option<Uuid>,
    /// Its status there (`pending_payment` is shown to staff as "temporarily unconfirmed").
    pub status: Option<String>,
    /// Why nothing happened.
    pub detail: Option<String>,
}

/// Pushes one reservation, whole (a create or a full replacement), keyed by the connection
/// and `external_id`. The same payload again changes nothing; a version older than the one
/// stored (`revision`, else `modified_at`) is refused with 409. Statuses: `pending_payment`
/// (an unpaid cart hold: no guest mail; it lapses after the connection's hold time),
/// `confirmed` (paid: needs its `voucher`), `cancelled` (only the channel cancels; the guest
/// is told), `inquiry`.
#[utoipa::path(post, path = "/channel/v1/reservations", tag = "channel",
    request_body = Reservation,
    security(("channel_key" = [])),
    responses((status = 201, body = PushResult, description = "a new booking"),
        (status = 200, body = PushResult, description = "updated, unchanged, lapsed or ignored"),
        (status = 401, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn push(
    State(s): State<AppState>,
    ChannelKey(connection): ChannelKey,
    body: Bytes,
) -> Result<(StatusCode, Json<PushResult>), ApiError> {
    let result = async {
        let reservation: Reservation = parse_json(&body)?;
        Ok::<_, ApiError>(s.engine.push_reservation(&connection, &reservation).await?)
    }
    .await;
    let pushed = match result {
        Ok(p) => {
            s.engine.note_channel_activity(connection.id, None).await;
            p
        }
        Err(e) => {
            let what = refusal(&e);
            s.engine
                .note_channel_activity(connection.id, Some(&what))
                .await;
            return Err(e);
        }
    };
    let status = if pushed.outcome == PushOutcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(PushResult {
            outcome: pushed.outcome,
            booking_id: pushed.booking.as_ref().map(|b| b.id),
            status: pushed
                .booking
                .as_ref()
                .map(|b| b.fields.status.as_str().to_owned()),
            detail: pushed.detail,
        }),
    ))
}

/// A short account of a refused request for the connection's `last_error`.
fn refusal(e: &ApiError) -> String {
    match e {
        ApiError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// The routes, under `/channel/v1`.
pub fn router() -> Router<AppState> {
    Router::new().route("/reservations", post(push))
}
