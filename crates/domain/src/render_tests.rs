//! Rendering tests: strictness, sandbox limits, escaping, header safety, language fallback.

use super::*;
use crate::booking::{BookingDetails, BookingFields, BookingStatus};
use crate::property::Sender;
use crate::time::{LocalTime, parse_time_zone};
use jiff::civil::date;

fn template(subject: &str, html: &str) -> Template {
    let mut variants = BTreeMap::new();
    variants.insert(
        "de".to_owned(),
        EmailContent {
            subject: subject.into(),
            html: html.into(),
            text: None,
        },
    );
    Template {
        id: Uuid::nil(),
        account_id: Uuid::nil(),
        property_id: Uuid::nil(),
        name: "t".into(),
        category: Category::Service,
        variants: crate::render::Variants::Email(variants),
        version: 1,
    }
}

fn world(first_name: Option<&str>) -> (Property, Booking, Contact) {
    let property = Property {
        id: Uuid::nil(),
        account_id: Uuid::nil(),
        name: "Hotel Schöne Aussicht".into(),
        time_zone_name: "Europe/Vienna".into(),
        time_zone: parse_time_zone("Europe/Vienna").unwrap(),
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: LocalTime::hm(15, 0),
        check_out_time: LocalTime::hm(10, 0),
        sender: Sender {
            email: "info@example.com".into(),
            name: "Hotel".into(),
            reply_to: None,
        },
        layout_html: None,
        layout_text: None,
        brand: Default::default(),
        consent: Default::default(),
        sms: Default::default(),
    };
    let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let mut fields = BookingFields::new(
        Uuid::nil(),
        Uuid::nil(),
        BookingStatus::Confirmed,
        Schedule::Stay {
            arrival: date(2026, 6, 20),
            departure: date(2026, 6, 23),
        },
    );
    fields.details = BookingDetails {
        room_category: Some("Suite <Deluxe>".into()),
        external_id: Some("R-1".into()),
        price_cents: Some(123_456),
        guests: Some(2),
        ..BookingDetails::default()
    };
    let booking = Booking::created(Uuid::nil(), Uuid::nil(), fields, now);
    let contact = Contact {
        first_name: first_name.map(Into::into),
        last_name: Some("Müller".into()),
        ..Contact::default()
    };
    (property, booking, contact)
}

fn render(t: &Template, first_name: Option<&str>) -> Result<RenderedEmail, RenderError> {
    let (p, b, c) = world(first_name);
    let compiled = CompiledTemplate::compile(
        t,
        Some("<div>{{ content }}</div><footer>{{ property.name }}</footer>"),
        None,
        RenderLimits::default(),
    )?;
    compiled.render(&["de"], &context(&p, &b, &c, "de", b.created_at))
}

#[test]
fn a_missing_variable_stops_the_message_and_names_it() {
    let t = template(
        "Hallo {{ guest.first_name }}",
        "<p>Liebe(r) {{ guest.first_name }}</p>",
    );
    let err = render(&t, None).unwrap_err();
    assert_eq!(err.to_string(), "de/subject: guest.first_name has no value");
    assert!(render(&t, Some("Anna")).is_ok());
}

#[test]
fn guarded_optional_values_render_without_error() {
    let t = template(
        "Hallo",
        "{% if guest.first_name %}Hi {{ guest.first_name }}{% else %}Hi{% endif %}",
    );
    assert!(render(&t, None).unwrap().html.contains("Hi"));
}

#[test]
fn html_is_escaped_and_wrapped_in_the_layout_and_text_is_derived() {
    let t = template(
        "Ihr Zimmer: {{ booking.room_category }}",
        "<p>{{ booking.room_category }}, {{ booking.nights }} Nächte, {{ booking.arrival }}</p>",
    );
    let mail = render(&t, Some("Anna")).unwrap();
    assert_eq!(mail.subject, "Ihr Zimmer: Suite <Deluxe>");
    assert!(
        mail.html
            .starts_with("<div><p>Suite &lt;Deluxe&gt;, 3 Nächte, 20.06.2026</p></div>"),
        "{}",
        mail.html
    );
    assert!(mail.html.contains("<footer>Hotel Schöne Aussicht</footer>"));
    assert!(
        mail.text.contains("Suite <Deluxe>, 3 Nächte"),
        "{}",
        mail.text
    );
}

#[test]
fn crlf_in_a_guest_name_cannot_inject_a_header() {
    let t = template("Für {{ guest.first_name }}", "<p>x</p>");
    let mail = render(&t, Some("Anna\r\nBcc: victim@example.com")).unwrap();
    assert_eq!(mail.subject, "Für Anna Bcc: victim@example.com");
    assert!(!mail.subject.contains('\n'));
}

#[test]
fn syntax_errors_name_the_part_and_line() {
    let t = template("ok", "<p>\n{% if %}</p>");
    let err = CompiledTemplate::compile(&t, None, None, RenderLimits::default()).unwrap_err();
    assert!(
        matches!(&err, RenderError::Syntax { part, detail } if part == "de/html" && detail.contains("line 2")),
        "{err}"
    );
}

#[test]
fn templates_that_loop_forever_or_explode_run_out_of_fuel() {
    for html in [
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        "{{ 'x' * 100000000 }}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    ] {
        let t = template("s", html);
        let started = std::time::Instant::now();
        let err = render(&t, Some("A")).unwrap_err();
        assert!(started.elapsed().as_secs() < 2, "{html}");
        assert!(
            matches!(
                err,
                RenderError::OutOfFuel { .. }
                    | RenderError::Other { .. }
                    | RenderError::TooLarge { .. }
            ),
            "{html}: {err}"
        );
    }
}

#[test]
fn language_falls_back_to_an_existing_variant_and_says_so() {
    let t = template("Hallo", "<p>x</p>");
    let (p, b, c) = world(Some("A"));
    let compiled = CompiledTemplate::compile(&t, None, None, RenderLimits::default()).unwrap();
    let mail = compiled
        .render(&["fr", "it"], &context(&p, &b, &c, "fr", b.created_at))
        .unwrap();
    assert_eq!((mail.language.as_str(), mail.fell_back), ("de", true));
}

#[test]
fn debug_is_not_available_in_templates() {
    let t = template("Hallo", "<p>{{ debug() }}</p>");
    let err = render(&t, Some("Anna")).unwrap_err();
    assert!(err.to_string().contains("debug"), "{err}");
}

#[test]
fn a_layout_must_place_the_body_where_it_is_always_rendered() {
    let limits = RenderLimits::default();
    for good in [
        "<div>{{ content }}</div>",
        "<div>{{content}}</div><footer>{{ property.name }}</footer>",
        "{% if property.logo %}<img>{% endif %}{{ content }}",
    ] {
        assert!(check_layout(good, limits).is_ok(), "{good}");
    }
    for bad in [
        "<div>content</div>",
        "<div>{# {{ content }} #}</div>",
        "{% if false %}{{ content }}{% endif %}",
        "{% if property.missing %}{{ content }}{% endif %}",
        "<div>{{ content </div>",
        "{% for %}",
    ] {
        assert!(check_layout(bad, limits).is_err(), "{bad}");
    }
}

fn unknown_in(subject: &str, html: &str) -> Vec<(String, Option<String>)> {
    CompiledTemplate::compile(
        &template(subject, html),
        None,
        None,
        RenderLimits::default(),
    )
    .unwrap()
    .unknown_variables()
    .into_iter()
    .map(|u| (u.name, u.suggestion))
    .collect()
}

#[test]
fn a_misspelled_variable_is_named_with_the_nearest_one_that_exists() {
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, Option<&'a str>)>);
    let cases: [Case<'_>; 6] = [
        (
            "Hi",
            "{{ guest.frist_name }}",
            vec![("guest.frist_name", Some("guest.first_name"))],
        ),
        (
            "{{ booking.arival }}",
            "x",
            vec![("booking.arival", Some("booking.arrival"))],
        ),
        (
            "Hi",
            "{{ gast.first_name }}",
            vec![("gast.first_name", Some("guest.first_name"))],
        ),
        ("Hi", "{{ weather.today }}", vec![("weather.today", None)]),
        (
            "Hi",
            "{% if booking.service %}{{ booking.service }}{% endif %}{% for i in range(2) %}{{ i }}{% endfor %}{% set x = guest.full_name %}{{ x | upper }}",
            vec![],
        ),
        (
            "Hi",
            "{{ booking.nights }} {{ property.name }} {{ guest.email }}",
            vec![],
        ),
    ];
    for (subject, html, expected) in cases {
        let expected: Vec<(String, Option<String>)> = expected
            .into_iter()
            .map(|(n, s)| (n.to_owned(), s.map(str::to_owned)))
            .collect();
        assert_eq!(unknown_in(subject, html), expected, "{html}");
    }
}

#[test]
fn every_preset_uses_only_variables_that_exist() {
    for (_, preset) in crate::presets::catalog() {
        let (t, _) = preset.instantiate(Uuid::nil(), Uuid::nil());
        let compiled = CompiledTemplate::compile(&t, None, None, RenderLimits::default()).unwrap();
        assert_eq!(compiled.unknown_variables(), vec![], "{}", preset.key);
    }
}

#[test]
fn the_template_guide_lists_every_variable_a_message_offers() {
    let guide = include_str!("../../../docs/templates.md");
    let missing: Vec<&String> = known_variables()
        .iter()
        .filter(|name| !guide.contains(&format!("`{name}`")))
        .collect();
    assert!(missing.is_empty(), "docs/templates.md lacks {missing:?}");
    for (_, preset) in crate::presets::catalog() {
        assert!(
            guide.contains(&format!("`{}`", preset.key)),
            "docs/templates.md lacks the preset {}",
            preset.key
        );
    }
}

#[test]
fn the_built_in_layout_shows_what_the_property_has_and_leaves_out_the_rest() {
    assert_eq!(
        check_layout(DEFAULT_LAYOUT_HTML, RenderLimits::default()),
        Ok(())
    );
    assert_eq!(
        check_layout(DEFAULT_LAYOUT_TEXT, RenderLimits::default()),
        Ok(())
    );
    let t = template("Hallo", "<p>Body</p>");
    let compiled = CompiledTemplate::compile(
        &t,
        Some(DEFAULT_LAYOUT_HTML),
        Some(DEFAULT_LAYOUT_TEXT),
        RenderLimits::default(),
    )
    .unwrap();
    let booking = crate::sample::stay();
    let guest = crate::sample::contact();
    let branded = crate::sample::property();
    let mut plain = branded.clone();
    plain.brand = Default::default();
    let full = compiled
        .render(
            &["de"],
            &context(&branded, &booking, &guest, "de", booking.created_at),
        )
        .unwrap();
    for shown in [
        "#7a2e3a",
        "Hauptstraße 12, 6020 Innsbruck",
        "tel:+43512123456",
        "Online buchen",
        "Anfahrt",
        "<p>Body</p>",
        "prefers-color-scheme: dark",
    ] {
        assert!(full.html.contains(shown), "{shown}");
    }
    assert!(
        full.text
            .contains("Body\n\n-- \nHotel Gruber\nHauptstraße 12"),
        "{}",
        full.text
    );
    let bare = compiled
        .render(
            &["de"],
            &context(&plain, &booking, &guest, "de", booking.created_at),
        )
        .unwrap();
    for absent in ["Online buchen", "Anfahrt", "tel:", "<img"] {
        assert!(!bare.html.contains(absent), "{absent}");
    }
    assert!(bare.html.contains("#1f4e79"), "the default colour");
    assert!(
        bare.text
            .ends_with("-- \nHotel Gruber\ninfo@hotel-gruber.example"),
        "{:?}",
        bare.text
    );
}

#[test]
fn days_are_named_as_people_say_them_across_midnight_and_the_clock_change() {
    let zone = parse_time_zone("Europe/Vienna").unwrap();
    let local = |at: &str| {
        at.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(zone.clone())
            .unwrap()
    };
    let cases = [
        // (sent at, local; appointment at, local; German; English)
        ("2026-03-10T23:59", "2026-03-11T00:30", "morgen", "tomorrow"),
        ("2026-03-11T00:01", "2026-03-11T09:00", "heute", "today"),
        (
            "2026-03-09T10:00",
            "2026-03-11T09:00",
            "übermorgen",
            "on Wednesday",
        ),
        (
            "2026-03-09T10:00",
            "2026-03-13T09:00",
            "am Freitag",
            "on Friday",
        ),
        (
            "2026-03-09T10:00",
            "2026-03-20T09:00",
            "am Freitag, 20.03.",
            "on Friday, 20 March",
        ),
        // The night the clocks go forward (29 March 2026) is an hour short, still one day.
        ("2026-03-28T23:30", "2026-03-29T09:00", "morgen", "tomorrow"),
        ("2026-03-29T00:30", "2026-03-29T03:30", "heute", "today"),
        ("2026-10-24T12:00", "2026-10-25T02:30", "morgen", "tomorrow"),
    ];
    for (sent, at, de, en) in cases {
        let (sent, at) = (local(sent).timestamp(), local(at).date());
        let today = sent.to_zoned(zone.clone()).date();
        assert_eq!(relative_day(at, today, "de-AT"), de, "{sent} {at}");
        assert_eq!(relative_day(at, today, "en"), en, "{sent} {at}");
    }
}
