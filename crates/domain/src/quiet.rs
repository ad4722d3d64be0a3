//! Quiet hours: no SMS at night. A window such as 21:00–08:00 (property time) may cross
//! midnight; an SMS due inside it waits until the window ends — unless that would put a
//! "before" message (a reminder) after its anchor, in which case it goes out just before the
//! window starts instead, so a 07:30 appointment still gets its reminder the evening before.

use crate::time::{LocalTime, resolve_local};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A daily window in local time, `start` inclusive to `end` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// When the quiet starts (`21:00`).
    pub start: LocalTime,
    /// When it ends (`08:00`).
    pub end: LocalTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            start: LocalTime::hm(21, 0),
            end: LocalTime::hm(8, 0),
        }
    }
}

impl QuietHours {
    fn contains(&self, t: LocalTime) -> bool {
        if self.start <= self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// Whether `instant` lies inside the window in `tz`.
    pub fn is_quiet(&self, tz: &TimeZone, instant: Timestamp) -> bool {
        if self.start == self.end {
            return false;
        }
        let local = instant.to_zoned(tz.clone());
        self.contains(LocalTime::hm(local.hour(), local.minute()))
    }

    /// Where the window around `instant` ends.
    fn end_after(&self, tz: &TimeZone, instant: Timestamp) -> Timestamp {
        let date = instant.to_zoned(tz.clone()).date();
        let at = |d: Date| resolve_local(tz, DateTime::from_parts(d, self.end.time()));
        let today = at(date);
        if today > instant {
            today
        } else {
            date.tomorrow().map(at).unwrap_or(today)
        }
    }

    /// Where the window around `instant` began.
    fn start_before(&self, tz: &TimeZone, instant: Timestamp) -> Timestamp {
        let date = instant.to_zoned(tz.clone()).date();
        let at = |d: Date| resolve_local(tz, DateTime::from_parts(d, self.start.time()));
        let today = at(date);
        if today <= instant {
            today
        } else {
            date.yesterday().map(at).unwrap_or(today)
        }
    }

    /// The first instant at or after `instant` outside the window.
    pub fn next_allowed(&self, tz: &TimeZone, instant: Timestamp) -> Timestamp {
        if self.is_quiet(tz, instant) {
            self.end_after(tz, instant)
        } else {
            instant
        }
    }

    /// Moves a planned send time out of the window. `before_anchor`: the anchor a "before"
    /// message must precede. A pure function of the booking, so re-planning is a fixpoint;
    /// a time that lands in the past is the late policy's business.
    pub fn place(
        &self,
        tz: &TimeZone,
        due: Timestamp,
        before_anchor: Option<Timestamp>,
    ) -> Timestamp {
        if !self.is_quiet(tz, due) {
            return due;
        }
        let after = self.end_after(tz, due);
        match before_anchor {
            Some(anchor) if after >= anchor => self
                .start_before(tz, due)
                .checked_sub(SignedDuration::from_mins(1))
                .unwrap_or(due),
            _ => after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vienna() -> TimeZone {
        TimeZone::get("Europe/Vienna").unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn an_sms_due_in_the_night_waits_for_the_morning() {
        let q = QuietHours::default();
        let tz = vienna();
        // (due, anchor of a "before" message, expected)
        let cases = [
            // 20:00 local: not quiet.
            ("2026-06-10T18:00:00Z", None, "2026-06-10T18:00:00Z"),
            // 22:00 local → 08:00 next day.
            ("2026-06-10T20:00:00Z", None, "2026-06-11T06:00:00Z"),
            // 03:00 local → 08:00 the same day.
            ("2026-06-11T01:00:00Z", None, "2026-06-11T06:00:00Z"),
            // 08:00 local exactly: the window has ended.
            ("2026-06-11T06:00:00Z", None, "2026-06-11T06:00:00Z"),
            // 21:00 local exactly: quiet.
            ("2026-06-10T19:00:00Z", None, "2026-06-11T06:00:00Z"),
            // A reminder at 22:00 for a 07:30 appointment goes out at 20:59 instead.
            (
                "2026-06-10T20:00:00Z",
                Some("2026-06-11T05:30:00Z"),
                "2026-06-10T18:59:00Z",
            ),
            // A reminder at 22:00 for a 09:00 appointment waits for 08:00.
            (
                "2026-06-10T20:00:00Z",
                Some("2026-06-11T07:00:00Z"),
                "2026-06-11T06:00:00Z",
            ),
            // Winter time: 22:00 CET → 08:00 CET.
            ("2026-12-10T21:00:00Z", None, "2026-12-11T07:00:00Z"),
        ];
        for (due, anchor, expected) in cases {
            let got = q.place(&tz, ts(due), anchor.map(ts));
            assert_eq!(got.to_string(), expected, "{due}");
        }
    }

    #[test]
    fn the_next_allowed_instant_is_the_end_of_the_window() {
        let q = QuietHours::default();
        let tz = vienna();
        let night = ts("2026-06-10T22:30:00Z");
        assert_eq!(
            q.next_allowed(&tz, night).to_string(),
            "2026-06-11T06:00:00Z"
        );
        let day = ts("2026-06-10T12:00:00Z");
        assert_eq!(q.next_allowed(&tz, day), day);
    }

    #[test]
    fn windows_that_do_not_cross_midnight_and_empty_windows_work() {
        let tz = vienna();
        let lunch = QuietHours {
            start: LocalTime::hm(12, 0),
            end: LocalTime::hm(13, 0),
        };
        assert!(lunch.is_quiet(&tz, ts("2026-06-10T10:30:00Z")));
        assert!(!lunch.is_quiet(&tz, ts("2026-06-10T11:00:00Z")));
        let never = QuietHours {
            start: LocalTime::hm(8, 0),
            end: LocalTime::hm(8, 0),
        };
        assert!(!never.is_quiet(&tz, ts("2026-06-10T06:00:00Z")));
    }
}
