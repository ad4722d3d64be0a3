//! Booking commands: create, edit (merged under the row lock), import helpers, the expiry
//! sweep; every change committed with the re-planning it causes.

use crate::error::EngineError;
use crate::service::{Engine, replan};
use bellhop_domain::{Booking, BookingFields, BookingStatus, Contact, Property, Rule};
use bellhop_store::{PlanSummary, Tx};
use jiff::Timestamp;
use uuid::Uuid;

/// The checks of a booking's fields, as an engine error naming the field.
pub(crate) fn validate(fields: &BookingFields) -> Result<(), EngineError> {
    fields
        .check()
        .map_err(|e| EngineError::invalid(e.field, e.message))
}

/// Where SMS reminders are mandatory, a customer cannot decline them.
pub(crate) fn check_sms_choice(
    fields: &BookingFields,
    property: &Property,
) -> Result<(), EngineError> {
    if fields.details.sms_reminders == Some(false)
        && property.sms.reminders == bellhop_domain::property::ReminderChoice::Mandatory
    {
        return Err(EngineError::invalid(
            "sms_reminders",
            "SMS reminders are mandatory at this property; a customer cannot decline them",
        ));
    }
    Ok(())
}

/// What changed between two versions: field → `[old, new]`, over the editable fields only.
fn diff(old: &BookingFields, new: &BookingFields) -> serde_json::Value {
    let (a, b) = (
        serde_json::to_value(old).unwrap_or_default(),
        serde_json::to_value(new).unwrap_or_default(),
    );
    let mut changes = serde_json::Map::new();
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (key, new_value) in b {
            let old_value = a.get(key).cloned().unwrap_or(serde_json::Value::Null);
            if &old_value != new_value {
                changes.insert(key.clone(), serde_json::json!([old_value, new_value]));
            }
        }
    }
    serde_json::Value::Object(changes)
}

/// Applies `draft` to the stored booking `old` inside a transaction: the new version, its
/// history entry and the re-planning of its messages. `None` when the draft changes nothing.
pub(crate) async fn change_booking(
    tx: &mut Tx,
    old: &Booking,
    draft: BookingFields,
    actor: &str,
    now: Timestamp,
) -> Result<Option<(Booking, PlanSummary)>, EngineError> {
    let account = old.account_id;
    if draft.property_id != old.fields.property_id {
        return Err(EngineError::invalid(
            "property_id",
            "a booking cannot move to another property",
        ));
    }
    check_sms_choice(&draft, &tx.property(account, old.fields.property_id).await?)?;
    if draft.schedule.kind() != old.kind() {
        return Err(EngineError::invalid(
            "schedule",
            "a booking cannot change between stay and appointment",
        ));
    }
    tx.contact(account, draft.contact_id)
        .await
        .map_err(|_| EngineError::invalid("contact_id", "no such contact"))?;
    let mut new = Booking::created(old.id, account, draft, old.created_at);
    new.version = old.version + 1;
    new.updated_at = now;
    (new.status_changed_at, new.status_version) = if new.fields.status != old.fields.status {
        (now, new.version)
    } else {
        (old.status_changed_at, old.status_version)
    };
    (new.modified_at, new.modified_version) = if old.fields.is_modified_by(&new.fields) {
        (Some(now), Some(new.version))
    } else {
        (old.modified_at, old.modified_version)
    };
    let changes = diff(&old.fields, &new.fields);
    if changes.as_object().is_some_and(|c| c.is_empty()) {
        return Ok(None);
    }
    tx.update_booking(&new, old.version).await?;
    tx.insert_booking_change(old.id, new.version, actor, &changes, now)
        .await?;
    let summary = replan(tx, &new, now).await?;
    Ok(Some((new, summary)))
}

impl Engine {
    /// Creates a booking and plans its messages in the same transaction.
    pub async fn create_booking(
        &self,
        account: Uuid,
        draft: BookingFields,
        actor: &str,
    ) -> Result<(Booking, PlanSummary), EngineError> {
        let mut tx = self.store().begin().await?;
        let out = self
            .create_booking_in(&mut tx, account, draft, actor)
            .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// `create_booking` inside a caller's transaction (for idempotent requests).
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %account, property_id = %draft.property_id, actor))]
    pub(crate) async fn create_booking_in(
        &self,
        tx: &mut Tx,
        account: Uuid,
        draft: BookingFields,
        actor: &str,
    ) -> Result<(Booking, PlanSummary), EngineError> {
        validate(&draft)?;
        let now = self.now();
        let property = tx
            .property(account, draft.property_id)
            .await
            .map_err(|_| EngineError::invalid("property_id", "no such property"))?;
        check_sms_choice(&draft, &property)?;
        tx.contact(account, draft.contact_id)
            .await
            .map_err(|_| EngineError::invalid("contact_id", "no such contact"))?;
        if let Some(external_id) = &draft.details.external_id
            && let Some(existing) = tx
                .booking_id_by_external(
                    draft.property_id,
                    draft.details.source_channel.as_deref(),
                    external_id,
                )
                .await?
        {
            return Err(EngineError::Duplicate {
                existing,
                external_id: external_id.clone(),
            });
        }
        let booking = Booking::created(Uuid::now_v7(), account, draft, now);
        tx.insert_booking(&booking).await?;
        tx.insert_booking_change(
            booking.id,
            1,
            actor,
            &serde_json::json!({"created": true}),
            now,
        )
        .await?;
        let summary = replan(tx, &booking, now).await?;
        self.enrol_booking_guest(
            tx,
            account,
            booking.fields.property_id,
            booking.fields.contact_id,
        )
        .await?;
        Ok((booking, summary))
    }

    /// Changes a booking and re-plans its messages in the same transaction. `expected_version`
    /// guards against lost updates when given.
    pub async fn update_booking(
        &self,
        account: Uuid,
        id: Uuid,
        draft: BookingFields,
        expected_version: Option<i64>,
        actor: &str,
    ) -> Result<(Booking, PlanSummary), EngineError> {
        self.edit_booking(account, id, expected_version, actor, |_| Ok(draft))
            .await
    }

    /// Changes a booking by editing what it is now: `edit` gets the booking as stored, read
    /// under a lock that makes concurrent changes of it take turns, so two edits of different
    /// fields both survive. With `expected_version`, a booking at another version is refused
    /// (`Stale`, with the version it is at).
    #[tracing::instrument(skip_all, fields(account_id = %account, booking_id = %id, actor))]
    pub async fn edit_booking<E: From<EngineError>>(
        &self,
        account: Uuid,
        id: Uuid,
        expected_version: Option<i64>,
        actor: &str,
        edit: impl FnOnce(&Booking) -> Result<BookingFields, E>,
    ) -> Result<(Booking, PlanSummary), E> {
        let now = self.now();
        let mut tx = self
            .store()
            .begin_booking_change(&[id])
            .await
            .map_err(EngineError::from)?;
        let old = tx
            .booking_for_change(account, id)
            .await
            .map_err(EngineError::from)?;
        if expected_version.is_some_and(|v| v != old.version) {
            return Err(EngineError::Stale {
                current: old.version,
            }
            .into());
        }
        let draft = edit(&old)?;
        validate(&draft)?;
        self.guard_channel_booking(&mut tx, &old, &draft, actor)
            .await?;
        let out = change_booking(&mut tx, &old, draft, actor, now).await?;
        tx.commit().await.map_err(EngineError::from)?;
        Ok(out.unwrap_or((old, PlanSummary::default())))
    }

    /// Lapses options and cart holds whose time has passed (status `expired`), re-planning
    /// each. Returns how many expired.
    #[tracing::instrument(skip_all, err)]
    pub async fn expire_lapsed(&self) -> Result<usize, EngineError> {
        let now = self.now();
        // Bookings with a message in flight wait for the next sweep rather than for the send.
        let due: Vec<Uuid> = self.store().lapsed_booking_ids(now).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store().begin_booking_change(&due).await?;
        let mut lapsed = tx.lapsed_bookings(now).await?;
        lapsed.retain(|b| tx.try_hold_booking(b.id));
        for old in &lapsed {
            let mut new = old.clone();
            new.fields.status = BookingStatus::Expired;
            new.version += 1;
            new.updated_at = now;
            new.status_changed_at = now;
            new.status_version = new.version;
            tx.update_booking(&new, old.version).await?;
            tx.insert_booking_change(
                new.id,
                new.version,
                "system:expiry",
                &diff(&old.fields, &new.fields),
                now,
            )
            .await?;
            replan(&mut tx, &new, now).await?;
        }
        tx.commit().await?;
        Ok(lapsed.len())
    }

    /// Creates many bookings in one transaction, planning them in memory and storing the
    /// bookings and their messages many rows per statement (imports, the demo, benchmarks).
    pub async fn create_bookings(
        &self,
        account: Uuid,
        drafts: Vec<BookingFields>,
        actor: &str,
    ) -> Result<PlanSummary, EngineError> {
        let mut tx = self.store().begin().await?;
        let total = self
            .create_bookings_in(&mut tx, account, drafts, actor)
            .await?;
        tx.commit().await?;
        Ok(total)
    }

    /// `create_bookings` inside a caller's transaction.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %account, bookings = drafts.len()))]
    pub(crate) async fn create_bookings_in(
        &self,
        tx: &mut Tx,
        account: Uuid,
        drafts: Vec<BookingFields>,
        actor: &str,
    ) -> Result<PlanSummary, EngineError> {
        let now = self.now();
        let mut properties: std::collections::HashMap<Uuid, (Property, Vec<Rule>)> =
            std::collections::HashMap::new();
        let contact_ids: Vec<Uuid> = drafts.iter().map(|d| d.contact_id).collect();
        let contacts: std::collections::HashMap<Uuid, Contact> = tx
            .contacts_by_ids(account, &contact_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut bookings = Vec::with_capacity(drafts.len());
        let mut planned = Vec::with_capacity(drafts.len());
        for (i, draft) in drafts.into_iter().enumerate() {
            validate(&draft).map_err(|e| match e {
                EngineError::Invalid { field, message } => {
                    EngineError::invalid(&format!("[{i}].{field}"), message)
                }
                other => other,
            })?;
            if !properties.contains_key(&draft.property_id) {
                let property = tx.property(account, draft.property_id).await.map_err(|_| {
                    EngineError::invalid(&format!("[{i}].property_id"), "no such property")
                })?;
                let rules = tx.rules_of(property.id).await?;
                properties.insert(property.id, (property, rules));
            }
            let (property, rules) = &properties[&draft.property_id];
            let contact = contacts.get(&draft.contact_id).ok_or_else(|| {
                EngineError::invalid(&format!("[{i}].contact_id"), "no such contact")
            })?;
            let booking = Booking::created(Uuid::now_v7(), account, draft, now);
            planned.push(crate::import::plan_new(
                &booking, property, rules, contact, now,
            ));
            bookings.push(booking);
        }
        Ok(tx
            .insert_new_bookings(&bookings, &planned, actor, now)
            .await?)
    }
}
