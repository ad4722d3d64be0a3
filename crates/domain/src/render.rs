//! Templates and strict, sandboxed rendering.
//!
//! Templates are minijinja: no file system, an instruction budget (fuel), an output cap, and
//! semi-strict undefined values: printing a variable that has no value stops the message
//! with a reason that names it ("guest.first_name has no value") — never "Dear ,".

use crate::booking::{Booking, Schedule};
use crate::contact::Contact;
use crate::language;
use crate::property::Property;
use crate::rule::TemplateChannel;
use crate::text::single_line;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Whether a template needs marketing consent (enforced by the consent issue) or is service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Confirmations, reminders, cancellations.
    #[default]
    Service,
    /// Newsletters, offers, review requests.
    Marketing,
    /// Personalised suggestions.
    Personalized,
}

/// One language's content of an email template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailContent {
    /// Subject template.
    pub subject: String,
    /// HTML body template (auto-escaped).
    pub html: String,
    /// Text body template; derived from the HTML when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One language's content of an SMS template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsContent {
    /// The text template.
    pub text: String,
}

/// A template's language variants, by channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", content = "variants", rename_all = "snake_case")]
pub enum Variants {
    /// Email variants by language tag.
    Email(BTreeMap<String, EmailContent>),
    /// SMS variants by language tag.
    Sms(BTreeMap<String, SmsContent>),
}

impl Variants {
    /// The channel the variants are written for.
    pub fn channel(&self) -> TemplateChannel {
        match self {
            Variants::Email(_) => TemplateChannel::Email,
            Variants::Sms(_) => TemplateChannel::Sms,
        }
    }

    /// The language tags, in order.
    pub fn languages(&self) -> Vec<String> {
        match self {
            Variants::Email(m) => m.keys().cloned().collect(),
            Variants::Sms(m) => m.keys().cloned().collect(),
        }
    }

    /// Number of variants.
    pub fn len(&self) -> usize {
        match self {
            Variants::Email(m) => m.len(),
            Variants::Sms(m) => m.len(),
        }
    }

    /// No variants at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The language variants as stored (the JSON object without the channel).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        match self {
            Variants::Email(m) => serde_json::to_string(m),
            Variants::Sms(m) => serde_json::to_string(m),
        }
    }

    /// Reads stored variants of `channel`.
    pub fn from_json(channel: TemplateChannel, json: &str) -> Result<Variants, serde_json::Error> {
        Ok(match channel {
            TemplateChannel::Email => Variants::Email(serde_json::from_str(json)?),
            TemplateChannel::Sms => Variants::Sms(serde_json::from_str(json)?),
        })
    }
}

/// A template with its language variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Stable id.
    pub id: Uuid,
    /// Owning account.
    pub account_id: Uuid,
    /// Property it belongs to.
    pub property_id: Uuid,
    /// Staff-facing name.
    pub name: String,
    /// Consent category.
    pub category: Category,
    /// The channel and its variants by language tag.
    #[serde(flatten)]
    pub variants: Variants,
    /// Increments with every edit (compiled templates are cached by it).
    pub version: i64,
}

/// Resource limits of one render.
#[derive(Clone, Copy, Debug)]
pub struct RenderLimits {
    /// minijinja instruction budget per render.
    pub fuel: u64,
    /// Largest rendered part, in bytes.
    pub max_output: usize,
    /// Largest template source, in bytes.
    pub max_source: usize,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            fuel: 200_000,
            max_output: 1024 * 1024,
            max_source: 256 * 1024,
        }
    }
}

/// A rendered email, ready for a transport.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RenderedEmail {
    /// One-line subject.
    pub subject: String,
    /// Full HTML (layout applied).
    pub html: String,
    /// Full text (layout applied).
    pub text: String,
    /// The variant used.
    pub language: String,
    /// No variant matched the wanted language; `language` is a fallback.
    pub fell_back: bool,
}

/// A rendered SMS text, before encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RenderedSms {
    /// The text, without leading or trailing blank lines.
    pub text: String,
    /// The variant used.
    pub language: String,
    /// No variant matched the wanted language; `language` is a fallback.
    pub fell_back: bool,
}

/// Why a template cannot be compiled or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A syntax error, with the part and line.
    #[error("template syntax error in {part}: {detail}")]
    Syntax {
        /// `de/subject`, `layout/html`, ...
        part: String,
        /// minijinja's description, with line.
        detail: String,
    },
    /// Variables without a value.
    #[error("{part}: {} has no value", names.join(", "))]
    Missing {
        /// The part being rendered.
        part: String,
        /// Variable paths such as `guest.first_name`.
        names: Vec<String>,
    },
    /// The instruction budget ran out (a loop that does not end).
    #[error("{part}: the template ran out of its instruction budget (does it loop forever?)")]
    OutOfFuel {
        /// The part being rendered.
        part: String,
    },
    /// Output over the cap.
    #[error("{part}: the rendered text is larger than {limit} bytes")]
    TooLarge {
        /// The part being rendered.
        part: String,
        /// The cap.
        limit: usize,
    },
    /// The template has no variants.
    #[error("the template has no language variants")]
    NoVariants,
    /// Another render error.
    #[error("{part}: {detail}")]
    Other {
        /// The part being rendered.
        part: String,
        /// minijinja's description.
        detail: String,
    },
    /// The subject rendered to nothing.
    #[error("the subject is empty after rendering")]
    EmptySubject,
    /// An SMS template used for email or the other way round.
    #[error("the template is for {actual}, not {wanted}")]
    WrongChannel {
        /// The template's channel.
        actual: &'static str,
        /// The channel asked for.
        wanted: &'static str,
    },
}

/// A template compiled once and rendered many times.
pub struct CompiledTemplate {
    env: Environment<'static>,
    channel: TemplateChannel,
    languages: Vec<String>,
    text_parts: Vec<String>,
    has_layout_html: bool,
    has_layout_text: bool,
    limits: RenderLimits,
}

impl std::fmt::Debug for CompiledTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledTemplate")
            .field("languages", &self.languages)
            .finish()
    }
}

impl CompiledTemplate {
    /// Compiles every variant and the layout; any syntax error is reported with its part.
    pub fn compile(
        template: &Template,
        layout_html: Option<&str>,
        layout_text: Option<&str>,
        limits: RenderLimits,
    ) -> Result<Self, RenderError> {
        if template.variants.is_empty() {
            return Err(RenderError::NoVariants);
        }
        let mut env = sandbox(limits);
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with("/html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        let mut add = |name: String, source: &str| -> Result<(), RenderError> {
            if source.len() > limits.max_source {
                return Err(RenderError::Syntax {
                    part: name,
                    detail: format!("longer than {} bytes", limits.max_source),
                });
            }
            env.add_template_owned(name.clone(), source.to_owned())
                .map_err(|e| RenderError::Syntax {
                    part: name,
                    detail: describe(&e),
                })
        };
        let mut text_parts = Vec::new();
        let email = match &template.variants {
            Variants::Email(variants) => {
                for (lang, content) in variants {
                    add(format!("{lang}/subject"), &content.subject)?;
                    add(format!("{lang}/html"), &content.html)?;
                    if let Some(text) = &content.text {
                        add(format!("{lang}/text"), text)?;
                        text_parts.push(lang.clone());
                    }
                }
                if let Some(layout) = layout_html {
                    add("layout/html".to_owned(), layout)?;
                }
                if let Some(layout) = layout_text {
                    add("layout/text".to_owned(), layout)?;
                }
                true
            }
            // SMS have no layout: every character is paid for.
            Variants::Sms(variants) => {
                for (lang, content) in variants {
                    add(format!("{lang}/sms"), &content.text)?;
                }
                false
            }
        };
        Ok(CompiledTemplate {
            env,
            channel: template.variants.channel(),
            languages: template.variants.languages(),
            text_parts,
            has_layout_html: email && layout_html.is_some(),
            has_layout_text: email && layout_text.is_some(),
            limits,
        })
    }

    /// The variables the template's parts use that no message offers (`guest.frist_name`),
    /// each with the part it is in and the nearest name that exists. Checked when a template
    /// is saved, so a typo is refused then rather than failing every message at send time.
    pub fn unknown_variables(&self) -> Vec<UnknownVariable> {
        let known = known_variables();
        let globals: BTreeSet<&str> = self.env.globals().map(|(name, _)| name).collect();
        let mut unknown = Vec::new();
        for (part, template) in self.env.templates() {
            if part.starts_with("layout/") {
                continue;
            }
            let mut names: Vec<String> = template.undeclared_variables(true).into_iter().collect();
            names.sort();
            for name in names {
                let root = name.split('.').next().unwrap_or(&name);
                if known.contains(name.as_str()) || globals.contains(root) {
                    continue;
                }
                // `{{ booking }}` or `booking.x.y`: whatever the object offers at its depth.
                if !name.contains('.') && known.iter().any(|k| k.starts_with(&format!("{name}."))) {
                    continue;
                }
                let suggestion = known
                    .iter()
                    .map(|k| (strsim::jaro_winkler(k, &name), k))
                    .filter(|(score, _)| *score >= 0.85)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, k)| k.clone());
                unknown.push(UnknownVariable {
                    part: part.to_owned(),
                    name,
                    suggestion,
                });
            }
        }
        unknown
    }

    /// The channel the template is for.
    pub fn channel(&self) -> TemplateChannel {
        self.channel
    }

    fn expect(&self, wanted: TemplateChannel) -> Result<(), RenderError> {
        if self.channel == wanted {
            Ok(())
        } else {
            Err(RenderError::WrongChannel {
                actual: self.channel.as_str(),
                wanted: wanted.as_str(),
            })
        }
    }

    /// Renders the SMS variant that best fits `preferences` with `context`.
    pub fn render_sms(
        &self,
        preferences: &[&str],
        context: &Value,
    ) -> Result<RenderedSms, RenderError> {
        self.expect(TemplateChannel::Sms)?;
        let (lang, fell_back) =
            language::choose(preferences, &self.languages).ok_or(RenderError::NoVariants)?;
        let text = self.part(&format!("{lang}/sms"), context)?;
        Ok(RenderedSms {
            text: text.trim_matches(['\n', '\r', ' ']).to_owned(),
            language: lang.to_owned(),
            fell_back,
        })
    }

    /// Renders the email variant that best fits `preferences` with `context`.
    pub fn render(
        &self,
        preferences: &[&str],
        context: &Value,
    ) -> Result<RenderedEmail, RenderError> {
        self.expect(TemplateChannel::Email)?;
        let (lang, fell_back) =
            language::choose(preferences, &self.languages).ok_or(RenderError::NoVariants)?;
        let subject = single_line(&self.part(&format!("{lang}/subject"), context)?);
        if subject.is_empty() {
            return Err(RenderError::EmptySubject);
        }
        let body_html = self.part(&format!("{lang}/html"), context)?;
        let body_text = if self.text_parts.iter().any(|l| l == lang) {
            self.part(&format!("{lang}/text"), context)?
        } else {
            nanohtml2text::html2text(&body_html)
        };
        let html = if self.has_layout_html {
            self.wrap("layout/html", context, Value::from_safe_string(body_html))?
        } else {
            body_html
        };
        let text = if self.has_layout_text {
            self.wrap("layout/text", context, Value::from(body_text))?
        } else {
            body_text
        };
        Ok(RenderedEmail {
            subject,
            html,
            text,
            language: lang.to_owned(),
            fell_back,
        })
    }

    fn wrap(&self, name: &str, context: &Value, content: Value) -> Result<String, RenderError> {
        let merged = minijinja::context! { content => content, ..context.clone() };
        self.part(name, &merged)
    }

    fn part(&self, name: &str, context: &Value) -> Result<String, RenderError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| RenderError::Other {
                part: name.to_owned(),
                detail: describe(&e),
            })?;
        let out = template.render(context).map_err(|e| match e.kind() {
            ErrorKind::UndefinedError => RenderError::Missing {
                part: name.to_owned(),
                names: missing_names(&template, context),
            },
            ErrorKind::OutOfFuel => RenderError::OutOfFuel {
                part: name.to_owned(),
            },
            _ => RenderError::Other {
                part: name.to_owned(),
                detail: describe(&e),
            },
        })?;
        if out.len() > self.limits.max_output {
            return Err(RenderError::TooLarge {
                part: name.to_owned(),
                limit: self.limits.max_output,
            });
        }
        Ok(out)
    }
}

/// Names the dotted variables of a template that have no value in the context.
fn missing_names(template: &minijinja::Template<'_, '_>, context: &Value) -> Vec<String> {
    let mut names: Vec<String> = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|path| lookup(context, path).is_none_or(|v| v.is_undefined() || v.is_none()))
        .collect();
    names.sort();
    if names.is_empty() {
        names.push("a variable".to_owned());
    }
    names
}

fn lookup(context: &Value, path: &str) -> Option<Value> {
    let mut value = context.clone();
    for key in path.split('.') {
        value = value.get_attr(key).ok()?;
        if value.is_undefined() {
            return None;
        }
    }
    Some(value)
}

/// A template environment with the limits and without `debug()`, which would print the
/// whole context (every guest field) into a message.
fn sandbox(limits: RenderLimits) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(limits.fuel));
    env.remove_global("debug");
    env
}

/// Checks a property's layout when it is saved: its syntax, and that it places the body with
/// `{{ content }}` whatever the property's and the booking's values — not in a comment, not
/// behind a condition — so that no message of the property can lose its body or fail to
/// render later.
pub fn check_layout(source: &str, limits: RenderLimits) -> Result<(), String> {
    if source.len() > limits.max_source {
        return Err(format!("longer than {} bytes", limits.max_source));
    }
    let mut env = sandbox(limits);
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.add_template_owned("layout", source.to_owned())
        .map_err(|e| describe(&e))?;
    const MARK: &str = "bellhop-content-5e1f0c";
    let out = env
        .get_template("layout")
        .and_then(|t| t.render(minijinja::context! { content => MARK }))
        .map_err(|e| describe(&e))?;
    if !out.contains(MARK) {
        return Err(
            "the layout must place the body with {{ content }} (outside comments and conditions)"
                .into(),
        );
    }
    Ok(())
}

fn describe(e: &minijinja::Error) -> String {
    let mut text = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_owned);
    if let Some(line) = e.line() {
        text.push_str(&format!(" (line {line})"));
    }
    text
}

/// Formats a date for a language: `28.03.2026` in most of Europe, `28 March 2026` in English.
fn format_date(lang: &str, date: jiff::civil::Date) -> String {
    if language::same_primary(lang, "en") {
        date.strftime("%-d %B %Y").to_string()
    } else {
        date.strftime("%d.%m.%Y").to_string()
    }
}

/// A day as people say it relative to `today` (both local dates): "heute", "morgen",
/// "übermorgen", "am Freitag" within the week, else "am Freitag, 14.03." — and in English
/// "today", "tomorrow", "on Friday", "on Friday, 14 March". For "Ihr Termin ist {{
/// booking.start_day }} um 10:00 Uhr", right whether the message goes out the day before or
/// the same morning.
pub fn relative_day(date: jiff::civil::Date, today: jiff::civil::Date, lang: &str) -> String {
    let days = (date - today).get_days();
    let german = language::same_primary(lang, "de");
    const DE_DAYS: [&str; 7] = [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ];
    let weekday_index = date.weekday().to_monday_zero_offset() as usize;
    match (german, days) {
        (true, 0) => "heute".to_owned(),
        (true, 1) => "morgen".to_owned(),
        (true, 2) => "übermorgen".to_owned(),
        (true, 3..=6) => format!("am {}", DE_DAYS[weekday_index]),
        (true, _) => format!("am {}, {}", DE_DAYS[weekday_index], date.strftime("%d.%m.")),
        (false, 0) => "today".to_owned(),
        (false, 1) => "tomorrow".to_owned(),
        (false, 2..=6) => format!("on {}", date.strftime("%A")),
        (false, _) => format!("on {}", date.strftime("%A, %-d %B")),
    }
}

type Fields = Vec<(&'static str, Value)>;

fn put(map: &mut Fields, key: &'static str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        map.push((key, Value::from(v)));
    }
}

fn map(fields: Fields) -> Value {
    Value::from(fields.into_iter().collect::<BTreeMap<&str, Value>>())
}

fn guest_fields(contact: &Contact) -> Fields {
    let mut guest: Fields = Vec::with_capacity(8);
    put(&mut guest, "first_name", contact.first_name.clone());
    put(&mut guest, "last_name", contact.last_name.clone());
    put(&mut guest, "full_name", contact.full_name());
    put(&mut guest, "email", contact.email.clone().map(String::from));
    put(&mut guest, "phone", contact.phone.clone());
    put(&mut guest, "city", contact.city.clone());
    put(&mut guest, "country", contact.country.clone());
    put(&mut guest, "nationality", contact.nationality.clone());
    guest
}

fn property_fields(property: &Property) -> Fields {
    let brand = &property.brand;
    let mut p: Fields = Vec::with_capacity(9);
    put(&mut p, "name", Some(property.name.clone()));
    put(&mut p, "email", Some(property.sender.email.clone()));
    put(&mut p, "logo_url", brand.logo_url.clone());
    put(&mut p, "color", brand.color.clone());
    put(&mut p, "address", brand.address.clone());
    put(&mut p, "phone", brand.phone.clone());
    put(&mut p, "website", brand.website.clone());
    put(&mut p, "map_url", brand.map_url.clone());
    put(&mut p, "booking_url", brand.booking_url.clone());
    put(
        &mut p,
        "salutation",
        brand.salutation.map(|s| s.as_str().to_owned()),
    );
    // An SMS template offers "reply to cancel" only where a reply can arrive.
    let replies = property
        .sms
        .sender
        .as_ref()
        .is_some_and(|s| s.can_receive_replies());
    p.push(("sms_replies", Value::from(replies)));
    p
}

/// The HTML layout of a property that has none of its own: a card on a grey page with the
/// logo (or the name) and the brand colour, the body, an optional booking button, and a footer
/// with address, phone, email and links. Tables and inline styles for the mail clients that
/// need them; a dark scheme for those that honour `prefers-color-scheme`.
pub const DEFAULT_LAYOUT_HTML: &str = include_str!("layout.html");

/// The text layout of a property that has none of its own: the body, then a signature.
pub const DEFAULT_LAYOUT_TEXT: &str = include_str!("layout.txt");

/// The text of each SMS variant as a sample guest would receive it (sample booking and guest,
/// `property`'s name and settings): what its length, encoding and number of SMS really are,
/// rather than the length of the `{{ }}` placeholders as typed. A variant that does not
/// render for the sample keeps its text as written.
pub fn sms_samples(template: &Template, property: &Property) -> BTreeMap<String, String> {
    let Variants::Sms(variants) = &template.variants else {
        return BTreeMap::new();
    };
    let Ok(compiled) = CompiledTemplate::compile(template, None, None, RenderLimits::default())
    else {
        return variants
            .iter()
            .map(|(l, c)| (l.clone(), c.text.clone()))
            .collect();
    };
    let contact = crate::sample::contact();
    variants
        .iter()
        .map(|(language, content)| {
            let rendered = [crate::sample::appointment(), crate::sample::stay()]
                .iter()
                .find_map(|booking| {
                    let ctx = context(property, booking, &contact, language, booking.created_at);
                    compiled.render_sms(&[language.as_str()], &ctx).ok()
                })
                .map_or_else(|| content.text.clone(), |r| r.text);
            (language.clone(), rendered)
        })
        .collect()
}

/// A variable a template uses that no message offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownVariable {
    /// The part it is in (`de/html`, `en/subject`, `de/sms`).
    pub part: String,
    /// The name as written (`guest.frist_name`).
    pub name: String,
    /// The nearest name that exists.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: no variable {}", self.part, self.name)?;
        match &self.suggestion {
            Some(s) => write!(f, " (did you mean {s}?)"),
            None => write!(f, " (see the template variables in docs/templates.md)"),
        }
    }
}

/// Every variable a message can offer, as dotted names (`guest.first_name`, `booking.nights`,
/// `code`): read off the contexts of a stay and an appointment with every value present, so
/// this list cannot drift from what rendering offers.
pub fn known_variables() -> &'static BTreeSet<String> {
    static KNOWN: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    KNOWN.get_or_init(|| {
        // Every optional value present, so that every name is seen.
        let mut property = crate::sample::property();
        property.brand.logo_url = Some("https://hotel-gruber.example/logo.png".into());
        property.brand.salutation = Some(crate::property::Salutation::FullName);
        let contact = crate::sample::contact();
        let mut names = BTreeSet::new();
        for booking in [crate::sample::stay(), crate::sample::appointment()] {
            let value = context(&property, &booking, &contact, "en", booking.created_at);
            for (root, fields) in value_fields(&value) {
                for (field, _) in value_fields(&fields) {
                    names.insert(format!("{root}.{field}"));
                }
            }
        }
        names.extend(["code".to_owned(), "content".to_owned()]);
        names
    })
}

fn value_fields(value: &Value) -> Vec<(String, Value)> {
    value
        .try_iter()
        .map(|keys| {
            keys.filter_map(|k| {
                let name = k.as_str()?.to_owned();
                let v = value.get_attr(&name).ok()?;
                Some((name, v))
            })
            .collect()
        })
        .unwrap_or_default()
}

/// The variables of a message that belongs to no booking (bulk SMS, one-time codes):
/// `guest.*`, `property.*`, and any `extra` values (`code`).
pub fn contact_context(
    property: &Property,
    contact: &Contact,
    extra: &[(&'static str, Value)],
) -> Value {
    let mut fields: Fields = vec![
        ("guest", map(guest_fields(contact))),
        ("property", map(property_fields(property))),
        (
            "message",
            map(vec![(
                "language",
                Value::from(property.default_language.as_str()),
            )]),
        ),
    ];
    fields.extend(extra.iter().cloned());
    map(fields)
}

/// The variables a template sees: `guest.*`, `booking.*`, `property.*`. Values that are not
/// known are left out, so printing them is a "has no value" error.
pub fn context(
    property: &Property,
    booking: &Booking,
    contact: &Contact,
    lang: &str,
    now: jiff::Timestamp,
) -> Value {
    // Built as minijinja values directly: this runs once per message sent.
    let guest = guest_fields(contact);

    let tz = &property.time_zone;
    let today = now.to_zoned(tz.clone()).date();
    let mut b: Fields = Vec::with_capacity(28);
    b.push(("id", Value::from(booking.id.to_string())));
    put(
        &mut b,
        "reference",
        Some(
            booking
                .fields
                .details
                .external_id
                .clone()
                .unwrap_or_else(|| booking.id.to_string()[..8].to_uppercase()),
        ),
    );
    b.push(("kind", Value::from(booking.kind().as_str())));
    b.push(("status", Value::from(booking.fields.status.as_str())));
    match booking.fields.schedule {
        Schedule::Stay { arrival, departure } => {
            put(&mut b, "arrival", Some(format_date(lang, arrival)));
            put(&mut b, "departure", Some(format_date(lang, departure)));
            put(
                &mut b,
                "arrival_day",
                Some(relative_day(arrival, today, lang)),
            );
            put(
                &mut b,
                "departure_day",
                Some(relative_day(departure, today, lang)),
            );
            put(&mut b, "arrival_iso", Some(arrival.to_string()));
            put(&mut b, "departure_iso", Some(departure.to_string()));
            b.push(("nights", Value::from((departure - arrival).get_days())));
            put(
                &mut b,
                "check_in_time",
                Some(property.check_in_time.to_string()),
            );
            put(
                &mut b,
                "check_out_time",
                Some(property.check_out_time.to_string()),
            );
        }
        Schedule::Appointment { start, end } => {
            let (s, e) = (start.to_zoned(tz.clone()), end.to_zoned(tz.clone()));
            put(&mut b, "start_date", Some(format_date(lang, s.date())));
            put(
                &mut b,
                "start_day",
                Some(relative_day(s.date(), today, lang)),
            );
            put(&mut b, "start_time", Some(s.strftime("%H:%M").to_string()));
            put(&mut b, "end_time", Some(e.strftime("%H:%M").to_string()));
        }
    }
    let local = |ts: Option<jiff::Timestamp>| {
        ts.map(|t| {
            let z = t.to_zoned(tz.clone());
            format!("{} {}", format_date(lang, z.date()), z.strftime("%H:%M"))
        })
    };
    put(&mut b, "option_until", local(booking.fields.option_until));
    put(
        &mut b,
        "hold_expires_at",
        local(booking.fields.hold_expires_at),
    );
    put(
        &mut b,
        "room_category",
        booking.fields.details.room_category.clone(),
    );
    put(&mut b, "service", booking.fields.details.service.clone());
    put(&mut b, "staff", booking.fields.details.staff.clone());
    put(&mut b, "voucher", booking.fields.details.voucher.clone());
    put(
        &mut b,
        "source_channel",
        booking.fields.details.source_channel.clone(),
    );
    if let Some(guests) = booking.fields.details.guests {
        b.push(("guests", Value::from(guests)));
    }
    let money = |cents: Option<i64>| cents.map(|c| format!("{}.{:02}", c / 100, (c % 100).abs()));
    put(&mut b, "price", money(booking.fields.details.price_cents));
    put(
        &mut b,
        "deposit",
        money(booking.fields.details.deposit_cents),
    );

    map(vec![
        ("guest", map(guest)),
        ("booking", map(b)),
        ("property", map(property_fields(property))),
        ("message", map(vec![("language", Value::from(lang))])),
    ])
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
