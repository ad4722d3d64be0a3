//! The intake against the public samples and our own fixtures: every valid message mapped,
//! every message the schema refuses refused with what is wrong, no payment card data read.

use bellhop_alpinebits::{Limits, ResStatus, handshake, parse_guest_requests, read_acks};
use bellhop_domain::channel::ReservationStatus;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const CARD: &str = "4444333322221111";

#[test]
fn every_public_guest_requests_sample_is_accepted_and_mapped() {
    let limits = Limits::default();
    let push = parse_guest_requests(
        &fixture("samples-2018-10/GuestRequests-OTA_HotelResNotifRQ-reservation-push.xml"),
        &limits,
    )
    .unwrap();
    assert_eq!(push.message, "OTA_HotelResNotifRQ");
    let r = &push.reservations[0].reservation;
    assert_eq!(r.external_id, "6b34fe24ac2ff810");
    assert_eq!(r.status, ReservationStatus::Confirmed);
    assert_eq!(r.arrival.unwrap().to_string(), "2012-01-01");
    assert_eq!(r.departure.unwrap().to_string(), "2012-01-12");
    assert_eq!(r.language.as_deref(), Some("de"));
    assert_eq!(r.guest.first_name.as_deref(), Some("Otto"));
    assert_eq!(r.guest.last_name.as_deref(), Some("Mustermann"));
    assert_eq!(
        r.guest.email.as_deref(),
        Some("otto.mustermann@example.com")
    );
    assert_eq!(
        r.guest.phone.as_deref(),
        Some("+4934567893"),
        "the mobile number first"
    );
    assert_eq!(r.room_category.as_deref(), Some("bigsuite"));
    assert_eq!(r.adults, Some(2));
    assert_eq!(r.children_ages, vec![9, 3]);
    assert_eq!(r.newsletter, Some(true));
    assert_eq!(r.total.as_ref().unwrap().amount, "299.00");
    assert_eq!(r.total.as_ref().unwrap().currency, "EUR");
    assert!(!format!("{push:?}").contains(CARD));

    let pulled = parse_guest_requests(
        &fixture("samples-2018-10/GuestRequests-OTA_ResRetrieveRS-reservation.xml"),
        &limits,
    )
    .unwrap();
    assert_eq!(pulled.message, "OTA_ResRetrieveRS");
    assert_eq!(pulled.reservations[0].reservation, *r);

    let cancel = parse_guest_requests(
        &fixture("samples-2018-10/GuestRequests-OTA_ResRetrieveRS-cancellation.xml"),
        &limits,
    )
    .unwrap();
    let c = &cancel.reservations[0];
    assert_eq!((c.res_status, c.unique_id_type), (ResStatus::Cancelled, 15));
    assert_eq!(c.reservation.status, ReservationStatus::Cancelled);
    assert_eq!(c.reservation.arrival, None);

    let request = parse_guest_requests(
        &fixture("samples-2018-10/GuestRequests-OTA_ResRetrieveRS-request-with-roomtype.xml"),
        &limits,
    )
    .unwrap();
    let q = &request.reservations[0].reservation;
    assert_eq!(q.status, ReservationStatus::Inquiry);
    assert_eq!(q.arrival.unwrap().to_string(), "2017-10-03");
    assert_eq!(q.room_category.as_deref(), Some("A"));
    assert!(request.warnings[0].contains("between 2017-10-03 and 2017-10-08"));

    let empty = parse_guest_requests(
        &fixture("samples-2018-10/GuestRequests-OTA_ResRetrieveRS-reservation-empty.xml"),
        &limits,
    )
    .unwrap();
    assert!(empty.reservations.is_empty());
    let error = parse_guest_requests(
        &fixture("samples-2018-10/GuestRequests-OTA_ResRetrieveRS-error.xml"),
        &limits,
    )
    .unwrap();
    assert_eq!(error.errors, vec!["392: Invalid hotel code".to_owned()]);

    let acks = read_acks(
        &fixture("samples-2018-10/GuestRequests-OTA_ReadRQ-ack.xml"),
        &limits,
    )
    .unwrap();
    assert_eq!(
        acks,
        ["6b34fe24ac2ff810", "c24e8b15ca469388", "1000000000000001"]
    );
    let acks = read_acks(
        &fixture("samples-2018-10/GuestRequests-OTA_HotelResNotifRS-reservation-push.xml"),
        &limits,
    )
    .unwrap();
    assert_eq!(acks.len(), 3);
}

#[test]
fn later_versions_modifications_languages_and_windows_are_read() {
    let limits = Limits::default();
    let modify = parse_guest_requests(&fixture("own/push-2022-10-modify-it.xml"), &limits).unwrap();
    let m = &modify.reservations[0].reservation;
    assert_eq!(modify.reservations[0].res_status, ResStatus::Modify);
    assert_eq!(m.status, ReservationStatus::Confirmed);
    assert_eq!(m.modified_at.unwrap().to_string(), "2026-11-20T17:30:00Z");
    assert_eq!(m.language.as_deref(), Some("it"));
    assert_eq!(m.newsletter, Some(false));
    assert_eq!(m.guest.phone.as_deref(), Some("+39 333 1234567"));
    assert_eq!(m.total.as_ref().unwrap().amount, "1234.50");
    assert_eq!(m.comment.as_deref(), Some("Arriviamo tardi, verso le 22."));

    let two =
        parse_guest_requests(&fixture("own/retrieve-2024-10-two-rooms-en.xml"), &limits).unwrap();
    let t = &two.reservations[0].reservation;
    assert_eq!(t.adults, Some(4));
    assert_eq!(t.children_ages, vec![8, 8]);
    assert_eq!(t.total.as_ref().unwrap().amount, "3080.25");
    assert_eq!(t.room_category.as_deref(), Some("FAM"));
    assert!(two.warnings[0].contains("2 room stays"));
    assert_eq!(
        two.reservations[1].reservation.status,
        ReservationStatus::Cancelled
    );

    let window =
        parse_guest_requests(&fixture("own/push-2020-10-request-window-fr.xml"), &limits).unwrap();
    let w = &window.reservations[0].reservation;
    assert_eq!(w.status, ReservationStatus::Inquiry);
    assert_eq!(w.arrival.unwrap().to_string(), "2027-01-10");
    assert_eq!(w.departure.unwrap().to_string(), "2027-01-15");
    assert_eq!(w.guest.first_name.as_deref(), Some("Amélie"));
}

#[test]
fn messages_the_schema_refuses_are_refused_with_what_is_wrong() {
    let push = fixture("samples-2018-10/GuestRequests-OTA_HotelResNotifRQ-reservation-push.xml");
    let cases: Vec<(String, &str)> = vec![
        (
            push.replace("ResStatus=\"Reserved\"", "ResStatus=\"Booked\""),
            "unknown variant `Booked`",
        ),
        (
            push.replace("<UniqueID Type=\"14\" ID=\"6b34fe24ac2ff810\"/>", ""),
            "UniqueID",
        ),
        (
            push.replace("Type=\"14\" ID=\"6b34", "Type=\"15\" ID=\"6b34"),
            "does not match ResStatus",
        ),
        (
            push.replace("Start=\"2012-01-01\"", "Start=\"01.01.2012\""),
            "is not a date",
        ),
        (
            push.replace("End=\"2012-01-12\"", "End=\"2011-12-12\""),
            "is not after Start",
        ),
        (
            push.replace("<GuestCount Count=\"2\"/>", "<GuestCount Count=\"two\"/>"),
            "two",
        ),
        (
            push.replace("Language=\"de\"", "Language=\"deutsch\""),
            "ISO 639-1",
        ),
        (
            push.replace("CurrencyCode=\"EUR\"", "CurrencyCode=\"euro\""),
            "ISO 4217",
        ),
        (
            push.replace("AmountAfterTax=\"299\"", "AmountAfterTax=\"lots\""),
            "decimal amount",
        ),
        (
            push.replace("<TimeSpan Start=\"2012-01-01\" End=\"2012-01-12\"/>", ""),
            "TimeSpan",
        ),
        (
            "<OTA_HotelResNotifRQ><HotelReservations/></OTA_HotelResNotifRQ>".into(),
            "no HotelReservation",
        ),
        (
            "<OTA_HotelAvailNotifRQ/>".into(),
            "not a GuestRequests message",
        ),
        (
            push.replace("</OTA_HotelResNotifRQ>", ""),
            "not well-formed",
        ),
    ];
    for (xml, expected) in cases {
        let err = parse_guest_requests(&xml, &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    }
}

#[test]
fn bombs_are_refused_quickly() {
    let laughs = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">{}]><OTA_HotelResNotifRQ>&lol9;</OTA_HotelResNotifRQ>"#,
        (1..10)
            .map(|i| format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&lol{};", i - 1).repeat(10)
            ))
            .collect::<String>()
    );
    let deep = format!(
        "<OTA_HotelResNotifRQ>{}{}</OTA_HotelResNotifRQ>",
        "<HotelReservations>".repeat(100_000),
        "</HotelReservations>".repeat(100_000)
    );
    let huge = format!(
        "<OTA_HotelResNotifRQ><HotelReservations>{}</HotelReservations></OTA_HotelResNotifRQ>",
        "<HotelReservation/>".repeat(50 * 1024 * 1024 / 19)
    );
    for (xml, expected) in [(laughs, "DOCTYPE"), (deep, "nested"), (huge, "limit")] {
        let started = std::time::Instant::now();
        let err = parse_guest_requests(&xml, &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert!(
            started.elapsed().as_millis() < 1000,
            "{:?}",
            started.elapsed()
        );
    }
}

#[test]
fn the_handshake_answers_the_intersection_of_versions_and_actions() {
    let (ours, xml) = handshake(
        &fixture("samples-2018-10/Handshake-OTA_PingRQ.xml"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(ours.versions.len(), 1);
    assert_eq!(ours.versions[0].version, "2018-10");
    let actions: Vec<&str> = ours.versions[0]
        .actions
        .iter()
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(actions, ["action_OTA_Ping"], "rate plans are not bellhop's");
    assert!(xml.contains("ALPINEBITS_HANDSHAKE") && xml.contains("<EchoData>"));
    let many = r#"<OTA_PingRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="8.000"><EchoData>{"versions":[
        {"version":"2024-10","actions":[{"action":"action_OTA_Ping"},{"action":"action_OTA_HotelResNotif_GuestRequests"},{"action":"action_OTA_Read"}]},
        {"version":"2022-10","actions":[{"action":"action_OTA_HotelResNotif_GuestRequests"}]},
        {"version":"2017-10","actions":[{"action":"action_OTA_Ping"}]}]}</EchoData></OTA_PingRQ>"#;
    let (ours, _) = handshake(many, &Limits::default()).unwrap();
    let versions: Vec<&str> = ours.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(versions, ["2024-10", "2022-10"]);
    assert_eq!(ours.versions[0].actions.len(), 2);
    let none = r#"<OTA_PingRQ><EchoData>{"versions":[{"version":"2015-07","actions":[]}]}</EchoData></OTA_PingRQ>"#;
    assert!(
        handshake(none, &Limits::default())
            .unwrap_err()
            .to_string()
            .contains("no AlpineBits version in common")
    );
}
