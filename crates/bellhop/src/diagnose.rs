//! Diagnostics for staff and support: `bellhop sms inspect` (what an SMS text costs and how it
//! is split) and `bellhop phone normalize` (what a phone number is read as). Both print one
//! JSON object with `--json`, a short report otherwise, and succeed for any input they could
//! examine.

use bellhop_domain::phone::{self, PhoneInspection};
use bellhop_domain::sms::{self, SmsAnalysis};
use serde::Serialize;
use std::fmt::Write;

/// `sms inspect` output: the analysis with the limits that applied.
#[derive(Serialize)]
pub struct SmsReport {
    /// The analysis.
    #[serde(flatten)]
    pub analysis: SmsAnalysis,
    /// Units per SMS of one part.
    pub single_limit: usize,
    /// Units per part of a longer message.
    pub part_limit: usize,
    /// What a unit is.
    pub unit_name: &'static str,
    /// Whether bellhop would send it (at most `sms::MAX_PARTS` parts, not empty).
    pub sendable: bool,
    /// Why not.
    pub problem: Option<String>,
}

/// Analyses an SMS text.
pub fn sms_report(text: &str, smart_encoding: bool) -> SmsReport {
    let analysis = sms::analyze(text, smart_encoding);
    let problem = sms::check_sendable(text, smart_encoding)
        .err()
        .map(|e| e.to_string());
    SmsReport {
        single_limit: analysis.encoding.single_limit(),
        part_limit: analysis.encoding.part_limit(),
        unit_name: analysis.encoding.unit_name(),
        sendable: problem.is_none(),
        problem,
        analysis,
    }
}

/// The report for people.
pub fn render_sms(r: &SmsReport) -> String {
    let a = &r.analysis;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} · {} SMS · {} {} ({} per SMS, {} per part when split) · {} left in the last part",
        a.encoding, a.segments, a.units, r.unit_name, r.single_limit, r.part_limit, a.units_left
    );
    if !a.non_gsm.is_empty() {
        let _ = writeln!(out, "forces UCS-2: {}", a.non_gsm.join(" "));
    }
    for rep in &a.replacements {
        let _ = writeln!(out, "smart encoding: {:?} -> {:?}", rep.from, rep.to);
    }
    for (i, part) in a.parts.iter().enumerate() {
        let _ = writeln!(out, "part {}: {part}", i + 1);
    }
    if let Some(p) = &r.problem {
        let _ = writeln!(out, "not sendable: {p}");
    }
    out
}

/// Inspects a phone number.
pub fn phone_report(input: &str, country: Option<&str>) -> PhoneInspection {
    phone::inspect(input, country)
}

/// The inspection for people.
pub fn render_phone(p: &PhoneInspection) -> String {
    match (&p.e164, p.valid) {
        (Some(e164), true) => format!(
            "{e164} ({}, {}) · national {} · international {}\n",
            p.kind.map(|k| k.as_str()).unwrap_or("unknown"),
            p.country.as_deref().unwrap_or("?"),
            p.national.as_deref().unwrap_or(""),
            p.international.as_deref().unwrap_or(""),
        ),
        _ => format!(
            "not valid: {}\n",
            p.error.as_deref().unwrap_or("unknown reason")
        ),
    }
}
