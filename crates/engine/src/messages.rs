//! Staff actions on a single message.

use crate::error::EngineError;
use crate::service::Engine;
use uuid::Uuid;

impl Engine {
    /// A staff member's action on a message (cancel it for good, or send it now); refused
    /// unless the message is planned, deferred or skipped.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %account, message_id = %id, actor))]
    pub async fn act_on_message(
        &self,
        account: Uuid,
        id: Uuid,
        action: bellhop_store::StaffAction,
        actor: &str,
    ) -> Result<bellhop_store::MessageRecord, EngineError> {
        self.store().message(account, id).await?;
        let mut tx = self.store().begin().await?;
        let done = tx
            .staff_action(account, id, action, actor, self.now())
            .await?;
        tx.commit().await?;
        if !done {
            return Err(EngineError::Conflict(
                "only planned, deferred or skipped messages can be changed".into(),
            ));
        }
        Ok(self.store().message(account, id).await?)
    }
}

impl Engine {
    /// Deletes the kept bodies of messages sent more than `days` days ago (retention), in
    /// batches of 5,000 so no statement holds a lock for long; the messages and their history
    /// stay. Returns how many bodies went.
    #[tracing::instrument(skip_all, err, fields(days))]
    pub async fn forget_old_bodies(&self, days: u32) -> Result<u64, EngineError> {
        const BATCH: i64 = 5_000;
        let cutoff = self
            .now()
            .checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(days)))
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let mut deleted = 0;
        loop {
            let n = self.store().delete_bodies_before(cutoff, BATCH).await?;
            deleted += n;
            if n < BATCH as u64 {
                return Ok(deleted);
            }
        }
    }
}
