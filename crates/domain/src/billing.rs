//! SMS billing: plans, packages, cost and the monthly limit. Money is in integer cents; a
//! month is the property's local calendar month, so an SMS sent at 00:30 on 1 February in
//! Vienna counts in February even though it is still 31 January in UTC.
//!
//! Every part of a multi-part SMS counts as one SMS. Plan `package`: the month starts with one
//! package (the monthly fee) of `size` SMS; when it is used up the next one is added
//! automatically; what is left expires at the month's end. Plan `per_sms`: each SMS costs
//! `price_cents`. A monthly limit, in SMS, stops sending — further SMS are rejected, neither
//! sent nor billed.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// How SMS are paid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "plan", rename_all = "snake_case", deny_unknown_fields)]
pub enum SmsPlan {
    /// Packages of `size` SMS per month at `price_cents` each.
    Package {
        /// SMS per package.
        #[serde(default = "default_package_size")]
        size: u32,
        /// Price of one package.
        #[serde(default = "default_package_price")]
        price_cents: i64,
    },
    /// `price_cents` per SMS.
    PerSms {
        /// Price of one SMS (one part).
        #[serde(default = "default_sms_price")]
        price_cents: i64,
    },
}

fn default_package_size() -> u32 {
    150
}
fn default_package_price() -> i64 {
    1200
}
fn default_sms_price() -> i64 {
    8
}

impl Default for SmsPlan {
    fn default() -> Self {
        SmsPlan::PerSms {
            price_cents: default_sms_price(),
        }
    }
}

impl SmsPlan {
    /// Packages booked in a month in which `parts` SMS were sent (0 for `per_sms`).
    pub fn packages(self, parts: u64) -> u64 {
        match self {
            SmsPlan::Package { size, .. } => parts.div_ceil(u64::from(size.max(1))).max(1),
            SmsPlan::PerSms { .. } => 0,
        }
    }

    /// The month's cost in cents.
    pub fn cost_cents(self, parts: u64) -> i64 {
        let n = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        match self {
            SmsPlan::Package { price_cents, .. } => {
                n(self.packages(parts)).saturating_mul(price_cents)
            }
            SmsPlan::PerSms { price_cents } => n(parts).saturating_mul(price_cents),
        }
    }

    /// SMS still covered by the month's packages before another is added.
    pub fn left_in_package(self, parts: u64) -> Option<u64> {
        match self {
            SmsPlan::Package { size, .. } => {
                Some(self.packages(parts) * u64::from(size.max(1)) - parts)
            }
            SmsPlan::PerSms { .. } => None,
        }
    }

    /// Checks prices and sizes.
    pub fn validate(self) -> Result<(), String> {
        let price = match self {
            SmsPlan::Package { size, price_cents } => {
                if !(1..=100_000).contains(&size) {
                    return Err("a package holds between 1 and 100,000 SMS".into());
                }
                price_cents
            }
            SmsPlan::PerSms { price_cents } => price_cents,
        };
        if !(0..=1_000_000).contains(&price) {
            return Err("prices are between 0 and 1,000,000 cents".into());
        }
        Ok(())
    }
}

/// A property-local calendar month, written `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i16,
    month: i8,
}

impl Month {
    /// The month `instant` falls in, in `tz`.
    pub fn of(tz: &TimeZone, instant: Timestamp) -> Month {
        let date = instant.to_zoned(tz.clone()).date();
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Month, String> {
        let bad = || format!("{text:?} is not a month such as 2026-03");
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i16 = y.parse().map_err(|_| bad())?;
        let month: i8 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || !(1900..=9998).contains(&year) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    /// The instants [start, end) the month covers in `tz`.
    pub fn range(self, tz: &TimeZone) -> (Timestamp, Timestamp) {
        let start = self.first_day();
        let end = start.last_of_month().tomorrow().unwrap_or(Date::MAX);
        let at =
            |d: Date| crate::time::resolve_local(tz, d.to_datetime(jiff::civil::Time::midnight()));
        (at(start), at(end))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Whether `parts` more SMS fit under `limit` when `used` were already counted this month.
pub fn within_limit(limit: Option<u32>, used: u64, parts: u64) -> bool {
    limit.is_none_or(|l| used + parts <= u64::from(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package() -> SmsPlan {
        SmsPlan::Package {
            size: 150,
            price_cents: 1200,
        }
    }

    #[test]
    fn packages_are_added_when_used_up() {
        // (parts, packages, cost, left)
        let cases = [
            (0, 1, 1200, 150),
            (1, 1, 1200, 149),
            (150, 1, 1200, 0),
            (151, 2, 2400, 149),
            (300, 2, 2400, 0),
            (301, 3, 3600, 149),
        ];
        for (parts, packages, cost, left) in cases {
            assert_eq!(package().packages(parts), packages, "{parts}");
            assert_eq!(package().cost_cents(parts), cost, "{parts}");
            assert_eq!(package().left_in_package(parts), Some(left), "{parts}");
        }
    }

    #[test]
    fn per_sms_costs_eight_cents_a_part() {
        let plan = SmsPlan::default();
        assert_eq!(plan.cost_cents(0), 0);
        assert_eq!(plan.cost_cents(3), 24);
        assert_eq!(plan.packages(500), 0);
        assert_eq!(plan.left_in_package(5), None);
    }

    #[test]
    fn the_month_is_the_propertys_local_month() {
        let vienna = TimeZone::get("Europe/Vienna").unwrap();
        let cases = [
            ("2026-01-31T22:59:59Z", "2026-01"),
            ("2026-01-31T23:00:00Z", "2026-02"),
            ("2026-03-31T21:59:59Z", "2026-03"),
            ("2026-03-31T22:00:00Z", "2026-04"),
        ];
        for (instant, month) in cases {
            let ts: Timestamp = instant.parse().unwrap();
            assert_eq!(Month::of(&vienna, ts).to_string(), month, "{instant}");
        }
        let (start, end) = Month::parse("2026-03").unwrap().range(&vienna);
        assert_eq!(start.to_string(), "2026-02-28T23:00:00Z");
        assert_eq!(end.to_string(), "2026-03-31T22:00:00Z");
        for bad in ["2026-13", "2026-3", "26-03", "", "2026-00", "abcd-ef"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_limit_admits_only_what_fits() {
        assert!(within_limit(None, 10_000, 5));
        assert!(within_limit(Some(10), 8, 2));
        assert!(!within_limit(Some(10), 9, 2));
        assert!(!within_limit(Some(0), 0, 1));
    }
}
