//! Hosted mailboxes watched over IMAP. A node leases each mailbox (one watcher per mailbox
//! across nodes), reads what arrived after the last UID it took, hands every message to
//! `receive_mail` exactly as SMTP mail, records its progress after each message (so a restart
//! answers nothing twice; the inbound record's `imap:<uidvalidity>:<uid>` key catches the
//! rest), then waits in IDLE or polls. A mailbox watched for the first time, or whose
//! UIDVALIDITY changed, starts after what it holds now: old mail is not answered.

use crate::Engine;
use crate::autoreply::{Delivery, IntakeError};
use bellhop_domain::mailbox::{ImapSource, Mailbox};
use bellhop_store::ImapLease;
use bellhop_transport::imap::{ImapAccount, ImapWatch};
use std::time::Duration;
use tokio::sync::watch;

/// How a node watches its mailboxes.
#[derive(Clone, Debug)]
pub struct ImapWatchConfig {
    /// This node's name (the lease owner).
    pub node: String,
    /// How often unwatched mailboxes are looked for, and the longest IDLE or poll wait.
    pub every: Duration,
    /// How long a lease lasts without renewal (a dead node's mailboxes move on after it).
    pub lease: Duration,
    /// The hosts mailboxes may be on.
    pub targets: bellhop_transport::ssrf::OutboundPolicy,
    /// Per exchange with the server.
    pub timeout: Duration,
    /// Larger messages are skipped.
    pub max_bytes: usize,
}

fn lease_until(engine: &Engine, lease: Duration) -> jiff::Timestamp {
    let now = engine.now();
    now.checked_add(jiff::SignedDuration::try_from(lease).unwrap_or_default())
        .unwrap_or(now)
}

impl Engine {
    /// Watches the installation's IMAP mailboxes until `stop` turns true.
    pub async fn watch_mailboxes(&self, config: ImapWatchConfig, mut stop: watch::Receiver<bool>) {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let now = self.now();
            match self
                .store()
                .claim_imap(&config.node, now, lease_until(self, config.lease), 50)
                .await
            {
                Ok(leases) => {
                    for lease in leases {
                        let (engine, config, stop) = (self.clone(), config.clone(), stop.clone());
                        tasks.spawn(async move { engine.watch_one(lease, config, stop).await });
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot claim IMAP mailboxes"),
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                _ = tokio::time::sleep(config.every) => {}
                _ = stop.changed() => break,
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn watch_one(
        &self,
        lease: ImapLease,
        config: ImapWatchConfig,
        mut stop: watch::Receiver<bool>,
    ) {
        let m = lease.mailbox;
        let node = config.node.clone();
        let Some(source) = m.imap.clone() else {
            return;
        };
        let password = lease
            .sealed_secret
            .as_deref()
            .and_then(|s| self.signer().open("imap", s));
        let mut progress = lease.progress;
        loop {
            let result = match &password {
                Some(p) => {
                    self.read_mailbox(&m, &source, p, &mut progress, &config, &stop)
                        .await
                }
                None => {
                    Err("the stored password cannot be opened (installation key changed?)".into())
                }
            };
            let error = result.as_ref().err().cloned();
            if let Some(e) = &error {
                tracing::warn!(mailbox = %m.id, error = %e, "IMAP mailbox not read");
            }
            let kept = self
                .store()
                .imap_progress(
                    m.id,
                    &node,
                    progress,
                    error.as_deref(),
                    self.now(),
                    lease_until(self, config.lease),
                )
                .await
                .unwrap_or(false);
            if !kept || *stop.borrow() || result.is_ok() {
                break;
            }
            // After an error, try again a little later.
            tokio::select! {
                _ = tokio::time::sleep(config.every) => {}
                _ = stop.changed() => break,
            }
        }
        let _ = self.store().release_imap(m.id, &node).await;
    }

    /// One connection: read what is new, wait, repeat, until the lease is lost or `stop`.
    async fn read_mailbox(
        &self,
        m: &Mailbox,
        source: &ImapSource,
        password: &str,
        progress: &mut Option<(u32, u32)>,
        config: &ImapWatchConfig,
        stop: &watch::Receiver<bool>,
    ) -> Result<(), String> {
        let account = ImapAccount {
            host: source.host.clone(),
            port: source.port,
            tls: source.tls,
            user: source.user.clone(),
            password: password.to_owned(),
            folder: source.folder.clone(),
        };
        let mut session = ImapWatch::connect(&account, &config.targets, config.timeout)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            let validity = session.uid_validity;
            let last = match *progress {
                Some((v, uid)) if v == validity => uid,
                _ => session.highest_uid,
            };
            *progress = Some((validity, last));
            let fetched = session
                .fetch_after(last, 50, config.max_bytes)
                .await
                .map_err(|e| e.to_string())?;
            for f in fetched {
                if let Some(raw) = &f.raw {
                    let delivery = Delivery {
                        via: "imap",
                        envelope_from: None,
                        envelope_to: m.address.clone(),
                        source_key: Some(format!("imap:{validity}:{}", f.uid)),
                        raw,
                    };
                    match self.receive_mail(delivery).await {
                        Ok(_) => {}
                        Err(IntakeError::Refused(r)) => {
                            tracing::warn!(mailbox = %m.id, uid = f.uid, reason = %r, "IMAP message refused, skipped");
                        }
                        Err(e) => return Err(e.to_string()),
                    }
                } else {
                    tracing::warn!(mailbox = %m.id, uid = f.uid, "IMAP message over the size limit, skipped");
                }
                *progress = Some((validity, f.uid));
                if !self.renew(m, progress, config).await {
                    return Ok(());
                }
            }
            if !self.renew(m, progress, config).await || *stop.borrow() {
                session.logout().await;
                return Ok(());
            }
            session = session
                .wait(config.every)
                .await
                .map_err(|e| e.to_string())?;
            if *stop.borrow() {
                session.logout().await;
                return Ok(());
            }
        }
    }

    /// Records progress and extends the lease; false when another node has the mailbox now.
    async fn renew(
        &self,
        m: &Mailbox,
        progress: &Option<(u32, u32)>,
        config: &ImapWatchConfig,
    ) -> bool {
        self.store()
            .imap_progress(
                m.id,
                &config.node,
                *progress,
                None,
                self.now(),
                lease_until(self, config.lease),
            )
            .await
            .unwrap_or(false)
    }
}
