//! SMS bookkeeping: the monthly count of parts (reserved before a send, under the limit, in
//! one statement), delivery reports, inbound SMS and opt-out events, one-time codes, bulk SMS
//! campaigns, and the installation's own signing secret.

use crate::error::corrupt;
use crate::value::{Id, Ts, opt_id};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::{Delivery, MessageStatus};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::types::Json;
use std::collections::HashSet;
use uuid::Uuid;

/// Parts to count for a claimed SMS before it is sent.
#[derive(Clone, Debug)]
pub struct Reservation {
    /// Message.
    pub message_id: Uuid,
    /// Its attempt (fencing).
    pub attempt: i64,
    /// Property whose month it counts in.
    pub property_id: Uuid,
    /// Account (for the notification).
    pub account_id: Uuid,
    /// `YYYY-MM`, property time.
    pub month: String,
    /// Parts of the text.
    pub parts: i64,
    /// The property's monthly limit.
    pub limit: Option<u32>,
}

/// What became of a reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserved {
    /// Counted (or counted already by an earlier attempt): send it.
    Granted,
    /// The limit would be exceeded: do not send, do not bill.
    LimitReached,
    /// The lease was taken over meanwhile: leave the message alone.
    Stale,
}

/// SMS parts counted in a month, with the limit state.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UsageRow {
    /// Parts counted.
    pub parts: i64,
    /// Staff were told the limit was reached.
    pub limit_notified: bool,
}

/// SMS of a month by status.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct MonthCounts {
    /// Accepted by the gateway (including those delivered, failed or expired later).
    pub sent: i64,
    /// Reached the phone.
    pub delivered: i64,
    /// Not delivered (delivery report) or refused by the gateway after counting.
    pub failed: i64,
    /// The network gave up.
    pub expired: i64,
    /// Over the limit: not sent, not billed.
    pub rejected: i64,
    /// Voice calls among the sent.
    pub voice: i64,
}

/// An inbound SMS as received.
#[derive(Clone, Debug)]
pub struct InboundRecord {
    /// Id.
    pub id: Uuid,
    /// The account it was matched to.
    pub account_id: Option<Uuid>,
    /// `kannel`, `twilio`, ...
    pub gateway: String,
    /// The sender (E.164 when it parsed).
    pub sender: String,
    /// Our number or short code.
    pub recipient: String,
    /// The text.
    pub text: String,
    /// `opt_out` / `opt_in`.
    pub keyword: Option<String>,
    /// The callback's parameters (JSON), as evidence.
    pub raw: String,
    /// When it arrived.
    pub received_at: Timestamp,
}

/// An SMS opt-out or opt-in.
#[derive(Clone, Debug, Serialize)]
pub struct ConsentEvent {
    /// Id.
    pub id: Uuid,
    /// The number.
    pub phone_e164: String,
    /// The contact, where known.
    pub contact_id: Option<Uuid>,
    /// `opt_out` or `opt_in`.
    pub action: String,
    /// `sms_keyword`, `staff`, `api`.
    pub source: String,
    /// The keyword, for keyword events.
    pub keyword: Option<String>,
    /// The inbound SMS that asked for it.
    pub inbound_id: Option<Uuid>,
    /// Who, for staff and API events.
    pub actor: Option<String>,
    /// When.
    pub at: Timestamp,
}

/// A one-time code as stored: only its keyed hash.
#[derive(Clone, Debug)]
pub struct TanRecord {
    /// Id (also the message id).
    pub id: Uuid,
    /// Contact.
    pub contact_id: Uuid,
    /// Hex HMAC of the code.
    pub code_hash: String,
    /// Wrong guesses so far.
    pub attempts: i64,
    /// After this the code is void.
    pub expires_at: Timestamp,
    /// When it was confirmed.
    pub verified_at: Option<Timestamp>,
}

/// A bulk SMS as stored.
#[derive(Clone, Debug, Serialize)]
pub struct CampaignRecord {
    /// Id.
    pub id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// Text template.
    pub text: String,
    /// The contact filter (JSON).
    pub filter: serde_json::Value,
    /// When it goes out.
    pub send_at: Timestamp,
    /// Recipients planned.
    pub recipients: i64,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A message without a booking, as the engine creates it.
#[derive(Clone, Debug)]
pub struct AdHocMessage {
    /// Id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Contact.
    pub contact_id: Uuid,
    /// `tan` or `bulk`.
    pub kind: bellhop_domain::MessageKind,
    /// The bulk SMS.
    pub campaign_id: Option<Uuid>,
    /// The text (one-time codes; bulk texts come from the campaign).
    pub sms_text: Option<String>,
    /// When.
    pub due_at: Timestamp,
    /// Claimed before normal messages when above 0.
    pub priority: i64,
    /// `planned`, or `suppressed` with `reason` (known not to be sendable).
    pub status: MessageStatus,
    /// Why it is suppressed.
    pub reason: Option<String>,
}

/// Which contacts a bulk SMS goes to.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AudienceFilter {
    /// Only these contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_ids: Option<Vec<Uuid>>,
    /// Only contacts with these languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    /// Only contacts living in these countries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countries: Option<Vec<String>>,
    /// Only contacts with a booking in one of these statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_statuses: Option<Vec<bellhop_domain::BookingStatus>>,
    /// Only contacts with a booking made at or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_from: Option<Timestamp>,
    /// Only contacts with a booking made before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_to: Option<Timestamp>,
}

/// What a delivery report changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryApplied {
    /// The status before.
    pub before: MessageStatus,
    /// The status after (the same when nothing changed).
    pub after: MessageStatus,
}

/// A kept body pair as stored (compressed HTML, compressed text).
type StoredBodies = (Option<Vec<u8>>, Option<Vec<u8>>);

#[derive(sqlx::FromRow)]
struct CountedRow {
    property_id: Id,
    billing_month: Option<String>,
    parts: Option<i64>,
}

/// What an attempt counted, if it still holds the lease.
async fn counted(
    conn: Conn<'_>,
    id: Uuid,
    owner: &str,
    attempt: i64,
) -> Result<Option<CountedRow>, StoreError> {
    Ok(on!(conn, c, _db => {
        sqlx::query_as(
            "SELECT property_id, billing_month, parts FROM messages
             WHERE id = $1 AND status = 'sending' AND lease_owner = $2 AND attempt = $3",
        )
        .bind(Id(id))
        .bind(owner)
        .bind(attempt)
        .fetch_optional(&mut *c)
        .await?
    }))
}

/// Takes `parts` off a month's count.
async fn give_back(
    conn: Conn<'_>,
    property: Uuid,
    month: &str,
    parts: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    on!(conn, c, _db => {
        sqlx::query(
            "UPDATE sms_usage SET parts = parts - $1, updated_at = $2 WHERE property_id = $3 AND month = $4",
        )
        .bind(parts)
        .bind(Ts(now))
        .bind(Id(property))
        .bind(month)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// Gives back the parts an attempt counted, when the message will not go out as counted.
/// Fenced like every outcome: only the attempt holding the lease may do it.
pub(crate) async fn release_parts(
    mut conn: Conn<'_>,
    id: Uuid,
    owner: &str,
    attempt: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(CountedRow {
        property_id,
        billing_month: Some(month),
        parts: Some(parts),
    }) = counted(conn.reborrow(), id, owner, attempt).await?
    else {
        return Ok(());
    };
    give_back(conn.reborrow(), property_id.0, &month, parts, now).await?;
    on!(conn, c, _db => {
        sqlx::query("UPDATE messages SET parts = NULL, billing_month = NULL WHERE id = $1")
            .bind(Id(id))
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

impl Store {
    /// Counts the parts of claimed SMS against their month, each only if it stays within the
    /// limit: the check and the increment are one statement, so dispatchers on any number of
    /// nodes never overrun the limit. A message counted by an earlier attempt is counted
    /// again only by the difference. Staff are notified the first time a month's limit stops
    /// an SMS.
    pub async fn reserve_sms(
        &self,
        owner: &str,
        reservations: &[Reservation],
        now: Timestamp,
    ) -> Result<Vec<Reserved>, StoreError> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(reservations.len());
        for r in reservations {
            out.push(reserve_one(&mut tx, owner, r, now).await?);
        }
        tx.commit().await?;
        Ok(out)
    }
}

async fn reserve_one(
    tx: &mut Tx,
    owner: &str,
    r: &Reservation,
    now: Timestamp,
) -> Result<Reserved, StoreError> {
    let Some(row) = counted(tx.conn(), r.message_id, owner, r.attempt).await? else {
        return Ok(Reserved::Stale);
    };
    let counted = match (row.billing_month, row.parts) {
        (Some(month), Some(parts)) if month == r.month => parts,
        (Some(month), Some(parts)) => {
            // Counted in an earlier month by an attempt that did not go out (a retry across
            // the month's end): that month gives the parts back.
            give_back(tx.conn(), r.property_id, &month, parts, now).await?;
            0
        }
        _ => 0,
    };
    let delta = r.parts - counted;
    let limit = r.limit.map(i64::from);
    let granted = on!(tx.conn(), c, _db => {
        sqlx::query(
            "INSERT INTO sms_usage (property_id, month, parts, limit_notified, created_at, updated_at)
             VALUES ($1, $2, 0, FALSE, $3, $3) ON CONFLICT (property_id, month) DO NOTHING",
        )
        .bind(Id(r.property_id))
        .bind(r.month.as_str())
        .bind(Ts(now))
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "UPDATE sms_usage SET parts = parts + $1, updated_at = $2
             WHERE property_id = $3 AND month = $4 AND ($1 <= 0 OR $5 IS NULL OR parts + $1 <= $5)",
        )
        .bind(delta)
        .bind(Ts(now))
        .bind(Id(r.property_id))
        .bind(r.month.as_str())
        .bind(limit)
        .execute(&mut *c)
        .await?
        .rows_affected()
            == 1
    });
    if !granted {
        let first = on!(tx.conn(), c, _db => {
            sqlx::query(
                "UPDATE sms_usage SET limit_notified = TRUE, updated_at = $1
                 WHERE property_id = $2 AND month = $3 AND NOT limit_notified",
            )
            .bind(Ts(now))
            .bind(Id(r.property_id))
            .bind(r.month.as_str())
            .execute(&mut *c)
            .await?
            .rows_affected()
                == 1
        });
        if first {
            let text = format!(
                "The monthly SMS limit of {} for {} is reached: further SMS this month are \
                 rejected (not sent, not billed) until the limit is raised.",
                r.limit.unwrap_or_default(),
                r.month
            );
            crate::accounts::insert_notification(
                tx.conn(),
                r.account_id,
                Some(r.property_id),
                Some(r.message_id),
                "sms_limit_reached",
                &text,
                now,
            )
            .await?;
        }
        return Ok(Reserved::LimitReached);
    }
    on!(tx.conn(), c, _db => {
        sqlx::query("UPDATE messages SET billing_month = $1, parts = $2 WHERE id = $3")
            .bind(r.month.as_str())
            .bind(r.parts)
            .bind(Id(r.message_id))
            .execute(&mut *c)
            .await?;
    });
    Ok(Reserved::Granted)
}

#[derive(sqlx::FromRow)]
struct ReportTarget {
    account_id: Id,
    property_id: Id,
    status: String,
}

async fn apply_one_delivery(
    tx: &mut Tx,
    message_id: Uuid,
    report: Delivery,
    detail: &str,
    at: Timestamp,
) -> Result<DeliveryApplied, StoreError> {
    let row: Option<ReportTarget> = on!(tx.conn(), c, _db => {
        sqlx::query_as(
            "SELECT account_id, property_id, status FROM messages WHERE id = $1 AND channel IN ('sms', 'voice')",
        )
        .bind(Id(message_id))
        .fetch_optional(&mut *c)
        .await?
    });
    let row = row.ok_or(StoreError::NotFound)?;
    let before: MessageStatus = row.status.parse().map_err(|e| corrupt("status", e))?;
    if before == MessageStatus::Sending && report != Delivery::Pending {
        // The gateway was faster than our record of the send: keep the report for it.
        let status = match report {
            Delivery::Delivered => MessageStatus::Delivered,
            Delivery::Expired => MessageStatus::Expired,
            _ => MessageStatus::Failed,
        };
        on!(tx.conn(), c, _db => {
            sqlx::query(
                "UPDATE messages SET early_report = $1, early_report_at = $2, early_report_detail = $3
                 WHERE id = $4 AND status = 'sending'",
            )
            .bind(status.as_str())
            .bind(Ts(at))
            .bind(detail)
            .bind(Id(message_id))
            .execute(&mut *c)
            .await?;
        });
        let note = format!("{detail} (arrived before the send was recorded)");
        crate::messages::insert_event(tx.conn(), message_id, "report", Some(&note), at).await?;
        return Ok(DeliveryApplied {
            before,
            after: before,
        });
    }
    let after = match report.apply_to(before) {
        Some(next) => {
            let done = on!(tx.conn(), c, _db => {
                sqlx::query(
                    "UPDATE messages SET status = $1, status_reason = $2, delivered_at = $3, updated_at = $4
                     WHERE id = $5 AND status = 'sent'",
                )
                .bind(next.as_str())
                .bind((next != MessageStatus::Delivered).then_some(detail))
                .bind((next == MessageStatus::Delivered).then_some(Ts(at)))
                .bind(Ts(at))
                .bind(Id(message_id))
                .execute(&mut *c)
                .await?
                .rows_affected()
            });
            if done == 1 { next } else { before }
        }
        None => before,
    };
    let event_status = if after != before {
        after.as_str()
    } else {
        "report"
    };
    crate::messages::insert_event(tx.conn(), message_id, event_status, Some(detail), at).await?;
    if after == MessageStatus::Failed || after == MessageStatus::Expired {
        crate::accounts::insert_notification(
            tx.conn(),
            row.account_id.0,
            Some(row.property_id.0),
            Some(message_id),
            "sms_not_delivered",
            &format!("SMS {message_id} did not reach the phone: {detail}"),
            at,
        )
        .await?;
    }
    Ok(DeliveryApplied { before, after })
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: Id,
    phone_e164: String,
    contact_id: Option<Id>,
    action: String,
    source: String,
    keyword: Option<String>,
    inbound_id: Option<Id>,
    actor: Option<String>,
    created_at: Ts,
}

#[derive(sqlx::FromRow)]
struct TanRow {
    id: Id,
    contact_id: Id,
    code_hash: String,
    attempts: i64,
    expires_at: Ts,
    verified_at: Option<Ts>,
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: Id,
    property_id: Id,
    name: String,
    text: String,
    filter: Json<serde_json::Value>,
    send_at: Ts,
    recipients: i64,
    created_by: String,
    created_at: Ts,
}

impl From<CampaignRow> for CampaignRecord {
    fn from(r: CampaignRow) -> Self {
        CampaignRecord {
            id: r.id.0,
            property_id: r.property_id.0,
            name: r.name,
            text: r.text,
            filter: r.filter.0,
            send_at: r.send_at.0,
            recipients: r.recipients,
            created_by: r.created_by,
            created_at: r.created_at.0,
        }
    }
}

impl Store {
    /// Applies a delivery report to a sent SMS or voice message, monotonically: `sent →
    /// delivered | failed | expired`; later or repeated reports only add to the history.
    /// `NotFound` when there is no such SMS.
    pub async fn apply_delivery(
        &self,
        message_id: Uuid,
        report: Delivery,
        detail: &str,
        at: Timestamp,
    ) -> Result<DeliveryApplied, StoreError> {
        let mut results = self
            .apply_deliveries(&[(message_id, report, detail.to_owned())], at)
            .await?;
        results.pop().unwrap_or(Err(StoreError::NotFound))
    }

    /// Applies many delivery reports in one transaction (one commit for a burst of gateway
    /// callbacks). Each gets its own answer; `NotFound` for an unknown message does not
    /// affect the others.
    pub async fn apply_deliveries(
        &self,
        reports: &[(Uuid, Delivery, String)],
        at: Timestamp,
    ) -> Result<Vec<Result<DeliveryApplied, StoreError>>, StoreError> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(reports.len());
        for (id, report, detail) in reports {
            out.push(
                match apply_one_delivery(&mut tx, *id, *report, detail, at).await {
                    Ok(applied) => Ok(applied),
                    Err(StoreError::NotFound) => Err(StoreError::NotFound),
                    Err(other) => return Err(other),
                },
            );
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Parts counted for a property in a month.
    pub async fn sms_usage(&self, property_id: Uuid, month: &str) -> Result<UsageRow, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: Option<(i64, bool)> = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT parts, limit_notified FROM sms_usage WHERE property_id = $1 AND month = $2")
                .bind(Id(property_id))
                .bind(month)
                .fetch_optional(&mut *c)
                .await?
        });
        Ok(row
            .map(|(parts, limit_notified)| UsageRow {
                parts,
                limit_notified,
            })
            .unwrap_or_default())
    }

    /// The month's SMS by status (those counted in the month, and those its limit rejected).
    pub async fn sms_month_counts(
        &self,
        property_id: Uuid,
        month: &str,
    ) -> Result<MonthCounts, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<(String, String, i64)> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT status, channel, COUNT(*) AS n FROM messages
                 WHERE property_id = $1 AND billing_month = $2 GROUP BY status, channel",
            )
            .bind(Id(property_id))
            .bind(month)
            .fetch_all(&mut *c)
            .await?
        });
        let mut counts = MonthCounts::default();
        for (status, channel, n) in rows {
            let status: MessageStatus = status.parse().map_err(|e| corrupt("status", e))?;
            let accepted = matches!(
                status,
                MessageStatus::Sent
                    | MessageStatus::Delivered
                    | MessageStatus::Failed
                    | MessageStatus::Expired
            );
            if accepted {
                counts.sent += n;
                if channel == "voice" {
                    counts.voice += n;
                }
            }
            match status {
                MessageStatus::Delivered => counts.delivered += n,
                MessageStatus::Failed => counts.failed += n,
                MessageStatus::Expired => counts.expired += n,
                MessageStatus::Rejected => counts.rejected += n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Accounts an inbound SMS from `sender` to `recipient` belongs to: those of the
    /// properties whose SMS sender is `recipient`, else the account that last sent an SMS to
    /// `sender` (a shared short code).
    pub async fn accounts_for_inbound(
        &self,
        sender: &str,
        recipient: &str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut accounts: Vec<Uuid> = self
            .properties_by_sms_sender(recipient)
            .await?
            .into_iter()
            .map(|p| p.account_id)
            .collect();
        accounts.sort();
        accounts.dedup();
        if accounts.is_empty() {
            let mut pooled = self.acquire().await?;
            let last: Option<Id> = on!(pooled.conn(), c, _db => {
                sqlx::query_scalar(
                    "SELECT account_id FROM messages WHERE recipient = $1 AND channel = 'sms' AND sent_at IS NOT NULL
                     ORDER BY sent_at DESC LIMIT 1",
                )
                .bind(sender)
                .fetch_optional(&mut *c)
                .await?
            });
            accounts.extend(last.map(|a| a.0));
        }
        Ok(accounts)
    }

    /// Of `numbers`, those whose latest SMS consent event in the account is an opt-out.
    pub async fn opted_out_numbers(
        &self,
        account: Uuid,
        numbers: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut out = HashSet::new();
        let mut pooled = self.acquire().await?;
        let rows: Vec<(String, String)> = on!(pooled.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT phone_e164, action FROM sms_consent_events
                 WHERE account_id = $1 AND phone_e164 {} ORDER BY created_at, id",
                db::in_list(2)
            )))
            .bind(Id(account))
            .bind(db::text_list(numbers))
            .fetch_all(&mut *c)
            .await?
        });
        for (number, action) in rows {
            if action == "opt_out" {
                out.insert(number);
            } else {
                out.remove(&number);
            }
        }
        Ok(out)
    }

    /// SMS consent events of a number or a contact, oldest first.
    pub async fn sms_consent_events(
        &self,
        account: Uuid,
        contact: Uuid,
        phone: Option<&str>,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<ConsentRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT * FROM sms_consent_events WHERE account_id = $1 AND (contact_id = $2 OR phone_e164 = $3)
                 ORDER BY created_at, id",
            )
            .bind(Id(account))
            .bind(Id(contact))
            .bind(phone.unwrap_or(""))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| ConsentEvent {
                id: r.id.0,
                phone_e164: r.phone_e164,
                contact_id: r.contact_id.map(|c| c.0),
                action: r.action,
                source: r.source,
                keyword: r.keyword,
                inbound_id: r.inbound_id.map(|i| i.0),
                actor: r.actor,
                at: r.created_at.0,
            })
            .collect())
    }

    /// A one-time code of the account.
    pub async fn tan(&self, account: Uuid, id: Uuid) -> Result<TanRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: TanRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM tans WHERE id = $1 AND account_id = $2")
                .bind(Id(id))
                .bind(Id(account))
                .fetch_one(&mut *c)
                .await?
        });
        Ok(TanRecord {
            id: row.id.0,
            contact_id: row.contact_id.0,
            code_hash: row.code_hash,
            attempts: row.attempts,
            expires_at: row.expires_at.0,
            verified_at: row.verified_at.map(|t| t.0),
        })
    }

    /// The installation's secret called `name`, created with `make` the first time (by
    /// whichever node gets there first; every node then reads the same one).
    pub async fn installation_secret(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        let made = make();
        let value: String = on!(tx.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO installation_secrets (name, value, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(made.as_str())
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
            sqlx::query_scalar("SELECT value FROM installation_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *c)
                .await?
        });
        tx.commit().await?;
        Ok(value)
    }

    /// Whether `needle` appears in any stored message text: subjects, reasons, SMS texts,
    /// the status history and the kept bodies (audits, such as "is this code stored
    /// anywhere?").
    pub async fn message_text_contains(&self, needle: &str) -> Result<bool, StoreError> {
        let like = format!("%{needle}%");
        let mut pooled = self.acquire().await?;
        let (n, bodies): (i64, Vec<StoredBodies>) = on!(pooled.conn(), c, _db => {
            let n = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM messages WHERE sms_text LIKE $1 OR subject LIKE $1 OR status_reason LIKE $1)
                      + (SELECT COUNT(*) FROM message_events WHERE detail LIKE $1)",
            )
            .bind(like.as_str())
            .fetch_one(&mut *c)
            .await?;
            let bodies = sqlx::query_as("SELECT body_html, body_text FROM message_bodies")
                .fetch_all(&mut *c)
                .await?;
            (n, bodies)
        });
        if n > 0 {
            return Ok(true);
        }
        for (html, text) in bodies {
            for body in [
                crate::messages::unpack("body_html", html)?,
                crate::messages::unpack("body_text", text)?,
            ] {
                if body.is_some_and(|b| b.contains(needle)) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The property's bulk SMS, newest first.
    pub async fn campaigns(
        &self,
        account: Uuid,
        property: Uuid,
    ) -> Result<Vec<CampaignRecord>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<CampaignRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(
                "SELECT * FROM sms_campaigns WHERE account_id = $1 AND property_id = $2
                 ORDER BY created_at DESC, id DESC LIMIT 200",
            )
            .bind(Id(account))
            .bind(Id(property))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows.into_iter().map(CampaignRecord::from).collect())
    }

    /// One bulk SMS by id alone (the dispatcher renders its text).
    pub async fn campaign_any(&self, id: Uuid) -> Result<CampaignRecord, StoreError> {
        let mut pooled = self.acquire().await?;
        let row: CampaignRow = on!(pooled.conn(), c, _db => {
            sqlx::query_as("SELECT * FROM sms_campaigns WHERE id = $1")
                .bind(Id(id))
                .fetch_one(&mut *c)
                .await?
        });
        Ok(row.into())
    }
}

impl Tx {
    /// Stores an inbound SMS.
    pub async fn insert_inbound_sms(
        &mut self,
        r: &InboundRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let raw: serde_json::Value = serde_json::from_str(&r.raw)
            .unwrap_or_else(|_| serde_json::Value::String(r.raw.clone()));
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO inbound_sms (id, account_id, gateway, sender, recipient, text, keyword, raw, received_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(Id(r.id))
            .bind(opt_id(r.account_id))
            .bind(r.gateway.as_str())
            .bind(r.sender.as_str())
            .bind(r.recipient.as_str())
            .bind(r.text.as_str())
            .bind(r.keyword.as_deref())
            .bind(Json(&raw))
            .bind(Ts(r.received_at))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Appends an SMS opt-out or opt-in.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_sms_consent_event(
        &mut self,
        account: Uuid,
        phone_e164: &str,
        contact_id: Option<Uuid>,
        action: &str,
        source: &str,
        keyword: Option<&str>,
        inbound_id: Option<Uuid>,
        actor: Option<&str>,
        now: Timestamp,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO sms_consent_events (id, account_id, phone_e164, contact_id, action, source, keyword,
                   inbound_id, actor, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(Id(id))
            .bind(Id(account))
            .bind(phone_e164)
            .bind(opt_id(contact_id))
            .bind(action)
            .bind(source)
            .bind(keyword)
            .bind(opt_id(inbound_id))
            .bind(actor)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(id)
    }

    /// The account's contacts with this number.
    pub async fn contacts_with_phone(
        &mut self,
        account: Uuid,
        e164: &str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<Id> = on!(self.conn(), c, _db => {
            sqlx::query_scalar("SELECT id FROM contacts WHERE account_id = $1 AND phone_e164 = $2 ORDER BY id")
                .bind(Id(account))
                .bind(e164)
                .fetch_all(&mut *c)
                .await?
        });
        Ok(ids.into_iter().map(|i| i.0).collect())
    }

    /// Stores messages that belong to no booking (one-time codes, a bulk SMS's recipients).
    pub async fn insert_ad_hoc_messages(
        &mut self,
        messages: &[AdHocMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for chunk in messages.chunks(300) {
            on!(self.conn(), c, db => {
                let mut q = sqlx::QueryBuilder::<db::Db>::new(
                    "INSERT INTO messages (id, account_id, property_id, contact_id, kind, campaign_id, occurrence,
                       channel, status, status_reason, due_at, run_at, priority, sms_text, created_at, updated_at) ",
                );
                q.push_values(chunk, |mut row, m| {
                    row.push_bind(Id(m.id))
                        .push_bind(Id(m.account_id))
                        .push_bind(Id(m.property_id))
                        .push_bind(Id(m.contact_id))
                        .push_bind(m.kind.as_str())
                        .push_bind(opt_id(m.campaign_id))
                        .push_bind("")
                        .push_bind("sms")
                        .push_bind(m.status.as_str())
                        .push_bind(m.reason.as_deref())
                        .push_bind(Ts(m.due_at))
                        .push_bind(Ts(m.due_at))
                        .push_bind(m.priority)
                        .push_bind(m.sms_text.as_deref())
                        .push_bind(Ts(now))
                        .push_bind(Ts(now));
                });
                q.build().execute(&mut *c).await?;
            });
            let events: Vec<crate::messages::NewEvent<'_>> = chunk
                .iter()
                .map(|m| crate::messages::NewEvent {
                    message_id: m.id,
                    status: m.status.as_str(),
                    detail: m.reason.as_deref(),
                })
                .collect();
            crate::messages::insert_events(self.conn(), &events, now).await?;
            let runnable: Vec<crate::queue::Runnable> = chunk
                .iter()
                .filter(|m| m.status == MessageStatus::Planned)
                .map(|m| crate::queue::Runnable {
                    message_id: m.id,
                    run_at: m.due_at,
                    priority: m.priority,
                })
                .collect();
            crate::queue::enqueue(self.conn(), &runnable).await?;
        }
        Ok(())
    }

    /// Stores a one-time code's hash (its message is stored with `insert_ad_hoc_messages`).
    pub async fn insert_tan(
        &mut self,
        account: Uuid,
        t: &TanRecord,
        purpose: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO tans (id, account_id, contact_id, code_hash, purpose, attempts, expires_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $7)",
            )
            .bind(Id(t.id))
            .bind(Id(account))
            .bind(Id(t.contact_id))
            .bind(t.code_hash.as_str())
            .bind(purpose)
            .bind(Ts(t.expires_at))
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Records a guess at a one-time code: a wrong one counts, a right one confirms it. Only
    /// an unconfirmed code under `max_attempts` changes.
    pub async fn record_tan_guess(
        &mut self,
        id: Uuid,
        right: bool,
        max_attempts: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let sql = if right {
            "UPDATE tans SET verified_at = $1, updated_at = $1 WHERE id = $2 AND verified_at IS NULL AND attempts < $3"
        } else {
            "UPDATE tans SET attempts = attempts + 1, updated_at = $1 WHERE id = $2 AND verified_at IS NULL AND attempts < $3"
        };
        let done = on!(self.conn(), c, _db => {
            sqlx::query(sql)
                .bind(Ts(now))
                .bind(Id(id))
                .bind(max_attempts)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Stores a bulk SMS.
    pub async fn insert_campaign(
        &mut self,
        account: Uuid,
        c: &CampaignRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on!(self.conn(), conn, _db => {
            sqlx::query(
                "INSERT INTO sms_campaigns (id, account_id, property_id, name, text, filter, send_at, recipients,
                   created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            )
            .bind(Id(c.id))
            .bind(Id(account))
            .bind(Id(c.property_id))
            .bind(c.name.as_str())
            .bind(c.text.as_str())
            .bind(Json(&c.filter))
            .bind(Ts(c.send_at))
            .bind(c.recipients)
            .bind(c.created_by.as_str())
            .bind(Ts(now))
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Contacts with a booking at the property, filtered (a bulk SMS's audience). Every
    /// filter is optional; all given ones must hold.
    pub async fn campaign_audience(
        &mut self,
        account: Uuid,
        property: Uuid,
        f: &AudienceFilter,
    ) -> Result<Vec<bellhop_domain::Contact>, StoreError> {
        let rows: Vec<crate::contacts::ContactRow> = on!(self.conn(), c, db => {
            let mut q = sqlx::QueryBuilder::<db::Db>::new("SELECT c.* FROM contacts c WHERE c.account_id = ");
            q.push_bind(Id(account));
            if let Some(ids) = &f.contact_ids {
                q.push(" AND c.id IN (");
                let mut list = q.separated(", ");
                for id in ids {
                    list.push_bind(Id(*id));
                }
                q.push(")");
            }
            if let Some(languages) = &f.languages {
                q.push(" AND c.language IN (");
                let mut list = q.separated(", ");
                for l in languages {
                    list.push_bind(l.as_str());
                }
                q.push(")");
            }
            if let Some(countries) = &f.countries {
                q.push(" AND c.country IN (");
                let mut list = q.separated(", ");
                for l in countries {
                    list.push_bind(l.as_str());
                }
                q.push(")");
            }
            q.push(" AND EXISTS (SELECT 1 FROM bookings b WHERE b.contact_id = c.id AND b.property_id = ")
                .push_bind(Id(property));
            if let Some(statuses) = &f.booking_statuses {
                q.push(" AND b.status IN (");
                let mut list = q.separated(", ");
                for s in statuses {
                    list.push_bind(s.as_str());
                }
                q.push(")");
            }
            if let Some(from) = f.booked_from {
                q.push(" AND b.created_at >= ").push_bind(Ts(from));
            }
            if let Some(to) = f.booked_to {
                q.push(" AND b.created_at < ").push_bind(Ts(to));
            }
            q.push(") ORDER BY c.id LIMIT 100001");
            q.build_query_as().fetch_all(&mut *c).await?
        });
        crate::contacts::contacts_from(rows)
    }
}
