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
    /// The template and rule for a property.
    pub fn instantiate(&self, account_id: Uuid, property_id: Uuid) -> (Template, Rule) {
        let template = Template {
            id: Uuid::now_v7(),
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
            id: Uuid::now_v7(),
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
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>vielen Dank für Ihre Anfrage. Ihr Angebot für {{ booking.arrival }} bis {{ booking.departure }} ({{ booking.nights }} Nächte) liegt für Sie bereit.</p>",
                ),
                (
                    "en",
                    "Your offer from {{ property.name }}",
                    "<p>Dear {{ guest.full_name }},</p><p>thank you for your enquiry. Your offer for {{ booking.arrival }} to {{ booking.departure }} ({{ booking.nights }} nights) is ready for you.</p>",
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
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>wir freuen uns auf Ihre Anreise am {{ booking.arrival }}. Ihr Zimmer ist ab {{ booking.check_in_time }} Uhr bereit.</p>",
                ),
                (
                    "en",
                    "See you soon: your arrival on {{ booking.arrival }}",
                    "<p>Dear {{ guest.full_name }},</p><p>we look forward to welcoming you on {{ booking.arrival }}. Your room is ready from {{ booking.check_in_time }}.</p>",
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
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>für die Anmeldung zu Ihrem Aufenthalt ab {{ booking.arrival }} fehlen uns noch einige Angaben (Adresse, Geburtsdatum, Staatsangehörigkeit). Antworten Sie einfach auf diese E-Mail.</p>",
                ),
                (
                    "en",
                    "Please complete your guest details",
                    "<p>Dear {{ guest.full_name }},</p><p>for the registration of your stay from {{ booking.arrival }} we still need a few details (address, date of birth, nationality). Simply reply to this email.</p>",
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
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>herzlich willkommen! Wir wünschen Ihnen einen schönen Aufenthalt.</p>",
                ),
                (
                    "en",
                    "Welcome to {{ property.name }}",
                    "<p>Dear {{ guest.full_name }},</p><p>welcome! We wish you a wonderful stay.</p>",
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
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>bitte geben Sie Ihr Zimmer am {{ booking.departure }} bis {{ booking.check_out_time }} Uhr frei. Möchten Sie verlängern? Antworten Sie einfach.</p>",
                ),
                (
                    "en",
                    "Your departure on {{ booking.departure }}",
                    "<p>Dear {{ guest.full_name }},</p><p>check-out on {{ booking.departure }} is until {{ booking.check_out_time }}. Would you like to stay longer? Just reply.</p>",
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
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>vielen Dank für Ihren Aufenthalt. Wir hoffen, Sie bald wieder begrüßen zu dürfen.</p>",
                ),
                (
                    "en",
                    "Thank you for staying at {{ property.name }}",
                    "<p>Dear {{ guest.full_name }},</p><p>thank you for your stay. We hope to welcome you again soon.</p>",
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
                    "Ihre Option läuft am {{ booking.option_until }} ab",
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>wir halten Ihr Zimmer für {{ booking.arrival }} bis {{ booking.option_until }} für Sie frei. Bitte bestätigen Sie bis dahin.</p>",
                ),
                (
                    "en",
                    "Your option expires on {{ booking.option_until }}",
                    "<p>Dear {{ guest.full_name }},</p><p>we are holding your room for {{ booking.arrival }} until {{ booking.option_until }}. Please confirm by then.</p>",
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
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>leider ist Ihre Option für {{ booking.arrival }} abgelaufen. Gerne erstellen wir Ihnen ein neues Angebot.</p>",
                ),
                (
                    "en",
                    "Your option has expired",
                    "<p>Dear {{ guest.full_name }},</p><p>unfortunately your option for {{ booking.arrival }} has expired. We are happy to make you a new offer.</p>",
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
                    "<p>Liebe(r) {{ guest.full_name }},</p><p>Ihre Buchung lautet jetzt: {{ booking.arrival }} bis {{ booking.departure }}{% if booking.room_category %}, {{ booking.room_category }}{% endif %}.</p>",
                ),
                (
                    "en",
                    "Your booking has changed",
                    "<p>Dear {{ guest.full_name }},</p><p>your booking is now: {{ booking.arrival }} to {{ booking.departure }}{% if booking.room_category %}, {{ booking.room_category }}{% endif %}.</p>",
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
                    "<p>Hallo {{ guest.first_name }},</p><p>Ihr Termin{% if booking.service %} für {{ booking.service }}{% endif %} am {{ booking.start_date }} um {{ booking.start_time }} Uhr ist bestätigt.</p>",
                ),
                (
                    "en",
                    "Appointment confirmed: {{ booking.start_date }} at {{ booking.start_time }}",
                    "<p>Hello {{ guest.first_name }},</p><p>your appointment{% if booking.service %} for {{ booking.service }}{% endif %} on {{ booking.start_date }} at {{ booking.start_time }} is confirmed.</p>",
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
                    "Erinnerung: morgen um {{ booking.start_time }}",
                    "<p>Hallo {{ guest.first_name }},</p><p>wir erinnern Sie an Ihren Termin am {{ booking.start_date }} um {{ booking.start_time }} Uhr.</p>",
                ),
                (
                    "en",
                    "Reminder: tomorrow at {{ booking.start_time }}",
                    "<p>Hello {{ guest.first_name }},</p><p>a reminder of your appointment on {{ booking.start_date }} at {{ booking.start_time }}.</p>",
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
                    "<p>Hallo {{ guest.first_name }},</p><p>Ihr Termin am {{ booking.start_date }} um {{ booking.start_time }} Uhr wurde storniert.</p>",
                ),
                (
                    "en",
                    "Your appointment on {{ booking.start_date }} was cancelled",
                    "<p>Hello {{ guest.first_name }},</p><p>your appointment on {{ booking.start_date }} at {{ booking.start_time }} has been cancelled.</p>",
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
                    "<p>Hallo {{ guest.first_name }},</p><p>danke für Ihren Besuch. Wir freuen uns auf das nächste Mal.</p>",
                ),
                (
                    "en",
                    "How was your visit?",
                    "<p>Hello {{ guest.first_name }},</p><p>thank you for your visit. We look forward to seeing you again.</p>",
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
            "Hallo {{ guest.first_name }}, Ihr Termin ({{ booking.service }}) ist heute um {{ booking.start_time }} Uhr. Absagen: Antwort auf diese SMS. {{ property.name }}",
        ),
        (
            "en",
            "Hi {{ guest.first_name }}, your appointment ({{ booking.service }}) is today at {{ booking.start_time }}. {{ property.name }}",
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
