//! Ready-made rules and templates: the eight CASABLANCA hotel moments, a change notice, and
//! the appointment set (confirmation, reminder 24 h before, cancellation notice, follow-up).

use crate::booking::{BookingKind, BookingStatus};
use crate::contact::GuestField;
use crate::render::{Category, EmailContent, Template, Variants};
use crate::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, Rule};
use crate::time::LocalTime;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A rule with its template, in German and English.
#[derive(Clone, Debug)]
pub struct Preset {
    /// Stable key (`pre_arrival`, `appointment_reminder`, ...).
    pub key: &'static str,
    /// Staff-facing name.
    pub name: &'static str,
    /// What it counts from.
    pub anchor: Anchor,
    /// How far from the anchor.
    pub offset: Offset,
    /// Local time of day.
    pub time_of_day: Option<LocalTime>,
    /// Conditions beyond the kind.
    pub conditions: Conditions,
    /// Late policy.
    pub late_policy: LatePolicy,
    /// Consent category of the template.
    pub category: Category,
    /// (language, subject, html body).
    pub variants: [(&'static str, &'static str, &'static str); 2],
}

impl Preset {
    /// The template and rule for a property, with new ids.
    pub fn instantiate(&self, account_id: Uuid, property_id: Uuid) -> (Template, Rule) {
        self.instantiate_as(account_id, property_id, Uuid::now_v7(), Uuid::now_v7())
    }

    /// The template and rule for a property, with the ids given (an installation that is
    /// repeated finds them).
    pub fn instantiate_as(
        &self,
        account_id: Uuid,
        property_id: Uuid,
        template_id: Uuid,
        rule_id: Uuid,
    ) -> (Template, Rule) {
        let template = Template {
            id: template_id,
            account_id,
            property_id,
            name: self.name.to_owned(),
            category: self.category,
            variants: Variants::Email(
                self.variants
                    .iter()
                    .map(|(lang, subject, html)| {
                        let content = EmailContent {
                            subject: (*subject).to_owned(),
                            html: (*html).to_owned(),
                            text: None,
                        };
                        ((*lang).to_owned(), content)
                    })
                    .collect::<BTreeMap<_, _>>(),
            ),
            version: 1,
        };
        let rule = Rule {
            id: rule_id,
            account_id,
            property_id,
            name: self.name.to_owned(),
            anchor: self.anchor,
            offset: self.offset,
            time_of_day: self.time_of_day,
            conditions: self.conditions.clone(),
            channel: Channel::Email,
            template_id: template.id,
            fallback_template_id: None,
            late_policy: self.late_policy,
            enabled: true,
        };
        (template, rule)
    }
}

/// A set of presets: its name and its presets.
type Set = (&'static str, fn() -> Vec<Preset>);

/// The sets of presets, by the business they are for.
pub const SETS: [Set; 2] = [("hotel", hotel), ("salon", appointments)];

/// Every preset with the set it belongs to.
pub fn catalog() -> Vec<(&'static str, Preset)> {
    SETS.iter()
        .flat_map(|(set, presets)| presets().into_iter().map(move |p| (*set, p)))
        .collect()
}

/// The preset with this key.
pub fn find(key: &str) -> Option<Preset> {
    catalog().into_iter().map(|(_, p)| p).find(|p| p.key == key)
}

/// A preset as a guest would receive it from `property` (its layout and brand), for a sample
/// booking of the preset's kind and a sample guest, in `language` (or the nearest variant).
pub fn preview(
    preset: &Preset,
    property: &crate::property::Property,
    language: &str,
) -> Result<crate::render::RenderedEmail, crate::render::RenderError> {
    use crate::render::{CompiledTemplate, RenderLimits, context};
    let (template, rule) = preset.instantiate(property.account_id, property.id);
    let compiled = CompiledTemplate::compile(
        &template,
        Some(property.html_layout()),
        Some(property.text_layout()),
        RenderLimits::default(),
    )?;
    let appointment = rule
        .conditions
        .kinds
        .as_deref()
        .is_some_and(|k| k.contains(&BookingKind::Appointment));
    let mut booking = if appointment {
        crate::sample::appointment()
    } else {
        crate::sample::stay()
    };
    booking.fields.status = rule
        .conditions
        .statuses
        .as_ref()
        .and_then(|s| s.first().copied())
        .unwrap_or(match rule.anchor {
            Anchor::OptionUntil => BookingStatus::Option,
            _ => BookingStatus::Confirmed,
        });
    let guest = crate::sample::contact();
    let mut mail = compiled.render(
        &[language, property.default_language.as_str()],
        &context(property, &booking, &guest, language, booking.created_at),
    )?;
    if preset.category != crate::render::Category::Service {
        // Sent, a marketing mail carries the contact's own one-click link (see consent).
        (mail.html, mail.text) = crate::consent::with_unsubscribe_link(
            &mail.html,
            &mail.text,
            SAMPLE_UNSUBSCRIBE_URL,
            &mail.language,
        );
    }
    Ok(mail)
}

/// Where a preview's unsubscribe link points: sent mails carry a signed link of their own.
pub const SAMPLE_UNSUBSCRIBE_URL: &str = "https://bellhop.example/u/SAMPLE";

/// The keys of a set (`hotel`, `salon`), or `None` for a set that does not exist.
pub fn keys_of_set(set: &str) -> Option<Vec<&'static str>> {
    SETS.iter()
        .find(|(name, _)| *name == set)
        .map(|(_, presets)| presets().iter().map(|p| p.key).collect())
}

fn only(kind: BookingKind) -> Conditions {
    Conditions {
        kinds: Some(vec![kind]),
        ..Conditions::default()
    }
}

/// The hotel presets: the eight moments of a stay plus a change notice.
pub fn hotel() -> Vec<Preset> {
    let at10 = Some(LocalTime::hm(10, 0));
    let stay = || only(BookingKind::Stay);
    vec![
        Preset {
            key: "offer_follow_up",
            name: "After the offer was created",
            anchor: Anchor::OfferCreated,
            offset: Offset::days(1),
            time_of_day: at10,
            conditions: stay(),
            late_policy: LatePolicy::SendNow,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Ihr Angebot im {{ property.name }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>vielen Dank für Ihre Anfrage. Ihr Angebot für {{ booking.nights }} Nächte vom {{ booking.arrival }} bis {{ booking.departure }} liegt für Sie bereit. Haben Sie Fragen dazu? Antworten Sie einfach auf diese E-Mail.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Your offer from {{ property.name }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>thank you for your enquiry. Your offer for {{ booking.nights }} nights from {{ booking.arrival }} to {{ booking.departure }} is ready for you. Any questions? Simply reply to this email.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "pre_arrival",
            name: "Before arrival",
            anchor: Anchor::Start,
            offset: Offset::days(-3),
            time_of_day: at10,
            conditions: stay(),
            late_policy: LatePolicy::SendIfBeforeAnchor,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Bald ist es soweit: Ihre Anreise am {{ booking.arrival }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>wir freuen uns auf Ihre Anreise am {{ booking.arrival }}. Ihr Zimmer ist ab {{ booking.check_in_time }} Uhr für Sie bereit. Kommen Sie später an oder haben Sie einen Wunsch? Antworten Sie einfach auf diese E-Mail.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "See you soon: your arrival on {{ booking.arrival }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>we look forward to welcoming you on {{ booking.arrival }}. Your room will be ready from {{ booking.check_in_time }}. Arriving late, or anything we can prepare? Simply reply to this email.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "pre_arrival_missing_data",
            name: "Before arrival, guest data missing",
            anchor: Anchor::Start,
            offset: Offset::days(-7),
            time_of_day: at10,
            conditions: Conditions {
                missing_any: Some(vec![
                    GuestField::Address,
                    GuestField::PostalCode,
                    GuestField::City,
                    GuestField::Nationality,
                    GuestField::BirthDate,
                ]),
                ..stay()
            },
            late_policy: LatePolicy::SendIfBeforeAnchor,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Bitte ergänzen Sie Ihre Gästedaten",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>für die Gästeanmeldung zu Ihrem Aufenthalt ab {{ booking.arrival }} fehlen uns noch einige Angaben: Adresse, Geburtsdatum und Staatsangehörigkeit. Antworten Sie einfach auf diese E-Mail, dann geht es bei der Anreise schneller.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Please complete your guest details",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>to register your stay from {{ booking.arrival }} we still need a few details: your address, date of birth and nationality. Simply reply to this email and check-in will be quicker.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "after_arrival",
            name: "After arrival",
            anchor: Anchor::Start,
            offset: Offset::days(0),
            time_of_day: Some(LocalTime::hm(18, 0)),
            conditions: stay(),
            late_policy: LatePolicy::Skip,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Willkommen im {{ property.name }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>herzlich willkommen im {{ property.name }}! Wir wünschen Ihnen einen schönen Aufenthalt. Brauchen Sie etwas, antworten Sie einfach auf diese E-Mail oder kommen Sie zur Rezeption.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Welcome to {{ property.name }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>welcome to {{ property.name }}! We wish you a wonderful stay. If you need anything, simply reply to this email or see us at reception.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "pre_departure",
            name: "Before departure",
            anchor: Anchor::End,
            offset: Offset::days(-1),
            time_of_day: at10,
            conditions: stay(),
            late_policy: LatePolicy::SendIfBeforeAnchor,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Ihre Abreise am {{ booking.departure }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>Ihre Abreise ist am {{ booking.departure }}; bitte geben Sie Ihr Zimmer bis {{ booking.check_out_time }} Uhr frei. Möchten Sie länger bleiben? Antworten Sie einfach auf diese E-Mail.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Your departure on {{ booking.departure }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>your departure is on {{ booking.departure }}; check-out is until {{ booking.check_out_time }}. Would you like to stay longer? Simply reply to this email.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "post_departure",
            name: "After departure",
            anchor: Anchor::End,
            offset: Offset::days(2),
            time_of_day: at10,
            conditions: stay(),
            late_policy: LatePolicy::Skip,
            category: Category::Marketing,
            variants: [
                (
                    "de",
                    "Danke für Ihren Besuch im {{ property.name }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>vielen Dank für Ihren Aufenthalt bei uns. Wir hoffen, Sie bald wieder begrüßen zu dürfen.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Thank you for staying at {{ property.name }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>thank you for staying with us. We hope to welcome you again soon.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "option_reminder",
            name: "Before the option expires",
            anchor: Anchor::OptionUntil,
            offset: Offset::days(-2),
            time_of_day: at10,
            conditions: stay(),
            late_policy: LatePolicy::SendIfBeforeAnchor,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Ihr Zimmer ist bis {{ booking.option_until }} Uhr für Sie reserviert",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>Ihr Zimmer vom {{ booking.arrival }} bis {{ booking.departure }} ist noch bis {{ booking.option_until }} Uhr unverbindlich für Sie reserviert. Möchten Sie fest buchen? Antworten Sie einfach auf diese E-Mail.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Your room is held for you until {{ booking.option_until }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>we are holding your room from {{ booking.arrival }} to {{ booking.departure }} for you until {{ booking.option_until }}. Would you like to confirm? Simply reply to this email.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "option_expired",
            name: "After the option expired",
            anchor: Anchor::OptionUntil,
            offset: Offset::hours(1),
            time_of_day: None,
            conditions: stay(),
            late_policy: LatePolicy::SendNow,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Ihre Option ist abgelaufen",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>die Reservierung Ihres Zimmers vom {{ booking.arrival }} bis {{ booking.departure }} ist abgelaufen. Möchten Sie trotzdem kommen? Antworten Sie auf diese E-Mail, und wir schicken Ihnen gerne ein neues Angebot.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Your option has expired",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>the room we were holding for you from {{ booking.arrival }} to {{ booking.departure }} has been released. Would you still like to come? Reply to this email and we will gladly send you a new offer.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "stay_modified",
            name: "Booking changed",
            anchor: Anchor::Modified,
            offset: Offset::minutes(15),
            time_of_day: None,
            conditions: stay(),
            late_policy: LatePolicy::SendNow,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Ihre Buchung wurde geändert",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hallo {{ guest.first_name }},{% elif guest.full_name %}Guten Tag {{ guest.full_name }},{% else %}Guten Tag,{% endif %}</p><p>wir haben Ihre Buchung geändert. Sie lautet jetzt: {{ booking.arrival }} bis {{ booking.departure }} ({{ booking.nights }} Nächte){% if booking.room_category %}, {{ booking.room_category }}{% endif %}{% if booking.guests %}, {{ booking.guests }} Personen{% endif %}. Stimmt etwas nicht? Antworten Sie einfach auf diese E-Mail.</p><p>Herzliche Grüße<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Your booking has changed",
                    "<p>{% if property.salutation is defined and property.salutation == \"first_name\" and guest.first_name %}Hi {{ guest.first_name }},{% elif guest.full_name %}Dear {{ guest.full_name }},{% else %}Hello,{% endif %}</p><p>we have changed your booking. It is now: {{ booking.arrival }} to {{ booking.departure }} ({{ booking.nights }} nights){% if booking.room_category %}, {{ booking.room_category }}{% endif %}{% if booking.guests %}, {{ booking.guests }} guests{% endif %}. Anything not right? Simply reply to this email.</p><p>Kind regards,<br>{{ property.name }}</p>",
                ),
            ],
        },
    ]
}

/// The appointment presets.
pub fn appointments() -> Vec<Preset> {
    let appt = || only(BookingKind::Appointment);
    vec![
        Preset {
            key: "appointment_confirmation",
            name: "Appointment confirmation",
            anchor: Anchor::BookingCreated,
            offset: Offset::minutes(0),
            time_of_day: None,
            conditions: Conditions {
                statuses: Some(vec![BookingStatus::Confirmed]),
                ..appt()
            },
            late_policy: LatePolicy::SendIfBeforeAnchor,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Terminbestätigung: {{ booking.start_date }} um {{ booking.start_time }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"full_name\" and guest.full_name %}Guten Tag {{ guest.full_name }},{% elif guest.first_name %}Hallo {{ guest.first_name }},{% else %}Guten Tag,{% endif %}</p><p>Ihr Termin{% if booking.service %} für {{ booking.service }}{% endif %} am {{ booking.start_date }} um {{ booking.start_time }} Uhr{% if booking.staff %} bei {{ booking.staff }}{% endif %} ist bestätigt. Falls Sie nicht kommen können, sagen Sie bitte rechtzeitig ab: Antworten Sie einfach auf diese E-Mail.</p><p>Bis bald<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Appointment confirmed: {{ booking.start_date }} at {{ booking.start_time }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"full_name\" and guest.full_name %}Dear {{ guest.full_name }},{% elif guest.first_name %}Hello {{ guest.first_name }},{% else %}Hello,{% endif %}</p><p>your appointment{% if booking.service %} for {{ booking.service }}{% endif %} on {{ booking.start_date }} at {{ booking.start_time }}{% if booking.staff %} with {{ booking.staff }}{% endif %} is confirmed. If you cannot make it, please let us know in time by replying to this email.</p><p>See you soon,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "appointment_reminder",
            name: "Appointment reminder 24 h before",
            anchor: Anchor::Start,
            offset: Offset::hours(-24),
            time_of_day: None,
            conditions: appt(),
            late_policy: LatePolicy::SendIfBeforeAnchor,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Erinnerung: Ihr Termin {{ booking.start_day }} um {{ booking.start_time }} Uhr",
                    "<p>{% if property.salutation is defined and property.salutation == \"full_name\" and guest.full_name %}Guten Tag {{ guest.full_name }},{% elif guest.first_name %}Hallo {{ guest.first_name }},{% else %}Guten Tag,{% endif %}</p><p>wir erinnern Sie an Ihren Termin{% if booking.service %} für {{ booking.service }}{% endif %} {{ booking.start_day }} um {{ booking.start_time }} Uhr. Falls Sie nicht kommen können, antworten Sie bitte auf diese E-Mail.</p><p>Bis bald<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Reminder: your appointment {{ booking.start_day }} at {{ booking.start_time }}",
                    "<p>{% if property.salutation is defined and property.salutation == \"full_name\" and guest.full_name %}Dear {{ guest.full_name }},{% elif guest.first_name %}Hello {{ guest.first_name }},{% else %}Hello,{% endif %}</p><p>a reminder of your appointment{% if booking.service %} for {{ booking.service }}{% endif %} {{ booking.start_day }} at {{ booking.start_time }}. If you cannot make it, please reply to this email.</p><p>See you soon,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "appointment_cancelled",
            name: "Cancellation notice",
            anchor: Anchor::Cancelled,
            offset: Offset::minutes(0),
            time_of_day: None,
            conditions: appt(),
            late_policy: LatePolicy::SendNow,
            category: Category::Service,
            variants: [
                (
                    "de",
                    "Ihr Termin am {{ booking.start_date }} wurde storniert",
                    "<p>{% if property.salutation is defined and property.salutation == \"full_name\" and guest.full_name %}Guten Tag {{ guest.full_name }},{% elif guest.first_name %}Hallo {{ guest.first_name }},{% else %}Guten Tag,{% endif %}</p><p>Ihr Termin am {{ booking.start_date }} um {{ booking.start_time }} Uhr ist abgesagt. Möchten Sie einen neuen Termin? Antworten Sie einfach auf diese E-Mail.</p><p>Bis bald<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "Your appointment on {{ booking.start_date }} was cancelled",
                    "<p>{% if property.salutation is defined and property.salutation == \"full_name\" and guest.full_name %}Dear {{ guest.full_name }},{% elif guest.first_name %}Hello {{ guest.first_name }},{% else %}Hello,{% endif %}</p><p>your appointment on {{ booking.start_date }} at {{ booking.start_time }} has been cancelled. Would you like a new one? Simply reply to this email.</p><p>See you soon,<br>{{ property.name }}</p>",
                ),
            ],
        },
        Preset {
            key: "appointment_follow_up",
            name: "Follow-up after the appointment",
            anchor: Anchor::End,
            offset: Offset::hours(3),
            time_of_day: None,
            conditions: appt(),
            late_policy: LatePolicy::Skip,
            category: Category::Marketing,
            variants: [
                (
                    "de",
                    "Wie war Ihr Besuch?",
                    "<p>{% if property.salutation is defined and property.salutation == \"full_name\" and guest.full_name %}Guten Tag {{ guest.full_name }},{% elif guest.first_name %}Hallo {{ guest.first_name }},{% else %}Guten Tag,{% endif %}</p><p>danke für Ihren Besuch. Wir freuen uns auf das nächste Mal!</p><p>Bis bald<br>{{ property.name }}</p>",
                ),
                (
                    "en",
                    "How was your visit?",
                    "<p>{% if property.salutation is defined and property.salutation == \"full_name\" and guest.full_name %}Dear {{ guest.full_name }},{% elif guest.first_name %}Hello {{ guest.first_name }},{% else %}Hello,{% endif %}</p><p>thank you for your visit. We look forward to seeing you again!</p><p>See you soon,<br>{{ property.name }}</p>",
                ),
            ],
        },
    ]
}

/// The SMS reminder of appointment businesses: "2 h before", in German and English, short
/// enough for one GSM-7 SMS. Returns its template and rule (channel `sms`).
pub fn appointment_sms_reminder(account_id: Uuid, property_id: Uuid) -> (Template, Rule) {
    let variants = [
        (
            "de",
            "Hallo {{ guest.first_name }}, Ihr Termin{% if booking.service %} ({{ booking.service }}){% endif %} ist {{ booking.start_day }} um {{ booking.start_time }} Uhr. Bis dann! {{ property.name }}",
        ),
        (
            "en",
            "Hi {{ guest.first_name }}, your appointment{% if booking.service %} ({{ booking.service }}){% endif %} is {{ booking.start_day }} at {{ booking.start_time }}. See you soon! {{ property.name }}",
        ),
    ];
    let template = Template {
        id: Uuid::now_v7(),
        account_id,
        property_id,
        name: "SMS reminder 2 h before".into(),
        category: Category::Service,
        variants: Variants::Sms(
            variants
                .iter()
                .map(|(lang, text)| {
                    let content = crate::render::SmsContent {
                        text: (*text).to_owned(),
                    };
                    ((*lang).to_owned(), content)
                })
                .collect(),
        ),
        version: 1,
    };
    let rule = Rule {
        id: Uuid::now_v7(),
        account_id,
        property_id,
        name: "SMS reminder 2 h before".into(),
        anchor: Anchor::Start,
        offset: Offset::hours(-2),
        time_of_day: None,
        conditions: only(BookingKind::Appointment),
        channel: Channel::Sms,
        template_id: template.id,
        fallback_template_id: None,
        late_policy: LatePolicy::SendIfBeforeAnchor,
        enabled: true,
    };
    (template, rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{CompiledTemplate, RenderLimits};

    #[test]
    fn every_preset_is_a_valid_rule_with_compiling_templates() {
        let (account, property) = (Uuid::now_v7(), Uuid::now_v7());
        for preset in hotel().into_iter().chain(appointments()) {
            let (template, rule) = preset.instantiate(account, property);
            rule.validate()
                .unwrap_or_else(|e| panic!("{}: {e}", preset.key));
            CompiledTemplate::compile(&template, None, None, RenderLimits::default())
                .unwrap_or_else(|e| panic!("{}: {e}", preset.key));
        }
        assert_eq!(hotel().len(), 9);
        assert_eq!(appointments().len(), 4);
        let (template, rule) = appointment_sms_reminder(account, property);
        rule.validate().unwrap();
        CompiledTemplate::compile(&template, None, None, RenderLimits::default()).unwrap();
    }
}
