//! The kill test: `bellhop serve` is SIGKILLed twice in the middle of 10,000 sends to a real
//! SMTP server and restarted. Nothing may be lost; only messages in flight at a kill may
//! arrive twice, and then with the same Message-ID.

mod support;

use bellhop_domain::Contact;
use bellhop_engine::{Engine, SystemClock};
use bellhop_store::{Store, StoreOptions};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const MESSAGES: usize = 10_000;
const BATCH: usize = 100;
const WORKERS: usize = 2;

fn serve(dir: &Path, db: &Path, smtp_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bellhop"))
        .arg("serve")
        .current_dir(dir)
        .env("BELLHOP_DATABASE", db)
        .env("BELLHOP_LISTEN", "127.0.0.1:0")
        .env("BELLHOP_EMAIL__TRANSPORT", "smtp")
        .env("BELLHOP_EMAIL__SMTP__HOST", "127.0.0.1")
        .env("BELLHOP_EMAIL__SMTP__PORT", smtp_port.to_string())
        .env("BELLHOP_EMAIL__SMTP__POOL_SIZE", "8")
        .env("BELLHOP_DISPATCH__BATCH_SIZE", BATCH.to_string())
        .env("BELLHOP_DISPATCH__LEASE_SECS", "5")
        .env("BELLHOP_DISPATCH__WORKERS", WORKERS.to_string())
        .env("BELLHOP_DISPATCH__POLL_MS", "200")
        .env("BELLHOP_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start bellhop serve")
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_dispatcher_mid_run_loses_nothing_and_repeats_only_in_flight_messages() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let store = Store::open(&db, &StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let engine = Engine::new(store.clone(), Arc::new(SystemClock));
    let account = Uuid::now_v7();
    let now = engine.now();
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(account, "Crash", now).await.unwrap();
    tx.commit().await.unwrap();
    let property = support::property(account);
    engine.create_property(&property).await.unwrap();
    support::confirmation(&engine, account, property.id).await;
    for chunk in 0..MESSAGES / 1000 {
        let mut tx = store.begin().await.unwrap();
        let mut drafts = Vec::new();
        for i in chunk * 1000..(chunk + 1) * 1000 {
            let c = Contact {
                id: Uuid::now_v7(),
                account_id: account,
                first_name: Some(format!("Gast {i}")),
                email: Some(format!("g{i}@example.com")),
                ..Contact::default()
            };
            tx.upsert_contact(&c, now).await.unwrap();
            drafts.push(support::stay(
                property.id,
                c.id,
                jiff::civil::date(2027, 1, 10),
            ));
        }
        engine
            .create_bookings_in(&mut tx, account, drafts, "test")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    let sink = support::Sink::start();
    let mut kills = 0;
    for kill_at in [3_000, 6_500] {
        let mut child = serve(dir.path(), &db, sink.port);
        wait_for("sends before the kill", Duration::from_secs(120), || {
            assert!(
                child.try_wait().unwrap().is_none(),
                "bellhop serve exited early"
            );
            sink.count() >= kill_at
        });
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    let mut child = serve(dir.path(), &db, sink.port);
    let sent = || async {
        store
            .count_by_status()
            .await
            .unwrap()
            .into_iter()
            .find(|(s, _)| s == "sent")
            .map_or(0, |(_, n)| n as usize)
    };
    let started = Instant::now();
    while sent().await < MESSAGES {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "only {} sent: {:?}",
            sent().await,
            store.count_by_status().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    wait_for("graceful stop", Duration::from_secs(30), || {
        child.try_wait().unwrap().is_some()
    });

    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in sink.message_ids() {
        *seen.entry(id).or_default() += 1;
    }
    let expected: Vec<String> = {
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
        rows.iter()
            .map(|m| format!("<{}@hotel.example>", m.id))
            .collect()
    };
    let lost = expected.iter().filter(|id| !seen.contains_key(*id)).count();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    let strangers = seen.keys().filter(|id| !expected.contains(id)).count();
    println!(
        "kill test: messages={MESSAGES} kills={kills} lost={lost} duplicates={duplicates} (bound {})",
        kills * BATCH * WORKERS
    );
    assert_eq!(expected.len(), MESSAGES);
    assert_eq!(lost, 0);
    assert_eq!(strangers, 0);
    // At a kill, each worker holds at most one batch in flight.
    assert!(
        duplicates <= kills * BATCH * WORKERS,
        "{duplicates} duplicates"
    );
}
