//! bellhop's persistence: one store with methods named by intent, over SQLite or PostgreSQL.
//!
//! Each backend is a typed sqlx driver (`SqlitePool`, `PgPool`); there is no `Any` layer.
//! A statement is written once where both databases take it as it is: the `on!` macro
//! compiles its body once per backend, so `Id(x)` binds as TEXT on SQLite and `uuid` on
//! PostgreSQL (see `value`). Where the backends really differ — connecting, how a write
//! transaction begins, lock clauses, error codes, bulk writes — `backend::sqlite` and
//! `backend::postgres` hold the difference side by side under the same names. Writes that
//! must agree (a booking change and the re-planning of its messages, a claim and its lease)
//! happen in one `Tx`. Constraint names are shared: the store maps them to domain errors the
//! same way on both.
#![deny(missing_docs)]

/// Runs `$body` with `$c` bound to the connection of `$conn` (a `Conn`), and `$db` to the
/// backend's module. The body is compiled once per backend, with each backend's types.
macro_rules! on {
    ($conn:expr, $c:ident, $db:ident => $body:expr) => {
        match $conn {
            $crate::Conn::Sqlite($c) => {
                #[allow(unused_imports)]
                use $crate::backend::sqlite as $db;
                $body
            }
            $crate::Conn::Postgres($c) => {
                #[allow(unused_imports)]
                use $crate::backend::postgres as $db;
                $body
            }
        }
    };
}

mod accounts;
mod backend;
mod booking_locks;
mod bookings;
mod catalog;
mod channels;
mod consent;
mod contacts;
mod error;
mod idempotency;
mod mailboxes;
mod messages;
mod outbox;
mod privacy;
mod queue;
pub mod scratch;
mod sequences;
mod sms;
mod staff;
mod value;

pub use accounts::{ApiKeyRecord, NotificationRecord};
pub use bookings::{BookingChange, BookingFilter};
pub use channels::{Connection, NewConnection, TakenReservation};
pub use consent::{Confirmation, ConsentEvent, ConsentText, NewConsentEvent};
pub use error::StoreError;
pub use idempotency::{IdempotencyStart, SavedResponse};
pub use mailboxes::{ImapLease, InboundFilter, InboundMail, NewInboundMail};
pub use messages::{
    MessageEvent, MessageFilter, MessageRecord, PlanSummary, StaffAction, TimelineRow,
};
pub use outbox::{Claimed, Outcome, OutcomeKind, SendHold};
pub use privacy::{Erased, Erasure, InboundSmsRow, TanRow};
pub use sequences::{Enrolment, Sequence, StepMessage};
pub use sms::{
    AdHocMessage, AudienceFilter, CampaignRecord, DeliveryApplied, InboundRecord, MonthCounts,
    Reservation, Reserved, TanRecord, UsageRow,
};
pub use staff::{ApiKeyInfo, SessionRecord, UserRecord};

use booking_locks::{BookingLocks, Held};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// Seconds spent waiting for a pooled connection (and, for a write transaction, for it to
/// begin: on SQLite that includes waiting for the write lock).
pub const POOL_WAIT: &str = "bellhop_store_pool_wait_seconds";

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

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The store.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// SQLite only: a booking's change waits here while messages of that booking are being
    /// sent (see `hold_bookings`); PostgreSQL uses row locks instead.
    locks: Option<Arc<BookingLocks>>,
}

/// The booking locks of a SQLite file, shared by every store this process opens on it.
fn locks_for(path: &Path) -> Arc<BookingLocks> {
    static FILES: LazyLock<Mutex<HashMap<PathBuf, Arc<BookingLocks>>>> =
        LazyLock::new(Default::default);
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mut files = FILES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    files.entry(key).or_default().clone()
}

/// A connection of either backend, borrowed from a pool or a transaction.
pub(crate) enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    /// The same connection, for one more call.
    pub(crate) fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A connection taken from the pool for a few reads.
pub(crate) enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}

enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A write transaction.
pub struct Tx {
    conn: TxConn,
    /// SQLite: the bookings this transaction may change (none are being sent).
    held: Option<Held>,
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match &mut self.conn {
            TxConn::Sqlite(t) => Conn::Sqlite(t),
            TxConn::Postgres(t) => Conn::Postgres(t),
        }
    }

    /// Which database the transaction runs on.
    pub fn backend(&self) -> Backend {
        match self.conn {
            TxConn::Sqlite(_) => Backend::Sqlite,
            TxConn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Makes sure no message of booking `id` is being sent, and none starts until this
    /// transaction ends. On SQLite this never waits: the transaction has the write lock, which
    /// a dispatcher holding the booking may need; `false` says the booking is in flight now
    /// (`begin_booking_change` takes known bookings before the write lock, waiting as long as
    /// needed). On PostgreSQL the booking's row lock does this, waiting up to `lock_timeout`.
    pub fn try_hold_booking(&mut self, id: Uuid) -> bool {
        match &mut self.held {
            Some(held) => held.try_add_exclusive(id),
            None => true,
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Held while an account's import runs (`Store::lock_account_imports`).
pub struct ImportLock {
    conn: Option<PoolConnection<Postgres>>,
    account: uuid::Uuid,
}

impl ImportLock {
    /// Lets the next import of the account go ahead.
    pub async fn release(mut self) -> Result<(), StoreError> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query(
                "SELECT pg_advisory_unlock(hashtextextended('bellhop import ' || $1::text, 0))",
            )
            .bind(value::Id(self.account))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

impl Drop for ImportLock {
    fn drop(&mut self) {
        // Not released (an error or a cancelled request): the connection must not go back to
        // the pool still holding the session lock. Closing it ends the session and the lock.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

impl Store {
    /// Opens (and creates if missing) a SQLite database file in WAL mode.
    pub async fn open(path: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        let pool = backend::sqlite::connect_file(path, options).await?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            locks: Some(locks_for(path)),
        })
    }

    /// Opens the database a URL names: `postgres://...` (or `postgresql://`), `sqlite://path`,
    /// `sqlite::memory:`, or a plain SQLite path.
    pub async fn open_url(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = backend::postgres::connect(url, options).await?;
            return Ok(Store {
                pool: Pool::Postgres(pool),
                locks: None,
            });
        }
        match url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Some(":memory:") => {
                let pool = backend::sqlite::connect_memory(options).await?;
                Ok(Store {
                    pool: Pool::Sqlite(pool),
                    locks: Some(Arc::default()),
                })
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

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations that have not run yet. On PostgreSQL, nodes starting
    /// together take turns (sqlx holds an advisory lock while migrating).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => backend::sqlite::migrator().run(p).await,
            Pool::Postgres(p) => backend::postgres::migrator().run(p).await,
        }
        .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// A pooled connection for reads.
    pub(crate) async fn acquire(&self) -> Result<Pooled, StoreError> {
        let started = std::time::Instant::now();
        let pooled = match &self.pool {
            Pool::Sqlite(p) => Pooled::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Pooled::Postgres(p.acquire().await?),
        };
        metrics::histogram!(POOL_WAIT).record(started.elapsed().as_secs_f64());
        Ok(pooled)
    }

    /// Connections open in the pool, and how many of them are idle.
    pub fn pool_stats(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(p) => (p.size(), p.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a read-then-write never fails to upgrade.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let started = std::time::Instant::now();
        let conn = match &self.pool {
            Pool::Sqlite(p) => TxConn::Sqlite(backend::sqlite::begin(p).await?),
            Pool::Postgres(p) => TxConn::Postgres(backend::postgres::begin(p).await?),
        };
        metrics::histogram!(POOL_WAIT).record(started.elapsed().as_secs_f64());
        let held = self.locks.as_ref().map(|locks| locks.none());
        Ok(Tx { conn, held })
    }

    /// Starts a read-only transaction: one consistent view for several reads, without the
    /// write lock (SQLite: a deferred `BEGIN`; PostgreSQL: `READ ONLY`, so a write fails).
    pub async fn begin_read(&self) -> Result<Tx, StoreError> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => TxConn::Sqlite(backend::sqlite::begin_read(p).await?),
            Pool::Postgres(p) => TxConn::Postgres(backend::postgres::begin_read(p).await?),
        };
        // A read transaction never changes a booking; should one, it would still have to hold
        // the booking first, like any other transaction (see `Tx::try_hold_booking`).
        let held = self.locks.as_ref().map(|locks| locks.none());
        Ok(Tx { conn, held })
    }

    /// Starts a write transaction that changes the given bookings (and maybe others it finds,
    /// see `Tx::try_hold_booking`). On SQLite it first waits until no message of these bookings
    /// is being sent — before taking the database's write lock, so that a dispatcher holding
    /// them can still write meanwhile. Changes of other bookings never wait for a send.
    pub async fn begin_booking_change(&self, bookings: &[Uuid]) -> Result<Tx, StoreError> {
        let held = match &self.locks {
            Some(locks) => Some(locks.exclusive(bookings).await),
            None => None,
        };
        let mut tx = self.begin().await?;
        tx.held = held;
        Ok(tx)
    }

    /// Refreshes the planner's statistics after bulk writes. PostgreSQL plans a claim or a
    /// lookup by id lists from them; never analysed (autovacuum off, or not yet run), a table
    /// of 100,000 rows looks empty and gets sequential scans.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        let mut pooled = self.acquire().await?;
        on!(pooled.conn(), c, _db => {
            sqlx::query("ANALYZE").execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Serialises imports of one account until the guard is released: two imports of the same
    /// file at once then find each other's bookings instead of both creating them, while one
    /// import may write its chunks on several connections. PostgreSQL: a session advisory
    /// lock on a connection of its own; SQLite: nothing (one writer at a time, and imports
    /// write their chunks one after another).
    pub async fn lock_account_imports(
        &self,
        account: uuid::Uuid,
    ) -> Result<ImportLock, StoreError> {
        const KEY: &str = "SELECT hashtextextended('bellhop import ' || $1::text, 0)";
        match &self.pool {
            Pool::Sqlite(_) => Ok(ImportLock {
                conn: None,
                account,
            }),
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT pg_advisory_lock(({KEY}))"
                )))
                .bind(value::Id(account))
                .execute(&mut *conn)
                .await?;
                Ok(ImportLock {
                    conn: Some(conn),
                    account,
                })
            }
        }
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut pooled = self.acquire().await?;
        on!(pooled.conn(), c, _db => {
            sqlx::query("SELECT 1").execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Closes the pool (on SQLite, checkpointing the WAL).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}
