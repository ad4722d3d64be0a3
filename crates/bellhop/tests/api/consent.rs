//! Consent through the API and through the customer's own links: the matrix and its history,
//! the consent page with double opt-in, one-click unsubscribe, and what a link that does not
//! check out (tampered, expired, another account's) is refused with.

use crate::helpers::{Api, Reply};
use axum::http::StatusCode;
use serde_json::{Value, json};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// The text part of a sent mail.
fn mail_text(dir: &tempfile::TempDir, id: &str) -> String {
    let raw = std::fs::read(dir.path().join(format!("{id}.eml"))).unwrap();
    let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
    mail.body_text(0).unwrap().into_owned()
}

/// The path of the first link under `prefix` (`/c/`, `/u/`) in a text.
fn link(text: &str, prefix: &str) -> String {
    let at = text
        .find(&format!("127.0.0.1{prefix}"))
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    let rest = &text[at + "127.0.0.1".len()..];
    rest.split_whitespace().next().unwrap().to_owned()
}

/// The value of a hidden form field in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

fn html(r: &Reply) -> &str {
    r.body.as_str().unwrap_or_default()
}

async fn contact(api: &Api, body: Value) -> String {
    let r = api.post("/api/v1/contacts", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn cell<'a>(consents: &'a Value, purpose: &str, channel: &str) -> &'a Value {
    consents["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == purpose && c["channel"] == channel)
        .unwrap()
}

#[tokio::test]
async fn a_contacts_consent_is_a_matrix_of_purposes_and_channels_with_its_history() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let anna = contact(
        &api,
        json!({"first_name": "Anna", "email": "Anna@Example.com", "phone": "+43 664 1234567"}),
    )
    .await;
    let path = format!("/api/v1/contacts/{anna}/consents");
    let fresh = api.get(&path).await;
    assert_eq!(fresh.status, StatusCode::OK, "{:?}", fresh.body);
    assert_eq!(fresh.body["matrix"].as_array().unwrap().len(), 6);
    assert!(
        fresh.body["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["state"] == "unknown" && c["deciding"].is_null())
    );

    let text = api
        .post(
            &format!("/api/v1/properties/{hotel}/consent-texts"),
            json!({"language": "de", "body": "Wir senden Ihnen Angebote per E-Mail."}),
        )
        .await;
    assert_eq!(text.status, StatusCode::CREATED, "{:?}", text.body);
    assert_eq!(text.body["version"], 1);
    let granted = api
        .post(
            &path,
            json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "online_booking",
                   "property_id": hotel, "text_id": text.body["id"], "ip": "203.0.113.9",
                   "user_agent": "Mozilla/5.0", "note": "checkbox newsletter, unticked by default"}),
        )
        .await;
    assert_eq!(granted.status, StatusCode::CREATED, "{:?}", granted.body);
    assert_eq!(granted.body["address"], "anna@example.com");
    assert_eq!(granted.body["text_version"], 1);
    assert_eq!(granted.body["text_language"], "de");
    assert!(granted.body["actor"].as_str().unwrap().starts_with("api:"));
    api.clock.advance(jiff::SignedDuration::from_hours(1));
    let withdrawn = api
        .post(
            &path,
            json!({"purpose": "marketing", "channel": "sms", "granted": false, "source": "staff"}),
        )
        .await;
    assert_eq!(
        withdrawn.status,
        StatusCode::CREATED,
        "{:?}",
        withdrawn.body
    );

    let now = api.get(&path).await.body;
    let email = cell(&now, "marketing", "email");
    assert_eq!(email["state"], "granted");
    assert_eq!(email["deciding"]["id"], granted.body["id"]);
    assert_eq!(email["deciding"]["ip"], "203.0.113.9");
    assert_eq!(cell(&now, "marketing", "sms")["state"], "withdrawn");
    assert_eq!(cell(&now, "service", "email")["state"], "unknown");
    assert_eq!(now["history"].as_array().unwrap().len(), 2);

    // A second version of the text: earlier decisions keep the version they were shown.
    let v2 = api
        .post(
            &format!("/api/v1/properties/{hotel}/consent-texts"),
            json!({"language": "de", "body": "Neue Fassung."}),
        )
        .await;
    assert_eq!(v2.body["version"], 2);
    let texts = api
        .get(&format!("/api/v1/properties/{hotel}/consent-texts"))
        .await;
    assert_eq!(texts.body.as_array().unwrap().len(), 2);
    let again = api.get(&path).await.body;
    assert_eq!(
        cell(&again, "marketing", "email")["deciding"]["text_version"],
        1
    );
}

#[tokio::test]
async fn consent_input_is_checked_field_by_field() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let email_only = contact(
        &api,
        json!({"first_name": "Otto", "email": "otto@example.com"}),
    )
    .await;
    let path = format!("/api/v1/contacts/{email_only}/consents");
    let cases = [
        (
            json!({"purpose": "newsletter", "channel": "email", "granted": true, "source": "staff"}),
            "purpose",
        ),
        (
            json!({"purpose": "marketing", "channel": "fax", "granted": true, "source": "staff"}),
            "channel",
        ),
        (
            json!({"purpose": "marketing", "channel": "email", "granted": true}),
            "source",
        ),
        (
            json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "unsubscribe_link"}),
            "source",
        ),
        (
            json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "staff", "ip": "not-an-ip"}),
            "ip",
        ),
        (
            json!({"purpose": "marketing", "channel": "sms", "granted": true, "source": "staff"}),
            "channel",
        ),
        (
            json!({"purpose": "marketing", "channel": "email", "granted": "yes", "source": "staff"}),
            "granted",
        ),
        (
            json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "staff", "colour": 1}),
            "colour",
        ),
    ];
    for (body, named) in cases {
        let r = api.post(&path, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert_eq!(r.content_type, "application/problem+json");
        let fields: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.iter().any(|f| f.contains(named)),
            "{body}: {fields:?}"
        );
    }
    assert_eq!(
        api.get(&path).await.body["history"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing recorded"
    );

    let texts = format!("/api/v1/properties/{hotel}/consent-texts");
    let long = "x".repeat(200_000);
    let r = api
        .post(&texts, json!({"language": "de", "body": long}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let mega = "x".repeat(1 << 20);
    let r = api
        .post(&texts, json!({"language": "de", "body": mega}))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = api
        .post(&texts, json!({"language": "xx-!!", "body": "Text"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(api.get(&texts).await.body.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn consents_of_another_account_cannot_be_read_or_changed() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let anna = contact(
        &api,
        json!({"first_name": "Anna", "email": "anna@example.com"}),
    )
    .await;
    let theirs = [
        ("GET", format!("/api/v1/contacts/{anna}/consents"), None),
        (
            "POST",
            format!("/api/v1/contacts/{anna}/consents"),
            Some(
                json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "staff"}),
            ),
        ),
        (
            "POST",
            format!("/api/v1/contacts/{anna}/consent-requests"),
            Some(json!({"property_id": hotel})),
        ),
        (
            "GET",
            format!("/api/v1/properties/{hotel}/consent-texts"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/properties/{hotel}/consent-texts"),
            Some(json!({"language": "en", "body": "Text"})),
        ),
    ];
    for (method, path, body) in theirs {
        let body = body.map(|b| b.to_string());
        let other = api
            .call(method, &path, Some(&api.other_key), body.as_deref(), &[])
            .await;
        assert_eq!(
            other.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            other.body
        );
    }
    let mine = api.get(&format!("/api/v1/contacts/{anna}/consents")).await;
    assert_eq!(
        mine.body["history"].as_array().unwrap().len(),
        0,
        "B changed nothing"
    );
}

#[tokio::test]
async fn the_consent_page_records_each_choice_with_evidence_and_marketing_email_waits_for_the_click()
 {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let (dir, mailer) = api.mailer();
    let anna = contact(
        &api,
        json!({"first_name": "<b>Anna</b>", "email": "anna@example.com", "phone": "+43 664 1234567", "language": "de"}),
    )
    .await;
    let asked = api
        .post(
            &format!("/api/v1/contacts/{anna}/consent-requests"),
            json!({"property_id": hotel}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{:?}", asked.body);
    assert_eq!(mailer.drain().await.unwrap().sent, 1);
    let request = mail_text(&dir, asked.body["message_id"].as_str().unwrap());
    assert!(request.contains("Einstellungen"), "{request}");
    let page_path = link(&request, "/c/");

    let page = api.call("GET", &page_path, None, None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type.starts_with("text/html"));
    let shown_page = html(&page).to_owned();
    assert!(
        shown_page.contains("&lt;b&gt;Anna&lt;/b&gt;") && !shown_page.contains("<b>Anna</b>"),
        "names are escaped"
    );
    assert!(shown_page.contains("Angebote und Neuigkeiten"));
    assert!(shown_page.contains("id=\"service-email\" aria-label=\"Service: Bestätigungen, Erinnerungen, Änderungen Ihrer Buchung E-Mail\" checked"));
    assert!(
        !shown_page.contains(
            "id=\"marketing-email\" aria-label=\"Angebote und Neuigkeiten E-Mail\" checked"
        ),
        "never pre-ticked"
    );
    assert_eq!(
        api.get(&format!("/api/v1/contacts/{anna}/consents"))
            .await
            .body["history"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "opening the page records nothing"
    );

    // Tick marketing by email and SMS, untick service SMS.
    let form = format!(
        "choice=service-email&choice=marketing-email&choice=marketing-sms&text_id={}&form_token={}",
        field(&shown_page, "text_id"),
        field(&shown_page, "form_token")
    );
    let headers = [
        FORM,
        ("user-agent", "Firefox/140"),
        ("x-forwarded-for", "198.51.100.7"),
    ];
    let saved = api.call_raw("POST", &page_path, &form, &headers).await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    assert!(html_of(&saved).contains("Bestätigung per E-Mail"));
    let consents = api
        .get(&format!("/api/v1/contacts/{anna}/consents"))
        .await
        .body;
    assert_eq!(cell(&consents, "marketing", "sms")["state"], "granted");
    assert_eq!(cell(&consents, "service", "sms")["state"], "withdrawn");
    assert_eq!(
        cell(&consents, "marketing", "email")["state"],
        "unknown",
        "not before the click"
    );
    let grant = &cell(&consents, "marketing", "sms")["deciding"];
    assert_eq!(grant["source"], "consent_page");
    assert_eq!(grant["user_agent"], "Firefox/140");
    assert_eq!(grant["evidence"]["forwarded_for"], "198.51.100.7");
    assert_eq!(grant["text_version"], 1);
    assert_eq!(grant["text_language"], "de");

    // The neutral confirmation mail; opening its link confirms nothing, the button does.
    assert_eq!(mailer.drain().await.unwrap().sent, 1);
    let messages = api
        .get(&format!("/api/v1/messages?contact_id={anna}"))
        .await
        .body;
    let confirmation = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] != asked.body["message_id"] && m["kind"] == "consent")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirm_text = mail_text(&dir, &confirmation);
    assert!(confirm_text.contains("bestätigen"), "{confirm_text}");
    let confirm_path = link(&confirm_text, "/c/confirm/");
    let shown = api.call("GET", &confirm_path, None, None, &[]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let consents = api
        .get(&format!("/api/v1/contacts/{anna}/consents"))
        .await
        .body;
    assert_eq!(cell(&consents, "marketing", "email")["state"], "unknown");
    let click = format!("form_token={}", field(html(&shown), "form_token"));
    let confirmed = api.call_raw("POST", &confirm_path, &click, &[FORM]).await;
    assert!(
        html(&confirmed).contains("id=\"confirmed\">Danke"),
        "{:?}",
        confirmed.body
    );
    let consents = api
        .get(&format!("/api/v1/contacts/{anna}/consents"))
        .await
        .body;
    let email = &cell(&consents, "marketing", "email")["deciding"];
    assert_eq!(email["granted"], true);
    assert_eq!(email["evidence"]["method"], "double_opt_in");
    assert_eq!(email["evidence"]["requested_user_agent"], "Firefox/140");
    let events = consents["history"].as_array().unwrap().len();

    // A used confirmation link, replayed, changes nothing.
    let replay = api.call_raw("POST", &confirm_path, &click, &[FORM]).await;
    assert!(
        html(&replay).contains("bereits bestätigt"),
        "{:?}",
        replay.body
    );
    let consents = api
        .get(&format!("/api/v1/contacts/{anna}/consents"))
        .await
        .body;
    assert_eq!(consents["history"].as_array().unwrap().len(), events);
}

fn html_of(r: &Reply) -> String {
    html(r).to_owned()
}

#[tokio::test]
async fn signed_links_refuse_tampering_expiry_other_accounts_and_forged_forms() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let (dir, mailer) = api.mailer();
    let anna = contact(
        &api,
        json!({"first_name": "Anna", "email": "anna@example.com", "language": "en"}),
    )
    .await;
    let asked = api
        .post(
            &format!("/api/v1/contacts/{anna}/consent-requests"),
            json!({"property_id": hotel}),
        )
        .await;
    mailer.drain().await.unwrap();
    let page_path = link(
        &mail_text(&dir, asked.body["message_id"].as_str().unwrap()),
        "/c/",
    );
    let page = api.call("GET", &page_path, None, None, &[]).await;
    assert!(
        html(&page).contains("Your preferences"),
        "in the contact's language"
    );

    // Tampered: one character changed.
    let mut tampered = page_path.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let r = api.call("GET", &tampered, None, None, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(html(&r).contains("not valid"));

    // A forged form (no token from the page, or from another site) records nothing.
    let text_id = field(html(&page), "text_id");
    let forged = format!("choice=marketing-email&text_id={text_id}&form_token=0000");
    let r = api.call_raw("POST", &page_path, &forged, &[FORM]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let good = format!(
        "choice=marketing-email&text_id={text_id}&form_token={}",
        field(html(&page), "form_token")
    );
    let r = api
        .call_raw(
            "POST",
            &page_path,
            &good,
            &[FORM, ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let consents = api
        .get(&format!("/api/v1/contacts/{anna}/consents"))
        .await
        .body;
    assert_eq!(consents["history"].as_array().unwrap().len(), 0);

    // Another account's contact under this account's property: a link bellhop never made.
    let theirs = api
        .call(
            "POST",
            "/api/v1/contacts",
            Some(&api.other_key),
            Some(&json!({"first_name": "Bert", "email": "bert@example.com"}).to_string()),
            &[],
        )
        .await;
    let subject = bellhop_engine::links::LinkSubject {
        contact: theirs.body["id"].as_str().unwrap().parse().unwrap(),
        property: hotel.parse().unwrap(),
    };
    let signer = api.engine.signer();
    let cross = bellhop_engine::links::unsubscribe_token(signer, subject);
    for method in ["GET", "POST"] {
        let r = api
            .call_raw(
                method,
                &format!("/u/{cross}"),
                "List-Unsubscribe=One-Click",
                &[FORM],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
    }
    let until = bellhop_engine::Clock::now(&api.clock) + jiff::SignedDuration::from_hours(24);
    let cross_page = bellhop_engine::links::consent_page_token(signer, subject, until);
    let r = api
        .call("GET", &format!("/c/{cross_page}"), None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Expired after 14 days.
    api.clock.advance(jiff::SignedDuration::from_hours(24 * 15));
    let r = api.call("GET", &page_path, None, None, &[]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(html(&r).contains("expired"));
}

#[tokio::test]
async fn an_unsubscribe_link_withdraws_on_post_only_and_answers_without_a_redirect() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let anna = contact(
        &api,
        json!({"first_name": "Anna", "email": "anna@example.com", "language": "de"}),
    )
    .await;
    let consents = format!("/api/v1/contacts/{anna}/consents");
    api.post(
        &consents,
        json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "staff"}),
    )
    .await;
    let token = bellhop_engine::links::unsubscribe_token(
        api.engine.signer(),
        bellhop_engine::links::LinkSubject {
            contact: anna.parse().unwrap(),
            property: hotel.parse().unwrap(),
        },
    );
    let path = format!("/u/{token}");
    let shown = api.call("GET", &path, None, None, &[]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(html(&shown).contains("id=\"unsubscribe\""));
    assert_eq!(
        cell(&api.get(&consents).await.body, "marketing", "email")["state"],
        "granted",
        "a GET changes nothing"
    );
    let wrong = api
        .call_raw("POST", &path, "List-Unsubscribe=Maybe", &[FORM])
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        cell(&api.get(&consents).await.body, "marketing", "email")["state"],
        "granted"
    );

    let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
    let r = api
        .call_raw(
            "POST",
            &path,
            multipart,
            &[("content-type", "multipart/form-data; boundary=XyZ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.headers.get("location").is_none());
    assert!(html(&r).contains("id=\"done\""));
    let now = api.get(&consents).await.body;
    let deciding = &cell(&now, "marketing", "email")["deciding"];
    assert_eq!(
        (deciding["granted"].clone(), deciding["source"].clone()),
        (json!(false), json!("unsubscribe_link"))
    );
    assert_eq!(deciding["evidence"]["method"], "one_click");
    let events = now["history"].as_array().unwrap().len();
    let again = api
        .call_raw("POST", &path, "List-Unsubscribe=One-Click", &[FORM])
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        api.get(&consents).await.body["history"]
            .as_array()
            .unwrap()
            .len(),
        events,
        "once is enough"
    );
}

#[tokio::test]
async fn a_booking_without_the_consent_its_rules_need_warns_and_the_timeline_shows_it_in_advance() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let installed = api
        .post(
            &format!("/api/v1/properties/{hotel}/presets"),
            json!({"set": "hotel"}),
        )
        .await;
    assert_eq!(installed.status, StatusCode::OK, "{:?}", installed.body);
    let booking = api
        .post(
            "/api/v1/bookings",
            json!({"property_id": hotel, "kind": "stay", "arrival": "2026-03-10", "departure": "2026-03-12",
                   "contact": {"first_name": "Anna", "email": "anna@example.com"}}),
        )
        .await;
    assert_eq!(booking.status, StatusCode::CREATED, "{:?}", booking.body);
    let consent_warnings = |body: &Value| -> Vec<Value> {
        body["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["code"] == "no_consent")
            .cloned()
            .collect()
    };
    let warned = consent_warnings(&booking.body);
    assert_eq!(warned.len(), 1, "{:?}", booking.body["warnings"]);
    assert_eq!(
        (warned[0]["purpose"].clone(), warned[0]["channel"].clone()),
        (json!("marketing"), json!("email"))
    );
    assert_eq!(warned[0]["rules"][0]["name"], "After departure");

    const TIMELINE: &str = "/api/v1/timeline?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z";
    let rows = api.get(TIMELINE).await.body;
    let after = |rows: &Value| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == "After departure")
            .cloned()
            .unwrap()
    };
    assert_eq!(
        after(&rows)["will_be_suppressed"],
        "no consent: marketing/email"
    );
    let before = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "Before arrival")
        .unwrap();
    assert!(before.get("will_be_suppressed").is_none(), "{before}");

    let contact = booking.body["booking"]["contact_id"].as_str().unwrap();
    api.post(
        &format!("/api/v1/contacts/{contact}/consents"),
        json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "staff"}),
    )
    .await;
    assert!(
        after(&api.get(TIMELINE).await.body)
            .get("will_be_suppressed")
            .is_none()
    );
    let id = booking.body["booking"]["id"].as_str().unwrap();
    let patched = api
        .call(
            "PATCH",
            &format!("/api/v1/bookings/{id}"),
            Some(&api.key),
            Some(&json!({"departure": "2026-03-13"}).to_string()),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert!(
        consent_warnings(&patched.body).is_empty(),
        "{:?}",
        patched.body
    );
    let replaced = api
        .call(
            "PUT",
            &format!("/api/v1/contacts/{contact}"),
            Some(&api.key),
            Some(&json!({"first_name": "Anna", "email": "anna.neu@example.com"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
    assert_eq!(
        consent_warnings(&replaced.body).len(),
        1,
        "a new address has no consent yet: {:?}",
        replaced.body
    );
}
