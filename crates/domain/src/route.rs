//! Where a message goes at send time: email, SMS, a voice call, or nowhere (with the reason).
//!
//! The rule's channel gives the order of preference (`email_or_sms`: email, and SMS only when
//! there is no address); the contact, the booking and the property decide what is possible:
//! a phone number that parses, a number type that can read a text (a landline gets a voice call
//! only where the property enabled it), an SMS sender, the customer's choice of SMS reminders,
//! and consent for the channel actually taken.

use crate::booking::Booking;
use crate::consent::Channel as ConsentChannel;
use crate::contact::Contact;
use crate::phone::{self, PhoneType, SmsRoute};
use crate::property::{Property, ReminderChoice};
use crate::reason::Reason;
use crate::rule::Channel;

/// A destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// An email to this address.
    Email(String),
    /// A text to this E.164 number.
    Sms(String),
    /// A voice call reading the text to this E.164 landline.
    Voice(String),
}

impl Route {
    /// `email`, `sms` or `voice`, as stored on the message.
    pub fn channel_name(&self) -> &'static str {
        match self {
            Route::Email(_) => "email",
            Route::Sms(_) => "sms",
            Route::Voice(_) => "voice",
        }
    }

    /// The address or number.
    pub fn recipient(&self) -> &str {
        match self {
            Route::Email(a) | Route::Sms(a) | Route::Voice(a) => a,
        }
    }

    /// SMS and voice messages are billed and limited.
    pub fn is_sms(&self) -> bool {
        matches!(self, Route::Sms(_) | Route::Voice(_))
    }
}

/// What routing reads.
#[derive(Clone, Copy)]
pub struct RouteInput<'a> {
    /// The property (sender, landline setting, reminder choice, STOP scope).
    pub property: &'a Property,
    /// The contact as it is now.
    pub contact: &'a Contact,
    /// The booking, for messages planned from one (the customer's SMS choice).
    pub booking: Option<&'a Booking>,
    /// The order of preference.
    pub channel: Channel,
    /// Whether the contact point may receive this message on a channel (consent).
    pub consent: &'a dyn Fn(ConsentChannel, &str) -> Result<(), Reason>,
}

/// The chosen destination, and whether it is the rule's second choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    /// Where to.
    pub route: Route,
    /// The second choice of an `email_or_sms` / `sms_or_email` rule.
    pub fallback: bool,
}

fn email(input: &RouteInput<'_>) -> Result<Route, Reason> {
    input
        .contact
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or(Reason::GuestEmailMissing)
        .and_then(|e| {
            (input.consent)(ConsentChannel::Email, e)?;
            Ok(Route::Email(e.to_owned()))
        })
}

/// The contact's number in E.164 with its type: as stored, or read now in the property's
/// country (automatic prefix) when only the raw input is known.
pub fn contact_number(
    contact: &Contact,
    property: &Property,
) -> Result<(phone::E164, PhoneType), Reason> {
    if let (Some(e164), Some(kind)) = (&contact.phone_e164, contact.phone_type) {
        return Ok((e164.clone(), kind));
    }
    let raw = contact
        .phone_e164
        .as_deref()
        .or(contact.phone.as_deref())
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or(Reason::GuestPhoneMissing)?;
    phone::normalize(raw, Some(&property.country))
        .map(|n| (n.e164, n.kind))
        .map_err(|e| Reason::GuestPhoneUnusable(e.to_string()))
}

fn sms(input: &RouteInput<'_>) -> Result<Route, Reason> {
    let p = input.property;
    if p.sms.sender.is_none() {
        return Err(Reason::SmsNotSetUp);
    }
    if let Some(b) = input.booking
        && b.fields.details.sms_reminders == Some(false)
        && p.sms.reminders == ReminderChoice::Optional
    {
        return Err(Reason::SmsDeclined);
    }
    let (number, kind) = contact_number(input.contact, p)?;
    (input.consent)(ConsentChannel::Sms, &number)?;
    match kind.sms_route() {
        SmsRoute::Text => Ok(Route::Sms(number.into())),
        SmsRoute::Landline if p.sms.landline_voice => Ok(Route::Voice(number.into())),
        SmsRoute::Landline => Err(Reason::Landline),
        SmsRoute::Unsuitable => Err(Reason::CannotReceiveSms(number, kind)),
    }
}

/// Chooses the destination, or says why there is none.
pub fn route(input: &RouteInput<'_>) -> Result<Routed, Reason> {
    let first = |route| Routed {
        route,
        fallback: false,
    };
    let second = |route| Routed {
        route,
        fallback: true,
    };
    match input.channel {
        Channel::Email => email(input).map(first),
        Channel::Sms => sms(input).map(first),
        Channel::EmailOrSms => match email(input) {
            Ok(r) => Ok(first(r)),
            Err(no_email) => sms(input).map(second).map_err(|no_sms| Reason::NoRoute {
                first: Box::new(no_email),
                second: Box::new(no_sms),
                sms_first: false,
            }),
        },
        Channel::SmsOrEmail => match sms(input) {
            Ok(r) => Ok(first(r)),
            Err(no_sms) => email(input)
                .map(second)
                .map_err(|no_email| Reason::NoRoute {
                    first: Box::new(no_sms),
                    second: Box::new(no_email),
                    sms_first: true,
                }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::{Sender, SmsSettings};
    use crate::sms::SenderId;
    use crate::time::{LocalTime, parse_time_zone};
    use uuid::Uuid;

    fn property(sms: SmsSettings) -> Property {
        Property {
            id: Uuid::nil(),
            account_id: Uuid::nil(),
            name: "Salon".into(),
            time_zone_name: "Europe/Vienna".into(),
            time_zone: parse_time_zone("Europe/Vienna").unwrap(),
            country: "AT".into(),
            default_language: "de".into(),
            check_in_time: LocalTime::hm(15, 0),
            check_out_time: LocalTime::hm(10, 0),
            sender: Sender {
                email: "info@salon.example".into(),
                name: "Salon".into(),
                reply_to: None,
            },
            layout_html: None,
            layout_text: None,
            brand: Default::default(),
            consent: Default::default(),
            sms,
        }
    }

    fn with_sender() -> SmsSettings {
        SmsSettings {
            sender: Some(SenderId::parse("Salon").unwrap()),
            ..SmsSettings::default()
        }
    }

    fn contact(email: Option<&str>, phone: Option<&str>) -> Contact {
        Contact {
            email: email.map(|e| e.parse().unwrap()),
            phone: phone.map(str::to_owned),
            ..Contact::default()
        }
    }

    fn run(
        p: &Property,
        c: &Contact,
        channel: Channel,
        refused: Option<ConsentChannel>,
    ) -> Result<Routed, String> {
        let consent = |ch: ConsentChannel, _: &str| match refused {
            Some(r) if r == ch => Err(Reason::NoConsent {
                purpose: crate::consent::Purpose::Marketing,
                channel: ch,
            }),
            _ => Ok(()),
        };
        route(&RouteInput {
            property: p,
            contact: c,
            booking: None,
            channel,
            consent: &consent,
        })
        .map_err(|reason| reason.to_string())
    }

    #[test]
    fn the_channel_order_and_the_contact_decide_the_route() {
        let p = property(with_sender());
        let mobile = "0664 1234567";
        let both = contact(Some("anna@example.com"), Some(mobile));
        let email_only = contact(Some("anna@example.com"), None);
        let phone_only = contact(None, Some(mobile));
        let sms = |n: &str| Route::Sms(n.to_owned());
        let mail = || Route::Email("anna@example.com".to_owned());
        type Expected = Result<(Route, bool), &'static str>;
        let cases: [(&Contact, Channel, Expected); 9] = [
            (&both, Channel::Email, Ok((mail(), false))),
            (&both, Channel::Sms, Ok((sms("+436641234567"), false))),
            (&both, Channel::EmailOrSms, Ok((mail(), false))),
            (
                &phone_only,
                Channel::EmailOrSms,
                Ok((sms("+436641234567"), true)),
            ),
            (
                &both,
                Channel::SmsOrEmail,
                Ok((sms("+436641234567"), false)),
            ),
            (&email_only, Channel::SmsOrEmail, Ok((mail(), true))),
            (&email_only, Channel::Sms, Err("guest phone missing")),
            (&phone_only, Channel::Email, Err("guest email missing")),
            (
                &contact(None, None),
                Channel::EmailOrSms,
                Err("guest email missing; no SMS either: guest phone missing"),
            ),
        ];
        for (c, channel, expected) in cases {
            let got = run(&p, c, channel, None).map(|r| (r.route, r.fallback));
            assert_eq!(got, expected.map_err(str::to_owned), "{channel:?} {c:?}");
        }
    }

    #[test]
    fn landlines_get_a_voice_call_only_where_enabled() {
        let landline = contact(None, Some("01 5321234"));
        let off = property(with_sender());
        assert_eq!(
            run(&off, &landline, Channel::Sms, None),
            Err("landline".into())
        );
        let on = property(SmsSettings {
            landline_voice: true,
            ..with_sender()
        });
        assert_eq!(
            run(&on, &landline, Channel::Sms, None).map(|r| r.route),
            Ok(Route::Voice("+4315321234".into()))
        );
        let premium = contact(None, Some("0900 123456"));
        assert!(
            run(&on, &premium, Channel::Sms, None)
                .unwrap_err()
                .contains("premium_rate")
        );
    }

    #[test]
    fn a_channel_without_consent_is_passed_over_for_the_other_one() {
        let both = contact(Some("anna@example.com"), Some("0664 1234567"));
        let p = property(with_sender());
        let routed = run(&p, &both, Channel::EmailOrSms, Some(ConsentChannel::Email)).unwrap();
        assert_eq!(
            (routed.route, routed.fallback),
            (Route::Sms("+436641234567".into()), true)
        );
        assert_eq!(
            run(&p, &both, Channel::Email, Some(ConsentChannel::Email)),
            Err("no consent: marketing/email".into())
        );
        assert_eq!(
            run(&p, &both, Channel::SmsOrEmail, Some(ConsentChannel::Sms)).map(|r| r.route),
            Ok(Route::Email("anna@example.com".into()))
        );
    }

    #[test]
    fn no_sender_means_no_sms_and_a_declined_reminder_is_respected() {
        let c = contact(None, Some("0664 1234567"));
        let p = property(SmsSettings::default());
        assert!(
            run(&p, &c, Channel::Sms, None)
                .unwrap_err()
                .contains("no SMS sender")
        );

        let p = property(with_sender());
        let booking: Booking = serde_json::from_value(serde_json::json!({
            "id": Uuid::nil(), "account_id": Uuid::nil(), "property_id": Uuid::nil(),
            "contact_id": Uuid::nil(), "status": "confirmed",
            "schedule": {"kind": "appointment", "start": "2026-06-10T08:00:00Z", "end": "2026-06-10T09:00:00Z"},
            "option_until": null, "hold_expires_at": null, "room_category": null, "service": null,
            "staff": null, "source_channel": null, "external_id": null, "voucher": null,
            "price_cents": null, "deposit_cents": null, "paid_cents": null, "guests": null,
            "language": null, "notes": null, "sms_reminders": false,
            "created_at": "2026-06-01T08:00:00Z", "updated_at": "2026-06-01T08:00:00Z", "version": 1,
            "status_changed_at": "2026-06-01T08:00:00Z", "status_version": 1,
            "modified_at": null, "modified_version": null
        }))
        .unwrap();
        let input = |p| RouteInput {
            property: p,
            contact: &c,
            booking: Some(&booking),
            channel: Channel::Sms,
            consent: &|_, _| Ok(()),
        };
        assert_eq!(route(&input(&p)).unwrap_err(), Reason::SmsDeclined);
        let mandatory = property(SmsSettings {
            reminders: ReminderChoice::Mandatory,
            ..with_sender()
        });
        assert!(route(&input(&mandatory)).is_ok());
    }
}
