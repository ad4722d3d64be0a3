//! Contacts: the guests and customers messages go to.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use uuid::Uuid;

/// A guest or customer of one account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Stable id.
    pub id: Uuid,
    /// Owning account.
    pub account_id: Uuid,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Email address.
    pub email: Option<EmailAddress>,
    /// Phone number as given.
    pub phone: Option<String>,
    /// The phone number in E.164, read in the country it was entered for.
    pub phone_e164: Option<crate::phone::E164>,
    /// Mobile, fixed line, ...
    pub phone_type: Option<crate::phone::PhoneType>,
    /// Preferred language.
    pub language: Option<crate::language::LanguageTag>,
    /// Street address.
    pub address: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Country of residence (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Nationality (ISO 3166-1 alpha-2).
    pub nationality: Option<String>,
    /// Birth date.
    pub birth_date: Option<Date>,
}

/// Guest data a rule can require to be missing (the "before arrival without guest data" mail).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuestField {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Email address.
    Email,
    /// Phone number.
    Phone,
    /// Street address.
    Address,
    /// Postal code.
    PostalCode,
    /// City.
    City,
    /// Country of residence.
    Country,
    /// Nationality.
    Nationality,
    /// Birth date.
    BirthDate,
}

impl GuestField {
    /// Every field, for help texts.
    pub const ALL: [GuestField; 10] = [
        Self::FirstName,
        Self::LastName,
        Self::Email,
        Self::Phone,
        Self::Address,
        Self::PostalCode,
        Self::City,
        Self::Country,
        Self::Nationality,
        Self::BirthDate,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Address => "address",
            Self::PostalCode => "postal_code",
            Self::City => "city",
            Self::Country => "country",
            Self::Nationality => "nationality",
            Self::BirthDate => "birth_date",
        }
    }
}

impl FromStr for GuestField {
    type Err = crate::booking::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| crate::booking::UnknownName {
                what: "guest field",
                name: s.to_owned(),
            })
    }
}

fn present<S: AsRef<str>>(value: &Option<S>) -> bool {
    value
        .as_ref()
        .is_some_and(|v| !v.as_ref().trim().is_empty())
}

impl Contact {
    /// Whether the contact has a non-empty value for `field`.
    pub fn has(&self, field: GuestField) -> bool {
        match field {
            GuestField::FirstName => present(&self.first_name),
            GuestField::LastName => present(&self.last_name),
            GuestField::Email => present(&self.email),
            GuestField::Phone => present(&self.phone),
            GuestField::Address => present(&self.address),
            GuestField::PostalCode => present(&self.postal_code),
            GuestField::City => present(&self.city),
            GuestField::Country => present(&self.country),
            GuestField::Nationality => present(&self.nationality),
            GuestField::BirthDate => self.birth_date.is_some(),
        }
    }

    /// "First Last", or whichever part exists.
    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|p| p.as_deref().map(str::trim).filter(|p| !p.is_empty()))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// An email address a relay will take: see [`validate_email`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Checks `address` (see [`validate_email`]); surrounding spaces are dropped.
    pub fn parse(address: &str) -> Result<EmailAddress, String> {
        let address = address.trim();
        validate_email(address)?;
        Ok(EmailAddress(address.to_owned()))
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

checked_text!(EmailAddress, String);

/// Checks the shape of an email address: one `@`, a local part, a dotted domain, no spaces or
/// control characters. Deliverability is the SMTP server's business.
pub fn validate_email(address: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("invalid email address {address:?}: {why}"));
    if address.len() > 254 {
        return fail("longer than 254 characters");
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("contains spaces or control characters");
    }
    if address
        .chars()
        .any(|c| matches!(c, '<' | '>' | ',' | ';' | '"' | '(' | ')'))
    {
        return fail("contains characters not allowed in an address");
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return fail("no @");
    };
    if local.is_empty() || local.contains('@') {
        return fail("the part before @ is empty or has another @");
    }
    // Relays without SMTPUTF8 (most) refuse anything else before @: refuse it here, not at
    // send time.
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if local.len() > 64
        || !local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(atext))
    {
        return fail(
            "the part before @ must be ASCII letters, digits, dots or !#$%&'*+-/=?^_`{|}~",
        );
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.chars().count() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if !domain.contains('.') || !domain.split('.').all(label_ok) {
        return fail("the domain must be a name such as example.com");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes_are_checked() {
        for good in [
            "anna@example.com",
            "a.b+c@mail.example.at",
            "o'brien@example.ie",
            "info@müller-reisen.de",
        ] {
            assert!(validate_email(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.com",
            "anna@example",
            "a b@example.com",
            "anna@example.com\r\nBcc: x@y.z",
            "a@b@example.com",
            "<anna@example.com>",
            "😀@example.com",
            "jürgen@example.com",
            ".anna@example.com",
            "an..na@example.com",
            "anna@exa_mple.com",
            "anna@-example.com",
            "anna@example..com",
            "anna@😀.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn blank_values_count_as_missing() {
        let contact = Contact {
            first_name: Some("  ".into()),
            ..Contact::default()
        };
        assert!(!contact.has(GuestField::FirstName));
        assert_eq!(contact.full_name(), None);
    }
}
