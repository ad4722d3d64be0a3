//! `/templates`: email templates with language variants, and a preview for a real booking.

use super::validate::Check;
use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{Begun, Creation, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::render::{
    self, Category, CompiledTemplate, EmailContent, RenderLimits, RenderedEmail, Template,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A template as submitted.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    /// Property.
    pub property_id: Uuid,
    /// Staff-facing name.
    pub name: String,
    /// `service` (default), `marketing` or `personalized`.
    #[serde(default)]
    #[schema(value_type = String, example = "service")]
    pub category: Category,
    /// Variants by language tag: `{"de": {"subject": "...", "html": "...", "text": "..."}}`.
    #[schema(value_type = Object)]
    pub variants: BTreeMap<String, EmailContent>,
}

/// A template.
#[derive(Serialize, ToSchema)]
pub struct TemplateOut {
    /// Id.
    pub id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// Category.
    #[schema(value_type = String)]
    pub category: Category,
    /// Variants by language.
    #[schema(value_type = Object)]
    pub variants: BTreeMap<String, EmailContent>,
    /// Increments with every edit.
    pub version: i64,
}

fn out(t: Template) -> TemplateOut {
    TemplateOut {
        id: t.id,
        property_id: t.property_id,
        name: t.name,
        category: t.category,
        variants: t.variants,
        version: t.version,
    }
}

fn to_template(input: TemplateIn, account_id: Uuid, id: Uuid) -> Result<Template, ApiError> {
    let mut check = Check::default();
    check.text("name", &input.name, 1, 200);
    if input.variants.is_empty() || input.variants.len() > 50 {
        check.fail("variants", "give between 1 and 50 language variants");
    }
    for (lang, v) in &input.variants {
        check.language(&format!("variants.{lang}"), lang);
        check.text(&format!("variants.{lang}.subject"), &v.subject, 1, 1000);
        check.text(&format!("variants.{lang}.html"), &v.html, 1, 256 * 1024);
    }
    check.done()?;
    // Compile now so a syntax error is a 422 naming the part, not a failed send later.
    let template = Template {
        id,
        account_id,
        property_id: input.property_id,
        name: input.name,
        category: input.category,
        variants: input.variants,
        version: 1,
    };
    CompiledTemplate::compile(&template, None, None, RenderLimits::default())
        .map_err(|e| ApiError::invalid("variants", e.to_string()))?;
    Ok(template)
}

/// Creates a template.
#[utoipa::path(post, path = "/api/v1/templates", tag = "templates", request_body = TemplateIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key")),
    responses((status = 201, body = TemplateOut), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let template = to_template(parse_json(&body)?, tenant.account_id, Uuid::now_v7())?;
    let mut op = match Creation::begin(&s, tenant.account_id, &headers, &body).await? {
        Begun::Replay(replay) => return Ok(replay),
        Begun::Fresh(op) => op,
    };
    let saved = s.engine.save_template_in(op.tx(), &template, true).await?;
    op.finish(&out(saved)).await
}

/// Filter of templates.
#[derive(Deserialize, IntoParams)]
pub struct TemplateQuery {
    /// Only this property.
    property_id: Option<Uuid>,
}

/// Lists templates.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", params(TemplateQuery), responses((status = 200, body = [TemplateOut])))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<TemplateQuery>,
) -> Result<Json<Vec<TemplateOut>>, ApiError> {
    Ok(Json(
        s.engine
            .store()
            .templates(tenant.account_id, q.property_id)
            .await?
            .into_iter()
            .map(out)
            .collect(),
    ))
}

/// One template.
#[utoipa::path(get, path = "/api/v1/templates/{id}", tag = "templates", params(("id" = Uuid, Path)),
    responses((status = 200, body = TemplateOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<TemplateOut>, ApiError> {
    Ok(Json(out(s
        .engine
        .store()
        .template(tenant.account_id, path_id(&id)?)
        .await?)))
}

/// Replaces a template; messages not yet sent use the new version.
#[utoipa::path(put, path = "/api/v1/templates/{id}", tag = "templates", params(("id" = Uuid, Path)), request_body = TemplateIn,
    responses((status = 200, body = TemplateOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn replace(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TemplateOut>, ApiError> {
    let id = path_id(&id)?;
    let current = s.engine.store().template(tenant.account_id, id).await?;
    let template = to_template(parse_json(&body)?, tenant.account_id, id)?;
    if template.property_id != current.property_id {
        return Err(ApiError::invalid(
            "property_id",
            "a template cannot move to another property",
        ));
    }
    Ok(Json(out(s.engine.save_template(&template, false).await?)))
}

/// What to preview.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewIn {
    /// Render for this booking (and its guest).
    pub booking_id: Uuid,
    /// Force a language (default: booking → guest → property).
    #[serde(default)]
    pub language: Option<String>,
}

/// The rendered email.
#[derive(Serialize, ToSchema)]
pub struct PreviewOut {
    /// Subject.
    pub subject: String,
    /// HTML with the property's layout.
    pub html: String,
    /// Text.
    pub text: String,
    /// Variant used.
    pub language: String,
    /// No variant matched the wanted language.
    pub fell_back: bool,
}

/// Renders a template for a booking exactly as it would be sent; a missing value is a 422
/// naming the variable.
#[utoipa::path(post, path = "/api/v1/templates/{id}/preview", tag = "templates", params(("id" = Uuid, Path)), request_body = PreviewIn,
    responses((status = 200, body = PreviewOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn preview(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<PreviewOut>, ApiError> {
    let store = s.engine.store();
    let template = store.template(tenant.account_id, path_id(&id)?).await?;
    let input: PreviewIn = parse_json(&body)?;
    let booking = store
        .booking(tenant.account_id, input.booking_id)
        .await
        .map_err(|_| ApiError::invalid("booking_id", "no such booking"))?;
    let property = store
        .property(tenant.account_id, booking.property_id)
        .await?;
    let contact = store.contact(tenant.account_id, booking.contact_id).await?;
    let compiled = CompiledTemplate::compile(
        &template,
        property.layout_html.as_deref(),
        property.layout_text.as_deref(),
        RenderLimits::default(),
    )
    .map_err(|e| ApiError::invalid("template", e.to_string()))?;
    let wanted = input
        .language
        .unwrap_or_else(|| bellhop_domain::language::wanted(&property, &booking, &contact));
    let context = render::context(&property, &booking, &contact, &wanted);
    let rendered: RenderedEmail = compiled
        .render(
            &[wanted.as_str(), property.default_language.as_str()],
            &context,
        )
        .map_err(|e| ApiError::invalid("template", e.to_string()))?;
    Ok(Json(PreviewOut {
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        language: rendered.language,
        fell_back: rendered.fell_back,
    }))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/templates", get(list).post(create))
        .route("/templates/{id}", get(get_one).put(replace))
        .route("/templates/{id}/preview", post(preview))
}
