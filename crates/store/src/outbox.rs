//! The outbox: claiming due messages under a lease, and recording what became of them.
//!
//! Order of work (DESIGN.md §4): claim → commit → send → record. A claim sets `sending`, the
//! node's name as `lease_owner`, a `lease_until`, and increments `attempt`; the pair
//! (lease_owner, attempt) is the fencing token: a record whose token no longer matches (the
//! lease lapsed and another node took the message) changes nothing. Outcomes of a batch are
//! committed together (group commit), which is what makes per-message durable status cheap.

use crate::bookings::booking_from;
use crate::codec::{RowExt, ms};
use crate::{Store, StoreError};
use bellhop_domain::{Booking, Contact};
use jiff::Timestamp;
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;
use uuid::Uuid;

/// A message claimed for sending, with the booking and contact as they are now.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// Message id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Rule.
    pub rule_id: Uuid,
    /// Occurrence key.
    pub occurrence: String,
    /// This attempt's number (1-based); with the lease owner, the fencing token.
    pub attempt: i64,
    /// Due instant.
    pub due_at: Timestamp,
    /// The booking.
    pub booking: Booking,
    /// The contact.
    pub contact: Contact,
}

/// What happened to a claimed message.
#[derive(Clone, Debug)]
pub enum OutcomeKind {
    /// Accepted by the transport.
    Sent {
        /// Address.
        recipient: String,
        /// Subject.
        subject: String,
        /// Language variant used (and whether it was a fallback, in `detail`).
        language: String,
        /// Rendered HTML (None when bodies are not retained).
        body_html: Option<String>,
        /// Rendered text.
        body_text: Option<String>,
        /// Transport reference (Message-ID).
        provider_ref: String,
        /// Extra detail for the history.
        detail: String,
    },
    /// Not sent: no longer wanted, no address, render error.
    Suppressed {
        /// Why.
        reason: String,
    },
    /// The booking moved: back to planned with a new due time.
    Rescheduled {
        /// New due time.
        due_at: Timestamp,
    },
    /// Transient failure: retried at `retry_at`.
    Deferred {
        /// The transport's error.
        error: String,
        /// Next attempt.
        retry_at: Timestamp,
    },
    /// Permanent failure (or out of retries): staff are notified.
    Failed {
        /// The transport's error.
        error: String,
    },
}

/// An outcome for one claimed message.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Message id.
    pub id: Uuid,
    /// Account (for the notification).
    pub account_id: Uuid,
    /// Property (for the notification).
    pub property_id: Uuid,
    /// The attempt it belongs to (fencing).
    pub attempt: i64,
    /// What happened.
    pub kind: OutcomeKind,
}

impl Store {
    /// Claims up to `limit` runnable messages — due ones and ones whose lease lapsed — for
    /// `owner` until `lease_until`.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut tx = self.begin().await?;
        let conn = tx.conn();
        let rows = sqlx::query(
            "UPDATE messages SET status = 'sending', lease_owner = ?, lease_until = ?, attempt = attempt + 1, updated_at = ?
             WHERE id IN (
               SELECT id FROM (SELECT id FROM messages WHERE status IN ('planned', 'deferred') AND run_at <= ? ORDER BY run_at LIMIT ?)
               UNION ALL
               SELECT id FROM (SELECT id FROM messages WHERE status = 'sending' AND lease_until < ? LIMIT ?))
             RETURNING id, account_id, property_id, booking_id, contact_id, rule_id, occurrence, attempt, due_at",
        )
        .bind(owner)
        .bind(ms(lease_until))
        .bind(ms(now))
        .bind(ms(now))
        .bind(limit)
        .bind(ms(now))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let mut events = QueryBuilder::new(
            "INSERT INTO message_events (message_id, status, detail, created_at) ",
        );
        events.push_values(rows.iter(), |mut b, row| {
            let attempt: i64 = row.try_get("attempt").unwrap_or_default();
            let id: String = row.try_get("id").unwrap_or_default();
            b.push_bind(id)
                .push_bind("sending")
                .push_bind(format!("attempt {attempt} by {owner}"))
                .push_bind(ms(now));
        });
        events.build().execute(&mut *conn).await?;

        let ids = |col: &str| -> Vec<String> {
            let mut v: Vec<String> = rows
                .iter()
                .filter_map(|r| r.try_get::<String, _>(col).ok())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let mut q = QueryBuilder::new("SELECT * FROM bookings WHERE id IN (");
        let mut sep = q.separated(", ");
        for id in ids("booking_id") {
            sep.push_bind(id);
        }
        q.push(")");
        let bookings: HashMap<Uuid, Booking> = q
            .build()
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| booking_from(r).map(|b| (b.id, b)))
            .collect::<Result<_, _>>()?;
        let mut q = QueryBuilder::new("SELECT * FROM contacts WHERE id IN (");
        let mut sep = q.separated(", ");
        for id in ids("contact_id") {
            sep.push_bind(id);
        }
        q.push(")");
        let contacts: HashMap<Uuid, Contact> = q
            .build()
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| crate::contacts::contact_from_row(r).map(|c| (c.id, c)))
            .collect::<Result<_, _>>()?;
        tx.commit().await?;

        rows.iter()
            .map(|r| {
                let booking_id = r.uuid("booking_id")?;
                let contact_id = r.uuid("contact_id")?;
                Ok(Claimed {
                    id: r.uuid("id")?,
                    account_id: r.uuid("account_id")?,
                    property_id: r.uuid("property_id")?,
                    rule_id: r.uuid("rule_id")?,
                    occurrence: r.text("occurrence")?,
                    attempt: r.int("attempt")?,
                    due_at: r.ts("due_at")?,
                    booking: bookings
                        .get(&booking_id)
                        .cloned()
                        .ok_or(StoreError::NotFound)?,
                    contact: contacts
                        .get(&contact_id)
                        .cloned()
                        .ok_or(StoreError::NotFound)?,
                })
            })
            .collect()
    }

    /// Records a batch of outcomes in one transaction. Returns how many were stale (their
    /// lease had been taken over), which changed nothing.
    pub async fn record_outcomes(
        &self,
        owner: &str,
        outcomes: &[Outcome],
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let mut tx = self.begin().await?;
        let mut stale = 0;
        let mut history: Vec<(Uuid, &'static str, String)> = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            fn fence<'q>(
                q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
                o: &Outcome,
                owner: &str,
            ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
                q.bind(o.id.to_string())
                    .bind(owner.to_owned())
                    .bind(o.attempt)
            }
            const FENCE: &str =
                " WHERE id = ? AND status = 'sending' AND lease_owner = ? AND attempt = ?";
            let (status, detail, query) = match &o.kind {
                OutcomeKind::Sent { recipient, subject, language, body_html, body_text, provider_ref, detail } => (
                    "sent",
                    detail.clone(),
                    fence(
                        sqlx::query(const_format(
                            "UPDATE messages SET status = 'sent', status_reason = NULL, recipient = ?, subject = ?, language = ?,
                               body_html = ?, body_text = ?, provider_ref = ?, sent_at = ?, updated_at = ?, lease_until = NULL",
                            FENCE,
                        ))
                        .bind(recipient.clone())
                        .bind(subject.clone())
                        .bind(language.clone())
                        .bind(body_html.clone())
                        .bind(body_text.clone())
                        .bind(provider_ref.clone())
                        .bind(ms(now))
                        .bind(ms(now)),
                        o,
                        owner,
                    ),
                ),
                OutcomeKind::Suppressed { reason } => (
                    "suppressed",
                    reason.clone(),
                    fence(
                        sqlx::query(const_format(
                            "UPDATE messages SET status = 'suppressed', status_reason = ?, updated_at = ?, lease_until = NULL",
                            FENCE,
                        ))
                        .bind(reason.clone())
                        .bind(ms(now)),
                        o,
                        owner,
                    ),
                ),
                OutcomeKind::Rescheduled { due_at } => (
                    "planned",
                    format!("booking changed; moved to {due_at}"),
                    fence(
                        sqlx::query(const_format(
                            "UPDATE messages SET status = 'planned', due_at = ?, run_at = ?, updated_at = ?, lease_until = NULL",
                            FENCE,
                        ))
                        .bind(ms(*due_at))
                        .bind(ms(*due_at))
                        .bind(ms(now)),
                        o,
                        owner,
                    ),
                ),
                OutcomeKind::Deferred { error, retry_at } => (
                    "deferred",
                    format!("{error}; next attempt at {retry_at}"),
                    fence(
                        sqlx::query(const_format(
                            "UPDATE messages SET status = 'deferred', status_reason = ?, run_at = ?, updated_at = ?, lease_until = NULL",
                            FENCE,
                        ))
                        .bind(error.clone())
                        .bind(ms(*retry_at))
                        .bind(ms(now)),
                        o,
                        owner,
                    ),
                ),
                OutcomeKind::Failed { error } => (
                    "failed",
                    error.clone(),
                    fence(
                        sqlx::query(const_format(
                            "UPDATE messages SET status = 'failed', status_reason = ?, updated_at = ?, lease_until = NULL",
                            FENCE,
                        ))
                        .bind(error.clone())
                        .bind(ms(now)),
                        o,
                        owner,
                    ),
                ),
            };
            let done = query.execute(tx.conn()).await?;
            if done.rows_affected() == 0 {
                stale += 1;
                continue;
            }
            if let OutcomeKind::Failed { error } = &o.kind {
                let text = format!("Message {} could not be sent: {error}", o.id);
                crate::accounts::insert_notification(
                    tx.conn(),
                    o.account_id,
                    Some(o.property_id),
                    Some(o.id),
                    "message_failed",
                    &text,
                    now,
                )
                .await?;
            }
            history.push((o.id, status, detail));
        }
        for chunk in history.chunks(200) {
            let mut events = QueryBuilder::new(
                "INSERT INTO message_events (message_id, status, detail, created_at) ",
            );
            events.push_values(chunk, |mut b, (id, status, detail)| {
                b.push_bind(id.to_string())
                    .push_bind(*status)
                    .push_bind(detail.clone())
                    .push_bind(ms(now));
            });
            events.build().execute(tx.conn()).await?;
        }
        tx.commit().await?;
        Ok(stale)
    }

    /// Gives back the claims of `owner` that were not started (graceful shutdown).
    pub async fn release_claims(
        &self,
        owner: &str,
        ids: &[Uuid],
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let mut released = 0;
        for id in ids {
            let done = sqlx::query(
                "UPDATE messages SET status = 'planned', attempt = attempt - 1, lease_owner = NULL, lease_until = NULL, updated_at = ?
                 WHERE id = ? AND status = 'sending' AND lease_owner = ?",
            )
            .bind(ms(now))
            .bind(id.to_string())
            .bind(owner)
            .execute(tx.conn())
            .await?;
            if done.rows_affected() == 1 {
                crate::messages::insert_event(
                    tx.conn(),
                    *id,
                    "planned",
                    Some("claim released at shutdown"),
                    now,
                )
                .await?;
                released += 1;
            }
        }
        tx.commit().await?;
        Ok(released)
    }
}

/// Joins a statement head with the fencing clause at compile time (sqlx wants 'static SQL).
fn const_format(head: &'static str, tail: &'static str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{head}{tail}"))
}
