//! SMS text: the GSM-7/UCS-2 segmenter (with and without smart encoding), the send check,
//! the keyword classifier and the opt-out line, on any text. Never panic; the parts must
//! hold the text.
#![no_main]

use bellhop_domain::sms::segment::{analyze, check_sendable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for smart in [false, true] {
        let analysis = analyze(&text, smart);
        assert_eq!(analysis.parts.concat(), analysis.text);
        let _ = check_sendable(&text, smart);
    }
    let _ = bellhop_domain::sms::keyword::classify(&text);
    let _ = bellhop_domain::sms::opt_out_line(&text, "de", true);
});
