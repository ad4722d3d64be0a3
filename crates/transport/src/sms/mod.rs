//! SMS and voice gateways: Kannel's `sendsms` HTTP interface, a Twilio-compatible REST API,
//! a generic HTTP provider configured by URL, method and body template, and a folder of
//! `.sms.json` files (the embedded default, like the `.eml` folder).
//!
//! Every message carries bellhop's own id into the gateway — in Kannel's `dlr-url`, in
//! Twilio's `StatusCallback` and idempotency token — because gateway ids are not stable
//! across callbacks, and so that a repeat after a crash is recognisable.

mod folder;
mod generic;
mod kannel;
mod twilio;

pub use folder::{NO_CALLER_ID, SmsFolder};
pub use generic::{GenericConfig, GenericGateway};
pub use kannel::{KannelConfig, KannelGateway};
pub use twilio::{TwilioConfig, TwilioGateway};

use crate::SendError;
use futures_util::StreamExt;
use std::time::Duration;
use uuid::Uuid;

/// An SMS ready to go.
#[derive(Clone, Debug)]
pub struct OutgoingSms {
    /// bellhop's message id.
    pub message_id: Uuid,
    /// Sender name or E.164 number.
    pub from: String,
    /// E.164 recipient.
    pub to: String,
    /// The text (already smart-encoded where that applied).
    pub text: String,
    /// UCS-2 rather than GSM-7.
    pub unicode: bool,
    /// Parts it is billed as.
    pub parts: usize,
}

/// A text read out in a voice call (landlines).
#[derive(Clone, Debug)]
pub struct OutgoingCall {
    /// bellhop's message id.
    pub message_id: Uuid,
    /// Caller id (E.164), when the property has a numeric sender.
    pub from: Option<String>,
    /// E.164 landline.
    pub to: String,
    /// What is read out.
    pub text: String,
    /// BCP 47 language of the text (`de`, `de-AT`), for the speech voice.
    pub language: String,
}

/// An SMS gateway chosen by configuration.
#[derive(Debug)]
pub enum SmsGateway {
    /// No gateway: every SMS fails (for installations that only email).
    None,
    /// `.sms.json` files.
    Folder(SmsFolder),
    /// Kannel's sendsms interface.
    Kannel(KannelGateway),
    /// A Twilio-compatible REST API.
    Twilio(TwilioGateway),
    /// A provider configured by URL, method and body template.
    Generic(Box<GenericGateway>),
}

impl SmsGateway {
    /// The gateway's name, as recorded in the history.
    pub fn name(&self) -> &'static str {
        match self {
            SmsGateway::None => "none",
            SmsGateway::Folder(_) => "folder",
            SmsGateway::Kannel(_) => "kannel",
            SmsGateway::Twilio(_) => "twilio",
            SmsGateway::Generic(_) => "http",
        }
    }

    /// Sends one SMS; `Ok` carries the gateway's reference.
    pub async fn send(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        match self {
            SmsGateway::None => Err(SendError::Permanent(
                "no SMS gateway is configured (sms.gateway)".into(),
            )),
            SmsGateway::Folder(g) => g.send(sms).await,
            SmsGateway::Kannel(g) => g.send(sms).await,
            SmsGateway::Twilio(g) => g.send(sms).await,
            SmsGateway::Generic(g) => g.send(sms).await,
        }
    }

    /// Sends many, `concurrency` at a time; results in the same order.
    pub async fn send_many(
        &self,
        messages: &[OutgoingSms],
        concurrency: usize,
    ) -> Vec<Result<String, SendError>> {
        // The futures are built first: a stream over a borrowing closure would make the
        // dispatcher's future lose `Send` (rust-lang/rust#102211).
        let sends: Vec<_> = messages.iter().map(|m| Box::pin(self.send(m))).collect();
        futures_util::stream::iter(sends)
            .buffered(concurrency.max(1))
            .collect()
            .await
    }
}

/// A voice gateway for landlines.
#[derive(Debug)]
pub enum VoiceGateway {
    /// No voice calls: landlines are suppressed even where a property enabled voice.
    None,
    /// `.call.json` files.
    Folder(SmsFolder),
    /// A Twilio-compatible Calls API with `<Say>`.
    Twilio(TwilioGateway),
}

impl VoiceGateway {
    /// Whether calls can be placed at all.
    pub fn is_available(&self) -> bool {
        !matches!(self, VoiceGateway::None)
    }

    /// Places one call; `Ok` carries the gateway's reference.
    pub async fn call(&self, call: &OutgoingCall) -> Result<String, SendError> {
        match self {
            VoiceGateway::None => Err(SendError::Permanent(
                "no voice gateway is configured (voice.gateway)".into(),
            )),
            VoiceGateway::Folder(f) => f.call(call).await,
            VoiceGateway::Twilio(t) => t.call(call).await,
        }
    }

    /// Places many, `concurrency` at a time; results in the same order.
    pub async fn call_many(
        &self,
        calls: &[OutgoingCall],
        concurrency: usize,
    ) -> Vec<Result<String, SendError>> {
        let calls: Vec<_> = calls.iter().map(|c| Box::pin(self.call(c))).collect();
        futures_util::stream::iter(calls)
            .buffered(concurrency.max(1))
            .collect()
            .await
    }
}

/// The HTTP client every gateway uses: rustls with the ring provider (the one lettre already
/// brings), the system's roots, and a timeout per request.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, SendError> {
    // Installing the process-wide provider fails harmlessly when one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| SendError::Permanent(format!("cannot build the HTTP client: {e}")))
}

/// Sends a gateway request and reads its answer: the body of a 2xx, or the error its status
/// means.
pub(crate) async fn exchange(request: reqwest::RequestBuilder) -> Result<String, SendError> {
    let response = request.send().await.map_err(network_error)?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    classify_status(status, &body)?;
    Ok(body)
}

/// How an HTTP status from a gateway is to be taken: 2xx success, 408/429/5xx try again
/// later, any other 4xx is final.
fn classify_status(status: reqwest::StatusCode, body: &str) -> Result<(), SendError> {
    let snippet: String = body.chars().take(300).collect();
    if status.is_success() {
        Ok(())
    } else if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
        Err(SendError::Transient(format!(
            "gateway answered {status}: {snippet}"
        )))
    } else {
        Err(SendError::Permanent(format!(
            "gateway answered {status}: {snippet}"
        )))
    }
}

/// A failed request (connection refused, timeout) is worth another try.
fn network_error(e: reqwest::Error) -> SendError {
    SendError::Transient(format!("gateway unreachable: {e}"))
}
