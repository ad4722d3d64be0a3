//! Every preset, rendered in every language it ships in, for a table of bookings: with every
//! detail known, and with a guest of whom only the email address is known. Each rendering
//! must read as sent — no empty slot, no "(r)", no template syntax, a subject under 78
//! characters — and matches its snapshot in `tests/snapshots/presets/`, reviewed by eye and
//! committed. `UPDATE_SNAPSHOTS=1 cargo test -p bellhop-domain --test preset_snapshots`
//! rewrites them after a deliberate change.

use bellhop_domain::contact::{Contact, EmailAddress};
use bellhop_domain::presets;
use bellhop_domain::render::{CompiledTemplate, RenderLimits, context};
use bellhop_domain::{Booking, BookingDetails, BookingKind, sample};
use std::path::{Path, PathBuf};
use uuid::Uuid;

fn bookings(kind: BookingKind) -> Vec<(&'static str, Booking)> {
    let full = match kind {
        BookingKind::Stay => sample::stay(),
        BookingKind::Appointment => sample::appointment(),
    };
    let mut bare = full.clone();
    bare.fields.details = BookingDetails::default();
    vec![("full", full), ("bare", bare)]
}

fn guests() -> Vec<(&'static str, Contact)> {
    let bare = Contact {
        email: Some(EmailAddress::stored("guest@example.com".into())),
        ..Contact::default()
    };
    vec![("named", sample::contact()), ("unnamed", bare)]
}

/// What reads wrong in a message a guest receives.
fn flaws(text: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for (needle, flaw) in [
        ("(r)", "a \"(r)\" greeting"),
        ("{{", "template syntax"),
        ("{%", "template syntax"),
        ("()", "empty parentheses"),
        (" ,", "an empty slot before a comma"),
        (" .", "an empty slot before a full stop"),
        ("  ", "a double space"),
        ("none", "a value printed as none"),
        ("None", "a value printed as None"),
    ] {
        if text.contains(needle) {
            found.push(flaw);
        }
    }
    found
}

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/presets")
}

#[test]
fn every_preset_reads_as_sent_in_every_language_and_matches_its_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let property = sample::property();
    let mut problems = Vec::new();
    let mut written = 0;
    for (set, preset) in presets::catalog() {
        let (template, rule) = preset.instantiate(Uuid::nil(), Uuid::nil());
        let compiled =
            CompiledTemplate::compile(&template, None, None, RenderLimits::default()).unwrap();
        let kind = match rule.conditions.kinds.as_deref() {
            Some([kind]) => *kind,
            _ if set == "salon" => BookingKind::Appointment,
            _ => BookingKind::Stay,
        };
        for (language, _, _) in preset.variants {
            for (booking_name, booking) in bookings(kind) {
                for (guest_name, guest) in guests() {
                    let name = format!("{}.{language}.{booking_name}-{guest_name}", preset.key);
                    let ctx = context(&property, &booking, &guest, language, booking.created_at);
                    let mail = match compiled.render(&[language], &ctx) {
                        Ok(mail) => mail,
                        Err(e) => {
                            problems.push(format!("{name}: does not render: {e}"));
                            continue;
                        }
                    };
                    if mail.subject.chars().count() >= 78 {
                        problems.push(format!(
                            "{name}: subject of {} characters",
                            mail.subject.chars().count()
                        ));
                    }
                    for flaw in flaws(&mail.subject).into_iter().chain(flaws(&mail.text)) {
                        problems.push(format!("{name}: {flaw}"));
                    }
                    let shown = format!("Subject: {}\n\n{}\n", mail.subject, mail.text.trim_end());
                    let path = snapshot_dir().join(format!("{name}.txt"));
                    if update {
                        std::fs::create_dir_all(snapshot_dir()).unwrap();
                        std::fs::write(&path, &shown).unwrap();
                        written += 1;
                    } else {
                        match std::fs::read_to_string(&path) {
                            Ok(stored) if stored == shown => {}
                            Ok(_) => problems.push(format!("{name}: differs from its snapshot")),
                            Err(_) => problems.push(format!("{name}: no snapshot")),
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    if update {
        println!("{written} snapshots written");
    }
}

#[test]
fn the_property_chooses_how_presets_greet_a_guest_whose_name_is_known() {
    use bellhop_domain::property::Salutation;
    let cases = [
        ("pre_arrival", "de", None, "Guten Tag Anna Berger,"),
        (
            "pre_arrival",
            "de",
            Some(Salutation::FirstName),
            "Hallo Anna,",
        ),
        ("pre_arrival", "en", Some(Salutation::FirstName), "Hi Anna,"),
        ("appointment_reminder", "de", None, "Hallo Anna,"),
        (
            "appointment_reminder",
            "de",
            Some(Salutation::FullName),
            "Guten Tag Anna Berger,",
        ),
        (
            "appointment_reminder",
            "en",
            Some(Salutation::FullName),
            "Dear Anna Berger,",
        ),
    ];
    for (key, language, salutation, greeting) in cases {
        let mut property = sample::property();
        property.brand.salutation = salutation;
        let mail = presets::preview(&presets::find(key).unwrap(), &property, language).unwrap();
        assert!(
            mail.text.contains(greeting),
            "{key} {language} {salutation:?}: {}",
            mail.text
        );
    }
}
