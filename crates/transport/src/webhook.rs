//! Signed webhooks to booking channels: `POST` of a JSON body with
//! `Bellhop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<body>">` (the receiver
//! refuses a signature older than its replay window), never following redirects, and never
//! to a private, loopback or link-local address unless the operator allows it (SSRF).

use crate::SendError;
use hmac::{KeyInit, Mac};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "Bellhop-Signature";
/// The header naming the delivery (the same on every retry: receivers drop repeats by it).
pub const DELIVERY_HEADER: &str = "Bellhop-Delivery";
/// How old a signature a receiver should still accept, in seconds.
pub const REPLAY_WINDOW_SECS: i64 = 300;

/// One webhook to send.
#[derive(Clone, Debug)]
pub struct WebhookRequest {
    /// Where.
    pub url: String,
    /// The JSON body.
    pub body: String,
    /// The connection's signing secret.
    pub secret: String,
    /// The delivery's id (the outbox message id).
    pub delivery_id: String,
}

/// The signature header's value for `body` sent at `unix_seconds`.
pub fn sign(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Checks a signature header as a receiver would: the HMAC (in constant time) and the age.
pub fn verify(secret: &str, header: &str, body: &str, now_unix: i64) -> Result<(), &'static str> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err("malformed signature header");
    };
    if (now_unix - t).abs() > REPLAY_WINDOW_SECS {
        return Err("signature outside the replay window");
    }
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.verify_slice(&v1)
        .map_err(|_| "signature does not match")
}

/// Whether an address is one a webhook may reach without the operator's say-so: publicly
/// routable, not loopback, private, link-local, shared, documentation, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0))
        }
    }
}

/// Checks a webhook URL when it is saved: http or https, a host, no user information; an IP
/// literal must be public unless `allow_private`. Names are checked again when resolved.
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http and https URLs can receive webhooks".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("put no user or password in the URL".into());
    }
    let host = parsed.host().ok_or("the URL has no host")?;
    let literal = match host {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(name) => {
            if name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost") {
                Some(IpAddr::from([127, 0, 0, 1]))
            } else {
                None
            }
        }
    };
    if let Some(ip) = literal
        && !allow_private
        && !is_public(ip)
    {
        return Err(format!(
            "{ip} is not a public address (allow private webhook targets in the configuration \
             for on-premise receivers)"
        ));
    }
    Ok(parsed)
}

/// Resolves names to public addresses only, so the address checked is the one dialled.
#[derive(Debug)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = format!("{}:0", name.as_str());
            let found: Vec<SocketAddr> = tokio::net::lookup_host(host)
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Sends webhooks.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
    /// Why the guarded client could not be built (then nothing is sent).
    unusable: Option<String>,
}

impl Default for WebhookSender {
    /// Ten seconds per request; private targets refused. Should the HTTP client fail to
    /// build, every send fails rather than going out without the SSRF guards.
    fn default() -> Self {
        WebhookSender::new(Duration::from_secs(10), false).unwrap_or_else(|e| WebhookSender {
            client: reqwest::Client::new(),
            allow_private: false,
            unusable: Some(e.to_string()),
        })
    }
}

impl WebhookSender {
    /// A sender with `timeout` per request; `allow_private` lets webhooks reach private and
    /// loopback addresses (on-premise channel managers, tests).
    pub fn new(timeout: Duration, allow_private: bool) -> Result<Self, SendError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("bellhop-webhook/1");
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder
            .build()
            .map_err(|e| SendError::Permanent(format!("cannot build the HTTP client: {e}")))?;
        Ok(WebhookSender {
            client,
            allow_private,
            unusable: None,
        })
    }

    /// `url` checked against the SSRF rules, with a client that keeps them.
    fn checked(&self, url: &str) -> Result<reqwest::Url, SendError> {
        if let Some(why) = &self.unusable {
            return Err(SendError::Transient(format!("no HTTP client: {why}")));
        }
        check_url(url, self.allow_private).map_err(SendError::Permanent)
    }

    /// Sends one webhook signed at `unix_seconds`: `Ok` with the status line when the receiver
    /// answered 2xx; 408, 425, 429 and 5xx and network errors are transient; other answers
    /// are permanent (the receiver refuses it).
    pub async fn send(
        &self,
        request: &WebhookRequest,
        unix_seconds: i64,
    ) -> Result<String, SendError> {
        let url = check_url(&request.url, self.allow_private).map_err(SendError::Permanent)?;
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                sign(&request.secret, unix_seconds, &request.body),
            )
            .header(DELIVERY_HEADER, &request.delivery_id)
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("webhook not delivered: {e}")))?;
        let status = response.status();
        // The receiver's body is not echoed anywhere: it is another party's input.
        if status.is_success() {
            return Ok(format!("HTTP {}", status.as_u16()));
        }
        let message = format!("the channel answered HTTP {}", status.as_u16());
        if status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429) {
            Err(SendError::Transient(message))
        } else {
            Err(SendError::Permanent(message))
        }
    }

    /// POSTs a multipart form with HTTP Basic and the AlpineBits headers; answers the body
    /// of a 2xx (at most `max` bytes).
    pub(crate) async fn post_form(
        &self,
        url: &str,
        user: &str,
        password: &str,
        boundary: &str,
        body: String,
        max: usize,
    ) -> Result<String, SendError> {
        let url = self.checked(url)?;
        let response = self
            .client
            .post(url)
            .basic_auth(user, Some(password))
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(
                "X-AlpineBits-ClientProtocolVersion",
                crate::alpinebits::CLIENT_VERSION,
            )
            .header("X-AlpineBits-ClientID", crate::alpinebits::CLIENT_ID)
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("the channel cannot be reached: {e}")))?;
        let status = response.status();
        if response.content_length().is_some_and(|n| n as usize > max) {
            return Err(SendError::Transient(format!(
                "the channel's answer is larger than {max} bytes"
            )));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SendError::Transient(format!("the channel's answer broke off: {e}")))?;
        if bytes.len() > max {
            return Err(SendError::Transient(format!(
                "the channel's answer is larger than {max} bytes"
            )));
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if !status.is_success() || text.trim_start().starts_with("ERROR") {
            let first: String = text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            let message = format!("the channel answered HTTP {}: {first}", status.as_u16());
            return Err(if status.is_server_error() {
                SendError::Transient(message)
            } else {
                SendError::Permanent(message)
            });
        }
        Ok(text)
    }

    /// Sends each webhook, up to `concurrency` at once, in order of the answers given back.
    pub async fn send_many(
        &self,
        requests: &[WebhookRequest],
        unix_seconds: i64,
        concurrency: usize,
    ) -> Vec<Result<String, SendError>> {
        use futures_util::StreamExt;
        // Built first, as in `SmsGateway::send_many` (rust-lang/rust#102211).
        let sends: Vec<_> = requests
            .iter()
            .map(|r| Box::pin(self.send(r, unix_seconds)))
            .collect();
        futures_util::stream::iter(sends)
            .buffered(concurrency.max(1))
            .collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_within_the_replay_window_only() {
        let header = sign("s3cret", 1_000_000, "{\"a\":1}");
        assert_eq!(verify("s3cret", &header, "{\"a\":1}", 1_000_100), Ok(()));
        assert!(verify("s3cret", &header, "{\"a\":2}", 1_000_100).is_err());
        assert!(verify("other", &header, "{\"a\":1}", 1_000_100).is_err());
        assert!(verify("s3cret", &header, "{\"a\":1}", 1_000_000 + 301).is_err());
        assert!(verify("s3cret", "garbage", "{\"a\":1}", 1_000_000).is_err());
    }

    #[test]
    fn webhook_urls_to_private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1/hook",
            "http://localhost:8080/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://100.64.0.1/",
            "http://192.168.0.1/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
        ] {
            assert!(check_url(url, false).is_err(), "{url} accepted");
            assert!(check_url(url, true).is_ok(), "{url} refused when allowed");
        }
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://user:pw@example.com/",
            "http://[example.com]/",
        ] {
            assert!(check_url(url, true).is_err(), "{url} accepted");
        }
        assert!(check_url("https://channel.example.com/bellhop", false).is_ok());
        assert!(check_url("http://93.184.216.34/hook", false).is_ok());
    }

    /// A listener on 127.0.0.1 that answers every request with `answer` and counts them.
    async fn listener(
        answer: &'static str,
    ) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = socket.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = socket.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (port, seen)
    }

    fn hook(url: String) -> WebhookRequest {
        WebhookRequest {
            url,
            body: "{}".into(),
            secret: "s".into(),
            delivery_id: "d".into(),
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_never_dialled() {
        let (port, seen) = listener("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
        let sender = WebhookSender::new(Duration::from_secs(2), false).unwrap();
        // "localhost." passes the check at save (a name), and resolves to 127.0.0.1.
        let err = sender
            .send(&hook(format!("http://localhost.:{port}/hook")), 0)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not delivered"), "{err}");
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let (target, reached) = listener("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
        let redirect: &'static str = Box::leak(
            format!("HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{target}/\r\ncontent-length: 0\r\n\r\n")
                .into_boxed_str(),
        );
        let (port, _) = listener(redirect).await;
        let sender = WebhookSender::new(Duration::from_secs(2), true).unwrap();
        let err = sender
            .send(&hook(format!("http://127.0.0.1:{port}/hook")), 0)
            .await
            .unwrap_err();
        assert!(
            matches!(err, SendError::Permanent(ref m) if m.contains("302")),
            "{err}"
        );
        assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
