//! Bookings and their change history.

use crate::error::corrupt;
use crate::value::{Day, Id, Ts, opt_id, opt_ts};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::language::LanguageTag;
use bellhop_domain::{
    Booking, BookingDetails, BookingFields, BookingKind, BookingStatus, Schedule,
};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

/// One recorded change of a booking.
#[derive(Clone, Debug, Serialize)]
pub struct BookingChange {
    /// The version this change produced.
    pub version: i64,
    /// Who made it (`api:<key id>`, `staff:<name>`, `channel:<name>`, `demo`).
    pub actor: String,
    /// Field → [old, new].
    pub changes: serde_json::Value,
    /// When.
    pub at: Timestamp,
}

/// Which bookings to list.
#[derive(Clone, Debug, Default)]
pub struct BookingFilter {
    /// Only this property.
    pub property_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<BookingStatus>,
    /// Created at or after.
    pub created_from: Option<Timestamp>,
    /// Created before.
    pub created_to: Option<Timestamp>,
    /// Keyset cursor: after this id (UUIDv7 ids sort by creation).
    pub after: Option<Uuid>,
    /// Page size.
    pub limit: i64,
}

/// A `bookings` row as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct BookingRow {
    id: Id,
    account_id: Id,
    property_id: Id,
    contact_id: Id,
    kind: String,
    status: String,
    arrival: Option<Day>,
    departure: Option<Day>,
    starts_at: Option<Ts>,
    ends_at: Option<Ts>,
    option_until: Option<Ts>,
    hold_expires_at: Option<Ts>,
    room_category: Option<String>,
    service: Option<String>,
    staff: Option<String>,
    source_channel: Option<String>,
    external_id: Option<String>,
    voucher: Option<String>,
    price_cents: Option<i64>,
    deposit_cents: Option<i64>,
    paid_cents: Option<i64>,
    guests: Option<i64>,
    language: Option<String>,
    notes: Option<String>,
    sms_reminders: Option<bool>,
    version: i64,
    status_changed_at: Ts,
    status_version: i64,
    modified_at: Option<Ts>,
    modified_version: Option<i64>,
    created_at: Ts,
    updated_at: Ts,
}

impl TryFrom<BookingRow> for Booking {
    type Error = StoreError;

    fn try_from(r: BookingRow) -> Result<Booking, StoreError> {
        let kind: BookingKind = r.kind.parse().map_err(|e| corrupt("kind", e))?;
        let schedule = match kind {
            BookingKind::Stay => Schedule::Stay {
                arrival: r.arrival.ok_or_else(|| corrupt("arrival", "missing"))?.0,
                departure: r
                    .departure
                    .ok_or_else(|| corrupt("departure", "missing"))?
                    .0,
            },
            BookingKind::Appointment => Schedule::Appointment {
                start: r
                    .starts_at
                    .ok_or_else(|| corrupt("starts_at", "missing"))?
                    .0,
                end: r.ends_at.ok_or_else(|| corrupt("ends_at", "missing"))?.0,
            },
        };
        let fields = BookingFields {
            property_id: r.property_id.0,
            contact_id: r.contact_id.0,
            status: r.status.parse().map_err(|e| corrupt("status", e))?,
            schedule,
            option_until: r.option_until.map(|t| t.0),
            hold_expires_at: r.hold_expires_at.map(|t| t.0),
            details: BookingDetails {
                room_category: r.room_category,
                service: r.service,
                staff: r.staff,
                source_channel: r.source_channel,
                external_id: r.external_id,
                voucher: r.voucher,
                price_cents: r.price_cents,
                deposit_cents: r.deposit_cents,
                paid_cents: r.paid_cents,
                guests: r.guests.map(|g| i32::try_from(g).unwrap_or(i32::MAX)),
                language: r.language.map(LanguageTag::stored),
                notes: r.notes,
                sms_reminders: r.sms_reminders,
            },
        };
        Ok(Booking {
            id: r.id.0,
            account_id: r.account_id.0,
            fields,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            version: r.version,
            status_changed_at: r.status_changed_at.0,
            status_version: r.status_version,
            modified_at: r.modified_at.map(|t| t.0),
            modified_version: r.modified_version,
        })
    }
}

/// Rows to bookings.
pub(crate) fn bookings_from(rows: Vec<BookingRow>) -> Result<Vec<Booking>, StoreError> {
    rows.into_iter().map(Booking::try_from).collect()
}

/// The columns a change writes, in the order `bind_booking!` binds them.
const COLUMNS: &str = "kind, status, arrival, departure, starts_at, ends_at, option_until, hold_expires_at, \
    room_category, service, staff, source_channel, external_id, voucher, price_cents, deposit_cents, \
    paid_cents, guests, language, notes, sms_reminders, version, status_changed_at, status_version, modified_at, \
    modified_version, updated_at, contact_id";

/// The values of `COLUMNS` for a booking, in order.
struct Columns<'b> {
    b: &'b Booking,
    arrival: Option<Day>,
    departure: Option<Day>,
    starts: Option<Ts>,
    ends: Option<Ts>,
}

impl<'b> Columns<'b> {
    fn of(b: &'b Booking) -> Self {
        let (arrival, departure, starts, ends) = match b.fields.schedule {
            Schedule::Stay { arrival, departure } => {
                (Some(Day(arrival)), Some(Day(departure)), None, None)
            }
            Schedule::Appointment { start, end } => (None, None, Some(Ts(start)), Some(Ts(end))),
        };
        Columns {
            b,
            arrival,
            departure,
            starts,
            ends,
        }
    }
}

/// Binds `COLUMNS` with `$method` (`bind` on a query, `push_bind` in a builder's row).
macro_rules! bind_booking {
    ($q:expr, $method:ident, $cols:expr) => {{
        let c = $cols;
        let b = c.b;
        $q.$method(b.kind().as_str())
            .$method(b.fields.status.as_str())
            .$method(c.arrival)
            .$method(c.departure)
            .$method(c.starts)
            .$method(c.ends)
            .$method(opt_ts(b.fields.option_until))
            .$method(opt_ts(b.fields.hold_expires_at))
            .$method(b.fields.details.room_category.as_deref())
            .$method(b.fields.details.service.as_deref())
            .$method(b.fields.details.staff.as_deref())
            .$method(b.fields.details.source_channel.as_deref())
            .$method(b.fields.details.external_id.as_deref())
            .$method(b.fields.details.voucher.as_deref())
            .$method(b.fields.details.price_cents)
            .$method(b.fields.details.deposit_cents)
            .$method(b.fields.details.paid_cents)
            .$method(b.fields.details.guests.map(i64::from))
            .$method(b.fields.details.language.as_deref())
            .$method(b.fields.details.notes.as_deref())
            .$method(b.fields.details.sms_reminders)
            .$method(b.version)
            .$method(Ts(b.status_changed_at))
            .$method(b.status_version)
            .$method(opt_ts(b.modified_at))
            .$method(b.modified_version)
            .$method(Ts(b.updated_at))
            .$method(Id(b.fields.contact_id))
    }};
}

/// `$1, $2, ..., $n`.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const COLUMN_COUNT: usize = 28;

pub(crate) async fn booking(
    conn: Conn<'_>,
    account: Uuid,
    id: Uuid,
) -> Result<Booking, StoreError> {
    let row: BookingRow = on!(conn, c, _db => {
        sqlx::query_as("SELECT * FROM bookings WHERE id = $1 AND account_id = $2")
            .bind(Id(id))
            .bind(Id(account))
            .fetch_one(&mut *c)
            .await?
    });
    row.try_into()
}

impl Tx {
    /// Stores a new booking.
    pub async fn insert_booking(&mut self, b: &Booking) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO bookings (id, account_id, property_id, created_at, {COLUMNS}) VALUES ($1, $2, $3, $4, {})",
            placeholders(5, COLUMN_COUNT)
        );
        on!(self.conn(), c, _db => {
            let q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(b.id))
                .bind(Id(b.account_id))
                .bind(Id(b.fields.property_id))
                .bind(Ts(b.created_at));
            bind_booking!(q, bind, Columns::of(b)).execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Replaces a booking whose stored version is `expected_version` (optimistic concurrency);
    /// `NotFound` when it changed meanwhile.
    pub async fn update_booking(
        &mut self,
        b: &Booking,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        if !self.try_hold_booking(b.id) {
            return Err(StoreError::Unavailable(format!(
                "booking {} has a message being sent right now; try again",
                b.id
            )));
        }
        let sql = format!(
            "UPDATE bookings SET ({COLUMNS}) = ({}) WHERE id = $1 AND account_id = $2 AND version = $3",
            placeholders(4, COLUMN_COUNT)
        );
        let done = on!(self.conn(), c, _db => {
            let q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(b.id))
                .bind(Id(b.account_id))
                .bind(expected_version);
            bind_booking!(q, bind, Columns::of(b)).execute(&mut *c).await?.rows_affected()
        });
        if done > 0 {
            return Ok(());
        }
        // Changed by someone else since it was read (on PostgreSQL a concurrent change
        // committed while this one waited for the row): say so, with the version it is at.
        let current: Option<i64> = on!(self.conn(), c, _db => {
            sqlx::query_scalar("SELECT version FROM bookings WHERE id = $1 AND account_id = $2")
                .bind(Id(b.id))
                .bind(Id(b.account_id))
                .fetch_optional(&mut *c)
                .await?
        });
        Err(match current {
            Some(current) => StoreError::Stale { current },
            None => StoreError::NotFound,
        })
    }

    /// Records what a change did.
    pub async fn insert_booking_change(
        &mut self,
        booking_id: Uuid,
        version: i64,
        actor: &str,
        changes: &serde_json::Value,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query("INSERT INTO booking_changes (booking_id, version, actor, changes, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(Id(booking_id))
                .bind(version)
                .bind(actor)
                .bind(Json(changes))
                .bind(Ts(now))
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// The booking, read inside the transaction.
    pub async fn booking(&mut self, account: Uuid, id: Uuid) -> Result<Booking, StoreError> {
        booking(self.conn(), account, id).await
    }

    /// The booking, read to be changed: another change of it waits until this transaction
    /// ends, so an edit merged onto what is read here loses nobody's change.
    pub async fn booking_for_change(
        &mut self,
        account: Uuid,
        id: Uuid,
    ) -> Result<Booking, StoreError> {
        let row: BookingRow = on!(self.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT * FROM bookings WHERE id = $1 AND account_id = $2{}",
                db::FOR_UPDATE
            )))
            .bind(Id(id))
            .bind(Id(account))
            .fetch_one(&mut *c)
            .await?
        });
        row.try_into()
    }
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    version: i64,
    actor: String,
    changes: Json<serde_json::Value>,
    created_at: Ts,
}

impl Store {
    /// A booking of the account.
    pub async fn booking(&self, account: Uuid, id: Uuid) -> Result<Booking, StoreError> {
        booking(self.acquire().await?.conn(), account, id).await
    }

    /// The account's bookings by creation, filtered.
    pub async fn bookings(
        &self,
        account: Uuid,
        f: &BookingFilter,
    ) -> Result<Vec<Booking>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<BookingRow> = on!(pooled.conn(), c, _db => {
            let query = sqlx::query_as(
                "SELECT * FROM bookings WHERE account_id = $1
                   AND ($2 IS NULL OR property_id = $2) AND ($3 IS NULL OR status = $3)
                   AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5)
                   AND id > $6
                 ORDER BY id LIMIT $7",
            )
            .bind(Id(account))
            .bind(opt_id(f.property_id))
            .bind(f.status.map(|s| s.as_str()))
            .bind(opt_ts(f.created_from))
            .bind(opt_ts(f.created_to))
            .bind(Id(f.after.unwrap_or(Uuid::nil())))
            .bind(f.limit);
            crate::error::readable_rows("bookings", query.fetch(&mut *c)).await?
        });
        Ok(crate::error::readable_records("bookings", rows))
    }

    /// A booking's change history, oldest first.
    pub async fn booking_changes(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<Vec<BookingChange>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<ChangeRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT c.version, c.actor, c.changes, c.created_at FROM booking_changes c
                 JOIN bookings b ON b.id = c.booking_id
                 WHERE c.booking_id = $1 AND b.account_id = $2 ORDER BY c.version",
            )
            .bind(Id(id))
            .bind(Id(account))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| BookingChange {
                version: r.version,
                actor: r.actor,
                changes: r.changes.0,
                at: r.created_at.0,
            })
            .collect())
    }
}

impl Store {
    /// The ids of the account's bookings with one of these references (read without locks,
    /// to know which bookings an import is going to change).
    pub async fn booking_ids_by_references(
        &self,
        account: Uuid,
        references: &[String],
    ) -> Result<Vec<Uuid>, StoreError> {
        if references.is_empty() {
            return Ok(Vec::new());
        }
        let mut pooled = self.acquire().await?;
        let ids: Vec<Id> = on!(pooled.conn(), c, db => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM bookings WHERE account_id = $1 AND external_id {}",
                db::in_list(2)
            )))
            .bind(Id(account))
            .bind(db::text_list(references))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(ids.into_iter().map(|id| id.0).collect())
    }
}

impl Tx {
    /// The account's bookings whose source gave one of these references (`external_id`), to
    /// import the same file twice without a second booking.
    pub async fn bookings_by_references(
        &mut self,
        account: Uuid,
        references: &[String],
    ) -> Result<Vec<Booking>, StoreError> {
        if references.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<BookingRow> = on!(self.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT * FROM bookings WHERE account_id = $1 AND external_id {} ORDER BY id",
                db::in_list(2)
            )))
            .bind(Id(account))
            .bind(db::text_list(references))
            .fetch_all(&mut *c)
            .await?
        });
        bookings_from(rows)
    }

    /// Bookings of a property that rules can still affect: not yet ended a week ago.
    pub async fn live_bookings(
        &mut self,
        account: Uuid,
        property: Uuid,
        now: Timestamp,
    ) -> Result<Vec<Booking>, StoreError> {
        let week_ago = now
            .checked_sub(jiff::SignedDuration::from_hours(24 * 7))
            .unwrap_or(now);
        let day = week_ago.to_zoned(jiff::tz::TimeZone::UTC).date();
        let rows: Vec<BookingRow> = on!(self.conn(), c, _db => {
            sqlx::query_as(
                "SELECT * FROM bookings WHERE account_id = $1 AND property_id = $2
                   AND (departure >= $3 OR ends_at >= $4) ORDER BY id",
            )
            .bind(Id(account))
            .bind(Id(property))
            .bind(Day(day))
            .bind(Ts(week_ago))
            .fetch_all(&mut *c)
            .await?
        });
        bookings_from(rows)
    }

    /// Options and cart holds whose end has passed but are not marked expired yet.
    pub async fn lapsed_bookings(&mut self, now: Timestamp) -> Result<Vec<Booking>, StoreError> {
        let rows: Vec<BookingRow> = on!(self.conn(), c, db => {
            // Nodes sweeping at once on PostgreSQL split the work instead of colliding.
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT * FROM bookings WHERE (status = 'option' AND option_until <= $1)
                   OR (status = 'pending_payment' AND hold_expires_at <= $1) LIMIT 1000{}",
                db::SKIP_LOCKED
            )))
            .bind(Ts(now))
            .fetch_all(&mut *c)
            .await?
        });
        bookings_from(rows)
    }
}

impl Store {
    /// The ids of options and cart holds whose end has passed (read without locks, to know
    /// which bookings an expiry sweep is going to change).
    pub async fn lapsed_booking_ids(&self, now: Timestamp) -> Result<Vec<Uuid>, StoreError> {
        let mut pooled = self.acquire().await?;
        let ids: Vec<Id> = on!(pooled.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT id FROM bookings WHERE (status = 'option' AND option_until <= $1)
                   OR (status = 'pending_payment' AND hold_expires_at <= $1) LIMIT 1000",
            )
            .bind(Ts(now))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(ids.into_iter().map(|id| id.0).collect())
    }
}

impl Tx {
    /// Stores new bookings with their first history entry and their planned messages, many
    /// rows per statement (imports and benchmarks). `planned` holds, per booking, the
    /// planner's `Insert` actions; new bookings have nothing else.
    pub async fn insert_new_bookings(
        &mut self,
        bookings: &[Booking],
        planned: &[Vec<bellhop_domain::PlanAction>],
        actor: &str,
        now: Timestamp,
    ) -> Result<crate::PlanSummary, StoreError> {
        let created = serde_json::json!({ "created": true });
        for chunk in bookings.chunks(200) {
            on!(self.conn(), c, db => {
                let mut q = sqlx::QueryBuilder::<db::Db>::new(format!(
                    "INSERT INTO bookings (id, account_id, property_id, created_at, {COLUMNS}) "
                ));
                q.push_values(chunk, |mut row, b| {
                    row.push_bind(Id(b.id))
                        .push_bind(Id(b.account_id))
                        .push_bind(Id(b.fields.property_id))
                        .push_bind(Ts(b.created_at));
                    bind_booking!(row, push_bind, Columns::of(b));
                });
                q.build().execute(&mut *c).await?;
                let mut q = sqlx::QueryBuilder::<db::Db>::new(
                    "INSERT INTO booking_changes (booking_id, version, actor, changes, created_at) ",
                );
                q.push_values(chunk, |mut row, b| {
                    row.push_bind(Id(b.id))
                        .push_bind(1_i64)
                        .push_bind(actor)
                        .push_bind(Json(&created))
                        .push_bind(Ts(now));
                });
                q.build().execute(&mut *c).await?;
            });
        }
        let mut summary = crate::PlanSummary::default();
        let mut rows = Vec::new();
        for (b, actions) in bookings.iter().zip(planned) {
            for a in actions {
                if let bellhop_domain::PlanAction::Insert {
                    rule_id,
                    channel,
                    occurrence,
                    due_at,
                    status,
                    reason,
                } = a
                {
                    rows.push(crate::messages::NewMessage {
                        id: Uuid::now_v7(),
                        booking: b,
                        rule_id: *rule_id,
                        channel: channel.as_str(),
                        occurrence,
                        due_at: *due_at,
                        status: *status,
                        reason: reason.as_ref(),
                    });
                    if *status == bellhop_domain::MessageStatus::Planned {
                        summary.planned += 1
                    } else {
                        summary.skipped += 1
                    }
                }
            }
        }
        crate::messages::insert_planned(self.conn(), &rows, now).await?;
        Ok(summary)
    }
}
