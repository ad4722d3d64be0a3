//! `/c/{token}`: the customer's consent page — purposes × channels to tick, in their language,
//! under the property's consent text — and `/c/confirm/{token}`: the double opt-in click.

use super::{Online, form_token, from_the_page, page, refused};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bellhop_domain::consent::{Channel, Purpose};
use bellhop_domain::text::escape_html;
use bellhop_engine::{ConsentPage, ConsentSubmitted, LinkError};
use uuid::Uuid;

struct Words {
    title: &'static str,
    intro: &'static str,
    save: &'static str,
    saved: &'static str,
    confirm_sent: &'static str,
    waiting: &'static str,
    confirm_title: &'static str,
    confirm_ask: &'static str,
    confirm_button: &'static str,
    confirmed: &'static str,
    confirm_used: &'static str,
    confirm_expired: &'static str,
    purpose: &'static str,
}

fn words(language: &str) -> Words {
    if language == "de" {
        Words {
            title: "Ihre Einstellungen",
            intro: "Wählen Sie, welche Nachrichten Sie von uns erhalten und auf welchem Weg.",
            save: "Speichern",
            saved: "Gespeichert.",
            confirm_sent: "Wir haben Ihnen eine E-Mail geschickt: Ihre Anmeldung gilt, sobald Sie den Link darin bestätigen.",
            waiting: "wartet auf Ihre Bestätigung per E-Mail",
            confirm_title: "Anmeldung bestätigen",
            confirm_ask: "Bitte bestätigen Sie, dass Sie E-Mails mit Angeboten und Neuigkeiten erhalten möchten.",
            confirm_button: "Bestätigen",
            confirmed: "Danke, Ihre Anmeldung ist bestätigt.",
            confirm_used: "Diese Anmeldung wurde bereits bestätigt.",
            confirm_expired: "Dieser Bestätigungslink ist abgelaufen.",
            purpose: "Nachrichten",
        }
    } else {
        Words {
            title: "Your preferences",
            intro: "Choose which messages you receive from us, and how.",
            save: "Save",
            saved: "Saved.",
            confirm_sent: "We sent you an email: your sign-up counts once you confirm the link in it.",
            waiting: "waiting for your confirmation by email",
            confirm_title: "Confirm your sign-up",
            confirm_ask: "Please confirm that you want to receive emails with offers and news.",
            confirm_button: "Confirm",
            confirmed: "Thank you, your sign-up is confirmed.",
            confirm_used: "This sign-up was confirmed before.",
            confirm_expired: "This confirmation link has expired.",
            purpose: "Messages",
        }
    }
}

fn purpose_label(p: Purpose, language: &str) -> &'static str {
    match (p, language == "de") {
        (Purpose::Service, true) => {
            "Service: Bestätigungen, Erinnerungen, Änderungen Ihrer Buchung"
        }
        (Purpose::Service, false) => "Service: confirmations, reminders, changes to your booking",
        (Purpose::Marketing, true) => "Angebote und Neuigkeiten",
        (Purpose::Marketing, false) => "Offers and news",
        (Purpose::Personalized, true) => "Persönliche Empfehlungen nach Ihren früheren Buchungen",
        (Purpose::Personalized, false) => "Personal suggestions based on your earlier bookings",
    }
}

fn channel_label(c: Channel, language: &str) -> &'static str {
    match (c, language == "de") {
        (Channel::Email, true) => "E-Mail",
        (Channel::Email, false) => "Email",
        (Channel::Sms, _) => "SMS",
    }
}

fn render(s: &AppState, token: &str, p: &ConsentPage, done: Option<&ConsentSubmitted>) -> Response {
    let lang = p.view.language;
    let w = words(lang);
    let property = &p.view.property;
    let channels: Vec<Channel> = Channel::ALL
        .iter()
        .copied()
        .filter(|c| p.cells.iter().any(|cell| cell.channel == *c))
        .collect();
    let mut rows = String::new();
    for purpose in Purpose::ALL {
        rows.push_str(&format!(
            "<tr><td>{}</td>",
            escape_html(purpose_label(*purpose, lang))
        ));
        for channel in &channels {
            let Some(cell) = p
                .cells
                .iter()
                .find(|c| c.purpose == *purpose && c.channel == *channel)
            else {
                rows.push_str("<td class=\"ch\"></td>");
                continue;
            };
            let id = format!("{purpose}-{channel}");
            let checked = if bellhop_engine::ticked(cell, property) {
                " checked"
            } else {
                ""
            };
            let waiting = if p.waiting.contains(&(*purpose, *channel)) {
                format!("<br><small>{}</small>", w.waiting)
            } else {
                String::new()
            };
            rows.push_str(&format!(
                "<td class=\"ch\"><input type=\"checkbox\" name=\"choice\" value=\"{id}\" id=\"{id}\" \
                 aria-label=\"{} {}\"{checked}>{waiting}</td>",
                escape_html(purpose_label(*purpose, lang)),
                channel_label(*channel, lang),
            ));
        }
        rows.push_str("</tr>");
    }
    let header: String = channels
        .iter()
        .map(|c| format!("<th class=\"ch\">{}</th>", channel_label(*c, lang)))
        .collect();
    let notice = match done {
        Some(d) if !d.confirmations_sent.is_empty() => format!(
            "<p class=\"note\" id=\"saved\">{} {}</p>",
            w.saved, w.confirm_sent
        ),
        Some(_) => format!("<p class=\"note\" id=\"saved\">{}</p>", w.saved),
        None => String::new(),
    };
    let text: String = p
        .text
        .body
        .split("\n\n")
        .map(|para| format!("<p class=\"text\">{}</p>", escape_html(para)))
        .collect();
    let greeting = p
        .view
        .contact
        .first_name
        .as_deref()
        .map(|n| format!("<p>{}</p>", escape_html(n)))
        .unwrap_or_default();
    let body = format!(
        "<h1>{title} – {name}</h1>{greeting}{notice}<p>{intro}</p>\
         <form method=\"post\" action=\"/c/{token}\">\
         <table><tr><th>{purpose}</th>{header}</tr>{rows}</table>\
         <input type=\"hidden\" name=\"text_id\" value=\"{text_id}\">\
         <input type=\"hidden\" name=\"form_token\" value=\"{form}\">\
         <button type=\"submit\" id=\"save\">{save}</button></form>\
         {text}<p><small>{version}</small></p>",
        title = w.title,
        name = escape_html(&property.name),
        intro = w.intro,
        token = escape_html(token),
        purpose = w.purpose,
        text_id = p.text.id,
        form = form_token(s, token),
        save = w.save,
        version = escape_html(&format!(
            "{} {} · {}",
            if lang == "de" { "Fassung" } else { "Version" },
            p.text.version,
            p.text.language
        )),
    );
    page(
        StatusCode::OK,
        lang,
        w.title,
        property.brand.color.as_deref(),
        &body,
    )
}

/// The page: the contact's current choices, ticked where they are given.
pub async fn show(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    match s.engine.consent_page(&token).await {
        Ok(p) => render(&s, &token, &p, None),
        Err(e) => refused(e),
    }
}

fn forbidden() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "en",
        "bellhop",
        None,
        "<p lang=\"de\">Dieses Formular kam nicht von dieser Seite.</p>\
         <p lang=\"en\">This form did not come from this page.</p>",
    )
}

/// The form: what is ticked is wanted, what is not is not.
pub async fn submit(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    online: Online,
    body: Bytes,
) -> Response {
    let pairs = crate::callbacks::form_urlencoded_pairs(&body);
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if !from_the_page(&s, &token, &pairs, &headers) {
        return forbidden();
    }
    let Some(text_id) = value("text_id").and_then(|t| t.parse::<Uuid>().ok()) else {
        return forbidden();
    };
    let mut chosen = Vec::new();
    for (k, v) in &pairs {
        if k != "choice" {
            continue;
        }
        let parsed = v
            .split_once('-')
            .and_then(|(p, c)| Some((Purpose::parse(p)?, Channel::parse(c)?)));
        match parsed {
            Some(choice) => chosen.push(choice),
            None => return refused(LinkError::Invalid),
        }
    }
    let done = match s
        .engine
        .submit_consent_page(&token, &chosen, text_id, &online.0)
        .await
    {
        Ok(done) => done,
        Err(e) => return refused(e),
    };
    match s.engine.consent_page(&token).await {
        Ok(p) => render(&s, &token, &p, Some(&done)),
        Err(e) => refused(e),
    }
}

fn confirmation_page(language: &str, color: Option<&str>, body: &str) -> Response {
    page(
        StatusCode::OK,
        language,
        words(language).confirm_title,
        color,
        body,
    )
}

/// The double opt-in link: a button, so that a mail scanner opening the link confirms nothing.
pub async fn show_confirmation(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    let view = match s.engine.confirmation_page(&token).await {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    let w = words(view.language);
    confirmation_page(
        view.language,
        view.property.brand.color.as_deref(),
        &format!(
            "<h1>{} – {}</h1><p>{}</p><form method=\"post\" action=\"/c/confirm/{}\">\
             <input type=\"hidden\" name=\"form_token\" value=\"{}\">\
             <button type=\"submit\" id=\"confirm\">{}</button></form>",
            w.confirm_title,
            escape_html(&view.property.name),
            w.confirm_ask,
            escape_html(&token),
            form_token(&s, &token),
            w.confirm_button
        ),
    )
}

/// The click on the confirmation page's button.
pub async fn confirm(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    online: Online,
    body: Bytes,
) -> Response {
    let pairs = crate::callbacks::form_urlencoded_pairs(&body);
    if !from_the_page(&s, &token, &pairs, &headers) {
        return forbidden();
    }
    match s.engine.confirm_consent(&token, &online.0).await {
        Ok(c) => {
            let w = words(c.view.language);
            let said = if c.recorded {
                w.confirmed
            } else if c.expired {
                w.confirm_expired
            } else {
                w.confirm_used
            };
            confirmation_page(
                c.view.language,
                c.view.property.brand.color.as_deref(),
                &format!(
                    "<h1>{}</h1><p class=\"note\" id=\"confirmed\">{said}</p>",
                    w.confirm_title
                ),
            )
        }
        Err(e) => refused(e),
    }
}
