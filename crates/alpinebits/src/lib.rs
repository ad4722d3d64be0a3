//! AlpineBits HotelData, GuestRequests (2018-10, 2020-10, 2022-10, 2024-10): a bounded XML
//! intake that maps `OTA_HotelResNotifRQ` pushes and `OTA_ResRetrieveRS` pull answers onto
//! channel reservations, the `OTA_Ping:Handshaking` negotiation, and the messages bellhop
//! answers or sends.
//!
//! Validation is typed parsing, not an XSD engine: every part bellhop reads is checked the way
//! the AlpineBits schema checks it (required elements and attributes, the `ResStatus`
//! enumeration, `UniqueID` types 14/15 matching the status, dates, counts, ages, amounts,
//! currency codes); parts it does not read (rate plans, payment cards, profiles of travel
//! agents) are skipped without being looked at. Before any of that, the raw text is scanned
//! once with hard limits: size, depth, element count, no DTD, no entity references.

mod handshake;
mod limits;
mod messages;
mod model;

pub use handshake::{Handshake, SUPPORTED_VERSIONS, handshake};
pub use limits::Limits;
pub use messages::{
    Ack, error_response, notif_report_request, ping_response_error, read_request,
    res_notif_response,
};
pub use model::{GuestRequest, GuestRequests, ResStatus, parse_guest_requests, read_acks};

/// Why a message is refused: each names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Larger than the limit.
    #[error("the message is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    /// A DTD or an entity reference (never needed; refused to rule out entity expansion).
    #[error("{0} is not allowed in AlpineBits messages")]
    Forbidden(&'static str),
    /// Nested deeper than the limit.
    #[error("elements are nested more than {0} deep")]
    TooDeep(usize),
    /// More elements than the limit.
    #[error("the message has more than {0} elements")]
    TooManyElements(usize),
    /// A root element this intake does not take.
    #[error("{0} is not a GuestRequests message (OTA_HotelResNotifRQ or OTA_ResRetrieveRS)")]
    UnexpectedMessage(String),
    /// What the schema refuses.
    #[error("invalid {message}: {detail}")]
    Invalid {
        /// The root element.
        message: String,
        /// What is wrong, and where.
        detail: String,
    },
}
