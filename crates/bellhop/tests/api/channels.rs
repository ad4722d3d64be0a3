//! Booking channels through the API: pushes keyed by (connection, external id) that are
//! idempotent and versioned, cart holds that lapse, cancellation only by the channel, staff
//! changes sent back as signed webhooks through the outbox, and one key per property.

use crate::helpers::{Api, Reply};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A property with presets, a confirmation rule (on entering `confirmed`) and a cancellation
/// rule, both at once; and a JSON channel connection. Returns (property, channel key,
/// connection id, webhook secret).
async fn hotel_with_channel(
    api: &Api,
    webhook_url: Option<&str>,
) -> (String, String, String, String) {
    let hotel = api.hotel().await;
    let r = api
        .post(
            &format!("/api/v1/properties/{hotel}/presets"),
            json!({"set": "hotel"}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    for (name, anchor, subject) in [
        (
            "Confirmation",
            "status_changed_to:confirmed",
            "Confirmed {{ booking.arrival }}",
        ),
        (
            "Cancellation",
            "cancelled",
            "Cancelled {{ booking.arrival }}",
        ),
    ] {
        let t = api
            .post(
                "/api/v1/templates",
                json!({"property_id": hotel, "name": name,
                   "variants": {"de": {"subject": subject, "html": "<p>Hallo {{ guest.first_name }}</p>"}}}),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{:?}", t.body);
        let r = api
            .post(
                "/api/v1/rules",
                json!({"property_id": hotel, "name": name, "anchor": anchor,
                   "offset": {"amount": 0, "unit": "minutes"}, "template_id": t.body["id"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let c = api
        .post(
            &format!("/api/v1/properties/{hotel}/channels"),
            json!({"name": "Slevomat", "kind": "json", "webhook_url": webhook_url}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.body);
    (
        hotel,
        c.body["api_key"].as_str().unwrap().to_owned(),
        c.body["connection"]["id"].as_str().unwrap().to_owned(),
        c.body["webhook_secret"].as_str().unwrap().to_owned(),
    )
}

fn reservation(id: &str, status: &str, revision: i64) -> Value {
    let mut r = json!({
        "external_id": id, "status": status, "revision": revision,
        "arrival": "2026-04-10", "departure": "2026-04-13", "language": "de",
        "guest": {"first_name": "Jana", "last_name": "Nováková", "email": "jana@example.cz"},
        "room_category": "DZ", "adults": 2, "children_ages": [6],
        "total": {"amount": "389.00", "currency": "EUR"}
    });
    if status == "confirmed" {
        r["voucher"] = json!(format!("V-{id}"));
    }
    r
}

async fn push(api: &Api, key: &str, body: &Value) -> Reply {
    api.call(
        "POST",
        "/channel/v1/reservations",
        Some(key),
        Some(&body.to_string()),
        &[],
    )
    .await
}

fn mails(dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "eml").then(|| std::fs::read_to_string(p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn subjects(dir: &std::path::Path) -> Vec<String> {
    mails(dir)
        .iter()
        .filter_map(|m| {
            m.lines()
                .find(|l| l.starts_with("Subject:"))
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn the_same_push_three_times_makes_one_booking_and_one_confirmation() {
    let api = Api::new().await;
    let (hotel, key, _, _) = hotel_with_channel(&api, None).await;
    let body = reservation("SLV-100", "confirmed", 1);
    let first = push(&api, &key, &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["outcome"], "created");
    for _ in 0..2 {
        let again = push(&api, &key, &body).await;
        assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
        assert_eq!(again.body["outcome"], "unchanged");
        assert_eq!(again.body["booking_id"], first.body["booking_id"]);
    }
    let list = api
        .get(&format!("/api/v1/bookings?property_id={hotel}"))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let booking = &list.body["items"][0];
    assert_eq!(booking["source_channel"], "Slevomat");
    assert_eq!(booking["voucher"], "V-SLV-100");
    assert_eq!(booking["price_cents"], 38900);
    assert_eq!(booking["guests"], 3);
    let (dir, mailer) = api.mailer();
    mailer.drain().await.unwrap();
    let sent = subjects(dir.path());
    assert_eq!(
        sent.iter().filter(|s| s.contains("Confirmed")).count(),
        1,
        "{sent:?}"
    );
    let found = api.get("/api/v1/bookings/by-voucher/V-SLV-100").await;
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    assert_eq!(found.body["id"], first.body["booking_id"]);
    let connection = api.get("/api/v1/channels").await;
    assert!(
        connection.body[0]["last_activity_at"].is_string(),
        "{:?}",
        connection.body
    );
}

#[tokio::test]
async fn an_older_version_is_refused_and_changes_nothing() {
    let api = Api::new().await;
    let (_, key, _, _) = hotel_with_channel(&api, None).await;
    let created = push(&api, &key, &reservation("SLV-7", "confirmed", 2)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["booking_id"].as_str().unwrap().to_owned();
    // Out of order: revision 1 arrives after revision 2.
    let mut older = reservation("SLV-7", "confirmed", 1);
    older["room_category"] = json!("EZ");
    let r = push(&api, &key, &older).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.content_type, "application/problem+json");
    // A modification, then a late copy of the version before it.
    let mut modified = reservation("SLV-7", "confirmed", 3);
    modified["departure"] = json!("2026-04-15");
    let r = push(&api, &key, &modified).await;
    assert_eq!(r.body["outcome"], "updated", "{:?}", r.body);
    let late = reservation("SLV-7", "confirmed", 2);
    let r = push(&api, &key, &late).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let booking = api.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(booking.body["departure"], "2026-04-15");
    assert_eq!(booking.body["room_category"], "DZ");
    let channels = api.get("/api/v1/channels").await;
    assert!(
        channels.body[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("older"),
        "{:?}",
        channels.body
    );
}

#[tokio::test]
async fn sixteen_concurrent_identical_pushes_make_one_booking_and_one_set_of_messages() {
    let api = Api::new().await;
    let (hotel, key, _, _) = hotel_with_channel(&api, None).await;
    let body = reservation("SLV-16", "confirmed", 1);
    let pushes = (0..16).map(|_| push(&api, &key, &body));
    let replies = futures_util::future::join_all(pushes).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert!(
        replies.iter().all(|r| r.status.is_success()),
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let list = api
        .get(&format!("/api/v1/bookings?property_id={hotel}"))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let (dir, mailer) = api.mailer();
    mailer.drain().await.unwrap();
    assert_eq!(
        subjects(dir.path())
            .iter()
            .filter(|s| s.contains("Confirmed"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_lapsed_hold_sends_nothing_and_a_hold_paid_in_time_is_confirmed_once() {
    let api = Api::new().await;
    let (hotel, key, _, _) = hotel_with_channel(&api, None).await;
    let (dir, mailer) = api.mailer();
    let unpaid = push(&api, &key, &reservation("CART-1", "pending_payment", 1)).await;
    assert_eq!(unpaid.status, StatusCode::CREATED, "{:?}", unpaid.body);
    assert_eq!(unpaid.body["status"], "pending_payment");
    let paid = push(&api, &key, &reservation("CART-2", "pending_payment", 1)).await;
    mailer.drain().await.unwrap();
    assert!(mails(dir.path()).is_empty(), "{:?}", subjects(dir.path()));

    api.clock.advance(jiff::SignedDuration::from_mins(30));
    let r = push(&api, &key, &reservation("CART-2", "confirmed", 2)).await;
    assert_eq!(r.body["outcome"], "updated", "{:?}", r.body);
    assert_eq!(r.body["booking_id"], paid.body["booking_id"]);

    api.clock.advance(jiff::SignedDuration::from_mins(31));
    assert_eq!(api.engine.expire_lapsed().await.unwrap(), 1);
    mailer.drain().await.unwrap();
    let sent = subjects(dir.path());
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("Confirmed"), "{sent:?}");
    let lapsed = api
        .get(&format!(
            "/api/v1/bookings/{}",
            unpaid.body["booking_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(lapsed.body["status"], "expired");
    let live = api
        .get(&format!(
            "/api/v1/bookings?property_id={hotel}&status=pending_payment"
        ))
        .await;
    assert!(live.body["items"].as_array().unwrap().is_empty());

    // The channel keeps sending the lapsed hold, the same and changed: it stays lapsed, and
    // staff hear of it once.
    for revision in [1, 1, 2, 3] {
        let again = push(
            &api,
            &key,
            &reservation("CART-1", "pending_payment", revision),
        )
        .await;
        assert_eq!(again.body["outcome"], "hold_lapsed", "{:?}", again.body);
    }
    let notes = api.get("/api/v1/notifications").await;
    let resent: Vec<&Value> = notes
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "channel_hold_resent")
        .collect();
    assert_eq!(resent.len(), 1, "{:?}", notes.body);
    assert!(resent[0]["text"].as_str().unwrap().contains("CART-1"));
    mailer.drain().await.unwrap();
    assert_eq!(mails(dir.path()).len(), 1);
}

#[tokio::test]
async fn only_the_channel_cancels_and_the_guest_is_told() {
    let api = Api::new().await;
    let (_, key, _, _) = hotel_with_channel(&api, None).await;
    let created = push(&api, &key, &reservation("SLV-9", "confirmed", 1)).await;
    let id = created.body["booking_id"].as_str().unwrap().to_owned();
    let r = api
        .call(
            "PATCH",
            &format!("/api/v1/bookings/{id}"),
            Some(&api.key),
            Some(r#"{"status": "cancelled"}"#),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("cancel it via Slevomat"),
        "{:?}",
        r.body
    );
    let r = api
        .call(
            "PATCH",
            &format!("/api/v1/bookings/{id}"),
            Some(&api.key),
            Some(r#"{"voucher": "FORGED"}"#),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);

    let cancel = json!({"external_id": "SLV-9", "status": "cancelled", "revision": 2});
    let r = push(&api, &key, &cancel).await;
    assert_eq!(r.body["outcome"], "updated", "{:?}", r.body);
    assert_eq!(r.body["status"], "cancelled");
    let (dir, mailer) = api.mailer();
    mailer.drain().await.unwrap();
    let sent = subjects(dir.path());
    assert!(sent.iter().any(|s| s.contains("Cancelled")), "{sent:?}");
    let booking = api.get(&format!("/api/v1/bookings/{id}")).await;
    assert_eq!(
        booking.body["arrival"], "2026-04-10",
        "a cancellation keeps the dates"
    );
    // A cancellation of a reservation never received changes nothing.
    let r = push(
        &api,
        &key,
        &json!({"external_id": "NEVER", "status": "cancelled"}),
    )
    .await;
    assert_eq!(r.body["outcome"], "ignored", "{:?}", r.body);
}

#[tokio::test]
async fn a_confirmed_reservation_without_its_voucher_is_refused() {
    let api = Api::new().await;
    let (_, key, _, _) = hotel_with_channel(&api, None).await;
    let mut body = reservation("SLV-3", "confirmed", 1);
    body.as_object_mut().unwrap().remove("voucher");
    let r = push(&api, &key, &body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "voucher");
    let bookings = api.get("/api/v1/bookings").await;
    assert!(bookings.body["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_channel_key_reaches_only_its_own_property() {
    let api = Api::new().await;
    let (_, key, connection, _) = hotel_with_channel(&api, None).await;
    let created = push(&api, &key, &reservation("SLV-1", "confirmed", 1)).await;
    let id = created.body["booking_id"].as_str().unwrap();
    // The other account sees neither the booking nor the connection.
    let r = api
        .call(
            "GET",
            &format!("/api/v1/bookings/{id}"),
            Some(&api.other_key),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .call(
            "GET",
            &format!("/api/v1/channels/{connection}"),
            Some(&api.other_key),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .call(
            "POST",
            &format!("/api/v1/channels/{connection}/revoke"),
            Some(&api.other_key),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A channel key is no account key, and an account key no channel key.
    assert_eq!(
        api.call("GET", "/api/v1/bookings", Some(&key), None, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        push(&api, &api.key, &reservation("SLV-2", "confirmed", 1))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Revoked, the key is refused; rotated, only the new one works.
    let r = api
        .post(&format!("/api/v1/channels/{connection}/revoke"), json!({}))
        .await;
    assert!(r.body["revoked_at"].is_string(), "{:?}", r.body);
    assert_eq!(
        push(&api, &key, &reservation("SLV-2", "confirmed", 1))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let rotated = api
        .post(&format!("/api/v1/channels/{connection}/rotate"), json!({}))
        .await;
    let new_key = rotated.body["api_key"].as_str().unwrap();
    assert_ne!(new_key, key);
    assert_eq!(
        push(&api, new_key, &reservation("SLV-2", "confirmed", 1))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        push(&api, &key, &reservation("SLV-3", "confirmed", 1))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // The list shows no secret.
    let list = api.get("/api/v1/channels").await.body.to_string();
    assert!(!list.contains(new_key.rsplit('_').next().unwrap()));
}

#[tokio::test]
async fn a_second_create_with_the_same_external_id_answers_409_or_upserts_when_asked() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let body = json!({"property_id": hotel, "kind": "stay", "arrival": "2026-04-01",
        "departure": "2026-04-03", "external_id": "PMS-42", "source_channel": "pms",
        "contact": {"first_name": "Eva", "email": "eva@example.com"}});
    let first = api.post("/api/v1/bookings", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let id = first.body["booking"]["id"].clone();
    let second = api.post("/api/v1/bookings", body.clone()).await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{:?}", second.body);
    assert_eq!(second.body["existing_booking_id"], id);
    let mut changed = body.clone();
    changed["departure"] = json!("2026-04-05");
    let upsert = api
        .post("/api/v1/bookings?on_conflict=update", changed)
        .await;
    assert!(upsert.status.is_success(), "{:?}", upsert.body);
    assert_eq!(upsert.body["booking"]["id"], id);
    assert_eq!(upsert.body["booking"]["departure"], "2026-04-05");
    // Another source may use the same reference.
    let mut other = body.clone();
    other["source_channel"] = json!("other");
    assert_eq!(
        api.post("/api/v1/bookings", other).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        api.get("/api/v1/bookings").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn the_newsletter_flag_becomes_a_marketing_consent_from_the_channel() {
    let api = Api::new().await;
    let (_, key, _, _) = hotel_with_channel(&api, None).await;
    let mut body = reservation("SLV-N", "confirmed", 1);
    body["newsletter"] = json!(true);
    let r = push(&api, &key, &body).await;
    let booking = api
        .get(&format!(
            "/api/v1/bookings/{}",
            r.body["booking_id"].as_str().unwrap()
        ))
        .await;
    let contact = booking.body["contact_id"].as_str().unwrap();
    let consents = api
        .get(&format!("/api/v1/contacts/{contact}/consents"))
        .await;
    let history = consents.body["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{:?}", consents.body);
    assert_eq!(history[0]["purpose"], "marketing");
    assert_eq!(history[0]["channel"], "email");
    assert_eq!(history[0]["source"], "channel");
    assert_eq!(history[0]["granted"], true);
}

/// A webhook receiver on 127.0.0.1: answers `first` to the first request and `then` after;
/// records what it got.
async fn receiver_answering(
    first: StatusCode,
    then: StatusCode,
) -> (String, Arc<Mutex<Vec<(String, String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let record = record.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let mut seen = record.lock().unwrap();
                seen.push((
                    header("bellhop-signature"),
                    header("bellhop-delivery"),
                    body,
                ));
                if seen.len() == 1 { first } else { then }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn a_staff_date_change_goes_back_as_one_signed_webhook_and_one_guest_mail() {
    let api = Api::new().await;
    let (url, seen) = receiver_answering(StatusCode::INTERNAL_SERVER_ERROR, StatusCode::OK).await;
    let (_, key, _, secret) = hotel_with_channel(&api, Some(&url)).await;
    let created = push(&api, &key, &reservation("SLV-50", "confirmed", 1)).await;
    let id = created.body["booking_id"].as_str().unwrap().to_owned();
    let (dir, mailer) = webhook_mailer(&api);
    mailer.drain().await.unwrap();
    let before = mails(dir.path()).len();
    a_date_change_of(&api, &id).await;
    mailer.drain().await.unwrap();
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the first delivery is answered 500"
    );
    // Retried with backoff until acknowledged; the guest's "booking changed" mail goes out.
    for _ in 0..6 {
        api.clock.advance(jiff::SignedDuration::from_mins(20));
        mailer.drain().await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (signature, delivery, body) in &seen {
        let signed_at: i64 = signature
            .strip_prefix("t=")
            .and_then(|s| s.split(',').next())
            .and_then(|t| t.parse().ok())
            .unwrap();
        let verify = |at| bellhop_transport::webhook::verify(&secret, signature, body, at);
        assert_eq!(verify(signed_at + 1), Ok(()), "{signature}");
        assert!(
            verify(signed_at + 3600).is_err(),
            "a replay an hour later is refused"
        );
        assert_eq!(delivery, &seen[0].1, "one delivery id across retries");
    }
    let payload: Value = serde_json::from_str(&seen[1].2).unwrap();
    assert_eq!(payload["event"], "booking.changed");
    assert_eq!(payload["external_id"], "SLV-50");
    assert_eq!(payload["after"]["arrival"], "2026-04-11");
    assert_eq!(payload["before"]["arrival"], "2026-04-10");
    let sent = subjects(dir.path());
    assert_eq!(mails(dir.path()).len(), before + 1, "{sent:?}");
    assert!(
        sent.iter().any(|s| s.contains("Ihre Buchung wurde")),
        "{sent:?}"
    );
    let history = api.get(&format!("/api/v1/messages?booking_id={id}")).await;
    let hooks: Vec<&Value> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["channel"] == "webhook")
        .collect();
    assert_eq!(hooks.len(), 1, "{:?}", history.body);
    assert_eq!(hooks[0]["status"], "sent");
}

#[tokio::test]
async fn a_replacement_reservation_plans_its_messages_once() {
    let api = Api::new().await;
    let (hotel, key, _, _) = hotel_with_channel(&api, None).await;
    let first = push(&api, &key, &reservation("ORDER-1", "confirmed", 1)).await;
    let (dir, mailer) = api.mailer();
    mailer.drain().await.unwrap();
    assert_eq!(mails(dir.path()).len(), 1);
    // Slevomat answers a date change with a new order for the new dates, closing the old.
    let mut replacement = reservation("ORDER-2", "confirmed", 1);
    replacement["replaces"] = json!("ORDER-1");
    replacement["arrival"] = json!("2026-04-20");
    replacement["departure"] = json!("2026-04-23");
    let r = push(&api, &key, &replacement).await;
    assert_eq!(r.body["outcome"], "updated", "{:?}", r.body);
    assert_eq!(r.body["booking_id"], first.body["booking_id"]);
    let closed = json!({"external_id": "ORDER-1", "status": "cancelled", "revision": 2});
    let r = push(&api, &key, &closed).await;
    assert_eq!(r.body["outcome"], "ignored", "{:?}", r.body);
    let list = api
        .get(&format!("/api/v1/bookings?property_id={hotel}"))
        .await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "confirmed");
    assert_eq!(items[0]["external_id"], "ORDER-2");
    assert_eq!(items[0]["arrival"], "2026-04-20");
    api.clock.advance(jiff::SignedDuration::from_mins(20));
    mailer.drain().await.unwrap();
    let sent = subjects(dir.path());
    assert_eq!(
        sent.iter().filter(|s| s.contains("Confirmed")).count(),
        1,
        "{sent:?}"
    );
    assert!(!sent.iter().any(|s| s.contains("Cancelled")), "{sent:?}");
}

/// A dispatcher for mails and webhooks (private targets allowed: the receiver is local).
fn webhook_mailer(api: &Api) -> (tempfile::TempDir, bellhop_engine::Dispatcher) {
    let dir = tempfile::tempdir().unwrap();
    let mailer = bellhop_engine::Dispatcher::new(
        api.store.clone(),
        bellhop_engine::Transports {
            webhook: Arc::new(
                bellhop_transport::webhook::WebhookSender::new(
                    std::time::Duration::from_secs(5),
                    bellhop_transport::ssrf::OutboundPolicy::anywhere(),
                )
                .unwrap(),
            ),
            ..bellhop_engine::Transports::email_only(Arc::new(
                bellhop_transport::EmailTransport::Folder(
                    bellhop_transport::EmlFolder::new(dir.path()).unwrap(),
                ),
            ))
        },
        Arc::new(api.clock.clone()),
        bellhop_engine::DispatchConfig::default(),
    )
    .with_signer(api.engine.signer().clone());
    (dir, mailer)
}

async fn a_date_change_of(api: &Api, id: &str) {
    let r = api
        .call(
            "PATCH",
            &format!("/api/v1/bookings/{id}"),
            Some(&api.key),
            Some(r#"{"arrival": "2026-04-11", "departure": "2026-04-14"}"#),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn a_webhook_the_channel_refuses_fails_and_staff_are_told() {
    let api = Api::new().await;
    let (url, seen) = receiver_answering(StatusCode::GONE, StatusCode::GONE).await;
    let (_, key, _, _) = hotel_with_channel(&api, Some(&url)).await;
    let created = push(&api, &key, &reservation("SLV-51", "confirmed", 1)).await;
    let id = created.body["booking_id"].as_str().unwrap().to_owned();
    let (_dir, mailer) = webhook_mailer(&api);
    a_date_change_of(&api, &id).await;
    mailer.drain().await.unwrap();
    api.clock.advance(jiff::SignedDuration::from_mins(60));
    mailer.drain().await.unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1, "a 4xx is not retried");
    let history = api.get(&format!("/api/v1/messages?booking_id={id}")).await;
    let hook = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["channel"] == "webhook")
        .cloned()
        .unwrap_or_else(|| panic!("{:?}", history.body));
    assert_eq!(hook["status"], "failed", "{hook:?}");
    assert!(
        hook["status_reason"].as_str().unwrap().contains("410"),
        "{hook:?}"
    );
    let notes = api.get("/api/v1/notifications").await;
    assert!(
        notes
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "message_failed"),
        "{:?}",
        notes.body
    );
}
