//! Rules: when to send which template to whom.
//!
//! A rule is an anchor in the booking's life ("arrival", "option expires"), a signed offset
//! from it, an optional local time of day, and conditions that must hold at planning time and
//! again at send time.

use crate::booking::{BookingKind, BookingStatus};
use crate::contact::GuestField;
use crate::time::LocalTime;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The moment of a booking a rule counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// The booking was created.
    BookingCreated,
    /// An offer or option was created (only bookings created as offer or option).
    OfferCreated,
    /// Arrival (date + check-in time) or appointment start.
    Start,
    /// Departure (date + check-out time) or appointment end.
    End,
    /// The option's end.
    OptionUntil,
    /// The channel cart hold's end.
    HoldExpiresAt,
    /// The booking entered the given status; each entry is one occurrence.
    StatusChangedTo(BookingStatus),
    /// Dates, room, service, staff, guests or price changed; changes are merged (debounced).
    Modified,
    /// The booking was cancelled (the same as `status_changed_to:cancelled`).
    Cancelled,
    /// A contact was enrolled in a sequence: sequences, not rules, send from it.
    Enrolled,
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anchor::BookingCreated => f.write_str("booking_created"),
            Anchor::OfferCreated => f.write_str("offer_created"),
            Anchor::Start => f.write_str("start"),
            Anchor::End => f.write_str("end"),
            Anchor::OptionUntil => f.write_str("option_until"),
            Anchor::HoldExpiresAt => f.write_str("hold_expires_at"),
            Anchor::StatusChangedTo(s) => write!(f, "status_changed_to:{s}"),
            Anchor::Modified => f.write_str("modified"),
            Anchor::Cancelled => f.write_str("cancelled"),
            Anchor::Enrolled => f.write_str("enrolled"),
        }
    }
}

impl FromStr for Anchor {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Self, RuleError> {
        Ok(match s {
            "booking_created" => Anchor::BookingCreated,
            "offer_created" => Anchor::OfferCreated,
            "start" => Anchor::Start,
            "end" => Anchor::End,
            "option_until" => Anchor::OptionUntil,
            "hold_expires_at" => Anchor::HoldExpiresAt,
            "modified" => Anchor::Modified,
            "cancelled" => Anchor::Cancelled,
            "enrolled" => Anchor::Enrolled,
            other => match other.strip_prefix("status_changed_to:") {
                Some(status) => Anchor::StatusChangedTo(
                    status
                        .parse()
                        .map_err(|_| RuleError::UnknownAnchor(s.to_owned()))?,
                ),
                None => return Err(RuleError::UnknownAnchor(s.to_owned())),
            },
        })
    }
}

impl Serialize for Anchor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Anchor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The unit of an offset: days are calendar days in the property's zone, hours and minutes
/// are exact durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetUnit {
    /// Exact minutes.
    Minutes,
    /// Exact hours.
    Hours,
    /// Calendar days in the property's zone.
    Days,
}

/// A signed distance from the anchor: negative is before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Offset {
    /// Signed amount.
    pub amount: i32,
    /// Unit of the amount.
    pub unit: OffsetUnit,
}

impl Offset {
    /// Largest magnitude allowed: two years.
    pub const MAX_MINUTES: i64 = 2 * 366 * 24 * 60;

    /// An offset in calendar days.
    pub const fn days(amount: i32) -> Self {
        Offset {
            amount,
            unit: OffsetUnit::Days,
        }
    }
    /// An offset in exact hours.
    pub const fn hours(amount: i32) -> Self {
        Offset {
            amount,
            unit: OffsetUnit::Hours,
        }
    }
    /// An offset in exact minutes.
    pub const fn minutes(amount: i32) -> Self {
        Offset {
            amount,
            unit: OffsetUnit::Minutes,
        }
    }

    /// The offset in minutes, treating a day as 1,440 minutes (for range checks and ordering).
    pub fn approx_minutes(self) -> i64 {
        let amount = i64::from(self.amount);
        match self.unit {
            OffsetUnit::Minutes => amount,
            OffsetUnit::Hours => amount * 60,
            OffsetUnit::Days => amount * 1440,
        }
    }
}

/// What to do when a booking arrives (or moves) so late that the send time has passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatePolicy {
    /// Do not send.
    Skip,
    /// Send at once.
    SendNow,
    /// Send at once if the anchor has not passed yet; never a "before arrival" mail after arrival.
    #[default]
    SendIfBeforeAnchor,
}

/// The channel a rule sends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Email.
    #[default]
    Email,
    /// SMS (a voice call for landlines, where the property enabled it).
    Sms,
    /// Email, or SMS when the guest has no email address.
    EmailOrSms,
    /// SMS, or email when the guest cannot get an SMS.
    SmsOrEmail,
}

impl Channel {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::EmailOrSms => "email_or_sms",
            Channel::SmsOrEmail => "sms_or_email",
        }
    }

    /// Whether the rule's first choice is an SMS (quiet hours then shape its send time).
    pub fn sms_first(self) -> bool {
        matches!(self, Channel::Sms | Channel::SmsOrEmail)
    }

    /// Whether the rule has a second choice, sent with `fallback_template_id`.
    pub fn has_fallback(self) -> bool {
        matches!(self, Channel::EmailOrSms | Channel::SmsOrEmail)
    }

    /// The template channels the rule needs: (template_id's, fallback_template_id's).
    pub fn template_channels(self) -> (TemplateChannel, Option<TemplateChannel>) {
        match self {
            Channel::Email => (TemplateChannel::Email, None),
            Channel::Sms => (TemplateChannel::Sms, None),
            Channel::EmailOrSms => (TemplateChannel::Email, Some(TemplateChannel::Sms)),
            Channel::SmsOrEmail => (TemplateChannel::Sms, Some(TemplateChannel::Email)),
        }
    }
}

/// The channel a template is written for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateChannel {
    /// Subject, HTML and text per language.
    #[default]
    Email,
    /// A text per language.
    Sms,
}

impl TemplateChannel {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateChannel::Email => "email",
            TemplateChannel::Sms => "sms",
        }
    }
}

/// Conditions that must all hold, at planning time and again at send time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Allowed booking statuses; when absent, a default per anchor applies (see `plan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<BookingStatus>>,
    /// Allowed kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<BookingKind>>,
    /// Allowed room categories (stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_categories: Option<Vec<String>>,
    /// Allowed services (appointments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    /// Allowed source channels (`direct` for bookings without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_channels: Option<Vec<String>>,
    /// Minimum hours between booking creation and start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_lead_hours: Option<i64>,
    /// Maximum hours between booking creation and start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lead_hours: Option<i64>,
    /// Allowed message languages (primary subtags, such as `de`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    /// The rule applies only while at least one of these guest fields is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_any: Option<Vec<GuestField>>,
}

/// An automation rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id.
    pub id: Uuid,
    /// Owning account.
    pub account_id: Uuid,
    /// The property it belongs to.
    pub property_id: Uuid,
    /// Staff-facing name.
    pub name: String,
    /// What it counts from.
    pub anchor: Anchor,
    /// How far from the anchor.
    pub offset: Offset,
    /// Local time of day; only with an offset in days.
    pub time_of_day: Option<LocalTime>,
    /// Conditions.
    pub conditions: Conditions,
    /// Channel.
    pub channel: Channel,
    /// The template it sends (on the channel's first choice).
    pub template_id: Uuid,
    /// The template of the second choice (`email_or_sms`, `sms_or_email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_template_id: Option<Uuid>,
    /// What to do when booked too late.
    pub late_policy: LatePolicy,
    /// Disabled rules plan nothing; their planned messages are cancelled.
    pub enabled: bool,
}

impl Rule {
    /// Checks the parts of a rule that types cannot express.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return Err(RuleError::Name);
        }
        if self.offset.approx_minutes().abs() > Offset::MAX_MINUTES {
            return Err(RuleError::OffsetOutOfRange(
                self.offset.amount,
                self.offset.unit,
            ));
        }
        if self.time_of_day.is_some() && self.offset.unit != OffsetUnit::Days {
            return Err(RuleError::TimeOfDayNeedsDays);
        }
        if self.anchor == Anchor::Enrolled {
            return Err(RuleError::EnrolledNotYet);
        }
        if self.channel.has_fallback() != self.fallback_template_id.is_some() {
            return Err(RuleError::Fallback(self.channel));
        }
        let c = &self.conditions;
        if let (Some(min), Some(max)) = (c.min_lead_hours, c.max_lead_hours)
            && min > max
        {
            return Err(RuleError::LeadRange);
        }
        let lists = [
            &c.room_categories,
            &c.services,
            &c.source_channels,
            &c.languages,
        ];
        if lists
            .into_iter()
            .flatten()
            .any(|l| l.is_empty() || l.len() > 100)
        {
            return Err(RuleError::EmptyList);
        }
        Ok(())
    }

    /// Whether the rule counts backwards from its anchor.
    pub fn is_before_anchor(&self) -> bool {
        self.offset.amount < 0
    }
}

/// Why a rule is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// Not a known anchor.
    #[error(
        "unknown anchor {0:?}: use booking_created, offer_created, start, end, option_until, \
         hold_expires_at, status_changed_to:<status>, modified or cancelled"
    )]
    UnknownAnchor(String),
    /// Offset beyond two years.
    #[error("offset {0} {1:?} is out of range: at most two years before or after the anchor")]
    OffsetOutOfRange(i32, OffsetUnit),
    /// time_of_day with hours or minutes.
    #[error("time_of_day needs an offset in days (\"3 days before arrival at 10:00\")")]
    TimeOfDayNeedsDays,
    /// The name is empty or too long.
    #[error("a rule needs a name of 1 to 200 characters")]
    Name,
    /// min_lead_hours > max_lead_hours.
    #[error("min_lead_hours is greater than max_lead_hours")]
    LeadRange,
    /// A condition list is empty or has over 100 entries.
    #[error("condition lists must have between 1 and 100 entries")]
    EmptyList,
    /// A fallback template where the channel has none, or none where it needs one.
    #[error(
        "channel {0:?}: email_or_sms and sms_or_email need a fallback_template_id (the second \
         choice's template); email and sms take none"
    )]
    Fallback(Channel),
    /// Sequences are not built yet.
    #[error(
        "the enrolled anchor belongs to sequences: create a sequence (POST /api/v1/properties/{{id}}/sequences) instead of a rule"
    )]
    EnrolledNotYet,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_round_trip_through_their_names() {
        for name in [
            "booking_created",
            "offer_created",
            "start",
            "end",
            "option_until",
            "hold_expires_at",
            "status_changed_to:confirmed",
            "modified",
            "cancelled",
        ] {
            assert_eq!(name.parse::<Anchor>().unwrap().to_string(), name);
        }
        assert!("status_changed_to:gone".parse::<Anchor>().is_err());
        assert!("arrival".parse::<Anchor>().is_err());
    }
}
