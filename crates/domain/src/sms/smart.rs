//! Smart encoding: look-alike characters replaced by GSM-7 ones, so that a typographic quote
//! pasted from a word processor does not double the price of a reminder.
//!
//! The table is bellhop's own, by Unicode name: quotation marks and apostrophes, dashes and
//! hyphens, the ellipsis, fractions, spaces of every width (zero-width ones disappear), and the
//! fullwidth forms of ASCII. It is lossy by design, so `segment::analyze` only uses it when the
//! result is all GSM-7.

use super::segment::Replacement;

/// The GSM text for a look-alike character, or `None` to keep it.
pub fn replacement(c: char) -> Option<&'static str> {
    Some(match c {
        // Double quotation marks.
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}'
        | '\u{2033}' | '\u{2036}' | '\u{02BA}' | '\u{02EE}' | '\u{275D}' | '\u{275E}'
        | '\u{2E42}' | '\u{301D}' | '\u{301E}' | '\u{301F}' => "\"",
        // Single quotation marks, apostrophes, primes and accents used as apostrophes.
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2039}' | '\u{203A}'
        | '\u{2032}' | '\u{2035}' | '\u{00B4}' | '`' | '\u{02B9}' | '\u{02BB}' | '\u{02BC}'
        | '\u{02BD}' | '\u{02C8}' | '\u{02CA}' | '\u{02CB}' | '\u{275B}' | '\u{275C}'
        | '\u{A78B}' | '\u{A78C}' => "'",
        // Hyphens, dashes and the minus sign.
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2043}' | '\u{2212}' | '\u{2E3A}' | '\u{2E3B}' | '\u{FE58}' | '\u{FE63}' => "-",
        '\u{2026}' => "...",
        '\u{2025}' => "..",
        '\u{203C}' => "!!",
        '\u{2047}' => "??",
        '\u{2048}' => "?!",
        '\u{2049}' => "!?",
        '\u{2044}' | '\u{2215}' | '\u{29F8}' => "/",
        '\u{00F7}' => "/",
        '\u{00D7}' => "x",
        '\u{00BC}' => "1/4",
        '\u{00BD}' => "1/2",
        '\u{00BE}' => "3/4",
        '\u{2022}' | '\u{2023}' | '\u{25E6}' | '\u{2219}' => "-",
        '\u{00B7}' => ".",
        '\u{2024}' => ".",
        // Spaces of every width become a space; invisible ones vanish.
        '\u{00A0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200A}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => " ",
        '\u{00AD}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}' => "",
        '\u{2028}' | '\u{2029}' => "\n",
        '\u{2122}' => "TM",
        '\u{00A9}' => "(C)",
        '\u{00AE}' => "(R)",
        _ => return fullwidth(c),
    })
}

/// Fullwidth forms U+FF01–U+FF5E are ASCII shifted by 0xFEE0.
fn fullwidth(c: char) -> Option<&'static str> {
    const ASCII: &str = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    let code = c as u32;
    if !(0xFF01..=0xFF5E).contains(&code) {
        return None;
    }
    let i = (code - 0xFF01) as usize;
    let ascii = &ASCII[i..i + 1];
    // The fullwidth grave accent maps like the grave accent: to an apostrophe.
    Some(if ascii == "`" { "'" } else { ascii })
}

/// Replaces every look-alike; returns the text and the distinct replacements made.
pub fn apply(text: &str) -> (String, Vec<Replacement>) {
    let mut out = String::with_capacity(text.len());
    let mut made: Vec<Replacement> = Vec::new();
    for c in text.chars() {
        match replacement(c) {
            Some(to) => {
                out.push_str(to);
                if !made.iter().any(|r| r.from.chars().eq([c])) {
                    made.push(Replacement {
                        from: c.to_string(),
                        to: to.to_owned(),
                    });
                }
            }
            None => out.push(c),
        }
    }
    (out, made)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::gsm::is_gsm;

    #[test]
    fn every_replacement_is_gsm_text() {
        for code in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            if let Some(to) = replacement(c) {
                assert!(to.chars().all(is_gsm), "U+{code:04X} -> {to:?}");
                assert!(!is_gsm(c), "U+{code:04X} is GSM already");
            }
        }
    }

    #[test]
    fn typographic_punctuation_becomes_plain() {
        let (text, made) = apply("„Grüß Gott“ – it’s 10\u{a0}€…");
        assert_eq!(text, "\"Grüß Gott\" - it's 10 €...");
        assert_eq!(made.len(), 6);
        assert_eq!(apply("ＡＢＣ１２３！").0, "ABC123!");
        assert_eq!(apply("a\u{200B}b\u{00AD}c").0, "abc");
    }
}
