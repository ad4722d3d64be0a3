//! The AlpineBits server endpoint: HTTP Basic per connection, protocol headers, multipart
//! form fields, the handshake, GuestRequests pushes answered with `OTA_HotelResNotifRS`, and
//! every refusal answered in AlpineBits' own terms. Payment card data is never kept.

use crate::helpers::{Api, Reply};
use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::json;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../alpinebits/tests/fixtures/");
const CARD: &str = "4444333322221111";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{SAMPLES}{name}")).unwrap()
}

/// A property with an AlpineBits connection: (property, user, password).
async fn connected(api: &Api) -> (String, String, String) {
    let hotel = api.hotel().await;
    let c = api
        .post(
            &format!("/api/v1/properties/{hotel}/channels"),
            json!({"name": "Booking Südtirol", "kind": "alpinebits"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.body);
    assert!(c.body["api_key"].is_null());
    (
        hotel,
        c.body["alpinebits_user"].as_str().unwrap().to_owned(),
        c.body["alpinebits_password"].as_str().unwrap().to_owned(),
    )
}

fn multipart(action: &str, request: &str) -> String {
    format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\n{action}\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{request}\r\n--XyZ--\r\n"
    )
}

async fn alpinebits(api: &Api, user: &str, password: &str, version: &str, body: &str) -> Reply {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    api.call_raw(
        "POST",
        "/alpinebits",
        body,
        &[
            ("authorization", &format!("Basic {basic}")),
            ("x-alpinebits-clientprotocolversion", version),
            ("x-alpinebits-clientid", "test-client"),
            ("content-type", "multipart/form-data; boundary=XyZ"),
        ],
    )
    .await
}

fn text(r: &Reply) -> String {
    match &r.body {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn the_handshake_negotiates_the_intersection() {
    let api = Api::new().await;
    let (_, user, password) = connected(&api).await;
    let ping = r#"<OTA_PingRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="8.000"><EchoData>{"versions":[{"version":"2022-10","actions":[{"action":"action_OTA_Ping"},{"action":"action_OTA_HotelResNotif_GuestRequests"},{"action":"action_OTA_HotelRatePlanNotif_RatePlans"}]},{"version":"2015-07","actions":[{"action":"action_OTA_Ping"}]}]}</EchoData></OTA_PingRQ>"#;
    let r = alpinebits(
        &api,
        &user,
        &password,
        "2022-10",
        &multipart("OTA_Ping:Handshaking", ping),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let body = text(&r);
    let answer = body
        .split_once(r#"Status="ALPINEBITS_HANDSHAKE">"#)
        .and_then(|(_, rest)| rest.split_once("</Warning>"))
        .map(|(json, _)| json)
        .unwrap_or_else(|| panic!("{body}"));
    let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
    assert_eq!(
        answer,
        json!({"versions": [{"version": "2022-10", "actions": [
            {"action": "action_OTA_Ping"}, {"action": "action_OTA_HotelResNotif_GuestRequests"}]}]})
    );
    assert!(
        body.contains("<EchoData>{\"versions\""),
        "the request is echoed: {body}"
    );
}

#[tokio::test]
async fn every_public_push_sample_is_taken_and_acknowledged_without_keeping_card_data() {
    let api = Api::new().await;
    let (hotel, user, password) = connected(&api).await;
    let push = fixture("samples-2018-10/GuestRequests-OTA_HotelResNotifRQ-reservation-push.xml");
    for _ in 0..2 {
        let r = alpinebits(
            &api,
            &user,
            &password,
            "2018-10",
            &multipart("OTA_HotelResNotif:GuestRequests", &push),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
        let body = text(&r);
        assert!(
            body.contains(r#"<UniqueID Type="14" ID="6b34fe24ac2ff810"/>"#),
            "{body}"
        );
        assert!(!body.contains("<Warning"), "{body}");
        assert!(!body.contains(CARD));
    }
    let list = api
        .get(&format!("/api/v1/bookings?property_id={hotel}"))
        .await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the same push twice is one booking");
    assert_eq!(items[0]["status"], "confirmed");
    assert_eq!(items[0]["external_id"], "6b34fe24ac2ff810");
    assert_eq!(items[0]["room_category"], "bigsuite");
    assert_eq!(items[0]["source_channel"], "Booking Südtirol");
    let contact = items[0]["contact_id"].as_str().unwrap();
    let consents = api
        .get(&format!("/api/v1/contacts/{contact}/consents"))
        .await;
    assert_eq!(consents.body["history"][0]["source"], "channel");
    // The same guest's request and a later modification and cancellation.
    let modify = fixture("own/push-2022-10-modify-it.xml");
    let r = alpinebits(
        &api,
        &user,
        &password,
        "2022-10",
        &multipart("OTA_HotelResNotif:GuestRequests", &modify),
    )
    .await;
    assert!(text(&r).contains("BK-2022-IT-0001"), "{}", text(&r));
    let cancel = r#"<OTA_HotelResNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="7.000"><HotelReservations>
        <HotelReservation ResStatus="Cancelled" LastModifyDateTime="2026-11-21T08:00:00+01:00"><UniqueID Type="15" ID="BK-2022-IT-0001"/></HotelReservation>
        </HotelReservations></OTA_HotelResNotifRQ>"#;
    let r = alpinebits(
        &api,
        &user,
        &password,
        "2024-10",
        &multipart("OTA_HotelResNotif:GuestRequests", cancel),
    )
    .await;
    assert!(
        text(&r).contains(r#"Type="15" ID="BK-2022-IT-0001""#),
        "{}",
        text(&r)
    );
    let list = api
        .get(&format!(
            "/api/v1/bookings?property_id={hotel}&status=cancelled"
        ))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    // An older modification after the cancellation is refused inside a successful answer.
    let r = alpinebits(
        &api,
        &user,
        &password,
        "2022-10",
        &multipart(
            "OTA_HotelResNotif:GuestRequests",
            &modify.replace("Arriviamo", "Arriveremo"),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        text(&r).contains(r#"<Warning Type="3" Code="450" RecordID="BK-2022-IT-0001">"#),
        "{}",
        text(&r)
    );

    let rows = bellhop_store::scratch::every_row_as_text(&api.store)
        .await
        .unwrap();
    assert!(
        rows.iter().all(|row| !row.contains(CARD)),
        "card number stored"
    );
    assert!(
        rows.iter()
            .all(|row| !row.contains("PaymentCard") && !row.contains("<HotelReservation")),
        "no raw message is kept"
    );
    let channel = api.get("/api/v1/channels").await;
    assert!(
        channel.body[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("older"),
        "{:?}",
        channel.body
    );
}

#[tokio::test]
async fn every_refused_request_gets_a_precise_alpinebits_error() {
    let api = Api::new().await;
    let (_, user, password) = connected(&api).await;
    let push = fixture("samples-2018-10/GuestRequests-OTA_HotelResNotifRQ-reservation-push.xml");
    let action = "OTA_HotelResNotif:GuestRequests";

    let r = alpinebits(&api, &user, "wrong", "2018-10", &multipart(action, &push)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(text(&r).starts_with("ERROR:"), "{}", text(&r));
    let r = alpinebits(
        &api,
        &user,
        &password,
        "2012-05b",
        &multipart(action, &push),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        text(&r).contains("unsupported X-AlpineBits-ClientProtocolVersion"),
        "{}",
        text(&r)
    );
    let r = alpinebits(
        &api,
        &user,
        &password,
        "2018-10",
        &multipart("OTA_Read:GuestRequests", &push),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        text(&r).contains("unknown or unsupported action"),
        "{}",
        text(&r)
    );
    let r = alpinebits(
        &api,
        &user,
        &password,
        "2018-10",
        "--XyZ\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nx\r\n--XyZ--\r\n",
    )
    .await;
    assert!(text(&r).contains("no request field"), "{}", text(&r));

    let laughs = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><OTA_HotelResNotifRQ>&b;</OTA_HotelResNotifRQ>"#.to_owned();
    let deep = format!(
        "<OTA_HotelResNotifRQ>{}{}</OTA_HotelResNotifRQ>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let invalid = push.replace("ResStatus=\"Reserved\"", "ResStatus=\"Booked\"");
    for (xml, expected) in [
        (
            "<OTA_HotelResNotifRQ><HotelReservations>".to_owned(),
            "not well-formed",
        ),
        (invalid, "Booked"),
        (laughs, "DOCTYPE"),
        (deep, "nested"),
    ] {
        let started = std::time::Instant::now();
        let r = alpinebits(&api, &user, &password, "2018-10", &multipart(action, &xml)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
        let body = text(&r);
        assert!(
            body.contains("<OTA_HotelResNotifRS") && body.contains(r#"<Error Type="13""#),
            "{body}"
        );
        assert!(body.contains(expected), "{expected} in {body}");
        assert!(started.elapsed().as_secs() < 2);
    }
    let started = std::time::Instant::now();
    let huge = multipart(action, &"x".repeat(50 * 1024 * 1024));
    let r = alpinebits(&api, &user, &password, "2018-10", &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        text(&r).starts_with("ERROR:request larger than"),
        "{}",
        text(&r)
    );
    assert!(started.elapsed().as_secs() < 5);
    let bookings = api.get("/api/v1/bookings").await;
    assert!(bookings.body["items"].as_array().unwrap().is_empty());
}

/// A stand-in AlpineBits server on 127.0.0.1: answers `OTA_Read` with the reservations it
/// holds that were not acknowledged yet, and takes `OTA_NotifReport` acknowledgements.
struct StandIn {
    url: String,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    acked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    auth: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

async fn stand_in() -> StandIn {
    use std::sync::atomic::Ordering;
    let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let acked: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let auth: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let (r, a, h) = (reads.clone(), acked.clone(), auth.clone());
    let app = axum::Router::new().route(
        "/alpinebits",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (reads, acked, auth) = (r.clone(), a.clone(), h.clone());
            async move {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                auth.lock().unwrap().push(format!(
                    "{} {}",
                    header("authorization"),
                    header("x-alpinebits-clientprotocolversion")
                ));
                if body.contains("OTA_Read:GuestRequests") {
                    reads.fetch_add(1, Ordering::SeqCst);
                    let sample = fixture("samples-2018-10/GuestRequests-OTA_ResRetrieveRS-reservation.xml");
                    if acked.lock().unwrap().iter().any(|id| id == "6b34fe24ac2ff810") {
                        return fixture("samples-2018-10/GuestRequests-OTA_ResRetrieveRS-reservation-empty.xml");
                    }
                    return sample;
                }
                if body.contains("OTA_NotifReport:GuestRequests") {
                    let start = body.find("<?xml").unwrap();
                    let end = body.find("</OTA_NotifReportRQ>").unwrap() + "</OTA_NotifReportRQ>".len();
                    let ids = bellhop_alpinebits::read_acks(&body[start..end], &Default::default()).unwrap();
                    acked.lock().unwrap().extend(ids);
                    return r#"<OTA_NotifReportRS xmlns="http://www.opentravel.org/OTA/2003/05" Version="7.000"><Success/></OTA_NotifReportRS>"#.to_owned();
                }
                "ERROR:unknown action".to_owned()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/alpinebits", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    StandIn {
        url,
        reads,
        acked,
        auth,
    }
}

#[tokio::test]
async fn the_client_polls_a_channel_one_node_at_a_time_and_acknowledges_what_it_took() {
    use std::sync::atomic::Ordering;
    let api = Api::new().await;
    let server = stand_in().await;
    let hotel = api.hotel().await;
    let c = api
        .post(
            &format!("/api/v1/properties/{hotel}/channels"),
            json!({"name": "Südtirol pull", "kind": "alpinebits",
                   "poll": {"url": server.url, "user": "hotel-123", "password": "s3cret-pw",
                            "hotel_code": "123", "every_secs": 60}}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.body);
    assert_eq!(c.body["connection"]["poll_hotel_code"], "123");
    let rows = bellhop_store::scratch::every_row_as_text(&api.store)
        .await
        .unwrap();
    assert!(
        rows.iter().all(|r| !r.contains("s3cret-pw")),
        "the poll password is sealed"
    );

    let client = bellhop_transport::alpinebits::AlpineBitsClient::new(
        std::time::Duration::from_secs(5),
        bellhop_transport::ssrf::OutboundPolicy::anywhere(),
    )
    .unwrap();
    let (a, b) = tokio::join!(
        api.engine.poll_channels(&client, "node-a"),
        api.engine.poll_channels(&client, "node-b"),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.polled + b.polled, 1, "one node polls a channel at a time");
    assert_eq!(a.taken + b.taken, 1);
    assert_eq!(server.reads.load(Ordering::SeqCst), 1);
    assert_eq!(*server.acked.lock().unwrap(), ["6b34fe24ac2ff810"]);
    let expected = format!(
        "Basic {} 2022-10",
        base64::engine::general_purpose::STANDARD.encode("hotel-123:s3cret-pw")
    );
    assert_eq!(server.auth.lock().unwrap()[0], expected);
    let list = api
        .get(&format!("/api/v1/bookings?property_id={hotel}"))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    // Not due again until its period has passed; then nothing new.
    let again = api.engine.poll_channels(&client, "node-a").await.unwrap();
    assert_eq!(again.polled, 0);
    api.clock.advance(jiff::SignedDuration::from_secs(61));
    let later = api.engine.poll_channels(&client, "node-b").await.unwrap();
    assert_eq!((later.polled, later.taken), (1, 0));
    assert_eq!(server.reads.load(Ordering::SeqCst), 2);
    let channel = api.get("/api/v1/channels").await;
    assert!(channel.body[0]["last_activity_at"].is_string());
    assert!(
        channel.body[0]["last_error"].is_null(),
        "{:?}",
        channel.body
    );
}
