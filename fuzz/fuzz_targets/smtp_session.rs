//! The SMTP session state machine on any sequence of command lines: never a panic, and every
//! step is a reply the listener can send.
#![no_main]

use bellhop_inbound::session::{Session, SessionLimits, Step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut session = Session::new("mx.hotel.example", SessionLimits::default()).offering_tls();
    for line in data.split_inclusive(|b| *b == b'\n') {
        match session.command(line) {
            Step::Reply(r) | Step::Close(r) => assert!(r.ends_with("\r\n")),
            Step::CheckSender(a) => {
                let ok = a.len() % 2 == 0;
                let _ = session.sender(a, if ok { Ok(()) } else { Err("451 4.7.1 later".into()) });
            }
            Step::CheckRecipient(a) => {
                let ok = a.ends_with("@hotel.example");
                let _ = session.recipient(a, if ok { Ok(()) } else { Err("550 5.1.1 no".into()) });
            }
            Step::ReadData => {
                let _ = session.take_envelope();
            }
            Step::StartTls => session.tls_started(),
        }
    }
});
