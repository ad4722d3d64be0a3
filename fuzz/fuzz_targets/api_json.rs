//! JSON bodies through the whole REST API (router, extractors, validation, engine, SQLite): the
//! first byte picks an endpoint, the rest is its body. No answer may be a 5xx, and every
//! refusal must be a problem document.
#![no_main]

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tower::ServiceExt;

struct World {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    key: String,
    channel_key: String,
    endpoints: Vec<(&'static str, String)>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (app, key, channel_key, endpoints) = runtime.block_on(async {
            let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
            let options = bellhop_store::StoreOptions {
                durability: bellhop_store::Durability::Normal,
                ..Default::default()
            };
            let (store, _) = bellhop_store::scratch::open(dir.path(), &options).await.unwrap();
            let clock = bellhop_engine::ManualClock::new("2026-03-01T08:00:00Z".parse().unwrap());
            let engine = bellhop_engine::Engine::new(store.clone(), std::sync::Arc::new(clock));
            let key = bellhop_web::auth::generate_key();
            let account = uuid::Uuid::now_v7();
            let now = "2026-03-01T08:00:00Z".parse().unwrap();
            let mut tx = store.begin().await.unwrap();
            tx.insert_account(account, "Fuzz", now).await.unwrap();
            tx.insert_api_key(account, "fuzz", &key.prefix, &key.secret_hash, now)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let app = bellhop_web::app(bellhop_web::AppState {
                engine: engine.clone(),
                webhook_targets: Default::default(),
                imap_targets: Default::default(),
                ui: Default::default(),
                callbacks: Default::default(),
            });
            let token = key.token.clone();
            let call = |method: &str, path: &str, body: &str| {
                let req = Request::builder()
                    .method(method)
                    .uri(path)
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_owned()))
                    .unwrap();
                let app = app.clone();
                async move {
                    let res = app.oneshot(req).await.unwrap();
                    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
                    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
                }
            };
            let property = call("POST", "/api/v1/properties", r#"{"name":"Hotel","time_zone":"Europe/Vienna","country":"AT","default_language":"de","sender_email":"info@hotel.example","sender_name":"Hotel"}"#).await["id"].as_str().unwrap().to_owned();
            let booking = call("POST", "/api/v1/bookings", &format!(r#"{{"property_id":"{property}","kind":"stay","arrival":"2026-04-01","departure":"2026-04-03","contact":{{"first_name":"Anna","email":"anna@example.com"}}}}"#)).await["booking"]["id"].as_str().unwrap().to_owned();
            let channel = call("POST", &format!("/api/v1/properties/{property}/channels"), r#"{"name":"Kanal","kind":"json"}"#).await;
            let channel_key = channel["api_key"].as_str().unwrap().to_owned();
            let endpoints = vec![
                ("POST", "/api/v1/properties".to_owned()),
                ("PUT", format!("/api/v1/properties/{property}")),
                ("POST", "/api/v1/contacts".to_owned()),
                ("POST", "/api/v1/bookings".to_owned()),
                ("PATCH", format!("/api/v1/bookings/{booking}")),
                ("POST", "/api/v1/templates".to_owned()),
                ("POST", "/api/v1/rules".to_owned()),
                ("POST", "/api/v1/sms/inspect".to_owned()),
                ("POST", format!("/api/v1/properties/{property}/mailboxes")),
                ("POST", format!("/api/v1/properties/{property}/sequences")),
                ("POST", format!("/api/v1/properties/{property}/presets")),
                ("POST", "/channel/v1/reservations".to_owned()),
            ];
            (app, key.token, channel_key, endpoints)
        });
        World {
            runtime,
            app,
            key,
            channel_key,
            endpoints,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let w = world();
    let (method, path) = &w.endpoints[usize::from(pick) % w.endpoints.len()];
    let key = if path.starts_with("/channel/") { &w.channel_key } else { &w.key };
    let req = Request::builder()
        .method(*method)
        .uri(path.as_str())
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .unwrap();
    let (status, content_type) = w.runtime.block_on(async {
        let res = w.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let _ = axum::body::to_bytes(res.into_body(), 1 << 22).await;
        (status, content_type)
    });
    assert!(!status.is_server_error(), "{method} {path}: {status}");
    if status.is_client_error() {
        assert_eq!(content_type, "application/problem+json", "{method} {path}: {status}");
    }
});
