//! `/properties/{id}/sequences`, `/sequences/{id}` and `/enrolments`: the autoresponder's
//! cycles — steps at offsets from enrolment, each a template — who is in them, and each
//! enrolment's coming and past steps.

use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{Record, own_record, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::sequence::Step;
use bellhop_engine::SequenceDraft;
use bellhop_store::{Enrolment, Sequence, StepMessage};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A sequence to create or change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SequenceIn {
    /// Name.
    pub name: String,
    /// Steps: `{"offset": {"days": 2, "at": "10:00"}, "template_id": ...}` or
    /// `{"offset": {"hours": 4}, ...}`. The template's category (service, marketing,
    /// personalised) is the consent each step needs.
    pub steps: Vec<Step>,
    /// Enrol every new booking's guest (default false).
    #[serde(default)]
    pub enrol_new_bookings: bool,
}

/// A sequence.
#[derive(Serialize, ToSchema)]
pub struct SequenceOut {
    /// Id.
    pub id: Uuid,
    /// The property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// Steps.
    pub steps: Vec<Step>,
    /// Every new booking's guest is enrolled.
    pub enrol_new_bookings: bool,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

fn out(s: Sequence) -> SequenceOut {
    SequenceOut {
        id: s.id,
        property_id: s.property_id,
        name: s.name,
        steps: s.steps,
        enrol_new_bookings: s.enrol_new_bookings,
        created_at: s.created_at,
    }
}

fn draft(property_id: Uuid, input: SequenceIn) -> SequenceDraft {
    SequenceDraft {
        property_id,
        name: input.name,
        steps: input.steps,
        enrol_new_bookings: input.enrol_new_bookings,
    }
}

/// Creates a sequence of a property.
#[utoipa::path(post, path = "/api/v1/properties/{id}/sequences", tag = "autoresponder", params(("id" = Uuid, Path)),
    request_body = SequenceIn,
    responses((status = 201, body = SequenceOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<SequenceOut>), ApiError> {
    let property = own_record(&s, tenant.account_id, Record::Property, &id).await?;
    let input: SequenceIn = parse_json(&body)?;
    let sequence = s
        .engine
        .save_sequence(tenant.account_id, None, draft(property, input))
        .await?;
    Ok((StatusCode::CREATED, Json(out(sequence))))
}

/// The account's sequences.
#[utoipa::path(get, path = "/api/v1/sequences", tag = "autoresponder",
    responses((status = 200, body = Vec<SequenceOut>)))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<SequenceOut>>, ApiError> {
    let list = s.engine.query().sequences(tenant.account_id).await?;
    Ok(Json(list.into_iter().map(out).collect()))
}

/// One sequence.
#[utoipa::path(get, path = "/api/v1/sequences/{id}", tag = "autoresponder", params(("id" = Uuid, Path)),
    responses((status = 200, body = SequenceOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<SequenceOut>, ApiError> {
    let sequence = s
        .engine
        .query()
        .sequence(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(out(sequence)))
}

/// Replaces a sequence's name and steps (enrolments made from now on follow them; planned
/// steps keep theirs).
#[utoipa::path(put, path = "/api/v1/sequences/{id}", tag = "autoresponder", params(("id" = Uuid, Path)),
    request_body = SequenceIn,
    responses((status = 200, body = SequenceOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn replace(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<SequenceOut>, ApiError> {
    let id = path_id(&id)?;
    let input: SequenceIn = parse_json(&body)?;
    let current = s.engine.query().sequence(tenant.account_id, id).await?;
    let sequence = s
        .engine
        .save_sequence(
            tenant.account_id,
            Some(id),
            draft(current.property_id, input),
        )
        .await?;
    Ok(Json(out(sequence)))
}

/// Who to enrol.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolIn {
    /// The contact.
    pub contact_id: Uuid,
}

/// A step of an enrolment: when it goes (or went) and what became of it.
#[derive(Serialize, ToSchema)]
pub struct StepOut {
    /// The step's message (`/messages/{id}`).
    pub message_id: Uuid,
    /// Its position in the sequence (0-based).
    pub step: usize,
    /// `planned`, `sent`, `suppressed`, `cancelled`, ...
    pub status: String,
    /// Why it is not sent.
    pub status_reason: Option<String>,
    /// Due.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
}

/// An enrolment with its steps.
#[derive(Serialize, ToSchema)]
pub struct EnrolmentOut {
    /// Id.
    pub id: Uuid,
    /// The sequence.
    pub sequence_id: Uuid,
    /// The contact.
    pub contact_id: Uuid,
    /// `api`, `inbound_mail` or `booking`.
    pub source: String,
    /// `active`, `completed`, `stopped` or `unenrolled`.
    pub status: String,
    /// Enrolled.
    #[schema(value_type = String, format = DateTime)]
    pub enrolled_at: Timestamp,
    /// Ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Its steps, in time order (in lists: left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepOut>>,
}

fn enrolment(e: Enrolment, steps: Option<Vec<StepMessage>>) -> EnrolmentOut {
    EnrolmentOut {
        id: e.id,
        sequence_id: e.sequence_id,
        contact_id: e.contact_id,
        source: e.source,
        status: e.status,
        enrolled_at: e.enrolled_at,
        ended_at: e.ended_at,
        end_reason: e.end_reason,
        steps: steps.map(|steps| {
            steps
                .into_iter()
                .map(|m| StepOut {
                    step: m
                        .occurrence
                        .split(':')
                        .nth(2)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or_default(),
                    message_id: m.id,
                    status: m.status,
                    status_reason: m.status_reason,
                    due_at: m.due_at,
                })
                .collect()
        }),
    }
}

/// Enrols a contact: every step is planned at once (see them in the answer); 409 while the
/// contact is in the sequence.
#[utoipa::path(post, path = "/api/v1/sequences/{id}/enrolments", tag = "autoresponder", params(("id" = Uuid, Path)),
    request_body = EnrolIn,
    responses((status = 201, body = EnrolmentOut), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn enrol(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<EnrolmentOut>), ApiError> {
    let sequence = own_record(&s, tenant.account_id, Record::Sequence, &id).await?;
    let input: EnrolIn = parse_json(&body)?;
    let e = s
        .engine
        .enrol(tenant.account_id, sequence, input.contact_id)
        .await?;
    let (e, steps) = s.engine.query().enrolment(tenant.account_id, e.id).await?;
    Ok((StatusCode::CREATED, Json(enrolment(e, Some(steps)))))
}

/// Filters of the enrolment list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentQuery {
    /// One sequence's.
    sequence_id: Option<Uuid>,
    /// One contact's.
    contact_id: Option<Uuid>,
}

/// Enrolments, newest first (at most 1,000).
#[utoipa::path(get, path = "/api/v1/enrolments", tag = "autoresponder", params(EnrolmentQuery),
    responses((status = 200, body = Vec<EnrolmentOut>)))]
pub async fn list_enrolments(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<EnrolmentQuery>,
) -> Result<Json<Vec<EnrolmentOut>>, ApiError> {
    let list = s
        .engine
        .query()
        .enrolments(tenant.account_id, q.sequence_id, q.contact_id)
        .await?;
    Ok(Json(list.into_iter().map(|e| enrolment(e, None)).collect()))
}

/// One enrolment: its timeline of steps, coming and past.
#[utoipa::path(get, path = "/api/v1/enrolments/{id}", tag = "autoresponder", params(("id" = Uuid, Path)),
    responses((status = 200, body = EnrolmentOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_enrolment(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<EnrolmentOut>, ApiError> {
    let (e, steps) = s
        .engine
        .query()
        .enrolment(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(enrolment(e, Some(steps))))
}

/// Takes the contact out: the steps still to go are cancelled.
#[utoipa::path(post, path = "/api/v1/enrolments/{id}/unenrol", tag = "autoresponder", params(("id" = Uuid, Path)),
    responses((status = 200, body = EnrolmentOut), (status = 404, body = crate::error::Problem)))]
pub async fn unenrol(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<EnrolmentOut>, ApiError> {
    let id = path_id(&id)?;
    s.engine.unenrol(tenant.account_id, id).await?;
    let (e, steps) = s.engine.query().enrolment(tenant.account_id, id).await?;
    Ok(Json(enrolment(e, Some(steps))))
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/properties/{id}/sequences", post(create))
        .route("/sequences", get(list))
        .route("/sequences/{id}", get(get_one).put(replace))
        .route("/sequences/{id}/enrolments", post(enrol))
        .route("/enrolments", get(list_enrolments))
        .route("/enrolments/{id}", get(get_enrolment))
        .route("/enrolments/{id}/unenrol", post(unenrol))
}
