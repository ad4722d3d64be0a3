//! Which language a message is written in: booking, then contact, then property default;
//! then whichever variant exists.

use crate::booking::Booking;
use crate::contact::Contact;
use crate::property::Property;
use serde::{Deserialize, Serialize};

/// The language wanted for a booking's messages.
pub fn wanted(property: &Property, booking: &Booking, contact: &Contact) -> String {
    [&booking.fields.details.language, &contact.language]
        .into_iter()
        .flatten()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .unwrap_or(&property.default_language)
        .to_owned()
}

/// `de-AT` and `de` share the primary subtag `de`.
pub fn same_primary(a: &str, b: &str) -> bool {
    primary(a).eq_ignore_ascii_case(primary(b))
}

fn primary(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or(tag)
}

/// Picks a variant: the first of `preferences` that exists exactly, else by primary subtag;
/// else the first available. Returns the chosen tag and whether it was a fallback (none of the
/// preferences matched).
pub fn choose<'a>(preferences: &[&str], available: &'a [String]) -> Option<(&'a str, bool)> {
    for wanted in preferences {
        if let Some(found) = available.iter().find(|a| a.eq_ignore_ascii_case(wanted)) {
            return Some((found, false));
        }
        if let Some(found) = available.iter().find(|a| same_primary(a, wanted)) {
            return Some((found, false));
        }
    }
    available.first().map(|a| (a.as_str(), true))
}

/// A BCP 47 language tag such as `de` or `de-AT`, checked and written in its usual case
/// (`DE-at` becomes `de-AT`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageTag(String);

/// Text that is not a language tag.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a language tag such as \"de\" or \"de-AT\"")]
pub struct NotALanguageTag(pub String);

impl LanguageTag {
    /// Checks `tag`: a primary subtag of 2 or 3 letters, then subtags of 2 to 8 letters or
    /// digits, 35 characters at most.
    pub fn parse(tag: &str) -> Result<LanguageTag, NotALanguageTag> {
        let well_formed = tag.len() <= 35
            && tag.split('-').enumerate().all(|(i, part)| {
                if i == 0 {
                    (2..=3).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphabetic())
                } else {
                    (2..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
                }
            });
        if !well_formed {
            return Err(NotALanguageTag(tag.to_owned()));
        }
        let parts: Vec<String> = tag
            .split('-')
            .enumerate()
            .map(|(i, part)| match part.len() {
                2 if i > 0 && part.chars().all(|c| c.is_ascii_alphabetic()) => {
                    part.to_ascii_uppercase()
                }
                4 if i > 0 && part.chars().all(|c| c.is_ascii_alphabetic()) => {
                    let lower = part.to_ascii_lowercase();
                    lower[..1].to_ascii_uppercase() + &lower[1..]
                }
                _ => part.to_ascii_lowercase(),
            })
            .collect();
        Ok(LanguageTag(parts.join("-")))
    }
}

checked_text!(LanguageTag, NotALanguageTag);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_chosen_by_exact_tag_then_primary_subtag_then_fallback() {
        let available = vec!["de".to_owned(), "en".to_owned()];
        let cases: [(&[&str], (&str, bool)); 5] = [
            (&["en"], ("en", false)),
            (&["de-AT"], ("de", false)),
            (&["it", "en"], ("en", false)),
            (&["it"], ("de", true)),
            (&["EN-gb"], ("en", false)),
        ];
        for (prefs, expected) in cases {
            assert_eq!(choose(prefs, &available), Some(expected), "{prefs:?}");
        }
        assert_eq!(choose(&["de"], &[]), None);
    }

    #[test]
    fn language_tags_are_checked_and_written_in_their_usual_case() {
        for (given, written) in [
            ("de", "de"),
            ("DE-at", "de-AT"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("sr-latn", "sr-Latn"),
        ] {
            assert_eq!(LanguageTag::parse(given).unwrap().as_str(), written);
        }
        for bad in [
            "",
            "d",
            "deutsch",
            "de_AT",
            "de-",
            "1a",
            "de-A",
            "de-AT-x1234567890",
        ] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
    }
}
