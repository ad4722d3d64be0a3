//! One-time codes: only their keyed hash is stored, with the guesses against it.

use crate::value::{Id, Ts};
use crate::{Store, StoreError, Tx};
use jiff::Timestamp;
use uuid::Uuid;

/// A one-time code as stored: only its keyed hash.
#[derive(Clone, Debug)]
pub struct TanRecord {
    /// Id (also the message id).
    pub id: Uuid,
    /// Contact.
    pub contact_id: Uuid,
    /// Hex HMAC of the code.
    pub code_hash: String,
    /// Wrong guesses so far.
    pub attempts: i64,
    /// After this the code is void.
    pub expires_at: Timestamp,
    /// When it was confirmed.
    pub verified_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct TanRow {
    id: Id,
    contact_id: Id,
    code_hash: String,
    attempts: i64,
    expires_at: Ts,
    verified_at: Option<Ts>,
}

impl Store {
    /// A one-time code of the account.
    pub async fn tan(&self, account: Uuid, id: Uuid) -> Result<TanRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: TanRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM tans WHERE id = $1 AND account_id = $2")
                .bind(Id(id))
                .bind(Id(account))
                .fetch_one(&mut *c)
                .await?
        });
        Ok(TanRecord {
            id: row.id.0,
            contact_id: row.contact_id.0,
            code_hash: row.code_hash,
            attempts: row.attempts,
            expires_at: row.expires_at.0,
            verified_at: row.verified_at.map(|t| t.0),
        })
    }
}

impl Tx {
    /// Stores a one-time code's hash (its message is stored with `insert_ad_hoc_messages`).
    pub async fn insert_tan(
        &mut self,
        account: Uuid,
        t: &TanRecord,
        purpose: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO tans (id, account_id, contact_id, code_hash, purpose, attempts, expires_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $7)",
            )
            .bind(Id(t.id))
            .bind(Id(account))
            .bind(Id(t.contact_id))
            .bind(t.code_hash.as_str())
            .bind(purpose)
            .bind(Ts(t.expires_at))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Records a guess at a one-time code: a wrong one counts, a right one confirms it. Only
    /// an unconfirmed code under `max_attempts` changes.
    pub async fn record_tan_guess(
        &mut self,
        id: Uuid,
        right: bool,
        max_attempts: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let sql = if right {
            "UPDATE tans SET verified_at = $1, updated_at = $1 WHERE id = $2 AND verified_at IS NULL AND attempts < $3"
        } else {
            "UPDATE tans SET attempts = attempts + 1, updated_at = $1 WHERE id = $2 AND verified_at IS NULL AND attempts < $3"
        };
        let done = on!(self.conn(), c, _db => {
            sqlx::query(sql)
                .bind(Ts(now))
                .bind(Id(id))
                .bind(max_attempts)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }
}
