//! Installing ready-made rules and templates on a property: chosen presets in one
//! transaction, each once (a repeated installation finds what it installed and leaves it,
//! even where staff have edited it since), then one re-planning of the property's bookings.

use crate::error::EngineError;
use crate::service::{Engine, replan};
use bellhop_domain::presets;
use bellhop_domain::render::{CompiledTemplate, RenderLimits};
use bellhop_store::PlanSummary;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use uuid::Uuid;

/// What an installation did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PresetInstall {
    /// Presets installed now, with the ids of their rule and template.
    pub installed: Vec<InstalledPreset>,
    /// Presets the property already had (installed before; left as they are).
    pub already_installed: Vec<String>,
    /// Messages planned for the property's current bookings.
    pub plan: PlanSummary,
}

/// One installed preset.
#[derive(Clone, Debug, Serialize)]
pub struct InstalledPreset {
    /// Its key.
    pub key: String,
    /// The rule made from it.
    pub rule_id: Uuid,
    /// Its template.
    pub template_id: Uuid,
}

/// The ids a preset gets on a property: the same every time, so a second installation finds
/// the first one's rule.
pub fn preset_ids(property_id: Uuid, key: &str) -> (Uuid, Uuid) {
    let id = |what: &str| {
        let digest = Sha256::new()
            .chain_update(property_id.as_bytes())
            .chain_update(b"\0bellhop-preset\0")
            .chain_update(key.as_bytes())
            .chain_update(b"\0")
            .chain_update(what.as_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    };
    (id("template"), id("rule"))
}

impl Engine {
    /// Installs the presets `keys` on a property of `account`, in one transaction, and
    /// re-plans its live bookings once.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %account, property_id = %property_id))]
    pub async fn install_presets(
        &self,
        account: Uuid,
        property_id: Uuid,
        keys: &[String],
    ) -> Result<PresetInstall, EngineError> {
        if keys.is_empty() {
            return Err(EngineError::invalid("presets", "name at least one preset"));
        }
        let mut chosen = Vec::with_capacity(keys.len());
        let mut seen = HashSet::new();
        for key in keys {
            let preset = presets::find(key).ok_or_else(|| {
                let known: Vec<&str> = presets::catalog().iter().map(|(_, p)| p.key).collect();
                EngineError::invalid(
                    "presets",
                    format!("no preset {key:?}; there are {}", known.join(", ")),
                )
            })?;
            if seen.insert(preset.key) {
                chosen.push(preset);
            }
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.property(account, property_id)
            .await
            .map_err(|_| EngineError::NotFound)?;
        let existing: HashSet<Uuid> = tx
            .rules_of(property_id)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut report = PresetInstall::default();
        for preset in chosen {
            let (template_id, rule_id) = preset_ids(property_id, preset.key);
            if existing.contains(&rule_id) {
                report.already_installed.push(preset.key.to_owned());
                continue;
            }
            let (template, rule) =
                preset.instantiate_as(account, property_id, template_id, rule_id);
            CompiledTemplate::compile(&template, None, None, RenderLimits::default())
                .map_err(|e| EngineError::Internal(format!("preset {}: {e}", preset.key)))?;
            rule.validate()
                .map_err(|e| EngineError::Internal(format!("preset {}: {e}", preset.key)))?;
            // A template left behind by a rule staff deleted is used again as it is.
            if tx.template(account, template_id).await.is_err() {
                tx.insert_template(&template, now).await?;
            }
            tx.insert_rule(&rule, now).await?;
            report.installed.push(InstalledPreset {
                key: preset.key.to_owned(),
                rule_id,
                template_id,
            });
        }
        if !report.installed.is_empty() {
            for booking in tx.live_bookings(account, property_id, now).await? {
                report.plan += replan(&mut tx, &booking, now).await?;
            }
        }
        tx.commit().await?;
        Ok(report)
    }
}

impl Engine {
    /// What switching preset `key` on or off at a property would do to its planned messages,
    /// without doing it: the rule the preset would install (or the installed one, switched).
    pub async fn dry_run_preset(
        &self,
        account: Uuid,
        property_id: Uuid,
        key: &str,
        on: bool,
    ) -> Result<crate::PlanImpact, EngineError> {
        let preset = presets::find(key).ok_or(EngineError::NotFound)?;
        let (template_id, rule_id) = preset_ids(property_id, preset.key);
        match self.store().rule(account, rule_id).await {
            Ok(mut rule) => {
                rule.enabled = on;
                self.dry_run_rule(&rule).await
            }
            Err(bellhop_store::StoreError::NotFound) if on => {
                let (template, rule) =
                    preset.instantiate_as(account, property_id, template_id, rule_id);
                let template = match self.store().template(account, template_id).await {
                    Ok(kept) => kept,
                    Err(_) => template,
                };
                self.dry_run_rule_with(&rule, Some(template)).await
            }
            Err(bellhop_store::StoreError::NotFound) => Ok(crate::PlanImpact::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Switches preset `key` on (installing it the first time) or off (its rule disabled,
    /// kept with any edits for the next time) at a property.
    pub async fn switch_preset(
        &self,
        account: Uuid,
        property_id: Uuid,
        key: &str,
        on: bool,
    ) -> Result<PlanSummary, EngineError> {
        let preset = presets::find(key).ok_or(EngineError::NotFound)?;
        let (_, rule_id) = preset_ids(property_id, preset.key);
        match self.store().rule(account, rule_id).await {
            Ok(mut rule) => {
                if rule.enabled == on {
                    return Ok(PlanSummary::default());
                }
                rule.enabled = on;
                self.save_rule(&rule, false).await
            }
            Err(bellhop_store::StoreError::NotFound) if on => Ok(self
                .install_presets(account, property_id, &[preset.key.to_owned()])
                .await?
                .plan),
            Err(bellhop_store::StoreError::NotFound) => Ok(PlanSummary::default()),
            Err(e) => Err(e.into()),
        }
    }
}
