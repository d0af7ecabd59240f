//! The PromQL behind both the dashboard and the starter canary config, written once. Each
//! query is a template over a label selector and a rate window: the dashboard fills them with
//! `deployment="$deployment"` and `$__rate_interval`, Kayenta with
//! `deployment="<id>",role="${scope}"` and a fixed window. Every query aggregates `by (role)`,
//! so one expression yields the baseline and canary series side by side.
//!
//! App queries assume the conventions the sample app follows (`http_requests_total` with a
//! `code` label, `http_request_duration_seconds` histogram); they are used only when the spec
//! sets `monitoring.appMetricsPath`.

/// Which scrape job a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Node,
    App,
}

#[derive(Debug, Clone, Copy)]
pub struct Query {
    pub key: &'static str,
    pub title: &'static str,
    /// The metric the query is built on (Kayenta's `metricName`).
    pub metric: &'static str,
    /// Grafana unit id.
    pub unit: &'static str,
    pub source: Source,
    build: fn(&str, &str) -> String,
}

impl Query {
    /// The expression for a selector (label matchers without braces) and a range window.
    pub fn expr(&self, selector: &str, window: &str) -> String {
        (self.build)(selector, window)
    }
}

/// Interfaces that are not the instance's own traffic.
const VIRTUAL_DEVICES: &str = r#"device!~"lo|veth.*|docker.*|br-.*""#;

fn cpu_busy(s: &str, w: &str) -> String {
    format!(r#"100 * (1 - avg by (role) (rate(node_cpu_seconds_total{{{s},mode="idle"}}[{w}])))"#)
}
fn memory_used(s: &str, _: &str) -> String {
    format!("100 * (1 - sum by (role) (node_memory_MemAvailable_bytes{{{s}}}) / sum by (role) (node_memory_MemTotal_bytes{{{s}}}))")
}
fn network_receive(s: &str, w: &str) -> String {
    format!("sum by (role) (rate(node_network_receive_bytes_total{{{s},{VIRTUAL_DEVICES}}}[{w}]))")
}
fn network_transmit(s: &str, w: &str) -> String {
    format!("sum by (role) (rate(node_network_transmit_bytes_total{{{s},{VIRTUAL_DEVICES}}}[{w}]))")
}
fn disk_read(s: &str, w: &str) -> String {
    format!("sum by (role) (rate(node_disk_read_bytes_total{{{s}}}[{w}]))")
}
fn disk_write(s: &str, w: &str) -> String {
    format!("sum by (role) (rate(node_disk_written_bytes_total{{{s}}}[{w}]))")
}
fn disk_used(s: &str, _: &str) -> String {
    format!(
        r#"100 * (1 - sum by (role) (node_filesystem_avail_bytes{{{s},mountpoint="/"}}) / sum by (role) (node_filesystem_size_bytes{{{s},mountpoint="/"}}))"#
    )
}
fn request_rate(s: &str, w: &str) -> String {
    format!("sum by (role) (rate(http_requests_total{{{s}}}[{w}]))")
}
/// 5xx share of requests. A role that never answered 5xx has no 5xx series at all; the `or`
/// gives it an explicit 0 so it is compared (and drawn) rather than silently missing.
fn error_ratio(s: &str, w: &str) -> String {
    let all = format!("sum by (role) (rate(http_requests_total{{{s}}}[{w}]))");
    format!(r#"(sum by (role) (rate(http_requests_total{{{s},code=~"5.."}}[{w}])) or 0 * {all}) / {all}"#)
}
fn latency_p50(s: &str, w: &str) -> String {
    format!("histogram_quantile(0.5, sum by (role, le) (rate(http_request_duration_seconds_bucket{{{s}}}[{w}])))")
}
fn latency_p99(s: &str, w: &str) -> String {
    format!("histogram_quantile(0.99, sum by (role, le) (rate(http_request_duration_seconds_bucket{{{s}}}[{w}])))")
}

pub const CPU_BUSY: Query = Query {
    key: "cpu_busy",
    title: "CPU busy",
    metric: "node_cpu_seconds_total",
    unit: "percent",
    source: Source::Node,
    build: cpu_busy,
};
pub const MEMORY_USED: Query = Query {
    key: "memory_used",
    title: "Memory used",
    metric: "node_memory_MemAvailable_bytes",
    unit: "percent",
    source: Source::Node,
    build: memory_used,
};
pub const NETWORK_RECEIVE: Query = Query {
    key: "network_receive",
    title: "Network received",
    metric: "node_network_receive_bytes_total",
    unit: "Bps",
    source: Source::Node,
    build: network_receive,
};
pub const NETWORK_TRANSMIT: Query = Query {
    key: "network_transmit",
    title: "Network sent",
    metric: "node_network_transmit_bytes_total",
    unit: "Bps",
    source: Source::Node,
    build: network_transmit,
};
pub const DISK_READ: Query = Query {
    key: "disk_read",
    title: "Disk read",
    metric: "node_disk_read_bytes_total",
    unit: "Bps",
    source: Source::Node,
    build: disk_read,
};
pub const DISK_WRITE: Query = Query {
    key: "disk_write",
    title: "Disk written",
    metric: "node_disk_written_bytes_total",
    unit: "Bps",
    source: Source::Node,
    build: disk_write,
};
pub const DISK_USED: Query = Query {
    key: "disk_used",
    title: "Root disk used",
    metric: "node_filesystem_avail_bytes",
    unit: "percent",
    source: Source::Node,
    build: disk_used,
};
pub const REQUEST_RATE: Query = Query {
    key: "request_rate",
    title: "Request rate",
    metric: "http_requests_total",
    unit: "reqps",
    source: Source::App,
    build: request_rate,
};
pub const ERROR_RATIO: Query = Query {
    key: "error_ratio",
    title: "5xx error ratio",
    metric: "http_requests_total",
    unit: "percentunit",
    source: Source::App,
    build: error_ratio,
};
pub const LATENCY_P50: Query = Query {
    key: "latency_p50",
    title: "Latency p50",
    metric: "http_request_duration_seconds_bucket",
    unit: "s",
    source: Source::App,
    build: latency_p50,
};
pub const LATENCY_P99: Query = Query {
    key: "latency_p99",
    title: "Latency p99",
    metric: "http_request_duration_seconds_bucket",
    unit: "s",
    source: Source::App,
    build: latency_p99,
};

/// A PromQL string literal (double-quoted, escaped).
pub fn promql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Query; 11] = [
        CPU_BUSY,
        MEMORY_USED,
        NETWORK_RECEIVE,
        NETWORK_TRANSMIT,
        DISK_READ,
        DISK_WRITE,
        DISK_USED,
        REQUEST_RATE,
        ERROR_RATIO,
        LATENCY_P50,
        LATENCY_P99,
    ];

    #[test]
    fn every_query_uses_its_selector_and_groups_by_role() {
        for q in ALL {
            let e = q.expr(r#"deployment="d1""#, "5m");
            assert!(e.contains(r#"{deployment="d1""#), "{}: {e}", q.key);
            assert!(e.contains("by (role"), "{}: {e}", q.key);
            assert_eq!(e.matches('(').count(), e.matches(')').count(), "{}", q.key);
            assert_eq!(e.matches('{').count(), e.matches('}').count(), "{}", q.key);
            if e.contains("rate(") {
                assert!(e.contains("[5m]"), "{}: {e}", q.key);
            }
        }
    }

    #[test]
    fn error_ratio_keeps_roles_without_errors() {
        let e = ERROR_RATIO.expr("x=\"1\"", "1m");
        assert!(e.contains(" or 0 * sum by (role)"));
        assert!(e.contains(r#"code=~"5..""#));
    }

    #[test]
    fn promql_strings_are_escaped() {
        assert_eq!(promql_string(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
