//! The API's own shapes of messages, their history and staff notifications: what a client
//! sees is declared here (and in the OpenAPI document), not borrowed from the store's rows.

use bellhop_store::{MessageEvent, MessageRecord, NotificationRecord};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A message: planned, sent or not, with its content once rendered.
#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    /// Id (also the local part of its Message-ID).
    pub id: Uuid,
    /// Property.
    pub property_id: Uuid,
    /// The booking it is about (rule messages).
    pub booking_id: Option<Uuid>,
    /// The rule that planned it.
    pub rule_id: Option<Uuid>,
    /// Recipient contact.
    pub contact_id: Uuid,
    /// `rule`, `tan` (one-time code) or `bulk`.
    pub kind: String,
    /// The bulk SMS it belongs to.
    pub campaign_id: Option<Uuid>,
    /// Which occurrence of the rule (`once`, or a date for repeating rules).
    pub occurrence: String,
    /// `email`, `sms` or `voice`.
    pub channel: String,
    /// `planned`, `sending`, `sent`, `delivered`, `deferred`, `failed`, `suppressed`,
    /// `skipped`, `cancelled`, `rejected`, `expired`.
    #[schema(value_type = String, example = "planned")]
    pub status: bellhop_domain::MessageStatus,
    /// Why it has its status (suppressed, skipped, failed, ...), for people.
    pub status_reason: Option<String>,
    /// The same as a stable code for programs: `guest_email_missing`, `opted_out`,
    /// `booking_status`, `late_when_planned`, `send_failed`, `not_delivered`, ... (absent on
    /// messages recorded before codes existed).
    #[schema(example = "guest_email_missing")]
    pub status_code: Option<String>,
    /// When it is (or was) due.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// Sending attempts so far.
    pub attempt: i64,
    /// Address or number it went to.
    pub recipient: Option<String>,
    /// Subject (email).
    pub subject: Option<String>,
    /// Language variant used.
    pub language: Option<String>,
    /// The transport's reference (Message-ID, gateway id).
    pub provider_ref: Option<String>,
    /// When the transport accepted it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
    /// When it reached the phone (SMS delivery report).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Timestamp>,
    /// SMS parts counted.
    pub parts: Option<i64>,
    /// `GSM-7` or `UCS-2`.
    pub encoding: Option<String>,
    /// The property-local month its SMS parts count in (`2026-03`).
    pub billing_month: Option<String>,
    /// Rendered HTML (one message, when kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    /// Rendered text (one message, when kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<MessageRecord> for MessageOut {
    fn from(m: MessageRecord) -> Self {
        MessageOut {
            id: m.id,
            property_id: m.property_id,
            booking_id: m.booking_id,
            rule_id: m.rule_id,
            contact_id: m.contact_id,
            kind: m.kind,
            campaign_id: m.campaign_id,
            occurrence: m.occurrence,
            channel: m.channel,
            status: m.status,
            status_reason: m.status_reason,
            status_code: m.status_code,
            due_at: m.due_at,
            attempt: m.attempt,
            recipient: m.recipient,
            subject: m.subject,
            language: m.language,
            provider_ref: m.provider_ref,
            sent_at: m.sent_at,
            delivered_at: m.delivered_at,
            parts: m.parts,
            encoding: m.encoding,
            billing_month: m.billing_month,
            body_html: m.body_html,
            body_text: m.body_text,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One step of a message's history.
#[derive(Serialize, ToSchema)]
pub struct MessageEventOut {
    /// The status it entered (or `report` for a delivery report).
    pub status: String,
    /// What happened.
    pub detail: Option<String>,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

impl From<MessageEvent> for MessageEventOut {
    fn from(e: MessageEvent) -> Self {
        MessageEventOut {
            status: e.status,
            detail: e.detail,
            at: e.at,
        }
    }
}

/// Something staff should know (a message that failed for good, an SMS limit reached).
#[derive(Serialize, ToSchema)]
pub struct NotificationOut {
    /// Id.
    pub id: Uuid,
    /// Property.
    pub property_id: Option<Uuid>,
    /// The message it is about.
    pub message_id: Option<Uuid>,
    /// What kind of notice.
    pub kind: String,
    /// The notice, for people.
    pub text: String,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When staff read it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Timestamp>,
}

impl From<NotificationRecord> for NotificationOut {
    fn from(n: NotificationRecord) -> Self {
        NotificationOut {
            text: n.rendered_text(),
            id: n.id,
            property_id: n.property_id,
            message_id: n.message_id,
            kind: n.kind,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}
