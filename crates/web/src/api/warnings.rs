//! Warnings in the answer to a change: what staff should know about the messages the
//! booking or contact will get — an address missing, a landline, a consent not given.

use bellhop_domain::Contact;
use bellhop_domain::phone::SmsRoute;
use bellhop_engine::{ConsentWarning, RuleRef};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One warning.
#[derive(Serialize, ToSchema)]
pub struct Warning {
    /// `no_email`, `landline`, `cannot_receive_sms` or `no_consent`.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// The purpose without consent (`no_consent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub purpose: Option<bellhop_domain::consent::Purpose>,
    /// The channel without consent (`no_consent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub channel: Option<bellhop_domain::consent::Channel>,
    /// The property whose rules need it (`no_consent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property_id: Option<Uuid>,
    /// The rules whose messages will be suppressed (`no_consent`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<super::schemas::RuleRefSchema>)]
    pub rules: Vec<RuleRef>,
}

fn plain(code: &'static str, message: String) -> Warning {
    Warning {
        code,
        message,
        purpose: None,
        channel: None,
        property_id: None,
        rules: Vec::new(),
    }
}

/// What the contact's addresses mean for its messages, and the consents it lacks.
pub fn warnings(contact: &Contact, consent: Vec<ConsentWarning>) -> Vec<Warning> {
    let mut w = Vec::new();
    if contact.email.is_none() {
        w.push(plain(
            "no_email",
            "the guest has no email address: email messages will be suppressed until one is added"
                .to_owned(),
        ));
    }
    match (&contact.phone_e164, contact.phone_type.map(|t| t.sms_route())) {
        (Some(n), Some(SmsRoute::Landline)) => w.push(plain("landline", format!(
            "the guest's phone {n} is a landline: SMS go out as voice calls where the property enabled them, otherwise they are suppressed"
        ))),
        (Some(n), Some(SmsRoute::Unsuitable)) => w.push(plain("cannot_receive_sms", format!(
            "the guest's phone {n} cannot receive SMS ({})",
            contact.phone_type.map(|t| t.as_str()).unwrap_or("unknown")
        ))),
        _ => {}
    }
    for c in consent {
        let names: Vec<&str> = c.rules.iter().map(|r| r.name.as_str()).collect();
        w.push(Warning {
            code: c.code,
            message: format!(
                "no consent to {} by {}: {} will be suppressed",
                c.purpose,
                c.channel,
                names.join(", ")
            ),
            purpose: Some(c.purpose),
            channel: Some(c.channel),
            property_id: Some(c.property_id),
            rules: c.rules,
        });
    }
    w
}
