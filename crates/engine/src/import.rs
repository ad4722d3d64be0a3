//! Importing bookings in bulk: a hotel's year of reservations from a file or a channel dump.
//!
//! Each item carries its source's reference (`external_id`, within its property and source
//! channel); a booking already imported under that reference is changed (or left alone when
//! nothing differs), so importing the same file twice changes nothing the second time. Items
//! are checked first; then they are written a chunk at a time, each chunk in one transaction
//! with the planning of its messages, like every other change.

use crate::EngineError;
use crate::bookings::change_booking;
use crate::service::Engine;
use bellhop_domain::contact::EmailAddress;
use bellhop_domain::phone::E164;
use bellhop_domain::plan::{self, PlanInput};
use bellhop_domain::{Booking, Contact, Property, Rule};
use bellhop_store::{PlanSummary, Tx};
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Items written per transaction.
pub const IMPORT_CHUNK: usize = 1000;

/// The source channel of imported bookings that name none.
pub const DEFAULT_SOURCE: &str = "import";

/// Who an imported booking is for.
#[derive(Clone, Debug)]
pub enum ImportContact {
    /// A contact of the account.
    Existing(Uuid),
    /// A contact as the file gives it: the account's contact with the same email (else the
    /// same phone number) is used, or this one is created.
    New(Box<Contact>),
}

/// One booking to import.
#[derive(Clone, Debug)]
pub struct ImportItem {
    /// Its position in the request or file (0-based), for refusals.
    pub index: usize,
    /// The booking; its `contact_id` is set from `contact`.
    pub draft: bellhop_domain::BookingFields,
    /// Its contact.
    pub contact: ImportContact,
}

/// An item that was not imported, and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Refusal {
    /// Its position (0-based).
    pub index: usize,
    /// The field at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    /// New bookings.
    pub created: usize,
    /// Bookings imported before under the same reference, now changed.
    pub updated: usize,
    /// Bookings imported before under the same reference, identical.
    pub unchanged: usize,
    /// Items not imported.
    pub refused: Vec<Refusal>,
    /// Messages planned, moved and cancelled.
    pub plan: PlanSummary,
}

/// What to do with items that fail their checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnInvalid {
    /// Import nothing and say what is wrong with each (the API: fix the request, send again).
    Refuse,
    /// Import the others and report the refused ones (the command line: a file with a few
    /// bad rows).
    Skip,
}

type Reference = (Uuid, String, String);

fn reference(draft: &bellhop_domain::BookingFields) -> Option<Reference> {
    Some((
        draft.property_id,
        draft.details.source_channel.clone()?,
        draft.details.external_id.clone()?,
    ))
}

fn refusal(index: usize, field: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        index,
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A new booking and the messages planned for it.
pub(crate) fn plan_new(
    booking: &Booking,
    property: &Property,
    rules: &[Rule],
    contact: &Contact,
    now: jiff::Timestamp,
) -> Vec<bellhop_domain::PlanAction> {
    plan::plan(&PlanInput {
        property,
        booking,
        contact,
        rules,
        existing: &[],
        now,
    })
}

impl Engine {
    /// Imports bookings. `refused` are items the caller could not even read (their fields
    /// did not parse): with `OnInvalid::Refuse` they are named with the engine's own refusals
    /// and nothing is written; with `Skip` they are reported. `progress` is told how many
    /// items are done after each chunk.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %account, items = items.len()))]
    pub async fn import_bookings(
        &self,
        account: Uuid,
        items: Vec<ImportItem>,
        refused: Vec<Refusal>,
        actor: &str,
        on_invalid: OnInvalid,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<ImportReport, EngineError> {
        let mut report = ImportReport {
            refused,
            ..ImportReport::default()
        };
        let properties: HashMap<Uuid, Property> = self
            .store()
            .properties(account)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let valid = self
            .check_items(account, items, &properties, &mut report.refused)
            .await?;
        if on_invalid == OnInvalid::Refuse && !report.refused.is_empty() {
            report.refused.sort_by_key(|r| r.index);
            return Err(EngineError::InvalidItems(
                report
                    .refused
                    .into_iter()
                    .map(|r| (format!("[{}].{}", r.index, r.field), r.message))
                    .collect(),
            ));
        }
        let lock = self.store().lock_account_imports(account).await?;
        let written = self
            .write_import(account, &valid, &properties, actor, &mut report, progress)
            .await;
        lock.release().await?;
        written?;
        if report.created >= IMPORT_CHUNK {
            // Large imports change the tables' shape: PostgreSQL plans better with fresh
            // statistics (autovacuum may be off or not have run yet).
            self.store().analyze().await?;
        }
        report.refused.sort_by_key(|r| r.index);
        Ok(report)
    }

    /// Writes checked items: first their contacts (matched or created, a chunk per
    /// transaction, one after another so that a guest who appears twice is created once),
    /// then their bookings with the planning of their messages, a chunk per transaction —
    /// on PostgreSQL two chunks at a time, on two connections (the server is the busy part).
    async fn write_import(
        &self,
        account: Uuid,
        valid: &[ImportItem],
        properties: &HashMap<Uuid, Property>,
        actor: &str,
        report: &mut ImportReport,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<(), EngineError> {
        let now = self.now();
        let mut contacts = Vec::with_capacity(valid.len());
        for chunk in valid.chunks(IMPORT_CHUNK) {
            let mut tx = self.store().begin().await?;
            contacts.extend(resolve_contacts(&mut tx, account, chunk, now).await?);
            tx.commit().await?;
        }
        let mut rules: HashMap<Uuid, Vec<Rule>> = HashMap::new();
        for id in properties.keys() {
            if valid.iter().any(|i| i.draft.property_id == *id) {
                rules.insert(*id, self.store().rules_of(*id).await?);
            }
        }
        let at_once = match self.store().backend() {
            bellhop_store::Backend::Sqlite => 1,
            bellhop_store::Backend::Postgres => 2,
        };
        let writes: Vec<_> = valid
            .chunks(IMPORT_CHUNK)
            .zip(contacts.chunks(IMPORT_CHUNK))
            .map(|(items, contacts)| {
                self.write_chunk(account, items, contacts, properties, &rules, actor)
            })
            .collect();
        let mut chunks = futures_util::stream::iter(writes).buffered(at_once);
        let mut done = report.refused.len();
        while let Some(written) = chunks.next().await {
            let (n, part) = written?;
            report.created += part.created;
            report.updated += part.updated;
            report.unchanged += part.unchanged;
            report.refused.extend(part.refused);
            report.plan += part.plan;
            done += n;
            progress(done);
        }
        Ok(())
    }

    /// The checks that need no writes: each booking's fields, its property, its reference
    /// (required, and once per import), and its existing contact.
    async fn check_items(
        &self,
        account: Uuid,
        items: Vec<ImportItem>,
        properties: &HashMap<Uuid, Property>,
        refused: &mut Vec<Refusal>,
    ) -> Result<Vec<ImportItem>, EngineError> {
        let mut seen: HashMap<Reference, usize> = HashMap::new();
        let mut valid = Vec::with_capacity(items.len());
        for mut item in items {
            let i = item.index;
            if item.draft.details.source_channel.is_none() {
                item.draft.details.source_channel = Some(DEFAULT_SOURCE.to_owned());
            }
            if let Err(e) = crate::bookings::validate(&item.draft) {
                let (field, message) = match e {
                    EngineError::Invalid { field, message } => (field, message),
                    other => ("booking".to_owned(), other.to_string()),
                };
                refused.push(refusal(i, &field, message));
                continue;
            }
            let Some(property) = properties.get(&item.draft.property_id) else {
                refused.push(refusal(i, "property_id", "no such property"));
                continue;
            };
            if let Err(EngineError::Invalid { field, message }) =
                crate::bookings::check_sms_choice(&item.draft, property)
            {
                refused.push(refusal(i, &field, message));
                continue;
            }
            let Some(key) = reference(&item.draft).filter(|(_, _, r)| !r.trim().is_empty()) else {
                refused.push(refusal(
                    i,
                    "external_id",
                    "an imported booking needs its source's reference: it is what makes a second \
                     import of the same bookings change nothing",
                ));
                continue;
            };
            if let Some(first) = seen.get(&key) {
                refused.push(refusal(
                    i,
                    "external_id",
                    format!("the same reference as item {first} (one booking per reference)"),
                ));
                continue;
            }
            seen.insert(key, i);
            valid.push(item);
        }
        let existing: Vec<Uuid> = valid
            .iter()
            .filter_map(|i| match i.contact {
                ImportContact::Existing(id) => Some(id),
                ImportContact::New(_) => None,
            })
            .collect();
        if existing.is_empty() {
            return Ok(valid);
        }
        let mut tx = self.store().begin().await?;
        let known: HashSet<Uuid> = tx
            .contacts_by_ids(account, &existing)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        drop(tx);
        Ok(valid
            .into_iter()
            .filter(|item| match item.contact {
                ImportContact::Existing(id) if !known.contains(&id) => {
                    refused.push(refusal(item.index, "contact_id", "no such contact"));
                    false
                }
                _ => true,
            })
            .collect())
    }

    /// One chunk's bookings in a transaction of their own.
    async fn write_chunk(
        &self,
        account: Uuid,
        items: &[ImportItem],
        contacts: &[Contact],
        properties: &HashMap<Uuid, Property>,
        rules: &HashMap<Uuid, Vec<Rule>>,
        actor: &str,
    ) -> Result<(usize, ImportReport), EngineError> {
        let mut part = ImportReport::default();
        // Bookings the chunk updates are known before the transaction, so that it waits for
        // sends of theirs before it takes the write lock (see `Store::begin_booking_change`).
        let references: Vec<String> = items
            .iter()
            .filter_map(|i| i.draft.details.external_id.clone())
            .collect();
        let changing = self
            .store()
            .booking_ids_by_references(account, &references)
            .await?;
        let mut tx = self.store().begin_booking_change(&changing).await?;
        self.import_chunk(
            &mut tx, account, items, contacts, properties, rules, actor, &mut part,
        )
        .await?;
        tx.commit().await?;
        Ok((items.len(), part))
    }

    /// One chunk's bookings, each with its contact (`contacts`, in order).
    #[allow(clippy::too_many_arguments)]
    async fn import_chunk(
        &self,
        tx: &mut Tx,
        account: Uuid,
        chunk: &[ImportItem],
        contacts: &[Contact],
        properties: &HashMap<Uuid, Property>,
        rules: &HashMap<Uuid, Vec<Rule>>,
        actor: &str,
        report: &mut ImportReport,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let references: Vec<String> = chunk
            .iter()
            .filter_map(|i| i.draft.details.external_id.clone())
            .collect();
        let mut imported: HashMap<Reference, Booking> = tx
            .bookings_by_references(account, &references)
            .await?
            .into_iter()
            .filter_map(|b| Some((reference_of(&b)?, b)))
            .collect();
        let mut new_bookings = Vec::new();
        let mut planned = Vec::new();
        for (item, contact) in chunk.iter().zip(contacts) {
            let mut draft = item.draft.clone();
            draft.contact_id = contact.id;
            let key = reference(&draft);
            match key.and_then(|k| imported.remove(&k)) {
                Some(old) => match change_booking(tx, &old, draft, actor, now).await {
                    Ok(Some((_, summary))) => {
                        report.updated += 1;
                        report.plan += summary;
                    }
                    Ok(None) => report.unchanged += 1,
                    Err(EngineError::Invalid { field, message }) => {
                        report.refused.push(refusal(item.index, &field, message))
                    }
                    Err(other) => return Err(other),
                },
                None => {
                    let property = &properties[&draft.property_id];
                    let booking = Booking::created(Uuid::now_v7(), account, draft, now);
                    planned.push(plan_new(
                        &booking,
                        property,
                        &rules[&property.id],
                        contact,
                        now,
                    ));
                    new_bookings.push(booking);
                }
            }
        }
        report.created += new_bookings.len();
        let summary = tx
            .insert_new_bookings(&new_bookings, &planned, actor, now)
            .await?;
        report.plan += summary;
        Ok(())
    }
}

fn reference_of(b: &Booking) -> Option<Reference> {
    Some((
        b.fields.property_id,
        b.fields.details.source_channel.clone()?,
        b.fields.details.external_id.clone()?,
    ))
}

/// The contact of each item, in order: existing ones read, new ones matched to the account's
/// contacts by email (else phone number) or created — once per chunk for the same person.
async fn resolve_contacts(
    tx: &mut Tx,
    account: Uuid,
    chunk: &[ImportItem],
    now: jiff::Timestamp,
) -> Result<Vec<Contact>, EngineError> {
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    let mut ids = Vec::new();
    for item in chunk {
        match &item.contact {
            ImportContact::Existing(id) => ids.push(*id),
            ImportContact::New(c) => match (&c.email, &c.phone_e164) {
                (Some(email), _) => emails.push(email.clone()),
                (None, Some(phone)) => phones.push(phone.clone()),
                (None, None) => {}
            },
        }
    }
    let mut by_id: HashMap<Uuid, Contact> = HashMap::new();
    let mut by_email: HashMap<EmailAddress, Uuid> = HashMap::new();
    let mut by_phone: HashMap<E164, Uuid> = HashMap::new();
    // Oldest first: where two contacts share an address, the first keeps getting the bookings.
    for c in tx.contacts_by_emails(account, &emails).await? {
        if let Some(e) = &c.email {
            by_email.entry(e.clone()).or_insert(c.id);
        }
        by_id.insert(c.id, c);
    }
    for c in tx.contacts_by_phones(account, &phones).await? {
        if let Some(p) = &c.phone_e164 {
            by_phone.entry(p.clone()).or_insert(c.id);
        }
        by_id.insert(c.id, c);
    }
    for c in tx.contacts_by_ids(account, &ids).await? {
        by_id.insert(c.id, c);
    }
    let mut created = Vec::new();
    let mut out = Vec::with_capacity(chunk.len());
    for item in chunk {
        let id = match &item.contact {
            ImportContact::Existing(id) => *id,
            ImportContact::New(c) => {
                let known = match (&c.email, &c.phone_e164) {
                    (Some(email), _) => by_email.get(email).copied(),
                    (None, Some(phone)) => by_phone.get(phone).copied(),
                    (None, None) => None,
                };
                match known {
                    Some(id) => id,
                    None => {
                        let mut contact = (**c).clone();
                        contact.id = Uuid::now_v7();
                        contact.account_id = account;
                        if let Some(email) = &contact.email {
                            by_email.insert(email.clone(), contact.id);
                        } else if let Some(phone) = &contact.phone_e164 {
                            by_phone.insert(phone.clone(), contact.id);
                        }
                        by_id.insert(contact.id, contact.clone());
                        created.push(contact.clone());
                        contact.id
                    }
                }
            }
        };
        out.push(
            by_id
                .get(&id)
                .cloned()
                .ok_or_else(|| EngineError::invalid("contact_id", "no such contact"))?,
        );
    }
    tx.insert_contacts(&created, now).await?;
    Ok(out)
}
