//! Field checks shared by the resources.

use crate::error::{ApiError, FieldError};

/// Collects field errors so a client sees all of them at once.
#[derive(Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    /// Records an error.
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// A text of `min..=max` characters without control characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.chars().count();
        if n < min || n > max {
            self.fail(field, format!("must have {min} to {max} characters"));
        } else if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.fail(field, "must not contain control characters");
        }
    }

    /// An optional short single-line text.
    pub fn opt_line(&mut self, field: &str, value: &Option<String>, max: usize) {
        if let Some(v) = value {
            self.text(field, v, 0, max);
            if v.contains(['\r', '\n']) {
                self.fail(field, "must be a single line");
            }
        }
    }

    /// A BCP 47 language tag such as `de` or `de-AT`.
    pub fn language(&mut self, field: &str, value: &str) {
        let ok = value.len() <= 35
            && value.split('-').enumerate().all(|(i, part)| {
                let len_ok = if i == 0 {
                    (2..=3).contains(&part.len())
                } else {
                    (2..=8).contains(&part.len())
                };
                len_ok && part.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if !ok {
            self.fail(
                field,
                format!("{value:?} is not a language tag such as \"de\" or \"de-AT\""),
            );
        }
    }

    /// An ISO 3166-1 alpha-2 country code.
    pub fn country(&mut self, field: &str, value: &str) {
        if value.len() != 2
            || !value.chars().all(|c| c.is_ascii_uppercase())
            || bellhop_domain::phone::check_country(value).is_err()
        {
            self.fail(
                field,
                format!("{value:?} is not a two-letter country code such as \"AT\""),
            );
        }
    }

    /// A date of birth: not before 1900, not in the future (`today`).
    pub fn birth_date(&mut self, field: &str, value: jiff::civil::Date, today: jiff::civil::Date) {
        if value < jiff::civil::date(1900, 1, 1) || value > today {
            self.fail(field, "must lie between 1900-01-01 and today");
        }
    }

    /// An email address.
    pub fn email(&mut self, field: &str, value: &str) {
        if let Err(m) = bellhop_domain::contact::validate_email(value) {
            self.fail(field, m);
        }
    }

    /// Ok when nothing failed.
    pub fn done(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }
}
