//! The kill test on the SMS path: `bellhop serve` sends 1,500 due SMS through a real Kannel
//! and is SIGKILLed in the middle, then restarted. Every SMS must reach the fake SMSC; only
//! those in flight at the kill may arrive twice (Kannel has no idempotency key).

mod support;

use bellhop_domain::render::{Category, SmsContent, Template, Variants};
use bellhop_domain::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, Rule};
use bellhop_engine::Engine;
use bellhop_store::{Store, StoreOptions};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::kannel::{self, Kannel};
use uuid::Uuid;

const MESSAGES: usize = 1_500;
const BATCH: usize = 50;
const WORKERS: usize = 2;

async fn seed(store: &Store) {
    let engine = Engine::new(
        store.clone(),
        std::sync::Arc::new(bellhop_engine::SystemClock),
    );
    let account = Uuid::now_v7();
    let now = engine.now();
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(account, "SMS kill test", now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut property = support::property(account);
    property.sms = bellhop_domain::property::SmsSettings {
        sender: Some(bellhop_domain::sms::SenderId::parse("SalonAnna").unwrap()),
        quiet_hours: None,
        ..Default::default()
    };
    engine.create_property(&property).await.unwrap();
    let template = Template {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property.id,
        name: "Marker".into(),
        category: Category::Service,
        variants: Variants::Sms(
            [(
                "de".to_owned(),
                SmsContent {
                    text: "Kill test {{ guest.first_name }}".into(),
                },
            )]
            .into_iter()
            .collect(),
        ),
        version: 1,
    };
    engine.save_template(&template, true).await.unwrap();
    let rule = Rule {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property.id,
        name: "Now".into(),
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
    engine.save_rule(&rule, true).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let mut drafts = Vec::new();
    for i in 0..MESSAGES {
        let c = bellhop_domain::Contact {
            id: Uuid::now_v7(),
            account_id: account,
            first_name: Some(format!("M{i:05}")),
            phone: Some(format!("+43664{i:07}")),
            phone_e164: Some(format!("+43664{i:07}").parse().unwrap()),
            phone_type: Some(bellhop_domain::phone::PhoneType::Mobile),
            ..Default::default()
        };
        tx.upsert_contact(&c, now).await.unwrap();
        drafts.push(support::stay(
            property.id,
            c.id,
            jiff::civil::date(2027, 1, 10),
        ));
    }
    tx.commit().await.unwrap();
    engine
        .create_bookings(account, drafts, "test")
        .await
        .unwrap();
}

fn serve(dir: &std::path::Path, database: &str, kannel: &Kannel, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bellhop"))
        .arg("serve")
        .current_dir(dir)
        .env("BELLHOP_DATABASE", database)
        .env("BELLHOP_LISTEN", format!("127.0.0.1:{port}"))
        .env("BELLHOP_INBOUND__SMTP_LISTEN", "127.0.0.1:0")
        .env("BELLHOP_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("BELLHOP_SMS__GATEWAY", "kannel")
        .env("BELLHOP_SMS__KANNEL__URL", kannel.sendsms_url())
        .env("BELLHOP_SMS__KANNEL__USERNAME", kannel::USER)
        .env("BELLHOP_SMS__KANNEL__PASSWORD", kannel::PASSWORD)
        .env("BELLHOP_DISPATCH__BATCH_SIZE", BATCH.to_string())
        .env("BELLHOP_DISPATCH__LEASE_SECS", "5")
        .env("BELLHOP_DISPATCH__WORKERS", WORKERS.to_string())
        .env("BELLHOP_DISPATCH__POLL_MS", "200")
        .env("BELLHOP_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start bellhop serve")
}

/// How often each marker reached the fake SMSC.
fn received(kannel: &Kannel) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for line in kannel.fakesmsc_output().lines() {
        if let Some(rest) = line.split("text Kill test ").nth(1) {
            *seen
                .entry(rest.trim_end_matches('>').to_owned())
                .or_default() += 1;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_bellhop_while_it_sends_sms_loses_none_and_repeats_only_those_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sms-crash.db");
    let store = Store::open(&db, &StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    seed(&store).await;
    let database = db.display().to_string();
    let port = support::free_port();
    let kannel = Kannel::start(&format!("http://127.0.0.1:{port}"));

    let mut child = serve(dir.path(), &database, &kannel, port);
    support::wait_for("SMS before the kill", Duration::from_secs(120), || {
        assert!(
            child.try_wait().unwrap().is_none(),
            "bellhop serve exited early"
        );
        received(&kannel).values().sum::<usize>() >= MESSAGES / 3
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut child = serve(dir.path(), &database, &kannel, port);
    let accepted = || async {
        store
            .count_by_status()
            .await
            .unwrap()
            .into_iter()
            .filter(|(s, _)| s == "sent" || s == "delivered")
            .map(|(_, n)| n as usize)
            .sum::<usize>()
    };
    let started = std::time::Instant::now();
    while accepted().await < MESSAGES {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "only {} accepted",
            accepted().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    support::wait_for(
        "the fake SMSC to receive everything",
        Duration::from_secs(60),
        || received(&kannel).len() >= MESSAGES,
    );
    support::stop_gracefully(&mut child);

    let seen = received(&kannel);
    let lost = (0..MESSAGES)
        .filter(|i| !seen.contains_key(&format!("M{i:05}")))
        .count();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    let bound = WORKERS * BATCH;
    println!(
        "SMS kill test: messages={MESSAGES} kills=1 lost={lost} duplicates={duplicates} (bound {bound})"
    );
    assert_eq!(lost, 0);
    assert_eq!(seen.len(), MESSAGES, "no strangers");
    assert!(duplicates <= bound, "{duplicates} duplicates");
    // Every SMS was counted once, whatever was sent twice.
    let counts = store.count_by_status().await.unwrap();
    assert!(
        counts.iter().all(|(s, _)| s == "sent" || s == "delivered"),
        "{counts:?}"
    );
}
