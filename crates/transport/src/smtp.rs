//! SMTP with a pool of reused connections.
//!
//! lettre 0.11.23 does not set TCP_NODELAY, and its body and final `.` go out as two writes:
//! Nagle plus delayed ACK then cost ~44 ms per message (23 msg/s on one connection). So we open
//! the TCP stream ourselves with `set_nodelay(true)` and hand it to lettre's connection
//! (STARTTLS upgrades that same stream). Implicit TLS (port 465) uses lettre's own connect.

use crate::SendError;
use crate::mime::Formatted;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How the connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain text (a relay on localhost).
    #[default]
    None,
    /// STARTTLS after the greeting; refuse to send if the server does not offer it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// SMTP relay settings.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Protection.
    pub tls: SmtpTls,
    /// AUTH user name.
    pub username: Option<String>,
    /// AUTH password.
    pub password: Option<String>,
    /// Connections kept open and used at once.
    pub pool_size: usize,
    /// Timeout of each SMTP exchange.
    pub timeout: Duration,
    /// Name sent in EHLO.
    pub hello_name: String,
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// A pooled SMTP client.
pub struct SmtpTransport {
    config: SmtpConfig,
    idle: Mutex<Vec<Idle>>,
    permits: Semaphore,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("host", &self.config.host)
            .field("port", &self.config.port)
            .finish()
    }
}

/// Idle connections older than this are checked with NOOP before use.
const STALE_AFTER: Duration = Duration::from_secs(20);

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::Permanent(e.to_string())
    } else {
        SendError::Transient(e.to_string())
    }
}

impl SmtpTransport {
    /// A transport; connections are opened on first use.
    pub fn new(config: SmtpConfig) -> Self {
        let size = config.pool_size.max(1);
        SmtpTransport {
            permits: Semaphore::new(size),
            idle: Mutex::new(Vec::new()),
            config,
        }
    }

    /// Connections used at once.
    pub fn pool_size(&self) -> usize {
        self.config.pool_size.max(1)
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let c = &self.config;
        let hello = ClientId::Domain(c.hello_name.clone());
        let tls = || {
            TlsParameters::new(c.host.clone())
                .map_err(|e| SendError::Permanent(format!("TLS set-up for {}: {e}", c.host)))
        };
        let io = |e: std::io::Error| {
            SendError::Transient(format!("cannot connect to {}:{}: {e}", c.host, c.port))
        };
        let mut conn = match c.tls {
            SmtpTls::Tls => AsyncSmtpConnection::connect_tokio1(
                (c.host.as_str(), c.port),
                Some(c.timeout),
                &hello,
                Some(tls()?),
                None,
            )
            .await
            .map_err(classify)?,
            SmtpTls::None | SmtpTls::Starttls => {
                let stream = tokio::time::timeout(
                    c.timeout,
                    tokio::net::TcpStream::connect((c.host.as_str(), c.port)),
                )
                .await
                .map_err(|_| {
                    SendError::Transient(format!("connecting to {}:{} timed out", c.host, c.port))
                })?
                .map_err(io)?;
                stream.set_nodelay(true).map_err(io)?;
                let mut conn = tokio::time::timeout(
                    c.timeout,
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello),
                )
                .await
                .map_err(|_| SendError::Transient("SMTP greeting timed out".to_owned()))?
                .map_err(classify)?;
                if c.tls == SmtpTls::Starttls {
                    conn.starttls(tls()?, &hello).await.map_err(|e| {
                        SendError::Transient(format!("STARTTLS with {} failed: {e}", c.host))
                    })?;
                }
                conn
            }
        };
        if let (Some(user), Some(password)) = (&c.username, &c.password) {
            conn.auth(
                &[Mechanism::Plain, Mechanism::Login],
                &Credentials::new(user.clone(), password.clone()),
            )
            .await
            .map_err(|e| SendError::Permanent(format!("SMTP authentication failed: {e}")))?;
        }
        Ok(conn)
    }

    async fn checkout(&self) -> Result<(AsyncSmtpConnection, bool), SendError> {
        loop {
            let idle = self
                .idle
                .lock()
                .map_err(|_| SendError::Transient("pool poisoned".into()))?
                .pop();
            match idle {
                Some(mut idle) => {
                    if idle.conn.has_broken() {
                        continue;
                    }
                    if idle.since.elapsed() > STALE_AFTER && !idle.conn.test_connected().await {
                        continue;
                    }
                    return Ok((idle.conn, true));
                }
                None => return Ok((self.connect().await?, false)),
            }
        }
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    pub(crate) async fn send(&self, message: &Formatted) -> Result<(), SendError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SendError::Transient("transport closed".into()))?;
        let (mut conn, reused) = self.checkout().await?;
        match self.exchange(&mut conn, message).await {
            Ok(()) => {
                self.checkin(conn);
                Ok(())
            }
            // A reused connection the server closed while idle fails before anything was
            // accepted: try once more on a fresh one.
            Err(SendError::Transient(_)) if reused && conn.has_broken() => {
                let mut fresh = self.connect().await?;
                let result = self.exchange(&mut fresh, message).await;
                if result.is_ok() {
                    self.checkin(fresh);
                }
                result
            }
            Err(e) => {
                if !conn.has_broken() {
                    // A refused recipient leaves the session usable: RSET happens on next MAIL.
                    self.checkin(conn);
                }
                Err(e)
            }
        }
    }

    async fn exchange(
        &self,
        conn: &mut AsyncSmtpConnection,
        message: &Formatted,
    ) -> Result<(), SendError> {
        match tokio::time::timeout(
            self.config.timeout,
            conn.send(&message.envelope, &message.bytes),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(classify(e)),
            Err(_) => {
                conn.abort().await;
                Err(SendError::Transient("SMTP exchange timed out".to_owned()))
            }
        }
    }

    /// Sends QUIT on idle connections.
    pub async fn close(&self) {
        let idle: Vec<Idle> = self
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for mut i in idle {
            let _ = i.conn.quit().await;
        }
    }
}
