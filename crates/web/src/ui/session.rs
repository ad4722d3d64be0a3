//! Signing in and out, the password reset by emailed link, and the user's language.
//! Forms shown before sign-in carry a token bound to a cookie of the same browser (signed
//! with the installation key), so another site cannot post them.

use super::i18n::{Lang, tr};
use super::{
    Form, SESSION_COOKIE, SESSION_COOKIE_TLS, Submitted, UiError, browser_lang, cookie_value,
    render, respond, see_other, session_cookie,
};
use crate::AppState;
use crate::pages::Online;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bellhop_engine::SignInError;
use bellhop_transport::OutgoingEmail;
use bellhop_transport::callbacks::constant_time_eq;
use minijinja::context;
use rand::RngCore;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/signin", get(show_sign_in).post(sign_in))
        .route("/app/signout", post(sign_out))
        .route("/app/language", post(set_language))
        .route(
            "/app/password-reset",
            get(show_reset_request).post(reset_request),
        )
        .route("/app/password-reset/{token}", get(show_reset).post(reset))
}

const FORM_COOKIE: &str = "bellhop_form";

/// Whether this request reached us over TLS (the installation's public URL, or the proxy in
/// front saying so).
fn over_tls(s: &AppState, headers: &HeaderMap) -> bool {
    s.ui.https
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn cookie(name: &str, value: &str, max_age: Option<i64>, tls: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if tls {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

/// The browser's form nonce (new if it has none) and the token its forms carry.
fn form_token(s: &AppState, headers: &HeaderMap) -> (String, String, bool) {
    match cookie_value(headers, FORM_COOKIE).filter(|n| n.len() == 32) {
        Some(nonce) => {
            let token = s.engine.signer().sign("staff_form", &nonce);
            (nonce, token, false)
        }
        None => {
            let mut bytes = [0u8; 16];
            rand::rng().fill_bytes(&mut bytes);
            let nonce = hex::encode(bytes);
            let token = s.engine.signer().sign("staff_form", &nonce);
            (nonce, token, true)
        }
    }
}

fn form_is_ours(s: &AppState, headers: &HeaderMap, form: &Form) -> bool {
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    let Some(nonce) = cookie_value(headers, FORM_COOKIE) else {
        return false;
    };
    let expected = s.engine.signer().sign("staff_form", &nonce);
    !cross_site
        && form
            .get("form_token")
            .is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()))
}

/// A public page (before sign-in) with its form token, setting the form cookie when new.
fn public_page(
    s: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    template: &str,
    ctx: minijinja::Value,
) -> Response {
    let (nonce, token, fresh) = form_token(s, headers);
    let lang = browser_lang(headers);
    let mut response = render(
        status,
        template,
        context! { lang => lang.tag(), form_token => token, ..ctx },
    );
    if fresh {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookie(FORM_COOKIE, &nonce, None, over_tls(s, headers)),
        );
    }
    response
}

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
    done: Option<String>,
}

/// Only a path inside the UI: never another site.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/app") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/app")
        .to_owned()
}

async fn show_sign_in(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Response {
    let done = q.done.filter(|d| d == "signed-out" || d == "password-set");
    public_page(
        &s,
        &headers,
        StatusCode::OK,
        "signin.html",
        ctx! { next => safe_next(q.next.as_deref()), email => "", problem => None::<&str>, done => done },
    )
}

async fn sign_in(
    State(s): State<AppState>,
    Online(evidence): Online,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(form) = Form::parse(&body) else {
        return UiError::BadForm.page(browser_lang(&headers));
    };
    let next = safe_next(form.get("next"));
    let email = form.get("email").unwrap_or("").trim().to_owned();
    let again = |status: StatusCode, problem: &str| {
        public_page(
            &s,
            &headers,
            status,
            "signin.html",
            ctx! { next => &next, email => &email, problem => problem, done => None::<&str> },
        )
    };
    if !form_is_ours(&s, &headers, &form) {
        return again(StatusCode::FORBIDDEN, "error-csrf");
    }
    let peer = evidence.ip.unwrap_or_else(|| "unknown".to_owned());
    let password = form.get("password").unwrap_or("");
    match s.engine.sign_in(&email, password, &peer).await {
        Ok(signed_in) => {
            let mut response = see_other(&next);
            let tls = over_tls(&s, &headers);
            let name = if tls {
                SESSION_COOKIE_TLS
            } else {
                SESSION_COOKIE
            };
            response.headers_mut().append(
                header::SET_COOKIE,
                cookie(name, &signed_in.token, None, tls),
            );
            response
        }
        Err(SignInError::Wrong) => again(StatusCode::UNAUTHORIZED, "signin-wrong"),
        Err(SignInError::Throttled) => {
            let mut response = again(StatusCode::TOO_MANY_REQUESTS, "signin-throttled");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
            response
        }
        Err(SignInError::Engine(e)) => UiError::Engine(e).page(browser_lang(&headers)),
    }
}

async fn sign_out(
    State(s): State<AppState>,
    headers: HeaderMap,
    Submitted { staff, .. }: Submitted,
) -> Response {
    let result = async {
        if let Some(token) = session_cookie(&headers) {
            s.engine.sign_out(&token).await?;
        }
        let mut response = see_other("/app/signin?done=signed-out");
        let tls = over_tls(&s, &headers);
        for name in [SESSION_COOKIE, SESSION_COOKIE_TLS] {
            if name == SESSION_COOKIE_TLS && !tls {
                continue;
            }
            response
                .headers_mut()
                .append(header::SET_COOKIE, cookie(name, "", Some(0), tls));
        }
        Ok(response)
    }
    .await;
    respond(staff.lang, result)
}

async fn set_language(
    State(s): State<AppState>,
    headers: HeaderMap,
    Submitted { staff, form }: Submitted,
) -> Response {
    let result = async {
        let language = form
            .get("language")
            .and_then(Lang::parse)
            .map(|l| l.tag().to_owned());
        let user = &staff.session.user;
        s.engine
            .update_user(
                user.account_id,
                user.id,
                &user.name,
                user.role,
                language,
                false,
            )
            .await?;
        let back = headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| r.find("/app").map(|i| r[i..].to_owned()));
        Ok(see_other(&safe_next(back.as_deref())))
    }
    .await;
    respond(staff.lang, result)
}

async fn show_reset_request(State(s): State<AppState>, headers: HeaderMap) -> Response {
    public_page(
        &s,
        &headers,
        StatusCode::OK,
        "reset_request.html",
        ctx! { sent => false },
    )
}

/// Sends the link if the address is a user's; the answer is the same either way, so the
/// form does not tell who has an account.
async fn reset_request(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = browser_lang(&headers);
    let Ok(form) = Form::parse(&body) else {
        return UiError::BadForm.page(lang);
    };
    if !form_is_ours(&s, &headers, &form) {
        return UiError::Csrf.page(lang);
    }
    let email = form.get("email").unwrap_or("");
    match s.engine.request_password_reset(email).await {
        Ok(Some((user, token))) => {
            let lang = user
                .language
                .as_deref()
                .and_then(Lang::parse)
                .unwrap_or(lang);
            send_reset_mail(&s, &user, &token, lang).await;
        }
        Ok(None) => {}
        Err(e) => return UiError::Engine(e).page(lang),
    }
    public_page(
        &s,
        &headers,
        StatusCode::OK,
        "reset_request.html",
        ctx! { sent => true },
    )
}

async fn send_reset_mail(s: &AppState, user: &bellhop_engine::StaffUser, token: &str, lang: Lang) {
    let Some(mailer) = &s.ui.mailer else {
        tracing::warn!(user = %user.id, "password reset asked for, but this node sends no staff mail");
        return;
    };
    let link = format!(
        "{}/app/password-reset/{token}",
        s.ui.public_url.trim_end_matches('/')
    );
    let text = format!(
        "{}\n\n{link}\n\n{}\n",
        tr(lang, "reset-mail-body"),
        tr(lang, "reset-mail-ignore")
    );
    let html = format!(
        "<p>{}</p><p><a href=\"{link}\">{link}</a></p><p>{}</p>",
        bellhop_domain::text::escape_html(&tr(lang, "reset-mail-body")),
        bellhop_domain::text::escape_html(&tr(lang, "reset-mail-ignore")),
    );
    let mail = OutgoingEmail {
        message_id: uuid::Uuid::now_v7(),
        from_name: "bellhop".into(),
        from_email: s.ui.mail_from.clone(),
        reply_to: None,
        to_name: Some(user.name.clone()),
        to_email: user.email.clone(),
        subject: tr(lang, "reset-mail-subject"),
        html,
        text,
        date: s.engine.now(),
        unsubscribe: None,
        auto_reply: None,
    };
    if let Some(Err(e)) = mailer.send_many(&[mail]).await.into_iter().next() {
        tracing::error!(user = %user.id, error = %e, "the password reset mail was not sent");
    }
}

async fn show_reset(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    public_page(
        &s,
        &headers,
        StatusCode::OK,
        "reset_set.html",
        ctx! { token => token, problem => None::<&str> },
    )
}

async fn reset(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let lang = browser_lang(&headers);
    let Ok(form) = Form::parse(&body) else {
        return UiError::BadForm.page(lang);
    };
    if !form_is_ours(&s, &headers, &form) {
        return UiError::Csrf.page(lang);
    }
    match s
        .engine
        .reset_password(&token, form.get("password").unwrap_or(""))
        .await
    {
        Ok(()) => see_other("/app/signin?done=password-set"),
        Err(bellhop_engine::EngineError::Invalid { field, message }) => {
            let problem = if field == "token" {
                tr(lang, "reset-link-invalid")
            } else {
                format!("{}: {message}", tr(lang, "new-password"))
            };
            public_page(
                &s,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                "reset_set.html",
                ctx! { token => token, problem => problem },
            )
        }
        Err(e) => UiError::Engine(e).page(lang),
    }
    .into_response()
}
