//! SMS sender identities: an alphanumeric name or a phone number.
//!
//! An alphanumeric sender has 1 to 11 of `A–Z a–z 0–9` and space with at least one letter
//! (TS 23.040 TP-OA: 10 octets of packed 7-bit text hold 11 characters). It shows the business
//! name, but nobody can reply to it — so STOP replies need a numeric sender. A numeric sender
//! is an E.164 number: `+`, then 2 to 15 digits, not starting with 0.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated SMS sender.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SenderId {
    /// A name such as `HotelAlpin`.
    Alphanumeric(String),
    /// An E.164 number such as `+4366412345678`.
    Number(String),
}

/// Why a sender is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SenderError {
    /// Empty.
    #[error(
        "the SMS sender is empty: give a name of up to 11 letters and digits or a number such as +4366412345678"
    )]
    Empty,
    /// A name longer than 11 characters.
    #[error("the SMS sender name {0:?} has {1} characters; at most 11 are allowed")]
    TooLong(String, usize),
    /// A character outside A–Z, a–z, 0–9 and space.
    #[error("the SMS sender name {0:?} contains {1:?}; only A–Z, a–z, 0–9 and spaces are allowed")]
    Character(String, char),
    /// Digits only: not a name, and not a number in international format.
    #[error(
        "the SMS sender {0:?} has no letter; a numeric sender must be in international format such as +4366412345678"
    )]
    NoLetter(String),
    /// A malformed number.
    #[error(
        "the SMS sender number {0:?} is not in E.164 format: + and 2 to 15 digits, not starting with 0"
    )]
    Number(String),
}

impl SenderId {
    /// Parses a sender; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<SenderId, SenderError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(SenderError::Empty);
        }
        if let Some(digits) = s.strip_prefix('+') {
            let ok = (2..=15).contains(&digits.len())
                && digits.chars().all(|c| c.is_ascii_digit())
                && !digits.starts_with('0');
            return if ok {
                Ok(SenderId::Number(s.to_owned()))
            } else {
                Err(SenderError::Number(s.to_owned()))
            };
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == ' '))
        {
            return Err(SenderError::Character(s.to_owned(), bad));
        }
        let n = s.chars().count();
        if n > 11 {
            return Err(SenderError::TooLong(s.to_owned(), n));
        }
        if !s.chars().any(|c| c.is_ascii_alphabetic()) {
            return Err(SenderError::NoLetter(s.to_owned()));
        }
        Ok(SenderId::Alphanumeric(s.to_owned()))
    }

    /// The sender as the gateway receives it.
    pub fn as_str(&self) -> &str {
        match self {
            SenderId::Alphanumeric(s) | SenderId::Number(s) => s,
        }
    }

    /// Whether replies (and STOP keywords) can reach it.
    pub fn can_receive_replies(&self) -> bool {
        matches!(self, SenderId::Number(_))
    }
}

impl fmt::Display for SenderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SenderId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SenderId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SenderId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_are_names_of_up_to_eleven_or_e164_numbers() {
        let good = [
            ("HotelAlpin", true),
            ("Hotel Alpin", true),
            ("A", true),
            ("Salon 24", true),
            ("ABCDEFGHIJK", true),
            ("+4366412345678", false),
            ("+12", false),
        ];
        for (s, alpha) in good {
            let id = SenderId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(matches!(id, SenderId::Alphanumeric(_)), alpha, "{s}");
            assert_eq!(id.can_receive_replies(), !alpha);
        }
        let bad = [
            ("", "empty"),
            ("   ", "empty"),
            ("ABCDEFGHIJKL", "12 characters"),
            ("Hotel@Alpin", "'@'"),
            ("Hotel-Alpin", "'-'"),
            ("Hôtel", "'ô'"),
            ("12345", "no letter"),
            ("+0123", "E.164"),
            ("+4366412345678901", "E.164"),
            ("+43 664", "E.164"),
        ];
        for (s, why) in bad {
            let e = SenderId::parse(s).unwrap_err().to_string();
            assert!(e.contains(why), "{s}: {e}");
        }
    }
}
