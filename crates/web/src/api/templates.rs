//! `/templates`: email templates with language variants, and a preview for a real booking.

use super::validate::Check;
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
use bellhop_domain::Property;
use bellhop_domain::render::{
    Category, CompiledTemplate, EmailContent, RenderLimits, SmsContent, Template, Variants,
};
use bellhop_domain::rule::TemplateChannel;
use bellhop_domain::sms::{self, SmsAnalysis};
use bellhop_engine::Preview;
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
    /// `email` (default) or `sms`.
    #[serde(default)]
    #[schema(value_type = String, example = "email")]
    pub channel: TemplateChannel,
    /// Variants by language tag: email `{"de": {"subject": "...", "html": "...", "text": "..."}}`,
    /// SMS `{"de": {"text": "..."}}`.
    #[schema(value_type = super::schemas::VariantsSchema)]
    pub variants: serde_json::Value,
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
    /// `email` or `sms`.
    #[schema(value_type = String)]
    pub channel: TemplateChannel,
    /// Variants by language.
    #[schema(value_type = super::schemas::VariantsSchema)]
    pub variants: serde_json::Value,
    /// SMS templates: encoding, number of SMS and the characters that force UCS-2, per
    /// language, for the text as a sample guest of this property receives it (values filled
    /// in, not the `{{ }}` placeholders counted as typed); the preview gives the exact figures
    /// for a real booking.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, super::schemas::SmsAnalysisSchema>>)]
    pub sms: Option<BTreeMap<String, SmsAnalysis>>,
    /// Increments with every edit.
    pub version: i64,
}

/// The template's property, for its SMS figures (a sample hotel's when it cannot be read).
async fn property_of(s: &AppState, tenant: &Tenant, template: &Template) -> Option<Property> {
    s.engine
        .query()
        .property(tenant.account_id, template.property_id)
        .await
        .ok()
}

fn out(t: Template, property: Option<&Property>) -> TemplateOut {
    let sms = match &t.variants {
        Variants::Sms(_) => {
            let sample = bellhop_domain::sample::property();
            let property = property.unwrap_or(&sample);
            Some(
                bellhop_domain::render::sms_samples(&t, property)
                    .into_iter()
                    .map(|(lang, text)| {
                        let analysis = sms::analyze(&text, property.sms.smart_encoding);
                        (lang, analysis)
                    })
                    .collect(),
            )
        }
        Variants::Email(_) => None,
    };
    let variants = match &t.variants {
        Variants::Email(v) => serde_json::to_value(v),
        Variants::Sms(v) => serde_json::to_value(v),
    }
    .unwrap_or_default();
    TemplateOut {
        id: t.id,
        property_id: t.property_id,
        name: t.name,
        category: t.category,
        channel: t.variants.channel(),
        variants,
        sms,
        version: t.version,
    }
}

fn variants_of<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(
            &if path == "." {
                "variants".to_owned()
            } else {
                format!("variants.{path}")
            },
            e.into_inner().to_string(),
        )
    })
}

fn to_template(input: TemplateIn, account_id: Uuid, id: Uuid) -> Result<Template, ApiError> {
    let mut check = Check::default();
    check.text("name", &input.name, 1, 200);
    let variants = match input.channel {
        TemplateChannel::Email => {
            let v: BTreeMap<String, EmailContent> = variants_of(&input.variants)?;
            for (lang, v) in &v {
                check.language(&format!("variants.{lang}"), lang);
                check.text(&format!("variants.{lang}.subject"), &v.subject, 1, 1000);
                check.text(&format!("variants.{lang}.html"), &v.html, 1, 256 * 1024);
            }
            Variants::Email(v)
        }
        TemplateChannel::Sms => {
            let v: BTreeMap<String, SmsContent> = variants_of(&input.variants)?;
            for (lang, c) in &v {
                check.language(&format!("variants.{lang}"), lang);
                check.text(&format!("variants.{lang}.text"), &c.text, 1, 10_000);
            }
            Variants::Sms(v)
        }
    };
    if variants.is_empty() || variants.len() > 50 {
        check.fail("variants", "give between 1 and 50 language variants");
    }
    check.done()?;
    // Compile now so a syntax error is a 422 naming the part, not a failed send later.
    let template = Template {
        id,
        account_id,
        property_id: input.property_id,
        name: input.name,
        category: input.category,
        variants,
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
    let property = property_of(&s, &tenant, &template).await;
    extract::create(&s, tenant.account_id, &headers, &body, async |cmd| {
        Ok(out(
            cmd.save_template(&template, true).await?,
            property.as_ref(),
        ))
    })
    .await
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
    let properties = s.engine.query().properties(tenant.account_id).await?;
    Ok(Json(
        s.engine
            .query()
            .templates(tenant.account_id, q.property_id)
            .await?
            .into_iter()
            .map(|t| {
                let property = properties.iter().find(|p| p.id == t.property_id);
                out(t, property)
            })
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
    let template = s
        .engine
        .query()
        .template(tenant.account_id, path_id(&id)?)
        .await?;
    let property = property_of(&s, &tenant, &template).await;
    Ok(Json(out(template, property.as_ref())))
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
    let current = s.engine.query().template(tenant.account_id, id).await?;
    let template = to_template(parse_json(&body)?, tenant.account_id, id)?;
    if template.property_id != current.property_id {
        return Err(ApiError::invalid(
            "property_id",
            "a template cannot move to another property",
        ));
    }
    if template.variants.channel() != current.variants.channel() {
        return Err(ApiError::invalid(
            "channel",
            "a template cannot change its channel: rules rely on it; create a new one",
        ));
    }
    let property = property_of(&s, &tenant, &template).await;
    Ok(Json(out(
        s.engine.save_template(&template, false).await?,
        property.as_ref(),
    )))
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

/// The rendered message.
#[derive(Serialize, ToSchema)]
pub struct PreviewOut {
    /// Subject (email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// HTML with the property's layout (email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Text: the email's text part, or the SMS as it is sent (smart-encoded where that
    /// applies).
    pub text: String,
    /// Variant used.
    pub language: String,
    /// No variant matched the wanted language.
    pub fell_back: bool,
    /// SMS: encoding, number of SMS, units, the characters that force UCS-2, the parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schemas::SmsAnalysisSchema>)]
    pub sms: Option<SmsAnalysis>,
    /// SMS: why it could not be sent as it is (empty, more than 10 parts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
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
    let input: PreviewIn = parse_json(&body)?;
    let preview = s
        .engine
        .preview_template(
            tenant.account_id,
            path_id(&id)?,
            input.booking_id,
            input.language,
        )
        .await?;
    Ok(Json(match preview {
        Preview::Sms {
            rendered,
            analysis,
            problem,
        } => PreviewOut {
            subject: None,
            html: None,
            text: analysis.text.clone(),
            language: rendered.language,
            fell_back: rendered.fell_back,
            sms: Some(analysis),
            problem,
        },
        Preview::Email(rendered) => PreviewOut {
            subject: Some(rendered.subject),
            html: Some(rendered.html),
            text: rendered.text,
            language: rendered.language,
            fell_back: rendered.fell_back,
            sms: None,
            problem: None,
        },
    }))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/templates", get(list).post(create))
        .route("/templates/{id}", get(get_one).put(replace))
        .route("/templates/{id}/preview", post(preview))
}
