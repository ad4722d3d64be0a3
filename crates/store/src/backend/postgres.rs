//! PostgreSQL: any number of nodes on one database.

use crate::{StoreError, StoreOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Transaction};
use std::str::FromStr;

/// The sqlx database type.
pub(crate) type Db = sqlx::Postgres;

/// Several nodes claim at once: each skips the rows another is claiming instead of waiting.
pub(crate) const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
/// A row read to be changed: concurrent changers of it take turns.
pub(crate) const FOR_UPDATE: &str = " FOR UPDATE";

/// Embedded migrations: (version, description, SQL). Never edit one that has shipped; add the
/// next number to both backends.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "sms",
        include_str!("../../migrations/postgres/0002_sms.sql"),
    ),
    (
        3,
        "native types",
        include_str!("../../migrations/postgres/0003_native_types.sql"),
    ),
    (
        4,
        "dispatch queue",
        include_str!("../../migrations/postgres/0004_dispatch_queue.sql"),
    ),
    (
        5,
        "booking references",
        include_str!("../../migrations/postgres/0005_booking_references.sql"),
    ),
    (
        6,
        "reason codes, notice facts, brand",
        include_str!("../../migrations/postgres/0006_codes_facts_brand.sql"),
    ),
    (
        7,
        "consent",
        include_str!("../../migrations/postgres/0007_consent.sql"),
    ),
    (
        8,
        "channels",
        include_str!("../../migrations/postgres/0008_channels.sql"),
    ),
    (
        9,
        "mailboxes",
        include_str!("../../migrations/postgres/0009_mailboxes.sql"),
    ),
    (
        10,
        "staff users and sessions",
        include_str!("../../migrations/postgres/0010_staff.sql"),
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

/// Connects a pool; every connection waits at most `busy_timeout` for a lock.
pub(crate) async fn connect(url: &str, opts: &StoreOptions) -> Result<PgPool, StoreError> {
    let connect =
        PgConnectOptions::from_str(url)?.options([("lock_timeout", opts.busy_timeout.as_millis())]);
    Ok(PgPoolOptions::new()
        .max_connections(opts.max_connections)
        .min_connections(1)
        .connect_with(connect)
        .await?)
}

/// A write transaction. Rows it changes are locked until it ends; claims skip them.
pub(crate) async fn begin(pool: &PgPool) -> Result<Transaction<'static, Db>, StoreError> {
    Ok(pool.begin().await?)
}

/// A read-only transaction: writes fail, and it takes no row locks.
pub(crate) async fn begin_read(pool: &PgPool) -> Result<Transaction<'static, Db>, StoreError> {
    Ok(pool
        .begin_with("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await?)
}

/// Classifies a database error by its SQLSTATE.
pub(crate) fn classify(db: &dyn sqlx::error::DatabaseError) -> Option<StoreError> {
    let state = db.code()?;
    match state.as_ref() {
        "23505" => Some(StoreError::Duplicate {
            constraint: db.constraint().unwrap_or("unique").to_owned(),
        }),
        "23503" => Some(StoreError::ForeignKey),
        // lock_not_available (lock_timeout), serialization_failure, deadlock_detected,
        // too_many_connections, disk_full, insufficient_resources, admin/crash shutdown,
        // cannot_connect_now, read-only transaction (a standby).
        "55P03" | "40001" | "40P01" | "53300" | "53100" | "53000" | "57P01" | "57P02" | "57P03"
        | "25006" => Some(StoreError::Unavailable(format!(
            "the database cannot take this now ({state}): {}",
            db.message()
        ))),
        _ => None,
    }
}

/// `column IN` a list bound as one parameter `$n`: an array.
pub(crate) fn in_list(n: usize) -> String {
    format!("= ANY(${n})")
}

/// A list of ids for `in_list`.
pub(crate) fn id_list(ids: &[uuid::Uuid]) -> Vec<crate::value::Id> {
    ids.iter().copied().map(crate::value::Id).collect()
}

/// A list of texts for `in_list`.
pub(crate) fn text_list<S: AsRef<str>>(texts: &[S]) -> Vec<String> {
    texts.iter().map(|t| t.as_ref().to_owned()).collect()
}

/// `REPLACE` inside a jsonb column, through its text.
pub(crate) fn json_replace(column: &str, from: usize, to: usize) -> String {
    format!("REPLACE({column}::text, ${from}, ${to})::jsonb")
}
