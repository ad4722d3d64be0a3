//! The SMS side of the engine: phone numbers on input, delivery reports, inbound SMS with
//! STOP/START, staff opt-outs, one-time codes, bulk SMS and the monthly overview.

use crate::error::EngineError;
use crate::service::Engine;
use bellhop_domain::billing::{Month, SmsPlan};
use bellhop_domain::consent::{self, Channel as ConsentChannel, Purpose, Source as ConsentSource};
use bellhop_domain::phone;
use bellhop_domain::route::{self, Route, RouteInput};
use bellhop_domain::rule::Channel;
use bellhop_domain::sms::{self, Keyword};
use bellhop_domain::{Contact, Delivery, MessageKind, MessageStatus, Reason};
use bellhop_store::{
    AdHocMessage, AudienceFilter, CampaignRecord, DeliveryApplied, InboundRecord, MonthCounts,
    NewConsentEvent, TanRecord, Tx,
};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use uuid::Uuid;

/// An inbound SMS as a gateway delivered it.
#[derive(Clone, Debug)]
pub struct InboundSms {
    /// `kannel`, `twilio`, ...
    pub gateway: String,
    /// The sender as given.
    pub from: String,
    /// Our number or short code.
    pub to: String,
    /// The text.
    pub text: String,
    /// Every parameter of the callback, kept as evidence.
    pub raw: serde_json::Value,
}

/// What an inbound SMS did.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct InboundResult {
    /// The stored inbound message.
    pub id: Uuid,
    /// The keyword it was, if any.
    pub keyword: Option<Keyword>,
    /// Accounts whose SMS consent changed.
    pub accounts: Vec<Uuid>,
}

/// A one-time code to send.
#[derive(Clone, Debug)]
pub struct TanRequest {
    /// Property it is sent for (sender, country).
    pub property_id: Uuid,
    /// The contact, or
    pub contact_id: Option<Uuid>,
    /// a phone number (a contact is found or created for it).
    pub phone: Option<String>,
    /// Text with `{{ code }}`; a default per language otherwise.
    pub text: Option<String>,
    /// Language of the default text.
    pub language: Option<bellhop_domain::language::LanguageTag>,
    /// What the code is for (`login`, `booking`), for the record.
    pub purpose: Option<String>,
    /// How long the code holds.
    pub ttl: SignedDuration,
}

/// A one-time code on its way.
#[derive(Clone, Debug, Serialize)]
pub struct TanCreated {
    /// Id of the code (and of its message).
    pub id: Uuid,
    /// The contact it goes to.
    pub contact_id: Uuid,
    /// After this it is void.
    pub expires_at: Timestamp,
    /// The number it goes to.
    pub to: String,
}

/// The answer to a guess at a one-time code.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TanCheck {
    /// Right: the code is now used up.
    Verified,
    /// Wrong; this many guesses are left.
    Wrong {
        /// Guesses left.
        attempts_left: i64,
    },
    /// Too late.
    Expired,
    /// Too many wrong guesses, or already used.
    Locked,
}

/// Wrong guesses a one-time code takes before it locks.
pub const TAN_MAX_ATTEMPTS: i64 = 5;

/// A bulk SMS as asked for.
#[derive(Clone, Debug)]
pub struct CampaignDraft {
    /// Property (sender, quiet hours, billing).
    pub property_id: Uuid,
    /// Name for staff.
    pub name: String,
    /// Text template (`guest.*`, `property.*`) in the property's default language.
    pub text: String,
    /// The same in other languages (language tag → text); each contact gets the variant of
    /// their language, else the default.
    pub translations: std::collections::BTreeMap<String, String>,
    /// Which contacts.
    pub filter: AudienceFilter,
    /// When to send (default now).
    pub send_at: Option<Timestamp>,
}

/// What a bulk SMS will do (or did, once created).
#[derive(Clone, Debug, Serialize, Default)]
pub struct CampaignPlan {
    /// The stored campaign (absent in a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignRecord>,
    /// Contacts the filter found.
    pub matched: usize,
    /// Who will get it.
    pub recipients: usize,
    /// Who will not, by reason.
    pub excluded: std::collections::BTreeMap<String, usize>,
    /// Parts of the text per recipient, summed (rendered per contact).
    pub parts: usize,
    /// Cost estimate under the property's plan, for this campaign alone.
    pub estimated_cost_cents: i64,
    /// Texts that render as UCS-2, and the characters that cause it.
    pub non_gsm: Vec<String>,
}

/// The monthly SMS overview of a property.
#[derive(Clone, Debug, Serialize)]
pub struct SmsOverview {
    /// `YYYY-MM`, property time.
    pub month: String,
    /// The property's zone.
    pub time_zone: String,
    /// The plan.
    pub plan: SmsPlan,
    /// The monthly limit in SMS.
    pub monthly_limit: Option<u32>,
    /// Counts by status.
    #[serde(flatten)]
    pub counts: MonthCounts,
    /// SMS parts counted (every part of a long SMS counts).
    pub parts: i64,
    /// Packages booked (plan `package`).
    pub packages: u64,
    /// SMS left in the booked packages.
    pub left_in_package: Option<u64>,
    /// SMS left under the limit.
    pub left_under_limit: Option<i64>,
    /// The month's cost.
    pub cost_cents: i64,
}

/// An SMS opt-out or its lifting, for one number in one account: `STOP`, `START`, or staff.
struct SmsConsentChange<'a> {
    account: Uuid,
    number: &'a str,
    contact: Option<Uuid>,
    opt_in: bool,
    source: ConsentSource,
    actor: Option<&'a str>,
    evidence: &'a serde_json::Value,
}

impl SmsConsentChange<'_> {
    /// An opt-out withdraws SMS of every purpose. An opt-in lifts withdrawals: service SMS
    /// are granted again, marketing and personalised SMS only where they had been granted
    /// before — a `START` (or `YES`) is not a grant of advertising out of nothing.
    async fn record(&self, tx: &mut Tx, now: Timestamp) -> Result<(), EngineError> {
        let points = [(ConsentChannel::Sms, self.number.to_owned())];
        let history = tx
            .consent_events_at(
                self.account,
                &crate::consent::lookup_keys(self.account, &points),
            )
            .await?;
        for purpose in Purpose::ALL {
            let events: Vec<_> = history.iter().filter(|e| e.purpose == *purpose).collect();
            let granted = if self.opt_in {
                let withdrawn = events.last().is_some_and(|e| !e.granted);
                let granted_before = events.iter().any(|e| e.granted);
                if !(withdrawn && (*purpose == Purpose::Service || granted_before)) {
                    continue;
                }
                true
            } else {
                false
            };
            let mut evidence = self.evidence.clone();
            if let Some(fields) = evidence.as_object_mut() {
                fields.insert(consent::SMS_OPT_OUT.into(), true.into());
            }
            let event = NewConsentEvent {
                contact_id: self.contact,
                property_id: None,
                address: self.number.to_owned(),
                purpose: *purpose,
                channel: ConsentChannel::Sms,
                granted,
                source: self.source,
                actor: self.actor.map(str::to_owned),
                text_id: None,
                ip: None,
                user_agent: None,
                evidence,
            };
            tx.insert_consent_event(self.account, &event, now).await?;
        }
        Ok(())
    }
}

fn tan_subject(id: Uuid, code: &str) -> String {
    format!("{id}:{code}")
}

fn default_tan_text(language: &str) -> &'static str {
    if bellhop_domain::language::same_primary(language, "de") {
        "Ihr Bestätigungscode für {{ property.name }}: {{ code }}"
    } else {
        "Your {{ property.name }} code: {{ code }}"
    }
}

impl Engine {
    /// Applies a delivery report (monotonically) to a sent SMS or call.
    pub async fn apply_delivery_report(
        &self,
        message_id: Uuid,
        report: Delivery,
        detail: &str,
    ) -> Result<DeliveryApplied, EngineError> {
        self.deliveries
            .apply(self.store(), message_id, report, detail, self.now())
            .await
    }

    /// Records an inbound SMS; `STOP` and its synonyms withdraw the number's SMS consent of
    /// every purpose in the accounts it belongs to, `START` lifts that. Every one is kept with
    /// the raw callback, and the consent events point to it.
    pub async fn receive_sms(&self, sms: InboundSms) -> Result<InboundResult, EngineError> {
        let now = self.now();
        let sender = phone::normalize(&sms.from, None)
            .map(|n| String::from(n.e164))
            .unwrap_or_else(|_| sms.from.trim().to_owned());
        let recipient = phone::normalize(&sms.to, None)
            .map(|n| String::from(n.e164))
            .unwrap_or_else(|_| sms.to.trim().to_owned());
        let keyword = sms::keyword::classify(&sms.text);
        let accounts = self
            .store()
            .accounts_for_inbound(&sender, &recipient)
            .await?;
        let id = Uuid::now_v7();
        let keyword_name = keyword.map(|k| match k {
            Keyword::OptOut => "opt_out",
            Keyword::OptIn => "opt_in",
        });
        let mut tx = self.store().begin().await?;
        tx.insert_inbound_sms(
            &InboundRecord {
                id,
                account_id: accounts.first().copied(),
                gateway: sms.gateway.clone(),
                sender: sender.clone(),
                recipient: recipient.clone(),
                text: sms.text.clone(),
                keyword: keyword_name.map(str::to_owned),
                raw: sms.raw.to_string(),
                received_at: now,
            },
            now,
        )
        .await?;
        let mut changed = Vec::new();
        if let Some(keyword) = keyword {
            let evidence = serde_json::json!({"keyword": sms.text.trim(), "inbound_id": id});
            for account in &accounts {
                let contacts = tx.contacts_with_phone(*account, &sender).await?;
                let change = SmsConsentChange {
                    account: *account,
                    number: &sender,
                    contact: contacts.first().copied(),
                    opt_in: keyword == Keyword::OptIn,
                    source: ConsentSource::SmsKeyword,
                    actor: None,
                    evidence: &evidence,
                };
                change.record(&mut tx, now).await?;
                changed.push(*account);
            }
        }
        tx.commit().await?;
        Ok(InboundResult {
            id,
            keyword,
            accounts: changed,
        })
    }

    /// Staff or an integrator opts a contact's number out of SMS of every purpose, or lifts
    /// that (as `START` does).
    pub async fn set_sms_consent(
        &self,
        account: Uuid,
        contact_id: Uuid,
        opt_in: bool,
        source: ConsentSource,
        actor: &str,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let contact = tx.contact(account, contact_id).await?;
        let number = contact.phone_e164.ok_or_else(|| {
            EngineError::invalid("phone", "the contact has no valid phone number")
        })?;
        SmsConsentChange {
            account,
            number: &number,
            contact: Some(contact_id),
            opt_in,
            source,
            actor: Some(actor),
            evidence: &serde_json::json!({}),
        }
        .record(&mut tx, now)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a one-time code and queues its SMS at the front of the outbox. The code is
    /// returned once to the caller only when it was given; bellhop keeps a keyed hash, and
    /// the SMS text (which holds the code) is erased as soon as the message is final.
    pub async fn create_tan(
        &self,
        account: Uuid,
        request: TanRequest,
        code: Option<String>,
    ) -> Result<TanCreated, EngineError> {
        let mut tx = self.store().begin().await?;
        let created = self.create_tan_in(&mut tx, account, request, code).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// `create_tan` inside a caller's transaction (idempotent requests).
    pub(crate) async fn create_tan_in(
        &self,
        tx: &mut Tx,
        account: Uuid,
        request: TanRequest,
        code: Option<String>,
    ) -> Result<TanCreated, EngineError> {
        let now = self.now();
        let ttl_ok =
            (SignedDuration::from_secs(30)..=SignedDuration::from_hours(24)).contains(&request.ttl);
        if !ttl_ok {
            return Err(EngineError::invalid(
                "ttl_secs",
                "between 30 seconds and 24 hours",
            ));
        }
        let code = match code {
            Some(c)
                if (4..=12).contains(&c.len())
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric()) =>
            {
                c
            }
            Some(_) => return Err(EngineError::invalid("code", "4 to 12 letters or digits")),
            None => format!("{:06}", rand::random::<u32>() % 1_000_000),
        };
        let property = sms_property(tx, account, request.property_id).await?;
        let contact = match (request.contact_id, &request.phone) {
            (Some(id), _) => tx
                .contact(account, id)
                .await
                .map_err(|_| EngineError::invalid("contact_id", "no such contact"))?,
            (None, Some(raw)) => {
                let number = phone::normalize(raw, Some(&property.country))
                    .map_err(|e| EngineError::invalid("phone", e.to_string()))?;
                let new = Contact {
                    id: Uuid::now_v7(),
                    account_id: account,
                    phone: Some(raw.clone()),
                    phone_e164: Some(number.e164),
                    phone_type: Some(number.kind),
                    language: request.language.clone(),
                    ..Contact::default()
                };
                self.find_or_create_contact_in(tx, &new).await?
            }
            (None, None) => {
                return Err(EngineError::invalid(
                    "phone",
                    "give a phone number or a contact_id",
                ));
            }
        };
        let routed = route::route(&RouteInput {
            property: &property,
            contact: &contact,
            booking: None,
            channel: Channel::Sms,
            consent: &|_, _| Ok(()),
        })
        .map_err(|why| EngineError::invalid("phone", format!("the code cannot be sent: {why}")))?;
        let Route::Sms(to) = routed.route else {
            return Err(EngineError::invalid(
                "phone",
                "one-time codes go to mobile numbers only",
            ));
        };
        let language = request
            .language
            .clone()
            .or(contact.language.clone())
            .map_or_else(|| property.default_language.clone(), String::from);
        let source = request
            .text
            .clone()
            .unwrap_or_else(|| default_tan_text(&language).to_owned());
        let text = render_one(&source, &property, &contact, &code)?;
        if !text.contains(&code) {
            return Err(EngineError::invalid(
                "text",
                "the text must show the code with {{ code }}",
            ));
        }
        sms::check_sendable(&text, property.sms.smart_encoding)
            .map_err(|e| EngineError::invalid("text", e.to_string()))?;
        let id = Uuid::now_v7();
        let expires_at = now.checked_add(request.ttl).unwrap_or(now);
        tx.insert_ad_hoc_messages(
            &[AdHocMessage {
                id,
                account_id: account,
                property_id: property.id,
                contact_id: contact.id,
                booking_id: None,
                kind: MessageKind::Tan,
                channel: "sms",
                occurrence: String::new(),
                campaign_id: None,
                sms_text: Some(text),
                due_at: now,
                priority: 10,
                status: MessageStatus::Planned,
                reason: None,
            }],
            now,
        )
        .await?;
        tx.insert_tan(
            account,
            &TanRecord {
                id,
                contact_id: contact.id,
                code_hash: self.signer().sign("tan", &tan_subject(id, &code)),
                attempts: 0,
                expires_at,
                verified_at: None,
            },
            request.purpose.as_deref(),
            now,
        )
        .await?;
        Ok(TanCreated {
            id,
            contact_id: contact.id,
            expires_at,
            to,
        })
    }

    /// Checks a guess at a one-time code: right once, before it expires, within
    /// `TAN_MAX_ATTEMPTS` wrong guesses.
    pub async fn verify_tan(
        &self,
        account: Uuid,
        id: Uuid,
        code: &str,
    ) -> Result<TanCheck, EngineError> {
        let now = self.now();
        let tan = self.store().tan(account, id).await?;
        if tan.verified_at.is_some() || tan.attempts >= TAN_MAX_ATTEMPTS {
            return Ok(TanCheck::Locked);
        }
        if now >= tan.expires_at {
            return Ok(TanCheck::Expired);
        }
        let right = self
            .signer()
            .verify("tan", &tan_subject(id, code.trim()), &tan.code_hash);
        let mut tx = self.store().begin().await?;
        let counted = tx
            .record_tan_guess(id, right, TAN_MAX_ATTEMPTS, now)
            .await?;
        tx.commit().await?;
        Ok(match (right, counted) {
            (true, true) => TanCheck::Verified,
            (_, false) => TanCheck::Locked,
            (false, true) => TanCheck::Wrong {
                attempts_left: TAN_MAX_ATTEMPTS - tan.attempts - 1,
            },
        })
    }

    /// Plans a bulk SMS: who matches, who gets it, who does not and why, what it costs; and
    /// unless `dry_run`, stores it with one message per recipient in one transaction.
    pub async fn create_campaign(
        &self,
        account: Uuid,
        draft: CampaignDraft,
        dry_run: bool,
        actor: &str,
    ) -> Result<CampaignPlan, EngineError> {
        let mut tx = self.store().begin().await?;
        let plan = self
            .create_campaign_in(&mut tx, account, draft, dry_run, actor)
            .await?;
        if dry_run {
            drop(tx);
        } else {
            tx.commit().await?;
        }
        Ok(plan)
    }

    /// `create_campaign` inside a caller's transaction (idempotent requests).
    pub(crate) async fn create_campaign_in(
        &self,
        tx: &mut Tx,
        account: Uuid,
        draft: CampaignDraft,
        dry_run: bool,
        actor: &str,
    ) -> Result<CampaignPlan, EngineError> {
        let now = self.now();
        if draft.name.trim().is_empty() || draft.name.chars().count() > 200 {
            return Err(EngineError::invalid("name", "1 to 200 characters"));
        }
        let property = sms_property(tx, account, draft.property_id).await?;
        // Checked as written first: an empty text or one far over the part limit is refused
        // before any recipient is looked at.
        sms::check_sendable(&draft.text, property.sms.smart_encoding)
            .map_err(|e| EngineError::invalid("text", e.to_string()))?;
        for (language, text) in &draft.translations {
            bellhop_domain::language::LanguageTag::parse(language)
                .map_err(|e| EngineError::invalid("translations", e.to_string()))?;
            sms::check_sendable(text, property.sms.smart_encoding).map_err(|e| {
                EngineError::invalid(&format!("translations.{language}"), e.to_string())
            })?;
        }
        let template = campaign_template(
            &property,
            Uuid::nil(),
            &draft.name,
            &draft.text,
            &draft.translations,
        );
        let compiled = bellhop_domain::render::CompiledTemplate::compile(
            &template,
            None,
            None,
            bellhop_domain::render::RenderLimits::default(),
        )
        .map_err(|e| EngineError::invalid("text", e.to_string()))?;
        let audience = tx
            .campaign_audience(account, property.id, &draft.filter)
            .await?;
        if audience.len() > 100_000 {
            return Err(EngineError::invalid(
                "filter",
                "more than 100,000 contacts match; narrow the filter",
            ));
        }
        let points: Vec<(ConsentChannel, String)> = audience
            .iter()
            .filter_map(|c| {
                route::contact_number(c, &property)
                    .ok()
                    .map(|(n, _)| (ConsentChannel::Sms, String::from(n)))
            })
            .collect();
        let events = tx
            .consent_events_at(account, &crate::consent::lookup_keys(account, &points))
            .await?;
        let mut consents = crate::consent::ConsentBook::default();
        consents.add(account, &points, true, &events);
        let marketing = |channel, address: &str| {
            consents.check(account, &property, Purpose::Marketing, channel, address)
        };
        let mut plan = CampaignPlan {
            matched: audience.len(),
            ..CampaignPlan::default()
        };
        let send_at = draft.send_at.unwrap_or(now).max(now);
        let campaign_id = Uuid::now_v7();
        let mut messages = Vec::with_capacity(audience.len());
        for contact in &audience {
            let routed = route::route(&RouteInput {
                property: &property,
                contact,
                booking: None,
                channel: Channel::Sms,
                consent: &marketing,
            });
            let status = match routed {
                Ok(r) if matches!(r.route, Route::Sms(_)) => {
                    let context = bellhop_domain::render::contact_context(&property, contact, &[]);
                    let preferences: Vec<&str> = contact
                        .language
                        .as_deref()
                        .into_iter()
                        .chain([property.default_language.as_str()])
                        .collect();
                    match compiled
                        .render_sms(&preferences, &context)
                        .map_err(|e| e.to_string())
                        .and_then(|t| {
                            sms::check_sendable(&t.text, property.sms.smart_encoding)
                                .map_err(|e| e.to_string())
                        }) {
                        Ok(analysis) => {
                            plan.recipients += 1;
                            plan.parts += analysis.segments;
                            for g in analysis.non_gsm {
                                if !plan.non_gsm.contains(&g) {
                                    plan.non_gsm.push(g);
                                }
                            }
                            Ok(())
                        }
                        Err(e) => Err(Reason::NotRendered(e)),
                    }
                }
                Ok(_) => Err(Reason::LandlineBulk),
                Err(why) => Err(why),
            };
            if let Err(why) = &status {
                let key = match why {
                    Reason::NoConsent { .. } => "no consent to marketing SMS".to_owned(),
                    Reason::CannotReceiveSms(..) => "number cannot receive SMS".to_owned(),
                    _ => why.to_string(),
                };
                *plan.excluded.entry(key).or_default() += 1;
            }
            messages.push(AdHocMessage {
                id: Uuid::now_v7(),
                account_id: account,
                property_id: property.id,
                contact_id: contact.id,
                booking_id: None,
                kind: MessageKind::Bulk,
                channel: "sms",
                occurrence: String::new(),
                campaign_id: Some(campaign_id),
                sms_text: None,
                due_at: send_at,
                priority: 0,
                status: if status.is_ok() {
                    MessageStatus::Planned
                } else {
                    MessageStatus::Suppressed
                },
                reason: status.err(),
            });
        }
        plan.estimated_cost_cents = match property.sms.plan {
            SmsPlan::PerSms { price_cents } => price_cents * plan.parts as i64,
            SmsPlan::Package { .. } => {
                let month = Month::of(&property.time_zone, send_at).to_string();
                let used = self
                    .store()
                    .sms_usage(property.id, &month)
                    .await?
                    .parts
                    .max(0) as u64;
                let p = property.sms.plan;
                p.cost_cents(used + plan.parts as u64) - p.cost_cents(used)
            }
        };
        if dry_run {
            return Ok(plan);
        }
        let record = CampaignRecord {
            id: campaign_id,
            property_id: property.id,
            name: draft.name.trim().to_owned(),
            text: draft.text.clone(),
            translations: draft.translations.clone(),
            filter: serde_json::to_value(&draft.filter).unwrap_or_default(),
            send_at,
            recipients: plan.recipients as i64,
            created_by: actor.to_owned(),
            created_at: now,
        };
        tx.insert_campaign(account, &record, now).await?;
        tx.insert_ad_hoc_messages(&messages, now).await?;
        plan.campaign = Some(record);
        Ok(plan)
    }

    /// The month's SMS of a property: counts, parts, packages and cost.
    pub async fn sms_overview(
        &self,
        account: Uuid,
        property_id: Uuid,
        month: Option<&str>,
    ) -> Result<SmsOverview, EngineError> {
        let property = self.store().property(account, property_id).await?;
        let month = match month {
            Some(m) => Month::parse(m).map_err(|e| EngineError::invalid("month", e))?,
            None => Month::of(&property.time_zone, self.now()),
        }
        .to_string();
        let usage = self.store().sms_usage(property.id, &month).await?;
        let counts = self.store().sms_month_counts(property.id, &month).await?;
        let plan = property.sms.plan;
        let parts = usage.parts.max(0);
        Ok(SmsOverview {
            month,
            time_zone: property.time_zone_name.clone(),
            plan,
            monthly_limit: property.sms.monthly_limit,
            counts,
            parts,
            packages: plan.packages(parts as u64),
            left_in_package: plan.left_in_package(parts as u64),
            left_under_limit: property
                .sms
                .monthly_limit
                .map(|l| (i64::from(l) - parts).max(0)),
            cost_cents: plan.cost_cents(parts as u64),
        })
    }
}

/// The property an SMS is sent for; it must have a sender.
async fn sms_property(
    tx: &mut Tx,
    account: Uuid,
    id: Uuid,
) -> Result<bellhop_domain::Property, EngineError> {
    let property = tx
        .property(account, id)
        .await
        .map_err(|_| EngineError::invalid("property_id", "no such property"))?;
    if property.sms.sender.is_none() {
        return Err(EngineError::invalid(
            "property_id",
            "the property has no SMS sender: set sms.sender first",
        ));
    }
    Ok(property)
}

/// The template of a bulk SMS: its text in the property's default language and its
/// translations, each ending with the opt-out line of its language.
pub(crate) fn campaign_template(
    property: &bellhop_domain::Property,
    id: Uuid,
    name: &str,
    text: &str,
    translations: &std::collections::BTreeMap<String, String>,
) -> bellhop_domain::render::Template {
    use bellhop_domain::render::{Category, SmsContent, Template, Variants};
    let replies = property
        .sms
        .sender
        .as_ref()
        .is_some_and(|s| s.can_receive_replies());
    let variants = std::iter::once((property.default_language.as_str(), text))
        .chain(translations.iter().map(|(l, t)| (l.as_str(), t.as_str())))
        .map(|(language, text)| {
            let line = sms::opt_out_line(text, language, replies).unwrap_or_default();
            (
                language.to_owned(),
                SmsContent {
                    text: format!("{text}{line}"),
                },
            )
        })
        .collect();
    Template {
        id,
        account_id: property.account_id,
        property_id: property.id,
        name: name.to_owned(),
        category: Category::Marketing,
        variants: Variants::Sms(variants),
        version: 1,
    }
}

fn compile_sms(
    text: &str,
    property: &bellhop_domain::Property,
) -> Result<bellhop_domain::render::CompiledTemplate, EngineError> {
    use bellhop_domain::render::{
        Category, CompiledTemplate, RenderLimits, SmsContent, Template, Variants,
    };
    let template = Template {
        id: Uuid::nil(),
        account_id: property.account_id,
        property_id: property.id,
        name: "sms".into(),
        category: Category::Marketing,
        variants: Variants::Sms(
            [(
                property.default_language.clone(),
                SmsContent {
                    text: text.to_owned(),
                },
            )]
            .into_iter()
            .collect(),
        ),
        version: 1,
    };
    CompiledTemplate::compile(&template, None, None, RenderLimits::default())
        .map_err(|e| EngineError::invalid("text", e.to_string()))
}

fn render_one(
    source: &str,
    property: &bellhop_domain::Property,
    contact: &Contact,
    code: &str,
) -> Result<String, EngineError> {
    let compiled = compile_sms(source, property)?;
    let context = bellhop_domain::render::contact_context(
        property,
        contact,
        &[("code", minijinja::Value::from(code))],
    );
    compiled
        .render_sms(&[property.default_language.as_str()], &context)
        .map(|r| r.text)
        .map_err(|e| EngineError::invalid("text", e.to_string()))
}
