//! Idempotency keys for creating POSTs: the first request with a key does the work and saves
//! its response in the same transaction; a repeat gets the saved response; the same key with
//! a different body is refused.

use crate::value::{Id, Ts};
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

#[derive(sqlx::FromRow)]
struct KeyRow {
    request_hash: String,
    status_code: Option<i64>,
    response: Option<String>,
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
        let row: Option<KeyRow> = on!(self.conn(), c, _db => {
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (account_id, key, request_hash, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (account_id, key) DO NOTHING",
            )
            .bind(Id(account))
            .bind(key)
            .bind(request_hash)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?
            .rows_affected();
            if inserted == 1 {
                None
            } else {
                Some(
                    sqlx::query_as(
                        "SELECT request_hash, status_code, response FROM idempotency_keys
                         WHERE account_id = $1 AND key = $2",
                    )
                    .bind(Id(account))
                    .bind(key)
                    .fetch_one(&mut *c)
                    .await?,
                )
            }
        });
        let Some(row) = row else {
            return Ok(IdempotencyStart::Fresh);
        };
        if row.request_hash != request_hash {
            return Ok(IdempotencyStart::Mismatch);
        }
        match (row.status_code, row.response) {
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
        on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE idempotency_keys SET status_code = $1, response = $2, updated_at = $3
                 WHERE account_id = $4 AND key = $5",
            )
            .bind(i64::from(response.status))
            .bind(response.body.as_str())
            .bind(Ts(now))
            .bind(Id(account))
            .bind(key)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }
}
