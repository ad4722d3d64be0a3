//! Building the MIME message: multipart/alternative (text + HTML), a Message-ID derived from
//! bellhop's message id, Date, From with display name, Reply-To, and
//! `Auto-Submitted: auto-generated` (RFC 3834 §5) so that autoresponders do not answer.

use crate::SendError;
use bellhop_domain::text::single_line;
use jiff::Timestamp;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use std::time::{Duration, SystemTime};
use uuid::Uuid;

/// An email ready to go.
#[derive(Clone, Debug)]
pub struct OutgoingEmail {
    /// bellhop's message id: the Message-ID is `<id@sender-domain>`.
    pub message_id: Uuid,
    /// From display name.
    pub from_name: String,
    /// From address.
    pub from_email: String,
    /// Reply-To address.
    pub reply_to: Option<String>,
    /// Recipient display name.
    pub to_name: Option<String>,
    /// Recipient address.
    pub to_email: String,
    /// Subject (one line).
    pub subject: String,
    /// HTML body.
    pub html: String,
    /// Text body.
    pub text: String,
    /// Date header.
    pub date: Timestamp,
    /// Where a marketing mail's recipient unsubscribes (RFC 2369 / RFC 8058).
    pub unsubscribe: Option<Unsubscribe>,
    /// Set on an autoresponder's answer (RFC 3834): the thread it answers. The mail then goes
    /// with an empty envelope sender, `Auto-Submitted: auto-replied` and
    /// `X-Auto-Response-Suppress: All`, so that no other responder answers it.
    pub auto_reply: Option<AutoReply>,
}

/// The thread an auto-reply answers.
#[derive(Clone, Debug, Default)]
pub struct AutoReply {
    /// The original Message-ID, without angle brackets.
    pub in_reply_to: Option<String>,
    /// The original References and Message-ID, without angle brackets.
    pub references: Vec<String>,
}

/// A message id as a header value: `<id>`, or nothing when it could break the header.
fn angle_id(id: &str) -> Option<String> {
    let ok = !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | ','));
    ok.then(|| format!("<{id}>"))
}

/// The `List-Unsubscribe` targets of a mail: one HTTPS URL that takes the one-click POST, and
/// a mailto address.
#[derive(Clone, Debug)]
pub struct Unsubscribe {
    /// `https://…/u/TOKEN`.
    pub url: String,
    /// `mailto:…`.
    pub mailto: Option<String>,
}

impl Unsubscribe {
    /// The `List-Unsubscribe` value: `<url>, <mailto>`.
    pub fn header(&self) -> String {
        match &self.mailto {
            Some(m) => format!("<{}>, <{m}>", self.url),
            None => format!("<{}>", self.url),
        }
    }
}

/// A formatted message.
#[derive(Debug)]
pub struct Formatted {
    pub(crate) envelope: lettre::address::Envelope,
    /// The RFC 5322 bytes.
    pub bytes: Vec<u8>,
    /// The Message-ID header value.
    pub message_id: String,
}

fn address(what: &str, value: &str) -> Result<Address, SendError> {
    value
        .parse::<Address>()
        .map_err(|e| SendError::Permanent(format!("invalid {what} address {value:?}: {e}")))
}

fn mailbox(name: Option<&str>, email: Address) -> Mailbox {
    let name = name.map(single_line).filter(|n| !n.is_empty());
    Mailbox::new(name, email)
}

/// Formats an email as RFC 5322 bytes with its SMTP envelope.
pub fn format_email(email: &OutgoingEmail) -> Result<Formatted, SendError> {
    let from = address("sender", &email.from_email)?;
    let to = address("recipient", &email.to_email)?;
    let domain = from.domain().to_owned();
    let message_id = format!("<{}@{domain}>", email.message_id);
    let date = SystemTime::UNIX_EPOCH
        + Duration::from_millis(u64::try_from(email.date.as_millisecond()).unwrap_or(0));
    let mut builder = Message::builder()
        .message_id(Some(message_id.clone()))
        .date(date)
        .from(mailbox(Some(&email.from_name), from))
        .to(mailbox(email.to_name.as_deref(), to))
        .subject(single_line(&email.subject));
    if let Some(reply_to) = &email.reply_to {
        builder = builder.reply_to(mailbox(None, address("reply-to", reply_to)?));
    }
    if let Some(auto) = &email.auto_reply {
        if let Some(id) = auto.in_reply_to.as_deref().and_then(angle_id) {
            builder = builder.in_reply_to(id);
        }
        let references: Vec<String> = auto.references.iter().filter_map(|r| angle_id(r)).collect();
        if !references.is_empty() {
            builder = builder.references(references.join(" "));
        }
        // RFC 3834 §3.3: an automatic response goes to the envelope sender from the null
        // sender, so that a bounce of it is never answered.
        let envelope =
            lettre::address::Envelope::new(None, vec![address("recipient", &email.to_email)?])
                .map_err(|e| SendError::Permanent(format!("invalid envelope: {e}")))?;
        builder = builder.envelope(envelope);
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentTransferEncoding::QuotedPrintable)
                .body(email.text.clone()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .header(ContentTransferEncoding::QuotedPrintable)
                .body(email.html.clone()),
        );
    let mut message = builder
        .multipart(body)
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
    let auto_submitted = if email.auto_reply.is_some() {
        "auto-replied"
    } else {
        "auto-generated"
    };
    message.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        auto_submitted.to_owned(),
    ));
    if email.auto_reply.is_some() {
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "All".to_owned(),
        ));
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Precedence"),
            "bulk".to_owned(),
        ));
    }
    if let Some(unsubscribe) = &email.unsubscribe {
        let value = single_line(&unsubscribe.header());
        if !value.is_ascii() {
            return Err(SendError::Permanent(
                "the unsubscribe link is not ASCII".into(),
            ));
        }
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            value,
        ));
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    }
    Ok(Formatted {
        envelope: message.envelope().clone(),
        bytes: message.formatted(),
        message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> OutgoingEmail {
        OutgoingEmail {
            message_id: Uuid::from_u128(7),
            from_name: "Hotel Schöne Aussicht".into(),
            from_email: "info@hotel.example".into(),
            reply_to: Some("desk@hotel.example".into()),
            to_name: Some("Jürgen\r\nBcc: victim@example.com".into()),
            to_email: "guest@example.com".into(),
            subject: "Grüße aus Wien".into(),
            html: "<p>Grüße</p>".into(),
            text: "Grüße".into(),
            date: "2026-06-01T08:00:00Z".parse().unwrap(),
            unsubscribe: None,
            auto_reply: None,
        }
    }

    #[test]
    fn a_marketing_mail_carries_one_click_unsubscribe_headers() {
        let mut mail = email();
        mail.unsubscribe = Some(Unsubscribe {
            url: "https://bellhop.example/u/abc_DEF-123".into(),
            mailto: Some("mailto:desk@hotel.example?subject=unsubscribe".into()),
        });
        let text = String::from_utf8(format_email(&mail).unwrap().bytes).unwrap();
        // Long header lines are folded (RFC 5322 §2.2.3); unfolded they read as one.
        let text = text.replace("\r\n ", " ");
        assert!(text.contains(
            "List-Unsubscribe: <https://bellhop.example/u/abc_DEF-123>, <mailto:desk@hotel.example?subject=unsubscribe>"
        ), "{text}");
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        let plain = String::from_utf8(format_email(&email()).unwrap().bytes).unwrap();
        assert!(!plain.contains("List-Unsubscribe"));
    }

    #[test]
    fn message_ids_derive_from_the_message_and_headers_stay_single_line() {
        let f = format_email(&email()).unwrap();
        let text = String::from_utf8(f.bytes).unwrap();
        assert_eq!(
            f.message_id,
            "<00000000-0000-0000-0000-000000000007@hotel.example>"
        );
        assert!(text.contains("Message-ID: <00000000-0000-0000-0000-000000000007@hotel.example>"));
        assert!(text.contains("Auto-Submitted: auto-generated"));
        assert!(text.contains("multipart/alternative"));
        assert!(!text.contains("\r\nBcc:"), "{text}");
        assert!(
            text.contains("Date: Mon, 01 Jun 2026 08:00:00 +0000"),
            "{text}"
        );
    }

    #[test]
    fn invalid_addresses_fail_permanently() {
        let mut bad = email();
        bad.to_email = "not an address".into();
        assert!(matches!(format_email(&bad), Err(SendError::Permanent(_))));
    }
}
