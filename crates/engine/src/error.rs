//! The engine's error type.

use bellhop_store::StoreError;

/// What can go wrong in the engine, split by who must act.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The caller's input is invalid (field, message).
    #[error("{field}: {message}")]
    Invalid {
        /// Field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Several inputs are invalid: (field path, what is wrong) for each.
    #[error("{} invalid fields", .0.len())]
    InvalidItems(Vec<(String, String)>),
    /// No such record for this account.
    #[error("not found")]
    NotFound,
    /// The record changed meanwhile or is in a state that forbids the action.
    #[error("{0}")]
    Conflict(String),
    /// A booking with this external id from this source exists at the property already.
    #[error("a booking with external_id {external_id} from this source exists already: {existing}")]
    Duplicate {
        /// The booking that exists.
        existing: uuid::Uuid,
        /// The external id.
        external_id: String,
    },
    /// The record changed since the caller read it; it is at version `current` now.
    #[error("the booking changed meanwhile: it is at version {current} now")]
    Stale {
        /// The version it is at.
        current: i64,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// A bug: something the engine should never meet.
    #[error("internal error: {0}")]
    Internal(String),
    /// Temporarily unable to take the request; try again.
    #[error("busy: {0}")]
    Busy(String),
}

impl EngineError {
    /// An invalid-input error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        EngineError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => EngineError::NotFound,
            StoreError::Stale { current } => EngineError::Stale { current },
            StoreError::ForeignKey => {
                EngineError::invalid("reference", "a referenced record does not exist")
            }
            other => EngineError::Store(other),
        }
    }
}
