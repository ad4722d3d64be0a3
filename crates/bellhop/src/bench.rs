//! Benchmarks: planning throughput, and dispatch through the real outbox to an SMTP server.
//! The scripts `bench/plan` and `bench/dispatch` run these next to their baselines and print
//! ratios; nothing here is a timed test.

use anyhow::Context;
use bellhop_domain::contact::EmailAddress;
use bellhop_domain::language::LanguageTag;
use bellhop_domain::plan::{self, PlanAction, PlanInput};
use bellhop_domain::presets;
use bellhop_domain::property::{Property, Sender};
use bellhop_domain::render::{Category, EmailContent, Template};
use bellhop_domain::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, Rule};
use bellhop_domain::time::{LocalTime, parse_time_zone};
use bellhop_domain::{Booking, BookingDetails, BookingFields, BookingStatus, Contact, Schedule};
use bellhop_engine::{DispatchConfig, Dispatcher, Engine, ManualClock};
use bellhop_store::{Store, StoreOptions};
use bellhop_transport::{EmailTransport, SmtpConfig, SmtpTls, SmtpTransport};
use clap::Subcommand;
use jiff::Timestamp;
use jiff::civil::date;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Which benchmark.
#[derive(Subcommand, Debug)]
pub enum Which {
    /// Plan bookings × the eight hotel rules: pure planning, then with SQLite writes.
    Plan {
        /// Bookings planned in memory.
        #[arg(long, default_value_t = 100_000)]
        bookings: usize,
        /// Bookings planned and stored in SQLite (0 to skip).
        #[arg(long, default_value_t = 20_000)]
        stored: usize,
    },
    /// Plan and deliver due templated HTML emails through the outbox to an SMTP server.
    Dispatch {
        /// Messages.
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
        /// Database (a `postgres://` URL); default: a SQLite file in a temporary folder.
        #[arg(long)]
        database: Option<String>,
        /// Node processes draining the outbox at once (more than one needs PostgreSQL).
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Bookings × the eight hotel rules through the import path (the API's and the command
    /// line's: each item checked, contacts matched, 1,000 per transaction with their planning).
    Import {
        /// Bookings.
        #[arg(long, default_value_t = 100_000)]
        bookings: usize,
        /// Database (a `postgres://` URL); default: a SQLite file in a temporary folder.
        #[arg(long)]
        database: Option<String>,
    },
    /// SMS segmentation over a mixed corpus (writes the corpus for the baseline).
    SmsSegments {
        /// Texts in the corpus.
        #[arg(long, default_value_t = 100_000)]
        texts: usize,
        /// Write the corpus here (JSON), for the baseline.
        #[arg(long)]
        corpus_out: Option<std::path::PathBuf>,
        /// With smart encoding.
        #[arg(long)]
        smart_encoding: bool,
    },
    /// SMS through the outbox to Kannel's sendsms, against sendsms's own ceiling.
    SmsKannel {
        /// Messages.
        #[arg(long, default_value_t = 5_000)]
        messages: usize,
        #[command(flatten)]
        kannel: crate::bench_sms::KannelArgs,
    },
    /// Reservations pushed over HTTP by concurrent channel clients (JSON and AlpineBits),
    /// against the same server answering `/healthz`.
    Channels {
        /// JSON pushes (and `/healthz` requests for the baseline).
        #[arg(long, default_value_t = 20_000)]
        json: usize,
        /// AlpineBits pushes.
        #[arg(long, default_value_t = 5_000)]
        alpinebits: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// SQLite with `synchronous=NORMAL` (commits not synced one by one), to see what the
        /// default's syncing costs.
        #[arg(long)]
        normal_durability: bool,
    },
    /// One node of `dispatch`: drains the outbox when told to on stdin (started by `dispatch`).
    #[command(hide = true)]
    DispatchNode {
        /// Database URL.
        #[arg(long)]
        database: String,
        /// The benchmark's clock.
        #[arg(long)]
        now: Timestamp,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// How each dispatching node runs.
#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    /// SMTP server, host:port.
    #[arg(long, required_unless_present = "discard")]
    smtp: Option<String>,
    /// Hand every message to a transport that accepts it at once (the outbox alone, for
    /// `bench/drain`), with a short template instead of the 4 KB letter.
    #[arg(long, conflicts_with = "smtp")]
    discard: bool,
    /// SMTP connections per node.
    #[arg(long, default_value_t = 20)]
    connections: usize,
    /// Dispatch loops running at once per node.
    #[arg(long, default_value_t = 3)]
    loops: usize,
    /// Messages per claimed batch.
    #[arg(long, default_value_t = 500)]
    batch: i64,
    /// Keep the rendered bodies of sent messages in the database.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    retain_bodies: bool,
}

/// Runs a benchmark.
pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Plan { bookings, stored } => {
            plan_bench(bookings, stored).await.context("plan benchmark")
        }
        Which::Dispatch {
            messages,
            database,
            nodes,
            node,
        } => dispatch_bench(database, messages, nodes, node)
            .await
            .context("dispatch benchmark"),
        Which::Import { bookings, database } => import_bench(bookings, database)
            .await
            .context("import benchmark"),
        Which::SmsSegments {
            texts,
            corpus_out,
            smart_encoding,
        } => crate::bench_sms::segments(texts, corpus_out.as_deref(), smart_encoding),
        Which::Channels {
            json,
            alpinebits,
            clients,
            normal_durability,
        } => crate::bench_channels::channels(json, alpinebits, clients, normal_durability)
            .await
            .context("channel benchmark"),
        Which::SmsKannel { messages, kannel } => crate::bench_sms::kannel(kannel, messages)
            .await
            .context("SMS benchmark"),
        Which::DispatchNode {
            database,
            now,
            node,
        } => dispatch_node(&database, now, &node)
            .await
            .context("dispatch node"),
    }
}

fn vienna(account: Uuid, name: &str) -> anyhow::Result<Property> {
    Ok(Property {
        id: Uuid::now_v7(),
        account_id: account,
        name: name.into(),
        time_zone_name: "Europe/Vienna".into(),
        time_zone: parse_time_zone("Europe/Vienna")?,
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: LocalTime::hm(15, 0),
        check_out_time: LocalTime::hm(10, 0),
        sender: Sender {
            email: "info@bench.example".into(),
            name: name.into(),
            reply_to: None,
        },
        layout_html: None,
        layout_text: None,
        brand: Default::default(),
        consent: Default::default(),
        sms: Default::default(),
    })
}

/// The eight CASABLANCA moments (the hotel presets without the change notice).
fn eight_rules(account: Uuid, property: Uuid) -> Vec<Rule> {
    presets::hotel()
        .into_iter()
        .filter(|p| p.key != "stay_modified")
        .map(|p| p.instantiate(account, property).1)
        .collect()
}

fn stay_draft(property: Uuid, contact: Uuid, i: usize) -> BookingFields {
    let arrival = date(2026, 4, 1)
        .checked_add(jiff::Span::new().days((i % 300) as i64))
        .unwrap_or(date(2026, 4, 1));
    let departure = arrival
        .checked_add(jiff::Span::new().days(1 + (i % 6) as i64))
        .unwrap_or(arrival);
    let (status, option_until) = match i % 10 {
        0 => (
            BookingStatus::Option,
            Some(
                "2026-03-20T17:00:00Z"
                    .parse()
                    .unwrap_or(Timestamp::UNIX_EPOCH),
            ),
        ),
        1 => (BookingStatus::Offer, None),
        _ => (BookingStatus::Confirmed, None),
    };
    BookingFields {
        option_until,
        details: BookingDetails {
            room_category: Some(["DZ", "EZ", "Suite"][i % 3].into()),
            external_id: Some(format!("R-{i}")),
            price_cents: Some(25_000 + (i as i64 % 100) * 100),
            guests: Some(2),
            ..BookingDetails::default()
        },
        ..BookingFields::new(
            property,
            contact,
            status,
            Schedule::Stay { arrival, departure },
        )
    }
}

fn contact(account: Uuid, i: usize) -> Contact {
    Contact {
        id: Uuid::now_v7(),
        account_id: account,
        first_name: Some(format!("Gast{i}")),
        last_name: Some("Müller".into()),
        email: Some(EmailAddress::stored(format!("guest{i}@bench.example"))),
        language: Some(LanguageTag::stored(
            if i.is_multiple_of(3) { "en" } else { "de" }.into(),
        )),
        address: (!i.is_multiple_of(4)).then(|| "Hauptstraße 1".into()),
        ..Contact::default()
    }
}

async fn plan_bench(bookings: usize, stored: usize) -> anyhow::Result<()> {
    let account = Uuid::now_v7();
    let property = vienna(account, "Bench Hotel")?;
    let rules = eight_rules(account, property.id);
    let now: Timestamp = "2026-03-15T08:00:00Z".parse()?;
    let contacts: Vec<Contact> = (0..1000).map(|i| contact(account, i)).collect();
    let all: Vec<Booking> = (0..bookings)
        .map(|i| {
            let d = stay_draft(property.id, contacts[i % 1000].id, i);
            Booking::created(Uuid::now_v7(), account, d, now)
        })
        .collect();
    let started = Instant::now();
    let mut planned = 0usize;
    for (i, b) in all.iter().enumerate() {
        let input = PlanInput {
            property: &property,
            booking: b,
            contact: &contacts[i % 1000],
            rules: &rules,
            existing: &[],
            now,
        };
        planned += plan::plan(&input)
            .iter()
            .filter(|a| matches!(a, PlanAction::Insert { .. }))
            .count();
    }
    let pure = started.elapsed().as_secs_f64();
    println!(
        "plan (pure): {bookings} bookings x {} rules -> {planned} messages in {pure:.3} s = {:.0} planned msgs/s ({:.0} rule evaluations/s)",
        rules.len(),
        planned as f64 / pure,
        (bookings * rules.len()) as f64 / pure
    );
    if stored == 0 {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.db"), &StoreOptions::default()).await?;
    store.migrate().await?;
    let engine = Engine::new(store.clone(), Arc::new(ManualClock::new(now)));
    setup_account(&store, account, now).await?;
    engine.create_property(&property).await?;
    for preset in presets::hotel()
        .into_iter()
        .filter(|p| p.key != "stay_modified")
    {
        let (t, r) = preset.instantiate(account, property.id);
        engine.save_template(&t, true).await?;
        engine.save_rule(&r, true).await?;
    }
    let mut tx = store.begin().await?;
    for c in &contacts {
        tx.upsert_contact(c, now).await?;
    }
    tx.commit().await?;
    let started = Instant::now();
    let mut planned = 0u64;
    let drafts: Vec<BookingFields> = (0..stored)
        .map(|i| stay_draft(property.id, contacts[i % 1000].id, i))
        .collect();
    for chunk in drafts.chunks(1000) {
        let s = engine
            .create_bookings(account, chunk.to_vec(), "bench")
            .await?;
        planned += u64::from(s.planned + s.skipped);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "plan (stored): {stored} bookings created and planned in SQLite (synchronous=FULL, 1000 per transaction) -> {planned} messages in {secs:.2} s = {:.0} planned msgs/s",
        planned as f64 / secs
    );
    Ok(())
}

/// The bench hotel in Vienna with the eight hotel presets as rules.
pub(crate) async fn bench_hotel(engine: &Engine, account: Uuid) -> anyhow::Result<Property> {
    let property = vienna(account, "Bench Hotel")?;
    engine.create_property(&property).await?;
    for preset in presets::hotel()
        .into_iter()
        .filter(|p| p.key != "stay_modified")
    {
        let (t, r) = preset.instantiate(account, property.id);
        engine.save_template(&t, true).await?;
        engine.save_rule(&r, true).await?;
    }
    Ok(property)
}

pub(crate) async fn setup_account(
    store: &Store,
    account: Uuid,
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    tx.insert_account(account, "Bench", now).await?;
    tx.commit().await?;
    Ok(())
}

/// A ~4 KB personalised HTML email: a letter with the booking's details and a static block.
fn bench_template(account: Uuid, property: Uuid) -> Template {
    let filler: String = (0..14)
        .map(|i| format!("<p style=\"margin:0 0 12px 0;color:#333\">Abschnitt {i}: Unser Haus bietet Wellness, regionale Küche und geführte Wanderungen. Bitte beachten Sie die Hausordnung und die Check-in-Zeiten.</p>\n"))
        .collect();
    let html = format!(
        "<html><body><table width=\"600\"><tr><td><h1>Hallo {{{{ guest.first_name }}}} {{{{ guest.last_name }}}}</h1>\
         <p>Ihre Buchung {{{{ booking.reference }}}} vom {{{{ booking.start_date }}}} um {{{{ booking.start_time }}}} ist bestätigt.</p>\
         <p>Preis: {{{{ booking.price }}}} EUR</p>\n{filler}</td></tr></table></body></html>"
    );
    let mut variants = BTreeMap::new();
    variants.insert(
        "de".to_owned(),
        EmailContent {
            subject: "Bestätigung {{ booking.reference }} für {{ guest.first_name }}".into(),
            html,
            text: None,
        },
    );
    Template {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property,
        name: "Bench".into(),
        category: Category::Service,
        variants: bellhop_domain::render::Variants::Email(variants),
        version: 1,
    }
}

/// A one-line personalised mail: what a no-op job is to a job queue.
fn short_template(account: Uuid, property: Uuid) -> Template {
    let mut t = bench_template(account, property);
    t.variants = bellhop_domain::render::Variants::Email(BTreeMap::from([(
        "de".to_owned(),
        EmailContent {
            subject: "Bestätigung {{ booking.reference }}".into(),
            html: "<p>Hallo {{ guest.first_name }}, bis bald.</p>".into(),
            text: None,
        },
    )]));
    t
}

/// A node of the dispatch benchmark: connects, says "ready", waits for "go", drains the
/// outbox, and reports what it sent and what it cost.
async fn dispatch_node(database: &str, now: Timestamp, node: &NodeArgs) -> anyhow::Result<()> {
    let store = Store::open_url(
        database,
        &StoreOptions {
            max_connections: node.loops as u32 + 2,
            ..StoreOptions::default()
        },
    )
    .await?;
    let transport = match &node.smtp {
        Some(smtp) => {
            let (host, port) = smtp.rsplit_once(':').context("--smtp must be host:port")?;
            EmailTransport::Smtp(SmtpTransport::new(SmtpConfig {
                host: host.into(),
                port: port.parse().context("--smtp port")?,
                tls: SmtpTls::None,
                username: None,
                password: None,
                pool_size: node.connections,
                timeout: Duration::from_secs(30),
                hello_name: "bench.bellhop".into(),
            }))
        }
        None => EmailTransport::Discard,
    };
    let dispatcher = Arc::new(Dispatcher::new(
        store.clone(),
        bellhop_engine::Transports::email_only(Arc::new(transport)),
        Arc::new(ManualClock::new(now)),
        DispatchConfig {
            node: format!("bench-{}", std::process::id()),
            batch_size: node.batch,
            retain_bodies: node.retain_bodies,
            ..DispatchConfig::default()
        },
    ));
    println!("ready");
    let mut go = String::new();
    std::io::stdin().read_line(&mut go)?;
    let cpu_before = cpu_seconds();
    let mut handles = Vec::new();
    for _ in 0..node.loops.max(1) {
        let d = dispatcher.clone();
        handles.push(tokio::spawn(async move { d.drain().await }));
    }
    let mut sent = 0;
    for h in handles {
        sent += h.await??.sent;
    }
    println!(
        "sent={sent} cpu={:.3} rss_mb={:.0}",
        cpu_seconds() - cpu_before,
        peak_rss_mb()
    );
    Ok(())
}

/// CPU seconds (user + system) this process has used so far.
fn cpu_seconds() -> f64 {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let fields: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
            Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
        });
    ticks.unwrap_or(0.0) / 100.0
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn dispatch_bench(
    database: Option<String>,
    messages: usize,
    nodes: usize,
    node: NodeArgs,
) -> anyhow::Result<()> {
    anyhow::ensure!(nodes >= 1, "--nodes must be at least 1");
    let dir = tempfile::tempdir()?;
    let database = database.unwrap_or_else(|| dir.path().join("bench.db").display().to_string());
    anyhow::ensure!(
        nodes == 1 || database.starts_with("postgres"),
        "several nodes need a postgres:// --database"
    );
    let store = Store::open_url(&database, &StoreOptions::default()).await?;
    store.migrate().await?;
    let now: Timestamp = "2026-03-15T08:00:00Z".parse()?;
    let clock = ManualClock::new(now);
    let engine = Engine::new(store.clone(), Arc::new(clock.clone()));
    let account = Uuid::now_v7();
    setup_account(&store, account, now).await?;
    let property = vienna(account, "Bench Salon")?;
    engine.create_property(&property).await?;
    let template = if node.discard {
        short_template(account, property.id)
    } else {
        bench_template(account, property.id)
    };
    engine.save_template(&template, true).await?;
    let rule = Rule {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property.id,
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
    engine.save_rule(&rule, true).await?;

    let setup = Instant::now();
    let start: Timestamp = "2026-04-01T08:00:00Z".parse()?;
    for chunk_start in (0..messages).step_by(1000) {
        let n = (messages - chunk_start).min(1000);
        let mut tx = store.begin().await?;
        let mut drafts = Vec::with_capacity(n);
        for i in chunk_start..chunk_start + n {
            let c = contact(account, i);
            tx.upsert_contact(&c, now).await?;
            let s = start.checked_add(jiff::SignedDuration::from_mins((i % 5000) as i64))?;
            drafts.push(BookingFields {
                schedule: Schedule::Appointment {
                    start: s,
                    end: s.checked_add(jiff::SignedDuration::from_hours(1))?,
                },
                ..stay_draft(property.id, c.id, i)
            });
        }
        let drafts = drafts
            .into_iter()
            .map(|d| BookingFields {
                status: BookingStatus::Confirmed,
                option_until: None,
                ..d
            })
            .collect();
        tx.commit().await?;
        engine.create_bookings(account, drafts, "bench").await?;
    }
    store.analyze().await?;
    eprintln!(
        "setup: {messages} bookings planned in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    store.close().await;

    // Every node is a process of its own with its own pool, as in production. Each connects
    // and says "ready"; the clock starts when all are told to go.
    let mut children = Vec::with_capacity(nodes);
    for _ in 0..nodes {
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args(["bench", "dispatch-node", "--database"])
            .arg(&database)
            .args(match &node.smtp {
                Some(smtp) => vec!["--smtp", smtp],
                None => vec!["--discard"],
            })
            .args(["--now", &now.to_string()])
            .args(["--connections", &node.connections.to_string()])
            .args(["--loops", &node.loops.to_string()])
            .args(["--batch", &node.batch.to_string()])
            .args(["--retain-bodies", &node.retain_bodies.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("start a node")?;
        let mut out = std::io::BufReader::new(child.stdout.take().context("node stdout")?);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line)?;
        anyhow::ensure!(line.trim() == "ready", "node said {line:?}");
        children.push((child, out));
    }
    let started = Instant::now();
    for (child, _) in &mut children {
        std::io::Write::write_all(child.stdin.as_mut().context("node stdin")?, b"go\n")?;
    }
    let (mut sent, mut cpu, mut rss) = (0_usize, 0.0_f64, 0.0_f64);
    for (mut child, mut out) in children {
        let mut report = String::new();
        std::io::Read::read_to_string(&mut out, &mut report)?;
        anyhow::ensure!(child.wait()?.success(), "a node failed: {report}");
        let field = |name: &str| -> anyhow::Result<f64> {
            report
                .split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .context("node report")?
                .parse()
                .context("node report")
        };
        sent += field("sent=")? as usize;
        cpu += field("cpu=")?;
        rss = rss.max(field("rss_mb=")?);
    }
    let secs = started.elapsed().as_secs_f64();
    let store = Store::open_url(&database, &StoreOptions::default()).await?;
    let counts = store.count_by_status().await?;
    anyhow::ensure!(sent == messages, "sent {sent} of {messages}: {counts:?}");
    println!(
        "dispatch: {:.0} msgs/s; sent {sent} in {secs:.2} s by {nodes} node(s); bellhop CPU {:.0} µs/msg ({:.0}% of a core); peak RSS: {:.0} MB",
        sent as f64 / secs,
        cpu / sent as f64 * 1e6,
        cpu / secs * 100.0,
        rss
    );
    Ok(())
}

/// The import benchmark: a year of a hotel's stays as the API would receive them (half the
/// guests come twice), imported into the eight hotel rules.
async fn import_bench(bookings: usize, database: Option<String>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let database = database.unwrap_or_else(|| dir.path().join("bench.db").display().to_string());
    let store = Store::open_url(&database, &StoreOptions::default()).await?;
    store.migrate().await?;
    let now: Timestamp = "2026-03-15T08:00:00Z".parse()?;
    let engine = Engine::new(store.clone(), Arc::new(ManualClock::new(now)));
    let account = Uuid::now_v7();
    setup_account(&store, account, now).await?;
    let property = bench_hotel(&engine, account).await?;
    let ctx = bellhop_web::api::imports::ItemContext {
        account,
        countries: std::collections::HashMap::from([(property.id, property.country.clone())]),
        today: engine.today(),
    };
    let started = Instant::now();
    let items: Vec<bellhop_engine::ImportItem> = (0..bookings)
        .map(|i| {
            let d = stay_draft(property.id, Uuid::nil(), i);
            let (arrival, departure) = match d.schedule {
                Schedule::Stay { arrival, departure } => (arrival, departure),
                Schedule::Appointment { .. } => unreachable!("stays"),
            };
            let guest = i % (bookings / 2).max(1);
            let value = serde_json::json!({
                "property_id": property.id, "kind": "stay", "status": d.status.as_str(),
                "arrival": arrival, "departure": departure, "option_until": d.option_until,
                "room_category": d.details.room_category, "external_id": d.details.external_id,
                "price_cents": d.details.price_cents, "guests": d.details.guests, "source_channel": "pms",
                "contact": {"first_name": format!("Gast{guest}"), "last_name": "Müller",
                    "email": format!("guest{guest}@bench.example"),
                    "language": if guest.is_multiple_of(3) { "en" } else { "de" }},
            });
            bellhop_web::api::imports::item(value, i, &ctx)
                .map_err(|e| anyhow::anyhow!("item {i}: {:?}", e.first().map(|f| &f.message)))
        })
        .collect::<anyhow::Result<_>>()?;
    let checked = started.elapsed().as_secs_f64();
    let report = engine
        .import_bookings(
            account,
            items,
            Vec::new(),
            "bench",
            bellhop_engine::OnInvalid::Refuse,
            &|_| {},
        )
        .await?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.created == bookings,
        "created {} of {bookings}",
        report.created
    );
    let planned = report.plan.planned + report.plan.skipped;
    println!(
        "import: {bookings} bookings ({} contacts) and {planned} messages in {secs:.2} s (items read and checked in {checked:.2} s) = {:.0} bookings/s, {:.0} messages/s; {}",
        bookings / 2,
        bookings as f64 / secs,
        f64::from(planned) / secs,
        match store.backend() {
            bellhop_store::Backend::Sqlite => "SQLite, synchronous=FULL, a commit per 1,000",
            bellhop_store::Backend::Postgres =>
                "PostgreSQL, synchronous commits, a commit per 1,000",
        }
    );
    Ok(())
}
