//! Whether a mail is answered, per RFC 3834 and RFC 5230 (vacation), taking the stricter union
//! of Dovecot Pigeonhole and Stalwart, and what the answer looks like. Stateless: the "once per
//! sender per period" rule is the engine's, which keeps the record.

use crate::mail::{Incoming, floor_char_boundary};
use serde::Serialize;
use std::fmt;

/// The SMTP envelope of a mail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `MAIL FROM`; `None` or empty for the null sender `<>`.
    pub from: Option<String>,
    /// `RCPT TO` this copy was delivered to.
    pub to: Option<String>,
}

/// Why a mail gets no answer. The order of the variants is the order of the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoReply {
    /// `MAIL FROM:<>`: bounces and other notifications (RFC 3834 §2).
    NullSender,
    /// The envelope sender is not an address.
    InvalidSender(String),
    /// `Auto-Submitted` other than `no`.
    AutoSubmitted(String),
    /// `Precedence: bulk`, `list` or `junk`.
    Precedence(String),
    /// A `List-*` header: a mailing list.
    ListHeader(String),
    /// `X-Auto-Response-Suppress` with `All` or `OOF`.
    Suppressed(String),
    /// `MAILER-DAEMON`, `LISTSERV`, `majordomo`, `*-request`, `owner-*`, `noreply`-style.
    SystemSender(String),
    /// The mail comes from the mailbox itself.
    OwnAddress(String),
    /// None of the mailbox's addresses is in To, Cc, Bcc or Resent-*.
    NotAddressed,
}

impl NoReply {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            NoReply::NullSender => "null_sender",
            NoReply::InvalidSender(_) => "invalid_sender",
            NoReply::AutoSubmitted(_) => "auto_submitted",
            NoReply::Precedence(_) => "precedence",
            NoReply::ListHeader(_) => "list_header",
            NoReply::Suppressed(_) => "auto_response_suppressed",
            NoReply::SystemSender(_) => "system_sender",
            NoReply::OwnAddress(_) => "own_address",
            NoReply::NotAddressed => "not_addressed",
        }
    }
}

impl fmt::Display for NoReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoReply::NullSender => f.write_str("null envelope sender (a bounce or notification)"),
            NoReply::InvalidSender(s) => write!(f, "the envelope sender {s:?} is not an address"),
            NoReply::AutoSubmitted(v) => write!(f, "Auto-Submitted: {v}"),
            NoReply::Precedence(v) => write!(f, "Precedence: {v}"),
            NoReply::ListHeader(h) => write!(f, "mailing list ({h} header)"),
            NoReply::Suppressed(v) => write!(f, "X-Auto-Response-Suppress: {v}"),
            NoReply::SystemSender(a) => write!(f, "system sender {a}"),
            NoReply::OwnAddress(a) => write!(f, "sent from the mailbox's own address {a}"),
            NoReply::NotAddressed => {
                f.write_str("none of the mailbox's addresses is in To, Cc or Bcc")
            }
        }
    }
}

/// The answer's envelope and headers, before its text is rendered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplyShape {
    /// Recipient: the envelope sender.
    pub to: String,
    /// Its display name, where From or Sender is the same address.
    pub to_name: Option<String>,
    /// `Auto: <original subject>`, decoded, at most [`MAX_SUBJECT_CHARS`].
    pub subject: String,
    /// The original Message-ID.
    pub in_reply_to: Option<String>,
    /// The original References followed by its Message-ID.
    pub references: Vec<String>,
    /// Always `auto-replied`.
    pub auto_submitted: &'static str,
}

/// The decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Answer, shaped like this.
    Reply(ReplyShape),
    /// Do not answer, because.
    NoReply(NoReply),
}

/// Subjects are cut here and end in "…", as Pigeonhole does.
pub const MAX_SUBJECT_CHARS: usize = 256;
/// References kept from the original (the newest), so that a long thread cannot grow a reply.
const MAX_REFERENCES: usize = 20;

const SYSTEM_LOCAL_PARTS: [&str; 12] = [
    "mailer-daemon",
    "listserv",
    "majordomo",
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "bounce",
    "bounces",
    "mailer",
];

/// Decides whether a mail delivered to a mailbox with `addresses` (its address and aliases)
/// is answered.
pub fn decide(addresses: &[String], envelope: &Envelope, mail: &Incoming) -> Decision {
    match check(addresses, envelope, mail) {
        Ok(sender) => Decision::Reply(shape(sender, mail)),
        Err(no) => Decision::NoReply(no),
    }
}

fn check<'a>(
    addresses: &[String],
    envelope: &'a Envelope,
    mail: &Incoming,
) -> Result<&'a str, NoReply> {
    let sender = envelope.from.as_deref().map(str::trim).unwrap_or_default();
    if sender.is_empty() || sender == "<>" {
        return Err(NoReply::NullSender);
    }
    let Some((local, domain)) = sender.rsplit_once('@') else {
        return Err(NoReply::InvalidSender(sender.to_owned()));
    };
    if local.is_empty() || domain.is_empty() || sender.chars().any(|c| c.is_whitespace()) {
        return Err(NoReply::InvalidSender(sender.to_owned()));
    }
    if let Some(value) = &mail.auto_submitted
        && value != "no"
    {
        return Err(NoReply::AutoSubmitted(value.clone()));
    }
    if let Some(value) = &mail.precedence
        && matches!(value.as_str(), "bulk" | "list" | "junk")
    {
        return Err(NoReply::Precedence(value.clone()));
    }
    if let Some(header) = &mail.list_header {
        return Err(NoReply::ListHeader(header.clone()));
    }
    if let Some(value) = &mail.suppress
        && value
            .split(',')
            .map(str::trim)
            .any(|v| v.eq_ignore_ascii_case("all") || v.eq_ignore_ascii_case("oof"))
    {
        return Err(NoReply::Suppressed(value.clone()));
    }
    let local = local.to_ascii_lowercase();
    if SYSTEM_LOCAL_PARTS.contains(&local.as_str())
        || local.contains("-request")
        || local.starts_with("owner-")
        || local.ends_with("-owner")
        || local.contains("-bounces")
    {
        return Err(NoReply::SystemSender(sender.to_owned()));
    }
    let ours = |a: &str| addresses.iter().any(|m| m.eq_ignore_ascii_case(a));
    let own_envelope = envelope
        .to
        .as_deref()
        .is_some_and(|to| to.eq_ignore_ascii_case(sender));
    if ours(sender) || own_envelope {
        return Err(NoReply::OwnAddress(sender.to_owned()));
    }
    if !mail.recipients.iter().any(|r| ours(r)) {
        return Err(NoReply::NotAddressed);
    }
    Ok(sender)
}

fn shape(sender: &str, mail: &Incoming) -> ReplyShape {
    let to_name = [&mail.from, &mail.sender]
        .into_iter()
        .flatten()
        .find(|n| n.address.eq_ignore_ascii_case(sender))
        .and_then(|n| n.name.clone());
    let mut references: Vec<String> = mail.references.clone();
    if let Some(id) = &mail.message_id {
        references.push(id.clone());
    }
    let skip = references.len().saturating_sub(MAX_REFERENCES);
    ReplyShape {
        to: sender.to_owned(),
        to_name,
        subject: auto_subject(mail.subject.as_deref()),
        in_reply_to: mail.message_id.clone(),
        references: references.split_off(skip),
        auto_submitted: "auto-replied",
    }
}

/// `Auto: <original>` (or "Automated reply" without one), cut to [`MAX_SUBJECT_CHARS`].
pub fn auto_subject(original: Option<&str>) -> String {
    match original.map(str::trim).filter(|s| !s.is_empty()) {
        Some(subject) => truncate_subject(&format!("Auto: {subject}")),
        None => "Automated reply".to_owned(),
    }
}

/// Cuts a subject to [`MAX_SUBJECT_CHARS`] characters, ending in "…" when cut.
pub fn truncate_subject(subject: &str) -> String {
    if subject.chars().count() <= MAX_SUBJECT_CHARS {
        return subject.to_owned();
    }
    let bytes: usize = subject
        .chars()
        .take(MAX_SUBJECT_CHARS - 1)
        .map(char::len_utf8)
        .sum();
    let end = floor_char_boundary(subject, bytes);
    format!("{}…", &subject[..end])
}

/// A decision in words, as `bellhop autoreply explain` and the API print it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Whether a reply would go.
    pub reply: bool,
    /// `reply`, a [`NoReply::code`], or `refused` (the mail breaks a limit or is no mail).
    pub code: &'static str,
    /// Why, in words.
    pub reason: String,
    /// The reply's recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The reply's subject, decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The reply's `In-Reply-To`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The reply's `Auto-Submitted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_submitted: Option<&'static str>,
}

/// Parses `raw` and explains what a mailbox with `addresses` would do with it. Without an
/// envelope sender, the message's `Return-Path` stands for it (a stored mail carries it), else
/// its `From`.
pub fn explain(
    addresses: &[String],
    envelope: &Envelope,
    raw: &[u8],
    limits: &crate::Limits,
) -> Explanation {
    let mail = match Incoming::parse(raw, limits) {
        Ok(mail) => mail,
        Err(refused) => {
            return Explanation {
                reply: false,
                code: "refused",
                reason: refused.text,
                to: None,
                subject: None,
                in_reply_to: None,
                auto_submitted: None,
            };
        }
    };
    let mut envelope = envelope.clone();
    if envelope.from.is_none() {
        envelope.from = mail
            .return_path
            .clone()
            .or_else(|| mail.from.as_ref().map(|f| f.address.clone()));
    }
    match decide(addresses, &envelope, &mail) {
        Decision::Reply(shape) => Explanation {
            reply: true,
            code: "reply",
            reason: "a person wrote to this mailbox: it is answered (at most once per sender \
                     and period)"
                .into(),
            to: Some(shape.to),
            subject: Some(shape.subject),
            in_reply_to: shape.in_reply_to.map(|id| format!("<{id}>")),
            auto_submitted: Some(shape.auto_submitted),
        },
        Decision::NoReply(why) => Explanation {
            reply: false,
            code: why.code(),
            reason: why.to_string(),
            to: None,
            subject: None,
            in_reply_to: None,
            auto_submitted: None,
        },
    }
}
