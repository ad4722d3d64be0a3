//! The store's one error type.

/// Errors of the store, with the constraint that failed where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique constraint was violated.
    #[error("duplicate: {constraint}")]
    Duplicate {
        /// The constraint's name, shared by both backends.
        constraint: String,
    },
    /// A referenced row does not exist.
    #[error("a referenced record does not exist")]
    ForeignKey,
    /// No such record (for this account).
    #[error("not found")]
    NotFound,
    /// The record changed since it was read; it is at version `current` now.
    #[error("changed meanwhile: it is at version {current} now")]
    Stale {
        /// The version it is at.
        current: i64,
    },
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database cannot take the request now (busy, locked, full, out of connections,
    /// shutting down): the same request may succeed later, and nothing of it was stored.
    #[error("{0}")]
    Unavailable(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Not available in this build.
    #[error("{0}")]
    Unsupported(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => return StoreError::NotFound,
            sqlx::Error::ColumnDecode { index, source } => {
                return StoreError::Corrupt(format!("{index}: {source}"));
            }
            sqlx::Error::Decode(source) => return StoreError::Corrupt(source.to_string()),
            sqlx::Error::PoolTimedOut => {
                return StoreError::Unavailable(
                    "no database connection became free in time".into(),
                );
            }
            sqlx::Error::Io(io) => {
                return StoreError::Unavailable(format!("the database cannot be reached: {io}"));
            }
            sqlx::Error::Database(db) => {
                let classified = match db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                    Some(_) => crate::backend::sqlite::classify(db.as_ref()),
                    None => crate::backend::postgres::classify(db.as_ref()),
                };
                if let Some(classified) = classified {
                    return classified;
                }
            }
            _ => {}
        }
        StoreError::Database(e)
    }
}

/// Collects the rows of a list, leaving out (and logging, and counting in
/// `bellhop_store_unreadable_rows_total{table}`) any row whose values cannot be read back:
/// one bad row must not make a whole list fail. Any other error fails the list.
pub(crate) async fn readable_rows<T>(
    table: &'static str,
    rows: impl futures_util::Stream<Item = Result<T, sqlx::Error>>,
) -> Result<Vec<T>, StoreError> {
    use futures_util::StreamExt;
    let mut rows = std::pin::pin!(rows);
    let mut out = Vec::new();
    while let Some(row) = rows.next().await {
        match row {
            Ok(row) => out.push(row),
            Err(e @ (sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_))) => {
                metrics::counter!("bellhop_store_unreadable_rows_total", "table" => table)
                    .increment(1);
                tracing::error!(table, error = %e, "a stored row cannot be read; left out of the list");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Converts read rows into records, leaving out (and logging and counting) those whose values
/// do not make a valid record; see `readable_rows`.
pub(crate) fn readable_records<R, T>(table: &'static str, rows: Vec<R>) -> Vec<T>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter()
        .filter_map(|row| match T::try_from(row) {
            Ok(record) => Some(record),
            Err(e) => {
                metrics::counter!("bellhop_store_unreadable_rows_total", "table" => table)
                    .increment(1);
                tracing::error!(table, error = %e, "a stored row is not a valid record; left out of the list");
                None
            }
        })
        .collect()
}

/// A stored value that does not parse as what it should be.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}
