//! Which language a message is written in: booking, then contact, then property default;
//! then whichever variant exists.

use crate::booking::Booking;
use crate::contact::Contact;
use crate::property::Property;

/// The language wanted for a booking's messages.
pub fn wanted(property: &Property, booking: &Booking, contact: &Contact) -> String {
    [&booking.language, &contact.language]
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
}
