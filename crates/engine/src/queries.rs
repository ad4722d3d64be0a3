//! The read side of the engine: what the API, the CLI and the UI may read, and nothing that
//! writes. Changes go through the engine's commands; `Engine::query` is the only way to the
//! store from outside the engine.

use bellhop_domain::{Booking, Contact, Property, Rule, render::Template};
use bellhop_store::{
    ApiKeyRecord, BookingChange, BookingFilter, CampaignRecord, ConsentText, MessageEvent,
    MessageFilter, MessageRecord, NotificationRecord, Store, StoreError, TimelineRow, UsageRow,
};
use jiff::Timestamp;
use uuid::Uuid;

/// Read-only access to an account's records (each method takes the account it reads for;
/// records of other accounts are `NotFound`).
#[derive(Clone, Debug)]
pub struct Queries {
    store: Store,
}

/// Pass-through reads: the store's method of the same name.
macro_rules! reads {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        impl Queries {
            $(
                $(#[$doc])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                    self.store.$name($($arg),*).await
                }
            )*
        }
    };
}

reads! {
    /// The API key with this prefix (any account: the key tells which).
    fn api_key_by_prefix(prefix: &str) -> ApiKeyRecord;
    /// A booking.
    fn booking(account: Uuid, id: Uuid) -> Booking;
    /// Bookings, filtered and paged.
    fn bookings(account: Uuid, filter: &BookingFilter) -> Vec<Booking>;
    /// A booking's recorded changes.
    fn booking_changes(account: Uuid, id: Uuid) -> Vec<BookingChange>;
    /// A contact.
    fn contact(account: Uuid, id: Uuid) -> Contact;
    /// Contacts, paged.
    fn contacts(account: Uuid, after: Option<Uuid>, limit: i64) -> Vec<Contact>;
    /// A property.
    fn property(account: Uuid, id: Uuid) -> Property;
    /// The account's properties.
    fn properties(account: Uuid) -> Vec<Property>;
    /// Every property with an SMS sender, all accounts (metrics).
    fn properties_with_sms() -> Vec<Property>;
    /// A template.
    fn template(account: Uuid, id: Uuid) -> Template;
    /// Templates, of one property or all.
    fn templates(account: Uuid, property: Option<Uuid>) -> Vec<Template>;
    /// A rule.
    fn rule(account: Uuid, id: Uuid) -> Rule;
    /// Rules, of one property or all.
    fn rules(account: Uuid, property: Option<Uuid>) -> Vec<Rule>;
    /// A message with its content.
    fn message(account: Uuid, id: Uuid) -> MessageRecord;
    /// Messages, filtered and paged.
    fn messages(account: Uuid, filter: &MessageFilter) -> Vec<MessageRecord>;
    /// A message's status history.
    fn message_events(account: Uuid, id: Uuid) -> Vec<MessageEvent>;
    /// Messages due in a range, in due order (one account, or all).
    fn timeline(account: Option<Uuid>, from: Timestamp, to: Timestamp, limit: i64) -> Vec<TimelineRow>;
    /// Staff notifications, newest first.
    fn notifications(account: Uuid, limit: i64) -> Vec<NotificationRecord>;
    /// A property's bulk SMS campaigns.
    fn campaigns(account: Uuid, property: Uuid) -> Vec<CampaignRecord>;
    /// Every version of a property's consent texts, newest first.
    fn consent_texts(account: Uuid, property: Uuid) -> Vec<ConsentText>;
    /// A property's SMS use in a local month.
    fn sms_usage(property: Uuid, month: &str) -> UsageRow;
    /// Messages by status and channel, all accounts (metrics).
    fn count_by_status_and_channel() -> Vec<(String, String, i64)>;
    /// Whether the database answers.
    fn ping() -> ();
    /// The account's channel connections, of one property or all.
    fn connections(account: Uuid, property: Option<Uuid>) -> Vec<bellhop_store::Connection>;
    /// One channel connection.
    fn connection(account: Uuid, id: Uuid) -> bellhop_store::Connection;
    /// The booking with this voucher number.
    fn booking_id_by_voucher(account: Uuid, voucher: &str) -> Option<Uuid>;
    /// The account's autoresponder mailboxes.
    fn mailboxes(account: Uuid) -> Vec<bellhop_domain::mailbox::Mailbox>;
    /// One mailbox.
    fn mailbox(account: Uuid, id: Uuid) -> bellhop_domain::mailbox::Mailbox;
    /// The account's inbound mail, newest first.
    fn inbound_mails(account: Uuid, filter: &bellhop_store::InboundFilter) -> Vec<bellhop_store::InboundMail>;
    /// The account's sequences.
    fn sequences(account: Uuid) -> Vec<bellhop_store::Sequence>;
    /// One sequence.
    fn sequence(account: Uuid, id: Uuid) -> bellhop_store::Sequence;
    /// Enrolments, of one sequence and/or contact.
    fn enrolments(account: Uuid, sequence: Option<Uuid>, contact: Option<Uuid>) -> Vec<bellhop_store::Enrolment>;
    /// One enrolment with its steps' messages.
    fn enrolment(account: Uuid, id: Uuid) -> (bellhop_store::Enrolment, Vec<bellhop_store::StepMessage>);
    /// One inbound mail with the message as received.
    fn inbound_mail(account: Uuid, id: Uuid) -> (bellhop_store::InboundMail, Option<Vec<u8>>);
}

impl Queries {
    pub(crate) fn new(store: Store) -> Queries {
        Queries { store }
    }

    /// Connections open in this node's pool, and how many are idle.
    pub fn pool_stats(&self) -> (u32, usize) {
        self.store.pool_stats()
    }
}
