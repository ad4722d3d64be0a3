//! Everything a claimed message goes through before a transport sees it: the send-time check
//! against the booking, the late policy, the route (email, SMS, voice or none, and why), quiet
//! hours, rendering, and — for SMS — encoding and the parts it will cost.

use bellhop_domain::Reason;
use bellhop_domain::billing::Month;
use bellhop_domain::consent::{self, Channel as ConsentChannel, Purpose};
use bellhop_domain::plan::{self, PlanInput, SendCheck};
use bellhop_domain::render::{self, Category, CompiledTemplate};
use bellhop_domain::route::{self, Route, RouteInput};
use bellhop_domain::rule::Channel;
use bellhop_domain::sms::{self, Encoding, SmsAnalysis};
use bellhop_domain::{Booking, Contact, MessageKind, Property, Rule};
use bellhop_store::Claimed;
use bellhop_transport::callbacks::Callbacks;
use bellhop_transport::sms::{OutgoingCall, OutgoingSms};
use bellhop_transport::webhook::WebhookRequest;
use bellhop_transport::{AutoReply, OutgoingEmail, Unsubscribe};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Why a claimed message does not reach a transport.
pub(crate) enum NotSent {
    Suppress(Reason),
    Reschedule(Timestamp),
    Fail(String),
}

/// What a batch needs to know about its properties, rules, templates and campaigns.
pub(crate) struct BatchContext {
    pub properties: HashMap<Uuid, Property>,
    pub rules: HashMap<Uuid, Rule>,
    pub templates: HashMap<Uuid, Result<(Arc<CompiledTemplate>, Category), String>>,
    pub campaigns: HashMap<Uuid, Result<Arc<CompiledTemplate>, String>>,
    /// The latest consent events of the batch's contact points.
    pub consents: crate::consent::ConsentBook,
    /// Signs the unsubscribe links of marketing mail.
    pub signer: Arc<Callbacks>,
    /// The channel connections of the batch's webhooks.
    pub connections: HashMap<Uuid, bellhop_store::Connection>,
    /// The status of the batch's sequence enrolments.
    pub enrolments: HashMap<Uuid, String>,
}

/// Settling a sent message needs this besides the message itself.
pub(crate) struct Ready {
    pub language: String,
    /// "; no de variant, used en" when the wanted language had no variant.
    pub fell_back: Option<String>,
    /// The anchor a "before" message must not be retried past.
    pub retry_until: Option<Timestamp>,
    /// The text to keep as what was sent (never a one-time code's).
    pub keep_text: bool,
    /// "; second choice of email_or_sms" and similar.
    pub note: String,
}

/// A message ready for its transport.
pub(crate) enum Prepared {
    Email(OutgoingEmail),
    Sms {
        sms: OutgoingSms,
        analysis: SmsAnalysis,
        month: Month,
    },
    Voice {
        call: OutgoingCall,
        month: Month,
    },
    Webhook(WebhookRequest),
}

impl Prepared {
    pub fn sms_parts(&self) -> Option<(i64, Month)> {
        match self {
            Prepared::Email(_) | Prepared::Webhook(_) => None,
            Prepared::Sms {
                analysis, month, ..
            } => Some((analysis.segments as i64, *month)),
            // A voice call counts as one SMS.
            Prepared::Voice { month, .. } => Some((1, *month)),
        }
    }
}

fn preferences<'a>(wanted: &'a str, property: &'a Property) -> [&'a str; 2] {
    [wanted, property.default_language.as_str()]
}

fn fell_back(wanted: &str, used: &str, fell_back: bool) -> Option<String> {
    fell_back.then(|| format!("; no {wanted} variant, used {used}"))
}

/// Decides a planned message of a booking.
pub(crate) fn rule_message(
    ctx: &BatchContext,
    c: &Claimed,
    booking: &Booking,
    now: Timestamp,
) -> Result<(Ready, Prepared), NotSent> {
    let rule = c.rule_id.and_then(|id| ctx.rules.get(&id));
    let (Some(property), Some(rule)) = (ctx.properties.get(&c.property_id), rule) else {
        return Err(NotSent::Fail(
            "the property or rule of this message no longer exists".into(),
        ));
    };
    let input = PlanInput {
        property,
        booking,
        contact: &c.contact,
        rules: &[],
        existing: &[],
        now,
    };
    let anchor_at = match plan::check_at_send(rule, &input, &c.occurrence) {
        SendCheck::Suppress(reason) => return Err(NotSent::Suppress(reason)),
        SendCheck::Reschedule(due_at) if !c.forced => return Err(NotSent::Reschedule(due_at)),
        SendCheck::Reschedule(_) | SendCheck::Go => match plan::want(rule, &input) {
            plan::Want::Send { anchor_at, .. } => anchor_at,
            plan::Want::Not(reason) => return Err(NotSent::Suppress(reason)),
        },
    };
    if let Some(reason) = plan::late_at_send(rule, c.due_at, anchor_at, now) {
        return Err(NotSent::Suppress(reason));
    }
    let template = |id: Option<Uuid>| match id.and_then(|id| ctx.templates.get(&id)) {
        Some(Ok(t)) => Ok(t.clone()),
        Some(Err(e)) => Err(NotSent::Fail(format!("template does not compile: {e}"))),
        None => Err(NotSent::Fail("template missing".into())),
    };
    let (_, category) = template(Some(rule.template_id))?;
    let consent = consent_of(ctx, c, property, category.into());
    let routed = route::route(&RouteInput {
        property,
        contact: &c.contact,
        booking: Some(booking),
        channel: rule.channel,
        consent: &consent,
    })
    .map_err(NotSent::Suppress)?;
    let (compiled, _) = template(if routed.fallback {
        rule.fallback_template_id
    } else {
        Some(rule.template_id)
    })?;
    let before = rule.is_before_anchor().then_some(anchor_at);
    if routed.route.is_sms() && !c.forced {
        quiet_hours(property, now, before)?;
    }
    let wanted = bellhop_domain::language::wanted(property, booking, &c.contact);
    let context = render::context(property, booking, &c.contact, &wanted, now);
    let note = if routed.fallback {
        format!("; second choice of {}", rule.channel.as_str())
    } else {
        String::new()
    };
    let ready = |language: String, fb: bool| Ready {
        fell_back: fell_back(&wanted, &language, fb),
        language,
        retry_until: before,
        keep_text: true,
        note: note.clone(),
    };
    let (language, fb, prepared) = render_for_route(
        ctx,
        c,
        property,
        (&compiled, category),
        routed.route,
        &preferences(&wanted, property),
        &context,
        now,
    )?;
    Ok((ready(language, fb), prepared))
}

/// Decides a message without a booking: a one-time code or one recipient of a bulk SMS.
pub(crate) fn ad_hoc_message(
    ctx: &BatchContext,
    c: &Claimed,
    now: Timestamp,
) -> Result<(Ready, Prepared), NotSent> {
    let property = property_of(ctx, c)?;
    let bulk = c.kind == MessageKind::Bulk;
    let marketing = consent_of(ctx, c, property, Purpose::Marketing);
    // A one-time code is what the person asked for just now: an earlier STOP does not stand
    // in its way.
    let asked_for = |_: ConsentChannel, _: &str| Ok(());
    let routed = route::route(&RouteInput {
        property,
        contact: &c.contact,
        booking: None,
        channel: Channel::Sms,
        consent: if bulk { &marketing } else { &asked_for },
    })
    .map_err(NotSent::Suppress)?;
    if bulk && matches!(routed.route, Route::Voice(_)) {
        return Err(NotSent::Suppress(Reason::LandlineBulk));
    }
    let (text, language, keep_text) = if bulk {
        quiet_hours(property, now, None)?;
        let campaign = c.campaign_id.and_then(|id| ctx.campaigns.get(&id));
        let compiled = match campaign {
            Some(Ok(found)) => found,
            Some(Err(e)) => {
                return Err(NotSent::Fail(format!(
                    "the bulk SMS text does not compile: {e}"
                )));
            }
            None => {
                return Err(NotSent::Fail(
                    "the bulk SMS of this message no longer exists".into(),
                ));
            }
        };
        let context = render::contact_context(property, &c.contact, &[]);
        // Each customer reads a bulk SMS in their language where it was written in it.
        let preferences: Vec<&str> = c
            .contact
            .language
            .as_deref()
            .into_iter()
            .chain([property.default_language.as_str()])
            .collect();
        let rendered = compiled
            .render_sms(&preferences, &context)
            .map_err(|e| NotSent::Fail(format!("not rendered, nothing sent: {e}")))?;
        (rendered.text, rendered.language, true)
    } else {
        // A one-time code was rendered when it was asked for; it goes at once, quiet or not.
        let text = c
            .sms_text
            .clone()
            .ok_or_else(|| NotSent::Fail("the one-time code's text is gone".into()))?;
        let language = c
            .contact
            .language
            .clone()
            .map_or_else(|| property.default_language.clone(), String::from);
        (text, language, false)
    };
    let prepared = sms_or_call(c.id, property, routed.route, text, &language, now)?;
    let ready = Ready {
        language,
        fell_back: None,
        retry_until: None,
        keep_text,
        note: String::new(),
    };
    Ok((ready, prepared))
}

/// The claimed message's property, as the batch read it.
fn property_of<'a>(ctx: &'a BatchContext, c: &Claimed) -> Result<&'a Property, NotSent> {
    ctx.properties
        .get(&c.property_id)
        .ok_or_else(|| NotSent::Fail("the property of this message no longer exists".into()))
}

/// A mail from the property to the claimed message's contact, without content yet.
fn envelope(c: &Claimed, property: &Property, to_email: String, now: Timestamp) -> OutgoingEmail {
    OutgoingEmail {
        message_id: c.id,
        from_name: property.sender.name.clone(),
        from_email: property.sender.email.clone(),
        reply_to: property.sender.reply_to.clone(),
        to_name: c.contact.full_name(),
        to_email,
        subject: String::new(),
        html: String::new(),
        text: String::new(),
        date: now,
        unsubscribe: None,
        auto_reply: None,
    }
}

/// A mail about consent the customer asked for: the link to their consent page, or the
/// double opt-in confirmation. The link is made now, so it holds from the moment it is sent.
pub(crate) fn consent_mail(
    ctx: &BatchContext,
    c: &Claimed,
    now: Timestamp,
) -> Result<(Ready, Prepared), NotSent> {
    let property = property_of(ctx, c)?;
    let to_email = c
        .contact
        .email
        .as_deref()
        .map(str::to_owned)
        .ok_or(NotSent::Suppress(Reason::GuestEmailMissing))?;
    let base = &ctx.signer.public_url;
    let (confirm, url) = match c.occurrence.strip_prefix("consent_confirm:") {
        Some(id) => {
            let id: Uuid = id
                .parse()
                .map_err(|_| NotSent::Fail("a confirmation mail without its id".into()))?;
            let token = crate::links::confirmation_token(&ctx.signer, id);
            (true, format!("{base}/c/confirm/{token}"))
        }
        None => {
            let subject = crate::links::LinkSubject {
                contact: c.contact.id,
                property: property.id,
            };
            let until = crate::self_service::consent_link_expiry(now);
            let token = crate::links::consent_page_token(&ctx.signer, subject, until);
            (false, format!("{base}/c/{token}"))
        }
    };
    let (subject, html, text) =
        crate::self_service::consent_mail(property, &c.contact, confirm, &url);
    let email = OutgoingEmail {
        subject,
        html,
        text,
        ..envelope(c, property, to_email, now)
    };
    let ready = Ready {
        language: crate::self_service::page_language(&c.contact, property).to_owned(),
        fell_back: None,
        retry_until: None,
        // The body holds a live link: it is not kept.
        keep_text: false,
        note: String::new(),
    };
    Ok((ready, Prepared::Email(email)))
}

/// An autoresponder's answer, rendered when the mail came in: it goes to the envelope sender
/// as it was, from the property's sender, with the thread's headers.
pub(crate) fn auto_reply(
    ctx: &BatchContext,
    c: &Claimed,
    now: Timestamp,
) -> Result<(Ready, Prepared), NotSent> {
    let property = property_of(ctx, c)?;
    let payload: crate::autoreply::ReplyPayload = c
        .sms_text
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .ok_or_else(|| NotSent::Fail("the auto-reply's content is gone".into()))?;
    let html = format!(
        "<div style=\"white-space:pre-wrap;font-family:sans-serif\">{}</div>",
        bellhop_domain::text::escape_html(&payload.text)
    );
    let email = OutgoingEmail {
        to_name: payload.to_name,
        subject: payload.subject,
        html,
        text: payload.text,
        auto_reply: Some(AutoReply {
            in_reply_to: payload.in_reply_to,
            references: payload.references,
        }),
        ..envelope(c, property, payload.to, now)
    };
    let ready = Ready {
        language: payload.language,
        fell_back: None,
        retry_until: None,
        keep_text: true,
        note: String::new(),
    };
    Ok((ready, Prepared::Email(email)))
}

/// A step of a sequence: the enrolment must still be active, the template's category needs
/// the contact's consent on the channel taken, and it renders for the contact alone.
pub(crate) fn sequence_step(
    ctx: &BatchContext,
    c: &Claimed,
    now: Timestamp,
) -> Result<(Ready, Prepared), NotSent> {
    let property = property_of(ctx, c)?;
    let (enrolment, template_id) = crate::sequences::parse_occurrence(&c.occurrence)
        .ok_or_else(|| NotSent::Fail("a sequence step without its enrolment".into()))?;
    match ctx.enrolments.get(&enrolment).map(String::as_str) {
        Some("active") => {}
        Some(status) => return Err(NotSent::Suppress(Reason::SequenceEnded(status.to_owned()))),
        None => return Err(NotSent::Fail("the enrolment no longer exists".into())),
    }
    let (compiled, category) = match ctx.templates.get(&template_id) {
        Some(Ok(t)) => t.clone(),
        Some(Err(e)) => return Err(NotSent::Fail(format!("template does not compile: {e}"))),
        None => return Err(NotSent::Fail("template missing".into())),
    };
    let channel = match compiled.channel() {
        bellhop_domain::rule::TemplateChannel::Email => Channel::Email,
        bellhop_domain::rule::TemplateChannel::Sms => Channel::Sms,
    };
    let consent = consent_of(ctx, c, property, category.into());
    let routed = route::route(&RouteInput {
        property,
        contact: &c.contact,
        booking: None,
        channel,
        consent: &consent,
    })
    .map_err(NotSent::Suppress)?;
    if routed.route.is_sms() {
        quiet_hours(property, now, None)?;
    }
    let wanted: Vec<&str> = c
        .contact
        .language
        .as_deref()
        .into_iter()
        .chain([property.default_language.as_str()])
        .collect();
    let context = render::contact_context(property, &c.contact, &[]);
    let ready = |language: String| Ready {
        language,
        fell_back: None,
        retry_until: None,
        keep_text: true,
        note: String::new(),
    };
    let (language, _, prepared) = render_for_route(
        ctx,
        c,
        property,
        (&compiled, category),
        routed.route,
        &wanted,
        &context,
        now,
    )?;
    Ok((ready(language), prepared))
}

/// Renders a message for the route taken: an email (with the one-click unsubscribe where its
/// category is not service) or an SMS or call. Returns the language used, whether it fell
/// back from the wanted one, and the message.
#[allow(clippy::too_many_arguments)]
fn render_for_route(
    ctx: &BatchContext,
    c: &Claimed,
    property: &Property,
    (compiled, category): (&CompiledTemplate, Category),
    route: Route,
    preferences: &[&str],
    context: &minijinja::Value,
    now: Timestamp,
) -> Result<(String, bool, Prepared), NotSent> {
    match route {
        Route::Email(to_email) => {
            let mut rendered = compiled
                .render(preferences, context)
                .map_err(|e| NotSent::Fail(format!("not rendered, nothing sent: {e}")))?;
            let unsubscribe = (category != Category::Service).then(|| {
                let unsubscribe = unsubscribe(&ctx.signer, c, property);
                (rendered.html, rendered.text) = consent::with_unsubscribe_link(
                    &rendered.html,
                    &rendered.text,
                    &unsubscribe.url,
                    &rendered.language,
                );
                unsubscribe
            });
            let email = OutgoingEmail {
                subject: rendered.subject,
                html: rendered.html,
                text: rendered.text,
                unsubscribe,
                ..envelope(c, property, to_email, now)
            };
            Ok((
                rendered.language,
                rendered.fell_back,
                Prepared::Email(email),
            ))
        }
        route => {
            let rendered = compiled
                .render_sms(preferences, context)
                .map_err(|e| NotSent::Fail(format!("not rendered, nothing sent: {e}")))?;
            let prepared = sms_or_call(
                c.id,
                property,
                route,
                rendered.text,
                &rendered.language,
                now,
            )?;
            Ok((rendered.language, rendered.fell_back, prepared))
        }
    }
}

/// Where the recipient of a marketing mail unsubscribes: the one-click URL of the contact at
/// the property, and a mail to the property's reply address.
fn unsubscribe(signer: &Callbacks, c: &Claimed, property: &Property) -> Unsubscribe {
    let token = crate::links::unsubscribe_token(
        signer,
        crate::links::LinkSubject {
            contact: c.contact.id,
            property: property.id,
        },
    );
    let reply = property
        .sender
        .reply_to
        .as_deref()
        .unwrap_or(&property.sender.email);
    Unsubscribe {
        url: format!("{}/u/{token}", signer.public_url),
        mailto: Some(format!("mailto:{reply}?subject=Unsubscribe")),
    }
}

/// The consent check of one claimed message for `purpose`, on whichever channel it takes.
fn consent_of<'a>(
    ctx: &'a BatchContext,
    c: &'a Claimed,
    property: &'a Property,
    purpose: Purpose,
) -> impl Fn(ConsentChannel, &str) -> Result<(), Reason> + 'a {
    move |channel, address| {
        ctx.consents
            .check(c.account_id, property, purpose, channel, address)
    }
}

/// SMS and calls wait for the end of quiet hours; a "before" message whose anchor comes
/// first is not sent at all.
fn quiet_hours(
    property: &Property,
    now: Timestamp,
    before: Option<Timestamp>,
) -> Result<(), NotSent> {
    let Some(quiet) = property.sms.quiet_hours else {
        return Ok(());
    };
    let next = quiet.next_allowed(&property.time_zone, now);
    if next == now {
        return Ok(());
    }
    match before {
        Some(anchor) if next >= anchor => Err(NotSent::Suppress(Reason::QuietHoursUntilAnchor {
            until: bellhop_domain::time::format_local(&property.time_zone, next),
            anchor_at: anchor,
        })),
        _ => Err(NotSent::Reschedule(next)),
    }
}

fn sms_or_call(
    id: Uuid,
    property: &Property,
    route: Route,
    text: String,
    language: &str,
    now: Timestamp,
) -> Result<Prepared, NotSent> {
    let month = Month::of(&property.time_zone, now);
    let sender = property
        .sms
        .sender
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_default();
    match route {
        Route::Sms(to) => {
            let analysis = sms::check_sendable(&text, property.sms.smart_encoding)
                .map_err(|e| NotSent::Fail(format!("not sent: {e}")))?;
            let sms = OutgoingSms {
                message_id: id,
                from: sender,
                to,
                text: analysis.text.clone(),
                unicode: analysis.encoding == Encoding::Ucs2,
                parts: analysis.segments,
            };
            Ok(Prepared::Sms {
                sms,
                analysis,
                month,
            })
        }
        Route::Voice(to) => {
            if text.trim().is_empty() {
                return Err(NotSent::Fail("not sent: the text is empty".into()));
            }
            let from = property
                .sms
                .sender
                .as_ref()
                .filter(|s| s.can_receive_replies())
                .map(|s| s.to_string());
            let call = OutgoingCall {
                message_id: id,
                from,
                to,
                text,
                language: language.to_owned(),
            };
            Ok(Prepared::Voice { call, month })
        }
        Route::Email(_) => Err(NotSent::Fail("an email reached the SMS path".into())),
    }
}

/// The contact's points for the consent lookup of a batch: its email address and the number
/// it would be texted at.
pub(crate) fn points_of(contact: &Contact, property: &Property) -> Vec<(ConsentChannel, String)> {
    let mut points = crate::consent::points_of(contact);
    if !points.iter().any(|(c, _)| *c == ConsentChannel::Sms)
        && let Ok((number, _)) = route::contact_number(contact, property)
    {
        points.push((ConsentChannel::Sms, number.into()));
    }
    points
}

/// A staff change of a channel booking, for the channel: its JSON, signed with the
/// connection's current secret when sent. A connection revoked or without a URL fails it.
pub(crate) fn channel_change(
    ctx: &BatchContext,
    c: &Claimed,
) -> Result<(Ready, Prepared), NotSent> {
    let connection_id = c
        .occurrence
        .strip_prefix("channel_change:")
        .and_then(|rest| rest.split(':').next())
        .and_then(|id| id.parse::<Uuid>().ok())
        .ok_or_else(|| NotSent::Fail("a channel change without its connection".into()))?;
    let connection = ctx
        .connections
        .get(&connection_id)
        .ok_or_else(|| NotSent::Fail("the channel connection no longer exists".into()))?;
    if connection.revoked_at.is_some() {
        return Err(NotSent::Fail(format!(
            "the connection to {} was revoked",
            connection.name
        )));
    }
    let url = connection
        .webhook_url
        .clone()
        .ok_or_else(|| NotSent::Fail(format!("{} has no webhook URL any more", connection.name)))?;
    let body = c
        .sms_text
        .clone()
        .ok_or_else(|| NotSent::Fail("a channel change without its content".into()))?;
    let ready = Ready {
        language: String::new(),
        fell_back: None,
        retry_until: None,
        keep_text: true,
        note: String::new(),
    };
    Ok((
        ready,
        Prepared::Webhook(WebhookRequest {
            url,
            body,
            secret: crate::channels::webhook_secret(&ctx.signer, connection),
            delivery_id: c.id.to_string(),
        }),
    ))
}
