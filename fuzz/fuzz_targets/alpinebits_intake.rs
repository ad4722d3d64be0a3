//! Everything the AlpineBits endpoint hands to the intake: any bytes as a GuestRequests
//! message, a handshake and an acknowledgement. Refusing is fine; panicking, hanging or
//! growing without bound is not.
#![no_main]

use bellhop_alpinebits::{Limits, handshake, parse_guest_requests, read_acks};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    if let Ok(read) = parse_guest_requests(xml, &limits) {
        for g in &read.reservations {
            // What is taken must pass the checks every channel reservation passes.
            assert!(g.reservation.check(false).is_ok());
        }
    }
    let _ = handshake(xml, &limits);
    let _ = read_acks(xml, &limits);
});
