//! Messages: one planned or sent communication, and its status life cycle.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a message is in its life. The planner owns `planned`, `skipped` and planner
/// cancellations; the dispatcher owns the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting for its due time.
    Planned,
    /// Not planned to be sent, with a reason (booked too late); may be re-planned.
    Skipped,
    /// Cancelled by the planner (booking changed) or by staff.
    Cancelled,
    /// Claimed by a dispatcher under a lease.
    Sending,
    /// A transient failure; retried at its next attempt time.
    Deferred,
    /// Accepted by the transport.
    Sent,
    /// The SMS reached the phone (delivery report).
    Delivered,
    /// The SMS was not delivered before the network gave up (delivery report).
    Expired,
    /// Not sent and not billed: the property's monthly SMS limit was reached.
    Rejected,
    /// Failed permanently or ran out of retries.
    Failed,
    /// Not sent at send time, with a reason (condition no longer true, no address, render error).
    Suppressed,
}

impl MessageStatus {
    /// Every status.
    pub const ALL: [MessageStatus; 11] = [
        Self::Planned,
        Self::Skipped,
        Self::Cancelled,
        Self::Sending,
        Self::Deferred,
        Self::Sent,
        Self::Delivered,
        Self::Expired,
        Self::Rejected,
        Self::Failed,
        Self::Suppressed,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
            Self::Sending => "sending",
            Self::Deferred => "deferred",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Expired => "expired",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Suppressed => "suppressed",
        }
    }

    /// No further change happens by itself.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Sent
                | Self::Delivered
                | Self::Expired
                | Self::Rejected
                | Self::Failed
                | Self::Suppressed
                | Self::Cancelled
        )
    }
}

/// Where a message comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Planned from a booking by a rule.
    Rule,
    /// A one-time code, sent at once.
    Tan,
    /// One recipient of a bulk SMS.
    Bulk,
    /// A mail about consent the customer asked for: the link to their consent page, or the
    /// double opt-in confirmation.
    Consent,
    /// A staff change of a channel booking, sent back to the channel as a signed webhook.
    ChannelChange,
    /// An autoresponder's answer to an inbound mail.
    AutoReply,
    /// A step of a sequence a contact is enrolled in.
    Sequence,
}

impl MessageKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Rule => "rule",
            MessageKind::Tan => "tan",
            MessageKind::Bulk => "bulk",
            MessageKind::Consent => "consent",
            MessageKind::ChannelChange => "channel_change",
            MessageKind::AutoReply => "auto_reply",
            MessageKind::Sequence => "sequence",
        }
    }
}

impl FromStr for MessageKind {
    type Err = crate::booking::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            MessageKind::Rule,
            MessageKind::Tan,
            MessageKind::Bulk,
            MessageKind::Consent,
            MessageKind::ChannelChange,
            MessageKind::AutoReply,
            MessageKind::Sequence,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| crate::booking::UnknownName {
            what: "message kind",
            name: s.to_owned(),
        })
    }
}

/// What a delivery report says about a sent message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Accepted or buffered by the network: nothing final yet.
    Pending,
    /// Reached the phone.
    Delivered,
    /// Not delivered.
    Failed,
    /// The network gave up trying.
    Expired,
}

impl Delivery {
    /// The status a message in `current` moves to on this report, if any. Reports are applied
    /// monotonically: `sent → delivered | failed | expired`, nothing after a final report, and
    /// a late "pending" never undoes anything.
    pub fn apply_to(self, current: MessageStatus) -> Option<MessageStatus> {
        match (current, self) {
            (MessageStatus::Sent, Delivery::Delivered) => Some(MessageStatus::Delivered),
            (MessageStatus::Sent, Delivery::Failed) => Some(MessageStatus::Failed),
            (MessageStatus::Sent, Delivery::Expired) => Some(MessageStatus::Expired),
            _ => None,
        }
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MessageStatus {
    type Err = crate::booking::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| crate::booking::UnknownName {
                what: "message status",
                name: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_reports_only_move_a_message_forward() {
        use Delivery as D;
        use MessageStatus as S;
        let cases = [
            (S::Sent, D::Delivered, Some(S::Delivered)),
            (S::Sent, D::Failed, Some(S::Failed)),
            (S::Sent, D::Expired, Some(S::Expired)),
            (S::Sent, D::Pending, None),
            (S::Delivered, D::Failed, None),
            (S::Delivered, D::Pending, None),
            (S::Failed, D::Delivered, None),
            (S::Expired, D::Delivered, None),
            (S::Sending, D::Delivered, None),
            (S::Planned, D::Delivered, None),
        ];
        for (current, report, expected) in cases {
            assert_eq!(report.apply_to(current), expected, "{current} + {report:?}");
        }
        for status in MessageStatus::ALL {
            assert_eq!(status.as_str().parse::<MessageStatus>().unwrap(), status);
        }
    }
}
