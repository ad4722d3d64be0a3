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
