//! Settings from command-line flags, falling back to environment variables (the names the
//! baseline/canary user data exports, so the demo image needs no arguments), then defaults.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub bind: IpAddr,
    pub port: u16,
    pub role: String,
    pub extra_latency_ms: u64,
    /// Simulated work on every `/` request: this many milliseconds on average, spread ±25%.
    pub work_ms: u64,
    /// The `/` work takes this many percent longer (the "slower revision" fault), 0-1000.
    pub slowdown_percent: u64,
    /// Fraction of `/` requests answered with 500, 0..=1.
    pub error_rate: f64,
    /// Upper bound on connections served at once; beyond it new connections get a 503.
    pub max_connections: usize,
    /// What `/health` answers (200 unless a test makes the instance fail its health check).
    pub health_status: u16,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown argument '{0}' (try --help)")]
    UnknownArgument(String),
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("invalid {name} '{value}': {reason}")]
    Invalid { name: String, value: String, reason: &'static str },
    #[error("help requested")]
    Help,
}

pub const USAGE: &str = "\
aviary-sample-app: a tiny instrumented HTTP service for Aviary demos and tests

Routes: /  (hello + role; subject to injected latency and errors)
        /health  (200, or --health-status)
        /metrics (Prometheus text format)

Flags (environment variable in brackets):
  --bind ADDR              listen address (default 0.0.0.0) [AVIARY_BIND]
  --port N                 listen port (default 8080) [AVIARY_APP_PORT, PORT]
  --role NAME              baseline | canary | anything (default unknown) [AVIARY_ROLE]
  --extra-latency-ms N     added to every / request (default 0) [AVIARY_EXTRA_LATENCY_MS]
  --work-ms N              simulated work per / request: N ms on average, spread evenly
                           over ±25% (default 0) [AVIARY_WORK_MS]
  --slowdown-percent P     the / work takes P% longer, 0-1000 (default 0) [AVIARY_SLOWDOWN_PERCENT]
  --error-rate F           fraction 0..1 of / requests answered 500, spread evenly and
                           deterministically (default 0) [AVIARY_ERROR_RATE]
  --max-connections N      concurrent connections before answering 503 (default 512)
  --health-status N        what /health answers, 200-599 (default 200; e.g. 503 to fail
                           the load balancer's health check)
";

impl Config {
    /// Parses `args` (without the program name); `env` looks a variable up.
    pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut bind = env("AVIARY_BIND");
        let mut port = env("AVIARY_APP_PORT").or_else(|| env("PORT"));
        let mut role = env("AVIARY_ROLE");
        let mut latency = env("AVIARY_EXTRA_LATENCY_MS");
        let mut work = env("AVIARY_WORK_MS");
        let mut slowdown = env("AVIARY_SLOWDOWN_PERCENT");
        let mut error_rate = env("AVIARY_ERROR_RATE");
        let mut max_conn: Option<String> = None;
        let mut health: Option<String> = None;

        let mut it = args.iter();
        while let Some(arg) = it.next() {
            // Accept both `--flag value` and `--flag=value`.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            let slot = match flag {
                "--bind" => &mut bind,
                "--port" => &mut port,
                "--role" => &mut role,
                "--extra-latency-ms" => &mut latency,
                "--work-ms" => &mut work,
                "--slowdown-percent" => &mut slowdown,
                "--error-rate" => &mut error_rate,
                "--max-connections" => &mut max_conn,
                "--health-status" => &mut health,
                "-h" | "--help" => return Err(ConfigError::Help),
                _ => return Err(ConfigError::UnknownArgument(arg.clone())),
            };
            let value = match inline {
                Some(v) => v,
                None => it.next().cloned().ok_or_else(|| ConfigError::MissingValue(flag.to_string()))?,
            };
            *slot = Some(value);
        }

        let invalid =
            |name: &str, value: &str, reason| ConfigError::Invalid { name: name.into(), value: value.into(), reason };
        let bind = match bind {
            Some(b) => b.parse().map_err(|_| invalid("bind address", &b, "not an IP address"))?,
            None => IpAddr::from([0, 0, 0, 0]),
        };
        let port = match port {
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(invalid("port", &p, "must be 1-65535")),
            },
            None => 8080,
        };
        let role = role.unwrap_or_else(|| "unknown".into());
        if role.is_empty()
            || role.len() > 64
            || !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid("role", &role, "1-64 letters, digits, '-' or '_'"));
        }
        let extra_latency_ms = match latency {
            Some(l) => match l.parse::<u64>() {
                Ok(n) if n <= 60_000 => n,
                _ => return Err(invalid("extra latency", &l, "milliseconds, 0-60000")),
            },
            None => 0,
        };
        let work_ms = match work {
            Some(w) => match w.parse::<u64>() {
                Ok(n) if n <= 60_000 => n,
                _ => return Err(invalid("work", &w, "milliseconds, 0-60000")),
            },
            None => 0,
        };
        let slowdown_percent = match slowdown {
            Some(p) => match p.parse::<u64>() {
                Ok(n) if n <= 1000 => n,
                _ => return Err(invalid("slowdown", &p, "a whole percentage, 0-1000")),
            },
            None => 0,
        };
        let error_rate = match error_rate {
            Some(e) => match e.parse::<f64>() {
                Ok(f) if (0.0..=1.0).contains(&f) => f,
                _ => return Err(invalid("error rate", &e, "a fraction between 0 and 1")),
            },
            None => 0.0,
        };
        let max_connections = match max_conn {
            Some(m) => match m.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => return Err(invalid("max connections", &m, "a positive number")),
            },
            None => 512,
        };
        let health_status = match health {
            Some(h) => match h.parse::<u16>() {
                Ok(n) if (200..=599).contains(&n) => n,
                _ => return Err(invalid("health status", &h, "an HTTP status 200-599")),
            },
            None => 200,
        };
        Ok(Config { bind, port, role, extra_latency_ms, work_ms, slowdown_percent, error_rate, max_connections, health_status })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn health_status_is_a_flag_within_http_statuses() {
        assert_eq!(Config::parse(&[], |_| None).unwrap().health_status, 200);
        assert_eq!(Config::parse(&args(&["--health-status", "503"]), |_| None).unwrap().health_status, 503);
        assert!(Config::parse(&args(&["--health-status", "99"]), |_| None).is_err());
    }

    #[test]
    fn defaults_without_flags_or_env() {
        let c = Config::parse(&[], |_| None).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.role, "unknown");
        assert_eq!(c.error_rate, 0.0);
        assert_eq!(c.bind.to_string(), "0.0.0.0");
    }

    #[test]
    fn flags_override_env() {
        let env = |k: &str| match k {
            "AVIARY_APP_PORT" => Some("9000".to_string()),
            "AVIARY_ROLE" => Some("baseline".to_string()),
            _ => None,
        };
        let c =
            Config::parse(&args(&["--role", "canary", "--error-rate=0.25", "--extra-latency-ms", "40"]), env).unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.role, "canary");
        assert_eq!(c.error_rate, 0.25);
        assert_eq!(c.extra_latency_ms, 40);
    }

    #[test]
    fn work_and_slowdown_are_bounded() {
        let c = Config::parse(&args(&["--work-ms", "20", "--slowdown-percent=30"]), |_| None).unwrap();
        assert_eq!((c.work_ms, c.slowdown_percent), (20, 30));
        let e = Config::parse(&args(&["--slowdown-percent", "1001"]), |_| None).unwrap_err();
        assert_eq!(e.to_string(), "invalid slowdown '1001': a whole percentage, 0-1000");
        assert!(Config::parse(&args(&["--work-ms", "-1"]), |_| None).is_err());
        let env = |k: &str| (k == "AVIARY_WORK_MS").then(|| "7".to_string());
        assert_eq!(Config::parse(&[], env).unwrap().work_ms, 7);
    }

    #[test]
    fn rejects_bad_values() {
        assert!(matches!(Config::parse(&args(&["--error-rate", "1.5"]), |_| None), Err(ConfigError::Invalid { .. })));
        assert!(matches!(Config::parse(&args(&["--port", "0"]), |_| None), Err(ConfigError::Invalid { .. })));
        assert!(matches!(Config::parse(&args(&["--role", "a b"]), |_| None), Err(ConfigError::Invalid { .. })));
        assert_eq!(Config::parse(&args(&["--port"]), |_| None), Err(ConfigError::MissingValue("--port".into())));
        assert_eq!(Config::parse(&args(&["--nope"]), |_| None), Err(ConfigError::UnknownArgument("--nope".into())));
    }
}
