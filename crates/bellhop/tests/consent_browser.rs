//! The consent page in a real browser (headless Chromium driven through chromedriver's
//! WebDriver API), in German and English: open the link from the mail, tick, save, confirm
//! the marketing email sign-up from the second mail, and see the recorded state.

mod support;

use serde_json::json;
use support::browser::Browser;
use support::live::{Live, eventually};

/// The link under `prefix` in the newest consent mail to `contact`.
async fn link_in_mail(live: &Live, contact: &str, prefix: &str) -> String {
    eventually(
        "the consent mail",
        async || {
            let messages = live
                .api
                .get(&format!("/messages?contact_id={contact}"))
                .await;
            messages["items"].as_array()?.iter().find_map(|m| {
                let id = m["id"].as_str()?;
                let raw =
                    std::fs::read(live.dir.path().join("mail").join(format!("{id}.eml"))).ok()?;
                let mail = mail_parser::MessageParser::default().parse(&raw)?;
                let text = mail.body_text(0)?.into_owned();
                let at = text.find(&format!("{}{prefix}", live.base))?;
                Some(text[at..].split_whitespace().next()?.to_owned())
            })
        },
        String::new,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_ticks_their_consent_page_in_a_browser_in_german_and_english() {
    let live = Live::start(|_| {}).await;
    let api = &live.api;
    let hotel = api
        .post("/properties", json!({
            "name": "Hotel <Alpenblick>", "time_zone": "Europe/Vienna", "country": "AT",
            "default_language": "de", "sender_email": "info@alpenblick.example", "sender_name": "Hotel Alpenblick",
            "brand": {"color": "#7a2e3a"}
        }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::start().await;
    for (language, saved, confirmed, waiting) in [
        (
            "de",
            "Gespeichert.",
            "Danke, Ihre Anmeldung ist bestätigt.",
            "wartet auf Ihre Bestätigung",
        ),
        (
            "en",
            "Saved.",
            "Thank you, your sign-up is confirmed.",
            "waiting for your confirmation",
        ),
    ] {
        let contact = api
            .post(
                "/contacts",
                json!({"first_name": "Anna", "email": format!("anna.{language}@example.com"),
                                      "phone": format!("+43 664 12345{}", if language == "de" { 67 } else { 89 }), "language": language}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        api.post(
            &format!("/contacts/{contact}/consent-requests"),
            json!({"property_id": hotel}),
        )
        .await;
        let page = link_in_mail(&live, &contact, "/c/").await;

        browser.open(&page).await;
        let text = browser.text().await.unwrap();
        assert!(
            text.contains("Hotel <Alpenblick>"),
            "escaped, shown as written: {text}"
        );
        assert!(
            browser.ticked("#service-email").await,
            "service rests on the contract"
        );
        assert!(
            !browser.ticked("#marketing-email").await,
            "marketing is never pre-ticked"
        );
        browser.click("#marketing-email").await;
        browser.click("#marketing-sms").await;
        browser.click("#save").await;
        let text = browser.text_with(saved).await;
        assert!(text.contains(waiting), "{text}");
        assert!(
            browser.ticked("#marketing-sms").await,
            "an SMS grant counts at once: {}",
            api.get(&format!("/contacts/{contact}/consents")).await["history"]
        );
        assert!(
            !browser.ticked("#marketing-email").await,
            "email waits for the click"
        );

        let confirm = link_in_mail(&live, &contact, "/c/confirm/").await;
        browser.open(&confirm).await;
        browser.click("#confirm").await;
        browser.text_with(confirmed).await;

        browser.open(&page).await;
        assert!(
            browser.ticked("#marketing-email").await,
            "recorded after the click"
        );
        let consents = api.get(&format!("/contacts/{contact}/consents")).await;
        let state = |purpose: &str, channel: &str| {
            consents["matrix"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["purpose"] == purpose && c["channel"] == channel)
                .unwrap()["state"]
                .clone()
        };
        assert_eq!(state("marketing", "email"), "granted");
        assert_eq!(state("marketing", "sms"), "granted");
        let grant = consents["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(grant["text_language"], language);
        assert!(
            grant["user_agent"].as_str().unwrap().contains("Chrome"),
            "{grant}"
        );
    }
    drop(browser);
    live.stop().await;
}
