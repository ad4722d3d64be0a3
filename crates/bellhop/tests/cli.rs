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
        "SMS reminder 2 h before",
        "(landline: bulk SMS are not read out as calls)",
        "voice",
        "(guest phone missing)",
        "(no consent: marketing/sms)",
        "(no consent: marketing/email)",
        "Anna Gruber unsubscribed with one click (offers by email: withdrawn)",
        "confirmed by mail (offers by email: granted)",
        "Frühlingsaktion",
        "SMS of Salon Bella in March",
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
    let sent = stdout
        .lines()
        .filter(|l| l.contains(" sent ") && l.contains(" email "))
        .count();
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

fn json_of(args: &[&str]) -> serde_json::Value {
    let run = bellhop().args(args).output().unwrap();
    assert!(
        run.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not one JSON object ({e}): {}",
            String::from_utf8_lossy(&run.stdout)
        )
    })
}

#[test]
fn sms_inspect_prints_encoding_segments_units_non_gsm_and_parts() {
    let long = "a".repeat(161);
    let cases: [(&[&str], &str, u64, u64); 5] = [
        (&["sms", "inspect", "--json", "Hallo Anna"], "GSM-7", 1, 10),
        (&["sms", "inspect", "--json", &long], "GSM-7", 2, 161),
        (
            &["sms", "inspect", "--json", "Bis morgen 😀"],
            "UCS-2",
            1,
            13,
        ),
        (
            &["sms", "inspect", "--json", "„Hallo“ – ok"],
            "UCS-2",
            1,
            12,
        ),
        (
            &[
                "sms",
                "inspect",
                "--smart-encoding",
                "--json",
                "„Hallo“ – ok",
            ],
            "GSM-7",
            1,
            12,
        ),
    ];
    for (args, encoding, segments, units) in cases {
        let v = json_of(args);
        assert_eq!(v["encoding"], encoding, "{args:?}");
        assert_eq!(v["segments"], segments, "{args:?}");
        assert_eq!(v["units"], units, "{args:?}");
        assert!(v["non_gsm"].is_array() && v["parts"].is_array(), "{v}");
        assert_eq!(v["parts"].as_array().unwrap().len() as u64, segments);
    }
    assert_eq!(
        json_of(&["sms", "inspect", "--json", "Bis morgen 😀"])["non_gsm"],
        serde_json::json!(["😀"])
    );
    // An empty or a leading-dash text is still examined, and succeeds.
    assert_eq!(json_of(&["sms", "inspect", "--json", ""])["segments"], 0);
    assert_eq!(
        json_of(&["sms", "inspect", "--json", "-5 %"])["segments"],
        1
    );
}

#[test]
fn phone_normalize_prints_validity_e164_and_type() {
    let cases = [
        (
            "AT",
            "0664 1234567",
            true,
            Some("+436641234567"),
            Some("mobile"),
        ),
        (
            "DE",
            "030 12345678",
            true,
            Some("+493012345678"),
            Some("fixed_line"),
        ),
        (
            "US",
            "(201) 555-0123",
            true,
            Some("+12015550123"),
            Some("fixed_line_or_mobile"),
        ),
        (
            "DE",
            "0800 1234567",
            true,
            Some("+498001234567"),
            Some("toll_free"),
        ),
        ("DE", "12345", false, None, None),
        ("DE", "not a number", false, None, None),
    ];
    for (country, input, valid, e164, kind) in cases {
        let v = json_of(&["phone", "normalize", "--country", country, "--json", input]);
        assert_eq!(v["valid"], valid, "{input}: {v}");
        if valid {
            assert_eq!(v["e164"].as_str(), e164, "{input}");
        }
        assert_eq!(v["type"].as_str(), kind, "{input}");
    }
    // A usage error is not an examined input: it fails.
    let run = bellhop()
        .args([
            "phone",
            "normalize",
            "--country",
            "XX",
            "--json",
            "0664 1234567",
        ])
        .output()
        .unwrap();
    assert!(!run.status.success());
}

#[test]
fn kannel_config_prints_the_groups_with_the_inbound_token() {
    let dir = tempfile::tempdir().unwrap();
    let run = bellhop()
        .args(["sms", "kannel-config"])
        .current_dir(dir.path())
        .env("BELLHOP_DATABASE", dir.path().join("k.db"))
        .env("BELLHOP_PUBLIC_URL", "https://bellhop.example.com")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(text.contains("group = sendsms-user"), "{text}");
    assert!(
        text.contains("get-url = \"https://bellhop.example.com/callbacks/sms/kannel/mo?token="),
        "{text}"
    );
    // The token is the installation's: the same on every call.
    let again = bellhop()
        .args(["sms", "kannel-config"])
        .current_dir(dir.path())
        .env("BELLHOP_DATABASE", dir.path().join("k.db"))
        .env("BELLHOP_PUBLIC_URL", "https://bellhop.example.com")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
}

/// A SQLite database with one account and a hotel in Vienna; returns the hotel's id.
async fn hotel_database(path: &std::path::Path) -> uuid::Uuid {
    use bellhop_domain::property::{Property, Sender};
    let store = bellhop_store::Store::open(path, &Default::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let now: jiff::Timestamp = "2026-03-01T08:00:00Z".parse().unwrap();
    let engine = bellhop_engine::Engine::new(
        store.clone(),
        std::sync::Arc::new(bellhop_engine::ManualClock::new(now)),
    );
    let account = uuid::Uuid::now_v7();
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(account, "Hotel", now).await.unwrap();
    tx.commit().await.unwrap();
    let property = Property {
        id: uuid::Uuid::now_v7(),
        account_id: account,
        name: "Hotel Alpenblick".into(),
        time_zone_name: "Europe/Vienna".into(),
        time_zone: bellhop_domain::time::parse_time_zone("Europe/Vienna").unwrap(),
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: bellhop_domain::time::LocalTime::hm(15, 0),
        check_out_time: bellhop_domain::time::LocalTime::hm(10, 0),
        sender: Sender {
            email: "info@alpenblick.example".into(),
            name: "Hotel Alpenblick".into(),
            reply_to: None,
        },
        layout_html: None,
        layout_text: None,
        brand: Default::default(),
        consent: Default::default(),
        sms: Default::default(),
    };
    engine.create_property(&property).await.unwrap();
    store.close().await;
    property.id
}

#[tokio::test]
async fn import_bookings_takes_a_csv_reports_bad_rows_by_line_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("import.db");
    let property = hotel_database(&db).await;
    let csv = dir.path().join("bookings.csv");
    std::fs::write(
        &csv,
        format!(
            "property_id,kind,arrival,departure,external_id,guests,contact.first_name,contact.email,contact.phone\n\
             {property},stay,2026-04-01,2026-04-03,R-1,2,Anna,anna@example.com,\n\
             {property},stay,2026-04-05,2026-04-02,R-2,2,Ben,ben@example.com,\n\
             {property},stay,2026-04-07,2026-04-09,R-3,two,Cleo,,\n\
             {property},stay,2026-04-07,2026-04-09,R-4,1,Dora,,0664 1234567\n"
        ),
    )
    .unwrap();
    let run = || {
        bellhop()
            .args(["import", "bookings"])
            .arg(&csv)
            .env("BELLHOP_DATABASE", &db)
            .env("BELLHOP_LOG", "warn")
            .output()
            .unwrap()
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        !first.status.success(),
        "bad rows make the exit code say so"
    );
    assert!(stdout.contains("line 3: departure:"), "{stdout}");
    assert!(stdout.contains("line 4: row: guests: \"two\""), "{stdout}");
    assert!(
        stdout.contains("2 created, 0 updated, 0 unchanged, 2 refused"),
        "{stdout}"
    );
    let second = run();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("0 created, 0 updated, 2 unchanged, 2 refused"),
        "{stdout}"
    );
    // The landline-less mobile was read in the hotel's country.
    let store = bellhop_store::Store::open(&db, &Default::default())
        .await
        .unwrap();
    let account = store.accounts().await.unwrap()[0].0;
    let contacts = store.contacts(account, None, 10).await.unwrap();
    assert!(
        contacts
            .iter()
            .any(|c| c.phone_e164.as_deref() == Some("+436641234567")),
        "{contacts:?}"
    );
}

/// The value of `name="…" value="…"` in a page (the forms' hidden tokens).
fn hidden_input(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no input {name} in {page}"));
    let rest = &page[at..];
    let value = &rest[rest.find("value=\"").unwrap() + 7..];
    value[..value.find('"').unwrap()].to_owned()
}

/// `name=value` of the first `Set-Cookie` named `name`.
fn cookie(reply: &reqwest::Response, name: &str) -> String {
    reply
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no cookie {name}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_demo_serves_its_month_to_the_demo_user_it_prints() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let mut demo = tokio::process::Command::new(env!("CARGO_BIN_EXE_bellhop"))
        .args(["demo", "--serve", "--listen", "127.0.0.1:0", "--out"])
        .arg(dir.path().join("demo"))
        .env("BELLHOP_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    let (mut url, mut owner) = (None, None);
    let printed = tokio::time::timeout(std::time::Duration::from_secs(240), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(u) = line.strip_prefix("The staff UI: ") {
                url = Some(u.trim_end_matches("/app").to_owned());
            }
            if let Some(rest) = line.trim().strip_prefix("sign in as ")
                && let Some(rest) = rest.strip_suffix(" (owner)")
            {
                let (email, password) = rest.split_once(" / ").unwrap();
                owner = Some((email.to_owned(), password.to_owned()));
            }
            if line.contains("Ctrl-C stops") {
                break;
            }
        }
    })
    .await;
    printed.expect("the demo printed its URL within 4 minutes");
    let base = url.expect("the demo prints the UI's URL");
    let (email, password) = owner.expect("the demo prints an owner to sign in as");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = http.get(format!("{base}/app/signin")).send().await.unwrap();
    let form_cookie = cookie(&form, "bellhop_form");
    let token = hidden_input(&form.text().await.unwrap(), "form_token");
    let signed_in = http
        .post(format!("{base}/app/signin"))
        .header("cookie", form_cookie)
        .form(&[
            ("form_token", token.as_str()),
            ("email", email.as_str()),
            ("password", password.as_str()),
            ("next", "/app"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER);
    let session = cookie(&signed_in, "bellhop_session");
    let page = |path: &'static str| {
        let (http, base, session) = (http.clone(), base.clone(), session.clone());
        async move {
            let reply = http
                .get(format!("{base}{path}"))
                .header("cookie", session)
                .header("accept-language", "en")
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), reqwest::StatusCode::OK, "{path}");
            reply.text().await.unwrap()
        }
    };
    let bookings = page("/app/bookings").await;
    for needle in ["Hotel Alpenblick", "Salon Bella"] {
        assert!(bookings.contains(needle), "bookings lack {needle}");
    }
    let messages = page("/app/messages").await;
    assert!(messages.matches("<tr").count() > 20, "{messages}");
    assert!(page("/app/sms").await.contains("2026-04"));
    demo.kill().await.unwrap();
}

#[test]
fn user_create_makes_the_first_owner_and_then_more_users() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let user = |args: &[&str], stdin: Option<&str>| {
        let mut child = bellhop()
            .args(["user", "create"])
            .args(args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, first, err) = user(&["--email", "owner@hotel.example", "--name", "Owner"], None);
    assert!(ok, "{err}");
    assert!(
        first.contains("(new)"),
        "an empty database gets an account: {first}"
    );
    assert!(
        first.lines().any(|l| l.starts_with("api key bh_")),
        "{first}"
    );
    assert!(first.contains("<owner@hotel.example> (owner)"), "{first}");
    let password = first
        .lines()
        .find_map(|l| l.strip_prefix("password "))
        .expect("a generated password is printed once");
    assert_eq!(password.len(), 20);

    let (ok, staff, err) = user(
        &[
            "--email",
            "desk@hotel.example",
            "--name",
            "Desk",
            "--role",
            "staff",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    );
    assert!(ok, "{err}");
    assert!(
        !staff.contains("(new)"),
        "the only account is used: {staff}"
    );
    assert!(!staff.contains("password "), "{staff}");
    assert!(staff.contains("(staff)"), "{staff}");

    for (args, stdin, refusal) in [
        (
            vec!["--email", "owner@hotel.example", "--name", "Again"],
            None,
            "exists already",
        ),
        (
            vec![
                "--email",
                "x@hotel.example",
                "--name",
                "X",
                "--password-stdin",
            ],
            Some("short\n"),
            "at least 10",
        ),
        (
            vec![
                "--email",
                "y@hotel.example",
                "--name",
                "Y",
                "--role",
                "boss",
            ],
            None,
            "owner or staff",
        ),
    ] {
        let (ok, _, err) = user(&args, stdin);
        assert!(!ok, "{args:?} was accepted");
        assert!(err.contains(refusal), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
