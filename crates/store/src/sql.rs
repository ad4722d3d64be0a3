//! One way to write SQL for both backends.
//!
//! Statements are written once, with `?` placeholders, and numbered (`$1`, `$2`, ...) before
//! they run: PostgreSQL requires numbered placeholders and SQLite accepts them. sqlx's own
//! `QueryBuilder` cannot do this over the `Any` driver (it always writes `?`), hence `Builder`.
//! `Builder` keeps plain `?` on SQLite: its statements carry hundreds of values, and sqlx
//! looks every numbered SQLite parameter up by name, which costs time quadratic in their count
//! (it halved dispatch throughput).

use crate::Backend;
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use sqlx::{Arguments, Encode, Type};

/// A statement ready to run.
pub(crate) type Statement<'q> = Query<'q, Any, AnyArguments>;

/// Numbers the `?` placeholders of `sql`. The statements of this crate never contain `?`
/// inside a string literal.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A statement written with `?` placeholders.
pub(crate) fn query<'q>(sql: &str) -> Statement<'q> {
    sqlx::query(sqlx::AssertSqlSafe(numbered(sql)))
}

/// Builds a statement with a variable number of values.
pub(crate) struct Builder {
    backend: Backend,
    sql: String,
    arguments: AnyArguments,
    error: Option<sqlx::error::BoxDynError>,
}

impl Builder {
    /// Starts with `init`, which has no placeholders.
    pub(crate) fn new(backend: Backend, init: impl Into<String>) -> Builder {
        Builder {
            backend,
            sql: init.into(),
            arguments: AnyArguments::default(),
            error: None,
        }
    }

    /// Appends SQL text (no placeholders).
    pub(crate) fn push(&mut self, sql: impl AsRef<str>) -> &mut Self {
        self.sql.push_str(sql.as_ref());
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn push_bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        if let Err(e) = self.arguments.add(value) {
            self.error.get_or_insert(e);
        }
        match self.backend {
            Backend::Sqlite => self.sql.push('?'),
            Backend::Postgres => {
                self.sql.push('$');
                self.sql.push_str(&self.arguments.len().to_string());
            }
        }
        self
    }

    /// Appends items separated by `separator`.
    pub(crate) fn separated(&mut self, separator: &'static str) -> Separated<'_> {
        Separated {
            builder: self,
            separator,
            first: true,
        }
    }

    /// Appends `VALUES (...), (...)`, one tuple per item.
    pub(crate) fn push_values<I, F>(&mut self, items: I, mut push_tuple: F) -> &mut Self
    where
        I: IntoIterator,
        F: FnMut(Separated<'_>, I::Item),
    {
        self.sql.push_str("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.sql.push('(');
            push_tuple(self.separated(", "), item);
            self.sql.push(')');
        }
        self
    }

    /// The statement; a value that could not be encoded fails it when it runs.
    pub(crate) fn build(&mut self) -> Statement<'_> {
        let sql = sqlx::AssertSqlSafe(std::mem::take(&mut self.sql));
        let arguments = std::mem::take(&mut self.arguments);
        match self.error.take() {
            None => sqlx::query_with(sql, arguments),
            Some(e) => sqlx::__query_with_result(sql, Err(e)),
        }
    }
}

/// Items of a list, with a separator between them.
pub(crate) struct Separated<'b> {
    builder: &'b mut Builder,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    fn separate(&mut self) {
        if !self.first {
            self.builder.sql.push_str(self.separator);
        }
        self.first = false;
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn push_bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        self.separate();
        self.builder.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
    }

    #[test]
    fn builder_numbers_its_values_in_order() {
        let mut b = Builder::new(Backend::Postgres, "UPDATE t SET a = ");
        b.push_bind(1_i64).push(" WHERE id IN (");
        let mut list = b.separated(", ");
        list.push_bind("x").push_bind("y");
        b.push(") AND k IN ");
        b.push_values([1_i64, 2], |mut row, v| {
            row.push_bind(v).push_bind(0_i64);
        });
        assert_eq!(
            b.sql,
            "UPDATE t SET a = $1 WHERE id IN ($2, $3) AND k IN VALUES ($4, $5), ($6, $7)"
        );
        let mut b = Builder::new(Backend::Sqlite, "SELECT ");
        b.push_bind(1_i64).push(", ").push_bind(2_i64);
        assert_eq!(b.sql, "SELECT ?, ?");
    }
}
