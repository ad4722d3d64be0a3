//! A database of the release before the typed store (migrations 1–2: TEXT ids, integer
//! milliseconds, one outbox table) keeps its data through the later migrations — its SMS
//! opt-outs become consent events — and its planned message still goes out at its time.

use crate::helpers::ts;
use bellhop_domain::MessageStatus;
use bellhop_domain::consent::{Channel, Purpose, Source};
use bellhop_engine::{DispatchConfig, Dispatcher, ManualClock, Transports};
use bellhop_store::{MessageFilter, StoreOptions, scratch};
use bellhop_transport::{EmailTransport, EmlFolder};
use std::sync::Arc;
use uuid::Uuid;

#[tokio::test]
async fn a_database_of_the_previous_release_keeps_its_bookings_and_sends_its_planned_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = scratch::empty(dir.path(), &StoreOptions::default())
        .await
        .unwrap();
    scratch::migrate_to(&store, 2).await.unwrap();
    let [
        account,
        property,
        contact,
        booking,
        template,
        rule,
        planned,
        sent,
        stop,
        staff_out,
        staff_in,
    ] = std::array::from_fn(|_| Uuid::now_v7());
    let (created, due, sent_at) = (
        ts("2026-03-01T08:00:00Z").as_millisecond(),
        ts("2026-03-29T08:00:00Z").as_millisecond(),
        ts("2026-03-01T08:00:05Z").as_millisecond(),
    );
    // The rows as the previous release wrote them: the same statements on both backends.
    scratch::execute(&store, &format!(
        "INSERT INTO accounts (id, name, created_at, updated_at) VALUES ('{account}', 'Old', {created}, {created});
         INSERT INTO properties (id, account_id, name, time_zone, country, default_language, check_in_time,
           check_out_time, sender_email, sender_name, created_at, updated_at, sms_settings)
           VALUES ('{property}', '{account}', 'Hotel Alt', 'Europe/Vienna', 'AT', 'de', '15:00', '10:00',
           'info@alt.example', 'Hotel Alt', {created}, {created}, '{{}}');
         INSERT INTO contacts (id, account_id, first_name, email, language, birth_date, created_at, updated_at)
           VALUES ('{contact}', '{account}', 'Anna', 'anna@example.com', 'de', '1980-02-03', {created}, {created});
         INSERT INTO bookings (id, account_id, property_id, contact_id, kind, status, arrival, departure,
           version, status_changed_at, status_version, sms_reminders, created_at, updated_at)
           VALUES ('{booking}', '{account}', '{property}', '{contact}', 'stay', 'confirmed', '2026-04-01',
           '2026-04-03', 1, {created}, 1, 1, {created}, {created});
         INSERT INTO booking_changes (booking_id, version, actor, changes, created_at)
           VALUES ('{booking}', 1, 'api', '{{\"created\":true}}', {created});
         INSERT INTO templates (id, account_id, property_id, name, channel, category, variants, version,
           created_at, updated_at)
           VALUES ('{template}', '{account}', '{property}', 'Vor Anreise', 'email', 'service',
           '{{\"de\":{{\"subject\":\"Bald, {{{{ guest.first_name }}}}\",\"html\":\"<p>Hallo</p>\"}}}}', 1,
           {created}, {created});
         INSERT INTO rules (id, account_id, property_id, name, anchor, offset_amount, offset_unit, time_of_day,
           conditions, channel, template_id, late_policy, enabled, created_at, updated_at)
           VALUES ('{rule}', '{account}', '{property}', 'Before arrival', 'start', -3, 'days', '10:00', '{{}}',
           'email', '{template}', 'send_if_before_anchor', 1, {created}, {created});
         INSERT INTO messages (id, account_id, property_id, booking_id, rule_id, contact_id, occurrence,
           channel, status, due_at, run_at, created_at, updated_at)
           VALUES ('{planned}', '{account}', '{property}', '{booking}', '{rule}', '{contact}', '',
           'email', 'planned', {due}, {due}, {created}, {created});
         INSERT INTO messages (id, account_id, property_id, booking_id, rule_id, contact_id, occurrence,
           channel, status, due_at, run_at, attempt, recipient, subject, sent_at, created_at, updated_at)
           VALUES ('{sent}', '{account}', '{property}', '{booking}', '{rule}', '{contact}', 'confirmation',
           'email', 'sent', {created}, {created}, 1, 'anna@example.com', 'Danke', {sent_at}, {created}, {sent_at});
         INSERT INTO message_events (message_id, status, detail, created_at)
           VALUES ('{sent}', 'sent', 'sent as <x>', {sent_at});
         INSERT INTO sms_consent_events (id, account_id, phone_e164, contact_id, action, source, keyword,
           actor, created_at)
           VALUES ('{stop}', '{account}', '+436641234567', '{contact}', 'opt_out', 'sms_keyword', 'STOP',
           NULL, {sent_at});
         INSERT INTO sms_consent_events (id, account_id, phone_e164, contact_id, action, source, keyword,
           actor, created_at)
           VALUES ('{staff_out}', '{account}', '+436649999999', NULL, 'opt_out', 'staff', NULL,
           'desk', {created});
         INSERT INTO sms_consent_events (id, account_id, phone_e164, contact_id, action, source, keyword,
           actor, created_at)
           VALUES ('{staff_in}', '{account}', '+436649999999', NULL, 'opt_in', 'api', NULL,
           'key', {sent_at});"
    ))
    .await
    .unwrap();

    store.migrate().await.unwrap();

    let b = store.booking(account, booking).await.unwrap();
    assert_eq!(
        b.fields.schedule,
        bellhop_domain::Schedule::Stay {
            arrival: jiff::civil::date(2026, 4, 1),
            departure: jiff::civil::date(2026, 4, 3)
        }
    );
    assert_eq!(
        (b.created_at, b.fields.details.sms_reminders),
        (ts("2026-03-01T08:00:00Z"), Some(true))
    );
    let c = store.contact(account, contact).await.unwrap();
    assert_eq!(c.birth_date, Some(jiff::civil::date(1980, 2, 3)));
    let old = store.message(account, sent).await.unwrap();
    assert_eq!(old.sent_at, Some(ts("2026-03-01T08:00:05Z")));
    assert_eq!(store.message_events(account, sent).await.unwrap().len(), 1);
    assert!(scratch::queue_mismatches(&store).await.unwrap().is_empty());

    // SMS opt-outs became consent events of every purpose, with their evidence; an opt-in
    // became a grant of service SMS only.
    let stopped = store
        .consent_events_at(account, &["+436641234567"])
        .await
        .unwrap();
    assert_eq!(stopped.len(), 3, "{stopped:?}");
    for e in &stopped {
        assert!(!e.granted && e.channel == Channel::Sms && e.source == Source::SmsKeyword);
        assert_eq!(e.contact_id, Some(contact));
        assert_eq!(e.at, ts("2026-03-01T08:00:05Z"));
        assert_eq!(e.evidence["keyword"], "STOP");
        assert_eq!(e.evidence["sms_opt_out"], true);
        assert_eq!(e.evidence["migrated_id"], stop.to_string());
    }
    let purposes: std::collections::BTreeSet<_> = stopped.iter().map(|e| e.purpose).collect();
    assert_eq!(purposes.len(), 3);
    let lifted = store
        .consent_events_at(account, &["+436649999999"])
        .await
        .unwrap();
    let summary: Vec<_> = lifted
        .iter()
        .map(|e| (e.purpose, e.granted, e.source, e.actor.as_deref()))
        .collect();
    assert_eq!(summary.len(), 4, "{summary:?}");
    assert_eq!(
        summary.last(),
        Some(&(Purpose::Service, true, Source::Api, Some("key")))
    );
    assert_eq!(lifted[0].evidence["migrated_id"], staff_out.to_string());
    assert_eq!(lifted[3].evidence["migrated_id"], staff_in.to_string());

    let clock = ManualClock::new(ts("2026-03-29T08:00:00Z"));
    let dispatcher = Dispatcher::new(
        store.clone(),
        Transports::email_only(Arc::new(EmailTransport::Folder(
            EmlFolder::new(dir.path()).unwrap(),
        ))),
        Arc::new(clock),
        DispatchConfig::default(),
    );
    assert_eq!(dispatcher.drain().await.unwrap().sent, 1);
    let all = store
        .messages(
            account,
            &MessageFilter {
                limit: 10,
                ..MessageFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(
        all.iter().all(|m| m.status == MessageStatus::Sent),
        "{all:?}"
    );
    let reminder = store.message(account, planned).await.unwrap();
    assert_eq!(reminder.subject.as_deref(), Some("Bald, Anna"));
}
