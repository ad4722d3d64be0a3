//! The door for creating requests: `Engine::idempotent` opens one transaction, reserves the
//! request's idempotency key in it, lets the caller run engine commands (`Command`), saves
//! the caller's answer under the key and commits everything together — a retried request
//! replays the first answer, a request that failed leaves nothing behind, not even its key.

use crate::sms::{CampaignDraft, CampaignPlan, TanCreated, TanRequest};
use crate::{EngineError, service::Engine};
use bellhop_domain::{Booking, Contact, Property, Rule, render::Template};
use bellhop_store::{IdempotencyStart, PlanSummary, SavedResponse, Tx};
use serde::Serialize;
use uuid::Uuid;

/// A client's idempotency key with a hash of the request it came with.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    /// The key (1–255 visible ASCII characters, checked by the caller).
    pub key: String,
    /// A hash of the request body: the same key with another body is refused.
    pub request_hash: String,
}

/// The answer to a creating request: new, or the first answer replayed.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
    /// Whether this is the first answer to an earlier request with the same key.
    pub replayed: bool,
}

/// Engine commands inside one creating request's transaction.
pub struct Command<'e> {
    engine: &'e Engine,
    tx: Tx,
    account: Uuid,
}

impl Engine {
    /// Runs `work` as one transaction under `key` (if any) and answers with `status` and what
    /// `work` returns, serialised; see the module docs.
    pub async fn idempotent<R, E>(
        &self,
        account: Uuid,
        key: Option<&IdempotencyKey>,
        status: u16,
        work: impl AsyncFnOnce(&mut Command<'_>) -> Result<R, E>,
    ) -> Result<Answer, E>
    where
        R: Serialize,
        E: From<EngineError>,
    {
        let now = self.now();
        let tx = self.store().begin().await.map_err(EngineError::from)?;
        let mut command = Command {
            engine: self,
            tx,
            account,
        };
        if let Some(key) = key {
            match command
                .tx
                .begin_idempotent(account, &key.key, &key.request_hash, now)
                .await
                .map_err(EngineError::from)?
            {
                IdempotencyStart::Fresh => {}
                IdempotencyStart::Replay(saved) => {
                    return Ok(Answer {
                        status: saved.status,
                        body: saved.body,
                        replayed: true,
                    });
                }
                IdempotencyStart::Mismatch => {
                    return Err(EngineError::invalid(
                        "Idempotency-Key",
                        "this key was already used with a different request body",
                    )
                    .into());
                }
            }
        }
        let answer = work(&mut command).await?;
        let body = serde_json::to_string(&answer)
            .map_err(|e| EngineError::Internal(format!("cannot serialise the answer: {e}")))?;
        let mut tx = command.tx;
        if let Some(key) = key {
            let saved = SavedResponse {
                status,
                body: body.clone(),
            };
            tx.save_idempotent_response(account, &key.key, &saved, now)
                .await
                .map_err(EngineError::from)?;
        }
        tx.commit().await.map_err(EngineError::from)?;
        Ok(Answer {
            status,
            body,
            replayed: false,
        })
    }
}

impl Command<'_> {
    /// Creates a property.
    pub async fn create_property(&mut self, property: &Property) -> Result<(), EngineError> {
        self.engine.create_property_in(&mut self.tx, property).await
    }

    /// Creates or replaces a contact and re-plans the contact's bookings.
    pub async fn upsert_contact(&mut self, contact: &Contact) -> Result<PlanSummary, EngineError> {
        self.engine.upsert_contact_in(&mut self.tx, contact).await
    }

    /// The account's contact with this email, else with this number, else `contact` stored
    /// as a new one: a guest who books again keeps one record.
    pub async fn find_or_create_contact(
        &mut self,
        contact: &Contact,
    ) -> Result<Contact, EngineError> {
        self.engine
            .find_or_create_contact_in(&mut self.tx, contact)
            .await
    }

    /// A contact of the account, as this transaction sees it.
    pub async fn contact(&mut self, id: Uuid) -> Result<Contact, EngineError> {
        Ok(self.tx.contact(self.account, id).await?)
    }

    /// A property of the account, as this transaction sees it.
    pub async fn property(&mut self, id: Uuid) -> Result<Property, EngineError> {
        Ok(self.tx.property(self.account, id).await?)
    }

    /// Creates a booking and plans its messages.
    /// The consents the booking's contact lacks for the active rules of its property.
    pub async fn booking_consent_warnings(
        &mut self,
        booking: &Booking,
    ) -> Result<Vec<crate::ConsentWarning>, EngineError> {
        Engine::booking_consent_warnings_in(&mut self.tx, booking).await
    }

    /// The consents a contact lacks at the properties it has bookings at.
    pub async fn contact_consent_warnings(
        &mut self,
        contact: &Contact,
    ) -> Result<Vec<crate::ConsentWarning>, EngineError> {
        Engine::contact_consent_warnings_in(&mut self.tx, contact).await
    }

    pub async fn create_booking(
        &mut self,
        draft: bellhop_domain::BookingFields,
        actor: &str,
    ) -> Result<(Booking, PlanSummary), EngineError> {
        self.engine
            .create_booking_in(&mut self.tx, self.account, draft, actor)
            .await
    }

    /// Replaces the fields of an existing booking (an upsert by external id).
    pub async fn replace_booking(
        &mut self,
        id: Uuid,
        draft: bellhop_domain::BookingFields,
        actor: &str,
    ) -> Result<(Booking, PlanSummary), EngineError> {
        if !self.tx.try_hold_booking(id) {
            return Err(EngineError::Busy(
                "a message of this booking is being sent; try again".into(),
            ));
        }
        let old = self.tx.booking_for_change(self.account, id).await?;
        crate::bookings::validate(&draft)?;
        self.engine
            .guard_channel_booking(&mut self.tx, &old, &draft, actor)
            .await?;
        let now = self.engine.now();
        let out = crate::bookings::change_booking(&mut self.tx, &old, draft, actor, now).await?;
        Ok(out.unwrap_or((old, PlanSummary::default())))
    }

    /// Stores a template (compiled first: a syntax error is refused).
    pub async fn save_template(
        &mut self,
        template: &Template,
        create: bool,
    ) -> Result<Template, EngineError> {
        self.engine
            .save_template_in(&mut self.tx, template, create)
            .await
    }

    /// Stores a rule and re-plans the property's live bookings.
    pub async fn save_rule(
        &mut self,
        rule: &Rule,
        create: bool,
    ) -> Result<PlanSummary, EngineError> {
        self.engine.save_rule_in(&mut self.tx, rule, create).await
    }

    /// Creates a one-time code and plans its SMS.
    pub async fn create_tan(
        &mut self,
        request: TanRequest,
        code: Option<String>,
    ) -> Result<TanCreated, EngineError> {
        self.engine
            .create_tan_in(&mut self.tx, self.account, request, code)
            .await
    }

    /// Creates a bulk SMS campaign (or, with `dry_run`, says what it would do).
    pub async fn create_campaign(
        &mut self,
        draft: CampaignDraft,
        dry_run: bool,
        actor: &str,
    ) -> Result<CampaignPlan, EngineError> {
        self.engine
            .create_campaign_in(&mut self.tx, self.account, draft, dry_run, actor)
            .await
    }
}
