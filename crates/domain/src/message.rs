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
    /// Failed permanently or ran out of retries.
    Failed,
    /// Not sent at send time, with a reason (condition no longer true, no address, render error).
    Suppressed,
}

impl MessageStatus {
    /// Every status.
    pub const ALL: [MessageStatus; 8] = [
        Self::Planned,
        Self::Skipped,
        Self::Cancelled,
        Self::Sending,
        Self::Deferred,
        Self::Sent,
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
            Self::Failed => "failed",
            Self::Suppressed => "suppressed",
        }
    }

    /// No further change happens by itself.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Sent | Self::Failed | Self::Suppressed | Self::Cancelled
        )
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
