//! Email against a real SMTP server (Postfix's smtp-sink on 127.0.0.1): the MIME that arrives.

mod support;

use bellhop_domain::Contact;
use bellhop_domain::contact::EmailAddress;
use bellhop_engine::{DispatchConfig, Dispatcher, Engine, ManualClock};
use bellhop_store::{MessageFilter, Store, StoreOptions};
use bellhop_transport::{EmailTransport, SmtpConfig, SmtpTls, SmtpTransport};
use mail_parser::{MessageParser, MimeHeaders};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

#[tokio::test]
async fn the_mail_that_reaches_an_smtp_server_is_well_formed_multipart_with_encoded_umlauts() {
    let sink = support::Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db"), &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let clock = ManualClock::new("2026-03-10T09:30:00Z".parse().unwrap());
    let engine = Engine::new(store.clone(), Arc::new(clock.clone()));
    let account = Uuid::now_v7();
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(account, "A", "2026-03-10T09:30:00Z".parse().unwrap())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let property = support::property(account);
    engine.create_property(&property).await.unwrap();
    support::confirmation(&engine, account, property.id).await;
    let contact = Contact {
        id: Uuid::now_v7(),
        account_id: account,
        first_name: Some("Jürgen".into()),
        last_name: Some("Größe".into()),
        email: Some("juergen@example.com".parse().unwrap()),
        ..Contact::default()
    };
    engine.upsert_contact(&contact).await.unwrap();
    let draft = support::stay(property.id, contact.id, jiff::civil::date(2026, 4, 1));
    let (booking, _) = engine.create_booking(account, draft, "test").await.unwrap();

    let smtp = SmtpTransport::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port,
        tls: SmtpTls::None,
        username: None,
        password: None,
        pool_size: 2,
        timeout: Duration::from_secs(10),
        hello_name: "bellhop.test".into(),
    });
    let dispatcher = Dispatcher::new(
        store.clone(),
        bellhop_engine::Transports::email_only(Arc::new(EmailTransport::Smtp(smtp))),
        Arc::new(clock.clone()),
        DispatchConfig::default(),
    );
    assert_eq!(dispatcher.drain().await.unwrap().sent, 1);
    let sent = store
        .messages(
            account,
            &MessageFilter {
                booking_id: Some(booking.id),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);

    let files = sink.files();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(&files[0]).unwrap();
    let text = String::from_utf8(raw.clone()).unwrap();
    // Envelope: the property's sender, the guest.
    assert!(text.contains("X-Mail-Args: <info@hotel.example>"), "{text}");
    assert!(text.contains("X-Rcpt-Args: <juergen@example.com>"));
    // Headers on the wire are 7-bit: umlauts travel RFC 2047-encoded.
    let header_block = &text[..text.find("\r\n\r\n").or_else(|| text.find("\n\n")).unwrap()];
    assert!(header_block.is_ascii(), "{header_block}");

    let mail = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        mail.subject(),
        Some("Grüße, Jürgen – Ihre Anreise am 01.04.2026")
    );
    assert_eq!(
        mail.message_id(),
        Some(format!("{}@hotel.example", sent.id).as_str())
    );
    let from = mail.from().unwrap().first().unwrap();
    assert_eq!(
        (from.name(), from.address()),
        (Some("Hotel Schöne Aussicht"), Some("info@hotel.example"))
    );
    let to = mail.to().unwrap().first().unwrap();
    assert_eq!(
        (to.name(), to.address()),
        (Some("Jürgen Größe"), Some("juergen@example.com"))
    );
    assert_eq!(
        mail.reply_to().unwrap().first().unwrap().address(),
        Some("rezeption@hotel.example")
    );
    assert_eq!(mail.date().unwrap().to_rfc3339(), "2026-03-10T09:30:00Z");
    assert_eq!(
        mail.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
    assert!(
        mail.content_type()
            .is_some_and(|c| c.ctype() == "multipart" && c.subtype() == Some("alternative"))
    );
    let body_text = mail.body_text(0).unwrap();
    let body_html = mail.body_html(0).unwrap();
    assert!(
        body_text.contains("Liebe(r) Jürgen Größe, wir freuen uns auf Sie. Grüße aus Österreich!"),
        "{body_text}"
    );
    assert!(body_html.contains("<p>Liebe(r) Jürgen Größe, wir freuen uns auf Sie. Grüße aus Österreich!</p><footer>Hotel Schöne Aussicht</footer>"), "{body_html}");
    assert_eq!(mail.text_body_count(), 1);
    assert_eq!(mail.html_body_count(), 1);

    // The stored record says what was sent.
    let stored = store.message(account, sent.id).await.unwrap();
    assert_eq!(
        stored.provider_ref.as_deref(),
        Some(format!("<{}@hotel.example>", sent.id).as_str())
    );
    assert!(stored.body_html.unwrap().contains("Grüße aus Österreich"));
}

#[tokio::test]
async fn an_address_the_transport_refuses_fails_permanently_and_staff_are_notified() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db"), &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let clock = ManualClock::new("2026-03-10T09:30:00Z".parse().unwrap());
    let engine = Engine::new(store.clone(), Arc::new(clock.clone()));
    let account = Uuid::now_v7();
    let mut tx = store.begin().await.unwrap();
    tx.insert_account(account, "A", "2026-03-10T09:30:00Z".parse().unwrap())
        .await
        .unwrap();
    // A stored address from before validation existed: the transport refuses it for good.
    tx.upsert_contact(
        &Contact {
            id: Uuid::nil(),
            account_id: account,
            first_name: Some("X".into()),
            email: Some(EmailAddress::stored("broken@@example.com".into())),
            ..Contact::default()
        },
        "2026-03-10T09:30:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let property = support::property(account);
    engine.create_property(&property).await.unwrap();
    support::confirmation(&engine, account, property.id).await;
    let draft = support::stay(property.id, Uuid::nil(), jiff::civil::date(2026, 4, 1));
    engine.create_booking(account, draft, "test").await.unwrap();
    let sink = support::Sink::start();
    let smtp = SmtpTransport::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port,
        tls: SmtpTls::None,
        username: None,
        password: None,
        pool_size: 1,
        timeout: Duration::from_secs(10),
        hello_name: "bellhop.test".into(),
    });
    let dispatcher = Dispatcher::new(
        store.clone(),
        bellhop_engine::Transports::email_only(Arc::new(EmailTransport::Smtp(smtp))),
        Arc::new(clock.clone()),
        DispatchConfig::default(),
    );
    let stats = dispatcher.drain().await.unwrap();
    assert_eq!((stats.sent, stats.failed), (0, 1));
    let notes = store.notifications(account, 10).await.unwrap();
    assert!(
        notes[0]
            .rendered_text()
            .contains("invalid recipient address"),
        "{notes:?}"
    );
    assert_eq!(sink.count(), 0);
}
