//! GuestRequests as the schema has them (only what bellhop reads), and their mapping onto
//! channel reservations.

use crate::{Error, Limits};
use bellhop_domain::channel::{ChannelGuest, Money, Reservation, ReservationStatus};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// `HotelReservation@ResStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResStatus {
    /// A request for an offer.
    Requested,
    /// A booking.
    Reserved,
    /// A changed booking: a full replacement.
    Modify,
    /// A cancellation.
    Cancelled,
}

#[derive(Deserialize)]
struct HotelReservationsEl {
    #[serde(rename = "HotelReservation", default)]
    list: Vec<HotelReservationEl>,
}

#[derive(Deserialize)]
struct ResNotifRq {
    #[serde(rename = "HotelReservations")]
    reservations: HotelReservationsEl,
}

#[derive(Deserialize)]
struct ErrorsEl {
    #[serde(rename = "Error", default)]
    list: Vec<ErrorEl>,
}

#[derive(Deserialize)]
struct ErrorEl {
    #[serde(rename = "@Code", default)]
    code: Option<String>,
    #[serde(rename = "$text", default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct ResRetrieveRs {
    #[serde(rename = "Errors", default)]
    errors: Option<ErrorsEl>,
    #[serde(rename = "ReservationsList", default)]
    reservations: Option<HotelReservationsEl>,
}

#[derive(Deserialize)]
struct UniqueIdEl {
    #[serde(rename = "@Type")]
    kind: String,
    #[serde(rename = "@ID")]
    id: String,
}

#[derive(Deserialize)]
struct HotelReservationEl {
    #[serde(rename = "@ResStatus")]
    status: ResStatus,
    #[serde(rename = "@LastModifyDateTime", default)]
    last_modify: Option<String>,
    #[serde(rename = "UniqueID")]
    unique_id: UniqueIdEl,
    #[serde(rename = "RoomStays", default)]
    room_stays: Option<RoomStaysEl>,
    #[serde(rename = "ResGuests", default)]
    guests: Option<ResGuestsEl>,
    #[serde(rename = "ResGlobalInfo", default)]
    global: Option<GlobalInfoEl>,
}

#[derive(Deserialize)]
struct RoomStaysEl {
    #[serde(rename = "RoomStay", default)]
    list: Vec<RoomStayEl>,
}

#[derive(Deserialize)]
struct RoomStayEl {
    #[serde(rename = "RoomTypes", default)]
    room_types: Option<RoomTypesEl>,
    #[serde(rename = "GuestCounts", default)]
    guest_counts: Option<GuestCountsEl>,
    #[serde(rename = "TimeSpan", default)]
    time_span: Option<TimeSpanEl>,
    #[serde(rename = "Total", default)]
    total: Option<TotalEl>,
}

#[derive(Deserialize)]
struct RoomTypesEl {
    #[serde(rename = "RoomType", default)]
    list: Vec<RoomTypeEl>,
}

#[derive(Deserialize)]
struct RoomTypeEl {
    #[serde(rename = "@RoomTypeCode", default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct GuestCountsEl {
    #[serde(rename = "GuestCount", default)]
    list: Vec<GuestCountEl>,
}

#[derive(Deserialize)]
struct GuestCountEl {
    #[serde(rename = "@Count")]
    count: u32,
    #[serde(rename = "@Age", default)]
    age: Option<u32>,
}

#[derive(Deserialize)]
struct TimeSpanEl {
    #[serde(rename = "@Start", default)]
    start: Option<String>,
    #[serde(rename = "@End", default)]
    end: Option<String>,
    #[serde(rename = "@Duration", default)]
    duration: Option<String>,
    #[serde(rename = "StartDateWindow", default)]
    window: Option<WindowEl>,
}

#[derive(Deserialize)]
struct WindowEl {
    #[serde(rename = "@EarliestDate")]
    earliest: String,
    #[serde(rename = "@LatestDate")]
    latest: String,
}

#[derive(Deserialize)]
struct TotalEl {
    #[serde(rename = "@AmountAfterTax", default)]
    amount: Option<String>,
    #[serde(rename = "@CurrencyCode", default)]
    currency: Option<String>,
}

#[derive(Deserialize)]
struct ResGuestsEl {
    #[serde(rename = "ResGuest", default)]
    list: Vec<ResGuestEl>,
}

#[derive(Deserialize)]
struct ResGuestEl {
    #[serde(rename = "Profiles")]
    profiles: ProfilesEl,
}

#[derive(Deserialize)]
struct ProfilesEl {
    #[serde(rename = "ProfileInfo")]
    info: ProfileInfoEl,
}

#[derive(Deserialize)]
struct ProfileInfoEl {
    #[serde(rename = "Profile")]
    profile: ProfileEl,
}

#[derive(Deserialize)]
struct ProfileEl {
    #[serde(rename = "Customer", default)]
    customer: Option<CustomerEl>,
}

#[derive(Deserialize)]
struct CustomerEl {
    #[serde(rename = "@Language", default)]
    language: Option<String>,
    #[serde(rename = "PersonName", default)]
    name: Option<PersonNameEl>,
    #[serde(rename = "Telephone", default)]
    phones: Vec<TelephoneEl>,
    #[serde(rename = "Email", default)]
    email: Option<EmailEl>,
}

#[derive(Deserialize)]
struct PersonNameEl {
    #[serde(rename = "GivenName", default)]
    given: Option<String>,
    #[serde(rename = "Surname", default)]
    surname: Option<String>,
}

#[derive(Deserialize)]
struct TelephoneEl {
    #[serde(rename = "@PhoneTechType", default)]
    tech: Option<String>,
    #[serde(rename = "@PhoneNumber")]
    number: String,
}

#[derive(Deserialize)]
struct EmailEl {
    #[serde(rename = "@Remark", default)]
    remark: Option<String>,
    #[serde(rename = "$text", default)]
    address: Option<String>,
}

#[derive(Deserialize)]
struct GlobalInfoEl {
    #[serde(rename = "Comments", default)]
    comments: Option<CommentsEl>,
}

#[derive(Deserialize)]
struct CommentsEl {
    #[serde(rename = "Comment", default)]
    list: Vec<CommentEl>,
}

#[derive(Deserialize)]
struct CommentEl {
    #[serde(rename = "@Name", default)]
    name: Option<String>,
    #[serde(rename = "Text", default)]
    text: Option<String>,
}

/// One reservation of a GuestRequests message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestRequest {
    /// What AlpineBits said.
    pub res_status: ResStatus,
    /// `UniqueID@Type`: 14 (reservation or request) or 15 (cancellation).
    pub unique_id_type: u8,
    /// The reservation as bellhop takes it.
    pub reservation: Reservation,
}

/// A GuestRequests message, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestRequests {
    /// The root element: `OTA_HotelResNotifRQ` or `OTA_ResRetrieveRS`.
    pub message: String,
    /// Its reservations.
    pub reservations: Vec<GuestRequest>,
    /// What was read with a caveat (a window of arrival dates, several rooms, an amount
    /// with more than two places).
    pub warnings: Vec<String>,
    /// The errors an `OTA_ResRetrieveRS` reported instead of reservations.
    pub errors: Vec<String>,
}

fn invalid(message: &str, detail: impl Into<String>) -> Error {
    Error::Invalid {
        message: message.to_owned(),
        detail: detail.into(),
    }
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

fn date(message: &str, what: &str, v: &str) -> Result<Date, Error> {
    v.trim()
        .parse()
        .map_err(|_| invalid(message, format!("{what} {v:?} is not a date (YYYY-MM-DD)")))
}

/// `P3N` or `P3D` (nights).
fn nights(duration: &str) -> Option<i64> {
    let digits = duration.strip_prefix('P')?;
    let digits = digits
        .strip_suffix('N')
        .or_else(|| digits.strip_suffix('D'))?;
    digits.parse().ok().filter(|n| (1..=365).contains(n))
}

/// A decimal amount in cents, rounded half up where it has more than two places.
fn cents(amount: &str) -> Option<(i64, bool)> {
    let amount = amount.trim();
    let (units, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    if units.is_empty()
        || units.len() > 12
        || !units.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let mut digits = fraction.bytes().map(|b| i64::from(b - b'0'));
    let tenths = digits.next().unwrap_or(0);
    let hundredths = digits.next().unwrap_or(0);
    let rest: Vec<i64> = digits.collect();
    let round_up = rest.first().is_some_and(|&d| d >= 5);
    Some((
        units * 100 + tenths * 10 + hundredths + i64::from(round_up),
        !rest.is_empty(),
    ))
}

fn map(
    message: &str,
    el: HotelReservationEl,
    warnings: &mut Vec<String>,
) -> Result<GuestRequest, Error> {
    let id = el.unique_id.id.trim().to_owned();
    let here = format!("HotelReservation {id:?}");
    let unique_id_type: u8 = match el.unique_id.kind.trim() {
        "14" => 14,
        "15" => 15,
        other => {
            return Err(invalid(
                message,
                format!("{here}: UniqueID@Type {other:?} must be 14 or 15"),
            ));
        }
    };
    let cancellation = el.status == ResStatus::Cancelled;
    if cancellation != (unique_id_type == 15) {
        return Err(invalid(
            message,
            format!(
                "{here}: UniqueID@Type {unique_id_type} does not match ResStatus {:?} (15 is for cancellations, 14 for the rest)",
                el.status
            ),
        ));
    }
    if id.is_empty() || id.len() > 100 {
        return Err(invalid(
            message,
            format!("{here}: UniqueID@ID must be 1 to 100 characters"),
        ));
    }
    let modified_at = match el.last_modify.as_deref() {
        Some(v) => Some(v.trim().parse::<Timestamp>().map_err(|_| {
            invalid(
                message,
                format!("{here}: LastModifyDateTime {v:?} is not a date-time with offset"),
            )
        })?),
        None => None,
    };
    let stays = el.room_stays.map(|r| r.list).unwrap_or_default();
    if stays.is_empty() && !cancellation {
        return Err(invalid(
            message,
            format!("{here}: a {:?} reservation needs a RoomStay", el.status),
        ));
    }
    if stays.len() > 1 {
        warnings.push(format!(
            "{here}: {} room stays, read as one booking with the first room's type and dates, and all guests and totals",
            stays.len()
        ));
    }
    let (mut arrival, mut departure) = (None, None);
    if let Some(span) = stays.first().and_then(|s| s.time_span.as_ref()) {
        match (&span.start, &span.end, &span.window) {
            (Some(s), Some(e), _) => {
                arrival = Some(date(message, "TimeSpan@Start", s)?);
                departure = Some(date(message, "TimeSpan@End", e)?);
            }
            (_, _, Some(w)) => {
                let earliest = date(message, "StartDateWindow@EarliestDate", &w.earliest)?;
                let latest = date(message, "StartDateWindow@LatestDate", &w.latest)?;
                if latest < earliest {
                    return Err(invalid(
                        message,
                        format!("{here}: StartDateWindow ends before it starts"),
                    ));
                }
                arrival = Some(earliest);
                departure = Some(match span.duration.as_deref().and_then(nights) {
                    Some(n) => earliest
                        .checked_add(jiff::Span::new().days(n))
                        .map_err(|_| invalid(message, format!("{here}: Duration out of range")))?,
                    None if latest > earliest => latest,
                    None => earliest.tomorrow().map_err(|_| {
                        invalid(message, format!("{here}: StartDateWindow out of range"))
                    })?,
                });
                warnings.push(format!(
                    "{here}: arrival requested between {earliest} and {latest}; read as arriving {earliest}"
                ));
            }
            _ => {
                return Err(invalid(
                    message,
                    format!("{here}: TimeSpan needs Start and End, or a StartDateWindow"),
                ));
            }
        }
    } else if !cancellation {
        return Err(invalid(
            message,
            format!("{here}: the RoomStay has no TimeSpan"),
        ));
    }
    if let (Some(a), Some(d)) = (arrival, departure)
        && d <= a
    {
        return Err(invalid(
            message,
            format!("{here}: TimeSpan@End {d} is not after Start {a}"),
        ));
    }
    let room_category = stays
        .first()
        .and_then(|s| s.room_types.as_ref())
        .and_then(|t| t.list.first())
        .and_then(|t| clean(t.code.clone()));
    let mut adults: Option<u32> = None;
    let mut children_ages = Vec::new();
    for count in stays
        .iter()
        .filter_map(|s| s.guest_counts.as_ref())
        .flat_map(|g| &g.list)
    {
        if count.count == 0 || count.count > 100 {
            return Err(invalid(
                message,
                format!("{here}: GuestCount@Count {} must be 1 to 100", count.count),
            ));
        }
        match count.age {
            Some(age) if age < 18 => {
                if children_ages.len() + count.count as usize > 100 {
                    return Err(invalid(message, format!("{here}: more than 100 children")));
                }
                children_ages.extend(std::iter::repeat_n(age, count.count as usize));
            }
            Some(age) if age > 150 => {
                return Err(invalid(
                    message,
                    format!("{here}: GuestCount@Age {age} is not an age"),
                ));
            }
            _ => adults = Some(adults.unwrap_or(0).saturating_add(count.count)),
        }
    }
    let mut total_cents = 0i64;
    let mut currency: Option<String> = None;
    let mut any_total = false;
    for total in stays.iter().filter_map(|s| s.total.as_ref()) {
        let Some(amount) = total.amount.as_deref() else {
            continue;
        };
        let (c, rounded) = cents(amount).ok_or_else(|| {
            invalid(
                message,
                format!("{here}: Total@AmountAfterTax {amount:?} is not a decimal amount"),
            )
        })?;
        if rounded {
            warnings.push(format!("{here}: amount {amount} rounded to cents"));
        }
        let code = total.currency.clone().unwrap_or_default();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                message,
                format!("{here}: Total@CurrencyCode {code:?} is not an ISO 4217 code"),
            ));
        }
        match &currency {
            Some(c) if *c != code => {
                return Err(invalid(
                    message,
                    format!("{here}: room totals in {c} and {code}"),
                ));
            }
            _ => currency = Some(code),
        }
        total_cents = total_cents.saturating_add(c);
        any_total = true;
    }
    let customer = el
        .guests
        .and_then(|g| g.list.into_iter().next())
        .and_then(|g| g.profiles.info.profile.customer);
    let (guest, language, newsletter) = match customer {
        Some(c) => {
            let phone = c
                .phones
                .iter()
                .find(|p| p.tech.as_deref() == Some("5"))
                .or_else(|| c.phones.iter().find(|p| p.tech.as_deref() != Some("3")))
                .map(|p| p.number.trim().to_owned())
                .filter(|p| !p.is_empty());
            let (email, newsletter) = match c.email {
                Some(e) => {
                    let newsletter = match e.remark.as_deref().map(str::trim) {
                        Some("newsletter:yes") => Some(true),
                        Some("newsletter:no") => Some(false),
                        _ => None,
                    };
                    (clean(e.address), newsletter)
                }
                None => (None, None),
            };
            let name = c.name.unwrap_or(PersonNameEl {
                given: None,
                surname: None,
            });
            (
                ChannelGuest {
                    first_name: clean(name.given),
                    last_name: clean(name.surname),
                    email,
                    phone,
                },
                clean(c.language),
                newsletter,
            )
        }
        None => (ChannelGuest::default(), None, None),
    };
    if let Some(l) = &language
        && !(l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(invalid(
            message,
            format!("{here}: Customer@Language {l:?} is not an ISO 639-1 code"),
        ));
    }
    let comment = el
        .global
        .and_then(|g| g.comments)
        .map(|c| c.list)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.name.as_deref() == Some("customer comment"))
        .and_then(|c| clean(c.text))
        .map(|t| t.chars().take(2000).collect());
    let status = match el.status {
        ResStatus::Requested => ReservationStatus::Inquiry,
        ResStatus::Reserved | ResStatus::Modify => ReservationStatus::Confirmed,
        ResStatus::Cancelled => ReservationStatus::Cancelled,
    };
    let reservation = Reservation {
        external_id: id,
        status,
        revision: None,
        modified_at,
        arrival,
        departure,
        language,
        guest,
        room_category,
        adults,
        children_ages,
        newsletter,
        total: any_total.then(|| Money {
            amount: format!("{}.{:02}", total_cents / 100, total_cents % 100),
            currency: currency.unwrap_or_default(),
        }),
        voucher: None,
        replaces: None,
        comment,
    };
    reservation
        .check(false)
        .map_err(|e| invalid(message, format!("{here}: {}: {}", e.field, e.message)))?;
    Ok(GuestRequest {
        res_status: el.status,
        unique_id_type,
        reservation,
    })
}

fn serde_error(message: &str, e: quick_xml::DeError) -> Error {
    invalid(message, e.to_string())
}

/// Reads a GuestRequests message: `OTA_HotelResNotifRQ` (a push) or `OTA_ResRetrieveRS` (the
/// answer to a pull), of any of the four versions.
pub fn parse_guest_requests(xml: &str, limits: &Limits) -> Result<GuestRequests, Error> {
    let root = limits.scan(xml)?;
    let (list, errors) = match root.as_str() {
        "OTA_HotelResNotifRQ" => {
            let rq: ResNotifRq = quick_xml::de::from_str(xml).map_err(|e| serde_error(&root, e))?;
            (rq.reservations.list, Vec::new())
        }
        "OTA_ResRetrieveRS" => {
            let rs: ResRetrieveRs =
                quick_xml::de::from_str(xml).map_err(|e| serde_error(&root, e))?;
            let errors: Vec<String> = rs
                .errors
                .map(|e| e.list)
                .unwrap_or_default()
                .into_iter()
                .map(|e| {
                    let text = clean(e.text).unwrap_or_default();
                    match e.code {
                        Some(code) => format!("{code}: {text}"),
                        None => text,
                    }
                })
                .collect();
            (rs.reservations.map(|r| r.list).unwrap_or_default(), errors)
        }
        other => return Err(Error::UnexpectedMessage(other.to_owned())),
    };
    if root == "OTA_HotelResNotifRQ" && list.is_empty() {
        return Err(invalid(
            &root,
            "HotelReservations holds no HotelReservation",
        ));
    }
    let mut warnings = Vec::new();
    let reservations = list
        .into_iter()
        .map(|el| map(&root, el, &mut warnings))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GuestRequests {
        message: root,
        reservations,
        warnings,
        errors,
    })
}

#[derive(Deserialize)]
struct NotifReportRq {
    #[serde(rename = "NotifDetails", default)]
    details: Option<NotifDetailsEl>,
}

#[derive(Deserialize)]
struct NotifDetailsEl {
    #[serde(rename = "HotelNotifReport")]
    report: NotifReportEl,
}

#[derive(Deserialize)]
struct NotifReportEl {
    #[serde(rename = "HotelReservations")]
    reservations: AckListEl,
}

#[derive(Deserialize)]
struct AckListEl {
    #[serde(rename = "HotelReservation", default)]
    list: Vec<AckEl>,
}

#[derive(Deserialize)]
struct AckEl {
    #[serde(rename = "UniqueID")]
    unique_id: UniqueIdEl,
}

/// The reservation ids an `OTA_NotifReportRQ` (or a push's `OTA_HotelResNotifRS`)
/// acknowledges.
pub fn read_acks(xml: &str, limits: &Limits) -> Result<Vec<String>, Error> {
    let root = limits.scan(xml)?;
    match root.as_str() {
        "OTA_NotifReportRQ" => {
            let rq: NotifReportRq =
                quick_xml::de::from_str(xml).map_err(|e| serde_error(&root, e))?;
            Ok(rq
                .details
                .map(|d| d.report.reservations.list)
                .unwrap_or_default()
                .into_iter()
                .map(|a| a.unique_id.id)
                .collect())
        }
        "OTA_HotelResNotifRS" => {
            let rs: ResNotifRsAck =
                quick_xml::de::from_str(xml).map_err(|e| serde_error(&root, e))?;
            Ok(rs
                .reservations
                .map(|r| r.list)
                .unwrap_or_default()
                .into_iter()
                .map(|a| a.unique_id.id)
                .collect())
        }
        other => Err(Error::UnexpectedMessage(other.to_owned())),
    }
}

#[derive(Deserialize)]
struct ResNotifRsAck {
    #[serde(rename = "HotelReservations", default)]
    reservations: Option<AckListEl>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_to_cents() {
        assert_eq!(cents("299"), Some((29900, false)));
        assert_eq!(cents("299.5"), Some((29950, false)));
        assert_eq!(cents("10.005"), Some((1001, true)));
        assert_eq!(cents("-1"), None);
        assert_eq!(cents("1e3"), None);
    }
}
