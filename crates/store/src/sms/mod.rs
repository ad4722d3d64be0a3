//! SMS bookkeeping: the monthly count of parts (reserved before a send, under the limit, in
//! one statement), delivery reports, inbound SMS, one-time codes, bulk SMS
//! campaigns, and the installation's own signing secret.

mod billing;
mod campaigns;
mod deliveries;
mod inbound;
mod tans;

pub(crate) use billing::release_parts;
pub use billing::{MonthCounts, Reservation, Reserved, UsageRow};
pub use campaigns::{AudienceFilter, CampaignRecord};
pub use deliveries::DeliveryApplied;
pub use inbound::InboundRecord;
pub use tans::TanRecord;

use crate::value::{Id, Ts, opt_id};
use crate::{Store, StoreError, Tx};
use bellhop_domain::MessageStatus;
use jiff::Timestamp;
use uuid::Uuid;

/// A kept body pair as stored (compressed HTML, compressed text).
type StoredBodies = (Option<Vec<u8>>, Option<Vec<u8>>);

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
    /// The booking it is about (a channel change), if any.
    pub booking_id: Option<Uuid>,
    /// `tan`, `bulk`, `consent` or `channel_change`.
    pub kind: bellhop_domain::MessageKind,
    /// `sms`, `email` or `webhook`.
    pub channel: &'static str,
    /// What it is, where a kind has several (`consent_request`, `consent_confirm:<id>`).
    pub occurrence: String,
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
    pub reason: Option<bellhop_domain::Reason>,
}

impl Store {
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
}

impl Tx {
    /// Stores messages that belong to no booking (one-time codes, a bulk SMS's recipients).
    pub async fn insert_ad_hoc_messages(
        &mut self,
        messages: &[AdHocMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for chunk in messages.chunks(300) {
            let texts: Vec<Option<String>> = chunk
                .iter()
                .map(|m| m.reason.as_ref().map(ToString::to_string))
                .collect();
            on!(self.conn(), c, db => {
                let mut q = sqlx::QueryBuilder::<db::Db>::new(
                    "INSERT INTO messages (id, account_id, property_id, contact_id, booking_id, kind, campaign_id, occurrence,
                       channel, status, status_reason, status_code, due_at, run_at, priority, sms_text, created_at,
                       updated_at) ",
                );
                q.push_values(chunk.iter().zip(&texts), |mut row, (m, text)| {
                    row.push_bind(Id(m.id))
                        .push_bind(Id(m.account_id))
                        .push_bind(Id(m.property_id))
                        .push_bind(Id(m.contact_id))
                        .push_bind(opt_id(m.booking_id))
                        .push_bind(m.kind.as_str())
                        .push_bind(opt_id(m.campaign_id))
                        .push_bind(m.occurrence.as_str())
                        .push_bind(m.channel)
                        .push_bind(m.status.as_str())
                        .push_bind(text.as_deref())
                        .push_bind(m.reason.as_ref().map(bellhop_domain::Reason::code))
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
                .zip(&texts)
                .map(|(m, text)| crate::messages::NewEvent {
                    message_id: m.id,
                    status: m.status.as_str(),
                    detail: text.as_deref(),
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
}
