//! The outbox: claiming due messages under a lease, and recording what became of them.
//!
//! Order of work (DESIGN.md §4): claim → commit → send → record. A claim sets `sending`, the
//! node's name as `lease_owner`, a `lease_until`, and increments `attempt`; the pair
//! (lease_owner, attempt) is the fencing token: a record whose token no longer matches (the
//! lease lapsed and another node took the message) changes nothing. Outcomes of a batch are
//! committed together (group commit), which is what makes per-message durable status cheap.

use crate::bookings::{BookingRow, bookings_from};
use crate::error::corrupt;
use crate::messages::{NewEvent, insert_events, pack};
use crate::value::{Id, Ts};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::notice::Notice;
use bellhop_domain::{Booking, Contact, MessageKind};
use jiff::Timestamp;
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
        reason: bellhop_domain::Reason,
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

/// The columns a claim returns.
const CLAIMED_COLUMNS: &str = "id, account_id, property_id, booking_id, contact_id, rule_id, kind, campaign_id, \
    sms_text, billing_month, parts, occurrence, attempt, due_at, forced";

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: Id,
    account_id: Id,
    property_id: Id,
    booking_id: Option<Id>,
    contact_id: Id,
    rule_id: Option<Id>,
    kind: String,
    campaign_id: Option<Id>,
    sms_text: Option<String>,
    billing_month: Option<String>,
    parts: Option<i64>,
    occurrence: String,
    attempt: i64,
    due_at: Ts,
    forced: bool,
}

/// The queue rows a claim takes: urgent ones (one-time codes) first, then due ones, oldest
/// first, skipping those leased to a dispatcher — unless the lease lapsed (its node died or
/// stalled): then another takes the message over. `$2` lease end, `$3` now, `$4` limit;
/// `{lock}` is the backend's lock clause.
fn pick_sql(lock: &str) -> String {
    const RUNNABLE: &str = "run_at <= $3 AND (lease_until IS NULL OR lease_until < $3)";
    format!(
        "SELECT message_id, lease_until FROM (SELECT message_id, lease_until FROM dispatch_queue
           WHERE priority > 0 AND {RUNNABLE} ORDER BY run_at LIMIT $4{lock}) urgent
         UNION
         SELECT message_id, lease_until FROM (SELECT message_id, lease_until FROM dispatch_queue
           WHERE {RUNNABLE} ORDER BY run_at LIMIT $4{lock}) due"
    )
}

/// The history entry of a message taken over after its lease lapsed (its node died or
/// stalled): the attempt before it may or may not have gone out. The claim of a due message
/// writes no history; its outcome's entry names the attempt.
const LAPSED: &str = "the lease of the previous attempt lapsed; taken over as attempt";

/// Marks claimed messages `sending` for `$1` until `$2` (at `$3`), with the next attempt
/// number; the caller appends which messages.
const CLAIM_SET: &str = "UPDATE messages SET status = 'sending', lease_owner = $1, lease_until = $2, \
    attempt = attempt + 1, updated_at = $3";

impl Store {
    /// Claims up to `limit` runnable messages — due ones and ones whose lease lapsed — for
    /// `owner` until `lease_until`, and records the attempt in their history.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let (rows, contacts) = match &self.pool {
            crate::Pool::Sqlite(_) => {
                let mut tx = self.begin().await?;
                let Conn::Sqlite(c) = tx.conn() else {
                    unreachable!("a SQLite pool gives SQLite transactions")
                };
                let picked: Vec<(Id, Option<Ts>)> = sqlx::query_as(sqlx::AssertSqlSafe(pick_sql(
                    crate::backend::sqlite::SKIP_LOCKED,
                )))
                .bind(owner)
                .bind(Ts(lease_until))
                .bind(Ts(now))
                .bind(limit)
                .fetch_all(&mut *c)
                .await?;
                if picked.is_empty() {
                    tx.commit().await?;
                    return Ok(Vec::new());
                }
                let ids: Vec<Uuid> = picked.iter().map(|(id, _)| id.0).collect();
                let list = crate::backend::sqlite::id_list(&ids);
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE dispatch_queue SET lease_until = $1 WHERE message_id {}",
                    crate::backend::sqlite::in_list(2)
                )))
                .bind(Ts(lease_until))
                .bind(&list)
                .execute(&mut *c)
                .await?;
                let rows: Vec<ClaimRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{CLAIM_SET} WHERE id {} RETURNING {CLAIMED_COLUMNS}",
                    crate::backend::sqlite::in_list(4)
                )))
                .bind(owner)
                .bind(Ts(lease_until))
                .bind(Ts(now))
                .bind(&list)
                .fetch_all(&mut *c)
                .await?;
                let lapsed: std::collections::HashSet<Id> = picked
                    .iter()
                    .filter(|(_, lease)| lease.is_some())
                    .map(|(id, _)| *id)
                    .collect();
                let details: Vec<(Uuid, String)> = rows
                    .iter()
                    .filter(|r| lapsed.contains(&r.id))
                    .map(|r| (r.id.0, format!("{LAPSED} {} by {owner}", r.attempt)))
                    .collect();
                let events: Vec<NewEvent<'_>> = details
                    .iter()
                    .map(|(id, detail)| NewEvent {
                        message_id: *id,
                        status: "sending",
                        detail: Some(detail),
                    })
                    .collect();
                insert_events(tx.conn(), &events, now).await?;
                let contacts =
                    crate::contacts::contacts_by_id(tx.conn(), &contact_ids(&rows)).await?;
                tx.commit().await?;
                (rows, contacts)
            }
            crate::Pool::Postgres(pool) => {
                // One statement, one round trip: the lease, the claim and its history entries
                // commit together without a transaction block. Neither update touches an
                // index of its table (see migration 0004).
                let rows: Vec<ClaimRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "WITH picked AS ({}),
                       leased AS (UPDATE dispatch_queue q SET lease_until = $2 FROM picked
                         WHERE q.message_id = picked.message_id RETURNING q.message_id, picked.lease_until AS lapsed),
                       claimed AS ({CLAIM_SET} WHERE id IN (SELECT message_id FROM leased)
                         RETURNING {CLAIMED_COLUMNS}),
                       history AS (INSERT INTO message_events (message_id, status, detail, created_at)
                         SELECT id, 'sending', '{LAPSED} ' || attempt || ' by ' || $1, $3
                         FROM claimed JOIN leased ON leased.message_id = claimed.id WHERE leased.lapsed IS NOT NULL)
                     SELECT * FROM claimed",
                    pick_sql(crate::backend::postgres::SKIP_LOCKED)
                )))
                .bind(owner)
                .bind(Ts(lease_until))
                .bind(Ts(now))
                .bind(limit)
                .fetch_all(pool)
                .await?;
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut conn = pool.acquire().await?;
                let contacts =
                    crate::contacts::contacts_by_id(Conn::Postgres(&mut conn), &contact_ids(&rows))
                        .await?;
                (rows, contacts)
            }
        };
        let contacts: HashMap<Uuid, Contact> = contacts.into_iter().map(|c| (c.id, c)).collect();
        rows.into_iter()
            .map(|r| {
                let billed = match (r.billing_month, r.parts) {
                    (Some(month), Some(parts)) => Some((month, parts)),
                    _ => None,
                };
                Ok(Claimed {
                    id: r.id.0,
                    account_id: r.account_id.0,
                    property_id: r.property_id.0,
                    rule_id: r.rule_id.map(|i| i.0),
                    kind: r.kind.parse().map_err(|e| corrupt("kind", e))?,
                    campaign_id: r.campaign_id.map(|i| i.0),
                    sms_text: r.sms_text,
                    billed,
                    occurrence: r.occurrence,
                    attempt: r.attempt,
                    due_at: r.due_at.0,
                    forced: r.forced,
                    booking_id: r.booking_id.map(|i| i.0),
                    contact: contacts
                        .get(&r.contact_id.0)
                        .cloned()
                        .ok_or_else(|| corrupt("contact_id", "no such contact"))?,
                })
            })
            .collect()
    }

    /// Extends the lease of messages `owner` still holds to `lease_until`, while their batch is
    /// being sent: a batch may take longer than the lease (a slow server), and the lease can
    /// then stay short, so a dead node's messages are taken over soon. Messages whose lease
    /// was already taken over (or that have an outcome) are left alone. Returns how many held.
    pub async fn renew_claims(
        &self,
        owner: &str,
        ids: &[Uuid],
        lease_until: Timestamp,
    ) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let held = on!(tx.conn(), c, db => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE dispatch_queue SET lease_until = $1 WHERE message_id IN
                   (SELECT id FROM messages WHERE id {} AND status = 'sending' AND lease_owner = $2)",
                db::in_list(3)
            )))
            .bind(Ts(lease_until))
            .bind(owner)
            .bind(db::id_list(ids))
            .execute(&mut *c)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE messages SET lease_until = $1
                 WHERE id {} AND status = 'sending' AND lease_owner = $2",
                db::in_list(3)
            )))
            .bind(Ts(lease_until))
            .bind(owner)
            .bind(db::id_list(ids))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        tx.commit().await?;
        Ok(held)
    }

    /// Records a batch of outcomes in one transaction. Returns how many were stale (their
    /// lease had been taken over), which changed nothing.
    pub async fn record_outcomes(
        &self,
        owner: &str,
        outcomes: &[Outcome],
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let sent: Vec<Sent<'_>> = outcomes.iter().filter_map(Sent::of).collect();
        let others: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| !matches!(o.kind, OutcomeKind::Sent { .. }))
            .collect();
        let mut recorded = 0;
        match &self.pool {
            crate::Pool::Postgres(pool) if others.is_empty() => {
                // The common case, one statement and no transaction block.
                let mut conn = pool.acquire().await?;
                recorded += record_sent_postgres(&mut conn, owner, &sent, now).await?;
            }
            _ => {
                let mut tx = self.begin().await?;
                recorded += match tx.conn() {
                    Conn::Sqlite(c) => record_sent_sqlite(c, owner, &sent, now).await?,
                    Conn::Postgres(c) => record_sent_postgres(c, owner, &sent, now).await?,
                };
                for o in others {
                    if record_other(&mut tx, owner, o, now).await? {
                        recorded += 1;
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(outcomes.len() - recorded)
    }
}

/// The parts of a `Sent` outcome the record needs.
struct Sent<'a> {
    o: &'a Outcome,
    channel: &'static str,
    recipient: &'a str,
    subject: Option<&'a str>,
    language: &'a str,
    provider_ref: &'a str,
    parts: Option<i64>,
    encoding: Option<&'static str>,
    detail: &'a str,
    body_html: Option<Vec<u8>>,
    body_text: Option<Vec<u8>>,
}

impl<'a> Sent<'a> {
    fn of(o: &'a Outcome) -> Option<Sent<'a>> {
        let OutcomeKind::Sent {
            channel,
            recipient,
            subject,
            sms,
            language,
            body_html,
            body_text,
            provider_ref,
            detail,
        } = &o.kind
        else {
            return None;
        };
        Some(Sent {
            o,
            channel,
            recipient,
            subject: subject.as_deref(),
            language,
            provider_ref,
            parts: sms.map(|(parts, _)| parts),
            encoding: sms.map(|(_, encoding)| encoding),
            detail,
            body_html: body_html.as_deref().map(pack),
            body_text: body_text.as_deref().map(pack),
        })
    }

    fn has_body(&self) -> bool {
        self.body_html.is_some() || self.body_text.is_some()
    }
}

/// The history entry of a message whose final delivery report came while its send was being
/// recorded (a fast SMS gateway).
const EARLY_REPORT: &str = "delivery report received while the send was being recorded";

/// The change of a sent message: its status (or the delivery report that came early), what
/// went out, and the lease cleared. A one-time code's text is erased once it has gone out.
/// The caller provides `v` (one row per message), `$owner` and `$now`.
const SENT_SET: &str = "status = COALESCE(m.early_report, 'sent'),
       status_reason = CASE WHEN m.early_report IN ('failed', 'expired') THEN m.early_report_detail END,
       status_code = CASE WHEN m.early_report IN ('failed', 'expired') THEN 'not_delivered' END,
       delivered_at = CASE WHEN m.early_report = 'delivered' THEN m.early_report_at END,
       early_report = NULL, early_report_at = NULL, early_report_detail = NULL,
       channel = v.channel, recipient = v.recipient, subject = v.subject, language = v.language,
       provider_ref = v.provider_ref, parts = COALESCE(v.parts, m.parts), encoding = v.encoding,
       sms_text = CASE WHEN m.kind = 'tan' THEN NULL ELSE m.sms_text END,
       lease_until = NULL";

/// Marks many messages sent with one statement: the fencing token (lease owner, attempt) is
/// checked per row, and only the rows that matched change. Their queue rows go first
/// (`dequeued`, which `done` reads): queue row before message, the order every writer
/// takes them in. History, kept bodies and the
/// notice of an early failure report go in the same statement (data-modifying CTEs).
async fn record_sent_postgres(
    c: &mut sqlx::PgConnection,
    owner: &str,
    sent: &[Sent<'_>],
    now: Timestamp,
) -> Result<usize, StoreError> {
    if sent.is_empty() {
        return Ok(0);
    }
    let with_body: Vec<&Sent<'_>> = sent.iter().filter(|s| s.has_body()).collect();
    let done: Vec<Id> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "WITH v AS (
           SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
             $8::bigint[], $9::text[], $10::text[])
             AS v (id, attempt, channel, recipient, subject, language, provider_ref, parts, encoding, detail)),
         dequeued AS (
           DELETE FROM dispatch_queue q USING v, messages m
           WHERE q.message_id = v.id AND m.id = v.id
             AND m.status = 'sending' AND m.attempt = v.attempt AND m.lease_owner = $11
           RETURNING q.message_id),
         done AS (
           UPDATE messages m SET {SENT_SET}, sent_at = $12, updated_at = $12
           FROM v WHERE m.id = v.id AND m.id IN (SELECT message_id FROM dequeued)
             AND m.status = 'sending' AND m.attempt = v.attempt AND m.lease_owner = $11
           RETURNING m.id, m.status, m.status_reason, m.account_id, m.property_id, v.detail, v.attempt),
         history AS (
           INSERT INTO message_events (message_id, status, detail, created_at)
           SELECT id, status, CASE WHEN status = 'sent' THEN detail ELSE '{EARLY_REPORT}' END
             || CASE WHEN attempt > 1 THEN ' (attempt ' || attempt || ' by ' || $11 || ')' ELSE '' END, $12
           FROM done),
         notice AS (
           INSERT INTO notifications (id, account_id, property_id, message_id, kind, text, facts, created_at, updated_at)
           SELECT gen_random_uuid(), account_id, property_id, id, 'sms_not_delivered', '',
             jsonb_build_object('reason', COALESCE(status_reason, '')), $12, $12
           FROM done WHERE status IN ('failed', 'expired')),
         bodies AS (
           INSERT INTO message_bodies (message_id, body_html, body_text, created_at)
           SELECT b.id, b.html, b.text, $12 FROM UNNEST($13::uuid[], $14::bytea[], $15::bytea[]) AS b (id, html, text)
           JOIN done ON done.id = b.id
           ON CONFLICT (message_id) DO UPDATE SET body_html = excluded.body_html,
             body_text = excluded.body_text, created_at = excluded.created_at)
         SELECT id FROM done"
    )))
    .bind(sent.iter().map(|s| Id(s.o.id)).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.o.attempt).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.channel).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.recipient).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.subject).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.language).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.provider_ref).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.parts).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.encoding).collect::<Vec<_>>())
    .bind(sent.iter().map(|s| s.detail).collect::<Vec<_>>())
    .bind(owner)
    .bind(Ts(now))
    .bind(with_body.iter().map(|s| Id(s.o.id)).collect::<Vec<_>>())
    .bind(with_body.iter().map(|s| s.body_html.as_deref()).collect::<Vec<_>>())
    .bind(with_body.iter().map(|s| s.body_text.as_deref()).collect::<Vec<_>>())
    .fetch_all(&mut *c)
    .await?;
    Ok(done.len())
}

#[derive(sqlx::FromRow)]
struct DoneRow {
    id: Id,
    status: String,
    status_reason: Option<String>,
    account_id: Id,
    property_id: Id,
}

/// SQLite: the same change as `record_sent_postgres`, in statements of the open transaction
/// (`UPDATE ... FROM` a `VALUES` list; SQLite has no data-modifying CTEs).
async fn record_sent_sqlite(
    c: &mut sqlx::SqliteConnection,
    owner: &str,
    sent: &[Sent<'_>],
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut recorded = 0;
    for chunk in sent.chunks(300) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "WITH v (id, attempt, channel, recipient, subject, language, provider_ref, parts, encoding) AS (",
        );
        q.push_values(chunk, |mut row, s| {
            row.push_bind(Id(s.o.id))
                .push_bind(s.o.attempt)
                .push_bind(s.channel)
                .push_bind(s.recipient)
                .push_bind(s.subject)
                .push_bind(s.language)
                .push_bind(s.provider_ref)
                .push_bind(s.parts)
                .push_bind(s.encoding);
        });
        q.push(format!(") UPDATE messages AS m SET {SENT_SET}, sent_at = "))
            .push_bind(Ts(now))
            .push(", updated_at = ")
            .push_bind(Ts(now))
            .push(" FROM v WHERE m.id = v.id AND m.status = 'sending' AND m.attempt = v.attempt AND m.lease_owner = ")
            .push_bind(owner)
            .push(" RETURNING id, status, status_reason, account_id, property_id");
        let done: Vec<DoneRow> = q.build_query_as().fetch_all(&mut *c).await?;
        recorded += done.len();
        if !done.is_empty() {
            let ids: Vec<Uuid> = done.iter().map(|d| d.id.0).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM dispatch_queue WHERE message_id {}",
                crate::backend::sqlite::in_list(1)
            )))
            .bind(crate::backend::sqlite::id_list(&ids))
            .execute(&mut *c)
            .await?;
        }
        let by_id: HashMap<Uuid, &DoneRow> = done.iter().map(|d| (d.id.0, d)).collect();
        let mut details = Vec::with_capacity(done.len());
        let mut bodies = Vec::new();
        for s in chunk {
            let Some(d) = by_id.get(&s.o.id) else {
                continue;
            };
            let early = d.status != "sent";
            let detail = if early { EARLY_REPORT } else { s.detail };
            details.push((
                s.o.id,
                &d.status,
                naming_attempt(detail, s.o.attempt, owner),
            ));
            if s.has_body() {
                bodies.push(s);
            }
        }
        let events: Vec<NewEvent<'_>> = details
            .iter()
            .map(|(id, status, detail)| NewEvent {
                message_id: *id,
                status,
                detail: Some(detail),
            })
            .collect();
        insert_events(Conn::Sqlite(&mut *c), &events, now).await?;
        for d in done
            .iter()
            .filter(|d| matches!(d.status.as_str(), "failed" | "expired"))
        {
            let notice = Notice::SmsNotDelivered {
                reason: d.status_reason.clone().unwrap_or_default(),
            };
            crate::accounts::insert_notification(
                Conn::Sqlite(&mut *c),
                d.account_id.0,
                Some(d.property_id.0),
                Some(d.id.0),
                &notice,
                now,
            )
            .await?;
        }
        if !bodies.is_empty() {
            // A repeat after a crash (same message, new attempt) replaces what the lost
            // attempt kept.
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO message_bodies (message_id, body_html, body_text, created_at) ",
            );
            q.push_values(bodies, |mut row, s| {
                row.push_bind(Id(s.o.id))
                    .push_bind(s.body_html.as_deref())
                    .push_bind(s.body_text.as_deref())
                    .push_bind(Ts(now));
            });
            q.push(
                " ON CONFLICT (message_id) DO UPDATE SET body_html = excluded.body_html, \
                 body_text = excluded.body_text, created_at = excluded.created_at",
            );
            q.build().execute(&mut *c).await?;
        }
    }
    Ok(recorded)
}

/// Records one outcome other than "sent" (rare: they get a statement each). Returns whether
/// the fencing token still held.
async fn record_other(
    tx: &mut Tx,
    owner: &str,
    o: &Outcome,
    now: Timestamp,
) -> Result<bool, StoreError> {
    // Every final status erases a one-time code's text. `$1` is the outcome's text, `$2` the
    // time, `$3..$5` the fencing token, `$6` a new instant, `$7` a month, `$8` the code.
    const ERASE: &str = ", sms_text = CASE WHEN kind = 'tan' THEN NULL ELSE sms_text END";
    const FENCE: &str =
        " WHERE id = $3 AND status = 'sending' AND lease_owner = $4 AND attempt = $5";
    let (status, detail, head, at, month) = match &o.kind {
        OutcomeKind::Sent { .. } => return Ok(false),
        OutcomeKind::Suppressed { reason } => (
            "suppressed",
            reason.to_string(),
            format!("UPDATE messages SET status = 'suppressed', status_reason = $1, status_code = $8, updated_at = $2, lease_until = NULL{ERASE}"),
            None,
            None,
        ),
        OutcomeKind::Rescheduled { due_at } => (
            "planned",
            format!("booking changed; moved to {due_at}"),
            "UPDATE messages SET status = 'planned', due_at = $6, run_at = $6, updated_at = $2, lease_until = NULL"
                .to_owned(),
            Some(*due_at),
            None,
        ),
        OutcomeKind::Deferred { error, retry_at } => (
            "deferred",
            format!("{error}; next attempt at {retry_at}"),
            "UPDATE messages SET status = 'deferred', status_reason = $1, status_code = $8, run_at = $6, updated_at = $2, lease_until = NULL".to_owned(),
            Some(*retry_at),
            None,
        ),
        OutcomeKind::Failed { error } => (
            "failed",
            error.clone(),
            format!("UPDATE messages SET status = 'failed', status_reason = $1, status_code = $8, updated_at = $2, lease_until = NULL{ERASE}"),
            None,
            None,
        ),
        OutcomeKind::Rejected { reason, month } => (
            "rejected",
            reason.clone(),
            format!("UPDATE messages SET status = 'rejected', status_reason = $1, status_code = $8, billing_month = $7, parts = NULL, updated_at = $2, lease_until = NULL{ERASE}"),
            None,
            Some(month.as_str()),
        ),
    };
    let code = match &o.kind {
        OutcomeKind::Suppressed { reason } => Some(reason.code()),
        OutcomeKind::Deferred { .. } => Some("transport_error"),
        OutcomeKind::Failed { .. } => Some("send_failed"),
        OutcomeKind::Rejected { .. } => Some("sms_limit_reached"),
        OutcomeKind::Sent { .. } | OutcomeKind::Rescheduled { .. } => None,
    };
    // The deferred reason is the transport's error alone; the history says when it retries.
    let reason = match &o.kind {
        OutcomeKind::Deferred { error, .. } => error.as_str(),
        _ => detail.as_str(),
    };
    // Whatever did not go out (and will not be retried as it is) gives back the SMS parts an
    // earlier attempt counted, before the status change clears them.
    if !matches!(o.kind, OutcomeKind::Deferred { .. }) {
        crate::sms::release_parts(tx.conn(), o.id, owner, o.attempt, now).await?;
    }
    crate::queue::lock(tx.conn(), o.id).await?;
    let sql = format!("{head}{FENCE}");
    let done = on!(tx.conn(), c, _db => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(reason)
            .bind(Ts(now))
            .bind(Id(o.id))
            .bind(owner)
            .bind(o.attempt)
            .bind(at.map(Ts))
            .bind(month)
            .bind(code)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    if done == 0 {
        return Ok(false);
    }
    match &o.kind {
        OutcomeKind::Deferred { retry_at: at, .. } | OutcomeKind::Rescheduled { due_at: at } => {
            crate::queue::requeue(tx.conn(), o.id, *at).await?
        }
        _ => crate::queue::dequeue(tx.conn(), o.id).await?,
    }
    if let OutcomeKind::Failed { error } = &o.kind {
        let notice = Notice::MessageFailed {
            error: error.clone(),
        };
        crate::accounts::insert_notification(
            tx.conn(),
            o.account_id,
            Some(o.property_id),
            Some(o.id),
            &notice,
            now,
        )
        .await?;
    }
    let detail = naming_attempt(&detail, o.attempt, owner);
    crate::messages::insert_event(tx.conn(), o.id, status, Some(&detail), now).await?;
    Ok(true)
}

/// An outcome's history entry; a repeated attempt says which it was and who made it (the
/// first one's claim leaves no entry of its own).
fn naming_attempt<'d>(detail: &'d str, attempt: i64, owner: &str) -> std::borrow::Cow<'d, str> {
    if attempt > 1 {
        format!("{detail} (attempt {attempt} by {owner})").into()
    } else {
        detail.into()
    }
}

fn contact_ids(rows: &[ClaimRow]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.contact_id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
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
    /// SQLite (one node): changes of these bookings in this process wait for the locks.
    Locks(#[allow(dead_code)] crate::Held),
    /// PostgreSQL (any number of nodes): `FOR SHARE` row locks, held by an open transaction.
    RowLocks(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl SendHold {
    /// Lets waiting booking changes go ahead.
    pub async fn release(self) -> Result<(), StoreError> {
        match self._inner {
            HoldInner::Nothing => {}
            HoldInner::Locks(held) => drop(held),
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
        let (hold, rows): (HoldInner, Vec<BookingRow>) = match (&self.pool, &self.locks) {
            (crate::Pool::Sqlite(pool), Some(locks)) => {
                let held = locks.share(ids).await;
                let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT * FROM bookings WHERE id {}",
                    crate::backend::sqlite::in_list(1)
                )))
                .bind(crate::backend::sqlite::id_list(ids))
                .fetch_all(pool)
                .await?;
                (HoldInner::Locks(held), rows)
            }
            (crate::Pool::Sqlite(_), None) => {
                return Err(StoreError::Unsupported(
                    "a SQLite store without its booking locks".into(),
                ));
            }
            (crate::Pool::Postgres(pool), _) => {
                let mut tx = pool.begin().await?;
                // In id order, so that holds and changes of several nodes never deadlock.
                let rows = sqlx::query_as(
                    "SELECT * FROM bookings WHERE id = ANY($1) ORDER BY id FOR SHARE",
                )
                .bind(crate::backend::postgres::id_list(ids))
                .fetch_all(&mut *tx)
                .await?;
                (HoldInner::RowLocks(tx), rows)
            }
        };
        let bookings = bookings_from(rows)?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        Ok((SendHold { _inner: hold }, bookings))
    }
}
