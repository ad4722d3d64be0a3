//! An appointment business that sends SMS: a salon in Vienna with a sender, an SMS reminder
//! rule 24 h before, and dispatchers that write SMS and calls into folders.

use super::helpers::World;
use bellhop_domain::billing::SmsPlan;
use bellhop_domain::property::{Property, Sender, SmsSettings};
use bellhop_domain::render::{Category, SmsContent, Template, Variants};
use bellhop_domain::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, Rule};
use bellhop_domain::sms::SenderId;
use bellhop_domain::time::{LocalTime, parse_time_zone};
use bellhop_domain::{BookingFields, BookingStatus, Contact, Schedule};
use bellhop_engine::{DispatchConfig, Dispatcher, Transports};
use bellhop_store::{MessageFilter, MessageRecord, Store, StoreOptions};
use bellhop_transport::sms::{SmsFolder, SmsGateway, VoiceGateway};
use bellhop_transport::{EmailTransport, EmlFolder};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use uuid::Uuid;

pub struct Salon {
    pub property: Uuid,
}

/// The installation's caller id for calls from properties with a name as sender.
pub const CALLER_ID: &str = "+43512123456";

pub fn sms_settings() -> SmsSettings {
    SmsSettings {
        sender: Some(SenderId::parse("SalonAnna").unwrap()),
        ..SmsSettings::default()
    }
}

impl World {
    /// A salon property with an SMS reminder "24 h before" on `channel`.
    pub async fn salon(&self, sms: SmsSettings, channel: Channel, text: &str) -> Salon {
        self.salon_reminding(sms, channel, text, -24).await
    }

    /// A salon property with an SMS reminder `hours` before the appointment on `channel`.
    pub async fn salon_reminding(
        &self,
        sms: SmsSettings,
        channel: Channel,
        text: &str,
        hours: i32,
    ) -> Salon {
        let property = Property {
            id: Uuid::now_v7(),
            account_id: self.account,
            name: "Salon Anna".into(),
            time_zone_name: "Europe/Vienna".into(),
            time_zone: parse_time_zone("Europe/Vienna").unwrap(),
            country: "AT".into(),
            default_language: "de".into(),
            check_in_time: LocalTime::hm(15, 0),
            check_out_time: LocalTime::hm(10, 0),
            sender: Sender {
                email: "termine@salon.example".into(),
                name: "Salon Anna".into(),
                reply_to: None,
            },
            layout_html: None,
            layout_text: None,
            brand: Default::default(),
            consent: Default::default(),
            sms,
        };
        self.engine.create_property(&property).await.unwrap();
        let sms_template = Template {
            id: Uuid::now_v7(),
            account_id: self.account,
            property_id: property.id,
            name: "Erinnerung SMS".into(),
            category: Category::Service,
            variants: Variants::Sms(
                [("de".to_owned(), SmsContent { text: text.into() })]
                    .into_iter()
                    .collect(),
            ),
            version: 1,
        };
        self.engine
            .save_template(&sms_template, true)
            .await
            .unwrap();
        let email_template = bellhop_domain::presets::appointments()[1]
            .instantiate(self.account, property.id)
            .0;
        self.engine
            .save_template(&email_template, true)
            .await
            .unwrap();
        let (template_id, fallback) = match channel {
            Channel::Sms => (sms_template.id, None),
            Channel::SmsOrEmail => (sms_template.id, Some(email_template.id)),
            Channel::EmailOrSms => (email_template.id, Some(sms_template.id)),
            Channel::Email => (email_template.id, None),
        };
        let rule = Rule {
            id: Uuid::now_v7(),
            account_id: self.account,
            property_id: property.id,
            name: "SMS 24 h before".into(),
            anchor: Anchor::Start,
            offset: Offset::hours(hours),
            time_of_day: None,
            conditions: Conditions::default(),
            channel,
            template_id,
            fallback_template_id: fallback,
            late_policy: LatePolicy::SendIfBeforeAnchor,
            enabled: true,
        };
        self.engine.save_rule(&rule, true).await.unwrap();
        Salon {
            property: property.id,
        }
    }

    pub async fn customer(&self, phone: Option<&str>, email: Option<&str>) -> Uuid {
        let contact = Contact {
            id: Uuid::now_v7(),
            account_id: self.account,
            first_name: Some("Eva".into()),
            last_name: Some("Berger".into()),
            email: email.map(|e| e.parse().unwrap()),
            phone: phone.map(Into::into),
            language: Some("de".parse().unwrap()),
            ..Contact::default()
        };
        self.engine.upsert_contact(&contact).await.unwrap();
        contact.id
    }

    /// Records that the contact agreed to (or withdrew) `purpose` on `channel`, as staff were
    /// told.
    pub async fn consent(
        &self,
        contact: Uuid,
        purpose: bellhop_domain::consent::Purpose,
        channel: bellhop_domain::consent::Channel,
        granted: bool,
    ) {
        let decision = bellhop_engine::ConsentDecision::new(
            purpose,
            channel,
            granted,
            bellhop_domain::consent::Source::Staff,
        );
        self.engine
            .record_consent(self.account, contact, &decision)
            .await
            .unwrap();
    }

    pub async fn appointment_at(&self, salon: &Salon, contact: Uuid, start: &str) -> Uuid {
        self.book(salon, contact, start, None).await
    }

    pub async fn book(&self, salon: &Salon, contact: Uuid, start: &str, sms: Option<bool>) -> Uuid {
        self.try_book(salon, contact, start, sms).await.unwrap()
    }

    pub async fn try_book(
        &self,
        salon: &Salon,
        contact: Uuid,
        start: &str,
        sms: Option<bool>,
    ) -> Result<Uuid, bellhop_engine::EngineError> {
        let start: Timestamp = start.parse().unwrap();
        let schedule = Schedule::Appointment {
            start,
            end: start.checked_add(SignedDuration::from_hours(1)).unwrap(),
        };
        let mut draft =
            BookingFields::new(salon.property, contact, BookingStatus::Confirmed, schedule);
        draft.details.service = Some("Haarschnitt".into());
        draft.details.sms_reminders = sms;
        Ok(self
            .engine
            .create_booking(self.account, draft, "test")
            .await?
            .0
            .id)
    }

    pub fn sms_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("sms")
    }

    pub fn call_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("calls")
    }

    pub fn transports(&self) -> Transports {
        Transports {
            email: Arc::new(EmailTransport::Folder(
                EmlFolder::new(self.dir.path().join("outbox")).unwrap(),
            )),
            sms: Arc::new(SmsGateway::Folder(SmsFolder::new(self.sms_dir()).unwrap())),
            voice: Arc::new(VoiceGateway::Folder(
                SmsFolder::new(self.call_dir())
                    .unwrap()
                    .with_caller_id(Some(CALLER_ID.into())),
            )),
            webhook: Default::default(),
        }
    }

    /// A salon that calls landlines, with transports whose voice gateway has no caller id.
    pub async fn landline_salon_without_caller_id(&self) -> (Salon, Transports) {
        let salon = self
            .salon(
                SmsSettings {
                    landline_voice: true,
                    ..sms_settings()
                },
                Channel::Sms,
                "Hallo {{ guest.first_name }}, bis bald!",
            )
            .await;
        let mut transports = self.transports();
        transports.voice = Arc::new(VoiceGateway::Folder(
            SmsFolder::new(self.call_dir()).unwrap(),
        ));
        (salon, transports)
    }

    pub fn sms_dispatcher(&self, node: &str) -> Dispatcher {
        self.sms_dispatcher_with(node, self.store.clone(), self.transports())
    }

    pub fn sms_dispatcher_with(
        &self,
        node: &str,
        store: Store,
        transports: Transports,
    ) -> Dispatcher {
        Dispatcher::new(
            store,
            transports,
            Arc::new(self.clock.clone()),
            DispatchConfig {
                node: node.into(),
                batch_size: 10,
                ..DispatchConfig::default()
            },
        )
    }

    pub async fn other_pool(&self) -> Store {
        Store::open_url(&self.database_url, &StoreOptions::default())
            .await
            .unwrap()
    }

    pub fn sms_file(&self, id: Uuid) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.sms_dir().join(format!("{id}.sms.json"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub async fn messages_of_contact(&self, contact: Uuid) -> Vec<MessageRecord> {
        self.messages(MessageFilter {
            contact_id: Some(contact),
            ..MessageFilter::default()
        })
        .await
    }

    pub async fn only_message(&self, booking: Uuid) -> MessageRecord {
        let all = self
            .messages(MessageFilter {
                booking_id: Some(booking),
                ..MessageFilter::default()
            })
            .await;
        assert_eq!(all.len(), 1, "{all:?}");
        let id = all[0].id;
        self.store.message(self.account, id).await.unwrap()
    }
}

pub fn package(size: u32) -> SmsPlan {
    SmsPlan::Package {
        size,
        price_cents: 1200,
    }
}
