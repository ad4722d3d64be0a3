//! Wiring: open and migrate the store, then run the API, the dispatcher and the expiry sweep
//! until a signal asks to stop.

use crate::config::Config;
use anyhow::Context;
use bellhop_engine::{Clock, Dispatcher, Engine, SystemClock};
use bellhop_store::Store;
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

/// Starts API, dispatcher and expiry sweep.
pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let store = open_store(config).await?;
    let engine = Engine::new(store.clone(), clock.clone());
    let transport = Arc::new(config.transport()?);
    let dispatcher = Arc::new(Dispatcher::new(
        store.clone(),
        transport.clone(),
        clock.clone(),
        config.dispatch_config(),
    ));
    let (shutdown, stop) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let app = bellhop_web::app(AppState {
        engine: engine.clone(),
    });
    let mut stop_api = stop.clone();
    let api = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop_api.changed().await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "API server stopped");
        }
    });
    let workers: Vec<_> = (0..config.dispatch.workers)
        .map(|_| {
            let (dispatcher, stop) = (dispatcher.clone(), stop.clone());
            tokio::spawn(async move { dispatcher.run(stop).await })
        })
        .collect();
    let dispatch = tokio::spawn(async move {
        for worker in workers {
            let _ = worker.await;
        }
        transport.close().await;
    });
    let mut stop_sweep = stop.clone();
    let sweep = tokio::spawn(async move {
        loop {
            if let Err(e) = engine.expire_lapsed().await {
                tracing::error!(error = %e, "expiry sweep failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                _ = stop_sweep.changed() => break,
            }
        }
    });
    tracing::info!(%addr, database = %config.database, "bellhop is serving");
    Ok(Running {
        addr,
        shutdown,
        tasks: vec![api, dispatch, sweep],
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
