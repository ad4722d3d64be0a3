//! Messages: applying plans, listing, staff actions and the status history.

use crate::error::corrupt;
use crate::value::{Id, Ts, opt_id};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::{Booking, ExistingMessage, MessageStatus, PlanAction, Reason};
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// A message as staff and integrators see it.
#[derive(Clone, Debug, Serialize)]
pub struct MessageRecord {
    /// Id (also the root of the email Message-ID).
    pub id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Booking (none for one-time codes and bulk SMS).
    pub booking_id: Option<Uuid>,
    /// Rule (none for one-time codes and bulk SMS).
    pub rule_id: Option<Uuid>,
    /// Contact.
    pub contact_id: Uuid,
    /// `rule` (planned from a booking), `tan` (one-time code) or `bulk`.
    pub kind: String,
    /// The bulk SMS it belongs to.
    pub campaign_id: Option<Uuid>,
    /// Occurrence key within (booking, rule).
    pub occurrence: String,
    /// The rule's channel until sent; then `email`, `sms` or `voice` as sent.
    pub channel: String,
    /// Status.
    pub status: MessageStatus,
    /// Why it is skipped, cancelled, suppressed, deferred or failed.
    pub status_reason: Option<String>,
    /// The same as a stable code (`guest_email_missing`, see `bellhop_domain::Reason`).
    pub status_code: Option<String>,
    /// When it is (or was) due.
    pub due_at: Timestamp,
    /// Attempts made.
    pub attempt: i64,
    /// Address it went to.
    pub recipient: Option<String>,
    /// Subject sent.
    pub subject: Option<String>,
    /// Language variant used.
    pub language: Option<String>,
    /// The transport's reference (the Message-ID for email).
    pub provider_ref: Option<String>,
    /// When it was accepted by the transport.
    pub sent_at: Option<Timestamp>,
    /// When the delivery report said it reached the phone.
    pub delivered_at: Option<Timestamp>,
    /// SMS parts billed.
    pub parts: Option<i64>,
    /// `GSM-7` or `UCS-2`.
    pub encoding: Option<String>,
    /// The property-local month (`YYYY-MM`) the SMS counts in.
    pub billing_month: Option<String>,
    /// Rendered HTML as sent (only when one message is asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    /// Rendered text as sent (only when one message is asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// One entry of a message's status history.
#[derive(Clone, Debug, Serialize)]
pub struct MessageEvent {
    /// The status entered.
    pub status: String,
    /// What happened.
    pub detail: Option<String>,
    /// When.
    pub at: Timestamp,
}

/// Which messages to list.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    /// Only this status.
    pub status: Option<MessageStatus>,
    /// Only this booking.
    pub booking_id: Option<Uuid>,
    /// Only this contact.
    pub contact_id: Option<Uuid>,
    /// Only this property.
    pub property_id: Option<Uuid>,
    /// Only this channel (`email`, `sms`, `voice`, or a rule channel while planned).
    pub channel: Option<String>,
    /// Only SMS billed (or rejected) in this property-local month, `YYYY-MM`.
    pub billing_month: Option<String>,
    /// Only this bulk SMS.
    pub campaign_id: Option<Uuid>,
    /// Due at or after.
    pub due_from: Option<Timestamp>,
    /// Due before.
    pub due_to: Option<Timestamp>,
    /// Keyset cursor: after this (due_at, id).
    pub after: Option<(Timestamp, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// A line of the timeline: what will be (or was) sent when, or why not.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineRow {
    /// Message id.
    pub message_id: Uuid,
    /// Due instant.
    pub due_at: Timestamp,
    /// The property's zone, to show local time.
    pub time_zone: String,
    /// Property name.
    pub property: String,
    /// Rule name.
    pub rule: String,
    /// Booking id (none for one-time codes and bulk SMS).
    pub booking_id: Option<Uuid>,
    /// Channel.
    pub channel: String,
    /// Guest name, if known.
    pub guest: Option<String>,
    /// Status.
    pub status: MessageStatus,
    /// Reason for skipped/cancelled/suppressed/failed.
    pub reason: Option<String>,
    /// Subject, once sent.
    pub subject: Option<String>,
    /// The property.
    pub property_id: Uuid,
    /// The rule, for planned messages.
    pub rule_id: Option<Uuid>,
    /// The contact.
    pub contact_id: Uuid,
}

/// The columns of a `messages` row that `MessageRecord` shows.
const RECORD_COLUMNS: &str = "id, property_id, booking_id, rule_id, contact_id, kind, campaign_id, occurrence, \
    channel, status, status_reason, status_code, due_at, attempt, recipient, subject, language, provider_ref, sent_at, \
    delivered_at, parts, encoding, billing_month, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: Id,
    property_id: Id,
    booking_id: Option<Id>,
    rule_id: Option<Id>,
    contact_id: Id,
    kind: String,
    campaign_id: Option<Id>,
    occurrence: String,
    channel: String,
    status: String,
    status_reason: Option<String>,
    status_code: Option<String>,
    due_at: Ts,
    attempt: i64,
    recipient: Option<String>,
    subject: Option<String>,
    language: Option<String>,
    provider_ref: Option<String>,
    sent_at: Option<Ts>,
    delivered_at: Option<Ts>,
    parts: Option<i64>,
    encoding: Option<String>,
    billing_month: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

impl TryFrom<RecordRow> for MessageRecord {
    type Error = StoreError;

    fn try_from(r: RecordRow) -> Result<Self, StoreError> {
        Ok(MessageRecord {
            id: r.id.0,
            property_id: r.property_id.0,
            booking_id: r.booking_id.map(|i| i.0),
            rule_id: r.rule_id.map(|i| i.0),
            contact_id: r.contact_id.0,
            kind: r.kind,
            campaign_id: r.campaign_id.map(|i| i.0),
            occurrence: r.occurrence,
            channel: r.channel,
            status: r.status.parse().map_err(|e| corrupt("status", e))?,
            status_reason: r.status_reason,
            status_code: r.status_code,
            due_at: r.due_at.0,
            attempt: r.attempt,
            recipient: r.recipient,
            subject: r.subject,
            language: r.language,
            provider_ref: r.provider_ref,
            sent_at: r.sent_at.map(|t| t.0),
            delivered_at: r.delivered_at.map(|t| t.0),
            parts: r.parts,
            encoding: r.encoding,
            billing_month: r.billing_month,
            body_html: None,
            body_text: None,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

/// A planned message to insert.
pub(crate) struct NewMessage<'a> {
    pub id: Uuid,
    pub booking: &'a Booking,
    pub rule_id: Uuid,
    pub channel: &'static str,
    pub occurrence: &'a str,
    pub due_at: Timestamp,
    pub status: MessageStatus,
    pub reason: Option<&'a Reason>,
}

/// One entry of the status history to append.
pub(crate) struct NewEvent<'a> {
    pub message_id: Uuid,
    pub status: &'a str,
    pub detail: Option<&'a str>,
}

/// Inserts planned messages of new bookings, with their first history entry. No conflict is
/// possible: the bookings are new. PostgreSQL takes one array per column (`UNNEST`), one
/// statement text whatever the count; SQLite takes multi-row `VALUES`.
pub(crate) async fn insert_planned(
    conn: Conn<'_>,
    rows: &[NewMessage<'_>],
    now: Timestamp,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let texts: Vec<Option<String>> = rows
        .iter()
        .map(|m| m.reason.map(ToString::to_string))
        .collect();
    let codes: Vec<Option<&str>> = rows.iter().map(|m| m.reason.map(Reason::code)).collect();
    let events: Vec<NewEvent<'_>> = rows
        .iter()
        .zip(&texts)
        .map(|(m, text)| NewEvent {
            message_id: m.id,
            status: m.status.as_str(),
            detail: text.as_deref(),
        })
        .collect();
    match conn {
        Conn::Sqlite(c) => {
            for (start, chunk) in (0..).step_by(500).zip(rows.chunks(500)) {
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO messages (id, account_id, property_id, booking_id, rule_id, contact_id, occurrence,
                       channel, status, status_reason, status_code, due_at, run_at, created_at, updated_at) ",
                );
                q.push_values(chunk.iter().enumerate(), |mut row, (i, m)| {
                    row.push_bind(Id(m.id))
                        .push_bind(Id(m.booking.account_id))
                        .push_bind(Id(m.booking.fields.property_id))
                        .push_bind(Id(m.booking.id))
                        .push_bind(Id(m.rule_id))
                        .push_bind(Id(m.booking.fields.contact_id))
                        .push_bind(m.occurrence)
                        .push_bind(m.channel)
                        .push_bind(m.status.as_str())
                        .push_bind(texts[start + i].as_deref())
                        .push_bind(codes[start + i])
                        .push_bind(Ts(m.due_at))
                        .push_bind(Ts(m.due_at))
                        .push_bind(Ts(now))
                        .push_bind(Ts(now));
                });
                q.build().execute(&mut *c).await?;
            }
            insert_events(Conn::Sqlite(&mut *c), &events, now).await?;
            crate::queue::enqueue(Conn::Sqlite(c), &runnable(rows)).await
        }
        Conn::Postgres(c) => {
            let col =
                |f: fn(&NewMessage<'_>) -> Uuid| rows.iter().map(|m| Id(f(m))).collect::<Vec<_>>();
            sqlx::query(
                "INSERT INTO messages (id, account_id, property_id, booking_id, rule_id, contact_id, occurrence,
                   channel, status, status_reason, status_code, due_at, run_at, created_at, updated_at)
                 SELECT id, account_id, property_id, booking_id, rule_id, contact_id, occurrence, channel, status,
                   status_reason, status_code, due_at, due_at, $11, $11
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[],
                   $8::text[], $9::text[], $10::text[], $12::timestamptz[], $13::text[])
                   AS v (id, account_id, property_id, booking_id, rule_id, contact_id, occurrence, channel, status,
                     status_reason, due_at, status_code)",
            )
            .bind(col(|m| m.id))
            .bind(col(|m| m.booking.account_id))
            .bind(col(|m| m.booking.fields.property_id))
            .bind(col(|m| m.booking.id))
            .bind(col(|m| m.rule_id))
            .bind(col(|m| m.booking.fields.contact_id))
            .bind(rows.iter().map(|m| m.occurrence).collect::<Vec<_>>())
            .bind(rows.iter().map(|m| m.channel).collect::<Vec<_>>())
            .bind(rows.iter().map(|m| m.status.as_str()).collect::<Vec<_>>())
            .bind(&texts)
            .bind(Ts(now))
            .bind(rows.iter().map(|m| Ts(m.due_at)).collect::<Vec<_>>())
            .bind(&codes)
            .execute(&mut *c)
            .await?;
            insert_events(Conn::Postgres(&mut *c), &events, now).await?;
            crate::queue::enqueue(Conn::Postgres(c), &runnable(rows)).await
        }
    }
}

/// The planned ones of new messages, for the dispatch queue.
fn runnable(rows: &[NewMessage<'_>]) -> Vec<crate::queue::Runnable> {
    rows.iter()
        .filter(|m| m.status == MessageStatus::Planned)
        .map(|m| crate::queue::Runnable {
            message_id: m.id,
            run_at: m.due_at,
            priority: 0,
        })
        .collect()
}

/// Appends entries to the status history, many per statement.
pub(crate) async fn insert_events(
    conn: Conn<'_>,
    events: &[NewEvent<'_>],
    now: Timestamp,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    match conn {
        Conn::Sqlite(c) => {
            for chunk in events.chunks(800) {
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO message_events (message_id, status, detail, created_at) ",
                );
                q.push_values(chunk, |mut row, e| {
                    row.push_bind(Id(e.message_id))
                        .push_bind(e.status)
                        .push_bind(e.detail)
                        .push_bind(Ts(now));
                });
                q.build().execute(&mut *c).await?;
            }
        }
        Conn::Postgres(c) => {
            sqlx::query(
                "INSERT INTO message_events (message_id, status, detail, created_at)
                 SELECT message_id, status, detail, $4 FROM UNNEST($1::uuid[], $2::text[], $3::text[])
                   AS v (message_id, status, detail)",
            )
            .bind(events.iter().map(|e| Id(e.message_id)).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.status).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.detail).collect::<Vec<_>>())
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn insert_event(
    conn: Conn<'_>,
    message_id: Uuid,
    status: &str,
    detail: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    on!(conn, c, _db => {
        sqlx::query(
            "INSERT INTO message_events (message_id, status, detail, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(Id(message_id))
        .bind(status)
        .bind(detail)
        .bind(Ts(now))
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// How many messages a plan touched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    /// New planned messages.
    pub planned: u32,
    /// New skipped messages (booked too late).
    pub skipped: u32,
    /// Moved.
    pub moved: u32,
    /// Re-planned after a cancellation or skip.
    pub reopened: u32,
    /// Cancelled.
    pub cancelled: u32,
}

impl std::ops::AddAssign for PlanSummary {
    fn add_assign(&mut self, s: PlanSummary) {
        self.planned += s.planned;
        self.skipped += s.skipped;
        self.moved += s.moved;
        self.reopened += s.reopened;
        self.cancelled += s.cancelled;
    }
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    id: Id,
    rule_id: Id,
    occurrence: String,
    status: String,
    due_at: Ts,
    cancelled_by: Option<String>,
}

/// The guarded transitions of `apply_plan`; each updates one message only from the statuses
/// it expects, so a message a dispatcher has claimed meanwhile is left alone.
const MOVE: &str = "UPDATE messages SET due_at = $1, run_at = $1, updated_at = $2 WHERE id = $3 AND status = 'planned'";
const REOPEN: &str =
    "UPDATE messages SET status = 'planned', status_reason = NULL, status_code = NULL, cancelled_by = NULL,
       due_at = $1, run_at = $1, updated_at = $2
     WHERE id = $3 AND (status = 'skipped' OR (status = 'cancelled' AND cancelled_by = 'planner'))";
const CANCEL: &str =
    "UPDATE messages SET status = 'cancelled', cancelled_by = 'planner', status_reason = $1,
       status_code = $4, updated_at = $2 WHERE id = $3 AND status IN ('planned', 'deferred')";
const SKIP: &str =
    "UPDATE messages SET status = 'skipped', status_reason = $1, status_code = $4, updated_at = $2
     WHERE id = $3 AND status = 'planned'";

impl Tx {
    /// The messages already recorded for a booking.
    pub async fn existing_messages(
        &mut self,
        booking_id: Uuid,
    ) -> Result<Vec<ExistingMessage>, StoreError> {
        let rows: Vec<ExistingRow> = on!(self.conn(), c, _db => {
            sqlx::query_as(
                "SELECT id, rule_id, occurrence, status, due_at, cancelled_by FROM messages WHERE booking_id = $1 AND rule_id IS NOT NULL",
            )
            .bind(Id(booking_id))
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(ExistingMessage {
                    id: r.id.0,
                    rule_id: r.rule_id.0,
                    occurrence: r.occurrence,
                    status: r.status.parse().map_err(|e| corrupt("status", e))?,
                    due_at: r.due_at.0,
                    cancelled_by_staff: r.cancelled_by.as_deref() == Some("staff"),
                })
            })
            .collect()
    }

    /// Applies the planner's actions for a booking. Every transition is guarded by the status
    /// it expects, so a message a dispatcher has claimed meanwhile is left alone.
    pub async fn apply_plan(
        &mut self,
        booking: &Booking,
        actions: &[PlanAction],
        now: Timestamp,
    ) -> Result<PlanSummary, StoreError> {
        let mut summary = PlanSummary::default();
        for action in actions {
            match action {
                PlanAction::Insert {
                    rule_id,
                    channel,
                    occurrence,
                    due_at,
                    status,
                    reason,
                } => {
                    let id = Uuid::now_v7();
                    let text = reason.as_ref().map(ToString::to_string);
                    let inserted = on!(self.conn(), c, _db => {
                        sqlx::query(
                            "INSERT INTO messages (id, account_id, property_id, booking_id, rule_id, contact_id,
                               occurrence, channel, status, status_reason, due_at, run_at, created_at, updated_at,
                               status_code)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $12, $13)
                             ON CONFLICT (booking_id, rule_id, occurrence) DO NOTHING",
                        )
                        .bind(Id(id))
                        .bind(Id(booking.account_id))
                        .bind(Id(booking.fields.property_id))
                        .bind(Id(booking.id))
                        .bind(Id(*rule_id))
                        .bind(Id(booking.fields.contact_id))
                        .bind(occurrence.as_str())
                        .bind(channel.as_str())
                        .bind(status.as_str())
                        .bind(text.as_deref())
                        .bind(Ts(*due_at))
                        .bind(Ts(now))
                        .bind(reason.as_ref().map(Reason::code))
                        .execute(&mut *c)
                        .await?
                        .rows_affected()
                    });
                    if inserted == 1 {
                        insert_event(self.conn(), id, status.as_str(), text.as_deref(), now)
                            .await?;
                        if *status == MessageStatus::Planned {
                            crate::queue::requeue(self.conn(), id, *due_at).await?;
                        }
                        if *status == MessageStatus::Planned {
                            summary.planned += 1
                        } else {
                            summary.skipped += 1
                        }
                    }
                }
                PlanAction::Move { message_id, due_at } => {
                    if self.transition(MOVE, *message_id, Ts(*due_at), now).await? {
                        crate::queue::requeue(self.conn(), *message_id, *due_at).await?;
                        let detail = format!("moved to {due_at}");
                        insert_event(self.conn(), *message_id, "planned", Some(&detail), now)
                            .await?;
                        summary.moved += 1;
                    }
                }
                PlanAction::Reopen { message_id, due_at } => {
                    if self
                        .transition(REOPEN, *message_id, Ts(*due_at), now)
                        .await?
                    {
                        crate::queue::requeue(self.conn(), *message_id, *due_at).await?;
                        let detail = format!("planned again for {due_at}");
                        insert_event(self.conn(), *message_id, "planned", Some(&detail), now)
                            .await?;
                        summary.reopened += 1;
                    }
                }
                PlanAction::Cancel { message_id, reason } => {
                    let text = reason.to_string();
                    if self
                        .stop_with_reason(CANCEL, *message_id, &text, reason.code(), now)
                        .await?
                    {
                        crate::queue::dequeue(self.conn(), *message_id).await?;
                        insert_event(self.conn(), *message_id, "cancelled", Some(&text), now)
                            .await?;
                        summary.cancelled += 1;
                    }
                }
                PlanAction::Skip { message_id, reason } => {
                    let text = reason.to_string();
                    if self
                        .stop_with_reason(SKIP, *message_id, &text, reason.code(), now)
                        .await?
                    {
                        crate::queue::dequeue(self.conn(), *message_id).await?;
                        insert_event(self.conn(), *message_id, "skipped", Some(&text), now).await?;
                        summary.cancelled += 1;
                    }
                }
            }
        }
        Ok(summary)
    }

    /// Runs `CANCEL` or `SKIP`: the reason's text and code.
    async fn stop_with_reason(
        &mut self,
        sql: &'static str,
        message_id: Uuid,
        text: &str,
        code: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = on!(self.conn(), c, _db => {
            sqlx::query(sql)
                .bind(text)
                .bind(Ts(now))
                .bind(Id(message_id))
                .bind(code)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Runs one of the guarded transitions: `$1` is its value (a due time or a reason), `$2`
    /// the time of the change, `$3` the message.
    async fn transition<V>(
        &mut self,
        sql: &'static str,
        id: Uuid,
        value: V,
        now: Timestamp,
    ) -> Result<bool, StoreError>
    where
        V: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>
            + Send,
    {
        crate::queue::lock(self.conn(), id).await?;
        let done = on!(self.conn(), c, _db => {
            sqlx::query(sql)
                .bind(value)
                .bind(Ts(now))
                .bind(Id(id))
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// A staff action on a message that has not gone out. `Cancel` is final (the planner never
    /// re-plans it); `SendNow` makes it due now and skips the due-time check at send time.
    /// Returns false when the message is not planned, deferred or skipped.
    pub async fn staff_action(
        &mut self,
        account: Uuid,
        id: Uuid,
        action: StaffAction,
        actor: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (sql, status, detail) = match action {
            StaffAction::Cancel => (
                "UPDATE messages SET status = 'cancelled', cancelled_by = 'staff', status_reason = $1,
                   status_code = 'cancelled_by_staff', updated_at = $2
                 WHERE id = $3 AND account_id = $4 AND status IN ('planned', 'deferred', 'skipped')",
                "cancelled",
                format!("cancelled by {actor}"),
            ),
            StaffAction::SendNow => (
                "UPDATE messages SET status = 'planned', status_reason = $1, status_code = NULL, run_at = $2,
                   due_at = $2, forced = TRUE,
                   updated_at = $2
                 WHERE id = $3 AND account_id = $4 AND status IN ('planned', 'deferred', 'skipped')",
                "planned",
                format!("send now, asked by {actor}"),
            ),
        };
        crate::queue::lock(self.conn(), id).await?;
        let done = on!(self.conn(), c, _db => {
            sqlx::query(sql)
                .bind(detail.as_str())
                .bind(Ts(now))
                .bind(Id(id))
                .bind(Id(account))
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        if done == 1 {
            match action {
                StaffAction::Cancel => crate::queue::dequeue(self.conn(), id).await?,
                StaffAction::SendNow => crate::queue::requeue(self.conn(), id, now).await?,
            }
            insert_event(self.conn(), id, status, Some(&detail), now).await?;
        }
        Ok(done == 1)
    }
}

/// What staff can do to a waiting message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffAction {
    /// Never send it.
    Cancel,
    /// Send it at once.
    SendNow,
}

#[derive(sqlx::FromRow)]
struct BodiesRow {
    body_html: Option<Vec<u8>>,
    body_text: Option<Vec<u8>>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    status: String,
    detail: Option<String>,
    created_at: Ts,
}

#[derive(sqlx::FromRow)]
struct TimelineDbRow {
    id: Id,
    due_at: Ts,
    status: String,
    status_reason: Option<String>,
    subject: Option<String>,
    booking_id: Option<Id>,
    channel: String,
    time_zone: String,
    property: String,
    rule: String,
    guest: Option<String>,
    property_id: Id,
    rule_id: Option<Id>,
    contact_id: Id,
}

/// Compresses a body for storage (a 4 KB HTML mail shrinks about fourfold).
pub(crate) fn pack(text: &str) -> Vec<u8> {
    lz4_flex::compress_prepend_size(text.as_bytes())
}

/// A stored body as text.
pub(crate) fn unpack(what: &str, bytes: Option<Vec<u8>>) -> Result<Option<String>, StoreError> {
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let raw = lz4_flex::decompress_size_prepended(&bytes).map_err(|e| corrupt(what, e))?;
    String::from_utf8(raw)
        .map(Some)
        .map_err(|e| corrupt(what, e))
}

impl Store {
    /// Deletes up to `limit` kept bodies (what exactly was sent) stored before `cutoff`; the
    /// messages, their history and their metadata stay. Returns how many went.
    pub async fn delete_bodies_before(
        &self,
        cutoff: Timestamp,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let mut pooled = self.acquire().await?;
        Ok(on!(pooled.conn(), c, _db => {
            sqlx::query(
                "DELETE FROM message_bodies WHERE message_id IN
                   (SELECT message_id FROM message_bodies WHERE created_at < $1 LIMIT $2)",
            )
            .bind(Ts(cutoff))
            .bind(limit)
            .execute(&mut *c)
            .await?
            .rows_affected()
        }))
    }

    /// One message, with its rendered bodies.
    pub async fn message(&self, account: Uuid, id: Uuid) -> Result<MessageRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let (row, bodies): (RecordRow, Option<BodiesRow>) = on!(pooled.conn(), c, _db => {
            let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RECORD_COLUMNS} FROM messages WHERE id = $1 AND account_id = $2"
            )))
            .bind(Id(id))
            .bind(Id(account))
            .fetch_one(&mut *c)
            .await?;
            let bodies = sqlx::query_as("SELECT body_html, body_text FROM message_bodies WHERE message_id = $1")
                .bind(Id(id))
                .fetch_optional(&mut *c)
                .await?;
            (row, bodies)
        });
        let mut record = MessageRecord::try_from(row)?;
        if let Some(b) = bodies {
            record.body_html = unpack("body_html", b.body_html)?;
            record.body_text = unpack("body_text", b.body_text)?;
        }
        Ok(record)
    }

    /// Messages, by due time.
    pub async fn messages(
        &self,
        account: Uuid,
        f: &MessageFilter,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<RecordRow> = on!(pooled.conn(), c, db => {
            let mut q = sqlx::QueryBuilder::<db::Db>::new(format!(
                "SELECT {RECORD_COLUMNS} FROM messages WHERE account_id = "
            ));
            q.push_bind(Id(account));
            if let Some(s) = f.status {
                q.push(" AND status = ").push_bind(s.as_str());
            }
            if let Some(b) = f.booking_id {
                q.push(" AND booking_id = ").push_bind(Id(b));
            }
            if let Some(c) = f.contact_id {
                q.push(" AND contact_id = ").push_bind(Id(c));
            }
            if let Some(p) = f.property_id {
                q.push(" AND property_id = ").push_bind(Id(p));
            }
            if let Some(c) = &f.channel {
                q.push(" AND channel = ").push_bind(c.as_str());
            }
            if let Some(m) = &f.billing_month {
                q.push(" AND billing_month = ").push_bind(m.as_str());
            }
            if let Some(c) = f.campaign_id {
                q.push(" AND campaign_id = ").push_bind(Id(c));
            }
            if let Some(from) = f.due_from {
                q.push(" AND due_at >= ").push_bind(Ts(from));
            }
            if let Some(to) = f.due_to {
                q.push(" AND due_at < ").push_bind(Ts(to));
            }
            if let Some((due, id)) = f.after {
                q.push(" AND (due_at, id) > (")
                    .push_bind(Ts(due))
                    .push(", ")
                    .push_bind(Id(id))
                    .push(")");
            }
            q.push(" ORDER BY due_at, id LIMIT ").push_bind(f.limit);
            crate::error::readable_rows("messages", q.build_query_as().fetch(&mut *c)).await?
        });
        Ok(crate::error::readable_records("messages", rows))
    }

    /// A message's status history, oldest first.
    pub async fn message_events(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<Vec<MessageEvent>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<EventRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT e.status, e.detail, e.created_at FROM message_events e JOIN messages m ON m.id = e.message_id
                 WHERE e.message_id = $1 AND m.account_id = $2 ORDER BY e.id",
            )
            .bind(Id(id))
            .bind(Id(account))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| MessageEvent {
                status: r.status,
                detail: r.detail,
                at: r.created_at.0,
            })
            .collect())
    }

    /// What is due in [from, to), with reasons for what will not go out. `account` None: all.
    pub async fn timeline(
        &self,
        account: Option<Uuid>,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> Result<Vec<TimelineRow>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<TimelineDbRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT m.id, m.due_at, m.status, m.status_reason, m.subject, m.booking_id, m.channel, p.time_zone,
                   m.property_id, m.rule_id, m.contact_id,
                   p.name AS property,
                   COALESCE(r.name, s.name, CASE m.kind WHEN 'tan' THEN 'one-time code' WHEN 'sequence' THEN 'sequence step'
                     WHEN 'auto_reply' THEN 'auto-reply' ELSE m.kind END) AS rule,
                   TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')) AS guest
                 FROM messages m JOIN properties p ON p.id = m.property_id LEFT JOIN rules r ON r.id = m.rule_id
                   LEFT JOIN sms_campaigns s ON s.id = m.campaign_id JOIN contacts c ON c.id = m.contact_id
                 WHERE ($1 IS NULL OR m.account_id = $1) AND m.due_at >= $2 AND m.due_at < $3
                 ORDER BY m.due_at, m.id LIMIT $4",
            )
            .bind(opt_id(account))
            .bind(Ts(from))
            .bind(Ts(to))
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(TimelineRow {
                    message_id: r.id.0,
                    due_at: r.due_at.0,
                    time_zone: r.time_zone,
                    property: r.property,
                    rule: r.rule,
                    booking_id: r.booking_id.map(|b| b.0),
                    channel: r.channel,
                    guest: r.guest.filter(|g| !g.is_empty()),
                    status: r.status.parse().map_err(|e| corrupt("status", e))?,
                    reason: r.status_reason,
                    subject: r.subject,
                    property_id: r.property_id.0,
                    rule_id: r.rule_id.map(|i| i.0),
                    contact_id: r.contact_id.0,
                })
            })
            .collect()
    }

    /// Number of messages per status (all accounts), for metrics and benchmarks.
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<(String, i64)> = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT status, COUNT(*) AS n FROM messages GROUP BY status ORDER BY status")
                .fetch_all(&mut *c)
                .await?
        });
        Ok(rows)
    }

    /// Number of messages per status and channel (all accounts), for metrics.
    pub async fn count_by_status_and_channel(
        &self,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let mut pooled = self.acquire().await?;
        Ok(on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT status, channel, COUNT(*) FROM messages GROUP BY status, channel")
                .fetch_all(&mut *c)
                .await?
        }))
    }

    /// The earliest time a message may be taken (a waiting one's run time, or when a lease
    /// lapses), so a dispatcher can sleep until then.
    pub async fn next_run_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let mut pooled = self.acquire().await?;
        let next: Option<Ts> = on!(pooled.conn(), c, _db => {
            sqlx::query_scalar("SELECT MIN(CASE WHEN lease_until IS NULL THEN run_at ELSE lease_until END) FROM dispatch_queue")
                .fetch_one(&mut *c)
                .await?
        });
        Ok(next.map(|t| t.0))
    }
}
