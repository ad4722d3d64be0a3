//! An SMTP server session (RFC 5321) as a state machine: the listener reads a line, hands it
//! to [`Session::command`] and does what the [`Step`] says. Commands are parsed by smtp-proto
//! (Stalwart's parser); which senders and recipients are welcome is the listener's question,
//! asked through [`Step::CheckSender`] and [`Step::CheckRecipient`].

use smtp_proto::{Error as ParseError, Request};

/// What a session accepts.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    /// Bytes of one message, announced as `SIZE`.
    pub max_message: usize,
    /// Recipients of one message.
    pub max_recipients: usize,
    /// Bad commands before the session is closed.
    pub max_errors: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_message: 10_240_000,
            max_recipients: 1_000,
            max_errors: 10,
        }
    }
}

/// What the listener does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this reply (CRLF-terminated lines) and read the next command.
    Reply(String),
    /// Send this reply and close the connection.
    Close(String),
    /// Is this sender (empty: the null sender) welcome now? Answer with [`Session::sender`].
    CheckSender(String),
    /// Is this recipient one of ours? Answer with [`Session::recipient`].
    CheckRecipient(String),
    /// Send `354`, read the message up to the lone dot, then [`Session::take_envelope`].
    ReadData,
    /// Send `220`, then start TLS on the connection and call [`Session::tls_started`]; any
    /// command the client sent after STARTTLS must be thrown away unread (RFC 3207 §6).
    StartTls,
}

/// One SMTP conversation.
#[derive(Debug)]
pub struct Session {
    hostname: String,
    limits: SessionLimits,
    greeted: bool,
    from: Option<String>,
    recipients: Vec<String>,
    errors: usize,
    tls_offered: bool,
    tls_active: bool,
}

fn reply(code: u16, enhanced: &str, text: &str) -> Step {
    Step::Reply(format!("{code} {enhanced} {text}\r\n"))
}

impl Session {
    /// A new session of the server called `hostname`.
    pub fn new(hostname: impl Into<String>, limits: SessionLimits) -> Self {
        Session {
            hostname: hostname.into(),
            limits,
            greeted: false,
            from: None,
            recipients: Vec::new(),
            errors: 0,
            tls_offered: false,
            tls_active: false,
        }
    }

    /// A session that offers STARTTLS.
    pub fn offering_tls(mut self) -> Self {
        self.tls_offered = true;
        self
    }

    /// TLS is up: the client starts over with EHLO (RFC 3207 §4.2).
    pub fn tls_started(&mut self) {
        self.tls_active = true;
        self.greeted = false;
        self.reset();
    }

    /// Whether the conversation is encrypted.
    pub fn tls_active(&self) -> bool {
        self.tls_active
    }

    /// The `220` greeting.
    pub fn greeting(&self) -> String {
        format!("220 {} ESMTP bellhop\r\n", self.hostname)
    }

    /// The reply to a line longer than the listener reads.
    pub fn line_too_long(&mut self) -> Step {
        self.error(554, "5.3.4", "line too long")
    }

    fn error(&mut self, code: u16, enhanced: &str, text: &str) -> Step {
        self.errors += 1;
        if self.errors >= self.limits.max_errors {
            return Step::Close("421 4.7.0 too many errors, closing\r\n".into());
        }
        reply(code, enhanced, text)
    }

    /// The step for one command line (with its CRLF).
    pub fn command(&mut self, line: &[u8]) -> Step {
        let request = match Request::parse(&mut line.iter()) {
            Ok(request) => request,
            Err(ParseError::UnknownCommand) => {
                return self.error(500, "5.5.2", "command not recognized");
            }
            Err(ParseError::InvalidSenderAddress) => {
                return self.error(501, "5.1.7", "invalid sender address");
            }
            Err(ParseError::InvalidRecipientAddress) => {
                return self.error(501, "5.1.3", "invalid recipient address");
            }
            Err(ParseError::UnsupportedParameter { .. } | ParseError::InvalidParameter { .. }) => {
                return self.error(555, "5.5.4", "parameter not supported");
            }
            Err(_) => return self.error(501, "5.5.4", "syntax error"),
        };
        match request {
            Request::Ehlo { .. } => {
                self.greeted = true;
                self.reset();
                let starttls = if self.tls_offered && !self.tls_active {
                    "250-STARTTLS\r\n"
                } else {
                    ""
                };
                Step::Reply(format!(
                    "250-{}\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n\
                     250-ENHANCEDSTATUSCODES\r\n{starttls}250 SIZE {}\r\n",
                    self.hostname, self.limits.max_message
                ))
            }
            Request::Helo { .. } | Request::Lhlo { .. } => {
                self.greeted = true;
                self.reset();
                Step::Reply(format!("250 {}\r\n", self.hostname))
            }
            Request::Mail { from } => {
                if !self.greeted {
                    return self.error(503, "5.5.1", "say EHLO first");
                }
                if self.from.is_some() {
                    return self.error(503, "5.5.1", "nested MAIL command");
                }
                if from.size > self.limits.max_message {
                    return reply(
                        552,
                        "5.3.4",
                        &format!(
                            "message size exceeds the limit of {} bytes",
                            self.limits.max_message
                        ),
                    );
                }
                Step::CheckSender(from.address.trim().to_owned())
            }
            Request::Rcpt { to } => {
                if self.from.is_none() {
                    return self.error(503, "5.5.1", "MAIL first");
                }
                if self.recipients.len() >= self.limits.max_recipients {
                    return reply(452, "4.5.3", "too many recipients");
                }
                Step::CheckRecipient(to.address.trim().to_ascii_lowercase())
            }
            Request::Data => {
                if self.from.is_none() {
                    return self.error(503, "5.5.1", "MAIL first");
                }
                if self.recipients.is_empty() {
                    return self.error(554, "5.5.1", "no valid recipients");
                }
                Step::ReadData
            }
            Request::Bdat { .. } => self.error(502, "5.5.1", "CHUNKING is not offered"),
            Request::Rset => {
                self.reset();
                reply(250, "2.0.0", "OK")
            }
            Request::Noop { .. } => reply(250, "2.0.0", "OK"),
            Request::Vrfy { .. } => reply(252, "2.5.0", "cannot verify, send some mail"),
            Request::Help { .. } => reply(214, "2.0.0", "see RFC 5321"),
            Request::Quit => Step::Close(format!("221 2.0.0 {} closing\r\n", self.hostname)),
            Request::StartTls if self.tls_active => {
                self.error(503, "5.5.1", "TLS is active already")
            }
            Request::StartTls if self.tls_offered => Step::StartTls,
            Request::StartTls => reply(454, "4.7.0", "TLS not available here"),
            Request::Auth { .. } => self.error(502, "5.5.1", "AUTH is not offered"),
            Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.error(502, "5.5.1", "command not implemented"),
        }
    }

    /// The listener's answer to [`Step::CheckSender`]: `Ok` takes the sender, `Err` is the
    /// refusal's reply line (without CRLF).
    pub fn sender(&mut self, address: String, verdict: Result<(), String>) -> String {
        match verdict {
            Ok(()) => {
                self.from = Some(address);
                "250 2.1.0 OK\r\n".into()
            }
            Err(line) => format!("{line}\r\n"),
        }
    }

    /// The listener's answer to [`Step::CheckRecipient`].
    pub fn recipient(&mut self, address: String, verdict: Result<(), String>) -> String {
        match verdict {
            Ok(()) => {
                if !self.recipients.contains(&address) {
                    self.recipients.push(address);
                }
                "250 2.1.5 OK\r\n".into()
            }
            Err(line) => format!("{line}\r\n"),
        }
    }

    /// After the data: the envelope (sender, recipients); the session is ready for the next
    /// message.
    pub fn take_envelope(&mut self) -> (String, Vec<String>) {
        let from = self.from.take().unwrap_or_default();
        (from, std::mem::take(&mut self.recipients))
    }

    fn reset(&mut self) {
        self.from = None;
        self.recipients.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `lines` through a session whose only recipient is `kontakt@hotel.example`; the
    /// replies' first lines, one per command.
    fn transcript(lines: &[&str]) -> Vec<String> {
        let mut session = Session::new(
            "mx.hotel.example",
            SessionLimits {
                max_message: 1_000,
                max_recipients: 2,
                max_errors: 4,
            },
        );
        let mut out = Vec::new();
        for line in lines {
            let step = session.command(format!("{line}\r\n").as_bytes());
            let text = match step {
                Step::Reply(r) | Step::Close(r) => r,
                Step::CheckSender(a) => session.sender(a, Ok(())),
                Step::CheckRecipient(a) => {
                    let known = a.ends_with("@hotel.example");
                    let verdict = if known {
                        Ok(())
                    } else {
                        Err("550 5.1.1 no such mailbox".to_owned())
                    };
                    session.recipient(a, verdict)
                }
                Step::ReadData => {
                    session.take_envelope();
                    "250 2.0.0 queued\r\n".into()
                }
                Step::StartTls => "220 2.0.0 ready to start TLS\r\n".into(),
            };
            out.push(text.lines().last().unwrap_or_default()[..3].to_owned());
        }
        out
    }

    #[test]
    fn transcripts() {
        let cases: [(&str, &[&str], &[&str]); 8] = [
            (
                "a whole delivery",
                &[
                    "EHLO client.example",
                    "MAIL FROM:<anna@example.com>",
                    "RCPT TO:<Kontakt@Hotel.example>",
                    "DATA",
                    "QUIT",
                ],
                &["250", "250", "250", "250", "221"],
            ),
            (
                "the null sender is taken",
                &["HELO x", "MAIL FROM:<>", "RCPT TO:<kontakt@hotel.example>"],
                &["250", "250", "250"],
            ),
            (
                "an unknown recipient is refused at RCPT",
                &[
                    "EHLO x",
                    "MAIL FROM:<a@b.example>",
                    "RCPT TO:<info@elsewhere.example>",
                    "DATA",
                ],
                &["250", "250", "550", "554"],
            ),
            (
                "commands out of order",
                &[
                    "MAIL FROM:<a@b.example>",
                    "EHLO x",
                    "RCPT TO:<kontakt@hotel.example>",
                    "DATA",
                ],
                &["503", "250", "503", "503"],
            ),
            (
                "SIZE above the limit is refused at MAIL",
                &["EHLO x", "MAIL FROM:<a@b.example> SIZE=5000"],
                &["250", "552"],
            ),
            (
                "recipients beyond the limit",
                &[
                    "EHLO x",
                    "MAIL FROM:<a@b.example>",
                    "RCPT TO:<a@hotel.example>",
                    "RCPT TO:<b@hotel.example>",
                    "RCPT TO:<c@hotel.example>",
                ],
                &["250", "250", "250", "250", "452"],
            ),
            (
                "RSET clears the transaction",
                &[
                    "EHLO x",
                    "MAIL FROM:<a@b.example>",
                    "RSET",
                    "RCPT TO:<a@hotel.example>",
                ],
                &["250", "250", "250", "503"],
            ),
            (
                "too many errors close the session",
                &["FOO", "BAR", "BAZ", "QUX"],
                &["500", "500", "500", "421"],
            ),
        ];
        for (name, lines, codes) in cases {
            assert_eq!(transcript(lines), codes, "{name}");
        }
    }

    #[test]
    fn starttls_is_offered_once_and_the_client_starts_over() {
        let mut session = Session::new("h", SessionLimits::default()).offering_tls();
        let Step::Reply(ehlo) = session.command(b"EHLO x\r\n") else {
            panic!("EHLO")
        };
        assert!(ehlo.contains("250-STARTTLS"));
        session.command(b"MAIL FROM:<a@b.example>\r\n");
        assert_eq!(session.command(b"STARTTLS\r\n"), Step::StartTls);
        session.tls_started();
        assert!(session.tls_active());
        assert!(
            matches!(session.command(b"RCPT TO:<k@h.example>\r\n"), Step::Reply(r) if r.starts_with("503"))
        );
        let Step::Reply(again) = session.command(b"EHLO x\r\n") else {
            panic!("EHLO")
        };
        assert!(!again.contains("STARTTLS"));
        assert!(matches!(session.command(b"STARTTLS\r\n"), Step::Reply(r) if r.starts_with("503")));
        let mut plain = Session::new("h", SessionLimits::default());
        assert!(matches!(plain.command(b"STARTTLS\r\n"), Step::Reply(r) if r.starts_with("454")));
    }

    #[test]
    fn garbage_lines_never_panic() {
        let mut session = Session::new("h", SessionLimits::default());
        for line in [
            &b"\r\n"[..],
            b"\xff\xfe\r\n",
            b"MAIL FROM:<\xff@x>\r\n",
            b"RCPT TO:<>\r\n",
            b"EHLO\r\n",
            b"MAIL FROM:<a@b> SIZE=99999999999999999999999\r\n",
            b"no newline",
        ] {
            let _ = session.command(line);
        }
    }
}
