//! bellhop's engine: booking changes with re-planning in one transaction, the dispatcher that
//! turns due messages into sent mail, retries, and the injected clock.

mod autoreply;
mod bookings;
mod catalog;
mod channels;
pub mod clock;
mod command;
mod consent;
mod contacts;
mod deliveries;
mod dispatcher;
mod error;
mod imap_watch;
mod import;
pub mod links;
mod messages;
mod prepare;
mod presets;
mod privacy;
mod queries;
mod self_service;
mod sequences;
mod service;
mod sms;
pub mod staff;
pub mod telemetry;

pub use autoreply::{Delivery, ImapDraft, IntakeError, MAIL_VARIABLES, MailboxDraft, Received};
pub use catalog::{PlanImpact, Preview};
pub use channels::{
    ConnectionSecrets, ConnectionSettings, PollSettings, PollStats, PushOutcome, Pushed,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Answer, Command, IdempotencyKey};
pub use consent::{ConsentCell, ConsentDecision, ConsentWarning, ContactConsents, RuleRef};
pub use dispatcher::{DispatchConfig, DispatchStats, Dispatcher, Transports};
pub use error::EngineError;
pub use imap_watch::ImapWatchConfig;
pub use import::{
    DEFAULT_SOURCE, IMPORT_CHUNK, ImportContact, ImportItem, ImportReport, OnInvalid, Refusal,
};
pub use presets::{InstalledPreset, PresetInstall, preset_ids};
pub use privacy::{ContactExport, ExportedBooking, ExportedMessage};
pub use queries::Queries;
pub use self_service::{
    CONFIRMATION_DAYS, CONSENT_LINK_DAYS, Confirmed, ConsentPage, ConsentSubmitted, LinkError,
    LinkView, OnlineEvidence, Unsubscribed, page_language, ticked,
};
pub use sequences::{MAX_STEPS, SequenceDraft};
pub use service::Engine;
pub use sms::{
    CampaignDraft, CampaignPlan, InboundResult, InboundSms, SmsOverview, TAN_MAX_ATTEMPTS,
    TanCheck, TanCreated, TanRequest,
};
pub use staff::{NewUser, Role, SignInError, SignedIn, StaffSession, StaffUser};
