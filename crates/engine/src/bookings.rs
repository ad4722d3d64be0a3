//! Booking commands: create, edit (merged under the row lock), import helpers, the expiry
//! sweep; every change committed with the re-planning it causes.

use crate::error::EngineError;
use crate::service::{Engine, replan};
use bellhop_domain::{Booking, BookingStatus, Contact, Property, Rule, Schedule};
use bellhop_store::{PlanSummary, Tx};
use jiff::Timestamp;
use uuid::Uuid;

/// A booking as submitted: everything but the bookkeeping fields.
#[derive(Clone, Debug)]
pub struct BookingDraft {
    /// Property.
    pub property_id: Uuid,
    /// Contact (must exist in the account).
    pub contact_id: Uuid,
    /// Status.
    pub status: BookingStatus,
    /// When.
    pub schedule: Schedule,
    /// Option end.
    pub option_until: Option<Timestamp>,
    /// Hold end.
    pub hold_expires_at: Option<Timestamp>,
    /// Room category.
    pub room_category: Option<String>,
    /// Service.
    pub service: Option<String>,
    /// Staff member.
    pub staff: Option<String>,
    /// Channel.
    pub source_channel: Option<String>,
    /// Channel's id.
    pub external_id: Option<String>,
    /// Voucher.
    pub voucher: Option<String>,
    /// Price.
    pub price_cents: Option<i64>,
    /// Deposit.
    pub deposit_cents: Option<i64>,
    /// Paid.
    pub paid_cents: Option<i64>,
    /// Guests.
    pub guests: Option<i32>,
    /// Language.
    pub language: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// The customer's choice of SMS reminders (online booking); `None`: not asked.
    pub sms_reminders: Option<bool>,
}

impl BookingDraft {
    /// A booking of `contact` at `property` with nothing but its status and schedule; set the
    /// other fields with struct update syntax.
    pub fn new(
        property_id: Uuid,
        contact_id: Uuid,
        status: BookingStatus,
        schedule: Schedule,
    ) -> Self {
        BookingDraft {
            property_id,
            contact_id,
            status,
            schedule,
            option_until: None,
            hold_expires_at: None,
            room_category: None,
            service: None,
            staff: None,
            source_channel: None,
            external_id: None,
            voucher: None,
            price_cents: None,
            deposit_cents: None,
            paid_cents: None,
            guests: None,
            language: None,
            notes: None,
            sms_reminders: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), EngineError> {
        self.schedule
            .validate()
            .map_err(|m| EngineError::invalid("schedule", m))?;
        for (field, at) in [
            ("option_until", self.option_until),
            ("hold_expires_at", self.hold_expires_at),
        ] {
            if at.is_some_and(|at| !bellhop_domain::booking::supported_instant(at)) {
                return Err(EngineError::invalid(
                    field,
                    bellhop_domain::booking::SUPPORTED_RANGE,
                ));
            }
        }
        if self.status == BookingStatus::Option && self.option_until.is_none() {
            return Err(EngineError::invalid(
                "option_until",
                "an option needs option_until",
            ));
        }
        if self.status == BookingStatus::PendingPayment && self.hold_expires_at.is_none() {
            return Err(EngineError::invalid(
                "hold_expires_at",
                "a pending payment hold needs hold_expires_at",
            ));
        }
        for (field, cents) in [
            ("price_cents", self.price_cents),
            ("deposit_cents", self.deposit_cents),
            ("paid_cents", self.paid_cents),
        ] {
            if cents.is_some_and(|c| !(0..=100_000_000_000).contains(&c)) {
                return Err(EngineError::invalid(
                    field,
                    "must be between 0 and 100,000,000,000 cents",
                ));
            }
        }
        if self.guests.is_some_and(|g| !(1..=1000).contains(&g)) {
            return Err(EngineError::invalid("guests", "must be between 1 and 1000"));
        }
        Ok(())
    }

    /// Where SMS reminders are mandatory, a customer cannot decline them.
    pub(crate) fn check_sms_choice(&self, property: &Property) -> Result<(), EngineError> {
        if self.sms_reminders == Some(false)
            && property.sms.reminders == bellhop_domain::property::ReminderChoice::Mandatory
        {
            return Err(EngineError::invalid(
                "sms_reminders",
                "SMS reminders are mandatory at this property; a customer cannot decline them",
            ));
        }
        Ok(())
    }

    pub(crate) fn into_booking(self, account_id: Uuid, id: Uuid, now: Timestamp) -> Booking {
        Booking {
            id,
            account_id,
            property_id: self.property_id,
            contact_id: self.contact_id,
            status: self.status,
            schedule: self.schedule,
            option_until: self.option_until,
            hold_expires_at: self.hold_expires_at,
            room_category: self.room_category,
            service: self.service,
            staff: self.staff,
            source_channel: self.source_channel,
            external_id: self.external_id,
            voucher: self.voucher,
            price_cents: self.price_cents,
            deposit_cents: self.deposit_cents,
            paid_cents: self.paid_cents,
            guests: self.guests,
            language: self.language,
            notes: self.notes,
            sms_reminders: self.sms_reminders,
            created_at: now,
            updated_at: now,
            version: 1,
            status_changed_at: now,
            status_version: 1,
            modified_at: None,
            modified_version: None,
        }
    }

    /// The draft of an existing booking (to edit it).
    pub fn of(b: &Booking) -> BookingDraft {
        BookingDraft {
            property_id: b.property_id,
            contact_id: b.contact_id,
            status: b.status,
            schedule: b.schedule,
            option_until: b.option_until,
            hold_expires_at: b.hold_expires_at,
            room_category: b.room_category.clone(),
            service: b.service.clone(),
            staff: b.staff.clone(),
            source_channel: b.source_channel.clone(),
            external_id: b.external_id.clone(),
            voucher: b.voucher.clone(),
            price_cents: b.price_cents,
            deposit_cents: b.deposit_cents,
            paid_cents: b.paid_cents,
            guests: b.guests,
            language: b.language.clone(),
            notes: b.notes.clone(),
            sms_reminders: b.sms_reminders,
        }
    }
}

fn diff(old: &Booking, new: &Booking) -> serde_json::Value {
    let (a, b) = (
        serde_json::to_value(old).unwrap_or_default(),
        serde_json::to_value(new).unwrap_or_default(),
    );
    let mut changes = serde_json::Map::new();
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (key, new_value) in b {
            if matches!(
                key.as_str(),
                "updated_at"
                    | "version"
                    | "status_changed_at"
                    | "status_version"
                    | "modified_at"
                    | "modified_version"
            ) {
                continue;
            }
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
    draft: BookingDraft,
    actor: &str,
    now: Timestamp,
) -> Result<Option<(Booking, PlanSummary)>, EngineError> {
    let account = old.account_id;
    if draft.property_id != old.property_id {
        return Err(EngineError::invalid(
            "property_id",
            "a booking cannot move to another property",
        ));
    }
    draft.check_sms_choice(&tx.property(account, old.property_id).await?)?;
    if draft.schedule.kind() != old.kind() {
        return Err(EngineError::invalid(
            "schedule",
            "a booking cannot change between stay and appointment",
        ));
    }
    tx.contact(account, draft.contact_id)
        .await
        .map_err(|_| EngineError::invalid("contact_id", "no such contact"))?;
    let mut new = draft.into_booking(account, old.id, old.created_at);
    new.version = old.version + 1;
    new.updated_at = now;
    (new.status_changed_at, new.status_version) = if new.status != old.status {
        (now, new.version)
    } else {
        (old.status_changed_at, old.status_version)
    };
    (new.modified_at, new.modified_version) = if old.is_modified_by(&new) {
        (Some(now), Some(new.version))
    } else {
        (old.modified_at, old.modified_version)
    };
    let changes = diff(old, &new);
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
        draft: BookingDraft,
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
        draft: BookingDraft,
        actor: &str,
    ) -> Result<(Booking, PlanSummary), EngineError> {
        draft.validate()?;
        let now = self.now();
        let property = tx
            .property(account, draft.property_id)
            .await
            .map_err(|_| EngineError::invalid("property_id", "no such property"))?;
        draft.check_sms_choice(&property)?;
        tx.contact(account, draft.contact_id)
            .await
            .map_err(|_| EngineError::invalid("contact_id", "no such contact"))?;
        let booking = draft.into_booking(account, Uuid::now_v7(), now);
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
        Ok((booking, summary))
    }

    /// Changes a booking and re-plans its messages in the same transaction. `expected_version`
    /// guards against lost updates when given.
    pub async fn update_booking(
        &self,
        account: Uuid,
        id: Uuid,
        draft: BookingDraft,
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
        edit: impl FnOnce(&Booking) -> Result<BookingDraft, E>,
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
        draft.validate()?;
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
            new.status = BookingStatus::Expired;
            new.version += 1;
            new.updated_at = now;
            new.status_changed_at = now;
            new.status_version = new.version;
            tx.update_booking(&new, old.version).await?;
            tx.insert_booking_change(new.id, new.version, "system:expiry", &diff(old, &new), now)
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
        drafts: Vec<BookingDraft>,
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
        drafts: Vec<BookingDraft>,
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
            draft.validate().map_err(|e| match e {
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
            let booking = draft.into_booking(account, Uuid::now_v7(), now);
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
