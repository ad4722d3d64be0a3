//! Templates: the list, and an editor per language with a live preview on a chosen booking
//! (the real renderer, in the property's layout; errors name the variable and the line), the
//! SMS counter with the characters that force UCS-2, and a test send to the user's own
//! address. The preview is a document of its own posted into a frame, so the mail's inline
//! styles never loosen the editor's content security policy.

use super::{Form, Staff, Submitted, UiError, path_id, respond, see_other};
use crate::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bellhop_domain::render::{EmailContent, SmsContent, Template, Variants};
use bellhop_engine::Preview;
use bellhop_store::BookingFilter;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/templates", get(list))
        .route("/app/templates/{id}", get(edit).post(save))
        .route("/app/templates/{id}/preview", post(preview))
        .route("/app/templates/{id}/test-send", post(test_send))
}

async fn list(State(s): State<AppState>, staff: Staff) -> Response {
    let result = async {
        let q = s.engine.query();
        let properties = q.properties(staff.account()).await?;
        let mut groups = Vec::new();
        for p in &properties {
            let templates: Vec<Value> = q
                .templates(staff.account(), Some(p.id))
                .await?
                .into_iter()
                .map(|t| {
                    let (channel, languages) = match &t.variants {
                        Variants::Email(v) => ("email", v.keys().cloned().collect::<Vec<_>>()),
                        Variants::Sms(v) => ("sms", v.keys().cloned().collect()),
                    };
                    json!({"id": t.id, "name": t.name, "channel": channel, "languages": languages,
                           "category": format!("{:?}", t.category).to_lowercase()})
                })
                .collect();
            groups.push(json!({"property": p.name, "templates": templates}));
        }
        Ok(staff.page("templates.html", "templates", ctx! { groups => groups }))
    }
    .await;
    respond(staff.lang, result)
}

#[derive(Deserialize)]
struct EditQuery {
    lang: Option<String>,
    booking: Option<String>,
    done: Option<String>,
}

async fn edit(
    State(s): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> Response {
    let result = async {
        let template = s
            .engine
            .query()
            .template(staff.account(), path_id(&id)?)
            .await?;
        editor(
            &s,
            &staff,
            &template,
            q.lang,
            q.booking,
            q.done,
            None,
            StatusCode::OK,
        )
        .await
    }
    .await;
    respond(staff.lang, result)
}

/// The editor for one language of a template (`draft`: what was typed, when re-shown).
#[allow(clippy::too_many_arguments)]
async fn editor(
    s: &AppState,
    staff: &Staff,
    template: &Template,
    lang: Option<String>,
    booking: Option<String>,
    done: Option<String>,
    problem: Option<(String, Value)>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let account = staff.account();
    let property = s
        .engine
        .query()
        .property(account, template.property_id)
        .await?;
    let languages: Vec<String> = match &template.variants {
        Variants::Email(v) => v.keys().cloned().collect(),
        Variants::Sms(v) => v.keys().cloned().collect(),
    };
    let lang = lang
        .filter(|l| bellhop_domain::language::LanguageTag::parse(l).is_ok())
        .or_else(|| {
            languages
                .iter()
                .find(|l| **l == property.default_language)
                .cloned()
        })
        .or_else(|| languages.first().cloned())
        .unwrap_or_else(|| property.default_language.clone());
    let content = match &template.variants {
        Variants::Email(v) => v.get(&lang).map_or_else(
            || json!({"subject": "", "html": "", "text": ""}),
            |c| json!({"subject": c.subject, "html": c.html, "text": c.text.clone().unwrap_or_default()}),
        ),
        Variants::Sms(v) => json!({"text": v.get(&lang).map(|c| c.text.clone()).unwrap_or_default()}),
    };
    let (problem, content) = match problem {
        Some((message, typed)) => (Some(message), typed),
        None => (None, content),
    };
    let mut bookings: Vec<Value> = Vec::new();
    for b in s
        .engine
        .query()
        .bookings(
            account,
            &BookingFilter {
                property_id: Some(property.id),
                limit: 30,
                ..Default::default()
            },
        )
        .await?
    {
        let guest = s
            .engine
            .query()
            .contact(account, b.fields.contact_id)
            .await?;
        let label = format!(
            "{} · {} · {}",
            super::bookings::guest_name(&guest),
            super::bookings::when(&b, Some(&property)),
            super::i18n::tr(
                staff.lang,
                &format!("booking-status-{}", b.fields.status.as_str())
            )
        );
        bookings.push(json!({"id": b.id, "label": label}));
    }
    let booking = booking
        .filter(|b| {
            bookings
                .iter()
                .any(|x| x["id"].as_str() == Some(b.as_str()))
        })
        .or_else(|| {
            bookings
                .first()
                .and_then(|b| b["id"].as_str().map(str::to_owned))
        });
    let channel = match template.variants {
        Variants::Email(_) => "email",
        Variants::Sms(_) => "sms",
    };
    Ok(staff.page_with_status(
        status,
        "template.html",
        "templates",
        ctx! {
            tpl => json!({"id": template.id, "name": template.name, "version": template.version, "channel": channel}),
            property => property.name, languages => languages, lang => staff.lang.tag(), variant => lang,
            content => content, bookings => bookings, booking => booking, done => done, problem => problem,
            can_mail => s.ui.mailer.is_some(), me => &staff.session.user.email,
        },
    ))
}

/// The template with the form's content as the chosen language's variant.
fn draft(template: &Template, form: &Form) -> Result<(Template, String), UiError> {
    let variant = form
        .text("variant")
        .filter(|l| bellhop_domain::language::LanguageTag::parse(l).is_ok())
        .ok_or(UiError::BadForm)?;
    let mut draft = template.clone();
    match &mut draft.variants {
        Variants::Email(v) => {
            v.insert(
                variant.clone(),
                EmailContent {
                    subject: form.get("subject").unwrap_or("").to_owned(),
                    html: form.get("html").unwrap_or("").to_owned(),
                    text: form
                        .text("text")
                        .map(|_| form.get("text").unwrap_or("").to_owned()),
                },
            );
        }
        Variants::Sms(v) => {
            v.insert(
                variant.clone(),
                SmsContent {
                    text: form.get("sms").unwrap_or("").to_owned(),
                },
            );
        }
    }
    Ok((draft, variant))
}

fn typed(form: &Form) -> Value {
    json!({
        "subject": form.get("subject").unwrap_or(""), "html": form.get("html").unwrap_or(""),
        "text": form.get("text").unwrap_or(""), "sms": form.get("sms").unwrap_or(""),
    })
}

async fn save(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let template = s
            .engine
            .query()
            .template(staff.account(), path_id(&id)?)
            .await?;
        let (mut draft, variant) = draft(&template, &form)?;
        if let Some(name) = form.text("name") {
            draft.name = name;
        }
        let booking = form.text("booking");
        match s.engine.save_template(&draft, false).await {
            Ok(_) => Ok(see_other(&format!(
                "/app/templates/{}?lang={variant}&done=saved{}",
                template.id,
                booking.map(|b| format!("&booking={b}")).unwrap_or_default()
            ))),
            Err(bellhop_engine::EngineError::Invalid { message, .. }) => {
                let mut typed = typed(&form);
                if typed["sms"] != "" {
                    typed["text"] = typed["sms"].clone();
                }
                editor(
                    &s,
                    &staff,
                    &template,
                    Some(variant),
                    booking,
                    None,
                    Some((message, typed)),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    respond(staff.lang, result)
}

/// The draft rendered for the chosen booking: a document for the preview frame, or (asked
/// with `Accept: application/json`) the SMS analysis and any error for the counter.
async fn preview(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Submitted { staff, form }: Submitted,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let result = async {
        let template = s
            .engine
            .query()
            .template(staff.account(), path_id(&id)?)
            .await?;
        let (draft, variant) = draft(&template, &form)?;
        let booking = form.text("booking").and_then(|b| Uuid::parse_str(&b).ok());
        let rendered = match booking {
            Some(b) => {
                s.engine
                    .preview_draft(staff.account(), &draft, b, Some(variant))
                    .await
            }
            None => Err(bellhop_engine::EngineError::invalid(
                "booking",
                staff.t("preview-no-booking"),
            )),
        };
        Ok(if wants_json {
            counter_json(rendered, &staff)
        } else {
            preview_document(rendered, &staff)
        })
    }
    .await;
    respond(staff.lang, result)
}

fn analysis_json(a: &bellhop_domain::sms::SmsAnalysis) -> Value {
    json!({
        "encoding": format!("{:?}", a.encoding).to_uppercase().replace("GSM7", "GSM-7").replace("UCS2", "UCS-2"),
        "segments": a.segments, "characters": a.characters, "units_left": a.units_left,
        "non_gsm": a.non_gsm, "smart_encoded": a.smart_encoded,
    })
}

fn counter_json(rendered: Result<Preview, bellhop_engine::EngineError>, staff: &Staff) -> Response {
    let body = match rendered {
        Ok(Preview::Sms {
            analysis, problem, ..
        }) => {
            let a = analysis_json(&analysis);
            json!({"sms": a, "summary": counter_summary(staff, &a), "problem": problem})
        }
        Ok(Preview::Email(_)) => json!({}),
        Err(e) => json!({"error": error_text(e)}),
    };
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// "2 parts · 161 characters · UCS-2 because of: ✓" in the user's language.
fn counter_summary(staff: &Staff, a: &Value) -> String {
    let mut text = super::i18n::text(
        staff.lang,
        "sms-counter",
        &[
            ("parts", a["segments"].as_i64().unwrap_or(0).into()),
            ("chars", a["characters"].as_i64().unwrap_or(0).into()),
            (
                "encoding",
                a["encoding"].as_str().unwrap_or("").to_owned().into(),
            ),
        ],
    );
    let forcing: Vec<&str> = a["non_gsm"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str())
        .collect();
    if !forcing.is_empty() {
        text.push_str(" · ");
        text.push_str(&staff.t("sms-forced-by"));
        text.push_str(": ");
        text.push_str(&forcing.join(" "));
    }
    text
}

fn error_text(e: bellhop_engine::EngineError) -> String {
    match e {
        bellhop_engine::EngineError::Invalid { message, .. } => message,
        e => e.to_string(),
    }
}

fn preview_document(
    rendered: Result<Preview, bellhop_engine::EngineError>,
    staff: &Staff,
) -> Response {
    let ctx = match rendered {
        Ok(Preview::Email(mail)) => {
            ctx! { mail => json!({"subject": mail.subject, "text": mail.text, "language": mail.language}), html => mail.html }
        }
        Ok(Preview::Sms {
            rendered,
            analysis,
            problem,
        }) => {
            let a = analysis_json(&analysis);
            ctx! { sms => rendered.text, counter => counter_summary(staff, &a), problem => problem }
        }
        Err(e) => ctx! { error => error_text(e) },
    };
    match super::render_to_string(
        "template_preview.html",
        context! { lang => staff.lang.tag(), ..ctx },
    ) {
        Ok(html) => super::mail_document(html),
        Err(e) => {
            tracing::error!(error = %e, "the preview did not render");
            super::mail_document("<p>The preview could not be shown.</p>".to_owned())
        }
    }
}

async fn test_send(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let account = staff.account();
        let template = s.engine.query().template(account, path_id(&id)?).await?;
        let (draft, variant) = draft(&template, &form)?;
        let booking = form.text("booking").and_then(|b| Uuid::parse_str(&b).ok());
        let back = |done: &str| {
            see_other(&format!(
                "/app/templates/{}?lang={variant}&done={done}{}",
                template.id,
                booking.map(|b| format!("&booking={b}")).unwrap_or_default()
            ))
        };
        let (Some(mailer), Some(booking)) = (&s.ui.mailer, booking) else {
            return Ok(back("test-not-sent"));
        };
        let property = s
            .engine
            .query()
            .property(account, template.property_id)
            .await?;
        let (subject, html, text) = match s
            .engine
            .preview_draft(account, &draft, booking, Some(variant.clone()))
            .await
        {
            Ok(Preview::Email(mail)) => (mail.subject, mail.html, mail.text),
            Ok(Preview::Sms { rendered, .. }) => (
                format!("SMS · {}", template.name),
                format!(
                    "<pre>{}</pre>",
                    bellhop_domain::text::escape_html(&rendered.text)
                ),
                rendered.text,
            ),
            Err(e) => {
                let message = error_text(e);
                return editor(
                    &s,
                    &staff,
                    &template,
                    Some(variant),
                    Some(booking.to_string()),
                    None,
                    Some((message, typed(&form))),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        };
        let mail = bellhop_transport::OutgoingEmail {
            message_id: Uuid::now_v7(),
            from_name: property.sender.name.clone(),
            from_email: property.sender.email.clone(),
            reply_to: None,
            to_name: Some(staff.session.user.name.clone()),
            to_email: staff.session.user.email.clone(),
            subject: format!("[{}] {subject}", staff.t("test")),
            html,
            text,
            date: s.engine.now(),
            unsubscribe: None,
            auto_reply: None,
        };
        match mailer.send_many(&[mail]).await.into_iter().next() {
            Some(Ok(_)) => Ok(back("test-sent")),
            other => {
                tracing::warn!(template = %template.id, outcome = ?other, "a test send failed");
                Ok(back("test-not-sent"))
            }
        }
    }
    .await;
    respond(staff.lang, result)
}
