//! A sample property, guest and bookings with every value present: what template checks
//! render against when no real booking is at hand (the variables a message offers, the length
//! of an SMS, a preview of a preset).

use crate::booking::{Booking, BookingDetails, BookingFields, BookingStatus, Schedule};
use crate::contact::{Contact, EmailAddress};
use crate::property::{Brand, Property, Sender};
use crate::time::{LocalTime, parse_time_zone};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use uuid::Uuid;

/// 2026-03-08 10:00 in Vienna.
const NOW: Timestamp = Timestamp::constant(1_772_960_400, 0);

/// A hotel in Vienna.
pub fn property() -> Property {
    Property {
        id: Uuid::nil(),
        account_id: Uuid::nil(),
        name: "Hotel Gruber".into(),
        time_zone_name: "Europe/Vienna".into(),
        time_zone: parse_time_zone("Europe/Vienna").unwrap_or(TimeZone::UTC),
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: LocalTime::hm(15, 0),
        check_out_time: LocalTime::hm(10, 0),
        sender: Sender {
            email: "info@hotel-gruber.example".into(),
            name: "Hotel Gruber".into(),
            reply_to: None,
        },
        layout_html: None,
        layout_text: None,
        brand: Brand {
            logo_url: None,
            color: Some("#7a2e3a".into()),
            address: Some("Hauptstraße 12, 6020 Innsbruck".into()),
            phone: Some("+43 512 123456".into()),
            website: Some("https://hotel-gruber.example".into()),
            map_url: Some("https://maps.example/hotel-gruber".into()),
            booking_url: Some("https://hotel-gruber.example/buchen".into()),
            salutation: None,
        },
        sms: Default::default(),
        consent: Default::default(),
    }
}

/// A guest with every detail known.
pub fn contact() -> Contact {
    Contact {
        id: Uuid::nil(),
        account_id: Uuid::nil(),
        first_name: Some("Anna".into()),
        last_name: Some("Berger".into()),
        email: Some(EmailAddress::stored("anna.berger@example.com".into())),
        phone: Some("+43 664 1234567".into()),
        phone_e164: None,
        phone_type: None,
        language: None,
        address: Some("Hauptstraße 1".into()),
        postal_code: Some("1010".into()),
        city: Some("Wien".into()),
        country: Some("AT".into()),
        nationality: Some("AT".into()),
        birth_date: Some(date(1985, 4, 12)),
    }
}

fn details() -> BookingDetails {
    BookingDetails {
        room_category: Some("Doppelzimmer".into()),
        service: Some("Haarschnitt".into()),
        staff: Some("Lena".into()),
        source_channel: Some("direct".into()),
        external_id: Some("R-1042".into()),
        voucher: Some("V-2026-17".into()),
        price_cents: Some(48_000),
        deposit_cents: Some(10_000),
        paid_cents: Some(10_000),
        guests: Some(2),
        language: None,
        notes: Some("late arrival".into()),
        sms_reminders: Some(true),
    }
}

/// A two-night stay on option, with every detail.
pub fn stay() -> Booking {
    let mut fields = BookingFields::new(
        Uuid::nil(),
        Uuid::nil(),
        BookingStatus::Option,
        Schedule::Stay {
            arrival: date(2026, 5, 14),
            departure: date(2026, 5, 16),
        },
    );
    fields.option_until = Some(NOW + SignedDuration::from_hours(24 * 7));
    fields.hold_expires_at = Some(NOW + SignedDuration::from_hours(24));
    fields.details = details();
    Booking::created(Uuid::nil(), Uuid::nil(), fields, NOW)
}

/// A one-hour appointment, with every detail.
pub fn appointment() -> Booking {
    let start = NOW + SignedDuration::from_hours(24 * 3);
    let mut fields = BookingFields::new(
        Uuid::nil(),
        Uuid::nil(),
        BookingStatus::Confirmed,
        Schedule::Appointment {
            start,
            end: start + SignedDuration::from_hours(1),
        },
    );
    fields.option_until = Some(NOW + SignedDuration::from_hours(24));
    fields.hold_expires_at = Some(NOW + SignedDuration::from_hours(24));
    fields.details = details();
    Booking::created(Uuid::nil(), Uuid::nil(), fields, NOW)
}
