//! `bellhop autoreply explain`: whether a mailbox would answer one mail, and why.

use bellhop_inbound::{Envelope, Explanation, Limits, explain};
use std::io::Read;

/// Reads one mail from standard input (at most the size limit and one byte more) and explains
/// the decision for the mailbox with `address` and `aliases`.
pub fn explain_stdin(
    address: String,
    aliases: Vec<String>,
    envelope_from: Option<String>,
    envelope_to: Option<String>,
) -> anyhow::Result<Explanation> {
    let limits = Limits::default();
    let mut raw = Vec::new();
    std::io::stdin()
        .take(limits.max_size as u64 + 1)
        .read_to_end(&mut raw)?;
    let addresses: Vec<String> = std::iter::once(address)
        .chain(aliases)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    let envelope = Envelope {
        from: envelope_from,
        to: envelope_to,
    };
    Ok(explain(&addresses, &envelope, &raw, &limits))
}
