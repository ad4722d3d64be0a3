//! bellhop's engine: booking changes with re-planning in one transaction, the dispatcher that
//! turns due messages into sent mail, retries, and the injected clock.

pub mod clock;
mod dispatcher;
mod error;
mod service;

pub use clock::{Clock, ManualClock, SystemClock};
pub use dispatcher::{DispatchConfig, DispatchStats, Dispatcher};
pub use error::EngineError;
pub use service::{BookingDraft, Engine, PlanImpact};
