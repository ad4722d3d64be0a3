//! A user's template, compiled and rendered as for a real booking: any source (subject, HTML,
//! text and SMS parts split at NUL bytes) must compile or be refused, and render within the
//! fuel and output limits or be refused; never panic, never hang.
#![no_main]

use bellhop_domain::render::{
    Category, CompiledTemplate, EmailContent, RenderLimits, SmsContent, Template, Variants,
};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\0');
    let subject = parts.next().unwrap_or_default().to_owned();
    let html = parts.next().unwrap_or_default().to_owned();
    let plain = parts.next().map(str::to_owned);
    let layout = parts.next();
    let property = bellhop_domain::sample::property();
    let booking = bellhop_domain::sample::stay();
    let contact = bellhop_domain::sample::contact();
    let now: jiff::Timestamp = "2026-06-01T08:00:00Z".parse().unwrap();
    let context = bellhop_domain::render::context(&property, &booking, &contact, "de", now);

    let mut variants = BTreeMap::new();
    variants.insert(
        "de".to_owned(),
        EmailContent {
            subject: subject.clone(),
            html: html.clone(),
            text: plain,
        },
    );
    let email = Template {
        id: uuid::Uuid::nil(),
        account_id: uuid::Uuid::nil(),
        property_id: uuid::Uuid::nil(),
        name: "fuzz".into(),
        category: Category::Service,
        variants: Variants::Email(variants),
        version: 1,
    };
    if let Ok(compiled) = CompiledTemplate::compile(&email, layout, None, RenderLimits::default()) {
        let _ = compiled.unknown_variables();
        let _ = compiled.render(&["de", "en"], &context);
    }

    let mut sms = BTreeMap::new();
    sms.insert("de".to_owned(), SmsContent { text: html });
    let sms = Template {
        variants: Variants::Sms(sms),
        ..email
    };
    if let Ok(compiled) = CompiledTemplate::compile(&sms, None, None, RenderLimits::default()) {
        let _ = compiled.render_sms(&["de"], &context);
    }
});
