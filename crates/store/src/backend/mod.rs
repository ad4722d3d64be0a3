//! What really differs between the databases, side by side: each module has the same names.
//!
//! `connect`, `begin` (SQLite takes its write lock at once; PostgreSQL relies on row locks),
//! the lock clauses of claims and sweeps, error classification by result code / SQLSTATE,
//! the migrations, and `Db` (the sqlx database type, for builders). Everything else is
//! written once in the resource modules and compiled for both through `on!`.

pub(crate) mod postgres;
pub(crate) mod sqlite;

/// Turns embedded migration texts into a migrator.
fn migrator_of(migrations: &[(i64, &'static str, &'static str)]) -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr;
    sqlx::migrate::Migrator::with_migrations(
        migrations
            .iter()
            .map(|(version, description, sql)| {
                sqlx::migrate::Migration::new(
                    *version,
                    std::borrow::Cow::Borrowed(*description),
                    sqlx::migrate::MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}
