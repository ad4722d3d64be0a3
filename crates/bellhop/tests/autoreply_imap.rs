//! A hotel that keeps its provider: bellhop watches the mailbox on a real Dovecot over IMAP.
//! A mail appended to it is answered once — also across a restart of bellhop.

mod support;

use bellhop::config::TransportKind;
use serde_json::{Value, json};
use std::time::Duration;
use support::Sink;
use support::dovecot::{Dovecot, PASSWORD, USER};
use support::live::{Live, eventually};

fn mail(from: &str, id: &str, subject: &str) -> String {
    format!(
        "Return-Path: <{from}>\nFrom: Guest <{from}>\nTo: rezeption@alpenblick.example\nSubject: {subject}\nMessage-ID: <{id}@example.com>\nDate: Sun, 01 Mar 2026 09:00:00 +0100\n\nGuten Tag, ist im Mai noch ein Zimmer frei?\n"
    )
}

async fn inbound(live: &Live) -> Vec<Value> {
    live.api
        .get("/inbound-mails")
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_appended_to_the_imap_mailbox_is_answered_once_across_a_restart() {
    let dovecot = Dovecot::start();
    let sink = Sink::start();
    let mut live = Live::start(|c| {
        c.email.transport = TransportKind::Smtp;
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = sink.port;
        c.inbound.allow_private_imap = true;
        c.inbound.imap_poll_secs = 1;
    })
    .await;
    // Mail already in the mailbox when bellhop starts watching is not answered.
    dovecot.append(&mail("old@example.com", "old", "Alte Anfrage"));
    let hotel = live
        .api
        .post(
            "/properties",
            json!({"name": "Hotel Alpenblick", "time_zone": "Europe/Vienna", "country": "AT",
            "default_language": "de", "sender_email": "rezeption@alpenblick.example", "sender_name": "Hotel Alpenblick"}),
        )
        .await;
    let mailbox = live
        .api
        .post(
            &format!("/properties/{}/mailboxes", hotel["id"].as_str().unwrap()),
            json!({"name": "Rezeption", "address": "rezeption@alpenblick.example", "period_days": 0,
                "replies": {"de": {"body": "Danke für Ihre Nachricht, wir melden uns heute."}},
                "imap": {"host": "127.0.0.1", "port": dovecot.port, "tls": false, "user": USER, "password": PASSWORD}}),
        )
        .await;
    let id = mailbox["id"].as_str().unwrap().to_owned();
    assert!(mailbox["imap"]["password"].is_null(), "never shown");
    let api = &live.api;
    eventually(
        "bellhop looks at the mailbox",
        async || {
            let m = api.get(&format!("/mailboxes/{id}")).await;
            m["imap"]["checked_at"].is_string().then_some(())
        },
        String::new,
    )
    .await;

    dovecot.append(&mail("anna@example.com", "first", "Zimmer im Mai"));
    let list = eventually(
        "the appended mail is taken",
        async || {
            let l = inbound(&live).await;
            (!l.is_empty()).then_some(l)
        },
        String::new,
    )
    .await;
    assert_eq!(
        list.len(),
        1,
        "the mail that was there before is not answered: {list:?}"
    );
    assert_eq!(list[0]["via"], "imap");
    assert_eq!(
        list[0]["envelope_from"], "anna@example.com",
        "from its Return-Path"
    );
    assert_eq!(list[0]["decision"], "replied");
    eventually(
        "the reply leaves",
        async || (sink.count() == 1).then_some(()),
        String::new,
    )
    .await;
    let reply = std::fs::read_to_string(&sink.files()[0]).unwrap();
    assert!(reply.contains("X-Rcpt-Args: <anna@example.com>"), "{reply}");
    assert!(
        reply.contains("In-Reply-To: <first@example.com>"),
        "{reply}"
    );

    // bellhop restarts: the mail is not answered again; a new one is.
    live.restart().await;
    dovecot.append(&mail("bert@example.com", "second", "Frage"));
    // A mail over a limit is recorded as refused, without its content, and the next is read.
    let flood = format!(
        "Return-Path: <c@example.com>\nFrom: c@example.com\nTo: rezeption@alpenblick.example\nContent-Type: text/plain;{}\n\nx\n",
        (0..1_100)
            .map(|i| format!(" n*{i}*=a;"))
            .collect::<String>()
    );
    dovecot.append(&flood);
    let list = eventually(
        "the second mail is taken after the restart",
        async || {
            let l = inbound(&live).await;
            (l.len() >= 3).then_some(l)
        },
        String::new,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let list_after = inbound(&live).await;
    assert_eq!(list_after.len(), 3, "{list:?}");
    let seen: Vec<(&str, &str)> = list_after
        .iter()
        .map(|m| {
            (
                m["decision"].as_str().unwrap(),
                m["envelope_from"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("refused", "-"),
            ("replied", "bert@example.com"),
            ("replied", "anna@example.com")
        ]
    );
    eventually(
        "the second reply leaves",
        async || (sink.count() == 2).then_some(()),
        String::new,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.count(), 2, "anna was answered once");
    live.stop().await;
}
