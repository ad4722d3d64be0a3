//! `/presets`: the ready-made rules and templates a hotel or salon starts with, and their
//! installation on a property (idempotent: a preset is installed once per property).

use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{Record, own_record, parse_json};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::language::LanguageTag;
use bellhop_domain::presets;
use bellhop_domain::render::Variants;
use bellhop_domain::rule::{Anchor, Offset};
use bellhop_domain::time::LocalTime;
use bellhop_engine::PresetInstall;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A preset: a rule with its template.
#[derive(Serialize, ToSchema)]
pub struct PresetOut {
    /// Stable key, to install it by.
    #[schema(example = "pre_arrival")]
    pub key: &'static str,
    /// `hotel` or `salon`.
    #[schema(example = "hotel")]
    pub set: &'static str,
    /// Staff-facing name.
    pub name: &'static str,
    /// What it counts from (as for rules).
    #[schema(value_type = String, example = "start")]
    pub anchor: Anchor,
    /// How far from the anchor.
    #[schema(value_type = super::schemas::OffsetSchema)]
    pub offset: Offset,
    /// Local time of day.
    #[schema(value_type = Option<String>, example = "10:00")]
    pub time_of_day: Option<LocalTime>,
    /// `email`.
    pub channel: &'static str,
    /// Languages its template is written in.
    pub languages: Vec<String>,
}

/// Which presets to install: by key, or a whole set.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresetsIn {
    /// Keys from `GET /api/v1/presets`.
    #[serde(default)]
    pub presets: Vec<String>,
    /// `hotel` or `salon`: every preset of the set.
    #[serde(default)]
    pub set: Option<String>,
}

/// What an installation did.
#[derive(Serialize, ToSchema)]
pub struct PresetInstallOut {
    /// Installed now.
    pub installed: Vec<InstalledOut>,
    /// Already on the property (left as they are, edits included).
    pub already_installed: Vec<String>,
    /// Messages planned for the property's current bookings.
    #[schema(value_type = super::schemas::PlanSummarySchema)]
    pub plan: bellhop_store::PlanSummary,
}

/// One installed preset.
#[derive(Serialize, ToSchema)]
pub struct InstalledOut {
    /// Its key.
    pub key: String,
    /// The rule made from it.
    pub rule_id: Uuid,
    /// Its template.
    pub template_id: Uuid,
}

impl From<PresetInstall> for PresetInstallOut {
    fn from(r: PresetInstall) -> Self {
        PresetInstallOut {
            installed: r
                .installed
                .into_iter()
                .map(|i| InstalledOut {
                    key: i.key,
                    rule_id: i.rule_id,
                    template_id: i.template_id,
                })
                .collect(),
            already_installed: r.already_installed,
            plan: r.plan,
        }
    }
}

/// Every preset.
#[utoipa::path(get, path = "/api/v1/presets", tag = "presets", responses((status = 200, body = [PresetOut])))]
pub async fn list(_tenant: Tenant) -> Json<Vec<PresetOut>> {
    Json(
        presets::catalog()
            .into_iter()
            .map(|(set, p)| {
                let (template, rule) = p.instantiate(Uuid::nil(), Uuid::nil());
                let languages = match &template.variants {
                    Variants::Email(v) => v.keys().cloned().collect(),
                    Variants::Sms(v) => v.keys().cloned().collect(),
                };
                PresetOut {
                    key: p.key,
                    set,
                    name: p.name,
                    anchor: rule.anchor,
                    offset: rule.offset,
                    time_of_day: rule.time_of_day,
                    channel: rule.channel.as_str(),
                    languages,
                }
            })
            .collect(),
    )
}

/// Installs presets on a property, with their templates in every language they are written
/// in, and plans them for the property's current bookings. A preset already installed is left
/// as it is, so the call can be repeated.
#[utoipa::path(post, path = "/api/v1/properties/{id}/presets", tag = "presets", request_body = PresetsIn,
    params(("id" = Uuid, Path, description = "Property")),
    responses((status = 200, body = PresetInstallOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn install(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<PresetInstallOut>, ApiError> {
    let property = own_record(&s, tenant.account_id, Record::Property, &id).await?;
    let input: PresetsIn = parse_json(&body)?;
    let mut keys = input.presets;
    if let Some(set) = &input.set {
        let of_set = presets::keys_of_set(set).ok_or_else(|| {
            ApiError::invalid(
                "set",
                format!("no preset set {set:?}; there are hotel, salon"),
            )
        })?;
        keys.extend(of_set.into_iter().map(str::to_owned));
    }
    let report = s
        .engine
        .install_presets(tenant.account_id, property, &keys)
        .await?;
    Ok(Json(report.into()))
}

/// Whose look and which language a preview takes.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// The property whose layout and brand to show (default: a sample hotel).
    pub property_id: Option<Uuid>,
    /// Language of the variant (default: the property's).
    pub language: Option<String>,
}

/// A preset as a guest would receive it.
#[derive(Serialize, ToSchema)]
pub struct PresetPreviewOut {
    /// Subject.
    pub subject: String,
    /// HTML in the property's layout.
    pub html: String,
    /// Text part.
    pub text: String,
    /// The variant shown.
    pub language: String,
}

/// A preset rendered for a sample booking and guest, in a property's layout and brand (or a
/// sample hotel's), before it is installed.
#[utoipa::path(get, path = "/api/v1/presets/{key}/preview", tag = "presets", params(("key" = String, Path, description = "Preset"), PreviewQuery),
    responses((status = 200, body = PresetPreviewOut), (status = 404, body = crate::error::Problem)))]
pub async fn preview(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(key): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> Result<Json<PresetPreviewOut>, ApiError> {
    let preset = presets::find(&key).ok_or(ApiError::NotFound)?;
    let property = match q.property_id {
        Some(id) => s.engine.query().property(tenant.account_id, id).await?,
        None => bellhop_domain::sample::property(),
    };
    let language = match &q.language {
        Some(l) => LanguageTag::parse(l)
            .map_err(|e| ApiError::invalid("language", e.to_string()))?
            .to_string(),
        None => property.default_language.clone(),
    };
    let mail = presets::preview(&preset, &property, &language)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("preset {key}: {e}")))?;
    Ok(Json(PresetPreviewOut {
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        language: mail.language,
    }))
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/presets", get(list))
        .route("/presets/{key}/preview", get(preview))
        .route("/properties/{id}/presets", post(install))
}
