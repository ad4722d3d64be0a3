//! Inbound mail without I/O: the hard limits a raw message passes before any parser sees it
//! (`limits`), the view of a parsed message an autoresponder needs (`mail`, on mail-parser
//! 0.11), the RFC 3834 / RFC 5230 decision whether to answer and the shape of the answer
//! (`decide`), the language of a mail (`language`), and the SMTP server session as a state
//! machine that a listener drives line by line (`session`).

pub mod decide;
pub mod language;
pub mod limits;
pub mod mail;
pub mod session;

pub use decide::{Decision, Envelope, Explanation, NoReply, ReplyShape, decide, explain};
pub use limits::{Limits, Refusal};
pub use mail::Incoming;
