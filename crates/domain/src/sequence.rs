//! Sequences (the autoresponder's cycles): steps at offsets from a contact's enrolment, each a
//! template; when each step is due, in the property's local time.

use crate::time::{LocalTime, add_calendar_days, local_date_at};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// When a step goes, counted from the enrolment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepOffset {
    /// Calendar days after the enrolment day (local), at `at` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    /// Local time of day (`10:00`) on that day; without it, the enrolment's time of day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub at: Option<LocalTime>,
    /// Exact hours after the enrolment (instead of days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<i64>,
}

/// One step: when, and which template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// When.
    pub offset: StepOffset,
    /// The template (email or SMS) of the sequence's property.
    pub template_id: Uuid,
}

/// Why a step's offset is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// Neither or both of days and hours.
    #[error("give either days (with an optional time `at`) or hours")]
    DaysOrHours,
    /// `at` with hours.
    #[error("`at` goes with days, not hours")]
    AtWithHours,
    /// Out of range.
    #[error("days 0 to 3,650, hours 0 to 87,600")]
    Range,
}

impl StepOffset {
    /// Checks the offset.
    pub fn check(&self) -> Result<(), StepError> {
        match (self.days, self.hours) {
            (Some(d), None) if (0..=3_650).contains(&d) => Ok(()),
            (None, Some(_)) if self.at.is_some() => Err(StepError::AtWithHours),
            (None, Some(h)) if (0..=87_600).contains(&h) => Ok(()),
            (Some(_), None) | (None, Some(_)) => Err(StepError::Range),
            _ => Err(StepError::DaysOrHours),
        }
    }

    /// The instant the step is due for an enrolment at `enrolled_at` in zone `tz`: calendar
    /// days in local time (a DST change moves nothing: 10:00 stays 10:00), hours exact.
    pub fn due(&self, tz: &TimeZone, enrolled_at: Timestamp) -> Timestamp {
        match (self.days, self.hours, self.at) {
            (Some(days), _, Some(at)) => local_date_at(tz, enrolled_at, days, at),
            (Some(days), _, None) => add_calendar_days(tz, enrolled_at, days),
            (None, Some(hours), _) => enrolled_at
                .checked_add(jiff::SignedDuration::from_hours(hours))
                .unwrap_or(enrolled_at),
            (None, None, _) => enrolled_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time_zone;

    fn offset(days: Option<i32>, at: Option<&str>, hours: Option<i64>) -> StepOffset {
        StepOffset {
            days,
            at: at.map(|a| LocalTime::parse(a).unwrap()),
            hours,
        }
    }

    #[test]
    fn steps_keep_their_local_time_across_the_dst_change() {
        let vienna = parse_time_zone("Europe/Vienna").unwrap();
        // Enrolled on Friday 2026-03-27 at 15:30 local (14:30 UTC); summer time starts on
        // Sunday 2026-03-29 at 02:00.
        let enrolled: Timestamp = "2026-03-27T14:30:00Z".parse().unwrap();
        let cases = [
            (offset(Some(0), Some("18:00"), None), "2026-03-27T17:00:00Z"),
            (offset(Some(1), Some("10:00"), None), "2026-03-28T09:00:00Z"),
            (offset(Some(3), Some("10:00"), None), "2026-03-30T08:00:00Z"),
            (offset(Some(2), None, None), "2026-03-29T13:30:00Z"),
            (offset(None, None, Some(48)), "2026-03-29T14:30:00Z"),
            // 02:30 does not exist on the 29th: it moves forward to the gap's end, 03:00.
            (offset(Some(2), Some("02:30"), None), "2026-03-29T01:00:00Z"),
        ];
        for (o, expected) in cases {
            assert_eq!(o.due(&vienna, enrolled).to_string(), expected, "{o:?}");
        }
    }

    #[test]
    fn offsets_are_checked() {
        let cases = [
            (offset(Some(1), Some("10:00"), None), Ok(())),
            (offset(None, None, Some(4)), Ok(())),
            (offset(None, None, None), Err(StepError::DaysOrHours)),
            (offset(Some(1), None, Some(4)), Err(StepError::DaysOrHours)),
            (
                offset(None, Some("10:00"), Some(4)),
                Err(StepError::AtWithHours),
            ),
            (offset(Some(-1), None, None), Err(StepError::Range)),
        ];
        for (o, expected) in cases {
            assert_eq!(o.check(), expected, "{o:?}");
        }
    }
}
