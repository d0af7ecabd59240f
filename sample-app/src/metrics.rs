//! The service's metrics and their Prometheus text exposition (format 0.0.4).
//!
//! Names follow the conventions Aviary's dashboard and starter canary config query:
//! `http_requests_total{code,method,path}`, `http_request_duration_seconds{path}` (histogram) and
//! `process_start_time_seconds`. Label values come from small fixed sets (see [`route_label`],
//! [`method_label`]) so a scanner hitting random URLs cannot blow up the series count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds in seconds (Prometheus client defaults).
pub const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last slot is +Inf.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(u16, &'static str, &'static str), u64>,
    durations: BTreeMap<&'static str, Histogram>,
}

#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Inner>,
    start_time_seconds: f64,
    role: String,
}

/// The route label for a request path.
pub fn route_label(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/health" => "/health",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    pub fn new(start_time_seconds: f64, role: &str) -> Self {
        Metrics { inner: Mutex::new(Inner::default()), start_time_seconds, role: role.to_string() }
    }

    pub fn observe(&self, code: u16, method: &'static str, path: &'static str, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let slot = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        // A poisoned lock only means another thread panicked mid-update; counters stay usable.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner.requests.entry((code, method, path)).or_insert(0) += 1;
        let h = inner.durations.entry(path).or_default();
        h.counts[slot] += 1;
        h.sum += secs;
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP http_requests_total HTTP requests handled, by status code, method and route.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        for ((code, method, path), n) in &inner.requests {
            let _ = writeln!(out, "http_requests_total{{code=\"{code}\",method=\"{method}\",path=\"{path}\"}} {n}");
        }
        out.push_str("# HELP http_request_duration_seconds Time to handle a request, by route.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (path, h) in &inner.durations {
            let mut cumulative = 0u64;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i];
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{path=\"{path}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += h.counts[BUCKETS.len()];
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{path=\"{path}\",le=\"+Inf\"}} {cumulative}");
            let _ = writeln!(out, "http_request_duration_seconds_sum{{path=\"{path}\"}} {}", h.sum);
            let _ = writeln!(out, "http_request_duration_seconds_count{{path=\"{path}\"}} {cumulative}");
        }
        out.push_str("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n");
        out.push_str("# TYPE process_start_time_seconds gauge\n");
        let _ = writeln!(out, "process_start_time_seconds {}", self.start_time_seconds);
        // `app_role`, not `role`: Prometheus attaches its own `role` target label to every series.
        out.push_str("# HELP aviary_sample_app_info Constant 1, labelled with the role the service was started as.\n");
        out.push_str("# TYPE aviary_sample_app_info gauge\n");
        let _ = writeln!(
            out,
            "aviary_sample_app_info{{app_role=\"{}\",version=\"{}\"}} 1",
            self.role,
            env!("CARGO_PKG_VERSION")
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::new(1_700_000_000.5, "canary");
        m.observe(200, "GET", "/", Duration::from_millis(3));
        m.observe(200, "GET", "/", Duration::from_millis(30));
        m.observe(500, "GET", "/", Duration::from_secs(20));
        let text = m.render();
        assert!(text.contains("http_requests_total{code=\"200\",method=\"GET\",path=\"/\"} 2\n"));
        assert!(text.contains("http_requests_total{code=\"500\",method=\"GET\",path=\"/\"} 1\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{path=\"/\",le=\"0.005\"} 1\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{path=\"/\",le=\"0.05\"} 2\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{path=\"/\",le=\"10\"} 2\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{path=\"/\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("http_request_duration_seconds_count{path=\"/\"} 3\n"));
        assert!(text.contains("process_start_time_seconds 1700000000.5\n"));
        assert!(text.contains("app_role=\"canary\""));
    }

    #[test]
    fn every_sample_line_has_a_type() {
        let m = Metrics::new(1.0, "baseline");
        m.observe(404, method_label("BREW"), route_label("/x"), Duration::from_millis(1));
        let text = m.render();
        let typed: Vec<&str> =
            text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).map(|l| l.split(' ').next().unwrap()).collect();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            let base = name.trim_end_matches("_bucket").trim_end_matches("_sum").trim_end_matches("_count");
            assert!(typed.contains(&name) || typed.contains(&base), "{line}");
        }
        assert!(text.contains("code=\"404\",method=\"other\",path=\"other\""));
    }

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(route_label("/wp-admin"), "other");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(route_label("/health"), "/health");
    }
}
