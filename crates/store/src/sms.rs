//! SMS bookkeeping: the monthly count of parts (reserved before a send, under the limit, in
//! one statement), delivery reports, inbound SMS and opt-out events, one-time codes, bulk SMS
//! campaigns, and the installation's own signing secret.

use crate::codec::{RowExt, ms};
use crate::{Store, StoreError, Tx};
use bellhop_domain::{Delivery, MessageStatus};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::AnyConnection;
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

/// Gives back the parts an attempt counted, when the message will not go out as counted.
/// Fenced like every outcome: only the attempt holding the lease may do it.
pub(crate) async fn release_parts(
    conn: &mut AnyConnection,
    id: Uuid,
    owner: &str,
    attempt: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let row = crate::sql::query(
        "SELECT property_id, billing_month, parts FROM messages
         WHERE id = ? AND status = 'sending' AND lease_owner = ? AND attempt = ?
           AND billing_month IS NOT NULL AND parts IS NOT NULL",
    )
    .bind(id.to_string())
    .bind(owner)
    .bind(attempt)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    crate::sql::query(
        "UPDATE sms_usage SET parts = parts - ?, updated_at = ? WHERE property_id = ? AND month = ?",
    )
    .bind(row.int("parts")?)
    .bind(ms(now))
    .bind(row.text("property_id")?)
    .bind(row.text("billing_month")?)
    .execute(&mut *conn)
    .await?;
    crate::sql::query("UPDATE messages SET parts = NULL, billing_month = NULL WHERE id = ?")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
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
    let conn = tx.conn();
    let Some(row) = crate::sql::query(
        "SELECT billing_month, parts FROM messages
         WHERE id = ? AND status = 'sending' AND lease_owner = ? AND attempt = ?",
    )
    .bind(r.message_id.to_string())
    .bind(owner)
    .bind(r.attempt)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(Reserved::Stale);
    };
    let counted = match (row.opt_text("billing_month")?, row.opt_int("parts")?) {
        (Some(month), Some(parts)) if month == r.month => parts,
        (Some(month), Some(parts)) => {
            // Counted in an earlier month by an attempt that did not go out (a retry across
            // the month's end): that month gives the parts back.
            crate::sql::query(
                "UPDATE sms_usage SET parts = parts - ?, updated_at = ? WHERE property_id = ? AND month = ?",
            )
            .bind(parts)
            .bind(ms(now))
            .bind(r.property_id.to_string())
            .bind(month)
            .execute(&mut *conn)
            .await?;
            0
        }
        _ => 0,
    };
    let delta = r.parts - counted;
    crate::sql::query(
        "INSERT INTO sms_usage (property_id, month, parts, limit_notified, created_at, updated_at)
         VALUES (?, ?, 0, 0, ?, ?) ON CONFLICT (property_id, month) DO NOTHING",
    )
    .bind(r.property_id.to_string())
    .bind(&r.month)
    .bind(ms(now))
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    let limit = r.limit.map(i64::from);
    let granted = crate::sql::query(
        "UPDATE sms_usage SET parts = parts + ?, updated_at = ?
         WHERE property_id = ? AND month = ? AND (? <= 0 OR ? IS NULL OR parts + ? <= ?)",
    )
    .bind(delta)
    .bind(ms(now))
    .bind(r.property_id.to_string())
    .bind(&r.month)
    .bind(delta)
    .bind(limit)
    .bind(delta)
    .bind(limit)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !granted {
        let first = crate::sql::query(
            "UPDATE sms_usage SET limit_notified = 1, updated_at = ?
             WHERE property_id = ? AND month = ? AND limit_notified = 0",
        )
        .bind(ms(now))
        .bind(r.property_id.to_string())
        .bind(&r.month)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if first {
            let text = format!(
                "The monthly SMS limit of {} for {} is reached: further SMS this month are \
                 rejected (not sent, not billed) until the limit is raised.",
                r.limit.unwrap_or_default(),
                r.month
            );
            crate::accounts::insert_notification(
                conn,
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
    crate::sql::query("UPDATE messages SET billing_month = ?, parts = ? WHERE id = ?")
        .bind(&r.month)
        .bind(r.parts)
        .bind(r.message_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(Reserved::Granted)
}

async fn apply_one_delivery(
    tx: &mut Tx,
    message_id: Uuid,
    report: Delivery,
    detail: &str,
    at: Timestamp,
) -> Result<DeliveryApplied, StoreError> {
    let row = crate::sql::query(
            "SELECT account_id, property_id, status FROM messages WHERE id = ? AND channel IN ('sms', 'voice')",
        )
        .bind(message_id.to_string())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
    let before: MessageStatus = row.parsed("status")?;
    if before == MessageStatus::Sending && report != Delivery::Pending {
        // The gateway was faster than our record of the send: keep the report for it.
        let status = match report {
            Delivery::Delivered => MessageStatus::Delivered,
            Delivery::Expired => MessageStatus::Expired,
            _ => MessageStatus::Failed,
        };
        crate::sql::query(
            "UPDATE messages SET early_report = ?, early_report_at = ?, early_report_detail = ?
                 WHERE id = ? AND status = 'sending'",
        )
        .bind(status.as_str())
        .bind(ms(at))
        .bind(detail)
        .bind(message_id.to_string())
        .execute(tx.conn())
        .await?;
        let note = format!("{detail} (arrived before the send was recorded)");
        crate::messages::insert_event(tx.conn(), message_id, "report", Some(&note), at).await?;
        return Ok(DeliveryApplied {
            before,
            after: before,
        });
    }
    let after = match report.apply_to(before) {
        Some(next) => {
            let done = crate::sql::query(
                    "UPDATE messages SET status = ?, status_reason = ?, delivered_at = ?, updated_at = ?
                     WHERE id = ? AND status = 'sent'",
                )
                .bind(next.as_str())
                .bind((next != MessageStatus::Delivered).then(|| detail.to_owned()))
                .bind((next == MessageStatus::Delivered).then_some(ms(at)))
                .bind(ms(at))
                .bind(message_id.to_string())
                .execute(tx.conn())
                .await?;
            if done.rows_affected() == 1 {
                next
            } else {
                before
            }
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
            row.uuid("account_id")?,
            Some(row.uuid("property_id")?),
            Some(message_id),
            "sms_not_delivered",
            &format!("SMS {message_id} did not reach the phone: {detail}"),
            at,
        )
        .await?;
    }
    Ok(DeliveryApplied { before, after })
}

/// What a delivery report changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryApplied {
    /// The status before.
    pub before: MessageStatus,
    /// The status after (the same when nothing changed).
    pub after: MessageStatus,
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
        let row = crate::sql::query(
            "SELECT parts, limit_notified FROM sms_usage WHERE property_id = ? AND month = ?",
        )
        .bind(property_id.to_string())
        .bind(month)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => UsageRow {
                parts: r.int("parts")?,
                limit_notified: r.int("limit_notified")? != 0,
            },
            None => UsageRow::default(),
        })
    }

    /// The month's SMS by status (those counted in the month, and those its limit rejected).
    pub async fn sms_month_counts(
        &self,
        property_id: Uuid,
        month: &str,
    ) -> Result<MonthCounts, StoreError> {
        let rows = crate::sql::query(
            "SELECT status, channel, COUNT(*) AS n FROM messages
             WHERE property_id = ? AND billing_month = ? GROUP BY status, channel",
        )
        .bind(property_id.to_string())
        .bind(month)
        .fetch_all(&self.pool)
        .await?;
        let mut c = MonthCounts::default();
        for r in rows {
            let n = r.int("n")?;
            let status: MessageStatus = r.parsed("status")?;
            let accepted = matches!(
                status,
                MessageStatus::Sent
                    | MessageStatus::Delivered
                    | MessageStatus::Failed
                    | MessageStatus::Expired
            );
            if accepted {
                c.sent += n;
                if r.text("channel")? == "voice" {
                    c.voice += n;
                }
            }
            match status {
                MessageStatus::Delivered => c.delivered += n,
                MessageStatus::Failed => c.failed += n,
                MessageStatus::Expired => c.expired += n,
                MessageStatus::Rejected => c.rejected += n,
                _ => {}
            }
        }
        Ok(c)
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
        if accounts.is_empty()
            && let Some(row) = crate::sql::query(
                "SELECT account_id FROM messages WHERE recipient = ? AND channel = 'sms' AND sent_at IS NOT NULL
                 ORDER BY sent_at DESC LIMIT 1",
            )
            .bind(sender)
            .fetch_optional(&self.pool)
            .await?
        {
            accounts.push(row.uuid("account_id")?);
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
        for chunk in numbers.chunks(300) {
            let mut q = crate::sql::Builder::new(
                self.backend,
                "SELECT e.phone_e164, e.action FROM sms_consent_events e WHERE e.account_id = ",
            );
            q.push_bind(account.to_string())
                .push(" AND e.phone_e164 IN (");
            let mut list = q.separated(", ");
            for n in chunk {
                list.push_bind(n.clone());
            }
            q.push(") ORDER BY e.created_at, e.id");
            for row in q.build().fetch_all(&self.pool).await? {
                let number = row.text("phone_e164")?;
                if row.text("action")? == "opt_out" {
                    out.insert(number);
                } else {
                    out.remove(&number);
                }
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
        let rows = crate::sql::query(
            "SELECT * FROM sms_consent_events WHERE account_id = ? AND (contact_id = ? OR phone_e164 = ?)
             ORDER BY created_at, id",
        )
        .bind(account.to_string())
        .bind(contact.to_string())
        .bind(phone.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ConsentEvent {
                    id: r.uuid("id")?,
                    phone_e164: r.text("phone_e164")?,
                    contact_id: r.opt_uuid("contact_id")?,
                    action: r.text("action")?,
                    source: r.text("source")?,
                    keyword: r.opt_text("keyword")?,
                    inbound_id: r.opt_uuid("inbound_id")?,
                    actor: r.opt_text("actor")?,
                    at: r.ts("created_at")?,
                })
            })
            .collect()
    }

    /// A one-time code of the account.
    pub async fn tan(&self, account: Uuid, id: Uuid) -> Result<TanRecord, StoreError> {
        let row = crate::sql::query("SELECT * FROM tans WHERE id = ? AND account_id = ?")
            .bind(id.to_string())
            .bind(account.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(TanRecord {
            id: row.uuid("id")?,
            contact_id: row.uuid("contact_id")?,
            code_hash: row.text("code_hash")?,
            attempts: row.int("attempts")?,
            expires_at: row.ts("expires_at")?,
            verified_at: row.opt_ts("verified_at")?,
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
        crate::sql::query(
            "INSERT INTO installation_secrets (name, value, created_at) VALUES (?, ?, ?)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(make())
        .bind(ms(now))
        .execute(tx.conn())
        .await?;
        let row = crate::sql::query("SELECT value FROM installation_secrets WHERE name = ?")
            .bind(name)
            .fetch_one(tx.conn())
            .await?;
        tx.commit().await?;
        row.text("value")
    }

    /// Whether `needle` appears in any stored message text: subjects, reasons, SMS texts,
    /// the status history and the kept bodies (audits, such as "is this code stored
    /// anywhere?").
    pub async fn message_text_contains(&self, needle: &str) -> Result<bool, StoreError> {
        let like = format!("%{needle}%");
        let row = crate::sql::query(
            "SELECT (SELECT COUNT(*) FROM messages WHERE sms_text LIKE ? OR subject LIKE ? OR status_reason LIKE ?)
                  + (SELECT COUNT(*) FROM message_events WHERE detail LIKE ?) AS n",
        )
        .bind(&like)
        .bind(&like)
        .bind(&like)
        .bind(&like)
        .fetch_one(&self.pool)
        .await?;
        if row.int("n")? > 0 {
            return Ok(true);
        }
        let rows = crate::sql::query("SELECT body_html, body_text FROM message_bodies")
            .fetch_all(&self.pool)
            .await?;
        for r in rows {
            for col in ["body_html", "body_text"] {
                if r.opt_packed(col)?.is_some_and(|b| b.contains(needle)) {
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
        let rows = crate::sql::query(
            "SELECT * FROM sms_campaigns WHERE account_id = ? AND property_id = ? ORDER BY created_at DESC, id DESC LIMIT 200",
        )
        .bind(account.to_string())
        .bind(property.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(campaign_from).collect()
    }

    /// One bulk SMS by id alone (the dispatcher renders its text).
    pub async fn campaign_any(&self, id: Uuid) -> Result<CampaignRecord, StoreError> {
        let row = crate::sql::query("SELECT * FROM sms_campaigns WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        campaign_from(&row)
    }
}

fn campaign_from(r: &sqlx::any::AnyRow) -> Result<CampaignRecord, StoreError> {
    Ok(CampaignRecord {
        id: r.uuid("id")?,
        property_id: r.uuid("property_id")?,
        name: r.text("name")?,
        text: r.text("text")?,
        filter: r.json("filter")?,
        send_at: r.ts("send_at")?,
        recipients: r.int("recipients")?,
        created_by: r.text("created_by")?,
        created_at: r.ts("created_at")?,
    })
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

impl Tx {
    /// Stores an inbound SMS.
    pub async fn insert_inbound_sms(
        &mut self,
        r: &InboundRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        crate::sql::query(
            "INSERT INTO inbound_sms (id, account_id, gateway, sender, recipient, text, keyword, raw, received_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.id.to_string())
        .bind(r.account_id.map(|a| a.to_string()))
        .bind(&r.gateway)
        .bind(&r.sender)
        .bind(&r.recipient)
        .bind(&r.text)
        .bind(r.keyword.clone())
        .bind(&r.raw)
        .bind(ms(r.received_at))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
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
        crate::sql::query(
            "INSERT INTO sms_consent_events (id, account_id, phone_e164, contact_id, action, source, keyword, inbound_id, actor, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(account.to_string())
        .bind(phone_e164)
        .bind(contact_id.map(|c| c.to_string()))
        .bind(action)
        .bind(source)
        .bind(keyword)
        .bind(inbound_id.map(|i| i.to_string()))
        .bind(actor)
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    /// The account's contacts with this number.
    pub async fn contacts_with_phone(
        &mut self,
        account: Uuid,
        e164: &str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let rows = crate::sql::query(
            "SELECT id FROM contacts WHERE account_id = ? AND phone_e164 = ? ORDER BY id",
        )
        .bind(account.to_string())
        .bind(e164)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|r| r.uuid("id")).collect()
    }

    /// Stores messages that belong to no booking (one-time codes, a bulk SMS's recipients).
    pub async fn insert_ad_hoc_messages(
        &mut self,
        messages: &[AdHocMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for chunk in messages.chunks(300) {
            let mut q = crate::sql::Builder::new(
                self.backend,
                "INSERT INTO messages (id, account_id, property_id, contact_id, kind, campaign_id, occurrence, channel,
                   status, status_reason, due_at, run_at, priority, sms_text, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut row, m| {
                row.push_bind(m.id.to_string())
                    .push_bind(m.account_id.to_string())
                    .push_bind(m.property_id.to_string())
                    .push_bind(m.contact_id.to_string())
                    .push_bind(m.kind.as_str())
                    .push_bind(m.campaign_id.map(|c| c.to_string()))
                    .push_bind("")
                    .push_bind("sms")
                    .push_bind(m.status.as_str())
                    .push_bind(m.reason.clone())
                    .push_bind(ms(m.due_at))
                    .push_bind(ms(m.due_at))
                    .push_bind(m.priority)
                    .push_bind(m.sms_text.clone())
                    .push_bind(ms(now))
                    .push_bind(ms(now));
            });
            q.build().execute(self.conn()).await?;
            let mut q = crate::sql::Builder::new(
                self.backend,
                "INSERT INTO message_events (message_id, status, detail, created_at) ",
            );
            q.push_values(chunk, |mut row, m| {
                row.push_bind(m.id.to_string())
                    .push_bind(m.status.as_str())
                    .push_bind(m.reason.clone())
                    .push_bind(ms(now));
            });
            q.build().execute(self.conn()).await?;
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
        crate::sql::query(
            "INSERT INTO tans (id, account_id, contact_id, code_hash, purpose, attempts, expires_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
        )
        .bind(t.id.to_string())
        .bind(account.to_string())
        .bind(t.contact_id.to_string())
        .bind(&t.code_hash)
        .bind(purpose)
        .bind(ms(t.expires_at))
        .bind(ms(now))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
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
            "UPDATE tans SET verified_at = ?, updated_at = ? WHERE id = ? AND verified_at IS NULL AND attempts < ?"
        } else {
            "UPDATE tans SET attempts = attempts + 1, updated_at = ? WHERE id = ? AND verified_at IS NULL AND attempts < ?"
        };
        let mut q = crate::sql::query(sql);
        if right {
            q = q.bind(ms(now));
        }
        let done = q
            .bind(ms(now))
            .bind(id.to_string())
            .bind(max_attempts)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a bulk SMS.
    pub async fn insert_campaign(
        &mut self,
        account: Uuid,
        c: &CampaignRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        crate::sql::query(
            "INSERT INTO sms_campaigns (id, account_id, property_id, name, text, filter, send_at, recipients, created_by, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(c.id.to_string())
        .bind(account.to_string())
        .bind(c.property_id.to_string())
        .bind(&c.name)
        .bind(&c.text)
        .bind(c.filter.to_string())
        .bind(ms(c.send_at))
        .bind(c.recipients)
        .bind(&c.created_by)
        .bind(ms(now))
        .bind(ms(now))
        .execute(self.conn())
        .await?;
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
        let mut q = crate::sql::Builder::new(
            self.backend,
            "SELECT c.* FROM contacts c WHERE c.account_id = ",
        );
        q.push_bind(account.to_string());
        if let Some(ids) = &f.contact_ids {
            q.push(" AND c.id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(id.to_string());
            }
            q.push(")");
        }
        if let Some(languages) = &f.languages {
            q.push(" AND c.language IN (");
            let mut list = q.separated(", ");
            for l in languages {
                list.push_bind(l.clone());
            }
            q.push(")");
        }
        if let Some(countries) = &f.countries {
            q.push(" AND c.country IN (");
            let mut list = q.separated(", ");
            for l in countries {
                list.push_bind(l.clone());
            }
            q.push(")");
        }
        q.push(
            " AND EXISTS (SELECT 1 FROM bookings b WHERE b.contact_id = c.id AND b.property_id = ",
        )
        .push_bind(property.to_string());
        if let Some(statuses) = &f.booking_statuses {
            q.push(" AND b.status IN (");
            let mut list = q.separated(", ");
            for s in statuses {
                list.push_bind(s.as_str());
            }
            q.push(")");
        }
        if let Some(from) = f.booked_from {
            q.push(" AND b.created_at >= ").push_bind(ms(from));
        }
        if let Some(to) = f.booked_to {
            q.push(" AND b.created_at < ").push_bind(ms(to));
        }
        q.push(") ORDER BY c.id LIMIT 100001");
        let rows = q.build().fetch_all(self.conn()).await?;
        rows.iter().map(crate::contacts::contact_from_row).collect()
    }
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
