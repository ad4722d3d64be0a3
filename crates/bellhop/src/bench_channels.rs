//! `bellhop bench channels`: reservations pushed over HTTP by concurrent clients, through the
//! JSON channel API and the AlpineBits endpoint, against the same server answering
//! `/healthz` in the same run.

use crate::bench::{bench_hotel, setup_account};
use anyhow::Context;
use bellhop_domain::channel::ConnectionKind;
use bellhop_engine::{ConnectionSettings, Engine, SystemClock};
use bellhop_store::{Store, StoreOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Requests per second and the 99th percentile latency of a run.
struct Run {
    rate: f64,
    p99_ms: f64,
    failed: usize,
}

/// Sends `total` requests made by `request(i)` from `clients` concurrent clients.
async fn drive<F>(total: usize, clients: usize, request: F) -> Run
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (request, next) = (request.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                match request(i).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    Ok(r) => {
                        failed += 1;
                        if failed < 3 {
                            let status = r.status();
                            let body = r.text().await.unwrap_or_default();
                            eprintln!(
                                "refused: {status} {}",
                                body.chars().take(300).collect::<String>()
                            );
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        if failed < 3 {
                            eprintln!("failed: {e}");
                        }
                    }
                }
                latencies.push(t.elapsed());
            }
            (latencies, failed)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut failed = 0;
    for t in tasks {
        if let Ok((l, f)) = t.await {
            latencies.extend(l);
            failed += f;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let p99 = latencies
        .get((latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default();
    Run {
        rate: (total - failed) as f64 / secs,
        p99_ms: p99.as_secs_f64() * 1000.0,
        failed,
    }
}

fn reservation(i: usize) -> String {
    serde_json::json!({
        "external_id": format!("SLV-{i:07}"), "status": "confirmed", "revision": 1,
        "voucher": format!("V{i:07}"),
        "arrival": "2027-05-10", "departure": "2027-05-13", "language": "de",
        "guest": {"first_name": "Jana", "last_name": format!("Gast {i}"),
                  "email": format!("guest{i}@example.cz")},
        "room_category": "DZ", "adults": 2, "total": {"amount": "389.00", "currency": "EUR"}
    })
    .to_string()
}

fn alpinebits_form(i: usize) -> (String, String) {
    let boundary = "bench-boundary-7f3a";
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OTA_HotelResNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="7.000"><HotelReservations>
<HotelReservation CreateDateTime="2026-12-01T10:00:00+01:00" ResStatus="Reserved"><UniqueID Type="14" ID="AB-{i:07}"/>
<RoomStays><RoomStay><RoomTypes><RoomType RoomTypeCode="DZ"/></RoomTypes><GuestCounts><GuestCount Count="2"/><GuestCount Count="1" Age="7"/></GuestCounts>
<TimeSpan Start="2027-06-01" End="2027-06-05"/><Total AmountAfterTax="512.40" CurrencyCode="EUR"/></RoomStay></RoomStays>
<ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer Language="de"><PersonName><GivenName>Otto</GivenName><Surname>Gast {i}</Surname></PersonName>
<Email Remark="newsletter:yes">otto{i}@example.com</Email></Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests>
</HotelReservation></HotelReservations></OTA_HotelResNotifRQ>"#
    );
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nOTA_HotelResNotif:GuestRequests\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{xml}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The benchmark: prints one line per part and the ratios to `/healthz`.
pub async fn channels(
    json: usize,
    alpinebits: usize,
    clients: usize,
    normal_durability: bool,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let options = StoreOptions {
        durability: if normal_durability {
            bellhop_store::Durability::Normal
        } else {
            bellhop_store::Durability::Full
        },
        ..StoreOptions::default()
    };
    let store = Store::open(&dir.path().join("channels.db"), &options).await?;
    store.migrate().await?;
    let engine = Engine::new(store.clone(), Arc::new(SystemClock));
    let account = Uuid::now_v7();
    setup_account(&store, account, engine.now()).await?;
    let property = bench_hotel(&engine, account).await?;
    let settings = |name: &str, kind| ConnectionSettings {
        property_id: property.id,
        name: name.into(),
        kind,
        webhook_url: None,
        hold_minutes: 60,
        poll: None,
    };
    let key = engine
        .create_connection(account, settings("Slevomat", ConnectionKind::Json))
        .await?
        .api_key
        .context("a JSON connection has a key")?;
    let ab = engine
        .create_connection(account, settings("Südtirol", ConnectionKind::AlpineBits))
        .await?;
    let (user, password) = (
        ab.alpinebits_user.context("user")?,
        ab.alpinebits_password.context("password")?,
    );
    let app = bellhop_web::app(bellhop_web::AppState {
        engine,
        webhook_targets: Default::default(),
        imap_targets: Default::default(),
        ui: Default::default(),
        callbacks: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(crate::http::serve(
        listener,
        app,
        crate::config::HttpConfig::default().limits(),
        stop,
    ));
    let client = bellhop_transport::sms::http_client(Duration::from_secs(60))
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let c = client.clone();
    let url = format!("{base}/healthz");
    let health = drive(json, clients, move |_| c.get(&url)).await;
    println!(
        "healthz: {:.0} req/s, p99 {:.2} ms ({json} requests, {clients} clients)",
        health.rate, health.p99_ms
    );

    let c = client.clone();
    let url = format!("{base}/channel/v1/reservations");
    let pushes = drive(json, clients, move |i| {
        c.post(&url)
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(reservation(i))
    })
    .await;
    println!(
        "channel json: {:.0} accepted pushes/s, p99 {:.2} ms, {} refused; ratio to healthz: {:.3}",
        pushes.rate,
        pushes.p99_ms,
        pushes.failed,
        pushes.rate / health.rate
    );

    let c = client.clone();
    let url = format!("{base}/alpinebits");
    let ab_run = drive(alpinebits, clients, move |i| {
        let (content_type, body) = alpinebits_form(i);
        c.post(&url)
            .basic_auth(&user, Some(&password))
            .header("x-alpinebits-clientprotocolversion", "2022-10")
            .header("x-alpinebits-clientid", "bench")
            .header("content-type", content_type)
            .body(body)
    })
    .await;
    println!(
        "alpinebits: {:.0} accepted pushes/s, p99 {:.2} ms, {} refused; ratio to healthz: {:.3}",
        ab_run.rate,
        ab_run.p99_ms,
        ab_run.failed,
        ab_run.rate / health.rate
    );
    let planned: i64 = store
        .count_by_status()
        .await
        .unwrap_or_default()
        .iter()
        .map(|(_, n)| n)
        .sum();
    println!("messages planned by the pushes: {planned}");
    let _ = stop_tx.send(true);
    let _ = server.await;
    Ok(())
}
