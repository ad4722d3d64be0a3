//! Sequences (the autoresponder's cycles): saving them, enrolling a contact (through the API,
//! by an inbound mail to a mailbox, or with every new booking), and unenrolling. Enrolling
//! plans every step as an outbox message at its local due time; each step checks consent for
//! its template's category when it goes, and a refusal stops the rest.

use crate::{Engine, EngineError};
use bellhop_domain::rule::TemplateChannel;
use bellhop_domain::sequence::Step;
use bellhop_domain::{MessageKind, MessageStatus};
use bellhop_store::{AdHocMessage, Enrolment, Sequence, StoreError, Tx};
use uuid::Uuid;

/// A sequence as staff write it.
#[derive(Clone, Debug)]
pub struct SequenceDraft {
    /// The property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// Steps, in order.
    pub steps: Vec<Step>,
    /// Enrol every new booking's guest.
    pub enrol_new_bookings: bool,
}

/// The most steps a sequence has.
pub const MAX_STEPS: usize = 50;

/// The occurrence of a step's message: `sequence:<enrolment>:<step>:<template>`.
pub(crate) fn occurrence(enrolment: Uuid, step: usize, template: Uuid) -> String {
    format!("sequence:{enrolment}:{step}:{template}")
}

/// The enrolment and template of a step's occurrence.
pub(crate) fn parse_occurrence(occurrence: &str) -> Option<(Uuid, Uuid)> {
    let mut parts = occurrence.strip_prefix("sequence:")?.split(':');
    let enrolment = parts.next()?.parse().ok()?;
    let _step = parts.next()?;
    let template = parts.next()?.parse().ok()?;
    Some((enrolment, template))
}

impl Engine {
    /// Creates (`id` none) or changes a sequence. A change applies to enrolments made after
    /// it; steps already planned keep their time and template.
    pub async fn save_sequence(
        &self,
        account: Uuid,
        id: Option<Uuid>,
        draft: SequenceDraft,
    ) -> Result<Sequence, EngineError> {
        let mut errors = Vec::new();
        let name = draft.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push((
                "name".to_owned(),
                "a name of 1 to 200 characters".to_owned(),
            ));
        }
        if draft.steps.is_empty() || draft.steps.len() > MAX_STEPS {
            errors.push(("steps".into(), format!("1 to {MAX_STEPS} steps")));
        }
        let mut tx = self.store().begin().await?;
        let property = tx
            .property(account, draft.property_id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => EngineError::invalid("property_id", "no such property"),
                other => other.into(),
            })?;
        for (i, step) in draft.steps.iter().enumerate() {
            if let Err(e) = step.offset.check() {
                errors.push((format!("steps[{i}].offset"), e.to_string()));
            }
            match tx.template(account, step.template_id).await {
                Ok(t) if t.property_id == property.id => {}
                Ok(_) => errors.push((
                    format!("steps[{i}].template_id"),
                    "a template of another property".into(),
                )),
                Err(StoreError::NotFound) => {
                    errors.push((format!("steps[{i}].template_id"), "no such template".into()))
                }
                Err(e) => return Err(e.into()),
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::InvalidItems(errors));
        }
        let created_at = match id {
            Some(id) => {
                let current = tx.sequence(account, id).await?;
                if current.property_id != property.id {
                    return Err(EngineError::invalid(
                        "property_id",
                        "a sequence stays with its property",
                    ));
                }
                current.created_at
            }
            None => self.now(),
        };
        let sequence = Sequence {
            id: id.unwrap_or_else(Uuid::now_v7),
            account_id: account,
            property_id: property.id,
            name,
            steps: draft.steps,
            enrol_new_bookings: draft.enrol_new_bookings,
            created_at,
        };
        tx.save_sequence(&sequence, self.now()).await?;
        tx.commit().await?;
        Ok(sequence)
    }

    /// Enrols a contact of the account in a sequence (the API): 409 while the contact is in it.
    pub async fn enrol(
        &self,
        account: Uuid,
        sequence: Uuid,
        contact: Uuid,
    ) -> Result<Enrolment, EngineError> {
        let mut tx = self.store().begin().await?;
        tx.contact(account, contact).await.map_err(|e| match e {
            StoreError::NotFound => EngineError::invalid("contact_id", "no such contact"),
            other => other.into(),
        })?;
        let enrolled = self
            .enrol_in(&mut tx, account, sequence, contact, "api")
            .await?
            .ok_or_else(|| {
                EngineError::Conflict(
                    "the contact is in this sequence already (unenrol first)".into(),
                )
            })?;
        tx.commit().await?;
        Ok(enrolled)
    }

    /// Enrols `contact` in `sequence` inside `tx`, planning every step; `None` when the
    /// contact is in it already.
    pub(crate) async fn enrol_in(
        &self,
        tx: &mut Tx,
        account: Uuid,
        sequence: Uuid,
        contact: Uuid,
        source: &str,
    ) -> Result<Option<Enrolment>, EngineError> {
        let now = self.now();
        let sequence = tx.sequence(account, sequence).await?;
        if tx
            .active_enrolment(sequence.id, contact, now)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let property = tx.property(account, sequence.property_id).await?;
        let enrolment = Enrolment {
            id: Uuid::now_v7(),
            sequence_id: sequence.id,
            contact_id: contact,
            source: source.to_owned(),
            status: "active".into(),
            enrolled_at: now,
            ended_at: None,
            end_reason: None,
        };
        match tx.insert_enrolment(account, &enrolment).await {
            Err(StoreError::Duplicate { .. }) => return Ok(None),
            other => other?,
        }
        let mut messages = Vec::with_capacity(sequence.steps.len());
        for (i, step) in sequence.steps.iter().enumerate() {
            let template = tx.template(account, step.template_id).await?;
            let channel = match template.variants.channel() {
                TemplateChannel::Email => "email",
                TemplateChannel::Sms => "sms",
            };
            messages.push(AdHocMessage {
                id: Uuid::now_v7(),
                account_id: account,
                property_id: sequence.property_id,
                contact_id: contact,
                booking_id: None,
                kind: MessageKind::Sequence,
                channel,
                occurrence: occurrence(enrolment.id, i, step.template_id),
                campaign_id: None,
                sms_text: None,
                due_at: step.offset.due(&property.time_zone, now),
                priority: 0,
                status: MessageStatus::Planned,
                reason: None,
            });
        }
        tx.insert_ad_hoc_messages(&messages, now).await?;
        Ok(Some(enrolment))
    }

    /// Takes a contact out of a sequence: the steps still to go are cancelled.
    pub async fn unenrol(&self, account: Uuid, enrolment: Uuid) -> Result<u64, EngineError> {
        let mut tx = self.store().begin().await?;
        let cancelled = tx
            .end_enrolment(
                account,
                enrolment,
                "unenrolled",
                "through the API",
                self.now(),
            )
            .await?;
        tx.commit().await?;
        Ok(cancelled)
    }

    /// Enrols a new booking's guest in the property's sequences that ask for it.
    pub(crate) async fn enrol_booking_guest(
        &self,
        tx: &mut Tx,
        account: Uuid,
        property: Uuid,
        contact: Uuid,
    ) -> Result<(), EngineError> {
        for sequence in tx.sequences_enrolling_bookings(property).await? {
            self.enrol_in(tx, account, sequence.id, contact, "booking")
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrences_round_trip() {
        let (e, t) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(parse_occurrence(&occurrence(e, 3, t)), Some((e, t)));
        assert_eq!(parse_occurrence("auto_reply:x"), None);
        assert_eq!(parse_occurrence("sequence:nope:1:x"), None);
    }
}
