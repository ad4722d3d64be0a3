//! A fresh API per test: a scratch store (SQLite file, or a PostgreSQL schema), a manual clock, two accounts with keys.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use bellhop_engine::{Engine, ManualClock};
use bellhop_store::{StoreOptions, scratch};
use bellhop_web::AppState;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

pub struct Api {
    pub app: Router,
    pub engine: Engine,
    /// The engine's store, for what only a node's wiring does (a dispatcher).
    pub store: bellhop_store::Store,
    pub clock: ManualClock,
    pub key: String,
    pub other_key: String,
    /// Where the staff UI's mail goes (password reset links, test sends).
    pub staff_mail: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// The Twilio auth token the test API checks callback signatures with.
pub const TWILIO_TOKEN: &str = "twilio-test-token";
/// The token of Kannel's MO get-url.
pub const KANNEL_MO_TOKEN: &str = "mo-test-token";

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl Api {
    /// An API whose webhooks, AlpineBits servers and IMAP hosts may be anywhere (the tests'
    /// peers are on 127.0.0.1).
    pub async fn new() -> Api {
        Self::with_targets(bellhop_transport::ssrf::OutboundPolicy::anywhere()).await
    }

    /// An API whose user-named targets must be where `targets` permits.
    pub async fn with_targets(targets: bellhop_transport::ssrf::OutboundPolicy) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = scratch::open(dir.path(), &StoreOptions::default())
            .await
            .unwrap();
        let clock = ManualClock::new("2026-03-01T08:00:00Z".parse().unwrap());
        let engine = Engine::new(store.clone(), Arc::new(clock.clone()));
        let mut keys = Vec::new();
        for name in ["Hotel A", "Hotel B"] {
            let key = bellhop_web::auth::generate_key();
            let id = uuid::Uuid::now_v7();
            let mut tx = store.begin().await.unwrap();
            tx.insert_account(id, name, "2026-03-01T08:00:00Z".parse().unwrap())
                .await
                .unwrap();
            tx.insert_api_key(
                id,
                "test",
                &key.prefix,
                &key.secret_hash,
                "2026-03-01T08:00:00Z".parse().unwrap(),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            keys.push(key.token);
        }
        let app = bellhop_web::app(AppState {
            engine: engine.clone(),
            webhook_targets: targets.clone(),
            imap_targets: targets,
            ui: bellhop_web::ui::UiSettings {
                mailer: Some(Arc::new(bellhop_transport::EmailTransport::Folder(
                    bellhop_transport::EmlFolder::new(dir.path().join("staff-mail")).unwrap(),
                ))),
                mail_from: "bellhop@hotel.example".into(),
                https: false,
                public_url: "http://bellhop.test".into(),
            },
            callbacks: bellhop_web::callbacks::CallbackSettings {
                twilio_auth_token: Some(TWILIO_TOKEN.into()),
                kannel_mo_token: Some(KANNEL_MO_TOKEN.into()),
            },
        });
        Api {
            app,
            store,
            engine,
            clock,
            other_key: keys.pop().unwrap(),
            key: keys.pop().unwrap(),
            staff_mail: dir.path().join("staff-mail"),
            _dir: dir,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        if body.is_some()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            req = req.header("content-type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(
                body.map(|b| Body::from(b.to_owned()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        self.send(req).await
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(res.into_body(), 10 << 20)
            .await
            .unwrap();
        let body = match serde_json::from_slice(&bytes) {
            Ok(value) => {
                // Every JSON answer is read strictly: a key twice in one object is a bug
                // (`{"id": .., "id": ..}` once came from a flattened struct).
                let mut strict = serde_json::Deserializer::from_slice(&bytes);
                if let Err(e) = serde::de::Deserializer::deserialize_any(&mut strict, NoDuplicates)
                {
                    panic!("{status}: {e}: {}", String::from_utf8_lossy(&bytes));
                }
                value
            }
            Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        };
        Reply {
            status,
            content_type,
            body,
            headers,
        }
    }

    /// A request with a raw body and no API key (gateway callbacks).
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(body.to_owned())).unwrap();
        self.send(req).await
    }

    /// A dispatcher writing mails into a new folder, signing links as this API checks them.
    pub fn mailer(&self) -> (tempfile::TempDir, bellhop_engine::Dispatcher) {
        let dir = tempfile::tempdir().unwrap();
        let dispatcher = bellhop_engine::Dispatcher::new(
            self.store.clone(),
            bellhop_engine::Transports::email_only(Arc::new(
                bellhop_transport::EmailTransport::Folder(
                    bellhop_transport::EmlFolder::new(dir.path()).unwrap(),
                ),
            )),
            Arc::new(self.clock.clone()),
            bellhop_engine::DispatchConfig::default(),
        )
        .with_signer(self.engine.signer().clone());
        (dir, dispatcher)
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(&self.key), Some(&body.to_string()), &[])
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, Some(&self.key), None, &[]).await
    }

    /// A property in Vienna with the appointment presets' confirmation as a rule.
    pub async fn hotel(&self) -> String {
        let r = self.post("/api/v1/properties", json!({
            "name": "Hotel Schöne Aussicht", "time_zone": "Europe/Vienna", "country": "AT",
            "default_language": "de", "sender_email": "info@hotel.example", "sender_name": "Hotel Schöne Aussicht"
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn template(&self, property: &str) -> String {
        let r = self.post("/api/v1/templates", json!({
            "property_id": property, "name": "Vor Anreise",
            "variants": {"de": {"subject": "Bald: {{ booking.arrival }}, {{ guest.first_name }}", "html": "<p>Hallo {{ guest.first_name }}</p>"},
                         "en": {"subject": "Soon: {{ booking.arrival }}", "html": "<p>Hi {{ guest.first_name }}</p>"}}
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn rule(&self, property: &str, template: &str) -> Reply {
        self.post("/api/v1/rules", json!({
            "property_id": property, "name": "3 days before arrival at 10:00", "anchor": "start",
            "offset": {"amount": -3, "unit": "days"}, "time_of_day": "10:00", "template_id": template
        })).await
    }
}

/// Walks a JSON value and fails on an object with the same key twice.
struct NoDuplicates;

impl<'de> serde::de::Visitor<'de> for NoDuplicates {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
            }
            map.next_value_seed(NoDuplicates)?;
        }
        Ok(())
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for NoDuplicates {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}
