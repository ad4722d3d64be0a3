//! Idempotency keys for creating POSTs: the first request with a key does the work and saves
//! its response in the same transaction; a repeat gets the saved response; the same key with
//! a different body is refused.

use crate::codec::{RowExt, ms};
use crate::{StoreError, Tx};
use jiff::Timestamp;
use uuid::Uuid;

/// A saved response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum IdempotencyStart {
    /// First time: do the work in this transaction, then `save_idempotent_response`.
    Fresh,
    /// Seen before with the same body: replay.
    Replay(SavedResponse),
    /// Seen before with a different body.
    Mismatch,
}

impl Tx {
    /// Reserves `key` for `account` inside this transaction.
    pub async fn begin_idempotent(
        &mut self,
        account: Uuid,
        key: &str,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<IdempotencyStart, StoreError> {
        let inserted = crate::sql::query(
            "INSERT INTO idempotency_keys (account_id, key, request_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (account_id, key) DO NOTHING",
        )
        .bind(account.to_string())
        .bind(key)
        .bind(request_hash)
        .bind(ms(now))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(IdempotencyStart::Fresh);
        }
        let row = crate::sql::query("SELECT request_hash, status_code, response FROM idempotency_keys WHERE account_id = ? AND key = ?")
            .bind(account.to_string())
            .bind(key)
            .fetch_one(self.conn())
            .await?;
        if row.text("request_hash")? != request_hash {
            return Ok(IdempotencyStart::Mismatch);
        }
        match (row.opt_int("status_code")?, row.opt_text("response")?) {
            (Some(status), Some(body)) => Ok(IdempotencyStart::Replay(SavedResponse {
                status: u16::try_from(status).unwrap_or(200),
                body,
            })),
            // Only reachable across backends with weaker isolation; SQLite serialises writers.
            _ => Ok(IdempotencyStart::Mismatch),
        }
    }

    /// Saves the response of a fresh request.
    pub async fn save_idempotent_response(
        &mut self,
        account: Uuid,
        key: &str,
        response: &SavedResponse,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        crate::sql::query("UPDATE idempotency_keys SET status_code = ?, response = ?, updated_at = ? WHERE account_id = ? AND key = ?")
            .bind(i64::from(response.status))
            .bind(&response.body)
            .bind(ms(now))
            .bind(account.to_string())
            .bind(key)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
