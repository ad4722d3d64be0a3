//! Local wall time → instants, with bellhop's documented DST policy.
//!
//! A local time that does not exist (spring forward) moves forward to the first valid instant:
//! 02:30 on the night Vienna springs forward becomes 03:00 CEST. A local time that exists twice
//! (fall back) takes the earlier instant: 02:30 CEST, not 02:30 CET. jiff's "compatible"
//! strategy would give 03:30 for the gap, which is why this module exists.

use jiff::civil::{DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, Zoned};
use std::fmt;

/// Resolves a civil date-time in `tz` to one instant, by the policy in the module docs.
/// Beyond jiff's range (years ±9999) it saturates: a send time in year 9999 never comes, which
/// is safer than any wrapped value.
pub fn resolve_local(tz: &TimeZone, local: DateTime) -> Timestamp {
    let saturated = if local.year() > 0 {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    };
    let ambiguous = tz.to_ambiguous_timestamp(local);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } | AmbiguousOffset::Fold { before: offset, .. } => {
            offset.to_timestamp(local).unwrap_or(saturated)
        }
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the later offset, the civil time lands before the gap; the first
            // transition after that instant is where the gap ends: the first valid instant.
            let before_gap = after.to_timestamp(local).unwrap_or(saturated);
            tz.following(before_gap)
                .next()
                .map(|transition| transition.timestamp())
                .unwrap_or(before_gap)
        }
    }
}

/// Parses an IANA time zone name such as `Europe/Vienna`.
pub fn parse_time_zone(name: &str) -> Result<TimeZone, TimeError> {
    if name.is_empty() || name.len() > 64 {
        return Err(TimeError::UnknownTimeZone(name.to_owned()));
    }
    TimeZone::get(name).map_err(|_| TimeError::UnknownTimeZone(name.to_owned()))
}

/// A time of day in a property's zone, written `HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalTime(Time);

impl LocalTime {
    /// Parses `HH:MM` (24-hour clock).
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let invalid = || TimeError::InvalidTimeOfDay(text.to_owned());
        let (h, m) = text.split_once(':').ok_or_else(invalid)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(invalid());
        }
        let hour: i8 = h.parse().map_err(|_| invalid())?;
        let minute: i8 = m.parse().map_err(|_| invalid())?;
        Time::new(hour, minute, 0, 0)
            .map(LocalTime)
            .map_err(|_| invalid())
    }

    /// Builds a time of day from hour and minute.
    pub fn hm(hour: i8, minute: i8) -> Self {
        LocalTime(Time::constant(hour, minute, 0, 0))
    }

    /// The civil time.
    pub fn time(self) -> Time {
        self.0
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl serde::Serialize for LocalTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LocalTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LocalTime::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The instant at `time` local on the local date of `instant`, shifted by `days` calendar days.
pub fn local_date_at(tz: &TimeZone, instant: Timestamp, days: i32, time: LocalTime) -> Timestamp {
    let date = instant.to_zoned(tz.clone()).date();
    let shifted = date
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(date);
    resolve_local(tz, shifted.to_datetime(time.time()))
}

/// The instant `days` calendar days from `instant`, keeping its local wall-clock time.
pub fn add_calendar_days(tz: &TimeZone, instant: Timestamp, days: i32) -> Timestamp {
    let local = instant.to_zoned(tz.clone()).datetime();
    let shifted = local
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(local);
    resolve_local(tz, shifted)
}

/// Formats an instant as local wall time in `tz`, for people (`2026-03-29 03:00 CEST`).
pub fn format_local(tz: &TimeZone, instant: Timestamp) -> String {
    let zoned: Zoned = instant.to_zoned(tz.clone());
    zoned.strftime("%Y-%m-%d %H:%M %Z").to_string()
}

/// Errors of time parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The name is not in the IANA time zone database.
    #[error("unknown time zone {0:?}: use an IANA name such as \"Europe/Vienna\"")]
    UnknownTimeZone(String),
    /// Not a valid `HH:MM`.
    #[error("invalid time of day {0:?}: expected HH:MM on a 24-hour clock, such as \"10:00\"")]
    InvalidTimeOfDay(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tz(name: &str) -> TimeZone {
        parse_time_zone(name).unwrap()
    }

    #[test]
    fn local_times_resolve_by_the_gap_forward_fold_earlier_policy() {
        // (zone, local date-time, expected instant in UTC)
        let cases = [
            (
                "Europe/Vienna",
                date(2026, 3, 29).at(2, 30, 0, 0),
                "2026-03-29T01:00:00Z",
            ),
            (
                "Europe/Vienna",
                date(2026, 10, 25).at(2, 30, 0, 0),
                "2026-10-25T00:30:00Z",
            ),
            (
                "Europe/Vienna",
                date(2026, 3, 29).at(3, 0, 0, 0),
                "2026-03-29T01:00:00Z",
            ),
            (
                "Europe/Vienna",
                date(2026, 7, 1).at(10, 0, 0, 0),
                "2026-07-01T08:00:00Z",
            ),
            (
                "America/New_York",
                date(2026, 3, 8).at(2, 30, 0, 0),
                "2026-03-08T07:00:00Z",
            ),
            (
                "America/New_York",
                date(2026, 11, 1).at(1, 30, 0, 0),
                "2026-11-01T05:30:00Z",
            ),
            (
                "UTC",
                date(2026, 3, 29).at(2, 30, 0, 0),
                "2026-03-29T02:30:00Z",
            ),
        ];
        for (zone, local, expected) in cases {
            let got = resolve_local(&tz(zone), local);
            assert_eq!(got.to_string(), expected, "{zone} {local}");
        }
    }

    #[test]
    fn unknown_time_zones_are_refused_by_name() {
        let err = parse_time_zone("Europe/Atlantis").unwrap_err();
        assert!(err.to_string().contains("Europe/Atlantis"));
        assert!(parse_time_zone("").is_err());
    }

    #[test]
    fn times_of_day_parse_strictly() {
        assert_eq!(LocalTime::parse("10:00").unwrap(), LocalTime::hm(10, 0));
        for bad in ["24:00", "9:00", "10:60", "10", "ab:cd", "", "10:00:00"] {
            assert!(LocalTime::parse(bad).is_err(), "{bad}");
        }
    }
}
