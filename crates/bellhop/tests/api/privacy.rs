//! GDPR through the API: an export holds everything kept about a contact; after an erasure no
//! table names them, and their withdrawal of marketing stays honoured.

use crate::helpers::Api;
use axum::http::StatusCode;
use serde_json::{Value, json};

const FIRST: &str = "Zorbalina";
const LAST: &str = "Quentinova";
const EMAIL: &str = "zorbalina.q@example.com";
const PHONE: &str = "+43 664 9876543";
const E164: &str = "+436649876543";

/// A guest with a booking, a changed note, a sent confirmation (body kept), a marketing grant
/// and an idempotent create whose answer is saved.
async fn guest_with_history(api: &Api) -> (String, String) {
    let hotel = api.hotel().await;
    api.post(
        &format!("/api/v1/properties/{hotel}/presets"),
        json!({"set": "hotel"}),
    )
    .await;
    let contact = api
        .call(
            "POST",
            "/api/v1/contacts",
            Some(&api.key),
            Some(
                &json!({"first_name": FIRST, "last_name": LAST, "email": EMAIL, "phone": PHONE,
                         "city": "Innsbruck", "language": "de"})
                .to_string(),
            ),
            &[("idempotency-key", "contact-1")],
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{:?}", contact.body);
    let contact = contact.body["id"].as_str().unwrap().to_owned();
    let booking = api
        .post(
            "/api/v1/bookings",
            json!({"property_id": hotel, "kind": "stay", "arrival": "2026-03-02", "departure": "2026-03-04",
                   "contact_id": contact, "notes": format!("{FIRST} mag Blumen")}),
        )
        .await;
    assert_eq!(booking.status, StatusCode::CREATED, "{:?}", booking.body);
    let booking_id = booking.body["booking"]["id"].as_str().unwrap();
    api.call(
        "PATCH",
        &format!("/api/v1/bookings/{booking_id}"),
        Some(&api.key),
        Some(&json!({"notes": format!("{FIRST} {LAST} kommt spät")}).to_string()),
        &[("content-type", "application/merge-patch+json")],
    )
    .await;
    api.post(
        &format!("/api/v1/contacts/{contact}/consents"),
        json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "staff",
               "ip": "203.0.113.5"}),
    )
    .await;
    // A mail from the guest to the hotel's mailbox, answered.
    let mailbox = api
        .post(
            &format!("/api/v1/properties/{hotel}/mailboxes"),
            json!({"name": "Kontakt", "address": "kontakt@hotel.example", "case_prefix": "ANF",
                   "replies": {"de": {"body": "Danke, {{ mail.sender_name }}"}}}),
        )
        .await;
    assert_eq!(mailbox.status, StatusCode::CREATED, "{:?}", mailbox.body);
    let mail = api
        .post(
            &format!("/api/v1/mailboxes/{}/inbound", mailbox.body["id"].as_str().unwrap()),
            json!({"envelope_from": EMAIL, "message": format!(
                "From: {FIRST} {LAST} <{EMAIL}>\r\nTo: kontakt@hotel.example\r\nSubject: Anfrage von {LAST}\r\n\r\nIch bin {FIRST} {LAST} aus Innsbruck, {PHONE}")}),
        )
        .await;
    assert_eq!(mail.status, StatusCode::CREATED, "{:?}", mail.body);
    assert_eq!(
        mail.body["contact_id"],
        contact.as_str(),
        "the sender is the contact"
    );
    let (_dir, dispatcher) = api.mailer();
    assert!(dispatcher.drain().await.unwrap().sent >= 1);
    (hotel, contact)
}

#[tokio::test]
async fn an_export_holds_everything_kept_about_the_contact() {
    let api = Api::new().await;
    let (_, contact) = guest_with_history(&api).await;
    let r = api.get(&format!("/api/v1/contacts/{contact}/export")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let e = &r.body;
    assert_eq!(e["contact"]["email"], EMAIL);
    assert_eq!(e["contact"]["phone_e164"], E164);
    assert_eq!(e["bookings"].as_array().unwrap().len(), 1);
    assert!(
        e["bookings"][0]["changes"].as_array().unwrap().len() >= 2,
        "created and changed"
    );
    assert!(
        e["bookings"][0]["booking"]["notes"]
            .as_str()
            .unwrap()
            .contains("kommt spät")
    );
    let messages = e["messages"].as_array().unwrap();
    let sent: Vec<&Value> = messages
        .iter()
        .filter(|m| m["message"]["status"] == "sent")
        .collect();
    assert!(!sent.is_empty(), "{messages:?}");
    assert!(
        sent[0]["message"]["body_html"]
            .as_str()
            .unwrap()
            .contains(FIRST),
        "bodies included"
    );
    assert!(!sent[0]["events"].as_array().unwrap().is_empty());
    assert_eq!(e["consent"]["history"][0]["ip"], "203.0.113.5");
    assert!(e["inbound_sms"].is_array() && e["one_time_codes"].is_array());
    assert_eq!(e["inbound_mails"][0]["case_number"], "ANF-2026-000001");
    assert!(
        e["inbound_mails"][0]["raw"]
            .as_str()
            .unwrap()
            .contains("aus Innsbruck"),
        "the mail as received"
    );
}

#[tokio::test]
async fn after_an_erasure_no_table_names_the_contact_and_their_withdrawal_stays_honoured() {
    let api = Api::new().await;
    let (_, contact) = guest_with_history(&api).await;
    let before = bellhop_store::scratch::every_row_as_text(&api.store)
        .await
        .unwrap();
    assert!(
        before.iter().any(|row| row.contains(FIRST)),
        "the test looks where the name is"
    );

    let r = api
        .call(
            "POST",
            &format!("/api/v1/contacts/{contact}/erase"),
            Some(&api.key),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["bodies"].as_u64().unwrap() >= 1, "{:?}", r.body);
    assert!(
        r.body["cancelled"].as_u64().unwrap() >= 1,
        "planned messages cancelled"
    );

    let rows = bellhop_store::scratch::every_row_as_text(&api.store)
        .await
        .unwrap();
    for needle in [
        FIRST,
        LAST,
        EMAIL,
        E164,
        "664 9876543",
        "Innsbruck",
        "203.0.113.5",
    ] {
        let found: Vec<&String> = rows.iter().filter(|r| r.contains(needle)).collect();
        assert!(found.is_empty(), "{needle} still in {found:#?}");
    }
    assert!(
        !rows.iter().any(|r| r.starts_with("message_bodies:")),
        "kept bodies deleted"
    );
    let mismatches = bellhop_store::scratch::queue_mismatches(&api.store)
        .await
        .unwrap();
    assert!(
        mismatches.is_empty(),
        "the dispatch queue follows the cancelled messages: {mismatches:?}"
    );
    let export = api
        .get(&format!("/api/v1/contacts/{contact}/export"))
        .await
        .body;
    assert!(export["contact"]["email"].is_null());
    assert!(
        export["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["message"]["body_html"].is_null())
    );

    // The same address, back as a new contact: their erasure withdrew marketing, and it holds.
    let again = api
        .post(
            "/api/v1/contacts",
            json!({"first_name": "Z", "email": EMAIL}),
        )
        .await;
    let id = again.body["id"].as_str().unwrap();
    let consents = api
        .get(&format!("/api/v1/contacts/{id}/consents"))
        .await
        .body;
    let marketing = consents["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == "marketing" && c["channel"] == "email")
        .unwrap();
    assert_eq!(marketing["state"], "withdrawn", "{consents}");
    assert!(
        marketing["deciding"]["address"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[tokio::test]
async fn exports_and_erasures_of_another_account_are_not_found() {
    let api = Api::new().await;
    let (_, contact) = guest_with_history(&api).await;
    for (method, path) in [
        ("GET", format!("/api/v1/contacts/{contact}/export")),
        ("POST", format!("/api/v1/contacts/{contact}/erase")),
    ] {
        let r = api
            .call(method, &path, Some(&api.other_key), None, &[])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let mine = api.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(mine.body["email"], EMAIL, "B erased nothing");
}
