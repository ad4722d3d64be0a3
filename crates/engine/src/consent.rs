//! Consent: recording events, reading a contact's matrix and history, and the book the
//! dispatcher checks every message against.
//!
//! Events are kept per contact point. Once a contact is erased its points are kept only as
//! `sha256:` digests (keyed by the account), so a withdrawal stays honoured if the same
//! address comes back; every lookup asks for both forms.

use crate::EngineError;
use crate::service::Engine;
use bellhop_domain::consent::{self, Channel, Decisive, Purpose, Source, State};
use bellhop_domain::render::Category;
use bellhop_domain::{Contact, Property, Reason};
use bellhop_store::{ConsentEvent, ConsentText, NewConsentEvent, Tx};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

/// The form a contact point keeps once its contact was erased.
pub(crate) fn erased_point(account: Uuid, channel: Channel, point: &str) -> String {
    let digest = Sha256::new()
        .chain_update(account.as_bytes())
        .chain_update(channel.as_str())
        .chain_update([0])
        .chain_update(point.as_bytes())
        .finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A contact's points: its email address and its number, as consent events key them.
pub(crate) fn points_of(contact: &Contact) -> Vec<(Channel, String)> {
    let mut points = Vec::new();
    if let Some(email) = contact.email.as_deref().filter(|e| !e.trim().is_empty()) {
        points.push((
            Channel::Email,
            consent::contact_point(Channel::Email, email),
        ));
    }
    if let Some(number) = &contact.phone_e164 {
        points.push((Channel::Sms, consent::contact_point(Channel::Sms, number)));
    }
    points
}

/// What to look up for these points: each as it is and as it is kept after an erasure.
pub(crate) fn lookup_keys(account: Uuid, points: &[(Channel, String)]) -> Vec<String> {
    points
        .iter()
        .flat_map(|(channel, point)| [point.clone(), erased_point(account, *channel, point)])
        .collect()
}

fn decisive(e: &ConsentEvent) -> Decisive {
    Decisive {
        granted: e.granted,
        sms_opt_out: e.evidence.get(consent::SMS_OPT_OUT) == Some(&serde_json::Value::Bool(true)),
    }
}

/// The latest event per account, contact point and purpose: what the dispatcher checks.
#[derive(Default)]
pub(crate) struct ConsentBook {
    latest: HashMap<(Uuid, Channel, String), [Option<Decisive>; 3]>,
}

fn purpose_index(p: Purpose) -> usize {
    match p {
        Purpose::Service => 0,
        Purpose::Marketing => 1,
        Purpose::Personalized => 2,
    }
}

impl ConsentBook {
    /// Takes an account's events (oldest first) for `points` — also those kept under the
    /// points' digests, unless `digests` says the account has none.
    pub fn add(
        &mut self,
        account: Uuid,
        points: &[(Channel, String)],
        digests: bool,
        events: &[ConsentEvent],
    ) {
        let mut by_key: HashMap<(Channel, &str), &str> = HashMap::new();
        let erased: Vec<String> = if digests {
            points
                .iter()
                .map(|(ch, p)| erased_point(account, *ch, p))
                .collect()
        } else {
            Vec::new()
        };
        for (channel, point) in points {
            by_key.insert((*channel, point.as_str()), point.as_str());
        }
        for ((channel, point), digest) in points.iter().zip(&erased) {
            by_key.insert((*channel, digest.as_str()), point.as_str());
        }
        for e in events {
            let Some(point) = by_key.get(&(e.channel, e.address.as_str())) else {
                continue;
            };
            let slot = self
                .latest
                .entry((account, e.channel, (*point).to_owned()))
                .or_default();
            slot[purpose_index(e.purpose)] = Some(decisive(e));
        }
    }

    /// Whether a message of `purpose` may go to `address` by `channel` at `property`.
    pub fn check(
        &self,
        account: Uuid,
        property: &Property,
        purpose: Purpose,
        channel: Channel,
        address: &str,
    ) -> Result<(), Reason> {
        let point = consent::contact_point(channel, address);
        let latest = self
            .latest
            .get(&(account, channel, point))
            .and_then(|slot| slot[purpose_index(purpose)].as_ref());
        consent::check(
            property.consent,
            property.sms.stop_applies_to,
            purpose,
            channel,
            latest,
        )
    }
}

/// One cell of a contact's consent matrix.
#[derive(Clone, Debug, Serialize)]
pub struct ConsentCell {
    /// What for.
    pub purpose: Purpose,
    /// Which channel.
    pub channel: Channel,
    /// Granted, withdrawn or unknown.
    pub state: State,
    /// The contact point it is about (none when the contact has no address for the channel).
    pub address: Option<String>,
    /// The event that decides it.
    pub deciding: Option<ConsentEvent>,
}

/// A contact's consent: the current matrix and every event, oldest first.
#[derive(Clone, Debug, Serialize)]
pub struct ContactConsents {
    /// The contact.
    pub contact_id: Uuid,
    /// Purpose × channel.
    pub matrix: Vec<ConsentCell>,
    /// Every event about the contact or its contact points.
    pub history: Vec<ConsentEvent>,
}

/// The matrix of a contact with `points`, from its history.
pub(crate) fn matrix(
    account: Uuid,
    points: &[(Channel, String)],
    history: &[ConsentEvent],
) -> Vec<ConsentCell> {
    let mut cells = Vec::new();
    for channel in Channel::ALL {
        let point = points.iter().find(|(c, _)| c == channel).map(|(_, p)| p);
        let keys: Vec<String> = point
            .map(|p| vec![p.clone(), erased_point(account, *channel, p)])
            .unwrap_or_default();
        for purpose in Purpose::ALL {
            let deciding = history
                .iter()
                .rev()
                .find(|e| {
                    e.channel == *channel && e.purpose == *purpose && keys.contains(&e.address)
                })
                .cloned();
            let state = Decisive::state(deciding.as_ref().map(decisive).as_ref());
            cells.push(ConsentCell {
                purpose: *purpose,
                channel: *channel,
                state,
                address: point.cloned(),
                deciding,
            });
        }
    }
    cells
}

/// A consent decision to record for a contact.
#[derive(Clone, Debug)]
pub struct ConsentDecision {
    /// What for.
    pub purpose: Purpose,
    /// Which channel.
    pub channel: Channel,
    /// Granted, or withdrawn.
    pub granted: bool,
    /// Where it came from.
    pub source: Source,
    /// Who recorded it.
    pub actor: Option<String>,
    /// Where it was given.
    pub property_id: Option<Uuid>,
    /// The consent text shown.
    pub text_id: Option<Uuid>,
    /// The customer's IP address (online).
    pub ip: Option<String>,
    /// The customer's browser (online).
    pub user_agent: Option<String>,
    /// Further evidence.
    pub evidence: serde_json::Value,
}

impl ConsentDecision {
    /// A decision with only the essentials; the rest empty.
    pub fn new(purpose: Purpose, channel: Channel, granted: bool, source: Source) -> Self {
        ConsentDecision {
            purpose,
            channel,
            granted,
            source,
            actor: None,
            property_id: None,
            text_id: None,
            ip: None,
            user_agent: None,
            evidence: serde_json::json!({}),
        }
    }
}

/// A rule, named.
#[derive(Clone, Debug, Serialize)]
pub struct RuleRef {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// A consent the property's active rules need and the contact has not given: their messages
/// to this contact will be suppressed.
#[derive(Clone, Debug, Serialize)]
pub struct ConsentWarning {
    /// `no_consent`.
    pub code: &'static str,
    /// What for.
    pub purpose: Purpose,
    /// Which channel.
    pub channel: Channel,
    /// The property.
    pub property_id: Uuid,
    /// The rules whose messages it stops.
    pub rules: Vec<RuleRef>,
}

/// A property's enabled rules with the category of their templates.
async fn active_rules(
    tx: &mut Tx,
    property: &Property,
) -> Result<Vec<(bellhop_domain::Rule, Category)>, EngineError> {
    let categories = tx.template_categories(property.id).await?;
    Ok(tx
        .rules_of(property.id)
        .await?
        .into_iter()
        .filter(|r| r.enabled)
        .map(|r| {
            let category = categories.get(&r.template_id).copied().unwrap_or_default();
            (r, category)
        })
        .collect())
}

/// The purposes and channels a reason refuses for lack of consent.
fn refusals(reason: &Reason, out: &mut Vec<(Purpose, Channel)>) {
    match reason {
        Reason::NoConsent { purpose, channel } => out.push((*purpose, *channel)),
        Reason::NoRoute { first, second, .. } => {
            refusals(first, out);
            refusals(second, out);
        }
        Reason::NoLongerWanted(inner) => refusals(inner, out),
        _ => {}
    }
}

impl Engine {
    /// The consents `contact` lacks for the enabled rules of `property`, read in `tx`: each
    /// purpose and channel with the rules whose messages would be suppressed.
    pub(crate) async fn consent_gaps_in(
        tx: &mut Tx,
        property: &Property,
        contact: &Contact,
    ) -> Result<Vec<ConsentWarning>, EngineError> {
        let rules = active_rules(tx, property).await?;
        Self::consent_gaps_of(tx, property, contact, &rules).await
    }

    /// `consent_gaps_in` for a property's active rules, read before.
    async fn consent_gaps_of(
        tx: &mut Tx,
        property: &Property,
        contact: &Contact,
        rules: &[(bellhop_domain::Rule, Category)],
    ) -> Result<Vec<ConsentWarning>, EngineError> {
        let account = property.account_id;
        let points = crate::prepare::points_of(contact, property);
        let events = tx
            .consent_events_at(account, &lookup_keys(account, &points))
            .await?;
        let mut book = ConsentBook::default();
        book.add(account, &points, true, &events);
        let mut warnings: Vec<ConsentWarning> = Vec::new();
        for (rule, category) in rules {
            let category = *category;
            let consent = |channel, address: &str| {
                book.check(account, property, category.into(), channel, address)
            };
            let Err(reason) = bellhop_domain::route::route(&bellhop_domain::route::RouteInput {
                property,
                contact,
                booking: None,
                channel: rule.channel,
                consent: &consent,
            }) else {
                continue;
            };
            let mut refused = Vec::new();
            refusals(&reason, &mut refused);
            for (purpose, channel) in refused {
                let rule = RuleRef {
                    id: rule.id,
                    name: rule.name.clone(),
                };
                match warnings
                    .iter_mut()
                    .find(|w| w.purpose == purpose && w.channel == channel)
                {
                    Some(w) => w.rules.push(rule),
                    None => warnings.push(ConsentWarning {
                        code: "no_consent",
                        purpose,
                        channel,
                        property_id: property.id,
                        rules: vec![rule],
                    }),
                }
            }
        }
        Ok(warnings)
    }

    /// The consents a booking's contact lacks for the rules of its property, in `tx`.
    pub(crate) async fn booking_consent_warnings_in(
        tx: &mut Tx,
        booking: &bellhop_domain::Booking,
    ) -> Result<Vec<ConsentWarning>, EngineError> {
        let property = tx
            .property(booking.account_id, booking.fields.property_id)
            .await?;
        let contact = tx
            .contact(booking.account_id, booking.fields.contact_id)
            .await?;
        Self::consent_gaps_in(tx, &property, &contact).await
    }

    /// The consents a contact lacks at every property it has bookings at, in `tx`.
    pub(crate) async fn contact_consent_warnings_in(
        tx: &mut Tx,
        contact: &Contact,
    ) -> Result<Vec<ConsentWarning>, EngineError> {
        let mut out = Vec::new();
        for property in tx
            .properties_of_contact_bookings(contact.account_id, contact.id)
            .await?
        {
            out.extend(Self::consent_gaps_in(tx, &property, contact).await?);
        }
        Ok(out)
    }

    /// The consents a booking's contact lacks for the rules of its property.
    pub async fn booking_consent_warnings(
        &self,
        account: Uuid,
        booking: Uuid,
    ) -> Result<Vec<ConsentWarning>, EngineError> {
        let mut tx = self.store().begin_read().await?;
        let booking = tx.booking(account, booking).await?;
        Self::booking_consent_warnings_in(&mut tx, &booking).await
    }

    /// The consents a contact lacks at every property it has bookings at.
    pub async fn contact_consent_warnings(
        &self,
        account: Uuid,
        contact: Uuid,
    ) -> Result<Vec<ConsentWarning>, EngineError> {
        let mut tx = self.store().begin_read().await?;
        let contact = tx.contact(account, contact).await?;
        Self::contact_consent_warnings_in(&mut tx, &contact).await
    }

    /// For planned rule messages among `rows`: the reason each will be suppressed at send
    /// time for lack of consent, as things stand (a timeline shows it in advance).
    pub async fn consent_forecast(
        &self,
        account: Uuid,
        rows: &[bellhop_store::TimelineRow],
    ) -> Result<HashMap<Uuid, String>, EngineError> {
        let mut out = HashMap::new();
        let mut gaps: HashMap<(Uuid, Uuid), Vec<ConsentWarning>> = HashMap::new();
        let mut rules: HashMap<Uuid, (Property, Vec<(bellhop_domain::Rule, Category)>)> =
            HashMap::new();
        let mut tx = self.store().begin_read().await?;
        for row in rows {
            let Some(rule) = row.rule_id else { continue };
            if !matches!(
                row.status,
                bellhop_domain::MessageStatus::Planned | bellhop_domain::MessageStatus::Deferred
            ) {
                continue;
            }
            let key = (row.property_id, row.contact_id);
            let known = match gaps.entry(key) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let (property, active) = match rules.entry(row.property_id) {
                        std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                        std::collections::hash_map::Entry::Vacant(slot) => {
                            let property = tx.property(account, row.property_id).await?;
                            let active = active_rules(&mut tx, &property).await?;
                            slot.insert((property, active))
                        }
                    };
                    let contact = tx.contact(account, row.contact_id).await?;
                    slot.insert(Self::consent_gaps_of(&mut tx, property, &contact, active).await?)
                }
            };
            if let Some(w) = known.iter().find(|w| w.rules.iter().any(|r| r.id == rule)) {
                out.insert(
                    row.message_id,
                    Reason::NoConsent {
                        purpose: w.purpose,
                        channel: w.channel,
                    }
                    .to_string(),
                );
            }
        }
        // A read: dropping the transaction ends it.
        drop(tx);
        Ok(out)
    }

    /// Records a consent decision for a contact's point on the decision's channel.
    pub async fn record_consent(
        &self,
        account: Uuid,
        contact: Uuid,
        decision: &ConsentDecision,
    ) -> Result<ConsentEvent, EngineError> {
        let mut tx = self.store().begin().await?;
        let id = self
            .record_consent_in(&mut tx, account, contact, decision)
            .await?;
        tx.commit().await?;
        let consents = self.consents(account, contact).await?;
        consents
            .history
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| EngineError::Internal("the recorded consent event is gone".into()))
    }

    /// `record_consent` inside a caller's transaction; the event's id.
    pub(crate) async fn record_consent_in(
        &self,
        tx: &mut Tx,
        account: Uuid,
        contact_id: Uuid,
        d: &ConsentDecision,
    ) -> Result<Uuid, EngineError> {
        let contact = tx.contact(account, contact_id).await?;
        let Some((_, address)) = points_of(&contact)
            .into_iter()
            .find(|(c, _)| *c == d.channel)
        else {
            return Err(EngineError::invalid(
                "channel",
                match d.channel {
                    Channel::Email => "the contact has no email address",
                    Channel::Sms => "the contact has no valid phone number",
                },
            ));
        };
        if let Some(property) = d.property_id {
            tx.property(account, property).await.map_err(|_| {
                EngineError::invalid("property_id", "no such property in this account")
            })?;
        }
        let event = NewConsentEvent {
            contact_id: Some(contact_id),
            property_id: d.property_id,
            address,
            purpose: d.purpose,
            channel: d.channel,
            granted: d.granted,
            source: d.source,
            actor: d.actor.clone(),
            text_id: d.text_id,
            ip: d.ip.clone(),
            user_agent: d.user_agent.clone(),
            evidence: d.evidence.clone(),
        };
        Ok(tx.insert_consent_event(account, &event, self.now()).await?)
    }

    /// Writes a new version of a property's consent text in a language.
    pub async fn write_consent_text(
        &self,
        account: Uuid,
        property: Uuid,
        language: &bellhop_domain::language::LanguageTag,
        body: &str,
    ) -> Result<ConsentText, EngineError> {
        if let Some(problem) = consent::text_problem(body) {
            return Err(EngineError::invalid("body", problem));
        }
        let mut tx = self.store().begin().await?;
        tx.property(account, property).await?;
        let text = tx
            .insert_consent_text(account, property, language, body, self.now())
            .await?;
        tx.commit().await?;
        Ok(text)
    }

    /// A contact's consent matrix and history.
    pub async fn consents(
        &self,
        account: Uuid,
        contact_id: Uuid,
    ) -> Result<ContactConsents, EngineError> {
        let contact = self.query().contact(account, contact_id).await?;
        let points = points_of(&contact);
        let history = self
            .store()
            .consent_history(account, contact_id, &lookup_keys(account, &points))
            .await?;
        Ok(ContactConsents {
            contact_id,
            matrix: matrix(account, &points, &history),
            history,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erased_point_is_keyed_by_account_and_channel() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let p = "anna@example.com";
        assert_ne!(
            erased_point(a, Channel::Email, p),
            erased_point(b, Channel::Email, p)
        );
        assert_ne!(
            erased_point(a, Channel::Email, p),
            erased_point(a, Channel::Sms, p)
        );
        assert!(erased_point(a, Channel::Email, p).starts_with("sha256:"));
        assert!(!erased_point(a, Channel::Email, p).contains("anna"));
    }
}
