//! The HTTP SMS gateways against providers on loopback that speak their wire protocol: a
//! Twilio-compatible API (Messages and Calls, basic auth, idempotency token, StatusCallback
//! signed with `X-Twilio-Signature`) and a generic provider configured by URL, headers, body
//! template and an id pointer. bellhop runs for real (`app::start`); only the provider is a
//! stand-in, recording what it was sent.

mod support;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use bellhop::config::{SmsGatewayKind, VoiceGatewayKind};
use serde_json::json;
use std::sync::{Arc, Mutex};
use support::live::{Live, eventually};

#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Provider {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Status codes to answer with before answering normally.
    failures: Arc<Mutex<Vec<StatusCode>>>,
}

impl Provider {
    async fn start(self) -> String {
        async fn twilio(
            State(p): State<Provider>,
            Path((_sid, resource)): Path<(String, String)>,
            headers: HeaderMap,
            body: String,
        ) -> impl IntoResponse {
            let n = p.record(format!("/{resource}"), headers, body);
            let prefix = if resource.starts_with("Calls") {
                "CA"
            } else {
                "SM"
            };
            (
                StatusCode::CREATED,
                axum::Json(json!({"sid": format!("{prefix}{n:032}"), "status": "queued"})),
            )
        }
        async fn generic(
            State(p): State<Provider>,
            headers: HeaderMap,
            body: String,
        ) -> impl IntoResponse {
            if let Some(status) = p.failures.lock().unwrap().pop() {
                p.record("/send".into(), headers, body);
                return (status, axum::Json(json!({"error": "try later"})));
            }
            let n = p.record("/send".into(), headers, body);
            (
                StatusCode::OK,
                axum::Json(json!({"messages": [{"id": format!("gw-{n}")}]})),
            )
        }
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/{resource}", post(twilio))
            .route("/send", post(generic))
            .with_state(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    fn record(&self, path: String, headers: HeaderMap, body: String) -> usize {
        let mut seen = self.seen.lock().unwrap();
        seen.push(Seen {
            path,
            headers,
            body,
        });
        seen.len()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn form(body: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(body).unwrap()
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_compatible_sms_and_landline_calls_go_out_and_signed_callbacks_come_back() {
    let provider = Provider::default();
    let api_base = provider.clone().start().await;
    let live = Live::start(|c| {
        c.sms.gateway = SmsGatewayKind::Twilio;
        c.sms.twilio.base_url = api_base.clone();
        c.sms.twilio.account_sid = "AC0001".into();
        c.sms.twilio.auth_token = Some("twilio-secret".into());
        c.voice.gateway = VoiceGatewayKind::Twilio;
    })
    .await;
    let property = live
        .salon(json!({"sender": "+436641111111", "landline_voice": true}))
        .await;
    let (_, _, sms) = live
        .appointment(&property, "0664 1234567", "2026-03-10T09:00:00Z")
        .await;
    let (_, _, call) = live
        .appointment(&property, "01 5321234", "2026-03-10T09:00:00Z")
        .await;
    live.clock.set("2026-03-09T09:00:00Z".parse().unwrap());
    let api = &live.api;
    let sent = eventually(
        "both sent",
        async || {
            let a = api.get(&format!("/messages/{sms}")).await;
            let b = api.get(&format!("/messages/{call}")).await;
            (a["status"] == "sent" && b["status"] == "sent").then_some((a, b))
        },
        || format!("{:?}", provider.seen()),
    )
    .await;

    let seen = provider.seen();
    let message = seen
        .iter()
        .find(|s| s.path == "/Messages.json")
        .expect("an SMS request");
    let f = form(&message.body);
    assert_eq!(field(&f, "To"), "+436641234567");
    assert_eq!(field(&f, "From"), "+436641111111");
    assert!(field(&f, "Body").starts_with("Hallo Eva, morgen um 10:00 Uhr"));
    let auth = message.headers["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with("Basic "),
        "basic auth with the account SID"
    );
    assert_eq!(
        message.headers["i-twilio-idempotency-token"],
        sms.as_str(),
        "our id keys a repeat"
    );
    assert_eq!(sent.0["provider_ref"].as_str().unwrap().len(), 34);
    let callback = field(&f, "StatusCallback");
    assert!(callback.starts_with(&format!(
        "{}/callbacks/sms/twilio/status?message={sms}&token=",
        live.base
    )));

    let placed = seen
        .iter()
        .find(|s| s.path == "/Calls.json")
        .expect("a call");
    let c = form(&placed.body);
    assert_eq!(field(&c, "To"), "+4315321234");
    assert!(
        field(&c, "Twiml").contains("<Say language=\"de-DE\">Hallo Eva"),
        "{}",
        field(&c, "Twiml")
    );
    assert_eq!(sent.1["channel"], "voice");

    // Twilio calls back, signing the URL it was given and the form it posts.
    let http = reqwest::Client::new();
    let post = async |url: &str, params: Vec<(String, String)>, key: &str| {
        let signature = bellhop_transport::callbacks::twilio_signature(key, url, &params);
        http.post(url)
            .header("x-twilio-signature", signature)
            .form(&params)
            .send()
            .await
            .unwrap()
            .status()
    };
    let params = vec![
        ("MessageSid".into(), "SM1".into()),
        ("MessageStatus".into(), "delivered".into()),
    ];
    assert_eq!(
        post(&callback, params.clone(), "forged").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&callback, params, "twilio-secret").await,
        StatusCode::OK
    );
    assert_eq!(
        api.get(&format!("/messages/{sms}")).await["status"],
        "delivered"
    );
    let call_callback = field(&c, "StatusCallback");
    let params = vec![
        ("CallSid".into(), "CA1".into()),
        ("CallStatus".into(), "completed".into()),
    ];
    assert_eq!(
        post(&call_callback, params, "twilio-secret").await,
        StatusCode::OK
    );
    assert_eq!(
        api.get(&format!("/messages/{call}")).await["status"],
        "delivered"
    );

    // A STOP texted to the number arrives through Twilio's inbound webhook.
    let inbound = format!("{}/callbacks/sms/twilio/inbound", live.base);
    let params = vec![
        ("From".into(), "+436641234567".into()),
        ("To".into(), "+436641111111".into()),
        ("Body".into(), "stop".into()),
    ];
    assert_eq!(
        post(&inbound, params, "twilio-secret").await,
        StatusCode::OK
    );
    let contact = sent.0["contact_id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/contacts/{contact}/sms")).await["opted_out"],
        true
    );
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_http_provider_gets_the_templated_body_and_its_failures_are_retried_or_final() {
    let provider = Provider::default();
    // The first attempt meets a 503 (retried), the second SMS a 400 (final).
    provider
        .failures
        .lock()
        .unwrap()
        .extend([StatusCode::BAD_REQUEST, StatusCode::SERVICE_UNAVAILABLE]);
    let base = provider.clone().start().await;
    let live = Live::start(|c| {
        c.sms.gateway = SmsGatewayKind::Http;
        c.sms.http.url = format!("{base}/send");
        c.sms.http.headers.insert("Authorization".into(), "Bearer gw-key".into());
        c.sms.http.body = Some(r#"{"to": {{ to | json }}, "sender": {{ from | json }}, "message": {{ text | json }}, "unicode": {{ "true" if encoding == "UCS-2" else "false" }}, "report_url": {{ callback_url | json }}}"#.into());
        c.sms.http.id_pointer = Some("/messages/0/id".into());
    })
    .await;
    let property = live.salon(json!({"sender": "SalonAnna"})).await;
    let (_, _, first) = live
        .appointment(&property, "0664 1234567", "2026-03-10T09:00:00Z")
        .await;
    live.clock.set("2026-03-09T09:00:00Z".parse().unwrap());
    let api = &live.api;
    let deferred = eventually(
        "a 503 defers",
        async || {
            let m = api.get(&format!("/messages/{first}")).await;
            (m["status"] == "deferred").then_some(m)
        },
        || format!("{:?}", provider.seen()),
    )
    .await;
    assert!(deferred["status_reason"].as_str().unwrap().contains("503"));
    assert_eq!(deferred["status_code"], "transport_error");
    // The retry time comes; the provider now fails with a 400 (a bad request is final).
    live.clock.set("2026-03-09T10:00:00Z".parse().unwrap());
    let failed = eventually(
        "a 400 fails",
        async || {
            let m = api.get(&format!("/messages/{first}")).await;
            (m["status"] == "failed").then_some(m)
        },
        || format!("{:?}", provider.seen()),
    )
    .await;
    assert!(failed["status_reason"].as_str().unwrap().contains("400"));
    assert_eq!(failed["status_code"], "send_failed");

    let (_, _, second) = live
        .appointment(&property, "0664 7654321", "2026-03-11T09:00:00Z")
        .await;
    live.clock.set("2026-03-10T09:00:00Z".parse().unwrap());
    let sent = eventually(
        "sent",
        async || {
            let m = api.get(&format!("/messages/{second}")).await;
            (m["status"] == "sent").then_some(m)
        },
        || format!("{:?}", provider.seen()),
    )
    .await;
    assert_eq!(
        sent["provider_ref"], "gw-3",
        "the id is read from the answer"
    );
    let request = provider.seen().pop().unwrap();
    assert_eq!(request.headers["authorization"], "Bearer gw-key");
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["to"], "+436647654321");
    assert_eq!(body["sender"], "SalonAnna");
    assert_eq!(body["unicode"], false);
    assert!(body["message"].as_str().unwrap().starts_with("Hallo Eva"));
    let report = format!("{}&status=DELIVRD", body["report_url"].as_str().unwrap());
    let status = reqwest::get(&report).await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        api.get(&format!("/messages/{second}")).await["status"],
        "delivered"
    );
    let overview = api
        .get(&format!("/properties/{property}/sms/usage?month=2026-03"))
        .await;
    assert_eq!(
        (overview["parts"].as_i64(), overview["failed"].as_i64()),
        (Some(1), Some(0)),
        "{overview}"
    );
    live.stop().await;
}
