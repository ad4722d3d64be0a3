//! Sequences on the injected clock: steps at their local times across a DST change, consent
//! checked at each step (a withdrawal stops the rest), unenrolment, enrolment by an inbound
//! mail and by a new booking, bad input and isolation.

use crate::helpers::Api;
use axum::http::StatusCode;
use serde_json::{Value, json};

async fn template(api: &Api, property: &str, category: &str) -> String {
    let r = api
        .post(
            "/api/v1/templates",
            json!({"property_id": property, "name": "Angebot", "category": category,
                "variants": {"de": {"subject": "Hallo {{ guest.first_name }}", "html": "<p>Unser Angebot</p>"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn contact(api: &Api, email: &str) -> String {
    let r = api
        .post(
            "/api/v1/contacts",
            json!({"first_name": "Eva", "email": email, "language": "de"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn sequence(api: &Api, property: &str, template: &str, extra: Value) -> String {
    let mut body = json!({"name": "Nach der Anfrage", "steps": [
        {"offset": {"days": 1, "at": "10:00"}, "template_id": template},
        {"offset": {"hours": 48}, "template_id": template},
        {"offset": {"days": 3, "at": "10:00"}, "template_id": template}
    ]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = api
        .post(&format!("/api/v1/properties/{property}/sequences"), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn enrol(api: &Api, sequence: &str, contact: &str) -> crate::helpers::Reply {
    api.post(
        &format!("/api/v1/sequences/{sequence}/enrolments"),
        json!({"contact_id": contact}),
    )
    .await
}

fn statuses(enrolment: &Value) -> Vec<String> {
    enrolment["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}:{}", s["step"], s["status"].as_str().unwrap()))
        .collect()
}

/// Moves the clock to `at` and lets a dispatcher run once.
async fn at(api: &Api, dispatcher: &bellhop_engine::Dispatcher, at: &str) {
    let now = bellhop_engine::Clock::now(&api.clock);
    let target: jiff::Timestamp = at.parse().unwrap();
    api.clock.advance(target.duration_since(now));
    dispatcher.run_once().await.unwrap();
}

#[tokio::test]
async fn steps_go_at_their_local_times_across_the_dst_change_and_a_withdrawal_stops_the_rest() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let offer = template(&api, &hotel, "marketing").await;
    let seq = sequence(&api, &hotel, &offer, json!({})).await;
    let eva = contact(&api, "eva@example.com").await;
    let grant = api
        .post(
            &format!("/api/v1/contacts/{eva}/consents"),
            json!({"purpose": "marketing", "channel": "email", "granted": true, "source": "staff"}),
        )
        .await;
    assert_eq!(grant.status, StatusCode::CREATED, "{:?}", grant.body);
    // Friday 2026-03-27, 15:30 in Vienna; summer time begins on Sunday the 29th.
    let (_dir, dispatcher) = api.mailer();
    at(&api, &dispatcher, "2026-03-27T14:30:00Z").await;
    let r = enrol(&api, &seq, &eva).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let enrolment = r.body["id"].as_str().unwrap().to_owned();
    let due: Vec<&str> = r.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["due_at"].as_str().unwrap())
        .collect();
    // 10:00 CET on Saturday, 48 h exact, 10:00 CEST on Monday.
    assert_eq!(
        due,
        [
            "2026-03-28T09:00:00Z",
            "2026-03-29T14:30:00Z",
            "2026-03-30T08:00:00Z"
        ]
    );
    assert_eq!(
        enrol(&api, &seq, &eva).await.status,
        StatusCode::CONFLICT,
        "once at a time"
    );
    // The timeline shows the coming steps.
    let timeline = api
        .get("/api/v1/timeline?from=2026-03-27T00:00:00Z&to=2026-04-01T00:00:00Z")
        .await;
    let steps: Vec<&str> = timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "sequence step")
        .map(|r| r["due_local"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "2026-03-28 10:00 CET",
            "2026-03-29 16:30 CEST",
            "2026-03-30 10:00 CEST"
        ]
    );

    at(&api, &dispatcher, "2026-03-28T08:59:00Z").await;
    let path = format!("/api/v1/enrolments/{enrolment}");
    assert_eq!(
        statuses(&api.get(&path).await.body),
        ["0:planned", "1:planned", "2:planned"]
    );
    at(&api, &dispatcher, "2026-03-28T09:00:00Z").await;
    assert_eq!(
        statuses(&api.get(&path).await.body),
        ["0:sent", "1:planned", "2:planned"]
    );

    // Eva withdraws; the next step is refused and the rest cancelled.
    let withdraw = api
        .post(
            &format!("/api/v1/contacts/{eva}/consents"),
            json!({"purpose": "marketing", "channel": "email", "granted": false, "source": "staff"}),
        )
        .await;
    assert_eq!(withdraw.status, StatusCode::CREATED, "{:?}", withdraw.body);
    at(&api, &dispatcher, "2026-03-29T14:30:00Z").await;
    let after = api.get(&path).await.body;
    assert_eq!(
        statuses(&after),
        ["0:sent", "1:suppressed", "2:cancelled"],
        "{after}"
    );
    assert_eq!(after["status"], "stopped");
    assert!(
        after["end_reason"].as_str().unwrap().contains("no consent"),
        "{after}"
    );
    // Stopped is ended: she may be enrolled again later.
    assert_eq!(enrol(&api, &seq, &eva).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn unenrolling_cancels_what_is_left_and_allows_a_new_enrolment() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let info = template(&api, &hotel, "service").await;
    let seq = sequence(&api, &hotel, &info, json!({})).await;
    let eva = contact(&api, "eva@example.com").await;
    let first = enrol(&api, &seq, &eva).await;
    let id = first.body["id"].as_str().unwrap();
    let r = api
        .post(&format!("/api/v1/enrolments/{id}/unenrol"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "unenrolled");
    assert!(
        statuses(&r.body).iter().all(|s| s.ends_with("cancelled")),
        "{:?}",
        r.body
    );
    let again = api
        .post(&format!("/api/v1/enrolments/{id}/unenrol"), json!({}))
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "an ended enrolment is not unenrolled twice"
    );
    assert_eq!(enrol(&api, &seq, &eva).await.status, StatusCode::CREATED);
    // A completed enrolment also makes room: every step gone.
    let (_dir, dispatcher) = api.mailer();
    api.clock.advance(jiff::SignedDuration::from_hours(24 * 5));
    dispatcher.run_once().await.unwrap();
    let list = api
        .get(&format!(
            "/api/v1/enrolments?contact_id={eva}&sequence_id={seq}"
        ))
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    assert_eq!(enrol(&api, &seq, &eva).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_inbound_mail_and_a_new_booking_enrol_their_contact() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let info = template(&api, &hotel, "service").await;
    let after_mail = sequence(&api, &hotel, &info, json!({"name": "After a question"})).await;
    let welcome = sequence(
        &api,
        &hotel,
        &info,
        json!({"name": "Welcome", "enrol_new_bookings": true}),
    )
    .await;
    let m = api
        .post(
            &format!("/api/v1/properties/{hotel}/mailboxes"),
            json!({"name": "Anfragen", "address": "anfrage@hotel.example", "sequence_id": after_mail,
                "replies": {"de": {"body": "Danke!"}}}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{:?}", m.body);
    let mailbox = m.body["id"].as_str().unwrap();
    let r = api
        .post(
            &format!("/api/v1/mailboxes/{mailbox}/inbound"),
            json!({"message": "From: Max <max@example.com>\r\nTo: anfrage@hotel.example\r\nSubject: Frage\r\n\r\nHallo", "envelope_from": "max@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let max = r.body["contact_id"].as_str().unwrap();
    let list = api
        .get(&format!("/api/v1/enrolments?contact_id={max}"))
        .await;
    assert_eq!(list.body[0]["sequence_id"], after_mail);
    assert_eq!(list.body[0]["source"], "inbound_mail");

    let booking = api
        .post(
            "/api/v1/bookings",
            json!({"property_id": hotel, "kind": "stay", "arrival": "2026-05-01", "departure": "2026-05-03",
                "contact": {"first_name": "Lena", "email": "lena@example.com"}}),
        )
        .await;
    assert_eq!(booking.status, StatusCode::CREATED, "{:?}", booking.body);
    let lena = booking.body["booking"]["contact_id"].as_str().unwrap();
    let list = api
        .get(&format!("/api/v1/enrolments?contact_id={lena}"))
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["sequence_id"], welcome);
    assert_eq!(list.body[0]["source"], "booking");
}

#[tokio::test]
async fn bad_sequences_are_refused_and_other_accounts_see_nothing() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let info = template(&api, &hotel, "service").await;
    let cases = [
        (json!({"steps": []}), "steps"),
        (
            json!({"steps": [{"offset": {}, "template_id": info}]}),
            "steps[0].offset",
        ),
        (
            json!({"steps": [{"offset": {"hours": 2, "at": "10:00"}, "template_id": info}]}),
            "steps[0].offset",
        ),
        (
            json!({"steps": [{"offset": {"days": 1}, "template_id": uuid::Uuid::now_v7()}]}),
            "steps[0].template_id",
        ),
        (json!({"name": ""}), "name"),
    ];
    for (change, field) in cases {
        let mut body =
            json!({"name": "S", "steps": [{"offset": {"days": 1}, "template_id": info}]});
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = api
            .post(&format!("/api/v1/properties/{hotel}/sequences"), body)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {:?}",
            r.body
        );
        assert!(r.body.to_string().contains(field), "{field}: {:?}", r.body);
    }
    let seq = sequence(&api, &hotel, &info, json!({})).await;
    let eva = contact(&api, "eva@example.com").await;
    let e = enrol(&api, &seq, &eva).await;
    let id = e.body["id"].as_str().unwrap();
    let other = Some(api.other_key.as_str());
    let enrol_body = json!({"contact_id": eva}).to_string();
    for (method, path, body) in [
        ("GET", format!("/api/v1/sequences/{seq}"), None),
        (
            "POST",
            format!("/api/v1/sequences/{seq}/enrolments"),
            Some(enrol_body.as_str()),
        ),
        ("GET", format!("/api/v1/enrolments/{id}"), None),
        (
            "POST",
            format!("/api/v1/enrolments/{id}/unenrol"),
            Some("{}"),
        ),
    ] {
        let r = api.call(method, &path, other, body, &[]).await;
        assert!(
            r.status == StatusCode::NOT_FOUND || r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path}: {} {:?}",
            r.status,
            r.body
        );
    }
    assert_eq!(
        api.call("GET", "/api/v1/sequences", other, None, &[])
            .await
            .body,
        json!([])
    );
    assert_eq!(
        api.call("GET", "/api/v1/enrolments", other, None, &[])
            .await
            .body,
        json!([])
    );
    assert_eq!(
        api.get(&format!("/api/v1/enrolments/{id}")).await.body["status"],
        "active"
    );
}
