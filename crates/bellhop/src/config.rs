//! Configuration: defaults, then a TOML file, then `BELLHOP_*` environment variables
//! (`__` separates nesting: `BELLHOP_EMAIL__SMTP__HOST`). `bellhop serve` runs with none.

use anyhow::Context;
use bellhop_store::{Durability, StoreOptions};
use bellhop_transport::callbacks::Callbacks;
use bellhop_transport::sms::{
    GenericConfig, GenericGateway, KannelConfig, KannelGateway, SmsFolder, SmsGateway,
    TwilioConfig, TwilioGateway, VoiceGateway,
};
use bellhop_transport::ssrf::OutboundPolicy;
use bellhop_transport::{EmailTransport, EmlFolder, SmtpConfig, SmtpTls, SmtpTransport};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything bellhop can be told.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// A SQLite file (or `sqlite::memory:`) for one node, or a `postgres://` URL for any
    /// number of nodes.
    pub database: String,
    /// Address the HTTP API (or, for workers, /healthz and /readyz) listens on.
    pub listen: String,
    /// What this node does.
    pub role: Role,
    /// Limits of the HTTP server.
    pub http: HttpConfig,
    /// Storage settings.
    pub store: StoreConfig,
    /// Email transport.
    pub email: EmailConfig,
    /// Dispatcher.
    pub dispatch: DispatchSettings,
    /// The URL gateways reach this installation at, for delivery reports and inbound SMS
    /// (default `http://<listen>`).
    pub public_url: Option<String>,
    /// SMS gateway.
    pub sms: SmsConfig,
    /// Voice calls for landlines.
    pub voice: VoiceConfig,
    /// Booking channels.
    pub channels: ChannelsConfig,
    /// Inbound mail for the autoresponder.
    pub inbound: InboundConfig,
    /// The staff web UI under `/app`.
    pub ui: UiConfig,
    /// Where targets that users name (webhooks, AlpineBits servers, IMAP hosts, logos) may be.
    pub outbound: OutboundConfig,
}

/// Outbound connections to targets a user names. Public addresses only, unless listed here.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    /// Private addresses and CIDR ranges these targets may also be in (`"10.20.0.0/16"`,
    /// `"127.0.0.1"`): an on-premise channel manager, a local IMAP server. Loopback,
    /// private, link-local, metadata (169.254.169.254) and multicast addresses are refused
    /// otherwise, as written and as resolved.
    pub allow: Vec<String>,
}

/// The staff web UI.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// The From address of staff mail (password reset links, template test sends go from
    /// the property's sender).
    pub mail_from: String,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            mail_from: "bellhop@localhost".into(),
        }
    }
}

/// The inbound SMTP listener of the autoresponder.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboundConfig {
    /// Address the SMTP listener binds (API nodes); empty switches it off.
    pub smtp_listen: String,
    /// The name in the SMTP greeting (default: the system's host name).
    pub hostname: Option<String>,
    /// Largest message in bytes, announced as SIZE and refused at MAIL and DATA.
    pub max_message_bytes: usize,
    /// Recipients per message.
    pub max_recipients: usize,
    /// Connections at once, and from one IP address.
    pub max_connections: usize,
    /// Connections at once from one IP address.
    pub max_connections_per_ip: usize,
    /// Messages one envelope sender may start per `sender_window_secs`.
    pub max_messages_per_sender: u32,
    /// The window of `max_messages_per_sender`.
    pub sender_window_secs: u64,
    /// Seconds a client may stay silent.
    pub idle_timeout_secs: u64,
    /// Seconds between looks at IMAP mailboxes (without IDLE), and the longest IDLE wait.
    pub imap_poll_secs: u64,
    /// Let IMAP mailboxes be on any loopback or private host (on-premise servers, tests);
    /// `outbound.allow` names single ranges instead.
    pub allow_private_imap: bool,
    /// PEM certificate chain: with `tls_key`, the listener offers STARTTLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Default for InboundConfig {
    fn default() -> Self {
        let limits = crate::smtp_listener::ListenerLimits::default();
        InboundConfig {
            smtp_listen: "127.0.0.1:2525".into(),
            hostname: None,
            max_message_bytes: limits.session.max_message,
            max_recipients: limits.session.max_recipients,
            max_connections: limits.max_connections,
            max_connections_per_ip: limits.max_per_ip,
            max_messages_per_sender: limits.per_sender,
            sender_window_secs: limits.sender_window.as_secs(),
            idle_timeout_secs: limits.idle.as_secs(),
            imap_poll_secs: 60,
            allow_private_imap: false,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl InboundConfig {
    /// How this node watches IMAP mailboxes, on the hosts `targets` permits.
    pub fn imap_watch(
        &self,
        node: String,
        targets: OutboundPolicy,
    ) -> bellhop_engine::ImapWatchConfig {
        let every = Duration::from_secs(self.imap_poll_secs.clamp(1, 3_600));
        bellhop_engine::ImapWatchConfig {
            node,
            every,
            // Renewed after every look; a dead node's mailboxes move on after this.
            lease: (every * 3).max(Duration::from_secs(60)),
            targets,
            timeout: Duration::from_secs(30),
            max_bytes: self.max_message_bytes,
        }
    }

    /// The listener's limits, with its STARTTLS certificate when one is configured.
    pub fn limits(&self) -> anyhow::Result<crate::smtp_listener::ListenerLimits> {
        let defaults = crate::smtp_listener::ListenerLimits::default();
        let hostname = self.hostname.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty() && h.is_ascii())
                .unwrap_or_else(|| "localhost".into())
        });
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::smtp_listener::tls_acceptor(cert, key)?),
            (None, None) => None,
            _ => anyhow::bail!("inbound.tls_cert and inbound.tls_key go together"),
        };
        Ok(crate::smtp_listener::ListenerLimits {
            hostname,
            tls,
            session: bellhop_inbound::session::SessionLimits {
                max_message: self.max_message_bytes,
                max_recipients: self.max_recipients,
                ..defaults.session
            },
            idle: Duration::from_secs(self.idle_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            max_per_ip: self.max_connections_per_ip.max(1),
            per_sender: self.max_messages_per_sender,
            sender_window: Duration::from_secs(self.sender_window_secs.max(1)),
            ..defaults
        })
    }
}

/// Booking channels: where their webhooks may go.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    /// Let webhooks and AlpineBits requests reach any private, loopback or link-local
    /// address (tests); `outbound.allow` names single ranges instead. Off: such URLs are
    /// refused when saved and when resolved (SSRF).
    pub allow_private_webhooks: bool,
    /// Seconds a channel has to answer a webhook.
    pub webhook_timeout_secs: u64,
}

impl Default for ChannelsConfig {
    fn default() -> Self {
        ChannelsConfig {
            allow_private_webhooks: false,
            webhook_timeout_secs: 10,
        }
    }
}

impl ChannelsConfig {
    /// The webhook sender these settings describe, reaching what `targets` permits.
    pub fn webhook_sender(
        &self,
        targets: OutboundPolicy,
    ) -> anyhow::Result<bellhop_transport::webhook::WebhookSender> {
        Ok(bellhop_transport::webhook::WebhookSender::new(
            Duration::from_secs(self.webhook_timeout_secs.max(1)),
            targets,
        )?)
    }
}

/// Limits of the HTTP server: slow or idle clients are cut off, and connections are capped.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Seconds a client has to send a request's head (and a kept-alive connection may idle).
    pub header_read_timeout_secs: u64,
    /// Seconds for a whole request, body and answer included.
    pub request_timeout_secs: u64,
    /// Connections open at once; more are closed on accept.
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_read_timeout_secs: 10,
            request_timeout_secs: 120,
            max_connections: 1024,
        }
    }
}

impl HttpConfig {
    /// The server's limits.
    pub fn limits(&self) -> crate::http::HttpLimits {
        crate::http::HttpLimits {
            header_read: Duration::from_secs(self.header_read_timeout_secs),
            request: Duration::from_secs(self.request_timeout_secs),
            max_connections: self.max_connections,
        }
    }
}

/// Which SMS gateway, and its settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// `folder` (default: `.sms.json` files), `kannel`, `twilio` or `http`.
    pub gateway: SmsGatewayKind,
    /// Folder for `.sms.json` files.
    pub folder: PathBuf,
    /// SMS handed to the gateway at once.
    pub concurrency: usize,
    /// Seconds per gateway request.
    pub timeout_secs: u64,
    /// Kannel smsbox.
    pub kannel: KannelSettings,
    /// Twilio-compatible API.
    pub twilio: TwilioSettings,
    /// Generic HTTP provider.
    pub http: GenericSettings,
}

/// SMS gateway kinds.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmsGatewayKind {
    /// `.sms.json` files.
    Folder,
    /// Kannel's sendsms.
    Kannel,
    /// A Twilio-compatible API.
    Twilio,
    /// A generic HTTP provider.
    Http,
}

/// Kannel settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KannelSettings {
    /// smsbox's sendsms URL.
    pub url: String,
    /// `sendsms-user` name.
    pub username: String,
    /// Its password (prefer the environment variable; never printed).
    #[serde(skip_serializing)]
    pub password: SecretString,
    /// Route through this `smsc-id`.
    pub smsc: Option<String>,
    /// The token Kannel's MO `get-url` carries; without one the installation's own
    /// (`bellhop sms kannel-config` prints it).
    pub mo_token: Option<String>,
}

/// Twilio-compatible API settings (also used for voice calls).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwilioSettings {
    /// API base.
    pub base_url: String,
    /// Account SID.
    pub account_sid: String,
    /// Auth token (prefer the environment variable).
    #[serde(skip_serializing)]
    pub auth_token: Option<SecretString>,
    /// Send through this messaging service.
    pub messaging_service_sid: Option<String>,
}

/// Generic HTTP provider settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenericSettings {
    /// Endpoint (a template).
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Extra headers.
    pub headers: BTreeMap<String, String>,
    /// Content type of the body.
    pub content_type: String,
    /// Body template (`{{ to }}`, `{{ text | json }}`, `{{ callback_url }}`, ...).
    pub body: Option<String>,
    /// JSON pointer to the provider's id in its answer.
    pub id_pointer: Option<String>,
}

/// Voice settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceConfig {
    /// `none`, `folder` (default: `.call.json` files) or `twilio` (uses `sms.twilio`).
    pub gateway: VoiceGatewayKind,
    /// Folder for `.call.json` files.
    pub folder: PathBuf,
    /// Caller id for properties whose SMS sender is a name.
    pub from: Option<String>,
}

/// Voice gateway kinds.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VoiceGatewayKind {
    /// No calls: landlines are suppressed.
    None,
    /// `.call.json` files.
    Folder,
    /// Twilio-compatible Calls API.
    Twilio,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            gateway: SmsGatewayKind::Folder,
            folder: "outbox-sms".into(),
            concurrency: 16,
            timeout_secs: 15,
            kannel: KannelSettings::default(),
            twilio: TwilioSettings::default(),
            http: GenericSettings::default(),
        }
    }
}

impl Default for KannelSettings {
    fn default() -> Self {
        KannelSettings {
            url: "http://127.0.0.1:13013/cgi-bin/sendsms".into(),
            username: String::new(),
            password: SecretString::from(String::new()),
            smsc: None,
            mo_token: None,
        }
    }
}

impl Default for TwilioSettings {
    fn default() -> Self {
        TwilioSettings {
            base_url: "https://api.twilio.com".into(),
            account_sid: String::new(),
            auth_token: None,
            messaging_service_sid: None,
        }
    }
}

impl Default for GenericSettings {
    fn default() -> Self {
        GenericSettings {
            url: String::new(),
            method: "POST".into(),
            headers: BTreeMap::new(),
            content_type: "application/json".into(),
            body: None,
            id_pointer: None,
        }
    }
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            gateway: VoiceGatewayKind::Folder,
            folder: "outbox-voice".into(),
            from: None,
        }
    }
}

/// What a node does. Every role can run on any number of nodes at once.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// API, dispatcher and expiry sweep.
    #[default]
    All,
    /// The HTTP API only.
    Api,
    /// Dispatcher and expiry sweep, with /healthz and /readyz.
    Worker,
}

impl Role {
    /// Serves the HTTP API.
    pub fn api(self) -> bool {
        matches!(self, Role::All | Role::Api)
    }

    /// Sends due messages and expires lapsed options.
    pub fn worker(self) -> bool {
        matches!(self, Role::All | Role::Worker)
    }
}

/// Storage settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite: `full` (default: every commit synced) or `normal`. PostgreSQL follows the
    /// server's `synchronous_commit`.
    pub durability: Durability,
    /// Pooled connections per node.
    pub max_connections: u32,
    /// How long a statement waits for a lock before it fails, in milliseconds.
    pub lock_timeout_ms: u64,
}

/// Which email transport, and its settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// `folder` (default) or `smtp`.
    pub transport: TransportKind,
    /// Folder for `.eml` files.
    pub folder: PathBuf,
    /// SMTP relay.
    pub smtp: SmtpSettings,
}

/// Transport kinds.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// `.eml` files.
    Folder,
    /// SMTP.
    Smtp,
}

/// SMTP settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: SmtpTls,
    /// AUTH user.
    pub username: Option<String>,
    /// AUTH password (prefer the environment variable; never printed).
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// Connections.
    pub pool_size: usize,
    /// Seconds per SMTP exchange.
    pub timeout_secs: u64,
    /// EHLO name.
    pub hello_name: String,
}

/// Dispatcher settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatchSettings {
    /// Messages per batch.
    pub batch_size: i64,
    /// Seconds a claim holds.
    pub lease_secs: i64,
    /// Longest idle wait, in milliseconds.
    pub poll_ms: u64,
    /// Keep rendered bodies of sent messages.
    pub retain_bodies: bool,
    /// Delete kept bodies this many days after they were sent (the messages and their
    /// history stay); none: keep them.
    pub retain_bodies_days: Option<u32>,
    /// Dispatch loops per node: while one records its batch, another sends.
    pub workers: usize,
    /// This node's name in leases and logs (default: host name and process id).
    pub node: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database: "bellhop.db".into(),
            listen: "127.0.0.1:8080".into(),
            role: Role::All,
            http: HttpConfig::default(),
            store: StoreConfig::default(),
            email: EmailConfig::default(),
            dispatch: DispatchSettings::default(),
            public_url: None,
            sms: SmsConfig::default(),
            voice: VoiceConfig::default(),
            channels: ChannelsConfig::default(),
            inbound: InboundConfig::default(),
            ui: UiConfig::default(),
            outbound: OutboundConfig::default(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            durability: Durability::Full,
            max_connections: 8,
            lock_timeout_ms: 30_000,
        }
    }
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            transport: TransportKind::Folder,
            folder: "outbox".into(),
            smtp: SmtpSettings::default(),
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: 25,
            tls: SmtpTls::None,
            username: None,
            password: None,
            pool_size: 8,
            timeout_secs: 30,
            hello_name: "bellhop.localdomain".into(),
        }
    }
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            batch_size: 200,
            lease_secs: 60,
            poll_ms: 1000,
            retain_bodies: true,
            retain_bodies_days: None,
            workers: 3,
            node: None,
        }
    }
}

impl Config {
    /// Where webhooks, AlpineBits requests and logo URLs may go.
    pub fn webhook_targets(&self) -> anyhow::Result<OutboundPolicy> {
        Ok(self
            .outbound_allow()?
            .or_anywhere(self.channels.allow_private_webhooks))
    }

    /// Where IMAP mailboxes may be.
    pub fn imap_targets(&self) -> anyhow::Result<OutboundPolicy> {
        Ok(self
            .outbound_allow()?
            .or_anywhere(self.inbound.allow_private_imap))
    }

    fn outbound_allow(&self) -> anyhow::Result<OutboundPolicy> {
        OutboundPolicy::allowing(&self.outbound.allow)
            .map_err(|e| anyhow::anyhow!("outbound.allow: {e}"))
    }

    /// Loads defaults ← file ← environment. A named file must exist; `bellhop.toml` in the
    /// working directory is read when present.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "config file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None if Path::new("bellhop.toml").exists() => {
                figment = figment.merge(Toml::file("bellhop.toml"))
            }
            None => {}
        }
        // BELLHOP_LOG, BELLHOP_LOG_FORMAT and BELLHOP_CONFIG steer logging and the file name,
        // BELLHOP_TEST_* the test suite: none of them are settings.
        figment = figment.merge(
            Env::prefixed("BELLHOP_")
                .ignore(&["log", "log_format", "config"])
                .filter(|key| !key.as_str().to_ascii_lowercase().starts_with("test_"))
                .split("__"),
        );
        let config: Config = figment.extract().map_err(|e| {
            let all: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
            anyhow::anyhow!("invalid configuration:\n  {}", all.join("\n  "))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every setting and reports all that are wrong, each with its key, at once.
    fn validate(&self) -> anyhow::Result<()> {
        let mut wrong: Vec<String> = Vec::new();
        let mut check = |ok: bool, message: String| {
            if !ok {
                wrong.push(message);
            }
        };
        check(
            (1..=10_000).contains(&self.dispatch.batch_size),
            "dispatch.batch_size must be 1..=10000".into(),
        );
        check(
            (5..=86_400).contains(&self.dispatch.lease_secs),
            "dispatch.lease_secs must be 5..=86400".into(),
        );
        check(
            self.dispatch
                .retain_bodies_days
                .is_none_or(|d| (1..=36_500).contains(&d)),
            "dispatch.retain_bodies_days must be 1..=36500".into(),
        );
        check(
            (1..=256).contains(&self.email.smtp.pool_size),
            "email.smtp.pool_size must be 1..=256".into(),
        );
        check(
            (1..=16).contains(&self.dispatch.workers),
            "dispatch.workers must be 1..=16".into(),
        );
        check(
            (1..=1_000).contains(&self.store.max_connections),
            "store.max_connections must be 1..=1000".into(),
        );
        check(
            self.store.max_connections as usize > self.dispatch.workers,
            "store.max_connections must exceed dispatch.workers: each worker holds a connection \
             while its batch is sent, and the API needs one too"
                .into(),
        );
        check(
            (1..=512).contains(&self.sms.concurrency),
            "sms.concurrency must be 1..=512".into(),
        );
        check(
            (1..=300).contains(&self.http.header_read_timeout_secs),
            "http.header_read_timeout_secs must be 1..=300".into(),
        );
        check(
            (1..=3_600).contains(&self.http.request_timeout_secs),
            "http.request_timeout_secs must be 1..=3600".into(),
        );
        check(
            (1..=1_000_000).contains(&self.http.max_connections),
            "http.max_connections must be 1..=1000000".into(),
        );
        if let Some(url) = &self.public_url {
            check(
                url.starts_with("http://") || url.starts_with("https://"),
                format!("public_url = {url:?} must be an http:// or https:// URL"),
            );
        }
        let twilio_ready =
            !self.sms.twilio.account_sid.is_empty() && self.sms.twilio.auth_token.is_some();
        match self.sms.gateway {
            SmsGatewayKind::Kannel => check(
                !self.sms.kannel.username.is_empty(),
                "sms.kannel.username is needed for the Kannel gateway".into(),
            ),
            SmsGatewayKind::Twilio => check(
                twilio_ready,
                "sms.twilio.account_sid and sms.twilio.auth_token are needed for the Twilio gateway"
                    .into(),
            ),
            SmsGatewayKind::Http => check(
                !self.sms.http.url.is_empty(),
                "sms.http.url is needed for the HTTP gateway".into(),
            ),
            SmsGatewayKind::Folder => {}
        }
        if self.voice.gateway == VoiceGatewayKind::Twilio {
            check(
                twilio_ready,
                "voice.gateway = twilio needs sms.twilio.account_sid and sms.twilio.auth_token"
                    .into(),
            );
        }
        check(
            self.listen.parse::<std::net::SocketAddr>().is_ok(),
            format!(
                "listen = {:?} is not an address such as 127.0.0.1:8080",
                self.listen
            ),
        );
        if let Err(e) = OutboundPolicy::allowing(&self.outbound.allow) {
            check(false, format!("outbound.allow: {e}"));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("invalid configuration:\n  {}", wrong.join("\n  "))
        }
    }

    /// Store options.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.store.max_connections,
            durability: self.store.durability,
            busy_timeout: Duration::from_millis(self.store.lock_timeout_ms),
        }
    }

    /// The configured transport.
    pub fn transport(&self) -> anyhow::Result<EmailTransport> {
        Ok(match self.email.transport {
            TransportKind::Folder => EmailTransport::Folder(
                EmlFolder::new(&self.email.folder)
                    .with_context(|| format!("cannot create {}", self.email.folder.display()))?,
            ),
            TransportKind::Smtp => {
                let s = &self.email.smtp;
                EmailTransport::Smtp(SmtpTransport::new(SmtpConfig {
                    host: s.host.clone(),
                    port: s.port,
                    tls: s.tls,
                    username: s.username.clone(),
                    password: s.password.clone(),
                    pool_size: s.pool_size,
                    timeout: Duration::from_secs(s.timeout_secs),
                    hello_name: s.hello_name.clone(),
                }))
            }
        })
    }

    /// The staff UI's settings: staff mail through the configured email transport, cookies
    /// `Secure` when the public URL is `https://`.
    pub fn ui_settings(&self) -> anyhow::Result<bellhop_web::ui::UiSettings> {
        let public_url = self.public_url();
        Ok(bellhop_web::ui::UiSettings {
            mailer: Some(std::sync::Arc::new(self.transport()?)),
            mail_from: self.ui.mail_from.clone(),
            https: public_url.starts_with("https://"),
            public_url,
        })
    }

    /// Where gateways reach this installation.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    fn twilio(&self) -> TwilioConfig {
        let t = &self.sms.twilio;
        TwilioConfig {
            base_url: t.base_url.clone(),
            account_sid: t.account_sid.clone(),
            auth_token: t
                .auth_token
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            messaging_service_sid: t.messaging_service_sid.clone(),
            voice_from: self.voice.from.clone(),
            timeout: Duration::from_secs(self.sms.timeout_secs),
        }
    }

    /// The configured SMS gateway.
    pub fn sms_gateway(&self, callbacks: &Callbacks) -> anyhow::Result<SmsGateway> {
        let timeout = Duration::from_secs(self.sms.timeout_secs);
        let cb = callbacks.clone();
        Ok(match self.sms.gateway {
            SmsGatewayKind::Folder => SmsGateway::Folder(
                SmsFolder::new(&self.sms.folder)
                    .with_context(|| format!("cannot create {}", self.sms.folder.display()))?,
            ),
            SmsGatewayKind::Kannel => {
                let k = &self.sms.kannel;
                SmsGateway::Kannel(KannelGateway::new(
                    KannelConfig {
                        url: k.url.clone(),
                        username: k.username.clone(),
                        password: k.password.clone(),
                        smsc: k.smsc.clone(),
                        timeout,
                    },
                    cb,
                )?)
            }
            SmsGatewayKind::Twilio => SmsGateway::Twilio(TwilioGateway::new(self.twilio(), cb)?),
            SmsGatewayKind::Http => {
                let h = &self.sms.http;
                SmsGateway::Generic(Box::new(GenericGateway::new(
                    GenericConfig {
                        url: h.url.clone(),
                        method: h.method.clone(),
                        headers: h.headers.clone().into_iter().collect(),
                        content_type: h.content_type.clone(),
                        body: h.body.clone(),
                        id_pointer: h.id_pointer.clone(),
                        timeout,
                    },
                    cb,
                )?))
            }
        })
    }

    /// The configured voice gateway.
    pub fn voice_gateway(&self, callbacks: &Callbacks) -> anyhow::Result<VoiceGateway> {
        Ok(match self.voice.gateway {
            VoiceGatewayKind::None => VoiceGateway::None,
            VoiceGatewayKind::Folder => VoiceGateway::Folder(
                SmsFolder::new(&self.voice.folder)
                    .with_context(|| format!("cannot create {}", self.voice.folder.display()))?
                    .with_caller_id(self.voice.from.clone()),
            ),
            VoiceGatewayKind::Twilio => {
                VoiceGateway::Twilio(TwilioGateway::new(self.twilio(), callbacks.clone())?)
            }
        })
    }

    /// What the HTTP callbacks need.
    pub fn callback_settings(&self) -> bellhop_web::callbacks::CallbackSettings {
        bellhop_web::callbacks::CallbackSettings {
            twilio_auth_token: self.sms.twilio.auth_token.clone(),
            kannel_mo_token: self.sms.kannel.mo_token.clone().map(SecretString::from),
        }
    }

    /// Dispatcher settings.
    pub fn dispatch_config(&self) -> bellhop_engine::DispatchConfig {
        let defaults = bellhop_engine::DispatchConfig::default();
        bellhop_engine::DispatchConfig {
            node: self.dispatch.node.clone().unwrap_or_else(default_node_name),
            batch_size: self.dispatch.batch_size,
            lease: jiff::SignedDuration::from_secs(self.dispatch.lease_secs),
            poll_interval: Duration::from_millis(self.dispatch.poll_ms),
            retain_bodies: self.dispatch.retain_bodies,
            sms_concurrency: self.sms.concurrency,
            ..defaults
        }
    }
}

/// `<host>-<pid>`: unique among live nodes, and says where to look when a lease lapses.
fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrong_setting_is_reported_with_its_key_at_once() {
        let mut config = Config::default();
        config.dispatch.batch_size = 0;
        config.dispatch.retain_bodies_days = Some(0);
        config.http.max_connections = 0;
        config.listen = "nowhere".into();
        config.sms.gateway = SmsGatewayKind::Kannel;
        let message = config.validate().unwrap_err().to_string();
        for key in [
            "dispatch.batch_size",
            "dispatch.retain_bodies_days",
            "http.max_connections",
            "listen",
            "sms.kannel.username",
        ] {
            assert!(message.contains(key), "{key} missing from: {message}");
        }
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let mut config = Config::default();
        config.email.smtp.password = Some(SecretString::from("smtp-secret-1".to_owned()));
        config.sms.twilio.auth_token = Some(SecretString::from("twilio-secret-2".to_owned()));
        config.sms.kannel.password = SecretString::from("kannel-secret-3".to_owned());
        let printed = format!("{config:?} {:?}", config.transport().ok());
        for secret in ["smtp-secret-1", "twilio-secret-2", "kannel-secret-3"] {
            assert!(!printed.contains(secret), "{secret} printed");
        }
    }
}
