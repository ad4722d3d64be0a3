//! `/rules`: when to send which template. Saving a rule re-plans current bookings; the dry
//! run says what a change would add, move or cancel before it is saved.

use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{self, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, Rule};
use bellhop_domain::time::LocalTime;
use bellhop_engine::PlanImpact;
use bellhop_store::PlanSummary;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A rule as submitted.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleIn {
    /// Property.
    pub property_id: Uuid,
    /// Staff-facing name.
    pub name: String,
    /// `booking_created`, `offer_created`, `start`, `end`, `option_until`, `hold_expires_at`,
    /// `status_changed_to:<status>`, `modified` or `cancelled`.
    #[schema(value_type = String, example = "start")]
    pub anchor: Anchor,
    /// Signed offset: `{"amount": -3, "unit": "days"}`; days are calendar days in the
    /// property's zone, hours and minutes exact durations.
    #[schema(value_type = super::schemas::OffsetSchema)]
    pub offset: Offset,
    /// Local time of day `HH:MM` (only with days).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "10:00")]
    pub time_of_day: Option<LocalTime>,
    /// Conditions: statuses, kinds, room_categories, services, source_channels,
    /// min_lead_hours, max_lead_hours, languages, missing_any.
    #[serde(default)]
    #[schema(value_type = super::schemas::ConditionsSchema)]
    pub conditions: Conditions,
    /// `email` (default), `sms`, `email_or_sms` (SMS only when the guest has no email) or
    /// `sms_or_email` (email when no SMS can reach the guest).
    #[serde(default)]
    #[schema(value_type = String, example = "email")]
    pub channel: Channel,
    /// Template to send (on the channel's first choice).
    pub template_id: Uuid,
    /// Template of the second choice, for `email_or_sms` (an SMS template) and `sms_or_email`
    /// (an email template).
    #[serde(default)]
    pub fallback_template_id: Option<Uuid>,
    /// `skip`, `send_now` or `send_if_before_anchor` (default).
    #[serde(default)]
    #[schema(value_type = String, example = "send_if_before_anchor")]
    pub late_policy: LatePolicy,
    /// Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A rule.
#[derive(Serialize, ToSchema)]
pub struct RuleOut {
    /// The rule, with its `id` (once: the rule carries it).
    #[serde(flatten)]
    #[schema(value_type = super::schemas::RuleSchema)]
    pub rule: Rule,
}

/// A saved rule and what saving it re-planned.
#[derive(Serialize, ToSchema)]
pub struct RuleResult {
    /// The rule.
    pub rule: RuleOut,
    /// Messages planned, moved, cancelled.
    #[schema(value_type = super::schemas::PlanSummarySchema)]
    pub plan: PlanSummary,
}

fn to_rule(input: RuleIn, account_id: Uuid, id: Uuid) -> Result<Rule, ApiError> {
    let rule = Rule {
        id,
        account_id,
        property_id: input.property_id,
        name: input.name,
        anchor: input.anchor,
        offset: input.offset,
        time_of_day: input.time_of_day,
        conditions: input.conditions,
        channel: input.channel,
        template_id: input.template_id,
        fallback_template_id: input.fallback_template_id,
        late_policy: input.late_policy,
        enabled: input.enabled,
    };
    rule.validate()
        .map_err(|e| ApiError::invalid("rule", e.to_string()))?;
    Ok(rule)
}

/// Creates a rule and plans it for current bookings.
#[utoipa::path(post, path = "/api/v1/rules", tag = "rules", request_body = RuleIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key")),
    responses((status = 201, body = RuleResult), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let rule = to_rule(parse_json(&body)?, tenant.account_id, Uuid::now_v7())?;
    extract::create(&s, tenant.account_id, &headers, &body, async |cmd| {
        let plan = cmd.save_rule(&rule, true).await?;
        Ok(RuleResult {
            rule: RuleOut { rule },
            plan,
        })
    })
    .await
}

/// Filter of rules.
#[derive(Deserialize, IntoParams)]
pub struct RuleQuery {
    /// Only this property.
    property_id: Option<Uuid>,
}

/// Lists rules.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", params(RuleQuery), responses((status = 200, body = [RuleOut])))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<RuleQuery>,
) -> Result<Json<Vec<RuleOut>>, ApiError> {
    let rules = s
        .engine
        .query()
        .rules(tenant.account_id, q.property_id)
        .await?;
    Ok(Json(
        rules.into_iter().map(|rule| RuleOut { rule }).collect(),
    ))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = Uuid, Path)),
    responses((status = 200, body = RuleOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<RuleOut>, ApiError> {
    let rule = s
        .engine
        .query()
        .rule(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(RuleOut { rule }))
}

/// Replaces a rule; future sends of existing bookings follow it.
#[utoipa::path(put, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = Uuid, Path)), request_body = RuleIn,
    responses((status = 200, body = RuleResult), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn replace(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<RuleResult>, ApiError> {
    let id = path_id(&id)?;
    let current = s.engine.query().rule(tenant.account_id, id).await?;
    let rule = to_rule(parse_json(&body)?, tenant.account_id, id)?;
    if rule.property_id != current.property_id {
        return Err(ApiError::invalid(
            "property_id",
            "a rule cannot move to another property",
        ));
    }
    let plan = s.engine.save_rule(&rule, false).await?;
    Ok(Json(RuleResult {
        rule: RuleOut { rule },
        plan,
    }))
}

/// A proposed rule, optionally replacing an existing one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunIn {
    /// The rule this would replace (absent: a new rule).
    #[serde(default)]
    pub rule_id: Option<Uuid>,
    /// The proposed rule.
    pub rule: RuleIn,
}

/// What a rule change would do to planned messages, without saving it.
#[utoipa::path(post, path = "/api/v1/rules/dry-run", tag = "rules", request_body = DryRunIn,
    responses((status = 200, body = super::schemas::PlanImpactSchema), (status = 422, body = crate::error::Problem)))]
pub async fn dry_run(
    State(s): State<AppState>,
    tenant: Tenant,
    body: Bytes,
) -> Result<Json<PlanImpact>, ApiError> {
    let input: DryRunIn = parse_json(&body)?;
    let id = match input.rule_id {
        Some(id) => {
            s.engine
                .query()
                .rule(tenant.account_id, id)
                .await
                .map_err(|_| ApiError::invalid("rule_id", "no such rule"))?
                .id
        }
        None => Uuid::now_v7(),
    };
    let rule = to_rule(input.rule, tenant.account_id, id)?;
    Ok(Json(s.engine.dry_run_rule(&rule).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(list).post(create))
        .route("/rules/dry-run", post(dry_run))
        .route("/rules/{id}", get(get_one).put(replace))
}
