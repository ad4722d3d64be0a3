//! Inbound mail: the limits, mail-parser 0.11 behind them, the decision and the language, on
//! any bytes. Nothing may panic, and every accepted message must be decided.
#![no_main]

use bellhop_inbound::{Envelope, Incoming, Limits, decide, language};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(mail) = Incoming::parse(data, &limits) {
        let addresses = vec!["kontakt@hotel.example".to_owned()];
        let envelope = Envelope {
            from: mail.return_path.clone(),
            to: Some("kontakt@hotel.example".to_owned()),
        };
        let _ = decide(&addresses, &envelope, &mail);
        let _ = language::of(&mail);
    }
});
