//! Contacts: created or changed with the re-planning of their bookings, their phone numbers
//! read into E.164 on the way in.

use crate::EngineError;
use crate::service::Engine;
use bellhop_domain::{Contact, phone};
use bellhop_store::{PlanSummary, Tx};

impl Engine {
    /// The account's contact with `contact`'s email, else with its number, else `contact`
    /// stored as a new one: a guest who books (or asks for a code) again keeps one record.
    pub(crate) async fn find_or_create_contact_in(
        &self,
        tx: &mut Tx,
        contact: &Contact,
    ) -> Result<Contact, EngineError> {
        let account = contact.account_id;
        let known = match (&contact.email, &contact.phone_e164) {
            (Some(email), _) => tx.contact_by_email(account, email).await?,
            (None, Some(number)) => tx.contact_by_phone(account, number).await?,
            (None, None) => None,
        };
        match known {
            Some(existing) => Ok(existing),
            None => {
                self.upsert_contact_in(tx, contact).await?;
                Ok(contact.clone())
            }
        }
    }

    /// Creates or replaces a contact and re-plans the contact's bookings (a missing-data mail
    /// stops once the data arrives; a new language changes the variant).
    pub async fn upsert_contact(&self, contact: &Contact) -> Result<PlanSummary, EngineError> {
        let mut tx = self.store().begin().await?;
        let total = self.upsert_contact_in(&mut tx, contact).await?;
        tx.commit().await?;
        Ok(total)
    }

    /// `upsert_contact` inside a caller's transaction.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %contact.account_id, contact_id = %contact.id))]
    pub(crate) async fn upsert_contact_in(
        &self,
        tx: &mut Tx,
        contact: &Contact,
    ) -> Result<PlanSummary, EngineError> {
        if let Some(email) = &contact.email {
            bellhop_domain::contact::validate_email(email)
                .map_err(|m| EngineError::invalid("email", m))?;
        }
        let now = self.now();
        let mut contact = contact.clone();
        normalize_contact_phone(tx, &mut contact).await?;
        let contact = &contact;
        tx.upsert_contact(contact, now).await?;
        // The upsert leaves another account's contact alone: make that a 404, not a success.
        tx.contact(contact.account_id, contact.id).await?;
        let mut total = PlanSummary::default();
        for booking_id in tx.booking_ids_of_contact(contact.id).await? {
            let booking = tx.booking(contact.account_id, booking_id).await?;
            total += crate::service::replan(tx, &booking, now).await?;
        }
        Ok(total)
    }
}

/// Fills in a contact's E.164 number and type from the raw input, read in the contact's
/// country or else the country of the account's first property. A number that does not
/// parse is refused with the reason.
pub(crate) async fn normalize_contact_phone(
    tx: &mut Tx,
    contact: &mut Contact,
) -> Result<(), EngineError> {
    let Some(raw) = contact.phone.clone().filter(|p| !p.trim().is_empty()) else {
        contact.phone_e164 = None;
        contact.phone_type = None;
        return Ok(());
    };
    if contact.phone_e164.is_some() && contact.phone_type.is_some() {
        return Ok(());
    }
    let region = match &contact.country {
        Some(c) => Some(c.clone()),
        None => tx.default_country(contact.account_id).await?,
    };
    let number = phone::normalize(&raw, region.as_deref())
        .map_err(|e| EngineError::invalid("phone", e.to_string()))?;
    contact.phone_e164 = Some(number.e164);
    contact.phone_type = Some(number.kind);
    Ok(())
}
