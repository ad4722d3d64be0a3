//! `POST /api/v1/bookings/import`: many bookings at once, idempotent by reference.

use super::helpers::Api;
use super::is_problem;
use axum::http::StatusCode;
use serde_json::{Value, json};

fn stay(property: &str, reference: &str, arrival: &str, departure: &str, email: &str) -> Value {
    json!({
        "property_id": property, "kind": "stay", "arrival": arrival, "departure": departure,
        "external_id": reference, "source_channel": "pms",
        "contact": {"first_name": "Gast", "email": email, "language": "de"}
    })
}

async fn import(api: &Api, body: &str, content_type: &str) -> super::helpers::Reply {
    api.call(
        "POST",
        "/api/v1/bookings/import",
        Some(&api.key),
        Some(body),
        &[("content-type", content_type)],
    )
    .await
}

#[tokio::test]
async fn importing_the_same_bookings_twice_creates_them_once_and_a_changed_date_moves_the_reminder()
{
    let api = Api::new().await;
    let property = api.hotel().await;
    let template = api.template(&property).await;
    assert_eq!(
        api.rule(&property, &template).await.status,
        StatusCode::CREATED
    );
    let items = json!([
        stay(
            &property,
            "R-1",
            "2026-04-01",
            "2026-04-03",
            "anna@example.com"
        ),
        stay(
            &property,
            "R-2",
            "2026-04-05",
            "2026-04-06",
            "ben@example.com"
        ),
        // The same guest again: one contact.
        stay(
            &property,
            "R-3",
            "2026-05-01",
            "2026-05-02",
            "ANNA@example.com"
        ),
    ]);
    let first = import(&api, &items.to_string(), "application/json").await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(
        (
            &first.body["created"],
            &first.body["unchanged"],
            &first.body["planned"]
        ),
        (&json!(3), &json!(0), &json!(3))
    );
    let contacts = api.get("/api/v1/contacts").await;
    assert_eq!(contacts.body["items"].as_array().unwrap().len(), 2);

    let again = import(&api, &items.to_string(), "application/json").await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(
        (&again.body["created"], &again.body["unchanged"]),
        (&json!(0), &json!(3))
    );
    assert_eq!(
        api.get("/api/v1/bookings").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // NDJSON, one booking moved: its reminder moves with it.
    let moved = [
        stay(
            &property,
            "R-1",
            "2026-04-10",
            "2026-04-12",
            "anna@example.com",
        )
        .to_string(),
        stay(
            &property,
            "R-2",
            "2026-04-05",
            "2026-04-06",
            "ben@example.com",
        )
        .to_string(),
    ]
    .join("\n");
    let r = import(&api, &moved, "application/x-ndjson").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (&r.body["updated"], &r.body["unchanged"], &r.body["moved"]),
        (&json!(1), &json!(1), &json!(1))
    );
    let bookings = api.get("/api/v1/bookings").await;
    let r1 = bookings.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["external_id"] == "R-1")
        .unwrap()
        .clone();
    let messages = api
        .get(&format!(
            "/api/v1/messages?booking_id={}",
            r1["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(messages.body["items"][0]["due_at"], "2026-04-07T08:00:00Z");
}

#[tokio::test]
async fn an_import_with_a_bad_item_names_each_fault_by_index_and_stores_nothing() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let mut no_reference = stay(&property, "x", "2026-04-01", "2026-04-03", "a@example.com");
    no_reference.as_object_mut().unwrap().remove("external_id");
    let items = json!([
        stay(&property, "R-1", "2026-04-01", "2026-04-03", "a@example.com"),
        stay(&property, "R-2", "2026-04-05", "2026-04-01", "b@example.com"),
        no_reference,
        stay(&property, "R-1", "2026-06-01", "2026-06-03", "c@example.com"),
        {"property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-02",
         "external_id": "R-5", "contact": {"email": "not an address"}},
        {"property_id": property, "kind": "cruise"},
    ]);
    let r = import(&api, &items.to_string(), "application/json").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(is_problem(&r));
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for expected in [
        "[1].departure",
        "[4].contact.email",
        "[5].kind",
        "[2].external_id",
        "[3].external_id",
    ] {
        assert!(fields.contains(&expected), "{expected} in {fields:?}");
    }
    assert!(
        !fields.iter().any(|f| f.starts_with("[0]")),
        "the good item is not blamed: {fields:?}"
    );
    assert_eq!(
        api.get("/api/v1/bookings").await.body["items"],
        json!([]),
        "nothing was stored"
    );

    // Not an array, not JSON, too many items.
    let r = import(&api, r#"{"property_id": 1}"#, "application/json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = import(&api, "{\"a\": 1}\nnot json", "application/x-ndjson").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["detail"].as_str().unwrap().contains("line 2"));
    let many = format!("[{}]", vec!["{}"; 10_001].join(","));
    let r = import(&api, &many, "application/json").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("10000")
    );
}

#[tokio::test]
async fn an_import_cannot_reach_another_accounts_property_or_contact() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let r = api
        .call(
            "POST",
            "/api/v1/bookings/import",
            Some(&api.other_key),
            Some(
                &json!([stay(
                    &property,
                    "R-1",
                    "2026-04-01",
                    "2026-04-03",
                    "a@example.com"
                )])
                .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "[0].property_id");
    let contact = api
        .post(
            "/api/v1/contacts",
            json!({"first_name": "Eva", "email": "eva@example.com"}),
        )
        .await;
    let other_property = {
        let r = api
            .call(
                "POST",
                "/api/v1/properties",
                Some(&api.other_key),
                Some(
                    &json!({"name": "B", "time_zone": "Europe/Vienna", "country": "AT",
                    "default_language": "de", "sender_email": "b@b.example", "sender_name": "B"})
                    .to_string(),
                ),
                &[],
            )
            .await;
        r.body["id"].as_str().unwrap().to_owned()
    };
    let r = api
        .call(
            "POST",
            "/api/v1/bookings/import",
            Some(&api.other_key),
            Some(
                &json!([{"property_id": other_property, "kind": "stay", "arrival": "2026-04-01",
                    "departure": "2026-04-02", "external_id": "X", "contact_id": contact.body["id"]}])
                .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "[0].contact_id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_imports_of_the_same_file_create_each_booking_once() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let items: Vec<Value> = (0..50)
        .map(|i| {
            stay(
                &property,
                &format!("R-{i}"),
                "2026-04-01",
                "2026-04-03",
                &format!("g{}@example.com", i % 20),
            )
        })
        .collect();
    let body = Value::Array(items).to_string();
    let (a, b, c, d) = tokio::join!(
        import(&api, &body, "application/json"),
        import(&api, &body, "application/json"),
        import(&api, &body, "application/json"),
        import(&api, &body, "application/json"),
    );
    let mut created = 0;
    for r in [a, b, c, d] {
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        created += r.body["created"].as_u64().unwrap();
    }
    assert_eq!(created, 50);
    let bookings = api.get("/api/v1/bookings?limit=500").await;
    assert_eq!(bookings.body["items"].as_array().unwrap().len(), 50);
    let contacts = api.get("/api/v1/contacts?limit=500").await;
    assert_eq!(contacts.body["items"].as_array().unwrap().len(), 20);
}
