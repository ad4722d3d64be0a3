//! Encoding choice and segmentation of an SMS text (3GPP TS 23.038 / TS 23.040).
//!
//! A message is GSM-7 when every character is in the basic table (1 septet) or the extension
//! table (2 septets); any other character makes the whole message UCS-2, counted in UTF-16
//! units (an emoji outside the BMP is 2). One SMS carries 160 septets or 70 units; a longer
//! text is split into parts of 153 septets or 67 units, because each part gives 6 octets to
//! the concatenation header. A part never ends inside an escape pair, a surrogate pair or a
//! grapheme cluster (a flag, a ZWJ family, a letter with its combining accents): the phone
//! would show a broken character.

use super::gsm;
use super::smart;
use serde::Serialize;
use std::fmt;
use unicode_segmentation::UnicodeSegmentation;

/// How the text travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Encoding {
    /// GSM 7-bit default alphabet with its extension table.
    #[serde(rename = "GSM-7")]
    Gsm7,
    /// UCS-2 (UTF-16 in practice).
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    /// The name used on the wire of the API and CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    /// Units in a message of one part.
    pub fn single_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Units per part of a multi-part message.
    pub fn part_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }

    /// What a unit is, for people.
    pub fn unit_name(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "septets",
            Encoding::Ucs2 => "UTF-16 units",
        }
    }

    fn cost(self, c: char) -> usize {
        match self {
            Encoding::Gsm7 => usize::from(gsm::septets(c).unwrap_or(2)),
            Encoding::Ucs2 => c.len_utf16(),
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A replacement smart encoding made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Replacement {
    /// The character in the original text.
    pub from: String,
    /// What went out instead.
    pub to: String,
}

/// What an SMS text costs and how it is split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SmsAnalysis {
    /// GSM-7 or UCS-2.
    pub encoding: Encoding,
    /// Number of SMS the text is sent as (each is billed).
    pub segments: usize,
    /// Septets (GSM-7) or UTF-16 units (UCS-2) of the whole text.
    pub units: usize,
    /// Units still free in the last part before another part is needed.
    pub units_left: usize,
    /// Characters as people count them (grapheme clusters).
    pub characters: usize,
    /// The characters that force UCS-2, each once, in order of appearance.
    pub non_gsm: Vec<String>,
    /// The texts of the parts, in order.
    pub parts: Vec<String>,
    /// The text that is sent: the input, or its smart-encoded form.
    pub text: String,
    /// Smart encoding replaced characters (only when that made the text GSM-7).
    pub smart_encoded: bool,
    /// The replacements smart encoding made, each once.
    pub replacements: Vec<Replacement>,
}

/// Analyses `text`. With `smart_encoding`, look-alike characters (typographic quotes, dashes,
/// ellipsis, special spaces) are replaced by GSM ones — but only when that makes the whole
/// text GSM-7: in UCS-2 a replacement saves nothing and only changes what the guest reads.
pub fn analyze(text: &str, smart_encoding: bool) -> SmsAnalysis {
    if smart_encoding && !text.chars().all(gsm::is_gsm) {
        let (replaced, replacements) = smart::apply(text);
        if !replacements.is_empty() && replaced.chars().all(gsm::is_gsm) {
            let mut analysis = analyze_exact(&replaced);
            analysis.smart_encoded = true;
            analysis.replacements = replacements;
            return analysis;
        }
    }
    analyze_exact(text)
}

fn analyze_exact(text: &str) -> SmsAnalysis {
    let gsm_only = text.chars().all(gsm::is_gsm);
    let encoding = if gsm_only {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    };
    let units: usize = text.chars().map(|c| encoding.cost(c)).sum();
    let mut non_gsm: Vec<String> = Vec::new();
    // Distinct non-GSM clusters can be as many as the text is long (CJK): a set keeps the
    // check linear.
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut characters = 0;
    let single = units <= encoding.single_limit();
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    let limit = encoding.part_limit();
    for grapheme in text.graphemes(true) {
        characters += 1;
        if !gsm_only && grapheme.chars().any(|c| !gsm::is_gsm(c)) && seen.insert(grapheme) {
            non_gsm.push(grapheme.to_owned());
        }
        if single {
            continue;
        }
        let cost: usize = grapheme.chars().map(|c| encoding.cost(c)).sum();
        if cost <= limit {
            if used + cost > limit {
                parts.push(std::mem::take(&mut current));
                used = 0;
            }
            current.push_str(grapheme);
            used += cost;
        } else {
            // A cluster longer than a whole part (a letter under dozens of combining marks)
            // cannot stay whole; it is split between characters, never inside one.
            for c in grapheme.chars() {
                let cost = encoding.cost(c);
                if used + cost > limit {
                    parts.push(std::mem::take(&mut current));
                    used = 0;
                }
                current.push(c);
                used += cost;
            }
        }
    }
    if single {
        if !text.is_empty() {
            parts.push(text.to_owned());
        }
    } else if !current.is_empty() {
        parts.push(current);
    }
    let segments = parts.len();
    let units_left = match segments {
        0 => encoding.single_limit(),
        1 => encoding.single_limit() - units,
        _ => {
            let last: usize = parts[segments - 1].chars().map(|c| encoding.cost(c)).sum();
            limit - last
        }
    };
    SmsAnalysis {
        encoding,
        segments,
        units,
        units_left,
        characters,
        non_gsm,
        parts,
        text: text.to_owned(),
        smart_encoded: false,
        replacements: Vec::new(),
    }
}

/// Most parts bellhop sends as one message: beyond this a text is refused (it would cost as
/// much as ten SMS and many phones reassemble it badly).
pub const MAX_PARTS: usize = 10;

/// Why a text cannot be sent as an SMS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmsTextError {
    /// Nothing to send.
    #[error("the SMS text is empty")]
    Empty,
    /// More parts than allowed.
    #[error(
        "the SMS text needs {parts} parts ({units} {unit_name} in {encoding}); at most {max} are allowed"
    )]
    TooLong {
        /// Parts needed.
        parts: usize,
        /// Most allowed.
        max: usize,
        /// Units of the text.
        units: usize,
        /// Encoding.
        encoding: Encoding,
        /// What a unit is.
        unit_name: &'static str,
    },
    /// A control character other than line breaks.
    #[error("the SMS text contains the control character U+{0:04X}; only line breaks are allowed")]
    ControlCharacter(u32),
}

/// Checks that `text` can go out as one SMS message of at most `MAX_PARTS` parts.
pub fn check_sendable(text: &str, smart_encoding: bool) -> Result<SmsAnalysis, SmsTextError> {
    if text.trim().is_empty() {
        return Err(SmsTextError::Empty);
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\r')
    {
        return Err(SmsTextError::ControlCharacter(c as u32));
    }
    let analysis = analyze(text, smart_encoding);
    if analysis.segments > MAX_PARTS {
        return Err(SmsTextError::TooLong {
            parts: analysis.segments,
            max: MAX_PARTS,
            units: analysis.units,
            encoding: analysis.encoding,
            unit_name: analysis.encoding.unit_name(),
        });
    }
    Ok(analysis)
}

#[cfg(test)]
#[path = "segment_tests.rs"]
mod tests;
