//! Conversions between stored columns and domain values.

use crate::StoreError;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::str::FromStr;
use uuid::Uuid;

pub(crate) fn ms(ts: Timestamp) -> i64 {
    ts.as_millisecond()
}

pub(crate) fn opt_ms(ts: Option<Timestamp>) -> Option<i64> {
    ts.map(ms)
}

pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

pub(crate) trait RowExt {
    fn uuid(&self, col: &str) -> Result<Uuid, StoreError>;
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>, StoreError>;
    fn ts(&self, col: &str) -> Result<Timestamp, StoreError>;
    fn opt_ts(&self, col: &str) -> Result<Option<Timestamp>, StoreError>;
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn parsed<T: FromStr>(&self, col: &str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display;
    fn opt_parsed<T: FromStr>(&self, col: &str) -> Result<Option<T>, StoreError>
    where
        T::Err: std::fmt::Display;
    fn json<T: serde::de::DeserializeOwned>(&self, col: &str) -> Result<T, StoreError>;
    fn opt_packed(&self, col: &str) -> Result<Option<String>, StoreError>;
}

/// Compresses a body for storage.
pub(crate) fn pack(text: &str) -> Vec<u8> {
    lz4_flex::compress_prepend_size(text.as_bytes())
}

impl RowExt for AnyRow {
    fn uuid(&self, col: &str) -> Result<Uuid, StoreError> {
        self.parsed(col)
    }
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>, StoreError> {
        self.opt_parsed(col)
    }
    fn ts(&self, col: &str) -> Result<Timestamp, StoreError> {
        let v = self.int(col)?;
        Timestamp::from_millisecond(v).map_err(|e| corrupt(col, e))
    }
    fn opt_ts(&self, col: &str) -> Result<Option<Timestamp>, StoreError> {
        self.opt_int(col)?
            .map(|v| Timestamp::from_millisecond(v).map_err(|e| corrupt(col, e)))
            .transpose()
    }
    fn text(&self, col: &str) -> Result<String, StoreError> {
        self.try_get(col).map_err(StoreError::from)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.try_get(col).map_err(StoreError::from)
    }
    fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.try_get(col).map_err(StoreError::from)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.try_get(col).map_err(StoreError::from)
    }
    fn parsed<T: FromStr>(&self, col: &str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let text = self.text(col)?;
        text.parse().map_err(|e| corrupt(col, e))
    }
    fn opt_parsed<T: FromStr>(&self, col: &str) -> Result<Option<T>, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_text(col)?
            .map(|t| t.parse().map_err(|e| corrupt(col, e)))
            .transpose()
    }
    fn json<T: serde::de::DeserializeOwned>(&self, col: &str) -> Result<T, StoreError> {
        let text = self.text(col)?;
        serde_json::from_str(&text).map_err(|e| corrupt(col, e))
    }
    fn opt_packed(&self, col: &str) -> Result<Option<String>, StoreError> {
        let Some(bytes) = self.try_get::<Option<Vec<u8>>, _>(col)? else {
            return Ok(None);
        };
        let raw = lz4_flex::decompress_size_prepended(&bytes).map_err(|e| corrupt(col, e))?;
        String::from_utf8(raw)
            .map(Some)
            .map_err(|e| corrupt(col, e))
    }
}
