//! The account, for owners: users and their roles, API keys (listed by name and prefix,
//! created with a name, revoked, rotated — a lost key is replaced, never shown again), and
//! properties with their look (logo, colour, address, sender) and a preview of every preset
//! in that look.

use super::{
    Owner, OwnerSubmitted, Staff, Submitted, UiError, i18n, local, path_id, refusal, respond,
    see_other,
};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bellhop_domain::presets;
use bellhop_engine::{NewUser, Role};
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/account", get(show))
        .route("/app/account/users", post(create_user))
        .route("/app/account/users/{id}", post(change_user))
        .route("/app/account/keys", post(create_key))
        .route("/app/account/keys/{id}/revoke", post(revoke_key))
        .route("/app/account/keys/{id}/rotate", post(rotate_key))
        .route("/app/properties/{id}", get(property).post(save_property))
        .route("/app/properties/{id}/presets/{key}", get(preset_preview))
}

async fn show(
    State(s): State<AppState>,
    Owner(staff): Owner,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = page(
        &s,
        &staff,
        q.get("done").cloned(),
        Vec::new(),
        StatusCode::OK,
    )
    .await;
    respond(staff.lang, result)
}

async fn page(
    s: &AppState,
    staff: &Staff,
    done: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let account = staff.account();
    let properties = s.engine.query().properties(account).await?;
    let zone = properties
        .first()
        .map_or(jiff::tz::TimeZone::UTC, |p| p.time_zone.clone());
    let users: Vec<Value> = s
        .engine
        .users(account)
        .await?
        .into_iter()
        .map(|u| {
            json!({"id": u.id, "name": u.name, "email": u.email, "role": u.role.as_str(),
                   "language": u.language, "disabled": u.disabled, "me": u.id == staff.session.user.id})
        })
        .collect();
    let keys: Vec<Value> = s
        .engine
        .api_keys(account)
        .await?
        .into_iter()
        .map(|k| {
            json!({"id": k.id, "name": k.name, "prefix": k.prefix, "created": local(k.created_at, &zone),
                   "revoked": k.revoked_at.map(|t| local(t, &zone))})
        })
        .collect();
    let props: Vec<Value> = properties
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name, "zone": p.time_zone_name, "country": p.country, "language": p.default_language}))
        .collect();
    Ok(staff.page_with_status(
        status,
        "account.html",
        "account",
        ctx! { users => users, keys => keys, properties => props, done => done, errors => errors },
    ))
}

async fn create_user(
    State(s): State<AppState>,
    OwnerSubmitted(Submitted { staff, form }): OwnerSubmitted,
) -> Response {
    let result = async {
        let new = NewUser {
            email: form.get("email").unwrap_or("").to_owned(),
            name: form.get("name").unwrap_or("").to_owned(),
            role: form
                .get("role")
                .and_then(Role::parse)
                .unwrap_or(Role::Staff),
            language: form
                .get("language")
                .and_then(i18n::Lang::parse)
                .map(|l| l.tag().to_owned()),
            password: form.get("password").unwrap_or("").to_owned(),
        };
        match s.engine.create_user(staff.account(), new).await {
            Ok(_) => Ok(see_other("/app/account?done=user-created")),
            Err(e) => {
                page(
                    &s,
                    &staff,
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

async fn change_user(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OwnerSubmitted(Submitted { staff, form }): OwnerSubmitted,
) -> Response {
    let result = async {
        let account = staff.account();
        let id = path_id(&id)?;
        let user = s
            .engine
            .users(account)
            .await?
            .into_iter()
            .find(|u| u.id == id)
            .ok_or(UiError::NotFound)?;
        let role = form.get("role").and_then(Role::parse).unwrap_or(user.role);
        match s
            .engine
            .update_user(
                account,
                id,
                &user.name,
                role,
                user.language.clone(),
                form.get("disabled") == Some("1"),
            )
            .await
        {
            Ok(_) => Ok(see_other("/app/account?done=saved")),
            Err(bellhop_engine::EngineError::Conflict(message)) => {
                page(&s, &staff, None, vec![message], StatusCode::CONFLICT).await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    respond(staff.lang, result)
}

fn key_page(staff: &Staff, token: &str) -> Response {
    staff.page(
        "secret.html",
        "account",
        ctx! { title => "key-new", secrets => vec![(staff.t("key"), token.to_owned())], back => "/app/account" },
    )
}

async fn create_key(
    State(s): State<AppState>,
    OwnerSubmitted(Submitted { staff, form }): OwnerSubmitted,
) -> Response {
    let result = async {
        match s
            .engine
            .create_api_key(staff.account(), form.get("name").unwrap_or(""))
            .await
        {
            Ok((_, token)) => Ok(key_page(&staff, &token)),
            Err(e) => {
                page(
                    &s,
                    &staff,
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

async fn revoke_key(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OwnerSubmitted(Submitted { staff, .. }): OwnerSubmitted,
) -> Response {
    let result = async {
        s.engine
            .revoke_api_key(staff.account(), path_id(&id)?)
            .await?;
        Ok(see_other("/app/account?done=key-revoked"))
    }
    .await;
    respond(staff.lang, result)
}

async fn rotate_key(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OwnerSubmitted(Submitted { staff, .. }): OwnerSubmitted,
) -> Response {
    let result = async {
        let (_, token) = s
            .engine
            .rotate_api_key(staff.account(), path_id(&id)?)
            .await?;
        Ok(key_page(&staff, &token))
    }
    .await;
    respond(staff.lang, result)
}

async fn property(
    State(s): State<AppState>,
    Owner(staff): Owner,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = property_page(
        &s,
        &staff,
        &id,
        q.get("done").cloned(),
        Vec::new(),
        StatusCode::OK,
    )
    .await;
    respond(staff.lang, result)
}

async fn property_page(
    s: &AppState,
    staff: &Staff,
    id: &str,
    done: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let p = s
        .engine
        .query()
        .property(staff.account(), path_id(id)?)
        .await?;
    let b = &p.brand;
    let presets: Vec<Value> = presets::catalog()
        .into_iter()
        .map(|(set, preset)| json!({"set": set, "key": preset.key}))
        .collect();
    Ok(staff.page_with_status(
        status,
        "property.html",
        "account",
        ctx! {
            p => json!({
                "id": p.id, "name": p.name, "language": p.default_language,
                "color": b.color.clone().unwrap_or_else(|| "#1f4e79".into()), "logo_url": b.logo_url, "address": b.address,
                "phone": b.phone, "website": b.website, "booking_url": b.booking_url, "map_url": b.map_url,
                "sender_name": p.sender.name, "sender_email": p.sender.email, "reply_to": p.sender.reply_to,
            }),
            presets => presets, done => done, errors => errors,
        },
    ))
}

async fn save_property(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OwnerSubmitted(Submitted { staff, form }): OwnerSubmitted,
) -> Response {
    let result = async {
        let mut p = s
            .engine
            .query()
            .property(staff.account(), path_id(&id)?)
            .await?;
        if let Some(name) = form.text("name") {
            p.name = name;
        }
        p.brand.color = form.text("color");
        p.brand.logo_url = form.text("logo_url");
        p.brand.address = form.text("address");
        p.brand.phone = form.text("phone");
        p.brand.website = form.text("website");
        p.brand.booking_url = form.text("booking_url");
        p.brand.map_url = form.text("map_url");
        let mut errors: Vec<String> = crate::api::properties::brand_problems(&p.brand)
            .into_iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect();
        if let Some(name) = form.text("sender_name") {
            p.sender.name = name;
        }
        match form
            .text("sender_email")
            .map(|e| bellhop_domain::contact::EmailAddress::parse(&e))
        {
            Some(Ok(e)) => p.sender.email = e.as_str().to_owned(),
            Some(Err(e)) => errors.push(format!("sender_email: {e}")),
            None => errors.push("sender_email".to_owned()),
        }
        p.sender.reply_to = form.text("reply_to");
        if !errors.is_empty() {
            return property_page(
                &s,
                &staff,
                &id,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        match s.engine.update_property(&p).await {
            Ok(_) => Ok(see_other(&format!("/app/properties/{}?done=saved", p.id))),
            Err(e) => {
                property_page(
                    &s,
                    &staff,
                    &id,
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

/// A preset as the property's guests would get it, in its look (for the preview frames).
async fn preset_preview(
    State(s): State<AppState>,
    Owner(staff): Owner,
    Path((id, key)): Path<(String, String)>,
) -> Response {
    let result = async {
        let p = s
            .engine
            .query()
            .property(staff.account(), path_id(&id)?)
            .await?;
        let preset = presets::find(&key).ok_or(UiError::NotFound)?;
        let mail = presets::preview(&preset, &p, &p.default_language)
            .map_err(|e| bellhop_engine::EngineError::Internal(format!("preset {key}: {e}")))?;
        Ok(super::mail_document(mail.html))
    }
    .await;
    respond(staff.lang, result)
}
