//! SMS opt-out and opt-in events, and who has opted out.

use crate::value::{Id, Ts, opt_id};
use crate::{Store, StoreError, Tx};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashSet;
use uuid::Uuid;

/// An SMS opt-out or opt-in.
#[derive(Clone, Debug, Serialize)]
pub struct ConsentEvent {
    /// Id.
    pub id: Uuid,
    /// The number.
    pub phone_e164: String,
    /// The contact, where known.
    pub contact_id: Option<Uuid>,
    /// `opt_out` or `opt_in`.
    pub action: String,
    /// `sms_keyword`, `staff`, `api`.
    pub source: String,
    /// The keyword, for keyword events.
    pub keyword: Option<String>,
    /// The inbound SMS that asked for it.
    pub inbound_id: Option<Uuid>,
    /// Who, for staff and API events.
    pub actor: Option<String>,
    /// When.
    pub at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: Id,
    phone_e164: String,
    contact_id: Option<Id>,
    action: String,
    source: String,
    keyword: Option<String>,
    inbound_id: Option<Id>,
    actor: Option<String>,
    created_at: Ts,
}

impl Store {
    /// Of `numbers`, those whose latest SMS consent event in the account is an opt-out.
    pub async fn opted_out_numbers<S: AsRef<str>>(
        &self,
        account: Uuid,
        numbers: &[S],
    ) -> Result<HashSet<String>, StoreError> {
        let mut out = HashSet::new();
        let mut pooled = self.acquire().await?;
        let rows: Vec<(String, String)> = on!(pooled.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT phone_e164, action FROM sms_consent_events
                 WHERE account_id = $1 AND phone_e164 {} ORDER BY created_at, id",
                db::in_list(2)
            )))
            .bind(Id(account))
            .bind(db::text_list(numbers))
            .fetch_all(&mut *c)
            .await?
        });
        for (number, action) in rows {
            if action == "opt_out" {
                out.insert(number);
            } else {
                out.remove(&number);
            }
        }
        Ok(out)
    }

    /// SMS consent events of a number or a contact, oldest first.
    pub async fn sms_consent_events(
        &self,
        account: Uuid,
        contact: Uuid,
        phone: Option<&str>,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<ConsentRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT * FROM sms_consent_events WHERE account_id = $1 AND (contact_id = $2 OR phone_e164 = $3)
                 ORDER BY created_at, id",
            )
            .bind(Id(account))
            .bind(Id(contact))
            .bind(phone.unwrap_or(""))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| ConsentEvent {
                id: r.id.0,
                phone_e164: r.phone_e164,
                contact_id: r.contact_id.map(|c| c.0),
                action: r.action,
                source: r.source,
                keyword: r.keyword,
                inbound_id: r.inbound_id.map(|i| i.0),
                actor: r.actor,
                at: r.created_at.0,
            })
            .collect())
    }
}

impl Tx {
    /// Appends an SMS opt-out or opt-in.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_sms_consent_event(
        &mut self,
        account: Uuid,
        phone_e164: &str,
        contact_id: Option<Uuid>,
        action: &str,
        source: &str,
        keyword: Option<&str>,
        inbound_id: Option<Uuid>,
        actor: Option<&str>,
        now: Timestamp,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO sms_consent_events (id, account_id, phone_e164, contact_id, action, source, keyword,
                   inbound_id, actor, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(Id(id))
            .bind(Id(account))
            .bind(phone_e164)
            .bind(opt_id(contact_id))
            .bind(action)
            .bind(source)
            .bind(keyword)
            .bind(opt_id(inbound_id))
            .bind(actor)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(id)
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
