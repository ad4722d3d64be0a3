//! Sequences and enrolments. A step's message is an outbox message of kind `sequence` whose
//! occurrence is `sequence:<enrolment>:<step>:<template>`.

use crate::messages::insert_event;
use crate::value::{Id, Ts};
use crate::{Conn, Store, StoreError, Tx};
use bellhop_domain::sequence::Step;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// A sequence.
#[derive(Clone, Debug, Serialize)]
pub struct Sequence {
    /// Id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// Property (zone, sender, templates).
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// Steps, in order.
    pub steps: Vec<Step>,
    /// Every new booking's guest is enrolled.
    pub enrol_new_bookings: bool,
    /// Created.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct SequenceRow {
    id: Id,
    account_id: Id,
    property_id: Id,
    name: String,
    steps: String,
    enrol_new_bookings: bool,
    created_at: Ts,
}

const SEQUENCE_COLUMNS: &str =
    "id, account_id, property_id, name, steps, enrol_new_bookings, created_at";

impl TryFrom<SequenceRow> for Sequence {
    type Error = StoreError;
    fn try_from(r: SequenceRow) -> Result<Self, StoreError> {
        Ok(Sequence {
            id: r.id.0,
            account_id: r.account_id.0,
            property_id: r.property_id.0,
            name: r.name,
            steps: serde_json::from_str(&r.steps)
                .map_err(|e| StoreError::Corrupt(format!("sequence steps: {e}")))?,
            enrol_new_bookings: r.enrol_new_bookings,
            created_at: r.created_at.0,
        })
    }
}

async fn sequence_of(conn: Conn<'_>, account: Uuid, id: Uuid) -> Result<Sequence, StoreError> {
    let row: Option<SequenceRow> = on!(conn, c, _db => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SEQUENCE_COLUMNS} FROM sequences WHERE id = $1 AND account_id = $2"
        )))
        .bind(Id(id))
        .bind(Id(account))
        .fetch_optional(&mut *c)
        .await?
    });
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// A contact's enrolment in a sequence.
#[derive(Clone, Debug, Serialize)]
pub struct Enrolment {
    /// Id.
    pub id: Uuid,
    /// The sequence.
    pub sequence_id: Uuid,
    /// The contact.
    pub contact_id: Uuid,
    /// `api`, `inbound_mail` or `booking`.
    pub source: String,
    /// `active`, `completed`, `stopped` or `unenrolled`.
    pub status: String,
    /// Enrolled.
    pub enrolled_at: Timestamp,
    /// Ended.
    pub ended_at: Option<Timestamp>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    id: Id,
    sequence_id: Id,
    contact_id: Id,
    source: String,
    status: String,
    enrolled_at: Ts,
    ended_at: Option<Ts>,
    end_reason: Option<String>,
}

const ENROLMENT_COLUMNS: &str =
    "id, sequence_id, contact_id, source, status, enrolled_at, ended_at, end_reason";

impl From<EnrolmentRow> for Enrolment {
    fn from(r: EnrolmentRow) -> Self {
        Enrolment {
            id: r.id.0,
            sequence_id: r.sequence_id.0,
            contact_id: r.contact_id.0,
            source: r.source,
            status: r.status,
            enrolled_at: r.enrolled_at.0,
            ended_at: r.ended_at.map(|t| t.0),
            end_reason: r.end_reason,
        }
    }
}

/// One step's message as it stands.
#[derive(Clone, Debug, Serialize)]
pub struct StepMessage {
    /// The message.
    pub id: Uuid,
    /// `sequence:<enrolment>:<step>:<template>`.
    pub occurrence: String,
    /// Its status.
    pub status: String,
    /// Why not sent.
    pub status_reason: Option<String>,
    /// Due.
    pub due_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    id: Id,
    occurrence: String,
    status: String,
    status_reason: Option<String>,
    due_at: Ts,
}

impl From<StepRow> for StepMessage {
    fn from(r: StepRow) -> Self {
        StepMessage {
            id: r.id.0,
            occurrence: r.occurrence,
            status: r.status,
            status_reason: r.status_reason,
            due_at: r.due_at.0,
        }
    }
}

fn occurrence_prefix(enrolment: Uuid) -> String {
    format!("sequence:{enrolment}:%")
}

impl Store {
    /// The account's sequences.
    pub async fn sequences(&self, account: Uuid) -> Result<Vec<Sequence>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<SequenceRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {SEQUENCE_COLUMNS} FROM sequences WHERE account_id = $1 ORDER BY created_at, id"
            )))
            .bind(Id(account))
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter().map(Sequence::try_from).collect()
    }

    /// One sequence of the account.
    pub async fn sequence(&self, account: Uuid, id: Uuid) -> Result<Sequence, StoreError> {
        let mut pooled = self.acquire().await?;
        sequence_of(pooled.conn(), account, id).await
    }

    /// One enrolment of the account, with its steps' messages.
    pub async fn enrolment(
        &self,
        account: Uuid,
        id: Uuid,
    ) -> Result<(Enrolment, Vec<StepMessage>), StoreError> {
        let mut pooled = self.acquire().await?;
        let (row, steps): (Option<EnrolmentRow>, Vec<StepRow>) = on!(pooled.conn(), c, _db => {
            let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ENROLMENT_COLUMNS} FROM sequence_enrolments WHERE id = $1 AND account_id = $2"
            )))
            .bind(Id(id))
            .bind(Id(account))
            .fetch_optional(&mut *c)
            .await?;
            let steps = sqlx::query_as(
                "SELECT id, occurrence, status, status_reason, due_at FROM messages
                 WHERE account_id = $1 AND kind = 'sequence' AND occurrence LIKE $2 ORDER BY due_at, id",
            )
            .bind(Id(account))
            .bind(occurrence_prefix(id))
            .fetch_all(&mut *c)
            .await?;
            (row, steps)
        });
        Ok((
            row.ok_or(StoreError::NotFound)?.into(),
            steps.into_iter().map(StepMessage::from).collect(),
        ))
    }

    /// The account's enrolments, of one sequence and/or one contact, newest first.
    pub async fn enrolments(
        &self,
        account: Uuid,
        sequence: Option<Uuid>,
        contact: Option<Uuid>,
    ) -> Result<Vec<Enrolment>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows: Vec<EnrolmentRow> = on!(pooled.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ENROLMENT_COLUMNS} FROM sequence_enrolments
                 WHERE account_id = $1 AND ($2 IS NULL OR sequence_id = $2) AND ($3 IS NULL OR contact_id = $3)
                 ORDER BY enrolled_at DESC, id DESC LIMIT 1000"
            )))
            .bind(Id(account))
            .bind(sequence.map(Id))
            .bind(contact.map(Id))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows.into_iter().map(Enrolment::from).collect())
    }

    /// The status of enrolments by id, of any account (the dispatcher's check at send time).
    pub async fn enrolment_statuses(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, String>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut pooled = self.acquire().await?;
        let rows: Vec<(Id, String)> = on!(pooled.conn(), c, db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, status FROM sequence_enrolments WHERE id {}",
                db::in_list(1)
            )))
            .bind(db::id_list(ids))
            .fetch_all(&mut *c)
            .await?
        });
        Ok(rows.into_iter().map(|(id, s)| (id.0, s)).collect())
    }

    /// Stops enrolments whose step was refused for want of consent: the rest of their steps
    /// is cancelled (the dispatcher, after recording the refusal).
    pub async fn stop_enrolments(
        &self,
        stopped: &[(Uuid, String)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if stopped.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (id, reason) in stopped {
            tx.end_enrolment_any(*id, "stopped", reason, now).await?;
        }
        tx.commit().await
    }
}

impl Tx {
    /// One sequence of the account, as this transaction sees it.
    pub async fn sequence(&mut self, account: Uuid, id: Uuid) -> Result<Sequence, StoreError> {
        sequence_of(self.conn(), account, id).await
    }

    /// The property's sequences that enrol every new booking's guest.
    pub async fn sequences_enrolling_bookings(
        &mut self,
        property: Uuid,
    ) -> Result<Vec<Sequence>, StoreError> {
        let rows: Vec<SequenceRow> = on!(self.conn(), c, _db => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {SEQUENCE_COLUMNS} FROM sequences WHERE property_id = $1 AND enrol_new_bookings = $2"
            )))
            .bind(Id(property))
            .bind(true)
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter().map(Sequence::try_from).collect()
    }

    /// Stores a sequence (new or changed).
    pub async fn save_sequence(&mut self, s: &Sequence, now: Timestamp) -> Result<(), StoreError> {
        let steps = serde_json::to_string(&s.steps)
            .map_err(|e| StoreError::Corrupt(format!("sequence steps: {e}")))?;
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO sequences (id, account_id, property_id, name, steps, enrol_new_bookings, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
                 ON CONFLICT (id) DO UPDATE SET name = $4, steps = $5, enrol_new_bookings = $6, updated_at = $7",
            )
            .bind(Id(s.id))
            .bind(Id(s.account_id))
            .bind(Id(s.property_id))
            .bind(s.name.as_str())
            .bind(steps.as_str())
            .bind(s.enrol_new_bookings)
            .bind(Ts(now))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Marks the contact's active enrolment in the sequence completed when none of its steps
    /// is still to go (so the contact may be enrolled again). Returns the active one left.
    pub async fn active_enrolment(
        &mut self,
        sequence: Uuid,
        contact: Uuid,
        now: Timestamp,
    ) -> Result<Option<Uuid>, StoreError> {
        let active: Option<Id> = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT id FROM sequence_enrolments WHERE sequence_id = $1 AND contact_id = $2 AND status = 'active'",
            )
            .bind(Id(sequence))
            .bind(Id(contact))
            .fetch_optional(&mut *c)
            .await?
        });
        let Some(Id(id)) = active else {
            return Ok(None);
        };
        let open: i64 = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM messages WHERE contact_id = $1 AND kind = 'sequence'
                   AND occurrence LIKE $2 AND status IN ('planned', 'deferred', 'sending')",
            )
            .bind(Id(contact))
            .bind(occurrence_prefix(id))
            .fetch_one(&mut *c)
            .await?
        });
        if open > 0 {
            return Ok(Some(id));
        }
        self.end_enrolment_any(id, "completed", "every step has gone", now)
            .await?;
        Ok(None)
    }

    /// Records an enrolment (active). A second active one of the same contact in the same
    /// sequence is a `Duplicate`.
    pub async fn insert_enrolment(
        &mut self,
        account: Uuid,
        e: &Enrolment,
    ) -> Result<(), StoreError> {
        on!(self.conn(), c, _db => {
            sqlx::query(
                "INSERT INTO sequence_enrolments (id, account_id, sequence_id, contact_id, source, status, enrolled_at)
                 VALUES ($1, $2, $3, $4, $5, 'active', $6)",
            )
            .bind(Id(e.id))
            .bind(Id(account))
            .bind(Id(e.sequence_id))
            .bind(Id(e.contact_id))
            .bind(e.source.as_str())
            .bind(Ts(e.enrolled_at))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Ends an active enrolment of the account (`unenrolled`) and cancels its steps still to
    /// go. Not found when it is not the account's or not active.
    pub async fn end_enrolment(
        &mut self,
        account: Uuid,
        id: Uuid,
        status: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let owner: Option<Id> = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "SELECT id FROM sequence_enrolments WHERE id = $1 AND account_id = $2 AND status = 'active'",
            )
            .bind(Id(id))
            .bind(Id(account))
            .fetch_optional(&mut *c)
            .await?
        });
        if owner.is_none() {
            return Err(StoreError::NotFound);
        }
        self.end_enrolment_any(id, status, reason, now).await
    }

    async fn end_enrolment_any(
        &mut self,
        id: Uuid,
        status: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let contact: Option<Id> = on!(self.conn(), c, _db => {
            sqlx::query_scalar(
                "UPDATE sequence_enrolments SET status = $2, ended_at = $3, end_reason = $4
                 WHERE id = $1 AND status = 'active' RETURNING contact_id",
            )
            .bind(Id(id))
            .bind(status)
            .bind(Ts(now))
            .bind(reason)
            .fetch_optional(&mut *c)
            .await?
        });
        let Some(contact) = contact else {
            return Ok(0);
        };
        let text = format!("the enrolment in the sequence ended: {status} ({reason})");
        // Queue rows first, then the messages: the order every writer keeps.
        let ids: Vec<Id> = on!(self.conn(), c, _db => {
            let ids: Vec<Id> = sqlx::query_scalar(
                "SELECT id FROM messages WHERE contact_id = $1 AND kind = 'sequence' AND occurrence LIKE $2
                   AND status IN ('planned', 'deferred')",
            )
            .bind(Id(contact.0))
            .bind(occurrence_prefix(id))
            .fetch_all(&mut *c)
            .await?;
            for id in &ids {
                sqlx::query("DELETE FROM dispatch_queue WHERE message_id = $1")
                    .bind(Id(id.0))
                    .execute(&mut *c)
                    .await?;
                sqlx::query(
                    "UPDATE messages SET status = 'cancelled', status_reason = $2,
                       status_code = 'sequence_ended', updated_at = $3
                     WHERE id = $1 AND status IN ('planned', 'deferred')",
                )
                .bind(Id(id.0))
                .bind(text.as_str())
                .bind(Ts(now))
                .execute(&mut *c)
                .await?;
            }
            ids
        });
        for message in &ids {
            insert_event(self.conn(), message.0, "cancelled", Some(&text), now).await?;
        }
        Ok(ids.len() as u64)
    }
}
