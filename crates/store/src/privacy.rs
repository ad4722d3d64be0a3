//! What is kept about a person beyond the contact row — inbound SMS from their number, their
//! one-time codes — and erasing a contact from every table.

use crate::value::{Id, Ts};
use crate::{Store, StoreError, Tx};
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// An inbound SMS, as exported.
#[derive(Clone, Debug, Serialize)]
pub struct InboundSmsRow {
    /// Id.
    pub id: Uuid,
    /// The gateway.
    pub gateway: String,
    /// The number it came from.
    pub sender: String,
    /// Our number.
    pub recipient: String,
    /// The text.
    pub text: String,
    /// `opt_out` or `opt_in`, when it was a keyword.
    pub keyword: Option<String>,
    /// When it arrived.
    pub received_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct InboundDb {
    id: Id,
    gateway: String,
    sender: String,
    recipient: String,
    text: String,
    keyword: Option<String>,
    received_at: Ts,
}

/// A one-time code, as exported (the code itself is never kept).
#[derive(Clone, Debug, Serialize)]
pub struct TanRow {
    /// The message that carried it.
    pub id: Uuid,
    /// What it was for.
    pub purpose: Option<String>,
    /// Wrong tries.
    pub attempts: i64,
    /// Until when it held.
    pub expires_at: Timestamp,
    /// When it was verified.
    pub verified_at: Option<Timestamp>,
    /// When it was made.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct TanDb {
    id: Id,
    purpose: Option<String>,
    attempts: i64,
    expires_at: Ts,
    verified_at: Option<Ts>,
    created_at: Ts,
}

/// What an erasure asks the store to do.
#[derive(Clone, Debug)]
pub struct Erasure {
    /// The account.
    pub account: Uuid,
    /// The contact.
    pub contact: Uuid,
    /// Texts to blank wherever they appear in the contact's messages, their history, its
    /// bookings' change history and notices: names, addresses, numbers.
    pub personal: Vec<String>,
    /// The contact's points (as consent events key them) with the digest each keeps.
    pub points: Vec<(String, String)>,
    /// The contact's number, for inbound SMS.
    pub number: Option<(String, String)>,
}

/// What an erasure changed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Erased {
    /// Kept message bodies deleted.
    pub bodies: u64,
    /// Planned messages cancelled.
    pub cancelled: u64,
    /// Consent events removed (grants) or reduced to a digest (withdrawals).
    pub consent_events: u64,
    /// Inbound SMS blanked.
    pub inbound_sms: u64,
}

const BLANK: &str = "[erased]";

impl Store {
    /// Inbound SMS from a number in the account, oldest first.
    pub async fn inbound_sms_from(
        &self,
        account: Uuid,
        number: &str,
    ) -> Result<Vec<InboundSmsRow>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<InboundDb> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT id, gateway, sender, recipient, text, keyword, received_at FROM inbound_sms
                 WHERE account_id = $1 AND sender = $2 ORDER BY received_at, id",
            )
            .bind(Id(account))
            .bind(number)
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| InboundSmsRow {
                id: r.id.0,
                gateway: r.gateway,
                sender: r.sender,
                recipient: r.recipient,
                text: r.text,
                keyword: r.keyword,
                received_at: r.received_at.0,
            })
            .collect())
    }

    /// A contact's one-time codes (without codes), oldest first.
    pub async fn tans_of(&self, account: Uuid, contact: Uuid) -> Result<Vec<TanRow>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<TanDb> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT id, purpose, attempts, expires_at, verified_at, created_at FROM tans
                 WHERE account_id = $1 AND contact_id = $2 ORDER BY created_at, id",
            )
            .bind(Id(account))
            .bind(Id(contact))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| TanRow {
                id: r.id.0,
                purpose: r.purpose,
                attempts: r.attempts,
                expires_at: r.expires_at.0,
                verified_at: r.verified_at.map(|t| t.0),
                created_at: r.created_at.0,
            })
            .collect())
    }

    /// The ids of a contact's bookings.
    pub async fn booking_ids_of(
        &self,
        account: Uuid,
        contact: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut pooled = self.acquire().await?;
        let ids: Vec<Id> = on!(pooled.conn(), c, _db => {
            sqlx::query_scalar("SELECT id FROM bookings WHERE account_id = $1 AND contact_id = $2 ORDER BY id")
                .bind(Id(account))
                .bind(Id(contact))
                .fetch_all(&mut *c)
                .await?
        });
        Ok(ids.into_iter().map(|i| i.0).collect())
    }
}

impl Tx {
    /// Erases a contact: its row keeps only its id (the bookings and messages that name it
    /// stay, without personal data); kept bodies are deleted; names, addresses and numbers are
    /// blanked in its messages, their history, its bookings' notes and change history, the
    /// notices about its messages and the API answers saved for retries; planned messages are
    /// cancelled; one-time codes and pending confirmations are deleted; consent grants are
    /// deleted and withdrawals kept under a digest of the address only.
    pub async fn erase_contact(
        &mut self,
        e: &Erasure,
        now: Timestamp,
    ) -> Result<Erased, StoreError> {
        let mut done = Erased::default();
        let (account, contact) = (Id(e.account), Id(e.contact));
        let of_contact = "SELECT id FROM messages WHERE account_id = $1 AND contact_id = $2";
        done.bodies = on!(self.conn(), c, _db => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM message_bodies WHERE message_id IN ({of_contact})"
            )))
            .bind(account)
            .bind(contact)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        done.cancelled = on!(self.conn(), c, _db => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM dispatch_queue WHERE message_id IN ({of_contact})"
            )))
            .bind(account)
            .bind(contact)
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "UPDATE messages SET status = 'cancelled', status_reason = 'the contact was erased',
                   status_code = 'contact_erased', updated_at = $3
                 WHERE account_id = $1 AND contact_id = $2 AND status IN ('planned', 'deferred')",
            )
            .bind(account)
            .bind(contact)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE messages SET recipient = NULL, sms_text = NULL
                 WHERE account_id = $1 AND contact_id = $2",
            )
            .bind(account)
            .bind(contact)
            .execute(&mut *c)
            .await?;
            sqlx::query("UPDATE bookings SET notes = NULL WHERE account_id = $1 AND contact_id = $2")
                .bind(account)
                .bind(contact)
                .execute(&mut *c)
                .await?;
        });
        for text in e.personal.iter().filter(|t| t.chars().count() >= 2) {
            on!(self.conn(), c, db => {
                sqlx::query(
                    "UPDATE messages SET subject = REPLACE(subject, $3, $4),
                       status_reason = REPLACE(status_reason, $3, $4)
                     WHERE account_id = $1 AND contact_id = $2",
                )
                .bind(account)
                .bind(contact)
                .bind(text)
                .bind(BLANK)
                .execute(&mut *c)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE message_events SET detail = REPLACE(detail, $3, $4)
                     WHERE message_id IN ({of_contact})"
                )))
                .bind(account)
                .bind(contact)
                .bind(text)
                .bind(BLANK)
                .execute(&mut *c)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE booking_changes SET changes = {}
                     WHERE booking_id IN (SELECT id FROM bookings WHERE account_id = $1 AND contact_id = $2)",
                    db::json_replace("changes", 3, 4)
                )))
                .bind(account)
                .bind(contact)
                .bind(json_text(text))
                .bind(BLANK)
                .execute(&mut *c)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE notifications SET text = REPLACE(text, $3, $4), facts = {}
                     WHERE account_id = $1 AND message_id IN ({of_contact})",
                    db::json_replace("facts", 5, 4)
                )))
                .bind(account)
                .bind(contact)
                .bind(text)
                .bind(BLANK)
                .bind(json_text(text))
                .execute(&mut *c)
                .await?;
            });
        }
        // Inbound mail keeps its decision and case number; who wrote and what goes.
        for text in e.personal.iter().filter(|t| t.chars().count() >= 2) {
            on!(self.conn(), c, _db => {
                sqlx::query(
                    "UPDATE inbound_mails SET reason = REPLACE(reason, $3, $4)
                     WHERE account_id = $1 AND contact_id = $2",
                )
                .bind(account)
                .bind(contact)
                .bind(text)
                .bind(BLANK)
                .execute(&mut *c)
                .await?;
                sqlx::query(
                    "DELETE FROM mailbox_replies WHERE sender = lower($2)
                       AND mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = $1)",
                )
                .bind(account)
                .bind(text)
                .execute(&mut *c)
                .await?;
            });
        }
        on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE inbound_mails SET envelope_from = NULL, from_address = NULL, from_name = NULL,
                   subject = NULL, message_id = NULL, raw = NULL
                 WHERE account_id = $1 AND contact_id = $2",
            )
            .bind(account)
            .bind(contact)
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "UPDATE sequence_enrolments SET status = 'stopped', ended_at = $3,
                   end_reason = 'the contact was erased'
                 WHERE account_id = $1 AND contact_id = $2 AND status = 'active'",
            )
            .bind(account)
            .bind(contact)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        // A saved API answer that shows the contact is reduced to saying so: a retry of that
        // request replays it and does not bring the data back.
        on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE idempotency_keys SET response = $3
                 WHERE account_id = $1 AND response LIKE '%' || $2 || '%'",
            )
            .bind(account)
            .bind(e.contact.to_string())
            .bind(serde_json::json!({ "id": e.contact, "erased": true }).to_string())
            .execute(&mut *c)
            .await?;
        });
        on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE contacts SET first_name = NULL, last_name = NULL, email = NULL, phone = NULL,
                   phone_e164 = NULL, phone_type = NULL, language = NULL, address = NULL, postal_code = NULL,
                   city = NULL, country = NULL, nationality = NULL, birth_date = NULL, erased_at = $3,
                   updated_at = $3
                 WHERE account_id = $1 AND id = $2",
            )
            .bind(account)
            .bind(contact)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
            sqlx::query("DELETE FROM tans WHERE account_id = $1 AND contact_id = $2")
                .bind(account)
                .bind(contact)
                .execute(&mut *c)
                .await?;
            sqlx::query("DELETE FROM consent_confirmations WHERE account_id = $1 AND contact_id = $2")
                .bind(account)
                .bind(contact)
                .execute(&mut *c)
                .await?;
        });
        // Consent: a grant ends with the erasure; a withdrawal is kept, under a digest only.
        for (point, digest) in &e.points {
            done.consent_events += on!(self.conn(), c, _db => {
                let deleted = sqlx::query(
                    "DELETE FROM consent_events WHERE account_id = $1 AND granted = $4
                       AND (contact_id = $2 OR address = $3)",
                )
                .bind(account)
                .bind(contact)
                .bind(point)
                .bind(true)
                .execute(&mut *c)
                .await?
                .rows_affected();
                let kept = sqlx::query(
                    "UPDATE consent_events SET address = $4, contact_id = NULL, actor = NULL, ip = NULL,
                       user_agent = NULL, evidence = '{}'
                     WHERE account_id = $1 AND (contact_id = $2 OR address = $3)",
                )
                .bind(account)
                .bind(contact)
                .bind(point)
                .bind(digest)
                .execute(&mut *c)
                .await?
                .rows_affected();
                deleted + kept
            });
        }
        done.consent_events += on!(self.conn(), c, _db => {
            // Events of points the contact no longer has: still its own.
            sqlx::query(
                "DELETE FROM consent_events WHERE account_id = $1 AND contact_id = $2",
            )
            .bind(account)
            .bind(contact)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if let Some((number, digest)) = &e.number {
            done.inbound_sms = on!(self.conn(), c, _db => {
                sqlx::query(
                    "UPDATE inbound_sms SET sender = $3, text = $4, raw = '{}'
                     WHERE account_id = $1 AND sender = $2",
                )
                .bind(account)
                .bind(number)
                .bind(digest)
                .bind(BLANK)
                .execute(&mut *c)
                .await?
                .rows_affected()
            });
        }
        Ok(done)
    }
}

/// A text as it appears inside a JSON string (quotes and backslashes escaped).
fn json_text(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_owned()
}
