//! Tenant isolation generated from the OpenAPI document the API serves: every operation that
//! takes a record's id (in its path or as a `…_id` query parameter) is called with account
//! A's key on account B's record. Each must answer exactly as it does for an id that does not
//! exist (404), show nothing of B, and change nothing of B's (every read B can make is the
//! same afterwards). A new endpoint is walked without editing this file; one over a kind of
//! record B has none of fails, naming the kind to add to `b_world`.

use crate::helpers::Api;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Words only B's records contain: no answer to A may show one.
const B_MARKERS: [&str; 5] = [
    "Bernadette",
    "Bergblick B",
    "Rezeption B",
    "Frage von B",
    "V-B-100",
];

/// B's records by the path segment that names their kind (`bookings`, `inbound-mails`, ...).
type Ids = BTreeMap<String, String>;

async fn as_b(api: &Api, method: &str, path: &str, body: Value) -> Value {
    let body = body.to_string();
    let r = api
        .call(
            method,
            path,
            Some(&api.other_key),
            Some(&body),
            &[("idempotency-key", &uuid::Uuid::now_v7().to_string())],
        )
        .await;
    assert!(r.status.is_success(), "B: {method} {path}: {:?}", r.body);
    r.body
}

fn id(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {v}"))
        .to_owned()
}

/// One record of every kind, in account B.
async fn b_world(api: &Api) -> Ids {
    let mut ids = Ids::new();
    let property = as_b(api, "POST", "/api/v1/properties", json!({
        "name": "Hotel Bergblick B", "time_zone": "Europe/Vienna", "country": "AT", "default_language": "de",
        "sender_email": "info@bergblick.example", "sender_name": "Hotel Bergblick B",
        "sms": {"sender": "BergblickB"}
    })).await;
    let property = id(&property, "/id");
    let template = as_b(api, "POST", "/api/v1/templates", json!({
        "property_id": property, "name": "Vor Anreise B",
        "variants": {"de": {"subject": "Bald, {{ guest.first_name }}", "html": "<p>Hallo {{ guest.first_name }}</p>"}}
    })).await;
    let template = id(&template, "/id");
    let rule = as_b(api, "POST", "/api/v1/rules", json!({
        "property_id": property, "name": "3 Tage vorher B", "anchor": "start",
        "offset": {"amount": -3, "unit": "days"}, "time_of_day": "10:00", "template_id": template
    })).await;
    let contact = as_b(
        api,
        "POST",
        "/api/v1/contacts",
        json!({"first_name": "Bernadette", "last_name": "Gast", "email": "bernadette@b.example",
               "phone": "0664 7654321", "language": "de"}),
    )
    .await;
    let contact = id(&contact, "/id");
    let booking = as_b(
        api,
        "POST",
        "/api/v1/bookings",
        json!({"property_id": property, "kind": "stay", "arrival": "2026-04-01",
               "departure": "2026-04-03", "contact_id": contact}),
    )
    .await;
    let booking = id(&booking, "/booking/id");
    let messages = as_b(
        api,
        "GET",
        &format!("/api/v1/messages?booking_id={booking}"),
        json!(null),
    )
    .await;
    let message = id(&messages, "/items/0/id");

    let channel = as_b(
        api,
        "POST",
        &format!("/api/v1/properties/{property}/channels"),
        json!({"name": "Slevomat B", "kind": "json"}),
    )
    .await;
    let channel_key = id(&channel, "/api_key");
    let pushed = api
        .call(
            "POST",
            "/channel/v1/reservations",
            Some(&channel_key),
            Some(&json!({
                "external_id": "B-100", "status": "confirmed", "revision": 1, "voucher": "V-B-100",
                "arrival": "2026-04-10", "departure": "2026-04-13", "language": "de",
                "guest": {"first_name": "Bernadette", "last_name": "Kanal", "email": "kanal@b.example"}
            }).to_string()),
            &[],
        )
        .await;
    assert!(pushed.status.is_success(), "{:?}", pushed.body);

    let mailbox = as_b(
        api,
        "POST",
        &format!("/api/v1/properties/{property}/mailboxes"),
        json!({
            "name": "Rezeption B", "address": "rezeption@bergblick.example",
            "replies": {"de": {"body": "Danke, {{ mail.sender_name }}: {{ mail.case_number }}"}},
            "default_language": "de", "case_prefix": "BBB"
        }),
    )
    .await;
    let mailbox = id(&mailbox, "/id");
    let inbound = as_b(api, "POST", &format!("/api/v1/mailboxes/{mailbox}/inbound"), json!({
        "envelope_from": "gast@example.pl",
        "message": "From: Gast <gast@example.pl>\r\nTo: rezeption@bergblick.example\r\nSubject: Frage von B\r\nMessage-ID: <b1@example.pl>\r\n\r\nGibt es Parkplaetze?\r\n"
    })).await;
    let sequence = as_b(api, "POST", &format!("/api/v1/properties/{property}/sequences"), json!({
        "name": "Nachfassen B", "steps": [{"offset": {"days": 1, "at": "10:00"}, "template_id": template}]
    })).await;
    let sequence = id(&sequence, "/id");
    let enrolment = as_b(
        api,
        "POST",
        &format!("/api/v1/sequences/{sequence}/enrolments"),
        json!({"contact_id": contact}),
    )
    .await;
    let tan = as_b(
        api,
        "POST",
        "/api/v1/sms/tans",
        json!({"property_id": property, "phone": "0664 1234567"}),
    )
    .await;

    for (kind, value) in [
        ("properties", property),
        ("templates", template),
        ("rules", id(&rule, "/rule/id")),
        ("contacts", contact),
        ("bookings", booking),
        ("messages", message),
        ("channels", id(&channel, "/connection/id")),
        ("by-voucher", "V-B-100".to_owned()),
        ("mailboxes", mailbox),
        ("inbound-mails", id(&inbound, "/id")),
        ("sequences", sequence),
        ("enrolments", id(&enrolment, "/id")),
        ("tans", id(&tan, "/id")),
    ] {
        ids.insert(kind.to_owned(), value);
    }
    ids
}

/// The kind of record a `…_id` query parameter names: `booking_id` → `bookings`.
fn kind_of_query(name: &str) -> Option<String> {
    let stem = name.strip_suffix("_id")?;
    Some(match stem.strip_suffix('y') {
        Some(s) => format!("{s}ies"),
        None => format!("{stem}s"),
    })
}

/// Path parameters that name no record of an account (a preset's key is the same for all).
const SHARED_PARAMETERS: [(&str, &str); 1] = [("/api/v1/presets/{key}", "pre_arrival")];

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    }
}

/// A smallest body the schema accepts: its required properties, each the first of its
/// enum or a plain value of its type (a date where the format is one).
fn example(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return example(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    for any in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[any]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["type"] != "null").or_else(|| a.first()))
        {
            return example(doc, first, depth + 1);
        }
    }
    if let Some(first) = schema["enum"].as_array().and_then(|a| a.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    match kind.as_str() {
        Some("object") => {
            let mut out = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                out.insert(
                    name.to_owned(),
                    example(doc, &schema["properties"][name], depth + 1),
                );
            }
            Value::Object(out)
        }
        Some("array") => json!([]),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(false),
        Some("string") => match schema["format"].as_str() {
            Some("uuid") => json!(uuid::Uuid::now_v7()),
            Some("date") => json!("2026-04-10"),
            Some("date-time") => json!("2026-04-10T10:00:00Z"),
            _ => json!("x"),
        },
        _ => json!({}),
    }
}

/// The body to send with an operation: for a replacement, B's own record as B reads it (so
/// only the owner differs); otherwise the smallest one its schema takes.
async fn body_for(
    api: &Api,
    doc: &Value,
    method: &str,
    template: &str,
    path: &str,
) -> Option<String> {
    let op = &doc["paths"][template][method.to_lowercase()];
    let schema = op["requestBody"]["content"]["application/json"]["schema"].clone();
    if schema.is_null() {
        return (method != "GET" && method != "DELETE").then(|| "{}".to_owned());
    }
    let mut body = example(doc, &schema, 0);
    if method == "PUT" {
        let own = api.call("GET", path, Some(&api.other_key), None, &[]).await;
        let schema = resolve(doc, &schema);
        if let (Some(fields), Some(own), Some(out)) = (
            schema["properties"].as_object(),
            own.body.as_object(),
            body.as_object_mut(),
        ) {
            for (name, value) in own {
                if fields.contains_key(name) && !value.is_null() {
                    out.insert(name.clone(), value.clone());
                }
            }
        }
    }
    Some(body.to_string())
}

/// Every operation of the document: (method, path template, its `…_id` query parameters).
fn operations(doc: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let queries = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .filter(|n| n.ends_with("_id"))
                .map(str::to_owned)
                .collect();
            out.push((method.to_uppercase(), path.clone(), queries));
        }
    }
    out
}

/// `template` with each `{param}` replaced: by B's record of the kind named before it, or by
/// `missing` for record ids (shared parameters keep their value).
fn fill(template: &str, ids: &Ids, missing: Option<&str>) -> String {
    let mut out = String::new();
    let mut previous = "";
    for segment in template.split('/').skip(1) {
        out.push('/');
        if segment.starts_with('{') {
            let shared = SHARED_PARAMETERS
                .iter()
                .find(|(prefix, _)| template.starts_with(prefix) && prefix.ends_with(segment));
            match (shared, missing) {
                (Some((_, value)), _) => out.push_str(value),
                (None, Some(m)) if previous != "by-voucher" => out.push_str(m),
                (None, Some(_)) => out.push_str("V-NOBODY-1"),
                (None, None) => out.push_str(ids.get(previous).unwrap_or_else(|| {
                    panic!("{template}: B has no record of kind {previous:?}; add one to b_world")
                })),
            }
        } else {
            out.push_str(segment);
        }
        previous = segment;
    }
    out
}

/// Every read B can make of its records, by path.
async fn b_reads(api: &Api, doc: &Value, ids: &Ids) -> BTreeMap<String, (StatusCode, Value)> {
    let mut out = BTreeMap::new();
    for (method, template, queries) in operations(doc) {
        if method != "GET" {
            continue;
        }
        let mut path = fill(template.as_str(), ids, None);
        let query: Vec<String> = queries
            .iter()
            .filter_map(|q| Some(format!("{q}={}", ids.get(&kind_of_query(q)?)?)))
            .collect();
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let r = api
            .call("GET", &path, Some(&api.other_key), None, &[])
            .await;
        let mut body = r.body;
        // The request id is new for every request.
        if let Some(o) = body.as_object_mut() {
            o.remove("request_id");
            o.remove("instance");
        }
        out.insert(path, (r.status, body));
    }
    out
}

/// The parts of an answer that must not tell B's record from a missing one.
fn comparable(
    r: &crate::helpers::Reply,
    own: &str,
    missing: &str,
) -> (StatusCode, String, String, String) {
    let text = |k: &str| {
        r.body[k]
            .as_str()
            .unwrap_or_default()
            .replace(own, "<id>")
            .replace(missing, "<id>")
    };
    let errors = r.body["errors"]
        .to_string()
        .replace(own, "<id>")
        .replace(missing, "<id>");
    (r.status, text("title"), text("detail"), errors)
}

#[tokio::test]
async fn account_a_finds_none_of_account_bs_records_through_any_operation_of_the_openapi_document()
{
    let api = Api::new().await;
    let doc = api
        .call("GET", "/api/v1/openapi.json", None, None, &[])
        .await
        .body;
    let ids = b_world(&api).await;
    let before = b_reads(&api, &doc, &ids).await;
    let missing = uuid::Uuid::now_v7().to_string();

    let mut walked = 0;
    for (method, template, queries) in operations(&doc) {
        let has_record_in_path = template.contains('{')
            && !SHARED_PARAMETERS
                .iter()
                .any(|(prefix, _)| template.starts_with(prefix));
        let tenant_queries: Vec<&String> = queries
            .iter()
            .filter(|q| kind_of_query(q).is_some_and(|k| ids.contains_key(&k)))
            .collect();
        if !has_record_in_path && tenant_queries.is_empty() {
            continue;
        }
        walked += 1;
        let body = body_for(&api, &doc, &method, &template, &fill(&template, &ids, None)).await;
        let headers = [("idempotency-key", "isolation-walk"), ("if-match", "1")];
        let call = |path: String| {
            let api = &api;
            let body = body.clone();
            let method = method.clone();
            async move {
                api.call(&method, &path, Some(&api.key), body.as_deref(), &headers)
                    .await
            }
        };
        if has_record_in_path {
            let theirs = fill(&template, &ids, None);
            let nobody = fill(&template, &ids, Some(&missing));
            let r = call(theirs.clone()).await;
            // The record is looked up before the body is read: whatever the body says.
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{method} {theirs} as A: {:?}",
                r.body
            );
            let own = theirs.rsplit('/').find(|s| ids.values().any(|v| v == s));
            let absent = call(nobody).await;
            assert_eq!(
                comparable(&r, own.unwrap_or_default(), &missing),
                comparable(&absent, own.unwrap_or_default(), &missing),
                "{method} {theirs}: B's record answers unlike a missing one"
            );
            let text = r.body.to_string();
            for marker in B_MARKERS {
                assert!(!text.contains(marker), "{method} {theirs} shows {marker}");
            }
        } else {
            // A list filtered by B's record: refused, or empty.
            for q in tenant_queries {
                let value = &ids[&kind_of_query(q).unwrap()];
                let path = format!("{}?{q}={value}", fill(&template, &ids, None));
                let r = call(path.clone()).await;
                let text = r.body.to_string();
                for marker in B_MARKERS {
                    assert!(!text.contains(marker), "{method} {path} shows {marker}");
                }
                match r.status {
                    StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY => {}
                    StatusCode::OK => {
                        let items = r.body.get("items").unwrap_or(&r.body);
                        assert!(
                            items.as_array().is_none_or(Vec::is_empty),
                            "{method} {path} lists B's records: {text}"
                        );
                        assert!(!text.contains(value.as_str()), "{method} {path}: {text}");
                    }
                    other => panic!("{method} {path} as A: {other}: {text}"),
                }
            }
        }
    }
    assert!(walked >= 40, "only {walked} operations walked");
    eprintln!("{walked} operations walked as another account: all 404, nothing changed");

    let after = b_reads(&api, &doc, &ids).await;
    for (path, read) in &before {
        assert_eq!(Some(read), after.get(path), "B's {path} changed");
    }
}
