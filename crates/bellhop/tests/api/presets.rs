//! Presets as a product: listed, installed on a property with one call, idempotent, planned
//! for current bookings; and templates checked for variables that do not exist.

use crate::helpers::Api;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_hotel_installs_its_presets_once_and_they_plan_its_bookings() {
    let api = Api::new().await;
    let listed = api.get("/api/v1/presets").await;
    assert_eq!(listed.status, StatusCode::OK);
    let keys: Vec<(&str, &str)> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["key"].as_str().unwrap(), p["set"].as_str().unwrap()))
        .collect();
    assert!(keys.contains(&("pre_arrival", "hotel")));
    assert!(keys.contains(&("appointment_reminder", "salon")));
    let hotel = api.hotel().await;
    let booking = api
        .post(
            "/api/v1/bookings",
            json!({
                "property_id": hotel, "kind": "stay", "arrival": "2026-04-10", "departure": "2026-04-12",
                "contact": {"first_name": "Anna", "last_name": "Berger", "email": "anna@example.com"}
            }),
        )
        .await;
    assert_eq!(booking.status, StatusCode::CREATED, "{:?}", booking.body);
    assert_eq!(booking.body["plan"]["planned"], 0, "no rules yet");

    let path = format!("/api/v1/properties/{hotel}/presets");
    let first = api.post(&path, json!({"set": "hotel"})).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let installed = first.body["installed"].as_array().unwrap().len();
    assert_eq!(
        installed,
        keys.iter().filter(|(_, set)| *set == "hotel").count()
    );
    assert!(
        first.body["plan"]["planned"].as_u64().unwrap() >= 3,
        "the existing booking gets its messages: {:?}",
        first.body
    );
    let rules = api.get(&format!("/api/v1/rules?property_id={hotel}")).await;
    assert_eq!(rules.body.as_array().unwrap().len(), installed);

    // Again, and with one key named twice: nothing new, nothing lost.
    let again = api
        .post(
            &path,
            json!({"set": "hotel", "presets": ["pre_arrival", "pre_arrival"]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["installed"].as_array().unwrap().len(), 0);
    assert_eq!(
        again.body["already_installed"].as_array().unwrap().len(),
        installed
    );
    let rules = api.get(&format!("/api/v1/rules?property_id={hotel}")).await;
    assert_eq!(rules.body.as_array().unwrap().len(), installed);
}

#[tokio::test]
async fn installing_presets_refuses_unknown_names_and_other_accounts_properties() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let path = format!("/api/v1/properties/{hotel}/presets");
    for body in [
        json!({"presets": ["pre_arival"]}),
        json!({"set": "spa"}),
        json!({}),
    ] {
        let r = api.post(&path, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
    }
    let theirs = api
        .call(
            "POST",
            &path,
            Some(&api.other_key),
            Some(&json!({"set": "hotel"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{:?}", theirs.body);
    let rules = api.get(&format!("/api/v1/rules?property_id={hotel}")).await;
    assert_eq!(rules.body.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_template_with_a_misspelled_variable_is_refused_when_saved() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let r = api
        .post(
            "/api/v1/templates",
            json!({
                "property_id": hotel, "name": "Typo",
                "variants": {"de": {"subject": "Hallo", "html": "<p>Hallo {{ guest.frist_name }}</p>"}}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("guest.frist_name") && message.contains("guest.first_name"),
        "{message}"
    );
}

#[tokio::test]
async fn a_preset_is_previewed_in_the_propertys_brand_before_it_is_installed() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let r = api
        .get(&format!(
            "/api/v1/presets/pre_arrival/preview?property_id={hotel}&language=en"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["language"], "en");
    assert!(
        r.body["subject"]
            .as_str()
            .unwrap()
            .starts_with("See you soon")
    );
    let html = r.body["html"].as_str().unwrap();
    assert!(html.contains("Hotel Schöne Aussicht") && html.contains("Dear Anna Berger"));
    let sample = api.get("/api/v1/presets/option_reminder/preview").await;
    assert_eq!(sample.status, StatusCode::OK, "{:?}", sample.body);
    assert!(
        sample.body["text"]
            .as_str()
            .unwrap()
            .contains("Hotel Gruber")
    );
    for path in [
        "/api/v1/presets/no_such_preset/preview".to_owned(),
        format!(
            "/api/v1/presets/pre_arrival/preview?property_id={}",
            uuid::Uuid::now_v7()
        ),
    ] {
        assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let theirs = api
        .call(
            "GET",
            &format!("/api/v1/presets/pre_arrival/preview?property_id={hotel}"),
            Some(&api.other_key),
            None,
            &[],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dry_run_renders_each_message_and_names_the_bookings_it_would_fail_for() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let template = api
        .post(
            "/api/v1/templates",
            json!({
                "property_id": hotel, "name": "Zimmer",
                "variants": {"de": {"subject": "Ihr {{ booking.room_category }}", "html": "<p>Bis bald</p>"}}
            }),
        )
        .await;
    assert_eq!(template.status, StatusCode::CREATED, "{:?}", template.body);
    let mut without_room = String::new();
    for (arrival, room) in [("2026-04-10", Some("Suite")), ("2026-04-12", None)] {
        let mut booking = json!({
            "property_id": hotel, "kind": "stay", "arrival": arrival, "departure": "2026-04-20",
            "contact": {"first_name": "Ida", "email": format!("ida{arrival}@example.com")}
        });
        if let Some(room) = room {
            booking["room_category"] = json!(room);
        }
        let r = api.post("/api/v1/bookings", booking).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        if room.is_none() {
            without_room = r.body["booking"]["id"].as_str().unwrap().to_owned();
        }
    }
    let rule = json!({
        "property_id": hotel, "name": "Zimmer", "anchor": "start",
        "offset": {"amount": -2, "unit": "days"}, "time_of_day": "10:00",
        "template_id": template.body["id"]
    });
    let dry = api
        .post("/api/v1/rules/dry-run", json!({ "rule": rule }))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.body);
    assert_eq!(dry.body["rendered"], 2, "{:?}", dry.body);
    let failures = dry.body["render_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["booking_id"], without_room.as_str());
    assert!(
        failures[0]["error"]
            .as_str()
            .unwrap()
            .contains("booking.room_category"),
        "{failures:?}"
    );
}
