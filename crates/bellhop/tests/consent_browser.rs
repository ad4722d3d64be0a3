//! The consent page in a real browser (headless Chromium driven through chromedriver's
//! WebDriver API), in German and English: open the link from the mail, tick, save, confirm
//! the marketing email sign-up from the second mail, and see the recorded state.

mod support;

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::live::{Live, eventually};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver on a free port, and a WebDriver session with headless Chromium.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    async fn start() -> Browser {
        let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "chromedriver is missing: apt-get install chromium-driver (.ci/run installs it)",
            );
        let port = support::free_port();
        let driver = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = bellhop_transport::sms::http_client(Duration::from_secs(60)).unwrap();
        let base = format!("http://127.0.0.1:{port}");
        eventually(
            "chromedriver",
            async || {
                let r = http.get(format!("{base}/status")).send().await.ok()?;
                let v: Value = r.json().await.ok()?;
                (v["value"]["ready"] == true).then_some(())
            },
            String::new,
        )
        .await;
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
            }}}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        Browser {
            driver,
            http,
            session: format!("{base}/session/{session}"),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|answer| panic!("{path}: {answer}"))
    }

    /// A WebDriver command; its error (a page still loading) as `Err`.
    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        match answer["value"].get("error") {
            None => Ok(answer["value"].clone()),
            Some(_) => Err(answer),
        }
    }

    async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn ticked(&self, css: &str) -> bool {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{id}/selected"),
            None,
        )
        .await
        .as_bool()
        .unwrap()
    }

    /// The page's text once it shows `needle` (a form's answer may still be loading).
    async fn text_with(&self, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.text().await.unwrap_or_default();
            if last.contains(needle) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {needle:?}:\n{last}");
    }

    /// The page's text, unless the page is changing.
    async fn text(&self) -> Option<String> {
        let found = self
            .try_call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": "body"})),
            )
            .await
            .ok()?;
        let body = found[ELEMENT].as_str()?.to_owned();
        self.try_call(reqwest::Method::GET, &format!("/element/{body}/text"), None)
            .await
            .ok()?
            .as_str()
            .map(str::to_owned)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

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
