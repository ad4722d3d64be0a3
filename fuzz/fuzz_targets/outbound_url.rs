//! The SSRF rules on any URL or host a user could save: never panic, and whatever is
//! accepted has a public address where it names one.
#![no_main]

use bellhop_transport::ssrf::{OutboundPolicy, is_public};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let policy = OutboundPolicy::public_only();
    if let Ok(url) = policy.check_url(&text) {
        assert!(matches!(url.scheme(), "http" | "https"));
        match url.host() {
            Some(url::Host::Ipv4(ip)) => assert!(is_public(ip.into()), "{text}"),
            Some(url::Host::Ipv6(ip)) => assert!(is_public(ip.into()), "{text}"),
            Some(url::Host::Domain(name)) => assert!(!name.eq_ignore_ascii_case("localhost")),
            None => panic!("accepted without a host: {text}"),
        }
    }
    if policy.check_host(&text).is_ok()
        && let Ok(ip) = text.trim().trim_matches(['[', ']']).parse::<std::net::IpAddr>()
    {
        assert!(is_public(ip), "{text}");
    }
});
