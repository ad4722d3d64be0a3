//! Where bellhop may connect when a user names the target (webhooks, AlpineBits servers,
//! IMAP hosts, logo URLs): public addresses, and the private ranges the operator's allow-list
//! names. Checked twice: on the URL as saved (IP literals in any spelling the URL standard
//! reads: `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`, `[::ffff:127.0.0.1]`), and on
//! every address a name resolves to when it is dialled, so a name that resolves to 127.0.0.1
//! today (DNS rebinding) is never dialled. Redirects are never followed by the callers.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Whether an address is publicly routable: not unspecified, loopback, private, shared
/// (100.64/10), link-local (and so not 169.254.169.254, the cloud metadata service),
/// documentation, benchmarking (198.18/15), IETF protocol (192.0.0/24), multicast, broadcast
/// or reserved; for IPv6 also not unique-local, link-local, IPv4-compatible, and the IPv4
/// address inside a mapped (`::ffff:`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`) one is
/// checked as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(Ipv4Addr::new(
                    (hi >> 8) as u8,
                    hi as u8,
                    (lo >> 8) as u8,
                    lo as u8,
                ))
            };
            if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return is_public(embedded(s[1], s[2]));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[0..6] == [0, 0, 0, 0, 0, 0])
        }
    }
}

/// The targets a kind of outbound connection may reach beyond the public internet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutboundPolicy {
    /// Private ranges the operator allows (on-premise channel managers, a local IMAP server).
    allow: Vec<IpNet>,
    /// Every address (the older `allow_private_*` switches, and tests on 127.0.0.1).
    anywhere: bool,
}

impl OutboundPolicy {
    /// Public addresses only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Public addresses and every private one.
    pub fn anywhere() -> Self {
        OutboundPolicy {
            allow: Vec::new(),
            anywhere: true,
        }
    }

    /// Public addresses and `ranges` (`10.20.0.0/16`, `127.0.0.1`, `fd00::/8`); an entry
    /// that is not an address or a range is named in the error.
    pub fn allowing<S: AsRef<str>>(ranges: &[S]) -> Result<Self, String> {
        let allow = ranges
            .iter()
            .map(|r| {
                let r = r.as_ref().trim();
                r.parse::<IpNet>()
                    .or_else(|_| r.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{r:?} is not an IP address or a CIDR range"))
            })
            .collect::<Result<_, _>>()?;
        Ok(OutboundPolicy {
            allow,
            anywhere: false,
        })
    }

    /// This policy, also allowing every private address when `anywhere`.
    pub fn or_anywhere(mut self, anywhere: bool) -> Self {
        self.anywhere |= anywhere;
        self
    }

    /// Whether `ip` may be dialled.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.anywhere
            || is_public(ip)
            || self.allow.iter().any(|net| {
                net.contains(&ip)
                    || matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| net.contains(&IpAddr::V4(v4))))
            })
    }

    fn refusal(&self, ip: IpAddr) -> String {
        format!(
            "{ip} is not a public address (an operator can allow private targets in the \
             configuration: outbound.allow)"
        )
    }

    /// Checks a URL as it is saved: http or https, a host, no user or password in it, and an
    /// IP literal (or `localhost`) only where permitted. Names are checked when resolved.
    pub fn check_url(&self, url: &str) -> Result<url::Url, String> {
        let parsed = url::Url::parse(url.trim()).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http and https URLs are allowed".into());
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("put no user or password in the URL".into());
        }
        match parsed.host().ok_or("the URL has no host")? {
            url::Host::Ipv4(v4) => self.check_ip(IpAddr::V4(v4))?,
            url::Host::Ipv6(v6) => self.check_ip(IpAddr::V6(v6))?,
            url::Host::Domain(name) => self.check_name(name)?,
        }
        Ok(parsed)
    }

    /// [`check_url`](Self::check_url), and a name is resolved now too: one that resolves
    /// only to addresses not permitted is refused while the user is still there to see why.
    /// A name that does not resolve now is kept (it is checked again whenever it is dialled).
    pub async fn check_url_now(&self, url: &str) -> Result<url::Url, String> {
        let parsed = self.check_url(url)?;
        if let Some(url::Host::Domain(name)) = parsed.host() {
            self.refused_when_resolved(name, parsed.port_or_known_default().unwrap_or(80))
                .await?;
        }
        Ok(parsed)
    }

    /// [`check_host`](Self::check_host), with a name resolved now as in
    /// [`check_url_now`](Self::check_url_now).
    pub async fn check_host_now(&self, host: &str, port: u16) -> Result<(), String> {
        self.check_host(host)?;
        let host = host.trim();
        if host.parse::<IpAddr>().is_err() && !host.starts_with('[') {
            self.refused_when_resolved(host, port).await?;
        }
        Ok(())
    }

    async fn refused_when_resolved(&self, name: &str, port: u16) -> Result<(), String> {
        match self.resolve(name, port).await {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(e.to_string()),
            _ => Ok(()),
        }
    }

    /// Checks a bare host name or address (an IMAP server's).
    pub fn check_host(&self, host: &str) -> Result<(), String> {
        let host = host.trim();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return self.check_ip(ip);
        }
        if host.is_empty()
            || host.len() > 253
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err("not a host name".into());
        }
        self.check_name(host)
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(self.refusal(ip))
        }
    }

    fn check_name(&self, name: &str) -> Result<(), String> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return self.check_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        Ok(())
    }

    /// The addresses `host` resolves to that may be dialled; an error when none may.
    pub async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
        let permitted: Vec<SocketAddr> = found
            .iter()
            .copied()
            .filter(|a| self.permits(a.ip()))
            .collect();
        if permitted.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                match found.first() {
                    Some(a) => format!("{host} resolves to {}: {}", a.ip(), self.refusal(a.ip())),
                    None => format!("{host} resolves to no address"),
                },
            ));
        }
        Ok(permitted)
    }

    /// A resolver for reqwest that keeps this policy on every name it dials.
    pub fn resolver(&self) -> Arc<dyn reqwest::dns::Resolve> {
        Arc::new(PolicyResolver(Arc::new(self.clone())))
    }
}

#[derive(Debug)]
struct PolicyResolver(Arc<OutboundPolicy>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let found = policy.resolve(name.as_str(), 0).await?;
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A name (not `localhost`) this machine resolves to a loopback or private address: its
    /// own host name, or Debian's `ip6-localhost`.
    pub(crate) async fn a_name_resolving_to_a_private_address() -> String {
        let own = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        for name in [own.trim(), "ip6-localhost", "ip6-loopback"] {
            if name.is_empty() || OutboundPolicy::public_only().check_host(name).is_err() {
                continue;
            }
            if let Ok(found) = tokio::net::lookup_host((name, 0)).await
                && found.into_iter().any(|a| !is_public(a.ip()))
            {
                return name.to_owned();
            }
        }
        panic!("no name on this machine resolves to a private address (/etc/hosts)")
    }

    #[tokio::test]
    async fn a_name_is_dialled_only_at_the_addresses_the_policy_permits() {
        let name = a_name_resolving_to_a_private_address().await;
        let refused = OutboundPolicy::public_only()
            .resolve(&name, 80)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("not a public address"),
            "{refused}"
        );
        assert!(
            !OutboundPolicy::anywhere()
                .resolve(&name, 80)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn addresses_are_public_or_not_by_their_range_in_every_spelling() {
        let cases: &[(&str, bool)] = &[
            ("93.184.216.34", true),
            ("2606:2800:220:1:248:1893:25c8:1946", true),
            ("127.0.0.1", false),
            ("10.9.8.7", false),
            ("100.64.0.1", false),
            ("169.254.169.254", false),
            ("172.16.0.1", false),
            ("192.0.0.8", false),
            ("192.168.1.1", false),
            ("198.18.0.1", false),
            ("224.0.0.1", false),
            ("240.0.0.1", false),
            ("255.255.255.255", false),
            ("0.0.0.0", false),
            ("::", false),
            ("::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:93.184.216.34", true),
            ("::127.0.0.1", false),
            ("64:ff9b::7f00:1", false),
            ("64:ff9b::5db8:d822", true),
            ("2002:7f00:1::", false),
            ("fc00::1", false),
            ("fd12:3456::1", false),
            ("fe80::1", false),
            ("ff02::1", false),
            ("2001:db8::1", false),
        ];
        for (ip, public) in cases {
            assert_eq!(is_public(ip.parse().unwrap()), *public, "{ip}");
        }
    }

    #[test]
    fn an_allow_list_opens_exactly_its_ranges() {
        let policy = OutboundPolicy::allowing(&["10.20.0.0/16", "127.0.0.2"]).unwrap();
        assert!(policy.permits("10.20.3.4".parse().unwrap()));
        assert!(policy.permits("::ffff:10.20.3.4".parse().unwrap()));
        assert!(policy.permits("127.0.0.2".parse().unwrap()));
        assert!(!policy.permits("127.0.0.1".parse().unwrap()));
        assert!(!policy.permits("10.21.0.1".parse().unwrap()));
        assert!(policy.check_url("http://10.20.0.9:8080/hook").is_ok());
        assert!(policy.check_url("http://10.21.0.9/hook").is_err());
        let bad = OutboundPolicy::allowing(&["10.0.0.0/33"]).unwrap_err();
        assert!(bad.contains("10.0.0.0/33"), "{bad}");
    }

    #[test]
    fn urls_are_refused_for_their_scheme_credentials_or_literal_address() {
        let policy = OutboundPolicy::public_only();
        for url in [
            "http://127.0.0.1/hook",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "http://user:pw@example.com/",
            "http://[example.com]/",
        ] {
            assert!(policy.check_url(url).is_err(), "{url} accepted");
        }
        assert!(
            policy
                .check_url("https://channel.example.com/bellhop")
                .is_ok()
        );
        assert!(policy.check_url("http://93.184.216.34/hook").is_ok());
        for host in ["imap.example.com", "93.184.216.34"] {
            assert!(policy.check_host(host).is_ok(), "{host}");
        }
        for host in [
            "localhost",
            "127.0.0.1",
            "[::1]",
            "10.0.0.1",
            "a b",
            "x/y",
            "",
        ] {
            assert!(policy.check_host(host).is_err(), "{host}");
        }
    }
}
