//! Kannel's `sendsms` HTTP interface (smsbox). The text goes as UTF-8 with `coding=0` (Kannel
//! converts to GSM-7 for the SMSC) or `coding=2` (UCS-2); `dlr-mask=31` asks for every
//! delivery report, each sent to a `dlr-url` that carries bellhop's message id and a token —
//! Kannel's own ids differ between the SMSC's first and final report.

use super::{OutgoingSms, exchange};
use crate::SendError;
use crate::callbacks::Callbacks;
use std::time::Duration;

/// Where smsbox listens and how to log in.
#[derive(Clone, Debug)]
pub struct KannelConfig {
    /// The sendsms URL, such as `http://127.0.0.1:13013/cgi-bin/sendsms`.
    pub url: String,
    /// `sendsms-user` name.
    pub username: String,
    /// Its password (never printed).
    pub password: secrecy::SecretString,
    /// Route through this SMSC (`smsc-id`), if set.
    pub smsc: Option<String>,
    /// Timeout per request.
    pub timeout: Duration,
}

/// The path of Kannel delivery reports under the public URL.
pub const KANNEL_DLR_PATH: &str = "/callbacks/sms/kannel/dlr";

/// A Kannel smsbox client.
#[derive(Debug)]
pub struct KannelGateway {
    config: KannelConfig,
    client: reqwest::Client,
    callbacks: Callbacks,
}

impl KannelGateway {
    /// A client; nothing is contacted until the first send.
    pub fn new(config: KannelConfig, callbacks: Callbacks) -> Result<Self, SendError> {
        Ok(KannelGateway {
            client: super::http_client(config.timeout)?,
            config,
            callbacks,
        })
    }

    pub(crate) async fn send(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        // %d: report type, %A: the SMSC's answer, %T: when; Kannel fills them in.
        let dlr_url = format!(
            "{}&type=%d&reply=%A&ts=%T",
            self.callbacks.delivery_url(KANNEL_DLR_PATH, sms.message_id)
        );
        let mut query: Vec<(&str, String)> = vec![
            ("username", self.config.username.clone()),
            (
                "password",
                secrecy::ExposeSecret::expose_secret(&self.config.password).to_owned(),
            ),
            ("from", sms.from.clone()),
            ("to", sms.to.clone()),
            ("text", sms.text.clone()),
            ("charset", "UTF-8".into()),
            ("coding", if sms.unicode { "2" } else { "0" }.into()),
            ("dlr-mask", "31".into()),
            ("dlr-url", dlr_url),
        ];
        if let Some(smsc) = &self.config.smsc {
            query.push(("smsc", smsc.clone()));
        }
        exchange(self.client.get(&self.config.url).query(&query)).await?;
        // "0: Accepted for delivery" or "3: Queued for later delivery"; Kannel returns no id.
        Ok(format!("kannel:{}", sms.message_id))
    }
}
