//! Consent: what each customer agreed to receive, per purpose and channel, and whether a
//! message may go.
//!
//! Consent is a list of events (granted or withdrawn) per contact point — an email address or
//! an E.164 number — purpose and channel; the latest event decides. `service` messages rest on
//! the contract unless the property asks for explicit consent (Treatwell's model), and even
//! then a withdrawal is honoured; `marketing` and `personalized` always need a grant (UWG §7,
//! GDPR Art. 7; a "how was your stay?" mail is advertising).

use crate::property::StopScope;
use crate::reason::Reason;
use crate::render::Category;
use serde::{Deserialize, Serialize};

names! {
    /// What a message is for.
    Purpose {
        /// Confirmations, reminders, cancellations: the booking itself.
        Service = "service",
        /// Newsletters, offers, review requests.
        Marketing = "marketing",
        /// Suggestions based on earlier stays or treatments.
        Personalized = "personalized",
    }
}

names! {
    /// How a message reaches the customer. A voice call reading an SMS counts as SMS.
    Channel {
        /// Email.
        Email = "email",
        /// SMS (and voice calls that read one out).
        Sms = "sms",
    }
}

names! {
    /// Where a consent event came from.
    Source {
        /// The customer's consent page (a signed link).
        ConsentPage = "consent_page",
        /// The customer's own online booking.
        OnlineBooking = "online_booking",
        /// A member of staff.
        Staff = "staff",
        /// An import of earlier records.
        Import = "import",
        /// A booking channel (e.g. an AlpineBits newsletter flag).
        Channel = "channel",
        /// An SMS keyword (STOP, START, ...).
        SmsKeyword = "sms_keyword",
        /// An unsubscribe link or RFC 8058 one-click POST.
        UnsubscribeLink = "unsubscribe_link",
        /// An integrator through the API.
        Api = "api",
    }
}

impl From<Category> for Purpose {
    fn from(c: Category) -> Self {
        match c {
            Category::Service => Purpose::Service,
            Category::Marketing => Purpose::Marketing,
            Category::Personalized => Purpose::Personalized,
        }
    }
}

/// What a property asks of consent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ConsentPolicy {
    /// Service messages need an explicit grant too (otherwise they rest on the contract,
    /// and only a withdrawal stops them).
    pub service_needs_consent: bool,
}

/// The current state of one purpose and channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The latest event grants it.
    Granted,
    /// The latest event withdraws it.
    Withdrawn,
    /// No event yet.
    Unknown,
}

/// The event that decides a purpose and channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decisive {
    /// Granted (or withdrawn).
    pub granted: bool,
    /// Part of an opt-out of SMS as a whole — a STOP, or staff recording one — rather than a
    /// withdrawal of this one purpose.
    pub sms_opt_out: bool,
}

/// The evidence key that marks an event as part of an SMS opt-out as a whole.
pub const SMS_OPT_OUT: &str = "sms_opt_out";

impl Decisive {
    /// The state it leaves.
    pub fn state(latest: Option<&Decisive>) -> State {
        match latest {
            Some(d) if d.granted => State::Granted,
            Some(_) => State::Withdrawn,
            None => State::Unknown,
        }
    }
}

/// Whether a message of `purpose` may go by `channel`, given the latest event for that
/// contact point. `stop_scope` is the property's reading of an SMS opt-out (STOP): with
/// `marketing`, it does not stop service SMS (the contract carries them); a withdrawal of
/// service SMS as such always does.
pub fn check(
    policy: ConsentPolicy,
    stop_scope: StopScope,
    purpose: Purpose,
    channel: Channel,
    latest: Option<&Decisive>,
) -> Result<(), Reason> {
    let refused = Reason::NoConsent { purpose, channel };
    let contract = purpose == Purpose::Service && !policy.service_needs_consent;
    match latest {
        Some(d) if d.granted => Ok(()),
        Some(d) => {
            let stop_spares_service = contract
                && channel == Channel::Sms
                && d.sms_opt_out
                && stop_scope == StopScope::Marketing;
            if stop_spares_service {
                Ok(())
            } else {
                Err(refused)
            }
        }
        None if contract => Ok(()),
        None => Err(refused),
    }
}

/// A contact point as consent events are keyed: an email address in lower case, an E.164
/// number as it is.
pub fn contact_point(channel: Channel, address: &str) -> String {
    match channel {
        Channel::Email => address.trim().to_lowercase(),
        Channel::Sms => address.trim().to_owned(),
    }
}

/// Whether a consent text is acceptable: not empty, at most 100,000 characters.
pub fn text_problem(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        Some("the consent text is empty")
    } else if text.chars().count() > MAX_TEXT_CHARS {
        Some("the consent text is longer than 100,000 characters")
    } else {
        None
    }
}

/// The longest consent text kept.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// The consent text shown where a property has not written its own, by language.
pub fn default_text(language: &str) -> (&'static str, &'static str) {
    if crate::language::same_primary(language, "de") {
        ("de", DEFAULT_TEXT_DE)
    } else {
        ("en", DEFAULT_TEXT_EN)
    }
}

const DEFAULT_TEXT_DE: &str = "Sie entscheiden, welche Nachrichten wir Ihnen senden und auf welchem Weg. \
Service-Nachrichten sind Buchungsbestätigungen, Erinnerungen und Änderungen Ihrer Buchung. \
Angebote und Neuigkeiten sind Werbung, auch die Frage, wie Ihnen Ihr Aufenthalt gefallen hat. \
Persönliche Empfehlungen beruhen auf Ihren früheren Buchungen. \
Sie können jede Einwilligung jederzeit auf dieser Seite, über den Abmeldelink in unseren E-Mails \
oder mit STOP per SMS widerrufen; der Widerruf gilt für die Zukunft.";

const DEFAULT_TEXT_EN: &str = "You decide which messages we send you, and how. \
Service messages are booking confirmations, reminders and changes to your booking. \
Offers and news are advertising, and so is asking how you enjoyed your stay. \
Personal suggestions are based on your earlier bookings. \
You can withdraw any consent at any time on this page, through the unsubscribe link in our \
emails or by texting STOP; a withdrawal applies from then on.";

/// Adds a visible unsubscribe link to a marketing mail's bodies, unless the template already
/// shows `url`: in the HTML before `</body>` (or at the end), in the text at the end.
pub fn with_unsubscribe_link(
    html: &str,
    text: &str,
    url: &str,
    language: &str,
) -> (String, String) {
    let (question, action) = if crate::language::same_primary(language, "de") {
        (
            "Sie möchten solche E-Mails nicht mehr erhalten?",
            "Abmelden",
        )
    } else {
        ("Don't want emails like this any more?", "Unsubscribe")
    };
    let html = if html.contains(url) {
        html.to_owned()
    } else {
        let link = format!(
            "<p style=\"font-size:12px;color:#6b7280;text-align:center;margin:16px 0;\">{question} \
             <a href=\"{url}\" style=\"color:#6b7280;\">{action}</a></p>"
        );
        match html.to_ascii_lowercase().rfind("</body>") {
            Some(at) => format!("{}{link}{}", &html[..at], &html[at..]),
            None => format!("{html}{link}"),
        }
    };
    let text = if text.contains(url) {
        text.to_owned()
    } else {
        format!("{}\n\n{question} {action}: {url}\n", text.trim_end())
    };
    (html, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::{Email, Sms};
    use Purpose::{Marketing, Personalized, Service};

    const GRANTED: Option<Decisive> = Some(Decisive {
        granted: true,
        sms_opt_out: false,
    });
    const WITHDRAWN: Option<Decisive> = Some(Decisive {
        granted: false,
        sms_opt_out: false,
    });
    const STOP: Option<Decisive> = Some(Decisive {
        granted: false,
        sms_opt_out: true,
    });
    const NONE: Option<Decisive> = None;

    /// Every purpose × channel × policy, with a grant, a withdrawal and nothing: whether it goes.
    #[test]
    fn suppression_matrix() {
        let contract = ConsentPolicy::default();
        let explicit = ConsentPolicy {
            service_needs_consent: true,
        };
        #[rustfmt::skip]
        let table: &[(ConsentPolicy, Purpose, Channel, Option<Decisive>, bool)] = &[
            // policy   purpose       channel latest     goes
            (contract, Service,      Email, NONE,      true),
            (contract, Service,      Email, GRANTED,   true),
            (contract, Service,      Email, WITHDRAWN, false),
            (contract, Service,      Sms,   NONE,      true),
            (contract, Service,      Sms,   GRANTED,   true),
            (contract, Service,      Sms,   WITHDRAWN, false),
            (contract, Marketing,    Email, NONE,      false),
            (contract, Marketing,    Email, GRANTED,   true),
            (contract, Marketing,    Email, WITHDRAWN, false),
            (contract, Marketing,    Sms,   NONE,      false),
            (contract, Marketing,    Sms,   GRANTED,   true),
            (contract, Marketing,    Sms,   WITHDRAWN, false),
            (contract, Personalized, Email, NONE,      false),
            (contract, Personalized, Email, GRANTED,   true),
            (contract, Personalized, Email, WITHDRAWN, false),
            (contract, Personalized, Sms,   NONE,      false),
            (contract, Personalized, Sms,   GRANTED,   true),
            (contract, Personalized, Sms,   WITHDRAWN, false),
            (explicit, Service,      Email, NONE,      false),
            (explicit, Service,      Email, GRANTED,   true),
            (explicit, Service,      Email, WITHDRAWN, false),
            (explicit, Service,      Sms,   NONE,      false),
            (explicit, Service,      Sms,   GRANTED,   true),
            (explicit, Service,      Sms,   WITHDRAWN, false),
            (explicit, Marketing,    Email, NONE,      false),
            (explicit, Marketing,    Email, GRANTED,   true),
            (explicit, Marketing,    Email, WITHDRAWN, false),
            (explicit, Marketing,    Sms,   NONE,      false),
            (explicit, Marketing,    Sms,   GRANTED,   true),
            (explicit, Marketing,    Sms,   WITHDRAWN, false),
            (explicit, Personalized, Email, NONE,      false),
            (explicit, Personalized, Email, GRANTED,   true),
            (explicit, Personalized, Email, WITHDRAWN, false),
            (explicit, Personalized, Sms,   NONE,      false),
            (explicit, Personalized, Sms,   GRANTED,   true),
            (explicit, Personalized, Sms,   WITHDRAWN, false),
        ];
        for (policy, purpose, channel, latest, goes) in table {
            let got = check(*policy, StopScope::All, *purpose, *channel, latest.as_ref());
            assert_eq!(
                got.is_ok(),
                *goes,
                "{policy:?} {purpose}/{channel} {latest:?}"
            );
            if let Err(reason) = got {
                assert_eq!(
                    reason.to_string(),
                    format!("no consent: {purpose}/{channel}")
                );
                assert_eq!(reason.code(), "no_consent");
            }
        }
    }

    #[test]
    fn an_sms_opt_out_spares_service_sms_only_where_the_property_reads_stop_as_marketing() {
        let contract = ConsentPolicy::default();
        let latest = STOP.as_ref();
        assert!(check(contract, StopScope::Marketing, Service, Sms, latest).is_ok());
        assert!(check(contract, StopScope::All, Service, Sms, latest).is_err());
        assert!(check(contract, StopScope::Marketing, Marketing, Sms, latest).is_err());
        let explicit = ConsentPolicy {
            service_needs_consent: true,
        };
        assert!(check(explicit, StopScope::Marketing, Service, Sms, latest).is_err());
    }

    #[test]
    fn the_unsubscribe_link_is_added_once_and_inside_the_body() {
        let url = "https://b.example/u/TOKEN";
        let (html, text) = with_unsubscribe_link(
            "<html><BODY><p>Danke</p></BODY></html>",
            "Danke",
            url,
            "de-AT",
        );
        assert!(html.ends_with("Abmelden</a></p></BODY></html>"), "{html}");
        assert_eq!(
            text,
            "Danke\n\nSie möchten solche E-Mails nicht mehr erhalten? Abmelden: https://b.example/u/TOKEN\n"
        );
        let (again, text_again) = with_unsubscribe_link(&html, &text, url, "de");
        assert_eq!((again, text_again), (html, text));
        let (plain, _) = with_unsubscribe_link("<p>Thanks</p>", "", url, "en");
        assert!(plain.starts_with("<p>Thanks</p><p") && plain.contains(">Unsubscribe</a>"));
    }

    #[test]
    fn names_read_back() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(*p));
        }
        for s in Source::ALL {
            assert_eq!(Source::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(
            contact_point(Email, " Anna@Example.COM "),
            "anna@example.com"
        );
    }
}
