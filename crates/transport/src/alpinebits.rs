//! An AlpineBits HotelData client: one request (`action` and `request` as multipart form
//! fields, HTTP Basic, the protocol headers) to a channel's server, answered with XML.

use crate::SendError;
use crate::ssrf::OutboundPolicy;
use crate::webhook::WebhookSender;
use std::time::Duration;

/// The protocol version bellhop speaks as a client.
pub const CLIENT_VERSION: &str = "2022-10";
/// How bellhop names itself (`X-AlpineBits-ClientID`).
pub const CLIENT_ID: &str = "bellhop";
/// Largest answer read.
pub const MAX_ANSWER: usize = 5 * 1024 * 1024;

/// Sends AlpineBits requests: redirects off, private targets refused unless allowed, as
/// for webhooks.
#[derive(Clone, Debug)]
pub struct AlpineBitsClient {
    http: WebhookSender,
}

impl AlpineBitsClient {
    /// A client with `timeout` per request, reaching only what `targets` permits.
    pub fn new(timeout: Duration, targets: OutboundPolicy) -> Result<Self, SendError> {
        Ok(AlpineBitsClient {
            http: WebhookSender::new(timeout, targets)?,
        })
    }

    /// Sends `request` as `action` to `url` and answers the server's XML; an `ERROR:` answer
    /// or a non-2xx status is an error naming it.
    pub async fn exchange(
        &self,
        url: &str,
        user: &str,
        password: &str,
        action: &str,
        request: &str,
    ) -> Result<String, SendError> {
        let boundary = format!("bellhop-{}", uuid::Uuid::new_v4().simple());
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\n{action}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"request\"\r\n\
             Content-Type: text/xml; charset=utf-8\r\n\r\n{request}\r\n--{boundary}--\r\n"
        );
        self.http
            .post_form(url, user, password, &boundary, body, MAX_ANSWER)
            .await
    }
}
