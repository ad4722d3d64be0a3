//! The `/api/v1` resources, one module each.

mod bookings;
mod channels;
mod consents;
mod contacts;
pub mod imports;
mod mailboxes;
mod message_out;
mod messages;
mod openapi;
mod presets;
pub(crate) mod properties;
mod rules;
mod schemas;
mod sequences;
mod sms;
mod templates;
mod validate;
mod warnings;

use crate::AppState;
use axum::Router;

pub use openapi::ApiDoc;

/// All resources, merged.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(properties::router())
        .merge(contacts::router())
        .merge(consents::router())
        .merge(bookings::router())
        .merge(channels::router())
        .merge(mailboxes::router())
        .merge(sequences::router())
        .merge(templates::router())
        .merge(rules::router())
        .merge(messages::router())
        .merge(sms::router())
        .merge(presets::router())
        .merge(openapi::router())
}
