//! Phone numbers: parsed with a default country (the property's), stored as E.164 with the raw
//! input kept, and classified (mobile, fixed line, ...) with libphonenumber's metadata
//! (crate `phonenumber`). The type decides the channel: SMS to mobiles, a voice call or
//! nothing to landlines.

use phonenumber::country;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// libphonenumber's number types, in snake_case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneType {
    /// A mobile number.
    Mobile,
    /// A landline.
    FixedLine,
    /// Either; undecidable from the number (USA, Canada).
    FixedLineOrMobile,
    /// Freephone.
    TollFree,
    /// Premium rate.
    PremiumRate,
    /// Shared cost.
    SharedCost,
    /// Voice over IP.
    Voip,
    /// A personal number routed to another line.
    PersonalNumber,
    /// A pager.
    Pager,
    /// A company number ("universal access").
    Uan,
    /// Voicemail access.
    Voicemail,
    /// An emergency number.
    Emergency,
    /// A short code.
    ShortCode,
    /// A standard-rate service number.
    StandardRate,
    /// A carrier-specific number.
    Carrier,
    /// Not reachable from abroad.
    NoInternational,
    /// Fits no known pattern.
    Unknown,
}

impl PhoneType {
    /// Every type.
    pub const ALL: [PhoneType; 17] = [
        Self::Mobile,
        Self::FixedLine,
        Self::FixedLineOrMobile,
        Self::TollFree,
        Self::PremiumRate,
        Self::SharedCost,
        Self::Voip,
        Self::PersonalNumber,
        Self::Pager,
        Self::Uan,
        Self::Voicemail,
        Self::Emergency,
        Self::ShortCode,
        Self::StandardRate,
        Self::Carrier,
        Self::NoInternational,
        Self::Unknown,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::FixedLine => "fixed_line",
            Self::FixedLineOrMobile => "fixed_line_or_mobile",
            Self::TollFree => "toll_free",
            Self::PremiumRate => "premium_rate",
            Self::SharedCost => "shared_cost",
            Self::Voip => "voip",
            Self::PersonalNumber => "personal_number",
            Self::Pager => "pager",
            Self::Uan => "uan",
            Self::Voicemail => "voicemail",
            Self::Emergency => "emergency",
            Self::ShortCode => "short_code",
            Self::StandardRate => "standard_rate",
            Self::Carrier => "carrier",
            Self::NoInternational => "no_international",
            Self::Unknown => "unknown",
        }
    }

    /// What an SMS to this kind of number does.
    pub fn sms_route(self) -> SmsRoute {
        match self {
            Self::Mobile | Self::FixedLineOrMobile | Self::PersonalNumber => SmsRoute::Text,
            Self::FixedLine => SmsRoute::Landline,
            _ => SmsRoute::Unsuitable,
        }
    }

    fn from_lib(t: phonenumber::Type) -> PhoneType {
        use phonenumber::Type as T;
        match t {
            T::FixedLine => Self::FixedLine,
            T::Mobile => Self::Mobile,
            T::FixedLineOrMobile => Self::FixedLineOrMobile,
            T::TollFree => Self::TollFree,
            T::PremiumRate => Self::PremiumRate,
            T::SharedCost => Self::SharedCost,
            T::PersonalNumber => Self::PersonalNumber,
            T::Voip => Self::Voip,
            T::Pager => Self::Pager,
            T::Uan => Self::Uan,
            T::Emergency => Self::Emergency,
            T::Voicemail => Self::Voicemail,
            T::ShortCode => Self::ShortCode,
            T::StandardRate => Self::StandardRate,
            T::Carrier => Self::Carrier,
            T::NoInternational => Self::NoInternational,
            T::Unknown => Self::Unknown,
        }
    }
}

impl fmt::Display for PhoneType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PhoneType {
    type Err = crate::booking::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| crate::booking::UnknownName {
                what: "phone number type",
                name: s.to_owned(),
            })
    }
}

/// How an SMS reaches a number of a given type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsRoute {
    /// A text message.
    Text,
    /// A landline: a voice call if the property enabled it, otherwise nothing.
    Landline,
    /// Never text it (toll-free, premium rate, short codes, unknown).
    Unsuitable,
}

/// A phone number in E.164 (`+4366412345678`), as [`normalize`] writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

impl E164 {
    /// Checks the shape: `+`, then 2 to 15 digits, the first not 0.
    pub fn parse(number: &str) -> Result<E164, PhoneError> {
        let digits = number.strip_prefix('+').unwrap_or("");
        if (2..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
        {
            Ok(E164(number.to_owned()))
        } else {
            Err(PhoneError::Unparsable {
                input: number.to_owned(),
                why: "not in E.164 form such as +4366412345678".to_owned(),
            })
        }
    }
}

checked_text!(E164, PhoneError);

/// A number that parsed and is valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumber {
    /// As given.
    pub raw: String,
    /// E.164, such as `+4366412345678`.
    pub e164: E164,
    /// Mobile, fixed line, ...
    #[serde(rename = "type")]
    pub kind: PhoneType,
}

/// Why a number is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Nothing given.
    #[error("the phone number is empty")]
    Empty,
    /// Longer than any phone number with formatting.
    #[error("the phone number is longer than 40 characters")]
    TooLong,
    /// Not a country code bellhop knows.
    #[error("{0:?} is not a two-letter country code such as \"AT\"")]
    UnknownCountry(String),
    /// A national number without a country to read it in.
    #[error("{0:?} has no country code: write it in international format such as +43 664 1234567")]
    NoCountry(String),
    /// Does not parse as a phone number.
    #[error("{input:?} is not a phone number: {why}")]
    Unparsable {
        /// As given.
        input: String,
        /// The parser's reason.
        why: String,
    },
    /// Parses, but no such number exists in its country's numbering plan.
    #[error("{input:?} is not a valid number{}", region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default())]
    Invalid {
        /// As given.
        input: String,
        /// The country it was read in.
        region: Option<String>,
    },
}

/// What `inspect` found: the diagnostics shown to staff and support.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhoneInspection {
    /// As given.
    pub input: String,
    /// The default country used.
    pub default_country: Option<String>,
    /// A valid number.
    pub valid: bool,
    /// E.164 when it parsed (even if invalid, so support sees what it was read as).
    pub e164: Option<String>,
    /// The type, when valid.
    #[serde(rename = "type")]
    pub kind: Option<PhoneType>,
    /// Country of the number (ISO 3166-1 alpha-2), when known.
    pub country: Option<String>,
    /// Calling code.
    pub country_code: Option<u16>,
    /// National format, such as `0664 1234567`.
    pub national: Option<String>,
    /// International format, such as `+43 664 1234567`.
    pub international: Option<String>,
    /// Why it is not valid.
    pub error: Option<String>,
}

/// Checks a default country code such as `AT`.
pub fn check_country(code: &str) -> Result<(), PhoneError> {
    region(code).map(|_| ())
}

fn region(code: &str) -> Result<country::Id, PhoneError> {
    let upper = code.trim().to_ascii_uppercase();
    if upper.len() != 2 {
        return Err(PhoneError::UnknownCountry(code.to_owned()));
    }
    upper
        .parse::<country::Id>()
        .map_err(|_| PhoneError::UnknownCountry(code.to_owned()))
}

fn parse_lib(
    input: &str,
    default_country: Option<&str>,
) -> Result<phonenumber::PhoneNumber, PhoneError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    if trimmed.chars().count() > 40 {
        return Err(PhoneError::TooLong);
    }
    let region = default_country.map(region).transpose()?;
    phonenumber::parse(region, trimmed).map_err(|e| {
        if region.is_none() && !trimmed.starts_with('+') && !trimmed.starts_with("00") {
            PhoneError::NoCountry(trimmed.to_owned())
        } else {
            PhoneError::Unparsable {
                input: trimmed.to_owned(),
                why: e.to_string(),
            }
        }
    })
}

/// The number's type, read from its national number *with* its leading zeros. The
/// phonenumber crate's own `number_type` drops them (Italy, San Marino and the Vatican keep
/// the trunk zero in international form; Côte d'Ivoire, Congo and Gabon have numbers that
/// start with 0), so that an Italian landline came out `Unknown` although it is valid.
/// Among the regions sharing a country code, libphonenumber's rule picks the region: the
/// one whose leading digits the number has, else the first in which it has a type.
fn number_type(n: &phonenumber::PhoneNumber) -> phonenumber::Type {
    let national = n.national().to_string();
    let Some(candidates) = phonenumber::metadata::DATABASE.by_code(&n.country().code()) else {
        return phonenumber::Type::Unknown;
    };
    let starts_with_its_digits = |m: &phonenumber::Metadata| {
        m.leading_digits()
            .is_some_and(|r| r.find(&national).is_some_and(|found| found.start() == 0))
    };
    if let Some(meta) = candidates.iter().find(|m| starts_with_its_digits(m)) {
        return type_in(meta, &national);
    }
    candidates
        .iter()
        .map(|meta| type_in(meta, &national))
        .find(|t| *t != phonenumber::Type::Unknown)
        .unwrap_or(phonenumber::Type::Unknown)
}

fn type_in(meta: &phonenumber::Metadata, national: &str) -> phonenumber::Type {
    use phonenumber::Type as T;
    let descriptors = meta.descriptors();
    let matches = |kind: T| descriptors.get(kind).is_some_and(|d| d.is_match(national));
    if !descriptors.general().is_match(national) {
        return T::Unknown;
    }
    // libphonenumber's order: the special kinds first, then fixed line and mobile.
    for kind in [
        T::PremiumRate,
        T::TollFree,
        T::SharedCost,
        T::Voip,
        T::PersonalNumber,
        T::Pager,
        T::Uan,
        T::Voicemail,
    ] {
        if matches(kind) {
            return kind;
        }
    }
    match (matches(T::FixedLine), matches(T::Mobile)) {
        (true, true) => T::FixedLineOrMobile,
        (true, false) => T::FixedLine,
        (false, true) => T::Mobile,
        (false, false) => T::Unknown,
    }
}

fn e164(n: &phonenumber::PhoneNumber) -> String {
    n.format().mode(phonenumber::Mode::E164).to_string()
}

/// Parses `input`, reading a national number in `default_country`, and keeps it only when
/// valid.
pub fn normalize(input: &str, default_country: Option<&str>) -> Result<PhoneNumber, PhoneError> {
    let number = parse_lib(input, default_country)?;
    if !number.is_valid() {
        return Err(PhoneError::Invalid {
            input: input.trim().to_owned(),
            region: number.country().id().map(|id| format!("{id:?}")),
        });
    }
    Ok(PhoneNumber {
        raw: input.to_owned(),
        e164: within_e164(input, &number)?,
        kind: PhoneType::from_lib(number_type(&number)),
    })
}

/// The number's E.164 form, refused when longer than E.164's 15 digits: some numbering
/// plans' metadata accept longer national numbers (German fixed lines), but no network
/// routes them and the stored form must read back (fuzz find, `phone_number`).
fn within_e164(input: &str, number: &phonenumber::PhoneNumber) -> Result<E164, PhoneError> {
    E164::parse(&e164(number)).map_err(|_| PhoneError::Unparsable {
        input: input.trim().to_owned(),
        why: "longer than the 15 digits E.164 allows".to_owned(),
    })
}

/// Everything there is to say about `input` read in `default_country`; never fails.
pub fn inspect(input: &str, default_country: Option<&str>) -> PhoneInspection {
    let mut out = PhoneInspection {
        input: input.to_owned(),
        default_country: default_country.map(|c| c.trim().to_ascii_uppercase()),
        valid: false,
        e164: None,
        kind: None,
        country: None,
        country_code: None,
        national: None,
        international: None,
        error: None,
    };
    match parse_lib(input, default_country) {
        Ok(number) => {
            out.e164 = Some(e164(&number));
            out.country_code = Some(number.country().code());
            out.country = number.country().id().map(|id| format!("{id:?}"));
            out.national = Some(
                number
                    .format()
                    .mode(phonenumber::Mode::National)
                    .to_string(),
            );
            out.international = Some(
                number
                    .format()
                    .mode(phonenumber::Mode::International)
                    .to_string(),
            );
            if let Err(e) = within_e164(input, &number) {
                out.error = Some(e.to_string());
            } else if number.is_valid() {
                out.valid = true;
                out.kind = Some(PhoneType::from_lib(number_type(&number)));
            } else {
                out.error = Some(
                    PhoneError::Invalid {
                        input: input.trim().to_owned(),
                        region: out.country.clone(),
                    }
                    .to_string(),
                );
            }
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use PhoneType::*;

    #[test]
    fn numbers_are_read_in_the_default_country_and_classified() {
        // (country, input, E.164, type): agreed with PyPI phonenumbers 9.0.33 (the crate's
        // metadata version), see shared/research/standards-sms-consent-autoreply.md §3.
        let cases = [
            ("DE", "0151 12345678", "+4915112345678", Mobile),
            ("DE", "030 12345678", "+493012345678", FixedLine),
            ("IT", "+39 06 1234 5678", "+390612345678", FixedLine),
            ("IT", "06 1234 5678", "+390612345678", FixedLine),
            ("IT", "312 345 6789", "+393123456789", Mobile),
            ("DE", "+49 (0) 89 1234567", "+49891234567", FixedLine),
            ("DE", "0049 171 1234567", "+491711234567", Mobile),
            ("AT", "0664 1234567", "+436641234567", Mobile),
            ("CH", "079 123 45 67", "+41791234567", Mobile),
            ("US", "(201) 555-0123", "+12015550123", FixedLineOrMobile),
            ("GB", "07400 123456", "+447400123456", Mobile),
            ("DE", "0800 1234567", "+498001234567", TollFree),
            ("AT", "+49 151 12345678", "+4915112345678", Mobile),
        ];
        for (country, input, e164, kind) in cases {
            let n = normalize(input, Some(country)).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((n.e164.as_str(), n.kind), (e164, kind), "{country} {input}");
            assert_eq!(n.raw, input);
        }
    }

    #[test]
    fn a_number_longer_than_e164_allows_is_refused_though_its_plan_accepts_it() {
        // Fuzz find (phone_number): the German plan's metadata takes this 14-digit national
        // number as a fixed line, but +49 and it make 16 digits, which no E.164 form holds.
        let err = normalize("23456712234567", Some("DE")).unwrap_err();
        assert!(err.to_string().contains("15 digits"), "{err}");
        let seen = inspect("23456712234567", Some("DE"));
        assert!(!seen.valid);
        assert!(seen.error.unwrap().contains("15 digits"));
        // Every normalised number reads back as itself.
        let n = normalize("0234 5671223456", Some("DE")).unwrap();
        assert_eq!(E164::parse(n.e164.as_str()).unwrap(), n.e164);
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        assert_eq!(normalize("", Some("DE")), Err(PhoneError::Empty));
        assert!(matches!(
            normalize("12345", Some("DE")),
            Err(PhoneError::Invalid { .. })
        ));
        assert!(matches!(
            normalize("0664 1234567", None),
            Err(PhoneError::NoCountry(_))
        ));
        assert!(matches!(
            normalize("0664 1234567", Some("XX")),
            Err(PhoneError::UnknownCountry(_))
        ));
        assert!(normalize("not a number", Some("DE")).is_err());
        assert!(matches!(
            normalize(&"1".repeat(41), Some("DE")),
            Err(PhoneError::TooLong)
        ));
        assert!(normalize("+436641234567", None).is_ok());
    }

    #[test]
    fn inspection_reports_what_the_number_was_read_as() {
        let ok = inspect("0664 1234567", Some("at"));
        assert!(ok.valid);
        assert_eq!(ok.e164.as_deref(), Some("+436641234567"));
        assert_eq!(ok.kind, Some(Mobile));
        assert_eq!(ok.country.as_deref(), Some("AT"));
        let bad = inspect("12345", Some("DE"));
        assert!(!bad.valid);
        assert!(bad.kind.is_none());
        assert!(bad.error.is_some());
        let junk = inspect("hello", Some("DE"));
        assert!(!junk.valid && junk.e164.is_none());
    }

    #[test]
    fn landlines_and_service_numbers_are_not_texted() {
        assert_eq!(Mobile.sms_route(), SmsRoute::Text);
        assert_eq!(FixedLineOrMobile.sms_route(), SmsRoute::Text);
        assert_eq!(FixedLine.sms_route(), SmsRoute::Landline);
        for t in [TollFree, PremiumRate, ShortCode, Unknown, Voip] {
            assert_eq!(t.sms_route(), SmsRoute::Unsuitable, "{t}");
        }
    }

    /// Every example number libphonenumber ships for fixed lines and mobiles, in every
    /// region, comes out as that type (or as "fixed line or mobile" where the two cannot be
    /// told apart) — the leading-zero countries included.
    #[test]
    fn libphonenumbers_own_examples_get_their_type() {
        use phonenumber::Type as T;
        let mut checked = 0;
        let mut wrong = Vec::new();
        for meta in phonenumber::metadata::DATABASE.iter() {
            let region = meta.id();
            if region == "001" {
                continue;
            }
            for (kind, expected) in [(T::FixedLine, FixedLine), (T::Mobile, Mobile)] {
                let Some(example) = meta.descriptors().get(kind).and_then(|d| d.example()) else {
                    continue;
                };
                let input = format!("+{}{}", meta.country_code(), example);
                match normalize(&input, Some(region)) {
                    Ok(n) if n.kind == expected || n.kind == FixedLineOrMobile => checked += 1,
                    other => wrong.push(format!("{region} {input}: {other:?}")),
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {}: {wrong:#?}",
            wrong.len(),
            checked + wrong.len()
        );
        assert!(checked > 400, "only {checked} examples");
    }

    #[test]
    fn leading_zero_countries_keep_their_type() {
        for (input, expected) in [
            ("+390612345678", FixedLine), // Italy, Rome
            ("+390549886377", FixedLine), // San Marino via Italy's code
            ("+2250123456789", Mobile),   // Côte d'Ivoire
            ("+242061234567", Mobile),    // Congo
        ] {
            let n = normalize(input, None).unwrap();
            assert_eq!(n.kind, expected, "{input}");
        }
    }
}
