//! The autoresponder: mailboxes, and every inbound mail taken through one command — limits,
//! parsing, the RFC 3834/5230 decision, the active window, the once-per-period rule, a case
//! number, the sender as a contact, the reply rendered and put in the outbox — recorded with
//! its decision in the same transaction.

use crate::{Engine, EngineError};
use bellhop_domain::mailbox::{self, Mailbox, ReplyText};
use bellhop_domain::render::{
    Category, CompiledTemplate, EmailContent, RenderLimits, Template, Variants, contact_context,
};
use bellhop_domain::{Contact, MessageKind, MessageStatus, Property};
use bellhop_inbound::{Decision, Envelope, Explanation, Incoming, Limits, Refusal, ReplyShape};
use bellhop_store::{AdHocMessage, InboundMail, NewInboundMail, StoreError, Tx};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A mailbox as staff write it.
#[derive(Clone, Debug)]
pub struct MailboxDraft {
    /// The property it speaks for.
    pub property_id: Uuid,
    /// Shown to staff.
    pub name: String,
    /// Its address.
    pub address: String,
    /// Further addresses.
    pub aliases: Vec<String>,
    /// Replies by language.
    pub replies: BTreeMap<String, ReplyText>,
    /// The reply's language when the mail's is unknown (default: the property's).
    pub default_language: Option<String>,
    /// Switched on.
    pub enabled: bool,
    /// Local date-time in the property's zone from which it answers.
    pub active_from: Option<jiff::civil::DateTime>,
    /// Local date-time until which it answers.
    pub active_until: Option<jiff::civil::DateTime>,
    /// Seconds between two answers to one sender; 0 answers every mail.
    pub period_secs: i64,
    /// Case number prefix.
    pub case_prefix: Option<String>,
    /// The sequence a person who writes is enrolled in (of the same property).
    pub sequence_id: Option<Uuid>,
    /// A hosted mailbox to watch over IMAP.
    pub imap: Option<ImapDraft>,
}

/// A hosted mailbox's IMAP access as staff give it.
#[derive(Clone, Debug)]
pub struct ImapDraft {
    /// Host (checked by the caller against the installation's private-host setting).
    pub host: String,
    /// Port (default 993).
    pub port: u16,
    /// Implicit TLS (default true).
    pub tls: bool,
    /// Login.
    pub user: String,
    /// Password; none keeps the stored one.
    pub password: Option<String>,
    /// Folder (default INBOX).
    pub folder: String,
}

/// An inbound mail as a listener delivers it.
#[derive(Clone, Debug)]
pub struct Delivery<'a> {
    /// `smtp` or `api`.
    pub via: &'static str,
    /// `MAIL FROM` (empty: the null sender); none (a mail read from a mailbox) takes the
    /// message's Return-Path, else its From.
    pub envelope_from: Option<String>,
    /// `RCPT TO`: the mailbox's address or alias.
    pub envelope_to: String,
    /// Where it was read from, so that it is taken once.
    pub source_key: Option<String>,
    /// The message.
    pub raw: &'a [u8],
}

/// What became of an inbound mail.
#[derive(Clone, Debug, Serialize)]
pub struct Received {
    /// The record (none when the same source was taken before).
    pub mail: Option<InboundMail>,
}

/// Why an inbound mail is not taken: the listener answers with the refusal's SMTP reply.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The message breaks a limit or is no mail.
    #[error("{0}")]
    Refused(Refusal),
    /// No mailbox has this address.
    #[error("no mailbox has the address {0}")]
    UnknownMailbox(String),
    /// Anything else (storage): the mail is not taken and should be sent again later.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        IntakeError::Engine(e.into())
    }
}

/// The payload of an auto-reply in the outbox: everything the mail needs, rendered when the
/// mail came in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ReplyPayload {
    pub to: String,
    pub to_name: Option<String>,
    pub language: String,
    pub subject: String,
    pub text: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}

fn clean_address(field: &str, address: &str) -> Result<String, EngineError> {
    let a = address.trim().to_ascii_lowercase();
    let ok = a.len() <= 254
        && a.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c));
    if ok {
        Ok(a)
    } else {
        Err(EngineError::invalid(
            field,
            format!("{address:?} is not an email address"),
        ))
    }
}

/// The variables a reply may use besides `guest.*` and `property.*`.
pub const MAIL_VARIABLES: [&str; 5] = [
    "mail.sender_name",
    "mail.sender_email",
    "mail.subject",
    "mail.case_number",
    "mail.mailbox",
];

fn reply_template(property: &Property, replies: &BTreeMap<String, ReplyText>) -> Template {
    let variants = replies
        .iter()
        .map(|(lang, r)| {
            let subject = r
                .subject
                .clone()
                .unwrap_or_else(|| "{{ mail.reply_subject }}".to_owned());
            let content = EmailContent {
                subject,
                html: r.body.clone(),
                text: Some(r.body.clone()),
            };
            (lang.clone(), content)
        })
        .collect();
    Template {
        id: Uuid::nil(),
        account_id: property.account_id,
        property_id: property.id,
        name: "auto-reply".into(),
        category: Category::Service,
        variants: Variants::Email(variants),
        version: 0,
    }
}

fn compile(
    property: &Property,
    replies: &BTreeMap<String, ReplyText>,
) -> Result<CompiledTemplate, String> {
    // No layout: an auto-reply carries no letterhead or footer, so no advertising either.
    CompiledTemplate::compile(
        &reply_template(property, replies),
        None,
        None,
        RenderLimits::default(),
    )
    .map_err(|e| e.to_string())
}

impl Engine {
    /// Creates (`id` none) or changes a mailbox of the account.
    pub async fn save_mailbox(
        &self,
        account: Uuid,
        id: Option<Uuid>,
        draft: MailboxDraft,
    ) -> Result<Mailbox, EngineError> {
        let mut errors = Vec::new();
        let address = clean_address("address", &draft.address);
        let mut aliases = Vec::new();
        for (i, alias) in draft.aliases.iter().enumerate() {
            match clean_address(&format!("aliases[{i}]"), alias) {
                Ok(a) if !aliases.contains(&a) => aliases.push(a),
                Ok(_) => {}
                Err(EngineError::Invalid { field, message }) => errors.push((field, message)),
                Err(e) => return Err(e),
            }
        }
        let address = match address {
            Ok(a) => a,
            Err(EngineError::Invalid { field, message }) => {
                errors.push((field, message));
                String::new()
            }
            Err(e) => return Err(e),
        };
        aliases.retain(|a| *a != address);
        let name = draft.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(("name".into(), "a name of 1 to 200 characters".into()));
        }
        if draft.replies.is_empty() {
            errors.push(("replies".into(), "at least one language's reply".into()));
        }
        for (lang, reply) in &draft.replies {
            if lang
                .parse::<bellhop_domain::language::LanguageTag>()
                .is_err()
            {
                errors.push((format!("replies.{lang}"), "not a language tag".into()));
            }
            if reply.body.trim().is_empty() {
                errors.push((
                    format!("replies.{lang}.body"),
                    "the reply needs a text".into(),
                ));
            }
        }
        if !(0..=366 * 24 * 3600).contains(&draft.period_secs) {
            errors.push((
                "period_secs".into(),
                "0 (every mail) to 31,622,400 (a year)".into(),
            ));
        }
        if let Some(prefix) = &draft.case_prefix
            && !mailbox::valid_case_prefix(prefix)
        {
            errors.push((
                "case_prefix".into(),
                "1 to 12 letters, digits or dashes, starting with a letter".into(),
            ));
        }
        let mut tx = self.store().begin().await?;
        let property = tx
            .property(account, draft.property_id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => EngineError::invalid("property_id", "no such property"),
                other => other.into(),
            })?;
        let tz = &property.time_zone;
        let active_from = draft
            .active_from
            .map(|d| bellhop_domain::time::resolve_local(tz, d));
        let active_until = draft
            .active_until
            .map(|d| bellhop_domain::time::resolve_local(tz, d));
        if let (Some(from), Some(until)) = (active_from, active_until)
            && until <= from
        {
            errors.push(("active_until".into(), "must come after active_from".into()));
        }
        if errors.is_empty() {
            match compile(&property, &draft.replies) {
                Ok(compiled) => {
                    for unknown in compiled.unknown_variables() {
                        // `mail.reply_subject` is the default subject, `Auto: <original>`.
                        if !MAIL_VARIABLES.contains(&unknown.name.as_str())
                            && unknown.name != "mail.reply_subject"
                        {
                            errors.push((
                                format!("replies.{}", unknown.part.replace('/', ".")),
                                format!("unknown variable {}", unknown.name),
                            ));
                        }
                    }
                }
                Err(e) => errors.push(("replies".into(), e)),
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::InvalidItems(errors));
        }
        if let Some(sequence) = draft.sequence_id {
            match tx.sequence(account, sequence).await {
                Ok(s) if s.property_id == property.id => {}
                Ok(_) => {
                    return Err(EngineError::invalid(
                        "sequence_id",
                        "a sequence of another property",
                    ));
                }
                Err(StoreError::NotFound) => {
                    return Err(EngineError::invalid("sequence_id", "no such sequence"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let default_language = draft
            .default_language
            .unwrap_or_else(|| property.default_language.clone());
        let current = match id {
            Some(id) => Some(tx.mailbox(account, id).await?),
            None => None,
        };
        let created_at = current.as_ref().map_or(self.now(), |c| c.created_at);
        let (imap, sealed) = match draft.imap {
            None => (None, None),
            Some(i) => {
                let had_secret = current.as_ref().and_then(|c| c.imap.as_ref()).is_some();
                let sealed = match i.password.as_deref() {
                    Some(p) if !p.is_empty() => Some(self.signer().seal("imap", p)),
                    _ if had_secret => None,
                    _ => {
                        return Err(EngineError::invalid(
                            "imap.password",
                            "the mailbox's password is needed",
                        ));
                    }
                };
                let source = mailbox::ImapSource {
                    host: i.host.trim().to_owned(),
                    port: i.port,
                    tls: i.tls,
                    user: i.user,
                    folder: i.folder,
                    last_error: None,
                    checked_at: None,
                };
                (Some(source), sealed)
            }
        };
        let m = Mailbox {
            id: id.unwrap_or_else(Uuid::now_v7),
            account_id: account,
            property_id: property.id,
            name,
            address,
            aliases,
            replies: draft.replies,
            default_language,
            enabled: draft.enabled,
            active_from,
            active_until,
            period_secs: draft.period_secs,
            case_prefix: draft.case_prefix,
            sequence_id: draft.sequence_id,
            imap,
            created_at,
        };
        match tx.save_mailbox(&m, sealed.as_deref(), self.now()).await {
            Err(StoreError::Duplicate { .. }) => {
                return Err(EngineError::Conflict(
                    "another mailbox already answers one of these addresses".into(),
                ));
            }
            other => other?,
        }
        tx.commit().await?;
        Ok(m)
    }

    /// Switches a mailbox off and frees its addresses; its recorded mail stays.
    pub async fn delete_mailbox(&self, account: Uuid, id: Uuid) -> Result<(), EngineError> {
        let mut tx = self.store().begin().await?;
        tx.delete_mailbox(account, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The mailbox that takes mail to `address`, if any (the SMTP listener's `RCPT` check).
    pub async fn mailbox_for(&self, address: &str) -> Result<Option<Uuid>, EngineError> {
        Ok(self
            .store()
            .mailbox_by_address(address)
            .await?
            .map(|m| m.id))
    }

    /// What a mailbox of the account would do with `raw`, stateless (no period, no record).
    pub async fn explain_mail(
        &self,
        account: Uuid,
        mailbox: Uuid,
        envelope: Envelope,
        raw: &[u8],
    ) -> Result<Explanation, EngineError> {
        let m = self.store().mailbox(account, mailbox).await?;
        let mut explained =
            bellhop_inbound::explain(&m.addresses(), &envelope, raw, &Limits::default());
        if explained.reply
            && let Err(why) = m.active_at(self.now())
        {
            explained = Explanation {
                reply: false,
                code: "inactive",
                reason: why.to_owned(),
                to: None,
                subject: None,
                in_reply_to: None,
                auto_submitted: None,
            };
        }
        Ok(explained)
    }

    /// Takes one inbound mail: decides, numbers the case, puts the reply in the outbox and
    /// records the mail with its decision, all in one transaction. A mail that breaks a limit
    /// is refused and nothing is stored.
    pub async fn receive_mail(&self, d: Delivery<'_>) -> Result<Received, IntakeError> {
        let now = self.now();
        let to = d.envelope_to.trim().to_ascii_lowercase();
        let Some(m) = self.store().mailbox_by_address(&to).await? else {
            return Err(IntakeError::UnknownMailbox(to));
        };
        let mail = match Incoming::parse(d.raw, &Limits::default()) {
            Ok(mail) => mail,
            // Mail read from a mailbox is there already: its refusal is recorded for staff.
            // SMTP and the API refuse it to the sender instead, and nothing is kept.
            Err(refusal) if d.via == "imap" => {
                return self.record_refused(&m, &d, to, refusal, now).await;
            }
            Err(refusal) => return Err(IntakeError::Refused(refusal)),
        };
        let envelope_from = d.envelope_from.clone().unwrap_or_else(|| {
            mail.return_path
                .clone()
                .or_else(|| mail.from.as_ref().map(|f| f.address.clone()))
                .unwrap_or_default()
        });
        let envelope = Envelope {
            from: Some(envelope_from.clone()),
            to: Some(to.clone()),
        };
        let decision = bellhop_inbound::decide(&m.addresses(), &envelope, &mail);
        let language = bellhop_inbound::language::of(&mail).map(|(l, _)| l);
        let mut record = InboundMail {
            id: Uuid::now_v7(),
            mailbox_id: m.id,
            property_id: m.property_id,
            via: d.via.to_owned(),
            envelope_from: Some(envelope_from.trim().to_owned()),
            envelope_to: Some(to),
            from_address: mail.from.as_ref().map(|f| f.address.clone()),
            from_name: mail.from.as_ref().and_then(|f| f.name.clone()),
            subject: mail.subject.clone(),
            message_id: mail.message_id.clone(),
            language: language.clone(),
            decision: "not_replied".into(),
            reason_code: String::new(),
            reason: String::new(),
            case_number: None,
            contact_id: None,
            reply_message_id: None,
            size: d.raw.len() as i64,
            received_at: now,
        };
        let mut tx = self.store().begin().await?;
        match decision {
            Decision::NoReply(why) => {
                record.reason_code = why.code().into();
                record.reason = why.to_string();
            }
            Decision::Reply(shape) => {
                self.answer(&mut tx, &m, &mail, shape, language, &mut record, now)
                    .await?;
            }
        }
        let taken = tx
            .record_inbound(&NewInboundMail {
                mail: record.clone(),
                account_id: m.account_id,
                source_key: d.source_key,
                raw: d.raw,
            })
            .await?;
        if !taken {
            // Read twice from the same source: the first time counts, nothing of this one
            // (its reply included) is kept.
            drop(tx);
            return Ok(Received { mail: None });
        }
        tx.commit().await?;
        crate::telemetry::inbound_mail(&record.decision);
        Ok(Received { mail: Some(record) })
    }

    /// Records a mail that broke a limit, without its content.
    async fn record_refused(
        &self,
        m: &Mailbox,
        d: &Delivery<'_>,
        to: String,
        refusal: Refusal,
        now: Timestamp,
    ) -> Result<Received, IntakeError> {
        let record = InboundMail {
            id: Uuid::now_v7(),
            mailbox_id: m.id,
            property_id: m.property_id,
            via: d.via.to_owned(),
            envelope_from: d.envelope_from.clone(),
            envelope_to: Some(to),
            from_address: None,
            from_name: None,
            subject: None,
            message_id: None,
            language: None,
            decision: "refused".into(),
            reason_code: "refused".into(),
            reason: refusal.text,
            case_number: None,
            contact_id: None,
            reply_message_id: None,
            size: d.raw.len() as i64,
            received_at: now,
        };
        let mut tx = self.store().begin().await?;
        let taken = tx
            .record_inbound(&NewInboundMail {
                mail: record.clone(),
                account_id: m.account_id,
                source_key: d.source_key.clone(),
                raw: &[],
            })
            .await?;
        tx.commit().await?;
        crate::telemetry::inbound_mail(&record.decision);
        Ok(Received {
            mail: taken.then_some(record),
        })
    }

    /// A person wrote: the window, a case number, the period, the contact, the reply.
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        tx: &mut Tx,
        m: &Mailbox,
        mail: &Incoming,
        shape: ReplyShape,
        language: Option<String>,
        record: &mut InboundMail,
        now: Timestamp,
    ) -> Result<(), IntakeError> {
        let property = tx.property(m.account_id, m.property_id).await?;
        if let Some(prefix) = &m.case_prefix {
            let year = now.to_zoned(property.time_zone.clone()).year();
            let n = tx.next_case(m.id, year).await?;
            record.case_number = Some(mailbox::case_number(prefix, year, n));
        }
        let contact = self
            .sender_contact(tx, m, &shape, language.as_deref())
            .await?;
        record.contact_id = Some(contact.id);
        if let Some(sequence) = m.sequence_id {
            self.enrol_in(tx, m.account_id, sequence, contact.id, "inbound_mail")
                .await?;
        }
        if let Err(why) = m.active_at(now) {
            record.reason_code = "inactive".into();
            record.reason = why.into();
            return Ok(());
        }
        if !tx
            .take_reply_slot(m.id, &shape.to, m.period_secs, now)
            .await?
        {
            record.reason_code = "period".into();
            record.reason = format!(
                "{} was answered within the last {} already (once per period)",
                shape.to,
                period_words(m.period_secs)
            );
            return Ok(());
        }
        let rendered = compile(&property, &m.replies).and_then(|compiled| {
            let preferences: Vec<&str> = language
                .as_deref()
                .into_iter()
                .chain([
                    m.default_language.as_str(),
                    property.default_language.as_str(),
                ])
                .collect();
            let mail_vars = minijinja::Value::from_pairs([
                ("sender_name", shape.to_name.clone().unwrap_or_default()),
                ("sender_email", shape.to.clone()),
                ("subject", mail.subject_or_empty().to_owned()),
                (
                    "case_number",
                    record.case_number.clone().unwrap_or_default(),
                ),
                ("mailbox", m.address.clone()),
                ("reply_subject", shape.subject.clone()),
            ]);
            let context = contact_context(&property, &contact, &[("mail", mail_vars)]);
            compiled
                .render(&preferences, &context)
                .map_err(|e| e.to_string())
        });
        let rendered = match rendered {
            Ok(r) => r,
            Err(e) => {
                record.decision = "failed".into();
                record.reason_code = "not_rendered".into();
                record.reason = format!("the reply did not render, nothing was sent: {e}");
                return Ok(());
            }
        };
        record.language = Some(rendered.language.clone());
        let payload = ReplyPayload {
            to: shape.to.clone(),
            to_name: shape.to_name.clone(),
            language: rendered.language.clone(),
            subject: bellhop_inbound::decide::truncate_subject(&rendered.subject),
            text: rendered.text,
            in_reply_to: shape.in_reply_to.clone(),
            references: shape.references.clone(),
        };
        let body = serde_json::to_string(&payload)
            .map_err(|e| EngineError::Internal(format!("reply payload: {e}")))?;
        let message = AdHocMessage {
            id: Uuid::now_v7(),
            account_id: m.account_id,
            property_id: m.property_id,
            contact_id: contact.id,
            booking_id: None,
            kind: MessageKind::AutoReply,
            channel: "email",
            occurrence: format!("auto_reply:{}", record.id),
            campaign_id: None,
            sms_text: Some(body),
            due_at: now,
            priority: 1,
            status: MessageStatus::Planned,
            reason: None,
        };
        tx.insert_ad_hoc_messages(std::slice::from_ref(&message), now)
            .await?;
        record.decision = "replied".into();
        record.reason_code = "reply".into();
        record.reason = format!(
            "answered {} in {}",
            shape.to,
            record.language.clone().unwrap_or_default()
        );
        record.reply_message_id = Some(message.id);
        Ok(())
    }

    /// The sender as a contact of the mailbox's account (found by address, else created with
    /// the name the mail gives).
    async fn sender_contact(
        &self,
        tx: &mut Tx,
        m: &Mailbox,
        shape: &ReplyShape,
        language: Option<&str>,
    ) -> Result<Contact, EngineError> {
        let (first_name, last_name) = match shape.to_name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => match name.rsplit_once(' ') {
                Some((first, last)) => (Some(first.to_owned()), Some(last.to_owned())),
                None => (None, Some(name.to_owned())),
            },
            _ => (None, None),
        };
        let contact = Contact {
            id: Uuid::now_v7(),
            account_id: m.account_id,
            first_name,
            last_name,
            email: shape.to.parse().ok(),
            phone: None,
            phone_e164: None,
            phone_type: None,
            language: language.and_then(|l| l.parse().ok()),
            address: None,
            postal_code: None,
            city: None,
            country: None,
            nationality: None,
            birth_date: None,
        };
        self.find_or_create_contact_in(tx, &contact).await
    }
}

fn period_words(secs: i64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3_600 == 0 => format!("{} hours", s / 3_600),
        s => format!("{s} seconds"),
    }
}
