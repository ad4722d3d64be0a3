//! Concurrent changes through the API: nothing is lost silently, and nothing waits for
//! work it has nothing to do with.

use crate::helpers::Api;
use axum::http::StatusCode;
use serde_json::json;
use std::sync::Arc;

async fn booking(api: &Api, property: &str, email: &str) -> String {
    let r = api.post("/api/v1/bookings", json!({
        "property_id": property, "kind": "stay", "arrival": "2026-04-01", "departure": "2026-04-03",
        "contact": {"first_name": "Ada", "last_name": "Lovelace", "email": email, "language": "en"}
    })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["booking"]["id"].as_str().unwrap().to_owned()
}

async fn patch(api: &Api, booking: &str, body: serde_json::Value) -> crate::helpers::Reply {
    api.call(
        "PATCH",
        &format!("/api/v1/bookings/{booking}"),
        Some(&api.key),
        Some(&body.to_string()),
        &[("content-type", "application/merge-patch+json")],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_patches_of_different_fields_both_survive_or_one_is_refused() {
    let api = Arc::new(Api::new().await);
    let property = api.hotel().await;
    let template = api.template(&property).await;
    assert_eq!(
        api.rule(&property, &template).await.status,
        StatusCode::CREATED
    );
    let booking = booking(&api, &property, "ada@example.com").await;
    for round in 0..40 {
        let (a, b) = {
            let (api_a, api_b) = (api.clone(), api.clone());
            let (id_a, id_b) = (booking.clone(), booking.clone());
            let guests =
                tokio::spawn(
                    async move { patch(&api_a, &id_a, json!({"guests": round + 1})).await },
                );
            let voucher = tokio::spawn(async move {
                patch(&api_b, &id_b, json!({"voucher": format!("V-{round}")})).await
            });
            (guests.await.unwrap(), voucher.await.unwrap())
        };
        for r in [&a, &b] {
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::CONFLICT,
                "round {round}: {} {:?}",
                r.status,
                r.body
            );
        }
        let now = api.get(&format!("/api/v1/bookings/{booking}")).await;
        if a.status == StatusCode::OK {
            assert_eq!(now.body["guests"], round + 1, "round {round}: guests lost");
        }
        if b.status == StatusCode::OK {
            assert_eq!(
                now.body["voucher"],
                format!("V-{round}"),
                "round {round}: voucher lost"
            );
        }
    }
    // Every round's two changes are in the history, one version each.
    let changes = api
        .get(&format!("/api/v1/bookings/{booking}/changes"))
        .await;
    assert_eq!(changes.body.as_array().unwrap().len(), 1 + 80);
}

#[tokio::test]
async fn a_stale_if_match_gets_409_with_the_current_version_and_a_live_booking_is_never_404() {
    let api = Api::new().await;
    let property = api.hotel().await;
    let booking = booking(&api, &property, "grace@example.com").await;
    assert_eq!(
        patch(&api, &booking, json!({"guests": 2})).await.status,
        StatusCode::OK
    );
    let stale = api
        .call(
            "PATCH",
            &format!("/api/v1/bookings/{booking}"),
            Some(&api.key),
            Some(r#"{"guests": 3}"#),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{:?}", stale.body);
    assert_eq!(stale.body["current_version"], 2);
    let fresh = api
        .call(
            "PATCH",
            &format!("/api/v1/bookings/{booking}"),
            Some(&api.key),
            Some(r#"{"guests": 3}"#),
            &[("if-match", "2")],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{:?}", fresh.body);
    assert_eq!(fresh.body["booking"]["version"], 3);
}
