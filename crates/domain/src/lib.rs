//! bellhop's domain: the pure types and rules of guest communication.
//!
//! Nothing in this crate performs I/O or reads the wall clock: every function that needs "now"
//! takes it as an argument, so planning and rendering are exhaustively testable.
#![deny(missing_docs)]

/// The plumbing of a checked text value (`$name(String)` with `$name::parse(&str) ->
/// Result<$name, $error>`): read from JSON and `str::parse` through `parse`, written as the
/// text, used as a `&str`, and `stored` for values read back from storage, where only parsed
/// ones are written.
/// A closed set of names, each with its stored and shown spelling.
macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in the order they are shown.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name as stored and shown.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value of a stored or given name.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

macro_rules! checked_text {
    ($name:ident, $error:ty) => {
        impl $name {
            /// A value read back from storage, where only checked values are written.
            pub fn stored(text: String) -> $name {
                $name(text)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

pub mod billing;
pub mod booking;
pub mod channel;
pub mod consent;
pub mod contact;
pub mod language;
pub mod mailbox;
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
pub mod sequence;
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
