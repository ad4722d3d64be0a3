//! The API goes through the engine: it reads with `Engine::query` and changes with the
//! engine's commands. It may name the store's record and filter types, never a way to write
//! (a `Store` of its own, a transaction, a migration).

use std::path::Path;

/// What the API may take from `bellhop_store`: records it shows, filters it passes on, the
/// error it maps, and the staff action it names.
const READ_TYPES: [&str; 24] = [
    "Sequence",
    "Enrolment",
    "StepMessage",
    "InboundFilter",
    "InboundMail",
    "Connection",
    "AudienceFilter",
    "BookingChange",
    "BookingFilter",
    "CampaignRecord",
    "ConsentEvent",
    "ConsentText",
    "Erased",
    "InboundSmsRow",
    "TanRow",
    "MessageEvent",
    "MessageFilter",
    "MessageRecord",
    "NotificationRecord",
    "PlanSummary",
    "StaffAction",
    "StoreError",
    "TimelineRow",
    "NotFound",
];

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

/// The names a file takes from `bellhop_store` (`bellhop_store::A`, `{A, B}`, `A::B`).
fn store_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, _) in text.match_indices("bellhop_store::") {
        let rest = &text[i + "bellhop_store::".len()..];
        let part = if let Some(group) = rest.strip_prefix('{') {
            &group[..group.find('}').unwrap_or(group.len())]
        } else {
            &rest[..rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len())]
        };
        for name in part.split([',', ':']) {
            let name = name.trim();
            if !name.is_empty() {
                names.push(name.to_owned());
            }
        }
    }
    names
}

#[test]
fn the_api_names_no_way_to_write_around_the_engine() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10);
    let mut wrong = Vec::new();
    for (path, text) in &files {
        for name in store_names(text) {
            if !READ_TYPES.contains(&name.as_str()) {
                wrong.push(format!("{path}: bellhop_store::{name}"));
            }
        }
        for needle in [".store()", ".begin(", "Tx", "scratch", "open_url"] {
            if text.contains(needle) {
                wrong.push(format!("{path}: {needle}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the API reaches past the engine: {wrong:#?}"
    );
}

#[test]
fn the_check_would_see_a_write() {
    let names = store_names(
        "use bellhop_store::{Store, MessageRecord};\nlet tx = bellhop_store::Tx::begin();",
    );
    for name in ["Store", "MessageRecord", "Tx", "begin"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
}
