//! The kill test: `bellhop serve` is SIGKILLed twice in the middle of 10,000 sends to a real
//! SMTP server and restarted. Nothing may be lost; only messages in flight at a kill may
//! arrive twice, and then with the same Message-ID.

mod support;

use std::time::Duration;
use support::{KILL_BATCH, KILL_WORKERS, serve, wait_for};

const MESSAGES: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_dispatcher_mid_run_loses_nothing_and_repeats_only_in_flight_messages() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("crash.db").display().to_string();
    let (store, account) = support::due_world(&database, MESSAGES).await;

    let sink = support::Sink::start();
    let mut kills = 0;
    for kill_at in [3_000, 6_500] {
        let mut child = serve(dir.path(), &database, sink.port);
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
    let mut child = serve(dir.path(), &database, sink.port);
    support::wait_until_all_sent(&store, MESSAGES).await;
    support::stop_gracefully(&mut child);

    let t = support::tally(&store, account, &sink).await;
    let bound = kills * KILL_BATCH * KILL_WORKERS;
    println!(
        "kill test: messages={MESSAGES} kills={kills} lost={} duplicates={} (bound {bound})",
        t.lost, t.duplicates
    );
    assert_eq!(t.expected, MESSAGES);
    assert_eq!(t.lost, 0);
    assert_eq!(t.strangers, 0);
    // At a kill, each worker holds at most one batch in flight.
    assert!(t.duplicates <= bound, "{t:?}");
}
