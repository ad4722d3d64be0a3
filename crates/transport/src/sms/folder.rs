//! A folder of `.sms.json` and `.call.json` files: what would have gone to the gateway, one
//! file per message, written atomically. The embedded default, so a newcomer sees every SMS.

use super::{OutgoingCall, OutgoingSms};
use crate::SendError;
use std::path::PathBuf;
use uuid::Uuid;

/// Writes each SMS to `<dir>/<message id>.sms.json`.
#[derive(Debug, Clone)]
pub struct SmsFolder {
    dir: PathBuf,
    caller_id: Option<String>,
}

/// Why a call without a caller id is not placed.
pub const NO_CALLER_ID: &str = "a voice call needs a numeric caller id: give the property a number as SMS sender or set voice.from";

impl SmsFolder {
    /// A folder transport; the folder is created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(SmsFolder {
            dir,
            caller_id: None,
        })
    }

    /// The caller id of calls whose property has no numeric sender (`voice.from`).
    pub fn with_caller_id(mut self, caller_id: Option<String>) -> Self {
        self.caller_id = caller_id;
        self
    }

    async fn write(
        &self,
        id: Uuid,
        suffix: &str,
        value: serde_json::Value,
    ) -> Result<String, SendError> {
        let tmp = self.dir.join(format!(".{id}.{suffix}.tmp"));
        let path = self.dir.join(format!("{id}.{suffix}"));
        let io = |e: std::io::Error| {
            SendError::Transient(format!("cannot write {}: {e}", path.display()))
        };
        let bytes =
            serde_json::to_vec_pretty(&value).map_err(|e| SendError::Permanent(e.to_string()))?;
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io)?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &bytes)
            .await
            .map_err(io)?;
        file.sync_data().await.map_err(io)?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await.map_err(io)?;
        Ok(format!("file:{}", path.display()))
    }

    pub(crate) async fn send(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        let value = serde_json::json!({
            "message_id": sms.message_id,
            "from": sms.from,
            "to": sms.to,
            "text": sms.text,
            "encoding": if sms.unicode { "UCS-2" } else { "GSM-7" },
            "parts": sms.parts,
        });
        self.write(sms.message_id, "sms.json", value).await
    }

    pub(crate) async fn call(&self, call: &OutgoingCall) -> Result<String, SendError> {
        // As a real gateway would: a call without a number to show is not placed.
        let from = call
            .from
            .clone()
            .or_else(|| self.caller_id.clone())
            .ok_or_else(|| SendError::Permanent(NO_CALLER_ID.into()))?;
        let value = serde_json::json!({
            "message_id": call.message_id,
            "from": from,
            "to": call.to,
            "say": call.text,
            "language": call.language,
        });
        self.write(call.message_id, "call.json", value).await
    }
}
