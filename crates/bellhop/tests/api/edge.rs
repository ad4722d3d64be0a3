//! Defects a black-box probe found at the edge, each pinned: strict JSON, problem documents
//! for every error, values refused when they arrive rather than when a message is sent.

use crate::helpers::{Api, Reply};
use axum::http::StatusCode;
use serde_json::{Value, json};

fn assert_problem(r: &Reply, status: StatusCode, what: &str) {
    assert_eq!(r.status, status, "{what}: {:?}", r.body);
    assert_eq!(
        r.content_type, "application/problem+json",
        "{what}: {:?}",
        r.body
    );
    assert_eq!(r.body["status"], status.as_u16(), "{what}");
    assert!(r.body["title"].is_string(), "{what}");
}

fn property(overrides: Value) -> Value {
    let mut p = json!({
        "name": "Hotel Edge", "time_zone": "Europe/Vienna", "country": "AT",
        "default_language": "de", "sender_email": "info@edge.example", "sender_name": "Hotel Edge"
    });
    for (k, v) in overrides.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

#[tokio::test]
async fn json_bodies_are_one_object_and_nothing_after_it() {
    let api = Api::new().await;
    for (body, what) in [
        (r#"{"first_name":"Trail"}garbage!!"#, "trailing data"),
        (r#"{"first_name":"A"} {"first_name":"B"}"#, "two values"),
        (r#"["Addr","12345"]"#, "an array filling an object"),
        (r#""text""#, "a string"),
        (r#"{"first_name":"Nul\u0000"}"#, "NUL in a name"),
    ] {
        let r = api
            .call("POST", "/api/v1/contacts", Some(&api.key), Some(body), &[])
            .await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {} {:?}",
            r.status,
            r.body
        );
        assert_problem(&r, r.status, what);
    }
    assert_eq!(
        api.get("/api/v1/contacts").await.body["items"]
            .as_array()
            .map_or(0, Vec::len),
        0,
        "nothing was stored"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_415() {
    let api = Api::new().await;
    let r = api
        .call(
            "POST",
            "/api/v1/contacts",
            Some(&api.key),
            Some(r#"{"first_name":"Form"}"#),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "text/plain");
    let ok = api
        .call(
            "POST",
            "/api/v1/contacts",
            Some(&api.key),
            Some(r#"{"first_name":"Json"}"#),
            &[("content-type", "application/json; charset=utf-8")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
}

#[tokio::test]
async fn every_error_status_is_a_problem_document() {
    let api = Api::new().await;
    let huge = format!(r#"{{"first_name":"{}"}}"#, "x".repeat(2 << 20));
    for (r, status, what) in [
        (
            api.get("/api/v1/nothing-here").await,
            StatusCode::NOT_FOUND,
            "unknown path",
        ),
        (
            api.call("DELETE", "/api/v1/contacts", Some(&api.key), None, &[])
                .await,
            StatusCode::METHOD_NOT_ALLOWED,
            "wrong method",
        ),
        (
            api.call("POST", "/api/v1/contacts", Some(&api.key), Some(&huge), &[])
                .await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too large",
        ),
        (
            api.get("/api/v1/messages?limit=abc").await,
            StatusCode::BAD_REQUEST,
            "bad query",
        ),
        (
            api.call("GET", "/api/v1/contacts", None, None, &[]).await,
            StatusCode::UNAUTHORIZED,
            "no key",
        ),
    ] {
        assert_problem(&r, status, what);
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let api = Api::new().await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = api
            .call(
                "GET",
                "/api/v1/contacts",
                None,
                None,
                &[("authorization", &format!("{scheme} {}", api.key))],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn values_the_transport_or_the_planner_would_refuse_are_refused_on_arrival() {
    let api = Api::new().await;
    let cases = [
        (
            "/api/v1/properties",
            property(json!({"country": "XX"})),
            "country",
        ),
        (
            "/api/v1/properties",
            property(json!({"sender_email": "😀@example.com"})),
            "sender_email",
        ),
        (
            "/api/v1/properties",
            property(json!({"layout_html": "<div>no slot</div>"})),
            "layout_html",
        ),
        (
            "/api/v1/properties",
            property(json!({"layout_html": "{# {{ content }} #}"})),
            "layout_html",
        ),
        (
            "/api/v1/properties",
            property(json!({"layout_html": "{% if false %}{{ content }}{% endif %}"})),
            "layout_html",
        ),
        (
            "/api/v1/properties",
            property(json!({"layout_html": "{{ content "})),
            "layout_html",
        ),
        (
            "/api/v1/properties",
            property(json!({"brand": {"color": "red"}})),
            "brand.color",
        ),
        (
            "/api/v1/properties",
            property(json!({"brand": {"booking_url": "javascript:alert(1)"}})),
            "brand.booking_url",
        ),
        (
            "/api/v1/contacts",
            json!({"email": "😀@example.com"}),
            "email",
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": "Old", "birth_date": "3000-01-01"}),
            "birth_date",
        ),
        (
            "/api/v1/contacts",
            json!({"first_name": "Old", "birth_date": "1800-01-01"}),
            "birth_date",
        ),
    ];
    for (path, body, field) in cases {
        let r = api.post(path, body.clone()).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
        assert!(
            r.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"].as_str().unwrap().ends_with(field)),
            "{body}: {:?}",
            r.body
        );
    }
    // A time zone typed in lower case is stored as the zone database names it.
    let r = api
        .post(
            "/api/v1/properties",
            property(json!({"time_zone": "europe/vienna"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["time_zone"], "Europe/Vienna");
}

#[tokio::test]
async fn a_booking_is_refused_field_by_field_and_its_language_is_written_in_its_usual_case() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let booking = |extra: Value| {
        let mut b = json!({
            "property_id": hotel, "kind": "stay", "arrival": "2027-05-01", "departure": "2027-05-03",
            "contact": {"first_name": "Ida", "email": "ida@example.com", "language": "EN-gb"}
        });
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (extra, field) in [
        (json!({"vouchr": "V-1"}), "vouchr"),
        (json!({"language": "de_AT"}), "language"),
        (json!({"guests": 0}), "guests"),
        (json!({"voucher": "x".repeat(201)}), "voucher"),
        (json!({"room_category": "DZ\nBcc: x"}), "room_category"),
        (json!({"price_cents": -1}), "price_cents"),
    ] {
        let r = api.post("/api/v1/bookings", booking(extra.clone())).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
        let named = r.body["errors"].as_array().is_some_and(|errors| {
            errors
                .iter()
                .any(|e| e["field"].as_str().is_some_and(|f| f.ends_with(field)))
        }) || r.body["detail"].as_str().is_some_and(|d| d.contains(field));
        assert!(named, "{extra}: {:?}", r.body);
    }
    let r = api
        .post(
            "/api/v1/bookings",
            booking(json!({"language": "DE-at", "voucher": "V-7"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["booking"]["language"], "de-AT");
    assert_eq!(r.body["booking"]["voucher"], "V-7");
    let contact = r.body["booking"]["contact_id"].as_str().unwrap().to_owned();
    let c = api.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(c.body["language"], "en-GB");
}

#[tokio::test]
async fn a_stay_in_year_9999_is_refused_and_cannot_break_the_account() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let template = api.template(&hotel).await;
    let rule = api
        .post(
            "/api/v1/rules",
            json!({
                "property_id": hotel, "name": "Day after departure", "anchor": "end",
                "offset": {"amount": 1, "unit": "days"}, "template_id": template
            }),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{:?}", rule.body);
    let r = api.post("/api/v1/bookings", json!({
        "property_id": hotel, "kind": "stay", "arrival": "9999-12-29", "departure": "9999-12-30",
        "contact": {"first_name": "Far", "email": "far@example.com"}
    })).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "year 9999");
    assert_eq!(api.get("/api/v1/messages").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_sms_sender_number_belongs_to_one_account() {
    let api = Api::new().await;
    let with_number = property(json!({"sms": {"sender": "+436641234567"}}));
    let first = api.post("/api/v1/properties", with_number.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    // The same account may use it for a second property; another account may not.
    let second = api.post("/api/v1/properties", with_number.clone()).await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);
    let other = api
        .call(
            "POST",
            "/api/v1/properties",
            Some(&api.other_key),
            Some(&with_number.to_string()),
            &[],
        )
        .await;
    assert_problem(
        &other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another account's number",
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_clients_own_is_kept() {
    let api = Api::new().await;
    let fresh = api.get("/api/v1/contacts").await;
    let id = fresh.headers["x-request-id"].to_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    let failed = api.get("/api/v1/nothing-here").await;
    assert!(failed.headers.contains_key("x-request-id"));
    let own = api
        .call(
            "GET",
            "/api/v1/contacts",
            Some(&api.key),
            None,
            &[("x-request-id", "pms-4711")],
        )
        .await;
    assert_eq!(own.headers["x-request-id"], "pms-4711");
}

#[tokio::test]
async fn a_row_that_cannot_be_read_is_left_out_of_a_list_not_a_500() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let template = api.template(&hotel).await;
    assert_eq!(
        api.rule(&hotel, &template).await.status,
        StatusCode::CREATED
    );
    for email in ["one@example.com", "two@example.com"] {
        let r = api.post("/api/v1/bookings", json!({
            "property_id": hotel, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-03",
            "contact": {"first_name": "Row", "email": email}
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let listed = api.get("/api/v1/messages").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    let broken = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    // A due time no reader can represent, as a hand edit or an old bug could leave it.
    let far = match api.store.backend() {
        bellhop_store::Backend::Sqlite => "9000000000000000".to_owned(),
        bellhop_store::Backend::Postgres => "'200000-01-01T00:00:00Z'".to_owned(),
    };
    bellhop_store::scratch::execute(
        &api.store,
        &format!("UPDATE messages SET due_at = {far} WHERE id = '{broken}'"),
    )
    .await
    .unwrap();
    let after = api.get("/api/v1/messages").await;
    assert_eq!(after.status, StatusCode::OK, "{:?}", after.body);
    let items = after.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_ne!(items[0]["id"], broken.as_str());
    assert_eq!(api.get("/api/v1/bookings").await.status, StatusCode::OK);
}
