//! The planner: which messages a booking should have, and how that differs from what exists.
//!
//! `plan` is a pure function of the booking, its contact, the property, the rules, the
//! messages already recorded for the booking, and "now". Its actions are applied by the store
//! in the same transaction as the booking change that caused them, so a booking and its
//! planned messages never disagree. The same function answers, at send time, whether a
//! claimed message is still wanted (`check_at_send`).
//!
//! Uniqueness: a message is keyed by (booking, rule, occurrence). Fixed anchors have one
//! occurrence (`""`); status anchors one per entry into the status (`s<version>`);
//! modification mails one per debounced burst of changes (`m<version>`).

use crate::booking::{Booking, BookingStatus};
use crate::contact::Contact;
use crate::language;
use crate::message::MessageStatus;
use crate::property::Property;
use crate::reason::{Condition, Reason};
use crate::rule::{Anchor, LatePolicy, OffsetUnit, Rule};
use crate::time;
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// A message already recorded for the booking.
#[derive(Clone, Debug, PartialEq)]
pub struct ExistingMessage {
    /// Message id.
    pub id: Uuid,
    /// Rule that planned it.
    pub rule_id: Uuid,
    /// Occurrence key.
    pub occurrence: String,
    /// Current status.
    pub status: MessageStatus,
    /// Due instant.
    pub due_at: Timestamp,
    /// Cancelled by staff (never re-planned) rather than by the planner.
    pub cancelled_by_staff: bool,
}

impl ExistingMessage {
    fn is_pending(&self) -> bool {
        matches!(
            self.status,
            MessageStatus::Planned | MessageStatus::Deferred
        )
    }

    fn is_reopenable(&self) -> bool {
        match self.status {
            MessageStatus::Skipped => true,
            MessageStatus::Cancelled => !self.cancelled_by_staff,
            _ => false,
        }
    }
}

/// Everything the planner reads.
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// The property (zone, check-in times).
    pub property: &'a Property,
    /// The booking as it is now.
    pub booking: &'a Booking,
    /// Its contact as it is now.
    pub contact: &'a Contact,
    /// The property's rules.
    pub rules: &'a [Rule],
    /// Messages already recorded for this booking.
    pub existing: &'a [ExistingMessage],
    /// The current instant.
    pub now: Timestamp,
}

/// A change to the booking's messages.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanAction {
    /// Record a new message.
    Insert {
        /// Rule.
        rule_id: Uuid,
        /// The rule's channel (the message records the one it was sent on).
        channel: crate::rule::Channel,
        /// Occurrence key.
        occurrence: String,
        /// When to send (or when it would have been sent, for a skip).
        due_at: Timestamp,
        /// `Planned`, or `Skipped` when booked too late.
        status: MessageStatus,
        /// Why it is skipped.
        reason: Option<Reason>,
    },
    /// A planned message moves.
    Move {
        /// Message.
        message_id: Uuid,
        /// New due instant.
        due_at: Timestamp,
    },
    /// A skipped or planner-cancelled message is wanted again.
    Reopen {
        /// Message.
        message_id: Uuid,
        /// New due instant.
        due_at: Timestamp,
    },
    /// A planned message is no longer wanted.
    Cancel {
        /// Message.
        message_id: Uuid,
        /// Why.
        reason: Reason,
    },
    /// A planned message moved to a time that has already passed, and the late policy says no.
    Skip {
        /// Message.
        message_id: Uuid,
        /// Why.
        reason: Reason,
    },
}

/// What one rule wants for the booking right now.
#[derive(Clone, Debug, PartialEq)]
pub enum Want {
    /// A message with this occurrence, due at this instant (before the late policy).
    Send {
        /// Occurrence key.
        occurrence: String,
        /// Computed send instant.
        due_at: Timestamp,
        /// The anchor instant it counts from.
        anchor_at: Timestamp,
    },
    /// No message, for this reason.
    Not(Reason),
}

/// The instant a rule's anchor falls on for this booking, with its occurrence key.
fn anchor_instant(rule: &Rule, input: &PlanInput<'_>) -> Result<(Timestamp, String), Reason> {
    let b = input.booking;
    let p = input.property;
    let fixed = |ts: Timestamp| -> Result<(Timestamp, String), Reason> { Ok((ts, String::new())) };
    match rule.anchor {
        Anchor::BookingCreated | Anchor::OfferCreated => fixed(b.created_at),
        Anchor::Start => fixed(start_instant(p, b)),
        Anchor::End => fixed(end_instant(p, b)),
        Anchor::OptionUntil => b
            .fields
            .option_until
            .map_or_else(|| Err(Reason::AnchorMissing("option_until")), fixed),
        Anchor::HoldExpiresAt => b
            .fields
            .hold_expires_at
            .map_or_else(|| Err(Reason::AnchorMissing("hold_expires_at")), fixed),
        Anchor::StatusChangedTo(status) => status_occurrence(b, status),
        Anchor::Cancelled => status_occurrence(b, BookingStatus::Cancelled),
        Anchor::Modified => match (b.modified_at, b.modified_version) {
            (Some(at), Some(version)) => Ok((at, format!("m{version}"))),
            _ => Err(Reason::NotModified),
        },
        Anchor::Enrolled => Err(Reason::SequencesNotRun),
    }
}

fn status_occurrence(b: &Booking, status: BookingStatus) -> Result<(Timestamp, String), Reason> {
    if b.fields.status == status {
        Ok((b.status_changed_at, format!("s{}", b.status_version)))
    } else {
        Err(Reason::NotInStatus {
            is: b.fields.status,
            wanted: status,
        })
    }
}

/// Arrival date at check-in time, or appointment start.
pub fn start_instant(p: &Property, b: &Booking) -> Timestamp {
    match b.fields.schedule {
        crate::Schedule::Stay { arrival, .. } => {
            time::resolve_local(&p.time_zone, arrival.to_datetime(p.check_in_time.time()))
        }
        crate::Schedule::Appointment { start, .. } => start,
    }
}

/// Departure date at check-out time, or appointment end.
pub fn end_instant(p: &Property, b: &Booking) -> Timestamp {
    match b.fields.schedule {
        crate::Schedule::Stay { departure, .. } => {
            time::resolve_local(&p.time_zone, departure.to_datetime(p.check_out_time.time()))
        }
        crate::Schedule::Appointment { end, .. } => end,
    }
}

/// Applies a rule's offset (and time of day) to an anchor instant, per DESIGN.md §3.
pub fn apply_offset(rule: &Rule, p: &Property, anchor: Timestamp) -> Timestamp {
    let tz = &p.time_zone;
    let amount = rule.offset.amount;
    match (rule.offset.unit, rule.time_of_day) {
        (OffsetUnit::Days, Some(at)) => time::local_date_at(tz, anchor, amount, at),
        (OffsetUnit::Days, None) => time::add_calendar_days(tz, anchor, amount),
        (OffsetUnit::Hours, _) => anchor
            .checked_add(SignedDuration::from_hours(i64::from(amount)))
            .unwrap_or(anchor),
        (OffsetUnit::Minutes, _) => anchor
            .checked_add(SignedDuration::from_mins(i64::from(amount)))
            .unwrap_or(anchor),
    }
}

/// An SMS-first rule's send time moved out of the property's quiet hours.
fn sms_quiet(rule: &Rule, p: &Property, due_at: Timestamp, anchor_at: Timestamp) -> Timestamp {
    match p.sms.quiet_hours {
        Some(quiet) if rule.channel.sms_first() => quiet.place(
            &p.time_zone,
            due_at,
            rule.is_before_anchor().then_some(anchor_at),
        ),
        _ => due_at,
    }
}

/// The statuses a rule accepts when it names none: "before" mails only for live bookings,
/// never for cancelled ones; status mails only while the booking is still in that status.
pub fn default_statuses(rule: &Rule) -> Vec<BookingStatus> {
    use BookingStatus::*;
    let before = rule.is_before_anchor();
    match rule.anchor {
        Anchor::BookingCreated | Anchor::Modified | Anchor::Enrolled => {
            vec![
                Offer,
                Option,
                PendingPayment,
                Confirmed,
                CheckedIn,
                CheckedOut,
            ]
        }
        Anchor::OfferCreated => vec![Offer, Option],
        Anchor::Start if before => vec![Confirmed, CheckedIn],
        Anchor::Start | Anchor::End => vec![Confirmed, CheckedIn, CheckedOut],
        Anchor::OptionUntil if before => vec![Option],
        Anchor::OptionUntil => vec![Option, Expired],
        Anchor::HoldExpiresAt if before => vec![PendingPayment],
        Anchor::HoldExpiresAt => vec![PendingPayment, Expired],
        Anchor::StatusChangedTo(status) => vec![status],
        Anchor::Cancelled => vec![Cancelled],
    }
}

/// Checks a rule's conditions against the booking and contact as they are now.
pub fn check_conditions(rule: &Rule, input: &PlanInput<'_>) -> Result<(), Reason> {
    let b = input.booking;
    let c = &rule.conditions;
    let statuses = c.statuses.clone().unwrap_or_else(|| default_statuses(rule));
    if !statuses.contains(&b.fields.status) {
        return Err(Reason::BookingStatus(b.fields.status));
    }
    if let Some(kinds) = &c.kinds
        && !kinds.contains(&b.kind())
    {
        return Err(Reason::BookingKind(b.kind()));
    }
    let within = |list: &Option<Vec<String>>, value: &Option<String>, condition| match list {
        Some(list) if !value.as_ref().is_some_and(|v| list.iter().any(|x| x == v)) => {
            Err(Reason::NotAmongRule {
                condition,
                value: value.clone(),
            })
        }
        _ => Ok(()),
    };
    within(
        &c.room_categories,
        &b.fields.details.room_category,
        Condition::RoomCategory,
    )?;
    within(&c.services, &b.fields.details.service, Condition::Service)?;
    let channel = Some(
        b.fields
            .details
            .source_channel
            .clone()
            .unwrap_or_else(|| "direct".to_owned()),
    );
    within(&c.source_channels, &channel, Condition::SourceChannel)?;
    if c.min_lead_hours.is_some() || c.max_lead_hours.is_some() {
        let lead = start_instant(input.property, b)
            .duration_since(b.created_at)
            .as_hours();
        if c.min_lead_hours.is_some_and(|min| lead < min) {
            return Err(Reason::LeadTooShort(lead));
        }
        if c.max_lead_hours.is_some_and(|max| lead > max) {
            return Err(Reason::LeadTooLong(lead));
        }
    }
    if let Some(languages) = &c.languages {
        let wanted = language::wanted(input.property, b, input.contact);
        if !languages.iter().any(|l| language::same_primary(l, &wanted)) {
            return Err(Reason::LanguageNotAmongRule(wanted));
        }
    }
    if let Some(fields) = &c.missing_any
        && fields.iter().all(|f| input.contact.has(*f))
    {
        return Err(Reason::GuestDataComplete);
    }
    Ok(())
}

/// What one rule wants for the booking, before the late policy.
pub fn want(rule: &Rule, input: &PlanInput<'_>) -> Want {
    if !rule.enabled {
        return Want::Not(Reason::RuleDisabled);
    }
    if rule.property_id != input.booking.fields.property_id {
        return Want::Not(Reason::RuleOfAnotherProperty);
    }
    if let Err(reason) = check_conditions(rule, input) {
        return Want::Not(reason);
    }
    match anchor_instant(rule, input) {
        Ok((anchor_at, occurrence)) => Want::Send {
            occurrence,
            due_at: sms_quiet(
                rule,
                input.property,
                apply_offset(rule, input.property, anchor_at),
                anchor_at,
            ),
            anchor_at,
        },
        Err(reason) => Want::Not(reason),
    }
}

/// Applies the late policy to a send time that may already have passed.
pub fn apply_late_policy(
    policy: LatePolicy,
    due_at: Timestamp,
    anchor_at: Timestamp,
    now: Timestamp,
) -> Result<Timestamp, Reason> {
    if due_at >= now {
        return Ok(due_at);
    }
    match policy {
        LatePolicy::SendNow => Ok(now),
        LatePolicy::SendIfBeforeAnchor if now < anchor_at => Ok(now),
        LatePolicy::SendIfBeforeAnchor => Err(Reason::LateWhenPlanned {
            due_at,
            anchor_at: Some(anchor_at),
        }),
        LatePolicy::Skip => Err(Reason::LateWhenPlanned {
            due_at,
            anchor_at: None,
        }),
    }
}

/// Plans the booking: the actions that bring its recorded messages in line with its rules.
pub fn plan(input: &PlanInput<'_>) -> Vec<PlanAction> {
    let mut actions = Vec::new();
    for rule in input.rules {
        let rows: Vec<&ExistingMessage> = input
            .existing
            .iter()
            .filter(|m| m.rule_id == rule.id)
            .collect();
        plan_rule(rule, input, &rows, &mut actions);
    }
    actions
}

fn plan_rule(
    rule: &Rule,
    input: &PlanInput<'_>,
    rows: &[&ExistingMessage],
    actions: &mut Vec<PlanAction>,
) {
    let (mut occurrence, due_at, anchor_at) = match want(rule, input) {
        Want::Send {
            occurrence,
            due_at,
            anchor_at,
        } => (occurrence, due_at, anchor_at),
        Want::Not(reason) => {
            for row in rows.iter().filter(|r| r.is_pending()) {
                actions.push(PlanAction::Cancel {
                    message_id: row.id,
                    reason: reason.clone(),
                });
            }
            return;
        }
    };
    if rule.anchor == Anchor::Modified {
        // Debounce: a modification mail still waiting absorbs the new change and moves to the
        // end of the merge window; one already sent for this version means nothing to do.
        if let Some(waiting) = rows.iter().find(|r| r.status == MessageStatus::Planned) {
            occurrence = waiting.occurrence.clone();
        }
    }
    let late = apply_late_policy(rule.late_policy, due_at, anchor_at, input.now);
    for row in rows
        .iter()
        .filter(|r| r.is_pending() && r.occurrence != occurrence)
    {
        actions.push(PlanAction::Cancel {
            message_id: row.id,
            reason: Reason::Superseded,
        });
    }
    match rows.iter().find(|r| r.occurrence == occurrence) {
        None => actions.push(match late {
            Ok(due_at) => PlanAction::Insert {
                rule_id: rule.id,
                channel: rule.channel,
                occurrence,
                due_at,
                status: MessageStatus::Planned,
                reason: None,
            },
            Err(reason) => PlanAction::Insert {
                rule_id: rule.id,
                channel: rule.channel,
                occurrence,
                due_at,
                status: MessageStatus::Skipped,
                reason: Some(reason),
            },
        }),
        Some(row) if row.status == MessageStatus::Planned && row.due_at != due_at => match late {
            // Already due (a late booking planned for "now"): it goes out as soon as it can;
            // moving it to a later "now" on every re-plan would only add noise.
            Ok(_) if due_at < input.now && row.due_at <= input.now => {}
            Ok(due_at) => actions.push(PlanAction::Move {
                message_id: row.id,
                due_at,
            }),
            Err(reason) => actions.push(PlanAction::Skip {
                message_id: row.id,
                reason,
            }),
        },
        Some(row) if row.status == MessageStatus::Planned => {}
        Some(row) if row.is_reopenable() => {
            if let Ok(due_at) = late {
                actions.push(PlanAction::Reopen {
                    message_id: row.id,
                    due_at,
                });
            }
        }
        Some(_) => {}
    }
}

/// How late a `skip` message may still go out (the dispatcher was busy or down).
pub const SKIP_GRACE: SignedDuration = SignedDuration::from_hours(1);

/// The late policy at send time: after downtime or long retries, a message can be due long
/// ago. A "before" mail whose anchor has passed is never sent under `send_if_before_anchor`;
/// a `skip` message more than `SKIP_GRACE` late is not sent. Returns why not.
pub fn late_at_send(
    rule: &Rule,
    due_at: Timestamp,
    anchor_at: Timestamp,
    now: Timestamp,
) -> Option<Reason> {
    match rule.late_policy {
        LatePolicy::SendIfBeforeAnchor if rule.is_before_anchor() && now >= anchor_at => {
            Some(Reason::AnchorPassed(anchor_at))
        }
        LatePolicy::Skip if now.duration_since(due_at) > SKIP_GRACE => {
            Some(Reason::TooLate(due_at))
        }
        _ => None,
    }
}

/// The verdict on a claimed message at send time.
#[derive(Clone, Debug, PartialEq)]
pub enum SendCheck {
    /// Still wanted now.
    Go,
    /// No longer wanted: suppress with this reason.
    Suppress(Reason),
    /// Wanted, but later than claimed (the booking moved): put back with this due time.
    Reschedule(Timestamp),
}

/// Belt and braces: checks a claimed message against the booking as it is at send time.
pub fn check_at_send(rule: &Rule, input: &PlanInput<'_>, occurrence: &str) -> SendCheck {
    match want(rule, input) {
        Want::Not(reason) => SendCheck::Suppress(Reason::NoLongerWanted(Box::new(reason))),
        Want::Send {
            occurrence: wanted,
            due_at,
            ..
        } => {
            if rule.anchor != Anchor::Modified && wanted != occurrence {
                SendCheck::Suppress(Reason::Superseded)
            } else if due_at > input.now && rule.anchor != Anchor::Modified {
                SendCheck::Reschedule(due_at)
            } else {
                SendCheck::Go
            }
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
