//! Field checks shared by the resources.

use crate::error::{ApiError, FieldError};
use bellhop_domain::contact::EmailAddress;
use bellhop_domain::language::LanguageTag;

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

    /// A BCP 47 language tag such as `de` or `de-AT`, in its usual case.
    pub fn language(&mut self, field: &str, value: &str) -> Option<LanguageTag> {
        LanguageTag::parse(value.trim())
            .map_err(|e| self.fail(field, e.to_string()))
            .ok()
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

    /// An email address, its domain in lower case.
    pub fn email(&mut self, field: &str, value: &str) -> Option<EmailAddress> {
        EmailAddress::parse(value)
            .map_err(|m| self.fail(field, m))
            .ok()
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
