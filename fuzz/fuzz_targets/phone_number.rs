//! Phone numbers as guests and channels write them: normalised in a country (the first bytes
//! choose one) or as E.164, inspected, and a result must read back as itself.
#![no_main]

use bellhop_domain::phone::{E164, inspect, normalize};
use libfuzzer_sys::fuzz_target;

const COUNTRIES: [Option<&str>; 6] = [None, Some("AT"), Some("DE"), Some("PL"), Some("US"), Some("ZZ")];

// The numbering plans load on first use (seconds under the sanitizer): before the clock runs.
fuzz_target!(init: { let _ = normalize("+43 664 1234567", None); }, |data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let country = COUNTRIES[usize::from(first) % COUNTRIES.len()];
    let input = String::from_utf8_lossy(rest);
    if let Ok(number) = normalize(&input, country) {
        let e164 = number.e164.as_str().to_owned();
        let again = E164::parse(&e164).expect("a normalised number parses as E.164");
        assert_eq!(again.as_str(), e164);
    }
    let _ = inspect(&input, country);
    let _ = E164::parse(&input);
});
