//! The dispatch queue (migration 0004): which messages a dispatcher may take, from when, and
//! which are leased. Every change that makes a message runnable, moves it, or ends it keeps
//! its queue row in step, in the same transaction.

use crate::value::{Id, Ts};
use crate::{Conn, StoreError};
use jiff::Timestamp;
use uuid::Uuid;

/// A message that may be taken from `run_at` on.
pub(crate) struct Runnable {
    pub message_id: Uuid,
    pub run_at: Timestamp,
    pub priority: i64,
}

/// Adds new messages to the queue (their rows cannot exist yet).
pub(crate) async fn enqueue(conn: Conn<'_>, rows: &[Runnable]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        Conn::Sqlite(c) => {
            for chunk in rows.chunks(800) {
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO dispatch_queue (message_id, run_at, priority) ",
                );
                q.push_values(chunk, |mut row, r| {
                    row.push_bind(Id(r.message_id))
                        .push_bind(Ts(r.run_at))
                        .push_bind(r.priority);
                });
                q.build().execute(&mut *c).await?;
            }
        }
        Conn::Postgres(c) => {
            sqlx::query(
                "INSERT INTO dispatch_queue (message_id, run_at, priority)
                 SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::bigint[])",
            )
            .bind(rows.iter().map(|r| Id(r.message_id)).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| Ts(r.run_at)).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.priority).collect::<Vec<_>>())
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

/// Makes one queued message wait again from `run_at` (keeping its priority), lease cleared.
pub(crate) async fn requeue(conn: Conn<'_>, id: Uuid, run_at: Timestamp) -> Result<(), StoreError> {
    on!(conn, c, _db => {
        sqlx::query(
            "INSERT INTO dispatch_queue (message_id, run_at) VALUES ($1, $2)
             ON CONFLICT (message_id) DO UPDATE SET run_at = excluded.run_at, lease_until = NULL",
        )
        .bind(Id(id))
        .bind(Ts(run_at))
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// Locks a message's queue row before the message itself is changed. Every writer that
/// touches both takes them in this order — queue row, then message — as a claim does; a
/// change in the other order deadlocks with a claim of the same message (PostgreSQL; SQLite
/// has one writer at a time).
pub(crate) async fn lock(conn: Conn<'_>, id: Uuid) -> Result<(), StoreError> {
    if let Conn::Postgres(c) = conn {
        sqlx::query("SELECT 1 FROM dispatch_queue WHERE message_id = $1 FOR UPDATE")
            .bind(Id(id))
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Takes a message off the queue: it reached a final status, or will not run as planned.
pub(crate) async fn dequeue(conn: Conn<'_>, id: Uuid) -> Result<(), StoreError> {
    on!(conn, c, _db => {
        sqlx::query("DELETE FROM dispatch_queue WHERE message_id = $1")
            .bind(Id(id))
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}
