//! Why a message is not sent, or not yet: one type for the planner, the router and the
//! dispatcher. Each reason has a stable code for programs (`guest_email_missing`) and a text
//! for staff, rendered when it is shown or stored beside the code.

use crate::booking::{BookingKind, BookingStatus};
use crate::phone::{E164, PhoneType};
use jiff::Timestamp;
use std::fmt;

/// A rule condition a booking can fall outside of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `room_categories`.
    RoomCategory,
    /// `services`.
    Service,
    /// `source_channels`.
    SourceChannel,
}

/// Why a message is not planned, not sent, or not sent now.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// The rule is switched off.
    RuleDisabled,
    /// The rule is another property's.
    RuleOfAnotherProperty,
    /// The booking's status is not one the rule sends in.
    BookingStatus(BookingStatus),
    /// A `status_changed_to` rule whose status the booking is not in.
    NotInStatus {
        /// The booking's status.
        is: BookingStatus,
        /// The rule's.
        wanted: BookingStatus,
    },
    /// The rule is for the other kind of booking.
    BookingKind(BookingKind),
    /// A detail of the booking is not among the rule's values.
    NotAmongRule {
        /// Which condition.
        condition: Condition,
        /// The booking's value.
        value: Option<String>,
    },
    /// Booked fewer hours ahead than the rule's minimum.
    LeadTooShort(i64),
    /// Booked more hours ahead than the rule's maximum.
    LeadTooLong(i64),
    /// The message language is not among the rule's.
    LanguageNotAmongRule(String),
    /// The rule asks for missing guest data, and none is missing.
    GuestDataComplete,
    /// The booking lacks the instant the rule counts from (`option_until`, ...).
    AnchorMissing(&'static str),
    /// A `modified` rule for a booking never modified.
    NotModified,
    /// Rules do not run on enrolments: sequences do.
    SequencesNotRun,
    /// The contact's enrolment in the sequence ended (unenrolled, stopped, completed).
    SequenceEnded(String),
    /// A later change of the booking replaced this message.
    Superseded,
    /// Wanted when planned, no longer at send time.
    NoLongerWanted(Box<Reason>),
    /// Planned after its send time, and the late policy says no.
    LateWhenPlanned {
        /// The send time.
        due_at: Timestamp,
        /// The anchor, when the policy allowed sending until then.
        anchor_at: Option<Timestamp>,
    },
    /// The anchor passed before the message could be sent.
    AnchorPassed(Timestamp),
    /// More than an hour past its send time (`skip` policy).
    TooLate(Timestamp),
    /// SMS wait for quiet hours to end, and the anchor comes first.
    QuietHoursUntilAnchor {
        /// The end of the quiet hours, local.
        until: String,
        /// The anchor.
        anchor_at: Timestamp,
    },
    /// No email address.
    GuestEmailMissing,
    /// No phone number.
    GuestPhoneMissing,
    /// A phone number that does not read as one.
    GuestPhoneUnusable(String),
    /// The property has no SMS sender.
    SmsNotSetUp,
    /// The customer declined SMS reminders.
    SmsDeclined,
    /// The contact point has not agreed to messages of this purpose on this channel (or
    /// withdrew).
    NoConsent {
        /// What the message is for.
        purpose: crate::consent::Purpose,
        /// The channel it would have taken.
        channel: crate::consent::Channel,
    },
    /// A landline, and the property does not call.
    Landline,
    /// A landline, and bulk messages are never read out.
    LandlineBulk,
    /// A number that cannot receive SMS (toll-free, premium, ...).
    CannotReceiveSms(E164, PhoneType),
    /// The text did not render or cannot be sent as an SMS.
    NotRendered(String),
    /// Neither channel of an either-or rule works.
    NoRoute {
        /// Why the first choice does not.
        first: Box<Reason>,
        /// Why the second does not.
        second: Box<Reason>,
        /// Whether SMS was the first choice.
        sms_first: bool,
    },
}

impl Reason {
    /// The stable code programs match on.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::RuleDisabled => "rule_disabled",
            Reason::RuleOfAnotherProperty => "rule_of_another_property",
            Reason::BookingStatus(_) | Reason::NotInStatus { .. } => "booking_status",
            Reason::BookingKind(_) => "booking_kind",
            Reason::NotAmongRule { condition, .. } => match condition {
                Condition::RoomCategory => "room_category",
                Condition::Service => "service",
                Condition::SourceChannel => "source_channel",
            },
            Reason::LeadTooShort(_) => "lead_time_too_short",
            Reason::LeadTooLong(_) => "lead_time_too_long",
            Reason::LanguageNotAmongRule(_) => "language",
            Reason::GuestDataComplete => "guest_data_complete",
            Reason::AnchorMissing(_) => "anchor_missing",
            Reason::NotModified => "not_modified",
            Reason::SequencesNotRun => "sequences_not_run",
            Reason::SequenceEnded(_) => "sequence_ended",
            Reason::Superseded => "superseded",
            Reason::NoLongerWanted(inner) => inner.code(),
            Reason::LateWhenPlanned { .. } => "late_when_planned",
            Reason::AnchorPassed(_) => "anchor_passed",
            Reason::TooLate(_) => "too_late",
            Reason::QuietHoursUntilAnchor { .. } => "quiet_hours",
            Reason::GuestEmailMissing => "guest_email_missing",
            Reason::GuestPhoneMissing => "guest_phone_missing",
            Reason::GuestPhoneUnusable(_) => "guest_phone_unusable",
            Reason::SmsNotSetUp => "sms_not_set_up",
            Reason::SmsDeclined => "sms_declined",
            Reason::NoConsent { .. } => "no_consent",
            Reason::Landline | Reason::LandlineBulk => "landline",
            Reason::CannotReceiveSms(..) => "cannot_receive_sms",
            Reason::NotRendered(_) => "not_rendered",
            Reason::NoRoute { .. } => "no_route",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::RuleDisabled => f.write_str("the rule is disabled"),
            Reason::RuleOfAnotherProperty => f.write_str("the rule belongs to another property"),
            Reason::BookingStatus(status) => write!(f, "the booking is {status}"),
            Reason::NotInStatus { is, wanted } => write!(f, "the booking is {is}, not {wanted}"),
            Reason::BookingKind(kind) => {
                write!(f, "the rule is not for {} bookings", kind.as_str())
            }
            Reason::NotAmongRule { condition, value } => write!(
                f,
                "{} {} is not one of the rule's",
                match condition {
                    Condition::RoomCategory => "room category",
                    Condition::Service => "service",
                    Condition::SourceChannel => "source channel",
                },
                value.as_deref().unwrap_or("(none)")
            ),
            Reason::LeadTooShort(hours) => {
                write!(f, "booked {hours} h ahead, less than the rule's minimum")
            }
            Reason::LeadTooLong(hours) => {
                write!(f, "booked {hours} h ahead, more than the rule's maximum")
            }
            Reason::LanguageNotAmongRule(language) => {
                write!(f, "language {language} is not one of the rule's")
            }
            Reason::GuestDataComplete => {
                f.write_str("the guest data the rule asks for is complete")
            }
            Reason::AnchorMissing(field) => write!(f, "the booking has no {field}"),
            Reason::NotModified => f.write_str("the booking has not been modified"),
            Reason::SequencesNotRun => {
                f.write_str("rules do not run on enrolments: sequences send their own steps")
            }
            Reason::SequenceEnded(how) => write!(f, "the enrolment in the sequence ended: {how}"),
            Reason::Superseded => f.write_str("superseded by a later change of the booking"),
            Reason::NoLongerWanted(inner) => write!(f, "condition no longer true: {inner}"),
            Reason::LateWhenPlanned {
                due_at,
                anchor_at: Some(anchor_at),
            } => write!(
                f,
                "late: the send time {due_at} and the anchor {anchor_at} had passed when planned"
            ),
            Reason::LateWhenPlanned {
                due_at,
                anchor_at: None,
            } => write!(f, "late: the send time {due_at} had passed when planned"),
            Reason::AnchorPassed(anchor_at) => write!(
                f,
                "late: the anchor {anchor_at} passed before the message could be sent"
            ),
            Reason::TooLate(due_at) => {
                write!(f, "late: more than an hour past its send time {due_at}")
            }
            Reason::QuietHoursUntilAnchor { until, anchor_at } => write!(
                f,
                "quiet hours until {until} and the anchor {anchor_at} comes first"
            ),
            Reason::GuestEmailMissing => f.write_str("guest email missing"),
            Reason::GuestPhoneMissing => f.write_str("guest phone missing"),
            Reason::GuestPhoneUnusable(why) => write!(f, "guest phone unusable: {why}"),
            Reason::SmsNotSetUp => {
                f.write_str("SMS are not set up for this property (no SMS sender)")
            }
            Reason::SmsDeclined => f.write_str("the customer declined SMS reminders when booking"),
            Reason::NoConsent { purpose, channel } => {
                write!(f, "no consent: {purpose}/{channel}")
            }
            Reason::Landline => f.write_str("landline"),
            Reason::LandlineBulk => f.write_str("landline: bulk SMS are not read out as calls"),
            Reason::CannotReceiveSms(number, kind) => {
                write!(f, "the number {number} is {kind}: it cannot receive SMS")
            }
            Reason::NotRendered(why) => write!(f, "not rendered: {why}"),
            Reason::NoRoute {
                first,
                second,
                sms_first: false,
            } => write!(f, "{first}; no SMS either: {second}"),
            Reason::NoRoute {
                first,
                second,
                sms_first: true,
            } => write!(f, "no SMS: {first}; {second}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_no_longer_true_keeps_the_code_of_what_changed() {
        let inner = Reason::BookingStatus(BookingStatus::Cancelled);
        let outer = Reason::NoLongerWanted(Box::new(inner.clone()));
        assert_eq!(outer.code(), inner.code());
        assert_eq!(
            outer.to_string(),
            "condition no longer true: the booking is cancelled"
        );
    }

    #[test]
    fn codes_are_snake_case_words() {
        let number = E164::parse("+43800123456").unwrap();
        for reason in [
            Reason::RuleDisabled,
            Reason::GuestEmailMissing,
            Reason::NoConsent {
                purpose: crate::consent::Purpose::Marketing,
                channel: crate::consent::Channel::Sms,
            },
            Reason::CannotReceiveSms(number, PhoneType::TollFree),
            Reason::NoRoute {
                first: Box::new(Reason::GuestEmailMissing),
                second: Box::new(Reason::GuestPhoneMissing),
                sms_first: false,
            },
        ] {
            let code = reason.code();
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
    }
}
