//! Several nodes on one PostgreSQL database: three `bellhop serve` processes share 20,000 due
//! messages and one of them is SIGKILLed mid-run. Every message must arrive; only the killed
//! node's in-flight messages may arrive twice (after its lease lapses, another node takes
//! them over), and then with the same Message-ID.
//!
//! Needs `BELLHOP_TEST_DATABASE_URL` (scripts/test sets it); without it the test says so and
//! passes only when `BELLHOP_TEST_REQUIRE_POSTGRES` is unset.

mod support;

use bellhop_store::scratch;
use std::time::Duration;
use support::{KILL_BATCH, KILL_WORKERS, serve, wait_for};

const MESSAGES: usize = 20_000;
const NODES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_on_postgres_deliver_everything_when_one_is_killed_mid_run() {
    let Some(base) = scratch::postgres_url() else {
        assert!(
            std::env::var_os("BELLHOP_TEST_REQUIRE_POSTGRES").is_none(),
            "BELLHOP_TEST_REQUIRE_POSTGRES is set but {} is not",
            scratch::DATABASE_URL_VAR
        );
        eprintln!("skipped: set {} to run", scratch::DATABASE_URL_VAR);
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let database = scratch::new_schema(&base).await.unwrap();
    let (store, account) = support::due_world(&database, MESSAGES).await;

    let sink = support::Sink::start();
    let mut nodes: Vec<_> = (0..NODES)
        .map(|_| serve(dir.path(), &database, sink.port))
        .collect();
    wait_for("sends before the kill", Duration::from_secs(120), || {
        for node in &mut nodes {
            assert!(node.try_wait().unwrap().is_none(), "a node exited early");
        }
        sink.count() >= MESSAGES / 3
    });
    let mut killed = nodes.remove(1);
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();

    support::wait_until_all_sent(&store, MESSAGES).await;
    for node in &mut nodes {
        support::stop_gracefully(node);
    }

    let t = support::tally(&store, account, &sink).await;
    let in_flight_bound = KILL_BATCH * KILL_WORKERS;
    println!(
        "multi-node kill test: nodes={NODES} messages={MESSAGES} lost={} duplicates={} (bound {in_flight_bound})",
        t.lost, t.duplicates
    );
    assert_eq!(t.expected, MESSAGES);
    assert_eq!(t.lost, 0);
    assert_eq!(t.strangers, 0);
    assert!(t.duplicates <= in_flight_bound, "{t:?}");
}
