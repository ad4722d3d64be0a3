//! Engine tests on a scratch store (a SQLite file, or a PostgreSQL schema when
//! `BELLHOP_TEST_DATABASE_URL` is set): planning, dispatch, races, retries.

mod consent;
mod helpers;
mod send_hold;
mod sms;
mod sms_world;
mod upgrade;

use bellhop_domain::render::Variants;
use bellhop_domain::{BookingStatus, MessageStatus, Schedule};
use bellhop_store::MessageFilter;
use helpers::{World, ts};
use jiff::SignedDuration;
use jiff::civil::date;

#[tokio::test]
async fn reminder_goes_out_at_ten_local_three_days_before_arrival_and_only_once() {
    let w = World::new().await;
    let guest = w.guest("anna@example.com", Some("de")).await;
    let booking = w.stay(guest, date(2026, 4, 1), date(2026, 4, 3)).await;
    let pre_arrival = w.message_of(booking, "Before arrival").await;
    // 10:00 CEST on 29 March, the night Vienna springs forward.
    assert_eq!(pre_arrival.due_at, ts("2026-03-29T08:00:00Z"));

    w.clock.set(ts("2026-03-29T07:59:00Z"));
    w.dispatcher("a").drain().await.unwrap();
    assert_eq!(
        w.message_of(booking, "Before arrival").await.status,
        MessageStatus::Planned
    );

    w.clock.set(ts("2026-03-29T08:00:00Z"));
    let stats = w.dispatcher("a").drain().await.unwrap();
    assert_eq!(stats.sent, 1);
    let sent = w.message_of(booking, "Before arrival").await;
    assert_eq!(sent.status, MessageStatus::Sent);
    let eml = w.eml(sent.id);
    assert!(
        eml.contains(&format!("Message-ID: <{}@hotel.example>", sent.id)),
        "{eml}"
    );
    assert!(eml.contains("Anreise am 01.04.2026"));

    w.clock.advance(SignedDuration::from_hours(1));
    assert_eq!(w.dispatcher("b").drain().await.unwrap().sent, 0);
    w.assert_queue_matches_messages().await;
}

#[tokio::test]
async fn cancelling_a_booking_cancels_its_before_arrival_mails_and_a_moved_booking_moves_them() {
    let w = World::new().await;
    let guest = w.guest("ben@example.com", Some("en")).await;
    let booking = w.stay(guest, date(2026, 4, 10), date(2026, 4, 12)).await;
    w.edit(booking, |d| {
        d.schedule = Schedule::Stay {
            arrival: date(2026, 4, 20),
            departure: date(2026, 4, 22),
        }
    })
    .await;
    assert_eq!(
        w.message_of(booking, "Before arrival").await.due_at,
        ts("2026-04-17T08:00:00Z")
    );
    w.edit(booking, |d| d.status = BookingStatus::Cancelled)
        .await;
    let m = w.message_of(booking, "Before arrival").await;
    assert_eq!(m.status, MessageStatus::Cancelled);
    w.clock.set(ts("2026-04-30T00:00:00Z"));
    w.dispatcher("a").drain().await.unwrap();
    let messages = w
        .store
        .messages(
            w.account,
            &MessageFilter {
                booking_id: Some(booking),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        messages.iter().all(|m| m.status != MessageStatus::Sent),
        "{messages:#?}"
    );
    w.assert_queue_matches_messages().await;
}

#[tokio::test]
async fn a_guest_without_email_is_suppressed_with_a_reason() {
    let w = World::new().await;
    let guest = w.guest_without_email().await;
    let booking = w.stay(guest, date(2026, 3, 10), date(2026, 3, 12)).await;
    w.clock.set(ts("2026-03-07T09:00:00Z"));
    w.dispatcher("a").drain().await.unwrap();
    let m = w.message_of(booking, "Before arrival").await;
    assert_eq!(
        (
            m.status,
            m.status_reason.as_deref(),
            m.status_code.as_deref()
        ),
        (
            MessageStatus::Suppressed,
            Some("guest email missing"),
            Some("guest_email_missing")
        )
    );
}

#[tokio::test]
async fn two_dispatchers_racing_on_one_outbox_deliver_each_message_once() {
    let w = World::new().await;
    let guest = w.guest("race@example.com", Some("de")).await;
    let mut bookings = Vec::new();
    for i in 0..300 {
        bookings.push(w.appointment(guest, ts("2026-03-20T09:00:00Z"), i).await);
    }
    // Confirmations are due at once: 300 messages for two nodes on separate connections.
    let (a, b) = (
        w.dispatcher_on_new_pool("a").await,
        w.dispatcher_on_new_pool("b").await,
    );
    let (sa, sb) = tokio::join!(a.drain(), b.drain());
    let (sa, sb) = (sa.unwrap(), sb.unwrap());
    assert_eq!(sa.sent + sb.sent, 300, "a={sa:?} b={sb:?}");
    assert_eq!(w.eml_count(), 300);
    let counts = w.store.count_by_status().await.unwrap();
    assert!(counts.contains(&("sent".to_owned(), 300)), "{counts:?}");
    w.assert_queue_matches_messages().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_racing_a_booking_change_goes_out_before_the_change_commits_or_is_replanned() {
    let w = World::new().await;
    let guest = w.guest("race@example.com", Some("de")).await;
    let mut reminders = Vec::new();
    for _ in 0..150 {
        let booking = w.stay(guest, date(2026, 4, 1), date(2026, 4, 3)).await;
        reminders.push((booking, w.message_of(booking, "Before arrival").await.id));
    }
    w.dispatcher("setup").drain().await.unwrap(); // the confirmations
    w.clock.set(ts("2026-03-29T08:00:00Z"));
    // Node B sends the due reminders while node A (another pool) moves every stay.
    let node_b = w.dispatcher_on_new_pool("b").await;
    let sending = tokio::spawn(async move { node_b.drain().await });
    // Once B is under way, A moves the stays from the last to the first, so that the two meet
    // in the middle: some changes find their reminder claimed, sending or sent.
    while !reminders.iter().any(|(_, m)| w.eml_exists(*m)) {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let mut sent_when_change_committed = Vec::new();
    reminders.reverse();
    for (booking, reminder) in &reminders {
        w.edit(*booking, |d| {
            d.schedule = Schedule::Stay {
                arrival: date(2026, 4, 20),
                departure: date(2026, 4, 22),
            }
        })
        .await;
        sent_when_change_committed.push(w.eml_exists(*reminder));
    }
    sending.await.unwrap().unwrap();

    let (mut before, mut replanned) = (0, 0);
    for ((booking, reminder), sent_before) in reminders.iter().zip(sent_when_change_committed) {
        let m = w.message_of(*booking, "Before arrival").await;
        assert_eq!(m.id, *reminder);
        match m.status {
            MessageStatus::Sent => {
                assert!(
                    sent_before,
                    "{booking}: the old date went out after the change committed"
                );
                assert!(w.eml(m.id).contains("Anreise am 01.04.2026"));
                before += 1;
            }
            MessageStatus::Planned => {
                assert_eq!(m.due_at, ts("2026-04-17T08:00:00Z"), "{m:?}");
                assert!(!w.eml_exists(m.id));
                replanned += 1;
            }
            other => panic!("{booking}: reminder is {other:?}"),
        }
    }
    eprintln!("race: {before} sent before their change, {replanned} re-planned");
    assert_eq!(before + replanned, reminders.len());
    w.assert_queue_matches_messages().await;
}

#[tokio::test]
async fn transient_failures_retry_with_backoff_then_fail_with_a_staff_notification() {
    let w = World::new().await;
    let guest = w.guest("retry@example.com", Some("de")).await;
    let booking = w.appointment(guest, ts("2026-03-20T09:00:00Z"), 0).await;
    let dead = w.dispatcher_to_closed_port("a");
    let first = dead.drain().await.unwrap();
    assert_eq!(first.deferred, 1);
    let m = w.message_of(booking, "Appointment confirmation").await;
    assert_eq!(m.status, MessageStatus::Deferred);
    // Retries keep failing until the deadline (24 h after due) passes.
    for _ in 0..40 {
        w.clock.advance(SignedDuration::from_hours(1));
        dead.drain().await.unwrap();
    }
    let m = w.message_of(booking, "Appointment confirmation").await;
    assert_eq!(m.status, MessageStatus::Failed, "{m:?}");
    assert!(m.attempt > 3);
    let notes = w.store.notifications(w.account, 10).await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.message_id == Some(m.id) && n.kind == "message_failed"),
        "{notes:?}"
    );
    let history = w.store.message_events(w.account, m.id).await.unwrap();
    let statuses: Vec<&str> = history.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(statuses.first(), Some(&"planned"));
    assert_eq!(statuses.last(), Some(&"failed"));
    assert!(statuses.contains(&"deferred"));
    w.assert_queue_matches_messages().await;
}

#[tokio::test]
async fn a_template_with_a_missing_variable_fails_the_message_and_sends_nothing() {
    let w = World::new().await;
    // The preset greets a guest without a first name politely; this template does not.
    let rule = w
        .store
        .rules_of(w.property)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == "Appointment confirmation")
        .unwrap();
    let mut template = w.store.template(w.account, rule.template_id).await.unwrap();
    if let Variants::Email(variants) = &mut template.variants {
        for content in variants.values_mut() {
            content.html = "<p>Hallo {{ guest.first_name }}</p>".into();
        }
    }
    w.engine.save_template(&template, false).await.unwrap();
    let guest = w.guest_named(None, "x@example.com").await;
    let booking = w.appointment(guest, ts("2026-03-20T09:00:00Z"), 0).await;
    w.dispatcher("a").drain().await.unwrap();
    let m = w.message_of(booking, "Appointment confirmation").await;
    assert_eq!(m.status, MessageStatus::Failed);
    assert_eq!(m.status_code.as_deref(), Some("send_failed"));
    assert!(
        m.status_reason
            .as_deref()
            .unwrap_or("")
            .contains("guest.first_name has no value"),
        "{m:?}"
    );
    assert_eq!(w.eml_count(), 0);
}

#[tokio::test]
async fn options_get_a_reminder_before_and_a_notice_after_they_expire() {
    let w = World::new().await;
    let guest = w.guest("opt@example.com", Some("en")).await;
    let booking = w
        .option(guest, date(2026, 5, 1), ts("2026-03-05T10:00:00Z"))
        .await;
    let confirmed = w
        .option(guest, date(2026, 5, 1), ts("2026-03-05T10:00:00Z"))
        .await;
    w.edit(confirmed, |d| d.status = BookingStatus::Confirmed)
        .await;
    w.clock.set(ts("2026-03-03T09:00:00Z"));
    w.dispatcher("a").drain().await.unwrap();
    assert_eq!(
        w.message_of(booking, "Before the option expires")
            .await
            .status,
        MessageStatus::Sent
    );
    w.clock.set(ts("2026-03-05T10:30:00Z"));
    assert_eq!(w.engine.expire_lapsed().await.unwrap(), 1);
    w.clock.set(ts("2026-03-05T11:00:00Z"));
    w.dispatcher("a").drain().await.unwrap();
    assert_eq!(
        w.message_of(booking, "After the option expired")
            .await
            .status,
        MessageStatus::Sent
    );
    // The option that was confirmed in time gets neither.
    assert_eq!(
        w.message_of(confirmed, "Before the option expires")
            .await
            .status,
        MessageStatus::Cancelled
    );
    let expired = w.store.booking(w.account, booking).await.unwrap();
    assert_eq!(expired.fields.status, BookingStatus::Expired);
    w.assert_queue_matches_messages().await;
}

#[tokio::test]
async fn a_message_staff_send_now_goes_out_before_its_planned_time() {
    let w = World::new().await;
    let guest = w.guest("now@example.com", Some("de")).await;
    let booking = w.stay(guest, date(2026, 4, 1), date(2026, 4, 3)).await;
    let m = w.message_of(booking, "Before arrival").await;
    let mut tx = w.store.begin().await.unwrap();
    assert!(
        tx.staff_action(
            w.account,
            m.id,
            bellhop_store::StaffAction::SendNow,
            "staff:test",
            ts("2026-03-01T00:00:00Z")
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(w.dispatcher("a").drain().await.unwrap().sent, 1);
    assert_eq!(
        w.message_of(booking, "Before arrival").await.status,
        MessageStatus::Sent
    );
    w.assert_queue_matches_messages().await;
}

#[tokio::test]
async fn a_reminder_held_up_until_after_arrival_is_suppressed_not_sent_late() {
    let w = World::new().await;
    let guest = w.guest("down@example.com", Some("de")).await;
    let booking = w.stay(guest, date(2026, 3, 10), date(2026, 3, 12)).await;
    // The dispatcher was down from before the send time until after check-in.
    w.clock.set(ts("2026-03-10T15:00:00Z"));
    w.dispatcher("a").drain().await.unwrap();
    let m = w.message_of(booking, "Before arrival").await;
    assert_eq!(m.status, MessageStatus::Suppressed);
    assert_eq!(m.status_code.as_deref(), Some("anchor_passed"));
    assert!(m.status_reason.unwrap().starts_with("late: the anchor"));
    assert_eq!(w.eml_count(), 0);
}

#[tokio::test]
async fn kept_bodies_are_deleted_after_their_retention_and_the_message_stays() {
    let w = World::new().await;
    let guest = w.guest("anna@example.com", Some("de")).await;
    let booking = w.appointment(guest, ts("2026-03-20T09:00:00Z"), 0).await;
    w.dispatcher("a").drain().await.unwrap();
    let m = w.message_of(booking, "Appointment confirmation").await;
    assert_eq!(m.status, MessageStatus::Sent);
    assert!(
        w.store
            .message(w.account, m.id)
            .await
            .unwrap()
            .body_html
            .is_some()
    );
    w.clock.advance(SignedDuration::from_hours(24 * 29));
    assert_eq!(w.engine.forget_old_bodies(30).await.unwrap(), 0, "not yet");
    w.clock.advance(SignedDuration::from_hours(24 * 2));
    assert_eq!(w.engine.forget_old_bodies(30).await.unwrap(), 1);
    let after = w.store.message(w.account, m.id).await.unwrap();
    assert_eq!(after.status, MessageStatus::Sent, "the message stays");
    assert_eq!((after.body_html, after.body_text), (None, None));
    assert!(
        !w.store
            .message_events(w.account, m.id)
            .await
            .unwrap()
            .is_empty(),
        "and so does its history"
    );
}
