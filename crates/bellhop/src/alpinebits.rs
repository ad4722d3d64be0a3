//! `bellhop alpinebits parse --json FILE`: what bellhop reads from one GuestRequests message,
//! as one JSON object, storing nothing.

use bellhop_alpinebits::{Limits, parse_guest_requests};
use serde_json::{Value, json};
use std::io::Read;

/// The report of one message, or why it is refused.
pub fn report(xml: &str) -> Result<Value, String> {
    let read = parse_guest_requests(xml, &Limits::default()).map_err(|e| e.to_string())?;
    let reservations: Vec<Value> = read
        .reservations
        .iter()
        .map(|g| {
            let r = &g.reservation;
            let mut out = json!({
                "external_id": r.external_id,
                "status": r.status.as_str(),
                "language": r.language,
                "guest": {
                    "first_name": r.guest.first_name,
                    "last_name": r.guest.last_name,
                    "email": r.guest.email,
                    "phone": r.guest.phone,
                },
                "room_category": r.room_category,
                "adults": r.adults,
                "children_ages": r.children_ages,
                "newsletter": r.newsletter,
                "total": r.total.as_ref().map(|t| json!({"amount": t.amount, "currency": t.currency})),
            });
            if let (Some(arrival), Some(departure)) = (r.arrival, r.departure) {
                out["arrival"] = json!(arrival.to_string());
                out["departure"] = json!(departure.to_string());
            }
            out
        })
        .collect();
    let mut warnings = read.warnings;
    warnings.extend(
        read.errors
            .iter()
            .map(|e| format!("the server reported an error: {e}")),
    );
    Ok(json!({
        "message": read.message,
        "reservations": reservations,
        "warnings": warnings,
    }))
}

/// Reads `path` (`-`: standard input), at most the intake's size limit and one byte more.
pub fn read_input(path: &str) -> Result<String, String> {
    let limit = Limits::default().max_bytes as u64 + 1;
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path)
            .map_err(|e| format!("cannot open {path}: {e}"))?
            .take(limit)
            .read_to_end(&mut bytes)
    };
    read.map_err(|e| format!("cannot read {path}: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the message is not UTF-8".to_owned())
}
