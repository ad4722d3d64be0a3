//! SQLite: one file, one writer at a time, WAL.

use crate::{Durability, StoreError, StoreOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlitePool, Transaction};
use std::path::Path;

/// The sqlx database type.
pub(crate) type Db = sqlx::Sqlite;

/// SQLite has one writer at a time: a claim needs no lock clause.
pub(crate) const SKIP_LOCKED: &str = "";
/// A row read to be changed: `BEGIN IMMEDIATE` already made writers take turns.
pub(crate) const FOR_UPDATE: &str = "";

/// Embedded migrations: (version, description, SQL). Never edit one that has shipped; add the
/// next number to both backends.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "sms",
        include_str!("../../migrations/sqlite/0002_sms.sql"),
    ),
    (
        3,
        "native types",
        include_str!("../../migrations/sqlite/0003_native_types.sql"),
    ),
    (
        4,
        "dispatch queue",
        include_str!("../../migrations/sqlite/0004_dispatch_queue.sql"),
    ),
    (
        5,
        "booking references",
        include_str!("../../migrations/sqlite/0005_booking_references.sql"),
    ),
    (
        6,
        "reason codes, notice facts, brand",
        include_str!("../../migrations/sqlite/0006_codes_facts_brand.sql"),
    ),
    (
        7,
        "consent",
        include_str!("../../migrations/sqlite/0007_consent.sql"),
    ),
    (
        8,
        "channels",
        include_str!("../../migrations/sqlite/0008_channels.sql"),
    ),
    (
        9,
        "mailboxes",
        include_str!("../../migrations/sqlite/0009_mailboxes.sql"),
    ),
    (
        10,
        "staff users and sessions",
        include_str!("../../migrations/sqlite/0010_staff.sql"),
    ),
];

pub(crate) fn migrator() -> sqlx::migrate::Migrator {
    super::migrator_of(MIGRATIONS)
}

/// The migrations up to `version` only (upgrade tests start from an older schema).
pub(crate) fn migrator_to(version: i64) -> sqlx::migrate::Migrator {
    let older: Vec<_> = MIGRATIONS
        .iter()
        .copied()
        .filter(|(v, _, _)| *v <= version)
        .collect();
    super::migrator_of(&older)
}

fn options(base: SqliteConnectOptions, options: &StoreOptions) -> SqliteConnectOptions {
    base.journal_mode(SqliteJournalMode::Wal)
        .synchronous(match options.durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        })
        .busy_timeout(options.busy_timeout)
        .foreign_keys(true)
        .pragma("temp_store", "MEMORY")
        // 16 MiB page cache per connection (SQLite defaults to 2 MiB): the outbox stays hot.
        .pragma("cache_size", "-16384")
        // A claim or a batch's bookings come back as hundreds of rows; with room for all of
        // them the connection's thread hands them over without waiting for each to be taken
        // (sqlx's default, 50, cost a thread switch every few rows).
        .row_buffer_size(1024)
}

/// Opens (creating it if missing) a database file.
pub(crate) async fn connect_file(
    path: &Path,
    opts: &StoreOptions,
) -> Result<SqlitePool, StoreError> {
    let connect = options(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true),
        opts,
    );
    Ok(SqlitePoolOptions::new()
        .max_connections(opts.max_connections)
        .min_connections(1)
        .connect_with(connect)
        .await?)
}

/// An in-memory database: one connection, or every connection would see its own.
pub(crate) async fn connect_memory(opts: &StoreOptions) -> Result<SqlitePool, StoreError> {
    let connect = options(SqliteConnectOptions::new().in_memory(true), opts);
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .connect_with(connect)
        .await?)
}

/// A write transaction holding the write lock from its first statement (`BEGIN IMMEDIATE`):
/// a deferred read-then-write can fail to upgrade even with a busy timeout.
pub(crate) async fn begin(pool: &SqlitePool) -> Result<Transaction<'static, Db>, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// A read transaction: a snapshot without the write lock.
pub(crate) async fn begin_read(pool: &SqlitePool) -> Result<Transaction<'static, Db>, StoreError> {
    Ok(pool.begin_with("BEGIN DEFERRED").await?)
}

/// Extended result codes (sqlite3.h) the store tells apart.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CONSTRAINT_FOREIGNKEY: i64 = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY: i64 = 1555;
const SQLITE_CONSTRAINT_UNIQUE: i64 = 2067;

/// Classifies a database error by its result code.
pub(crate) fn classify(db: &dyn sqlx::error::DatabaseError) -> Option<StoreError> {
    let code: i64 = db.code()?.parse().ok()?;
    match code {
        SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY => Some(StoreError::Duplicate {
            constraint: constraint_name(db.message()),
        }),
        SQLITE_CONSTRAINT_FOREIGNKEY => Some(StoreError::ForeignKey),
        // The primary code is the low byte of an extended one.
        c if matches!(c & 0xff, SQLITE_BUSY | SQLITE_LOCKED) => Some(StoreError::Unavailable(
            format!("the database is busy: {}", db.message()),
        )),
        c if matches!(c & 0xff, SQLITE_FULL | SQLITE_IOERR) => Some(StoreError::Unavailable(
            format!("the database cannot write: {}", db.message()),
        )),
        _ => None,
    }
}

/// SQLite names the columns of a failed unique constraint ("UNIQUE constraint failed:
/// table.col, ..."), not the constraint: map them to the names both backends share.
fn constraint_name(message: &str) -> String {
    let columns = message.rsplit(": ").next().unwrap_or(message);
    match columns {
        c if c.starts_with("messages.booking_id") => "messages_occurrence_key",
        c if c.starts_with("messages.campaign_id") => "messages_campaign_key",
        c if c.starts_with("api_keys.prefix") => "api_keys_prefix_key",
        c if c.starts_with("users.email") => "users_email_key",
        c if c.starts_with("idempotency_keys") => "idempotency_keys_pkey",
        c if c.starts_with("booking_changes") => "booking_changes_pkey",
        c if c.starts_with("sms_usage") => "sms_usage_pkey",
        c => return c.to_owned(),
    }
    .to_owned()
}

/// `column IN` a list bound as one parameter `$n`: a JSON array, read with `json_each` (one
/// statement text whatever the list's length, and no parameter per element).
pub(crate) fn in_list(n: usize) -> String {
    format!("IN (SELECT value FROM json_each(${n}))")
}

/// A list of ids for `in_list`.
pub(crate) fn id_list(ids: &[uuid::Uuid]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

/// A list of texts for `in_list`.
pub(crate) fn text_list<S: AsRef<str>>(texts: &[S]) -> String {
    let texts: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&texts).unwrap_or_else(|_| "[]".to_owned())
}

/// `REPLACE` inside a JSON column (stored as text here).
pub(crate) fn json_replace(column: &str, from: usize, to: usize) -> String {
    format!("REPLACE({column}, ${from}, ${to})")
}
