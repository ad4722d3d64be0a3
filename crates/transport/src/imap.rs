//! Watching a hosted mailbox over IMAP (async-imap): log in, select the folder, fetch the
//! messages after the last UID taken (with `BODY.PEEK[]`, so they stay unread for people), and
//! wait for more with IDLE where the server offers it, else by polling. Plain TCP only to
//! loopback or where the installation allows private hosts; TLS (port 993) otherwise, checked
//! against the web PKI roots. Host names are resolved here and private answers dropped unless
//! allowed, so a name cannot point bellhop at an internal service.

use crate::ssrf::OutboundPolicy;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Where and as whom.
#[derive(Clone, Debug)]
pub struct ImapAccount {
    /// Host name or address.
    pub host: String,
    /// Port (993 with TLS, 143 without).
    pub port: u16,
    /// Implicit TLS.
    pub tls: bool,
    /// Login.
    pub user: String,
    /// Password.
    pub password: String,
    /// Folder (`INBOX`).
    pub folder: String,
}

/// One message as fetched.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// Its UID in the folder.
    pub uid: u32,
    /// The message; none when it is larger than the limit (taken as seen, not read).
    pub raw: Option<Vec<u8>>,
}

/// What went wrong, for the mailbox's last error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImapError(pub String);

fn err(what: &str, e: impl std::fmt::Display) -> ImapError {
    ImapError(format!("{what}: {e}"))
}

/// A plain or TLS connection.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP (loopback or allowed private hosts).
    Plain(TcpStream),
    /// TLS.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A logged-in session on the selected folder.
pub struct ImapWatch {
    session: async_imap::Session<Stream>,
    /// The folder's UIDVALIDITY: UIDs are only comparable under the same value.
    pub uid_validity: u32,
    /// The highest UID in the folder now (0 when empty).
    pub highest_uid: u32,
    idle: bool,
    timeout: Duration,
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

impl ImapWatch {
    /// Connects, logs in and selects the folder.
    pub async fn connect(
        account: &ImapAccount,
        targets: &OutboundPolicy,
        timeout: Duration,
    ) -> Result<ImapWatch, ImapError> {
        targets.check_host(&account.host).map_err(ImapError)?;
        let work = async {
            let addrs = targets
                .resolve(&account.host, account.port)
                .await
                .map_err(|e| err("cannot resolve the IMAP host", e))?;
            let tcp = TcpStream::connect(&addrs[..])
                .await
                .map_err(|e| err("cannot connect", e))?;
            let stream = if account.tls {
                let name = rustls::pki_types::ServerName::try_from(account.host.clone())
                    .map_err(|e| err("invalid server name", e))?;
                let tls = tokio_rustls::TlsConnector::from(tls_config())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| err("TLS failed", e))?;
                Stream::Tls(Box::new(tls))
            } else {
                Stream::Plain(tcp)
            };
            let mut client = async_imap::Client::new(stream);
            client
                .read_response()
                .await
                .map_err(|e| err("no greeting", e))?
                .ok_or_else(|| ImapError("the server closed without a greeting".into()))?;
            let mut session = client
                .login(&account.user, &account.password)
                .await
                .map_err(|(e, _)| err("login refused", e))?;
            let idle = session
                .capabilities()
                .await
                .map(|c| c.has_str("IDLE"))
                .unwrap_or(false);
            let mailbox = session
                .select(&account.folder)
                .await
                .map_err(|e| err("cannot select the folder", e))?;
            let uid_validity = mailbox.uid_validity.unwrap_or(0);
            let highest_uid = mailbox.uid_next.map(|n| n.saturating_sub(1)).unwrap_or(0);
            Ok::<_, ImapError>(ImapWatch {
                session,
                uid_validity,
                highest_uid,
                idle,
                timeout,
            })
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| ImapError("the IMAP server did not answer in time".into()))?
    }

    /// The messages with a UID above `after`, oldest first, at most `limit` of them; a message
    /// larger than `max_bytes` comes without its text.
    pub async fn fetch_after(
        &mut self,
        after: u32,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Fetched>, ImapError> {
        use futures_util::TryStreamExt;
        let timeout = self.timeout;
        let work = async {
            let mut uids: Vec<u32> = self
                .session
                .uid_search(format!("UID {}:*", after.saturating_add(1)))
                .await
                .map_err(|e| err("search failed", e))?
                .into_iter()
                .filter(|u| *u > after)
                .collect();
            uids.sort_unstable();
            uids.truncate(limit);
            let mut out = Vec::with_capacity(uids.len());
            for uid in uids {
                let sizes: Vec<_> = self
                    .session
                    .uid_fetch(uid.to_string(), "(UID RFC822.SIZE)")
                    .await
                    .map_err(|e| err("fetch failed", e))?
                    .try_collect()
                    .await
                    .map_err(|e| err("fetch failed", e))?;
                let size = sizes.first().and_then(|f| f.size).unwrap_or(0) as usize;
                if size > max_bytes {
                    out.push(Fetched { uid, raw: None });
                    continue;
                }
                let bodies: Vec<_> = self
                    .session
                    .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
                    .await
                    .map_err(|e| err("fetch failed", e))?
                    .try_collect()
                    .await
                    .map_err(|e| err("fetch failed", e))?;
                let raw = bodies
                    .iter()
                    .find(|f| f.uid == Some(uid))
                    .and_then(|f| f.body())
                    .map(<[u8]>::to_vec);
                out.push(Fetched { uid, raw });
            }
            Ok::<_, ImapError>(out)
        };
        tokio::time::timeout(timeout * 4, work)
            .await
            .map_err(|_| ImapError("the IMAP server did not answer in time".into()))?
    }

    /// Waits up to `max` for news: in IDLE where the server offers it (returning early when
    /// something arrives), else by sleeping (polling).
    pub async fn wait(self, max: Duration) -> Result<ImapWatch, ImapError> {
        if !self.idle {
            tokio::time::sleep(max).await;
            return Ok(self);
        }
        let ImapWatch {
            session,
            uid_validity,
            highest_uid,
            idle,
            timeout,
        } = self;
        let mut handle = session.idle();
        handle.init().await.map_err(|e| err("IDLE failed", e))?;
        {
            let (news, _stop) = handle.wait_with_timeout(max);
            news.await.map_err(|e| err("IDLE failed", e))?;
        }
        let session = tokio::time::timeout(timeout, handle.done())
            .await
            .map_err(|_| ImapError("the IMAP server did not end IDLE".into()))?
            .map_err(|e| err("IDLE failed", e))?;
        Ok(ImapWatch {
            session,
            uid_validity,
            highest_uid,
            idle,
            timeout,
        })
    }

    /// Logs out (best effort).
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
    }
}
