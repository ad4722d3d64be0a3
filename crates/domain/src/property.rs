//! Properties: the hotel or salon whose messages bellhop sends.

use crate::time::LocalTime;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A hotel or salon: its zone, language, check-in times and sender identity.
#[derive(Clone, Debug)]
pub struct Property {
    /// Stable id.
    pub id: Uuid,
    /// Owning account.
    pub account_id: Uuid,
    /// Display name ("Hotel Alpenblick").
    pub name: String,
    /// IANA zone name, kept for display and storage.
    pub time_zone_name: String,
    /// The zone all local times of this property are read in.
    pub time_zone: TimeZone,
    /// ISO 3166-1 alpha-2 country (default phone prefix).
    pub country: String,
    /// Language used when neither booking nor contact has one.
    pub default_language: String,
    /// Local time a stay's arrival day begins for planning ("start" anchor of stays).
    pub check_in_time: LocalTime,
    /// Local time a stay's departure day ends ("end" anchor of stays).
    pub check_out_time: LocalTime,
    /// Sender of emails.
    pub sender: Sender,
    /// HTML layout around every email body; `{{ content }}` marks where the body goes.
    pub layout_html: Option<String>,
    /// Text layout around every text body.
    pub layout_text: Option<String>,
}

/// Who emails come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// The From address.
    pub email: String,
    /// The From display name.
    pub name: String,
    /// Where replies go, if not the From address.
    pub reply_to: Option<String>,
}
