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
}

impl SmsFolder {
    /// A folder transport; the folder is created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(SmsFolder { dir })
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
        let value = serde_json::json!({
            "message_id": call.message_id,
            "from": call.from,
            "to": call.to,
            "say": call.text,
            "language": call.language,
        });
        self.write(call.message_id, "call.json", value).await
    }
}
