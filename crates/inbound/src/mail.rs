//! What an autoresponder reads of a mail, parsed with mail-parser 0.11 after the limits passed.

use crate::limits::{Limits, Refusal};
use mail_parser::{Address, MessageParser};
use serde::Serialize;

/// A name and an address as written in a header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Named {
    /// Display name, decoded.
    pub name: Option<String>,
    /// The address.
    pub address: String,
}

/// The parts of a mail that decide whether and how it is answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Incoming {
    /// `From`.
    pub from: Option<Named>,
    /// `Sender`.
    pub sender: Option<Named>,
    /// Every address in To, Cc, Bcc and Resent-To/-Cc/-Bcc, lowercased.
    pub recipients: Vec<String>,
    /// `Subject`, RFC 2047 decoded.
    pub subject: Option<String>,
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// `References` without angle brackets.
    pub references: Vec<String>,
    /// `Auto-Submitted`, lowercased, without comments.
    pub auto_submitted: Option<String>,
    /// `Precedence`, lowercased.
    pub precedence: Option<String>,
    /// The name of the first `List-*` header.
    pub list_header: Option<String>,
    /// `X-Auto-Response-Suppress`.
    pub suppress: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Return-Path`: the envelope sender as the last server recorded it.
    pub return_path: Option<String>,
    /// The first text body (or the HTML body as text), for the language and for staff.
    pub text: String,
    /// Bytes of the raw message.
    pub size: usize,
}

/// How much of the body is kept as text.
const TEXT_KEPT: usize = 64 * 1024;

impl Incoming {
    /// Checks `raw` against `limits`, then parses it.
    pub fn parse(raw: &[u8], limits: &Limits) -> Result<Incoming, Refusal> {
        limits.check(raw)?;
        let message = MessageParser::default()
            .parse(raw)
            .ok_or_else(|| Refusal::new(550, "5.6.0", "not a mail message"))?;
        if message.parts.len() > limits.max_parts {
            return Err(Refusal::new(
                552,
                "5.3.4",
                format!("more than {} MIME parts", limits.max_parts),
            ));
        }
        let mut incoming = Incoming {
            from: message.from().and_then(first),
            sender: message.sender().and_then(first),
            subject: message.subject().map(clean_line),
            message_id: message.message_id().map(clean_id),
            references: message
                .references()
                .as_text_list()
                .map(|ids| ids.iter().map(|id| clean_id(id)).collect())
                .unwrap_or_default(),
            size: raw.len(),
            ..Incoming::default()
        };
        for address in [
            message.to(),
            message.cc(),
            message.bcc(),
            message.resent_to(),
            message.resent_cc(),
            message.resent_bcc(),
        ]
        .into_iter()
        .flatten()
        {
            incoming.recipients.extend(addresses(address));
        }
        for (name, value) in message.headers_raw() {
            let value = unfold(value);
            let lower = name.to_ascii_lowercase();
            match lower.as_str() {
                "auto-submitted" => {
                    let token = value.split(['(', ';']).next().unwrap_or_default();
                    incoming.auto_submitted = Some(token.trim().to_ascii_lowercase());
                }
                "precedence" => incoming.precedence = Some(value.trim().to_ascii_lowercase()),
                "x-auto-response-suppress" => incoming.suppress = Some(value.trim().to_owned()),
                "content-language" => incoming.content_language = Some(value.trim().to_owned()),
                "return-path" => {
                    let path = value.trim().trim_start_matches('<').trim_end_matches('>');
                    incoming.return_path = Some(path.trim().to_owned());
                }
                _ if lower.starts_with("list-") && incoming.list_header.is_none() => {
                    incoming.list_header = Some(name.to_owned());
                }
                _ => {}
            }
        }
        incoming.text = message
            .body_text(0)
            .map(|t| {
                let end = floor_char_boundary(&t, TEXT_KEPT);
                t[..end].to_owned()
            })
            .unwrap_or_default();
        Ok(incoming)
    }

    /// The subject for a reply and for people: decoded, one line.
    pub fn subject_or_empty(&self) -> &str {
        self.subject.as_deref().unwrap_or_default()
    }
}

fn first(address: &Address<'_>) -> Option<Named> {
    let addr = address.first()?;
    Some(Named {
        name: addr.name().map(clean_line).filter(|n| !n.is_empty()),
        address: addr.address()?.trim().to_owned(),
    })
}

fn addresses<'a>(address: &'a Address<'_>) -> impl Iterator<Item = String> + 'a {
    address
        .iter()
        .filter_map(|a| a.address())
        .map(|a| a.trim().to_ascii_lowercase())
}

fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn clean_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn clean_id(id: &str) -> String {
    clean_line(id.trim().trim_start_matches('<').trim_end_matches('>'))
}

/// The largest char boundary at or below `at`.
pub(crate) fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Incoming {
        Incoming::parse(raw.as_bytes(), &Limits::default()).expect("parses")
    }

    #[test]
    fn reads_what_the_decision_needs() {
        let m = parse(
            "Return-Path: <anna@example.com>\r\n\
             From: =?UTF-8?Q?Anna_M=C3=BCller?= <Anna@Example.com>\r\n\
             To: Kontakt <Kontakt@Hotel.example>, other@example.org\r\n\
             Cc: reklamacje@hotel.example\r\n\
             Subject: =?UTF-8?B?WmltbWVyIGbDvHIgZGllIFdvY2hl?=\r\n\
             Message-ID: <abc@example.com>\r\n\
             References: <one@x> <two@y>\r\n\
             Auto-Submitted: No (manual)\r\n\
             Precedence: Normal\r\n\
             Content-Language: de-AT\r\n\
             List-Id: <hotel.lists.example>\r\n\
             \r\n\
             Guten Tag\r\n",
        );
        assert_eq!(
            m.from,
            Some(Named {
                name: Some("Anna Müller".into()),
                address: "Anna@Example.com".into()
            })
        );
        assert_eq!(
            m.recipients,
            [
                "kontakt@hotel.example",
                "other@example.org",
                "reklamacje@hotel.example"
            ]
        );
        assert_eq!(m.subject.as_deref(), Some("Zimmer für die Woche"));
        assert_eq!(m.message_id.as_deref(), Some("abc@example.com"));
        assert_eq!(m.references, ["one@x", "two@y"]);
        assert_eq!(m.auto_submitted.as_deref(), Some("no"));
        assert_eq!(m.precedence.as_deref(), Some("normal"));
        assert_eq!(m.list_header.as_deref(), Some("List-ID"));
        assert_eq!(m.content_language.as_deref(), Some("de-AT"));
        assert!(m.text.starts_with("Guten Tag"));
    }

    #[test]
    fn malformed_and_eight_bit_mail_parses_without_panicking() {
        for raw in [
            &b"\xff\xfe\x00garbage"[..],
            b"Subject: \xc3\x28 broken utf-8\r\nFrom: \xe4\xf6\xfc <x@y>\r\n\r\nbody",
            b"Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\n--a\r\nno end",
            b"",
            b"From: <>\r\nTo: ,,,@,<@>\r\n\r\n",
        ] {
            let _ = Incoming::parse(raw, &Limits::default());
        }
    }

    #[test]
    fn a_hundred_levels_of_nesting_are_refused_and_fifty_are_read() {
        let nested = |levels: usize| {
            let mut raw = String::from("From: a@b.example\r\nTo: k@h.example\r\n");
            for i in 0..levels {
                raw.push_str(&format!(
                    "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
                ));
            }
            raw.push_str("Content-Type: text/plain\r\n\r\ndeep\r\n");
            raw
        };
        assert!(Incoming::parse(nested(50).as_bytes(), &Limits::default()).is_ok());
        let refused = Incoming::parse(nested(101).as_bytes(), &Limits::default()).unwrap_err();
        assert_eq!(refused.code, 552);
    }
}
