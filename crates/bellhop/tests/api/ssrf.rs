//! The SSRF rules end to end: every way of naming a loopback, private, link-local, metadata
//! or multicast target is refused where a user saves it (a channel's webhook, a mailbox's IMAP
//! host, a property's logo) and where bellhop would dial it (webhooks, AlpineBits requests),
//! and a listener on 127.0.0.1 sees no connection at all. Only the operator's allow-list
//! opens a private range.

use crate::helpers::Api;
use axum::http::StatusCode;
use bellhop_transport::alpinebits::AlpineBitsClient;
use bellhop_transport::ssrf::OutboundPolicy;
use bellhop_transport::webhook::{WebhookRequest, WebhookSender};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A listener on `ip` that answers every request with `answer` and counts connections.
async fn listener(ip: &str, answer: String) -> (u16, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    (port, seen)
}

const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

/// This machine's own name when it resolves to a loopback or private address (it does on
/// Debian and in containers: /etc/hosts), else Debian's `ip6-localhost`.
async fn own_private_name() -> Option<String> {
    let own = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    for name in [own.trim(), "ip6-localhost"] {
        if let Ok(found) = tokio::net::lookup_host((name, 0)).await
            && found
                .into_iter()
                .any(|a| !bellhop_transport::ssrf::is_public(a.ip()))
        {
            return Some(name.to_owned());
        }
    }
    None
}

/// Every spelling of a target that must not be reached, aimed at the listener's port.
async fn forbidden(port: u16) -> Vec<String> {
    let mut urls: Vec<String> = [
        "127.0.0.1",
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "0.0.0.0",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[0:0:0:0:0:ffff:127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "198.18.0.1",
        "192.0.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "[fd00::1]",
        "[fe80::1]",
        "[ff02::1]",
    ]
    .iter()
    .map(|host| format!("http://{host}:{port}/hook"))
    .collect();
    if let Some(name) = own_private_name().await {
        urls.push(format!("http://{name}:{port}/hook"));
    }
    urls.extend([
        format!("http://user:secret@127.0.0.1:{port}/"),
        format!("gopher://127.0.0.1:{port}/"),
        "file:///etc/passwd".to_owned(),
        "http://[example.com]/".to_owned(),
    ]);
    urls
}

fn hook(url: &str) -> WebhookRequest {
    WebhookRequest {
        url: url.to_owned(),
        body: "{}".into(),
        secret: "s".into(),
        delivery_id: "d".into(),
    }
}

#[tokio::test]
async fn no_spelling_of_a_private_target_is_saved_or_dialled() {
    let (port, seen) = listener("127.0.0.1", OK.to_owned()).await;
    let urls = forbidden(port).await;
    assert!(urls.len() >= 25, "{}", urls.len());

    // Where users save a target.
    let api = Api::with_targets(OutboundPolicy::public_only()).await;
    let hotel = api.hotel().await;
    let property = api.get(&format!("/api/v1/properties/{hotel}")).await.body;
    for url in &urls {
        let r = api
            .post(
                &format!("/api/v1/properties/{hotel}/channels"),
                json!({"name": "Kanal", "kind": "json", "webhook_url": url}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "webhook {url}");
        let mut changed = property.clone();
        changed["brand"] = json!({"logo_url": url});
        for key in ["id", "account_id", "created_at", "updated_at", "sms_usage"] {
            changed.as_object_mut().unwrap().remove(key);
        }
        let r = api
            .call(
                "PUT",
                &format!("/api/v1/properties/{hotel}"),
                Some(&api.key),
                Some(&changed.to_string()),
                &[],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "logo {url}: {:?}",
            r.body
        );
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned));
        if let Some(host) = host {
            let r = api
                .post(
                    &format!("/api/v1/properties/{hotel}/mailboxes"),
                    json!({"name": "Postfach", "address": "post@hotel.example",
                       "replies": {"de": {"body": "Danke"}}, "default_language": "de",
                       "imap": {"host": host, "port": port, "tls": false, "user": "u", "password": "p"}}),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "imap {host}: {:?}",
                r.body
            );
        }
    }

    // Where bellhop dials (a target saved before the rules, or by an older version).
    let webhooks =
        WebhookSender::new(Duration::from_secs(2), OutboundPolicy::public_only()).unwrap();
    let alpinebits =
        AlpineBitsClient::new(Duration::from_secs(2), OutboundPolicy::public_only()).unwrap();
    for url in &urls {
        assert!(
            webhooks.send(&hook(url), 0).await.is_err(),
            "webhook to {url}"
        );
        assert!(
            alpinebits
                .exchange(url, "u", "p", "action", "<x/>")
                .await
                .is_err(),
            "AlpineBits to {url}"
        );
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the listener on 127.0.0.1 was reached"
    );
}

#[tokio::test]
async fn only_the_allow_list_opens_a_private_target_and_a_redirect_out_of_it_is_not_followed() {
    let (port, seen) = listener("127.0.0.1", OK.to_owned()).await;
    // An allowed on-premise receiver that redirects to a target outside the list.
    let (redirector, asked) = listener(
        "127.0.0.2",
        format!(
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{port}/\r\ncontent-length: 0\r\n\r\n"
        ),
    )
    .await;
    let targets = OutboundPolicy::allowing(&["127.0.0.2/32"]).unwrap();
    let webhooks = WebhookSender::new(Duration::from_secs(2), targets.clone()).unwrap();
    let err = webhooks
        .send(&hook(&format!("http://127.0.0.2:{redirector}/hook")), 0)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("302"), "{err}");
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "the allowed receiver was asked"
    );
    assert!(
        webhooks
            .send(&hook(&format!("http://127.0.0.1:{port}/")), 0)
            .await
            .is_err()
    );
    assert_eq!(seen.load(Ordering::SeqCst), 0, "the redirect was followed");

    // Allowing the range (as `outbound.allow = ["127.0.0.1/32"]` does) opens it.
    let api = Api::with_targets(OutboundPolicy::allowing(&["127.0.0.1/32"]).unwrap()).await;
    let hotel = api.hotel().await;
    let r = api
        .post(
            &format!("/api/v1/properties/{hotel}/channels"),
            json!({"name": "Vor Ort", "kind": "json", "webhook_url": format!("http://127.0.0.1:{port}/hook")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let open = WebhookSender::new(
        Duration::from_secs(2),
        OutboundPolicy::allowing(&["127.0.0.1/32"]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        open.send(&hook(&format!("http://127.0.0.1:{port}/")), 0)
            .await
            .unwrap(),
        "HTTP 200"
    );
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}
