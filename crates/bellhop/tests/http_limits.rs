//! The HTTP server's limits against real sockets: a client that never finishes its request
//! head is cut off, and connections beyond the cap are closed on accept.

mod support;

use std::time::Duration;
use support::live::Live;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; what it sent before.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&seen).into_owned())
}

#[tokio::test]
async fn half_sent_requests_are_cut_off_and_connections_are_capped() {
    // The test's API client needs the process's TLS provider, which this installs.
    bellhop_transport::sms::http_client(Duration::from_secs(5)).unwrap();
    let live = Live::start(|c| {
        c.http.header_read_timeout_secs = 1;
        c.http.max_connections = 4;
    })
    .await;
    let addr = live.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: bellhop\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Every connection is taken: a fifth is closed without an answer.
    let mut fifth = TcpStream::connect(&addr).await.unwrap();
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: bellhop\r\n\r\n")
        .await;
    let answer = until_closed(&mut fifth, Duration::from_secs(2))
        .await
        .expect("the connection over the cap was left open");
    assert!(!answer.contains("200 OK"), "{answer}");
    // The half-sent heads are cut off once their time is up.
    for stream in &mut slow {
        until_closed(stream, Duration::from_secs(5))
            .await
            .expect("a half-sent request was kept open");
    }
    // With the slots free again, a whole request is answered.
    let mut whole = TcpStream::connect(&addr).await.unwrap();
    whole
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: bellhop\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut whole, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    live.running.unwrap().stop().await;
}
