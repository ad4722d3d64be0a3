//! What customers do themselves through a link, without logging in: unsubscribe in one click,
//! choose on their consent page, confirm a marketing email grant (double opt-in). Every change
//! is a consent event with the evidence of how it was made; a link that does not check out
//! changes nothing.

use crate::EngineError;
use crate::consent::ConsentCell;
use crate::links::{self, LinkRefused, LinkSubject};
use crate::service::Engine;
use bellhop_domain::consent::{self, Channel, Purpose, Source, State};
use bellhop_domain::text::escape_html;
use bellhop_domain::{Contact, MessageKind, MessageStatus, Property};
use bellhop_store::{AdHocMessage, Confirmation, ConsentText, NewConsentEvent, StoreError, Tx};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// How long a consent page link holds.
pub const CONSENT_LINK_DAYS: i64 = 14;
/// How long a double opt-in confirmation waits for its click.
pub const CONFIRMATION_DAYS: i64 = 7;

/// Why a link does not lead anywhere.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Not a link bellhop made, or one that was changed, or whose contact is gone.
    #[error("this link is not valid")]
    Invalid,
    /// A link past its time.
    #[error("this link has expired")]
    Expired,
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for LinkError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => LinkError::Invalid,
            other => LinkError::Engine(other.into()),
        }
    }
}

impl From<LinkRefused> for LinkError {
    fn from(r: LinkRefused) -> Self {
        match r {
            LinkRefused::Invalid => LinkError::Invalid,
            LinkRefused::Expired => LinkError::Expired,
        }
    }
}

/// The language a customer's pages and mails are in: German or English.
pub fn page_language(contact: &Contact, property: &Property) -> &'static str {
    let wanted = contact
        .language
        .as_deref()
        .unwrap_or(&property.default_language);
    if bellhop_domain::language::same_primary(wanted, "de") {
        "de"
    } else {
        "en"
    }
}

/// Where a customer's decision was made: the browser's address and name.
#[derive(Clone, Debug, Default)]
pub struct OnlineEvidence {
    /// The address the request came from.
    pub ip: Option<String>,
    /// `X-Forwarded-For`, as sent (a proxy's word, kept beside the address).
    pub forwarded_for: Option<String>,
    /// The browser.
    pub user_agent: Option<String>,
}

impl OnlineEvidence {
    fn evidence(&self, mut fields: serde_json::Value) -> serde_json::Value {
        if let (Some(f), Some(map)) = (&self.forwarded_for, fields.as_object_mut()) {
            map.insert("forwarded_for".into(), f.clone().into());
        }
        fields
    }
}

/// Who a link is for, as its pages show them.
#[derive(Clone, Debug)]
pub struct LinkView {
    /// The property whose mail carried the link.
    pub property: Property,
    /// The contact.
    pub contact: Contact,
    /// `de` or `en`.
    pub language: &'static str,
}

/// What the unsubscribe page shows.
#[derive(Clone, Debug)]
pub struct Unsubscribed {
    /// Whose link.
    pub view: LinkView,
    /// Marketing email is withdrawn (now, or it was before).
    pub withdrawn: bool,
}

/// The consent page of a contact at a property.
#[derive(Clone, Debug)]
pub struct ConsentPage {
    /// Whose page.
    pub view: LinkView,
    /// The text shown (stored, versioned).
    pub text: ConsentText,
    /// The purposes and channels the contact can decide (a channel only with an address).
    pub cells: Vec<ConsentCell>,
    /// Purposes with a double opt-in mail sent and not yet clicked.
    pub waiting: Vec<(Purpose, Channel)>,
}

/// What submitting the consent page did.
#[derive(Clone, Debug, Default)]
pub struct ConsentSubmitted {
    /// Events recorded.
    pub recorded: usize,
    /// Grants that wait for the click in a confirmation mail.
    pub confirmations_sent: Vec<(Purpose, Channel)>,
}

/// What a confirmation click did.
#[derive(Clone, Debug)]
pub struct Confirmed {
    /// Whose.
    pub view: LinkView,
    /// What it confirms.
    pub purpose: Purpose,
    /// `true` the first time; a clicked or expired link changes nothing.
    pub recorded: bool,
    /// The link is past its time.
    pub expired: bool,
}

/// Whether a box starts ticked: a grant, or (for service resting on the contract) anything but
/// a withdrawal. Marketing is never ticked for the customer (GDPR recital 32, *Planet49*).
pub fn ticked(cell: &ConsentCell, property: &Property) -> bool {
    let contract = cell.purpose == Purpose::Service && !property.consent.service_needs_consent;
    match cell.state {
        State::Granted => true,
        State::Unknown => contract,
        State::Withdrawn => false,
    }
}

/// Marketing and personalised email need the click in a confirmation mail (double opt-in).
fn needs_confirmation(purpose: Purpose, channel: Channel) -> bool {
    purpose != Purpose::Service && channel == Channel::Email
}

impl Engine {
    async fn link_view(&self, subject: LinkSubject) -> Result<LinkView, LinkError> {
        let property = self.store().property_any(subject.property).await?;
        // A link names a contact of the property's own account; anything else is not ours.
        let contact = self
            .store()
            .contact(property.account_id, subject.contact)
            .await?;
        let language = page_language(&contact, &property);
        Ok(LinkView {
            property,
            contact,
            language,
        })
    }

    /// The unsubscribe page of a link: who it is for, and whether they are out already.
    /// Reading it changes nothing (mail scanners open links).
    pub async fn unsubscribe_page(&self, token: &str) -> Result<Unsubscribed, LinkError> {
        let subject =
            links::read_unsubscribe_token(self.signer(), token).ok_or(LinkError::Invalid)?;
        let view = self.link_view(subject).await?;
        let withdrawn = self
            .email_state(&view, Purpose::Marketing)
            .await?
            .is_some_and(|s| s == State::Withdrawn);
        Ok(Unsubscribed { view, withdrawn })
    }

    async fn email_state(
        &self,
        view: &LinkView,
        purpose: Purpose,
    ) -> Result<Option<State>, LinkError> {
        let consents = self
            .consents(view.contact.account_id, view.contact.id)
            .await?;
        Ok(consents
            .matrix
            .iter()
            .find(|c| c.purpose == purpose && c.channel == Channel::Email && c.address.is_some())
            .map(|c| c.state))
    }

    /// Withdraws marketing and personalised email of the link's contact (RFC 8058 one-click,
    /// or the button on the page). Once withdrawn, another click records nothing more.
    pub async fn unsubscribe(
        &self,
        token: &str,
        method: &str,
        online: &OnlineEvidence,
    ) -> Result<Unsubscribed, LinkError> {
        let subject =
            links::read_unsubscribe_token(self.signer(), token).ok_or(LinkError::Invalid)?;
        let view = self.link_view(subject).await?;
        let account = view.contact.account_id;
        let consents = self.consents(account, view.contact.id).await?;
        let mut tx = self.store().begin().await.map_err(EngineError::from)?;
        for cell in consents.matrix.iter().filter(|c| {
            c.channel == Channel::Email && c.purpose != Purpose::Service && c.address.is_some()
        }) {
            if cell.state == State::Withdrawn {
                continue;
            }
            let event = NewConsentEvent {
                contact_id: Some(view.contact.id),
                property_id: Some(view.property.id),
                address: cell.address.clone().unwrap_or_default(),
                purpose: cell.purpose,
                channel: Channel::Email,
                granted: false,
                source: Source::UnsubscribeLink,
                actor: None,
                text_id: None,
                ip: online.ip.clone(),
                user_agent: online.user_agent.clone(),
                evidence: online.evidence(serde_json::json!({ "method": method })),
            };
            tx.insert_consent_event(account, &event, self.now())
                .await
                .map_err(EngineError::from)?;
        }
        tx.commit().await.map_err(EngineError::from)?;
        Ok(Unsubscribed {
            view,
            withdrawn: true,
        })
    }

    /// The consent text a property shows in `language`: its newest version, or the built-in
    /// one, stored as version 1 the first time it is shown (decisions refer to a stored text).
    async fn shown_text(
        &self,
        tx: &mut Tx,
        property: &Property,
        language: &str,
    ) -> Result<ConsentText, EngineError> {
        if let Some(text) = tx.consent_text(property.id, language).await? {
            return Ok(text);
        }
        let (language, body) = consent::default_text(language);
        Ok(tx
            .insert_consent_text(property.account_id, property.id, language, body, self.now())
            .await?)
    }

    /// The consent page a link opens.
    pub async fn consent_page(&self, token: &str) -> Result<ConsentPage, LinkError> {
        let subject = links::read_consent_page_token(self.signer(), token, self.now())?;
        let view = self.link_view(subject).await?;
        let text = match self
            .store()
            .consent_text(view.property.id, view.language)
            .await?
        {
            Some(text) => text,
            None => {
                let mut tx = self.store().begin().await.map_err(EngineError::from)?;
                let text = self
                    .shown_text(&mut tx, &view.property, view.language)
                    .await?;
                tx.commit().await.map_err(EngineError::from)?;
                text
            }
        };
        let consents = self
            .consents(view.contact.account_id, view.contact.id)
            .await?;
        let cells = consents
            .matrix
            .into_iter()
            .filter(|c| c.address.is_some())
            .collect();
        let waiting = self
            .store()
            .open_confirmations(view.contact.id, self.now())
            .await
            .map_err(EngineError::from)?;
        Ok(ConsentPage {
            view,
            text,
            cells,
            waiting,
        })
    }

    /// Records what the customer ticked on their consent page: a grant where the box was
    /// ticked and nothing granted it yet, a withdrawal where a grant was unticked. A marketing
    /// email grant waits for the click in a neutral confirmation mail.
    pub async fn submit_consent_page(
        &self,
        token: &str,
        chosen: &[(Purpose, Channel)],
        text_id: Uuid,
        online: &OnlineEvidence,
    ) -> Result<ConsentSubmitted, LinkError> {
        let page = self.consent_page(token).await?;
        if page.text.id != text_id {
            // The text changed while the page was open: the customer must see the new one.
            return Err(LinkError::Engine(EngineError::invalid(
                "text_id",
                "the consent text changed; reload the page",
            )));
        }
        let view = &page.view;
        let account = view.contact.account_id;
        let now = self.now();
        let mut done = ConsentSubmitted::default();
        let mut tx = self.store().begin().await.map_err(EngineError::from)?;
        for cell in &page.cells {
            let wanted = chosen.contains(&(cell.purpose, cell.channel));
            if wanted == ticked(cell, &view.property) {
                continue;
            }
            let address = cell.address.clone().unwrap_or_default();
            if wanted && needs_confirmation(cell.purpose, cell.channel) {
                if page.waiting.contains(&(cell.purpose, cell.channel)) {
                    continue;
                }
                let confirmation = Confirmation {
                    id: Uuid::now_v7(),
                    account_id: account,
                    contact_id: Some(view.contact.id),
                    property_id: view.property.id,
                    address,
                    purpose: cell.purpose,
                    channel: cell.channel,
                    text_id: Some(page.text.id),
                    ip: online.ip.clone(),
                    user_agent: online.user_agent.clone(),
                    expires_at: now
                        .checked_add(SignedDuration::from_hours(24 * CONFIRMATION_DAYS))
                        .unwrap_or(now),
                    confirmed_at: None,
                    created_at: now,
                };
                tx.insert_confirmation(&confirmation)
                    .await
                    .map_err(EngineError::from)?;
                queue_consent_mail(
                    &mut tx,
                    view,
                    &format!("consent_confirm:{}", confirmation.id),
                    now,
                )
                .await?;
                done.confirmations_sent.push((cell.purpose, cell.channel));
                continue;
            }
            let event = NewConsentEvent {
                contact_id: Some(view.contact.id),
                property_id: Some(view.property.id),
                address,
                purpose: cell.purpose,
                channel: cell.channel,
                granted: wanted,
                source: Source::ConsentPage,
                actor: None,
                text_id: Some(page.text.id),
                ip: online.ip.clone(),
                user_agent: online.user_agent.clone(),
                evidence: online.evidence(serde_json::json!({ "method": "page" })),
            };
            tx.insert_consent_event(account, &event, now)
                .await
                .map_err(EngineError::from)?;
            done.recorded += 1;
        }
        tx.commit().await.map_err(EngineError::from)?;
        Ok(done)
    }

    /// Whose double opt-in a link is, to show the confirmation button. Changes nothing.
    pub async fn confirmation_page(&self, token: &str) -> Result<LinkView, LinkError> {
        let id = links::read_confirmation_token(self.signer(), token).ok_or(LinkError::Invalid)?;
        let c = self.store().confirmation(id).await?;
        self.link_view(LinkSubject {
            contact: c.contact_id.ok_or(LinkError::Invalid)?,
            property: c.property_id,
        })
        .await
    }

    /// The click in a double opt-in mail: records the grant once, with the evidence of both
    /// the request and the click. A link clicked before, or past its time, changes nothing.
    pub async fn confirm_consent(
        &self,
        token: &str,
        online: &OnlineEvidence,
    ) -> Result<Confirmed, LinkError> {
        let id = links::read_confirmation_token(self.signer(), token).ok_or(LinkError::Invalid)?;
        let c = self.store().confirmation(id).await?;
        let contact = c.contact_id.ok_or(LinkError::Invalid)?;
        let view = self
            .link_view(LinkSubject {
                contact,
                property: c.property_id,
            })
            .await?;
        let now = self.now();
        let expired = now >= c.expires_at;
        let mut recorded = false;
        if c.confirmed_at.is_none() && !expired {
            let mut tx = self.store().begin().await.map_err(EngineError::from)?;
            let event = NewConsentEvent {
                contact_id: Some(contact),
                property_id: Some(c.property_id),
                address: c.address.clone(),
                purpose: c.purpose,
                channel: c.channel,
                granted: true,
                source: Source::ConsentPage,
                actor: None,
                text_id: c.text_id,
                ip: online.ip.clone(),
                user_agent: online.user_agent.clone(),
                evidence: online.evidence(serde_json::json!({
                    "method": "double_opt_in",
                    "confirmation_id": c.id,
                    "requested_at": c.created_at,
                    "requested_ip": c.ip,
                    "requested_user_agent": c.user_agent,
                })),
            };
            let event_id = tx
                .insert_consent_event(c.account_id, &event, now)
                .await
                .map_err(EngineError::from)?;
            if tx
                .confirm(c.id, event_id, now)
                .await
                .map_err(EngineError::from)?
            {
                tx.commit().await.map_err(EngineError::from)?;
                recorded = true;
            }
        }
        Ok(Confirmed {
            view,
            purpose: c.purpose,
            recorded,
            expired: expired && c.confirmed_at.is_none(),
        })
    }

    /// Emails the contact a link to their consent page at `property` (valid for 14 days).
    pub async fn request_consent(
        &self,
        account: Uuid,
        contact_id: Uuid,
        property_id: Uuid,
    ) -> Result<Uuid, EngineError> {
        let mut tx = self.store().begin().await?;
        let contact = tx.contact(account, contact_id).await?;
        let property = tx
            .property(account, property_id)
            .await
            .map_err(|_| EngineError::invalid("property_id", "no such property"))?;
        if contact.email.is_none() {
            return Err(EngineError::invalid(
                "contact",
                "the contact has no email address to send the link to",
            ));
        }
        let view = LinkView {
            language: page_language(&contact, &property),
            property,
            contact,
        };
        let id = queue_consent_mail(&mut tx, &view, "consent_request", self.now()).await?;
        tx.commit().await?;
        Ok(id)
    }
}

async fn queue_consent_mail(
    tx: &mut Tx,
    view: &LinkView,
    occurrence: &str,
    now: Timestamp,
) -> Result<Uuid, EngineError> {
    let id = Uuid::now_v7();
    let message = AdHocMessage {
        id,
        account_id: view.contact.account_id,
        property_id: view.property.id,
        contact_id: view.contact.id,
        booking_id: None,
        kind: MessageKind::Consent,
        channel: "email",
        occurrence: occurrence.to_owned(),
        campaign_id: None,
        sms_text: None,
        due_at: now,
        // The customer waits for it, as for a one-time code.
        priority: 1,
        status: MessageStatus::Planned,
        reason: None,
    };
    tx.insert_ad_hoc_messages(&[message], now).await?;
    Ok(id)
}

/// A consent mail's subject, HTML and text: the link to the consent page, or the double
/// opt-in confirmation. Both are neutral — no offer, no advertising (OLG München 29 U 1682/12).
pub(crate) fn consent_mail(
    property: &Property,
    contact: &Contact,
    confirm: bool,
    url: &str,
) -> (String, String, String) {
    let de = page_language(contact, property) == "de";
    let name = &property.name;
    let (subject, lines, button) = match (confirm, de) {
        (false, true) => (
            format!("Ihre Einstellungen bei {name}"),
            vec![
                format!(
                    "Hier legen Sie fest, welche Nachrichten Sie von {name} erhalten und auf welchem Weg."
                ),
                format!("Der Link gilt {CONSENT_LINK_DAYS} Tage."),
            ],
            "Einstellungen öffnen",
        ),
        (false, false) => (
            format!("Your preferences at {name}"),
            vec![
                format!("Choose which messages you receive from {name}, and how."),
                format!("The link is valid for {CONSENT_LINK_DAYS} days."),
            ],
            "Open preferences",
        ),
        (true, true) => (
            format!("Bitte bestätigen Sie Ihre Anmeldung bei {name}"),
            vec![
                format!(
                    "Sie haben zugestimmt, E-Mails mit Angeboten und Neuigkeiten von {name} zu erhalten. Bitte bestätigen Sie das mit einem Klick."
                ),
                "Wenn Sie das nicht waren, ignorieren Sie diese E-Mail; es geschieht dann nichts."
                    .to_owned(),
            ],
            "Anmeldung bestätigen",
        ),
        (true, false) => (
            format!("Please confirm your sign-up at {name}"),
            vec![
                format!(
                    "You agreed to receive emails with offers and news from {name}. Please confirm with one click."
                ),
                "If this was not you, ignore this email and nothing will happen.".to_owned(),
            ],
            "Confirm sign-up",
        ),
    };
    let paragraphs: String = lines
        .iter()
        .map(|l| format!("<p>{}</p>", escape_html(l)))
        .collect();
    let url_html = escape_html(url);
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#1f2937;\">{paragraphs}\
         <p><a href=\"{url_html}\" style=\"display:inline-block;padding:10px 18px;background:#1f4e79;\
         color:#ffffff;text-decoration:none;border-radius:4px;\">{}</a></p>\
         <p style=\"font-size:12px;color:#6b7280;\">{url_html}</p><p>{}</p></body></html>",
        escape_html(button),
        escape_html(name)
    );
    let text = format!("{}\n\n{button}: {url}\n\n{name}\n", lines.join("\n\n"));
    (subject, html, text)
}

/// When a consent page link made now stops working.
pub(crate) fn consent_link_expiry(now: Timestamp) -> Timestamp {
    now.checked_add(SignedDuration::from_hours(24 * CONSENT_LINK_DAYS))
        .unwrap_or(now)
}
