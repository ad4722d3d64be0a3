//! Real peers for tests: Postfix's smtp-sink on a free loopback port, writing each mail to a
//! file, and a world with one property, one template and one rule.
#![allow(dead_code)]

use bellhop_domain::property::{Property, Sender};
use bellhop_domain::render::{Category, EmailContent, Template};
use bellhop_domain::rule::{Anchor, Channel, Conditions, LatePolicy, Offset, Rule};
use bellhop_domain::time::{LocalTime, parse_time_zone};
use bellhop_domain::{BookingStatus, Schedule};
use bellhop_engine::{BookingDraft, Engine};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn smtp_sink_binary() -> PathBuf {
    for candidate in ["/usr/sbin/smtp-sink", "/usr/bin/smtp-sink"] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!("smtp-sink is missing: apt-get install postfix (.ci/run installs it)");
}

/// Postfix's smtp-sink, dumping every mail into its own file.
pub struct Sink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Sink {
    pub fn start() -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "root".into());
        let child = Command::new(smtp_sink_binary())
            .args([
                "-u",
                &user,
                "-d",
                &format!("{}/m.", dir.path().display()),
                &format!("127.0.0.1:{port}"),
                "256",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start smtp-sink");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "smtp-sink did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Sink { port, dir, child }
    }

    pub fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("m."))
            })
            .collect()
    }

    pub fn count(&self) -> usize {
        self.files().len()
    }

    /// The Message-ID of every mail received, once per mail.
    pub fn message_ids(&self) -> Vec<String> {
        self.files()
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                text.lines()
                    .find_map(|l| l.strip_prefix("Message-ID: "))
                    .map(str::to_owned)
                    .unwrap_or_default()
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn property(account: Uuid) -> Property {
    Property {
        id: Uuid::now_v7(),
        account_id: account,
        name: "Hotel Schöne Aussicht".into(),
        time_zone_name: "Europe/Vienna".into(),
        time_zone: parse_time_zone("Europe/Vienna").unwrap(),
        country: "AT".into(),
        default_language: "de".into(),
        check_in_time: LocalTime::hm(15, 0),
        check_out_time: LocalTime::hm(10, 0),
        sender: Sender {
            email: "info@hotel.example".into(),
            name: "Hotel Schöne Aussicht".into(),
            reply_to: Some("rezeption@hotel.example".into()),
        },
        layout_html: Some(
            "<html><body>{{ content }}<footer>{{ property.name }}</footer></body></html>".into(),
        ),
        layout_text: None,
    }
}

/// A confirmation sent as soon as a booking is created.
pub async fn confirmation(engine: &Engine, account: Uuid, property: Uuid) -> Uuid {
    let mut variants = BTreeMap::new();
    variants.insert(
        "de".to_owned(),
        EmailContent {
            subject: "Grüße, {{ guest.first_name }} – Ihre Anreise am {{ booking.arrival }}".into(),
            html: "<p>Liebe(r) {{ guest.full_name }}, wir freuen uns auf Sie. Grüße aus Österreich!</p>".into(),
            text: None,
        },
    );
    let template = Template {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property,
        name: "Bestätigung".into(),
        category: Category::Service,
        variants,
        version: 1,
    };
    engine.save_template(&template, true).await.unwrap();
    let rule = Rule {
        id: Uuid::now_v7(),
        account_id: account,
        property_id: property,
        name: "Confirmation".into(),
        anchor: Anchor::BookingCreated,
        offset: Offset::minutes(0),
        time_of_day: None,
        conditions: Conditions::default(),
        channel: Channel::Email,
        template_id: template.id,
        late_policy: LatePolicy::SendNow,
        enabled: true,
    };
    engine.save_rule(&rule, true).await.unwrap();
    rule.id
}

/// A confirmed two-night stay.
pub fn stay(property: Uuid, contact: Uuid, arrival: jiff::civil::Date) -> BookingDraft {
    BookingDraft {
        property_id: property,
        contact_id: contact,
        status: BookingStatus::Confirmed,
        schedule: Schedule::Stay {
            arrival,
            departure: arrival.checked_add(jiff::Span::new().days(2)).unwrap(),
        },
        option_until: None,
        hold_expires_at: None,
        room_category: None,
        service: None,
        staff: None,
        source_channel: None,
        external_id: None,
        voucher: None,
        price_cents: None,
        deposit_cents: None,
        paid_cents: None,
        guests: None,
        language: None,
        notes: None,
    }
}
