//! Hard limits on a raw message, checked in one pass before mail-parser sees it. The figures
//! and codes follow Postfix's defaults and Stalwart's replies; the parameter-continuation cap
//! exists because mail-parser 0.11 decodes RFC 2231 continuations in quadratic time (300,000 of
//! them take 10 s).

use std::fmt;

/// What a raw message may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the whole message.
    pub max_size: usize,
    /// Bytes of the header section (up to the first empty line).
    pub max_header_bytes: usize,
    /// Bytes of one line.
    pub max_line: usize,
    /// `Received` headers: more means a loop.
    pub max_received: usize,
    /// `boundary=` parameters, the most multipart levels a message can open.
    pub max_boundaries: usize,
    /// MIME parts after parsing.
    pub max_parts: usize,
    /// RFC 2231 parameter continuations (`name*0=`, `name*1*=`) in the whole message.
    pub max_continuations: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size: 10_240_000,
            max_header_bytes: 102_400,
            max_line: 2_048,
            max_received: 50,
            max_boundaries: 100,
            max_parts: 10_000,
            max_continuations: 1_000,
        }
    }
}

/// Why a message is refused, with the SMTP reply that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Basic status code (RFC 5321).
    pub code: u16,
    /// Enhanced status code (RFC 3463).
    pub enhanced: &'static str,
    /// What is wrong.
    pub text: String,
}

impl Refusal {
    pub(crate) fn new(code: u16, enhanced: &'static str, text: impl Into<String>) -> Self {
        Refusal {
            code,
            enhanced,
            text: text.into(),
        }
    }

    /// The SMTP reply line, without CRLF.
    pub fn smtp_line(&self) -> String {
        format!("{} {} {}", self.code, self.enhanced, self.text)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Refusal {}

impl Limits {
    /// Scans `raw` once: size, header section, line length, `Received` count, multipart
    /// boundaries and RFC 2231 continuations.
    pub fn check(&self, raw: &[u8]) -> Result<(), Refusal> {
        if raw.len() > self.max_size {
            return Err(Refusal::new(
                552,
                "5.3.4",
                format!(
                    "message is {} bytes, more than the limit of {}",
                    raw.len(),
                    self.max_size
                ),
            ));
        }
        let mut in_header = true;
        let mut header_bytes = 0usize;
        let mut received = 0usize;
        let mut boundaries = 0usize;
        let mut continuations = 0usize;
        for line in raw.split(|b| *b == b'\n') {
            if line.len() > self.max_line {
                return Err(Refusal::new(
                    552,
                    "5.3.4",
                    format!("a line is longer than {} bytes", self.max_line),
                ));
            }
            if in_header {
                header_bytes += line.len() + 1;
                if header_bytes > self.max_header_bytes {
                    return Err(Refusal::new(
                        552,
                        "5.3.4",
                        format!(
                            "the header section is longer than {} bytes",
                            self.max_header_bytes
                        ),
                    ));
                }
                if line.is_empty() || line == b"\r" {
                    in_header = false;
                } else if starts_with_ignore_case(line, b"received:") {
                    received += 1;
                    if received > self.max_received {
                        return Err(Refusal::new(
                            450,
                            "4.4.6",
                            format!(
                                "more than {} Received headers: a mail loop",
                                self.max_received
                            ),
                        ));
                    }
                }
            }
            boundaries += count_ignore_case(line, b"boundary=");
            if boundaries > self.max_boundaries {
                return Err(Refusal::new(
                    552,
                    "5.3.4",
                    format!("MIME nesting deeper than {} levels", self.max_boundaries),
                ));
            }
            continuations += continuations_in(line);
            if continuations > self.max_continuations {
                return Err(Refusal::new(
                    552,
                    "5.3.4",
                    format!(
                        "more than {} RFC 2231 parameter continuations",
                        self.max_continuations
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn starts_with_ignore_case(line: &[u8], prefix: &[u8]) -> bool {
    line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn count_ignore_case(line: &[u8], needle: &[u8]) -> usize {
    if line.len() < needle.len() {
        return 0;
    }
    line.windows(needle.len())
        .filter(|w| w.eq_ignore_ascii_case(needle))
        .count()
}

/// `*` followed by digits and then `=` or `*=`: one RFC 2231 continuation.
fn continuations_in(line: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'*' {
            let digits = line[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let after = i + 1 + digits;
            if digits > 0
                && (line.get(after) == Some(&b'=')
                    || (line.get(after) == Some(&b'*') && line.get(after + 1) == Some(&b'=')))
            {
                n += 1;
            }
            i = after.max(i + 1);
        } else {
            i += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &[u8]) -> Option<(u16, String)> {
        Limits::default()
            .check(raw)
            .err()
            .map(|r| (r.code, r.enhanced.to_owned()))
    }

    #[test]
    fn an_ordinary_message_passes() {
        let raw = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nHello\r\n";
        assert_eq!(refused(raw), None);
    }

    #[test]
    fn each_limit_refuses_with_its_code() {
        let big = vec![b'a'; 10_240_001];
        let long_line = [b"Subject: ".as_slice(), &[b'x'; 3_000]].concat();
        let long_header: Vec<u8> = (0..2_000)
            .flat_map(|i| format!("X-Filler-{i}: {}\r\n", "y".repeat(60)).into_bytes())
            .collect();
        let loop_: Vec<u8> = (0..51)
            .flat_map(|_| b"Received: from a by b\r\n".to_vec())
            .collect();
        let nesting: Vec<u8> = (0..101)
            .flat_map(|i| format!("Content-Type: multipart/mixed; boundary=b{i}\r\n").into_bytes())
            .collect();
        let flood = format!(
            "Content-Type: text/plain;{}\r\n",
            (0..1_001)
                .map(|i| format!(" n*{i}*=a;"))
                .collect::<String>()
        );
        let cases: [(&str, &[u8], u16, &str); 6] = [
            ("size", &big, 552, "5.3.4"),
            ("line", &long_line, 552, "5.3.4"),
            ("header", &long_header, 552, "5.3.4"),
            ("loop", &loop_, 450, "4.4.6"),
            ("nesting", &nesting, 552, "5.3.4"),
            ("rfc 2231 flood", flood.as_bytes(), 552, "5.3.4"),
        ];
        for (name, raw, code, enhanced) in cases {
            assert_eq!(
                refused(raw),
                Some((code, enhanced.to_owned())),
                "{name} is refused"
            );
        }
    }

    #[test]
    fn continuations_are_counted_not_stars() {
        assert_eq!(
            continuations_in(b"title*0=a; title*1*=b; x=*; y*=z; 2*3"),
            2
        );
    }
}
