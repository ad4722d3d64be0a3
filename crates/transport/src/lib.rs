//! Delivery adapters. Email goes over SMTP (pooled, reused, no-delay connections; optional
//! STARTTLS, implicit TLS and AUTH) or into a folder of `.eml` files, the embedded default that
//! lets a newcomer read every mail without a server. SMS go to Kannel, a Twilio-compatible
//! API, a generic HTTP provider or a folder; landlines get a voice call (`sms`).
#![deny(missing_docs)]

pub mod alpinebits;
pub mod callbacks;
mod eml;
pub mod imap;
mod mime;
pub mod sms;
mod smtp;
pub mod ssrf;
pub mod webhook;

pub use eml::EmlFolder;
pub use mime::{AutoReply, OutgoingEmail, Unsubscribe, format_email};
pub use smtp::{SmtpConfig, SmtpTls, SmtpTransport};

/// Why a send failed, split by what the dispatcher should do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later: SMTP 4xx, timeouts, refused or broken connections.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Do not retry: SMTP 5xx, invalid addresses.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// An email transport chosen by configuration.
#[derive(Debug)]
pub enum EmailTransport {
    /// SMTP relay.
    Smtp(SmtpTransport),
    /// Folder of `.eml` files.
    Folder(EmlFolder),
    /// Accepts every message at once and keeps nothing: measures the outbox alone
    /// (`bench/drain`). Never configured for a real installation.
    Discard,
}

impl EmailTransport {
    /// Sends many emails; results in the same order. SMTP spreads them over its pool and
    /// pipelines each connection's share.
    pub async fn send_many(&self, emails: &[OutgoingEmail]) -> Vec<Result<String, SendError>> {
        match self {
            EmailTransport::Smtp(smtp) => {
                let formatted: Vec<Result<mime::Formatted, SendError>> =
                    emails.iter().map(format_email).collect();
                let ready: Vec<&mime::Formatted> =
                    formatted.iter().filter_map(|f| f.as_ref().ok()).collect();
                let mut sent = smtp.send_batch(&ready).await.into_iter();
                formatted
                    .into_iter()
                    .map(|f| {
                        let f = f?;
                        sent.next()
                            .unwrap_or_else(|| Err(SendError::Transient("not attempted".into())))?;
                        Ok(f.message_id)
                    })
                    .collect()
            }
            EmailTransport::Folder(folder) => {
                let mut out = Vec::with_capacity(emails.len());
                for email in emails {
                    out.push(match format_email(email) {
                        Ok(f) => folder
                            .write(email.message_id, &f.bytes)
                            .await
                            .map(|()| f.message_id),
                        Err(e) => Err(e),
                    });
                }
                out
            }
            EmailTransport::Discard => emails
                .iter()
                .map(|e| Ok(format!("<{}@discard.invalid>", e.message_id)))
                .collect(),
        }
    }

    /// Closes pooled connections politely.
    pub async fn close(&self) {
        if let EmailTransport::Smtp(smtp) = self {
            smtp.close().await;
        }
    }
}
