//! The inbound SMTP listener of `bellhop serve`: a tokio accept loop driving
//! `bellhop_inbound::session::Session` line by line. Recipients are checked against the
//! mailboxes at `RCPT`; senders are rate-limited at `MAIL`; the message is read up to the size
//! limit (the rest is drained and refused) and handed to `Engine::receive_mail`, whose
//! transaction has committed before the client hears `250`.

use bellhop_engine::{Delivery, Engine, IntakeError};
use bellhop_inbound::session::{Session, SessionLimits, Step};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

/// What the listener allows.
#[derive(Clone)]
pub struct ListenerLimits {
    /// The name in the greeting and `EHLO` answer.
    pub hostname: String,
    /// Message size, recipients, errors.
    pub session: SessionLimits,
    /// Longest command or message line, in bytes.
    pub max_line: usize,
    /// Seconds a client may stay silent.
    pub idle: Duration,
    /// Longest session.
    pub session_time: Duration,
    /// Connections at once.
    pub max_connections: usize,
    /// Connections at once from one IP address.
    pub max_per_ip: usize,
    /// Messages one envelope sender may start per `sender_window`.
    pub per_sender: u32,
    /// The window of `per_sender`.
    pub sender_window: Duration,
    /// STARTTLS is offered with this certificate.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits {
            hostname: "localhost".into(),
            session: SessionLimits::default(),
            max_line: 2_048,
            idle: Duration::from_secs(300),
            session_time: Duration::from_secs(1_800),
            max_connections: 200,
            max_per_ip: 20,
            per_sender: 30,
            sender_window: Duration::from_secs(600),
            tls: None,
        }
    }
}

/// A TLS acceptor for STARTTLS from a PEM certificate chain and private key.
pub fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use anyhow::Context;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("the certificate {} is not PEM", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key {}", key.display()))?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and key do not fit")?;
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// Shared between connections: who is connected, who sent how much.
#[derive(Default)]
struct Counters {
    per_ip: HashMap<IpAddr, usize>,
    /// Sender → (window start, messages started in it).
    senders: HashMap<String, (jiff::Timestamp, u32)>,
}

/// Serves SMTP on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    limits: ListenerLimits,
    mut stop: watch::Receiver<bool>,
) {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let counters = Arc::new(Mutex::new(Counters::default()));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "smtp accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(
                stream,
                "421 4.7.0 too many connections, try again later\r\n",
            )
            .await;
            continue;
        };
        let admitted = {
            let mut c = counters.lock().unwrap_or_else(|p| p.into_inner());
            let n = c.per_ip.entry(peer.ip()).or_default();
            if *n >= limits.max_per_ip {
                false
            } else {
                *n += 1;
                true
            }
        };
        if !admitted {
            refuse(
                stream,
                "421 4.7.0 too many connections from your address\r\n",
            )
            .await;
            continue;
        }
        let (engine, limits, counters) = (engine.clone(), limits.clone(), counters.clone());
        tokio::spawn(async move {
            let ip = peer.ip();
            let session = Connection {
                engine: &engine,
                limits: &limits,
                counters: &counters,
                peer,
            };
            if tokio::time::timeout(limits.session_time, session.run(stream))
                .await
                .is_err()
            {
                tracing::info!(%peer, "smtp session over its time limit");
            }
            let mut c = counters.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = c.per_ip.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    c.per_ip.remove(&ip);
                }
            }
            drop(slot);
        });
    }
}

async fn refuse(mut stream: TcpStream, line: &str) {
    let _ = stream.write_all(line.as_bytes()).await;
    let _ = stream.shutdown().await;
}

struct Connection<'a> {
    engine: &'a Engine,
    limits: &'a ListenerLimits,
    counters: &'a Mutex<Counters>,
    peer: SocketAddr,
}

/// A line as read.
enum Line {
    /// The line with its LF.
    Full,
    /// Longer than the limit: drained up to its LF, content dropped.
    TooLong,
    /// The client went away.
    Closed,
}

async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    buf.clear();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if buf.is_empty() {
                Line::Closed
            } else {
                Line::Full
            });
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let taken = chunk.len();
        if buf.len() <= max {
            buf.extend_from_slice(chunk);
        }
        reader.consume(taken);
        if done {
            return Ok(if buf.len() > max + 2 {
                Line::TooLong
            } else {
                Line::Full
            });
        }
    }
}

impl Connection<'_> {
    async fn run(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut session = Session::new(self.limits.hostname.clone(), self.limits.session);
        if self.limits.tls.is_some() {
            session = session.offering_tls();
        }
        let Some(plain) = self.converse(stream, &mut session, true).await else {
            return;
        };
        // The client asked for STARTTLS and nothing else is buffered: TLS, then start over.
        let Some(acceptor) = &self.limits.tls else {
            return;
        };
        match tokio::time::timeout(self.limits.idle, acceptor.accept(plain)).await {
            Ok(Ok(tls)) => {
                session.tls_started();
                self.converse(tls, &mut session, false).await;
            }
            Ok(Err(e)) => {
                tracing::info!(peer = %self.peer, error = %e, "smtp TLS handshake failed")
            }
            Err(_) => tracing::info!(peer = %self.peer, "smtp TLS handshake timed out"),
        }
    }

    /// Talks SMTP on `stream` until the client quits (`None`) or asks for STARTTLS (the
    /// stream, to be wrapped).
    async fn converse<S>(&self, stream: S, session: &mut Session, greet: bool) -> Option<S>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (read, mut write) = tokio::io::split(stream);
        let mut reader = BufReader::new(read);
        if greet
            && write
                .write_all(session.greeting().as_bytes())
                .await
                .is_err()
        {
            return None;
        }
        let mut line = Vec::with_capacity(512);
        loop {
            let read = tokio::time::timeout(
                self.limits.idle,
                read_line(&mut reader, &mut line, self.limits.max_line),
            )
            .await;
            let step = match read {
                Err(_) => Step::Close("421 4.4.2 idle for too long, closing\r\n".into()),
                Ok(Err(_)) | Ok(Ok(Line::Closed)) => return None,
                Ok(Ok(Line::TooLong)) => session.line_too_long(),
                Ok(Ok(Line::Full)) => session.command(&line),
            };
            let reply = match step {
                Step::Reply(r) => r,
                Step::Close(r) => {
                    let _ = write.write_all(r.as_bytes()).await;
                    let _ = write.shutdown().await;
                    return None;
                }
                Step::StartTls => {
                    // Commands pipelined behind STARTTLS would be read as if encrypted
                    // (the CVE-2011-0411 injection): a client that sends any is dropped.
                    if !reader.buffer().is_empty() {
                        let _ = write
                            .write_all(b"554 5.5.1 nothing may follow STARTTLS\r\n")
                            .await;
                        return None;
                    }
                    if write
                        .write_all(b"220 2.0.0 ready to start TLS\r\n")
                        .await
                        .is_err()
                    {
                        return None;
                    }
                    return Some(reader.into_inner().unsplit(write));
                }
                Step::CheckSender(sender) => {
                    let verdict = self.admit_sender(&sender);
                    session.sender(sender, verdict)
                }
                Step::CheckRecipient(rcpt) => {
                    let verdict = match self.engine.mailbox_for(&rcpt).await {
                        Ok(Some(_)) => Ok(()),
                        Ok(None) => Err("550 5.1.1 no such mailbox here".to_owned()),
                        Err(e) => {
                            tracing::error!(error = %e, "smtp recipient check failed");
                            Err("451 4.3.0 temporary failure, try again later".to_owned())
                        }
                    };
                    session.recipient(rcpt, verdict)
                }
                Step::ReadData => {
                    if write
                        .write_all(b"354 2.0.0 end data with <CR><LF>.<CR><LF>\r\n")
                        .await
                        .is_err()
                    {
                        return None;
                    }
                    let data = self.read_data(&mut reader).await?;
                    let (from, recipients) = session.take_envelope();
                    match data {
                        Ok(raw) => self.deliver(from, recipients, &raw).await,
                        Err(line) => line,
                    }
                }
            };
            if write.write_all(reply.as_bytes()).await.is_err() {
                return None;
            }
        }
    }

    /// The per-sender rate: `per_sender` messages per window, counted on the engine's clock.
    fn admit_sender(&self, sender: &str) -> Result<(), String> {
        let key = if sender.is_empty() {
            format!("<>@{}", self.peer.ip())
        } else {
            sender.to_ascii_lowercase()
        };
        let now = self.engine.now();
        let window = jiff::SignedDuration::try_from(self.limits.sender_window).unwrap_or_default();
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        if c.senders.len() > 100_000 {
            c.senders
                .retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = c.senders.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limits.per_sender {
            return Err("451 4.7.1 too many messages from this sender, try again later".into());
        }
        entry.1 += 1;
        Ok(())
    }

    /// Reads the message up to the lone dot, undoing dot-stuffing. `None`: the client went
    /// away; `Err`: the reply refusing it (the message was drained).
    async fn read_data<R: AsyncRead + Unpin>(
        &self,
        reader: &mut BufReader<R>,
    ) -> Option<Result<Vec<u8>, String>> {
        let max = self.limits.session.max_message;
        let mut raw = Vec::new();
        let mut too_big = false;
        let mut line = Vec::with_capacity(1024);
        loop {
            let read = tokio::time::timeout(
                self.limits.idle,
                read_line(reader, &mut line, self.limits.max_line),
            )
            .await;
            match read {
                Err(_) | Ok(Err(_)) | Ok(Ok(Line::Closed)) => return None,
                Ok(Ok(Line::TooLong)) => too_big = true,
                Ok(Ok(Line::Full)) => {
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    let content = line.strip_prefix(b".").unwrap_or(&line);
                    if raw.len() + content.len() > max {
                        too_big = true;
                    }
                    if !too_big {
                        raw.extend_from_slice(content);
                    }
                }
            }
        }
        if too_big {
            return Some(Err(format!(
                "552 5.3.4 message too big or a line too long (limits {} bytes, lines {} bytes)\r\n",
                max, self.limits.max_line
            )));
        }
        Some(Ok(raw))
    }

    async fn deliver(&self, from: String, recipients: Vec<String>, raw: &[u8]) -> String {
        let mut ids = Vec::new();
        // A mailbox named twice (its address and an alias) takes the mail once.
        let mut mailboxes = std::collections::HashSet::new();
        for to in recipients {
            match self.engine.mailbox_for(&to).await {
                Ok(Some(id)) if !mailboxes.insert(id) => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, peer = %self.peer, "inbound mail not taken");
                    return "451 4.3.0 temporary failure, try again later\r\n".into();
                }
            }
            let delivery = Delivery {
                via: "smtp",
                envelope_from: Some(from.clone()),
                envelope_to: to,
                source_key: None,
                raw,
            };
            match self.engine.receive_mail(delivery).await {
                Ok(received) => ids.extend(received.mail.map(|m| m.id)),
                Err(IntakeError::Refused(refusal)) => {
                    return format!("{}\r\n", refusal.smtp_line());
                }
                Err(IntakeError::UnknownMailbox(_)) => {
                    return "550 5.1.1 the mailbox is gone\r\n".into();
                }
                Err(IntakeError::Engine(e)) => {
                    tracing::error!(error = %e, peer = %self.peer, "inbound mail not taken");
                    return "451 4.3.0 temporary failure, try again later\r\n".into();
                }
            }
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        format!("250 2.0.0 OK queued as {}\r\n", ids.join(","))
    }
}

use uuid::Uuid;
