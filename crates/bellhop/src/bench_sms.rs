//! SMS benchmarks: segmentation throughput over a mixed corpus (the script runs Twilio's
//! calculator on the same corpus as the baseline), and SMS end to end through Kannel —
//! messages per second accepted by smsbox's sendsms, against the same requests sent
//! straight to sendsms by a plain client (the ceiling), in the same run.

use anyhow::Context;
use bellhop_domain::property::{Property, Sender, SmsSettings};
use bellhop_domain::render::{Category, SmsContent, Template, Variants};
use bellhop_domain::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, Rule};
use bellhop_domain::sms::{self, SenderId};
use bellhop_domain::time::{LocalTime, parse_time_zone};
use bellhop_domain::{BookingFields, BookingStatus, Contact, Schedule};
use bellhop_engine::{DispatchConfig, Dispatcher, Engine, ManualClock, Transports};
use bellhop_store::{Store, StoreOptions};
use bellhop_transport::callbacks::Callbacks;
use bellhop_transport::sms::{KannelConfig, KannelGateway, SmsGateway, VoiceGateway};
use bellhop_transport::{EmailTransport, EmlFolder};
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A deterministic mix of what businesses send: short GSM reminders, long GSM texts, texts
/// with extension characters, German/French text with UCS-2 letters, and emoji.
pub fn corpus(n: usize) -> Vec<String> {
    let mut seed: u64 = 0x5EED_0000_0000_0042;
    let mut next = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let words = [
        "Termin",
        "morgen",
        "um",
        "10:00",
        "Uhr",
        "Haarschnitt",
        "bitte",
        "absagen",
        "unter",
        "Hotel",
        "Anreise",
        "Zimmer",
        "bereit",
        "Grüße",
        "Ihr",
        "Team",
        "reminder",
        "tomorrow",
        "appointment",
        "rendez-vous",
        "demain",
        "à",
        "confirmé",
        "merci",
    ];
    let ucs2 = ["ç", "á", "“", "”", "–", "ł", "ő"];
    let emoji = ["😀", "🎉", "👍", "🇦🇹", "👨‍👩‍👧"];
    let ext = ["€", "[", "]", "{", "}", "|", "~"];
    (0..n)
        .map(|i| {
            let (len, extra): (usize, &[&str]) = match i % 20 {
                0..=7 => (12 + next(10), &[]),
                8..=11 => (40 + next(60), &[]),
                12..=14 => (15 + next(20), &ext),
                15..=17 => (15 + next(30), &ucs2),
                _ => (10 + next(15), &emoji),
            };
            let mut text = String::new();
            for w in 0..len {
                if w > 0 {
                    text.push(' ');
                }
                text.push_str(words[next(words.len())]);
                if !extra.is_empty() && next(6) == 0 {
                    text.push_str(extra[next(extra.len())]);
                }
            }
            text
        })
        .collect()
}

/// Segments the corpus, writes it for the baseline, prints the rate.
pub fn segments(
    texts: usize,
    corpus_out: Option<&std::path::Path>,
    smart: bool,
) -> anyhow::Result<()> {
    let corpus = corpus(texts);
    if let Some(path) = corpus_out {
        std::fs::write(path, serde_json::to_vec(&corpus)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // One warm-up pass, then the measured passes.
    let mut parts = 0usize;
    for t in &corpus[..corpus.len().min(10_000)] {
        parts += sms::analyze(t, smart).segments;
    }
    let passes = 3;
    let started = Instant::now();
    let mut ucs2 = 0;
    for _ in 0..passes {
        for t in &corpus {
            let a = sms::analyze(t, smart);
            parts += a.segments;
            ucs2 += usize::from(a.encoding == sms::Encoding::Ucs2);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = (texts * passes) as f64 / elapsed;
    println!(
        "corpus: {texts} texts, {:.0} % UCS-2, {:.2} parts per text",
        100.0 * ucs2 as f64 / (texts * passes) as f64,
        parts as f64 / (texts * passes + corpus.len().min(10_000)) as f64
    );
    println!("segments: {rate:.0} texts/s");
    Ok(())
}

/// How to reach smsbox.
#[derive(clap::Args, Debug)]
pub struct KannelArgs {
    /// sendsms URL.
    #[arg(long)]
    sendsms: String,
    /// sendsms-user.
    #[arg(long, default_value = "bench")]
    username: String,
    /// Its password.
    #[arg(long, default_value = "bench")]
    password: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Port for bellhop's delivery-report callbacks (and the ceiling's answering stub).
    #[arg(long)]
    callback_port: u16,
}

/// The ceiling: the requests bellhop would send, straight to sendsms, with delivery reports
/// answered by a stub that does nothing.
async fn ceiling(k: &KannelArgs, messages: usize) -> anyhow::Result<f64> {
    let stub = axum::Router::new().fallback(|| async { "ok" });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", k.callback_port)).await?;
    let server = tokio::spawn(async move { axum::serve(listener, stub).await });
    let client = bellhop_transport::sms::http_client(Duration::from_secs(30))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let results: Vec<bool> = futures_util::stream::iter(0..messages)
        .map(|i| {
            let client = client.clone();
            async move {
                let dlr = format!(
                    "http://127.0.0.1:{}/callbacks/sms/kannel/dlr?message={}&token=x&type=%d&reply=%A&ts=%T",
                    k.callback_port,
                    Uuid::now_v7()
                );
                let q = [
                    ("username", k.username.as_str()),
                    ("password", k.password.as_str()),
                    ("from", "SalonAnna"),
                    ("to", &format!("+43664{:07}", i)),
                    ("text", "Hallo Eva, morgen um 10:00 Uhr: Haarschnitt. Ihr Salon Anna"),
                    ("charset", "UTF-8"),
                    ("coding", "0"),
                    ("dlr-mask", "31"),
                    ("dlr-url", &dlr),
                ];
                client
                    .get(&k.sendsms)
                    .query(&q)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .buffer_unordered(k.concurrency)
        .collect()
        .await;
    let rate = messages as f64 / started.elapsed().as_secs_f64();
    server.abort();
    let ok = results.iter().filter(|r| **r).count();
    anyhow::ensure!(ok == messages, "sendsms accepted {ok} of {messages}");
    Ok(rate)
}

fn salon(account: Uuid) -> anyhow::Result<Property> {
    Ok(Property {
        id: Uuid::now_v7(),
        account_id: account,
        name: "Salon Anna".into(),
        time_zone_name: "Europe/Vienna".into(),
        time_zone: parse_time_zone("Europe/Vienna")?,
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: LocalTime::hm(15, 0),
        check_out_time: LocalTime::hm(10, 0),
        sender: Sender {
            email: "termine@salon.example".into(),
            name: "Salon Anna".into(),
            reply_to: None,
        },
        layout_html: None,
        layout_text: None,
        brand: Default::default(),
        consent: Default::default(),
        sms: SmsSettings {
            sender: Some(SenderId::parse("SalonAnna").map_err(anyhow::Error::msg)?),
            quiet_hours: None,
            ..SmsSettings::default()
        },
    })
}

/// Seeds `messages` due SMS confirmations (a rule on booking creation) in a fresh store.
async fn seed(store: &Store, clock: &ManualClock, messages: usize) -> anyhow::Result<()> {
    let engine = Engine::new(store.clone(), Arc::new(clock.clone()));
    let account = Uuid::now_v7();
    let mut tx = store.begin().await?;
    tx.insert_account(account, "Bench", engine.now()).await?;
    tx.commit().await?;
    let property = salon(account)?;
    engine.create_property(&property).await?;
    let template = Template {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property.id,
        name: "Bestätigung".into(),
        category: Category::Service,
        variants: Variants::Sms(
            [(
                "de".to_owned(),
                SmsContent {
                    text: "Hallo {{ guest.first_name }}, Ihr Termin am {{ booking.start_date }} um {{ booking.start_time }} Uhr ist bestätigt. Ihr Salon Anna".into(),
                },
            )]
            .into_iter()
            .collect(),
        ),
        version: 1,
    };
    engine.save_template(&template, true).await?;
    let rule = Rule {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property.id,
        name: "Bestätigung".into(),
        anchor: Anchor::BookingCreated,
        offset: Offset::minutes(0),
        time_of_day: None,
        conditions: Conditions::default(),
        channel: Channel::Sms,
        template_id: template.id,
        fallback_template_id: None,
        late_policy: LatePolicy::SendNow,
        enabled: true,
    };
    engine.save_rule(&rule, true).await?;
    let now = engine.now();
    for chunk in (0..messages).collect::<Vec<_>>().chunks(1000) {
        let mut tx = store.begin().await?;
        let mut drafts = Vec::with_capacity(chunk.len());
        for i in chunk {
            let c = Contact {
                id: Uuid::now_v7(),
                account_id: account,
                first_name: Some(format!("Gast{i}")),
                phone: Some(format!("+43664{i:07}")),
                phone_e164: Some(bellhop_domain::phone::E164::stored(format!("+43664{i:07}"))),
                phone_type: Some(bellhop_domain::phone::PhoneType::Mobile),
                ..Contact::default()
            };
            tx.upsert_contact(&c, now).await?;
            let start = now.checked_add(SignedDuration::from_hours(48))?;
            let schedule = Schedule::Appointment {
                start,
                end: start.checked_add(SignedDuration::from_hours(1))?,
            };
            drafts.push(BookingFields::new(
                property.id,
                c.id,
                BookingStatus::Confirmed,
                schedule,
            ));
        }
        tx.commit().await?;
        engine.create_bookings(account, drafts, "bench").await?;
    }
    Ok(())
}

/// bellhop through Kannel: seed, then drain the outbox through sendsms with the callback
/// server taking the delivery reports; prints both rates and the ratio.
pub async fn kannel(k: KannelArgs, messages: usize) -> anyhow::Result<()> {
    let ceiling_rate = ceiling(&k, messages).await.context("ceiling")?;
    println!("ceiling: sendsms accepted {messages} in a plain client = {ceiling_rate:.0} msgs/s");
    // Let Kannel deliver the ceiling's reports before bellhop's run.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("sms.db"), &StoreOptions::default()).await?;
    store.migrate().await?;
    let clock = ManualClock::new(Timestamp::now());
    seed(&store, &clock, messages).await?;
    let callbacks = Callbacks::new(
        &format!("http://127.0.0.1:{}", k.callback_port),
        b"bench-key",
    );
    let engine = Engine::new(store.clone(), Arc::new(clock.clone())).with_signer(callbacks.clone());
    let app = bellhop_web::app(bellhop_web::AppState {
        engine,
        webhook_targets: Default::default(),
        imap_targets: Default::default(),
        ui: Default::default(),
        callbacks: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", k.callback_port)).await?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let gateway = KannelGateway::new(
        KannelConfig {
            url: k.sendsms.clone(),
            username: k.username.clone(),
            password: k.password.clone().into(),
            smsc: None,
            timeout: Duration::from_secs(30),
        },
        callbacks,
    )?;
    let transports = Transports {
        email: Arc::new(EmailTransport::Folder(EmlFolder::new(
            dir.path().join("mail"),
        )?)),
        sms: Arc::new(SmsGateway::Kannel(gateway)),
        voice: Arc::new(VoiceGateway::None),
        webhook: Default::default(),
    };
    let dispatcher = Arc::new(Dispatcher::new(
        store.clone(),
        transports,
        Arc::new(clock.clone()),
        DispatchConfig {
            node: "bench".into(),
            batch_size: 200,
            sms_concurrency: k.concurrency,
            ..DispatchConfig::default()
        },
    ));
    let started = Instant::now();
    let mut loops = Vec::new();
    for _ in 0..2 {
        let d = dispatcher.clone();
        loops.push(tokio::spawn(async move { d.drain().await }));
    }
    let mut sent = 0;
    for l in loops {
        sent += l.await??.sent;
    }
    let rate = sent as f64 / started.elapsed().as_secs_f64();
    // Wait a moment for the reports, then say how many came back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let counts = store.count_by_status().await?;
    server.abort();
    anyhow::ensure!(sent == messages, "sent {sent} of {messages}");
    println!(
        "bellhop: {sent} SMS through the outbox to sendsms = {rate:.0} msgs/s; statuses after 3 s: {counts:?}"
    );
    println!(
        "sms via kannel: {rate:.0} msgs/s; ceiling: {ceiling_rate:.0} msgs/s; ratio: {:.2}",
        rate / ceiling_rate
    );
    Ok(())
}
