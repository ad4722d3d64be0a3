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
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
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
    /// AUTH password (never printed).
    pub password: Option<secrecy::SecretString>,
    /// Connections kept open and used at once.
    pub pool_size: usize,
    /// Timeout of each SMTP exchange.
    pub timeout: Duration,
    /// Name sent in EHLO.
    pub hello_name: String,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// A connection and whether its server takes pipelined commands (RFC 2920).
struct Conn {
    inner: AsyncSmtpConnection,
    pipelining: bool,
}

/// MAIL, RCPT… and DATA written in one go; the server answers each in order.
struct Pipelined(String);

impl std::fmt::Display for Pipelined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
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

    async fn connect(&self) -> Result<Conn, SendError> {
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
                &Credentials::new(
                    user.clone(),
                    secrecy::ExposeSecret::expose_secret(password).to_owned(),
                ),
            )
            .await
            .map_err(|e| SendError::Permanent(format!("SMTP authentication failed: {e}")))?;
        }
        // lettre does not keep the PIPELINING keyword; ask again and read the reply ourselves.
        let ehlo = conn.command(Ehlo::new(hello)).await.map_err(classify)?;
        let pipelining = ehlo
            .message()
            .any(|line| line.trim().eq_ignore_ascii_case("PIPELINING"));
        Ok(Conn {
            inner: conn,
            pipelining,
        })
    }

    async fn checkout(&self) -> Result<(Conn, bool), SendError> {
        loop {
            let idle = self
                .idle
                .lock()
                .map_err(|_| SendError::Transient("pool poisoned".into()))?
                .pop();
            match idle {
                Some(mut idle) => {
                    if idle.conn.inner.has_broken() {
                        continue;
                    }
                    if idle.since.elapsed() > STALE_AFTER && !idle.conn.inner.test_connected().await
                    {
                        continue;
                    }
                    return Ok((idle.conn, true));
                }
                None => return Ok((self.connect().await?, false)),
            }
        }
    }

    fn checkin(&self, conn: Conn) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    /// Sends one message (a batch of one).
    #[cfg(test)]
    pub(crate) async fn send(&self, message: &Formatted) -> Result<(), SendError> {
        self.send_batch(&[message])
            .await
            .pop()
            .unwrap_or_else(|| Err(SendError::Transient("not attempted".into())))
    }

    /// One message the plain way (servers without PIPELINING, or 8-bit content).
    async fn exchange(&self, conn: &mut Conn, message: &Formatted) -> Result<(), SendError> {
        match step(
            self.config.timeout,
            conn.inner.send(&message.envelope, &message.bytes),
        )
        .await
        {
            Some(result) => result.map(|_| ()).map_err(classify),
            None => {
                conn.inner.abort().await;
                Err(SendError::Transient("SMTP exchange timed out".to_owned()))
            }
        }
    }

    /// Sends many messages, spread over the pool's connections. On a server that pipelines,
    /// each connection streams its share: a body's terminating dot goes out in the same write as
    /// the next message's MAIL, RCPT and DATA, and every reply is read in order. Results come
    /// back in the order of `messages`; a message whose outcome is unknown (the connection
    /// broke after its body was written) is a transient failure, so it is retried — at most the
    /// in-flight messages of a broken connection can arrive twice, none is lost.
    pub(crate) async fn send_batch(&self, messages: &[&Formatted]) -> Vec<Result<(), SendError>> {
        let lanes = self.pool_size().min(messages.len()).max(1);
        let chunks: Vec<Vec<usize>> = (0..lanes)
            .map(|lane| (lane..messages.len()).step_by(lanes).collect())
            .collect();
        let lane_results = futures_util::future::join_all(chunks.iter().map(|indices| {
            let chunk: Vec<&Formatted> = indices.iter().map(|&i| messages[i]).collect();
            async move { self.send_chunk(&chunk).await }
        }))
        .await;
        let mut results: Vec<Option<Result<(), SendError>>> = vec![None; messages.len()];
        for (indices, lane) in chunks.iter().zip(lane_results) {
            for (&i, result) in indices.iter().zip(lane) {
                results[i] = Some(result);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(SendError::Transient("not attempted".into()))))
            .collect()
    }

    /// One lane of a batch, on one connection at a time.
    async fn send_chunk(&self, chunk: &[&Formatted]) -> Vec<Result<(), SendError>> {
        let mut out = Vec::with_capacity(chunk.len());
        let Ok(_permit) = self.permits.acquire().await else {
            return chunk
                .iter()
                .map(|_| Err(SendError::Transient("transport closed".into())))
                .collect();
        };
        let mut retried_stale = false;
        while out.len() < chunk.len() {
            let rest = &chunk[out.len()..];
            let (mut conn, reused) = match self.checkout().await {
                Ok(c) => c,
                Err(e) => {
                    out.extend(rest.iter().map(|_| Err(e.clone())));
                    break;
                }
            };
            let before = out.len();
            let usable = if conn.pipelining && rest.iter().all(|m| streamable(m)) {
                stream(&mut conn.inner, rest, &mut out, self.config.timeout).await
            } else {
                let mut usable = true;
                for message in rest {
                    let result = self.exchange(&mut conn, message).await;
                    usable = !conn.inner.has_broken();
                    out.push(result);
                    if !usable {
                        break;
                    }
                }
                usable
            };
            if usable {
                self.checkin(conn);
                continue;
            }
            conn.inner.abort().await;
            // A pooled connection the server closed while idle fails before anything was sent:
            // try once more on a fresh one. Otherwise the unknown rest waits for a retry.
            if reused && out.len() == before && !retried_stale {
                retried_stale = true;
                continue;
            }
            let lost = chunk.len() - out.len();
            out.extend((0..lost).map(|_| {
                Err(SendError::Transient(
                    "the SMTP connection broke; will retry".into(),
                ))
            }));
        }
        out
    }

    /// Sends QUIT on idle connections.
    pub async fn close(&self) {
        let idle: Vec<Idle> = self
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for mut i in idle {
            let _ = i.conn.inner.quit().await;
        }
    }
}

/// The DATA payload: leading dots doubled, CRLF line ends, and the final `CRLF.CRLF`.
fn dot_stuffed(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len() + 16);
    if text.starts_with('.') {
        out.push('.');
    }
    out.push_str(&text.replace("\r\n.", "\r\n.."));
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    out
}

/// Whether a message can go through the streaming path: 7-bit envelope and content, so no
/// SMTPUTF8 or 8BITMIME parameters are needed.
fn streamable(message: &Formatted) -> bool {
    message
        .envelope
        .from()
        .is_none_or(|a| AsRef::<str>::as_ref(a).is_ascii())
        && message
            .envelope
            .to()
            .iter()
            .all(|a| AsRef::<str>::as_ref(a).is_ascii())
        && message.bytes.is_ascii()
}

/// MAIL, RCPT… and DATA for one message.
fn envelope_commands(message: &Formatted) -> String {
    let envelope = &message.envelope;
    let mut commands = Mail::new(envelope.from().cloned(), vec![]).to_string();
    for to in envelope.to() {
        commands.push_str(&Rcpt::new(to.clone(), vec![]).to_string());
    }
    commands.push_str(&Data.to_string());
    commands
}

/// How the replies to one message's MAIL, RCPT… and DATA came back.
enum Envelope {
    /// All accepted; the server waits for the body.
    Open,
    /// Refused; `data_open` when DATA was accepted all the same (the body must be closed).
    Refused {
        error: lettre::transport::smtp::Error,
        data_open: bool,
    },
    /// The connection failed: the session is out of step.
    Broken,
}

fn is_reply(e: &lettre::transport::smtp::Error) -> bool {
    e.is_transient() || e.is_permanent()
}

/// Awaits one SMTP step; `None` when it took longer than `limit` (the session is then out of
/// step and must be dropped).
async fn step<T>(limit: Duration, work: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, work).await.ok()
}

/// Reads the rest of one message's envelope replies (`first` was read by `command`).
async fn envelope_replies(
    conn: &mut AsyncSmtpConnection,
    message: &Formatted,
    first: Option<
        Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error>,
    >,
    limit: Duration,
) -> Envelope {
    let expected = message.envelope.to().len() + 2;
    let mut replies = Vec::with_capacity(expected);
    replies.extend(first);
    while replies.len() < expected {
        let Some(reply) = step(limit, conn.read_response()).await else {
            return Envelope::Broken;
        };
        replies.push(reply);
    }
    if replies
        .iter()
        .any(|r| r.as_ref().is_err_and(|e| !is_reply(e)))
    {
        return Envelope::Broken;
    }
    let data_open = replies
        .last()
        .is_some_and(|r| r.as_ref().is_ok_and(|reply| reply.has_code(354)));
    match replies.into_iter().find_map(Result::err) {
        None if data_open => Envelope::Open,
        None => Envelope::Broken,
        Some(error) => Envelope::Refused { error, data_open },
    }
}

/// Streams `messages` over one pipelining connection, pushing one result per message it
/// resolves. Returns whether the connection is still in step. Every step has `limit`.
async fn stream(
    conn: &mut AsyncSmtpConnection,
    messages: &[&Formatted],
    out: &mut Vec<Result<(), SendError>>,
    limit: Duration,
) -> bool {
    let Some(first) = step(
        limit,
        conn.command(Pipelined(envelope_commands(messages[0]))),
    )
    .await
    else {
        return false;
    };
    let mut envelope = envelope_replies(conn, messages[0], Some(first), limit).await;
    for (i, message) in messages.iter().enumerate() {
        let next = messages.get(i + 1);
        match envelope {
            Envelope::Broken => return false,
            Envelope::Refused { error, data_open } => {
                out.push(Err(classify(error)));
                if data_open {
                    match step(limit, conn.command(Pipelined(".\r\n".to_owned()))).await {
                        Some(Ok(_)) => {}
                        Some(Err(e)) if is_reply(&e) => {}
                        _ => return false,
                    }
                }
                let Some(next) = next else { return true };
                let Some(first) =
                    step(limit, conn.command(Pipelined(envelope_commands(next)))).await
                else {
                    return false;
                };
                envelope = envelope_replies(conn, next, Some(first), limit).await;
                continue;
            }
            Envelope::Open => {}
        }
        let mut payload = dot_stuffed(&message.bytes);
        if let Some(next) = next {
            payload.push_str(&envelope_commands(next));
        }
        match step(limit, conn.command(Pipelined(payload))).await {
            Some(Ok(_)) => out.push(Ok(())),
            Some(Err(e)) if is_reply(&e) => out.push(Err(classify(e))),
            _ => return false,
        }
        let Some(next) = next else { return true };
        envelope = envelope_replies(conn, next, None, limit).await;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OutgoingEmail, SendError, format_email};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// A scripted SMTP server: answers each command line, and the end of the n-th DATA with
    /// `verdicts[n % len]`.
    async fn scripted_server(
        verdicts: &'static [&'static str],
    ) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let mut seen = Vec::new();
            write.write_all(b"220 scripted ESMTP\r\n").await.unwrap();
            let mut in_data = false;
            let mut bodies = 0;
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        write
                            .write_all(verdicts[bodies % verdicts.len()].as_bytes())
                            .await
                            .unwrap();
                        bodies += 1;
                    }
                    continue;
                }
                seen.push(line.clone());
                let reply: &[u8] = match line.split(' ').next().unwrap_or("") {
                    "EHLO" => b"250-scripted\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                    "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => b"221 bye\r\n",
                    _ => b"500 what\r\n",
                };
                write.write_all(reply).await.unwrap();
            }
            seen
        });
        (port, handle)
    }

    fn email(n: u128) -> OutgoingEmail {
        OutgoingEmail {
            message_id: uuid::Uuid::from_u128(n),
            from_name: "Hotel".into(),
            from_email: "info@hotel.example".into(),
            reply_to: None,
            to_name: None,
            to_email: "guest@example.com".into(),
            subject: "Hi".into(),
            html: "<p>Hi</p>".into(),
            text: "Hi".into(),
            date: "2026-06-01T08:00:00Z".parse().unwrap(),
            unsubscribe: None,
            auto_reply: None,
        }
    }

    fn transport(port: u16) -> SmtpTransport {
        SmtpTransport::new(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            pool_size: 1,
            timeout: Duration::from_secs(5),
            hello_name: "test".into(),
        })
    }

    #[tokio::test]
    async fn a_body_the_server_refuses_is_a_failure_not_mistaken_for_the_data_reply() {
        let (port, _server) = scripted_server(&["554 5.7.1 refused\r\n"]).await;
        let smtp = transport(port);
        let result = smtp.send(&format_email(&email(1)).unwrap()).await;
        assert!(
            matches!(result, Err(SendError::Permanent(ref e)) if e.contains("refused")),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_body_in_a_streamed_batch_fails_alone() {
        let (port, _server) = scripted_server(&[
            "250 ok\r\n",
            "552 5.3.4 too big\r\n",
            "451 4.3.0 try later\r\n",
        ])
        .await;
        let smtp = transport(port);
        let formatted: Vec<_> = (0..6).map(|n| format_email(&email(n)).unwrap()).collect();
        let refs: Vec<&Formatted> = formatted.iter().collect();
        let results = smtp.send_batch(&refs).await;
        let kinds: Vec<&str> = results
            .iter()
            .map(|r| match r {
                Ok(()) => "ok",
                Err(SendError::Permanent(_)) => "permanent",
                Err(SendError::Transient(_)) => "transient",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "ok",
                "permanent",
                "transient",
                "ok",
                "permanent",
                "transient"
            ]
        );
    }

    #[tokio::test]
    async fn pipelined_sessions_stay_in_step_over_many_messages() {
        let (port, server) = scripted_server(&["250 queued\r\n"]).await;
        let smtp = transport(port);
        for n in 0..5 {
            smtp.send(&format_email(&email(n)).unwrap()).await.unwrap();
        }
        smtp.close().await;
        let seen = server.await.unwrap();
        let mails = seen.iter().filter(|l| l.starts_with("MAIL FROM")).count();
        assert_eq!(mails, 5, "{seen:?}");
        assert_eq!(seen.last().map(String::as_str), Some("QUIT"));
    }

    #[test]
    fn data_lines_starting_with_a_dot_are_doubled_and_the_payload_is_terminated() {
        assert_eq!(
            dot_stuffed(b".a\r\nb\r\n.c\r\n..d"),
            "..a\r\nb\r\n..c\r\n...d\r\n.\r\n"
        );
        assert_eq!(dot_stuffed(b"x\r\n"), "x\r\n.\r\n");
    }
}
