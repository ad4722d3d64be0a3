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
