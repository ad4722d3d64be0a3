//! A fresh world per test: a scratch store (SQLite file, or a PostgreSQL schema), a manual clock, a hotel-and-salon property with the
//! presets, and an .eml folder.

use bellhop_domain::presets;
use bellhop_domain::property::{Property, Sender};
use bellhop_domain::time::{LocalTime, parse_time_zone};
use bellhop_domain::{BookingFields, BookingStatus, Contact, Schedule};
use bellhop_engine::{DispatchConfig, Dispatcher, Engine, ManualClock};
use bellhop_store::{MessageFilter, MessageRecord, Store, StoreOptions, scratch};
use bellhop_transport::{EmailTransport, EmlFolder, SmtpConfig, SmtpTls, SmtpTransport};
use jiff::Timestamp;
use jiff::civil::Date;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub engine: Engine,
    /// The engine's store, for what only a node's wiring and the tests' checks do.
    pub store: Store,
    pub clock: ManualClock,
    pub account: Uuid,
    pub property: Uuid,
}

impl World {
    pub async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let (store, database_url) = scratch::open(dir.path(), &StoreOptions::default())
            .await
            .unwrap();
        let clock = ManualClock::new(ts("2026-03-01T00:00:00Z"));
        let engine = Engine::new(store.clone(), Arc::new(clock.clone()));
        let account = Uuid::now_v7();
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(account, "Test", clock.now_ts())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let property = Property {
            id: Uuid::now_v7(),
            account_id: account,
            name: "Hotel Test".into(),
            time_zone_name: "Europe/Vienna".into(),
            time_zone: parse_time_zone("Europe/Vienna").unwrap(),
            country: "AT".into(),
            default_language: "de".into(),
            check_in_time: LocalTime::hm(15, 0),
            check_out_time: LocalTime::hm(10, 0),
            sender: Sender {
                email: "info@hotel.example".into(),
                name: "Hotel Test".into(),
                reply_to: None,
            },
            layout_html: None,
            layout_text: None,
            brand: Default::default(),
            consent: Default::default(),
            sms: Default::default(),
        };
        engine.create_property(&property).await.unwrap();
        for preset in presets::hotel().into_iter().chain(presets::appointments()) {
            let (template, rule) = preset.instantiate(account, property.id);
            engine.save_template(&template, true).await.unwrap();
            engine.save_rule(&rule, true).await.unwrap();
        }
        World {
            dir,
            database_url,
            store,
            engine,
            clock,
            account,
            property: property.id,
        }
    }

    pub async fn guest_named(&self, first: Option<&str>, email: &str) -> Uuid {
        let contact = Contact {
            id: Uuid::now_v7(),
            account_id: self.account,
            first_name: first.map(Into::into),
            last_name: Some("Gast".into()),
            email: Some(email.parse().unwrap()),
            language: Some("de".parse().unwrap()),
            ..Contact::default()
        };
        self.engine.upsert_contact(&contact).await.unwrap();
        contact.id
    }

    pub async fn guest(&self, email: &str, language: Option<&str>) -> Uuid {
        let contact = Contact {
            id: Uuid::now_v7(),
            account_id: self.account,
            first_name: Some("Anna".into()),
            last_name: Some("Gast".into()),
            email: Some(email.parse().unwrap()),
            language: language.map(|l| l.parse().unwrap()),
            ..Contact::default()
        };
        self.engine.upsert_contact(&contact).await.unwrap();
        contact.id
    }

    pub async fn guest_without_email(&self) -> Uuid {
        let contact = Contact {
            id: Uuid::now_v7(),
            account_id: self.account,
            first_name: Some("Otto".into()),
            ..Contact::default()
        };
        self.engine.upsert_contact(&contact).await.unwrap();
        contact.id
    }

    fn draft(&self, contact: Uuid, status: BookingStatus, schedule: Schedule) -> BookingFields {
        let mut fields = BookingFields::new(self.property, contact, status, schedule);
        fields.details.room_category = Some("DZ".into());
        fields.details.guests = Some(2);
        fields
    }

    pub async fn stay(&self, contact: Uuid, arrival: Date, departure: Date) -> Uuid {
        let draft = self.draft(
            contact,
            BookingStatus::Confirmed,
            Schedule::Stay { arrival, departure },
        );
        self.engine
            .create_booking(self.account, draft, "test")
            .await
            .unwrap()
            .0
            .id
    }

    pub async fn option(&self, contact: Uuid, arrival: Date, until: Timestamp) -> Uuid {
        let mut draft = self.draft(
            contact,
            BookingStatus::Option,
            Schedule::Stay {
                arrival,
                departure: arrival.tomorrow().unwrap(),
            },
        );
        draft.option_until = Some(until);
        self.engine
            .create_booking(self.account, draft, "test")
            .await
            .unwrap()
            .0
            .id
    }

    pub async fn appointment(&self, contact: Uuid, start: Timestamp, n: i64) -> Uuid {
        let start = start
            .checked_add(jiff::SignedDuration::from_mins(n))
            .unwrap();
        let end = start
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap();
        let draft = self.draft(
            contact,
            BookingStatus::Confirmed,
            Schedule::Appointment { start, end },
        );
        self.engine
            .create_booking(self.account, draft, "test")
            .await
            .unwrap()
            .0
            .id
    }

    /// Every planned, deferred or sending message has its dispatch queue row, and nothing else
    /// has one.
    pub async fn assert_queue_matches_messages(&self) {
        let wrong = bellhop_store::scratch::queue_mismatches(&self.store)
            .await
            .unwrap();
        assert!(wrong.is_empty(), "dispatch queue out of step: {wrong:?}");
    }

    pub async fn edit(&self, booking: Uuid, f: impl FnOnce(&mut BookingFields)) {
        let current = self.store.booking(self.account, booking).await.unwrap();
        let mut draft = current.fields.clone();
        f(&mut draft);
        self.engine
            .update_booking(self.account, booking, draft, None, "test")
            .await
            .unwrap();
    }

    pub async fn message_of(&self, booking: Uuid, rule_name: &str) -> MessageRecord {
        let rules = self.store.rules(self.account, None).await.unwrap();
        let rule = rules
            .iter()
            .find(|r| r.name == rule_name)
            .unwrap_or_else(|| panic!("rule {rule_name}"));
        let all = self
            .messages(MessageFilter {
                booking_id: Some(booking),
                ..Default::default()
            })
            .await;
        all.into_iter()
            .find(|m| m.rule_id == Some(rule.id))
            .unwrap_or_else(|| panic!("no message for {rule_name}"))
    }

    /// The account's messages that match `filter` (at most 500).
    pub async fn messages(&self, filter: MessageFilter) -> Vec<MessageRecord> {
        let filter = MessageFilter {
            limit: 500,
            ..filter
        };
        self.store.messages(self.account, &filter).await.unwrap()
    }

    fn eml_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("outbox")
    }

    fn config(&self, node: &str) -> DispatchConfig {
        DispatchConfig {
            node: node.into(),
            batch_size: 50,
            ..DispatchConfig::default()
        }
    }

    pub fn dispatcher(&self, node: &str) -> Dispatcher {
        let transport = EmailTransport::Folder(EmlFolder::new(self.eml_dir()).unwrap());
        Dispatcher::new(
            self.store.clone(),
            bellhop_engine::Transports::email_only(Arc::new(transport)),
            Arc::new(self.clock.clone()),
            self.config(node),
        )
    }

    pub async fn dispatcher_on_new_pool(&self, node: &str) -> Dispatcher {
        let store = Store::open_url(&self.database_url, &StoreOptions::default())
            .await
            .unwrap();
        let transport = EmailTransport::Folder(EmlFolder::new(self.eml_dir()).unwrap());
        Dispatcher::new(
            store,
            bellhop_engine::Transports::email_only(Arc::new(transport)),
            Arc::new(self.clock.clone()),
            self.config(node),
        )
    }

    pub fn dispatcher_to_closed_port(&self, node: &str) -> Dispatcher {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        self.dispatcher_to_smtp(node, port, Duration::from_secs(2))
    }

    /// A dispatcher sending to an SMTP server on 127.0.0.1:`port`, one connection.
    pub fn dispatcher_to_smtp(&self, node: &str, port: u16, timeout: Duration) -> Dispatcher {
        self.dispatcher_to_smtp_with(self.config(node), port, timeout)
    }

    /// A dispatcher with a lease of `lease` sending to an SMTP server on 127.0.0.1:`port`.
    pub fn dispatcher_to_smtp_leasing(
        &self,
        node: &str,
        lease: jiff::SignedDuration,
        port: u16,
    ) -> Dispatcher {
        let config = DispatchConfig {
            lease,
            ..self.config(node)
        };
        self.dispatcher_to_smtp_with(config, port, Duration::from_secs(30))
    }

    fn dispatcher_to_smtp_with(
        &self,
        config: DispatchConfig,
        port: u16,
        timeout: Duration,
    ) -> Dispatcher {
        let smtp = SmtpTransport::new(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            pool_size: 2,
            timeout,
            hello_name: "bellhop.test".into(),
        });
        Dispatcher::new(
            self.store.clone(),
            bellhop_engine::Transports::email_only(Arc::new(EmailTransport::Smtp(smtp))),
            Arc::new(self.clock.clone()),
            config,
        )
    }

    pub fn eml(&self, id: Uuid) -> String {
        std::fs::read_to_string(self.eml_dir().join(format!("{id}.eml"))).unwrap()
    }

    pub fn eml_exists(&self, id: Uuid) -> bool {
        self.eml_dir().join(format!("{id}.eml")).exists()
    }

    pub fn eml_count(&self) -> usize {
        std::fs::read_dir(self.eml_dir())
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "eml")
                })
                .count()
            })
            .unwrap_or(0)
    }
}

trait NowTs {
    fn now_ts(&self) -> Timestamp;
}

impl NowTs for ManualClock {
    fn now_ts(&self) -> Timestamp {
        bellhop_engine::Clock::now(self)
    }
}
