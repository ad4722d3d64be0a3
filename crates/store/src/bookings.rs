//! Bookings and their change history.

use crate::codec::{RowExt, corrupt, ms, opt_ms};
use crate::sql::Separated;
use crate::{Store, StoreError, Tx};
use bellhop_domain::{Booking, BookingKind, BookingStatus, Schedule};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
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

pub(crate) fn booking_from(row: &AnyRow) -> Result<Booking, StoreError> {
    let kind: BookingKind = row.parsed("kind")?;
    let schedule = match kind {
        BookingKind::Stay => Schedule::Stay {
            arrival: row
                .opt_parsed("arrival")?
                .ok_or_else(|| corrupt("arrival", "missing"))?,
            departure: row
                .opt_parsed("departure")?
                .ok_or_else(|| corrupt("departure", "missing"))?,
        },
        BookingKind::Appointment => Schedule::Appointment {
            start: row
                .opt_ts("starts_at")?
                .ok_or_else(|| corrupt("starts_at", "missing"))?,
            end: row
                .opt_ts("ends_at")?
                .ok_or_else(|| corrupt("ends_at", "missing"))?,
        },
    };
    let guests = row
        .opt_int("guests")?
        .map(|g| i32::try_from(g).unwrap_or(i32::MAX));
    Ok(Booking {
        id: row.uuid("id")?,
        account_id: row.uuid("account_id")?,
        property_id: row.uuid("property_id")?,
        contact_id: row.uuid("contact_id")?,
        status: row.parsed("status")?,
        schedule,
        option_until: row.opt_ts("option_until")?,
        hold_expires_at: row.opt_ts("hold_expires_at")?,
        room_category: row.opt_text("room_category")?,
        service: row.opt_text("service")?,
        staff: row.opt_text("staff")?,
        source_channel: row.opt_text("source_channel")?,
        external_id: row.opt_text("external_id")?,
        voucher: row.opt_text("voucher")?,
        price_cents: row.opt_int("price_cents")?,
        deposit_cents: row.opt_int("deposit_cents")?,
        paid_cents: row.opt_int("paid_cents")?,
        guests,
        language: row.opt_text("language")?,
        notes: row.opt_text("notes")?,
        sms_reminders: row.opt_int("sms_reminders")?.map(|v| v != 0),
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
        version: row.int("version")?,
        status_changed_at: row.ts("status_changed_at")?,
        status_version: row.int("status_version")?,
        modified_at: row.opt_ts("modified_at")?,
        modified_version: row.opt_int("modified_version")?,
    })
}

pub(crate) async fn booking(
    c: &mut AnyConnection,
    account: Uuid,
    id: Uuid,
) -> Result<Booking, StoreError> {
    let row = crate::sql::query("SELECT * FROM bookings WHERE id = ? AND account_id = ?")
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_one(c)
        .await?;
    booking_from(&row)
}

const COLUMNS: &str = "kind, status, arrival, departure, starts_at, ends_at, option_until, hold_expires_at, \
    room_category, service, staff, source_channel, external_id, voucher, price_cents, deposit_cents, \
    paid_cents, guests, language, notes, sms_reminders, version, status_changed_at, status_version, modified_at, \
    modified_version, updated_at";

fn push_values(q: &mut crate::sql::Builder, b: &Booking) {
    push_columns(&mut q.separated(", "), b);
}

/// Binds the `COLUMNS` of a booking, in order (single-row and multi-row statements share it).
fn push_columns(s: &mut Separated<'_>, b: &Booking) {
    let (arrival, departure, starts, ends) = match b.schedule {
        Schedule::Stay { arrival, departure } => (
            Some(arrival.to_string()),
            Some(departure.to_string()),
            None,
            None,
        ),
        Schedule::Appointment { start, end } => (None, None, Some(ms(start)), Some(ms(end))),
    };
    s.push_bind(b.kind().as_str())
        .push_bind(b.status.as_str())
        .push_bind(arrival)
        .push_bind(departure)
        .push_bind(starts)
        .push_bind(ends)
        .push_bind(opt_ms(b.option_until))
        .push_bind(opt_ms(b.hold_expires_at))
        .push_bind(b.room_category.clone())
        .push_bind(b.service.clone())
        .push_bind(b.staff.clone())
        .push_bind(b.source_channel.clone())
        .push_bind(b.external_id.clone())
        .push_bind(b.voucher.clone())
        .push_bind(b.price_cents)
        .push_bind(b.deposit_cents)
        .push_bind(b.paid_cents)
        .push_bind(b.guests)
        .push_bind(b.language.clone())
        .push_bind(b.notes.clone())
        .push_bind(b.sms_reminders.map(i64::from))
        .push_bind(b.version)
        .push_bind(ms(b.status_changed_at))
        .push_bind(b.status_version)
        .push_bind(opt_ms(b.modified_at))
        .push_bind(b.modified_version)
        .push_bind(ms(b.updated_at));
}

impl Tx {
    /// Stores a new booking.
    pub async fn insert_booking(&mut self, b: &Booking) -> Result<(), StoreError> {
        let mut q = crate::sql::Builder::new(
            self.backend,
            format!(
                "INSERT INTO bookings (id, account_id, property_id, contact_id, created_at, {COLUMNS}) VALUES ("
            ),
        );
        q.push_bind(b.id.to_string())
            .push(", ")
            .push_bind(b.account_id.to_string())
            .push(", ")
            .push_bind(b.property_id.to_string())
            .push(", ")
            .push_bind(b.contact_id.to_string())
            .push(", ")
            .push_bind(ms(b.created_at))
            .push(", ");
        push_values(&mut q, b);
        q.push(")");
        q.build().execute(self.conn()).await?;
        Ok(())
    }

    /// Replaces a booking whose stored version is `expected_version` (optimistic concurrency);
    /// `NotFound` when it changed meanwhile.
    pub async fn update_booking(
        &mut self,
        b: &Booking,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        self.pass_gate().await;
        let mut q = crate::sql::Builder::new(
            self.backend,
            format!("UPDATE bookings SET ({COLUMNS}, contact_id) = ("),
        );
        push_values(&mut q, b);
        q.push(", ").push_bind(b.contact_id.to_string());
        q.push(") WHERE id = ")
            .push_bind(b.id.to_string())
            .push(" AND account_id = ")
            .push_bind(b.account_id.to_string())
            .push(" AND version = ")
            .push_bind(expected_version);
        let done = q.build().execute(self.conn()).await?;
        if done.rows_affected() == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
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
        crate::sql::query("INSERT INTO booking_changes (booking_id, version, actor, changes, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(booking_id.to_string())
            .bind(version)
            .bind(actor)
            .bind(changes.to_string())
            .bind(ms(now))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The booking, read inside the transaction.
    pub async fn booking(&mut self, account: Uuid, id: Uuid) -> Result<Booking, StoreError> {
        booking(self.conn(), account, id).await
    }
}

impl Store {
    /// A booking of the account.
    pub async fn booking(&self, account: Uuid, id: Uuid) -> Result<Booking, StoreError> {
        booking(&mut *self.pool.acquire().await?, account, id).await
    }

    /// The account's bookings by creation, filtered.
    pub async fn bookings(
        &self,
        account: Uuid,
        f: &BookingFilter,
    ) -> Result<Vec<Booking>, StoreError> {
        let rows = crate::sql::query(
            "SELECT * FROM bookings WHERE account_id = ?
               AND (? IS NULL OR property_id = ?) AND (? IS NULL OR status = ?)
               AND (? IS NULL OR created_at >= ?) AND (? IS NULL OR created_at < ?)
               AND id > ?
             ORDER BY id LIMIT ?",
        )
        .bind(account.to_string())
        .bind(f.property_id.map(|p| p.to_string()))
        .bind(f.property_id.map(|p| p.to_string()))
        .bind(f.status.map(|s| s.as_str()))
        .bind(f.status.map(|s| s.as_str()))
        .bind(opt_ms(f.created_from))
        .bind(opt_ms(f.created_from))
        .bind(opt_ms(f.created_to))
        .bind(opt_ms(f.created_to))
        .bind(f.after.map(|a| a.to_string()).unwrap_or_default())
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(booking_from).collect()
    }

    /// A booking's change history, oldest first.
    pub async fn booking_changes(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<Vec<BookingChange>, StoreError> {
        let rows = crate::sql::query(
            "SELECT c.* FROM booking_changes c JOIN bookings b ON b.id = c.booking_id
             WHERE c.booking_id = ? AND b.account_id = ? ORDER BY c.version",
        )
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BookingChange {
                    version: r.int("version")?,
                    actor: r.text("actor")?,
                    changes: r.json("changes")?,
                    at: r.ts("created_at")?,
                })
            })
            .collect()
    }
}

impl Tx {
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
        let day = week_ago
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .to_string();
        let rows = crate::sql::query(
            "SELECT * FROM bookings WHERE account_id = ? AND property_id = ? AND (departure >= ? OR ends_at >= ?) ORDER BY id",
        )
        .bind(account.to_string())
        .bind(property.to_string())
        .bind(day)
        .bind(ms(week_ago))
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(booking_from).collect()
    }

    /// Options and cart holds whose end has passed but are not marked expired yet.
    pub async fn lapsed_bookings(&mut self, now: Timestamp) -> Result<Vec<Booking>, StoreError> {
        // Nodes sweeping at once on PostgreSQL split the work instead of colliding.
        let lock = match self.backend {
            crate::Backend::Sqlite => "",
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let rows = crate::sql::query(&format!(
            "SELECT * FROM bookings WHERE (status = 'option' AND option_until <= ?)
               OR (status = 'pending_payment' AND hold_expires_at <= ?) LIMIT 1000{lock}",
        ))
        .bind(ms(now))
        .bind(ms(now))
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(booking_from).collect()
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
        let mut summary = crate::PlanSummary::default();
        for chunk in bookings.chunks(200) {
            let mut q = crate::sql::Builder::new(
                self.backend,
                format!(
                    "INSERT INTO bookings (id, account_id, property_id, contact_id, created_at, {COLUMNS}) "
                ),
            );
            q.push_values(chunk, |mut row, b| {
                row.push_bind(b.id.to_string())
                    .push_bind(b.account_id.to_string())
                    .push_bind(b.property_id.to_string())
                    .push_bind(b.contact_id.to_string())
                    .push_bind(ms(b.created_at));
                push_columns(&mut row, b);
            });
            q.build().execute(self.conn()).await?;
            let mut q = crate::sql::Builder::new(
                self.backend,
                "INSERT INTO booking_changes (booking_id, version, actor, changes, created_at) ",
            );
            q.push_values(chunk, |mut row, b| {
                row.push_bind(b.id.to_string())
                    .push_bind(1i64)
                    .push_bind(actor.to_owned())
                    .push_bind("{\"created\":true}")
                    .push_bind(ms(now));
            });
            q.build().execute(self.conn()).await?;
        }
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
                    rows.push((
                        Uuid::now_v7(),
                        b,
                        (*rule_id, *channel),
                        occurrence.clone(),
                        *due_at,
                        *status,
                        reason.clone(),
                    ));
                    if *status == bellhop_domain::MessageStatus::Planned {
                        summary.planned += 1
                    } else {
                        summary.skipped += 1
                    }
                }
            }
        }
        for chunk in rows.chunks(500) {
            let mut q = crate::sql::Builder::new(
                self.backend,
                "INSERT INTO messages (id, account_id, property_id, booking_id, rule_id, contact_id, occurrence, channel,
                   status, status_reason, due_at, run_at, created_at, updated_at) ",
            );
            q.push_values(
                chunk,
                |mut row, (id, b, (rule, channel), occ, due, status, reason)| {
                    row.push_bind(id.to_string())
                        .push_bind(b.account_id.to_string())
                        .push_bind(b.property_id.to_string())
                        .push_bind(b.id.to_string())
                        .push_bind(rule.to_string())
                        .push_bind(b.contact_id.to_string())
                        .push_bind(occ.clone())
                        .push_bind(channel.as_str())
                        .push_bind(status.as_str())
                        .push_bind(reason.clone())
                        .push_bind(ms(*due))
                        .push_bind(ms(*due))
                        .push_bind(ms(now))
                        .push_bind(ms(now));
                },
            );
            q.build().execute(self.conn()).await?;
            let mut q = crate::sql::Builder::new(
                self.backend,
                "INSERT INTO message_events (message_id, status, detail, created_at) ",
            );
            q.push_values(chunk, |mut row, (id, _, _, _, _, status, reason)| {
                row.push_bind(id.to_string())
                    .push_bind(status.as_str())
                    .push_bind(reason.clone())
                    .push_bind(ms(now));
            });
            q.build().execute(self.conn()).await?;
        }
        Ok(summary)
    }
}
