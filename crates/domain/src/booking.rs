//! Bookings: hotel stays and appointments, and their statuses.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// What is booked: a stay (dates) or an appointment (instants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingKind {
    /// A hotel stay from an arrival date to a departure date.
    Stay,
    /// An appointment from a start instant to an end instant.
    Appointment,
}

/// The life cycle of a booking (DESIGN.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// A price offer sent to a prospective guest.
    Offer,
    /// A tentative hold that lapses at `option_until`.
    Option,
    /// A channel cart hold that lapses at `hold_expires_at`.
    PendingPayment,
    /// A firm booking.
    Confirmed,
    /// The guest has arrived.
    CheckedIn,
    /// The guest has left.
    CheckedOut,
    /// Cancelled by the guest, the channel or staff.
    Cancelled,
    /// The guest did not come.
    NoShow,
    /// An offer, option or hold that lapsed.
    Expired,
}

impl BookingStatus {
    /// Every status, in life-cycle order.
    pub const ALL: [BookingStatus; 9] = [
        Self::Offer,
        Self::Option,
        Self::PendingPayment,
        Self::Confirmed,
        Self::CheckedIn,
        Self::CheckedOut,
        Self::Cancelled,
        Self::NoShow,
        Self::Expired,
    ];

    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Option => "option",
            Self::PendingPayment => "pending_payment",
            Self::Confirmed => "confirmed",
            Self::CheckedIn => "checked_in",
            Self::CheckedOut => "checked_out",
            Self::Cancelled => "cancelled",
            Self::NoShow => "no_show",
            Self::Expired => "expired",
        }
    }

    /// A firm booking that is going ahead or took place.
    pub fn is_firm(self) -> bool {
        matches!(self, Self::Confirmed | Self::CheckedIn | Self::CheckedOut)
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BookingStatus {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "booking status",
                name: s.to_owned(),
            })
    }
}

impl BookingKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stay => "stay",
            Self::Appointment => "appointment",
        }
    }
}

impl FromStr for BookingKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stay" => Ok(Self::Stay),
            "appointment" => Ok(Self::Appointment),
            _ => Err(UnknownName {
                what: "booking kind",
                name: s.to_owned(),
            }),
        }
    }
}

/// A name that is not one of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}")]
pub struct UnknownName {
    /// What kind of name was expected.
    pub what: &'static str,
    /// The name given.
    pub name: String,
}

/// When a booking takes place; the variant decides the booking's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// Arrival and departure dates in the property's zone; times come from the property.
    Stay {
        /// Arrival date (local).
        arrival: Date,
        /// Departure date (local), after arrival.
        departure: Date,
    },
    /// Start and end instants.
    Appointment {
        /// Start instant.
        start: Timestamp,
        /// End instant, after start.
        end: Timestamp,
    },
}

impl Schedule {
    /// The kind this schedule implies.
    pub fn kind(&self) -> BookingKind {
        match self {
            Schedule::Stay { .. } => BookingKind::Stay,
            Schedule::Appointment { .. } => BookingKind::Appointment,
        }
    }

    /// Checks that the end comes after the start, and that both lie in the supported range.
    pub fn validate(&self) -> Result<(), &'static str> {
        match self {
            Schedule::Stay { arrival, departure } if departure <= arrival => {
                Err("departure must be after arrival")
            }
            Schedule::Appointment { start, end } if end <= start => Err("end must be after start"),
            Schedule::Stay { arrival, departure }
                if !supported_date(*arrival) || !supported_date(*departure) =>
            {
                Err(SUPPORTED_RANGE)
            }
            Schedule::Appointment { start, end }
                if !supported_instant(*start) || !supported_instant(*end) =>
            {
                Err(SUPPORTED_RANGE)
            }
            _ => Ok(()),
        }
    }
}

/// What a date outside the supported range is told.
pub const SUPPORTED_RANGE: &str = "dates must lie between 1900-01-01 and 2199-12-31";

/// Whether a booking's date is in the range bellhop plans for: wide enough for any real
/// booking, narrow enough that every rule's offset from it stays a valid instant (a stay in
/// year 9999 plus "end + 1 day" would not be one).
pub fn supported_date(date: jiff::civil::Date) -> bool {
    (jiff::civil::date(1900, 1, 1)..=jiff::civil::date(2199, 12, 31)).contains(&date)
}

/// `supported_date` for an instant (read in UTC).
pub fn supported_instant(at: Timestamp) -> bool {
    supported_date(at.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// The details of a booking that every layer passes on as they are: named once here, stored in
/// columns of the same names, shown and taken by the API under the same keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingDetails {
    /// Room category of a stay.
    #[serde(default)]
    pub room_category: Option<String>,
    /// Service of an appointment.
    #[serde(default)]
    pub service: Option<String>,
    /// Staff member of an appointment.
    #[serde(default)]
    pub staff: Option<String>,
    /// Booking channel it came from (`direct` when made by staff).
    #[serde(default)]
    pub source_channel: Option<String>,
    /// The channel's id for it.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Voucher number, once paid.
    #[serde(default)]
    pub voucher: Option<String>,
    /// Total price in cents.
    #[serde(default)]
    pub price_cents: Option<i64>,
    /// Deposit in cents.
    #[serde(default)]
    pub deposit_cents: Option<i64>,
    /// Amount paid in cents.
    #[serde(default)]
    pub paid_cents: Option<i64>,
    /// Number of guests.
    #[serde(default)]
    pub guests: Option<i32>,
    /// Language for messages about this booking, overriding the contact's.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "de-AT"))]
    pub language: Option<crate::language::LanguageTag>,
    /// Free-text notes (never sent to the guest unless a template uses them).
    #[serde(default)]
    pub notes: Option<String>,
    /// The customer's choice of SMS reminders when booking online (`None`: not asked;
    /// `false`: declined, not allowed where the property makes them mandatory).
    #[serde(default)]
    pub sms_reminders: Option<bool>,
}

/// A broken rule of what a booking may hold: the field and what is wrong with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name, as the API spells it.
    pub field: &'static str,
    /// What is wrong.
    pub message: &'static str,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, message: &'static str) -> Self {
        FieldError { field, message }
    }
}

/// Longest one-line detail (room category, voucher, ...), in characters.
pub const MAX_DETAIL_LINE: usize = 200;
/// Longest notes, in characters.
pub const MAX_NOTES: usize = 10_000;

impl BookingDetails {
    /// Every broken rule: lines of at most 200 characters without control characters, notes
    /// of at most 10,000, amounts between 0 and 100,000,000,000 cents, 1 to 1,000 guests.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        for (field, value) in [
            ("room_category", &self.room_category),
            ("service", &self.service),
            ("staff", &self.staff),
            ("source_channel", &self.source_channel),
            ("external_id", &self.external_id),
            ("voucher", &self.voucher),
        ] {
            let Some(value) = value else { continue };
            if value.chars().count() > MAX_DETAIL_LINE {
                problems.push(FieldError::new(field, "must be at most 200 characters"));
            } else if value.chars().any(char::is_control) {
                problems.push(FieldError::new(
                    field,
                    "must be one line without control characters",
                ));
            }
        }
        if let Some(notes) = &self.notes {
            if notes.chars().count() > MAX_NOTES {
                problems.push(FieldError::new("notes", "must be at most 10000 characters"));
            } else if notes.contains('\0') {
                problems.push(FieldError::new("notes", "must not contain NUL characters"));
            }
        }
        for (field, cents) in [
            ("price_cents", self.price_cents),
            ("deposit_cents", self.deposit_cents),
            ("paid_cents", self.paid_cents),
        ] {
            if cents.is_some_and(|c| !(0..=100_000_000_000).contains(&c)) {
                problems.push(FieldError::new(
                    field,
                    "must be between 0 and 100,000,000,000 cents",
                ));
            }
        }
        if self.guests.is_some_and(|g| !(1..=1000).contains(&g)) {
            problems.push(FieldError::new("guests", "must be between 1 and 1000"));
        }
        problems
    }
}

/// What can be changed about a booking: everything but its identity and bookkeeping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingFields {
    /// The hotel or salon.
    pub property_id: Uuid,
    /// The guest or customer.
    pub contact_id: Uuid,
    /// Current status.
    pub status: BookingStatus,
    /// When it takes place.
    pub schedule: Schedule,
    /// End of a tentative option.
    pub option_until: Option<Timestamp>,
    /// End of an unpaid channel cart hold.
    pub hold_expires_at: Option<Timestamp>,
    /// Everything else, passed on as it is.
    #[serde(flatten)]
    pub details: BookingDetails,
}

impl BookingFields {
    /// A booking of `contact` at `property` with nothing but its status and schedule; set the
    /// other fields with struct update syntax.
    pub fn new(
        property_id: Uuid,
        contact_id: Uuid,
        status: BookingStatus,
        schedule: Schedule,
    ) -> Self {
        BookingFields {
            property_id,
            contact_id,
            status,
            schedule,
            option_until: None,
            hold_expires_at: None,
            details: BookingDetails::default(),
        }
    }

    /// Stay or appointment.
    pub fn kind(&self) -> BookingKind {
        self.schedule.kind()
    }

    /// The first broken rule: a schedule that ends after it starts within the supported range,
    /// instants in that range, an option with its end, a payment hold with its end, and
    /// details within their limits.
    pub fn check(&self) -> Result<(), FieldError> {
        self.schedule
            .validate()
            .map_err(|m| FieldError::new("schedule", m))?;
        for (field, at) in [
            ("option_until", self.option_until),
            ("hold_expires_at", self.hold_expires_at),
        ] {
            if at.is_some_and(|at| !supported_instant(at)) {
                return Err(FieldError::new(field, SUPPORTED_RANGE));
            }
        }
        if self.status == BookingStatus::Option && self.option_until.is_none() {
            return Err(FieldError::new(
                "option_until",
                "an option needs option_until",
            ));
        }
        if self.status == BookingStatus::PendingPayment && self.hold_expires_at.is_none() {
            return Err(FieldError::new(
                "hold_expires_at",
                "a pending payment hold needs hold_expires_at",
            ));
        }
        match self.details.problems().first() {
            Some(problem) => Err(*problem),
            None => Ok(()),
        }
    }

    /// Whether a change from `self` to `next` counts as a modification the guest is told about.
    pub fn is_modified_by(&self, next: &BookingFields) -> bool {
        let (a, b) = (&self.details, &next.details);
        self.schedule != next.schedule
            || a.room_category != b.room_category
            || a.service != b.service
            || a.staff != b.staff
            || a.guests != b.guests
            || a.price_cents != b.price_cents
    }
}

/// A booking as the planner sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    /// Stable id.
    pub id: Uuid,
    /// Owning account (tenant).
    pub account_id: Uuid,
    /// What can be changed.
    #[serde(flatten)]
    pub fields: BookingFields,
    /// Creation instant.
    pub created_at: Timestamp,
    /// Last change of any kind.
    pub updated_at: Timestamp,
    /// Increments with every change.
    pub version: i64,
    /// When the current status was entered.
    pub status_changed_at: Timestamp,
    /// The version in which the current status was entered.
    pub status_version: i64,
    /// Last change of dates, room, service, staff, guests or price (for modification mails).
    pub modified_at: Option<Timestamp>,
    /// The version of that last modification.
    pub modified_version: Option<i64>,
}

impl Booking {
    /// A booking as first stored: version 1, its status entered now.
    pub fn created(id: Uuid, account_id: Uuid, fields: BookingFields, now: Timestamp) -> Booking {
        Booking {
            id,
            account_id,
            fields,
            created_at: now,
            updated_at: now,
            version: 1,
            status_changed_at: now,
            status_version: 1,
            modified_at: None,
            modified_version: None,
        }
    }

    /// Stay or appointment.
    pub fn kind(&self) -> BookingKind {
        self.fields.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_name() {
        for status in BookingStatus::ALL {
            assert_eq!(status.as_str().parse::<BookingStatus>().unwrap(), status);
        }
        assert!("gone".parse::<BookingStatus>().is_err());
    }

    #[test]
    fn schedules_must_end_after_they_start() {
        let d = jiff::civil::date(2026, 5, 1);
        assert!(
            Schedule::Stay {
                arrival: d,
                departure: d
            }
            .validate()
            .is_err()
        );
        assert!(
            Schedule::Stay {
                arrival: d,
                departure: d.tomorrow().unwrap()
            }
            .validate()
            .is_ok()
        );
    }
}
