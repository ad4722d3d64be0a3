//! The staff web UI under `/app`: server-rendered HTML (minijinja templates with HTML
//! auto-escaping, German and English from Fluent catalogues) that works without JavaScript;
//! one small script of our own (`static/app.js`) updates the template preview and the SMS
//! counter while staff type. Users sign in to sessions kept in the database; every form
//! carries the session's CSRF token; owners also manage users, keys, properties and SMS
//! settings. Every change goes through the engine's commands, every read through its queries.

/// A template context whose values are any `Serialize` (`serde_json` values included).
macro_rules! ctx {
    ($($key:ident => $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut map = std::collections::BTreeMap::<&str, minijinja::Value>::new();
        $( map.insert(stringify!($key), minijinja::Value::from(minijinja::value::Serde(&$value))); )*
        minijinja::Value::from_pairs(map)
    }};
}

mod account;
mod bookings;
mod channels;
mod contacts;
pub mod i18n;
mod messages;
mod rules;
mod session;
mod sms;
mod templates;
mod today;

use crate::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bellhop_engine::{EngineError, Role, StaffSession};
use bellhop_transport::callbacks::constant_time_eq;
use i18n::Lang;
use minijinja::value::Kwargs;
use minijinja::{Environment, State, Value, context};
use std::sync::{Arc, OnceLock};
use uuid::Uuid;

/// What the UI needs beyond the engine: how to send staff mail (password resets, test
/// sends) and whether cookies must be `Secure`.
#[derive(Clone, Debug, Default)]
pub struct UiSettings {
    /// Sends staff mail; `None`: password reset and test sends say they cannot.
    pub mailer: Option<Arc<bellhop_transport::EmailTransport>>,
    /// The From address of staff mail.
    pub mail_from: String,
    /// The installation is reached over HTTPS (its public URL): cookies are `Secure`.
    pub https: bool,
    /// Where links in staff mail point (`https://bellhop.example`).
    pub public_url: String,
}

/// The session cookie's name over plain HTTP (development, loopback).
pub const SESSION_COOKIE: &str = "bellhop_session";
/// Its name behind TLS: `__Host-` makes browsers insist on `Secure`, `Path=/`, no `Domain`.
pub const SESSION_COOKIE_TLS: &str = "__Host-bellhop_session";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(today::show))
        .route("/app/", get(|| async { Redirect::to("/app") }))
        .route("/app/static/app.css", get(static_css))
        .route("/app/static/app.js", get(static_js))
        .merge(session::router())
        .merge(bookings::router())
        .merge(templates::router())
        .merge(rules::router())
        .merge(sms::router())
        .merge(contacts::router())
        .merge(channels::router())
        .merge(messages::router())
        .merge(account::router())
}

static CSS: &str = include_str!("static/app.css");
static JS: &str = include_str!("static/app.js");

async fn static_css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

async fn static_js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The page templates, with `t(key, **args)` for the catalogue's words in the page's `lang`.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        // A missing value may be tested (`{% if problem %}`) but never printed.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("ui template {name}: {e}"));
        }
        env.add_function("t", translate);
        env
    })
}

/// Every page template, compiled into the binary.
pub(crate) const TEMPLATES: [(&str, &str); 26] = [
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("signin.html", include_str!("templates/signin.html")),
    (
        "reset_request.html",
        include_str!("templates/reset_request.html"),
    ),
    ("reset_set.html", include_str!("templates/reset_set.html")),
    ("error.html", include_str!("templates/error.html")),
    ("today.html", include_str!("templates/today.html")),
    ("bookings.html", include_str!("templates/bookings.html")),
    ("booking.html", include_str!("templates/booking.html")),
    (
        "booking_form.html",
        include_str!("templates/booking_form.html"),
    ),
    ("templates.html", include_str!("templates/templates.html")),
    ("template.html", include_str!("templates/template.html")),
    (
        "template_preview.html",
        include_str!("templates/template_preview.html"),
    ),
    ("rules.html", include_str!("templates/rules.html")),
    ("rule.html", include_str!("templates/rule.html")),
    ("dry_run.html", include_str!("templates/dry_run.html")),
    ("sms.html", include_str!("templates/sms.html")),
    ("contact.html", include_str!("templates/contact.html")),
    ("channels.html", include_str!("templates/channels.html")),
    ("mailboxes.html", include_str!("templates/mailboxes.html")),
    (
        "inbound_mail.html",
        include_str!("templates/inbound_mail.html"),
    ),
    ("messages.html", include_str!("templates/messages.html")),
    ("message.html", include_str!("templates/message.html")),
    ("account.html", include_str!("templates/account.html")),
    ("property.html", include_str!("templates/property.html")),
    ("secret.html", include_str!("templates/secret.html")),
];

fn translate(state: &State, key: &str, args: Kwargs) -> Result<String, minijinja::Error> {
    let lang = state
        .lookup("lang")
        .and_then(|l| l.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::En);
    let mut values: Vec<(String, fluent_bundle::FluentValue<'static>)> = Vec::new();
    for name in args.args() {
        let value: Value = args.get(name)?;
        let fluent = match value.as_i64() {
            Some(n) => fluent_bundle::FluentValue::from(n),
            None => fluent_bundle::FluentValue::from(value.to_string()),
        };
        values.push((name.to_owned(), fluent));
    }
    let borrowed: Vec<(&str, fluent_bundle::FluentValue<'_>)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    Ok(i18n::text(lang, key, &borrowed))
}

/// A signed-in user, with the language their pages are in.
pub(crate) struct Staff {
    pub session: StaffSession,
    pub lang: Lang,
}

impl Staff {
    pub fn account(&self) -> Uuid {
        self.session.user.account_id
    }

    pub fn is_owner(&self) -> bool {
        self.session.user.role == Role::Owner
    }

    /// The actor recorded in histories.
    pub fn actor(&self) -> String {
        format!("user:{}", self.session.user.id)
    }

    pub fn t(&self, key: &str) -> String {
        i18n::tr(self.lang, key)
    }

    /// A page for this user: `template` with `ctx` and what every page shows.
    pub fn page(&self, template: &str, section: &str, ctx: Value) -> Response {
        self.page_with_status(StatusCode::OK, template, section, ctx)
    }

    pub fn page_with_status(
        &self,
        status: StatusCode,
        template: &str,
        section: &str,
        ctx: Value,
    ) -> Response {
        let user = &self.session.user;
        let full = context! {
            lang => self.lang.tag(),
            section => section,
            csrf => &self.session.csrf,
            user => context! { name => &user.name, email => &user.email, owner => self.is_owner() },
            ..ctx
        };
        render(status, template, full)
    }

    /// Refuses a form without this session's token, or one a browser says came from
    /// another site.
    pub fn check_form(&self, form: &Form, headers: &HeaderMap) -> Result<(), UiError> {
        let cross_site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "cross-site");
        let token_ok = form
            .get("csrf")
            .is_some_and(|token| constant_time_eq(token.as_bytes(), self.session.csrf.as_bytes()));
        if cross_site || !token_ok {
            return Err(UiError::Csrf);
        }
        Ok(())
    }
}

/// The value of the cookie `name` in a request.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

/// The session cookie's value in a request (its TLS name first).
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE_TLS).or_else(|| cookie_value(headers, SESSION_COOKIE))
}

/// The language of a request without a user: the browser's.
pub(crate) fn browser_lang(headers: &HeaderMap) -> Lang {
    Lang::negotiate(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let lang_of_browser = browser_lang(&parts.headers);
        let to_sign_in = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .filter(|p| parts.method == axum::http::Method::GET && p.starts_with("/app"))
                .unwrap_or("/app");
            let target = format!("/app/signin?next={}", url_encode(next));
            Redirect::to(&target).into_response()
        };
        let Some(token) = session_cookie(&parts.headers) else {
            return Err(to_sign_in());
        };
        let session = match s.engine.staff_session(&token).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(to_sign_in()),
            Err(e) => return Err(UiError::Engine(e).page(lang_of_browser)),
        };
        let lang = session
            .user
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(lang_of_browser);
        tracing::Span::current().record(
            "account_id",
            tracing::field::display(session.user.account_id),
        );
        Ok(Staff { session, lang })
    }
}

/// A signed-in owner; a staff user gets 403.
pub(crate) struct Owner(pub Staff);

impl FromRequestParts<AppState> for Owner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let staff = Staff::from_request_parts(parts, s).await?;
        if !staff.is_owner() {
            return Err(UiError::OwnersOnly.page(staff.lang));
        }
        Ok(Owner(staff))
    }
}

/// A form a signed-in user submitted: the user, and the form once it carries the session's
/// CSRF token (anything else is refused with 403 before the handler runs).
pub(crate) struct Submitted {
    pub staff: Staff,
    pub form: Form,
}

impl axum::extract::FromRequest<AppState> for Submitted {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, s: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let staff = Staff::from_request_parts(&mut parts, s).await?;
        let lang = staff.lang;
        let bytes = axum::body::to_bytes(body, crate::MAX_BODY)
            .await
            .map_err(|_| UiError::BadForm.page(lang))?;
        let form = Form::parse(&bytes).map_err(|e| e.page(lang))?;
        staff
            .check_form(&form, &parts.headers)
            .map_err(|e| e.page(lang))?;
        Ok(Submitted { staff, form })
    }
}

/// A form an owner submitted; a staff user gets 403.
pub(crate) struct OwnerSubmitted(pub Submitted);

impl axum::extract::FromRequest<AppState> for OwnerSubmitted {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, s: &AppState) -> Result<Self, Response> {
        let submitted = Submitted::from_request(request, s).await?;
        if !submitted.staff.is_owner() {
            return Err(UiError::OwnersOnly.page(submitted.staff.lang));
        }
        Ok(OwnerSubmitted(submitted))
    }
}

/// A submitted form (`application/x-www-form-urlencoded`), fields in order.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &Bytes) -> Result<Form, UiError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(Form)
            .map_err(|_| UiError::BadForm)
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value, trimmed; `None` when absent or blank.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Every value of a field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Why a page could not be shown, as a page.
#[derive(Debug)]
pub(crate) enum UiError {
    NotFound,
    OwnersOnly,
    Csrf,
    BadForm,
    Engine(EngineError),
}

impl From<EngineError> for UiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound => UiError::NotFound,
            e => UiError::Engine(e),
        }
    }
}

impl From<bellhop_store::StoreError> for UiError {
    fn from(e: bellhop_store::StoreError) -> Self {
        EngineError::from(e).into()
    }
}

impl UiError {
    pub fn page(self, lang: Lang) -> Response {
        let (status, key, detail) = match self {
            UiError::NotFound => (StatusCode::NOT_FOUND, "error-not-found", None),
            UiError::OwnersOnly => (StatusCode::FORBIDDEN, "error-owners-only", None),
            UiError::Csrf => (StatusCode::FORBIDDEN, "error-csrf", None),
            UiError::BadForm => (StatusCode::BAD_REQUEST, "error-bad-form", None),
            UiError::Engine(EngineError::Invalid { field, message }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "error-invalid",
                Some(format!("{field}: {message}")),
            ),
            UiError::Engine(EngineError::Conflict(message)) => {
                (StatusCode::CONFLICT, "error-conflict", Some(message))
            }
            UiError::Engine(e) => {
                tracing::error!(error = %e, "a staff page failed");
                (StatusCode::SERVICE_UNAVAILABLE, "error-unavailable", None)
            }
        };
        render(
            status,
            "error.html",
            context! { lang => lang.tag(), message => i18n::tr(lang, key), detail => detail },
        )
    }
}

/// Renders a page with the security headers every staff page has.
pub(crate) fn render(status: StatusCode, template: &str, ctx: Value) -> Response {
    let html = match env().get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(template, error = %e, "a staff page did not render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                html_headers(),
                "<!DOCTYPE html><title>Error</title><p>This page could not be shown.</p>",
            )
                .into_response();
        }
    };
    (status, html_headers(), html).into_response()
}

fn html_headers() -> [(header::HeaderName, HeaderValue); 6] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
                 connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            ),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

/// A mail as rendered, as a document of its own for a frame: its inline styles and images
/// may load, nothing may run, and only our own pages may frame it.
pub(crate) fn mail_document(html: String) -> Response {
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'; sandbox",
        ),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A template rendered to text (for documents that are not staff pages).
pub(crate) fn render_to_string(template: &str, ctx: Value) -> Result<String, minijinja::Error> {
    env().get_template(template).and_then(|t| t.render(ctx))
}

/// A `303 See Other` to a page (after a form: the browser then GETs it).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Percent-encodes a query value.
pub(crate) fn url_encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s[2..].to_owned())
        .unwrap_or_default()
}

/// An instant as local date and time in a zone (`2026-12-05 10:00`).
pub(crate) fn local(ts: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    ts.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// What the user of a form should read about a change the engine refused (a field's problem);
/// any other error becomes the error page.
pub(crate) fn refusal(e: EngineError) -> Result<String, UiError> {
    match e {
        EngineError::Invalid { field, message } => Ok(format!("{field}: {message}")),
        e => Err(e.into()),
    }
}

/// Parses a path id; a malformed one is a page that does not exist.
pub(crate) fn path_id(id: &str) -> Result<Uuid, UiError> {
    Uuid::parse_str(id).map_err(|_| UiError::NotFound)
}

/// Turns a result into a page: an error becomes the error page in the user's language.
pub(crate) fn respond(lang: Lang, result: Result<Response, UiError>) -> Response {
    result.unwrap_or_else(|e| e.page(lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a template names literally: `t("key"` or `t('key'`.
    fn literal_keys(source: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for quote in ['"', '\''] {
            let opening = format!("t({quote}");
            let mut rest = source;
            while let Some(at) = rest.find(&opening) {
                let word_before = rest[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                rest = &rest[at + opening.len()..];
                if word_before {
                    continue;
                }
                let Some(end) = rest.find(quote) else { break };
                let key = &rest[..end];
                let after = rest[end + 1..].trim_start();
                // `t("status-" ~ x)` builds its key: checked through its table of values.
                if !after.starts_with('~') {
                    keys.push(key.to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn every_page_template_compiles() {
        for (name, _) in TEMPLATES {
            env()
                .get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn every_word_a_template_names_is_in_both_catalogues() {
        for (name, source) in TEMPLATES {
            for key in literal_keys(source) {
                for lang in Lang::ALL {
                    assert!(
                        i18n::has(lang, &key),
                        "{name}: {key} is missing from locales/{}.ftl",
                        lang.tag()
                    );
                }
            }
        }
    }

    #[test]
    fn built_keys_have_a_word_for_every_value() {
        let tables: [(&str, Vec<&str>); 6] = [
            (
                "status-",
                bellhop_domain::MessageStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
            ),
            (
                "booking-status-",
                bellhop_domain::booking::BookingStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
            ),
            (
                "field-",
                bellhop_domain::contact::GuestField::ALL
                    .iter()
                    .map(|f| f.as_str())
                    .collect(),
            ),
            (
                "preset-",
                bellhop_domain::presets::catalog()
                    .into_iter()
                    .map(|(_, p)| p.key)
                    .collect(),
            ),
            (
                "source-",
                bellhop_domain::consent::Source::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
            ),
            (
                "purpose-",
                bellhop_domain::consent::Purpose::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .collect(),
            ),
        ];
        for (prefix, values) in tables {
            for value in values {
                let key = format!("{prefix}{value}");
                for lang in Lang::ALL {
                    assert!(i18n::has(lang, &key), "{key} in {}", lang.tag());
                }
            }
        }
    }
}
