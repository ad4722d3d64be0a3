//! The send hold: while a message is being sent its booking cannot change (the send-time
//! check stays true until the peer has answered), and every other booking can. And the
//! lease: a batch slower than its lease keeps its claim while it is being sent.

use crate::helpers::World;
use jiff::civil::date;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the slow peer has seen.
#[derive(Default)]
struct Peer {
    /// A message's data has arrived; its answer is being held back.
    data_received: Notify,
    /// The held-back answer has gone out.
    answered: AtomicBool,
}

/// An SMTP server that takes `delay` to answer each message's data (a relay doing slow
/// content checks), and answers everything else at once.
async fn slow_smtp_peer(delay: Duration) -> (u16, Arc<Peer>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = Arc::new(Peer::default());
    let seen = peer.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 slow.test ESMTP\r\n").await.ok();
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        seen.data_received.notify_one();
                        tokio::time::sleep(delay).await;
                        seen.answered.store(true, Ordering::SeqCst);
                        b"250 2.0.0 queued\r\n"
                    } else {
                        match line.get(..4).map(|v| v.to_ascii_uppercase()).as_deref() {
                            Some("EHLO" | "HELO") => b"250 slow.test\r\n",
                            Some("DATA") => {
                                in_data = true;
                                b"354 go ahead\r\n"
                            }
                            Some("QUIT") => {
                                write.write_all(b"221 bye\r\n").await.ok();
                                return;
                            }
                            _ => b"250 ok\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_smtp_peer_holds_only_the_booking_it_sends_for() {
    let w = World::new().await;
    let mut others = Vec::new();
    for i in 0..50 {
        let guest = w.guest(&format!("guest{i}@example.com"), Some("de")).await;
        others.push(w.stay(guest, date(2026, 5, 1), date(2026, 5, 3)).await);
    }
    // Nothing of theirs is due: only one booking will have a message in flight.
    assert_eq!(w.dispatcher("setup").drain().await.unwrap().claimed, 0);
    let guest = w.guest("slow@example.com", Some("de")).await;
    // An appointment's confirmation is due at once.
    let in_flight = w
        .appointment(guest, crate::helpers::ts("2026-05-01T08:00:00Z"), 0)
        .await;

    let (port, peer) = slow_smtp_peer(Duration::from_secs(5)).await;
    let dispatcher = w.dispatcher_to_smtp("slow", port, Duration::from_secs(30));
    let sending = tokio::spawn(async move { dispatcher.run_once().await.unwrap() });
    if tokio::time::timeout(Duration::from_secs(20), peer.data_received.notified())
        .await
        .is_err()
    {
        panic!("the message never reached the peer: {:?}", sending.await);
    }

    for (i, booking) in others.iter().enumerate() {
        tokio::time::timeout(
            Duration::from_secs(20),
            w.edit(*booking, |d| d.details.guests = Some(3 + i as i32)),
        )
        .await
        .expect("a change of another booking hung");
    }
    assert!(
        !peer.answered.load(Ordering::SeqCst),
        "changes of other bookings waited for the send"
    );

    // A change of the booking in flight waits until the peer has answered.
    let world = Arc::new(w);
    let edit = {
        let world = world.clone();
        tokio::spawn(async move {
            world.edit(in_flight, |d| d.details.guests = Some(1)).await;
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !edit.is_finished(),
        "the booking in flight changed during its send"
    );
    let stats = sending.await.unwrap();
    assert_eq!(stats.sent, 1);
    edit.await.unwrap();
    assert!(peer.answered.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_slower_than_its_lease_keeps_its_claim_while_it_is_sent() {
    let w = World::new().await;
    let guest = w.guest("slow@example.com", Some("de")).await;
    w.appointment(guest, crate::helpers::ts("2026-05-01T08:00:00Z"), 0)
        .await;
    let (port, peer) = slow_smtp_peer(Duration::from_secs(3)).await;
    let lease = jiff::SignedDuration::from_secs(2);
    let dispatcher = w.dispatcher_to_smtp_leasing("slow", lease, port);
    let sending = tokio::spawn(async move { dispatcher.run_once().await.unwrap() });
    tokio::time::timeout(Duration::from_secs(20), peer.data_received.notified())
        .await
        .expect("the message never reached the peer");
    // The claim's own lease lapses while the peer is still thinking; the renewal (every
    // second here) moves it on from the clock's new time.
    w.clock.advance(jiff::SignedDuration::from_secs(3));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !peer.answered.load(Ordering::SeqCst),
        "the peer answered too soon"
    );
    let other = bellhop_engine::Clock::now(&w.clock);
    let until = other.checked_add(lease).unwrap();
    let taken = w.store.claim_due("other", other, until, 10).await.unwrap();
    assert!(taken.is_empty(), "a renewed claim was taken over");
    let stats = sending.await.unwrap();
    assert_eq!((stats.sent, stats.stale), (1, 0));
}

#[tokio::test]
async fn a_node_renews_only_the_claims_it_still_holds() {
    let w = World::new().await;
    let guest = w.guest("held@example.com", Some("de")).await;
    w.appointment(guest, crate::helpers::ts("2026-05-01T08:00:00Z"), 0)
        .await;
    let now = bellhop_engine::Clock::now(&w.clock);
    let at = |secs: i64| {
        now.checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap()
    };
    let claimed = w.store.claim_due("first", now, at(5), 10).await.unwrap();
    let ids: Vec<_> = claimed.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        w.store
            .renew_claims("stranger", &ids, at(60))
            .await
            .unwrap(),
        0
    );
    assert!(
        w.store
            .claim_due("second", at(6), at(11), 10)
            .await
            .unwrap()
            .len()
            == 1
    );
    // "first" was frozen past its lease: its renewal must not extend the new owner's claim.
    assert_eq!(
        w.store.renew_claims("first", &ids, at(600)).await.unwrap(),
        0
    );
    let third = w
        .store
        .claim_due("third", at(12), at(20), 10)
        .await
        .unwrap();
    assert_eq!(
        third.len(),
        1,
        "the lapsed claim of the second node is taken over"
    );
}

#[tokio::test]
async fn a_rule_dry_run_reads_without_the_write_lock() {
    let w = World::new().await;
    let guest = w.guest("dry@example.com", Some("de")).await;
    w.stay(guest, date(2026, 5, 1), date(2026, 5, 3)).await;
    let rule = w.store.rules_of(w.property).await.unwrap().remove(0);
    // A writer in the middle of its transaction: the dry run must not wait for it.
    let writer = w.store.begin().await.unwrap();
    let impact = tokio::time::timeout(Duration::from_secs(5), w.engine.dry_run_rule(&rule))
        .await
        .expect("the dry run waited for a writer")
        .unwrap();
    assert_eq!(impact.bookings, 1);
    drop(writer);
}
