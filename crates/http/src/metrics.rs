//! Request metrics in the Prometheus text format: counts and latency histograms by route,
//! method and status, held in atomics per label set (no global recorder, no background
//! upkeep, memory bounded by the number of routes). Requests no route matched, and requests
//! the middleware refused before routing (413, 414, 431, load shedding), count under the route
//! `unmatched`; methods outside the standard ones under `OTHER`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Labels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Default)]
struct Series {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Request counters and latency histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    series: RwLock<HashMap<Labels, Arc<Series>>>,
}

impl Metrics {
    /// Records one answered request. `route` must be a route template (or a fixed word for
    /// unmatched requests), never a raw path, so the label set stays bounded.
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let series = self.series_for(method, route, status);
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|upper| seconds <= *upper) {
            series.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        series.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        series.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn series_for(&self, method: &str, route: &str, status: u16) -> Arc<Series> {
        let labels = Labels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        if let Some(series) = self
            .series
            .read()
            .ok()
            .and_then(|map| map.get(&labels).cloned())
        {
            return series;
        }
        let mut map = self
            .series
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(map.entry(labels).or_default())
    }

    /// Renders every series, plus `extra` lines (gauges computed at scrape time).
    #[must_use]
    pub fn render(&self, extra: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let map = self
            .series
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut entries: Vec<_> = map.iter().collect();
        entries.sort_by(|a, b| {
            (&a.0.route, &a.0.method, a.0.status).cmp(&(&b.0.route, &b.0.method, b.0.status))
        });
        out.push_str(
            "# HELP http_requests_total Requests answered, by route, method and status.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        for (l, s) in &entries {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}",
                l.method,
                l.route,
                l.status,
                s.count.load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP http_request_duration_seconds Time to answer, by route, method and status.\n",
        );
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (l, s) in &entries {
            let labels = format!(
                "method=\"{}\",route=\"{}\",status=\"{}\"",
                l.method, l.route, l.status
            );
            let mut cumulative = 0;
            for (upper, bucket) in BUCKETS.iter().zip(&s.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{upper}\"}} {cumulative}"
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            #[allow(clippy::cast_precision_loss)] // Sums of microseconds stay far below 2^53.
            let sum = s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "http_request_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        for (name, help, value) in extra {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record("GET", "/healthz", 200, Duration::from_micros(300));
        metrics.record("GET", "/healthz", 200, Duration::from_millis(3));
        metrics.record("POST", "/oauth/token", 400, Duration::from_millis(20));
        let text = metrics.render(&[("db_pool_max", "Pool size.", 4.0)]);
        assert!(
            text.contains(
                "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
            )
        );
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"0.005\"} 2"
        ));
        assert!(text.contains(
            "http_requests_total{method=\"POST\",route=\"/oauth/token\",status=\"400\"} 1"
        ));
        assert!(text.contains("db_pool_max 4"));
    }
}
