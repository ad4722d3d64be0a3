//! Autoresponder mailboxes: the address and aliases a mailbox answers for, its replies per
//! language, when it is active, how often one sender is answered, and its case numbers.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One language's reply. Without a subject the reply is `Auto: <original subject>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplyText {
    /// Subject template (`{{ mail.case_number }}`, `{{ mail.subject }}`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Plain-text body template (`{{ mail.sender_name }}`, `{{ mail.case_number }}`, ...).
    pub body: String,
}

/// A mailbox bellhop answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    /// Id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// The property it speaks for (sender, zone, languages).
    pub property_id: Uuid,
    /// Shown to staff ("Complaints").
    pub name: String,
    /// Its address, lowercased.
    pub address: String,
    /// Further addresses it answers for, lowercased.
    pub aliases: Vec<String>,
    /// Replies by language tag.
    pub replies: BTreeMap<String, ReplyText>,
    /// The reply's language when the mail's is unknown or has no reply.
    pub default_language: String,
    /// Switched on.
    pub enabled: bool,
    /// Answers from this instant (none: from now).
    pub active_from: Option<Timestamp>,
    /// Answers until this instant (none: until switched off).
    pub active_until: Option<Timestamp>,
    /// One sender is answered at most once in this many seconds; 0 answers every mail.
    pub period_secs: i64,
    /// Prefix of case numbers (`REK` gives `REK-2026-000123`); none gives no case numbers.
    pub case_prefix: Option<String>,
    /// The sequence a person who writes is enrolled in.
    pub sequence_id: Option<Uuid>,
    /// A hosted mailbox watched over IMAP, for hotels that keep their provider.
    pub imap: Option<ImapSource>,
    /// Created.
    pub created_at: Timestamp,
}

/// Where a hosted mailbox is read (its password is kept apart, sealed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImapSource {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Implicit TLS.
    pub tls: bool,
    /// Login.
    pub user: String,
    /// Folder.
    pub folder: String,
    /// The last connection's error, if it failed.
    pub last_error: Option<String>,
    /// When bellhop last looked.
    pub checked_at: Option<Timestamp>,
}

/// The default reply period: seven days (RFC 3834 §3.1.1, RFC 5230 `:days`).
pub const DEFAULT_PERIOD_SECS: i64 = 7 * 24 * 3600;

impl Mailbox {
    /// The address and every alias.
    pub fn addresses(&self) -> Vec<String> {
        std::iter::once(self.address.clone())
            .chain(self.aliases.iter().cloned())
            .collect()
    }

    /// Whether it answers at `now`: switched on and inside its window.
    pub fn active_at(&self, now: Timestamp) -> Result<(), &'static str> {
        if !self.enabled {
            return Err("the mailbox's autoresponder is switched off");
        }
        if self.active_from.is_some_and(|from| now < from) {
            return Err("the autoresponder's window has not begun");
        }
        if self.active_until.is_some_and(|until| now >= until) {
            return Err("the autoresponder's window has ended");
        }
        Ok(())
    }
}

/// `REK-2026-000123`.
pub fn case_number(prefix: &str, year: i16, n: i64) -> String {
    format!("{prefix}-{year}-{n:06}")
}

/// Whether a case prefix is usable: 1 to 12 ASCII letters, digits or dashes, starting with a
/// letter.
pub fn valid_case_prefix(prefix: &str) -> bool {
    (1..=12).contains(&prefix.len())
        && prefix.starts_with(|c: char| c.is_ascii_alphabetic())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox() -> Mailbox {
        Mailbox {
            id: Uuid::nil(),
            account_id: Uuid::nil(),
            property_id: Uuid::nil(),
            name: "Complaints".into(),
            address: "reklamacje@hotel.example".into(),
            aliases: vec!["complaints@hotel.example".into()],
            replies: BTreeMap::new(),
            default_language: "pl".into(),
            enabled: true,
            active_from: Some("2026-12-01T00:00:00Z".parse().unwrap()),
            active_until: Some("2026-12-24T00:00:00Z".parse().unwrap()),
            period_secs: 0,
            case_prefix: Some("REK".into()),
            sequence_id: None,
            imap: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_window_is_from_inclusive_until_exclusive() {
        let m = mailbox();
        for (at, active) in [
            ("2026-11-30T23:59:59Z", false),
            ("2026-12-01T00:00:00Z", true),
            ("2026-12-23T23:59:59Z", true),
            ("2026-12-24T00:00:00Z", false),
        ] {
            assert_eq!(m.active_at(at.parse().unwrap()).is_ok(), active, "{at}");
        }
        let off = Mailbox {
            enabled: false,
            ..mailbox()
        };
        assert!(
            off.active_at("2026-12-02T00:00:00Z".parse().unwrap())
                .is_err()
        );
    }

    #[test]
    fn case_numbers_and_prefixes() {
        assert_eq!(case_number("REK", 2026, 123), "REK-2026-000123");
        assert_eq!(case_number("REK", 2027, 1_234_567), "REK-2027-1234567");
        for (prefix, ok) in [
            ("REK", true),
            ("A-1", true),
            ("", false),
            ("1A", false),
            ("RE K", false),
        ] {
            assert_eq!(valid_case_prefix(prefix), ok, "{prefix:?}");
        }
    }
}
