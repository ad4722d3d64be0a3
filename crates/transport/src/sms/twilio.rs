//! A Twilio-compatible REST API: `Messages.json` for SMS and `Calls.json` with `<Say>` for
//! landlines, HTTP basic auth with the account SID and token, a `StatusCallback` per message
//! (verified by `X-Twilio-Signature` when it comes back), and bellhop's message id as the
//! idempotency token, so a repeat after a crash is not sent twice by the provider.

use super::{OutgoingCall, OutgoingSms, exchange};
use crate::SendError;
use crate::callbacks::Callbacks;
use std::time::Duration;

/// Account and endpoint.
#[derive(Clone, Debug)]
pub struct TwilioConfig {
    /// API base, `https://api.twilio.com` (or a compatible provider's).
    pub base_url: String,
    /// Account SID.
    pub account_sid: String,
    /// Auth token (also the key of the callback signatures).
    pub auth_token: secrecy::SecretString,
    /// Send through a messaging service instead of a sender number or name.
    pub messaging_service_sid: Option<String>,
    /// Caller id for voice calls when the property's sender is a name.
    pub voice_from: Option<String>,
    /// Timeout per request.
    pub timeout: Duration,
}

/// The path of SMS status callbacks under the public URL.
pub const TWILIO_STATUS_PATH: &str = "/callbacks/sms/twilio/status";
/// The path of voice status callbacks under the public URL.
pub const TWILIO_CALL_STATUS_PATH: &str = "/callbacks/voice/twilio/status";

/// A Twilio-compatible client.
#[derive(Debug)]
pub struct TwilioGateway {
    config: TwilioConfig,
    client: reqwest::Client,
    callbacks: Callbacks,
}

/// Escapes text for an XML text node.
fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A speech language Twilio knows for a BCP 47 tag: `de` → `de-DE`.
fn say_language(tag: &str) -> String {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("en")
        .to_ascii_lowercase();
    if tag.len() == 5 {
        return tag.replace('_', "-");
    }
    match primary.as_str() {
        "de" => "de-DE",
        "en" => "en-GB",
        "fr" => "fr-FR",
        "it" => "it-IT",
        "es" => "es-ES",
        "nl" => "nl-NL",
        "pl" => "pl-PL",
        "cs" => "cs-CZ",
        _ => "en-US",
    }
    .to_owned()
}

impl TwilioGateway {
    /// A client; nothing is contacted until the first send.
    pub fn new(config: TwilioConfig, callbacks: Callbacks) -> Result<Self, SendError> {
        Ok(TwilioGateway {
            client: super::http_client(config.timeout)?,
            config,
            callbacks,
        })
    }

    /// The auth token, which also signs Twilio's callbacks.
    pub fn auth_token(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.config.auth_token)
    }

    async fn post(
        &self,
        resource: &str,
        idempotency: &str,
        form: &[(&str, String)],
    ) -> Result<String, SendError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{resource}.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account_sid
        );
        let request = self
            .client
            .post(url)
            .basic_auth(
                &self.config.account_sid,
                Some(secrecy::ExposeSecret::expose_secret(
                    &self.config.auth_token,
                )),
            )
            .header("I-Twilio-Idempotency-Token", idempotency)
            .form(form);
        let body = exchange(request).await?;
        let sid = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("sid").and_then(|s| s.as_str()).map(str::to_owned))
            .ok_or_else(|| {
                SendError::Transient(format!("the gateway's answer has no sid: {body:.200}"))
            })?;
        Ok(sid)
    }

    pub(crate) async fn send(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        let mut form: Vec<(&str, String)> = vec![
            ("To", sms.to.clone()),
            ("Body", sms.text.clone()),
            (
                "StatusCallback",
                self.callbacks
                    .delivery_url(TWILIO_STATUS_PATH, sms.message_id),
            ),
        ];
        match &self.config.messaging_service_sid {
            Some(service) => form.push(("MessagingServiceSid", service.clone())),
            None => form.push(("From", sms.from.clone())),
        }
        self.post("Messages", &sms.message_id.to_string(), &form)
            .await
    }

    pub(crate) async fn call(&self, call: &OutgoingCall) -> Result<String, SendError> {
        let from = call
            .from
            .clone()
            .or_else(|| self.config.voice_from.clone())
            .ok_or_else(|| SendError::Permanent(super::folder::NO_CALLER_ID.into()))?;
        let twiml = format!(
            "<Response><Say language=\"{}\">{}</Say><Pause length=\"1\"/><Say language=\"{}\">{}</Say></Response>",
            say_language(&call.language),
            xml_text(&call.text),
            say_language(&call.language),
            xml_text(&call.text),
        );
        let form: Vec<(&str, String)> = vec![
            ("To", call.to.clone()),
            ("From", from),
            ("Twiml", twiml),
            (
                "StatusCallback",
                self.callbacks
                    .delivery_url(TWILIO_CALL_STATUS_PATH, call.message_id),
            ),
            ("StatusCallbackEvent", "completed".into()),
        ];
        self.post("Calls", &call.message_id.to_string(), &form)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_languages_and_xml_are_safe() {
        assert_eq!(say_language("de"), "de-DE");
        assert_eq!(say_language("de-AT"), "de-AT");
        assert_eq!(say_language("xx"), "en-US");
        assert_eq!(xml_text("a < b & </Say>"), "a &lt; b &amp; &lt;/Say&gt;");
    }
}
