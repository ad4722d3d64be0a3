//! Signed webhooks to booking channels: `POST` of a JSON body with
//! `Bellhop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<body>">` (the receiver
//! refuses a signature older than its replay window), never following redirects, and only to
//! the addresses the operator's [`OutboundPolicy`] permits (SSRF).

use crate::SendError;
use crate::ssrf::OutboundPolicy;
use hmac::{KeyInit, Mac};
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

/// Sends webhooks.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    targets: OutboundPolicy,
    /// Why the guarded client could not be built (then nothing is sent).
    unusable: Option<String>,
}

impl Default for WebhookSender {
    /// Ten seconds per request; private targets refused. Should the HTTP client fail to
    /// build, every send fails rather than going out without the SSRF guards.
    fn default() -> Self {
        WebhookSender::new(Duration::from_secs(10), OutboundPolicy::public_only()).unwrap_or_else(
            |e| WebhookSender {
                client: reqwest::Client::new(),
                targets: OutboundPolicy::public_only(),
                unusable: Some(e.to_string()),
            },
        )
    }
}

impl WebhookSender {
    /// A sender with `timeout` per request that reaches only the addresses `targets` permits,
    /// checked on every address a name resolves to.
    pub fn new(timeout: Duration, targets: OutboundPolicy) -> Result<Self, SendError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("bellhop-webhook/1")
            .dns_resolver(targets.resolver());
        let client = builder
            .build()
            .map_err(|e| SendError::Permanent(format!("cannot build the HTTP client: {e}")))?;
        Ok(WebhookSender {
            client,
            targets,
            unusable: None,
        })
    }

    /// `url` checked against the SSRF rules, with a client that keeps them.
    fn checked(&self, url: &str) -> Result<reqwest::Url, SendError> {
        if let Some(why) = &self.unusable {
            return Err(SendError::Transient(format!("no HTTP client: {why}")));
        }
        self.targets.check_url(url).map_err(SendError::Permanent)
    }

    /// Sends one webhook signed at `unix_seconds`: `Ok` with the status line when the receiver
    /// answered 2xx; 408, 425, 429 and 5xx and network errors are transient; other answers
    /// are permanent (the receiver refuses it).
    pub async fn send(
        &self,
        request: &WebhookRequest,
        unix_seconds: i64,
    ) -> Result<String, SendError> {
        let url = self.checked(&request.url)?;
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
        let sender =
            WebhookSender::new(Duration::from_secs(2), OutboundPolicy::public_only()).unwrap();
        // The machine's own name passes the check at save (a name, not `localhost`) and
        // resolves to a loopback or private address here.
        let name = crate::ssrf::tests::a_name_resolving_to_a_private_address().await;
        let err = sender
            .send(&hook(format!("http://{name}:{port}/hook")), 0)
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
        let sender =
            WebhookSender::new(Duration::from_secs(2), OutboundPolicy::anywhere()).unwrap();
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
