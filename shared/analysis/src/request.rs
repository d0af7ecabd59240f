//! The analysis request (`POST /deployments/{id}/analyses` body, the `analyze` function's
//! input) and how its window is resolved.
//!
//! ```json
//! {"canaryConfig": {...Kayenta shape...}, "source": "auto", "start": 30, "end": "now",
//!  "stepSeconds": 60, "thresholds": {"marginal": 75, "pass": 95}}
//! ```
//!
//! Every field is optional. `start`/`end`: a number of minutes before now, `"now"`, a relative
//! `"-30m"` / `"-2h"` / `"-90s"`, or RFC 3339 (`"2026-11-26T17:00:00Z"`, offsets allowed).
//! Default window: the last 30 minutes, but not before the deployment became ACTIVE.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::AnalysisError;
use aviary_judge::ScoreThresholds;
use crate::metrics::TimeWindow;

/// Default window length.
pub const DEFAULT_MINUTES: i64 = 30;
/// CloudWatch keeps 1-minute data for 15 days.
pub const MAX_WINDOW_SECS: i64 = 15 * 24 * 3600;
/// Default steps per window: 60 s steps up to a day, coarser beyond.
pub const DEFAULT_MAX_POINTS: i64 = 1440;
/// An end this far past the clock is refused; less is clamped to now (clock skew).
const FUTURE_SLACK_SECS: i64 = 300;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalysisRequest {
    /// A Kayenta-shaped canary config with `metrics[].query`; default: the starter config of
    /// the chosen source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_config: Option<Value>,
    #[serde(default)]
    pub source: SourceChoice,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<TimeSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<TimeSpec>,
    /// Grid step; default 60 s (coarser for windows over a day). CloudWatch: a multiple of 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_seconds: Option<u32>,
    /// Overrides the config's score thresholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<ScoreThresholds>,
    /// Programmatic only (local runs, tests): a Prometheus other than the deployment's monitor.
    /// Not read from JSON, so an API caller cannot point the function at arbitrary URLs.
    #[serde(skip)]
    pub prometheus_url: Option<String>,
    /// Programmatic only: an id assigned by the caller (e.g. before an asynchronous invoke).
    #[serde(skip)]
    pub analysis_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceChoice {
    /// From the config's query types; without a config, Prometheus if it answers, else
    /// CloudWatch.
    #[default]
    Auto,
    Cloudwatch,
    Prometheus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeSpec {
    /// Minutes before now.
    MinutesAgo(f64),
    /// `now`, `-30m`, `-2h`, `-90s`, or RFC 3339.
    Text(String),
}

impl AnalysisRequest {
    /// Parses a request body; serde's complaint becomes a field error on `body`.
    pub fn from_value(v: Value) -> Result<AnalysisRequest, AnalysisError> {
        let v = if v.is_null() { Value::Object(Default::default()) } else { v };
        serde_json::from_value(v).map_err(|e| AnalysisError::invalid("body", e.to_string()))
    }
}

impl TimeSpec {
    /// Unix seconds.
    pub fn resolve(&self, now: i64) -> Result<i64, String> {
        match self {
            TimeSpec::MinutesAgo(m) if m.is_finite() && *m >= 0.0 => Ok(now - (m * 60.0).round() as i64),
            TimeSpec::MinutesAgo(m) => Err(format!("{m} is not a number of minutes before now")),
            TimeSpec::Text(s) => {
                let s = s.trim();
                if s.eq_ignore_ascii_case("now") {
                    return Ok(now);
                }
                if let Some(rel) = s.strip_prefix('-') {
                    let (num, unit) = rel.split_at(rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len()));
                    let n: i64 = num.parse().map_err(|_| format!("{s:?}: expected e.g. -30m"))?;
                    let mult = match unit {
                        "s" => 1,
                        "m" => 60,
                        "h" => 3600,
                        "d" => 86_400,
                        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
                    };
                    return n.checked_mul(mult).map(|d| now - d).ok_or_else(|| format!("{s:?} is too far back"));
                }
                parse_rfc3339(s).ok_or_else(|| format!("{s:?} is neither RFC 3339, \"now\" nor a relative time like \"-30m\""))
            }
        }
    }
}

/// RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`) → Unix seconds (fraction dropped).
pub use aviary_core::times::parse_rfc3339;

/// When the deployment took traffic, from its event log (Unix seconds): `since` = became
/// ACTIVE, `until` = teardown started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivePeriod {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// The window for a request. Defaults: `end` = now, or when the canary stopped taking traffic
/// if it has; `start` = 30 minutes before `end`, but not before it became ACTIVE.
/// `cloudwatch` enforces whole-minute steps.
pub fn resolve_window(req: &AnalysisRequest, now: i64, active: ActivePeriod, cloudwatch: bool) -> Result<TimeWindow, AnalysisError> {
    let active_since = active.since;
    let at = |field: &str, spec: &Option<TimeSpec>| -> Result<Option<i64>, AnalysisError> {
        spec.as_ref().map(|t| t.resolve(now)).transpose().map_err(|m| AnalysisError::invalid(field, m))
    };
    let end = match at("end", &req.end)? {
        Some(e) if e > now + FUTURE_SLACK_SECS => return Err(AnalysisError::invalid("end", "the window ends in the future")),
        Some(e) => e.min(now),
        None => active.until.map_or(now, |u| u.min(now)),
    };
    let clipped = req.start.is_none() && active_since.is_some_and(|a| a > end - DEFAULT_MINUTES * 60);
    let start = match at("start", &req.start)? {
        Some(s) => s,
        None => (end - DEFAULT_MINUTES * 60).max(active_since.unwrap_or(i64::MIN)),
    };
    if start >= end {
        let msg = if clipped {
            "the deployment only just became ACTIVE: wait a few minutes or give start".to_string()
        } else {
            "start must be before end".to_string()
        };
        return Err(AnalysisError::invalid("start", msg));
    }
    if end - start > MAX_WINDOW_SECS {
        return Err(AnalysisError::invalid("start", "the window is longer than 15 days (CloudWatch's 1-minute retention)"));
    }
    let step = match req.step_seconds {
        Some(s) => s,
        None => {
            // Whole minutes per point, enough for at most DEFAULT_MAX_POINTS (end > start here).
            let per_point = (end - start + DEFAULT_MAX_POINTS - 1) / DEFAULT_MAX_POINTS;
            (60 * ((per_point + 59) / 60).max(1)) as u32
        }
    };
    if step == 0 || step > 86_400 || (cloudwatch && step % 60 != 0) {
        let need = if cloudwatch { "a multiple of 60 up to 86400 (CloudWatch periods)" } else { "1 to 86400" };
        return Err(AnalysisError::invalid("stepSeconds", format!("{step}: must be {need}")));
    }
    // Clipped to the activation: start at the first whole step inside the ACTIVE period
    // (flooring would compare a period the canary had no traffic for).
    let start = if clipped { (start + i64::from(step) - 1).div_euclid(i64::from(step)) * i64::from(step) } else { start };
    TimeWindow::new(start, end, step).map_err(|m| {
        let m = if clipped { format!("{m}: the deployment only just became ACTIVE; wait a few minutes or give start") } else { m };
        AnalysisError::invalid("start", m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_795_714_098; // 2026-11-26T17:28:18Z

    fn since(t: i64) -> ActivePeriod {
        ActivePeriod { since: Some(t), until: None }
    }

    #[test]
    fn parses_requests_and_refuses_unknown_fields() {
        let r = AnalysisRequest::from_value(json!({
            "source": "cloudwatch", "start": 45, "end": "now", "stepSeconds": 120,
            "thresholds": {"marginal": 50, "pass": 80}, "canaryConfig": {"metrics": []}
        }))
        .unwrap();
        assert_eq!(r.source, SourceChoice::Cloudwatch);
        assert_eq!(r.start, Some(TimeSpec::MinutesAgo(45.0)));
        assert_eq!(r.thresholds.unwrap().pass(), 80.0);
        assert_eq!(AnalysisRequest::from_value(Value::Null).unwrap(), AnalysisRequest::default());
        for bad in [json!({"sauce": "x"}), json!({"source": "datadog"}), json!({"thresholds": {"marginal": 90, "pass": 80}})] {
            let e = AnalysisRequest::from_value(bad.clone()).unwrap_err();
            assert_eq!(e.name(), "InvalidRequest", "{bad}");
        }
        // prometheusUrl and analysisId are not settable from JSON.
        assert_eq!(AnalysisRequest::from_value(json!({"prometheusUrl": "http://x"})).unwrap_err().name(), "InvalidRequest");
    }

    #[test]
    fn time_specs() {
        let r = |s: &str| TimeSpec::Text(s.into()).resolve(NOW);
        assert_eq!(r("now"), Ok(NOW));
        assert_eq!(r("-30m"), Ok(NOW - 1800));
        assert_eq!(r("-2h"), Ok(NOW - 7200));
        assert_eq!(r("-90s"), Ok(NOW - 90));
        assert_eq!(r("2026-11-26T17:28:18Z"), Ok(NOW));
        assert_eq!(r("2026-11-26T17:28:18.999Z"), Ok(NOW));
        assert_eq!(r("2026-11-26T18:28:18+01:00"), Ok(NOW));
        assert_eq!(r("2026-11-26T16:58:18-00:30"), Ok(NOW));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        for bad in ["-30x", "-m", "yesterday", "2026-02-30T00:00:00Z", "2026-11-26T17:28:18", "2026-11-26T25:00:00Z", "2026-11-26T17:28:18.Z"] {
            assert!(r(bad).is_err(), "{bad}");
        }
        assert_eq!(TimeSpec::MinutesAgo(1.5).resolve(NOW), Ok(NOW - 90));
        assert!(TimeSpec::MinutesAgo(-1.0).resolve(NOW).is_err());
        // Round trip with the clock's formatter.
        let ms = 1_234_567_890_000;
        assert_eq!(parse_rfc3339(&aviary_core::clock::rfc3339_ms(ms)), Some(ms / 1000));
    }

    #[test]
    fn default_window_is_the_last_30_minutes_since_active() {
        let req = AnalysisRequest::default();
        let w = resolve_window(&req, NOW, ActivePeriod::default(), true).unwrap();
        assert_eq!((w.step_seconds, w.points()), (60, 30));
        assert_eq!(w.end, NOW - NOW % 60);
        let w = resolve_window(&req, NOW, since(NOW - 600), true).unwrap();
        assert_eq!(w.points(), 9); // ACTIVE 10 minutes ago; floored to whole minutes
        let e = resolve_window(&req, NOW, since(NOW - 20), true).unwrap_err();
        assert!(e.to_string().contains("ACTIVE"), "{e}");
        // ACTIVE 70 s ago at 17:27:08: the period 17:27–17:28 is not wholly ACTIVE.
        assert!(resolve_window(&req, NOW, since(NOW - 70), true).is_err());
        // ACTIVE at 17:25:58: the window starts at 17:26.
        assert_eq!(resolve_window(&req, NOW, since(NOW - 140), true).unwrap().start, NOW - NOW % 60 - 120);
        // An explicit start is not clipped.
        let req = AnalysisRequest { start: Some(TimeSpec::MinutesAgo(60.0)), ..Default::default() };
        assert_eq!(resolve_window(&req, NOW, since(NOW - 600), true).unwrap().points(), 60);
        // A torn-down canary: the 30 minutes before the teardown started.
        let gone = ActivePeriod { since: Some(NOW - 7200), until: Some(NOW - 3600) };
        let w = resolve_window(&AnalysisRequest::default(), NOW, gone, true).unwrap();
        assert_eq!((w.end, w.points()), (NOW - 3600 - (NOW - 3600) % 60, 30));
    }

    #[test]
    fn window_validation() {
        let mk = |start: TimeSpec, end: Option<TimeSpec>, step: Option<u32>| AnalysisRequest {
            start: Some(start),
            end,
            step_seconds: step,
            ..Default::default()
        };
        let field = |r: AnalysisRequest, cw: bool| match resolve_window(&r, NOW, ActivePeriod::default(), cw).unwrap_err() {
            AnalysisError::InvalidRequest { fields } => fields[0].field.clone(),
            e => panic!("{e}"),
        };
        assert_eq!(field(mk(TimeSpec::MinutesAgo(10.0), Some(TimeSpec::MinutesAgo(20.0)), None), true), "start");
        assert_eq!(field(mk(TimeSpec::Text("-20d".into()), None, None), true), "start");
        assert_eq!(field(mk(TimeSpec::Text("-1h".into()), Some(TimeSpec::Text("2030-01-01T00:00:00Z".into())), None), true), "end");
        assert_eq!(field(mk(TimeSpec::Text("-1h".into()), None, Some(90)), true), "stepSeconds");
        assert_eq!(field(mk(TimeSpec::Text("-1h".into()), None, Some(1)), true), "stepSeconds");
        assert_eq!(field(mk(TimeSpec::Text("bad".into()), None, None), false), "start");
        // Prometheus may use short steps.
        let w = resolve_window(&mk(TimeSpec::Text("-1h".into()), None, Some(15)), NOW, ActivePeriod::default(), false).unwrap();
        assert_eq!(w.points(), 240);
        // Long windows get coarser default steps (at most 1440 points).
        let w = resolve_window(&mk(TimeSpec::Text("-3d".into()), None, None), NOW, ActivePeriod::default(), true).unwrap();
        assert_eq!(w.step_seconds, 180);
        assert!(w.points() <= 1440);
    }
}
