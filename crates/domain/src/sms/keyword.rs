//! Keywords of inbound SMS: `STOP` and its German and English synonyms withdraw SMS consent,
//! `START` restores it. Only a message that is the keyword alone counts (trimmed, any case,
//! trailing punctuation ignored): "stop!" is an opt-out, "please don't stop" is not.

use serde::Serialize;

/// What an inbound text asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Keyword {
    /// No more SMS (`STOP`, `STOPP`, `ABMELDEN`, `UNSUBSCRIBE`, ...).
    OptOut,
    /// SMS again (`START`, `UNSTOP`, `ANMELDEN`).
    OptIn,
}

const OPT_OUT: [&str; 12] = [
    "STOP",
    "STOPP",
    "ABMELDEN",
    "UNSUBSCRIBE",
    "STOPALL",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "OPT-OUT",
    "REVOKE",
    "ABBESTELLEN",
];
const OPT_IN: [&str; 4] = ["START", "UNSTOP", "ANMELDEN", "YES"];

/// The keyword an inbound text is, if it is one.
pub fn classify(text: &str) -> Option<Keyword> {
    let word = text
        .trim()
        .trim_end_matches(['.', '!', '?'])
        .trim()
        .to_uppercase();
    if OPT_OUT.contains(&word.as_str()) {
        Some(Keyword::OptOut)
    } else if OPT_IN.contains(&word.as_str()) {
        Some(Keyword::OptIn)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_keyword_alone_counts() {
        let cases = [
            ("STOP", Some(Keyword::OptOut)),
            ("  stop \n", Some(Keyword::OptOut)),
            ("Stopp!", Some(Keyword::OptOut)),
            ("ABMELDEN", Some(Keyword::OptOut)),
            ("unsubscribe", Some(Keyword::OptOut)),
            ("START", Some(Keyword::OptIn)),
            ("start.", Some(Keyword::OptIn)),
            ("please don't stop", None),
            ("STOP IT", None),
            ("", None),
            ("Danke, bis morgen", None),
        ];
        for (text, expected) in cases {
            assert_eq!(classify(text), expected, "{text:?}");
        }
    }
}
