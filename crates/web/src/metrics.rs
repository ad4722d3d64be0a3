//! `GET /metrics`: Prometheus text on every node.
//!
//! Counters and histograms come from the process (the dispatcher's outcomes, due-to-sent
//! latency, claim batch sizes, transport latency, waits for a database connection); gauges
//! that describe the database (messages by status and channel, SMS parts against each
//! property's monthly limit, the pool) are read when scraped, at most every 15 seconds. Every
//! node reports the same database gauges: aggregate them with `max`, not `sum`.

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// How long database gauges are reused between scrapes.
const REFRESH: Duration = Duration::from_secs(15);

/// Installs the process's metrics recorder (once; later calls return the same handle).
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let seconds = [
            0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            900.0, 3600.0,
        ];
        let batches = [1.0, 5.0, 10.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_size".into()), &batches))
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Someone else (a test) may have installed a recorder: metrics then go there.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

async fn refresh_database_gauges(state: &AppState) {
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    {
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < REFRESH) {
            return;
        }
        *last = Some(Instant::now());
    }
    let store = state.engine.query();
    let (size, idle) = store.pool_stats();
    metrics::gauge!("bellhop_store_pool_connections").set(f64::from(size));
    metrics::gauge!("bellhop_store_pool_idle_connections").set(idle as f64);
    match store.count_by_status_and_channel().await {
        Ok(rows) => {
            for (status, channel, n) in rows {
                metrics::gauge!("bellhop_messages", "status" => status, "channel" => channel)
                    .set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count messages"),
    }
    let now = state.engine.now();
    match store.properties_with_sms().await {
        Ok(properties) => {
            for p in properties {
                let month = bellhop_domain::billing::Month::of(&p.time_zone, now).to_string();
                let Ok(usage) = store.sms_usage(p.id, &month).await else {
                    continue;
                };
                let property = p.id.to_string();
                metrics::gauge!("bellhop_sms_parts_month", "property" => property.clone())
                    .set(usage.parts as f64);
                if let Some(limit) = p.sms.monthly_limit {
                    metrics::gauge!("bellhop_sms_limit_month", "property" => property)
                        .set(f64::from(limit));
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read SMS use"),
    }
}

/// The Prometheus text.
pub async fn render(State(state): State<AppState>) -> Response {
    let handle = install();
    refresh_database_gauges(&state).await;
    handle.run_upkeep();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
