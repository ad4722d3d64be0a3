//! The autoresponder through the API: mailboxes, replies once per period with case numbers,
//! the active window, the language, explain, the inbound record, bad input and isolation.

use crate::helpers::Api;
use axum::http::StatusCode;
use serde_json::{Value, json};

async fn mailbox(api: &Api, property: &str, extra: Value) -> String {
    let mut body = json!({
        "name": "Reklamacje", "address": "reklamacje@hotel.example",
        "aliases": ["Complaints@Hotel.example"],
        "replies": {
            "pl": {"subject": "Reklamacja {{ mail.case_number }}", "body": "Dzien dobry {{ mail.sender_name }},\nprzyjelismy zgloszenie {{ mail.case_number }} ({{ mail.subject }})."},
            "en": {"body": "Hello {{ mail.sender_name }}, we registered case {{ mail.case_number }}."}
        },
        "default_language": "en",
        "case_prefix": "REK"
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = api
        .post(&format!("/api/v1/properties/{property}/mailboxes"), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn mail(from: &str, to: &str, subject: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "From: Jan Kowalski <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@mail.example.pl>\r\n{extra_headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        uuid::Uuid::now_v7()
    )
}

const POLISH: &str = "Dzień dobry, chciałbym złożyć reklamację dotyczącą pokoju, w którym mieszkałem w zeszłym tygodniu. Było bardzo zimno.";

async fn hand_in(api: &Api, mailbox: &str, from: &str, message: &str) -> Value {
    let r = api
        .post(
            &format!("/api/v1/mailboxes/{mailbox}/inbound"),
            json!({"message": message, "envelope_from": from}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn a_guest_is_answered_once_per_period_and_every_mail_gets_a_case_number() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let m = mailbox(&api, &hotel, json!({})).await;
    let anna = "jan@example.pl";
    let first = hand_in(
        &api,
        &m,
        anna,
        &mail(anna, "reklamacje@hotel.example", "Zimny pokoj", "", POLISH),
    )
    .await;
    assert_eq!(first["decision"], "replied", "{first}");
    assert_eq!(first["case_number"], "REK-2026-000001");
    assert_eq!(first["language"], "pl");
    assert!(first["reply_message_id"].is_string());

    let second = hand_in(
        &api,
        &m,
        anna,
        &mail(anna, "reklamacje@hotel.example", "Jeszcze raz", "", POLISH),
    )
    .await;
    assert_eq!(second["decision"], "not_replied");
    assert_eq!(second["reason_code"], "period");
    assert_eq!(second["case_number"], "REK-2026-000002");
    assert!(second["reply_message_id"].is_null());

    // Seven days later the same guest is answered again.
    api.clock.advance(jiff::SignedDuration::from_hours(7 * 24));
    let third = hand_in(
        &api,
        &m,
        anna,
        &mail(anna, "complaints@hotel.example", "Trzeci", "", POLISH),
    )
    .await;
    assert_eq!(third["decision"], "replied", "{third}");

    // The reply in the outbox: to the envelope sender, from the null sender, in the thread.
    let (dir, dispatcher) = api.mailer();
    let stats = dispatcher.run_once().await.unwrap();
    assert_eq!(stats.claimed, 2);
    let mut texts: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    texts.sort();
    assert_eq!(texts.len(), 2);
    let text = texts
        .iter()
        .find(|t| t.contains("REK-2026-000001"))
        .unwrap();
    assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
    assert!(text.contains("X-Auto-Response-Suppress: All"), "{text}");
    assert!(
        text.contains("To: \"Jan Kowalski\" <jan@example.pl>")
            || text.contains("To: Jan Kowalski <jan@example.pl>"),
        "{text}"
    );
    assert!(
        text.contains("Subject: Reklamacja REK-2026-000001"),
        "{text}"
    );
    let id = first["message_id"].as_str().unwrap();
    assert!(text.contains(&format!("In-Reply-To: <{id}>")), "{text}");
    assert!(text.contains(&format!("References: <{id}>")), "{text}");
    assert!(
        !text.contains("List-Unsubscribe"),
        "no advertising, no list headers: {text}"
    );

    // The reply's message keeps what was sent; the inbound list shows all three.
    let reply = api
        .get(&format!(
            "/api/v1/messages/{}",
            first["reply_message_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "sent", "{:?}", reply.body);
    assert_eq!(
        reply.body["language"], "pl",
        "the reply's language, not the contact's"
    );
    let list = api.get("/api/v1/inbound-mails").await;
    assert_eq!(list.body.as_array().unwrap().len(), 3);
    let replied = api.get("/api/v1/inbound-mails?decision=replied").await;
    assert_eq!(replied.body.as_array().unwrap().len(), 2);
    let by_sender = api
        .get("/api/v1/inbound-mails?sender=JAN@example.pl&decision=not_replied")
        .await;
    assert_eq!(by_sender.body[0]["reason_code"], "period");
    let one = api
        .get(&format!(
            "/api/v1/inbound-mails/{}",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert!(one.body["raw"].as_str().unwrap().contains("Zimny pokoj"));
}

#[tokio::test]
async fn period_zero_answers_every_mail_and_the_language_follows_the_mail() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let m = mailbox(&api, &hotel, json!({"period_days": 0})).await;
    let en = hand_in(
        &api,
        &m,
        "guest@example.com",
        &mail(
            "guest@example.com",
            "reklamacje@hotel.example",
            "Cold room",
            "Content-Language: en-GB\r\n",
            "It was cold.",
        ),
    )
    .await;
    let again = hand_in(
        &api,
        &m,
        "guest@example.com",
        &mail(
            "guest@example.com",
            "reklamacje@hotel.example",
            "Still cold",
            "",
            "ok",
        ),
    )
    .await;
    assert_eq!(en["decision"], "replied");
    assert_eq!(en["language"], "en");
    assert_eq!(again["decision"], "replied", "period 0 answers every mail");
    // Nothing to detect: the mailbox's default language.
    assert_eq!(again["language"], "en");
    let pl = hand_in(
        &api,
        &m,
        "jan@example.pl",
        &mail(
            "jan@example.pl",
            "reklamacje@hotel.example",
            "Zimno",
            "",
            POLISH,
        ),
    )
    .await;
    assert_eq!(pl["language"], "pl");
}

#[tokio::test]
async fn loops_and_lists_are_never_answered_and_say_why() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let m = mailbox(&api, &hotel, json!({"period_days": 0})).await;
    let cases = [
        ("", "", "null_sender"),
        (
            "a@example.com",
            "Auto-Submitted: auto-replied\r\n",
            "auto_submitted",
        ),
        ("a@example.com", "Precedence: bulk\r\n", "precedence"),
        (
            "a@example.com",
            "List-Id: <x.lists.example>\r\n",
            "list_header",
        ),
        (
            "a@example.com",
            "X-Auto-Response-Suppress: OOF\r\n",
            "auto_response_suppressed",
        ),
        ("MAILER-DAEMON@example.com", "", "system_sender"),
        ("reklamacje@hotel.example", "", "own_address"),
    ];
    for (from, headers, code) in cases {
        let r = hand_in(
            &api,
            &m,
            from,
            &mail(
                "a@example.com",
                "reklamacje@hotel.example",
                "x",
                headers,
                "x",
            ),
        )
        .await;
        assert_eq!(r["decision"], "not_replied", "{code}");
        assert_eq!(r["reason_code"], code);
        assert!(r["case_number"].is_null(), "no case for {code}");
    }
    let not_ours = hand_in(
        &api,
        &m,
        "a@example.com",
        &mail("a@example.com", "everyone@hotel.example", "x", "", "x"),
    )
    .await;
    assert_eq!(not_ours["reason_code"], "not_addressed");
    // Nothing went to the outbox.
    let (_dir, dispatcher) = api.mailer();
    assert_eq!(dispatcher.run_once().await.unwrap().claimed, 0);
}

#[tokio::test]
async fn the_window_opens_and_closes_in_the_property_zone() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    // Vienna is UTC+1 in March: 10:00 local is 09:00 UTC; the clock stands at 08:00 UTC.
    let m = mailbox(
        &api,
        &hotel,
        json!({"period_days": 0, "active_from": "2026-03-01T10:00", "active_until": "2026-03-02T10:00"}),
    )
    .await;
    let got = api.get(&format!("/api/v1/mailboxes/{m}")).await;
    assert_eq!(got.body["active_from"], "2026-03-01T09:00:00Z");
    assert_eq!(got.body["active_now"], false);
    let send = || {
        mail(
            "g@example.com",
            "reklamacje@hotel.example",
            "Hello",
            "Content-Language: en\r\n",
            "Hi",
        )
    };
    let early = hand_in(&api, &m, "g@example.com", &send()).await;
    assert_eq!(early["reason_code"], "inactive");
    assert_eq!(
        early["case_number"], "REK-2026-000001",
        "the case is numbered all the same"
    );
    api.clock.advance(jiff::SignedDuration::from_hours(1));
    assert_eq!(
        hand_in(&api, &m, "g@example.com", &send()).await["decision"],
        "replied"
    );
    api.clock.advance(jiff::SignedDuration::from_hours(24));
    assert_eq!(
        hand_in(&api, &m, "g@example.com", &send()).await["reason_code"],
        "inactive"
    );
    // Switched off: no window at all.
    let r = api
        .call(
            "PUT",
            &format!("/api/v1/mailboxes/{m}"),
            Some(&api.key),
            Some(
                &json!({"name": "Reklamacje", "address": "reklamacje@hotel.example",
                "replies": {"en": {"body": "Hi"}}, "enabled": false})
                .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["period_days"], 7, "the default period");
    assert_eq!(
        hand_in(&api, &m, "g@example.com", &send()).await["reason_code"],
        "inactive"
    );
}

#[tokio::test]
async fn explain_says_what_would_happen_and_stores_nothing() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let m = mailbox(&api, &hotel, json!({})).await;
    let message = mail(
        "jan@example.pl",
        "reklamacje@hotel.example",
        "Pokoj",
        "",
        "x",
    );
    let r = api
        .post(
            &format!("/api/v1/mailboxes/{m}/explain"),
            json!({"message": message, "envelope_from": "jan@example.pl"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["reply"], true);
    assert_eq!(r.body["to"], "jan@example.pl");
    assert_eq!(r.body["subject"], "Auto: Pokoj");
    assert_eq!(r.body["auto_submitted"], "auto-replied");
    // Stateless: the same again still replies, and nothing was recorded.
    let again = api
        .post(
            &format!("/api/v1/mailboxes/{m}/explain"),
            json!({"message": message}),
        )
        .await;
    assert_eq!(
        again.body["reply"], true,
        "Return-Path/From stand in for the envelope"
    );
    let list = api.get("/api/v1/inbound-mails").await;
    assert_eq!(list.body.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn case_numbers_stay_unique_when_mail_arrives_at_once() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let m = mailbox(&api, &hotel, json!({"period_days": 0})).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (app, key, m) = (api.app.clone(), api.key.clone(), m.clone());
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let from = format!("g{i}@example.com");
            let body = json!({"message": mail(&from, "reklamacje@hotel.example", "x", "", "x"), "envelope_from": from});
            let request = axum::http::Request::post(format!("/api/v1/mailboxes/{m}/inbound"))
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(status, StatusCode::CREATED, "{value}");
            value["case_number"].as_str().unwrap().to_owned()
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 16, "{numbers:?}");
    assert_eq!(numbers[15], "REK-2026-000016");
}

#[tokio::test]
async fn bad_settings_and_bad_mail_are_refused_by_name() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let base = json!({"name": "Kontakt", "address": "kontakt@hotel.example", "replies": {"de": {"body": "Danke"}}});
    let cases = [
        (json!({"address": "not an address"}), "address"),
        (json!({"aliases": ["x@"]}), "aliases[0]"),
        (json!({"replies": {}}), "replies"),
        (
            json!({"replies": {"de": {"body": "Hallo {{ mail.sendr_name }}"}}}),
            "replies.de.text",
        ),
        (json!({"replies": {"de": {"body": "{% if %}"}}}), "replies"),
        (json!({"case_prefix": "1 X"}), "case_prefix"),
        (json!({"period_days": 400}), "period_days"),
        (
            json!({"active_from": "2026-03-02T10:00", "active_until": "2026-03-01T10:00"}),
            "active_until",
        ),
    ];
    for (change, field) in cases {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = api
            .post(&format!("/api/v1/properties/{hotel}/mailboxes"), body)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {:?}",
            r.body
        );
        let fields: Vec<&str> = r.body["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{field}: {:?}",
            r.body
        );
    }
    let m = mailbox(&api, &hotel, json!({})).await;
    // An address another mailbox answers.
    let taken = api
        .post(
            &format!("/api/v1/properties/{hotel}/mailboxes"),
            json!({"name": "X", "address": "COMPLAINTS@hotel.example", "replies": {"de": {"body": "x"}}}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{:?}", taken.body);
    // A parameter flood and deep nesting are refused; nothing is recorded.
    let flood = format!(
        "From: a@example.com\r\nTo: reklamacje@hotel.example\r\nContent-Type: text/plain;{}\r\n\r\nx",
        (0..2_000)
            .map(|i| format!(" n*{i}*=a;"))
            .collect::<String>()
    );
    let mut nested = String::from("From: a@example.com\r\nTo: reklamacje@hotel.example\r\n");
    for i in 0..120 {
        nested.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    for message in [flood, nested] {
        let r = api
            .post(
                &format!("/api/v1/mailboxes/{m}/inbound"),
                json!({"message": message, "envelope_from": "a@example.com"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    }
    // Malformed mail and 8-bit headers are taken and decided without harm.
    let r = api
        .post(
            &format!("/api/v1/mailboxes/{m}/inbound"),
            json!({"message": "Subject: \u{fffd}\u{e4}\r\nTo: reklamacje@hotel.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nbroken", "envelope_from": "a@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        api.get("/api/v1/inbound-mails")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn another_account_sees_none_of_it() {
    let api = Api::new().await;
    let hotel = api.hotel().await;
    let m = mailbox(&api, &hotel, json!({})).await;
    let r = hand_in(
        &api,
        &m,
        "jan@example.pl",
        &mail(
            "jan@example.pl",
            "reklamacje@hotel.example",
            "x",
            "",
            POLISH,
        ),
    )
    .await;
    let inbound = r["id"].as_str().unwrap();
    let other = Some(api.other_key.as_str());
    let body = json!({"message": "x", "envelope_from": "a@b.example"}).to_string();
    let put = json!({"name": "X", "address": "x@other.example", "replies": {"de": {"body": "x"}}})
        .to_string();
    for (method, path, body) in [
        ("GET", format!("/api/v1/mailboxes/{m}"), None),
        ("PUT", format!("/api/v1/mailboxes/{m}"), Some(put.as_str())),
        ("DELETE", format!("/api/v1/mailboxes/{m}"), None),
        (
            "POST",
            format!("/api/v1/mailboxes/{m}/explain"),
            Some(body.as_str()),
        ),
        (
            "POST",
            format!("/api/v1/mailboxes/{m}/inbound"),
            Some(body.as_str()),
        ),
        ("GET", format!("/api/v1/inbound-mails/{inbound}"), None),
        (
            "POST",
            format!("/api/v1/properties/{hotel}/mailboxes"),
            Some(put.as_str()),
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
    let list = api.call("GET", "/api/v1/mailboxes", other, None, &[]).await;
    assert_eq!(list.body, json!([]));
    let mails = api
        .call("GET", "/api/v1/inbound-mails", other, None, &[])
        .await;
    assert_eq!(mails.body, json!([]));
    // And the mailbox is untouched.
    let mine = api.get(&format!("/api/v1/mailboxes/{m}")).await;
    assert_eq!(mine.body["enabled"], true);
}
