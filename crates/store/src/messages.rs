//! Messages: applying plans, listing, staff actions and the status history.

use crate::codec::{RowExt, ms};
use crate::{Store, StoreError, Tx};
use bellhop_domain::{Booking, ExistingMessage, MessageStatus, PlanAction};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
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
}

fn record_from(row: &AnyRow, with_bodies: bool) -> Result<MessageRecord, StoreError> {
    Ok(MessageRecord {
        id: row.uuid("id")?,
        property_id: row.uuid("property_id")?,
        booking_id: row.opt_uuid("booking_id")?,
        rule_id: row.opt_uuid("rule_id")?,
        contact_id: row.uuid("contact_id")?,
        kind: row.text("kind")?,
        campaign_id: row.opt_uuid("campaign_id")?,
        occurrence: row.text("occurrence")?,
        channel: row.text("channel")?,
        status: row.parsed("status")?,
        status_reason: row.opt_text("status_reason")?,
        due_at: row.ts("due_at")?,
        attempt: row.int("attempt")?,
        recipient: row.opt_text("recipient")?,
        subject: row.opt_text("subject")?,
        language: row.opt_text("language")?,
        provider_ref: row.opt_text("provider_ref")?,
        sent_at: row.opt_ts("sent_at")?,
        delivered_at: row.opt_ts("delivered_at")?,
        parts: row.opt_int("parts")?,
        encoding: row.opt_text("encoding")?,
        billing_month: row.opt_text("billing_month")?,
        body_html: if with_bodies {
            row.opt_packed("body_html")?
        } else {
            None
        },
        body_text: if with_bodies {
            row.opt_packed("body_text")?
        } else {
            None
        },
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

pub(crate) async fn insert_event(
    c: &mut AnyConnection,
    message_id: Uuid,
    status: &str,
    detail: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    crate::sql::query(
        "INSERT INTO message_events (message_id, status, detail, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(message_id.to_string())
    .bind(status)
    .bind(detail)
    .bind(ms(now))
    .execute(c)
    .await?;
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

impl Tx {
    /// The messages already recorded for a booking.
    pub async fn existing_messages(
        &mut self,
        booking_id: Uuid,
    ) -> Result<Vec<ExistingMessage>, StoreError> {
        let rows = crate::sql::query("SELECT id, rule_id, occurrence, status, due_at, cancelled_by FROM messages WHERE booking_id = ?")
            .bind(booking_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ExistingMessage {
                    id: r.uuid("id")?,
                    rule_id: r.uuid("rule_id")?,
                    occurrence: r.text("occurrence")?,
                    status: r.parsed("status")?,
                    due_at: r.ts("due_at")?,
                    cancelled_by_staff: r.opt_text("cancelled_by")?.as_deref() == Some("staff"),
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
                    let done = crate::sql::query(
                        "INSERT INTO messages (id, account_id, property_id, booking_id, rule_id, contact_id,
                           occurrence, channel, status, status_reason, due_at, run_at, created_at, updated_at)
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                         ON CONFLICT (booking_id, rule_id, occurrence) DO NOTHING",
                    )
                    .bind(id.to_string())
                    .bind(booking.account_id.to_string())
                    .bind(booking.property_id.to_string())
                    .bind(booking.id.to_string())
                    .bind(rule_id.to_string())
                    .bind(booking.contact_id.to_string())
                    .bind(occurrence)
                    .bind(channel.as_str())
                    .bind(status.as_str())
                    .bind(reason)
                    .bind(ms(*due_at))
                    .bind(ms(*due_at))
                    .bind(ms(now))
                    .bind(ms(now))
                    .execute(self.conn())
                    .await?;
                    if done.rows_affected() == 1 {
                        insert_event(self.conn(), id, status.as_str(), reason.as_deref(), now)
                            .await?;
                        if *status == MessageStatus::Planned {
                            summary.planned += 1
                        } else {
                            summary.skipped += 1
                        }
                    }
                }
                PlanAction::Move { message_id, due_at } => {
                    let sql = "UPDATE messages SET due_at = ?, run_at = ?, updated_at = ? WHERE id = ? AND status = 'planned'";
                    if self
                        .transition(sql, *message_id, Some(*due_at), None, now)
                        .await?
                    {
                        let detail = format!("moved to {due_at}");
                        insert_event(self.conn(), *message_id, "planned", Some(&detail), now)
                            .await?;
                        summary.moved += 1;
                    }
                }
                PlanAction::Reopen { message_id, due_at } => {
                    let sql = "UPDATE messages SET status = 'planned', status_reason = NULL, cancelled_by = NULL,
                                 due_at = ?, run_at = ?, updated_at = ?
                               WHERE id = ? AND (status = 'skipped' OR (status = 'cancelled' AND cancelled_by = 'planner'))";
                    if self
                        .transition(sql, *message_id, Some(*due_at), None, now)
                        .await?
                    {
                        let detail = format!("planned again for {due_at}");
                        insert_event(self.conn(), *message_id, "planned", Some(&detail), now)
                            .await?;
                        summary.reopened += 1;
                    }
                }
                PlanAction::Cancel { message_id, reason } => {
                    let sql = "UPDATE messages SET status = 'cancelled', cancelled_by = 'planner', status_reason = ?,
                                 updated_at = ? WHERE id = ? AND status IN ('planned', 'deferred')";
                    if self
                        .transition(sql, *message_id, None, Some(reason), now)
                        .await?
                    {
                        insert_event(self.conn(), *message_id, "cancelled", Some(reason), now)
                            .await?;
                        summary.cancelled += 1;
                    }
                }
                PlanAction::Skip { message_id, reason } => {
                    let sql =
                        "UPDATE messages SET status = 'skipped', status_reason = ?, updated_at = ?
                               WHERE id = ? AND status = 'planned'";
                    if self
                        .transition(sql, *message_id, None, Some(reason), now)
                        .await?
                    {
                        insert_event(self.conn(), *message_id, "skipped", Some(reason), now)
                            .await?;
                        summary.cancelled += 1;
                    }
                }
            }
        }
        Ok(summary)
    }

    async fn transition(
        &mut self,
        sql: &'static str,
        id: Uuid,
        due_at: Option<Timestamp>,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut q = crate::sql::query(sql);
        if let Some(due) = due_at {
            q = q.bind(ms(due)).bind(ms(due));
        }
        if let Some(reason) = reason {
            q = q.bind(reason.to_owned());
        }
        let done = q
            .bind(ms(now))
            .bind(id.to_string())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
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
                "UPDATE messages SET status = 'cancelled', cancelled_by = 'staff', status_reason = ?, updated_at = ?
                 WHERE id = ? AND account_id = ? AND status IN ('planned', 'deferred', 'skipped')",
                "cancelled",
                format!("cancelled by {actor}"),
            ),
            StaffAction::SendNow => (
                "UPDATE messages SET status = 'planned', status_reason = ?, run_at = ?, due_at = ?, forced = 1, updated_at = ?
                 WHERE id = ? AND account_id = ? AND status IN ('planned', 'deferred', 'skipped')",
                "planned",
                format!("send now, asked by {actor}"),
            ),
        };
        let mut q = crate::sql::query(sql).bind(detail.clone());
        if action == StaffAction::SendNow {
            q = q.bind(ms(now)).bind(ms(now));
        }
        let done = q
            .bind(ms(now))
            .bind(id.to_string())
            .bind(account.to_string())
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 1 {
            insert_event(self.conn(), id, status, Some(&detail), now).await?;
        }
        Ok(done.rows_affected() == 1)
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

impl Store {
    /// One message, with its rendered bodies.
    pub async fn message(&self, account: Uuid, id: Uuid) -> Result<MessageRecord, StoreError> {
        let row = crate::sql::query(
            "SELECT m.*, b.body_html, b.body_text FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id
             WHERE m.id = ? AND m.account_id = ?",
        )
            .bind(id.to_string())
            .bind(account.to_string())
            .fetch_one(&self.pool)
            .await?;
        record_from(&row, true)
    }

    /// Messages, by due time.
    pub async fn messages(
        &self,
        account: Uuid,
        f: &MessageFilter,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let mut q = crate::sql::Builder::new(
                self.backend,
            "SELECT id, property_id, booking_id, rule_id, contact_id, kind, campaign_id, occurrence, channel, status,
               status_reason, due_at, attempt, recipient, subject, language, provider_ref, sent_at, delivered_at,
               parts, encoding, billing_month, created_at, updated_at
             FROM messages WHERE account_id = ",
        );
        q.push_bind(account.to_string());
        if let Some(s) = f.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(b) = f.booking_id {
            q.push(" AND booking_id = ").push_bind(b.to_string());
        }
        if let Some(c) = f.contact_id {
            q.push(" AND contact_id = ").push_bind(c.to_string());
        }
        if let Some(p) = f.property_id {
            q.push(" AND property_id = ").push_bind(p.to_string());
        }
        if let Some(c) = &f.channel {
            q.push(" AND channel = ").push_bind(c.clone());
        }
        if let Some(m) = &f.billing_month {
            q.push(" AND billing_month = ").push_bind(m.clone());
        }
        if let Some(c) = f.campaign_id {
            q.push(" AND campaign_id = ").push_bind(c.to_string());
        }
        if let Some(from) = f.due_from {
            q.push(" AND due_at >= ").push_bind(ms(from));
        }
        if let Some(to) = f.due_to {
            q.push(" AND due_at < ").push_bind(ms(to));
        }
        if let Some((due, id)) = f.after {
            q.push(" AND (due_at, id) > (")
                .push_bind(ms(due))
                .push(", ")
                .push_bind(id.to_string())
                .push(")");
        }
        q.push(" ORDER BY due_at, id LIMIT ").push_bind(f.limit);
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(|r| record_from(r, false)).collect()
    }

    /// A message's status history, oldest first.
    pub async fn message_events(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<Vec<MessageEvent>, StoreError> {
        let rows = crate::sql::query(
            "SELECT e.status, e.detail, e.created_at FROM message_events e JOIN messages m ON m.id = e.message_id
             WHERE e.message_id = ? AND m.account_id = ? ORDER BY e.id",
        )
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MessageEvent {
                    status: r.text("status")?,
                    detail: r.opt_text("detail")?,
                    at: r.ts("created_at")?,
                })
            })
            .collect()
    }

    /// What is due in [from, to), with reasons for what will not go out. `account` None: all.
    pub async fn timeline(
        &self,
        account: Option<Uuid>,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> Result<Vec<TimelineRow>, StoreError> {
        let rows = crate::sql::query(
            "SELECT m.id, m.due_at, m.status, m.status_reason, m.subject, m.booking_id, m.channel, p.time_zone,
               p.name AS property,
               COALESCE(r.name, s.name, CASE m.kind WHEN 'tan' THEN 'one-time code' ELSE m.kind END) AS rule,
               TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')) AS guest
             FROM messages m JOIN properties p ON p.id = m.property_id LEFT JOIN rules r ON r.id = m.rule_id
               LEFT JOIN sms_campaigns s ON s.id = m.campaign_id JOIN contacts c ON c.id = m.contact_id
             WHERE (? IS NULL OR m.account_id = ?) AND m.due_at >= ? AND m.due_at < ?
             ORDER BY m.due_at, m.id LIMIT ?",
        )
        .bind(account.map(|a| a.to_string()))
        .bind(account.map(|a| a.to_string()))
        .bind(ms(from))
        .bind(ms(to))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TimelineRow {
                    message_id: r.uuid("id")?,
                    due_at: r.ts("due_at")?,
                    time_zone: r.text("time_zone")?,
                    property: r.text("property")?,
                    rule: r.text("rule")?,
                    booking_id: r.opt_uuid("booking_id")?,
                    channel: r.text("channel")?,
                    guest: r.opt_text("guest")?.filter(|g| !g.is_empty()),
                    status: r.parsed("status")?,
                    reason: r.opt_text("status_reason")?,
                    subject: r.opt_text("subject")?,
                })
            })
            .collect()
    }

    /// Number of messages per status (all accounts), for metrics and benchmarks.
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = crate::sql::query(
            "SELECT status, COUNT(*) AS n FROM messages GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.text("status")?, r.int("n")?)))
            .collect()
    }

    /// The earliest run time of a waiting message, so a dispatcher can sleep until then.
    pub async fn next_run_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let row = crate::sql::query(
            "SELECT MIN(run_at) AS t FROM messages WHERE status IN ('planned', 'deferred')",
        )
        .fetch_one(&self.pool)
        .await?;
        row.opt_ts("t")
    }
}
