//! The OpenAPI 3 document, generated from the handlers' annotations.

use super::{
    bookings, channels, consents, contacts, imports, mailboxes, messages, presets, properties,
    rules, sequences, sms, templates,
};
use crate::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "bellhop", description = "Guest and customer communication engine: bookings in, the right email or SMS out at the right moment."),
    paths(
        properties::create, properties::list, properties::get_one, properties::replace,
        contacts::create, contacts::list, contacts::get_one, contacts::replace,
        bookings::create, bookings::list, bookings::get_one, bookings::patch, bookings::changes,
        imports::import,
        templates::create, templates::list, templates::get_one, templates::replace, templates::preview,
        rules::create, rules::list, rules::get_one, rules::replace, rules::dry_run,
        messages::list, messages::get_one, messages::history, messages::cancel, messages::send_now,
        messages::timeline, messages::notifications,
        sms::inspect, sms::usage, sms::create_tan, sms::verify_tan, sms::create_campaign, sms::campaigns,
        sms::contact_sms, sms::set_consent,
        presets::list, presets::install, presets::preview,
        consents::get_consents, consents::record, consents::texts, consents::write_text,
        consents::request, consents::export, consents::erase,
        channels::create, channels::list, channels::get_one, channels::update, channels::rotate,
        channels::revoke, channels::by_voucher,
        mailboxes::create, mailboxes::list, mailboxes::get_one, mailboxes::replace, mailboxes::delete,
        mailboxes::explain, mailboxes::hand_in, mailboxes::list_inbound, mailboxes::get_inbound,
        sequences::create, sequences::list, sequences::get_one, sequences::replace, sequences::enrol,
        sequences::list_enrolments, sequences::get_enrolment, sequences::unenrol,
        crate::channel_api::push,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError, bookings::OnConflict)),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "channel_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "a channel connection's key (bhc_…), not an account key",
                    ))
                    .build(),
            ),
        );
    }
}

async fn document() -> Json<serde_json::Value> {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(
        DOCUMENT
            .get_or_init(|| {
                finish(serde_json::to_value(ApiDoc::openapi()).expect("the document serializes"))
            })
            .clone(),
    )
}

/// What the annotations cannot say, said of the whole document: every error answer is
/// `application/problem+json` (RFC 9457), including those no operation lists (401, 405, 413,
/// 415, 429: the `default` response); and a record's answer that adds fields to the record as
/// submitted (`allOf` of a request schema that refuses unknown fields, plus the id and what
/// is derived) allows those fields.
pub fn finish(mut doc: serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    let problem =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                    continue;
                };
                for (status, response) in responses.iter_mut() {
                    if status.starts_with('4') || status.starts_with('5') {
                        response["content"] = problem.clone();
                    }
                }
                responses.entry("default").or_insert_with(
                    || json!({"description": "A problem (RFC 9457)", "content": problem.clone()}),
                );
            }
        }
    }
    let schemas = doc["components"]["schemas"].clone();
    if let Some(all) = doc["components"]["schemas"].as_object_mut() {
        for schema in all.values_mut() {
            open_composed_parts(schema, &schemas);
        }
    }
    doc
}

/// Inside `allOf`, a part that refuses unknown fields would refuse the other parts' fields:
/// such a part is written out in place without the refusal.
fn open_composed_parts(schema: &mut serde_json::Value, schemas: &serde_json::Value) {
    use serde_json::Value;
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(parts)) = map.get_mut("allOf") {
                for part in parts.iter_mut() {
                    let target = part["$ref"]
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                        .map(|name| schemas[name].clone());
                    if let Some(mut inline) = target
                        && inline["additionalProperties"] == Value::Bool(false)
                    {
                        inline
                            .as_object_mut()
                            .unwrap()
                            .remove("additionalProperties");
                        *part = inline;
                    }
                }
            }
            for value in map.values_mut() {
                open_composed_parts(value, schemas);
            }
        }
        Value::Array(items) => {
            for item in items {
                open_composed_parts(item, schemas);
            }
        }
        _ => {}
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document))
}
