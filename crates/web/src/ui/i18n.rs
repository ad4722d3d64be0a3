//! The UI's words in German and English: Fluent message catalogues (`locales/*.ftl`), read
//! once, and the language of a request: the user's setting, else the browser's
//! `Accept-Language`, else English.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

/// A language the UI is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Deutsch.
    De,
    /// English.
    En,
}

impl Lang {
    /// Both, in the order the switcher shows them.
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    /// The tag (`de`, `en`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Reads a tag such as `de`, `de-AT` or `EN`.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header the UI speaks, by quality.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::En;
        };
        let mut wanted: Vec<(f32, usize, Lang)> = header
            .split(',')
            .take(20)
            .enumerate()
            .filter_map(|(i, item)| {
                let mut parts = item.split(';');
                let lang = Lang::parse(parts.next()?)?;
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((q, i, lang))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        wanted.first().map_or(Lang::En, |w| w.2)
    }
}

struct Catalogues {
    de: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

/// The catalogues as written: compiled into the binary.
pub const SOURCES: [(Lang, &str); 2] = [
    (Lang::De, include_str!("locales/de.ftl")),
    (Lang::En, include_str!("locales/en.ftl")),
];

fn bundle(lang: Lang, source: &str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("locales/{}.ftl: {errors:?}", lang.tag()));
    let id: unic_langid::LanguageIdentifier = lang.tag().parse().expect("a language tag");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Unicode isolation marks around arguments would show up in form values and tests;
    // the UI's arguments are names and numbers inside left-to-right text.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("locales/{}.ftl: {errors:?}", lang.tag()));
    bundle
}

fn catalogues() -> &'static Catalogues {
    static CATALOGUES: OnceLock<Catalogues> = OnceLock::new();
    CATALOGUES.get_or_init(|| Catalogues {
        de: bundle(Lang::De, SOURCES[0].1),
        en: bundle(Lang::En, SOURCES[1].1),
    })
}

/// The text of `key` in `lang` with its arguments; a key missing from the catalogue shows as
/// itself (a test keeps every key used present in both).
pub fn text(lang: Lang, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let bundle = match lang {
        Lang::De => &catalogues().de,
        Lang::En => &catalogues().en,
    };
    let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
        return key.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    bundle
        .format_pattern(pattern, Some(&fluent_args), &mut errors)
        .into_owned()
}

/// Whether the catalogue of `lang` has `key`.
pub fn has(lang: Lang, key: &str) -> bool {
    let bundle = match lang {
        Lang::De => &catalogues().de,
        Lang::En => &catalogues().en,
    };
    bundle.has_message(key)
}

/// Shorthand for a text without arguments.
pub fn tr(lang: Lang, key: &str) -> String {
    text(lang, key, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_language_is_chosen_by_quality() {
        for (header, want) in [
            (None, Lang::En),
            (Some("de-AT,de;q=0.9,en;q=0.8"), Lang::De),
            (Some("fr-FR,fr;q=0.9,de;q=0.5,en;q=0.4"), Lang::De),
            (Some("en-GB;q=0.3, de;q=0.7"), Lang::De),
            (Some("de;q=0, en"), Lang::En),
            (Some("pl"), Lang::En),
            (Some("garbage;;q=x"), Lang::En),
        ] {
            assert_eq!(Lang::negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn both_catalogues_hold_the_same_keys() {
        let keys = |source: &str| -> std::collections::BTreeSet<String> {
            source
                .lines()
                .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
                .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with(' '))
                .collect()
        };
        let (de, en) = (keys(SOURCES[0].1), keys(SOURCES[1].1));
        assert_eq!(
            de.difference(&en).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "only in de.ftl"
        );
        assert_eq!(
            en.difference(&de).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "only in en.ftl"
        );
    }

    #[test]
    fn arguments_are_filled_in() {
        let text = text(
            Lang::De,
            "dry-run-summary",
            &[("add", 12.into()), ("move", 3.into()), ("cancel", 1.into())],
        );
        assert!(text.contains("12") && text.contains('3'), "{text}");
    }
}
