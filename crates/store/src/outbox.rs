//! The outbox: claiming due messages under a lease, and recording what became of them.
//!
//! Order of work (DESIGN.md §4): claim → commit → send → record. A claim sets `sending`, the
//! node's name as `lease_owner`, a `lease_until`, and increments `attempt`; the pair
//! (lease_owner, attempt) is the fencing token: a record whose token no longer matches (the
//! lease lapsed and another node took the message) changes nothing. Outcomes of a batch are
//! committed together (group commit), which is what makes per-message durable status cheap.

use crate::bookings::booking_from;
use crate::codec::{RowExt, ms};
use crate::{Backend, Store, StoreError};
use bellhop_domain::{Booking, Contact, MessageKind};
use jiff::Timestamp;
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;

/// A message claimed for sending, with its contact as it is now.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// Message id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Rule (none for one-time codes and bulk SMS).
    pub rule_id: Option<Uuid>,
    /// Where the message comes from.
    pub kind: MessageKind,
    /// The bulk SMS it belongs to.
    pub campaign_id: Option<Uuid>,
    /// The text of a message without a template (a one-time code).
    pub sms_text: Option<String>,
    /// SMS parts already counted for it by an earlier attempt: (month, parts).
    pub billed: Option<(String, i64)>,
    /// Occurrence key.
    pub occurrence: String,
    /// This attempt's number (1-based); with the lease owner, the fencing token.
    pub attempt: i64,
    /// Due instant.
    pub due_at: Timestamp,
    /// Staff asked for it to go now, whatever the rule says about the time.
    pub forced: bool,
    /// The booking; the dispatcher reads it as it is now under `hold_bookings`.
    pub booking_id: Option<Uuid>,
    /// The contact.
    pub contact: Contact,
}

/// What happened to a claimed message.
#[derive(Clone, Debug)]
pub enum OutcomeKind {
    /// Accepted by the transport.
    Sent {
        /// `email`, `sms` or `voice`.
        channel: &'static str,
        /// Address or number.
        recipient: String,
        /// Subject (email).
        subject: Option<String>,
        /// SMS parts and encoding (SMS and voice).
        sms: Option<(i64, &'static str)>,
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
    /// The monthly SMS limit was reached: not sent, not billed.
    Rejected {
        /// Why, for staff.
        reason: String,
        /// The property-local month whose limit it was.
        month: String,
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
        // Several nodes claim at once on PostgreSQL: each skips the rows another is claiming
        // instead of waiting for them. SQLite has one writer at a time and needs no lock clause.
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let mut tx = self.begin().await?;
        let conn = tx.conn();
        let rows = crate::sql::query(&format!(
            "UPDATE messages SET status = 'sending', lease_owner = ?, lease_until = ?, attempt = attempt + 1, updated_at = ?
             WHERE id IN (
               SELECT id FROM (SELECT id FROM messages WHERE priority > 0 AND status IN ('planned', 'deferred') AND run_at <= ? ORDER BY run_at LIMIT ?{lock}) urgent
               UNION ALL
               SELECT id FROM (SELECT id FROM messages WHERE status IN ('planned', 'deferred') AND run_at <= ? ORDER BY run_at LIMIT ?{lock}) due
               UNION ALL
               SELECT id FROM (SELECT id FROM messages WHERE status = 'sending' AND lease_until < ? LIMIT ?{lock}) lapsed)
             RETURNING id, account_id, property_id, booking_id, contact_id, rule_id, kind, campaign_id, sms_text,
               billing_month, parts, occurrence, attempt, due_at, forced",
        ))
        .bind(owner)
        .bind(ms(lease_until))
        .bind(ms(now))
        .bind(ms(now))
        .bind(limit)
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
        let claimed: Vec<(String, i64)> = rows
            .iter()
            .map(|r| Ok((r.text("id")?, r.int("attempt")?)))
            .collect::<Result<_, StoreError>>()?;
        let mut events = crate::sql::Builder::new(
            self.backend,
            "INSERT INTO message_events (message_id, status, detail, created_at) ",
        );
        events.push_values(claimed, |mut b, (id, attempt)| {
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
        let mut q = crate::sql::Builder::new(self.backend, "SELECT * FROM contacts WHERE id IN (");
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
                let contact_id = r.uuid("contact_id")?;
                let billed = match (r.opt_text("billing_month")?, r.opt_int("parts")?) {
                    (Some(month), Some(parts)) => Some((month, parts)),
                    _ => None,
                };
                Ok(Claimed {
                    id: r.uuid("id")?,
                    account_id: r.uuid("account_id")?,
                    property_id: r.uuid("property_id")?,
                    rule_id: r.opt_uuid("rule_id")?,
                    kind: r.parsed("kind")?,
                    campaign_id: r.opt_uuid("campaign_id")?,
                    sms_text: r.opt_text("sms_text")?,
                    billed,
                    occurrence: r.text("occurrence")?,
                    attempt: r.int("attempt")?,
                    due_at: r.ts("due_at")?,
                    forced: r.int("forced")? != 0,
                    booking_id: r.opt_uuid("booking_id")?,
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
        let mut history: Vec<(Uuid, &'static str, String)> = Vec::with_capacity(outcomes.len());
        let sent: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| matches!(o.kind, OutcomeKind::Sent { .. }))
            .collect();
        let mut recorded = 0;
        for chunk in sent.chunks(300) {
            recorded += record_sent(&mut tx, owner, chunk, now, &mut history).await?;
        }
        for o in outcomes
            .iter()
            .filter(|o| !matches!(o.kind, OutcomeKind::Sent { .. }))
        {
            if let Some(entry) = record_other(&mut tx, owner, o, now).await? {
                history.push(entry);
                recorded += 1;
            }
        }
        for chunk in history.chunks(300) {
            let mut events = crate::sql::Builder::new(
                self.backend,
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
        Ok(outcomes.len() - recorded)
    }
}

/// Marks many messages sent with one statement: the fencing token (lease owner, attempt) is
/// checked per row, and only the rows that matched come back.
async fn record_sent(
    tx: &mut crate::Tx,
    owner: &str,
    chunk: &[&Outcome],
    now: Timestamp,
    history: &mut Vec<(Uuid, &'static str, String)>,
) -> Result<usize, StoreError> {
    let mut q = crate::sql::Builder::new(
        tx.backend,
        "WITH v (id, attempt, channel, recipient, subject, language, provider_ref, parts, encoding) AS (",
    );
    q.push_values(chunk, |mut row, o| {
        if let OutcomeKind::Sent {
            channel,
            recipient,
            subject,
            sms,
            language,
            provider_ref,
            ..
        } = &o.kind
        {
            row.push_bind(o.id.to_string())
                .push_bind(o.attempt)
                .push_bind(*channel)
                .push_bind(recipient.clone())
                .push_bind(subject.clone().unwrap_or_default())
                .push_bind(language.clone())
                .push_bind(provider_ref.clone())
                .push_bind(sms.map_or(0, |(parts, _)| parts))
                .push_bind(sms.map_or("", |(_, encoding)| encoding));
        }
    });
    // A one-time code's text is erased once it has gone out. A delivery report that came in
    // while the message was still being sent (a fast gateway) is applied now.
    q.push(
        ") UPDATE messages SET status = COALESCE(messages.early_report, 'sent'),
           status_reason = CASE WHEN messages.early_report IN ('failed', 'expired') THEN messages.early_report_detail END,
           delivered_at = CASE WHEN messages.early_report = 'delivered' THEN messages.early_report_at END,
           early_report = NULL, early_report_at = NULL, early_report_detail = NULL,
           channel = v.channel, recipient = v.recipient,
           subject = NULLIF(v.subject, ''), language = v.language, provider_ref = v.provider_ref,
           parts = CASE WHEN v.parts > 0 THEN v.parts ELSE messages.parts END,
           encoding = NULLIF(v.encoding, ''),
           sms_text = CASE WHEN messages.kind = 'tan' THEN NULL ELSE messages.sms_text END,
           lease_until = NULL, sent_at = ",
    )
    .push_bind(ms(now))
    .push(", updated_at = ")
    .push_bind(ms(now))
    .push(" FROM v WHERE messages.id = v.id AND messages.status = 'sending' AND messages.attempt = v.attempt AND messages.lease_owner = ")
    .push_bind(owner.to_owned())
    .push(" RETURNING messages.id, messages.status");
    let rows = q.build().fetch_all(tx.conn()).await?;
    let mut done = std::collections::HashSet::with_capacity(rows.len());
    let mut early = Vec::new();
    for r in &rows {
        let id = r.text("id")?;
        // Rare: a delivery report came in while the send was being recorded.
        if r.text("status")? != "sent" {
            let m = crate::sql::query(
                "SELECT status, status_reason, account_id, property_id FROM messages WHERE id = ?",
            )
            .bind(&id)
            .fetch_one(tx.conn())
            .await?;
            early.push((
                r.uuid("id")?,
                m.parsed::<bellhop_domain::MessageStatus>("status")?,
                m.opt_text("status_reason")?,
                m.uuid("account_id")?,
                m.uuid("property_id")?,
            ));
        }
        done.insert(id);
    }
    let mut bodies = Vec::new();
    for o in chunk {
        if let OutcomeKind::Sent {
            detail,
            body_html,
            body_text,
            ..
        } = &o.kind
            && done.contains(&o.id.to_string())
        {
            history.push((o.id, "sent", detail.clone()));
            if body_html.is_some() || body_text.is_some() {
                bodies.push((o.id, body_html, body_text));
            }
        }
    }
    for (id, status, reason, account, property) in early {
        history.push((
            id,
            status.as_str(),
            "delivery report received while the send was being recorded".to_owned(),
        ));
        if status != bellhop_domain::MessageStatus::Delivered {
            let text = format!(
                "SMS {id} did not reach the phone: {}",
                reason.unwrap_or_default()
            );
            crate::accounts::insert_notification(
                tx.conn(),
                account,
                Some(property),
                Some(id),
                "sms_not_delivered",
                &text,
                now,
            )
            .await?;
        }
    }
    if !bodies.is_empty() {
        // A repeat after a crash (same message, new attempt) replaces what the lost attempt kept.
        let mut q = crate::sql::Builder::new(
            tx.backend,
            "INSERT INTO message_bodies (message_id, body_html, body_text, created_at) ",
        );
        q.push_values(bodies, |mut row, (id, html, text)| {
            row.push_bind(id.to_string())
                .push_bind(html.as_deref().map(crate::codec::pack))
                .push_bind(text.as_deref().map(crate::codec::pack))
                .push_bind(ms(now));
        });
        q.push(
            " ON CONFLICT (message_id) DO UPDATE SET body_html = excluded.body_html, \
             body_text = excluded.body_text, created_at = excluded.created_at",
        );
        q.build().execute(tx.conn()).await?;
    }
    Ok(done.len())
}

/// Records one outcome other than "sent" (rare: they get a statement each).
async fn record_other(
    tx: &mut crate::Tx,
    owner: &str,
    o: &Outcome,
    now: Timestamp,
) -> Result<Option<(Uuid, &'static str, String)>, StoreError> {
    const FENCE: &str = " WHERE id = ? AND status = 'sending' AND lease_owner = ? AND attempt = ?";
    // Every final status erases a one-time code's text.
    const ERASE: &str = ", sms_text = CASE WHEN kind = 'tan' THEN NULL ELSE sms_text END";
    let sql = |head: &str| format!("{head}{FENCE}");
    let owner_text = owner.to_owned();
    let (status, detail, query) = match &o.kind {
        OutcomeKind::Sent { .. } => return Ok(None),
        OutcomeKind::Suppressed { reason } => (
            "suppressed",
            reason.clone(),
            crate::sql::query(&sql(&format!("UPDATE messages SET status = 'suppressed', status_reason = ?, updated_at = ?, lease_until = NULL{ERASE}")))
                .bind(reason.clone())
                .bind(ms(now)),
        ),
        OutcomeKind::Rescheduled { due_at } => (
            "planned",
            format!("booking changed; moved to {due_at}"),
            crate::sql::query(&sql("UPDATE messages SET status = 'planned', due_at = ?, run_at = ?, updated_at = ?, lease_until = NULL"))
                .bind(ms(*due_at))
                .bind(ms(*due_at))
                .bind(ms(now)),
        ),
        OutcomeKind::Deferred { error, retry_at } => (
            "deferred",
            format!("{error}; next attempt at {retry_at}"),
            crate::sql::query(&sql("UPDATE messages SET status = 'deferred', status_reason = ?, run_at = ?, updated_at = ?, lease_until = NULL"))
                .bind(error.clone())
                .bind(ms(*retry_at))
                .bind(ms(now)),
        ),
        OutcomeKind::Failed { error } => (
            "failed",
            error.clone(),
            crate::sql::query(&sql(&format!("UPDATE messages SET status = 'failed', status_reason = ?, updated_at = ?, lease_until = NULL{ERASE}")))
                .bind(error.clone())
                .bind(ms(now)),
        ),
        OutcomeKind::Rejected { reason, month } => (
            "rejected",
            reason.clone(),
            crate::sql::query(&sql(&format!("UPDATE messages SET status = 'rejected', status_reason = ?, billing_month = ?, parts = NULL, updated_at = ?, lease_until = NULL{ERASE}")))
                .bind(reason.clone())
                .bind(month.clone())
                .bind(ms(now)),
        ),
    };
    // Whatever did not go out (and will not be retried as it is) gives back the SMS parts an
    // earlier attempt counted, before the status change clears them.
    if matches!(
        o.kind,
        OutcomeKind::Suppressed { .. }
            | OutcomeKind::Rescheduled { .. }
            | OutcomeKind::Failed { .. }
            | OutcomeKind::Rejected { .. }
    ) {
        crate::sms::release_parts(tx.conn(), o.id, owner, o.attempt, now).await?;
    }
    let done = query
        .bind(o.id.to_string())
        .bind(owner_text)
        .bind(o.attempt)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
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
    Ok(Some((o.id, status, detail)))
}

/// Bookings kept from changing while their messages are sent, so that a change can never
/// commit between the send-time check and the send (the check sees it, or it waits until the
/// send is done). Release it once the transport has answered.
pub struct SendHold {
    _inner: HoldInner,
}

enum HoldInner {
    /// Nothing held: the batch has no booking (one-time codes, bulk SMS).
    Nothing,
    /// SQLite (one node): booking writers in this process wait on the gate.
    Gate(tokio::sync::OwnedRwLockReadGuard<()>),
    /// PostgreSQL (any number of nodes): `FOR SHARE` row locks, held by an open transaction.
    RowLocks(sqlx::Transaction<'static, sqlx::Any>),
}

impl SendHold {
    /// Lets waiting booking changes go ahead.
    pub async fn release(self) -> Result<(), StoreError> {
        match self._inner {
            HoldInner::Nothing => {}
            HoldInner::Gate(guard) => drop(guard),
            HoldInner::RowLocks(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Store {
    /// Holds the given bookings unchanged until the hold is released, and returns them as
    /// they are now.
    pub async fn hold_bookings(
        &self,
        ids: &[Uuid],
    ) -> Result<(SendHold, HashMap<Uuid, Booking>), StoreError> {
        if ids.is_empty() {
            let nothing = SendHold {
                _inner: HoldInner::Nothing,
            };
            return Ok((nothing, HashMap::new()));
        }
        let mut q = crate::sql::Builder::new(self.backend, "SELECT * FROM bookings WHERE id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.to_string());
        }
        q.push(") ORDER BY id");
        let (hold, rows) = match &self.gate {
            Some(gate) => {
                let guard = gate.clone().read_owned().await;
                let rows = q.build().fetch_all(&self.pool).await?;
                (HoldInner::Gate(guard), rows)
            }
            None => {
                let mut tx = self.pool.begin().await?;
                q.push(" FOR SHARE");
                let rows = q.build().fetch_all(&mut *tx).await?;
                (HoldInner::RowLocks(tx), rows)
            }
        };
        let bookings = rows
            .iter()
            .map(|r| booking_from(r).map(|b| (b.id, b)))
            .collect::<Result<_, _>>()?;
        Ok((SendHold { _inner: hold }, bookings))
    }
}
