//! Accounts (tenants), their API keys, and staff notifications.

use crate::codec::{RowExt, ms};
use crate::{Store, StoreError, Tx};
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// An API key as stored: never the secret itself.
#[derive(Clone, Debug)]
pub struct ApiKeyRecord {
    /// Key id.
    pub id: Uuid,
    /// The account it acts for.
    pub account_id: Uuid,
    /// Hex SHA-256 of the secret part.
    pub secret_hash: String,
    /// Revoked keys are refused.
    pub revoked: bool,
}

/// Something staff must see: a failed message, a limit reached.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationRecord {
    /// Id.
    pub id: Uuid,
    /// Property, if any.
    pub property_id: Option<Uuid>,
    /// Message, if any.
    pub message_id: Option<Uuid>,
    /// `message_failed`, ...
    pub kind: String,
    /// Text for people.
    pub text: String,
    /// When it happened.
    pub created_at: Timestamp,
    /// When staff marked it read.
    pub read_at: Option<Timestamp>,
}

impl Tx {
    /// Creates an account.
    pub async fn insert_account(
        &mut self,
        id: Uuid,
        name: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        crate::sql::query(
            "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(name)
        .bind(ms(now))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Stores a new API key (its secret's hash).
    pub async fn insert_api_key(
        &mut self,
        account_id: Uuid,
        name: &str,
        prefix: &str,
        secret_hash: &str,
        now: Timestamp,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        crate::sql::query(
            "INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(account_id.to_string())
        .bind(name)
        .bind(prefix)
        .bind(secret_hash)
        .bind(ms(now))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        Ok(id)
    }
}

pub(crate) async fn insert_notification(
    conn: &mut sqlx::AnyConnection,
    account_id: Uuid,
    property_id: Option<Uuid>,
    message_id: Option<Uuid>,
    kind: &str,
    text: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    crate::sql::query(
        "INSERT INTO notifications (id, account_id, property_id, message_id, kind, text, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(account_id.to_string())
    .bind(property_id.map(|p| p.to_string()))
    .bind(message_id.map(|m| m.to_string()))
    .bind(kind)
    .bind(text)
    .bind(ms(now))
    .bind(ms(now))
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Finds an API key by its public prefix.
    pub async fn api_key_by_prefix(&self, prefix: &str) -> Result<ApiKeyRecord, StoreError> {
        let row = crate::sql::query(
            "SELECT id, account_id, secret_hash, revoked_at FROM api_keys WHERE prefix = ?",
        )
        .bind(prefix)
        .fetch_one(&self.pool)
        .await?;
        Ok(ApiKeyRecord {
            id: row.uuid("id")?,
            account_id: row.uuid("account_id")?,
            secret_hash: row.text("secret_hash")?,
            revoked: row.opt_int("revoked_at")?.is_some(),
        })
    }

    /// The account's newest notifications.
    pub async fn notifications(
        &self,
        account_id: Uuid,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let rows = crate::sql::query(
            "SELECT id, property_id, message_id, kind, text, created_at, read_at FROM notifications
             WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        )
        .bind(account_id.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NotificationRecord {
                    id: r.uuid("id")?,
                    property_id: r.opt_uuid("property_id")?,
                    message_id: r.opt_uuid("message_id")?,
                    kind: r.text("kind")?,
                    text: r.text("text")?,
                    created_at: r.ts("created_at")?,
                    read_at: r.opt_ts("read_at")?,
                })
            })
            .collect()
    }
}
