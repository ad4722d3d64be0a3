//! `bellhop demo`: a month in the life of a hotel and a salon, simulated on the injected clock
//! in a few seconds. Bookings arrive, move across the daylight-saving change, get cancelled,
//! options lapse, a guest has no email; thank-you mails go only to guests who agreed to offers,
//! one unsubscribes in one click, one signs up on their consent page; every mail is written as
//! an `.eml` file and the timeline of what was sent when — and what was not, and why — is
//! printed.

use crate::timeline;
use anyhow::Context;
use bellhop_domain::channel::{ChannelGuest, Reservation, ReservationStatus};
use bellhop_domain::consent::{Channel, Purpose, Source};
use bellhop_domain::contact::EmailAddress;
use bellhop_domain::language::LanguageTag;
use bellhop_domain::presets;
use bellhop_domain::property::{Brand, Property, Sender};
use bellhop_domain::time::{LocalTime, parse_time_zone, resolve_local};
use bellhop_domain::{BookingFields, BookingStatus, Contact, Schedule};
use bellhop_engine::{
    Clock, ConsentDecision, DispatchConfig, Dispatcher, Engine, ManualClock, OnlineEvidence, links,
};
use bellhop_store::{Store, StoreOptions};
use bellhop_transport::sms::{SmsFolder, SmsGateway, VoiceGateway};
use bellhop_transport::{EmailTransport, EmlFolder};
use jiff::civil::{Date, DateTime, date};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

const ZONE: &str = "Europe/Vienna";

fn local(dt: DateTime) -> Timestamp {
    resolve_local(
        &parse_time_zone(ZONE).expect("Europe/Vienna is in every tz database"),
        dt,
    )
}

/// One thing that happens during the simulated month.
enum Event {
    Stay {
        key: &'static str,
        guest: usize,
        arrival: Date,
        nights: i32,
        status: BookingStatus,
        room: &'static str,
        option_until: Option<Timestamp>,
    },
    Appointment {
        key: &'static str,
        guest: usize,
        start: DateTime,
        minutes: i64,
        service: &'static str,
        staff: &'static str,
    },
    MoveStay {
        key: &'static str,
        arrival: Date,
        nights: i32,
    },
    MoveAppointment {
        key: &'static str,
        start: DateTime,
    },
    Status {
        key: &'static str,
        status: BookingStatus,
    },
    Room {
        key: &'static str,
        room: &'static str,
    },
    CompleteGuestData {
        guest: usize,
    },
    /// The guest's phone texts the salon (STOP, ...).
    Texts {
        guest: usize,
        text: &'static str,
    },
    /// A guest agreed to offers when booking online (marketing, on one channel).
    Grants {
        guest: usize,
        channel: Channel,
    },
    /// A guest clicks "unsubscribe" in a hotel mail (RFC 8058 one-click).
    Unsubscribes {
        guest: usize,
    },
    /// Staff send a guest the link to their consent page; the guest opens it and ticks
    /// offers by email (which waits for the click in the confirmation mail).
    ConsentPage {
        guest: usize,
    },
    /// The guest clicks the link in the confirmation mail.
    ConfirmsSignUp {
        guest: usize,
    },
    /// Slevomat pushes a reservation of the hotel (its whole content, every time).
    ChannelPush {
        key: &'static str,
        external_id: &'static str,
        status: ReservationStatus,
        revision: i64,
        arrival: Date,
        nights: i32,
    },
    /// A mail arrives at one of the hotel's mailboxes over SMTP.
    Mail {
        /// `MAIL FROM` (empty: a bounce).
        from: &'static str,
        /// `RCPT TO`.
        to: &'static str,
        /// Headers between From/To and the body.
        headers: &'static str,
        subject: &'static str,
        body: &'static str,
    },
    /// A bulk SMS to the salon's customers.
    BulkSms {
        name: &'static str,
        text: &'static str,
        english: &'static str,
    },
}

struct Guest {
    first: &'static str,
    last: &'static str,
    lang: &'static str,
    email: bool,
    complete: bool,
}

const GUESTS: [Guest; 14] = [
    Guest {
        first: "Anna",
        last: "Gruber",
        lang: "de",
        email: true,
        complete: true,
    },
    Guest {
        first: "James",
        last: "Miller",
        lang: "en",
        email: true,
        complete: true,
    },
    Guest {
        first: "Lukas",
        last: "Huber",
        lang: "de-AT",
        email: true,
        complete: false,
    },
    Guest {
        first: "Sophie",
        last: "Wagner",
        lang: "de",
        email: true,
        complete: true,
    },
    Guest {
        first: "Emma",
        last: "Brown",
        lang: "en-GB",
        email: true,
        complete: false,
    },
    Guest {
        first: "Giulia",
        last: "Rossi",
        lang: "it",
        email: true,
        complete: true,
    },
    Guest {
        first: "Otto",
        last: "Ohnemail",
        lang: "de",
        email: false,
        complete: true,
    },
    Guest {
        first: "Marie",
        last: "Bauer",
        lang: "de",
        email: true,
        complete: true,
    },
    Guest {
        first: "Noah",
        last: "Fischer",
        lang: "de",
        email: true,
        complete: false,
    },
    Guest {
        first: "Olivia",
        last: "Taylor",
        lang: "en",
        email: true,
        complete: true,
    },
    Guest {
        first: "Jakob",
        last: "Steiner",
        lang: "de",
        email: true,
        complete: true,
    },
    Guest {
        first: "Lena",
        last: "Moser",
        lang: "de",
        email: true,
        complete: true,
    },
    Guest {
        first: "Chloé",
        last: "Martin",
        lang: "fr",
        email: true,
        complete: true,
    },
    Guest {
        first: "Felix",
        last: "Hofer",
        lang: "de",
        email: true,
        complete: true,
    },
];

fn contact(account: Uuid, i: usize) -> Contact {
    let g = &GUESTS[i];
    let complete = g.complete;
    let email = format!(
        "{}.{}@guest.example",
        g.first.to_lowercase().replace('é', "e"),
        g.last.to_lowercase()
    );
    Contact {
        id: Uuid::now_v7(),
        account_id: account,
        first_name: Some(g.first.into()),
        last_name: Some(g.last.into()),
        email: g.email.then(|| EmailAddress::stored(email)),
        language: Some(LanguageTag::stored(g.lang.into())),
        address: complete.then(|| "Hauptstraße 1".into()),
        postal_code: complete.then(|| "1010".into()),
        city: complete.then(|| "Wien".into()),
        country: Some("AT".into()),
        nationality: complete.then(|| "AT".into()),
        birth_date: complete.then(|| date(1985, 5, 17)),
        // Mobiles for most; one landline (the salon calls it); one without a phone.
        phone: match i {
            7 => Some(format!("01 53212{i:02}")),
            12 => None,
            _ => Some(format!("0664 12345{i:02}")),
        },
        ..Contact::default()
    }
}

/// The E.164 form of guest `i`'s mobile.
fn mobile(i: usize) -> String {
    format!("+4366412345{i:02}")
}

fn events() -> Vec<(Timestamp, Event)> {
    use BookingStatus::*;
    let start = |d: i8, h: i8, m: i8| local(date(2026, 3, d).at(h, m, 0, 0));
    let april = |d: i8, h: i8, m: i8| local(date(2026, 4, d).at(h, m, 0, 0));
    let mut ev: Vec<(Timestamp, Event)> = Vec::new();
    // Regular stays booked at the start, arriving through the month (across the DST change).
    let rooms = ["Doppelzimmer", "Einzelzimmer", "Suite", "Familienzimmer"];
    let keys = [
        "s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s11", "s12", "s13",
        "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24",
    ];
    for (i, key) in keys.iter().enumerate() {
        let arrival = date(2026, 3, 17)
            .checked_add(jiff::Span::new().days(i as i64 * 5 / 4))
            .unwrap_or(date(2026, 3, 17));
        let guest = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13][i % 13];
        ev.push((
            start(15, 9, 0),
            Event::Stay {
                key,
                guest,
                arrival,
                nights: 2 + (i as i32 % 4),
                status: Confirmed,
                room: rooms[i % 4],
                option_until: None,
            },
        ));
    }
    // Late bookings: a day before arrival (sent at once, still before arrival), and a walk-in
    // after the check-in time (the "before arrival" mail is skipped).
    ev.push((
        start(20, 12, 0),
        Event::Stay {
            key: "late1",
            guest: 1,
            arrival: date(2026, 3, 21),
            nights: 2,
            status: Confirmed,
            room: "Suite",
            option_until: None,
        },
    ));
    ev.push((
        start(20, 18, 30),
        Event::Stay {
            key: "late2",
            guest: 3,
            arrival: date(2026, 3, 21),
            nights: 1,
            status: Confirmed,
            room: "Doppelzimmer",
            option_until: None,
        },
    ));
    ev.push((
        start(22, 16, 0),
        Event::Stay {
            key: "walkin",
            guest: 10,
            arrival: date(2026, 3, 22),
            nights: 1,
            status: Confirmed,
            room: "Einzelzimmer",
            option_until: None,
        },
    ));
    // A stay moved across the daylight-saving change: its reminder moves to 10:00 CEST.
    ev.push((
        start(15, 9, 0),
        Event::Stay {
            key: "dst",
            guest: 9,
            arrival: date(2026, 3, 30),
            nights: 3,
            status: Confirmed,
            room: "Suite",
            option_until: None,
        },
    ));
    ev.push((
        start(20, 9, 0),
        Event::MoveStay {
            key: "dst",
            arrival: date(2026, 4, 1),
            nights: 3,
        },
    ));
    // A cancellation.
    ev.push((
        start(15, 9, 0),
        Event::Stay {
            key: "cancel",
            guest: 7,
            arrival: date(2026, 4, 5),
            nights: 2,
            status: Confirmed,
            room: "Doppelzimmer",
            option_until: None,
        },
    ));
    ev.push((
        start(25, 11, 0),
        Event::Status {
            key: "cancel",
            status: Cancelled,
        },
    ));
    // Options: one lapses, one is confirmed in time.
    ev.push((
        start(18, 9, 30),
        Event::Stay {
            key: "opt-lapse",
            guest: 11,
            arrival: date(2026, 4, 10),
            nights: 3,
            status: Option,
            room: "Suite",
            option_until: Some(start(24, 18, 0)),
        },
    ));
    ev.push((
        start(18, 10, 0),
        Event::Stay {
            key: "opt-ok",
            guest: 13,
            arrival: date(2026, 4, 11),
            nights: 2,
            status: Option,
            room: "Doppelzimmer",
            option_until: Some(start(26, 18, 0)),
        },
    ));
    ev.push((
        start(23, 15, 0),
        Event::Status {
            key: "opt-ok",
            status: Confirmed,
        },
    ));
    // An offer.
    ev.push((
        start(16, 14, 0),
        Event::Stay {
            key: "offer",
            guest: 5,
            arrival: date(2026, 5, 2),
            nights: 4,
            status: Offer,
            room: "Familienzimmer",
            option_until: None,
        },
    ));
    // A guest without email.
    ev.push((
        start(15, 9, 0),
        Event::Stay {
            key: "noemail",
            guest: 6,
            arrival: date(2026, 3, 26),
            nights: 2,
            status: Confirmed,
            room: "Einzelzimmer",
            option_until: None,
        },
    ));
    // Two quick changes: one "booking changed" mail.
    ev.push((
        start(15, 9, 0),
        Event::Stay {
            key: "modified",
            guest: 0,
            arrival: date(2026, 4, 8),
            nights: 2,
            status: Confirmed,
            room: "Doppelzimmer",
            option_until: None,
        },
    ));
    ev.push((
        start(26, 9, 0),
        Event::Room {
            key: "modified",
            room: "Suite",
        },
    ));
    ev.push((
        start(26, 9, 5),
        Event::MoveStay {
            key: "modified",
            arrival: date(2026, 4, 8),
            nights: 3,
        },
    ));
    // Missing guest data that arrives before the reminder goes out.
    ev.push((
        start(15, 9, 0),
        Event::Stay {
            key: "data",
            guest: 4,
            arrival: date(2026, 4, 12),
            nights: 2,
            status: Confirmed,
            room: "Doppelzimmer",
            option_until: None,
        },
    ));
    ev.push((april(1, 12, 0), Event::CompleteGuestData { guest: 4 }));
    // Consent: some guests agreed to offers when they booked online (the hotel's thank-you
    // mails reach them; the others' are suppressed, visibly), some salon customers to offers
    // by SMS. Anna unsubscribes with one click after her first thank-you; James gets the link
    // to his consent page, ticks offers by email and confirms it from the second mail.
    for guest in [0, 2, 5, 8] {
        ev.push((
            start(15, 8, 0),
            Event::Grants {
                guest,
                channel: Channel::Email,
            },
        ));
    }
    for guest in [0, 3, 5, 6, 7, 9] {
        ev.push((
            start(15, 8, 0),
            Event::Grants {
                guest,
                channel: Channel::Sms,
            },
        ));
    }
    ev.push((start(22, 20, 15), Event::Unsubscribes { guest: 0 }));
    ev.push((start(18, 11, 0), Event::ConsentPage { guest: 1 }));
    ev.push((start(18, 11, 40), Event::ConfirmsSignUp { guest: 1 }));
    // A customer of the salon texts STOP; the bulk SMS a few days later skips her.
    ev.push((
        start(20, 19, 5),
        Event::Texts {
            guest: 3,
            text: "STOP",
        },
    ));
    ev.push((
        start(25, 10, 0),
        Event::BulkSms {
            name: "Frühlingsaktion",
            text: "Hallo {{ guest.first_name }}, im April -20 % auf Pflege bei {{ property.name }}. Termin: 01 234 567",
            english: "Hi {{ guest.first_name }}, 20 % off care products at {{ property.name }} in April. Book: 01 234 567",
        },
    ));
    // The salon: appointments through the month.
    let services = [
        ("Haarschnitt", "Mia", 45),
        ("Färben", "Lea", 120),
        ("Maniküre", "Mia", 60),
        ("Pediküre", "Lea", 60),
    ];
    let akeys = [
        "a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09", "a10", "a11", "a12", "a13",
    ];
    for (i, key) in akeys.iter().enumerate() {
        let day = 16 + (i * 11 / 10) as i8;
        let (service, staff, minutes) = services[i % 4];
        let booked = start(15 + (i as i8 % 3), 10 + (i as i8 % 6), 15);
        let at =
            date(2026, 3, day.min(31)).at(9 + (i as i8 % 8), if i % 2 == 0 { 0 } else { 30 }, 0, 0);
        ev.push((
            booked,
            Event::Appointment {
                key,
                guest: (i * 3) % 14,
                start: at,
                minutes,
                service,
                staff,
            },
        ));
    }
    ev.push((
        start(19, 8, 0),
        Event::Status {
            key: "a05",
            status: Cancelled,
        },
    ));
    ev.push((
        start(17, 18, 0),
        Event::MoveAppointment {
            key: "a07",
            start: date(2026, 3, 30).at(11, 0, 0, 0),
        },
    ));
    ev.push((
        april(2, 9, 0),
        Event::Appointment {
            key: "a14",
            guest: 2,
            start: date(2026, 4, 3).at(15, 0, 0, 0),
            minutes: 45,
            service: "Haarschnitt",
            staff: "Mia",
        },
    ));
    // Slevomat: a paid voucher stay, moved by staff later (the change goes back to Slevomat
    // as a signed webhook, and the guest is told); an unpaid cart that lapses after an hour;
    // a cart paid within the hour.
    let slevomat = |key, external_id, status, revision, arrival, nights| Event::ChannelPush {
        key,
        external_id,
        status,
        revision,
        arrival,
        nights,
    };
    ev.push((
        start(16, 10, 0),
        slevomat(
            "slv",
            "SLV-4711",
            ReservationStatus::Confirmed,
            1,
            date(2026, 4, 9),
            3,
        ),
    ));
    ev.push((
        start(16, 11, 0),
        slevomat(
            "cart",
            "SLV-CART-88",
            ReservationStatus::PendingPayment,
            1,
            date(2026, 4, 2),
            2,
        ),
    ));
    ev.push((
        start(17, 14, 0),
        slevomat(
            "paid",
            "SLV-CART-90",
            ReservationStatus::PendingPayment,
            1,
            date(2026, 4, 12),
            2,
        ),
    ));
    ev.push((
        start(17, 14, 35),
        slevomat(
            "paid",
            "SLV-CART-90",
            ReservationStatus::Confirmed,
            2,
            date(2026, 4, 12),
            2,
        ),
    ));
    ev.push((
        start(24, 16, 0),
        Event::MoveStay {
            key: "slv",
            arrival: date(2026, 4, 10),
            nights: 3,
        },
    ));
    // Mail to the hotel: a question (answered), the same guest again two days later (not
    // within the week), a complaint (answered with a case number), a bounce and a newsletter
    // (never answered).
    let mail = |from, to, headers, subject, body| Event::Mail {
        from,
        to,
        headers,
        subject,
        body,
    };
    ev.push((
        start(16, 9, 12),
        mail(
            "anna.gruber@guest.example",
            "kontakt@alpenblick.example",
            "From: Anna Gruber <anna.gruber@guest.example>\r\n",
            "Parkplatz?",
            "Guten Tag, gibt es bei Ihnen einen Parkplatz für unser Auto?",
        ),
    ));
    ev.push((
        start(18, 18, 40),
        mail(
            "anna.gruber@guest.example",
            "kontakt@alpenblick.example",
            "From: Anna Gruber <anna.gruber@guest.example>\r\n",
            "Noch eine Frage",
            "Und darf unser Hund mitkommen?",
        ),
    ));
    ev.push((
        start(20, 21, 5),
        mail(
            "james.miller@guest.example",
            "reklamacje@alpenblick.example",
            "From: James Miller <james.miller@guest.example>\r\nContent-Language: en\r\n",
            "Room 12 was cold",
            "Hello, the heating in room 12 did not work last night.",
        ),
    ));
    ev.push((
        start(21, 3, 30),
        mail(
            "",
            "kontakt@alpenblick.example",
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n",
            "Undelivered Mail Returned to Sender",
            "This is the mail system at host mx.example.net. Your message could not be delivered.",
        ),
    ));
    ev.push((
        start(22, 6, 0),
        mail(
            "news-bounces@tourism.example",
            "kontakt@alpenblick.example",
            "From: Tirol Tourism News <news@tourism.example>\r\nList-Id: <news.tourism.example>\r\nPrecedence: list\r\n",
            "Newsletter März",
            "Die Neuigkeiten des Monats.",
        ),
    ));
    ev.sort_by_key(|(at, _)| *at);
    ev
}

fn property(account: Uuid, name: &str, email: &str, layout: bool) -> anyhow::Result<Property> {
    Ok(Property {
        id: Uuid::now_v7(),
        account_id: account,
        name: name.into(),
        time_zone_name: ZONE.into(),
        time_zone: parse_time_zone(ZONE)?,
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: LocalTime::hm(15, 0),
        check_out_time: LocalTime::hm(10, 0),
        sender: Sender {
            email: email.into(),
            name: name.into(),
            reply_to: None,
        },
        layout_html: None,
        layout_text: None,
        brand: Brand {
            color: Some(if layout { "#1f4e79" } else { "#7a2e3a" }.into()),
            address: Some("Alpenstraße 1, 6020 Innsbruck".into()),
            phone: Some("+43 512 123456".into()),
            website: Some("https://alpenblick.example".into()),
            map_url: layout.then(|| "https://maps.example/alpenblick".into()),
            booking_url: layout.then(|| "https://alpenblick.example/buchen".into()),
            ..Brand::default()
        },
        sms: Default::default(),
        consent: Default::default(),
    })
}

struct Demo {
    engine: Engine,
    /// The hotel's Slevomat connection.
    slevomat: Option<bellhop_store::Connection>,
    account: Uuid,
    hotel: Uuid,
    salon: Uuid,
    guests: Vec<Uuid>,
    bookings: HashMap<&'static str, Uuid>,
}

impl Demo {
    fn draft(
        &self,
        property: Uuid,
        guest: usize,
        status: BookingStatus,
        schedule: Schedule,
    ) -> BookingFields {
        let mut fields = BookingFields::new(property, self.guests[guest], status, schedule);
        fields.details.guests = Some(2);
        fields
    }

    async fn edit(&self, key: &str, f: impl FnOnce(&mut BookingFields)) -> anyhow::Result<()> {
        let id = *self
            .bookings
            .get(key)
            .with_context(|| format!("no demo booking {key}"))?;
        let current = self.engine.query().booking(self.account, id).await?;
        let mut draft = current.fields;
        f(&mut draft);
        self.engine
            .update_booking(self.account, id, draft, None, "demo:staff")
            .await?;
        Ok(())
    }

    async fn apply(&mut self, event: Event) -> anyhow::Result<()> {
        match event {
            Event::Stay {
                key,
                guest,
                arrival,
                nights,
                status,
                room,
                option_until,
            } => {
                let departure = arrival.checked_add(jiff::Span::new().days(nights))?;
                let mut d = self.draft(
                    self.hotel,
                    guest,
                    status,
                    Schedule::Stay { arrival, departure },
                );
                d.details.room_category = Some(room.into());
                d.option_until = option_until;
                let (b, _) = self
                    .engine
                    .create_booking(self.account, d, "demo:channel")
                    .await?;
                self.bookings.insert(key, b.id);
            }
            Event::Appointment {
                key,
                guest,
                start,
                minutes,
                service,
                staff,
            } => {
                let start = local(start);
                let end = start.checked_add(SignedDuration::from_mins(minutes))?;
                let mut d = self.draft(
                    self.salon,
                    guest,
                    BookingStatus::Confirmed,
                    Schedule::Appointment { start, end },
                );
                d.details.service = Some(service.into());
                d.details.staff = Some(staff.into());
                let (b, _) = self
                    .engine
                    .create_booking(self.account, d, "demo:online-booking")
                    .await?;
                self.bookings.insert(key, b.id);
            }
            Event::MoveStay {
                key,
                arrival,
                nights,
            } => {
                let departure = arrival.checked_add(jiff::Span::new().days(nights))?;
                self.edit(key, |d| d.schedule = Schedule::Stay { arrival, departure })
                    .await?;
            }
            Event::MoveAppointment { key, start } => {
                let start = local(start);
                let end = start.checked_add(SignedDuration::from_mins(45))?;
                self.edit(key, |d| d.schedule = Schedule::Appointment { start, end })
                    .await?;
            }
            Event::Status { key, status } => self.edit(key, |d| d.status = status).await?,
            Event::ChannelPush {
                key,
                external_id,
                status,
                revision,
                arrival,
                nights,
            } => {
                let connection = self.slevomat.as_ref().context("no Slevomat connection")?;
                let paid = status == ReservationStatus::Confirmed;
                let reservation = Reservation {
                    external_id: external_id.into(),
                    status,
                    revision: Some(revision),
                    modified_at: None,
                    arrival: Some(arrival),
                    departure: Some(arrival.checked_add(jiff::Span::new().days(nights))?),
                    language: Some("cs".into()),
                    guest: ChannelGuest {
                        first_name: Some("Jana".into()),
                        last_name: Some(format!("Nováková ({key})")),
                        email: Some(format!("jana.{key}@example.cz")),
                        phone: None,
                    },
                    room_category: Some("Doppelzimmer".into()),
                    adults: Some(2),
                    children_ages: vec![],
                    newsletter: None,
                    total: Some(bellhop_domain::channel::Money {
                        amount: "389.00".into(),
                        currency: "EUR".into(),
                    }),
                    voucher: paid.then(|| format!("V-{external_id}")),
                    replaces: None,
                    comment: None,
                };
                let pushed = self
                    .engine
                    .push_reservation(connection, &reservation)
                    .await?;
                if let Some(b) = pushed.booking {
                    self.bookings.insert(key, b.id);
                }
            }
            Event::Room { key, room } => {
                self.edit(key, |d| d.details.room_category = Some(room.into()))
                    .await?
            }
            Event::Texts { guest, text } => {
                let from = mobile(guest);
                self.engine
                    .receive_sms(bellhop_engine::InboundSms {
                        gateway: "demo".into(),
                        from: from.clone(),
                        to: "SalonBella".into(),
                        text: text.into(),
                        raw: serde_json::json!({"from": from, "text": text}),
                    })
                    .await?;
            }
            Event::Grants { guest, channel } => {
                let mut d =
                    ConsentDecision::new(Purpose::Marketing, channel, true, Source::OnlineBooking);
                d.property_id = Some(match channel {
                    Channel::Email => self.hotel,
                    Channel::Sms => self.salon,
                });
                d.ip = Some("192.0.2.10".into());
                d.evidence =
                    serde_json::json!({"note": "newsletter box ticked in the booking form"});
                self.engine
                    .record_consent(self.account, self.guests[guest], &d)
                    .await?;
            }
            Event::Unsubscribes { guest } => {
                let subject = links::LinkSubject {
                    contact: self.guests[guest],
                    property: self.hotel,
                };
                let token = links::unsubscribe_token(self.engine.signer(), subject);
                self.engine
                    .unsubscribe(&token, "one_click", &browser())
                    .await?;
            }
            Event::ConsentPage { guest } => {
                let contact = self.guests[guest];
                self.engine
                    .request_consent(self.account, contact, self.hotel)
                    .await?;
                let subject = links::LinkSubject {
                    contact,
                    property: self.hotel,
                };
                let until = self
                    .engine
                    .now()
                    .checked_add(SignedDuration::from_hours(24))?;
                let token = links::consent_page_token(self.engine.signer(), subject, until);
                let page = self.engine.consent_page(&token).await?;
                let mut ticked: Vec<(Purpose, Channel)> = page
                    .cells
                    .iter()
                    .filter(|c| bellhop_engine::ticked(c, &page.view.property))
                    .map(|c| (c.purpose, c.channel))
                    .collect();
                ticked.push((Purpose::Marketing, Channel::Email));
                self.engine
                    .submit_consent_page(&token, &ticked, page.text.id, &browser())
                    .await?;
            }
            Event::ConfirmsSignUp { guest } => {
                let filter = bellhop_store::MessageFilter {
                    contact_id: Some(self.guests[guest]),
                    limit: 100,
                    ..Default::default()
                };
                let mails = self.engine.query().messages(self.account, &filter).await?;
                let confirmation = mails
                    .iter()
                    .find_map(|m| m.occurrence.strip_prefix("consent_confirm:"))
                    .context("no confirmation mail")?
                    .parse()?;
                let token = links::confirmation_token(self.engine.signer(), confirmation);
                self.engine.confirm_consent(&token, &browser()).await?;
            }
            Event::Mail {
                from,
                to,
                headers,
                subject,
                body,
            } => {
                let raw = format!(
                    "{headers}To: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@demo.example>\r\n\
                     Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
                    Uuid::now_v7()
                );
                self.engine
                    .receive_mail(bellhop_engine::Delivery {
                        via: "smtp",
                        envelope_from: Some(from.into()),
                        envelope_to: to.into(),
                        source_key: None,
                        raw: raw.as_bytes(),
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("demo mail: {e}"))?;
            }
            Event::BulkSms {
                name,
                text,
                english,
            } => {
                let plan = self
                    .engine
                    .create_campaign(
                        self.account,
                        bellhop_engine::CampaignDraft {
                            property_id: self.salon,
                            name: name.into(),
                            text: text.into(),
                            translations: [("en".to_owned(), english.to_owned())].into(),
                            filter: Default::default(),
                            send_at: None,
                        },
                        false,
                        "demo:staff",
                    )
                    .await?;
                tracing::debug!(recipients = plan.recipients, "bulk SMS");
            }
            Event::CompleteGuestData { guest } => {
                let mut c = self
                    .engine
                    .query()
                    .contact(self.account, self.guests[guest])
                    .await?;
                c.address = Some("Ringstraße 5".into());
                c.postal_code = Some("8010".into());
                c.city = Some("Graz".into());
                c.nationality = Some("GB".into());
                c.birth_date = Some(date(1990, 1, 2));
                self.engine.upsert_contact(&c).await?;
            }
        }
        Ok(())
    }
}

/// The demo guests' browser, as a consent record keeps it.
fn browser() -> OnlineEvidence {
    OnlineEvidence {
        ip: Some("192.0.2.10".into()),
        forwarded_for: None,
        user_agent: Some("Mozilla/5.0 (demo)".into()),
    }
}

/// Runs the demo into `out` (a fresh database and mail folder).
pub async fn run(out: &Path) -> anyhow::Result<DemoWorld> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let db = out.join("bellhop-demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let mail = out.join("mail");
    let _ = std::fs::remove_dir_all(&mail);
    let store = Store::open(
        &db,
        &StoreOptions {
            durability: bellhop_store::Durability::Normal,
            ..StoreOptions::default()
        },
    )
    .await?;
    store.migrate().await?;
    let begin = local(date(2026, 3, 15).at(0, 0, 0, 0));
    let end = local(date(2026, 4, 15).at(0, 0, 0, 0));
    let clock = ManualClock::new(begin);
    let engine = Engine::new(store.clone(), Arc::new(clock.clone()));
    let account = Uuid::now_v7();
    let mut tx = store.begin().await?;
    tx.insert_account(account, "Demo", begin).await?;
    tx.commit().await?;
    let hotel = property(account, "Hotel Alpenblick", "info@alpenblick.example", true)?;
    let mut salon = property(account, "Salon Bella", "termine@salon-bella.example", false)?;
    // The salon texts its customers: a reminder 2 h before, landlines get a call, packages of
    // 150 SMS a month.
    salon.sms = bellhop_domain::property::SmsSettings {
        sender: Some(
            bellhop_domain::sms::SenderId::parse("SalonBella").map_err(anyhow::Error::msg)?,
        ),
        plan: bellhop_domain::billing::SmsPlan::Package {
            size: 150,
            price_cents: 1200,
        },
        landline_voice: true,
        ..Default::default()
    };
    engine.create_property(&hotel).await?;
    engine.create_property(&salon).await?;
    for (p, set) in [
        (&hotel, presets::hotel()),
        (&salon, presets::appointments()),
    ] {
        for preset in set {
            let (template, rule) = preset.instantiate(account, p.id);
            engine.save_template(&template, true).await?;
            engine.save_rule(&rule, true).await?;
        }
    }
    let (sms_template, sms_rule) = presets::appointment_sms_reminder(account, salon.id);
    engine.save_template(&sms_template, true).await?;
    engine.save_rule(&sms_rule, true).await?;
    let mut guests = Vec::new();
    for i in 0..GUESTS.len() {
        let c = contact(account, i);
        engine.upsert_contact(&c).await?;
        guests.push(c.id);
    }
    // Slevomat's webhooks land on a receiver on loopback that checks their signature and
    // keeps each as a file.
    let webhooks = out.join("webhooks");
    let _ = std::fs::remove_dir_all(&webhooks);
    std::fs::create_dir_all(&webhooks)?;
    let receiver = webhook_receiver(webhooks.clone()).await?;
    let slevomat = engine
        .create_connection(
            account,
            bellhop_engine::ConnectionSettings {
                property_id: hotel.id,
                name: "Slevomat".into(),
                kind: bellhop_domain::channel::ConnectionKind::Json,
                webhook_url: Some(receiver.0.clone()),
                hold_minutes: 60,
                poll: None,
            },
        )
        .await?;
    *receiver
        .1
        .lock()
        .map_err(|_| anyhow::anyhow!("receiver lock"))? = slevomat.webhook_secret.clone();
    for (name, address, period_secs, case_prefix, de, en) in [
        (
            "Kontakt",
            "kontakt@alpenblick.example",
            bellhop_domain::mailbox::DEFAULT_PERIOD_SECS,
            None,
            "Guten Tag {{ mail.sender_name }},\ndanke für Ihre Nachricht. Die Rezeption antwortet Ihnen heute bis 18 Uhr.\nHotel Alpenblick",
            "Hello {{ mail.sender_name }},\nthank you for your message. Reception will answer you today by 6 pm.\nHotel Alpenblick",
        ),
        (
            "Reklamationen",
            "reklamacje@alpenblick.example",
            0,
            Some("REK"),
            "Guten Tag {{ mail.sender_name }},\nIhre Reklamation ist unter {{ mail.case_number }} erfasst. Wir melden uns innerhalb von 24 Stunden.",
            "Hello {{ mail.sender_name }},\nyour complaint is registered as {{ mail.case_number }}. We will be back to you within 24 hours.",
        ),
    ] {
        let reply = |body: &str| bellhop_domain::mailbox::ReplyText {
            subject: None,
            body: body.into(),
        };
        engine
            .save_mailbox(
                account,
                None,
                bellhop_engine::MailboxDraft {
                    property_id: hotel.id,
                    name: name.into(),
                    address: address.into(),
                    aliases: vec![],
                    replies: [("de".to_owned(), reply(de)), ("en".to_owned(), reply(en))].into(),
                    default_language: None,
                    enabled: true,
                    active_from: None,
                    active_until: None,
                    period_secs,
                    case_prefix: case_prefix.map(String::from),
                    sequence_id: None,
                    imap: None,
                },
            )
            .await?;
    }
    let mut demo = Demo {
        engine: engine.clone(),
        slevomat: Some(slevomat.connection.clone()),
        account,
        hotel: hotel.id,
        salon: salon.id,
        guests,
        bookings: HashMap::new(),
    };
    let sms_dir = out.join("sms");
    let transports = bellhop_engine::Transports {
        email: Arc::new(EmailTransport::Folder(EmlFolder::new(&mail)?)),
        sms: Arc::new(SmsGateway::Folder(SmsFolder::new(&sms_dir)?)),
        voice: Arc::new(VoiceGateway::Folder(
            SmsFolder::new(&sms_dir)?.with_caller_id(Some("+43512123456".into())),
        )),
        webhook: Arc::new(bellhop_transport::webhook::WebhookSender::new(
            std::time::Duration::from_secs(10),
            bellhop_transport::ssrf::OutboundPolicy::anywhere(),
        )?),
    };
    let dispatcher = Dispatcher::new(
        store.clone(),
        transports,
        Arc::new(clock.clone()),
        DispatchConfig {
            node: "demo".into(),
            ..DispatchConfig::default()
        },
    )
    .with_signer(engine.signer().clone());

    let mut pending = events().into_iter().peekable();
    let step = SignedDuration::from_mins(5);
    let mut now = begin;
    while now <= end {
        clock.set(now);
        while let Some((at, _)) = pending.peek() {
            if *at > now {
                break;
            }
            if let Some((_, event)) = pending.next() {
                demo.apply(event).await?;
            }
        }
        engine.expire_lapsed().await?;
        dispatcher.drain().await?;
        now = now.checked_add(step)?;
    }

    let rows = store
        .timeline(
            Some(account),
            begin.checked_sub(SignedDuration::from_hours(24 * 30))?,
            end.checked_add(SignedDuration::from_hours(24 * 60))?,
            10_000,
        )
        .await?;
    println!("{}", timeline::render(&rows));
    let mut counts: Vec<(String, i64)> = store.count_by_status().await?;
    counts.sort();
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!(
        "Simulated {} to {} ({} bookings) in {:.1} s: {}.",
        timeline_date(begin),
        timeline_date(end),
        demo.bookings.len(),
        started.elapsed().as_secs_f64(),
        summary.join(", ")
    );
    let all = store
        .messages(
            account,
            &bellhop_store::MessageFilter {
                limit: 10_000,
                ..Default::default()
            },
        )
        .await?;
    let no_consent = all
        .iter()
        .filter(|m| m.status_code.as_deref() == Some("no_consent"))
        .count();
    let anna = engine.consents(account, demo.guests[0]).await?;
    let james = engine.consents(account, demo.guests[1]).await?;
    let marketing_email = |c: &bellhop_engine::ContactConsents| {
        c.matrix
            .iter()
            .find(|cell| cell.purpose == Purpose::Marketing && cell.channel == Channel::Email)
            .map(|cell| format!("{:?}", cell.state).to_lowercase())
            .unwrap_or_default()
    };
    println!(
        "Consent: {no_consent} marketing messages suppressed for want of consent; Anna Gruber unsubscribed with one click (offers by email: {}); James Miller signed up on his consent page and confirmed by mail (offers by email: {}).",
        marketing_email(&anna),
        marketing_email(&james),
    );
    let lapsed = demo
        .bookings
        .get("cart")
        .map(|id| engine.query().booking(account, *id));
    let lapsed = match lapsed {
        Some(b) => b.await?.fields.status.as_str(),
        None => "missing",
    };
    let hooks = std::fs::read_dir(&webhooks)?.count();
    println!(
        "Channels: Slevomat pushed 3 reservations; the unpaid cart SLV-CART-88 is {lapsed} (no mail), SLV-CART-90 was paid in time; staff moved SLV-4711 to 10.04.2026: {hooks} signed webhook(s) verified in {}, and the guest was told.",
        webhooks.display()
    );
    let inbound = store
        .inbound_mails(
            account,
            &bellhop_store::InboundFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await?;
    let answered: Vec<String> = inbound
        .iter()
        .rev()
        .filter(|m| m.decision == "replied")
        .map(|m| match &m.case_number {
            Some(case) => format!("{} ({case})", m.subject.clone().unwrap_or_default()),
            None => m.subject.clone().unwrap_or_default(),
        })
        .collect();
    let not: Vec<String> = inbound
        .iter()
        .rev()
        .filter(|m| m.decision != "replied")
        .map(|m| {
            format!(
                "{} ({})",
                m.subject.clone().unwrap_or_default(),
                m.reason_code
            )
        })
        .collect();
    println!(
        "Autoresponder: {} mails in; answered: {}; not answered: {}.",
        inbound.len(),
        answered.join(", "),
        not.join(", ")
    );
    let overview = engine
        .sms_overview(account, salon.id, Some("2026-03"))
        .await?;
    println!(
        "SMS of Salon Bella in March: {} sent ({} of them as voice calls to landlines), {} parts, {} package(s), {:.2} EUR.",
        overview.counts.sent,
        overview.counts.voice,
        overview.parts,
        overview.packages,
        overview.cost_cents as f64 / 100.0
    );
    println!(
        "Mails: {}   SMS and calls: {}   Database: {}",
        mail.display(),
        sms_dir.display(),
        db.display()
    );
    println!(
        "Look at one: ls {} | head; or see the demo's month again: BELLHOP_DATABASE={} bellhop timeline --from {} --to {}",
        mail.display(),
        db.display(),
        timeline_date(begin),
        timeline_date(end)
    );
    let _ = Clock::now(&clock);
    for (email, name, role, password) in DEMO_USERS {
        engine
            .create_user(
                account,
                bellhop_engine::NewUser {
                    email: email.into(),
                    name: name.into(),
                    role,
                    language: None,
                    password: password.into(),
                },
            )
            .await?;
    }
    store.close().await;
    Ok(DemoWorld { db, mail, end })
}

/// The demo's users of the staff UI: (email, name, role, password). Printed by `demo --serve`;
/// the demo's database is for trying bellhop out, never for real guests.
pub const DEMO_USERS: [(&str, &str, bellhop_engine::Role, &str); 2] = [
    (
        "owner@demo.example",
        "Maria Huber",
        bellhop_engine::Role::Owner,
        "bellhop-demo",
    ),
    (
        "staff@demo.example",
        "Jonas Berger",
        bellhop_engine::Role::Staff,
        "bellhop-staff",
    ),
];

/// Where the demo's world was left: its database, its mail folder, and the instant its
/// simulated month ended.
pub struct DemoWorld {
    /// The SQLite database.
    pub db: std::path::PathBuf,
    /// The folder of sent mail.
    pub mail: std::path::PathBuf,
    /// The end of the simulated month.
    pub end: Timestamp,
}

/// The demo's clock while it is served: the wall clock's pace from the end of the simulated
/// month, so "Today" shows the demo's world and time still moves.
#[derive(Debug)]
struct DemoClock {
    offset: SignedDuration,
}

impl Clock for DemoClock {
    fn now(&self) -> Timestamp {
        bellhop_engine::SystemClock
            .now()
            .checked_add(self.offset)
            .unwrap_or_else(|_| bellhop_engine::SystemClock.now())
    }
}

/// `bellhop demo --serve`: the demo's world in the staff UI (and the API) on `listen`, until
/// Ctrl-C. Only the API runs: nothing is sent, and test mails land in the demo's folder.
pub async fn serve(world: &DemoWorld, listen: &str) -> anyhow::Result<()> {
    let config = crate::config::Config {
        database: world.db.display().to_string(),
        listen: listen.to_owned(),
        role: crate::config::Role::Api,
        email: crate::config::EmailConfig {
            folder: world.mail.clone(),
            ..Default::default()
        },
        inbound: crate::config::InboundConfig {
            smtp_listen: String::new(),
            ..Default::default()
        },
        ..Default::default()
    };
    let offset = world.end.duration_since(bellhop_engine::SystemClock.now());
    let running = crate::app::start(&config, Arc::new(DemoClock { offset })).await?;
    println!();
    println!("The staff UI: http://{}/app", running.addr);
    for (email, _, role, password) in DEMO_USERS {
        println!("  sign in as {email} / {password} ({})", role.as_str());
    }
    println!(
        "It is {} in the demo's world. Ctrl-C stops.",
        timeline_date(world.end)
    );
    tokio::signal::ctrl_c().await?;
    running.stop().await;
    Ok(())
}

/// A receiver of Slevomat's webhooks on 127.0.0.1: checks each signature (against the
/// clock of the demo's world, which is far from the wall clock, so by the HMAC only) and
/// writes the body to `dir`. Returns its URL and the secret to check with.
async fn webhook_receiver(
    dir: std::path::PathBuf,
) -> anyhow::Result<(String, Arc<std::sync::Mutex<String>>)> {
    let secret = Arc::new(std::sync::Mutex::new(String::new()));
    let key = secret.clone();
    let app = axum::Router::new().route(
        "/slevomat",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (key, dir) = (key.clone(), dir.clone());
            async move {
                let header = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let signature = header("bellhop-signature");
                let signed_at = signature
                    .strip_prefix("t=")
                    .and_then(|s| s.split(',').next())
                    .and_then(|t| t.parse::<i64>().ok())
                    .unwrap_or_default();
                let secret = key.lock().map(|s| s.clone()).unwrap_or_default();
                if bellhop_transport::webhook::verify(&secret, &signature, &body, signed_at)
                    .is_err()
                {
                    return axum::http::StatusCode::UNAUTHORIZED;
                }
                let name = header("bellhop-delivery");
                match std::fs::write(dir.join(format!("{name}.json")), body) {
                    Ok(()) => axum::http::StatusCode::OK,
                    Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/slevomat", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, secret))
}

fn timeline_date(t: Timestamp) -> String {
    t.to_zoned(parse_time_zone(ZONE).unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
        .to_string()
}
