//! The staff web UI in a real browser (headless Chromium through chromedriver), once in
//! German (the browser's language) and once in English (the user's setting): sign in,
//! switch on a preset after its dry run, create a booking and see its timeline, edit a
//! template and see the preview and the SMS counter, change the SMS limit, record a consent,
//! sign out. axe-core checks every main page on the way (no serious or critical violation),
//! and the English run writes the screenshots in `docs/screenshots/`.

mod support;

use serde_json::{Value, json};
use std::path::PathBuf;
use support::browser::Browser;
use support::live::Live;

const PASSWORD: &str = "front desk 2026";

/// axe-core from npm (`scripts/test` installs it; installed here when missing).
fn axe_source() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = root.join("target/axe/node_modules/axe-core/axe.min.js");
    if !file.exists() {
        let status = std::process::Command::new("npm")
            .args(["install", "--prefix"])
            .arg(root.join("target/axe"))
            .args([
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--silent",
                "axe-core@4.10.3",
            ])
            .status()
            .expect("npm is needed to fetch axe-core (scripts/test installs it)");
        assert!(status.success(), "npm install axe-core failed");
    }
    std::fs::read_to_string(file).unwrap()
}

/// Words of one language the test looks for.
struct Words {
    today: &'static str,
    rules: &'static str,
    sign_in: &'static str,
    adds_one: &'static str,
    saved: &'static str,
    planned: &'static str,
    recorded: &'static str,
    granted: &'static str,
    signed_out: &'static str,
    parts: &'static str,
    characters: &'static str,
}

const DE: Words = Words {
    today: "Heute",
    rules: "Regeln",
    sign_in: "Anmelden",
    adds_one: "fügt 1 Nachricht hinzu",
    saved: "Gespeichert.",
    planned: "Geplant",
    recorded: "Die Entscheidung ist festgehalten.",
    granted: "erteilt",
    signed_out: "Sie sind abgemeldet.",
    parts: "Teil",
    characters: "Zeichen",
};

const EN: Words = Words {
    today: "Today",
    rules: "Rules",
    sign_in: "Sign in",
    adds_one: "adds 1 message",
    saved: "Saved.",
    planned: "Planned",
    recorded: "The decision is recorded.",
    granted: "granted",
    signed_out: "You are signed out.",
    parts: "part",
    characters: "characters",
};

struct Run<'a> {
    browser: &'a Browser,
    base: String,
    axe: &'a str,
    /// Where screenshots go (the English run only).
    screenshots: Option<PathBuf>,
    checked: Vec<String>,
}

impl Run<'_> {
    async fn open(&self, path: &str) {
        self.browser.open(&format!("{}{path}", self.base)).await;
    }

    /// axe-core on the page as it is: no serious or critical violation. Then a screenshot.
    async fn check(&mut self, name: &str) {
        self.browser.script(self.axe, json!([])).await;
        let result = self
            .browser
            .script_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document)\
                    .then(r => done({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id,\
                        impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))}))\
                    .catch(e => done({passes: 0, violations: [{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]}));",
            )
            .await;
        assert!(
            result["passes"].as_u64().unwrap_or(0) >= 10,
            "{name}: axe ran its rules: {result}"
        );
        let serious: Vec<&Value> = result["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "{name}: accessibility violations {serious:#?}"
        );
        self.checked.push(name.to_owned());
        if let Some(dir) = &self.screenshots {
            let png = self.browser.screenshot().await;
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 5_000,
                "{name}: drawn"
            );
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    async fn set_value(&self, css: &str, value: &str) {
        self.browser
            .script(
                "const e = document.querySelector(arguments[0]); e.value = arguments[1];\
                 e.dispatchEvent(new Event('change', {bubbles: true}));",
                json!([css, value]),
            )
            .await;
    }

    async fn value_of(&self, css: &str) -> String {
        self.browser
            .script(
                "return document.querySelector(arguments[0]).value;",
                json!([css]),
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A hotel with one booking and an SMS template, and its owner, who reads the UI in
/// `language` (`None`: the browser's).
async fn world(language: Option<&str>) -> (Live, String, String) {
    let live = Live::start(|c| {
        // The UI under test; nothing needs sending meanwhile.
        c.role = bellhop::config::Role::Api;
    })
    .await;
    bellhop::app::create_user(
        &live.config,
        None,
        bellhop_engine::NewUser {
            email: "rezeption@alpenblick.example".into(),
            name: "Lena Rezeption".into(),
            role: bellhop_engine::Role::Owner,
            language: language.map(str::to_owned),
            password: PASSWORD.into(),
        },
        false,
    )
    .await
    .unwrap();
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
    api.post("/bookings", json!({
        "property_id": hotel, "kind": "stay", "arrival": "2026-03-05", "departure": "2026-03-08",
        "contact": {"first_name": "Greta", "last_name": "Gast", "email": "greta@example.com"}
    }))
    .await;
    let sms = api
        .post("/templates", json!({
            "property_id": hotel, "name": "SMS-Erinnerung", "channel": "sms",
            "variants": {"de": {"text": "Hallo {{ guest.first_name }}, bis bald im Hotel Alpenblick!"}}
        }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (live, hotel, sms)
}

/// The journey; `browser` are the words of the browser's language (the pages before sign-in
/// and after sign-out), `words` those of the pages in between.
async fn staff_journey(
    browser_words: &Words,
    words: &Words,
    browser_language: &str,
    user_language: Option<&str>,
    screenshots: Option<PathBuf>,
) {
    let (live, hotel, sms_template) = world(user_language).await;
    let browser = Browser::start_in(Some(browser_language)).await;
    let axe = axe_source();
    let mut run = Run {
        browser: &browser,
        base: live.base.clone(),
        axe: &axe,
        screenshots,
        checked: Vec::new(),
    };

    // Sign in: every page leads there first.
    run.open("/app/rules").await;
    browser.text_with(browser_words.sign_in).await;
    assert!(
        browser
            .url()
            .await
            .contains("/app/signin?next=%2Fapp%2Frules")
    );
    run.check("signin").await;
    browser
        .type_into("#email", "rezeption@alpenblick.example")
        .await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/app/signin'] button").await;
    browser.text_of_with("h1", words.rules).await;
    assert!(
        browser.url().await.ends_with("/app/rules"),
        "back where it was going"
    );

    // Switch on the pre-arrival preset: the dry run first, in words.
    browser
        .click(
            "form[action='/app/rules/preset']:has(input[name='key'][value='pre_arrival']) button",
        )
        .await;
    let summary = browser
        .text_of_with("#dry-run-summary", words.adds_one)
        .await;
    assert!(summary.contains(words.adds_one), "{summary}");
    run.check("rules-dry-run").await;
    browser.click("#confirm").await;
    browser.text_with(words.saved).await;
    run.check("rules").await;

    // Create a booking by hand and see its timeline.
    run.open("/app/bookings/new").await;
    run.check("booking-new").await;
    run.set_value("#n-arrival", "2026-03-25").await;
    run.set_value("#n-departure", "2026-03-28").await;
    browser.type_into("#n-first", "Jonas").await;
    browser.type_into("#n-last", "Neumann").await;
    browser.type_into("#n-email", "jonas@example.com").await;
    browser.type_into("#n-room", "Suite").await;
    browser
        .click("form[action='/app/bookings'] button[type='submit']")
        .await;
    browser.text_of_with(".timeline", words.planned).await;
    browser.text_of_with(".timeline", "Before arrival").await;
    run.check("booking").await;
    let booking_url = browser.url().await;

    run.open("/app/bookings").await;
    browser.text_with("Jonas Neumann").await;
    run.check("bookings").await;
    run.open("/app").await;
    browser.text_of_with("h1", words.today).await;
    browser.text_with("Greta").await;
    run.check("today").await;

    // The email template: the preview follows the subject as it is typed, and a mistake
    // shows the variable's name.
    let (pre_arrival, _) = bellhop_engine::preset_ids(hotel.parse().unwrap(), "pre_arrival");
    run.open(&format!("/app/templates/{pre_arrival}?lang=de"))
        .await;
    browser
        .type_into("#t-subject", "Bis bald, {{ guest.first_name }}!")
        .await;
    browser.frame(Some("#preview-frame")).await;
    browser.text_of_with("#preview-subject", "Bis bald, ").await;
    browser.frame(None).await;
    browser
        .type_into("#t-subject", "Bis bald, {{ guest.nickname }}!")
        .await;
    browser.frame(Some("#preview-frame")).await;
    browser
        .text_of_with("#preview-error", "guest.nickname")
        .await;
    browser.frame(None).await;
    browser
        .type_into("#t-subject", "Bis bald, {{ guest.first_name }}!")
        .await;
    browser.frame(Some("#preview-frame")).await;
    browser.text_of_with("#preview-subject", "Bis bald, ").await;
    browser.frame(None).await;
    run.check("template").await;
    browser
        .click("#template-form button[type='submit']:not([formaction])")
        .await;
    browser.text_with(words.saved).await;
    run.open("/app/templates").await;
    run.check("templates").await;

    // The SMS template: the counter follows the text and names what forces UCS-2.
    run.open(&format!("/app/templates/{sms_template}")).await;
    browser
        .type_into("#t-sms", "Hallo {{ guest.first_name }}, bis morgen!")
        .await;
    // "Hallo Greta, bis morgen!" (or Jonas): 24 characters, one part.
    let counter = browser
        .text_of_with("#sms-counter", &format!("24 {}", words.characters))
        .await;
    assert!(
        counter.contains(&format!("1 {}", words.parts)) && counter.contains("GSM-7"),
        "{counter}"
    );
    browser
        .type_into("#t-sms", "Hallo {{ guest.first_name }}, bis morgen! 😀")
        .await;
    let counter = browser.text_of_with("#sms-counter", "😀").await;
    assert!(counter.contains("UCS-2"), "{counter}");
    run.check("template-sms").await;

    // The SMS limit.
    run.open("/app/sms").await;
    browser.type_into("#s-limit", "300").await;
    browser.click("#sms-settings button[type='submit']").await;
    browser.text_with(words.saved).await;
    assert_eq!(run.value_of("#s-limit").await, "300");
    run.check("sms").await;
    let property = live.api.get(&format!("/properties/{hotel}")).await;
    assert_eq!(property["sms"]["monthly_limit"], 300);

    // A consent given at the desk.
    browser.open(&booking_url).await;
    browser.click("a[href^='/app/contacts/']").await;
    run.set_value("#cr-purpose", "marketing").await;
    run.set_value("#cr-channel", "email").await;
    browser
        .click("form[action$='/consent'] button[type='submit']")
        .await;
    browser.text_with(words.recorded).await;
    browser
        .text_of_with("[data-cell='marketing-email']", words.granted)
        .await;
    run.check("consent").await;

    // The other main pages.
    for (path, name) in [
        ("/app/messages", "messages"),
        ("/app/channels", "channels"),
        ("/app/mailboxes", "mailboxes"),
        ("/app/account", "account"),
        (&format!("/app/properties/{hotel}") as &str, "property"),
    ] {
        run.open(path).await;
        run.check(name).await;
    }
    run.open("/app/messages").await;
    browser.click("tbody a[href^='/app/messages/']").await;
    browser.text_with(words.planned).await;
    run.check("message").await;

    // Sign out: the session is over.
    browser.click("form.signout button").await;
    browser.text_with(browser_words.signed_out).await;
    run.open("/app").await;
    browser.text_with(browser_words.sign_in).await;
    assert!(browser.url().await.contains("/app/signin"));
    assert_eq!(run.checked.len(), 18, "{:?}", run.checked);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_through_the_ui_in_a_real_browser_in_german_and_english() {
    // German from the browser's Accept-Language; English from the user's own setting,
    // although the browser asks for German.
    staff_journey(&DE, &DE, "de-DE,de", None, None).await;
    let screenshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    staff_journey(&DE, &EN, "de-DE,de", Some("en"), Some(screenshots)).await;
}
