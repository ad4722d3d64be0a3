//! Consent at send time: a marketing mail needs a grant for the channel it takes, a
//! withdrawal after planning still stops it, and a property may make service mail need one.

use crate::helpers::{World, ts};
use bellhop_domain::MessageStatus;
use bellhop_domain::consent::{Channel, Purpose, Source};
use bellhop_engine::ConsentDecision;
use jiff::civil::date;
use uuid::Uuid;

async fn decide(w: &World, contact: Uuid, purpose: Purpose, granted: bool) {
    let d = ConsentDecision::new(purpose, Channel::Email, granted, Source::Staff);
    w.engine
        .record_consent(w.account, contact, &d)
        .await
        .unwrap();
}

/// Sends everything due up to `at`.
async fn run_until(w: &World, at: &str) {
    w.clock.set(ts(at));
    w.dispatcher("a").drain().await.unwrap();
}

#[tokio::test]
async fn a_thank_you_mail_without_marketing_consent_is_suppressed_and_the_reminder_still_goes() {
    let w = World::new().await;
    let anna = w.guest("anna@example.com", Some("de")).await;
    let stay = w.stay(anna, date(2026, 3, 10), date(2026, 3, 12)).await;
    run_until(&w, "2026-03-07T09:00:00Z").await;
    run_until(&w, "2026-03-14T09:00:00Z").await;
    assert_eq!(
        w.message_of(stay, "Before arrival").await.status,
        MessageStatus::Sent,
        "service mail rests on the contract"
    );
    let thanks = w.message_of(stay, "After departure").await;
    assert_eq!(thanks.status, MessageStatus::Suppressed);
    assert_eq!(
        thanks.status_reason.as_deref(),
        Some("no consent: marketing/email")
    );
    assert_eq!(thanks.status_code.as_deref(), Some("no_consent"));
    assert!(!w.eml_exists(thanks.id));
}

#[tokio::test]
async fn a_withdrawal_between_planning_and_sending_suppresses_the_planned_mail() {
    let w = World::new().await;
    let granted = w.guest("anna@example.com", Some("de")).await;
    let withdrawn = w.guest("bert@example.com", Some("de")).await;
    for contact in [granted, withdrawn] {
        decide(&w, contact, Purpose::Marketing, true).await;
    }
    let kept = w.stay(granted, date(2026, 3, 10), date(2026, 3, 12)).await;
    let stopped = w
        .stay(withdrawn, date(2026, 3, 10), date(2026, 3, 12))
        .await;
    run_until(&w, "2026-03-12T12:00:00Z").await;
    assert_eq!(
        w.message_of(stopped, "After departure").await.status,
        MessageStatus::Planned
    );
    decide(&w, withdrawn, Purpose::Marketing, false).await;
    run_until(&w, "2026-03-14T09:00:00Z").await;
    let sent = w.message_of(kept, "After departure").await;
    assert_eq!(sent.status, MessageStatus::Sent);
    assert!(
        w.eml(sent.id)
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );
    let suppressed = w.message_of(stopped, "After departure").await;
    assert_eq!(suppressed.status, MessageStatus::Suppressed);
    assert_eq!(
        suppressed.status_reason.as_deref(),
        Some("no consent: marketing/email")
    );
}

#[tokio::test]
async fn where_the_property_asks_for_it_service_mail_needs_a_grant_too() {
    let w = World::new().await;
    let mut property = w.store.property(w.account, w.property).await.unwrap();
    property.consent.service_needs_consent = true;
    w.engine.update_property(&property).await.unwrap();
    let without = w.guest("anna@example.com", Some("de")).await;
    let with = w.guest("bert@example.com", Some("de")).await;
    decide(&w, with, Purpose::Service, true).await;
    let a = w.stay(without, date(2026, 3, 10), date(2026, 3, 12)).await;
    let b = w.stay(with, date(2026, 3, 10), date(2026, 3, 12)).await;
    run_until(&w, "2026-03-07T09:00:00Z").await;
    let refused = w.message_of(a, "Before arrival").await;
    assert_eq!(refused.status, MessageStatus::Suppressed);
    assert_eq!(
        refused.status_reason.as_deref(),
        Some("no consent: service/email")
    );
    assert_eq!(
        w.message_of(b, "Before arrival").await.status,
        MessageStatus::Sent
    );
}

#[tokio::test]
async fn an_erased_guests_address_back_as_a_new_contact_still_gets_no_offers() {
    let w = World::new().await;
    let before = w.guest("anna@example.com", Some("de")).await;
    decide(&w, before, Purpose::Marketing, true).await;
    w.engine
        .erase_contact(w.account, before, Source::Api, "test")
        .await
        .unwrap();
    let again = w.guest("Anna@Example.com", Some("de")).await;
    let stay = w.stay(again, date(2026, 3, 10), date(2026, 3, 12)).await;
    run_until(&w, "2026-03-07T09:00:00Z").await;
    run_until(&w, "2026-03-14T09:00:00Z").await;
    assert_eq!(
        w.message_of(stay, "Before arrival").await.status,
        MessageStatus::Sent
    );
    let thanks = w.message_of(stay, "After departure").await;
    assert_eq!(
        (thanks.status, thanks.status_reason.as_deref()),
        (
            MessageStatus::Suppressed,
            Some("no consent: marketing/email")
        ),
        "the withdrawal kept under a digest holds"
    );
    // Their own new grant, given after the erasure, counts.
    decide(&w, again, Purpose::Marketing, true).await;
    let next = w.stay(again, date(2026, 3, 20), date(2026, 3, 22)).await;
    run_until(&w, "2026-03-24T09:00:00Z").await;
    assert_eq!(
        w.message_of(next, "After departure").await.status,
        MessageStatus::Sent
    );
}
