//! `bellhop timeline`: what will be sent between two instants, and why not.

use bellhop_domain::time::{format_local, parse_time_zone};
use bellhop_store::{Store, TimelineRow};
use jiff::Timestamp;
use std::fmt::Write;

/// Renders timeline rows as a table for a terminal.
pub fn render(rows: &[TimelineRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<22} {:<11} {:<12} {:<20} {:<34} {:<22} subject / reason",
        "when (local)", "status", "via", "property", "rule", "guest"
    );
    for r in rows {
        let when = parse_time_zone(&r.time_zone)
            .map(|tz| format_local(&tz, r.due_at))
            .unwrap_or_else(|_| r.due_at.to_string());
        let what = match (&r.subject, &r.reason) {
            (Some(s), _) => s.clone(),
            (None, Some(reason)) => format!("({reason})"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<22} {:<11} {:<12} {:<20} {:<34} {:<22} {}",
            when,
            r.status.as_str(),
            r.channel,
            clip(&r.property, 20),
            clip(&r.rule, 34),
            clip(r.guest.as_deref().unwrap_or("-"), 22),
            what
        );
    }
    out
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// Prints the timeline of all accounts for [from, to).
pub async fn print(store: &Store, from: Timestamp, to: Timestamp) -> anyhow::Result<()> {
    let rows = store.timeline(None, from, to, 100_000).await?;
    print!("{}", render(&rows));
    println!("{} messages between {from} and {to}", rows.len());
    Ok(())
}
