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

/// A booking as the planner sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    /// Stable id.
    pub id: Uuid,
    /// Owning account (tenant).
    pub account_id: Uuid,
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
    /// Room category of a stay.
    pub room_category: Option<String>,
    /// Service of an appointment.
    pub service: Option<String>,
    /// Staff member of an appointment.
    pub staff: Option<String>,
    /// Booking channel it came from (`direct` when made by staff).
    pub source_channel: Option<String>,
    /// The channel's id for it.
    pub external_id: Option<String>,
    /// Voucher number, once paid.
    pub voucher: Option<String>,
    /// Total price in cents.
    pub price_cents: Option<i64>,
    /// Deposit in cents.
    pub deposit_cents: Option<i64>,
    /// Amount paid in cents.
    pub paid_cents: Option<i64>,
    /// Number of guests.
    pub guests: Option<i32>,
    /// Language for messages about this booking (BCP 47), overriding the contact's.
    pub language: Option<String>,
    /// Free-text notes (never sent to the guest unless a template uses them).
    pub notes: Option<String>,
    /// The customer's choice of SMS reminders when booking online (`None`: not asked).
    pub sms_reminders: Option<bool>,
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
    /// Stay or appointment.
    pub fn kind(&self) -> BookingKind {
        self.schedule.kind()
    }

    /// Whether a change from `self` to `next` counts as a modification the guest is told about.
    pub fn is_modified_by(&self, next: &Booking) -> bool {
        self.schedule != next.schedule
            || self.room_category != next.room_category
            || self.service != next.service
            || self.staff != next.staff
            || self.guests != next.guests
            || self.price_cents != next.price_cents
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
