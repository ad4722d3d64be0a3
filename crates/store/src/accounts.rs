//! Accounts (tenants), their API keys, and staff notifications.

use crate::value::{Id, Ts, opt_id};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::notice::Notice;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::types::Json;
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
    /// The text of a notice stored before notices kept their facts (empty since).
    pub text: String,
    /// What happened, for `bellhop_domain::notice::Notice::read`.
    pub facts: Option<serde_json::Value>,
    /// When it happened.
    pub created_at: Timestamp,
    /// When staff marked it read.
    pub read_at: Option<Timestamp>,
}

impl NotificationRecord {
    /// What happened, read from the stored facts (`None` for rows stored as text only).
    pub fn notice(&self) -> Option<Notice> {
        Notice::read(&self.kind, self.facts.as_ref()?)
    }

    /// The text staff read: the notice's, or the stored text of an older row.
    pub fn rendered_text(&self) -> String {
        self.notice()
            .map_or_else(|| self.text.clone(), |n| n.text(self.message_id))
    }
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Id,
    account_id: Id,
    secret_hash: String,
    revoked_at: Option<Ts>,
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: Id,
    property_id: Option<Id>,
    message_id: Option<Id>,
    kind: String,
    text: String,
    facts: Option<Json<serde_json::Value>>,
    created_at: Ts,
    read_at: Option<Ts>,
}

impl Tx {
    /// Creates an account.
    pub async fn insert_account(
        &mut self,
        id: Uuid,
        name: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query("INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)")
                .bind(Id(id))
                .bind(name)
                .bind(Ts(now))
                .execute(&mut *c)
                .await?;
        });
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
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(Id(id))
            .bind(Id(account_id))
            .bind(name)
            .bind(prefix)
            .bind(secret_hash)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(id)
    }
}

/// Something for staff to see, in the transaction of what caused it.
pub(crate) async fn insert_notification(
    conn: Conn<'_>,
    account_id: Uuid,
    property_id: Option<Uuid>,
    message_id: Option<Uuid>,
    notice: &Notice,
    now: Timestamp,
) -> Result<(), StoreError> {
    on!(conn, c, _db => {
        sqlx::query(
            "INSERT INTO notifications (id, account_id, property_id, message_id, kind, text, facts, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, '', $6, $7, $7)",
        )
        .bind(Id(Uuid::now_v7()))
        .bind(Id(account_id))
        .bind(opt_id(property_id))
        .bind(opt_id(message_id))
        .bind(notice.kind())
        .bind(Json(notice.facts()))
        .bind(Ts(now))
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

impl Store {
    /// Every account: (id, name), oldest first (for the command line).
    pub async fn accounts(&self) -> Result<Vec<(Uuid, String)>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<(Id, String)> = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT id, name FROM accounts ORDER BY created_at, id")
                .fetch_all(&mut *c)
                .await?
        });
        Ok(rows.into_iter().map(|(id, name)| (id.0, name)).collect())
    }

    /// Finds an API key by its public prefix.
    pub async fn api_key_by_prefix(&self, prefix: &str) -> Result<ApiKeyRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: ApiKeyRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT id, account_id, secret_hash, revoked_at FROM api_keys WHERE prefix = $1")
                .bind(prefix)
                .fetch_one(&mut *c)
                .await?
        });
        Ok(ApiKeyRecord {
            id: row.id.0,
            account_id: row.account_id.0,
            secret_hash: row.secret_hash,
            revoked: row.revoked_at.is_some(),
        })
    }

    /// The account's newest notifications.
    pub async fn notifications(
        &self,
        account_id: Uuid,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<NotificationRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT id, property_id, message_id, kind, text, facts, created_at, read_at FROM notifications
                 WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(Id(account_id))
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| NotificationRecord {
                id: r.id.0,
                property_id: r.property_id.map(|p| p.0),
                message_id: r.message_id.map(|m| m.0),
                kind: r.kind,
                text: r.text,
                facts: r.facts.map(|f| f.0),
                created_at: r.created_at.0,
                read_at: r.read_at.map(|t| t.0),
            })
            .collect())
    }
}
