//! Every rule of the autoresponder decision, each with a real MIME message from
//! `tests/fixtures` (the cases of Dovecot Pigeonhole's vacation test suite and Stalwart's,
//! written anew for a hotel's mailbox).

use bellhop_inbound::decide::MAX_SUBJECT_CHARS;
use bellhop_inbound::{Decision, Envelope, Incoming, Limits, decide};

const MAILBOX: &str = "kontakt@hotel.example";

fn addresses() -> Vec<String> {
    vec![
        MAILBOX.to_owned(),
        "rezeption@hotel.example".to_owned(),
        "reklamacje@hotel.example".to_owned(),
    ]
}

fn fixture(name: &str) -> Incoming {
    let path = format!("{}/tests/fixtures/{name}.eml", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Incoming::parse(&raw, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn decision(name: &str, from: &str, to: &str) -> Decision {
    let envelope = Envelope {
        from: Some(from.to_owned()),
        to: Some(to.to_owned()),
    };
    decide(&addresses(), &envelope, &fixture(name))
}

#[test]
fn which_mail_is_answered() {
    let anna = "anna@example.com";
    // (fixture, envelope sender, envelope recipient, "reply" or the no-reply code)
    let cases = [
        ("plain", anna, MAILBOX, "reply"),
        ("explicitly_manual", anna, MAILBOX, "reply"),
        ("plain", "", MAILBOX, "null_sender"),
        ("plain", "<>", MAILBOX, "null_sender"),
        ("plain", "not-an-address", MAILBOX, "invalid_sender"),
        ("auto_submitted_yes", anna, MAILBOX, "auto_submitted"),
        ("auto_replied", anna, MAILBOX, "auto_submitted"),
        ("auto_generated", anna, MAILBOX, "auto_submitted"),
        ("precedence_bulk", anna, MAILBOX, "precedence"),
        ("precedence_list", anna, MAILBOX, "precedence"),
        ("precedence_junk", anna, MAILBOX, "precedence"),
        (
            "list_id",
            "hotel-list-bounces@lists.example.org",
            MAILBOX,
            "list_header",
        ),
        ("list_id", "news@lists.example.org", MAILBOX, "list_header"),
        ("list_unsubscribe", anna, MAILBOX, "list_header"),
        ("list_post", anna, MAILBOX, "list_header"),
        ("suppress_all", anna, MAILBOX, "auto_response_suppressed"),
        ("suppress_oof", anna, MAILBOX, "auto_response_suppressed"),
        ("suppress_list", anna, MAILBOX, "auto_response_suppressed"),
        ("suppress_dr_only", anna, MAILBOX, "reply"),
        (
            "plain",
            "MAILER-DAEMON@example.com",
            MAILBOX,
            "system_sender",
        ),
        (
            "plain",
            "dovecot-request@example.com",
            MAILBOX,
            "system_sender",
        ),
        (
            "plain",
            "owner-hotels@example.com",
            MAILBOX,
            "system_sender",
        ),
        ("plain", "LISTSERV@example.com", MAILBOX, "system_sender"),
        ("plain", "majordomo@example.com", MAILBOX, "system_sender"),
        ("plain", "noreply@booking.example", MAILBOX, "system_sender"),
        (
            "plain",
            "no-reply@booking.example",
            MAILBOX,
            "system_sender",
        ),
        (
            "plain",
            "do-not-reply@booking.example",
            MAILBOX,
            "system_sender",
        ),
        ("plain", "Kontakt@Hotel.example", MAILBOX, "own_address"),
        ("plain", "rezeption@hotel.example", MAILBOX, "own_address"),
        ("plain", anna, anna, "own_address"),
        ("to_all", anna, MAILBOX, "not_addressed"),
        ("bad_recipients", anna, MAILBOX, "not_addressed"),
        ("alias_case", anna, "rezeption@hotel.example", "reply"),
        ("cc_only", anna, MAILBOX, "reply"),
        ("resent", anna, MAILBOX, "reply"),
        (
            "encoded_from",
            "jozef@example.pl",
            "reklamacje@hotel.example",
            "reply",
        ),
        ("multipart", anna, MAILBOX, "reply"),
        (
            "postmaster_is_a_person",
            "postmaster@example.com",
            MAILBOX,
            "reply",
        ),
    ];
    for (name, from, to, expected) in cases {
        let name = if name == "postmaster_is_a_person" {
            "plain"
        } else {
            name
        };
        let got = match decision(name, from, to) {
            Decision::Reply(_) => "reply".to_owned(),
            Decision::NoReply(why) => why.code().to_owned(),
        };
        assert_eq!(got, expected, "{name} from {from:?} to {to:?}");
    }
}

fn reply(name: &str, from: &str) -> bellhop_inbound::ReplyShape {
    match decision(name, from, MAILBOX) {
        Decision::Reply(shape) => shape,
        Decision::NoReply(why) => panic!("{name}: no reply: {why}"),
    }
}

#[test]
fn the_reply_goes_to_the_envelope_sender_as_an_auto_reply() {
    let shape = reply("plain", "anna@example.com");
    assert_eq!(shape.to, "anna@example.com");
    assert_eq!(shape.to_name.as_deref(), Some("Anna Example"));
    assert_eq!(shape.subject, "Auto: Zimmeranfrage");
    assert_eq!(shape.in_reply_to.as_deref(), Some("plain@mail.example.com"));
    assert_eq!(shape.references, ["plain@mail.example.com"]);
    assert_eq!(shape.auto_submitted, "auto-replied");
}

#[test]
fn an_unknown_envelope_sender_gets_no_display_name() {
    let shape = reply("plain", "anna.other@example.com");
    assert_eq!(shape.to, "anna.other@example.com");
    assert_eq!(shape.to_name, None);
}

#[test]
fn references_append_the_message_id() {
    let shape = reply("thread", "anna@example.com");
    assert_eq!(
        shape.references,
        [
            "first@hotel.example",
            "second@mail.example.com",
            "thread@mail.example.com"
        ]
    );
    assert_eq!(shape.subject, "Auto: Re: Zimmeranfrage");
}

#[test]
fn subjects_are_decoded_cut_and_never_missing() {
    let pl = match decision(
        "encoded_from",
        "jozef@example.pl",
        "reklamacje@hotel.example",
    ) {
        Decision::Reply(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(pl.subject, "Auto: Reklamacja pokoju nr 12");
    assert_eq!(pl.to_name.as_deref(), Some("Józef Kowalski"));
    let long = reply("long_japanese_subject", "taro@example.jp");
    assert_eq!(long.subject.chars().count(), MAX_SUBJECT_CHARS);
    assert!(long.subject.starts_with("Auto: 日本語の件名"));
    assert!(long.subject.ends_with('…'));
    assert_eq!(
        reply("no_subject", "anna@example.com").subject,
        "Automated reply"
    );
}

#[test]
fn the_body_is_read_past_multipart_and_rfc_2231_names() {
    let m = fixture("multipart");
    assert!(m.text.starts_with("Hello, please see"), "{:?}", m.text);
    assert_eq!(m.content_language.as_deref(), Some("en"));
}
