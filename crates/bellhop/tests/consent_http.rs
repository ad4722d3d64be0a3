//! One-click unsubscribe against a running bellhop (`app::start`, as `bellhop serve` runs it):
//! a real HTTP client POSTs to the `List-Unsubscribe` URL of a mail that went out, without
//! cookies or a key; the guest's next marketing mail is suppressed, their reminder still goes.
//! Then `bellhop contact export|erase` answer the guest's GDPR requests on the same database.

mod support;

use serde_json::{Value, json};
use support::live::{Live, eventually};

/// The message of the rule with id `rule` in a booking's messages.
fn of_rule<'a>(messages: &'a Value, rule: &Value) -> &'a Value {
    messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| &m["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {messages}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsubscribe_post_from_a_mail_client_stops_the_next_marketing_mail_and_not_the_reminder()
{
    let live = Live::start(|_| {}).await;
    let api = &live.api;
    let hotel = api
        .post("/properties", json!({
            "name": "Hotel Alpenblick", "time_zone": "Europe/Vienna", "country": "AT",
            "default_language": "de", "sender_email": "info@alpenblick.example", "sender_name": "Hotel Alpenblick"
        }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.post(
        &format!("/properties/{hotel}/presets"),
        json!({"presets": ["pre_arrival", "post_departure"]}),
    )
    .await;
    let rules = api.get(&format!("/rules?property_id={hotel}")).await;
    let rule = |name: &str| {
        rules
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    let (reminder, thank_you) = (rule("Before arrival"), rule("After departure"));
    let contact = api
        .post(
            "/contacts",
            json!({"first_name": "Anna", "email": "anna@example.com", "language": "de"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.post(
        &format!("/contacts/{contact}/consents"),
        json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "online_booking",
               "ip": "203.0.113.7"}),
    )
    .await;
    let book = |arrival: &str, departure: &str| {
        json!({"property_id": hotel, "kind": "stay", "arrival": arrival, "departure": departure,
               "contact_id": contact})
    };
    let first = api
        .post("/bookings", book("2026-03-05", "2026-03-07"))
        .await;
    let second = api
        .post("/bookings", book("2026-03-20", "2026-03-22"))
        .await;
    let messages_of = |booking: &Value| {
        let id = booking["booking"]["id"].as_str().unwrap().to_owned();
        async move { api.get(&format!("/messages?booking_id={id}")).await }
    };

    // Two days after the first stay, its thank-you mail goes out with a one-click link.
    live.clock.set("2026-03-09T09:01:00Z".parse().unwrap());
    let thanks_id = of_rule(&messages_of(&first).await, &thank_you)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let eml = live
        .dir
        .path()
        .join("mail")
        .join(format!("{thanks_id}.eml"));
    let raw = eventually(
        "the thank-you mail",
        async || std::fs::read(&eml).ok(),
        String::new,
    )
    .await;
    let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let header = mail
        .header_raw("List-Unsubscribe")
        .expect("List-Unsubscribe")
        .replace(['\r', '\n'], "");
    assert_eq!(
        mail.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
    let url = header
        .split(',')
        .map(|p| p.trim().trim_start_matches('<').trim_end_matches('>'))
        .find(|p| p.starts_with("http"))
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&format!("{}/u/", live.base)), "{url}");
    assert!(
        mail.body_text(0).unwrap().contains(&url),
        "a visible link in the body too"
    );

    // A scanner's GET changes nothing; the mail client's POST (no cookies, no key) does.
    // No cookies, no key, no redirects followed.
    let http = bellhop_transport::sms::http_client(std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let consents = api.get(&format!("/contacts/{contact}/consents")).await;
    assert_eq!(consents["history"].as_array().unwrap().len(), 1);
    let answer = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "no redirect");
    let consents = api.get(&format!("/contacts/{contact}/consents")).await;
    let last = consents["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["granted"].clone(), last["source"].clone()),
        (json!(false), json!("unsubscribe_link"))
    );
    assert_eq!(last["ip"], "127.0.0.1", "the address the request came from");

    // The second stay: its reminder (service) goes, its thank-you (marketing) does not.
    live.clock.set("2026-03-17T09:01:00Z".parse().unwrap());
    eventually(
        "the reminder of the second stay",
        async || {
            let m = messages_of(&second).await;
            (of_rule(&m, &reminder)["status"] == "sent").then_some(())
        },
        String::new,
    )
    .await;
    live.clock.set("2026-03-24T09:01:00Z".parse().unwrap());
    let suppressed = eventually(
        "the second thank-you, suppressed",
        async || {
            let m = messages_of(&second).await;
            let thanks = of_rule(&m, &thank_you).clone();
            (thanks["status"] == "suppressed").then_some(thanks)
        },
        String::new,
    )
    .await;
    assert_eq!(suppressed["status_reason"], "no consent: marketing/email");

    // The operator answers Anna's GDPR requests from the command line.
    let database = live.dir.path().join("live.db");
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bellhop"))
            .args(args)
            .env("BELLHOP_DATABASE", &database)
            .env("BELLHOP_LOG", "warn")
            .output()
            .unwrap()
    };
    let export = cli(&["contact", "export", &contact]);
    assert!(export.status.success(), "{export:?}");
    let exported: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(exported["contact"]["email"], "anna@example.com");
    assert_eq!(exported["bookings"].as_array().unwrap().len(), 2);
    assert!(exported["consent"]["history"].as_array().unwrap().len() >= 2);
    let refused = cli(&["contact", "erase", &contact]);
    assert!(!refused.status.success(), "erasing asks for --yes");
    let erased = cli(&["contact", "erase", &contact, "--yes"]);
    assert!(erased.status.success(), "{erased:?}");
    assert!(String::from_utf8_lossy(&erased.stdout).contains("erased"));
    let after: Value =
        serde_json::from_slice(&cli(&["contact", "export", &contact]).stdout).unwrap();
    assert!(after["contact"]["email"].is_null(), "{after}");
    live.stop().await;
}
