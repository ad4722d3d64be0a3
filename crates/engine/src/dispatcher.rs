//! The dispatcher: claim due messages, check them against the booking as it is now, render,
//! send, and record every outcome.
//!
//! One `run_once` is one batch: claim (commit) → check, route and render each message → count
//! SMS parts against the month's limit (commit) → send the batch (email, SMS and voice at
//! once) → record all outcomes in one transaction.
//! A crash between a send and its record leaves the message `sending` with a lease; when the
//! lease lapses another claim sends it again with the same Message-ID — so at most the
//! in-flight messages repeat, and none is lost.

use crate::clock::Clock;
use crate::error::EngineError;
use crate::prepare::{self, BatchContext, NotSent, Prepared, Ready};
use crate::telemetry;
use bellhop_domain::consent::Channel as ConsentChannel;
use bellhop_domain::render::{CompiledTemplate, RenderLimits, Template};
use bellhop_domain::retry::Backoff;
use bellhop_domain::{MessageKind, Property, Reason};
use bellhop_store::{Claimed, Outcome, OutcomeKind, Reservation, Reserved, Store};
use bellhop_transport::callbacks::Callbacks;
use bellhop_transport::sms::{SmsGateway, VoiceGateway};
use bellhop_transport::webhook::WebhookSender;
use bellhop_transport::{EmailTransport, SendError};
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
    /// SMS (and calls) handed to the gateway at once.
    pub sms_concurrency: usize,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            node: format!("node-{}", &Uuid::new_v4().simple().to_string()[..8]),
            batch_size: 200,
            lease: SignedDuration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            backoff: Backoff::default(),
            retain_bodies: true,
            limits: RenderLimits::default(),
            sms_concurrency: 16,
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
    /// Put back because the booking moved (or quiet hours).
    pub rescheduled: usize,
    /// Over the monthly SMS limit.
    pub rejected: usize,
    /// Outcomes that lost their lease meanwhile.
    pub stale: usize,
}

/// The transports a dispatcher sends through.
#[derive(Clone, Debug)]
pub struct Transports {
    /// Email.
    pub email: Arc<EmailTransport>,
    /// SMS.
    pub sms: Arc<SmsGateway>,
    /// Voice calls for landlines.
    pub voice: Arc<VoiceGateway>,
    /// Webhooks to booking channels.
    pub webhook: Arc<WebhookSender>,
}

impl Transports {
    /// Email only: SMS fail (no gateway), landlines get no calls.
    pub fn email_only(email: Arc<EmailTransport>) -> Self {
        Transports {
            email,
            sms: Arc::new(SmsGateway::None),
            voice: Arc::new(VoiceGateway::None),
            webhook: Arc::new(WebhookSender::default()),
        }
    }
}

type TemplateKey = (Uuid, i64, u64);

/// Sends due messages.
pub struct Dispatcher {
    store: Store,
    transports: Transports,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    compiled: Mutex<HashMap<TemplateKey, Arc<CompiledTemplate>>>,
    signer: Arc<Callbacks>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("node", &self.config.node)
            .finish()
    }
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

fn outcome(c: &Claimed, kind: OutcomeKind) -> Outcome {
    Outcome {
        id: c.id,
        account_id: c.account_id,
        property_id: c.property_id,
        attempt: c.attempt,
        kind,
    }
}

fn layout_hash(p: &Property) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    (&p.layout_html, &p.layout_text).hash(&mut h);
    h.finish()
}

/// Runs a transport's batch and records how long it took (nothing for an empty batch).
async fn timed<T>(
    transport: &'static str,
    n: usize,
    send: impl std::future::Future<Output = T>,
) -> T {
    let started = std::time::Instant::now();
    let out = send.await;
    if n > 0 {
        telemetry::transport_batch(transport, started.elapsed().as_secs_f64());
    }
    out
}

/// Which transport a prepared message went to, and where its answer is.
enum Slot {
    Email(usize),
    Sms(usize),
    Voice(usize),
    Webhook(usize),
}

impl Dispatcher {
    /// A dispatcher.
    pub fn new(
        store: Store,
        transports: Transports,
        clock: Arc<dyn Clock>,
        config: DispatchConfig,
    ) -> Self {
        Dispatcher {
            store,
            transports,
            clock,
            config,
            compiled: Mutex::new(HashMap::new()),
            // Until `with_signer` gives the installation's key, links only hold in this process.
            signer: Arc::new(Callbacks::new(
                "http://127.0.0.1",
                &rand::random::<[u8; 32]>(),
            )),
        }
    }

    /// The dispatcher signing unsubscribe links with the installation's key, under its
    /// public URL.
    pub fn with_signer(mut self, signer: Callbacks) -> Self {
        self.signer = Arc::new(signer);
        self
    }

    fn compile(
        &self,
        template: &Template,
        property: &Property,
    ) -> Result<Arc<CompiledTemplate>, String> {
        let key = (template.id, template.version, layout_hash(property));
        if let Some(c) = self.compiled.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(c);
        }
        CompiledTemplate::compile(
            template,
            Some(property.html_layout()),
            Some(property.text_layout()),
            self.config.limits,
        )
        .map(Arc::new)
        .inspect(|c| {
            if let Ok(mut m) = self.compiled.lock() {
                m.insert(key, c.clone());
            }
        })
        .map_err(|e| e.to_string())
    }

    async fn context(&self, claimed: &[Claimed]) -> Result<BatchContext, EngineError> {
        let mut ctx = BatchContext {
            properties: HashMap::new(),
            rules: HashMap::new(),
            templates: HashMap::new(),
            campaigns: HashMap::new(),
            consents: Default::default(),
            signer: self.signer.clone(),
            connections: HashMap::new(),
            enrolments: HashMap::new(),
        };
        let steps: Vec<(Uuid, Uuid, Uuid)> = claimed
            .iter()
            .filter(|c| c.kind == MessageKind::Sequence)
            .filter_map(|c| {
                let (enrolment, template) = crate::sequences::parse_occurrence(&c.occurrence)?;
                Some((c.property_id, enrolment, template))
            })
            .collect();
        if !steps.is_empty() {
            let ids: Vec<Uuid> = steps.iter().map(|(_, e, _)| *e).collect();
            ctx.enrolments = self.store.enrolment_statuses(&ids).await?;
            for (property_id, _, template_id) in steps {
                if ctx.templates.contains_key(&template_id) {
                    continue;
                }
                let property = match ctx.properties.get(&property_id) {
                    Some(p) => p.clone(),
                    None => {
                        let p = self.store.property_any(property_id).await?;
                        ctx.properties.insert(property_id, p.clone());
                        p
                    }
                };
                let compiled = match self.store.template_any(template_id).await {
                    Ok(template) => self
                        .compile(&template, &property)
                        .map(|c| (c, template.category)),
                    Err(bellhop_store::StoreError::NotFound) => {
                        Err("the template was deleted".to_owned())
                    }
                    Err(e) => return Err(e.into()),
                };
                ctx.templates.insert(template_id, compiled);
            }
        }
        let connection_ids: Vec<Uuid> = claimed
            .iter()
            .filter(|c| c.kind == MessageKind::ChannelChange)
            .filter_map(|c| c.occurrence.split(':').nth(1)?.parse().ok())
            .collect();
        for connection in self.store.connections_by_ids(&connection_ids).await? {
            ctx.connections.insert(connection.id, connection);
        }
        for c in claimed {
            if let std::collections::hash_map::Entry::Vacant(slot) =
                ctx.properties.entry(c.property_id)
            {
                slot.insert(self.store.property_any(c.property_id).await?);
            }
            let property = ctx.properties[&c.property_id].clone();
            if let Some(rule_id) = c.rule_id
                && !ctx.rules.contains_key(&rule_id)
            {
                let rule = self.store.rule_any(rule_id).await?;
                for template_id in [Some(rule.template_id), rule.fallback_template_id]
                    .into_iter()
                    .flatten()
                {
                    if let std::collections::hash_map::Entry::Vacant(slot) =
                        ctx.templates.entry(template_id)
                    {
                        let template = self.store.template_any(template_id).await?;
                        let compiled = self
                            .compile(&template, &property)
                            .map(|c| (c, template.category));
                        slot.insert(compiled);
                    }
                }
                ctx.rules.insert(rule_id, rule);
            }
            if let Some(campaign_id) = c.campaign_id
                && !ctx.campaigns.contains_key(&campaign_id)
            {
                let campaign = self.store.campaign_any(campaign_id).await?;
                let template = crate::sms::campaign_template(
                    &property,
                    campaign.id,
                    &campaign.name,
                    &campaign.text,
                    &campaign.translations,
                );
                let compiled = self.compile(&template, &property);
                ctx.campaigns.insert(campaign_id, compiled);
            }
        }
        // Consent of the batch's contact points, one query per account. One-time codes need
        // none: they are what the person asked for.
        let mut points: HashMap<Uuid, Vec<(ConsentChannel, String)>> = HashMap::new();
        for c in claimed.iter().filter(|c| c.kind != MessageKind::Tan) {
            let property = &ctx.properties[&c.property_id];
            points
                .entry(c.account_id)
                .or_default()
                .extend(prepare::points_of(&c.contact, property));
        }
        for (account, mut list) in points {
            list.sort_unstable();
            list.dedup();
            // Digests are kept only for erased contacts: most accounts have none, and then each
            // point is looked up once.
            let digests = self.store.has_erased_points(account).await?;
            let keys = if digests {
                crate::consent::lookup_keys(account, &list)
            } else {
                list.iter().map(|(_, point)| point.clone()).collect()
            };
            let events = self.store.consent_events_at(account, &keys).await?;
            ctx.consents.add(account, &list, digests, &events);
        }
        Ok(ctx)
    }

    /// Claims and processes one batch. Returns what it did; `claimed == 0` means nothing was due.
    #[tracing::instrument(name = "dispatch_batch", skip_all, fields(node = %self.config.node))]
    pub async fn run_once(&self) -> Result<DispatchStats, EngineError> {
        let now = self.clock.now();
        let lease_until = now.checked_add(self.config.lease).unwrap_or(now);
        let claimed = self
            .store
            .claim_due(&self.config.node, now, lease_until, self.config.batch_size)
            .await?;
        if claimed.is_empty() {
            return Ok(DispatchStats::default());
        }
        telemetry::claimed(claimed.len());
        let ids: Vec<Uuid> = claimed.iter().map(|c| c.id).collect();
        tokio::select! {
            done = self.process(&claimed, now) => done,
            never = self.keep_leases(&ids) => match never {},
        }
    }

    /// Renews the lease of a batch every third of the lease while it is being sent, so a
    /// batch may outlast its lease (a slow server) and the lease can stay short enough for a
    /// dead node's messages to be taken over within a minute.
    async fn keep_leases(&self, ids: &[Uuid]) -> std::convert::Infallible {
        let every = self
            .config
            .lease
            .unsigned_abs()
            .checked_div(3)
            .unwrap_or_default()
            .max(Duration::from_secs(1));
        loop {
            tokio::time::sleep(every).await;
            let now = self.clock.now();
            let until = now.checked_add(self.config.lease).unwrap_or(now);
            match self.store.renew_claims(&self.config.node, ids, until).await {
                Ok(held) if held < ids.len() as u64 => tracing::warn!(
                    held,
                    claimed = ids.len(),
                    node = %self.config.node,
                    "some leases of this batch were taken over while it was being sent"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, node = %self.config.node, "lease renewal failed")
                }
            }
        }
    }

    /// Decides, renders, sends and records one claimed batch.
    async fn process(
        &self,
        claimed: &[Claimed],
        now: Timestamp,
    ) -> Result<DispatchStats, EngineError> {
        let mut stats = DispatchStats {
            claimed: claimed.len(),
            ..DispatchStats::default()
        };
        // From here until the transports have answered, the bookings cannot change: a change
        // that committed after the claim is seen by the check below, and one that comes later
        // waits for the send. No message goes out for a date that a committed change replaced.
        let mut booking_ids: Vec<Uuid> = claimed.iter().filter_map(|c| c.booking_id).collect();
        booking_ids.sort_unstable();
        booking_ids.dedup();
        let (hold, bookings) = self.store.hold_bookings(&booking_ids).await?;
        let ctx = self.context(claimed).await?;
        // Decide and render every message first, then hand each transport its share at once:
        // SMTP spreads them over its connections and pipelines them, SMS go out in parallel.
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(claimed.len());
        let mut ready: Vec<(usize, Ready, Prepared)> = Vec::new();
        for (i, c) in claimed.iter().enumerate() {
            let decided = match (c.kind, c.booking_id) {
                (MessageKind::Rule, Some(booking_id)) => match bookings.get(&booking_id) {
                    Some(booking) => prepare::rule_message(&ctx, c, booking, now),
                    None => Err(NotSent::Fail(
                        "the booking of this message no longer exists".into(),
                    )),
                },
                (MessageKind::Rule, None) => {
                    Err(NotSent::Fail("a rule message without a booking".into()))
                }
                (MessageKind::Tan | MessageKind::Bulk, _) => prepare::ad_hoc_message(&ctx, c, now),
                (MessageKind::Consent, _) => prepare::consent_mail(&ctx, c, now),
                (MessageKind::ChannelChange, _) => prepare::channel_change(&ctx, c),
                (MessageKind::AutoReply, _) => prepare::auto_reply(&ctx, c, now),
                (MessageKind::Sequence, _) => prepare::sequence_step(&ctx, c, now),
            };
            match decided {
                Ok((r, p)) => ready.push((i, r, p)),
                Err(not_sent) => outcomes.push(outcome(c, not_sent.into())),
            }
        }
        // SMS are counted against their month before they are sent; over the limit they are
        // rejected here, neither sent nor billed.
        let reservations: Vec<Reservation> = ready
            .iter()
            .filter_map(|(i, _, p)| {
                let (parts, month) = p.sms_parts()?;
                let c = &claimed[*i];
                Some(Reservation {
                    message_id: c.id,
                    attempt: c.attempt,
                    property_id: c.property_id,
                    account_id: c.account_id,
                    month: month.to_string(),
                    parts,
                    limit: ctx.properties[&c.property_id].sms.monthly_limit,
                })
            })
            .collect();
        let mut verdicts = if reservations.is_empty() {
            Vec::new()
        } else {
            self.store
                .reserve_sms(&self.config.node, &reservations, now)
                .await?
        }
        .into_iter();
        let mut to_send: Vec<(usize, Ready, Prepared)> = Vec::with_capacity(ready.len());
        for (i, r, p) in ready {
            let Some((_, month)) = p.sms_parts() else {
                to_send.push((i, r, p));
                continue;
            };
            match verdicts.next() {
                Some(Reserved::Granted) => to_send.push((i, r, p)),
                Some(Reserved::LimitReached) => {
                    let limit = ctx.properties[&claimed[i].property_id].sms.monthly_limit;
                    outcomes.push(outcome(
                        &claimed[i],
                        OutcomeKind::Rejected {
                            reason: format!(
                                "monthly SMS limit of {} reached for {month}",
                                limit.unwrap_or_default()
                            ),
                            month: month.to_string(),
                        },
                    ));
                }
                Some(Reserved::Stale) | None => stats.stale += 1,
            }
        }
        let mut emails = Vec::new();
        let mut texts = Vec::new();
        let mut calls = Vec::new();
        let mut hooks = Vec::new();
        let mut slots = Vec::with_capacity(to_send.len());
        for (_, _, p) in &to_send {
            slots.push(match p {
                Prepared::Email(e) => {
                    emails.push(e.clone());
                    Slot::Email(emails.len() - 1)
                }
                Prepared::Sms { sms, .. } => {
                    texts.push(sms.clone());
                    Slot::Sms(texts.len() - 1)
                }
                Prepared::Voice { call, .. } => {
                    calls.push(call.clone());
                    Slot::Voice(calls.len() - 1)
                }
                Prepared::Webhook(hook) => {
                    hooks.push(hook.clone());
                    Slot::Webhook(hooks.len() - 1)
                }
            });
        }
        let concurrency = self.config.sms_concurrency;
        let (mail_results, sms_results, call_results, hook_results) = tokio::join!(
            timed(
                "email",
                emails.len(),
                self.transports.email.send_many(&emails)
            ),
            timed(
                "sms",
                texts.len(),
                self.transports.sms.send_many(&texts, concurrency)
            ),
            timed(
                "voice",
                calls.len(),
                self.transports.voice.call_many(&calls, concurrency)
            ),
            timed(
                "webhook",
                hooks.len(),
                self.transports
                    .webhook
                    .send_many(&hooks, now.as_second(), concurrency)
            ),
        );
        hold.release().await?;
        for ((i, r, p), slot) in to_send.into_iter().zip(slots) {
            let result = match slot {
                Slot::Email(k) => mail_results[k].clone(),
                Slot::Sms(k) => sms_results[k].clone(),
                Slot::Voice(k) => call_results[k].clone(),
                Slot::Webhook(k) => hook_results[k].clone(),
            };
            let c = &claimed[i];
            outcomes.push(outcome(c, self.settle(c, r, p, result, now)));
        }
        for o in &outcomes {
            match o.kind {
                OutcomeKind::Sent { .. } => stats.sent += 1,
                OutcomeKind::Suppressed { .. } => stats.suppressed += 1,
                OutcomeKind::Deferred { .. } => stats.deferred += 1,
                OutcomeKind::Failed { .. } => stats.failed += 1,
                OutcomeKind::Rescheduled { .. } => stats.rescheduled += 1,
                OutcomeKind::Rejected { .. } => stats.rejected += 1,
            }
        }
        let recorded_at = self.clock.now();
        let stale = self
            .store
            .record_outcomes(&self.config.node, &outcomes, recorded_at)
            .await?;
        stats.stale += stale;
        // A step refused for want of consent ends its enrolment: the rest is cancelled.
        let kinds: HashMap<Uuid, &Claimed> = claimed
            .iter()
            .filter(|c| c.kind == MessageKind::Sequence)
            .map(|c| (c.id, c))
            .collect();
        let stopped: Vec<(Uuid, String)> = outcomes
            .iter()
            .filter(|_| !kinds.is_empty())
            .filter_map(|o| {
                let c = kinds.get(&o.id)?;
                let OutcomeKind::Suppressed { reason } = &o.kind else {
                    return None;
                };
                let consent = matches!(reason, Reason::NoConsent { .. } | Reason::SmsDeclined);
                if c.kind != MessageKind::Sequence || !consent {
                    return None;
                }
                let (enrolment, _) = crate::sequences::parse_occurrence(&c.occurrence)?;
                Some((enrolment, reason.to_string()))
            })
            .collect();
        self.store.stop_enrolments(&stopped, recorded_at).await?;
        let due: HashMap<Uuid, Timestamp> = claimed.iter().map(|c| (c.id, c.due_at)).collect();
        for o in &outcomes {
            let (outcome, channel, why) = match &o.kind {
                OutcomeKind::Sent { channel, .. } => {
                    if let Some(due) = due.get(&o.id) {
                        telemetry::due_to_sent(recorded_at.duration_since(*due).as_secs_f64());
                    }
                    ("sent", *channel, String::new())
                }
                OutcomeKind::Suppressed { reason } => ("suppressed", "none", reason.to_string()),
                OutcomeKind::Deferred { error, .. } => ("deferred", "none", error.clone()),
                OutcomeKind::Failed { error } => ("failed", "none", error.clone()),
                OutcomeKind::Rescheduled { .. } => ("rescheduled", "none", String::new()),
                OutcomeKind::Rejected { reason, .. } => ("rejected", "sms", reason.clone()),
            };
            telemetry::dispatched(outcome, channel, 1);
            telemetry::settled(o, outcome, channel, &why);
        }
        if stale > 0 {
            telemetry::dispatched("stale", "none", stale);
        }
        if stats.stale > 0 {
            tracing::warn!(stale = stats.stale, node = %self.config.node, "outcomes arrived after their lease was taken over; not recorded");
        }
        Ok(stats)
    }

    /// What the transport's answer means for the message: sent, retry later, or failed.
    fn settle(
        &self,
        c: &Claimed,
        r: Ready,
        prepared: Prepared,
        result: Result<String, SendError>,
        now: Timestamp,
    ) -> OutcomeKind {
        match result {
            Ok(provider_ref) => {
                let suffix = format!("{}{}", r.fell_back.unwrap_or_default(), r.note);
                let keep = self.config.retain_bodies && r.keep_text;
                match prepared {
                    Prepared::Email(email) => OutcomeKind::Sent {
                        channel: "email",
                        detail: format!("sent as {provider_ref}{suffix}"),
                        recipient: email.to_email,
                        subject: Some(email.subject),
                        sms: None,
                        language: r.language,
                        body_html: keep.then_some(email.html),
                        body_text: keep.then_some(email.text),
                        provider_ref,
                    },
                    Prepared::Sms { sms, analysis, .. } => {
                        let mut detail = format!(
                            "sent via {} as {provider_ref}: {} part(s), {}",
                            self.transports.sms.name(),
                            analysis.segments,
                            analysis.encoding
                        );
                        if analysis.smart_encoded {
                            detail.push_str(", smart-encoded");
                        }
                        detail.push_str(&suffix);
                        OutcomeKind::Sent {
                            channel: "sms",
                            detail,
                            recipient: sms.to,
                            subject: None,
                            sms: Some((analysis.segments as i64, analysis.encoding.as_str())),
                            language: r.language,
                            body_html: None,
                            body_text: keep.then_some(sms.text),
                            provider_ref,
                        }
                    }
                    Prepared::Voice { call, .. } => OutcomeKind::Sent {
                        channel: "voice",
                        detail: format!("voice call placed as {provider_ref} (landline){suffix}"),
                        recipient: call.to,
                        subject: None,
                        sms: Some((1, "voice")),
                        language: r.language,
                        body_html: None,
                        body_text: keep.then_some(call.text),
                        provider_ref,
                    },
                    Prepared::Webhook(hook) => OutcomeKind::Sent {
                        channel: "webhook",
                        detail: format!("acknowledged by the channel: {provider_ref}"),
                        recipient: hook.url,
                        subject: Some("booking.changed".into()),
                        sms: None,
                        language: r.language,
                        body_html: None,
                        body_text: keep.then_some(hook.body),
                        provider_ref,
                    },
                }
            }
            Err(SendError::Permanent(error)) => OutcomeKind::Failed { error },
            Err(SendError::Transient(error)) => {
                let attempt = u32::try_from(c.attempt).unwrap_or(u32::MAX);
                let retry_at = now
                    .checked_add(self.config.backoff.delay(attempt, rand::random::<f64>()))
                    .unwrap_or(now);
                // A one-time code is useless after minutes; anything else is retried for a
                // day, but a "before" message never past its anchor.
                let window = if c.kind == MessageKind::Tan {
                    SignedDuration::from_mins(10)
                } else {
                    self.config.backoff.deadline
                };
                let mut deadline = c.due_at.checked_add(window).unwrap_or(c.due_at);
                if let Some(anchor) = r.retry_until
                    && anchor < deadline
                {
                    deadline = anchor;
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
            total.rejected += s.rejected;
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
