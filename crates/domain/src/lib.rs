//! bellhop's domain: the pure types and rules of guest communication.
//!
//! Nothing in this crate performs I/O or reads the wall clock: every function that needs "now"
//! takes it as an argument, so planning and rendering are exhaustively testable.
#![deny(missing_docs)]

pub mod billing;
pub mod booking;
pub mod contact;
pub mod language;
pub mod message;
pub mod notice;
pub mod phone;
pub mod plan;
pub mod presets;
pub mod property;
pub mod quiet;
pub mod reason;
pub mod render;
pub mod retry;
pub mod route;
pub mod rule;
pub mod sample;
pub mod sms;
pub mod text;
pub mod time;

pub use booking::{Booking, BookingDetails, BookingFields, BookingKind, BookingStatus, Schedule};
pub use contact::{Contact, GuestField};
pub use message::{Delivery, MessageKind, MessageStatus};
pub use plan::{ExistingMessage, PlanAction, PlanInput};
pub use property::Property;
pub use reason::Reason;
pub use rule::{Anchor, Channel, Conditions, LatePolicy, Offset, OffsetUnit, Rule};
