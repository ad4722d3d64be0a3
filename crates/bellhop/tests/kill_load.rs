//! Kill tests under load, for figures (bench/kill runs them; `cargo test` skips them): a node
//! is SIGKILLed every few seconds across 100,000 sends to a real SMTP server and restarted:
//! one node on SQLite, three on PostgreSQL. Nothing may be lost; only messages in flight at a
//! kill may arrive twice, and then with the same Message-ID; a dead node's claimed messages
//! go out again soon after its lease lapses. And fencing: a node frozen (SIGSTOP) past its
//! lease, whose batch another node sends meanwhile, changes nothing when it wakes.
//!
//! `BELLHOP_TEST_KILL_MESSAGES` (default 100,000) and `BELLHOP_TEST_KILL_EVERY_SECS` (default 3) set
//! the load; PostgreSQL needs `BELLHOP_TEST_DATABASE_URL`.

mod support;

use bellhop_domain::message::MessageStatus;
use bellhop_store::{MessageFilter, Store, scratch};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{KILL_BATCH, KILL_WORKERS, Sink, kill_lease_secs, serve_as, wait_for};
use uuid::Uuid;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn with_status(store: &Store, account: Uuid, status: MessageStatus) -> HashSet<Uuid> {
    store
        .messages(
            account,
            &MessageFilter {
                status: Some(status),
                limit: 1_000_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect()
}

/// A kill: when, and the messages the dead node held (claimed and still `sending` a second
/// later, when the live nodes' batches of that moment are done).
struct Kill {
    at: jiff::Timestamp,
    held: HashSet<Uuid>,
}

/// Freezes the node (SIGSTOP) so that every claim it made is in the snapshot of `sending`
/// messages, then SIGKILLs it; its death counts from the freeze. Messages an earlier dead
/// node still holds (its lease not yet lapsed) are that kill's, not this one's.
async fn kill(store: &Store, account: Uuid, node: &mut Child, earlier: &[Kill]) -> Kill {
    assert!(
        node.try_wait().unwrap().is_none(),
        "a node exited by itself"
    );
    let at = jiff::Timestamp::now();
    freeze(node).await;
    let before = with_status(store, account, MessageStatus::Sending).await;
    node.kill().unwrap(); // SIGKILL
    node.wait().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = with_status(store, account, MessageStatus::Sending).await;
    Kill {
        at,
        held: before
            .intersection(&after)
            .filter(|id| !earlier.iter().any(|k| k.held.contains(id)))
            .copied()
            .collect(),
    }
}

/// Seconds from each kill to the last of its held messages going out again.
async fn rescue_times(store: &Store, account: Uuid, kills: &[Kill]) -> Vec<f64> {
    let mut out = Vec::new();
    for k in kills.iter().filter(|k| !k.held.is_empty()) {
        let mut last = k.at;
        for id in &k.held {
            let m = store.message(account, *id).await.unwrap();
            if let Some(sent) = m.sent_at {
                last = last.max(sent);
            }
        }
        out.push(last.duration_since(k.at).as_secs_f64());
    }
    out.sort_by(f64::total_cmp);
    out
}

fn report(name: &str, messages: usize, kills: &[Kill], t: &support::Tally, rescue: &[f64]) {
    let held: usize = kills.iter().map(|k| k.held.len()).sum();
    let p50 = rescue.get(rescue.len() / 2).copied().unwrap_or_default();
    let max = rescue.last().copied().unwrap_or_default();
    println!(
        "{name}: messages={messages} kills={} lost={} duplicates={} in_flight_at_kills={held} \
         bound={} rescue_after_kill_s p50={p50:.1} max={max:.1} (lease {} s)",
        kills.len(),
        t.lost,
        t.duplicates,
        kills.len() * KILL_BATCH * KILL_WORKERS,
        kill_lease_secs(),
    );
    assert_eq!(t.expected, messages);
    assert_eq!(t.lost, 0, "{name}: lost messages");
    assert_eq!(t.strangers, 0);
    assert!(
        t.duplicates <= kills.len() * KILL_BATCH * KILL_WORKERS,
        "{name}: {t:?}"
    );
    // Only what a dead node had claimed and not recorded can go out twice.
    assert!(t.duplicates <= held, "{name}: {t:?}, in flight {held}");
    // Re-sent within 90 s of the lease lapsing.
    assert!(
        max <= (kill_lease_secs() + 90) as f64,
        "{name}: a dead node's message waited {max:.1} s"
    );
}

async fn until_all_sent(store: &Store, messages: usize, mut tick: impl AsyncFnMut()) {
    let started = Instant::now();
    while support::sent_count(store).await < messages {
        assert!(
            started.elapsed() < Duration::from_secs(3_600),
            "not all sent within an hour: {:?}",
            store.count_by_status().await
        );
        tick().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a load test for figures: bench/kill runs it"]
async fn one_sqlite_node_killed_every_few_seconds_across_100k_sends_loses_nothing() {
    let messages = setting("BELLHOP_TEST_KILL_MESSAGES", 100_000) as usize;
    let every = Duration::from_secs(setting("BELLHOP_TEST_KILL_EVERY_SECS", 3));
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("kill.db").display().to_string();
    let (store, account) = support::due_world(&database, messages).await;
    let sink = Sink::start();

    let mut kills = Vec::new();
    let started = Instant::now();
    let mut node = serve_as(dir.path(), &database, sink.port, None, Stdio::null());
    until_all_sent(&store, messages, async || {
        tokio::time::sleep(every).await;
        if support::sent_count(&store).await < messages {
            kills.push(kill(&store, account, &mut node, &kills).await);
            node = serve_as(dir.path(), &database, sink.port, None, Stdio::null());
        }
    })
    .await;
    let elapsed = started.elapsed();
    support::stop_gracefully(&mut node);
    let t = support::tally(&store, account, &sink).await;
    let rescue = rescue_times(&store, account, &kills).await;
    println!(
        "sqlite: {messages} sent in {:.0} s with a SIGKILL every {} s",
        elapsed.as_secs_f64(),
        every.as_secs()
    );
    report("kill test, SQLite, 1 node", messages, &kills, &t, &rescue);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a load test for figures: bench/kill runs it"]
async fn three_postgres_nodes_one_killed_every_few_seconds_across_100k_sends_lose_nothing() {
    let messages = setting("BELLHOP_TEST_KILL_MESSAGES", 100_000) as usize;
    let every = Duration::from_secs(setting("BELLHOP_TEST_KILL_EVERY_SECS", 3));
    let dir = tempfile::tempdir().unwrap();
    let (database, store, account) = postgres_world(messages).await;
    let sink = Sink::start();

    let start = |i: usize| {
        serve_as(
            dir.path(),
            &database,
            sink.port,
            Some(&format!("node-{i}")),
            Stdio::null(),
        )
    };
    let mut nodes: Vec<Child> = (0..3).map(start).collect();
    let mut kills = Vec::new();
    let started = Instant::now();
    until_all_sent(&store, messages, async || {
        tokio::time::sleep(every).await;
        if support::sent_count(&store).await < messages {
            let victim = kills.len() % nodes.len();
            kills.push(kill(&store, account, &mut nodes[victim], &kills).await);
            nodes[victim] = start(victim);
        }
    })
    .await;
    let elapsed = started.elapsed();
    for node in &mut nodes {
        support::stop_gracefully(node);
    }
    let t = support::tally(&store, account, &sink).await;
    let rescue = rescue_times(&store, account, &kills).await;
    println!(
        "postgres: {messages} sent in {:.0} s by 3 nodes with a SIGKILL every {} s",
        elapsed.as_secs_f64(),
        every.as_secs()
    );
    report(
        "kill test, PostgreSQL, 3 nodes",
        messages,
        &kills,
        &t,
        &rescue,
    );
}

/// A new schema of the test database with `messages` due confirmations: its URL, its store
/// and the account.
async fn postgres_world(messages: usize) -> (String, Store, Uuid) {
    let base = scratch::postgres_url().expect("BELLHOP_TEST_DATABASE_URL");
    let database = scratch::new_schema(&base).await.unwrap();
    let (store, account) = support::due_world(&database, messages).await;
    (database, store, account)
}

/// SIGSTOPs the node and waits for what it had already sent to the database to finish
/// there: a claim in flight at the freeze still commits, and must be in the next snapshot.
async fn freeze(node: &Child) {
    signal(node, "STOP");
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn signal(child: &Child, name: &str) {
    Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a load test for figures: bench/kill runs it"]
async fn a_node_frozen_past_its_lease_changes_nothing_when_it_wakes() {
    let messages = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let (database, store, account) = postgres_world(messages).await;
    let sink = Sink::start();
    let log = dir.path().join("frozen.log");

    let mut frozen = serve_as(
        dir.path(),
        &database,
        sink.port,
        Some("frozen"),
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    wait_for("first sends", Duration::from_secs(60), || {
        sink.count() > 500
    });
    // Freeze it while it holds claims.
    let mut held = HashSet::new();
    for _ in 0..200 {
        freeze(&frozen).await;
        held = with_status(&store, account, MessageStatus::Sending).await;
        if !held.is_empty() {
            break;
        }
        signal(&frozen, "CONT");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!held.is_empty(), "never caught the node holding a claim");
    let mut other = serve_as(
        dir.path(),
        &database,
        sink.port,
        Some("other"),
        Stdio::null(),
    );
    until_all_sent(&store, messages, async || {
        tokio::time::sleep(Duration::from_millis(200)).await;
    })
    .await;
    let attempts: Vec<(Uuid, i64)> = {
        let mut v = Vec::new();
        for id in &held {
            v.push((*id, store.message(account, *id).await.unwrap().attempt));
        }
        v
    };
    // Wake the frozen node: its batch completes (its mails may go out again: they were
    // in flight) and its outcomes arrive late.
    signal(&frozen, "CONT");
    wait_for("the stale outcomes logged", Duration::from_secs(60), || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("outcomes arrived after their lease was taken over")
    });
    for (id, attempt) in &attempts {
        let m = store.message(account, *id).await.unwrap();
        assert_eq!(m.status, MessageStatus::Sent);
        assert_eq!(m.attempt, *attempt, "a stale write changed {id}");
    }
    let stale: usize = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| l.contains("outcomes arrived after their lease was taken over"))
        .filter_map(|l| {
            let at = l.find("stale=")? + 6;
            l[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    support::stop_gracefully(&mut frozen);
    support::stop_gracefully(&mut other);
    let t = support::tally(&store, account, &sink).await;
    println!(
        "fencing: held={} stale outcomes refused={stale} rows changed by them=0 lost={} duplicates={}",
        held.len(),
        t.lost,
        t.duplicates
    );
    assert!(stale > 0);
    assert_eq!(t.lost, 0);
    assert!(t.duplicates <= held.len(), "{t:?}");
}
