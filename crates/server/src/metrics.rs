//! Prometheus metrics at `GET /metrics` (text format 0.0.4), kept in the
//! process by `metrics-exporter-prometheus` (one recorder per application,
//! not the global one, so that servers in one process keep apart): requests
//! by route, method and status with latency histograms; audit events by kind
//! (logins by outcome, refresh reuse, …); mail sent and failed; and gauges
//! read at scrape time (hashes in flight, pool usage).
//!
//! What stays ours is which label values exist: [`method_label`] and the
//! route patterns keep every label in a bounded set.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use metrics::{Counter, Gauge, Key, KeyName, Label, Metadata, Recorder as _, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

const REQUESTS: &str = "tessera_http_requests_total";
const DURATION: &str = "tessera_http_request_duration_seconds";
const AUDIT: &str = "tessera_audit_events_total";

/// Histogram samples wait in per-series buffers until a scrape folds them
/// into buckets; every this many requests they are folded anyway, so that
/// memory stays bounded when nobody scrapes.
const UPKEEP_EVERY: u32 = 4096;

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

type Read = Box<dyn Fn() -> f64 + Send + Sync>;

/// Every metric of one process.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    observed: AtomicU32,
    mail_sent: Counter,
    mail_failed: Counter,
    mail_queued: Gauge,
    gauges: Mutex<Vec<(Gauge, Read)>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let builder = PrometheusBuilder::new();
        // Fails only for an empty list.
        let builder = match builder.set_buckets(&BUCKETS) {
            Ok(b) => b,
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        let describe = |name: &'static str, help: &'static str| {
            (KeyName::from_const_str(name), SharedString::const_str(help))
        };
        for (name, help) in [
            (REQUESTS, "HTTP requests by method, route and status."),
            (
                AUDIT,
                "Security events by kind (logins by outcome, refresh reuse, admin actions).",
            ),
            ("tessera_mail_sent_total", "Mails the outbox worker sent."),
            (
                "tessera_mail_failed_total",
                "Mail attempts that failed (retried later).",
            ),
        ] {
            let (name, help) = describe(name, help);
            recorder.describe_counter(name, None, help);
        }
        let (name, help) = describe(DURATION, "HTTP request latency by method and route.");
        recorder.describe_histogram(name, None, help);
        let (name, help) = describe(
            "tessera_mail_queued",
            "Mails waiting in the outbox (as of the worker's last step).",
        );
        recorder.describe_gauge(name, None, help);
        let plain = |name: &'static str| Key::from_static_name(name);
        Self {
            mail_sent: recorder.register_counter(&plain("tessera_mail_sent_total"), &METADATA),
            mail_failed: recorder.register_counter(&plain("tessera_mail_failed_total"), &METADATA),
            mail_queued: recorder.register_gauge(&plain("tessera_mail_queued"), &METADATA),
            handle: recorder.handle(),
            recorder,
            observed: AtomicU32::new(0),
            gauges: Mutex::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The `method` label of a request: one of the methods of RFC 9110 §9.3 and
/// RFC 5789 (`PATCH`), else `other` — so invented methods cannot add series
/// (as the Prometheus client libraries do since CVE-2022-21698).
#[must_use]
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

/// The `route` label: a route pattern of the application, or `unmatched`.
/// Patterns come from the route table, so the set is bounded; anything
/// else (a pattern longer than any route) is `unmatched` too.
fn route_label(route: &str) -> &str {
    if route.len() <= 64 {
        route
    } else {
        "unmatched"
    }
}

impl Metrics {
    /// Counts one request to `route` (the matched pattern) with its outcome.
    /// Labels are bounded: see [`method_label`] and [`route_label`].
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = Label::from_static_parts("method", method_label(method));
        let route = Label::new("route", route_label(route).to_owned());
        let status = Label::new("status", status.to_string());
        let key = Key::from_parts(REQUESTS, vec![method.clone(), route.clone(), status]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
        let key = Key::from_parts(DURATION, vec![method, route]);
        self.recorder
            .register_histogram(&key, &METADATA)
            .record(seconds);
        if self.observed.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }

    /// Counts one audit event (`login_succeeded`, `refresh_reused`, …).
    pub fn observe_audit(&self, kind: &'static str) {
        let key = Key::from_parts(AUDIT, vec![Label::from_static_parts("kind", kind)]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    /// Counts one outbox delivery step.
    pub fn observe_delivery(&self, sent: usize, failed: usize) {
        self.mail_sent.increment(sent as u64);
        self.mail_failed.increment(failed as u64);
    }

    /// Records how many mails wait in the outbox (read by the worker after each step).
    pub fn set_mail_queued(&self, n: usize) {
        self.mail_queued.set(n as f64);
    }

    /// Adds a gauge read at every scrape.
    pub fn gauge(
        &self,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        self.recorder.describe_gauge(
            KeyName::from_const_str(name),
            None,
            SharedString::const_str(help),
        );
        let gauge = self
            .recorder
            .register_gauge(&Key::from_static_name(name), &METADATA);
        lock(&self.gauges).push((gauge, Box::new(read)));
    }

    /// The text exposition (the scrape-time gauges read first).
    #[must_use]
    pub fn render(&self) -> String {
        for (gauge, read) in lock(&self.gauges).iter() {
            gauge.set(read());
        }
        self.handle.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.observe_request("GET", "/api/auth/me", 200, 0.003);
        m.observe_request("GET", "/api/auth/me", 200, 0.2);
        m.observe_audit("login_failed");
        m.observe_delivery(2, 1);
        m.gauge("tessera_test_gauge", "A test.", || 7.0);
        let text = m.render();
        assert!(
            text.contains(
                r#"tessera_http_requests_total{method="GET",route="/api/auth/me",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"tessera_http_request_duration_seconds_bucket{method="GET",route="/api/auth/me",le="0.005"} 1"#));
        assert!(text.contains(r#"le="0.25"} 2"#));
        assert!(text.contains(r#"tessera_audit_events_total{kind="login_failed"} 1"#));
        assert!(
            text.contains("tessera_mail_sent_total 2")
                && text.contains("tessera_mail_failed_total 1")
        );
        assert!(text.contains("tessera_test_gauge 7"));
    }

    #[test]
    fn invented_methods_share_one_label() {
        let m = Metrics::default();
        for i in 0..500 {
            m.observe_request(&format!("X{i}{}", "Y".repeat(i)), "/health", 405, 0.001);
        }
        m.observe_request("HEAD", "/health", 200, 0.001);
        let text = m.render();
        assert!(
            text.contains(
                r#"tessera_http_requests_total{method="other",route="/health",status="405"} 500"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"method="HEAD""#));
        assert_eq!(text.matches("tessera_http_requests_total{").count(), 2);
    }
}

#[cfg(test)]
mod cost {
    /// `cargo test -p tessera-server --lib metrics::cost -- --ignored --nocapture`:
    /// the time one request's observation takes (what `/me` pays).
    #[test]
    #[ignore = "a timing, not a check"]
    fn observe_request_cost() {
        let m = super::Metrics::default();
        let routes = ["/api/auth/me", "/api/v1/auth/profile", "/health"];
        let n = 300_000_u32;
        let started = std::time::Instant::now();
        for i in 0..n {
            m.observe_request("GET", routes[(i % 3) as usize], 200, 0.0004);
        }
        let each = started.elapsed() / n;
        println!("observe_request: {each:?} per request");
        assert!(m.render().contains("/api/auth/me"));
    }
}
