//! bellhop's persistence: one store with methods named by intent, over SQLite or PostgreSQL.
//!
//! SQL lives only here, written once for both backends (sqlx's `Any` driver; see `sql`), with
//! a migration set per backend. Writes that must agree — a booking change and the re-planning
//! of its messages, a claim and its lease — happen in one `Tx`. Where the backends must differ
//! (claiming under concurrency, locking) the method says so. Constraint names are shared: the
//! store maps them to domain errors the same way on both.
#![deny(missing_docs)]

mod accounts;
mod bookings;
mod catalog;
mod codec;
mod contacts;
mod idempotency;
mod messages;
mod outbox;
pub mod scratch;
mod sms;
mod sql;

pub use accounts::{ApiKeyRecord, NotificationRecord};
pub use bookings::{BookingChange, BookingFilter};
pub use idempotency::{IdempotencyStart, SavedResponse};
pub use messages::{
    MessageEvent, MessageFilter, MessageRecord, PlanSummary, StaffAction, TimelineRow,
};
pub use outbox::{Claimed, Outcome, OutcomeKind, SendHold};
pub use sms::{
    AdHocMessage, AudienceFilter, CampaignRecord, ConsentEvent, DeliveryApplied, InboundRecord,
    MonthCounts, Reservation, Reserved, TanRecord, UsageRow,
};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Executor, Transaction};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
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
    /// How long a writer waits for the lock (SQLite), or a statement for its locks (PostgreSQL).
    pub busy_timeout: Duration,
    /// Sync policy (SQLite; PostgreSQL follows its server's `synchronous_commit`).
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

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One file, one writer at a time: a single node.
    Sqlite,
    /// Any number of nodes on one database.
    Postgres,
}

/// The store.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: booking changes wait here while messages of theirs are being sent (see
    /// `hold_bookings`); PostgreSQL uses row locks instead.
    gate: Option<Gate>,
}

type Gate = Arc<tokio::sync::RwLock<()>>;

/// The gate of a SQLite file, shared by every store this process opens on it.
fn gate_for(path: &Path) -> Gate {
    static GATES: LazyLock<Mutex<HashMap<PathBuf, Gate>>> = LazyLock::new(Default::default);
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mut gates = GATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    gates.entry(key).or_default().clone()
}

/// A write transaction.
pub struct Tx {
    tx: Transaction<'static, sqlx::Any>,
    backend: Backend,
    gate: Option<Gate>,
    passed_gate: Option<tokio::sync::OwnedRwLockWriteGuard<()>>,
}

impl Tx {
    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Waits until no message of any booking is being sent, and keeps new sends from starting
    /// until this transaction ends (SQLite; on PostgreSQL the booking's row lock does this).
    /// Transactions from `begin_booking_change` have passed it already; any other would wait
    /// here holding the write lock, which a dispatcher counting SMS parts needs.
    async fn pass_gate(&mut self) {
        if let (Some(gate), None) = (&self.gate, &self.passed_gate) {
            self.passed_gate = Some(gate.clone().write_owned().await);
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(StoreError::from)
    }
}

/// Embedded migrations: (version, description, SQL). Never edit one that has shipped; add the
/// next number to both lists.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (2, "sms", include_str!("../migrations/sqlite/0002_sms.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "sms",
        include_str!("../migrations/postgres/0002_sms.sql"),
    ),
];

fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr;
    let migrations = match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    sqlx::migrate::Migrator::with_migrations(
        migrations
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
        let url = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .to_url_lossy();
        let mut store = Self::connect_sqlite(url.as_str(), options).await?;
        store.gate = Some(gate_for(path));
        Ok(store)
    }

    /// Opens the database a URL names: `postgres://...` (or `postgresql://`), `sqlite://path`,
    /// `sqlite::memory:`, or a plain SQLite path.
    pub async fn open_url(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self::connect_postgres(url, options).await;
        }
        match url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Some(":memory:") => {
                Self::connect_sqlite(
                    "sqlite::memory:",
                    &StoreOptions {
                        max_connections: 1,
                        ..options.clone()
                    },
                )
                .await
            }
            Some(path) => Self::open(Path::new(path), options).await,
            None => match url.split_once("://") {
                Some((scheme, _)) => Err(StoreError::Unsupported(format!(
                    "unsupported database URL scheme `{scheme}`: use postgres://... or a SQLite path"
                ))),
                None => Self::open(Path::new(url), options).await,
            },
        }
    }

    async fn connect_sqlite(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let pragmas = [
            "PRAGMA journal_mode = WAL".to_owned(),
            format!(
                "PRAGMA synchronous = {}",
                match options.durability {
                    Durability::Full => "FULL",
                    Durability::Normal => "NORMAL",
                }
            ),
            format!("PRAGMA busy_timeout = {}", options.busy_timeout.as_millis()),
            "PRAGMA foreign_keys = ON".to_owned(),
            "PRAGMA temp_store = MEMORY".to_owned(),
            // 16 MiB page cache per connection (SQLite defaults to 2 MiB): the outbox stays hot.
            "PRAGMA cache_size = -16384".to_owned(),
        ];
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(1)
            .after_connect(move |conn, _| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    for pragma in pragmas {
                        conn.execute(sqlx::AssertSqlSafe(pragma)).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(url.parse::<AnyConnectOptions>()?)
            .await?;
        Ok(Store {
            pool,
            backend: Backend::Sqlite,
            gate: Some(Gate::default()),
        })
    }

    async fn connect_postgres(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let lock_timeout = format!("SET lock_timeout = {}", options.busy_timeout.as_millis());
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(1)
            .after_connect(move |conn, _| {
                let lock_timeout = lock_timeout.clone();
                Box::pin(async move {
                    conn.execute(sqlx::AssertSqlSafe(lock_timeout)).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Store {
            pool,
            backend: Backend::Postgres,
            gate: None,
        })
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the embedded migrations that have not run yet. On PostgreSQL, nodes starting
    /// together take turns (sqlx holds an advisory lock while migrating).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrator(self.backend)
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a read-then-write never fails to upgrade.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            tx,
            backend: self.backend,
            gate: self.gate.clone(),
            passed_gate: None,
        })
    }

    /// Starts a write transaction that may change bookings. On SQLite it first waits until no
    /// message of any booking is being sent — before taking the database's write lock, so that
    /// a dispatcher holding its bookings can still write (count SMS parts) meanwhile: the gate
    /// always comes before the write lock, for booking writers and dispatchers alike.
    pub async fn begin_booking_change(&self) -> Result<Tx, StoreError> {
        let passed_gate = match &self.gate {
            Some(gate) => Some(gate.clone().write_owned().await),
            None => None,
        };
        let mut tx = self.begin().await?;
        tx.passed_gate = passed_gate;
        Ok(tx)
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sql::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool (on SQLite, checkpointing the WAL).
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
                    constraint: db
                        .constraint()
                        .map(str::to_owned)
                        .unwrap_or_else(|| constraint_name(message)),
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
