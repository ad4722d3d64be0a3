//! `bellhop contact export|erase`: GDPR requests from the command line, through the same
//! engine commands as `GET /contacts/{id}/export` and `POST /contacts/{id}/erase`.

use bellhop_domain::consent::Source;
use bellhop_engine::{Engine, SystemClock};
use bellhop_store::{Erased, Store};
use std::sync::Arc;
use uuid::Uuid;

/// Everything kept about a contact, as pretty JSON.
pub async fn export(store: Store, account: Option<Uuid>, contact: Uuid) -> anyhow::Result<String> {
    let account = crate::import::account(&store, account).await?;
    let engine = Engine::new(store, Arc::new(SystemClock));
    let export = engine.export_contact(account, contact).await?;
    Ok(serde_json::to_string_pretty(&export)? + "\n")
}

/// Erases a contact.
pub async fn erase(store: Store, account: Option<Uuid>, contact: Uuid) -> anyhow::Result<Erased> {
    let account = crate::import::account(&store, account).await?;
    let engine = Engine::new(store, Arc::new(SystemClock));
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    );
    Ok(engine
        .erase_contact(account, contact, Source::Staff, &actor)
        .await?)
}
