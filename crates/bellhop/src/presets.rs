//! `bellhop presets list|install`: the ready-made rules and templates, and their installation
//! on a property through the engine (the same command as `POST /properties/{id}/presets`).

use bellhop_domain::presets;
use bellhop_engine::{Engine, PresetInstall, SystemClock};
use bellhop_store::Store;
use std::fmt::Write;
use std::sync::Arc;
use uuid::Uuid;

/// A table of every preset: key, set, name, languages.
pub fn list() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<26} {:<6} {:<40} languages", "key", "set", "name");
    for (set, preset) in presets::catalog() {
        let languages: Vec<&str> = preset.variants.iter().map(|(l, _, _)| *l).collect();
        let _ = writeln!(
            out,
            "{:<26} {:<6} {:<40} {}",
            preset.key,
            set,
            preset.name,
            languages.join(", ")
        );
    }
    out
}

/// A preset rendered for the sample hotel, booking and guest: its HTML, or (`text`) its
/// subject and text part.
pub fn preview(key: &str, language: &str, text: bool) -> anyhow::Result<String> {
    let preset = presets::find(key)
        .ok_or_else(|| anyhow::anyhow!("no preset {key:?}: see `bellhop presets list`"))?;
    let language = bellhop_domain::language::LanguageTag::parse(language)?;
    let mail = presets::preview(&preset, &bellhop_domain::sample::property(), &language)?;
    Ok(if text {
        format!("Subject: {}\n\n{}\n", mail.subject, mail.text)
    } else {
        format!("{}\n", mail.html)
    })
}

/// Installs the presets `keys` (and every preset of `set`) on a property: the one given, or
/// the account's only one.
pub async fn install(
    store: Store,
    account: Option<Uuid>,
    property: Option<Uuid>,
    mut keys: Vec<String>,
    set: Option<String>,
) -> anyhow::Result<PresetInstall> {
    let account = crate::import::account(&store, account).await?;
    let property = match property {
        Some(id) => id,
        None => match store.properties(account).await?.as_slice() {
            [only] => only.id,
            [] => anyhow::bail!("the account has no property yet"),
            many => anyhow::bail!(
                "the account has {} properties: say which with --property ({})",
                many.len(),
                many.iter()
                    .map(|p| format!("{} {}", p.id, p.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    if let Some(set) = set {
        let of_set = presets::keys_of_set(&set)
            .ok_or_else(|| anyhow::anyhow!("no preset set {set:?}; there are hotel, salon"))?;
        keys.extend(of_set.into_iter().map(str::to_owned));
    }
    let engine = Engine::new(store, Arc::new(SystemClock));
    Ok(engine.install_presets(account, property, &keys).await?)
}

/// What an installation did, for people.
pub fn describe(report: &PresetInstall) -> String {
    let mut out = String::new();
    for i in &report.installed {
        let _ = writeln!(out, "installed {} (rule {})", i.key, i.rule_id);
    }
    for key in &report.already_installed {
        let _ = writeln!(out, "already installed {key}");
    }
    let _ = writeln!(
        out,
        "{} messages planned for current bookings",
        report.plan.planned + report.plan.reopened
    );
    out
}
