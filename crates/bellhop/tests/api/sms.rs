//! The SMS side of the API: settings, templates, rules, the editor's analysis, one-time codes,
//! bulk SMS, the overview, and the gateway callbacks with their tokens and signatures.

use super::helpers::{Api, KANNEL_MO_TOKEN, TWILIO_TOKEN};
use super::is_problem;
use axum::http::StatusCode;
use serde_json::{Value, json};

impl Api {
    /// A salon in Vienna that sends SMS as "SalonAnna".
    async fn salon(&self, sms: Value) -> String {
        let r = self.post("/api/v1/properties", json!({
            "name": "Salon Anna", "time_zone": "Europe/Vienna", "country": "AT", "default_language": "de",
            "sender_email": "termine@salon.example", "sender_name": "Salon Anna", "sms": sms
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    async fn sms_template(&self, property: &str, text: &str) -> String {
        let r = self.post("/api/v1/templates", json!({
            "property_id": property, "name": "SMS", "channel": "sms", "variants": {"de": {"text": text}}
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    async fn form(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> super::helpers::Reply {
        let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        self.call_raw("POST", path, body, &h).await
    }
}

#[tokio::test]
async fn sms_bad_input_gets_problem_details_naming_the_field() {
    let api = Api::new().await;
    let salon = api.salon(json!({"sender": "SalonAnna"})).await;
    let no_sms = api.hotel().await;
    let sms_template = api
        .sms_template(&salon, "Bis morgen, {{ guest.first_name }}")
        .await;
    let email_template = api.template(&salon).await;
    let property = |sms: Value| {
        json!({"name": "S", "time_zone": "Europe/Vienna", "country": "AT",
        "sender_email": "a@b.example", "sender_name": "S", "sms": sms})
        .to_string()
    };
    let rule = |p: &str, channel: &str, template: &str, fallback: Option<&str>| {
        json!({
        "property_id": p, "name": "r", "anchor": "start", "offset": {"amount": -24, "unit": "hours"},
        "channel": channel, "template_id": template, "fallback_template_id": fallback}).to_string()
    };
    let long = "a".repeat(153 * 10 + 1);
    let long_code = format!("{{{{ code }}}} {}", "a".repeat(153 * 10));
    let cases: Vec<(&str, String, &str)> = vec![
        ("/api/v1/properties", property(json!({"sender": "ABCDEFGHIJKL"})), "12 characters"),
        ("/api/v1/properties", property(json!({"sender": "Hotel@Alpin"})), "'@'"),
        ("/api/v1/properties", property(json!({"sender": "12345"})), "no letter"),
        ("/api/v1/properties", property(json!({"sender": "+0664123"})), "E.164"),
        ("/api/v1/properties", property(json!({"plan": {"plan": "per_sms", "price_cents": -1}})), "sms.plan"),
        ("/api/v1/properties", property(json!({"plan": {"plan": "bulk"}})), "sms.plan"),
        ("/api/v1/contacts", json!({"phone": "0000", "country": "AT"}).to_string(), "is not a"),
        ("/api/v1/contacts", json!({"phone": "call me maybe"}).to_string(), "phone"),
        ("/api/v1/contacts", json!({"phone": "0664 1234567", "phone_country": "Austria"}).to_string(), "phone_country"),
        ("/api/v1/bookings", json!({"property_id": salon, "kind": "appointment", "start": "2026-04-01T09:00:00Z", "end": "2026-04-01T10:00:00Z", "contact": {"phone": "0664"}}).to_string(), "contact.phone"),
        ("/api/v1/templates", json!({"property_id": salon, "name": "t", "channel": "sms", "variants": {"de": {"text": ""}}}).to_string(), "variants.de.text"),
        ("/api/v1/templates", json!({"property_id": salon, "name": "t", "channel": "sms", "variants": {"de": {"subject": "x"}}}).to_string(), "variants.de"),
        ("/api/v1/templates", json!({"property_id": salon, "name": "t", "channel": "sms", "variants": {"de": {"text": "{% if %}"}}}).to_string(), "syntax error"),
        ("/api/v1/rules", rule(&no_sms, "sms", &sms_template, None), "template belongs to another property"),
        ("/api/v1/rules", rule(&salon, "sms", &email_template, None), "needs an sms template"),
        ("/api/v1/rules", rule(&salon, "email_or_sms", &email_template, None), "fallback_template_id"),
        ("/api/v1/rules", rule(&salon, "email", &email_template, Some(&sms_template)), "fallback_template_id"),
        ("/api/v1/sms/tans", json!({"property_id": salon, "phone": "0664 1234567", "text": long_code}).to_string(), "11 parts"),
        ("/api/v1/sms/tans", json!({"property_id": salon, "phone": "0664 1234567", "text": "no code here"}).to_string(), "{{ code }}"),
        ("/api/v1/sms/tans", json!({"property_id": salon, "phone": "01 5321234"}).to_string(), "landline"),
        ("/api/v1/sms/tans", json!({"property_id": salon, "phone": "0664 1234567", "ttl_secs": 5}).to_string(), "ttl_secs"),
        ("/api/v1/sms/tans", json!({"property_id": no_sms, "phone": "0664 1234567"}).to_string(), "no SMS sender"),
        ("/api/v1/sms/campaigns", json!({"property_id": salon, "name": "x", "text": "   "}).to_string(), "empty"),
        ("/api/v1/sms/campaigns", json!({"property_id": salon, "name": "x", "text": long}).to_string(), "11 parts"),
    ];
    for (path, body, needle) in cases {
        let r = api
            .call("POST", path, Some(&api.key), Some(&body), &[])
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {:?}",
            r.body
        );
        assert!(is_problem(&r), "{path}: {:?}", r.body);
        assert!(
            r.body.to_string().contains(needle),
            "{path} {body}: {} lacks {needle}",
            r.body
        );
    }
    let r = api
        .get(&format!(
            "/api/v1/properties/{salon}/sms/usage?month=2026-13"
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Where SMS reminders are mandatory, a booking cannot decline them.
    let mandatory = api
        .salon(json!({"sender": "SalonB", "reminders": "mandatory"}))
        .await;
    let r = api
        .post(
            "/api/v1/bookings",
            json!({"property_id": mandatory, "kind": "appointment",
        "start": "2026-04-01T09:00:00Z", "end": "2026-04-01T10:00:00Z", "sms_reminders": false,
        "contact": {"first_name": "Eva", "phone": "0664 1234567"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(r.body.to_string().contains("mandatory"));
}

#[tokio::test]
async fn the_sms_editor_sees_encoding_parts_and_the_characters_that_force_ucs2() {
    let api = Api::new().await;
    let salon = api
        .salon(json!({"sender": "SalonAnna", "smart_encoding": false}))
        .await;
    let r = api
        .post(
            "/api/v1/sms/inspect",
            json!({"text": "„Bis morgen“ 😀", "property_id": salon}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["encoding"], "UCS-2");
    assert_eq!(r.body["segments"], 1);
    assert_eq!(r.body["non_gsm"], json!(["„", "“", "😀"]));
    let r = api
        .post(
            "/api/v1/sms/inspect",
            json!({"text": "„Bis morgen“", "smart_encoding": true}),
        )
        .await;
    assert_eq!(
        (r.body["encoding"].as_str(), r.body["text"].as_str()),
        (Some("GSM-7"), Some("\"Bis morgen\""))
    );
    let r = api
        .post("/api/v1/sms/inspect", json!({"text": "x".repeat(1531)}))
        .await;
    assert_eq!(r.body["segments"], 11);
    assert!(r.body["problem"].as_str().unwrap().contains("at most 10"));

    // Templates show the figures per language for a sample guest; the preview for a booking.
    let r = api.post("/api/v1/templates", json!({"property_id": salon, "name": "t", "channel": "sms",
        "variants": {"de": {"text": "Hallo {{ guest.first_name }}, bis {{ booking.start_time }}!"}, "en": {"text": "Hi 😀"}}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["sms"]["de"]["encoding"], "GSM-7");
    assert_eq!(r.body["sms"]["en"]["encoding"], "UCS-2");
    // Counted as a sample guest receives it ("Hallo Anna, bis 10:00!"), not as typed.
    assert_eq!(r.body["sms"]["de"]["units"], 22, "{:?}", r.body["sms"]);
    assert_eq!(r.body["sms"]["de"]["text"], "Hallo Anna, bis 10:00!");
    let template = r.body["id"].as_str().unwrap().to_owned();
    let b = api
        .post(
            "/api/v1/bookings",
            json!({"property_id": salon, "kind": "appointment",
        "start": "2026-04-01T08:00:00Z", "end": "2026-04-01T09:00:00Z",
        "contact": {"first_name": "Zoë", "phone": "0664 1234567"}}),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{:?}", b.body);
    let booking = b.body["booking"]["id"].as_str().unwrap();
    let p = api
        .post(
            &format!("/api/v1/templates/{template}/preview"),
            json!({"booking_id": booking}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    assert_eq!(p.body["text"], "Hallo Zoë, bis 10:00!");
    assert_eq!(p.body["sms"]["encoding"], "UCS-2", "ë is not GSM");
    assert_eq!(p.body["sms"]["non_gsm"], json!(["ë"]));
    assert!(p.body.get("subject").is_none());
    // The contact's number was read in the property's country.
    let contact = b.body["booking"]["contact_id"].as_str().unwrap();
    let c = api.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(
        (c.body["phone"].as_str(), c.body["phone_e164"].as_str()),
        (Some("0664 1234567"), Some("+436641234567"))
    );
    assert_eq!(c.body["phone_type"], "mobile");
}

#[tokio::test]
async fn sms_resources_of_another_account_are_not_found() {
    let api = Api::new().await;
    let salon = api.salon(json!({"sender": "SalonAnna"})).await;
    let tan = api
        .post(
            "/api/v1/sms/tans",
            json!({"property_id": salon, "phone": "0664 1234567"}),
        )
        .await;
    assert_eq!(tan.status, StatusCode::CREATED, "{:?}", tan.body);
    let id = tan.body["id"].as_str().unwrap();
    let contact = tan.body["contact_id"].as_str().unwrap();
    let theirs = [
        (
            "POST",
            format!("/api/v1/sms/tans/{id}/verify"),
            Some(json!({"code": "123456"})),
        ),
        ("GET", format!("/api/v1/properties/{salon}/sms/usage"), None),
        ("GET", format!("/api/v1/contacts/{contact}/sms"), None),
        (
            "POST",
            format!("/api/v1/contacts/{contact}/sms/consent"),
            Some(json!({"action": "opt_out"})),
        ),
    ];
    for (method, path, body) in theirs {
        let body = body.map(|b| b.to_string());
        let other = api
            .call(method, &path, Some(&api.other_key), body.as_deref(), &[])
            .await;
        assert_eq!(
            other.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            other.body
        );
        let mine = api
            .call(method, &path, Some(&api.key), body.as_deref(), &[])
            .await;
        assert!(mine.status.is_success(), "{method} {path}: {:?}", mine.body);
    }
    let r = api
        .call(
            "POST",
            "/api/v1/sms/tans",
            Some(&api.other_key),
            Some(&json!({"property_id": salon, "phone": "0664 1234567"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another account's property is no property"
    );
    let r = api
        .call(
            "POST",
            "/api/v1/sms/campaigns",
            Some(&api.other_key),
            Some(
                &json!({"property_id": salon, "name": "x", "text": "Hallo", "dry_run": true})
                    .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_staff_opt_out_shows_on_the_contact_and_a_tan_verifies_once() {
    let api = Api::new().await;
    let salon = api.salon(json!({"sender": "+436641111111"})).await;
    let tan = api.post("/api/v1/sms/tans", json!({"property_id": salon, "phone": "+43 664 1234567", "code": "4711", "purpose": "login"})).await;
    assert_eq!(tan.status, StatusCode::CREATED, "{:?}", tan.body);
    let id = tan.body["id"].as_str().unwrap();
    let path = format!("/api/v1/sms/tans/{id}/verify");
    for (code, expected) in [
        ("1234", json!({"result": "wrong", "attempts_left": 4})),
        ("4711", json!({"result": "verified"})),
        ("4711", json!({"result": "locked"})),
    ] {
        assert_eq!(
            api.post(&path, json!({"code": code})).await.body,
            expected,
            "{code}"
        );
    }

    let contact = tan.body["contact_id"].as_str().unwrap();
    let r = api
        .post(
            &format!("/api/v1/contacts/{contact}/sms/consent"),
            json!({"action": "opt_out"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["opted_out"], true);
    let events = r.body["consent_events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "SMS of every purpose withdrawn");
    assert!(
        events
            .iter()
            .all(|e| e["source"] == "api" && e["granted"] == false)
    );
    let r = api
        .post(
            &format!("/api/v1/contacts/{contact}/sms/consent"),
            json!({"action": "opt_in"}),
        )
        .await;
    assert_eq!(r.body["opted_out"], false);
    let events = r.body["consent_events"].as_array().unwrap();
    assert_eq!(events.len(), 4, "append-only");
    assert_eq!(
        (&events[3]["purpose"], &events[3]["granted"]),
        (&json!("service"), &json!(true)),
        "an opt-in lifts the opt-out of service SMS; it grants no advertising"
    );
    let p = api.get(&format!("/api/v1/properties/{salon}")).await;
    assert_eq!(p.body["sms_replies_possible"], true);
}

#[tokio::test]
async fn gateway_callbacks_need_their_token_or_signature() {
    let api = Api::new().await;
    let salon = api
        .salon(json!({"sender": "SalonAnna", "quiet_hours": null}))
        .await;
    let template = api.sms_template(&salon, "Bis morgen").await;
    let r = api.post("/api/v1/rules", json!({"property_id": salon, "name": "r", "anchor": "booking_created",
        "offset": {"amount": 0, "unit": "minutes"}, "channel": "sms", "template_id": template, "late_policy": "send_now"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let mut ids = Vec::new();
    for phone in ["0664 1000001", "0664 1000002"] {
        let b = api.post("/api/v1/bookings", json!({"property_id": salon, "kind": "appointment",
            "start": "2026-04-01T08:00:00Z", "end": "2026-04-01T09:00:00Z", "contact": {"first_name": "Eva", "phone": phone}})).await;
        let booking = b.body["booking"]["id"].as_str().unwrap().to_owned();
        let m = api
            .get(&format!("/api/v1/messages?booking_id={booking}"))
            .await;
        ids.push(m.body["items"][0]["id"].as_str().unwrap().to_owned());
    }
    let dir = tempfile::tempdir().unwrap();
    let transports = bellhop_engine::Transports {
        email: std::sync::Arc::new(bellhop_transport::EmailTransport::Folder(
            bellhop_transport::EmlFolder::new(dir.path()).unwrap(),
        )),
        sms: std::sync::Arc::new(bellhop_transport::sms::SmsGateway::Folder(
            bellhop_transport::sms::SmsFolder::new(dir.path()).unwrap(),
        )),
        voice: std::sync::Arc::new(bellhop_transport::sms::VoiceGateway::None),
        webhook: Default::default(),
    };
    let dispatcher = bellhop_engine::Dispatcher::new(
        api.store.clone(),
        transports,
        std::sync::Arc::new(api.clock.clone()),
        bellhop_engine::DispatchConfig::default(),
    );
    assert_eq!(dispatcher.drain().await.unwrap().sent, 2);

    // Kannel: the token of another message, or none, is refused; the right one is applied.
    let (a, b) = (&ids[0], &ids[1]);
    let token_a = api.engine.signer().delivery_token(a.parse().unwrap());
    for query in [
        format!("message={b}&token={token_a}&type=1"),
        format!("message={a}&type=1"),
        format!("message={a}&token=00&type=1"),
    ] {
        let r = api
            .call_raw(
                "GET",
                &format!("/callbacks/sms/kannel/dlr?{query}"),
                "",
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{query}");
        assert!(is_problem(&r));
    }
    let r = api
        .call_raw(
            "GET",
            &format!("/callbacks/sms/kannel/dlr?message={a}&token={token_a}&type=1&reply=ACK"),
            "",
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        api.get(&format!("/api/v1/messages/{a}")).await.body["status"],
        "delivered"
    );

    // Twilio: the status callback must carry a valid X-Twilio-Signature over the URL we gave.
    let token_b = api.engine.signer().delivery_token(b.parse().unwrap());
    let path = format!("/callbacks/sms/twilio/status?message={b}&token={token_b}");
    let form = vec![
        ("MessageSid".to_owned(), "SM123".to_owned()),
        ("MessageStatus".to_owned(), "undelivered".to_owned()),
        ("ErrorCode".to_owned(), "30003".to_owned()),
    ];
    let body = "MessageSid=SM123&MessageStatus=undelivered&ErrorCode=30003";
    let url = format!("http://127.0.0.1{path}");
    let good = bellhop_transport::callbacks::twilio_signature(TWILIO_TOKEN, &url, &form);
    let forged = bellhop_transport::callbacks::twilio_signature("not-the-token", &url, &form);
    assert_eq!(
        api.form(&path, body, &[("x-twilio-signature", &forged)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.form(&path, body, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let r = api
        .form(&path, body, &[("x-twilio-signature", &good)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        api.get(&format!("/api/v1/messages/{b}")).await.body["status"],
        "failed"
    );
    let history = api.get(&format!("/api/v1/messages/{b}/history")).await;
    assert!(history.body.to_string().contains("error 30003"));

    // Kannel MO: only with the configured token.
    let mo = "from=%2B436641000001&to=SalonAnna&text=STOP";
    let r = api
        .call_raw(
            "GET",
            &format!("/callbacks/sms/kannel/mo?token=wrong&{mo}"),
            "",
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api
        .call_raw(
            "GET",
            &format!("/callbacks/sms/kannel/mo?token={KANNEL_MO_TOKEN}&{mo}"),
            "",
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let m = api.get(&format!("/api/v1/messages/{a}")).await;
    let contact = m.body["contact_id"].as_str().unwrap();
    let record = api.get(&format!("/api/v1/contacts/{contact}/sms")).await;
    assert_eq!(record.body["opted_out"], true, "{:?}", record.body);
}
