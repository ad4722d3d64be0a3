//! SMS through the engine: routing, quiet hours, billing and the monthly limit (also with two
//! dispatchers at once), opt-outs, one-time codes, delivery reports, bulk SMS.

use super::helpers::{World, ts};
use super::sms_world::{CALLER_ID, Salon, package, sms_settings};
use bellhop_domain::consent::{Channel as ConsentChannel, Purpose};
use bellhop_domain::property::{ReminderChoice, SmsSettings};
use bellhop_domain::rule::Channel;
use bellhop_domain::{Delivery, MessageStatus};
use bellhop_engine::{CampaignDraft, InboundSms, TanCheck, TanRequest};
use bellhop_store::{AudienceFilter, Outcome, OutcomeKind};
use jiff::SignedDuration;

const REMINDER: &str = "Hallo {{ guest.first_name }}, morgen {{ booking.start_time }} Uhr: {{ booking.service }} im {{ property.name }}. Absagen: 01 234";

async fn salon(w: &World, channel: Channel) -> Salon {
    w.salon(sms_settings(), channel, REMINDER).await
}

#[tokio::test]
async fn an_sms_reminder_goes_to_the_mobile_in_e164_and_its_parts_are_counted() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let booking = w.appointment_at(&s, eva, "2026-03-10T09:00:00Z").await;
    let planned = w.only_message(booking).await;
    assert_eq!(
        (planned.channel.as_str(), planned.due_at),
        ("sms", ts("2026-03-09T09:00:00Z"))
    );

    w.clock.set(ts("2026-03-09T09:00:00Z"));
    let stats = w.sms_dispatcher("a").drain().await.unwrap();
    assert_eq!(stats.sent, 1, "{stats:?}");
    let sent = w.only_message(booking).await;
    assert_eq!(sent.status, MessageStatus::Sent);
    assert_eq!(sent.channel, "sms");
    assert_eq!(sent.recipient.as_deref(), Some("+436641234567"));
    assert_eq!(
        (sent.parts, sent.encoding.as_deref()),
        (Some(1), Some("GSM-7"))
    );
    assert_eq!(sent.billing_month.as_deref(), Some("2026-03"));
    let file = w
        .sms_file(sent.id)
        .expect("the SMS reached the folder gateway");
    assert_eq!(file["from"], "SalonAnna");
    assert_eq!(file["to"], "+436641234567");
    assert_eq!(
        file["text"],
        "Hallo Eva, morgen 10:00 Uhr: Haarschnitt im Salon Anna. Absagen: 01 234"
    );
    assert_eq!(
        sent.body_text.as_deref(),
        file["text"].as_str(),
        "what was sent is kept"
    );
    let overview = w
        .engine
        .sms_overview(w.account, s.property, Some("2026-03"))
        .await
        .unwrap();
    assert_eq!(
        (overview.counts.sent, overview.parts, overview.cost_cents),
        (1, 1, 8)
    );
}

#[tokio::test]
async fn fallback_channels_choose_by_what_the_contact_has() {
    let w = World::new().await;
    let email_first = salon(&w, Channel::EmailOrSms).await;
    let sms_first = salon(&w, Channel::SmsOrEmail).await;
    let phone_only = w.customer(Some("0664 1111111"), None).await;
    let email_only = w.customer(None, Some("eva@example.com")).await;
    let a = w
        .appointment_at(&email_first, phone_only, "2026-03-10T09:00:00Z")
        .await;
    let b = w
        .appointment_at(&sms_first, email_only, "2026-03-10T10:00:00Z")
        .await;
    w.clock.set(ts("2026-03-09T09:30:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    w.clock.set(ts("2026-03-09T10:30:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    let a = w.only_message(a).await;
    assert_eq!((a.status, a.channel.as_str()), (MessageStatus::Sent, "sms"));
    let b = w.only_message(b).await;
    assert_eq!(
        (b.status, b.channel.as_str()),
        (MessageStatus::Sent, "email")
    );
    assert!(b.subject.is_some());
    let history = w.store.message_events(w.account, b.id).await.unwrap();
    let sent = history.iter().find(|e| e.status == "sent").unwrap();
    assert!(
        sent.detail
            .as_deref()
            .unwrap()
            .contains("second choice of sms_or_email"),
        "{history:?}"
    );
}

#[tokio::test]
async fn a_landline_is_called_where_enabled_and_suppressed_as_landline_otherwise() {
    let w = World::new().await;
    let quiet = salon(&w, Channel::Sms).await;
    let calling = w
        .salon(
            SmsSettings {
                landline_voice: true,
                ..sms_settings()
            },
            Channel::Sms,
            REMINDER,
        )
        .await;
    let landline = w.customer(Some("01 5321234"), None).await;
    let a = w
        .appointment_at(&quiet, landline, "2026-03-10T09:00:00Z")
        .await;
    let b = w
        .appointment_at(&calling, landline, "2026-03-10T09:00:00Z")
        .await;
    w.clock.set(ts("2026-03-09T09:00:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    let a = w.only_message(a).await;
    assert_eq!(
        (a.status, a.status_reason.as_deref()),
        (MessageStatus::Suppressed, Some("landline"))
    );
    let b = w.only_message(b).await;
    assert_eq!(
        (b.status, b.channel.as_str()),
        (MessageStatus::Sent, "voice")
    );
    let call: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(w.call_dir().join(format!("{}.call.json", b.id))).unwrap(),
    )
    .unwrap();
    assert_eq!(call["to"], "+4315321234");
    assert_eq!(
        call["from"], CALLER_ID,
        "the salon's name cannot be shown: voice.from is"
    );
    assert!(call["say"].as_str().unwrap().contains("Haarschnitt"));

    // Without any number to show, the call is not placed, and staff are told why.
    let nobody = w.landline_salon_without_caller_id().await;
    let c = w
        .appointment_at(&nobody.0, landline, "2026-03-10T09:00:00Z")
        .await;
    w.sms_dispatcher_with("a", w.store.clone(), nobody.1)
        .drain()
        .await
        .unwrap();
    let c = w.only_message(c).await;
    assert_eq!(c.status, MessageStatus::Failed);
    assert!(
        c.status_reason
            .as_deref()
            .unwrap_or("")
            .contains("caller id"),
        "{c:?}"
    );
}

#[tokio::test]
async fn quiet_hours_move_an_sms_to_the_morning_or_a_reminder_before_an_early_appointment_to_the_evening()
 {
    let w = World::new().await;
    let day_before = salon(&w, Channel::Sms).await;
    let two_hours = w
        .salon_reminding(sms_settings(), Channel::Sms, REMINDER, -2)
        .await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    // 24 h before 23:30 local falls at 23:30: it waits for 08:00, still well before.
    let late = w
        .appointment_at(&day_before, eva, "2026-06-10T21:30:00Z")
        .await;
    assert_eq!(
        w.only_message(late).await.due_at,
        ts("2026-06-10T06:00:00Z")
    );
    // 2 h before 07:30 local falls at 05:30; 08:00 would be after the appointment, so it
    // goes out at 20:59 the evening before.
    let early = w
        .appointment_at(&two_hours, eva, "2026-06-11T05:30:00Z")
        .await;
    assert_eq!(
        w.only_message(early).await.due_at,
        ts("2026-06-10T18:59:00Z")
    );
}

#[tokio::test]
async fn a_due_sms_waits_out_quiet_hours_at_send_time() {
    let w = World::new().await;
    let s = salon(&w, Channel::EmailOrSms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    // An email-first rule is planned at 23:00 local; the SMS it falls back to must wait.
    let booking = w.appointment_at(&s, eva, "2026-06-11T21:00:00Z").await;
    w.clock.set(ts("2026-06-10T21:00:00Z"));
    let stats = w.sms_dispatcher("a").drain().await.unwrap();
    assert_eq!(stats.rescheduled, 1, "{stats:?}");
    let waiting = w.only_message(booking).await;
    assert_eq!(
        (waiting.status, waiting.due_at),
        (MessageStatus::Planned, ts("2026-06-11T06:00:00Z"))
    );
    w.clock.set(ts("2026-06-11T06:00:00Z"));
    assert_eq!(w.sms_dispatcher("a").drain().await.unwrap().sent, 1);
}

#[tokio::test]
async fn packages_roll_over_at_the_local_month_boundary_in_vienna() {
    let w = World::new().await;
    let settings = SmsSettings {
        plan: package(2),
        quiet_hours: None,
        ..sms_settings()
    };
    let s = w
        .salon(
            settings,
            Channel::Sms,
            "Termin morgen {{ booking.start_time }}",
        )
        .await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    w.clock.set(ts("2026-01-02T00:00:00Z"));
    let mut january = Vec::new();
    for start in [
        "2026-01-30T10:00:00Z",
        "2026-01-30T11:00:00Z",
        "2026-01-30T12:00:00Z",
    ] {
        january.push(w.appointment_at(&s, eva, start).await);
    }
    // Due at 23:30 UTC on 31 January: 00:30 on 1 February in Vienna.
    let february = w.appointment_at(&s, eva, "2026-02-01T23:30:00Z").await;

    w.clock.set(ts("2026-01-29T12:00:00Z"));
    assert_eq!(w.sms_dispatcher("a").drain().await.unwrap().sent, 3);
    let jan = w
        .engine
        .sms_overview(w.account, s.property, Some("2026-01"))
        .await
        .unwrap();
    assert_eq!((jan.parts, jan.packages, jan.cost_cents), (3, 2, 2400));
    assert_eq!(
        jan.left_in_package,
        Some(1),
        "one SMS of the second package is left"
    );

    w.clock.set(ts("2026-01-31T23:30:00Z"));
    assert_eq!(w.sms_dispatcher("a").drain().await.unwrap().sent, 1);
    assert_eq!(
        w.only_message(february).await.billing_month.as_deref(),
        Some("2026-02")
    );
    let feb = w
        .engine
        .sms_overview(w.account, s.property, Some("2026-02"))
        .await
        .unwrap();
    assert_eq!(
        (feb.parts, feb.packages, feb.cost_cents, feb.left_in_package),
        (1, 1, 1200, Some(1))
    );
    let jan = w
        .engine
        .sms_overview(w.account, s.property, Some("2026-01"))
        .await
        .unwrap();
    assert_eq!(
        (jan.parts, jan.packages),
        (3, 2),
        "January's leftover expired with January"
    );
    for id in january {
        assert_eq!(
            w.only_message(id).await.billing_month.as_deref(),
            Some("2026-01")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_limit_reached_by_two_concurrent_dispatchers_is_never_exceeded() {
    let w = World::new().await;
    let limit = 25;
    let settings = SmsSettings {
        monthly_limit: Some(limit),
        quiet_hours: None,
        ..sms_settings()
    };
    // Long enough for two parts when the service name is long: a mix of 1- and 2-part SMS.
    let text = "{{ booking.service }} morgen {{ booking.start_time }} bei {{ property.name }}";
    let s = w.salon(settings, Channel::Sms, text).await;
    let mut customers = Vec::new();
    for i in 0..40 {
        let c = w.customer(Some(&format!("0664 12{i:05}")), None).await;
        customers.push(c);
        let start = ts("2026-03-10T09:00:00Z")
            .checked_add(SignedDuration::from_mins(i))
            .unwrap()
            .to_string();
        let booking = w.appointment_at(&s, c, &start).await;
        if i % 3 == 0 {
            let long = "Balayage & Pflege ".repeat(9);
            w.edit(booking, |d| d.details.service = Some(long)).await;
        }
    }
    w.clock.set(ts("2026-03-09T12:00:00Z"));
    // Two dispatchers on their own pools and threads, in small batches, so that their
    // counting interleaves.
    let dispatcher = |node: &'static str, store| {
        bellhop_engine::Dispatcher::new(
            store,
            w.transports(),
            std::sync::Arc::new(w.clock.clone()),
            bellhop_engine::DispatchConfig {
                node: node.into(),
                batch_size: 4,
                ..bellhop_engine::DispatchConfig::default()
            },
        )
    };
    let a = dispatcher("a", w.other_pool().await);
    let b = dispatcher("b", w.other_pool().await);
    let (ra, rb) = (
        tokio::spawn(async move { a.drain().await }),
        tokio::spawn(async move { b.drain().await }),
    );
    let (ra, rb) = (ra.await.unwrap().unwrap(), rb.await.unwrap().unwrap());
    eprintln!(
        "limit test: a sent {} rejected {}, b sent {} rejected {}",
        ra.sent, ra.rejected, rb.sent, rb.rejected
    );

    let mut parts = 0;
    let (mut sent, mut rejected) = (0, 0);
    for c in &customers {
        for m in w.messages_of_contact(*c).await {
            match m.status {
                MessageStatus::Sent => {
                    sent += 1;
                    parts += m.parts.unwrap();
                    assert!(w.sms_file(m.id).is_some(), "a counted SMS was sent");
                }
                MessageStatus::Rejected => {
                    rejected += 1;
                    assert!(w.sms_file(m.id).is_none(), "a rejected SMS was not sent");
                    assert!(m.parts.is_none(), "and is not billed");
                }
                other => panic!("unexpected {other}: {m:?}"),
            }
        }
    }
    assert_eq!(sent + rejected, 40);
    assert!(rejected > 0, "the limit was reached");
    assert!(
        parts <= i64::from(limit),
        "{parts} parts sent over a limit of {limit}"
    );
    assert!(
        parts >= i64::from(limit) - 1,
        "the limit was used up to the last part: {parts}"
    );
    let overview = w
        .engine
        .sms_overview(w.account, s.property, Some("2026-03"))
        .await
        .unwrap();
    assert_eq!(
        overview.parts, parts,
        "the counter agrees with the messages"
    );
    assert_eq!(
        (overview.counts.sent, overview.counts.rejected),
        (sent, rejected)
    );
    let notes = w.store.notifications(w.account, 100).await.unwrap();
    let limit_notes = notes
        .iter()
        .filter(|n| n.kind == "sms_limit_reached")
        .count();
    assert_eq!(limit_notes, 1, "staff are told once: {notes:?}");
}

#[tokio::test]
async fn a_gateway_that_refuses_an_sms_gives_its_parts_back() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let booking = w.appointment_at(&s, eva, "2026-03-10T09:00:00Z").await;
    w.clock.set(ts("2026-03-09T09:00:00Z"));
    let mut transports = w.transports();
    transports.sms = std::sync::Arc::new(bellhop_transport::sms::SmsGateway::None);
    w.sms_dispatcher_with("a", w.store.clone(), transports)
        .drain()
        .await
        .unwrap();
    let failed = w.only_message(booking).await;
    assert_eq!(failed.status, MessageStatus::Failed);
    assert_eq!(failed.parts, None);
    let overview = w
        .engine
        .sms_overview(w.account, s.property, Some("2026-03"))
        .await
        .unwrap();
    assert_eq!(
        overview.parts, 0,
        "nothing billed for an SMS the gateway refused"
    );
}

#[tokio::test]
async fn stop_opts_a_number_out_of_bulk_sms_and_start_lifts_it() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let reminder = w.appointment_at(&s, eva, "2026-03-10T09:00:00Z").await;
    w.consent(eva, Purpose::Marketing, ConsentChannel::Sms, true)
        .await;
    let inbound = |text: &str| InboundSms {
        gateway: "test".into(),
        from: "+436641234567".into(),
        to: "SalonAnna".into(),
        text: text.into(),
        raw: serde_json::json!({"from": "+436641234567", "text": text}),
    };
    // The number replies STOP to an SMS it got.
    w.clock.set(ts("2026-03-09T09:00:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    let result = w.engine.receive_sms(inbound("Stopp")).await.unwrap();
    assert_eq!(
        result.accounts,
        vec![w.account],
        "matched by the last SMS sent to the number"
    );
    let consents = w.engine.consents(w.account, eva).await.unwrap();
    let stop: Vec<_> = consents
        .history
        .iter()
        .filter(|e| e.source == bellhop_domain::consent::Source::SmsKeyword)
        .collect();
    assert_eq!(stop.len(), 3, "a STOP withdraws SMS of every purpose");
    for e in &stop {
        assert!(!e.granted);
        assert_eq!(e.address, "+436641234567");
        assert_eq!(e.evidence["keyword"], "Stopp");
        assert_eq!(
            e.evidence["inbound_id"],
            result.id.to_string(),
            "the raw SMS is the evidence"
        );
    }
    assert_eq!(w.only_message(reminder).await.status, MessageStatus::Sent);

    let bulk = |name: &str| CampaignDraft {
        property_id: s.property,
        name: name.into(),
        text: "Frühlingsaktion bei {{ property.name }}: -20 %".into(),
        translations: Default::default(),
        filter: AudienceFilter::default(),
        send_at: None,
    };
    let plan = w
        .engine
        .create_campaign(w.account, bulk("Frühling"), false, "test")
        .await
        .unwrap();
    assert_eq!((plan.matched, plan.recipients), (1, 0));
    assert_eq!(plan.excluded.get("no consent to marketing SMS"), Some(&1));
    w.sms_dispatcher("a").drain().await.unwrap();
    let campaign = plan.campaign.unwrap().id;
    let messages = w.messages_of_contact(eva).await;
    let bulk_message = messages
        .iter()
        .find(|m| m.campaign_id == Some(campaign))
        .unwrap();
    assert_eq!(bulk_message.status, MessageStatus::Suppressed);
    assert!(w.sms_file(bulk_message.id).is_none());

    assert_eq!(
        bulk_message.status_reason.as_deref(),
        Some("no consent: marketing/sms")
    );
    // A reminder (service) still goes after STOP: the property stops marketing only.
    let next = w.appointment_at(&s, eva, "2026-03-12T09:00:00Z").await;
    w.clock.set(ts("2026-03-11T09:00:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    assert_eq!(w.only_message(next).await.status, MessageStatus::Sent);

    // START lifts the STOP: the marketing grant from before it counts again.
    w.engine.receive_sms(inbound("START")).await.unwrap();
    let plan = w
        .engine
        .create_campaign(w.account, bulk("Sommer"), false, "test")
        .await
        .unwrap();
    assert_eq!(plan.recipients, 1);
    w.sms_dispatcher("a").drain().await.unwrap();
    let campaign = plan.campaign.unwrap().id;
    let messages = w.messages_of_contact(eva).await;
    let sent = messages
        .iter()
        .find(|m| m.campaign_id == Some(campaign))
        .unwrap();
    assert_eq!(sent.status, MessageStatus::Sent);
    assert!(
        w.sms_file(sent.id).unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("Salon Anna")
    );
}

#[tokio::test]
async fn a_tan_goes_first_and_its_code_is_never_kept_in_plain_text() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    // Reminders already due wait behind the code.
    let eva = w.customer(Some("0664 1234567"), None).await;
    for i in 0..15 {
        let start = ts("2026-03-10T09:00:00Z")
            .checked_add(SignedDuration::from_mins(i))
            .unwrap();
        w.appointment_at(&s, eva, &start.to_string()).await;
    }
    w.clock.set(ts("2026-03-09T12:00:00Z"));
    let tan = w
        .engine
        .create_tan(
            w.account,
            TanRequest {
                property_id: s.property,
                contact_id: None,
                phone: Some("0699 7654321".into()),
                text: None,
                language: Some("de".parse().unwrap()),
                purpose: Some("login".into()),
                ttl: SignedDuration::from_mins(10),
            },
            Some("482913".into()),
        )
        .await
        .unwrap();
    assert_eq!(tan.to, "+436997654321");
    let first = w.sms_dispatcher("a").run_once().await.unwrap();
    assert!(
        first.claimed < 16,
        "not everything went in the first batch: {first:?}"
    );
    let file = w
        .sms_file(tan.id)
        .expect("the code went out in the first batch");
    assert!(file["text"].as_str().unwrap().contains("482913"));

    let message = w.store.message(w.account, tan.id).await.unwrap();
    assert_eq!(message.status, MessageStatus::Sent);
    assert_eq!(message.kind, "tan");
    assert!(message.body_text.is_none(), "the code's text is not kept");
    assert!(
        !w.store.message_text_contains("482913").await.unwrap(),
        "the code is stored nowhere in plain text"
    );

    let check = |code: &'static str| w.engine.verify_tan(w.account, tan.id, code);
    assert_eq!(
        check("000000").await.unwrap(),
        TanCheck::Wrong { attempts_left: 4 }
    );
    assert_eq!(check("482913").await.unwrap(), TanCheck::Verified);
    assert_eq!(
        check("482913").await.unwrap(),
        TanCheck::Locked,
        "a code works once"
    );

    let expired = w
        .engine
        .create_tan(
            w.account,
            TanRequest {
                property_id: s.property,
                contact_id: Some(tan.contact_id),
                phone: None,
                text: Some("Code {{ code }}".into()),
                language: None,
                purpose: None,
                ttl: SignedDuration::from_secs(60),
            },
            None,
        )
        .await
        .unwrap();
    w.clock.advance(SignedDuration::from_secs(61));
    assert_eq!(
        w.engine
            .verify_tan(w.account, expired.id, "123456")
            .await
            .unwrap(),
        TanCheck::Expired
    );
    w.assert_queue_matches_messages().await;
}

#[tokio::test]
async fn a_failure_report_that_overtakes_the_record_of_the_send_fails_the_sms_and_tells_staff() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let booking = w.appointment_at(&s, eva, "2026-03-10T09:00:00Z").await;
    let now = ts("2026-03-09T10:00:00Z");
    w.clock.set(now);
    // The gateway's callback arrives between the send and the record of it.
    let claimed = w
        .store
        .claim_due("a", now, now + SignedDuration::from_mins(5), 10)
        .await
        .unwrap();
    let c = claimed
        .iter()
        .find(|c| c.booking_id == Some(booking))
        .unwrap();
    w.store
        .apply_delivery(c.id, Delivery::Failed, "err:30008 unknown subscriber", now)
        .await
        .unwrap();
    let sent = Outcome {
        id: c.id,
        account_id: c.account_id,
        property_id: c.property_id,
        attempt: c.attempt,
        kind: OutcomeKind::Sent {
            channel: "sms",
            recipient: "+436641234567".into(),
            subject: None,
            sms: Some((1, "GSM-7")),
            language: "de".into(),
            body_html: None,
            body_text: None,
            provider_ref: "gw-1".into(),
            detail: String::new(),
        },
    };
    w.store.record_outcomes("a", &[sent], now).await.unwrap();
    let m = w.only_message(booking).await;
    assert_eq!(
        (m.status, m.status_code.as_deref()),
        (MessageStatus::Failed, Some("not_delivered"))
    );
    let notes = w.engine.query().notifications(w.account, 10).await.unwrap();
    let note = notes
        .iter()
        .find(|n| n.message_id == Some(m.id))
        .expect("staff are told");
    assert_eq!(note.kind, "sms_not_delivered");
    assert_eq!(
        note.rendered_text(),
        format!(
            "SMS {} did not reach the phone: err:30008 unknown subscriber",
            m.id
        )
    );
}

#[tokio::test]
async fn delivery_reports_move_an_sms_forward_only_and_a_failure_notifies_staff() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let a = w.appointment_at(&s, eva, "2026-03-10T09:00:00Z").await;
    let b = w.appointment_at(&s, eva, "2026-03-10T10:00:00Z").await;
    w.clock.set(ts("2026-03-09T10:00:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    let (a, b) = (w.only_message(a).await.id, w.only_message(b).await.id);

    let engine = &w.engine;
    engine
        .apply_delivery_report(a, Delivery::Pending, "accepted by the SMSC")
        .await
        .unwrap();
    let r = engine
        .apply_delivery_report(a, Delivery::Delivered, "delivered")
        .await
        .unwrap();
    assert_eq!(
        (r.before, r.after),
        (MessageStatus::Sent, MessageStatus::Delivered)
    );
    let late = engine
        .apply_delivery_report(a, Delivery::Failed, "late failure")
        .await
        .unwrap();
    assert_eq!(
        late.after,
        MessageStatus::Delivered,
        "a final report is final"
    );
    let delivered = engine.query().message(w.account, a).await.unwrap();
    assert_eq!(delivered.delivered_at, Some(ts("2026-03-09T10:00:00Z")));
    let history = engine.query().message_events(w.account, a).await.unwrap();
    let statuses: Vec<&str> = history.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(
        &statuses[statuses.len() - 3..],
        ["report", "delivered", "report"]
    );

    engine
        .apply_delivery_report(b, Delivery::Expired, "stat:EXPIRED")
        .await
        .unwrap();
    assert_eq!(
        engine.query().message(w.account, b).await.unwrap().status,
        MessageStatus::Expired
    );
    let notes = engine.query().notifications(w.account, 10).await.unwrap();
    let note = notes
        .iter()
        .find(|n| n.kind == "sms_not_delivered" && n.message_id == Some(b))
        .expect("staff are told");
    assert_eq!(
        note.rendered_text(),
        format!(
            "SMS {b} did not reach the phone: {}",
            note.facts.as_ref().unwrap()["reason"].as_str().unwrap()
        )
    );
    let overview = engine
        .sms_overview(w.account, s.property, Some("2026-03"))
        .await
        .unwrap();
    assert_eq!(
        (
            overview.counts.sent,
            overview.counts.delivered,
            overview.counts.expired
        ),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn customers_may_decline_sms_reminders_unless_the_property_makes_them_mandatory() {
    let w = World::new().await;
    let optional = salon(&w, Channel::Sms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let declined = w
        .book(&optional, eva, "2026-03-10T09:00:00Z", Some(false))
        .await;
    w.clock.set(ts("2026-03-09T09:00:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    let m = w.only_message(declined).await;
    assert_eq!(m.status, MessageStatus::Suppressed);
    assert_eq!(m.status_code.as_deref(), Some("sms_declined"));
    assert!(m.status_reason.unwrap().contains("declined SMS reminders"));

    let mandatory = w
        .salon(
            SmsSettings {
                reminders: ReminderChoice::Mandatory,
                ..sms_settings()
            },
            Channel::Sms,
            REMINDER,
        )
        .await;
    let refused = w
        .try_book(&mandatory, eva, "2026-03-12T09:00:00Z", Some(false))
        .await;
    assert!(refused.unwrap_err().to_string().contains("mandatory"));
}

#[tokio::test]
async fn a_delivery_report_faster_than_the_record_of_the_send_is_applied_with_it() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let booking = w.appointment_at(&s, eva, "2026-03-10T09:00:00Z").await;
    w.clock.set(ts("2026-03-09T09:00:00Z"));
    let store = w.store.clone();
    let now = ts("2026-03-09T09:00:00Z");
    let lease = now.checked_add(SignedDuration::from_mins(2)).unwrap();
    let claimed = store.claim_due("fast", now, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let c = &claimed[0];
    // The gateway accepted the SMS and its delivery report arrives at once.
    let r = w
        .engine
        .apply_delivery_report(c.id, Delivery::Delivered, "delivered")
        .await
        .unwrap();
    assert_eq!(r.after, MessageStatus::Sending);
    let outcome = bellhop_store::Outcome {
        id: c.id,
        account_id: c.account_id,
        property_id: c.property_id,
        attempt: c.attempt,
        kind: bellhop_store::OutcomeKind::Sent {
            channel: "sms",
            recipient: "+436641234567".into(),
            subject: None,
            sms: Some((1, "GSM-7")),
            language: "de".into(),
            body_html: None,
            body_text: Some("Hallo".into()),
            provider_ref: "kannel:x".into(),
            detail: "sent".into(),
        },
    };
    store
        .record_outcomes("fast", &[outcome], now)
        .await
        .unwrap();
    let m = w.only_message(booking).await;
    assert_eq!(m.status, MessageStatus::Delivered);
    assert_eq!(m.delivered_at, Some(now));
    assert!(m.sent_at.is_some());
}

#[tokio::test]
async fn an_sms_retried_after_the_month_ends_counts_in_the_month_it_went_out() {
    let w = World::new().await;
    let settings = SmsSettings {
        quiet_hours: None,
        ..sms_settings()
    };
    let s = w.salon(settings, Channel::Sms, "Bis morgen").await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    w.clock.set(ts("2026-01-20T00:00:00Z"));
    let booking = w.appointment_at(&s, eva, "2026-02-01T12:00:00Z").await;
    // The first attempt, on 31 January, meets a gateway that is down.
    w.clock.set(ts("2026-01-31T12:00:00Z"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = bellhop_transport::sms::GenericGateway::new(
        bellhop_transport::sms::GenericConfig {
            url: format!("http://127.0.0.1:{port}/send"),
            method: "POST".into(),
            headers: vec![],
            content_type: "application/json".into(),
            body: Some("{}".into()),
            id_pointer: None,
            timeout: std::time::Duration::from_secs(2),
        },
        bellhop_transport::callbacks::Callbacks::new("http://127.0.0.1", b"k"),
    )
    .unwrap();
    let mut transports = w.transports();
    transports.sms =
        std::sync::Arc::new(bellhop_transport::sms::SmsGateway::Generic(Box::new(down)));
    let stats = w
        .sms_dispatcher_with("a", w.store.clone(), transports)
        .drain()
        .await
        .unwrap();
    assert_eq!(stats.deferred, 1, "{stats:?}");
    let jan = || {
        w.engine
            .sms_overview(w.account, s.property, Some("2026-01"))
    };
    assert_eq!(
        jan().await.unwrap().parts,
        1,
        "counted while it waits for its retry"
    );

    // The retry goes out at 00:30 on 1 February, Vienna time.
    w.clock.set(ts("2026-01-31T23:30:00Z"));
    assert_eq!(w.sms_dispatcher("a").drain().await.unwrap().sent, 1);
    assert_eq!(
        w.only_message(booking).await.billing_month.as_deref(),
        Some("2026-02")
    );
    assert_eq!(jan().await.unwrap().parts, 0, "January gave the part back");
    let feb = w
        .engine
        .sms_overview(w.account, s.property, Some("2026-02"))
        .await
        .unwrap();
    assert_eq!(feb.parts, 1);
    w.assert_queue_matches_messages().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_reminders_racing_appointment_moves_are_sent_or_replanned_and_nothing_waits_on_a_lock()
{
    let w = World::new().await;
    let s = w
        .salon(
            SmsSettings {
                quiet_hours: None,
                ..sms_settings()
            },
            Channel::Sms,
            REMINDER,
        )
        .await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let mut bookings = Vec::new();
    for i in 0..120 {
        let start = ts("2026-03-10T09:00:00Z")
            .checked_add(SignedDuration::from_mins(i))
            .unwrap();
        bookings.push(w.appointment_at(&s, eva, &start.to_string()).await);
    }
    w.clock.set(ts("2026-03-09T12:00:00Z"));
    // One dispatcher counts and sends the due SMS while staff move every appointment: the
    // counting happens while bookings are held, so a move must not hold the database while it
    // waits for them (on SQLite that was a lock-order deadlock until the busy timeout).
    let dispatcher = w.sms_dispatcher_with("b", w.other_pool().await, w.transports());
    let started = std::time::Instant::now();
    let sending = tokio::spawn(async move { dispatcher.drain().await });
    for b in bookings.iter().rev() {
        w.edit(*b, |d| {
            if let bellhop_domain::Schedule::Appointment { start, end } = &mut d.schedule {
                *start = start.checked_add(SignedDuration::from_hours(48)).unwrap();
                *end = end.checked_add(SignedDuration::from_hours(48)).unwrap();
            }
        })
        .await;
    }
    sending.await.unwrap().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    let (mut sent, mut replanned) = (0, 0);
    for b in &bookings {
        let m = w.only_message(*b).await;
        match m.status {
            MessageStatus::Sent => sent += 1,
            MessageStatus::Planned => replanned += 1,
            other => panic!("{other}: {m:?}"),
        }
    }
    assert_eq!(sent + replanned, bookings.len());
    let overview = w
        .engine
        .sms_overview(w.account, s.property, Some("2026-03"))
        .await
        .unwrap();
    assert_eq!(overview.parts, sent as i64, "only what was sent is counted");
    w.assert_queue_matches_messages().await;
}

#[tokio::test]
async fn a_marketing_sms_rule_never_texts_a_number_that_opted_out() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    // A follow-up "how was your visit?" is marketing (BGH VI ZR 225/17).
    let property = w.store.property(w.account, s.property).await.unwrap();
    let template = bellhop_domain::render::Template {
        id: uuid::Uuid::now_v7(),
        account_id: w.account,
        property_id: property.id,
        name: "Wie war es?".into(),
        category: bellhop_domain::render::Category::Marketing,
        variants: bellhop_domain::render::Variants::Sms(
            [(
                "de".to_owned(),
                bellhop_domain::render::SmsContent {
                    text: "Wie war Ihr Besuch?".into(),
                },
            )]
            .into_iter()
            .collect(),
        ),
        version: 1,
    };
    w.engine.save_template(&template, true).await.unwrap();
    let rule = bellhop_domain::Rule {
        id: uuid::Uuid::now_v7(),
        account_id: w.account,
        property_id: property.id,
        name: "Follow-up".into(),
        anchor: bellhop_domain::Anchor::End,
        offset: bellhop_domain::Offset::hours(2),
        time_of_day: None,
        conditions: Default::default(),
        channel: Channel::Sms,
        template_id: template.id,
        fallback_template_id: None,
        late_policy: bellhop_domain::LatePolicy::Skip,
        enabled: true,
    };
    w.engine.save_rule(&rule, true).await.unwrap();
    let eva = w.customer(Some("0664 1234567"), None).await;
    w.appointment_at(&s, eva, "2026-03-10T09:00:00Z").await;
    w.consent(eva, Purpose::Marketing, ConsentChannel::Sms, true)
        .await;
    w.engine
        .set_sms_consent(
            w.account,
            eva,
            false,
            bellhop_domain::consent::Source::Staff,
            "test",
        )
        .await
        .unwrap();
    w.clock.set(ts("2026-03-09T09:00:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    w.clock.set(ts("2026-03-10T12:00:00Z"));
    w.sms_dispatcher("a").drain().await.unwrap();
    let messages = w.messages_of_contact(eva).await;
    let reminder = messages
        .iter()
        .find(|m| m.rule_id != Some(rule.id))
        .unwrap();
    let follow_up = messages
        .iter()
        .find(|m| m.rule_id == Some(rule.id))
        .unwrap();
    assert_eq!(
        reminder.status,
        MessageStatus::Sent,
        "the reminder rests on the contract"
    );
    assert_eq!(follow_up.status, MessageStatus::Suppressed);
    assert_eq!(
        follow_up.status_reason.as_deref(),
        Some("no consent: marketing/sms")
    );
}

#[tokio::test]
async fn a_bulk_sms_reaches_each_customer_in_their_language_with_a_way_to_opt_out() {
    let w = World::new().await;
    let s = salon(&w, Channel::Sms).await;
    let eva = w.customer(Some("0664 1234567"), None).await;
    let john = w.customer(Some("0664 7654321"), None).await;
    let mut english = w.store.contact(w.account, john).await.unwrap();
    english.first_name = Some("John".into());
    english.language = Some("en-GB".parse().unwrap());
    w.engine.upsert_contact(&english).await.unwrap();
    for (contact, at) in [
        (eva, "2026-03-20T09:00:00Z"),
        (john, "2026-03-20T10:00:00Z"),
    ] {
        w.appointment_at(&s, contact, at).await;
        w.consent(contact, Purpose::Marketing, ConsentChannel::Sms, true)
            .await;
    }
    w.clock.set(ts("2026-03-09T09:00:00Z"));
    let plan = w
        .engine
        .create_campaign(
            w.account,
            CampaignDraft {
                property_id: s.property,
                name: "Frühling".into(),
                text: "Hallo {{ guest.first_name }}, -20 % im April!".into(),
                translations: [(
                    "en".to_owned(),
                    "Hi {{ guest.first_name }}, 20 % off in April!".to_owned(),
                )]
                .into(),
                filter: AudienceFilter::default(),
                send_at: None,
            },
            false,
            "test",
        )
        .await
        .unwrap();
    assert_eq!(plan.recipients, 2, "{plan:?}");
    w.sms_dispatcher("a").drain().await.unwrap();
    let campaign = plan.campaign.unwrap().id;
    let text_to = |contact| {
        let w = &w;
        async move {
            let m = w
                .messages_of_contact(contact)
                .await
                .into_iter()
                .find(|m| m.campaign_id == Some(campaign))
                .unwrap();
            w.sms_file(m.id).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    // The salon sends from a name, which cannot receive a STOP: the way out is by email.
    assert_eq!(
        text_to(eva).await,
        "Hallo Eva, -20 % im April!\nAbmelden: E-Mail an termine@salon.example"
    );
    assert_eq!(
        text_to(john).await,
        "Hi John, 20 % off in April!\nOpt out: email termine@salon.example"
    );
}
