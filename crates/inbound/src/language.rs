//! The language a mail is written in: `Content-Language` when it says, else what whatlang
//! reads in its subject and text when it is sure, else nothing (the mailbox's default).

use crate::mail::{Incoming, floor_char_boundary};

/// How the language was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The `Content-Language` header.
    Header,
    /// The detector.
    Detected,
}

/// The language of `mail` as an ISO 639-1 code, with how it was found.
pub fn of(mail: &Incoming) -> Option<(String, Source)> {
    if let Some(tag) = mail.content_language.as_deref().and_then(primary) {
        return Some((tag, Source::Header));
    }
    // The first few kilobytes say enough, and keep the detector's time bounded.
    let text = format!("{}\n{}", mail.subject_or_empty(), mail.text);
    let text = &text[..floor_char_boundary(&text, 4_096)];
    let info = whatlang::detect(text)?;
    if !info.is_reliable() {
        return None;
    }
    iso639_1(info.lang().code()).map(|c| (c.to_owned(), Source::Detected))
}

/// `de-AT, en` → `de`.
fn primary(header: &str) -> Option<String> {
    let first = header.split(',').next()?.trim();
    let primary = first.split(['-', '_']).next()?.to_ascii_lowercase();
    (primary.len() == 2 && primary.chars().all(|c| c.is_ascii_alphabetic())).then_some(primary)
}

fn iso639_1(code3: &str) -> Option<&'static str> {
    Some(match code3 {
        "deu" => "de",
        "eng" => "en",
        "pol" => "pl",
        "ces" => "cs",
        "slk" => "sk",
        "fra" => "fr",
        "ita" => "it",
        "spa" => "es",
        "nld" => "nl",
        "hun" => "hu",
        "slv" => "sl",
        "hrv" => "hr",
        "dan" => "da",
        "swe" => "sv",
        "nob" => "nb",
        "por" => "pt",
        "rus" => "ru",
        "ukr" => "uk",
        "ron" => "ro",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(language: Option<&str>, subject: &str, text: &str) -> Incoming {
        Incoming {
            content_language: language.map(str::to_owned),
            subject: Some(subject.to_owned()),
            text: text.to_owned(),
            ..Incoming::default()
        }
    }

    #[test]
    fn the_header_wins_then_the_detector_then_nothing() {
        let cases = [
            (
                Some("de-AT, en"),
                "Hello",
                "Hello there",
                Some(("de", Source::Header)),
            ),
            (
                None,
                "Reklamacja pokoju",
                "Dzień dobry, chciałbym złożyć reklamację dotyczącą pokoju, w którym mieszkałem w zeszłym tygodniu.",
                Some(("pl", Source::Detected)),
            ),
            (
                None,
                "Anfrage",
                "Guten Tag, wir möchten gerne ein Zimmer für zwei Personen in der nächsten Woche reservieren.",
                Some(("de", Source::Detected)),
            ),
            (None, "", "ok", None),
            (Some("x-klingon"), "", "", None),
        ];
        for (header, subject, text, expected) in cases {
            let got = of(&mail(header, subject, text));
            assert_eq!(
                got.as_ref().map(|(l, s)| (l.as_str(), *s)),
                expected,
                "{subject:?}"
            );
        }
    }
}
