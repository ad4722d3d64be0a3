//! A running bellhop (`bellhop::app::start` on a real port) driven over HTTP, as an
//! integrator and a gateway would.

use serde_json::Value;
use std::time::{Duration, Instant};

pub struct Api {
    pub base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, key: String) -> Api {
        Api {
            base: base.to_owned(),
            key,
            // The same client the gateways use (it installs the TLS provider reqwest needs).
            http: bellhop_transport::sms::http_client(Duration::from_secs(30)).unwrap(),
        }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }
    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }
}

pub async fn eventually<T>(
    what: &str,
    mut probe: impl AsyncFnMut() -> Option<T>,
    context: impl Fn() -> String,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out: {what}\n{}",
            context()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// bellhop serving on a free port with a manual clock, configured by the test.
pub struct Live {
    pub api: Api,
    pub clock: bellhop_engine::ManualClock,
    pub running: Option<bellhop::app::Running>,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub config: bellhop::config::Config,
}

impl Live {
    /// Starts bellhop; `configure` sets the gateway. The clock stands at 2026-03-01 08:00 UTC.
    pub async fn start(configure: impl FnOnce(&mut bellhop::config::Config)) -> Live {
        Self::start_on(super::free_port(), configure).await
    }

    /// `start` on a given port (when a peer must know it first).
    pub async fn start_on(port: u16, configure: impl FnOnce(&mut bellhop::config::Config)) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let mut config = bellhop::config::Config {
            database: dir.path().join("live.db").display().to_string(),
            listen: format!("127.0.0.1:{port}"),
            public_url: Some(base.clone()),
            ..Default::default()
        };
        config.email.folder = dir.path().join("mail");
        config.sms.folder = dir.path().join("sms");
        config.voice.folder = dir.path().join("calls");
        config.dispatch.poll_ms = 100;
        config.inbound.smtp_listen = "127.0.0.1:0".into();
        configure(&mut config);
        let (_, key) = bellhop::app::create_account(&config, "Salon Anna")
            .await
            .unwrap();
        let clock = bellhop_engine::ManualClock::new("2026-03-01T08:00:00Z".parse().unwrap());
        let running = bellhop::app::start(&config, std::sync::Arc::new(clock.clone()))
            .await
            .unwrap();
        Live {
            api: Api::new(&base, key),
            clock,
            running: Some(running),
            base,
            dir,
            config,
        }
    }

    /// Stops bellhop and starts it again on the same database, port and clock (a restart).
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let running = bellhop::app::start(&self.config, std::sync::Arc::new(self.clock.clone()))
            .await
            .unwrap();
        self.running = Some(running);
    }

    /// A salon with an SMS sender and an SMS reminder 24 h before; returns the property id.
    pub async fn salon(&self, sms: Value) -> String {
        use serde_json::json;
        let property = self.api.post("/properties", json!({
            "name": "Salon Anna", "time_zone": "Europe/Vienna", "country": "AT",
            "default_language": "de", "sender_email": "termine@salon.example", "sender_name": "Salon Anna",
            "sms": sms
        })).await["id"].as_str().unwrap().to_owned();
        let template = self.api.post("/templates", json!({
            "property_id": property, "name": "Erinnerung", "channel": "sms",
            "variants": {"de": {"text": "Hallo {{ guest.first_name }}, morgen um {{ booking.start_time }} Uhr: {{ booking.service }}. Ihr Salon Anna"}}
        })).await;
        self.api.post("/rules", json!({
            "property_id": property, "name": "24 h vorher", "anchor": "start",
            "offset": {"amount": -24, "unit": "hours"}, "channel": "sms", "template_id": template["id"]
        })).await;
        property
    }

    /// An appointment for a new contact with `phone`; returns (booking, contact, message).
    pub async fn appointment(
        &self,
        property: &str,
        phone: &str,
        start: &str,
    ) -> (String, String, String) {
        use serde_json::json;
        let end: jiff::Timestamp = start.parse().unwrap();
        let end = end
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap()
            .to_string();
        let booking = self
            .api
            .post(
                "/bookings",
                json!({
                    "property_id": property, "kind": "appointment", "service": "Haarschnitt",
                    "start": start, "end": end, "contact": {"first_name": "Eva", "phone": phone}
                }),
            )
            .await;
        let id = booking["booking"]["id"].as_str().unwrap().to_owned();
        let contact = booking["booking"]["contact_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let messages = self.api.get(&format!("/messages?booking_id={id}")).await;
        let message = messages["items"][0]["id"].as_str().unwrap().to_owned();
        (id, contact, message)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}
