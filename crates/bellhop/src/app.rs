//! Wiring: open and migrate the store, then run the API, the dispatcher and the expiry sweep
//! until a signal asks to stop.

use crate::config::Config;
use anyhow::Context;
use bellhop_engine::{Clock, Dispatcher, Engine, SystemClock, Transports};
use bellhop_store::Store;
use bellhop_transport::callbacks::Callbacks;
use bellhop_web::AppState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// Opens the configured database and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open_url(&config.database, &config.store_options())
        .await
        .with_context(|| format!("cannot open database {:?}", config.database))?;
    store.migrate().await.context("migrations failed")?;
    Ok(store)
}

/// A running server.
pub struct Running {
    /// The address the API listens on (port 0 resolved).
    pub addr: SocketAddr,
    /// The address the inbound SMTP listener is bound to, if it runs.
    pub smtp_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Asks every task to stop and waits: the dispatcher finishes its batch first.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The installation's callback signer: its key is generated once and kept in the database,
/// so every node signs and checks the same tokens.
pub async fn callbacks(config: &Config, store: &Store) -> anyhow::Result<Callbacks> {
    let key = store
        .installation_secret(
            "callback_key",
            || {
                let bytes: [u8; 32] = rand::random();
                bytes.iter().map(|b| format!("{b:02x}")).collect()
            },
            SystemClock.now(),
        )
        .await
        .context("cannot read the installation's callback key")?;
    Ok(Callbacks::new(&config.public_url(), key.as_bytes()))
}

/// Starts what the node's role asks for: the API, and/or the dispatcher and expiry sweep.
pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    bellhop_web::metrics::install();
    let store = open_store(config).await?;
    let callbacks = callbacks(config, &store).await?;
    let engine = Engine::new(store.clone(), clock.clone()).with_signer(callbacks.clone());
    let (shutdown, stop) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let state = AppState {
        engine: engine.clone(),
        webhook_targets: config.webhook_targets()?,
        imap_targets: config.imap_targets()?,
        callbacks: config.callback_settings(),
        ui: if config.role.api() {
            config.ui_settings()?
        } else {
            Default::default()
        },
    };
    let router = if config.role.api() {
        bellhop_web::app(state)
    } else {
        bellhop_web::health(state)
    };
    let mut tasks = vec![tokio::spawn(crate::http::serve(
        listener,
        router,
        config.http.limits(),
        stop.clone(),
    ))];
    let mut smtp_addr = None;
    if config.role.api() && !config.inbound.smtp_listen.trim().is_empty() {
        let smtp = tokio::net::TcpListener::bind(config.inbound.smtp_listen.trim())
            .await
            .with_context(|| {
                format!(
                    "cannot listen for SMTP on {} (inbound.smtp_listen; empty switches it off)",
                    config.inbound.smtp_listen
                )
            })?;
        smtp_addr = Some(smtp.local_addr()?);
        tasks.push(tokio::spawn(crate::smtp_listener::serve(
            smtp,
            engine.clone(),
            config.inbound.limits()?,
            stop.clone(),
        )));
    }
    if config.role.worker() {
        tasks.push(start_dispatch(config, &store, &clock, &callbacks, &stop)?);
        let poller = bellhop_transport::alpinebits::AlpineBitsClient::new(
            Duration::from_secs(config.channels.webhook_timeout_secs.max(1) * 3),
            config.webhook_targets()?,
        )?;
        let watcher = engine.clone();
        let imap = config
            .inbound
            .imap_watch(config.dispatch_config().node, config.imap_targets()?);
        let imap_stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            watcher.watch_mailboxes(imap, imap_stop).await
        }));
        tasks.push(start_sweep(
            engine,
            config.dispatch.retain_bodies_days,
            (poller, config.dispatch_config().node),
            stop.clone(),
        ));
    }
    tracing::info!(%addr, smtp = ?smtp_addr, role = ?config.role, backend = ?store.backend(), "bellhop is serving");
    Ok(Running {
        addr,
        smtp_addr,
        shutdown,
        tasks,
    })
}

fn start_dispatch(
    config: &Config,
    store: &Store,
    clock: &Arc<dyn Clock>,
    callbacks: &Callbacks,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let transport = Arc::new(config.transport()?);
    let transports = Transports {
        email: transport.clone(),
        sms: Arc::new(config.sms_gateway(callbacks)?),
        voice: Arc::new(config.voice_gateway(callbacks)?),
        webhook: Arc::new(config.channels.webhook_sender(config.webhook_targets()?)?),
    };
    let dispatch = config.dispatch_config();
    tracing::info!(node = %dispatch.node, workers = config.dispatch.workers, batch = dispatch.batch_size,
        sms = transports.sms.name(), "dispatching");
    let dispatcher = Arc::new(
        Dispatcher::new(store.clone(), transports, clock.clone(), dispatch)
            .with_signer(callbacks.clone()),
    );
    let workers: Vec<_> = (0..config.dispatch.workers)
        .map(|_| {
            let (dispatcher, stop) = (dispatcher.clone(), stop.clone());
            tokio::spawn(async move { dispatcher.run(stop).await })
        })
        .collect();
    Ok(tokio::spawn(async move {
        for worker in workers {
            let _ = worker.await;
        }
        transport.close().await;
    }))
}

fn start_sweep(
    engine: Engine,
    retain_bodies_days: Option<u32>,
    (poller, node): (bellhop_transport::alpinebits::AlpineBitsClient, String),
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Bodies past their retention go once an hour: 120 turns of the 30 s sweep.
        for turn in 0u64.. {
            if let Err(e) = engine.expire_lapsed().await {
                tracing::error!(error = %e, "expiry sweep failed");
            }
            // Channels polled as an AlpineBits client, each at its own period (≥ 30 s).
            if let Err(e) = engine.poll_channels(&poller, &node).await {
                tracing::error!(error = %e, "channel polling failed");
            }
            if let Some(days) = retain_bodies_days
                && turn % 120 == 0
            {
                match engine.forget_old_bodies(days).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(deleted = n, days, "message bodies past retention deleted")
                    }
                    Err(e) => tracing::error!(error = %e, "retention sweep failed"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                _ = stop.changed() => break,
            }
        }
    })
}

/// `bellhop serve`: runs until SIGINT or SIGTERM.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let running = start(config, Arc::new(SystemClock)).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("stopping: finishing the batch in hand");
    running.stop().await;
    Ok(())
}

/// The kannel.conf groups that connect Kannel to this installation.
pub async fn kannel_config(config: &Config) -> anyhow::Result<String> {
    let token = match &config.sms.kannel.mo_token {
        Some(t) => t.clone(),
        None => {
            let store = open_store(config).await?;
            callbacks(config, &store).await?.sign("mo", "kannel")
        }
    };
    let k = &config.sms.kannel;
    let user = if k.username.is_empty() {
        "bellhop"
    } else {
        &k.username
    };
    Ok(format!(
        "# bellhop logs in to smsbox's sendsms as this user (sms.kannel.username / password).\n\
         group = sendsms-user\n\
         username = {user}\n\
         password = <the value of sms.kannel.password>\n\
         concatenation = true\n\
         max-messages = 10\n\n\
         # Inbound SMS (STOP, START, replies) go to bellhop; the token authenticates Kannel.\n\
         group = sms-service\n\
         keyword = default\n\
         catch-all = true\n\
         max-messages = 0\n\
         get-url = \"{}/callbacks/sms/kannel/mo?token={token}&from=%p&to=%P&text=%a&smsc=%i\"\n",
        config.public_url()
    ))
}

/// `bellhop user create`: a user of `account` (or of the only account; on an empty
/// database, of a new account whose first API key is shown too). With `generate`, the
/// password is made here and shown once. Returns what to print.
pub async fn create_user(
    config: &Config,
    account: Option<Uuid>,
    mut user: bellhop_engine::NewUser,
    generate: bool,
) -> anyhow::Result<String> {
    let mut out = String::new();
    let accounts = open_store(config).await?.accounts().await?;
    let account = match (account, accounts.as_slice()) {
        (Some(id), _) => {
            anyhow::ensure!(
                accounts.iter().any(|(a, _)| *a == id),
                "there is no account {id}"
            );
            id
        }
        (None, [(only, _)]) => *only,
        (None, []) => {
            let (id, key) = create_account(config, "bellhop").await?;
            out.push_str(&format!(
                "account {id} (new)\napi key {key}\n(the key is shown only now; store it safely)\n"
            ));
            id
        }
        (None, _) => anyhow::bail!("there are several accounts: name one with --account"),
    };
    if generate {
        use rand::Rng;
        user.password = rand::rng()
            .sample_iter(&rand::distr::Alphanumeric)
            .take(20)
            .map(char::from)
            .collect();
    }
    let engine = Engine::new(open_store(config).await?, Arc::new(SystemClock));
    let created = engine
        .create_user(account, user.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    out.push_str(&format!(
        "user {} <{}> ({}) of account {account}\n",
        created.id,
        created.email,
        created.role.as_str()
    ));
    if generate {
        out.push_str(&format!(
            "password {}\n(shown only now; sign in at {}/app)\n",
            user.password,
            config.public_url()
        ));
    } else {
        out.push_str(&format!("sign in at {}/app\n", config.public_url()));
    }
    Ok(out)
}

/// `bellhop account create`: an account and its first API key (shown once).
pub async fn create_account(config: &Config, name: &str) -> anyhow::Result<(Uuid, String)> {
    let store = open_store(config).await?;
    let now = SystemClock.now();
    let id = Uuid::now_v7();
    let key = bellhop_web::auth::generate_key();
    let mut tx = store.begin().await?;
    tx.insert_account(id, name, now).await?;
    tx.insert_api_key(id, "first key", &key.prefix, &key.secret_hash, now)
        .await?;
    tx.commit().await?;
    Ok((id, key.token))
}
