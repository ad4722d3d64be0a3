//! What staff are told when something needs them: the facts as stored, and the text shown.
//! The store keeps a notice's kind and facts in the transaction of what caused it; the text
//! is written here, when it is read, so it can be improved (or translated) without touching
//! stored rows.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A notice, by kind, with the facts its text needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A message could not be sent, for good.
    MessageFailed {
        /// The transport's or renderer's error.
        error: String,
    },
    /// An SMS was sent but never reached the phone.
    SmsNotDelivered {
        /// What the delivery report said.
        reason: String,
    },
    /// A property's monthly SMS limit is reached.
    SmsLimitReached {
        /// The limit, in SMS parts.
        limit: i64,
        /// The property-local month, `YYYY-MM`.
        month: String,
    },
    /// A channel keeps sending an unpaid cart hold that lapsed long ago.
    ChannelHoldResent {
        /// The channel connection's name.
        channel: String,
        /// The channel's id of the reservation.
        external_id: String,
        /// How long the hold has existed, in minutes.
        held_minutes: i64,
    },
}

impl Notice {
    /// The stable kind (`message_failed`, `sms_not_delivered`, `sms_limit_reached`).
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::MessageFailed { .. } => "message_failed",
            Notice::SmsNotDelivered { .. } => "sms_not_delivered",
            Notice::SmsLimitReached { .. } => "sms_limit_reached",
            Notice::ChannelHoldResent { .. } => "channel_hold_resent",
        }
    }

    /// The facts to store (the kind is stored beside them).
    pub fn facts(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.remove("kind");
        }
        value
    }

    /// A stored notice, from its kind and facts; `None` for one this version does not know.
    pub fn read(kind: &str, facts: &serde_json::Value) -> Option<Notice> {
        let mut value = facts.clone();
        value
            .as_object_mut()?
            .insert("kind".into(), serde_json::Value::from(kind));
        serde_json::from_value(value).ok()
    }

    /// The text staff read, about `message_id` where there is one.
    pub fn text(&self, message_id: Option<Uuid>) -> String {
        let message = message_id.map(|id| format!(" {id}")).unwrap_or_default();
        match self {
            Notice::MessageFailed { error } => {
                format!("Message{message} could not be sent: {error}")
            }
            Notice::SmsNotDelivered { reason } => {
                format!("SMS{message} did not reach the phone: {reason}")
            }
            Notice::SmsLimitReached { limit, month } => format!(
                "The monthly SMS limit of {limit} for {month} is reached: further SMS this month \
                 are rejected (not sent, not billed) until the limit is raised."
            ),
            Notice::ChannelHoldResent {
                channel,
                external_id,
                held_minutes,
            } => format!(
                "{channel} keeps sending the unpaid reservation {external_id}, held for \
                 {held_minutes} minutes now: it stays lapsed here. Ask {channel} to confirm or \
                 drop it."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_reads_back_from_its_kind_and_facts() {
        let id = Uuid::from_u128(7);
        for notice in [
            Notice::MessageFailed {
                error: "550 no such user".into(),
            },
            Notice::SmsNotDelivered {
                reason: "expired".into(),
            },
            Notice::SmsLimitReached {
                limit: 500,
                month: "2026-03".into(),
            },
        ] {
            let read = Notice::read(notice.kind(), &notice.facts()).unwrap();
            assert_eq!(read, notice);
            assert!(!read.text(Some(id)).is_empty());
        }
        assert_eq!(Notice::read("unheard_of", &serde_json::json!({})), None);
        assert_eq!(
            Notice::MessageFailed {
                error: "boom".into()
            }
            .text(Some(id)),
            format!("Message {id} could not be sent: boom")
        );
    }
}
