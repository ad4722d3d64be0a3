//! Configuration: defaults, then a TOML file, then `BELLHOP_*` environment variables
//! (`__` separates nesting: `BELLHOP_EMAIL__SMTP__HOST`). `bellhop serve` runs with none.

use anyhow::Context;
use bellhop_store::{Durability, StoreOptions};
use bellhop_transport::{EmailTransport, EmlFolder, SmtpConfig, SmtpTls, SmtpTransport};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
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
    /// Storage settings.
    pub store: StoreConfig,
    /// Email transport.
    pub email: EmailConfig,
    /// Dispatcher.
    pub dispatch: DispatchSettings,
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
    /// AUTH password (prefer the environment variable).
    pub password: Option<String>,
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
            store: StoreConfig::default(),
            email: EmailConfig::default(),
            dispatch: DispatchSettings::default(),
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
            lease_secs: 120,
            poll_ms: 1000,
            retain_bodies: true,
            workers: 2,
            node: None,
        }
    }
}

impl Config {
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
        // BELLHOP_LOG and BELLHOP_CONFIG steer logging and the file name, BELLHOP_TEST_* the
        // test suite: none of them are settings.
        figment = figment.merge(
            Env::prefixed("BELLHOP_")
                .ignore(&["log", "config"])
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

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=10_000).contains(&self.dispatch.batch_size),
            "dispatch.batch_size must be 1..=10000"
        );
        anyhow::ensure!(
            (5..=86_400).contains(&self.dispatch.lease_secs),
            "dispatch.lease_secs must be 5..=86400"
        );
        anyhow::ensure!(
            (1..=256).contains(&self.email.smtp.pool_size),
            "email.smtp.pool_size must be 1..=256"
        );
        anyhow::ensure!(
            (1..=16).contains(&self.dispatch.workers),
            "dispatch.workers must be 1..=16"
        );
        anyhow::ensure!(
            (1..=1_000).contains(&self.store.max_connections),
            "store.max_connections must be 1..=1000"
        );
        anyhow::ensure!(
            self.store.max_connections as usize > self.dispatch.workers,
            "store.max_connections must exceed dispatch.workers: each worker holds a connection \
             while its batch is sent, and the API needs one too"
        );
        self.listen
            .parse::<std::net::SocketAddr>()
            .with_context(|| {
                format!(
                    "listen = {:?} is not an address such as 127.0.0.1:8080",
                    self.listen
                )
            })?;
        Ok(())
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

    /// Dispatcher settings.
    pub fn dispatch_config(&self) -> bellhop_engine::DispatchConfig {
        let defaults = bellhop_engine::DispatchConfig::default();
        bellhop_engine::DispatchConfig {
            node: self.dispatch.node.clone().unwrap_or_else(default_node_name),
            batch_size: self.dispatch.batch_size,
            lease: jiff::SignedDuration::from_secs(self.dispatch.lease_secs),
            poll_interval: Duration::from_millis(self.dispatch.poll_ms),
            retain_bodies: self.dispatch.retain_bodies,
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
