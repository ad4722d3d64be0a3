//! The REST API end to end (in-process router, real SQLite file).

mod alpinebits;
mod autoreply;
mod channels;
mod concurrency;
mod consent;
mod edge;
mod helpers;
mod imports;
mod isolation;
mod presets;
mod privacy;
mod sequences;
mod sms;
mod ssrf;
mod ui;

use axum::http::StatusCode;
use helpers::Api;
use serde_json::{Value, json};

fn is_problem(r: &helpers::Reply) -> bool {
    r.content_type == "application/problem+json"
        && r.body["status"].as_u64() == Some(u64::from(r.status.as_u16()))
        && r.body["title"].is_string()
}

#[tokio::test]
async fn a_booking_created_over_the_api_plans_its_reminder_at_local_time() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let template = api.template(&property).await;
    assert_eq!(
        api.rule(&property, &template).await.status,
        StatusCode::CREATED
    );
    let r = api.post("/api/v1/bookings", json!({
        "property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-03",
        "contact": {"first_name": "Jürgen", "last_name": "Größe", "email": "jg@example.com", "language": "de"}
    })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["plan"]["planned"], 1);
    let booking = r.body["booking"]["id"].as_str().unwrap().to_owned();
    let messages = api
        .get(&format!("/api/v1/messages?booking_id={booking}"))
        .await;
    assert_eq!(messages.body["items"][0]["due_at"], "2026-03-29T08:00:00Z");
    let timeline = api
        .get("/api/v1/timeline?from=2026-03-29T00:00:00Z&to=2026-03-30T00:00:00Z")
        .await;
    assert_eq!(timeline.body[0]["due_local"], "2026-03-29 10:00 CEST");

    // Moving the arrival moves the reminder; the change is in the history.
    let r = api
        .call(
            "PATCH",
            &format!("/api/v1/bookings/{booking}"),
            Some(&api.key),
            Some(r#"{"arrival": "2026-04-10", "departure": "2026-04-12"}"#),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["plan"]["moved"], 1);
    let messages = api
        .get(&format!("/api/v1/messages?booking_id={booking}"))
        .await;
    assert_eq!(messages.body["items"][0]["due_at"], "2026-04-07T08:00:00Z");
    let changes = api
        .get(&format!("/api/v1/bookings/{booking}/changes"))
        .await;
    assert_eq!(
        changes.body[1]["changes"]["schedule"][1]["arrival"],
        "2026-04-10"
    );
    // A stale If-Match is refused.
    let stale = api
        .call(
            "PATCH",
            &format!("/api/v1/bookings/{booking}"),
            Some(&api.key),
            Some(r#"{"guests": 3}"#),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(is_problem(&stale));

    // Preview renders exactly what would be sent.
    let preview = api
        .post(
            &format!("/api/v1/templates/{template}/preview"),
            json!({"booking_id": booking}),
        )
        .await;
    assert_eq!(
        preview.body["subject"], "Bald: 10.04.2026, Jürgen",
        "{:?}",
        preview.body
    );
}

#[tokio::test]
async fn bad_input_gets_problem_details_naming_the_field() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let template = api.template(&property).await;
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        ("/api/v1/bookings", "{not json".into(), StatusCode::BAD_REQUEST, "invalid JSON"),
        ("/api/v1/properties", json!({"name": "X", "time_zone": "Europe/Atlantis", "country": "AT", "sender_email": "a@b.example", "sender_name": "X"}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "time_zone"),
        ("/api/v1/properties", json!({"name": "X", "time_zone": "Europe/Vienna", "country": "AT", "sender_email": "a@b.example", "sender_name": "X", "check_in_time": "25:00"}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "check_in_time"),
        ("/api/v1/rules", json!({"property_id": property, "name": "far", "anchor": "start", "offset": {"amount": -5000, "unit": "days"}, "template_id": template}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "out of range"),
        ("/api/v1/rules", json!({"property_id": property, "name": "x", "anchor": "arrival", "offset": {"amount": -1, "unit": "days"}, "template_id": template}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "anchor"),
        ("/api/v1/rules", json!({"property_id": property, "name": "x", "anchor": "start", "offset": {"amount": -1, "unit": "hours"}, "time_of_day": "10:00", "template_id": template}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "time_of_day needs"),
        ("/api/v1/templates", json!({"property_id": property, "name": "broken", "variants": {"de": {"subject": "Hi", "html": "<p>{% if %}</p>"}}}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "syntax error"),
        ("/api/v1/bookings", json!({"property_id": property, "kind": "stay", "arrival": "2026-04-03", "departure": "2026-04-01", "contact": {"email": "x@example.com"}}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "departure"),
        ("/api/v1/bookings", json!({"property_id": property, "kind": "stay", "arrival": "2026-02-30", "departure": "2026-04-01", "contact_id": property}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "arrival"),
        ("/api/v1/bookings", json!({"property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-02", "contact": {"email": "not-an-address"}}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "contact.email"),
        ("/api/v1/contacts", json!({"first_name": "A", "shoe_size": 44}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "shoe_size"),
    ];
    for (path, body, status, needle) in cases {
        let r = api
            .call("POST", path, Some(&api.key), Some(&body), &[])
            .await;
        assert_eq!(r.status, status, "{path} {body}: {:?}", r.body);
        assert!(is_problem(&r), "{path}: {:?} {}", r.body, r.content_type);
        assert!(
            r.body.to_string().contains(needle),
            "{path} {body}: {:?} lacks {needle}",
            r.body
        );
    }
    let huge = format!("{{\"notes\": \"{}\"}}", "x".repeat(2 << 20));
    let r = api
        .call("POST", "/api/v1/bookings", Some(&api.key), Some(&huge), &[])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_template_that_loops_forever_fails_the_preview_quickly_and_crlf_cannot_reach_headers() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let r = api.post("/api/v1/templates", json!({"property_id": property, "name": "loop",
        "variants": {"de": {"subject": "Für {{ guest.first_name }}", "html": "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"}}})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let template = r.body["id"].as_str().unwrap().to_owned();
    let r = api.post("/api/v1/bookings", json!({"property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-02",
        "contact": {"first_name": "Eve\r\nBcc: victim@example.com", "email": "eve@example.com"}})).await;
    // A multi-line name is refused at the edge…
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = api.post("/api/v1/bookings", json!({"property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-02",
        "contact": {"first_name": "Eve", "email": "eve@example.com"}})).await;
    let booking = r.body["booking"]["id"].as_str().unwrap().to_owned();
    let started = std::time::Instant::now();
    let p = api
        .post(
            &format!("/api/v1/templates/{template}/preview"),
            json!({"booking_id": booking}),
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.to_string().contains("instruction budget"),
        "{:?}",
        p.body
    );
    assert!(started.elapsed().as_secs() < 2);
}

#[tokio::test]
async fn tenants_cannot_see_or_touch_each_others_records() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let template = api.template(&property).await;
    api.rule(&property, &template).await;
    let r = api.post("/api/v1/bookings", json!({"property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-03", "contact": {"email": "a@example.com"}})).await;
    let booking = r.body["booking"]["id"].as_str().unwrap().to_owned();
    let contact = r.body["booking"]["contact_id"].as_str().unwrap().to_owned();
    let message = api
        .get(&format!("/api/v1/messages?booking_id={booking}"))
        .await
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = Some(api.other_key.as_str());
    for (method, path, body) in [
        ("GET", format!("/api/v1/properties/{property}"), None),
        (
            "PUT",
            format!("/api/v1/properties/{property}"),
            Some(
                json!({"name": "x", "time_zone": "UTC", "country": "AT", "sender_email": "a@b.example", "sender_name": "x"}),
            ),
        ),
        ("GET", format!("/api/v1/bookings/{booking}"), None),
        (
            "PATCH",
            format!("/api/v1/bookings/{booking}"),
            Some(json!({"status": "cancelled"})),
        ),
        ("GET", format!("/api/v1/bookings/{booking}/changes"), None),
        ("GET", format!("/api/v1/contacts/{contact}"), None),
        (
            "PUT",
            format!("/api/v1/contacts/{contact}"),
            Some(json!({"first_name": "stolen"})),
        ),
        ("GET", format!("/api/v1/templates/{template}"), None),
        ("GET", format!("/api/v1/messages/{message}"), None),
        ("GET", format!("/api/v1/messages/{message}/history"), None),
        ("POST", format!("/api/v1/messages/{message}/cancel"), None),
        ("POST", format!("/api/v1/messages/{message}/send-now"), None),
    ] {
        let body = body.map(|b| b.to_string());
        let r = api.call(method, &path, other, body.as_deref(), &[]).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            r.body
        );
    }
    // Creating a booking in another account's property is refused too.
    let r = api.call("POST", "/api/v1/bookings", other, Some(&json!({"property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-03", "contact": {"email": "b@example.com"}}).to_string()), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Lists are empty for the other account, and nothing changed for the owner.
    assert_eq!(
        api.call("GET", "/api/v1/bookings", other, None, &[])
            .await
            .body["items"],
        json!([])
    );
    assert_eq!(
        api.get(&format!("/api/v1/bookings/{booking}")).await.body["status"],
        "confirmed"
    );
    assert_eq!(
        api.get(&format!("/api/v1/messages/{message}")).await.body["status"],
        "planned"
    );
}

#[tokio::test]
async fn requests_without_a_valid_key_are_refused() {
    let api = Api::new().await;
    for key in [
        None,
        Some("nope"),
        Some("bh_000000000000_00000000000000000000000000000000"),
    ] {
        let r = api.call("GET", "/api/v1/bookings", key, None, &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
        assert!(is_problem(&r));
    }
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response_and_creates_once() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let body = json!({"property_id": property, "kind": "appointment", "start": "2026-04-01T08:00:00Z", "end": "2026-04-01T09:00:00Z", "contact": {"email": "i@example.com"}}).to_string();
    let headers = [("idempotency-key", "order-4711")];
    let first = api
        .call(
            "POST",
            "/api/v1/bookings",
            Some(&api.key),
            Some(&body),
            &headers,
        )
        .await;
    let second = api
        .call(
            "POST",
            "/api/v1/bookings",
            Some(&api.key),
            Some(&body),
            &headers,
        )
        .await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_eq!(first.body, second.body);
    assert_eq!(second.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        api.get("/api/v1/bookings").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let other_body = body.replace("i@example.com", "j@example.com");
    let third = api
        .call(
            "POST",
            "/api/v1/bookings",
            Some(&api.key),
            Some(&other_body),
            &headers,
        )
        .await;
    assert_eq!(third.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Concurrent identical requests: still one booking.
    let many: Vec<_> = (0..16)
        .map(|_| {
            api.call(
                "POST",
                "/api/v1/bookings",
                Some(&api.key),
                Some(&body),
                &[("idempotency-key", "burst")],
            )
        })
        .collect();
    let replies = futures_util::future::join_all(many).await;
    assert!(
        replies.iter().all(|r| r.status == StatusCode::CREATED),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
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
async fn the_rule_dry_run_counts_what_a_change_would_move() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let template = api.template(&property).await;
    let rule = api.rule(&property, &template).await.body["rule"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for day in ["2026-04-01", "2026-04-05"] {
        api.post("/api/v1/bookings", json!({"property_id": property, "kind": "stay", "arrival": day, "departure": "2026-04-09", "contact": {"email": "d@example.com"}})).await;
    }
    let r = api.post("/api/v1/rules/dry-run", json!({"rule_id": rule, "rule": {"property_id": property, "name": "2 days", "anchor": "start",
        "offset": {"amount": -2, "unit": "days"}, "time_of_day": "09:00", "template_id": template}})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (r.body["bookings"].as_u64(), r.body["move"].as_u64()),
        (Some(2), Some(2))
    );
    // Nothing was saved.
    let m = api.get("/api/v1/messages").await;
    assert_eq!(m.body["items"][0]["due_at"], "2026-03-29T08:00:00Z");
}

#[tokio::test]
async fn the_openapi_document_lists_every_resource() {
    let api = Api::new().await;
    let r = api
        .call("GET", "/api/v1/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/bookings",
        "/api/v1/bookings/{id}",
        "/api/v1/rules/dry-run",
        "/api/v1/templates/{id}/preview",
        "/api/v1/timeline",
        "/api/v1/messages/{id}/cancel",
        "/api/v1/sms/inspect",
        "/api/v1/sms/tans",
        "/api/v1/sms/tans/{id}/verify",
        "/api/v1/sms/campaigns",
        "/api/v1/properties/{id}/sms/usage",
        "/api/v1/contacts/{id}/sms",
        "/api/v1/contacts/{id}/sms/consent",
    ] {
        assert!(r.body["paths"].get(path).is_some(), "{path}");
    }
    assert_eq!(
        api.call("GET", "/healthz", None, None, &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.call("GET", "/readyz", None, None, &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn staff_can_cancel_a_planned_message_for_good_or_send_one_now() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let template = api.template(&property).await;
    api.rule(&property, &template).await;
    let mut messages = Vec::new();
    for email in ["c1@example.com", "c2@example.com"] {
        let r = api.post("/api/v1/bookings", json!({"property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-03", "contact": {"email": email, "first_name": "C"}})).await;
        let booking = r.body["booking"]["id"].as_str().unwrap().to_owned();
        let m = api
            .get(&format!("/api/v1/messages?booking_id={booking}"))
            .await
            .body["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        messages.push((booking, m));
    }
    let (cancelled_booking, cancelled) = &messages[0];
    let r = api
        .post(&format!("/api/v1/messages/{cancelled}/cancel"), json!({}))
        .await;
    assert_eq!(r.body["status"], "cancelled", "{:?}", r.body);
    // A later change of the booking does not bring a staff cancellation back.
    api.call(
        "PATCH",
        &format!("/api/v1/bookings/{cancelled_booking}"),
        Some(&api.key),
        Some(r#"{"arrival": "2026-04-02"}"#),
        &[],
    )
    .await;
    assert_eq!(
        api.get(&format!("/api/v1/messages/{cancelled}")).await.body["status"],
        "cancelled"
    );
    assert_eq!(
        api.post(&format!("/api/v1/messages/{cancelled}/send-now"), json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );

    let (_, now) = &messages[1];
    let r = api
        .post(&format!("/api/v1/messages/{now}/send-now"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["due_at"].as_str()),
        (StatusCode::OK, Some("2026-03-01T08:00:00Z"))
    );
    let history = api.get(&format!("/api/v1/messages/{now}/history")).await;
    assert!(
        history.body.to_string().contains("send now"),
        "{:?}",
        history.body
    );
}

#[tokio::test]
async fn metrics_show_what_was_sent_how_late_and_what_waits_in_prometheus_text() {
    bellhop_web::metrics::install();
    let api = Api::new().await;
    let property = api.hotel().await;
    let template = api.template(&property).await;
    api.rule(&property, &template).await;
    api.post("/api/v1/bookings", json!({
        "property_id": property, "kind": "stay", "arrival": "2026-03-03", "departure": "2026-03-05",
        "contact": {"first_name": "Mia", "email": "mia@example.com"}
    }))
    .await;
    api.post("/api/v1/bookings", json!({
        "property_id": property, "kind": "stay", "arrival": "2026-06-04", "departure": "2026-06-05",
        "contact": {"first_name": "Max", "email": "max@example.com"}
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dispatcher = bellhop_engine::Dispatcher::new(
        api.store.clone(),
        bellhop_engine::Transports::email_only(std::sync::Arc::new(
            bellhop_transport::EmailTransport::Folder(
                bellhop_transport::EmlFolder::new(dir.path()).unwrap(),
            ),
        )),
        std::sync::Arc::new(api.clock.clone()),
        bellhop_engine::DispatchConfig::default(),
    );
    assert_eq!(dispatcher.drain().await.unwrap().sent, 1);
    let r = api.call("GET", "/metrics", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/plain; version=0.0.4"));
    let text = r.body.as_str().unwrap();
    for needle in [
        "bellhop_messages_dispatched_total{outcome=\"sent\",channel=\"email\"}",
        "bellhop_due_to_sent_seconds_bucket",
        "bellhop_claim_batch_size_bucket",
        "bellhop_transport_batch_seconds_bucket{transport=\"email\"",
        "bellhop_store_pool_wait_seconds_bucket",
        "bellhop_store_pool_connections",
        "bellhop_messages{status=\"planned\",channel=\"email\"}",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

/// Where the OpenAPI document has an object schema that says nothing of its fields.
fn untyped_objects(value: &serde_json::Value, at: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            let typed = map.contains_key("properties")
                || map.contains_key("additionalProperties")
                || map.contains_key("$ref")
                || map.contains_key("allOf")
                || map.contains_key("oneOf")
                || map.contains_key("anyOf");
            let object = match map.get("type") {
                Some(serde_json::Value::String(t)) => t == "object",
                // `["object", "null"]`: an optional object.
                Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                _ => false,
            };
            if object && !typed {
                found.push(at.to_owned());
            }
            for (key, inner) in map {
                untyped_objects(inner, &format!("{at}/{key}"), found);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                untyped_objects(inner, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_schema_in_the_openapi_document_is_typed() {
    let api = Api::new().await;
    let r = api
        .call("GET", "/api/v1/openapi.json", None, None, &[])
        .await;
    let mut found = Vec::new();
    untyped_objects(&r.body, "", &mut found);
    // Every request and answer says what its fields are.
    assert!(found.is_empty(), "untyped objects: {found:#?}");
    // And every schema it names is in the document.
    let mut refs = Vec::new();
    references(&r.body, &mut refs);
    assert!(refs.iter().any(|r| r.ends_with("/BookingDetails")));
    for reference in refs {
        let name = reference.trim_start_matches("#/components/schemas/");
        assert!(
            r.body["components"]["schemas"][name].is_object(),
            "{reference} is named but not defined"
        );
    }
}

fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}
