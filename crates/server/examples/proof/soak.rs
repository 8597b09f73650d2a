//! `proof soak`: capacity of a mix, then half of it held for `SOAK_SECS`;
//! see the crate documentation in `main.rs`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{Client, Server, Tally, class};

pub(crate) async fn soak() -> bool {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let server = Server::start(&[]);
    let client = Client::new(&server.base);
    assert_eq!(client.register("soak").await, 201);
    let tokens: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    for _ in 0..64 {
        let pair = client.login("soak").await.unwrap();
        tokens.lock().unwrap().push(pair);
    }
    let tally = Arc::new(Tally::default());
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();

    // One request of the mix, on connection slot `slot`.
    async fn one(
        client: &Client,
        tokens: &Mutex<Vec<(String, String)>>,
        slot: usize,
        n: u64,
        tally: &Tally,
        lat: &Mutex<Vec<f64>>,
    ) {
        let (access, refresh) = tokens.lock().unwrap()[slot].clone();
        let t = Instant::now();
        let (op, status) = match n % 100 {
            0 => ("login", client.login("soak").await.map_or(503, |_| 200)),
            1..=9 => {
                let (status, body) = client
                    .call("POST", "/api/auth/refresh", Some(&refresh), None)
                    .await;
                if status == 200 {
                    tokens.lock().unwrap()[slot] = (
                        body["access_token"].as_str().unwrap().to_owned(),
                        body["refresh_token"].as_str().unwrap().to_owned(),
                    );
                }
                ("refresh", status)
            }
            _ => (
                "me",
                client
                    .call("GET", "/api/auth/me", Some(&access), None)
                    .await
                    .0,
            ),
        };
        lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
        tally.add("soak", op, status);
    }

    // Capacity: 64 connections in a closed loop for 15 s.
    let counter = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(15);
    let capacity_tally = Arc::new(Tally::default());
    let mut tasks = Vec::new();
    for slot in 0..64 {
        let (client, tokens, counter, tally, lat) = (
            client.clone(),
            tokens.clone(),
            counter.clone(),
            capacity_tally.clone(),
            latencies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                one(&client, &tokens, slot, n, &tally, &lat).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let capacity = counter.load(Ordering::Relaxed) as f64 / 15.0;
    let rate = (capacity / 2.0).max(1.0);
    latencies.lock().unwrap().clear();
    let rss_start = server.rss_kib("VmRSS");
    println!(
        "capacity of the mix (90% /me, 9% refresh, 1% login): {capacity:.0} req/s; soaking at {rate:.0} req/s for {secs} s"
    );
    println!(
        "RSS after the capacity run: {:.1} MiB",
        rss_start as f64 / 1024.0
    );

    // Half capacity, open loop: one request every 1/rate s, at most 64 in flight.
    let slots = Arc::new(tokio::sync::Semaphore::new(64));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut next_sample = Duration::from_secs(60);
    let mut samples = vec![(0_u64, rss_start)];
    let mut n = 0_u64;
    let mut shed = 0_u64;
    while start.elapsed() < Duration::from_secs(secs) {
        ticker.tick().await;
        n += 1;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            shed += 1; // the server fell behind: counted, not queued
            continue;
        };
        let slot = (n % 64) as usize;
        let (client, tokens, tally, lat) = (
            client.clone(),
            tokens.clone(),
            tally.clone(),
            latencies.clone(),
        );
        tokio::spawn(async move {
            one(&client, &tokens, slot, n, &tally, &lat).await;
            drop(permit);
        });
        if start.elapsed() >= next_sample {
            samples.push((next_sample.as_secs(), server.rss_kib("VmRSS")));
            next_sample += Duration::from_secs(60);
        }
    }
    let _ = slots.acquire_many(64).await;
    samples.push((start.elapsed().as_secs(), server.rss_kib("VmRSS")));

    let mut by: BTreeMap<&'static str, u64> = BTreeMap::new();
    for ((_, _, status), count) in tally.0.lock().unwrap().iter() {
        *by.entry(class(*status)).or_default() += count;
    }
    let total: u64 = by.values().sum();
    let fives = by
        .iter()
        .filter(|(c, _)| c.starts_with('5') || c.contains("5xx"))
        .map(|(_, n)| n)
        .sum::<u64>();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "\n{total} requests in {:.0} s ({:.0}/s); by class: {by:?}; not sent because 64 were in flight: {shed}",
        start.elapsed().as_secs_f64(),
        total as f64 / start.elapsed().as_secs_f64()
    );
    println!(
        "latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "RSS by minute (MiB): {}",
        samples
            .iter()
            .map(|(s, k)| format!("{s}s {:.1}", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (first, last) = (
        samples[1.min(samples.len() - 1)].1,
        samples[samples.len() - 1].1,
    );
    println!(
        "RSS growth from the first minute to the end: {:+.1} MiB",
        (last as f64 - first as f64) / 1024.0
    );
    println!("5xx answers: {fives} (must be 0)");
    fives == 0
}
