//! Real peers for tests: Postfix's smtp-sink on a free loopback port, writing each mail to a
//! file, and a world with one property, one template and one rule; Kannel (`kannel`).
#![allow(dead_code)]

pub mod browser;
pub mod dovecot;
pub mod kannel;
pub mod live;

use bellhop_domain::property::{Property, Sender};
use bellhop_domain::render::{Category, EmailContent, Template};
use bellhop_domain::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, Rule};
use bellhop_domain::time::{LocalTime, parse_time_zone};
use bellhop_domain::{BookingFields, BookingStatus, Schedule};
use bellhop_engine::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn smtp_sink_binary() -> PathBuf {
    for candidate in ["/usr/sbin/smtp-sink", "/usr/bin/smtp-sink"] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!("smtp-sink is missing: apt-get install postfix (.ci/run installs it)");
}

/// Postfix's smtp-sink, dumping every mail into its own file.
pub struct Sink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Sink {
    pub fn start() -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "root".into());
        let child = Command::new(smtp_sink_binary())
            .args([
                "-u",
                &user,
                "-d",
                &format!("{}/m.", dir.path().display()),
                &format!("127.0.0.1:{port}"),
                "256",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start smtp-sink");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "smtp-sink did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Sink { port, dir, child }
    }

    pub fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("m."))
            })
            .collect()
    }

    pub fn count(&self) -> usize {
        self.files().len()
    }

    /// The Message-ID of every mail received, once per mail.
    pub fn message_ids(&self) -> Vec<String> {
        self.files()
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                text.lines()
                    .find_map(|l| l.strip_prefix("Message-ID: "))
                    .map(str::to_owned)
                    .unwrap_or_default()
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn property(account: Uuid) -> Property {
    Property {
        id: Uuid::now_v7(),
        account_id: account,
        name: "Hotel Schöne Aussicht".into(),
        time_zone_name: "Europe/Vienna".into(),
        time_zone: parse_time_zone("Europe/Vienna").unwrap(),
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: LocalTime::hm(15, 0),
        check_out_time: LocalTime::hm(10, 0),
        sender: Sender {
            email: "info@hotel.example".into(),
            name: "Hotel Schöne Aussicht".into(),
            reply_to: Some("rezeption@hotel.example".into()),
        },
        layout_html: Some(
            "<html><body>{{ content }}<footer>{{ property.name }}</footer></body></html>".into(),
        ),
        layout_text: None,
        brand: Default::default(),
        consent: Default::default(),
        sms: Default::default(),
    }
}

/// A confirmation sent as soon as a booking is created.
pub async fn confirmation(engine: &Engine, account: Uuid, property: Uuid) -> Uuid {
    let mut variants = BTreeMap::new();
    variants.insert(
        "de".to_owned(),
        EmailContent {
            subject: "Grüße, {{ guest.first_name }} – Ihre Anreise am {{ booking.arrival }}".into(),
            html: "<p>Liebe(r) {{ guest.full_name }}, wir freuen uns auf Sie. Grüße aus Österreich!</p>".into(),
            text: None,
        },
    );
    let template = Template {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property,
        name: "Bestätigung".into(),
        category: Category::Service,
        variants: bellhop_domain::render::Variants::Email(variants),
        version: 1,
    };
    engine.save_template(&template, true).await.unwrap();
    let rule = Rule {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property,
        name: "Confirmation".into(),
        anchor: Anchor::BookingCreated,
        offset: Offset::minutes(0),
        time_of_day: None,
        conditions: Conditions::default(),
        channel: Channel::Email,
        template_id: template.id,
        fallback_template_id: None,
        late_policy: LatePolicy::SendNow,
        enabled: true,
    };
    engine.save_rule(&rule, true).await.unwrap();
    rule.id
}

/// A confirmed two-night stay.
pub fn stay(property: Uuid, contact: Uuid, arrival: jiff::civil::Date) -> BookingFields {
    let schedule = Schedule::Stay {
        arrival,
        departure: arrival.checked_add(jiff::Span::new().days(2)).unwrap(),
    };
    BookingFields::new(property, contact, BookingStatus::Confirmed, schedule)
}

/// The database at `database` (a SQLite path or a PostgreSQL URL), migrated and holding
/// `messages` confirmations due now: its store and the account.
pub async fn due_world(database: &str, messages: usize) -> (bellhop_store::Store, Uuid) {
    let store = bellhop_store::Store::open_url(database, &Default::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let account = seed_due_confirmations(&store, messages).await;
    (store, account)
}

/// A store holding `messages` confirmations, all due now, for one account; returns the account.
pub async fn seed_due_confirmations(store: &bellhop_store::Store, messages: usize) -> Uuid {
    use bellhop_domain::Contact;
    let engine = Engine::new(
        store.clone(),
        std::sync::Arc::new(bellhop_engine::SystemClock),
    );
    let account = Uuid::now_v7();
    let now = engine.now();
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(account, "Kill test", now).await.unwrap();
    tx.commit().await.unwrap();
    let property = property(account);
    engine.create_property(&property).await.unwrap();
    confirmation(&engine, account, property.id).await;
    for chunk in (0..messages).collect::<Vec<_>>().chunks(1000) {
        let mut tx = store.begin().await.unwrap();
        let mut drafts = Vec::new();
        for i in chunk {
            let c = Contact {
                id: Uuid::now_v7(),
                account_id: account,
                first_name: Some(format!("Gast {i}")),
                email: Some(format!("g{i}@example.com").parse().unwrap()),
                ..Contact::default()
            };
            tx.upsert_contact(&c, now).await.unwrap();
            drafts.push(stay(property.id, c.id, jiff::civil::date(2027, 1, 10)));
        }
        tx.commit().await.unwrap();
        engine
            .create_bookings(account, drafts, "test")
            .await
            .unwrap();
    }
    account
}

/// Dispatch settings of the kill tests: small batches, short leases.
pub const KILL_BATCH: usize = 100;
pub const KILL_WORKERS: usize = 2;

/// The lease of the kill tests' nodes: 5 s, or `BELLHOP_TEST_KILL_LEASE_SECS` (`bench/kill`
/// also runs with the default of 60 s, for the rescue time operators get).
pub fn kill_lease_secs() -> u64 {
    std::env::var("BELLHOP_TEST_KILL_LEASE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

/// `bellhop serve` on `database`, sending to the SMTP server on `smtp_port`.
pub fn serve(dir: &Path, database: &str, smtp_port: u16) -> Child {
    serve_as(dir, database, smtp_port, None, Stdio::inherit())
}

/// [`serve`] as the node named `node` (default: the host name and process id), its log
/// (warnings) going to `log`.
pub fn serve_as(
    dir: &Path,
    database: &str,
    smtp_port: u16,
    node: Option<&str>,
    log: Stdio,
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bellhop"));
    command
        .arg("serve")
        .current_dir(dir)
        .env("BELLHOP_DATABASE", database)
        .env("BELLHOP_LISTEN", "127.0.0.1:0")
        .env("BELLHOP_INBOUND__SMTP_LISTEN", "127.0.0.1:0")
        .env("BELLHOP_EMAIL__TRANSPORT", "smtp")
        .env("BELLHOP_EMAIL__SMTP__HOST", "127.0.0.1")
        .env("BELLHOP_EMAIL__SMTP__PORT", smtp_port.to_string())
        .env("BELLHOP_EMAIL__SMTP__POOL_SIZE", "8")
        .env("BELLHOP_DISPATCH__BATCH_SIZE", KILL_BATCH.to_string())
        .env(
            "BELLHOP_DISPATCH__LEASE_SECS",
            kill_lease_secs().to_string(),
        )
        .env("BELLHOP_DISPATCH__WORKERS", KILL_WORKERS.to_string())
        .env("BELLHOP_DISPATCH__POLL_MS", "200")
        .env("BELLHOP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log);
    if let Some(node) = node {
        command.env("BELLHOP_DISPATCH__NODE", node);
    }
    command.spawn().expect("start bellhop serve")
}

pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How many messages of the store are recorded as sent.
pub async fn sent_count(store: &bellhop_store::Store) -> usize {
    store
        .count_by_status()
        .await
        .unwrap()
        .into_iter()
        .find(|(s, _)| s == "sent")
        .map_or(0, |(_, n)| n as usize)
}

/// Waits until every message of the store is recorded as sent.
pub async fn wait_until_all_sent(store: &bellhop_store::Store, messages: usize) {
    let sent = || sent_count(store);
    let started = Instant::now();
    while sent().await < messages {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "only {} sent: {:?}",
            sent().await,
            store.count_by_status().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops a node as an operator would (SIGTERM) and waits for it to finish its batch.
pub fn stop_gracefully(child: &mut Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    wait_for("graceful stop", Duration::from_secs(30), || {
        child.try_wait().unwrap().is_some()
    });
}

/// What reached the sink, against what the store says it sent.
#[derive(Debug)]
pub struct Tally {
    pub expected: usize,
    pub lost: usize,
    pub duplicates: usize,
    pub strangers: usize,
}

pub async fn tally(store: &bellhop_store::Store, account: Uuid, sink: &Sink) -> Tally {
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for id in sink.message_ids() {
        *seen.entry(id).or_default() += 1;
    }
    let rows = store
        .messages(
            account,
            &bellhop_store::MessageFilter {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let expected: std::collections::HashSet<String> = rows
        .iter()
        .map(|m| format!("<{}@hotel.example>", m.id))
        .collect();
    Tally {
        expected: expected.len(),
        lost: expected.iter().filter(|id| !seen.contains_key(*id)).count(),
        duplicates: seen.values().map(|n| n - 1).sum(),
        strangers: seen.keys().filter(|id| !expected.contains(*id)).count(),
    }
}
