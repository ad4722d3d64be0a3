//! `/properties/{id}/mailboxes`, `/mailboxes/{id}` and `/inbound-mails`: the autoresponder's
//! mailboxes (addresses, replies per language, window, period, case numbers), what it would do
//! with a mail (`explain`), mail handed in through the API, and every inbound mail with its
//! decision and the message as received.

use crate::AppState;
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{Record, own_record, parse_json, path_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bellhop_domain::mailbox::{DEFAULT_PERIOD_SECS, Mailbox, ReplyText};
use bellhop_engine::{Delivery, IntakeError, MailboxDraft};
use bellhop_inbound::{Envelope, Explanation};
use bellhop_store::{InboundFilter, InboundMail};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A mailbox to create or change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailboxIn {
    /// Shown to staff ("Complaints").
    pub name: String,
    /// The address mail arrives at (`reklamacje@hotel.example`).
    pub address: String,
    /// Further addresses it answers for.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The reply per language tag: `{"pl": {"subject": "...", "body": "..."}}`. Templates may
    /// use `mail.sender_name`, `mail.sender_email`, `mail.subject`, `mail.case_number`,
    /// `mail.mailbox`, `guest.*` and `property.*`. Without a subject the reply is
    /// `Auto: <original subject>`.
    pub replies: BTreeMap<String, ReplyText>,
    /// The reply's language when the mail's is unknown or has no reply (default: the
    /// property's).
    #[serde(default)]
    pub default_language: Option<String>,
    /// Switched on (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Local date-time in the property's zone from which it answers (`2026-12-20T18:00`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub active_from: Option<jiff::civil::DateTime>,
    /// Local date-time until which it answers; none: until switched off.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub active_until: Option<jiff::civil::DateTime>,
    /// One sender is answered at most once in this many days (default 7); 0 answers every
    /// mail (case acknowledgements).
    #[serde(default)]
    pub period_days: Option<i64>,
    /// Case number prefix: `REK` numbers mails `REK-2026-000123`.
    #[serde(default)]
    pub case_prefix: Option<String>,
    /// A sequence of the same property that every person who writes is enrolled in.
    #[serde(default)]
    pub sequence_id: Option<Uuid>,
    /// Watch a hosted mailbox over IMAP instead of (or besides) receiving by SMTP.
    #[serde(default)]
    pub imap: Option<ImapIn>,
}

/// A hosted mailbox's IMAP access.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapIn {
    /// Host (a public one unless the installation allows private hosts).
    pub host: String,
    /// Port (default 993).
    #[serde(default)]
    pub port: Option<u16>,
    /// Implicit TLS (default true).
    #[serde(default)]
    pub tls: Option<bool>,
    /// Login.
    pub user: String,
    /// Password: stored sealed, never shown; leave out to keep the stored one.
    #[serde(default)]
    pub password: Option<String>,
    /// Folder (default INBOX).
    #[serde(default)]
    pub folder: Option<String>,
}

/// A hosted mailbox's IMAP access and how reading it goes.
#[derive(Serialize, ToSchema)]
pub struct ImapOut {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Implicit TLS.
    pub tls: bool,
    /// Login.
    pub user: String,
    /// Folder.
    pub folder: String,
    /// The last error reading it.
    pub last_error: Option<String>,
    /// When bellhop last looked.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_at: Option<Timestamp>,
}

/// A mailbox.
#[derive(Serialize, ToSchema)]
pub struct MailboxOut {
    /// Id.
    pub id: Uuid,
    /// The property.
    pub property_id: Uuid,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Replies per language.
    pub replies: BTreeMap<String, ReplyText>,
    /// Default reply language.
    pub default_language: String,
    /// Switched on.
    pub enabled: bool,
    /// Answers from.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub active_from: Option<Timestamp>,
    /// Answers until.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub active_until: Option<Timestamp>,
    /// Whether it answers now.
    pub active_now: bool,
    /// Days between two answers to one sender (0: every mail).
    pub period_days: i64,
    /// Case number prefix.
    pub case_prefix: Option<String>,
    /// The sequence writers are enrolled in.
    pub sequence_id: Option<Uuid>,
    /// The hosted mailbox watched over IMAP.
    pub imap: Option<ImapOut>,
}

fn out(m: Mailbox, now: Timestamp) -> MailboxOut {
    MailboxOut {
        active_now: m.active_at(now).is_ok(),
        id: m.id,
        property_id: m.property_id,
        name: m.name,
        address: m.address,
        aliases: m.aliases,
        replies: m.replies,
        default_language: m.default_language,
        enabled: m.enabled,
        active_from: m.active_from,
        active_until: m.active_until,
        period_days: m.period_secs / 86_400,
        case_prefix: m.case_prefix,
        sequence_id: m.sequence_id,
        imap: m.imap.map(|i| ImapOut {
            host: i.host,
            port: i.port,
            tls: i.tls,
            user: i.user,
            folder: i.folder,
            last_error: i.last_error,
            checked_at: i.checked_at,
        }),
    }
}

async fn draft(
    state: &AppState,
    property_id: Uuid,
    input: MailboxIn,
) -> Result<MailboxDraft, ApiError> {
    let imap = match input.imap {
        None => None,
        Some(i) => {
            state
                .imap_targets
                .check_host_now(&i.host, i.port.unwrap_or(993))
                .await
                .map_err(|e| ApiError::invalid("imap.host", e))?;
            if i.user.trim().is_empty() || i.user.len() > 320 {
                return Err(ApiError::invalid(
                    "imap.user",
                    "a login of 1 to 320 characters",
                ));
            }
            let folder = i.folder.unwrap_or_else(|| "INBOX".into());
            if folder.is_empty() || folder.len() > 200 || folder.chars().any(char::is_control) {
                return Err(ApiError::invalid(
                    "imap.folder",
                    "a folder name of 1 to 200 characters",
                ));
            }
            let tls = i.tls.unwrap_or(true);
            Some(bellhop_engine::ImapDraft {
                host: i.host,
                port: i.port.unwrap_or(if tls { 993 } else { 143 }),
                tls,
                user: i.user,
                password: i.password,
                folder,
            })
        }
    };
    let period_secs = match input.period_days {
        None => DEFAULT_PERIOD_SECS,
        Some(days) if (0..=366).contains(&days) => days * 86_400,
        Some(_) => return Err(ApiError::invalid("period_days", "0 to 366")),
    };
    Ok(MailboxDraft {
        property_id,
        name: input.name,
        address: input.address,
        aliases: input.aliases,
        replies: input.replies,
        default_language: input.default_language,
        enabled: input.enabled.unwrap_or(true),
        active_from: input.active_from,
        active_until: input.active_until,
        period_secs,
        case_prefix: input.case_prefix.filter(|p| !p.trim().is_empty()),
        sequence_id: input.sequence_id,
        imap,
    })
}

/// Creates a mailbox of a property.
#[utoipa::path(post, path = "/api/v1/properties/{id}/mailboxes", tag = "autoresponder", params(("id" = Uuid, Path)),
    request_body = MailboxIn,
    responses((status = 201, body = MailboxOut), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<MailboxOut>), ApiError> {
    let property = own_record(&s, tenant.account_id, Record::Property, &id).await?;
    let input: MailboxIn = parse_json(&body)?;
    let m = s
        .engine
        .save_mailbox(tenant.account_id, None, draft(&s, property, input).await?)
        .await?;
    Ok((StatusCode::CREATED, Json(out(m, s.engine.now()))))
}

/// The account's mailboxes.
#[utoipa::path(get, path = "/api/v1/mailboxes", tag = "autoresponder",
    responses((status = 200, body = Vec<MailboxOut>)))]
pub async fn list(
    State(s): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<MailboxOut>>, ApiError> {
    let now = s.engine.now();
    let list = s.engine.query().mailboxes(tenant.account_id).await?;
    Ok(Json(list.into_iter().map(|m| out(m, now)).collect()))
}

/// One mailbox.
#[utoipa::path(get, path = "/api/v1/mailboxes/{id}", tag = "autoresponder", params(("id" = Uuid, Path)),
    responses((status = 200, body = MailboxOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<MailboxOut>, ApiError> {
    let m = s
        .engine
        .query()
        .mailbox(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(out(m, s.engine.now())))
}

/// Replaces a mailbox's settings (its property stays).
#[utoipa::path(put, path = "/api/v1/mailboxes/{id}", tag = "autoresponder", params(("id" = Uuid, Path)),
    request_body = MailboxIn,
    responses((status = 200, body = MailboxOut), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn replace(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<MailboxOut>, ApiError> {
    let id = path_id(&id)?;
    let input: MailboxIn = parse_json(&body)?;
    let current = s.engine.query().mailbox(tenant.account_id, id).await?;
    let m = s
        .engine
        .save_mailbox(
            tenant.account_id,
            Some(id),
            draft(&s, current.property_id, input).await?,
        )
        .await?;
    Ok(Json(out(m, s.engine.now())))
}

/// Switches a mailbox off and frees its addresses; its recorded mail stays.
#[utoipa::path(delete, path = "/api/v1/mailboxes/{id}", tag = "autoresponder", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.engine
        .delete_mailbox(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A mail, as text, with its SMTP envelope.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailIn {
    /// The whole message (RFC 5322: headers, empty line, body).
    pub message: String,
    /// `MAIL FROM` (empty for the null sender `<>`). For `explain`, default: the message's
    /// Return-Path, else its From.
    #[serde(default)]
    pub envelope_from: Option<String>,
    /// `RCPT TO` (default: the mailbox's address).
    #[serde(default)]
    pub envelope_to: Option<String>,
}

/// What the autoresponder decides.
#[derive(Serialize, ToSchema)]
pub struct ExplanationOut {
    /// Whether a reply would go.
    pub reply: bool,
    /// `reply`, `refused`, `inactive` or why not (`null_sender`, `auto_submitted`,
    /// `precedence`, `list_header`, `auto_response_suppressed`, `system_sender`,
    /// `own_address`, `not_addressed`, `invalid_sender`).
    pub code: String,
    /// Why, in words.
    pub reason: String,
    /// The reply's recipient.
    pub to: Option<String>,
    /// The reply's subject.
    pub subject: Option<String>,
    /// The reply's In-Reply-To.
    pub in_reply_to: Option<String>,
    /// The reply's Auto-Submitted.
    pub auto_submitted: Option<String>,
}

fn explanation(e: Explanation) -> ExplanationOut {
    ExplanationOut {
        reply: e.reply,
        code: e.code.to_owned(),
        reason: e.reason,
        to: e.to,
        subject: e.subject,
        in_reply_to: e.in_reply_to,
        auto_submitted: e.auto_submitted.map(str::to_owned),
    }
}

/// Whether this mailbox would answer a mail, and why: stateless (the once-per-period rule is
/// not applied, nothing is stored), the same as `bellhop autoreply explain`.
#[utoipa::path(post, path = "/api/v1/mailboxes/{id}/explain", tag = "autoresponder", params(("id" = Uuid, Path)),
    request_body = MailIn,
    responses((status = 200, body = ExplanationOut), (status = 404, body = crate::error::Problem)))]
pub async fn explain(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ExplanationOut>, ApiError> {
    let id = path_id(&id)?;
    let input: MailIn = parse_json(&body)?;
    let envelope = Envelope {
        from: input.envelope_from,
        to: input.envelope_to,
    };
    let e = s
        .engine
        .explain_mail(tenant.account_id, id, envelope, input.message.as_bytes())
        .await?;
    Ok(Json(explanation(e)))
}

/// Hands a mail to the mailbox (for mail that arrives elsewhere, forwarded by a script or a
/// provider's webhook): decided, answered and recorded as if it came by SMTP.
#[utoipa::path(post, path = "/api/v1/mailboxes/{id}/inbound", tag = "autoresponder", params(("id" = Uuid, Path)),
    request_body = MailIn,
    responses((status = 201, body = InboundOut), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn hand_in(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<InboundOut>), ApiError> {
    let id = path_id(&id)?;
    let input: MailIn = parse_json(&body)?;
    let m = s.engine.query().mailbox(tenant.account_id, id).await?;
    let to = input.envelope_to.unwrap_or(m.address.clone());
    if !m
        .addresses()
        .iter()
        .any(|a| a.eq_ignore_ascii_case(to.trim()))
    {
        return Err(ApiError::invalid(
            "envelope_to",
            "not an address of this mailbox",
        ));
    }
    let received = s
        .engine
        .receive_mail(Delivery {
            via: "api",
            envelope_from: Some(input.envelope_from.unwrap_or_default()),
            envelope_to: to,
            source_key: None,
            raw: input.message.as_bytes(),
        })
        .await
        .map_err(|e| match e {
            IntakeError::Refused(r) => ApiError::invalid("message", r.text),
            IntakeError::UnknownMailbox(_) => ApiError::NotFound,
            IntakeError::Engine(e) => e.into(),
        })?;
    let mail = received
        .mail
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the mail was not recorded")))?;
    Ok((StatusCode::CREATED, Json(inbound(mail, None))))
}

/// An inbound mail and what the autoresponder did with it.
#[derive(Serialize, ToSchema)]
pub struct InboundOut {
    /// Id.
    pub id: Uuid,
    /// The mailbox.
    pub mailbox_id: Uuid,
    /// The property.
    pub property_id: Uuid,
    /// `smtp`, `imap` or `api`.
    pub via: String,
    /// `MAIL FROM` (empty: the null sender).
    pub envelope_from: Option<String>,
    /// `RCPT TO`.
    pub envelope_to: Option<String>,
    /// From address.
    pub from_address: Option<String>,
    /// From name.
    pub from_name: Option<String>,
    /// Subject, decoded.
    pub subject: Option<String>,
    /// Message-ID.
    pub message_id: Option<String>,
    /// The reply's language.
    pub language: Option<String>,
    /// `replied`, `not_replied`, `failed` (the reply did not render) or `refused` (read from
    /// an IMAP mailbox but over a limit; its content is not kept).
    pub decision: String,
    /// `reply`, `period`, `inactive`, `not_rendered` or a no-reply code.
    pub reason_code: String,
    /// Why, in words.
    pub reason: String,
    /// Case number.
    pub case_number: Option<String>,
    /// The contact it came from.
    pub contact_id: Option<Uuid>,
    /// The reply in the outbox (`/messages/{id}`).
    pub reply_message_id: Option<Uuid>,
    /// Bytes.
    pub size: i64,
    /// When it arrived.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// The message as received (`GET /inbound-mails/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

pub(crate) fn inbound(m: InboundMail, raw: Option<Vec<u8>>) -> InboundOut {
    InboundOut {
        id: m.id,
        mailbox_id: m.mailbox_id,
        property_id: m.property_id,
        via: m.via,
        envelope_from: m.envelope_from,
        envelope_to: m.envelope_to,
        from_address: m.from_address,
        from_name: m.from_name,
        subject: m.subject,
        message_id: m.message_id,
        language: m.language,
        decision: m.decision,
        reason_code: m.reason_code,
        reason: m.reason,
        case_number: m.case_number,
        contact_id: m.contact_id,
        reply_message_id: m.reply_message_id,
        size: m.size,
        received_at: m.received_at,
        raw: raw.map(|r| String::from_utf8_lossy(&r).into_owned()),
    }
}

/// Filters of the inbound list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboundQuery {
    /// One mailbox's.
    mailbox_id: Option<Uuid>,
    /// `replied`, `not_replied`, `failed` or `refused`.
    decision: Option<String>,
    /// The envelope sender.
    sender: Option<String>,
    /// Received at or after (RFC 3339).
    #[param(value_type = Option<String>)]
    since: Option<Timestamp>,
    /// Received before (RFC 3339).
    #[param(value_type = Option<String>)]
    until: Option<Timestamp>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<i64>,
}

/// The account's inbound mail, newest first, with each decision.
#[utoipa::path(get, path = "/api/v1/inbound-mails", tag = "autoresponder", params(InboundQuery),
    responses((status = 200, body = Vec<InboundOut>), (status = 422, body = crate::error::Problem)))]
pub async fn list_inbound(
    State(s): State<AppState>,
    tenant: Tenant,
    Query(q): Query<InboundQuery>,
) -> Result<Json<Vec<InboundOut>>, ApiError> {
    if let Some(d) = &q.decision
        && !matches!(d.as_str(), "replied" | "not_replied" | "failed")
    {
        return Err(ApiError::invalid(
            "decision",
            "replied, not_replied or failed",
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "1 to 1,000"));
    }
    let filter = InboundFilter {
        mailbox: q.mailbox_id,
        decision: q.decision,
        sender: q.sender,
        since: q.since,
        until: q.until,
        limit,
    };
    let list = s
        .engine
        .query()
        .inbound_mails(tenant.account_id, &filter)
        .await?;
    Ok(Json(list.into_iter().map(|m| inbound(m, None)).collect()))
}

/// One inbound mail with the message as received.
#[utoipa::path(get, path = "/api/v1/inbound-mails/{id}", tag = "autoresponder", params(("id" = Uuid, Path)),
    responses((status = 200, body = InboundOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_inbound(
    State(s): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<InboundOut>, ApiError> {
    let (m, raw) = s
        .engine
        .query()
        .inbound_mail(tenant.account_id, path_id(&id)?)
        .await?;
    Ok(Json(inbound(m, raw)))
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/properties/{id}/mailboxes", post(create))
        .route("/mailboxes", get(list))
        .route("/mailboxes/{id}", get(get_one).put(replace).delete(delete))
        .route("/mailboxes/{id}/explain", post(explain))
        .route("/mailboxes/{id}/inbound", post(hand_in))
        .route("/inbound-mails", get(list_inbound))
        .route("/inbound-mails/{id}", get(get_inbound))
}
