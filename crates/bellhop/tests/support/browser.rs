//! A WebDriver client for headless Chromium (Debian's chromium and chromium-driver): what the
//! browser tests of the consent page and the staff UI do with a page.

use super::live::eventually;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver on a free port, and a WebDriver session with headless Chromium.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    pub async fn start() -> Browser {
        Self::start_in(None).await
    }

    /// A browser whose `Accept-Language` is `accept_language` (e.g. `de-DE,de`).
    pub async fn start_in(accept_language: Option<&str>) -> Browser {
        let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "chromedriver is missing: apt-get install chromium-driver (.ci/run installs it)",
            );
        let port = super::free_port();
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
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--hide-scrollbars", "--force-device-scale-factor=1"],
                "prefs": {"intl.accept_languages": accept_language.unwrap_or("en-US,en")}
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

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|answer| panic!("{path}: {answer}"))
    }

    /// A WebDriver command; its error (a page still loading) as `Err`.
    pub async fn try_call(
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

    pub async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT].as_str().unwrap().to_owned()
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn ticked(&self, css: &str) -> bool {
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
    pub async fn text_with(&self, needle: &str) -> String {
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
    pub async fn text(&self) -> Option<String> {
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

impl Browser {
    /// Replaces the text of an input or textarea with `text`, as typed.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Runs `script`, which calls its last argument with the answer, and waits for it.
    pub async fn script_async(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// The current address.
    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The text of the first element matching `css`, once it holds `needle`.
    pub async fn text_of_with(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(found) = self
                .try_call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await
                && let Some(id) = found[ELEMENT].as_str()
                && let Ok(text) = self
                    .try_call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
                    .await
            {
                last = text.as_str().unwrap_or_default().to_owned();
                if last.contains(needle) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {needle:?}: {last:?}");
    }

    /// Switches into the frame matching `css` (`None`: back to the page).
    pub async fn frame(&self, css: Option<&str>) {
        let id = match css {
            Some(css) => {
                let element = self.element(css).await;
                json!({ ELEMENT: element })
            }
            None => Value::Null,
        };
        self.call(reqwest::Method::POST, "/frame", Some(json!({ "id": id })))
            .await;
    }

    /// A PNG of the whole page (the window grows to the page's height first).
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let height = self
            .script(
                "return Math.min(document.documentElement.scrollHeight, 4000);",
                json!([]),
            )
            .await
            .as_i64()
            .unwrap_or(900);
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1280, "height": height.max(700) + 120})),
        )
        .await;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap();
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1280, "height": 900})),
        )
        .await;
        bytes
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
