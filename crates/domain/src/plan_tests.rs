//! Planner tests: timing across DST, late bookings, re-planning, debounce.

use super::*;
use crate::booking::{BookingFields, BookingStatus, Schedule};
use crate::contact::{Contact, GuestField};
use crate::property::{Property, Sender};
use crate::rule::{Channel, Conditions, LatePolicy, Offset};
use crate::time::{LocalTime, parse_time_zone};
use jiff::civil::{Date, date};

fn property(zone: &str) -> Property {
    Property {
        id: Uuid::nil(),
        account_id: Uuid::nil(),
        name: "Hotel Test".into(),
        time_zone_name: zone.into(),
        time_zone: parse_time_zone(zone).unwrap(),
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: LocalTime::hm(15, 0),
        check_out_time: LocalTime::hm(10, 0),
        sender: Sender {
            email: "hotel@example.com".into(),
            name: "Hotel".into(),
            reply_to: None,
        },
        layout_html: None,
        layout_text: None,
        brand: Default::default(),
        consent: Default::default(),
        sms: Default::default(),
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn stay(arrival: Date, departure: Date, created: &str) -> Booking {
    let mut fields = BookingFields::new(
        Uuid::nil(),
        Uuid::from_u128(2),
        BookingStatus::Confirmed,
        Schedule::Stay { arrival, departure },
    );
    fields.details.room_category = Some("DZ".into());
    fields.details.guests = Some(2);
    Booking::created(Uuid::from_u128(1), Uuid::nil(), fields, ts(created))
}

fn appointment(start: &str, created: &str) -> Booking {
    let start = ts(start);
    let end = start.checked_add(SignedDuration::from_hours(1)).unwrap();
    let mut booking = stay(date(2026, 1, 1), date(2026, 1, 2), created);
    booking.fields.schedule = Schedule::Appointment { start, end };
    booking
}

fn rule(anchor: Anchor, offset: Offset, at: Option<(i8, i8)>, policy: LatePolicy) -> Rule {
    Rule {
        id: Uuid::from_u128(10),
        account_id: Uuid::nil(),
        property_id: Uuid::nil(),
        name: "r".into(),
        anchor,
        offset,
        time_of_day: at.map(|(h, m)| LocalTime::hm(h, m)),
        conditions: Conditions::default(),
        channel: Channel::Email,
        template_id: Uuid::nil(),
        fallback_template_id: None,
        late_policy: policy,
        enabled: true,
    }
}

fn run(
    p: &Property,
    b: &Booking,
    c: &Contact,
    r: &Rule,
    existing: &[ExistingMessage],
    now: &str,
) -> Vec<PlanAction> {
    plan(&PlanInput {
        property: p,
        booking: b,
        contact: c,
        rules: std::slice::from_ref(r),
        existing,
        now: ts(now),
    })
}

fn inserted_due(actions: &[PlanAction]) -> (Timestamp, MessageStatus) {
    match actions {
        [PlanAction::Insert { due_at, status, .. }] => (*due_at, *status),
        other => panic!("expected one insert, got {other:?}"),
    }
}

const DEFAULT: LatePolicy = LatePolicy::SendIfBeforeAnchor;

#[test]
fn days_before_arrival_at_a_local_time_across_dst_changes() {
    // (zone, arrival, days, time of day, expected UTC instant)
    let cases = [
        (
            "Europe/Vienna",
            date(2026, 3, 31),
            -3,
            (10, 0),
            "2026-03-28T09:00:00Z",
        ),
        (
            "Europe/Vienna",
            date(2026, 4, 1),
            -3,
            (10, 0),
            "2026-03-29T08:00:00Z",
        ),
        (
            "Europe/Vienna",
            date(2026, 4, 1),
            -3,
            (2, 30),
            "2026-03-29T01:00:00Z",
        ),
        (
            "Europe/Vienna",
            date(2026, 10, 28),
            -3,
            (2, 30),
            "2026-10-25T00:30:00Z",
        ),
        (
            "Europe/Vienna",
            date(2026, 10, 26),
            -1,
            (10, 0),
            "2026-10-25T09:00:00Z",
        ),
        (
            "Europe/Vienna",
            date(2026, 10, 24),
            -1,
            (10, 0),
            "2026-10-23T08:00:00Z",
        ),
        (
            "America/New_York",
            date(2026, 3, 10),
            -2,
            (2, 30),
            "2026-03-08T07:00:00Z",
        ),
        (
            "America/New_York",
            date(2026, 3, 10),
            -2,
            (10, 0),
            "2026-03-08T14:00:00Z",
        ),
        (
            "America/New_York",
            date(2026, 11, 2),
            -1,
            (1, 30),
            "2026-11-01T05:30:00Z",
        ),
        (
            "America/New_York",
            date(2026, 11, 3),
            -2,
            (10, 0),
            "2026-11-01T15:00:00Z",
        ),
        (
            "America/New_York",
            date(2026, 11, 3),
            0,
            (18, 0),
            "2026-11-03T23:00:00Z",
        ),
    ];
    for (zone, arrival, days, at, expected) in cases {
        let p = property(zone);
        let b = stay(arrival, arrival.tomorrow().unwrap(), "2026-01-01T00:00:00Z");
        let r = rule(Anchor::Start, Offset::days(days), Some(at), DEFAULT);
        let (due, status) = inserted_due(&run(
            &p,
            &b,
            &Contact::default(),
            &r,
            &[],
            "2026-01-01T00:00:00Z",
        ));
        assert_eq!(
            (due.to_string().as_str(), status),
            (expected, MessageStatus::Planned),
            "{zone} {arrival} {days} {at:?}"
        );
    }
}

#[test]
fn days_are_calendar_days_and_hours_are_exact_durations() {
    let p = property("Europe/Vienna");
    // 10:00 CEST on the day Vienna springs forward.
    let b = appointment("2026-03-29T08:00:00Z", "2026-01-01T00:00:00Z");
    let cases = [
        (Offset::days(-1), "2026-03-28T09:00:00Z"), // 10:00 CET the day before
        (Offset::hours(-24), "2026-03-28T08:00:00Z"), // 09:00 CET: 24 exact hours
        (Offset::minutes(-90), "2026-03-29T06:30:00Z"),
        (Offset::days(1), "2026-03-30T08:00:00Z"),
    ];
    for (offset, expected) in cases {
        let r = rule(Anchor::Start, offset, None, DEFAULT);
        let (due, _) = inserted_due(&run(
            &p,
            &b,
            &Contact::default(),
            &r,
            &[],
            "2026-01-01T00:00:00Z",
        ));
        assert_eq!(due.to_string(), expected, "{offset:?}");
    }
}

#[test]
fn a_send_time_later_today_is_planned_and_one_already_passed_today_follows_the_late_policy() {
    let p = property("Europe/Vienna");
    let b = stay(date(2026, 6, 13), date(2026, 6, 15), "2026-06-10T06:00:00Z");
    let r = rule(Anchor::Start, Offset::days(-3), Some((10, 0)), DEFAULT);
    let c = Contact::default();
    // Booked at 08:00 local: 10:00 local today is still ahead.
    assert_eq!(
        inserted_due(&run(&p, &b, &c, &r, &[], "2026-06-10T06:00:00Z")),
        (ts("2026-06-10T08:00:00Z"), MessageStatus::Planned)
    );
    // Booked at 11:00 local: 10:00 has passed; arrival has not, so send now.
    assert_eq!(
        inserted_due(&run(&p, &b, &c, &r, &[], "2026-06-10T09:00:00Z")),
        (ts("2026-06-10T09:00:00Z"), MessageStatus::Planned)
    );
}

#[test]
fn late_bookings_follow_each_policy() {
    let p = property("Europe/Vienna");
    let c = Contact::default();
    // Arrival 2026-06-13 15:00 CEST (13:00Z); rule "3 days before at 10:00".
    let b = stay(date(2026, 6, 13), date(2026, 6, 15), "2026-06-12T10:00:00Z");
    let cases = [
        (
            LatePolicy::Skip,
            "2026-06-12T10:00:00Z",
            MessageStatus::Skipped,
            "2026-06-10T08:00:00Z",
        ),
        (
            LatePolicy::SendNow,
            "2026-06-12T10:00:00Z",
            MessageStatus::Planned,
            "2026-06-12T10:00:00Z",
        ),
        (
            LatePolicy::SendIfBeforeAnchor,
            "2026-06-12T10:00:00Z",
            MessageStatus::Planned,
            "2026-06-12T10:00:00Z",
        ),
        // Walk-in after the check-in time: never a "before arrival" mail after arrival.
        (
            LatePolicy::SendIfBeforeAnchor,
            "2026-06-13T14:00:00Z",
            MessageStatus::Skipped,
            "2026-06-10T08:00:00Z",
        ),
        (
            LatePolicy::SendNow,
            "2026-06-13T14:00:00Z",
            MessageStatus::Planned,
            "2026-06-13T14:00:00Z",
        ),
    ];
    for (policy, now, status, due) in cases {
        let r = rule(Anchor::Start, Offset::days(-3), Some((10, 0)), policy);
        assert_eq!(
            inserted_due(&run(&p, &b, &c, &r, &[], now)),
            (ts(due), status),
            "{policy:?} {now}"
        );
    }
}

fn existing(status: MessageStatus, due: &str, occurrence: &str) -> ExistingMessage {
    ExistingMessage {
        id: Uuid::from_u128(99),
        rule_id: Uuid::from_u128(10),
        occurrence: occurrence.into(),
        status,
        due_at: ts(due),
        cancelled_by_staff: false,
    }
}

#[test]
fn reminder_moves_with_the_arrival_date_and_is_cancelled_with_the_booking() {
    let p = property("Europe/Vienna");
    let c = Contact::default();
    let r = rule(Anchor::Start, Offset::days(-3), Some((10, 0)), DEFAULT);
    let planned = [existing(MessageStatus::Planned, "2026-06-10T08:00:00Z", "")];
    let now = "2026-06-01T00:00:00Z";
    let id = Uuid::from_u128(99);
    let moved = |arrival: Date| {
        let b = stay(arrival, arrival.tomorrow().unwrap(), now);
        run(&p, &b, &c, &r, &planned, now)
    };
    assert_eq!(
        moved(date(2026, 6, 20)),
        [PlanAction::Move {
            message_id: id,
            due_at: ts("2026-06-17T08:00:00Z")
        }]
    );
    assert_eq!(
        moved(date(2026, 6, 5)),
        [PlanAction::Move {
            message_id: id,
            due_at: ts("2026-06-02T08:00:00Z")
        }]
    );
    assert_eq!(moved(date(2026, 6, 13)), []);
    // Moved so close that the send time has passed: before arrival, so send now.
    assert_eq!(
        moved(date(2026, 6, 2)),
        [PlanAction::Move {
            message_id: id,
            due_at: ts(now)
        }]
    );

    let mut cancelled = stay(date(2026, 6, 13), date(2026, 6, 14), now);
    cancelled.fields.status = BookingStatus::Cancelled;
    assert!(matches!(
        run(&p, &cancelled, &c, &r, &planned, now).as_slice(),
        [PlanAction::Cancel { reason, .. }] if reason.to_string().contains("cancelled")
    ));
    // Reinstated: the planner's own cancellation is undone; a staff cancellation is not.
    let reinstated = stay(date(2026, 6, 13), date(2026, 6, 14), now);
    let mut gone = [existing(
        MessageStatus::Cancelled,
        "2026-06-10T08:00:00Z",
        "",
    )];
    assert_eq!(
        run(&p, &reinstated, &c, &r, &gone, now),
        [PlanAction::Reopen {
            message_id: id,
            due_at: ts("2026-06-10T08:00:00Z")
        }]
    );
    gone[0].cancelled_by_staff = true;
    assert_eq!(run(&p, &reinstated, &c, &r, &gone, now), []);
    // Sent is sent: no second message for the same booking, rule and occurrence.
    let sent = [existing(MessageStatus::Sent, "2026-06-10T08:00:00Z", "")];
    assert_eq!(
        run(
            &p,
            &stay(date(2026, 6, 20), date(2026, 6, 21), now),
            &c,
            &r,
            &sent,
            now
        ),
        []
    );
}

#[test]
fn missing_guest_data_mail_stops_once_the_data_arrives() {
    let p = property("Europe/Vienna");
    let now = "2026-06-01T00:00:00Z";
    let b = stay(date(2026, 6, 20), date(2026, 6, 22), now);
    let mut r = rule(Anchor::Start, Offset::days(-7), Some((10, 0)), DEFAULT);
    r.conditions.missing_any = Some(vec![GuestField::BirthDate, GuestField::Nationality]);
    let mut c = Contact {
        nationality: Some("AT".into()),
        ..Contact::default()
    };
    assert_eq!(
        inserted_due(&run(&p, &b, &c, &r, &[], now)).1,
        MessageStatus::Planned
    );
    c.birth_date = Some(date(1980, 5, 1));
    let planned = [existing(MessageStatus::Planned, "2026-06-13T08:00:00Z", "")];
    assert!(matches!(
        run(&p, &b, &c, &r, &planned, now).as_slice(),
        [PlanAction::Cancel { .. }]
    ));
    assert_eq!(run(&p, &b, &c, &r, &[], now), []);
}

#[test]
fn modification_mails_are_debounced_into_one_per_burst() {
    let p = property("Europe/Vienna");
    let c = Contact::default();
    let r = rule(
        Anchor::Modified,
        Offset::minutes(15),
        None,
        LatePolicy::SendNow,
    );
    let mut b = stay(date(2026, 6, 20), date(2026, 6, 22), "2026-06-01T00:00:00Z");
    b.modified_at = Some(ts("2026-06-05T10:00:00Z"));
    b.modified_version = Some(2);
    let first = run(&p, &b, &c, &r, &[], "2026-06-05T10:00:00Z");
    assert!(
        matches!(first.as_slice(), [PlanAction::Insert { occurrence, due_at, .. }] if occurrence == "m2" && *due_at == ts("2026-06-05T10:15:00Z"))
    );
    // A second change five minutes later extends the same mail's window.
    b.modified_at = Some(ts("2026-06-05T10:05:00Z"));
    b.modified_version = Some(3);
    let waiting = [existing(
        MessageStatus::Planned,
        "2026-06-05T10:15:00Z",
        "m2",
    )];
    assert_eq!(
        run(&p, &b, &c, &r, &waiting, "2026-06-05T10:05:00Z"),
        [PlanAction::Move {
            message_id: Uuid::from_u128(99),
            due_at: ts("2026-06-05T10:20:00Z")
        }]
    );
    // Once sent, a later change is a new burst; the sent one is not repeated.
    let sent = [existing(MessageStatus::Sent, "2026-06-05T10:20:00Z", "m3")];
    assert_eq!(run(&p, &b, &c, &r, &sent, "2026-06-05T11:00:00Z"), []);
    b.modified_version = Some(4);
    b.modified_at = Some(ts("2026-06-06T09:00:00Z"));
    assert!(
        matches!(run(&p, &b, &c, &r, &sent, "2026-06-06T09:00:00Z").as_slice(), [PlanAction::Insert { occurrence, .. }] if occurrence == "m4")
    );
}

#[test]
fn status_anchors_fire_once_per_entry_into_the_status() {
    let p = property("Europe/Vienna");
    let c = Contact::default();
    let r = rule(
        Anchor::Cancelled,
        Offset::minutes(0),
        None,
        LatePolicy::SendNow,
    );
    let mut b = appointment("2026-06-20T08:00:00Z", "2026-06-01T00:00:00Z");
    assert_eq!(run(&p, &b, &c, &r, &[], "2026-06-02T00:00:00Z"), []);
    b.fields.status = BookingStatus::Cancelled;
    b.status_version = 4;
    b.status_changed_at = ts("2026-06-02T00:00:00Z");
    assert!(
        matches!(run(&p, &b, &c, &r, &[], "2026-06-02T00:00:00Z").as_slice(), [PlanAction::Insert { occurrence, status: MessageStatus::Planned, .. }] if occurrence == "s4")
    );
}

#[test]
fn option_mails_only_while_the_option_stands() {
    let p = property("Europe/Vienna");
    let c = Contact::default();
    let now = "2026-06-01T00:00:00Z";
    let mut b = stay(date(2026, 7, 1), date(2026, 7, 3), now);
    b.fields.status = BookingStatus::Option;
    b.fields.option_until = Some(ts("2026-06-10T10:00:00Z"));
    let before = rule(
        Anchor::OptionUntil,
        Offset::days(-2),
        Some((10, 0)),
        DEFAULT,
    );
    let after = rule(
        Anchor::OptionUntil,
        Offset::hours(1),
        None,
        LatePolicy::SendNow,
    );
    assert_eq!(
        inserted_due(&run(&p, &b, &c, &before, &[], now)).0,
        ts("2026-06-08T08:00:00Z")
    );
    assert_eq!(
        inserted_due(&run(&p, &b, &c, &after, &[], now)).0,
        ts("2026-06-10T11:00:00Z")
    );
    b.fields.status = BookingStatus::Confirmed;
    assert_eq!(run(&p, &b, &c, &before, &[], now), []);
    assert_eq!(run(&p, &b, &c, &after, &[], now), []);
}

#[test]
fn conditions_filter_by_kind_room_channel_lead_time_and_language() {
    let p = property("Europe/Vienna");
    let now = "2026-06-01T00:00:00Z";
    let b = stay(date(2026, 6, 20), date(2026, 6, 22), now);
    let c = Contact {
        language: Some("en-GB".parse().unwrap()),
        ..Contact::default()
    };
    let base = rule(Anchor::Start, Offset::days(-1), Some((10, 0)), DEFAULT);
    let with = |f: &dyn Fn(&mut Conditions)| {
        let mut r = base.clone();
        f(&mut r.conditions);
        !run(&p, &b, &c, &r, &[], now).is_empty()
    };
    assert!(with(&|_| {}));
    assert!(!with(
        &|c| c.kinds = Some(vec![crate::BookingKind::Appointment])
    ));
    assert!(with(&|c| c.room_categories = Some(vec!["DZ".into()])));
    assert!(!with(&|c| c.room_categories = Some(vec!["Suite".into()])));
    assert!(with(&|c| c.source_channels = Some(vec!["direct".into()])));
    assert!(!with(
        &|c| c.source_channels = Some(vec!["booking.com".into()])
    ));
    assert!(with(&|c| c.min_lead_hours = Some(24 * 7)));
    assert!(!with(&|c| c.max_lead_hours = Some(24 * 7)));
    assert!(with(&|c| c.languages = Some(vec!["en".into()])));
    assert!(!with(&|c| c.languages = Some(vec!["de".into()])));
}

#[test]
fn send_time_check_suppresses_cancelled_and_reschedules_moved_bookings() {
    let p = property("Europe/Vienna");
    let c = Contact::default();
    let r = rule(Anchor::Start, Offset::days(-3), Some((10, 0)), DEFAULT);
    let now = ts("2026-06-10T08:00:00Z");
    let mut b = stay(date(2026, 6, 13), date(2026, 6, 14), "2026-06-01T00:00:00Z");
    let check = |b: &Booking| {
        check_at_send(
            &r,
            &PlanInput {
                property: &p,
                booking: b,
                contact: &c,
                rules: &[],
                existing: &[],
                now,
            },
            "",
        )
    };
    assert_eq!(check(&b), SendCheck::Go);
    b.fields.schedule = Schedule::Stay {
        arrival: date(2026, 6, 20),
        departure: date(2026, 6, 21),
    };
    assert_eq!(check(&b), SendCheck::Reschedule(ts("2026-06-17T08:00:00Z")));
    b.fields.status = BookingStatus::Cancelled;
    assert!(matches!(check(&b), SendCheck::Suppress(_)));
}

#[test]
fn messages_delayed_past_their_anchor_or_grace_are_not_sent_late() {
    let before = rule(
        Anchor::Start,
        Offset::days(-3),
        Some((10, 0)),
        LatePolicy::SendIfBeforeAnchor,
    );
    let skip = rule(
        Anchor::End,
        Offset::days(1),
        Some((10, 0)),
        LatePolicy::Skip,
    );
    let send_now = rule(
        Anchor::Start,
        Offset::days(-3),
        Some((10, 0)),
        LatePolicy::SendNow,
    );
    let (due, anchor) = (ts("2026-06-10T08:00:00Z"), ts("2026-06-13T13:00:00Z"));
    let cases = [
        (&before, "2026-06-10T08:00:05Z", false),
        (&before, "2026-06-13T12:59:00Z", false),
        (&before, "2026-06-13T13:00:00Z", true),
        (&skip, "2026-06-10T08:59:00Z", false),
        (&skip, "2026-06-10T09:01:00Z", true),
        (&send_now, "2026-06-20T00:00:00Z", false),
    ];
    for (r, now, late) in cases {
        assert_eq!(
            late_at_send(r, due, anchor, ts(now)).is_some(),
            late,
            "{:?} {now}",
            r.late_policy
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const ZONES: [&str; 7] = [
        "Europe/Vienna",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "America/Santiago",
        "UTC",
    ];

    fn date_in(day: i64) -> Date {
        date(2025, 1, 1)
            .checked_add(jiff::Span::new().days(day))
            .unwrap()
    }

    proptest! {
        #[test]
        fn days_before_at_a_time_land_on_that_local_date_at_that_time_or_just_after_a_gap(
            zone in 0..ZONES.len(), day in 0i64..1400, days in -60i32..60, hour in 0i8..24, minute in 0i8..60,
        ) {
            let p = property(ZONES[zone]);
            let arrival = date_in(day);
            let b = stay(arrival, arrival.tomorrow().unwrap(), "2024-01-01T00:00:00Z");
            let r = rule(Anchor::Start, Offset::days(days), Some((hour, minute)), LatePolicy::SendNow);
            let actions = run(&p, &b, &Contact::default(), &r, &[], "2024-01-01T00:00:00Z");
            let (due, _) = inserted_due(&actions);
            let local = due.to_zoned(p.time_zone.clone());
            let wanted = arrival.checked_add(jiff::Span::new().days(days)).unwrap().at(hour, minute, 0, 0);
            // Either exactly the wanted wall time, or (in a gap) the first valid instant after it.
            prop_assert!(local.datetime() >= wanted, "{local} < {wanted}");
            prop_assert!(local.datetime().duration_since(wanted) < SignedDuration::from_hours(3), "{local} vs {wanted}");
            if local.datetime() != wanted {
                let gap = p.time_zone.to_ambiguous_timestamp(wanted);
                let is_gap = matches!(gap.offset(), jiff::tz::AmbiguousOffset::Gap { .. });
                prop_assert!(is_gap, "{wanted} exists but {local} was chosen");
            }
        }

        #[test]
        fn hour_offsets_are_exact_durations(zone in 0..ZONES.len(), minutes in 0i64..2_000_000, hours in -500i32..500) {
            let p = property(ZONES[zone]);
            let start = ts("2025-01-01T00:00:00Z").checked_add(SignedDuration::from_mins(minutes)).unwrap();
            let b = appointment(&start.to_string(), "2024-01-01T00:00:00Z");
            let r = rule(Anchor::Start, Offset::hours(hours), None, LatePolicy::SendNow);
            let (due, _) = inserted_due(&run(&p, &b, &Contact::default(), &r, &[], "2024-01-01T00:00:00Z"));
            prop_assert_eq!(due.duration_since(start), SignedDuration::from_hours(i64::from(hours)));
        }

        #[test]
        fn planning_again_after_applying_a_plan_changes_nothing(
            zone in 0..ZONES.len(), day in 0i64..700, created in 0i64..900, status in 0usize..9, preset in 0usize..13,
        ) {
            let p = property(ZONES[zone]);
            let arrival = date_in(day);
            let now = ts("2025-01-01T00:00:00Z").checked_add(SignedDuration::from_hours(created * 24)).unwrap();
            let mut b = stay(arrival, arrival.checked_add(jiff::Span::new().days(2)).unwrap(), &now.to_string());
            b.fields.status = BookingStatus::ALL[status];
            b.fields.option_until = Some(now.checked_add(SignedDuration::from_hours(48)).unwrap());
            let all: Vec<_> = crate::presets::hotel().into_iter().chain(crate::presets::appointments()).collect();
            let (_, mut r) = all[preset].instantiate(Uuid::nil(), Uuid::nil());
            r.id = Uuid::from_u128(10);
            let first = run(&p, &b, &Contact::default(), &r, &[], &now.to_string());
            let existing: Vec<ExistingMessage> = first.iter().filter_map(|a| match a {
                PlanAction::Insert { rule_id, occurrence, due_at, status, .. } => Some(ExistingMessage {
                    id: Uuid::from_u128(99), rule_id: *rule_id, occurrence: occurrence.clone(), status: *status, due_at: *due_at, cancelled_by_staff: false,
                }),
                _ => None,
            }).collect();
            prop_assert_eq!(run(&p, &b, &Contact::default(), &r, &existing, &now.to_string()), vec![]);
        }
    }
}
