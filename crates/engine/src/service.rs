//! The engine itself: its store, clock and signer, the read facade, and the re-planning
//! every command ends with. The commands live by resource: `bookings`, `contacts`,
//! `catalog` (properties, templates, rules), `messages`, `sms`, `import`, `command`.

use crate::clock::Clock;
use crate::error::EngineError;
use bellhop_domain::Booking;
use bellhop_domain::plan::{self, PlanInput};
use bellhop_store::{PlanSummary, Store, Tx};
use jiff::Timestamp;
use std::sync::Arc;

/// The engine's entry point for every change.
#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
    queries: crate::Queries,
    clock: Arc<dyn Clock>,
    /// Signs callback URLs and one-time codes (the installation's key).
    signer: Arc<bellhop_transport::callbacks::Callbacks>,
    /// Delivery reports waiting for their group commit.
    pub(crate) deliveries: crate::deliveries::DeliveryQueue,
}

/// Plans one booking inside a transaction and applies the result.
pub(crate) async fn replan(
    tx: &mut Tx,
    booking: &Booking,
    now: Timestamp,
) -> Result<PlanSummary, EngineError> {
    let property = tx
        .property(booking.account_id, booking.fields.property_id)
        .await?;
    let rules = tx.rules_of(property.id).await?;
    let contact = tx
        .contact(booking.account_id, booking.fields.contact_id)
        .await?;
    let existing = tx.existing_messages(booking.id).await?;
    let actions = plan::plan(&PlanInput {
        property: &property,
        booking,
        contact: &contact,
        rules: &rules,
        existing: &existing,
        now,
    });
    Ok(tx.apply_plan(booking, &actions, now).await?)
}

impl Engine {
    /// An engine over a store, reading time from `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        // Until `with_signer` is given the installation's key, a random one: tokens then only
        // hold within this process (fine for tests and tools that take no callbacks).
        let key: [u8; 32] = rand::random();
        let signer = bellhop_transport::callbacks::Callbacks::new("http://127.0.0.1", &key);
        Engine {
            queries: crate::Queries::new(store.clone()),
            store,
            clock,
            signer: Arc::new(signer),
            deliveries: crate::deliveries::DeliveryQueue::new(),
        }
    }

    /// The engine signing with the installation's key (callbacks, one-time codes).
    pub fn with_signer(mut self, signer: bellhop_transport::callbacks::Callbacks) -> Self {
        self.signer = Arc::new(signer);
        self
    }

    /// The signer of callbacks and one-time codes.
    pub fn signer(&self) -> &bellhop_transport::callbacks::Callbacks {
        &self.signer
    }

    /// Today's date in UTC, by the engine's clock.
    pub fn today(&self) -> jiff::civil::Date {
        self.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    /// What may be read: every read the API and the tools need, and no write.
    pub fn query(&self) -> &crate::Queries {
        &self.queries
    }

    /// The store: the engine's own. Callers read through `query` and change through the
    /// engine's commands.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

impl Engine {}
