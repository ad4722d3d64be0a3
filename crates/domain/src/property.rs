//! Properties: the hotel or salon whose messages bellhop sends.

use crate::billing::SmsPlan;
use crate::quiet::QuietHours;
use crate::sms::SenderId;
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
    /// Logo, colour, address, phone and links for the built-in layout and for templates.
    pub brand: Brand,
    /// SMS: sender, plan, limit and the rules SMS follow here.
    pub sms: SmsSettings,
    /// Whether service messages need explicit consent here.
    pub consent: crate::consent::ConsentPolicy,
}

impl Property {
    /// The HTML layout its mails are wrapped in: its own, or the built-in one.
    pub fn html_layout(&self) -> &str {
        self.layout_html
            .as_deref()
            .unwrap_or(crate::render::DEFAULT_LAYOUT_HTML)
    }

    /// The text layout its mails are wrapped in: its own, or the built-in one.
    pub fn text_layout(&self) -> &str {
        self.layout_text
            .as_deref()
            .unwrap_or(crate::render::DEFAULT_LAYOUT_TEXT)
    }
}

/// How a property presents itself in its mails. Every part is optional; the built-in layout
/// shows what is there and leaves out what is not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Brand {
    /// Logo image (`https://…`, about 200 × 60 px); the name is shown as text without one.
    pub logo_url: Option<String>,
    /// Brand colour `#RRGGBB` for the header line and buttons (default a dark blue).
    pub color: Option<String>,
    /// Postal address on one line ("Alpenstraße 1, 6020 Innsbruck").
    pub address: Option<String>,
    /// Phone number as guests should dial it.
    pub phone: Option<String>,
    /// Website (`https://…`).
    pub website: Option<String>,
    /// A map of the way there (`https://…`).
    pub map_url: Option<String>,
    /// Where to book again (`https://…`).
    pub booking_url: Option<String>,
    /// How presets greet: `full_name` ("Guten Tag Anna Berger", "Dear Anna Berger") or
    /// `first_name` ("Hallo Anna", "Hi Anna"); by default hotels use the full name, salons
    /// the first.
    pub salutation: Option<Salutation>,
}

/// How presets greet a guest whose name is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Salutation {
    /// "Guten Tag Anna Berger", "Dear Anna Berger".
    FullName,
    /// "Hallo Anna", "Hi Anna".
    FirstName,
}

impl Salutation {
    /// As templates see it (`property.salutation`).
    pub fn as_str(self) -> &'static str {
        match self {
            Salutation::FullName => "full_name",
            Salutation::FirstName => "first_name",
        }
    }
}

impl Brand {
    /// Every broken rule, as (field, message): `#RRGGBB` colours, `https://` (or `http://`)
    /// links of at most 500 characters, one-line address and phone.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut problems = Vec::new();
        if let Some(c) = &self.color {
            let hex = c.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                problems.push(("color", "must be a colour such as #1f4e79"));
            }
        }
        for (field, url) in [
            ("logo_url", &self.logo_url),
            ("website", &self.website),
            ("map_url", &self.map_url),
            ("booking_url", &self.booking_url),
        ] {
            if let Some(url) = url {
                let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
                if !scheme_ok
                    || url.len() > 500
                    || url
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control() || c == '"')
                {
                    problems.push((
                        field,
                        "must be an https:// address without spaces or quotes",
                    ));
                }
            }
        }
        for (field, line) in [("address", &self.address), ("phone", &self.phone)] {
            if let Some(line) = line
                && (line.chars().count() > 200 || line.chars().any(char::is_control))
            {
                problems.push((field, "must be one line of at most 200 characters"));
            }
        }
        problems
    }
}

/// A property's SMS settings. SMS are off until a sender is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// Sender name (1–11 letters, digits, spaces) or E.164 number; `None`: no SMS.
    pub sender: Option<SenderId>,
    /// How SMS are paid for.
    pub plan: SmsPlan,
    /// SMS (parts) per local calendar month; beyond it SMS are rejected, not sent, not billed.
    pub monthly_limit: Option<u32>,
    /// Replace typographic characters with GSM ones when that makes a text GSM-7.
    pub smart_encoding: bool,
    /// No SMS in this local window (default 21:00–08:00); `None`: any time.
    pub quiet_hours: Option<QuietHours>,
    /// Landlines get the text read out in a voice call; otherwise they are skipped.
    pub landline_voice: bool,
    /// Online booking: may customers decline SMS reminders?
    pub reminders: ReminderChoice,
    /// Which SMS an opt-out (STOP) stops.
    pub stop_applies_to: StopScope,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            sender: None,
            plan: SmsPlan::default(),
            monthly_limit: None,
            smart_encoding: true,
            quiet_hours: Some(QuietHours::default()),
            landline_voice: false,
            reminders: ReminderChoice::default(),
            stop_applies_to: StopScope::default(),
        }
    }
}

/// Whether customers booking online choose SMS reminders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderChoice {
    /// The customer may opt in or out (a booking says `sms_reminders: false` to opt out).
    #[default]
    Optional,
    /// Every customer gets SMS reminders.
    Mandatory,
}

/// Which SMS an opt-out by keyword stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopScope {
    /// Bulk and marketing SMS (service messages rest on the contract).
    #[default]
    Marketing,
    /// Every SMS, service messages too.
    All,
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
