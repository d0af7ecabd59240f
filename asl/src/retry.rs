//! `Retry` and `Catch`: error-name matching and backoff.
//!
//! Matching (first matching retrier/catcher wins, in array order):
//! - an exact name in `ErrorEquals` matches that error name only;
//! - `States.ALL` matches every error except `States.Runtime`;
//! - `States.TaskFailed` matches every error except `States.Timeout` (and `States.Runtime`);
//! - `States.Runtime` (bad paths, intrinsic failures) is never retried nor caught.
//!
//! Each retrier counts its own attempts for the current visit of the state; once the first
//! matching retrier is exhausted the error goes to `Catch` (later retriers are not consulted).

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::STATES_RUNTIME;
use crate::paths::{Path, ResultPath};
use crate::AslError;

pub(crate) const STATES_ALL: &str = "States.ALL";
pub(crate) const STATES_TASK_FAILED: &str = "States.TaskFailed";
pub(crate) const STATES_TIMEOUT: &str = "States.Timeout";

/// Reserved names a retrier/catcher may list here (`States.Runtime` and the data-flow names are
/// handled separately: see [`check_error_name`]).
const RESERVED_OK: &[&str] = &[
    STATES_ALL,
    STATES_TASK_FAILED,
    STATES_TIMEOUT,
    "States.HeartbeatTimeout",
    "States.Permissions",
    "States.DataLimitExceeded",
];

/// Reserved names for data-flow failures: this executor reports them as `States.Runtime`, as
/// Step Functions does in practice, so a retrier/catcher naming them would never fire.
const RESERVED_DATA_FLOW: &[&str] = &[
    "States.ParameterPathFailure",
    "States.ResultPathMatchFailure",
    "States.IntrinsicFailure",
    "States.NoChoiceMatched",
];

/// Whether `error` is matched by a list of `ErrorEquals` names.
pub(crate) fn matches(error_equals: &[String], error: &str) -> bool {
    if error == STATES_RUNTIME {
        return false;
    }
    error_equals.iter().any(|name| {
        name == error
            || name == STATES_ALL
            || (name == STATES_TASK_FAILED && error != STATES_TIMEOUT)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jitter {
    None,
    Full,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: Jitter,
}

/// Upper bound for any single delay: Step Functions' own limit for interval fields.
const MAX_DELAY_SECS: f64 = 99_999_999.0;

impl Retrier {
    /// Delay before retry number `retries_done + 1` of this retrier, before jitter and time
    /// scaling: `IntervalSeconds × BackoffRate^retries_done`, capped by `MaxDelaySeconds`.
    pub(crate) fn nominal_delay_secs(&self, retries_done: u64) -> f64 {
        let exp = i32::try_from(retries_done).unwrap_or(i32::MAX);
        let mut d = self.interval_seconds as f64 * self.backoff_rate.powi(exp);
        if let Some(cap) = self.max_delay_seconds {
            d = d.min(cap as f64);
        }
        if d.is_finite() {
            d.min(MAX_DELAY_SECS)
        } else {
            MAX_DELAY_SECS
        }
    }

    /// The actual wait: jitter applied (`FULL` = uniform in `[0, nominal]`), then scaled.
    pub(crate) fn delay(
        &self,
        retries_done: u64,
        time_scale: f64,
        rng: &mut impl rand::Rng,
    ) -> Duration {
        let nominal = self.nominal_delay_secs(retries_done);
        let jittered = match self.jitter {
            Jitter::None => nominal,
            Jitter::Full => rng.gen_range(0.0..=nominal),
        };
        crate::timestamp::scaled_millis(jittered, time_scale)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: ResultPath,
}

fn check_error_name(state: &str, at: &str, name: &str) -> Result<(), AslError> {
    if name.is_empty() {
        return Err(AslError::invalid(state, format!("{at}: empty error name")));
    }
    if !name.starts_with("States.") || RESERVED_OK.contains(&name) {
        return Ok(());
    }
    if name == STATES_RUNTIME || RESERVED_DATA_FLOW.contains(&name) {
        return Err(AslError::unsupported(
            state,
            format!("{at} `{name}` (data-flow failures end the execution as States.Runtime, which cannot be retried or caught)"),
        ));
    }
    Err(AslError::invalid(
        state,
        format!("{at}: `{name}` is not a predefined States.* error name"),
    ))
}

/// Parses and checks `ErrorEquals` of entry `index` of a `len`-long `Retry`/`Catch` array.
fn error_equals(
    state: &str,
    at: &str,
    m: &Map<String, Value>,
    index: usize,
    len: usize,
) -> Result<Vec<String>, AslError> {
    let Some(Value::Array(items)) = m.get("ErrorEquals") else {
        return Err(AslError::invalid(
            state,
            format!("{at}.ErrorEquals must be a non-empty array of strings"),
        ));
    };
    if items.is_empty() {
        return Err(AslError::invalid(
            state,
            format!("{at}.ErrorEquals must not be empty"),
        ));
    }
    let mut names = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(name) = item else {
            return Err(AslError::invalid(
                state,
                format!("{at}.ErrorEquals must contain only strings"),
            ));
        };
        check_error_name(state, &format!("{at}.ErrorEquals"), name)?;
        names.push(name.clone());
    }
    if names.iter().any(|n| n == STATES_ALL) {
        if names.len() != 1 {
            return Err(AslError::invalid(
                state,
                format!("{at}: States.ALL must appear alone in ErrorEquals"),
            ));
        }
        if index + 1 != len {
            return Err(AslError::invalid(
                state,
                format!("{at}: the States.ALL entry must be the last one"),
            ));
        }
    }
    Ok(names)
}

fn object<'a>(
    state: &str,
    at: &str,
    v: &'a Value,
    allowed: &[&str],
) -> Result<&'a Map<String, Value>, AslError> {
    let Value::Object(m) = v else {
        return Err(AslError::invalid(state, format!("{at} must be an object")));
    };
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(AslError::unsupported(state, format!("{at}.{k}")));
    }
    Ok(m)
}

fn array<'a>(state: &str, field: &str, v: &'a Value) -> Result<&'a Vec<Value>, AslError> {
    v.as_array()
        .ok_or_else(|| AslError::invalid(state, format!("{field} must be an array")))
}

fn uint(state: &str, at: &str, v: Option<&Value>, min: u64) -> Result<Option<u64>, AslError> {
    match v {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n >= min && n <= MAX_DELAY_SECS as u64 => Ok(Some(n)),
            _ => Err(AslError::invalid(
                state,
                format!("{at} must be an integer in {min}..=99999999, got {v}"),
            )),
        },
    }
}

pub(crate) fn parse_retry(state: &str, v: &Value) -> Result<Vec<Retrier>, AslError> {
    let items = array(state, "Retry", v)?;
    let allowed = [
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    ];
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("Retry[{i}]");
            let m = object(state, &at, item, &allowed)?;
            let backoff_rate = match m.get("BackoffRate") {
                None => 2.0,
                Some(v) => match v.as_f64() {
                    Some(r) if r >= 1.0 && r.is_finite() => r,
                    _ => {
                        return Err(AslError::invalid(
                            state,
                            format!("{at}.BackoffRate must be a number >= 1.0, got {v}"),
                        ))
                    }
                },
            };
            let jitter = match m.get("JitterStrategy") {
                None => Jitter::None,
                Some(Value::String(s)) if s == "NONE" => Jitter::None,
                Some(Value::String(s)) if s == "FULL" => Jitter::Full,
                Some(v) => {
                    return Err(AslError::invalid(
                        state,
                        format!("{at}.JitterStrategy must be \"FULL\" or \"NONE\", got {v}"),
                    ))
                }
            };
            Ok(Retrier {
                error_equals: error_equals(state, &at, m, i, items.len())?,
                interval_seconds: uint(
                    state,
                    &format!("{at}.IntervalSeconds"),
                    m.get("IntervalSeconds"),
                    1,
                )?
                .unwrap_or(1),
                max_attempts: uint(state, &format!("{at}.MaxAttempts"), m.get("MaxAttempts"), 0)?
                    .unwrap_or(3),
                backoff_rate,
                max_delay_seconds: uint(
                    state,
                    &format!("{at}.MaxDelaySeconds"),
                    m.get("MaxDelaySeconds"),
                    1,
                )?,
                jitter,
            })
        })
        .collect()
}

pub(crate) fn parse_catch(state: &str, v: &Value) -> Result<Vec<Catcher>, AslError> {
    let items = array(state, "Catch", v)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("Catch[{i}]");
            let m = object(
                state,
                &at,
                item,
                &["ErrorEquals", "Next", "ResultPath", "Comment"],
            )?;
            let Some(Value::String(next)) = m.get("Next") else {
                return Err(AslError::invalid(
                    state,
                    format!("{at}.Next must be a state name"),
                ));
            };
            Ok(Catcher {
                error_equals: error_equals(state, &at, m, i, items.len())?,
                next: next.clone(),
                result_path: parse_result_path(
                    state,
                    &format!("{at}.ResultPath"),
                    m.get("ResultPath"),
                )?,
            })
        })
        .collect()
}

/// `ResultPath`: absent → `$`, `null` → discard, else a reference path on `$`.
pub(crate) fn parse_result_path(
    state: &str,
    at: &str,
    v: Option<&Value>,
) -> Result<ResultPath, AslError> {
    match v {
        None => Ok(ResultPath::identity()),
        Some(Value::Null) => Ok(ResultPath::Discard),
        Some(Value::String(s)) => Ok(ResultPath::Path(
            Path::parse(s, false).map_err(|e| e.at(state, at, s))?,
        )),
        Some(other) => Err(AslError::invalid(
            state,
            format!("{at} must be a path string or null, got {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use serde_json::json;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matching_rules() {
        assert!(matches(
            &names(&["Lambda.ServiceException"]),
            "Lambda.ServiceException"
        ));
        assert!(!matches(
            &names(&["Lambda.ServiceException"]),
            "Lambda.Unknown"
        ));
        assert!(!matches(
            &names(&["lambda.serviceexception"]),
            "Lambda.ServiceException"
        ));
        assert!(matches(&names(&["States.ALL"]), "Anything"));
        assert!(matches(&names(&["States.ALL"]), "States.Timeout"));
        assert!(!matches(&names(&["States.ALL"]), "States.Runtime"));
        assert!(matches(&names(&["States.TaskFailed"]), "ProvisionFailed"));
        assert!(!matches(&names(&["States.TaskFailed"]), "States.Timeout"));
        assert!(matches(&names(&["States.Timeout"]), "States.Timeout"));
    }

    #[test]
    fn backoff_and_cap() {
        let r = parse_retry("T", &json!([{"ErrorEquals": ["E"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxDelaySeconds": 40}])).unwrap();
        let d: Vec<f64> = (0..5).map(|n| r[0].nominal_delay_secs(n)).collect();
        assert_eq!(d, vec![2.0, 6.0, 18.0, 40.0, 40.0]);
        let defaults = &parse_retry("T", &json!([{"ErrorEquals": ["E"]}])).unwrap()[0];
        assert_eq!(
            (
                defaults.interval_seconds,
                defaults.max_attempts,
                defaults.backoff_rate
            ),
            (1, 3, 2.0)
        );
        assert_eq!(defaults.max_delay_seconds, None);
        assert_eq!(defaults.nominal_delay_secs(10_000), MAX_DELAY_SECS);
    }

    #[test]
    fn full_jitter_stays_within_bounds_and_varies() {
        let r = &parse_retry(
            "T",
            &json!([{"ErrorEquals": ["E"], "IntervalSeconds": 10, "JitterStrategy": "FULL"}]),
        )
        .unwrap()[0];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let samples: Vec<Duration> = (0..500).map(|_| r.delay(1, 1.0, &mut rng)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_secs(20)));
        let min = samples.iter().min().unwrap();
        let max = samples.iter().max().unwrap();
        assert!(
            *min < Duration::from_secs(2) && *max > Duration::from_secs(18),
            "{min:?}..{max:?}"
        );
        // Scaling applies after jitter.
        assert!((0..100).all(|_| r.delay(0, 0.01, &mut rng) <= Duration::from_millis(100)));
    }

    #[test]
    fn load_time_validation() {
        let bad = |v: Value| parse_retry("T", &v).unwrap_err();
        assert!(matches!(
            bad(json!([{"ErrorEquals": []}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["States.ALL", "E"]}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E"]}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["States.Timout"]}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["States.Runtime"]}])),
            AslError::Unsupported { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["E"], "BackoffRate": 0.5}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["E"], "IntervalSeconds": 0}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["E"], "MaxAttempts": -1}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["E"], "JitterStrategy": "HALF"}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!([{"ErrorEquals": ["E"], "Interval": 3}])),
            AslError::Unsupported { .. }
        ));
        let c = |v: Value| parse_catch("T", &v).unwrap_err();
        assert!(matches!(
            c(json!([{"ErrorEquals": ["E"]}])),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            c(json!([{"ErrorEquals": ["E"], "Next": "N", "ResultPath": "$$.x"}])),
            AslError::Unsupported { .. }
        ));
        assert!(matches!(
            c(json!([{"ErrorEquals": ["E"], "Next": "N", "Output": {}}])),
            AslError::Unsupported { .. }
        ));
        let ok = parse_catch(
            "T",
            &json!([{"ErrorEquals": ["E"], "Next": "N", "ResultPath": null}]),
        )
        .unwrap();
        assert_eq!(ok[0].result_path, ResultPath::Discard);
    }
}
