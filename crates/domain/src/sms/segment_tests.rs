use super::*;

fn a(n: usize) -> String {
    "a".repeat(n)
}

/// (text, encoding, segments, units)
fn table() -> Vec<(String, Encoding, usize, usize)> {
    use Encoding::{Gsm7, Ucs2};
    vec![
        (String::new(), Gsm7, 0, 0),
        (a(1), Gsm7, 1, 1),
        (a(160), Gsm7, 1, 160),
        (a(161), Gsm7, 2, 161),
        (a(153 * 2), Gsm7, 2, 306),
        (a(153 * 2 + 1), Gsm7, 3, 307),
        (a(153 * 10), Gsm7, 10, 1530),
        (a(153 * 10 + 1), Gsm7, 11, 1531),
        (format!("{}€", a(158)), Gsm7, 1, 160),
        (format!("{}€", a(159)), Gsm7, 2, 161),
        (format!("{}€", a(153)), Gsm7, 1, 155),
        (format!("😀{}", a(68)), Ucs2, 1, 70),
        (format!("😀{}", a(69)), Ucs2, 2, 71),
        ("ç".repeat(70), Ucs2, 1, 70),
        ("ç".repeat(71), Ucs2, 2, 71),
        ("ç".repeat(67 * 2), Ucs2, 2, 134),
        ("ç".repeat(67 * 2 + 1), Ucs2, 3, 135),
        (format!("{}🏳️‍🌈", a(64)), Ucs2, 1, 70),
        (format!("{}🏳️‍🌈", a(65)), Ucs2, 2, 71),
        (format!("😀{}", "]".repeat(68)), Ucs2, 1, 70),
        (format!("😀{}", "]".repeat(69)), Ucs2, 2, 71),
        ("\r\nabc".to_owned(), Gsm7, 1, 5),
    ]
}

#[test]
fn encoding_segments_and_units_follow_the_table() {
    for (text, encoding, segments, units) in table() {
        let got = analyze(&text, false);
        let label = format!("{} chars: {text:.20}", text.chars().count());
        assert_eq!(got.encoding, encoding, "{label}");
        assert_eq!(got.segments, segments, "{label}");
        assert_eq!(got.units, units, "{label}");
        assert_eq!(got.parts.len(), segments, "{label}");
        assert_eq!(
            got.parts.concat(),
            text,
            "parts put together are the text: {label}"
        );
    }
}

#[test]
fn in_ucs2_extension_characters_cost_one_unit() {
    let got = analyze(&format!("{}😀", "|".repeat(68)), false);
    assert_eq!(
        (got.encoding, got.units, got.segments),
        (Encoding::Ucs2, 70, 1)
    );
}

#[test]
fn each_extension_character_at_the_single_part_boundary_costs_two_septets() {
    for ext in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{0C}'] {
        let fits = analyze(&format!("{}{ext}", a(158)), false);
        assert_eq!((fits.segments, fits.units), (1, 160), "{ext:?}");
        let over = analyze(&format!("{}{ext}", a(159)), false);
        assert_eq!((over.segments, over.units), (2, 161), "{ext:?}");
        assert_eq!(
            over.parts,
            vec![a(153), format!("{}{ext}", a(6))],
            "{ext:?}"
        );
    }
}

#[test]
fn an_escape_pair_is_never_split_between_parts() {
    for ext in ['^', '{', '}', '\\', '[', '~', ']', '|', '€'] {
        // 152 septets, then a 2-septet character that would straddle the 153rd.
        let text = format!("{}{ext}{}", a(152), "b".repeat(10));
        let got = analyze(&text, false);
        assert_eq!(got.segments, 2, "{ext:?}");
        assert_eq!(
            got.parts[0],
            a(152),
            "{ext:?} moves to the second part whole"
        );
        assert!(got.parts[1].starts_with(ext));
    }
}

#[test]
fn emoji_and_flags_at_a_split_point_move_whole_to_the_next_part() {
    let got = analyze(&format!("{}😀{}", a(66), a(10)), false);
    assert_eq!(got.segments, 2);
    assert_eq!(got.parts[0], a(66), "a surrogate pair is not split");
    assert!(got.parts[1].starts_with('😀'));

    // The flag's first regional indicator would fit after 64 units; the pair stays together.
    let got = analyze(&format!("{}🇮🇹{}", a(64), a(10)), false);
    assert_eq!(got.segments, 2);
    assert_eq!(got.parts[0], a(64));
    assert!(got.parts[1].starts_with("🇮🇹"));

    // A ZWJ sequence (6 units) stays whole too.
    let got = analyze(&format!("{}🏳️‍🌈{}", a(63), a(10)), false);
    assert_eq!(got.parts[0], a(63));
    assert!(got.parts[1].starts_with("🏳️‍🌈"));

    // A letter with combining accents stays with its accents.
    let got = analyze(&format!("{}é\u{301}\u{301}{}", a(65), a(10)), false);
    assert_eq!(got.parts[0], a(65));
    assert!(got.parts[1].starts_with("é\u{301}\u{301}"));
}

#[test]
fn a_cluster_longer_than_a_part_is_split_between_its_characters() {
    let text = format!("e{}", "\u{301}".repeat(100));
    let got = analyze(&text, false);
    assert_eq!(got.encoding, Encoding::Ucs2);
    assert_eq!(got.parts.concat(), text);
    assert!(got.parts.iter().all(|p| p.encode_utf16().count() <= 67));
}

#[test]
fn the_characters_that_force_ucs2_are_named_once_each() {
    let got = analyze("Gruß aus Málaga, “Anna” – bis bald 😀 á", false);
    assert_eq!(got.non_gsm, vec!["á", "“", "”", "–", "😀"]);
    assert!(analyze("Grüße aus Wien", false).non_gsm.is_empty());
    assert_eq!(analyze("más", false).non_gsm, vec!["á"]);
}

#[test]
fn smart_encoding_turns_typographic_text_into_gsm_and_off_leaves_it() {
    let text = "„Ihr Termin“ morgen – um 10:00 … bis dann!";
    let off = analyze(text, false);
    assert_eq!(off.encoding, Encoding::Ucs2);
    assert!(!off.smart_encoded);
    assert_eq!(off.text, text);
    let on = analyze(text, true);
    assert_eq!(on.encoding, Encoding::Gsm7);
    assert!(on.smart_encoded);
    assert_eq!(on.text, "\"Ihr Termin\" morgen - um 10:00 ... bis dann!");
    assert_eq!(on.replacements.len(), 4);

    // 80 typographic apostrophes: 2 UCS-2 parts, 1 GSM part once replaced.
    let quotes = "’".repeat(80);
    assert_eq!(analyze(&quotes, false).segments, 2);
    assert_eq!(analyze(&quotes, true).segments, 1);
}

#[test]
fn smart_encoding_changes_nothing_when_the_text_stays_ucs2() {
    let text = "“Hallo” 😀";
    let on = analyze(text, true);
    assert_eq!(on.encoding, Encoding::Ucs2);
    assert!(!on.smart_encoded);
    assert_eq!(
        on.text, text,
        "a lossy replacement that saves nothing is not made"
    );
}

#[test]
fn units_left_say_how_much_fits_before_another_part() {
    assert_eq!(analyze(&a(150), false).units_left, 10);
    assert_eq!(analyze(&a(161), false).units_left, 153 - 8);
    assert_eq!(analyze("", false).units_left, 160);
}

#[test]
fn a_megabyte_of_distinct_characters_is_analysed_in_linear_time() {
    // 20,000 distinct CJK characters, repeated to ~1 MB: a quadratic dedupe would take minutes.
    let distinct: String = (0x4E00u32..0x4E00 + 20_000)
        .filter_map(char::from_u32)
        .collect();
    let text = distinct.repeat(17);
    let started = std::time::Instant::now();
    let a = analyze(&text, true);
    assert_eq!(a.non_gsm.len(), 20_000);
    assert_eq!(a.encoding, Encoding::Ucs2);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(check_sendable(&text, true).is_err());
}

#[test]
fn unsendable_texts_are_refused_with_a_reason() {
    assert_eq!(check_sendable("", false), Err(SmsTextError::Empty));
    assert_eq!(check_sendable(" \n ", false), Err(SmsTextError::Empty));
    assert!(check_sendable(&a(1530), false).is_ok());
    let err = check_sendable(&a(1531), false).unwrap_err();
    assert!(err.to_string().contains("11 parts"), "{err}");
    let err = check_sendable(&"ç".repeat(671), false).unwrap_err();
    assert!(err.to_string().contains("UCS-2"), "{err}");
    assert_eq!(
        check_sendable("a\u{7}b", false),
        Err(SmsTextError::ControlCharacter(7))
    );
}

mod properties {
    use super::super::*;
    use proptest::prelude::*;
    use unicode_segmentation::UnicodeSegmentation;

    fn sms_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a",
            "B",
            " ",
            "1",
            "ä",
            "€",
            "[",
            "^",
            "\n",
            "\r\n",
            "ç",
            "“",
            "–",
            "😀",
            "🇮🇹",
            "👨‍👩‍👧",
            "e\u{301}",
            "中",
            "\u{a0}",
            "…",
            "`",
        ]);
        prop::collection::vec(pieces, 0..400).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn parts_rebuild_the_text_fit_their_limit_and_never_split_a_character_cluster(
            text in prop_oneof![sms_text(), any::<String>()],
            smart in any::<bool>(),
        ) {
            let a = analyze(&text, smart);
            prop_assert_eq!(a.parts.concat(), a.text.clone());
            let cost = |s: &str| -> usize {
                s.chars()
                    .map(|c| match a.encoding {
                        Encoding::Gsm7 => usize::from(crate::sms::gsm::septets(c).unwrap_or(99)),
                        Encoding::Ucs2 => c.len_utf16(),
                    })
                    .sum()
            };
            prop_assert_eq!(cost(&a.text), a.units);
            if a.segments > 1 {
                let limit = a.encoding.part_limit();
                for p in &a.parts {
                    prop_assert!(cost(p) <= limit, "part over {limit}: {p:?}");
                }
                // A cluster only spans two parts when it is longer than a part itself.
                let mut at = 0;
                let bounds: Vec<usize> = a.parts.iter().map(|p| { at += p.len(); at }).collect();
                let mut start = 0;
                for g in a.text.graphemes(true) {
                    let end = start + g.len();
                    if cost(g) <= limit {
                        prop_assert!(!bounds.iter().any(|b| *b > start && *b < end), "split inside {g:?}");
                    }
                    start = end;
                }
            } else {
                prop_assert!(a.units <= a.encoding.single_limit());
            }
            prop_assert_eq!(a.encoding == Encoding::Gsm7, a.text.chars().all(crate::sms::gsm::is_gsm));
        }
    }
}
