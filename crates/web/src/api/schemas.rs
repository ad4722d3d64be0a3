//! Shapes the OpenAPI document names for values the API passes through from the engine as
//! they are (plan summaries, rule offsets, template variants, a rule's dry run). They are
//! documentation only: `#[schema(value_type = …)]` points at them; the JSON comes from the
//! engine's own types, and the API tests read it strictly.

use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a change did to the booking's messages.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PlanSummarySchema {
    /// Messages planned.
    pub planned: u32,
    /// Messages skipped (booked too late, conditions not met).
    pub skipped: u32,
    /// Messages moved to a new due time.
    pub moved: u32,
    /// Cancelled or skipped messages planned again.
    pub reopened: u32,
    /// Messages cancelled.
    pub cancelled: u32,
}

/// A signed offset from the rule's anchor.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OffsetSchema {
    /// Negative: before the anchor.
    #[schema(example = -3)]
    pub amount: i32,
    /// `days` (calendar days in the property's zone), `hours` or `minutes` (exact).
    #[schema(example = "days")]
    pub unit: String,
}

/// One language's content of a template: `subject` and `html` (and optionally `text`) for
/// email, `text` for SMS.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VariantSchema {
    /// Email subject.
    pub subject: Option<String>,
    /// Email HTML body.
    pub html: Option<String>,
    /// Text body (email, optional) or the SMS text.
    pub text: Option<String>,
}

/// Variants by language tag (`de`, `en`, `de-AT`, ...).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VariantsSchema(pub BTreeMap<String, VariantSchema>);

/// What saving a rule would do, without saving it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PlanImpactSchema {
    /// Live bookings examined.
    pub bookings: usize,
    /// Messages that would be added.
    pub add: usize,
    /// Messages that would move.
    pub r#move: usize,
    /// Messages that would be cancelled or skipped.
    pub cancel: usize,
    /// Up to 20 examples.
    pub examples: Vec<ImpactExampleSchema>,
    /// Messages it would send that were rendered for their booking.
    pub rendered: usize,
    /// Those that would fail to render, at most 50.
    pub render_failures: Vec<RenderFailureSchema>,
}

/// A message a dry run could not render for its booking.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RenderFailureSchema {
    /// The booking.
    pub booking_id: Uuid,
    /// The language it would be written in.
    pub language: String,
    /// Why it would fail.
    pub error: String,
}

/// One booking's change in a dry run.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImpactExampleSchema {
    /// The booking.
    pub booking_id: Uuid,
    /// `add`, `move` or `cancel`.
    pub action: String,
    /// The new due time, or why it would be cancelled.
    pub detail: String,
}

/// A booking's recorded change: field → `[old, new]`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ChangesSchema(pub BTreeMap<String, Vec<serde_json::Value>>);

/// A one-time code on its way.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TanCreatedSchema {
    /// Id, to verify with.
    pub id: Uuid,
    /// The contact it went to.
    pub contact_id: Uuid,
    /// When it stops being valid.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// The number it goes to.
    pub to: String,
}

/// The result of checking a one-time code.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TanCheckSchema {
    /// `verified`, `wrong`, `expired` or `locked`.
    pub result: String,
    /// With `wrong`: guesses left.
    pub attempts_left: Option<i64>,
}

/// A bulk SMS as stored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CampaignSchema {
    /// Id.
    pub id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// The text template.
    pub text: String,
    /// The audience filter it was created with.
    pub filter: AudienceSchema,
    /// When it is sent.
    #[schema(format = DateTime)]
    pub send_at: String,
    /// Recipients planned.
    pub recipients: i64,
    /// Who created it.
    pub created_by: String,
    /// Created.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// Which contacts a bulk SMS goes to (all with a booking at the property when empty).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AudienceSchema {
    /// Only these contacts.
    pub contact_ids: Option<Vec<Uuid>>,
    /// Only these languages.
    pub languages: Option<Vec<String>>,
    /// Only these countries.
    pub countries: Option<Vec<String>>,
    /// Only contacts with a booking in one of these statuses.
    pub booking_statuses: Option<Vec<String>>,
    /// Only contacts who booked at or after this instant.
    #[schema(format = DateTime)]
    pub booked_from: Option<String>,
    /// Only contacts who booked before this instant.
    #[schema(format = DateTime)]
    pub booked_to: Option<String>,
}

/// What a bulk SMS will do (or, in a dry run, would do).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CampaignPlanSchema {
    /// The stored campaign (not in a dry run).
    pub campaign: Option<CampaignSchema>,
    /// Contacts the filter matched.
    pub matched: usize,
    /// Those that will get the SMS.
    pub recipients: usize,
    /// Why the others will not (reason → count).
    pub excluded: BTreeMap<String, usize>,
    /// SMS parts in all.
    pub parts: usize,
    /// The cost under the property's plan.
    pub estimated_cost_cents: i64,
    /// Characters that make the text UCS-2.
    pub non_gsm: Vec<String>,
}

/// A consent decision, with its evidence.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ConsentEventSchema {
    /// Id.
    pub id: Uuid,
    /// The contact (none once erased).
    pub contact_id: Option<Uuid>,
    /// The property it was given at.
    pub property_id: Option<Uuid>,
    /// The contact point: a lower-case email address or an E.164 number.
    pub address: String,
    /// `service`, `marketing` or `personalized`.
    pub purpose: String,
    /// `email` or `sms`.
    pub channel: String,
    /// Granted or withdrawn.
    pub granted: bool,
    /// `consent_page`, `online_booking`, `staff`, `import`, `channel`, `sms_keyword`,
    /// `unsubscribe_link` or `api`.
    pub source: String,
    /// Who recorded it.
    pub actor: Option<String>,
    /// The consent text shown.
    pub text_id: Option<Uuid>,
    /// Its version.
    pub text_version: Option<i32>,
    /// Its language.
    pub text_language: Option<String>,
    /// The customer's IP address (online decisions).
    pub ip: Option<String>,
    /// The customer's browser (online decisions).
    pub user_agent: Option<String>,
    /// The SMS keyword and inbound message, the double opt-in, a note.
    pub evidence: ConsentEvidenceSchema,
    /// When (UTC).
    #[schema(format = DateTime)]
    pub at: String,
}

/// What proves a consent decision besides who, when and where; each key only where it applies.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ConsentEvidenceSchema {
    /// The SMS keyword received (`STOP`, `START`, ...).
    pub keyword: Option<String>,
    /// The inbound SMS it came in.
    pub inbound_id: Option<Uuid>,
    /// Part of an opt-out of SMS as a whole (a STOP or its staff equivalent).
    pub sms_opt_out: Option<bool>,
    /// The double opt-in confirmation clicked.
    pub confirmation_id: Option<Uuid>,
    /// The message whose unsubscribe link was used.
    pub message_id: Option<Uuid>,
    /// How it was asked for: `one_click` (RFC 8058 POST), `page` (the confirmation page).
    pub method: Option<String>,
    /// A note from the API.
    pub note: Option<String>,
    /// The table an upgrade moved it from.
    pub migrated_from: Option<String>,
    /// Its id there.
    pub migrated_id: Option<Uuid>,
}

/// What an erasure changed.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErasedSchema {
    /// Kept message bodies deleted.
    pub bodies: u64,
    /// Planned messages cancelled.
    pub cancelled: u64,
    /// Consent events removed (grants) or reduced to a digest (withdrawals).
    pub consent_events: u64,
    /// Inbound SMS blanked.
    pub inbound_sms: u64,
}

/// An inbound SMS.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct InboundSmsSchema {
    /// Id.
    pub id: Uuid,
    /// Gateway.
    pub gateway: String,
    /// From.
    pub sender: String,
    /// To.
    pub recipient: String,
    /// Text.
    pub text: String,
    /// `opt_out`, `opt_in`.
    pub keyword: Option<String>,
    /// When.
    #[schema(format = DateTime)]
    pub received_at: String,
}

/// A one-time code without its code.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TanExportSchema {
    /// The message that carried it.
    pub id: Uuid,
    /// What for.
    pub purpose: Option<String>,
    /// Wrong tries.
    pub attempts: i64,
    /// Until when.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// When verified.
    #[schema(format = DateTime)]
    pub verified_at: Option<String>,
    /// When made.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A rule, named.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RuleRefSchema {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// One purpose and channel of a contact's consent.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ConsentCellSchema {
    /// `service`, `marketing` or `personalized`.
    pub purpose: String,
    /// `email` or `sms`.
    pub channel: String,
    /// `granted`, `withdrawn` or `unknown`.
    pub state: String,
    /// The contact point it is about.
    pub address: Option<String>,
    /// The event that decides it.
    pub deciding: Option<ConsentEventSchema>,
}

/// A contact's consent.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ContactConsentsSchema {
    /// The contact.
    pub contact_id: Uuid,
    /// Purpose × channel.
    pub matrix: Vec<ConsentCellSchema>,
    /// Every event, oldest first.
    pub history: Vec<ConsentEventSchema>,
}

/// A version of a property's consent text.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ConsentTextSchema {
    /// Id (what consent events refer to).
    pub id: Uuid,
    /// The property.
    pub property_id: Uuid,
    /// Language tag.
    pub language: String,
    /// Version, from 1.
    pub version: i32,
    /// The text.
    pub body: String,
    /// When written.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// When a rule applies; every condition given must hold (none: always).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ConditionsSchema {
    /// Booking statuses (`confirmed`, `option`, ...).
    pub statuses: Option<Vec<String>>,
    /// `stay` or `appointment`.
    pub kinds: Option<Vec<String>>,
    /// Room categories.
    pub room_categories: Option<Vec<String>>,
    /// Services.
    pub services: Option<Vec<String>>,
    /// Booking channels.
    pub source_channels: Option<Vec<String>>,
    /// Booked at least this many hours ahead.
    pub min_lead_hours: Option<i64>,
    /// Booked at most this many hours ahead.
    pub max_lead_hours: Option<i64>,
    /// Message languages.
    pub languages: Option<Vec<String>>,
    /// Guest fields of which at least one is missing (`address`, `birth_date`, ...).
    pub missing_any: Option<Vec<String>>,
}

/// A rule as stored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RuleSchema {
    /// Id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// The anchor (`start`, `end`, `booking_created`, ...).
    pub anchor: String,
    /// Offset from the anchor.
    pub offset: OffsetSchema,
    /// Local time of day `HH:MM` (with days).
    pub time_of_day: Option<String>,
    /// When it applies.
    pub conditions: ConditionsSchema,
    /// `email`, `sms`, `email_or_sms` or `sms_or_email`.
    pub channel: String,
    /// Template of the first choice.
    pub template_id: Uuid,
    /// Template of the second choice.
    pub fallback_template_id: Option<Uuid>,
    /// `skip`, `send_now` or `send_if_before_anchor`.
    pub late_policy: String,
    /// Whether it plans anything.
    pub enabled: bool,
}

/// A message due in the timeline.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TimelineRowSchema {
    /// The message.
    pub message_id: Uuid,
    /// Due (UTC).
    #[schema(format = DateTime)]
    pub due_at: String,
    /// The property's zone.
    pub time_zone: String,
    /// Property name.
    pub property: String,
    /// Rule name.
    pub rule: String,
    /// The booking.
    pub booking_id: Option<Uuid>,
    /// `email`, `sms` or `voice`.
    pub channel: String,
    /// Guest name.
    pub guest: Option<String>,
    /// Message status.
    pub status: String,
    /// Why it has its status.
    pub reason: Option<String>,
    /// Subject, once rendered.
    pub subject: Option<String>,
    /// The property.
    pub property_id: Uuid,
    /// The rule (planned messages).
    pub rule_id: Option<Uuid>,
    /// The contact.
    pub contact_id: Uuid,
}

/// An SMS or call to a contact.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ContactSmsMessageSchema {
    /// The message.
    pub id: Uuid,
    /// `sms` or `voice`.
    pub channel: String,
    /// Status.
    pub status: String,
    /// `rule`, `tan` or `bulk`.
    pub kind: String,
    /// The number.
    pub recipient: Option<String>,
    /// When the gateway took it.
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    /// When it reached the phone.
    #[schema(format = DateTime)]
    pub delivered_at: Option<String>,
    /// Parts.
    pub parts: Option<i64>,
    /// `GSM-7` or `UCS-2`.
    pub encoding: Option<String>,
    /// Why it has its status.
    pub status_reason: Option<String>,
    /// The same as a stable code.
    pub status_code: Option<String>,
}

/// How SMS are paid for: `{"plan": "package", "size": 500, "price_cents": 4900}` or
/// `{"plan": "per_sms", "price_cents": 9}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SmsPlanSchema {
    /// `package` or `per_sms`.
    pub plan: String,
    /// SMS per package (`package`).
    pub size: Option<u32>,
    /// Price of a package, or of one SMS.
    pub price_cents: Option<i64>,
}

/// A daily local window without SMS.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct QuietHoursSchema {
    /// Start, `HH:MM`.
    pub start: String,
    /// End, `HH:MM`.
    pub end: String,
}

/// A property's SMS settings (SMS are off until a sender is set).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SmsSettingsSchema {
    /// A name (1–11 letters, digits, spaces) or an E.164 number; only a number can receive
    /// replies (and STOP).
    pub sender: Option<String>,
    /// How SMS are paid for.
    pub plan: Option<SmsPlanSchema>,
    /// SMS parts per local month; beyond it SMS are rejected, not sent, not billed.
    pub monthly_limit: Option<u32>,
    /// Replace typographic characters when that makes a text GSM-7 (default true).
    pub smart_encoding: Option<bool>,
    /// No SMS in this window (default 21:00–08:00; null: any time).
    pub quiet_hours: Option<QuietHoursSchema>,
    /// Landlines get a voice call (default false).
    pub landline_voice: Option<bool>,
    /// `optional` or `mandatory`: may online customers decline SMS reminders?
    pub reminders: Option<String>,
    /// `marketing` or `all`: what a STOP stops.
    pub stop_applies_to: Option<String>,
}

/// A character replaced by smart encoding.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReplacementSchema {
    /// The character typed.
    pub from: String,
    /// What is sent instead.
    pub to: String,
}

/// How a text goes out as SMS.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SmsAnalysisSchema {
    /// `GSM-7` or `UCS-2`.
    pub encoding: String,
    /// SMS (parts) it takes.
    pub segments: usize,
    /// Units used (GSM-7 septets or UCS-2 code units).
    pub units: usize,
    /// Units left in the last part.
    pub units_left: usize,
    /// Characters.
    pub characters: usize,
    /// Characters that force UCS-2.
    pub non_gsm: Vec<String>,
    /// The parts as sent.
    pub parts: Vec<String>,
    /// The text as sent.
    pub text: String,
    /// Whether smart encoding changed it.
    pub smart_encoded: bool,
    /// What smart encoding replaced.
    pub replacements: Vec<ReplacementSchema>,
}

/// A property's SMS in one local month.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SmsOverviewSchema {
    /// `YYYY-MM`, in the property's zone.
    pub month: String,
    /// The property's zone.
    pub time_zone: String,
    /// How SMS are paid for.
    pub plan: SmsPlanSchema,
    /// The monthly limit.
    pub monthly_limit: Option<u32>,
    /// SMS sent.
    pub sent: i64,
    /// Delivered to the phone.
    pub delivered: i64,
    /// Failed.
    pub failed: i64,
    /// Expired.
    pub expired: i64,
    /// Rejected over the limit.
    pub rejected: i64,
    /// Voice calls.
    pub voice: i64,
    /// Parts counted.
    pub parts: i64,
    /// Packages used.
    pub packages: u64,
    /// Parts left in the last package.
    pub left_in_package: Option<u64>,
    /// Parts left under the limit.
    pub left_under_limit: Option<i64>,
    /// Cost so far.
    pub cost_cents: i64,
}
