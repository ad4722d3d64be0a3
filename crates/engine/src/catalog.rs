//! Property, template and rule commands, and a rule's dry run: each change re-plans the
//! property's live bookings in the same transaction.

use crate::error::EngineError;
use crate::service::{Engine, replan};
use bellhop_domain::plan::{self, PlanAction, PlanInput};
use bellhop_domain::render::{self, CompiledTemplate, RenderLimits, Template};
use bellhop_domain::rule::TemplateChannel;
use bellhop_domain::{Booking, Property, Rule};
use bellhop_store::{PlanSummary, Tx};
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// What a rule change would do to planned messages (the dry run).
#[derive(Clone, Debug, Default, Serialize)]
pub struct PlanImpact {
    /// Bookings examined.
    pub bookings: usize,
    /// Messages that would be added.
    pub add: usize,
    /// Messages that would move.
    pub r#move: usize,
    /// Messages that would be cancelled or skipped.
    pub cancel: usize,
    /// A few examples: (booking id, action).
    pub examples: Vec<serde_json::Value>,
    /// Messages it would send that were rendered for their booking, as they would be.
    pub rendered: usize,
    /// Those that would fail to render (a value the booking or guest lacks, a text too long
    /// for an SMS): booking, language and why — at most 50.
    pub render_failures: Vec<RenderFailure>,
}

/// A message the dry run could not render for its booking.
#[derive(Clone, Debug, Serialize)]
pub struct RenderFailure {
    /// The booking.
    pub booking_id: Uuid,
    /// The language it would be written in.
    pub language: String,
    /// Why it would fail.
    pub error: String,
}

/// A sender number belongs to one account: an inbound SMS to it (a STOP) is matched to its
/// properties, and must never opt a number out with another account's business.
async fn sender_number_is_free(tx: &mut Tx, property: &Property) -> Result<(), EngineError> {
    let Some(sender) = property
        .sms
        .sender
        .as_ref()
        .filter(|s| s.can_receive_replies())
    else {
        return Ok(());
    };
    if tx
        .sms_sender_owner_besides(property.account_id, sender.as_str())
        .await?
        .is_some()
    {
        return Err(EngineError::invalid(
            "sms.sender",
            format!(
                "{sender} is the SMS sender of another account; a number belongs to one account"
            ),
        ));
    }
    Ok(())
}

impl Engine {
    /// Stores a new property.
    pub async fn create_property(&self, property: &Property) -> Result<(), EngineError> {
        let mut tx = self.store().begin().await?;
        self.create_property_in(&mut tx, property).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `create_property` inside a caller's transaction.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %property.account_id, property_id = %property.id))]
    pub(crate) async fn create_property_in(
        &self,
        tx: &mut Tx,
        property: &Property,
    ) -> Result<(), EngineError> {
        sender_number_is_free(tx, property).await?;
        tx.insert_property(property, self.now()).await?;
        Ok(())
    }

    /// Changes a property and re-plans its current bookings (zone and check-in time move
    /// every send time).
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %property.account_id, property_id = %property.id))]
    pub async fn update_property(&self, property: &Property) -> Result<PlanSummary, EngineError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        sender_number_is_free(&mut tx, property).await?;
        tx.update_property(property, now).await?;
        let mut total = PlanSummary::default();
        for booking in self
            .live_bookings(&mut tx, property.account_id, property.id, now)
            .await?
        {
            total += replan(&mut tx, &booking, now).await?;
        }
        tx.commit().await?;
        Ok(total)
    }

    /// Stores a template after checking that every part compiles.
    pub async fn save_template(
        &self,
        template: &Template,
        create: bool,
    ) -> Result<Template, EngineError> {
        let mut tx = self.store().begin().await?;
        let saved = self.save_template_in(&mut tx, template, create).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// `save_template` inside a caller's transaction.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %template.account_id, template_id = %template.id, create))]
    pub(crate) async fn save_template_in(
        &self,
        tx: &mut Tx,
        template: &Template,
        create: bool,
    ) -> Result<Template, EngineError> {
        let compiled = CompiledTemplate::compile(template, None, None, RenderLimits::default())
            .map_err(|e| EngineError::invalid("variants", e.to_string()))?;
        let unknown = compiled.unknown_variables();
        if !unknown.is_empty() {
            let each: Vec<String> = unknown.iter().map(ToString::to_string).collect();
            return Err(EngineError::invalid("variants", each.join("; ")));
        }
        let now = self.now();
        tx.property(template.account_id, template.property_id)
            .await
            .map_err(|_| EngineError::invalid("property_id", "no such property"))?;
        let mut saved = template.clone();
        if create {
            tx.insert_template(template, now).await?;
        } else {
            saved.version = tx.update_template(template, now).await?;
        }
        Ok(saved)
    }

    /// Stores a rule and re-plans the property's current bookings in the same transaction.
    pub async fn save_rule(&self, rule: &Rule, create: bool) -> Result<PlanSummary, EngineError> {
        let mut tx = self.store().begin().await?;
        let total = self.save_rule_in(&mut tx, rule, create).await?;
        tx.commit().await?;
        Ok(total)
    }

    /// `save_rule` inside a caller's transaction.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %rule.account_id, rule_id = %rule.id, create))]
    pub(crate) async fn save_rule_in(
        &self,
        tx: &mut Tx,
        rule: &Rule,
        create: bool,
    ) -> Result<PlanSummary, EngineError> {
        rule.validate()
            .map_err(|e| EngineError::invalid("rule", e.to_string()))?;
        let now = self.now();
        let property = tx
            .property(rule.account_id, rule.property_id)
            .await
            .map_err(|_| EngineError::invalid("property_id", "no such property"))?;
        let (first, second) = rule.channel.template_channels();
        let wanted = [
            ("template_id", Some(rule.template_id), Some(first)),
            ("fallback_template_id", rule.fallback_template_id, second),
        ];
        for (field, id, channel) in wanted {
            let (Some(id), Some(channel)) = (id, channel) else {
                continue;
            };
            let template = tx
                .template(rule.account_id, id)
                .await
                .map_err(|_| EngineError::invalid(field, "no such template"))?;
            if template.property_id != rule.property_id {
                return Err(EngineError::invalid(
                    field,
                    "the template belongs to another property",
                ));
            }
            if template.variants.channel() != channel {
                return Err(EngineError::invalid(
                    field,
                    format!(
                        "a {} rule needs an {} template here; this one is for {}",
                        rule.channel.as_str(),
                        channel.as_str(),
                        template.variants.channel().as_str()
                    ),
                ));
            }
        }
        let uses_sms = first == bellhop_domain::rule::TemplateChannel::Sms
            || second == Some(bellhop_domain::rule::TemplateChannel::Sms);
        if uses_sms && property.sms.sender.is_none() {
            return Err(EngineError::invalid(
                "channel",
                "the property has no SMS sender yet: set sms.sender on the property first",
            ));
        }
        if create {
            tx.insert_rule(rule, now).await?;
        } else {
            tx.update_rule(rule, now).await?;
        }
        let mut total = PlanSummary::default();
        for booking in self
            .live_bookings(tx, rule.account_id, rule.property_id, now)
            .await?
        {
            total += replan(tx, &booking, now).await?;
        }
        Ok(total)
    }

    /// What saving `rule` would do, without saving it.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(account_id = %rule.account_id, rule_id = %rule.id))]
    pub async fn dry_run_rule(&self, rule: &Rule) -> Result<PlanImpact, EngineError> {
        self.dry_run_rule_with(rule, None).await
    }

    /// `dry_run_rule` with the rule's template given (one not saved yet, as a preset's).
    pub(crate) async fn dry_run_rule_with(
        &self,
        rule: &Rule,
        unsaved_template: Option<Template>,
    ) -> Result<PlanImpact, EngineError> {
        rule.validate()
            .map_err(|e| EngineError::invalid("rule", e.to_string()))?;
        let now = self.now();
        let mut tx = self.store().begin_read().await?;
        let property = tx
            .property(rule.account_id, rule.property_id)
            .await
            .map_err(|_| EngineError::invalid("property_id", "no such property"))?;
        let mut rules: Vec<Rule> = tx
            .rules_of(rule.property_id)
            .await?
            .into_iter()
            .filter(|r| r.id != rule.id)
            .collect();
        rules.push(rule.clone());
        // Each message the rule would send is rendered for its booking, so a template that
        // fails for some guests shows here and not at send time.
        let template = match unsaved_template {
            Some(t) => t,
            None => tx
                .template(rule.account_id, rule.template_id)
                .await
                .map_err(|_| EngineError::invalid("template_id", "no such template"))?,
        };
        let compiled = CompiledTemplate::compile(
            &template,
            Some(property.html_layout()),
            Some(property.text_layout()),
            RenderLimits::default(),
        )
        .map_err(|e| EngineError::invalid("template_id", e.to_string()))?;
        let mut impact = PlanImpact::default();
        for booking in self
            .live_bookings(&mut tx, rule.account_id, rule.property_id, now)
            .await?
        {
            impact.bookings += 1;
            let contact = tx
                .contact(booking.account_id, booking.fields.contact_id)
                .await?;
            let existing: Vec<_> = tx.existing_messages(booking.id).await?;
            let input = PlanInput {
                property: &property,
                booking: &booking,
                contact: &contact,
                rules: &rules,
                existing: &existing,
                now,
            };
            for action in plan::plan(&input) {
                let touches_rule = match &action {
                    PlanAction::Insert { rule_id, .. } => *rule_id == rule.id,
                    PlanAction::Move { message_id, .. }
                    | PlanAction::Reopen { message_id, .. }
                    | PlanAction::Cancel { message_id, .. }
                    | PlanAction::Skip { message_id, .. } => existing
                        .iter()
                        .any(|m| m.id == *message_id && m.rule_id == rule.id),
                };
                if !touches_rule {
                    continue;
                }
                if let PlanAction::Insert {
                    status: bellhop_domain::MessageStatus::Planned,
                    ..
                }
                | PlanAction::Reopen { .. }
                | PlanAction::Move { .. } = &action
                {
                    let language = bellhop_domain::language::wanted(&property, &booking, &contact);
                    let context = render::context(&property, &booking, &contact, &language, now);
                    let preferences = [language.as_str(), property.default_language.as_str()];
                    let outcome = match compiled.channel() {
                        TemplateChannel::Email => compiled
                            .render(&preferences, &context)
                            .map(drop)
                            .map_err(|e| e.to_string()),
                        TemplateChannel::Sms => compiled
                            .render_sms(&preferences, &context)
                            .map_err(|e| e.to_string())
                            .and_then(|r| {
                                bellhop_domain::sms::check_sendable(
                                    &r.text,
                                    property.sms.smart_encoding,
                                )
                                .map(drop)
                                .map_err(|e| e.to_string())
                            }),
                    };
                    impact.rendered += 1;
                    if let Err(error) = outcome
                        && impact.render_failures.len() < 50
                    {
                        impact.render_failures.push(RenderFailure {
                            booking_id: booking.id,
                            language,
                            error,
                        });
                    }
                }
                let (kind, detail) = match &action {
                    PlanAction::Insert { due_at, .. } | PlanAction::Reopen { due_at, .. } => {
                        impact.add += 1;
                        ("add", due_at.to_string())
                    }
                    PlanAction::Move { due_at, .. } => {
                        impact.r#move += 1;
                        ("move", due_at.to_string())
                    }
                    PlanAction::Cancel { reason, .. } | PlanAction::Skip { reason, .. } => {
                        impact.cancel += 1;
                        ("cancel", reason.to_string())
                    }
                };
                if impact.examples.len() < 20 {
                    impact.examples.push(serde_json::json!({"booking_id": booking.id, "action": kind, "detail": detail}));
                }
            }
        }
        drop(tx);
        Ok(impact)
    }

    async fn live_bookings(
        &self,
        tx: &mut Tx,
        account: Uuid,
        property: Uuid,
        now: Timestamp,
    ) -> Result<Vec<Booking>, EngineError> {
        Ok(tx.live_bookings(account, property, now).await?)
    }
}

/// What a template renders to for a real booking: exactly what would be sent.
#[derive(Clone, Debug)]
pub enum Preview {
    /// An email template.
    Email(bellhop_domain::render::RenderedEmail),
    /// An SMS template, with how it goes out and why it could not, if it could not.
    Sms {
        /// The text.
        rendered: bellhop_domain::render::RenderedSms,
        /// Encoding, parts, the characters that force UCS-2.
        analysis: bellhop_domain::sms::SmsAnalysis,
        /// Why it cannot be sent as it is (empty, too many parts).
        problem: Option<String>,
    },
}

impl Engine {
    /// Renders template `template_id` for booking `booking_id` in `language` (default: the
    /// language the booking would get), reading template, booking, property and contact in
    /// one read transaction.
    pub async fn preview_template(
        &self,
        account: Uuid,
        template_id: Uuid,
        booking_id: Uuid,
        language: Option<String>,
    ) -> Result<Preview, EngineError> {
        let template = self.store().template(account, template_id).await?;
        self.preview_draft(account, &template, booking_id, language)
            .await
    }

    /// Renders a template as it is being edited (not saved) for booking `booking_id`: what
    /// the editor's preview shows while staff type.
    pub async fn preview_draft(
        &self,
        account: Uuid,
        template: &Template,
        booking_id: Uuid,
        language: Option<String>,
    ) -> Result<Preview, EngineError> {
        use bellhop_domain::render::{self, CompiledTemplate, RenderLimits};
        use bellhop_domain::rule::TemplateChannel;
        let mut tx = self.store().begin_read().await?;
        let booking = tx
            .booking(account, booking_id)
            .await
            .map_err(|_| EngineError::invalid("booking_id", "no such booking"))?;
        let property = tx.property(account, booking.fields.property_id).await?;
        let contact = tx.contact(account, booking.fields.contact_id).await?;
        drop(tx);
        let invalid = |e: render::RenderError| EngineError::invalid("template", e.to_string());
        let compiled = CompiledTemplate::compile(
            template,
            Some(property.html_layout()),
            Some(property.text_layout()),
            RenderLimits::default(),
        )
        .map_err(invalid)?;
        let wanted = language
            .unwrap_or_else(|| bellhop_domain::language::wanted(&property, &booking, &contact));
        let context = render::context(&property, &booking, &contact, &wanted, self.now());
        let preferences = [wanted.as_str(), property.default_language.as_str()];
        if compiled.channel() == TemplateChannel::Sms {
            let rendered = compiled
                .render_sms(&preferences, &context)
                .map_err(invalid)?;
            let smart = property.sms.smart_encoding;
            let analysis = bellhop_domain::sms::analyze(&rendered.text, smart);
            let problem = bellhop_domain::sms::check_sendable(&rendered.text, smart)
                .err()
                .map(|e| e.to_string());
            return Ok(Preview::Sms {
                rendered,
                analysis,
                problem,
            });
        }
        Ok(Preview::Email(
            compiled.render(&preferences, &context).map_err(invalid)?,
        ))
    }
}
