//! Channel connections (per property, a hashed key or AlpineBits password) and the channel
//! reservations each maps onto a booking.

use crate::value::{Id, Ts, opt_ts};
use crate::{Store, StoreError, Tx};
use bellhop_domain::channel::{ConnectionKind, ReservationStatus, StoredReservation, Version};
use bellhop_domain::notice::Notice;
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// A channel connection, without its secrets.
#[derive(Clone, Debug, Serialize)]
pub struct Connection {
    /// Id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// The property its reservations are for.
    pub property_id: Uuid,
    /// Shown to staff ("Slevomat"); the booking's source.
    pub name: String,
    /// JSON or AlpineBits.
    pub kind: ConnectionKind,
    /// The public part of the key (JSON), or the AlpineBits user name.
    pub key_prefix: String,
    /// Where staff changes are sent back.
    pub webhook_url: Option<String>,
    /// Which webhook signing secret is current (it is derived, never stored).
    pub secret_generation: i64,
    /// How long an unpaid cart hold lasts.
    pub hold_minutes: i64,
    /// An AlpineBits server to poll for GuestRequests.
    pub poll_url: Option<String>,
    /// The user name there.
    pub poll_user: Option<String>,
    /// The hotel code it knows this property by.
    pub poll_hotel_code: Option<String>,
    /// Polling period in seconds.
    pub poll_every_secs: Option<i64>,
    /// Last push or poll.
    pub last_activity_at: Option<Timestamp>,
    /// The last refused request or failed poll.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<Timestamp>,
    /// Revoked connections take nothing.
    pub revoked_at: Option<Timestamp>,
    /// Created.
    pub created_at: Timestamp,
}

/// A connection to store, with its key's hash.
#[derive(Clone, Debug)]
pub struct NewConnection {
    /// The connection.
    pub connection: Connection,
    /// SHA-256 (hex) of the key's secret or the password.
    pub secret_hash: String,
    /// The password for polling, sealed under the installation key.
    pub poll_secret: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: Id,
    account_id: Id,
    property_id: Id,
    name: String,
    kind: String,
    key_prefix: String,
    webhook_url: Option<String>,
    secret_generation: i64,
    hold_minutes: i64,
    poll_url: Option<String>,
    poll_user: Option<String>,
    poll_hotel_code: Option<String>,
    poll_every_secs: Option<i64>,
    last_activity_at: Option<Ts>,
    last_error: Option<String>,
    last_error_at: Option<Ts>,
    revoked_at: Option<Ts>,
    created_at: Ts,
}

const CONNECTION_COLUMNS: &str = "id, account_id, property_id, name, kind, key_prefix, webhook_url,
    secret_generation, hold_minutes, poll_url, poll_user, poll_hotel_code, poll_every_secs, last_activity_at,
    last_error, last_error_at, revoked_at, created_at";

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> Result<Self, StoreError> {
        Ok(Connection {
            id: r.id.0,
            account_id: r.account_id.0,
            property_id: r.property_id.0,
            kind: ConnectionKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("connection kind {:?}", r.kind)))?,
            name: r.name,
            key_prefix: r.key_prefix,
            webhook_url: r.webhook_url,
            secret_generation: r.secret_generation,
            hold_minutes: r.hold_minutes,
            poll_url: r.poll_url,
            poll_user: r.poll_user,
            poll_hotel_code: r.poll_hotel_code,
            poll_every_secs: r.poll_every_secs,
            last_activity_at: r.last_activity_at.map(|t| t.0),
            last_error: r.last_error,
            last_error_at: r.last_error_at.map(|t| t.0),
            revoked_at: r.revoked_at.map(|t| t.0),
            created_at: r.created_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReservationRow {
    booking_id: Id,
    revision: Option<i64>,
    modified_at: Option<Ts>,
    content_hash: String,
    status: String,
    held_since: Option<Ts>,
    hold_reported_at: Option<Ts>,
    replaced_by: Option<String>,
}

impl TryFrom<ReservationRow> for StoredReservation {
    type Error = StoreError;
    fn try_from(r: ReservationRow) -> Result<Self, StoreError> {
        Ok(StoredReservation {
            booking_id: r.booking_id.0,
            version: Version {
                revision: r.revision,
                modified_at: r.modified_at.map(|t| t.0),
            },
            content_hash: r.content_hash,
            status: ReservationStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("reservation status {:?}", r.status)))?,
            held_since: r.held_since.map(|t| t.0),
            hold_reported: r.hold_reported_at.is_some(),
            replaced_by: r.replaced_by,
        })
    }
}

/// A reservation as taken: what to store for it.
#[derive(Clone, Debug)]
pub struct TakenReservation<'a> {
    /// The connection.
    pub connection_id: Uuid,
    /// The channel's id.
    pub external_id: &'a str,
    /// The booking.
    pub booking_id: Uuid,
    /// The version taken.
    pub version: Version,
    /// Its content hash.
    pub content_hash: &'a str,
    /// Its status.
    pub status: ReservationStatus,
    /// First seen as a hold.
    pub held_since: Option<Timestamp>,
}

impl Store {
    /// A connection by its key prefix or AlpineBits user name, with the hash of its secret.
    pub async fn connection_by_key(
        &self,
        prefix: &str,
    ) -> Result<Option<(Connection, String)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            connection: ConnectionRow,
            secret_hash: String,
        }
        let mut pooled = self.acquire().await?;
        let row: Option<Row> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CONNECTION_COLUMNS}, secret_hash FROM channel_connections WHERE key_prefix = $1"
            )))
            .bind(prefix)
            .fetch_optional(&mut *c)
            .await?
        });
        row.map(|r| Ok((r.connection.try_into()?, r.secret_hash)))
            .transpose()
    }

    /// The account's connections, of one property or all.
    pub async fn connections(
        &self,
        account: Uuid,
        property: Option<Uuid>,
    ) -> Result<Vec<Connection>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<ConnectionRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CONNECTION_COLUMNS} FROM channel_connections
                 WHERE account_id = $1 AND ($2 IS NULL OR property_id = $2) ORDER BY created_at, id"
            )))
            .bind(Id(account))
            .bind(property.map(Id))
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter().map(Connection::try_from).collect()
    }

    /// One connection of the account.
    pub async fn connection(&self, account: Uuid, id: Uuid) -> Result<Connection, StoreError> {
        self.connections_by_ids(&[id])
            .await?
            .into_iter()
            .find(|c| c.account_id == account)
            .ok_or(StoreError::NotFound)
    }

    /// Connections by id, of any account (the dispatcher's webhook messages).
    pub async fn connections_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Connection>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pooled = self.acquire().await?;
        let rows: Vec<ConnectionRow> = on!(pooled.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CONNECTION_COLUMNS} FROM channel_connections WHERE id {}",
                db::in_list(1)
            )))
            .bind(db::id_list(ids))
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter().map(Connection::try_from).collect()
    }

    /// Leases the connections whose poll is due to `node` until `lease_until`, with their
    /// sealed poll passwords: one node polls a connection at a time, and a node that dies
    /// mid-poll leaves it to another once the lease lapses.
    pub async fn claim_due_polls(
        &self,
        node: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<(Connection, Option<String>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            connection: ConnectionRow,
            poll_secret: Option<String>,
        }
        let mut pooled = self.acquire().await?;
        let rows: Vec<Row> = on!(pooled.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE channel_connections SET poll_owner = $1, poll_until = $3
                 WHERE id IN (SELECT id FROM channel_connections
                   WHERE poll_url IS NOT NULL AND revoked_at IS NULL AND poll_due_at <= $2
                     AND (poll_until IS NULL OR poll_until < $2)
                   ORDER BY poll_due_at LIMIT $4{})
                 RETURNING {CONNECTION_COLUMNS}, poll_secret",
                db::SKIP_LOCKED
            )))
            .bind(node)
            .bind(Ts(now))
            .bind(Ts(lease_until))
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter()
            .map(|r| Ok((Connection::try_from(r.connection)?, r.poll_secret)))
            .collect()
    }

    /// Ends `node`'s poll of a connection: the next is due at `next`. A node whose lease was
    /// taken over records nothing (`false`).
    pub async fn finish_poll(
        &self,
        id: Uuid,
        node: &str,
        next: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut pooled = self.acquire().await?;
        let done = on!(pooled.conn(), c, _db => {
            sqlx::query(
                "UPDATE channel_connections SET poll_owner = NULL, poll_until = NULL, poll_due_at = $3
                 WHERE id = $1 AND poll_owner = $2",
            )
            .bind(Id(id))
            .bind(node)
            .bind(Ts(next))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Records a connection's activity: a request taken (`error` none) or refused.
    pub async fn touch_connection(
        &self,
        id: Uuid,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut pooled = self.acquire().await?;
        on!(pooled.conn(), c, _db => {
            sqlx::query(
                "UPDATE channel_connections SET last_activity_at = $2,
                   last_error = COALESCE($3, last_error),
                   last_error_at = CASE WHEN $3 IS NULL THEN last_error_at ELSE $2 END
                 WHERE id = $1",
            )
            .bind(Id(id))
            .bind(Ts(now))
            .bind(error)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// The booking a voucher number belongs to, in the account.
    pub async fn booking_id_by_voucher(
        &self,
        account: Uuid,
        voucher: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let mut pooled = self.acquire().await?;
        let id: Option<Id> = on!(pooled.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT id FROM bookings WHERE account_id = $1 AND voucher = $2
                 ORDER BY created_at DESC LIMIT 1",
            )
            .bind(Id(account))
            .bind(voucher)
            .fetch_optional(&mut *c)
            .await?
        });
        Ok(id.map(|i| i.0))
    }
}

impl Tx {
    /// Stores a new connection.
    pub async fn insert_connection(
        &mut self,
        new: &NewConnection,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let c = &new.connection;
        on!(self.conn(), conn, _db => {
            sqlx::query(
                "INSERT INTO channel_connections (id, account_id, property_id, name, kind, key_prefix,
                   secret_hash, webhook_url, secret_generation, hold_minutes, poll_url, poll_user,
                   poll_hotel_code, poll_secret, poll_every_secs, poll_due_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $16)",
            )
            .bind(Id(c.id))
            .bind(Id(c.account_id))
            .bind(Id(c.property_id))
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(&c.key_prefix)
            .bind(&new.secret_hash)
            .bind(&c.webhook_url)
            .bind(c.secret_generation)
            .bind(c.hold_minutes)
            .bind(&c.poll_url)
            .bind(&c.poll_user)
            .bind(&c.poll_hotel_code)
            .bind(&new.poll_secret)
            .bind(c.poll_every_secs)
            .bind(Ts(now))
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Changes a connection's settings (name, webhook URL, hold, polling).
    pub async fn update_connection(
        &mut self,
        c: &Connection,
        poll_secret: Option<Option<&str>>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let done = on!(self.conn(), conn, _db => {
            sqlx::query(
                "UPDATE channel_connections SET name = $3, webhook_url = $4, hold_minutes = $5,
                   poll_url = $6, poll_user = $7, poll_every_secs = $8,
                   poll_secret = CASE WHEN $9 THEN $10 ELSE poll_secret END, updated_at = $11,
                   poll_hotel_code = $12, poll_due_at = COALESCE(poll_due_at, $11)
                 WHERE id = $1 AND account_id = $2",
            )
            .bind(Id(c.id))
            .bind(Id(c.account_id))
            .bind(&c.name)
            .bind(&c.webhook_url)
            .bind(c.hold_minutes)
            .bind(&c.poll_url)
            .bind(&c.poll_user)
            .bind(c.poll_every_secs)
            .bind(poll_secret.is_some())
            .bind(poll_secret.flatten())
            .bind(Ts(now))
            .bind(&c.poll_hotel_code)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Gives a connection a new key (and the next webhook signing secret).
    pub async fn rotate_connection_key(
        &mut self,
        account: Uuid,
        id: Uuid,
        key_prefix: &str,
        secret_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let done = on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE channel_connections SET key_prefix = $3, secret_hash = $4,
                   secret_generation = secret_generation + 1, revoked_at = NULL, updated_at = $5
                 WHERE id = $1 AND account_id = $2",
            )
            .bind(Id(id))
            .bind(Id(account))
            .bind(key_prefix)
            .bind(secret_hash)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Revokes a connection: its key is refused from now on.
    pub async fn revoke_connection(
        &mut self,
        account: Uuid,
        id: Uuid,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let done = on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE channel_connections SET revoked_at = COALESCE(revoked_at, $3), updated_at = $3
                 WHERE id = $1 AND account_id = $2",
            )
            .bind(Id(id))
            .bind(Id(account))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Makes concurrent pushes of one reservation take turns until this transaction ends
    /// (PostgreSQL: a transaction advisory lock; SQLite: the write lock already does).
    pub async fn lock_channel_reservation(
        &mut self,
        connection: Uuid,
        external_id: &str,
    ) -> Result<(), StoreError> {
        if let crate::TxConn::Postgres(t) = &mut self.conn {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 7))")
                .bind(connection.to_string())
                .bind(external_id)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// A channel reservation as stored.
    pub async fn channel_reservation(
        &mut self,
        connection: Uuid,
        external_id: &str,
    ) -> Result<Option<StoredReservation>, StoreError> {
        let row: Option<ReservationRow> = on!(self.conn(), c, _db => {
            sqlx::query_as(
                "SELECT booking_id, revision, modified_at, content_hash, status, held_since,
                   hold_reported_at, replaced_by
                 FROM channel_reservations WHERE connection_id = $1 AND external_id = $2",
            )
            .bind(Id(connection))
            .bind(external_id)
            .fetch_optional(&mut *c)
            .await?
        });
        row.map(StoredReservation::try_from).transpose()
    }

    /// Records the version of a reservation taken (new, or replacing the stored one).
    pub async fn save_channel_reservation(
        &mut self,
        r: &TakenReservation<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO channel_reservations (connection_id, external_id, booking_id, revision,
                   modified_at, content_hash, status, held_since, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                 ON CONFLICT (connection_id, external_id) DO UPDATE SET booking_id = excluded.booking_id,
                   revision = excluded.revision, modified_at = excluded.modified_at,
                   content_hash = excluded.content_hash, status = excluded.status,
                   held_since = COALESCE(channel_reservations.held_since, excluded.held_since),
                   updated_at = excluded.updated_at",
            )
            .bind(Id(r.connection_id))
            .bind(r.external_id)
            .bind(Id(r.booking_id))
            .bind(r.version.revision)
            .bind(opt_ts(r.version.modified_at))
            .bind(r.content_hash)
            .bind(r.status.as_str())
            .bind(opt_ts(r.held_since))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Marks `old` as replaced by `new` (the channel's replacement order for a date change).
    pub async fn mark_reservation_replaced(
        &mut self,
        connection: Uuid,
        old: &str,
        new: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE channel_reservations SET replaced_by = $3, updated_at = $4
                 WHERE connection_id = $1 AND external_id = $2",
            )
            .bind(Id(connection))
            .bind(old)
            .bind(new)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Tells staff once that a channel keeps sending a lapsed hold.
    pub async fn report_resent_hold(
        &mut self,
        connection: &Connection,
        external_id: &str,
        held_minutes: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "UPDATE channel_reservations SET hold_reported_at = $3
                 WHERE connection_id = $1 AND external_id = $2",
            )
            .bind(Id(connection.id))
            .bind(external_id)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        let notice = Notice::ChannelHoldResent {
            channel: connection.name.clone(),
            external_id: external_id.to_owned(),
            held_minutes,
        };
        crate::accounts::insert_notification(
            self.conn(),
            connection.account_id,
            Some(connection.property_id),
            None,
            &notice,
            now,
        )
        .await
    }

    /// The connection a booking came from, if a channel's.
    pub async fn booking_connection(
        &mut self,
        booking: Uuid,
    ) -> Result<Option<Connection>, StoreError> {
        let row: Option<ConnectionRow> = on!(self.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM channel_connections k
                 WHERE k.id = (SELECT connection_id FROM channel_reservations WHERE booking_id = $1 LIMIT 1)",
                CONNECTION_COLUMNS
                    .split(',')
                    .map(|c| format!("k.{}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
            .bind(Id(booking))
            .fetch_optional(&mut *c)
            .await?
        });
        row.map(Connection::try_from).transpose()
    }

    /// The booking with this external id at the property from this source, if any.
    pub async fn booking_id_by_external(
        &mut self,
        property: Uuid,
        source: Option<&str>,
        external_id: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let id: Option<Id> = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT id FROM bookings WHERE property_id = $1
                   AND COALESCE(source_channel, '') = COALESCE($2, '') AND external_id = $3",
            )
            .bind(Id(property))
            .bind(source)
            .bind(external_id)
            .fetch_optional(&mut *c)
            .await?
        });
        Ok(id.map(|i| i.0))
    }
}
