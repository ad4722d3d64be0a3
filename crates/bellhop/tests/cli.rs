//! The `bellhop` command as a user runs it: the demo, the timeline, configuration errors.

use std::process::Command;

fn bellhop() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bellhop"))
}

#[test]
fn the_demo_simulates_a_month_writes_mails_and_prints_the_timeline_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let run = bellhop()
        .args(["demo", "--out"])
        .arg(&out)
        .env("BELLHOP_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    // Every kind of outcome is there, with its reason.
    for needle in [
        "Before arrival",
        "Appointment reminder 24 h before",
        "After the option expired",
        "Booking changed",
        "(guest email missing)",
        "(the booking is cancelled)",
        "late: the send time",
        "CEST",
        "CET",
    ] {
        assert!(
            stdout.contains(needle),
            "demo output lacks {needle:?}:\n{stdout}"
        );
    }
    // The stay moved across the DST change: its reminder went out at 10:00 CEST.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("2026-03-29 10:00 CEST")
                && l.contains("Before arrival")
                && l.contains("sent")),
        "{stdout}"
    );
    let mails = std::fs::read_dir(out.join("mail")).unwrap().count();
    let sent = stdout.lines().filter(|l| l.contains(" sent ")).count();
    assert!(mails > 100, "{mails} mails");
    assert_eq!(mails, sent);

    // The timeline command reads the same database.
    let timeline = bellhop()
        .args(["timeline", "--from", "2026-03-29", "--to", "2026-03-30"])
        .current_dir(dir.path())
        .env("BELLHOP_DATABASE", out.join("bellhop-demo.db"))
        .output()
        .unwrap();
    assert!(
        timeline.status.success(),
        "{}",
        String::from_utf8_lossy(&timeline.stderr)
    );
    let text = String::from_utf8(timeline.stdout).unwrap();
    assert!(text.contains("2026-03-29 10:00 CEST"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("messages between 2026-03-29T00:00:00Z and 2026-03-30T00:00:00Z"),
        "{text}"
    );
}

#[test]
fn invalid_configuration_is_reported_with_its_key_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("BELLHOP_DISPATCH__BATCH_SIZE", "many", "batch_size"),
        ("BELLHOP_LISTEN", "nowhere", "listen"),
        ("BELLHOP_EMAIL__TRANSPORT", "pigeon", "transport"),
        ("BELLHOP_DATABASE", "mysql://localhost/db", "mysql"),
    ];
    for (key, value, needle) in cases {
        let run = bellhop()
            .arg("migrate")
            .current_dir(dir.path())
            .env(key, value)
            .output()
            .unwrap();
        assert!(!run.status.success(), "{key}={value} was accepted");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            stderr.to_lowercase().contains(&needle.to_lowercase()),
            "{key}={value}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let missing = bellhop()
        .args(["--config", "nope.toml", "migrate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.toml does not exist"));
}

#[test]
fn migrate_creates_the_database_and_account_create_prints_a_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = bellhop()
        .arg("migrate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(dir.path().join("bellhop.db").exists());
    let run = bellhop()
        .args(["account", "create", "--name", "Hotel"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(run.stdout).unwrap();
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("api key "))
        .unwrap();
    assert!(
        key.starts_with("bh_") && key.len() == 3 + 12 + 1 + 32,
        "{key}"
    );
}
