//! The autoresponder end to end: a real SMTP client (swaks) talks to the listener of a running
//! bellhop, whose reply leaves through SMTP and is caught by Postfix's smtp-sink; two bellhops
//! answering each other's mailboxes do not loop.

mod support;

use bellhop::config::TransportKind;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;
use support::Sink;
use support::live::{Live, eventually};

/// Sends one mail with swaks; (exit success, transcript).
fn swaks(server: SocketAddr, from: &str, to: &str, extra: &[&str]) -> (bool, String) {
    let output = Command::new("swaks")
        .args([
            "--server",
            &server.ip().to_string(),
            "--port",
            &server.port().to_string(),
            "--from",
            from,
            "--to",
            to,
            "--helo",
            "client.example",
        ])
        .args(extra)
        .output()
        .expect("swaks is missing: apt-get install swaks (.ci/run installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn smtp_via(port: u16) -> impl FnOnce(&mut bellhop::config::Config) {
    move |c| {
        c.email.transport = TransportKind::Smtp;
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
    }
}

async fn hotel_with_mailbox(live: &Live, address: &str, sender: &str, period_days: i64) -> String {
    let hotel = live
        .api
        .post(
            "/properties",
            json!({"name": "Hotel Alpenblick", "time_zone": "Europe/Vienna", "country": "AT",
            "default_language": "de", "sender_email": sender, "sender_name": "Hotel Alpenblick"}),
        )
        .await;
    let m = live
        .api
        .post(
            &format!("/properties/{}/mailboxes", hotel["id"].as_str().unwrap()),
            json!({"name": "Kontakt", "address": address, "period_days": period_days, "case_prefix": "ANF",
                "aliases": [address.replace("kontakt@", "anfrage@")],
                "replies": {"de": {"body": "Guten Tag {{ mail.sender_name }}, danke. Ihre Anfrage: {{ mail.case_number }}."}}}),
        )
        .await;
    m["id"].as_str().unwrap().to_owned()
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
async fn a_guest_writes_by_smtp_and_gets_one_auto_reply_from_the_null_sender() {
    let sink = Sink::start();
    let live = Live::start(|c| {
        smtp_via(sink.port)(c);
        c.inbound.max_messages_per_sender = 4;
        c.inbound.max_message_bytes = 200_000;
    })
    .await;
    let smtp = live.running.as_ref().unwrap().smtp_addr.unwrap();
    hotel_with_mailbox(
        &live,
        "kontakt@alpenblick.example",
        "info@alpenblick.example",
        7,
    )
    .await;

    let send = |subject: &str| {
        swaks(
            smtp,
            "anna@example.com",
            "kontakt@alpenblick.example",
            &[
                "--header",
                &format!("Subject: {subject}"),
                "--header",
                "From: Anna Berger <anna@example.com>",
                "--header",
                "Message-Id: <first-question@example.com>",
                "--body",
                "Guten Tag, haben Sie im Mai ein Zimmer frei?",
            ],
        )
    };
    let (ok, transcript) = send("Zimmeranfrage");
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("250 2.0.0 OK queued as"),
        "{transcript}"
    );
    let file = eventually(
        "the auto-reply reaches smtp-sink",
        async || sink.files().pop(),
        String::new,
    )
    .await;
    let text = std::fs::read_to_string(file).unwrap();
    // Envelope (smtp-sink records it): from the null sender, to the envelope sender.
    assert!(text.contains("X-Mail-Args: <>"), "{text}");
    assert!(text.contains("X-Rcpt-Args: <anna@example.com>"), "{text}");
    // Headers.
    assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
    assert!(text.contains("X-Auto-Response-Suppress: All"), "{text}");
    assert!(
        text.contains("In-Reply-To: <first-question@example.com>"),
        "{text}"
    );
    assert!(
        text.contains("References: <first-question@example.com>"),
        "{text}"
    );
    assert!(text.contains("Subject: Auto: Zimmeranfrage"), "{text}");
    assert!(
        text.contains("From: \"Hotel Alpenblick\" <info@alpenblick.example>")
            || text.contains("From: Hotel Alpenblick <info@alpenblick.example>"),
        "{text}"
    );
    assert!(text.contains("ANF-2026-000001"), "{text}");

    // The second mail within the period: taken, recorded, not answered.
    let (ok, transcript) = send("Noch eine Frage");
    assert!(ok, "{transcript}");
    let list = eventually(
        "both mails recorded",
        async || {
            let l = inbound(&live).await;
            (l.len() == 2).then_some(l)
        },
        String::new,
    )
    .await;
    assert_eq!(list[0]["reason_code"], "period", "{list:?}");
    assert_eq!(list[0]["via"], "smtp");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.count(), 1, "no second reply within the period");

    // A mail to the address and an alias at once is taken once.
    let (ok, transcript) = swaks(
        smtp,
        "carla@example.com",
        "kontakt@alpenblick.example,anfrage@alpenblick.example",
        &["--header", "Subject: Zweimal"],
    );
    assert!(ok, "{transcript}");
    let list = eventually(
        "the mail to two addresses is recorded",
        async || {
            let l = inbound(&live).await;
            (l.len() == 3).then_some(l)
        },
        String::new,
    )
    .await;
    assert_eq!(list[0]["envelope_from"], "carla@example.com");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbound(&live).await.len(), 3, "one record for one mailbox");

    // Unknown recipients are refused at RCPT.
    let (ok, transcript) = swaks(smtp, "anna@example.com", "nobody@alpenblick.example", &[]);
    assert!(!ok);
    assert!(transcript.contains("550 5.1.1"), "{transcript}");

    // Too big: refused (SIZE announced, DATA checked); nothing recorded.
    let big = live.dir.path().join("big.txt");
    std::fs::write(&big, format!("{}\n", "x".repeat(76)).repeat(4_000)).unwrap();
    let (ok, transcript) = swaks(
        smtp,
        "bert@example.com",
        "kontakt@alpenblick.example",
        &["--body", &format!("@{}", big.display())],
    );
    assert!(!ok);
    assert!(transcript.contains("552"), "{transcript}");

    // A flood from one sender is slowed at MAIL: four mails per window, then 451.
    let mut refused = 0;
    for _ in 0..6 {
        let (ok, transcript) = swaks(smtp, "flood@example.com", "kontakt@alpenblick.example", &[]);
        if !ok {
            assert!(transcript.contains("451 4.7.1"), "{transcript}");
            refused += 1;
        }
    }
    assert_eq!(refused, 2);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bellhops_answering_each_others_mailboxes_do_not_loop() {
    let port_a = support::free_port();
    let port_b = support::free_port();
    let a = Live::start(|c| {
        smtp_via(port_b)(c);
        c.inbound.smtp_listen = format!("127.0.0.1:{port_a}");
    })
    .await;
    let b = Live::start(|c| {
        smtp_via(port_a)(c);
        c.inbound.smtp_listen = format!("127.0.0.1:{port_b}");
    })
    .await;
    // Each hotel's sender address is the other's mailbox, and every mail is answered
    // (period 0): only the loop rules stop an endless exchange.
    hotel_with_mailbox(&a, "info@a.example", "info@a.example", 0).await;
    hotel_with_mailbox(&b, "info@b.example", "info@b.example", 0).await;
    let smtp_a = a.running.as_ref().unwrap().smtp_addr.unwrap();
    let (ok, transcript) = swaks(
        smtp_a,
        "info@b.example",
        "info@a.example",
        &[
            "--header",
            "Subject: Hello from B",
            "--header",
            "From: info@b.example",
        ],
    );
    assert!(ok, "{transcript}");
    // A answers B; B takes the answer (null sender, Auto-Submitted) and stays silent.
    let at_b = eventually(
        "A's answer reaches B",
        async || {
            let l = inbound(&b).await;
            (!l.is_empty()).then_some(l)
        },
        String::new,
    )
    .await;
    assert_eq!(at_b[0]["reason_code"], "null_sender", "{at_b:?}");
    assert_eq!(at_b[0]["envelope_from"], "");
    // Bounded: a few seconds later nothing more has moved in either direction.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let at_a = inbound(&a).await;
    let at_b = inbound(&b).await;
    assert_eq!(at_a.len(), 1, "{at_a:?}");
    assert_eq!(at_a[0]["decision"], "replied");
    assert_eq!(at_b.len(), 1, "{at_b:?}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_is_offered_with_a_certificate_and_mail_arrives_encrypted() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=mx.alpenblick.example",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let live = Live::start(|c| {
        smtp_via(sink.port)(c);
        c.inbound.tls_cert = Some(cert.clone());
        c.inbound.tls_key = Some(key.clone());
    })
    .await;
    let smtp = live.running.as_ref().unwrap().smtp_addr.unwrap();
    hotel_with_mailbox(
        &live,
        "kontakt@alpenblick.example",
        "info@alpenblick.example",
        7,
    )
    .await;
    let (ok, transcript) = swaks(
        smtp,
        "anna@example.com",
        "kontakt@alpenblick.example",
        &["--tls", "--header", "Subject: Verschlüsselt"],
    );
    assert!(ok, "{transcript}");
    assert!(transcript.contains("250-STARTTLS"), "{transcript}");
    assert!(transcript.contains("TLS started"), "{transcript}");
    assert!(
        transcript.contains("250 2.0.0 OK queued as"),
        "{transcript}"
    );
    eventually(
        "the reply leaves",
        async || (sink.count() == 1).then_some(()),
        String::new,
    )
    .await;
    // Commands pipelined behind STARTTLS are not taken into the encrypted session.
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, BufReader, Write};
        let stream = std::net::TcpStream::connect(smtp).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        writer.write_all(b"EHLO x\r\n").unwrap();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.starts_with("250 ") {
                break;
            }
        }
        writer
            .write_all(b"STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
            .unwrap();
        line.clear();
        reader.read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    assert!(answer.starts_with("554 5.5.1"), "{answer}");
    live.stop().await;
}
