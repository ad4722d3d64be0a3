//! Consent events (append-only, per contact point × purpose × channel), the consent texts
//! customers were shown, and double opt-in confirmations waiting for their click.

use crate::value::{Id, Ts, opt_id};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::consent::{Channel, Purpose, Source};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

/// One consent event as recorded, with the text that was shown.
#[derive(Clone, Debug, Serialize)]
pub struct ConsentEvent {
    /// Id.
    pub id: Uuid,
    /// The contact, while it exists.
    pub contact_id: Option<Uuid>,
    /// The property it was given at, when known.
    pub property_id: Option<Uuid>,
    /// The contact point: a lower-case email address or an E.164 number (`sha256:…` once the
    /// contact was erased).
    pub address: String,
    /// What for.
    pub purpose: Purpose,
    /// Which channel.
    pub channel: Channel,
    /// Granted, or withdrawn.
    pub granted: bool,
    /// Where it came from.
    pub source: Source,
    /// Who recorded it (staff, API key), when someone did.
    pub actor: Option<String>,
    /// The consent text shown.
    pub text_id: Option<Uuid>,
    /// Its version.
    pub text_version: Option<i32>,
    /// Its language.
    pub text_language: Option<String>,
    /// The customer's IP address, for online decisions.
    pub ip: Option<String>,
    /// The customer's browser, for online decisions.
    pub user_agent: Option<String>,
    /// What else proves it: the SMS keyword and inbound message, the double opt-in
    /// confirmation, the migration it came from.
    pub evidence: serde_json::Value,
    /// When (UTC).
    pub at: Timestamp,
}

/// A consent event to record.
#[derive(Clone, Debug)]
pub struct NewConsentEvent {
    /// The contact, when there is one.
    pub contact_id: Option<Uuid>,
    /// The property, when known.
    pub property_id: Option<Uuid>,
    /// The contact point (`consent::contact_point`).
    pub address: String,
    /// What for.
    pub purpose: Purpose,
    /// Which channel.
    pub channel: Channel,
    /// Granted, or withdrawn.
    pub granted: bool,
    /// Where from.
    pub source: Source,
    /// Who.
    pub actor: Option<String>,
    /// The text shown.
    pub text_id: Option<Uuid>,
    /// IP address.
    pub ip: Option<String>,
    /// Browser.
    pub user_agent: Option<String>,
    /// Further evidence.
    pub evidence: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Id,
    contact_id: Option<Id>,
    property_id: Option<Id>,
    address: String,
    purpose: String,
    channel: String,
    granted: bool,
    source: String,
    actor: Option<String>,
    text_id: Option<Id>,
    text_version: Option<i32>,
    text_language: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    evidence: Json<serde_json::Value>,
    created_at: Ts,
}

impl TryFrom<EventRow> for ConsentEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("consent event {what} {v:?}"));
        Ok(ConsentEvent {
            id: r.id.0,
            contact_id: r.contact_id.map(|c| c.0),
            property_id: r.property_id.map(|p| p.0),
            purpose: Purpose::parse(&r.purpose).ok_or_else(|| bad("purpose", &r.purpose))?,
            channel: Channel::parse(&r.channel).ok_or_else(|| bad("channel", &r.channel))?,
            source: Source::parse(&r.source).ok_or_else(|| bad("source", &r.source))?,
            address: r.address,
            granted: r.granted,
            actor: r.actor,
            text_id: r.text_id.map(|t| t.0),
            text_version: r.text_version,
            text_language: r.text_language,
            ip: r.ip,
            user_agent: r.user_agent,
            evidence: r.evidence.0,
            at: r.created_at.0,
        })
    }
}

const EVENT_COLUMNS: &str = "e.id, e.contact_id, e.property_id, e.address, e.purpose, e.channel,
    e.granted, e.source, e.actor, e.text_id, t.version AS text_version, t.language AS text_language,
    e.ip, e.user_agent, e.evidence, e.created_at
    FROM consent_events e LEFT JOIN consent_texts t ON t.id = e.text_id";

/// A consent text as shown to customers.
#[derive(Clone, Debug, Serialize)]
pub struct ConsentText {
    /// Id.
    pub id: Uuid,
    /// The property.
    pub property_id: Uuid,
    /// Language tag.
    pub language: String,
    /// 1, 2, ...: a change is a new version.
    pub version: i32,
    /// The text.
    pub body: String,
    /// When this version was written.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct TextRow {
    id: Id,
    property_id: Id,
    language: String,
    version: i32,
    body: String,
    created_at: Ts,
}

impl From<TextRow> for ConsentText {
    fn from(r: TextRow) -> Self {
        ConsentText {
            id: r.id.0,
            property_id: r.property_id.0,
            language: r.language,
            version: r.version,
            body: r.body,
            created_at: r.created_at.0,
        }
    }
}

/// A double opt-in waiting for (or past) its click.
#[derive(Clone, Debug)]
pub struct Confirmation {
    /// Id (in the confirmation link).
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// Contact.
    pub contact_id: Option<Uuid>,
    /// Property.
    pub property_id: Uuid,
    /// The contact point to confirm.
    pub address: String,
    /// What for.
    pub purpose: Purpose,
    /// Which channel.
    pub channel: Channel,
    /// The consent text shown when it was asked for.
    pub text_id: Option<Uuid>,
    /// Where it was asked for.
    pub ip: Option<String>,
    /// With which browser.
    pub user_agent: Option<String>,
    /// Until when the click counts.
    pub expires_at: Timestamp,
    /// When it was clicked.
    pub confirmed_at: Option<Timestamp>,
    /// When it was asked for.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct ConfirmationRow {
    id: Id,
    account_id: Id,
    contact_id: Option<Id>,
    property_id: Id,
    address: String,
    purpose: String,
    channel: String,
    text_id: Option<Id>,
    ip: Option<String>,
    user_agent: Option<String>,
    expires_at: Ts,
    confirmed_at: Option<Ts>,
    created_at: Ts,
}

impl TryFrom<ConfirmationRow> for Confirmation {
    type Error = StoreError;
    fn try_from(r: ConfirmationRow) -> Result<Self, StoreError> {
        Ok(Confirmation {
            id: r.id.0,
            account_id: r.account_id.0,
            contact_id: r.contact_id.map(|c| c.0),
            property_id: r.property_id.0,
            address: r.address,
            purpose: Purpose::parse(&r.purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("purpose {:?}", r.purpose)))?,
            channel: Channel::parse(&r.channel)
                .ok_or_else(|| StoreError::Corrupt(format!("channel {:?}", r.channel)))?,
            text_id: r.text_id.map(|t| t.0),
            ip: r.ip,
            user_agent: r.user_agent,
            expires_at: r.expires_at.0,
            confirmed_at: r.confirmed_at.map(|t| t.0),
            created_at: r.created_at.0,
        })
    }
}

fn events(rows: Vec<EventRow>) -> Result<Vec<ConsentEvent>, StoreError> {
    rows.into_iter().map(ConsentEvent::try_from).collect()
}

async fn events_at<S: AsRef<str>>(
    conn: Conn<'_>,
    account: Uuid,
    addresses: &[S],
) -> Result<Vec<ConsentEvent>, StoreError> {
    let rows: Vec<EventRow> = on!(conn, c, db => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} WHERE e.account_id = $1 AND e.address {}
             ORDER BY e.created_at, e.id",
            db::in_list(2)
        )))
        .bind(Id(account))
        .bind(db::text_list(addresses))
        .fetch_all(&mut *c)
        .await?
    });
    events(rows)
}

async fn text_of(
    conn: Conn<'_>,
    property: Uuid,
    language: &str,
) -> Result<Option<ConsentText>, StoreError> {
    let row: Option<TextRow> = on!(conn, c, _db => {
        sqlx::query_as(
            "SELECT id, property_id, language, version, body, created_at FROM consent_texts
             WHERE property_id = $1 AND language = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(Id(property))
        .bind(language)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(row.map(ConsentText::from))
}

impl Store {
    /// Consent events of these contact points in the account, oldest first (send-time checks).
    pub async fn consent_events_at<S: AsRef<str>>(
        &self,
        account: Uuid,
        addresses: &[S],
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        events_at(self.acquire().await?.conn(), account, addresses).await
    }

    /// Whether the account keeps any consent event under a digest (an erased contact's).
    pub async fn has_erased_points(&self, account: Uuid) -> Result<bool, StoreError> {
        let mut pooled = self.acquire().await?;
        let found: Option<i32> = on!(pooled.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT 1 FROM consent_events
                 WHERE account_id = $1 AND address >= 'sha256:' AND address < 'sha256;' LIMIT 1",
            )
            .bind(Id(account))
            .fetch_optional(&mut *c)
            .await?
        });
        Ok(found.is_some())
    }

    /// A contact's consent history: its own events and those of its contact points, oldest
    /// first.
    pub async fn consent_history<S: AsRef<str>>(
        &self,
        account: Uuid,
        contact: Uuid,
        addresses: &[S],
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<EventRow> = on!(pooled.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {EVENT_COLUMNS} WHERE e.account_id = $1 AND (e.contact_id = $2 OR e.address {})
                 ORDER BY e.created_at, e.id",
                db::in_list(3)
            )))
            .bind(Id(account))
            .bind(Id(contact))
            .bind(db::text_list(addresses))
            .fetch_all(&mut *c)
            .await?
        });
        events(rows)
    }

    /// The newest version of a property's consent text in a language.
    pub async fn consent_text(
        &self,
        property: Uuid,
        language: &str,
    ) -> Result<Option<ConsentText>, StoreError> {
        text_of(self.acquire().await?.conn(), property, language).await
    }

    /// Every version of a property's consent texts, newest first.
    pub async fn consent_texts(
        &self,
        account: Uuid,
        property: Uuid,
    ) -> Result<Vec<ConsentText>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<TextRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT id, property_id, language, version, body, created_at FROM consent_texts
                 WHERE account_id = $1 AND property_id = $2 ORDER BY language, version DESC",
            )
            .bind(Id(account))
            .bind(Id(property))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows.into_iter().map(ConsentText::from).collect())
    }

    /// The purposes and channels of a contact waiting for a double opt-in click.
    pub async fn open_confirmations(
        &self,
        contact: Uuid,
        now: Timestamp,
    ) -> Result<Vec<(Purpose, Channel)>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<(String, String)> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT DISTINCT purpose, channel FROM consent_confirmations
                 WHERE contact_id = $1 AND confirmed_at IS NULL AND expires_at > $2",
            )
            .bind(Id(contact))
            .bind(Ts(now))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(p, c)| Some((Purpose::parse(&p)?, Channel::parse(&c)?)))
            .collect())
    }

    /// A double opt-in by id.
    pub async fn confirmation(&self, id: Uuid) -> Result<Confirmation, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: Option<ConfirmationRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT id, account_id, contact_id, property_id, address, purpose, channel,
                   text_id, ip, user_agent, expires_at, confirmed_at, created_at
                 FROM consent_confirmations WHERE id = $1")
                .bind(Id(id))
                .fetch_optional(&mut *c)
                .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }
}

impl Tx {
    /// Appends a consent event.
    pub async fn insert_consent_event(
        &mut self,
        account: Uuid,
        event: &NewConsentEvent,
        now: Timestamp,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO consent_events (id, account_id, contact_id, property_id, address, purpose,
                   channel, granted, source, actor, text_id, ip, user_agent, evidence, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(Id(id))
            .bind(Id(account))
            .bind(opt_id(event.contact_id))
            .bind(opt_id(event.property_id))
            .bind(&event.address)
            .bind(event.purpose.as_str())
            .bind(event.channel.as_str())
            .bind(event.granted)
            .bind(event.source.as_str())
            .bind(event.actor.as_deref())
            .bind(opt_id(event.text_id))
            .bind(event.ip.as_deref())
            .bind(event.user_agent.as_deref())
            .bind(Json(&event.evidence))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(id)
    }

    /// Consent events of these contact points, oldest first, inside the transaction.
    pub async fn consent_events_at<S: AsRef<str>>(
        &mut self,
        account: Uuid,
        addresses: &[S],
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        events_at(self.conn(), account, addresses).await
    }

    /// The newest version of a property's consent text in a language.
    pub async fn consent_text(
        &mut self,
        property: Uuid,
        language: &str,
    ) -> Result<Option<ConsentText>, StoreError> {
        text_of(self.conn(), property, language).await
    }

    /// Writes a new version of a property's consent text in a language.
    pub async fn insert_consent_text(
        &mut self,
        account: Uuid,
        property: Uuid,
        language: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<ConsentText, StoreError> {
        let version = self
            .consent_text(property, language)
            .await?
            .map_or(1, |t| t.version + 1);
        let id = Uuid::now_v7();
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO consent_texts (id, account_id, property_id, language, version, body, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(Id(id))
            .bind(Id(account))
            .bind(Id(property))
            .bind(language)
            .bind(version)
            .bind(body)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(ConsentText {
            id,
            property_id: property,
            language: language.to_owned(),
            version,
            body: body.to_owned(),
            created_at: now,
        })
    }

    /// Records a double opt-in waiting for its click.
    pub async fn insert_confirmation(&mut self, c: &Confirmation) -> Result<(), StoreError> {
        on!(self.conn(), conn, _db => {
            sqlx::query(
                "INSERT INTO consent_confirmations (id, account_id, contact_id, property_id, address,
                   purpose, channel, text_id, ip, user_agent, expires_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(Id(c.id))
            .bind(Id(c.account_id))
            .bind(opt_id(c.contact_id))
            .bind(Id(c.property_id))
            .bind(&c.address)
            .bind(c.purpose.as_str())
            .bind(c.channel.as_str())
            .bind(opt_id(c.text_id))
            .bind(c.ip.as_deref())
            .bind(c.user_agent.as_deref())
            .bind(Ts(c.expires_at))
            .bind(Ts(c.created_at))
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Marks a double opt-in clicked, once: `false` when it was clicked before or has expired
    /// (the caller then records nothing).
    pub async fn confirm(
        &mut self,
        id: Uuid,
        event_id: Uuid,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE consent_confirmations SET confirmed_at = $2, event_id = $3
                 WHERE id = $1 AND confirmed_at IS NULL AND expires_at > $2",
            )
            .bind(Id(id))
            .bind(Ts(now))
            .bind(Id(event_id))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// The account's contacts with this number.
    pub async fn contacts_with_phone(
        &mut self,
        account: Uuid,
        e164: &str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<Id> = on!(self.conn(), c, _db => {
            sqlx::query_scalar("SELECT id FROM contacts WHERE account_id = $1 AND phone_e164 = $2 ORDER BY id")
                .bind(Id(account))
                .bind(e164)
                .fetch_all(&mut *c)
                .await?
        });
        Ok(ids.into_iter().map(|i| i.0).collect())
    }
}
