//! SMS: encoding and segmentation (`segment`), the GSM alphabet (`gsm`), smart encoding
//! (`smart`), sender identities (`sender`) and inbound keywords (`keyword`).

pub mod gsm;
pub mod keyword;
pub mod segment;
pub mod sender;
pub mod smart;

pub use keyword::Keyword;
pub use segment::{Encoding, MAX_PARTS, SmsAnalysis, SmsTextError, analyze, check_sendable};
pub use sender::{SenderError, SenderId};

/// The opt-out line a marketing SMS ends with, in `language` (German or English): "reply
/// STOP" where replies reach the sender, otherwise the property's email address (as a
/// template snippet). `None` when the text already says how to opt out.
pub fn opt_out_line(text: &str, language: &str, replies_possible: bool) -> Option<&'static str> {
    // The keyword itself, as a word ("STOP an 0664 …"), or the words that say how to leave;
    // "Non-stop" or "Stopover" is neither.
    let keyword = text
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| word.eq_ignore_ascii_case("stop") && word.chars().all(|c| c.is_uppercase()));
    let lower = text.to_lowercase();
    if keyword
        || ["abmelden", "opt out", "opt-out", "unsubscribe"]
            .iter()
            .any(|w| lower.contains(w))
    {
        return None;
    }
    let german = crate::language::same_primary(language, "de");
    Some(match (german, replies_possible) {
        (true, true) => "\nAbmelden: Antwort STOP",
        (true, false) => "\nAbmelden: E-Mail an {{ property.email }}",
        (false, true) => "\nReply STOP to opt out",
        (false, false) => "\nOpt out: email {{ property.email }}",
    })
}

#[cfg(test)]
mod opt_out_tests {
    use super::opt_out_line;

    #[test]
    fn marketing_sms_end_with_an_opt_out_the_sender_can_receive() {
        let cases = [
            (
                "Frühlingsaktion -20 %",
                "de",
                true,
                Some("\nAbmelden: Antwort STOP"),
            ),
            (
                "Frühlingsaktion -20 %",
                "de-AT",
                false,
                Some("\nAbmelden: E-Mail an {{ property.email }}"),
            ),
            (
                "Spring offer -20 %",
                "en",
                true,
                Some("\nReply STOP to opt out"),
            ),
            (
                "Spring offer -20 %",
                "pl",
                false,
                Some("\nOpt out: email {{ property.email }}"),
            ),
            ("Aktion! STOP an 0664 123", "de", true, None),
            (
                "Non-stop Angebote im Mai",
                "de",
                true,
                Some("\nAbmelden: Antwort STOP"),
            ),
            (
                "Stopover deals",
                "en",
                true,
                Some("\nReply STOP to opt out"),
            ),
        ];
        for (text, language, replies, expected) in cases {
            assert_eq!(opt_out_line(text, language, replies), expected, "{text}");
        }
    }
}
