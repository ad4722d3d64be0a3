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

async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document))
}
