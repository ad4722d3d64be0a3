//! Links customers follow without logging in: one-click unsubscribe, the consent page and the
//! double opt-in confirmation. Each token is opaque to the reader and signed with the
//! installation's key (HMAC-SHA256, truncated to 128 bits): it names what it is for, and the
//! page checks the signature before it reads anything.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bellhop_transport::callbacks::{Callbacks, constant_time_eq};
use jiff::Timestamp;
use uuid::Uuid;

const MAC_HEX: usize = 32;

fn seal(signer: &Callbacks, purpose: &str, payload: &[u8]) -> String {
    let mac = signer.sign(purpose, &hex(payload));
    let mut bytes = payload.to_vec();
    bytes.extend(
        (0..MAC_HEX)
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&mac[i..i + 2], 16).ok()),
    );
    URL_SAFE_NO_PAD.encode(bytes)
}

fn open(signer: &Callbacks, purpose: &str, token: &str, payload_len: usize) -> Option<Vec<u8>> {
    if token.len() > 200 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() != payload_len + MAC_HEX / 2 {
        return None;
    }
    let (payload, mac) = bytes.split_at(payload_len);
    let expected = signer.sign(purpose, &hex(payload));
    let expected: Vec<u8> = (0..MAC_HEX)
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&expected[i..i + 2], 16).ok())
        .collect();
    constant_time_eq(mac, &expected).then(|| payload.to_vec())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn uuid_at(bytes: &[u8], at: usize) -> Uuid {
    let mut id = [0u8; 16];
    id.copy_from_slice(&bytes[at..at + 16]);
    Uuid::from_bytes(id)
}

/// A contact at a property: what an unsubscribe or consent link is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkSubject {
    /// The contact.
    pub contact: Uuid,
    /// The property whose mail carried the link.
    pub property: Uuid,
}

/// The token of a contact's unsubscribe link at a property (it does not expire: a mail may
/// be read months later).
pub fn unsubscribe_token(signer: &Callbacks, subject: LinkSubject) -> String {
    let mut payload = subject.contact.as_bytes().to_vec();
    payload.extend(subject.property.as_bytes());
    seal(signer, "unsubscribe", &payload)
}

/// What an unsubscribe token names, when its signature holds.
pub fn read_unsubscribe_token(signer: &Callbacks, token: &str) -> Option<LinkSubject> {
    let payload = open(signer, "unsubscribe", token, 32)?;
    Some(LinkSubject {
        contact: uuid_at(&payload, 0),
        property: uuid_at(&payload, 16),
    })
}

/// The token of a consent page link, valid until `expires_at`.
pub fn consent_page_token(
    signer: &Callbacks,
    subject: LinkSubject,
    expires_at: Timestamp,
) -> String {
    let mut payload = subject.contact.as_bytes().to_vec();
    payload.extend(subject.property.as_bytes());
    payload.extend(expires_at.as_second().to_be_bytes());
    seal(signer, "consent_page", &payload)
}

/// Why a consent page link does not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkRefused {
    /// Not a token bellhop signed (or it was changed).
    Invalid,
    /// Signed, but past its time.
    Expired,
}

/// What a consent page token names, when its signature holds and it has not expired.
pub fn read_consent_page_token(
    signer: &Callbacks,
    token: &str,
    now: Timestamp,
) -> Result<LinkSubject, LinkRefused> {
    let payload = open(signer, "consent_page", token, 40).ok_or(LinkRefused::Invalid)?;
    let mut secs = [0u8; 8];
    secs.copy_from_slice(&payload[32..40]);
    let expires =
        Timestamp::from_second(i64::from_be_bytes(secs)).map_err(|_| LinkRefused::Invalid)?;
    if now >= expires {
        return Err(LinkRefused::Expired);
    }
    Ok(LinkSubject {
        contact: uuid_at(&payload, 0),
        property: uuid_at(&payload, 16),
    })
}

/// The token of a double opt-in confirmation link.
pub fn confirmation_token(signer: &Callbacks, confirmation: Uuid) -> String {
    seal(signer, "consent_confirm", confirmation.as_bytes())
}

/// The confirmation a token names, when its signature holds.
pub fn read_confirmation_token(signer: &Callbacks, token: &str) -> Option<Uuid> {
    open(signer, "consent_confirm", token, 16).map(|p| uuid_at(&p, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(key: &[u8]) -> Callbacks {
        Callbacks::new("https://bellhop.example", key)
    }

    #[test]
    fn a_token_reads_back_only_unchanged_and_under_its_own_key_and_purpose() {
        let s = signer(b"key-1");
        let subject = LinkSubject {
            contact: Uuid::from_u128(7),
            property: Uuid::from_u128(9),
        };
        let token = unsubscribe_token(&s, subject);
        assert_eq!(read_unsubscribe_token(&s, &token), Some(subject));
        assert_eq!(read_unsubscribe_token(&signer(b"key-2"), &token), None);
        let mut tampered = token.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(read_unsubscribe_token(&s, &tampered), None);
        // An unsubscribe token does not open the consent page, nor a confirmation.
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        assert_eq!(
            read_consent_page_token(&s, &token, now),
            Err(LinkRefused::Invalid)
        );
        assert_eq!(read_confirmation_token(&s, &token), None);
        assert_eq!(read_unsubscribe_token(&s, "not base64 !"), None);
    }

    proptest::proptest! {
        /// Whatever a link carries, reading it never panics and never yields a subject
        /// bellhop did not sign.
        #[test]
        fn any_text_as_a_token_is_refused_without_panicking(token in "\\PC{0,300}") {
            let s = signer(b"key");
            let now = Timestamp::from_second(1_800_000_000).unwrap();
            proptest::prop_assert!(read_unsubscribe_token(&s, &token).is_none());
            proptest::prop_assert!(read_confirmation_token(&s, &token).is_none());
            proptest::prop_assert!(read_consent_page_token(&s, &token, now).is_err());
        }

        /// Well-formed tokens of the right length with a wrong signature are refused too.
        #[test]
        fn forged_tokens_of_the_right_shape_are_refused(bytes in proptest::collection::vec(0u8..=255, 48)) {
            let s = signer(b"key");
            let token = URL_SAFE_NO_PAD.encode(&bytes);
            proptest::prop_assert!(read_unsubscribe_token(&s, &token).is_none());
        }
    }

    #[test]
    fn a_consent_page_token_expires() {
        let s = signer(b"key");
        let subject = LinkSubject {
            contact: Uuid::from_u128(1),
            property: Uuid::from_u128(2),
        };
        let until = Timestamp::from_second(1_800_000_000).unwrap();
        let token = consent_page_token(&s, subject, until);
        let before = Timestamp::from_second(1_799_999_999).unwrap();
        assert_eq!(read_consent_page_token(&s, &token, before), Ok(subject));
        assert_eq!(
            read_consent_page_token(&s, &token, until),
            Err(LinkRefused::Expired)
        );
    }
}
