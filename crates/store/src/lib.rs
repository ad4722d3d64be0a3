//! bellhop's persistence: one store with methods named by intent, over SQLite.
//!
//! SQL lives only here. Writes that must agree — a booking change and the re-planning of its
//! messages, a claim and its lease — happen in one `Tx`, opened with `BEGIN IMMEDIATE` so that
//! SQLite takes the write lock up front instead of failing a read-then-write upgrade. The
//! PostgreSQL backend (next issue) implements the same methods; constraint names are shared.
#![deny(missing_docs)]

mod accounts;
mod bookings;
mod catalog;
mod codec;
mod contacts;
mod idempotency;
mod messages;
mod outbox;

pub use accounts::{ApiKeyRecord, NotificationRecord};
pub use bookings::{BookingChange, BookingFilter};
pub use idempotency::{IdempotencyStart, SavedResponse};
pub use messages::{
    MessageEvent, MessageFilter, MessageRecord, PlanSummary, StaffAction, TimelineRow,
};
pub use outbox::{Claimed, Outcome, OutcomeKind};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// How hard SQLite syncs commits to disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Every commit is synced (the default): nothing acknowledged is lost on power loss.
    #[default]
    Full,
    /// The WAL is synced at checkpoints: survives process crashes, may lose the last
    /// commits on power loss.
    Normal,
}

/// Options for opening a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long a writer waits for the lock.
    pub busy_timeout: Duration,
    /// Sync policy.
    pub durability: Durability,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
            durability: Durability::Full,
        }
    }
}

/// The store.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

/// A write transaction.
pub struct Tx {
    tx: Transaction<'static, sqlx::Sqlite>,
}

impl Tx {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(StoreError::from)
    }
}

/// The SQLite migrations, embedded in the binary: (version, description, SQL). Never edit one
/// that has shipped; add the next number.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "init",
    include_str!("../migrations/sqlite/0001_init.sql"),
)];

fn migrator() -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr;
    sqlx::migrate::Migrator::with_migrations(
        SQLITE_MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                sqlx::migrate::Migration::new(
                    *version,
                    std::borrow::Cow::Borrowed(*description),
                    sqlx::migrate::MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

impl Store {
    /// Opens (and creates if missing) a SQLite database file in WAL mode.
    pub async fn open(path: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match options.durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            // 16 MiB page cache per connection (SQLite defaults to 2 MiB): the outbox stays hot.
            .pragma("cache_size", "-16384");
        Self::connect(connect, options).await
    }

    /// Opens a database given as a URL (`sqlite://path` or `sqlite::memory:`) or a plain path.
    pub async fn open_url(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Err(StoreError::Unsupported(
                "PostgreSQL is not supported by this version yet; use a SQLite path".to_owned(),
            ));
        }
        match url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Some(":memory:") => {
                let connect = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
                Self::connect(
                    connect,
                    &StoreOptions {
                        max_connections: 1,
                        ..options.clone()
                    },
                )
                .await
            }
            Some(path) => Self::open(Path::new(path), options).await,
            None => Self::open(Path::new(url), options).await,
        }
    }

    async fn connect(
        connect: SqliteConnectOptions,
        options: &StoreOptions,
    ) -> Result<Store, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(1)
            .connect_with(connect)
            .await?;
        Ok(Store { pool })
    }

    /// Applies the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrator()
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Starts a write transaction (taking SQLite's write lock at once).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Tx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
        })
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Errors of the store, with the constraint that failed where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique constraint was violated.
    #[error("duplicate: {constraint}")]
    Duplicate {
        /// The constraint's name, shared by both backends.
        constraint: String,
    },
    /// A referenced row does not exist.
    #[error("a referenced record does not exist")]
    ForeignKey,
    /// No such record (for this account).
    #[error("not found")]
    NotFound,
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Not available in this build.
    #[error("{0}")]
    Unsupported(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = e {
            return StoreError::NotFound;
        }
        if let Some(db) = e.as_database_error() {
            let message = db.message();
            if db.is_unique_violation() {
                return StoreError::Duplicate {
                    constraint: constraint_name(message),
                };
            }
            if db.is_foreign_key_violation() {
                return StoreError::ForeignKey;
            }
        }
        StoreError::Database(e)
    }
}

/// SQLite reports "UNIQUE constraint failed: table.col, ..."; map the columns to the shared
/// constraint names.
fn constraint_name(message: &str) -> String {
    let columns = message.rsplit(": ").next().unwrap_or(message);
    match columns {
        c if c.starts_with("messages.booking_id") => "messages_occurrence_key",
        c if c.starts_with("api_keys.prefix") => "api_keys_prefix_key",
        c if c.starts_with("idempotency_keys") => "idempotency_keys_pkey",
        c if c.starts_with("booking_changes") => "booking_changes_pkey",
        c => return c.to_owned(),
    }
    .to_owned()
}
