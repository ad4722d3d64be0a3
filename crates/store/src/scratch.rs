//! Throwaway databases for tests, so that one suite runs against both backends.
//!
//! Without `BELLHOP_TEST_DATABASE_URL` a scratch store is a SQLite file in the given folder;
//! with it (a `postgres://` URL), it is a new schema in that database, so that tests run in
//! parallel without seeing each other. The CI script creates the database and drops it after
//! the run, schemas and all.

use crate::{Store, StoreError, StoreOptions};
use sqlx::{Connection, Executor};
use std::path::Path;

/// The variable naming the PostgreSQL database that scratch stores are created in.
pub const DATABASE_URL_VAR: &str = "BELLHOP_TEST_DATABASE_URL";

/// The PostgreSQL database tests should use, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
}

/// A fresh, migrated store, and the URL that opens it again (for a second pool or process).
pub async fn open(dir: &Path, options: &StoreOptions) -> Result<(Store, String), StoreError> {
    let (store, url) = empty(dir, options).await?;
    store.migrate().await?;
    Ok((store, url))
}

/// A fresh store with no schema yet (see `migrate_to`).
pub async fn empty(dir: &Path, options: &StoreOptions) -> Result<(Store, String), StoreError> {
    let url = match postgres_url() {
        Some(base) => new_schema(&base).await?,
        None => dir.join("bellhop.db").display().to_string(),
    };
    let store = Store::open_url(&url, options).await?;
    Ok((store, url))
}

/// Creates an empty schema in the database `base` names; returns a URL that works in it.
pub async fn new_schema(base: &str) -> Result<String, StoreError> {
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(base).await?;
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await?;
    conn.close().await?;
    let joiner = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{joiner}options=-c%20search_path%3D{schema}"))
}

/// Where the dispatch queue and the messages disagree: a runnable or leased message (planned,
/// deferred, sending) without a queue row, or a queue row of a message in any other status.
/// Empty when every change kept the queue in step (tests assert it after their races).
pub async fn queue_mismatches(store: &Store) -> Result<Vec<String>, StoreError> {
    use crate::value::Id;
    let mut pooled = store.acquire().await?;
    let rows: Vec<(Id, String, Option<Id>)> = on!(pooled.conn(), c, _db => {
        sqlx::query_as(
            "SELECT m.id, m.status, q.message_id FROM messages m
               LEFT JOIN dispatch_queue q ON q.message_id = m.id
             WHERE (m.status IN ('planned', 'deferred', 'sending')) <> (q.message_id IS NOT NULL)",
        )
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, status, queued)| {
            let where_ = if queued.is_some() {
                "queued"
            } else {
                "not queued"
            };
            format!("{} is {status} but {where_}", id.0)
        })
        .collect())
}

/// Brings a fresh store only up to migration `version`, as an older release left it.
pub async fn migrate_to(store: &Store, version: i64) -> Result<(), StoreError> {
    match &store.pool {
        crate::Pool::Sqlite(p) => crate::backend::sqlite::migrator_to(version).run(p).await,
        crate::Pool::Postgres(p) => crate::backend::postgres::migrator_to(version).run(p).await,
    }
    .map_err(|e| StoreError::Migration(e.to_string()))
}

/// Runs SQL as it is (upgrade tests write rows the way an older release did).
pub async fn execute(store: &Store, sql: &str) -> Result<(), StoreError> {
    let mut pooled = store.acquire().await?;
    on!(pooled.conn(), c, _db => {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut *c).await?;
    });
    Ok(())
}

/// Every row of every table as text, prefixed with its table (erasure tests search it for
/// what must be gone). Blobs show as hex.
pub async fn every_row_as_text(store: &Store) -> Result<Vec<String>, StoreError> {
    let mut pooled = store.acquire().await?;
    let mut out = Vec::new();
    match pooled.conn() {
        crate::Conn::Sqlite(c) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut *c)
            .await?;
            for table in tables {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                        .bind(&table)
                        .fetch_all(&mut *c)
                        .await?;
                let row = columns
                    .iter()
                    .map(|col| format!("quote(\"{col}\")"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT {row} FROM \"{table}\""
                )))
                .fetch_all(&mut *c)
                .await?;
                out.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
            }
        }
        crate::Conn::Postgres(c) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut *c)
            .await?;
            for table in tables {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM \"{table}\" t"
                )))
                .fetch_all(&mut *c)
                .await?;
                out.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
            }
        }
    }
    Ok(out)
}
