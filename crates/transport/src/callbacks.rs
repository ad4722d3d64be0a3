//! Callback authentication: the tokens bellhop puts into the callback URLs it hands to
//! gateways (Kannel and generic providers sign nothing themselves), and Twilio's
//! `X-Twilio-Signature` (base64 HMAC-SHA1 of the URL and the sorted POST parameters).

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use uuid::Uuid;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;
type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// Where gateways reach bellhop, and the key its callback tokens are signed with.
#[derive(Clone)]
pub struct Callbacks {
    /// Base URL as the gateway sees it (`https://bellhop.example.com`), without a slash at
    /// the end.
    pub public_url: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Callbacks {
    /// Callbacks under `public_url`, signed with `key`.
    pub fn new(public_url: &str, key: &[u8]) -> Self {
        Callbacks {
            public_url: public_url.trim_end_matches('/').to_owned(),
            key: key.to_vec(),
        }
    }

    /// A hex HMAC-SHA256 of `purpose` and `subject` under the installation's key.
    pub fn sign(&self, purpose: &str, subject: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(subject.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `token` is `sign(purpose, subject)`, compared in constant time.
    pub fn verify(&self, purpose: &str, subject: &str, token: &str) -> bool {
        let Ok(bytes) = hex::decode(token) else {
            return false;
        };
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(subject.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }

    /// Seals `secret` for storage (XChaCha20-Poly1305 under a key derived from the
    /// installation key for `purpose`; a random nonce each time): base64 of nonce and
    /// ciphertext. Only this installation can open it.
    pub fn seal(&self, purpose: &str, secret: &str) -> String {
        use chacha20poly1305::aead::{Aead, AeadCore, KeyInit as _, OsRng};
        let cipher = chacha20poly1305::XChaCha20Poly1305::new(&self.sealing_key(purpose).into());
        let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(&nonce, secret.as_bytes())
            .expect("encryption of a short secret does not fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// Opens what `seal` sealed for `purpose`; `None` when it was sealed under another key
    /// or purpose, or changed.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<String> {
        use chacha20poly1305::aead::{Aead, KeyInit as _};
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().ok()?;
        let cipher = chacha20poly1305::XChaCha20Poly1305::new(&self.sealing_key(purpose).into());
        let plain = cipher
            .decrypt(&chacha20poly1305::XNonce::from(nonce), ciphertext)
            .ok()?;
        String::from_utf8(plain).ok()
    }

    fn sealing_key(&self, purpose: &str) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(b"seal\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The token of a message's delivery-report URL.
    pub fn delivery_token(&self, message_id: Uuid) -> String {
        self.sign("dlr", &message_id.to_string())
    }

    /// `{public_url}{path}?message=<id>&token=<token>`: a delivery-report URL only the
    /// gateway we gave it to can use, for one message.
    pub fn delivery_url(&self, path: &str, message_id: Uuid) -> String {
        format!(
            "{}{path}?message={message_id}&token={}",
            self.public_url,
            self.delivery_token(message_id)
        )
    }
}

/// Twilio's request signature: base64(HMAC-SHA1(auth token, URL + each POST parameter's name
/// and value, sorted by name then value)).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks an `X-Twilio-Signature`. Twilio signs the URL as it called it, which may or may not
/// carry the default port; both spellings are tried, as Twilio's own validators do.
pub fn twilio_verify(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let expected = signature.as_bytes();
    let candidates = [
        url.to_owned(),
        with_default_port(url),
        without_default_port(url),
    ];
    candidates
        .iter()
        .any(|u| constant_time_eq(twilio_signature(auth_token, u, params).as_bytes(), expected))
}

fn split_authority(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    Some((scheme, &rest[..end], &rest[end..]))
}

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "https" => Some("443"),
        "http" => Some("80"),
        _ => None,
    }
}

fn with_default_port(url: &str) -> String {
    match split_authority(url) {
        Some((scheme, host, rest)) if !host.contains(':') => match default_port(scheme) {
            Some(port) => format!("{scheme}://{host}:{port}{rest}"),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

fn without_default_port(url: &str) -> String {
    match split_authority(url) {
        Some((scheme, host, rest)) => match (host.rsplit_once(':'), default_port(scheme)) {
            (Some((bare, port)), Some(default)) if port == default => {
                format!("{scheme}://{bare}{rest}")
            }
            _ => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    // Vectors recomputed from twilio/twilio-python tests/unit/test_request_validator.py
    // (shared/research/standards-sms-consent-autoreply.md §4.3).
    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_purpose() {
        let key = Callbacks::new("http://x", b"installation key");
        let sealed = key.seal("alpinebits-poll", "pa55word");
        assert!(!sealed.contains("pa55word"));
        assert_ne!(
            sealed,
            key.seal("alpinebits-poll", "pa55word"),
            "a new nonce each time"
        );
        assert_eq!(
            key.open("alpinebits-poll", &sealed).as_deref(),
            Some("pa55word")
        );
        assert_eq!(key.open("other", &sealed), None);
        assert_eq!(
            Callbacks::new("http://x", b"another key").open("alpinebits-poll", &sealed),
            None
        );
        assert_eq!(key.open("alpinebits-poll", "not base64 at all"), None);
    }

    #[test]
    fn twilio_signatures_match_the_reference_vectors() {
        let p = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            twilio_signature("12345", url, &p),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert_eq!(
            twilio_signature(
                "12345",
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                &p
            ),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        assert!(twilio_verify(
            "12345",
            url,
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(
            twilio_verify("12345", url, &p, "kvajT1Ptam85bY51eRf/AJRuM3w="),
            "with :443"
        );
        assert!(!twilio_verify(
            "12345",
            url,
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B9="
        ));
        assert!(!twilio_verify(
            "54321",
            url,
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let dup = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            twilio_signature("12345", url, &dup),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
        assert!(twilio_verify(
            "12345",
            "http://mycompany.com:80/myapp.php?foo=1&bar=2",
            &p,
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
    }

    #[test]
    fn callback_tokens_bind_a_message_to_the_key() {
        let c = Callbacks::new("http://127.0.0.1:8080/", b"secret");
        let id = Uuid::from_u128(42);
        let token = c.delivery_token(id);
        assert!(c.verify("dlr", &id.to_string(), &token));
        assert!(!c.verify("dlr", &Uuid::from_u128(43).to_string(), &token));
        assert!(!c.verify("mo", &id.to_string(), &token));
        assert!(!Callbacks::new("x", b"other").verify("dlr", &id.to_string(), &token));
        assert!(!c.verify("dlr", &id.to_string(), "zz"));
        assert_eq!(
            c.delivery_url("/callbacks/sms/kannel/dlr", id),
            format!("http://127.0.0.1:8080/callbacks/sms/kannel/dlr?message={id}&token={token}")
        );
    }
}
