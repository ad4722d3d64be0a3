//! GDPR: everything kept about a contact, as one JSON document (Art. 15, 20), and erasing a
//! contact (Art. 17) so that nothing names them any more while a withdrawal stays honoured.

use crate::EngineError;
use crate::consent::{ContactConsents, erased_point, points_of};
use crate::service::Engine;
use bellhop_domain::consent::{Channel, Purpose, Source};
use bellhop_domain::{Booking, Contact};
use bellhop_store::{
    BookingChange, Erased, Erasure, InboundSmsRow, MessageEvent, MessageFilter, MessageRecord,
    NewConsentEvent, TanRow,
};
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// A booking with its history.
#[derive(Clone, Debug, Serialize)]
pub struct ExportedBooking {
    /// The booking as it is.
    pub booking: Booking,
    /// Every change, with who made it.
    pub changes: Vec<BookingChange>,
}

/// A message with its content and history.
#[derive(Clone, Debug, Serialize)]
pub struct ExportedMessage {
    /// The message, with what was sent where it is kept.
    pub message: MessageRecord,
    /// Its status history.
    pub events: Vec<MessageEvent>,
}

/// Everything bellhop keeps about a contact.
#[derive(Clone, Debug, Serialize)]
pub struct ContactExport {
    /// When the export was made.
    pub exported_at: Timestamp,
    /// The contact.
    pub contact: Contact,
    /// Their bookings, with change history.
    pub bookings: Vec<ExportedBooking>,
    /// Every message to them, with bodies and history.
    pub messages: Vec<ExportedMessage>,
    /// Their consent: the current matrix and every decision with its evidence.
    pub consent: ContactConsents,
    /// SMS received from their number.
    pub inbound_sms: Vec<InboundSmsRow>,
    /// One-time codes sent to them (the codes themselves are never kept).
    pub one_time_codes: Vec<TanRow>,
    /// Mail they wrote to the autoresponder's mailboxes, as received.
    pub inbound_mails: Vec<ExportedInboundMail>,
}

/// A mail the contact wrote, with the message as received.
#[derive(Clone, Debug, Serialize)]
pub struct ExportedInboundMail {
    /// The record and its decision.
    pub mail: bellhop_store::InboundMail,
    /// The message (invalid UTF-8 replaced).
    pub raw: Option<String>,
}

impl Engine {
    /// Everything kept about a contact.
    pub async fn export_contact(
        &self,
        account: Uuid,
        contact_id: Uuid,
    ) -> Result<ContactExport, EngineError> {
        let store = self.store();
        let contact = store.contact(account, contact_id).await?;
        let mut bookings = Vec::new();
        for id in store.booking_ids_of(account, contact_id).await? {
            bookings.push(ExportedBooking {
                booking: store.booking(account, id).await?,
                changes: store.booking_changes(account, id).await?,
            });
        }
        let mut messages = Vec::new();
        let mut filter = MessageFilter {
            contact_id: Some(contact_id),
            limit: 500,
            ..MessageFilter::default()
        };
        loop {
            let page = store.messages(account, &filter).await?;
            let full = page.len() as i64 == filter.limit;
            for m in &page {
                messages.push(ExportedMessage {
                    message: store.message(account, m.id).await?,
                    events: store.message_events(account, m.id).await?,
                });
            }
            match page.last() {
                Some(last) if full => filter.after = Some((last.due_at, last.id)),
                _ => break,
            }
        }
        let inbound_sms = match &contact.phone_e164 {
            Some(n) => store.inbound_sms_from(account, n).await?,
            None => Vec::new(),
        };
        Ok(ContactExport {
            exported_at: self.now(),
            consent: self.consents(account, contact_id).await?,
            one_time_codes: store.tans_of(account, contact_id).await?,
            inbound_mails: store
                .inbound_mails_of(account, contact_id)
                .await?
                .into_iter()
                .map(|(mail, raw)| ExportedInboundMail {
                    mail,
                    raw: raw.map(|r| String::from_utf8_lossy(&r).into_owned()),
                })
                .collect(),
            contact,
            bookings,
            messages,
            inbound_sms,
        })
    }

    /// Erases a contact: personal data goes from every table and from kept bodies; their
    /// bookings and messages stay as anonymous records; a digest of each address keeps a
    /// withdrawal of marketing honoured should the address come back.
    pub async fn erase_contact(
        &self,
        account: Uuid,
        contact_id: Uuid,
        source: Source,
        actor: &str,
    ) -> Result<Erased, EngineError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let contact = tx.contact(account, contact_id).await?;
        let points = points_of(&contact);
        // An erasure is also an objection to advertising (Art. 21): it is recorded first, so
        // that it survives as a digest.
        for (channel, point) in &points {
            for purpose in [Purpose::Marketing, Purpose::Personalized] {
                let event = NewConsentEvent {
                    contact_id: Some(contact_id),
                    property_id: None,
                    address: point.clone(),
                    purpose,
                    channel: *channel,
                    granted: false,
                    source,
                    actor: Some(actor.to_owned()),
                    text_id: None,
                    ip: None,
                    user_agent: None,
                    evidence: serde_json::json!({ "erasure": true }),
                };
                tx.insert_consent_event(account, &event, now).await?;
            }
        }
        let personal = personal_texts(&contact);
        let number = contact
            .phone_e164
            .as_ref()
            .map(|n| (n.to_string(), erased_point(account, Channel::Sms, n)));
        let erasure = Erasure {
            account,
            contact: contact_id,
            personal,
            points: points
                .iter()
                .map(|(ch, p)| (p.clone(), erased_point(account, *ch, p)))
                .collect(),
            number,
        };
        let erased = tx.erase_contact(&erasure, now).await?;
        tx.commit().await?;
        tracing::info!(%account, contact = %contact_id, %actor, "contact erased");
        Ok(erased)
    }
}

/// The texts that name a contact, longest first (a full name before its parts).
fn personal_texts(c: &Contact) -> Vec<String> {
    let mut texts: Vec<String> = [
        c.full_name(),
        c.first_name.clone(),
        c.last_name.clone(),
        c.email.as_deref().map(str::to_owned),
        c.email.as_deref().map(str::to_lowercase),
        c.phone.clone(),
        c.phone_e164.as_deref().map(str::to_owned),
        c.address.clone(),
    ]
    .into_iter()
    .flatten()
    .map(|t| t.trim().to_owned())
    .filter(|t| t.chars().count() >= 2)
    .collect();
    texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
    texts.dedup();
    texts
}
