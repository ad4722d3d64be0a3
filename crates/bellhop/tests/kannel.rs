//! SMS through a real Kannel on loopback: a reminder planned over the API goes out through the
//! dispatcher to smsbox's sendsms, reaches the fake SMSC, and both delivery reports (accepted
//! by the SMSC, delivered to the phone) come back to bellhop's `dlr-url` and move the message
//! to `delivered`. An inbound STOP from the phone records an opt-out with the raw SMS.

mod support;

use bellhop::config::{Config, SmsGatewayKind};
use bellhop_engine::ManualClock;
use serde_json::json;
use std::sync::Arc;
use support::kannel::{self, Kannel};
use support::live::{Api, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_through_kannel_is_delivered_and_an_inbound_stop_opts_the_number_out() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut kannel = Kannel::start(&base);

    let mut config = Config {
        database: dir.path().join("kannel.db").display().to_string(),
        listen: format!("127.0.0.1:{port}"),
        public_url: Some(base.clone()),
        ..Config::default()
    };
    config.email.folder = dir.path().join("mail");
    config.voice.folder = dir.path().join("calls");
    config.inbound.smtp_listen = "127.0.0.1:0".into();
    config.sms.gateway = SmsGatewayKind::Kannel;
    config.sms.kannel.url = kannel.sendsms_url();
    config.sms.kannel.username = kannel::USER.into();
    config.sms.kannel.password = kannel::PASSWORD.into();
    config.sms.kannel.mo_token = Some(kannel::MO_TOKEN.into());
    config.dispatch.poll_ms = 100;
    let (_, key) = bellhop::app::create_account(&config, "Salon Anna")
        .await
        .unwrap();
    let clock = ManualClock::new("2026-03-01T08:00:00Z".parse().unwrap());
    let running = bellhop::app::start(&config, Arc::new(clock.clone()))
        .await
        .unwrap();
    let api = Api::new(&base, key);

    let property = api
        .post("/properties", json!({
            "name": "Salon Anna", "time_zone": "Europe/Vienna", "country": "AT",
            "default_language": "de", "sender_email": "termine@salon.example", "sender_name": "Salon Anna",
            "sms": {"sender": "SalonAnna"}
        }))
        .await["id"]
        .clone();
    let template = api
        .post("/templates", json!({
            "property_id": property, "name": "Erinnerung", "channel": "sms",
            "variants": {"de": {"text": "Hallo {{ guest.first_name }}, morgen um {{ booking.start_time }} Uhr: {{ booking.service }}. Ihr Salon Anna"}}
        }))
        .await;
    assert_eq!(template["sms"]["de"]["encoding"], "GSM-7");
    api.post("/rules", json!({
        "property_id": property, "name": "24 h vorher", "anchor": "start",
        "offset": {"amount": -24, "unit": "hours"}, "channel": "sms", "template_id": template["id"]
    }))
    .await;
    let booking = api
        .post(
            "/bookings",
            json!({
                "property_id": property, "kind": "appointment", "service": "Haarschnitt",
                "start": "2026-03-10T09:00:00Z", "end": "2026-03-10T10:00:00Z",
                "contact": {"first_name": "Eva", "phone": "0664 1234567"}
            }),
        )
        .await;
    let contact = booking["booking"]["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let booking_id = booking["booking"]["id"].as_str().unwrap().to_owned();
    let messages = api.get(&format!("/messages?booking_id={booking_id}")).await;
    let message = messages["items"][0]["id"].as_str().unwrap().to_owned();

    clock.set("2026-03-09T09:00:00Z".parse().unwrap());
    let logs = kannel.logs();
    let context = || {
        let mut out = String::new();
        for name in ["bb.out", "sb.out", "bearerbox.log", "smsbox.log"] {
            out.push_str(&format!(
                "--- {name}\n{}\n",
                std::fs::read_to_string(logs.join(name)).unwrap_or_default()
            ));
        }
        out
    };
    eventually(
        "the SMS at the fake SMSC",
        async || {
            kannel
                .fakesmsc_output()
                .contains("Hallo Eva, morgen um 10:00 Uhr: Haarschnitt")
                .then_some(())
        },
        || format!("{}\n{}", kannel.fakesmsc_output(), context()),
    )
    .await;
    let delivered = eventually(
        "both delivery reports",
        async || {
            let m = api.get(&format!("/messages/{message}")).await;
            (m["status"] == "delivered").then_some(m)
        },
        context,
    )
    .await;
    assert_eq!(delivered["channel"], "sms");
    assert_eq!(delivered["recipient"], "+436641234567");
    assert_eq!(delivered["parts"], 1);
    assert!(delivered["delivered_at"].is_string());
    let history = api.get(&format!("/messages/{message}/history")).await;
    let details: Vec<String> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["status"], e["detail"]))
        .collect();
    assert!(
        details.iter().any(|d| d.contains("kannel report 8")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("kannel report 1")),
        "{details:?}"
    );
    let record = api.get(&format!("/contacts/{contact}/sms")).await;
    assert_eq!(record["messages"][0]["status"], "delivered");
    assert!(
        record["messages"][0]["delivered_at"].is_string(),
        "the contact's record shows when it reached the phone"
    );
    assert_eq!(record["opted_out"], false);

    // The phone answers STOP; Kannel hands it to the MO get-url.
    kannel.start_fakesmsc(&["+436641234567 12345 text STOP"]);
    let record = eventually(
        "the opt-out",
        async || {
            let r = api.get(&format!("/contacts/{contact}/sms")).await;
            (r["opted_out"] == true).then_some(r)
        },
        context,
    )
    .await;
    let event = &record["consent_events"][0];
    assert_eq!(event["granted"], false);
    assert_eq!(event["source"], "sms_keyword");
    assert_eq!(event["evidence"]["keyword"], "STOP");
    assert!(
        event["evidence"]["inbound_id"].is_string(),
        "kept with the raw message as evidence"
    );

    running.stop().await;
}
