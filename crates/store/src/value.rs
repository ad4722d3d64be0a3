//! Column types that each backend stores in its own shape.
//!
//! SQLite keeps ids as hyphenated TEXT, instants as INTEGER milliseconds since the Unix epoch
//! and dates as TEXT `YYYY-MM-DD`; PostgreSQL keeps them as `uuid`, `timestamptz` and `date`,
//! so an operator can query the database by hand. These wrappers carry one domain value each
//! and encode it natively for either backend, so a statement binds `Id(x)` or `Ts(t)` once and
//! runs on both. Instants are kept to the millisecond on both backends: a value reads back
//! the same whichever database stored it.

use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// An id: TEXT on SQLite, `uuid` on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Id(pub Uuid);

/// An instant: INTEGER milliseconds on SQLite, `timestamptz` on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ts(pub Timestamp);

/// A calendar date: TEXT `YYYY-MM-DD` on SQLite, `date` on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Day(pub Date);

impl From<Uuid> for Id {
    fn from(id: Uuid) -> Self {
        Id(id)
    }
}

impl From<Timestamp> for Ts {
    fn from(t: Timestamp) -> Self {
        Ts(t)
    }
}

/// `Option<Uuid>` → `Option<Id>`.
pub(crate) fn opt_id(id: Option<Uuid>) -> Option<Id> {
    id.map(Id)
}

/// `Option<Timestamp>` → `Option<Ts>`.
pub(crate) fn opt_ts(t: Option<Timestamp>) -> Option<Ts> {
    t.map(Ts)
}

const TIMESTAMPTZ: PgTypeInfo = PgTypeInfo::with_oid(Oid(1184));
const TIMESTAMPTZ_ARRAY: PgTypeInfo = PgTypeInfo::with_oid(Oid(1185));
const DATE: PgTypeInfo = PgTypeInfo::with_oid(Oid(1082));
const DATE_ARRAY: PgTypeInfo = PgTypeInfo::with_oid(Oid(1182));

/// PostgreSQL counts instants and dates from 2000-01-01 UTC.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const PG_EPOCH_DAY: Date = jiff::civil::date(2000, 1, 1);

impl Ts {
    fn millis(self) -> i64 {
        self.0.as_millisecond()
    }
}

// --- Id ---------------------------------------------------------------------------------

impl Type<Sqlite> for Id {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Id {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.hyphenated().to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Id {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Id(Uuid::parse_str(text)?))
    }
}

impl Type<Postgres> for Id {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
}

impl PgHasArrayType for Id {
    fn array_type_info() -> PgTypeInfo {
        <Uuid as PgHasArrayType>::array_type_info()
    }
}

impl Encode<'_, Postgres> for Id {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
    fn size_hint(&self) -> usize {
        16
    }
}

impl<'r> Decode<'r, Postgres> for Id {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Id(<Uuid as Decode<Postgres>>::decode(value)?))
    }
}

// --- Ts ---------------------------------------------------------------------------------

impl Type<Sqlite> for Ts {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Ts {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.millis(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Ts {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let ms = <i64 as Decode<Sqlite>>::decode(value)?;
        Ok(Ts(Timestamp::from_millisecond(ms)?))
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> PgTypeInfo {
        TIMESTAMPTZ
    }
}

impl PgHasArrayType for Ts {
    fn array_type_info() -> PgTypeInfo {
        TIMESTAMPTZ_ARRAY
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // jiff's range (years -9999..=9999) fits PostgreSQL's microseconds in an i64.
        let micros = self.millis() * 1000 - PG_EPOCH_MICROS;
        Encode::<Postgres>::encode(micros, buf)
    }
    fn size_hint(&self) -> usize {
        8
    }
}

impl<'r> Decode<'r, Postgres> for Ts {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let micros = <i64 as Decode<Postgres>>::decode(value)?;
                let since_unix = micros
                    .checked_add(PG_EPOCH_MICROS)
                    .ok_or("timestamptz out of range")?;
                Ok(Ts(Timestamp::from_microsecond(since_unix)?))
            }
            // The text protocol (simple queries) writes `2026-03-15 08:00:00.123+00`.
            PgValueFormat::Text => {
                let text = value.as_str()?.replacen(' ', "T", 1);
                let full_offset = match text.rfind(['+', '-']) {
                    Some(i) if text.len() - i == 3 => format!("{text}:00"),
                    _ => text,
                };
                Ok(Ts(full_offset.parse()?))
            }
        }
    }
}

// --- Day --------------------------------------------------------------------------------

impl Type<Sqlite> for Day {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Day {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Day {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Day(<&str as Decode<Sqlite>>::decode(value)?.parse()?))
    }
}

impl Type<Postgres> for Day {
    fn type_info() -> PgTypeInfo {
        DATE
    }
}

impl PgHasArrayType for Day {
    fn array_type_info() -> PgTypeInfo {
        DATE_ARRAY
    }
}

impl Encode<'_, Postgres> for Day {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let days = (self.0 - PG_EPOCH_DAY).get_days();
        Encode::<Postgres>::encode(days, buf)
    }
    fn size_hint(&self) -> usize {
        4
    }
}

impl<'r> Decode<'r, Postgres> for Day {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let days = <i32 as Decode<Postgres>>::decode(value)?;
                Ok(Day(
                    PG_EPOCH_DAY.checked_add(jiff::Span::new().try_days(days)?)?
                ))
            }
            PgValueFormat::Text => Ok(Day(value.as_str()?.parse()?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_epoch_constants_agree_with_jiff() {
        let epoch: Timestamp = "2000-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(epoch.as_microsecond(), i128::from(PG_EPOCH_MICROS) as i64);
    }
}
