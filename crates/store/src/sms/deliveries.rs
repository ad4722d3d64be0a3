//! Delivery reports applied to sent SMS and voice messages, monotonically.

use crate::error::corrupt;
use crate::value::{Id, Ts};
use crate::{Store, StoreError, Tx};
use bellhop_domain::notice::Notice;
use bellhop_domain::{Delivery, MessageStatus};
use jiff::Timestamp;
use uuid::Uuid;

/// What a delivery report changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryApplied {
    /// The status before.
    pub before: MessageStatus,
    /// The status after (the same when nothing changed).
    pub after: MessageStatus,
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
                    "UPDATE messages SET status = $1, status_reason = $2, delivered_at = $3, updated_at = $4,
                       status_code = CASE WHEN $2 IS NULL THEN NULL ELSE 'not_delivered' END
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
            &Notice::SmsNotDelivered {
                reason: detail.to_owned(),
            },
            at,
        )
        .await?;
    }
    Ok(DeliveryApplied { before, after })
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
}
