//! Prometheus metrics at `GET /metrics` (text format 0.0.4), kept in the
//! process: requests by route, method and status with latency histograms;
//! audit events by kind (logins by outcome, refresh reuse, …); mail sent and
//! failed; and gauges read at scrape time (hashes in flight, pool usage).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One method of one route: answers by status, and latency.
#[derive(Default)]
struct Series {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

type Gauge = Box<dyn Fn() -> f64 + Send + Sync>;

/// Every metric of one process.
#[derive(Default)]
pub struct Metrics {
    /// Route pattern → method → series. Looked up by `&str`, so a request
    /// allocates nothing here once its route and method have been seen.
    requests: Mutex<BTreeMap<String, BTreeMap<String, Series>>>,
    audit: Mutex<BTreeMap<&'static str, u64>>,
    mail_sent: AtomicU64,
    mail_failed: AtomicU64,
    mail_queued: AtomicU64,
    gauges: Mutex<Vec<(&'static str, &'static str, Gauge)>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
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
        let method = method_label(method);
        let route = route_label(route);
        let mut requests = lock(&self.requests);
        if !requests.contains_key(route) {
            requests.insert(route.to_owned(), BTreeMap::new());
        }
        let Some(methods) = requests.get_mut(route) else {
            return;
        };
        if !methods.contains_key(method) {
            methods.insert(method.to_owned(), Series::default());
        }
        let Some(series) = methods.get_mut(method) else {
            return;
        };
        *series.statuses.entry(status).or_default() += 1;
        let h = &mut series.latency;
        h.count += 1;
        h.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
    }

    /// Counts one audit event (`login_succeeded`, `refresh_reused`, …).
    pub fn observe_audit(&self, kind: &'static str) {
        *lock(&self.audit).entry(kind).or_default() += 1;
    }

    /// Counts one outbox delivery step.
    pub fn observe_delivery(&self, sent: usize, failed: usize) {
        self.mail_sent.fetch_add(sent as u64, Ordering::Relaxed);
        self.mail_failed.fetch_add(failed as u64, Ordering::Relaxed);
    }

    /// Records how many mails wait in the outbox (read by the worker after each step).
    pub fn set_mail_queued(&self, n: usize) {
        self.mail_queued.store(n as u64, Ordering::Relaxed);
    }

    /// Adds a gauge read at every scrape.
    pub fn gauge(
        &self,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        lock(&self.gauges).push((name, help, Box::new(read)));
    }

    /// The text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP tessera_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE tessera_http_requests_total counter\n");
        let requests = lock(&self.requests);
        let series = || {
            requests
                .iter()
                .flat_map(|(route, methods)| methods.iter().map(move |(m, s)| (m, route, s)))
        };
        for (method, route, s) in series() {
            for (status, n) in &s.statuses {
                let _ = writeln!(
                    out,
                    "tessera_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(method),
                    escape(route)
                );
            }
        }
        out.push_str("# HELP tessera_http_request_duration_seconds HTTP request latency by method and route.\n");
        out.push_str("# TYPE tessera_http_request_duration_seconds histogram\n");
        for (method, route, s) in series() {
            let h = &s.latency;
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "tessera_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP tessera_audit_events_total Security events by kind (logins by outcome, refresh reuse, admin actions).\n");
        out.push_str("# TYPE tessera_audit_events_total counter\n");
        for (kind, n) in lock(&self.audit).iter() {
            let _ = writeln!(out, "tessera_audit_events_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str("# HELP tessera_mail_sent_total Mails the outbox worker sent.\n# TYPE tessera_mail_sent_total counter\n");
        let _ = writeln!(
            out,
            "tessera_mail_sent_total {}",
            self.mail_sent.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tessera_mail_failed_total Mail attempts that failed (retried later).\n# TYPE tessera_mail_failed_total counter\n");
        let _ = writeln!(
            out,
            "tessera_mail_failed_total {}",
            self.mail_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tessera_mail_queued Mails waiting in the outbox (as of the worker's last step).\n# TYPE tessera_mail_queued gauge\n");
        let _ = writeln!(
            out,
            "tessera_mail_queued {}",
            self.mail_queued.load(Ordering::Relaxed)
        );
        for (name, help, read) in lock(&self.gauges).iter() {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}",
                read()
            );
        }
        out
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
