//! SMS: encoding and segmentation (`segment`), the GSM alphabet (`gsm`), smart encoding
//! (`smart`), sender identities (`sender`) and inbound keywords (`keyword`).

pub mod gsm;
pub mod keyword;
pub mod segment;
pub mod sender;
pub mod smart;

pub use keyword::Keyword;
pub use segment::{Encoding, MAX_PARTS, SmsAnalysis, SmsTextError, analyze, check_sendable};
pub use sender::{SenderError, SenderId};
