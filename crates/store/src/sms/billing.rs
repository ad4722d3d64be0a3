//! SMS parts counted per property-local month under its limit: reserved before a send in one
//! statement, given back when a message does not go out as counted.

use crate::error::corrupt;
use crate::value::{Id, Ts};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::MessageStatus;
use bellhop_domain::notice::Notice;
use jiff::Timestamp;
use serde::Serialize;
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
            let notice = Notice::SmsLimitReached {
                limit: r.limit.unwrap_or_default() as i64,
                month: r.month.to_string(),
            };
            crate::accounts::insert_notification(
                tx.conn(),
                r.account_id,
                Some(r.property_id),
                Some(r.message_id),
                &notice,
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

impl Store {
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
}
