//! Booking channels: the reservations they push, which of two versions of one is newer, and
//! the booking a reservation becomes. Both intakes (the JSON channel API and AlpineBits) map
//! what they receive onto [`Reservation`]; everything after that is shared.

use crate::booking::{BookingFields, BookingStatus, FieldError, Schedule};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

names! {
    /// How a channel talks to bellhop.
    ConnectionKind {
        /// bellhop's own JSON channel API, with a key per connection.
        Json = "json",
        /// AlpineBits HotelData GuestRequests, with a user and password per connection.
        AlpineBits = "alpinebits",
    }
}

names! {
    /// Where a channel's reservation stands.
    ReservationStatus {
        /// A request for an offer (AlpineBits `Requested`).
        Inquiry = "inquiry",
        /// An unpaid cart hold: shown as "temporarily unconfirmed", no guest mail, lapses.
        PendingPayment = "pending_payment",
        /// Paid (or firmly reserved).
        Confirmed = "confirmed",
        /// Cancelled by the channel.
        Cancelled = "cancelled",
    }
}

/// The guest as the channel names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelGuest {
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number, international or in the property's country.
    #[serde(default)]
    pub phone: Option<String>,
}

/// An amount of money as a decimal string and its ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// `"1234.50"`.
    pub amount: String,
    /// `"EUR"`.
    pub currency: String,
}

impl Money {
    /// The amount in cents, when it is a decimal with at most two places.
    pub fn cents(&self) -> Option<i64> {
        let (units, fraction) = match self.amount.split_once('.') {
            Some((u, f)) => (u, f),
            None => (self.amount.as_str(), ""),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(units) || fraction.len() > 2 || (!fraction.is_empty() && !digits(fraction)) {
            return None;
        }
        let units: i64 = units.parse().ok()?;
        let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
        units.checked_mul(100)?.checked_add(fraction)
    }
}

/// One reservation as a channel sends it: the whole of it, every time (a push replaces what
/// was stored before).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reservation {
    /// The channel's id of the reservation (order or voucher reference).
    pub external_id: String,
    /// Where it stands.
    pub status: ReservationStatus,
    /// The channel's revision number: a higher one is newer.
    #[serde(default)]
    pub revision: Option<i64>,
    /// When the channel last changed it: a later one is newer (used when no revision is given).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub modified_at: Option<Timestamp>,
    /// Arrival date (absent only for a cancellation of a known reservation).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub arrival: Option<Date>,
    /// Departure date.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub departure: Option<Date>,
    /// The guest's language (`de`, `en-GB`).
    #[serde(default)]
    pub language: Option<String>,
    /// The guest.
    #[serde(default)]
    pub guest: ChannelGuest,
    /// Room category or room type code.
    #[serde(default)]
    pub room_category: Option<String>,
    /// Adults.
    #[serde(default)]
    pub adults: Option<u32>,
    /// The children's ages.
    #[serde(default)]
    pub children_ages: Vec<u32>,
    /// Whether the guest asked for the newsletter (`null`: not asked).
    #[serde(default)]
    pub newsletter: Option<bool>,
    /// The total price.
    #[serde(default)]
    pub total: Option<Money>,
    /// The voucher number: it exists only once the guest has paid in full.
    #[serde(default)]
    pub voucher: Option<String>,
    /// The channel's id of the reservation this one replaces (a date change the channel made
    /// as a new order).
    #[serde(default)]
    pub replaces: Option<String>,
    /// The guest's comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Longest external id, voucher or room category a channel may send.
pub const MAX_REFERENCE: usize = 100;

impl Reservation {
    /// What a channel must get right: an id, dates unless it is a cancellation, a voucher on
    /// a paid reservation where the channel issues them, sane counts and amounts.
    pub fn check(&self, needs_voucher: bool) -> Result<(), FieldError> {
        let line = |v: &Option<String>| {
            v.as_deref().is_some_and(|s| {
                s.chars().count() > MAX_REFERENCE || s.chars().any(char::is_control)
            })
        };
        if self.external_id.trim().is_empty()
            || self.external_id.chars().count() > MAX_REFERENCE
            || self.external_id.chars().any(char::is_control)
        {
            return Err(FieldError::new(
                "external_id",
                "must be 1 to 100 characters without control characters",
            ));
        }
        if line(&self.voucher) {
            return Err(FieldError::new("voucher", "must be at most 100 characters"));
        }
        if line(&self.room_category) {
            return Err(FieldError::new(
                "room_category",
                "must be at most 100 characters",
            ));
        }
        if line(&self.replaces) {
            return Err(FieldError::new(
                "replaces",
                "must be at most 100 characters",
            ));
        }
        if self.replaces.as_deref() == Some(self.external_id.as_str()) {
            return Err(FieldError::new(
                "replaces",
                "a reservation cannot replace itself",
            ));
        }
        match (self.arrival, self.departure) {
            (Some(a), Some(d)) => Schedule::Stay {
                arrival: a,
                departure: d,
            }
            .validate()
            .map_err(|m| FieldError::new("departure", m))?,
            (None, None) if self.status == ReservationStatus::Cancelled => {}
            (None, _) => return Err(FieldError::new("arrival", "an arrival date is needed")),
            (_, None) => return Err(FieldError::new("departure", "a departure date is needed")),
        }
        if needs_voucher
            && self.status == ReservationStatus::Confirmed
            && self.voucher.as_deref().is_none_or(|v| v.trim().is_empty())
        {
            return Err(FieldError::new(
                "voucher",
                "a confirmed reservation needs its voucher number (issued once paid in full)",
            ));
        }
        if self.adults.is_some_and(|a| a > 100) || self.children_ages.len() > 100 {
            return Err(FieldError::new("adults", "at most 100 guests"));
        }
        if self.children_ages.iter().any(|&a| a > 17) {
            return Err(FieldError::new(
                "children_ages",
                "children are 0 to 17 years old",
            ));
        }
        if let Some(total) = &self.total {
            if total.cents().is_none() {
                return Err(FieldError::new(
                    "total.amount",
                    "must be a decimal amount with at most two places, like \"1234.50\"",
                ));
            }
            if total.currency.len() != 3 || !total.currency.bytes().all(|b| b.is_ascii_uppercase())
            {
                return Err(FieldError::new(
                    "total.currency",
                    "must be an ISO 4217 code like \"EUR\"",
                ));
            }
        }
        Ok(())
    }

    /// A hash of everything the reservation says: the same push twice has the same hash.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }

    /// The version the channel gave it.
    pub fn version(&self) -> Version {
        Version {
            revision: self.revision,
            modified_at: self.modified_at,
        }
    }

    /// Guests in all.
    pub fn guests(&self) -> Option<i32> {
        let adults = self.adults?;
        i32::try_from(adults as usize + self.children_ages.len()).ok()
    }
}

/// A version of a reservation as its channel numbers it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Version {
    /// Revision number.
    pub revision: Option<i64>,
    /// Modification time.
    pub modified_at: Option<Timestamp>,
}

impl Version {
    /// Whether `self` is older than `stored` by the revision, or else by the modification
    /// time. Versions without either are never older: the channel then sends each change once.
    pub fn is_older_than(&self, stored: &Version) -> bool {
        match (self.revision, stored.revision) {
            (Some(a), Some(b)) => a < b,
            _ => match (self.modified_at, stored.modified_at) {
                (Some(a), Some(b)) => a < b,
                _ => false,
            },
        }
    }

    /// Whether both name the same version.
    pub fn is_same_as(&self, stored: &Version) -> bool {
        match (self.revision, stored.revision) {
            (Some(a), Some(b)) => a == b,
            _ => match (self.modified_at, stored.modified_at) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

/// What a channel's reservation is known as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReservation {
    /// The booking it became.
    pub booking_id: Uuid,
    /// The version taken.
    pub version: Version,
    /// Its content hash.
    pub content_hash: String,
    /// Its status.
    pub status: ReservationStatus,
    /// First seen as a cart hold.
    pub held_since: Option<Timestamp>,
    /// Staff were told that the channel keeps re-sending a lapsed hold.
    pub hold_reported: bool,
    /// The reservation that replaced it.
    pub replaced_by: Option<String>,
}

/// What a push does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushDecision {
    /// A new reservation: create its booking.
    Create,
    /// A newer (or unnumbered) version: replace the booking's fields.
    Replace,
    /// The same content again: nothing changes, nothing is sent.
    Unchanged,
    /// Older than what is stored, or the same version with other content: refused.
    Stale(String),
    /// The reservation was replaced by another: this push is about a closed order.
    Closed(String),
}

/// Decides a push of `incoming` against what is stored.
pub fn decide(stored: Option<&StoredReservation>, incoming: &Reservation) -> PushDecision {
    let Some(stored) = stored else {
        return PushDecision::Create;
    };
    if let Some(by) = &stored.replaced_by {
        return PushDecision::Closed(format!("reservation was replaced by {by}"));
    }
    if stored.content_hash == incoming.content_hash() {
        return PushDecision::Unchanged;
    }
    let version = incoming.version();
    if version.is_older_than(&stored.version) {
        return PushDecision::Stale("this version is older than the one stored".into());
    }
    if version.is_same_as(&stored.version) {
        return PushDecision::Stale(
            "this version was stored before with other content; send a newer revision".into(),
        );
    }
    if stored.status == ReservationStatus::Confirmed
        && incoming.status == ReservationStatus::PendingPayment
    {
        return PushDecision::Stale("a paid reservation cannot become an unpaid hold again".into());
    }
    PushDecision::Replace
}

/// The booking status a reservation status stands for.
pub fn booking_status(status: ReservationStatus) -> BookingStatus {
    match status {
        ReservationStatus::Inquiry => BookingStatus::Offer,
        ReservationStatus::PendingPayment => BookingStatus::PendingPayment,
        ReservationStatus::Confirmed => BookingStatus::Confirmed,
        ReservationStatus::Cancelled => BookingStatus::Cancelled,
    }
}

/// The booking `r` becomes at `property` for `contact`: `before` is the booking as stored
/// (whose dates a cancellation without dates keeps), `hold_until` the end of a cart hold.
pub fn booking_fields(
    r: &Reservation,
    channel_name: &str,
    property_id: Uuid,
    contact_id: Uuid,
    before: Option<&BookingFields>,
    hold_until: Option<Timestamp>,
) -> Result<BookingFields, FieldError> {
    let schedule = match (r.arrival, r.departure, before) {
        (Some(arrival), Some(departure), _) => Schedule::Stay { arrival, departure },
        (_, _, Some(b)) => b.schedule,
        _ => return Err(FieldError::new("arrival", "an arrival date is needed")),
    };
    let mut fields =
        BookingFields::new(property_id, contact_id, booking_status(r.status), schedule);
    if r.status == ReservationStatus::PendingPayment {
        fields.hold_expires_at = hold_until;
    }
    let d = &mut fields.details;
    d.room_category = r.room_category.clone();
    d.source_channel = Some(channel_name.to_owned());
    d.external_id = Some(r.external_id.clone());
    d.voucher = r.voucher.clone();
    d.price_cents = r.total.as_ref().and_then(Money::cents);
    d.guests = r.guests();
    d.language = r.language.as_deref().and_then(|l| l.parse().ok());
    d.notes = r.comment.clone();
    if let Some(b) = before {
        // What only staff keep (notes they wrote, the SMS choice) survives a channel update.
        if r.comment.is_none() {
            d.notes = b.details.notes.clone();
        }
        d.sms_reminders = b.details.sms_reminders;
        if r.status == ReservationStatus::Cancelled {
            d.room_category = d.room_category.take().or(b.details.room_category.clone());
            d.price_cents = d.price_cents.or(b.details.price_cents);
            d.guests = d.guests.or(b.details.guests);
            d.voucher = d.voucher.take().or(b.details.voucher.clone());
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reservation() -> Reservation {
        Reservation {
            external_id: "SLV-1".into(),
            status: ReservationStatus::Confirmed,
            revision: Some(2),
            modified_at: None,
            arrival: Some(jiff::civil::date(2027, 3, 1)),
            departure: Some(jiff::civil::date(2027, 3, 4)),
            language: Some("cs".into()),
            guest: ChannelGuest::default(),
            room_category: Some("DZ".into()),
            adults: Some(2),
            children_ages: vec![5],
            newsletter: None,
            total: Some(Money {
                amount: "480.5".into(),
                currency: "EUR".into(),
            }),
            voucher: Some("V-77".into()),
            replaces: None,
            comment: None,
        }
    }

    fn stored(r: &Reservation) -> StoredReservation {
        StoredReservation {
            booking_id: Uuid::nil(),
            version: r.version(),
            content_hash: r.content_hash(),
            status: r.status,
            held_since: None,
            hold_reported: false,
            replaced_by: None,
        }
    }

    #[test]
    fn pushes_are_decided_by_content_then_version() {
        let first = reservation();
        let known = stored(&first);
        let newer = Reservation {
            revision: Some(3),
            room_category: Some("EZ".into()),
            ..first.clone()
        };
        let older = Reservation {
            revision: Some(1),
            room_category: Some("EZ".into()),
            ..first.clone()
        };
        let same_revision_other_content = Reservation {
            room_category: Some("EZ".into()),
            ..first.clone()
        };
        let unpaid_again = Reservation {
            revision: Some(3),
            status: ReservationStatus::PendingPayment,
            voucher: None,
            ..first.clone()
        };
        let cases = [
            (None, &first, "create"),
            (Some(&known), &first, "unchanged"),
            (Some(&known), &newer, "replace"),
            (Some(&known), &older, "stale"),
            (Some(&known), &same_revision_other_content, "stale"),
            (Some(&known), &unpaid_again, "stale"),
        ];
        for (stored, incoming, expected) in cases {
            let got = match decide(stored, incoming) {
                PushDecision::Create => "create",
                PushDecision::Replace => "replace",
                PushDecision::Unchanged => "unchanged",
                PushDecision::Stale(_) => "stale",
                PushDecision::Closed(_) => "closed",
            };
            assert_eq!(got, expected, "{incoming:?}");
        }
        let replaced = StoredReservation {
            replaced_by: Some("SLV-2".into()),
            ..known
        };
        assert!(matches!(
            decide(Some(&replaced), &newer),
            PushDecision::Closed(_)
        ));
    }

    #[test]
    fn modification_time_orders_versions_without_revisions() {
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        let old = Version {
            revision: None,
            modified_at: at("2026-12-01T10:00:00Z"),
        };
        let new = Version {
            revision: None,
            modified_at: at("2026-12-01T10:05:00Z"),
        };
        assert!(old.is_older_than(&new));
        assert!(!new.is_older_than(&old));
        assert!(!Version::default().is_older_than(&new));
    }

    #[test]
    fn a_confirmed_reservation_needs_its_voucher_where_the_channel_issues_them() {
        let r = Reservation {
            voucher: None,
            ..reservation()
        };
        assert_eq!(r.check(true).unwrap_err().field, "voucher");
        assert!(r.check(false).is_ok());
        assert!(reservation().check(true).is_ok());
    }

    #[test]
    fn amounts_are_read_as_cents() {
        for (amount, cents) in [
            ("480.5", Some(48050)),
            ("480.50", Some(48050)),
            ("12", Some(1200)),
            ("0.07", Some(7)),
            ("1.234", None),
            ("-3", None),
            ("", None),
            ("1e3", None),
            ("99999999999999999999", None),
        ] {
            let m = Money {
                amount: amount.into(),
                currency: "EUR".into(),
            };
            assert_eq!(m.cents(), cents, "{amount}");
        }
    }

    #[test]
    fn a_cancellation_without_dates_keeps_the_stored_booking() {
        let r = reservation();
        let before = booking_fields(&r, "Slevomat", Uuid::nil(), Uuid::nil(), None, None).unwrap();
        let cancel = Reservation {
            status: ReservationStatus::Cancelled,
            arrival: None,
            departure: None,
            room_category: None,
            total: None,
            adults: None,
            children_ages: vec![],
            revision: Some(3),
            ..r
        };
        cancel.check(true).unwrap();
        let after = booking_fields(
            &cancel,
            "Slevomat",
            Uuid::nil(),
            Uuid::nil(),
            Some(&before),
            None,
        )
        .unwrap();
        assert_eq!(after.status, BookingStatus::Cancelled);
        assert_eq!(after.schedule, before.schedule);
        assert_eq!(after.details.room_category.as_deref(), Some("DZ"));
        assert_eq!(after.details.price_cents, Some(48050));
        assert_eq!(after.details.guests, Some(3));
    }
}
