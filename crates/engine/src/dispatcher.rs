//! The dispatcher: claim due messages, check them against the booking as it is now, render,
//! send, and record every outcome.
//!
//! One `run_once` is one batch: claim (commit) → check and render each message → send the batch
//! (the transport spreads it over its connections) → record all outcomes in one transaction.
//! A crash between a send and its record leaves the message `sending` with a lease; when the
//! lease lapses another claim sends it again with the same Message-ID — so at most the
//! in-flight messages repeat, and none is lost.

use crate::clock::Clock;
use crate::error::EngineError;
use bellhop_domain::Booking;
use bellhop_domain::plan::{self, PlanInput, SendCheck};
use bellhop_domain::render::{self, CompiledTemplate, RenderLimits};
use bellhop_domain::retry::Backoff;
use bellhop_domain::{Property, Rule};
use bellhop_store::{Claimed, Outcome, OutcomeKind, Store};
use bellhop_transport::{EmailTransport, OutgoingEmail, SendError};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// Dispatcher settings.
#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// This node's name (lease owner).
    pub node: String,
    /// Messages claimed per batch.
    pub batch_size: i64,
    /// How long a claim holds before another node may take it over.
    pub lease: SignedDuration,
    /// Longest sleep between looks at the outbox.
    pub poll_interval: Duration,
    /// Retry timing.
    pub backoff: Backoff,
    /// Keep the rendered bodies of sent messages (for "what exactly did we send?").
    pub retain_bodies: bool,
    /// Template limits.
    pub limits: RenderLimits,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            node: format!("node-{}", &Uuid::new_v4().simple().to_string()[..8]),
            batch_size: 200,
            lease: SignedDuration::from_secs(120),
            poll_interval: Duration::from_secs(1),
            backoff: Backoff::default(),
            retain_bodies: true,
            limits: RenderLimits::default(),
        }
    }
}

/// What one batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchStats {
    /// Claimed.
    pub claimed: usize,
    /// Sent.
    pub sent: usize,
    /// Suppressed.
    pub suppressed: usize,
    /// Deferred for retry.
    pub deferred: usize,
    /// Failed.
    pub failed: usize,
    /// Put back because the booking moved.
    pub rescheduled: usize,
    /// Outcomes that lost their lease meanwhile.
    pub stale: usize,
}

type TemplateKey = (Uuid, i64, u64);

/// Sends due messages.
pub struct Dispatcher {
    store: Store,
    transport: Arc<EmailTransport>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    compiled: Mutex<HashMap<TemplateKey, Arc<CompiledTemplate>>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("node", &self.config.node)
            .finish()
    }
}

/// Why a claimed message does not reach the transport.
enum NotSent {
    Suppress(String),
    Reschedule(Timestamp),
    Fail(String),
}

impl From<NotSent> for OutcomeKind {
    fn from(n: NotSent) -> Self {
        match n {
            NotSent::Suppress(reason) => OutcomeKind::Suppressed { reason },
            NotSent::Reschedule(due_at) => OutcomeKind::Rescheduled { due_at },
            NotSent::Fail(error) => OutcomeKind::Failed { error },
        }
    }
}

/// What settling a sent message needs besides the email itself.
struct Ready {
    language: String,
    /// "; no de variant, used en" when the wanted language had no variant.
    fell_back: Option<String>,
    anchor_at: Timestamp,
    before_anchor: bool,
}

fn outcome(c: &Claimed, kind: OutcomeKind) -> Outcome {
    Outcome {
        id: c.id,
        account_id: c.account_id,
        property_id: c.property_id,
        attempt: c.attempt,
        kind,
    }
}

/// What a batch needs to know about its properties, rules and templates.
struct BatchContext {
    properties: HashMap<Uuid, Property>,
    rules: HashMap<Uuid, Rule>,
    templates: HashMap<Uuid, Result<Arc<CompiledTemplate>, String>>,
}

fn layout_hash(p: &Property) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    (&p.layout_html, &p.layout_text).hash(&mut h);
    h.finish()
}

impl Dispatcher {
    /// A dispatcher.
    pub fn new(
        store: Store,
        transport: Arc<EmailTransport>,
        clock: Arc<dyn Clock>,
        config: DispatchConfig,
    ) -> Self {
        Dispatcher {
            store,
            transport,
            clock,
            config,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    async fn context(&self, claimed: &[Claimed]) -> Result<BatchContext, EngineError> {
        let mut ctx = BatchContext {
            properties: HashMap::new(),
            rules: HashMap::new(),
            templates: HashMap::new(),
        };
        for c in claimed {
            if let std::collections::hash_map::Entry::Vacant(slot) =
                ctx.properties.entry(c.property_id)
            {
                slot.insert(self.store.property_any(c.property_id).await?);
            }
            if !ctx.rules.contains_key(&c.rule_id) {
                let rule = self.store.rule_any(c.rule_id).await?;
                if !ctx.templates.contains_key(&rule.template_id) {
                    let property = &ctx.properties[&c.property_id];
                    let template = self.store.template_any(rule.template_id).await?;
                    let key = (template.id, template.version, layout_hash(property));
                    let cached = self.compiled.lock().ok().and_then(|m| m.get(&key).cloned());
                    let compiled = match cached {
                        Some(c) => Ok(c),
                        None => CompiledTemplate::compile(
                            &template,
                            property.layout_html.as_deref(),
                            property.layout_text.as_deref(),
                            self.config.limits,
                        )
                        .map(Arc::new)
                        .inspect(|c| {
                            if let Ok(mut m) = self.compiled.lock() {
                                m.insert(key, c.clone());
                            }
                        })
                        .map_err(|e| e.to_string()),
                    };
                    ctx.templates.insert(rule.template_id, compiled);
                }
                ctx.rules.insert(c.rule_id, rule);
            }
        }
        Ok(ctx)
    }

    /// Claims and processes one batch. Returns what it did; `claimed == 0` means nothing was due.
    pub async fn run_once(&self) -> Result<DispatchStats, EngineError> {
        let now = self.clock.now();
        let lease_until = now.checked_add(self.config.lease).unwrap_or(now);
        let claimed = self
            .store
            .claim_due(&self.config.node, now, lease_until, self.config.batch_size)
            .await?;
        let mut stats = DispatchStats {
            claimed: claimed.len(),
            ..DispatchStats::default()
        };
        if claimed.is_empty() {
            return Ok(stats);
        }
        // From here until the transport has answered, the bookings cannot change: a change
        // that committed after the claim is seen by the check below, and one that comes later
        // waits for the send. No mail goes out for a date that a committed change replaced.
        let mut booking_ids: Vec<Uuid> = claimed.iter().map(|c| c.booking_id).collect();
        booking_ids.sort_unstable();
        booking_ids.dedup();
        let (hold, bookings) = self.store.hold_bookings(&booking_ids).await?;
        let ctx = self.context(&claimed).await?;
        // Decide and render every message first, then hand all that are to go to the
        // transport at once: SMTP spreads them over its connections and pipelines them.
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(claimed.len());
        let mut metas: Vec<(usize, Ready)> = Vec::new();
        let mut emails: Vec<OutgoingEmail> = Vec::new();
        for (i, c) in claimed.iter().enumerate() {
            let Some(booking) = bookings.get(&c.booking_id) else {
                let gone = NotSent::Fail("the booking of this message no longer exists".into());
                outcomes.push(outcome(c, gone.into()));
                continue;
            };
            match self.prepare(&ctx, c, booking, now) {
                Ok((r, email)) => {
                    metas.push((i, r));
                    emails.push(email);
                }
                Err(not_sent) => outcomes.push(outcome(c, not_sent.into())),
            }
        }
        let results = self.transport.send_many(&emails).await;
        hold.release().await?;
        for (((i, r), email), result) in metas.into_iter().zip(emails).zip(results) {
            let c = &claimed[i];
            outcomes.push(outcome(c, self.settle(c, r, email, result, now)));
        }
        for o in &outcomes {
            match o.kind {
                OutcomeKind::Sent { .. } => stats.sent += 1,
                OutcomeKind::Suppressed { .. } => stats.suppressed += 1,
                OutcomeKind::Deferred { .. } => stats.deferred += 1,
                OutcomeKind::Failed { .. } => stats.failed += 1,
                OutcomeKind::Rescheduled { .. } => stats.rescheduled += 1,
            }
        }
        let recorded_at = self.clock.now();
        stats.stale = self
            .store
            .record_outcomes(&self.config.node, &outcomes, recorded_at)
            .await?;
        if stats.stale > 0 {
            tracing::warn!(stale = stats.stale, node = %self.config.node, "outcomes arrived after their lease was taken over; not recorded");
        }
        Ok(stats)
    }

    /// Everything up to the transport: the send-time check, the late policy, the address,
    /// rendering. `Err` says why the message is not to be sent.
    fn prepare(
        &self,
        ctx: &BatchContext,
        c: &Claimed,
        booking: &Booking,
        now: Timestamp,
    ) -> Result<(Ready, OutgoingEmail), NotSent> {
        let (Some(property), Some(rule)) = (
            ctx.properties.get(&c.property_id),
            ctx.rules.get(&c.rule_id),
        ) else {
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
        let suppress = NotSent::Suppress;
        let anchor_at = match plan::check_at_send(rule, &input, &c.occurrence) {
            SendCheck::Suppress(reason) => return Err(suppress(reason)),
            SendCheck::Reschedule(due_at) if !c.forced => {
                return Err(NotSent::Reschedule(due_at));
            }
            SendCheck::Reschedule(_) | SendCheck::Go => match plan::want(rule, &input) {
                plan::Want::Send { anchor_at, .. } => anchor_at,
                plan::Want::Not(reason) => return Err(suppress(reason)),
            },
        };
        if let Some(reason) = plan::late_at_send(rule, c.due_at, anchor_at, now) {
            return Err(suppress(reason));
        }
        let Some(to_email) = c.contact.email.clone().filter(|e| !e.trim().is_empty()) else {
            return Err(suppress("guest email missing".into()));
        };
        let compiled = match ctx.templates.get(&rule.template_id) {
            Some(Ok(t)) => t,
            Some(Err(e)) => return Err(NotSent::Fail(format!("template does not compile: {e}"))),
            None => return Err(NotSent::Fail("template missing".into())),
        };
        let wanted = bellhop_domain::language::wanted(property, booking, &c.contact);
        let preferences = [wanted.as_str(), property.default_language.as_str()];
        let context = render::context(property, booking, &c.contact, &wanted);
        let rendered = compiled
            .render(&preferences, &context)
            .map_err(|e| NotSent::Fail(format!("not rendered, nothing sent: {e}")))?;
        let detail_language = rendered
            .fell_back
            .then(|| format!("; no {wanted} variant, used {}", rendered.language));
        let email = OutgoingEmail {
            message_id: c.id,
            from_name: property.sender.name.clone(),
            from_email: property.sender.email.clone(),
            reply_to: property.sender.reply_to.clone(),
            to_name: c.contact.full_name(),
            to_email,
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            date: now,
        };
        let ready = Ready {
            language: rendered.language,
            fell_back: detail_language,
            anchor_at,
            before_anchor: rule.is_before_anchor(),
        };
        Ok((ready, email))
    }

    /// What the transport's answer means for the message: sent, retry later, or failed.
    fn settle(
        &self,
        c: &Claimed,
        r: Ready,
        email: OutgoingEmail,
        result: Result<String, SendError>,
        now: Timestamp,
    ) -> OutcomeKind {
        match result {
            Ok(provider_ref) => OutcomeKind::Sent {
                detail: format!("sent as {provider_ref}{}", r.fell_back.unwrap_or_default()),
                recipient: email.to_email,
                subject: email.subject,
                language: r.language,
                body_html: self.config.retain_bodies.then_some(email.html),
                body_text: self.config.retain_bodies.then_some(email.text),
                provider_ref,
            },
            Err(SendError::Permanent(error)) => OutcomeKind::Failed { error },
            Err(SendError::Transient(error)) => {
                let attempt = u32::try_from(c.attempt).unwrap_or(u32::MAX);
                let retry_at = now
                    .checked_add(self.config.backoff.delay(attempt, rand::random::<f64>()))
                    .unwrap_or(now);
                let mut deadline = c
                    .due_at
                    .checked_add(self.config.backoff.deadline)
                    .unwrap_or(c.due_at);
                // A "before" mail is not retried past its anchor.
                if r.before_anchor && r.anchor_at < deadline {
                    deadline = r.anchor_at;
                }
                if retry_at >= deadline {
                    OutcomeKind::Failed {
                        error: format!("gave up after {attempt} attempts: {error}"),
                    }
                } else {
                    OutcomeKind::Deferred { error, retry_at }
                }
            }
        }
    }

    /// Processes batches until nothing is due now (tests, the demo, the benchmark).
    pub async fn drain(&self) -> Result<DispatchStats, EngineError> {
        let mut total = DispatchStats::default();
        loop {
            let s = self.run_once().await?;
            if s.claimed == 0 {
                return Ok(total);
            }
            total.claimed += s.claimed;
            total.sent += s.sent;
            total.suppressed += s.suppressed;
            total.deferred += s.deferred;
            total.failed += s.failed;
            total.rescheduled += s.rescheduled;
            total.stale += s.stale;
        }
    }

    /// Runs until `shutdown` turns true; the batch in hand is finished first.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let idle = match self.run_once().await {
                Ok(stats) if stats.claimed > 0 => continue,
                Ok(_) => self.sleep_for().await,
                Err(e) => {
                    tracing::error!(error = %e, "dispatch batch failed");
                    self.config.poll_interval
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn sleep_for(&self) -> Duration {
        let poll = self.config.poll_interval;
        match self.store.next_run_at().await {
            Ok(Some(next)) => {
                let wait = next.duration_since(self.clock.now());
                Duration::try_from(wait).unwrap_or(Duration::ZERO).min(poll)
            }
            _ => poll,
        }
    }
}
