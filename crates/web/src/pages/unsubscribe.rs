//! `/u/{token}`: one-click unsubscribe (RFC 8058). A POST with `List-Unsubscribe=One-Click`
//! withdraws marketing email at once, without cookies or login, and answers 200 (never a
//! redirect); a GET only shows a button — mail scanners open links.

use super::{Online, page, refused};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bellhop_domain::text::escape_html;
use bellhop_engine::Unsubscribed;

fn words(language: &str) -> [&'static str; 5] {
    if language == "de" {
        [
            "Abmelden",
            "Sie erhalten keine Werbe-E-Mails von {} mehr.",
            "Keine E-Mails mit Angeboten und Neuigkeiten mehr von {} erhalten?",
            "Abmelden",
            "Buchungsbestätigungen und Erinnerungen erhalten Sie weiterhin.",
        ]
    } else {
        [
            "Unsubscribe",
            "You will no longer receive marketing emails from {}.",
            "Stop receiving emails with offers and news from {}?",
            "Unsubscribe",
            "You will still receive booking confirmations and reminders.",
        ]
    }
}

fn answer(u: &Unsubscribed, token: &str) -> Response {
    let [title, done, ask, button, service] = words(u.view.language);
    let name = escape_html(&u.view.property.name);
    let body = if u.withdrawn {
        format!(
            "<h1>{title}</h1><p class=\"note\" id=\"done\">{}</p><p>{service}</p>",
            done.replace("{}", &name)
        )
    } else {
        format!(
            "<h1>{title}</h1><p>{}</p><form method=\"post\" action=\"/u/{token}\">\
             <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <input type=\"hidden\" name=\"from\" value=\"page\">\
             <button type=\"submit\" id=\"unsubscribe\">{button}</button></form><p><small>{service}</small></p>",
            ask.replace("{}", &name),
            token = escape_html(token)
        )
    };
    page(
        StatusCode::OK,
        u.view.language,
        title,
        u.view.property.brand.color.as_deref(),
        &body,
    )
}

/// The confirmation page: who, and a button. Changes nothing.
pub async fn show(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    match s.engine.unsubscribe_page(&token).await {
        Ok(u) => answer(&u, &token),
        Err(e) => refused(e),
    }
}

/// Whether the body says `List-Unsubscribe=One-Click`, as a form (urlencoded) or multipart.
fn says_one_click(headers: &HeaderMap, body: &[u8]) -> Option<bool> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(boundary) = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
    {
        let boundary = format!("--{}", boundary.trim_matches('"'));
        let text = String::from_utf8_lossy(body);
        let found = text.split(boundary.as_str()).any(|part| {
            let Some((head, value)) = part.split_once("\r\n\r\n") else {
                return false;
            };
            head.contains("name=\"List-Unsubscribe\"") && value.trim_end() == "One-Click"
        });
        // A mail client's POST: never from the page, whose form is urlencoded.
        return found.then_some(false);
    }
    let pairs = crate::callbacks::form_urlencoded_pairs(body);
    pairs
        .iter()
        .any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click")
        .then(|| pairs.iter().any(|(k, v)| k == "from" && v == "page"))
}

/// The one-click POST (from the mail client, or the page's button).
pub async fn one_click(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    online: Online,
    body: Bytes,
) -> Response {
    let Some(from_page) = says_one_click(&headers, &body) else {
        return page(
            StatusCode::BAD_REQUEST,
            "en",
            "Unsubscribe",
            None,
            "<p>Send <code>List-Unsubscribe=One-Click</code> (RFC 8058).</p>",
        );
    };
    let method = if from_page { "page" } else { "one_click" };
    match s.engine.unsubscribe(&token, method, &online.0).await {
        Ok(u) => answer(&u, &token),
        Err(e) => refused(e),
    }
}
