//! A folder of `.eml` files: each message written to a temporary name, synced, then renamed,
//! so a reader never sees half a message and a crash never leaves one.

use crate::SendError;
use std::path::PathBuf;
use uuid::Uuid;

/// Writes each email to `<dir>/<message id>.eml`.
#[derive(Debug, Clone)]
pub struct EmlFolder {
    dir: PathBuf,
}

impl EmlFolder {
    /// A folder transport; the folder is created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(EmlFolder { dir })
    }

    pub(crate) async fn write(&self, id: Uuid, bytes: &[u8]) -> Result<(), SendError> {
        let tmp = self.dir.join(format!(".{id}.eml.tmp"));
        let path = self.dir.join(format!("{id}.eml"));
        let io = |e: std::io::Error| {
            SendError::Transient(format!("cannot write {}: {e}", path.display()))
        };
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io)?;
        tokio::io::AsyncWriteExt::write_all(&mut file, bytes)
            .await
            .map_err(io)?;
        file.sync_data().await.map_err(io)?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await.map_err(io)?;
        Ok(())
    }
}
