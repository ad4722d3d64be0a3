//! `bellhop import bookings FILE`: a CSV or NDJSON file of bookings into an account, through
//! the same checks as `POST /api/v1/bookings/import` and the engine's import. Rows that fail
//! their checks are reported with their line and reason; the others are imported. Running it
//! again with the same file changes nothing (each booking's `external_id` identifies it).

use anyhow::Context;
use bellhop_engine::{Engine, ImportItem, ImportReport, OnInvalid, Refusal, SystemClock};
use bellhop_store::Store;
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

/// How the file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated, a header row naming the fields (`contact.email` for the contact's).
    Csv,
    /// One JSON booking per line, as for the API.
    Ndjson,
}

/// Fields that are numbers or booleans in JSON; every other CSV cell is text.
const NUMBERS: &[&str] = &["price_cents", "deposit_cents", "paid_cents", "guests"];
const BOOLEANS: &[&str] = &["sms_reminders"];

/// One row of the file: where it is (1-based line) and the booking as JSON.
struct Row {
    line: usize,
    value: Result<Value, String>,
}

fn csv_rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let value = record.map_err(|e| e.to_string()).and_then(|record| {
            let mut booking = Map::new();
            let mut contact = Map::new();
            for (name, cell) in headers.iter().zip(record.iter()) {
                if cell.is_empty() {
                    continue;
                }
                let (target, key) = match name.strip_prefix("contact.") {
                    Some(key) => (&mut contact, key),
                    None => (&mut booking, name),
                };
                let value = if NUMBERS.contains(&key) {
                    Value::from(
                        cell.parse::<i64>()
                            .map_err(|_| format!("{name}: {cell:?} is not a whole number"))?,
                    )
                } else if BOOLEANS.contains(&key) {
                    Value::from(match cell.to_ascii_lowercase().as_str() {
                        "true" | "yes" | "1" => true,
                        "false" | "no" | "0" => false,
                        _ => return Err(format!("{name}: {cell:?} is not true or false")),
                    })
                } else {
                    Value::from(cell)
                };
                target.insert(key.to_owned(), value);
            }
            if !contact.is_empty() {
                booking.insert("contact".into(), Value::Object(contact));
            }
            Ok(Value::Object(booking))
        });
        rows.push(Row { line, value });
    }
    Ok(rows)
}

fn ndjson_rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| Row {
            line: n + 1,
            value: serde_json::from_str(l).map_err(|e| format!("invalid JSON: {e}")),
        })
        .collect())
}

/// The format a file's name suggests.
pub fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(Format::Csv),
        "ndjson" | "jsonl" => Some(Format::Ndjson),
        _ => None,
    }
}

/// The account to work in: the one given, or the only one there is.
pub(crate) async fn account(store: &Store, given: Option<Uuid>) -> anyhow::Result<Uuid> {
    let accounts = store.accounts().await?;
    match given {
        Some(id) if accounts.iter().any(|(a, _)| *a == id) => Ok(id),
        Some(id) => anyhow::bail!("no account {id}"),
        None => match accounts.as_slice() {
            [(id, _)] => Ok(*id),
            [] => anyhow::bail!("no account yet: create one with `bellhop account create`"),
            _ => anyhow::bail!(
                "there are {} accounts: say which with --account ({})",
                accounts.len(),
                accounts
                    .iter()
                    .map(|(id, name)| format!("{id} {name}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// Imports the file; returns the report with refusals naming file lines.
pub async fn bookings(
    store: Store,
    path: &Path,
    format: Option<Format>,
    account_id: Option<Uuid>,
) -> anyhow::Result<(ImportReport, Vec<(usize, Refusal)>)> {
    let format = format.or_else(|| format_of(path)).context(
        "cannot tell the file's format from its name: give --format csv or --format ndjson",
    )?;
    let account = account(&store, account_id).await?;
    let rows = match format {
        Format::Csv => csv_rows(path)?,
        Format::Ndjson => ndjson_rows(path)?,
    };
    let ctx = bellhop_web::api::imports::ItemContext {
        account,
        countries: store
            .properties(account)
            .await?
            .into_iter()
            .map(|p| (p.id, p.country))
            .collect(),
        today: Engine::new(store.clone(), Arc::new(SystemClock)).today(),
    };
    let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
    let mut items: Vec<ImportItem> = Vec::with_capacity(rows.len());
    let mut early: Vec<Refusal> = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        match row.value {
            Ok(value) => match bellhop_web::api::imports::item(value, index, &ctx) {
                Ok(item) => items.push(item),
                Err(errors) => early.extend(bellhop_web::api::imports::refusals(index, errors)),
            },
            Err(message) => early.push(Refusal {
                index,
                field: "row".into(),
                message,
            }),
        }
    }
    let total = lines.len() as u64;
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} bookings, {per_sec}, {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let engine = Engine::new(store, Arc::new(SystemClock));
    let shown = bar.clone();
    let report = engine
        .import_bookings(
            account,
            items,
            early,
            "import:cli",
            OnInvalid::Skip,
            &move |done| shown.set_position(done as u64),
        )
        .await?;
    bar.finish_and_clear();
    let with_lines = report
        .refused
        .iter()
        .map(|r| (lines.get(r.index).copied().unwrap_or(0), r.clone()))
        .collect();
    Ok((report, with_lines))
}
