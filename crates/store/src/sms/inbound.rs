//! Inbound SMS as received, and which accounts a recipient number belongs to.

use crate::value::{Id, Ts, opt_id};
use crate::{Store, StoreError, Tx};
use jiff::Timestamp;
use sqlx::types::Json;
use uuid::Uuid;

/// An inbound SMS as received.
#[derive(Clone, Debug)]
pub struct InboundRecord {
    /// Id.
    pub id: Uuid,
    /// The account it was matched to.
    pub account_id: Option<Uuid>,
    /// `kannel`, `twilio`, ...
    pub gateway: String,
    /// The sender (E.164 when it parsed).
    pub sender: String,
    /// Our number or short code.
    pub recipient: String,
    /// The text.
    pub text: String,
    /// `opt_out` / `opt_in`.
    pub keyword: Option<String>,
    /// The callback's parameters (JSON), as evidence.
    pub raw: String,
    /// When it arrived.
    pub received_at: Timestamp,
}

impl Store {
    /// Accounts an inbound SMS from `sender` to `recipient` belongs to: those of the
    /// properties whose SMS sender is `recipient`, else the account that last sent an SMS to
    /// `sender` (a shared short code).
    pub async fn accounts_for_inbound(
        &self,
        sender: &str,
        recipient: &str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut accounts: Vec<Uuid> = self
            .properties_by_sms_sender(recipient)
            .await?
            .into_iter()
            .map(|p| p.account_id)
            .collect();
        accounts.sort();
        accounts.dedup();
        if accounts.is_empty() {
            let mut pooled = self.acquire().await?;
            let last: Option<Id> = on!(pooled.conn(), c, _db => {
                sqlx::query_scalar(
                    "SELECT account_id FROM messages WHERE recipient = $1 AND channel = 'sms' AND sent_at IS NOT NULL
                     ORDER BY sent_at DESC LIMIT 1",
                )
                .bind(sender)
                .fetch_optional(&mut *c)
                .await?
            });
            accounts.extend(last.map(|a| a.0));
        }
        Ok(accounts)
    }
}

impl Tx {
    /// Stores an inbound SMS.
    pub async fn insert_inbound_sms(
        &mut self,
        r: &InboundRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let raw: serde_json::Value = serde_json::from_str(&r.raw)
            .unwrap_or_else(|_| serde_json::Value::String(r.raw.clone()));
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO inbound_sms (id, account_id, gateway, sender, recipient, text, keyword, raw, received_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(Id(r.id))
            .bind(opt_id(r.account_id))
            .bind(r.gateway.as_str())
            .bind(r.sender.as_str())
            .bind(r.recipient.as_str())
            .bind(r.text.as_str())
            .bind(r.keyword.as_deref())
            .bind(Json(&raw))
            .bind(Ts(r.received_at))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }
}
