//! The canary config, in the JSON shape of Kayenta's canary configs so existing ones can be
//! brought as they are: `metrics[]` with `name`, `groups` and
//! `analysisConfigurations.canary.{direction, nanStrategy, critical, mustHaveData, muted,
//! effectSize{…}, outliers{…}}`, and `classifier.{groupWeights, scoreThresholds}`. Fields
//! Kayenta uses for querying (`query`, `scopeName`, `templates`, `applications`, `judge.name`,
//! …) are accepted and ignored. Like Kayenta's `MapUtils` getters, numbers and booleans may also
//! be given as strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::JudgeError;

/// Kayenta's fixed classifier parameters: `MannWhitneyClassifier(tolerance = 0.25,
/// confLevel = 0.98)`.
pub const DEFAULT_TOLERANCE: f64 = 0.25;
pub const DEFAULT_CONFIDENCE: f64 = 0.98;
/// Spinnaker's default canary score thresholds.
pub const DEFAULT_PASS: f64 = 95.0;
pub const DEFAULT_MARGINAL: f64 = 75.0;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub metrics: Vec<MetricConfig>,
    #[serde(default)]
    pub classifier: ClassifierConfig,
    /// Aviary extension: thresholds at the top level (Kayenta keeps them in `classifier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_thresholds: Option<ScoreThresholds>,
    /// Kayenta's `judge` block; Aviary reads `judgeConfigurations.{tolerance, confidence}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<JudgeSelection>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeSelection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub judge_configurations: JudgeParameters,
}

/// The classifier's tolerance (bound = tolerance × |shift estimate|) and interval confidence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeParameters {
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerance: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub confidence: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricConfig {
    pub name: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub analysis_configurations: AnalysisConfigurations,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisConfigurations {
    #[serde(default)]
    pub canary: CanaryAnalysis,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryAnalysis {
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub nan_strategy: NanStrategy,
    #[serde(default, deserialize_with = "flex_bool")]
    pub critical: bool,
    #[serde(default, deserialize_with = "flex_bool")]
    pub must_have_data: bool,
    #[serde(default, deserialize_with = "flex_bool")]
    pub muted: bool,
    #[serde(default)]
    pub effect_size: EffectSizeConfig,
    #[serde(default)]
    pub outliers: OutlierConfig,
}

/// Which change counts against the canary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    Increase,
    Decrease,
    #[default]
    Either,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NanStrategy {
    #[default]
    Remove,
    Replace,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EffectMeasure {
    #[default]
    MeanRatio,
    Cles,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OutlierStrategy {
    #[default]
    Keep,
    Remove,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectSizeConfig {
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_increase: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_decrease: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub critical_increase: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub critical_decrease: Option<f64>,
    #[serde(default)]
    pub measure: EffectMeasure,
}

/// Effect-size thresholds with Kayenta's defaults filled in (1.0, or 0.5 for CLES).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectThresholds {
    pub allowed_increase: f64,
    pub allowed_decrease: f64,
    pub critical_increase: f64,
    pub critical_decrease: f64,
}

impl EffectSizeConfig {
    pub fn resolved(&self) -> EffectThresholds {
        let d = match self.measure {
            EffectMeasure::MeanRatio => 1.0,
            EffectMeasure::Cles => 0.5,
        };
        EffectThresholds {
            allowed_increase: self.allowed_increase.unwrap_or(d),
            allowed_decrease: self.allowed_decrease.unwrap_or(d),
            critical_increase: self.critical_increase.unwrap_or(d),
            critical_decrease: self.critical_decrease.unwrap_or(d),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierConfig {
    #[serde(default)]
    pub strategy: OutlierStrategy,
    #[serde(default = "default_outlier_factor", deserialize_with = "num")]
    pub outlier_factor: f64,
}

fn default_outlier_factor() -> f64 {
    3.0
}

impl Default for OutlierConfig {
    fn default() -> Self {
        OutlierConfig {
            strategy: OutlierStrategy::Keep,
            outlier_factor: default_outlier_factor(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassifierConfig {
    /// Weight per group, in percent; groups without one share what is left of 100.
    #[serde(default, deserialize_with = "num_map")]
    pub group_weights: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_thresholds: Option<ScoreThresholds>,
}

/// Score thresholds, validated: 0 <= marginal <= pass <= 100.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawThresholds")]
pub struct ScoreThresholds {
    marginal: f64,
    pass: f64,
}

#[derive(Deserialize)]
struct RawThresholds {
    #[serde(deserialize_with = "num")]
    marginal: f64,
    #[serde(deserialize_with = "num")]
    pass: f64,
}

impl TryFrom<RawThresholds> for ScoreThresholds {
    type Error = JudgeError;
    fn try_from(r: RawThresholds) -> Result<Self, JudgeError> {
        ScoreThresholds::new(r.marginal, r.pass)
    }
}

impl ScoreThresholds {
    pub fn new(marginal: f64, pass: f64) -> Result<Self, JudgeError> {
        let ok = marginal.is_finite()
            && pass.is_finite()
            && 0.0 <= marginal
            && marginal <= pass
            && pass <= 100.0;
        if ok {
            Ok(ScoreThresholds { marginal, pass })
        } else {
            Err(JudgeError::InvalidThresholds { marginal, pass })
        }
    }
    pub fn marginal(&self) -> f64 {
        self.marginal
    }
    pub fn pass(&self) -> f64 {
        self.pass
    }
}

impl Default for ScoreThresholds {
    fn default() -> Self {
        ScoreThresholds {
            marginal: DEFAULT_MARGINAL,
            pass: DEFAULT_PASS,
        }
    }
}

impl CanaryConfig {
    /// Thresholds in force: the override, else top-level, else `classifier.scoreThresholds`,
    /// else 95/75.
    pub fn thresholds(&self, over: Option<ScoreThresholds>) -> ScoreThresholds {
        over.or(self.score_thresholds)
            .or(self.classifier.score_thresholds)
            .unwrap_or_default()
    }

    pub fn tolerance(&self) -> f64 {
        self.judge
            .as_ref()
            .and_then(|j| j.judge_configurations.tolerance)
            .unwrap_or(DEFAULT_TOLERANCE)
    }

    pub fn confidence(&self) -> f64 {
        self.judge
            .as_ref()
            .and_then(|j| j.judge_configurations.confidence)
            .unwrap_or(DEFAULT_CONFIDENCE)
    }

    /// Checks everything serde cannot: unique non-empty names, finite positive thresholds,
    /// weights, tolerance and confidence in range.
    pub fn validate(&self) -> Result<(), JudgeError> {
        let invalid =
            |path: String, message: String| Err(JudgeError::InvalidConfig { path, message });
        if self.metrics.is_empty() {
            return invalid("metrics".into(), "at least one metric is required".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, m) in self.metrics.iter().enumerate() {
            let at = |f: &str| format!("metrics[{i}]{f}");
            if m.name.trim().is_empty() {
                return invalid(at(".name"), "must not be empty".into());
            }
            if !seen.insert(m.name.as_str()) {
                return invalid(at(".name"), format!("duplicate metric name {:?}", m.name));
            }
            if let Some(g) = m.groups.iter().find(|g| g.trim().is_empty()) {
                return invalid(at(".groups"), format!("group name {g:?} must not be empty"));
            }
            let c = &m.analysis_configurations.canary;
            let e = &c.effect_size;
            for (name, v) in [
                ("allowedIncrease", e.allowed_increase),
                ("allowedDecrease", e.allowed_decrease),
                ("criticalIncrease", e.critical_increase),
                ("criticalDecrease", e.critical_decrease),
            ] {
                if let Some(v) = v {
                    if !(v.is_finite() && v >= 0.0) {
                        return invalid(
                            at(&format!(".analysisConfigurations.canary.effectSize.{name}")),
                            format!("must be a finite number >= 0, got {v}"),
                        );
                    }
                }
            }
            let f = c.outliers.outlier_factor;
            if !(f.is_finite() && f >= 0.0) {
                return invalid(
                    at(".analysisConfigurations.canary.outliers.outlierFactor"),
                    format!("must be a finite number >= 0, got {f}"),
                );
            }
        }
        for (g, &w) in &self.classifier.group_weights {
            if !(w.is_finite() && w >= 0.0) {
                return invalid(
                    format!("classifier.groupWeights.{g}"),
                    format!("must be a finite number >= 0, got {w}"),
                );
            }
        }
        let t = self.tolerance();
        if !(t.is_finite() && t >= 0.0) {
            return invalid(
                "judge.judgeConfigurations.tolerance".into(),
                format!("must be a finite number >= 0, got {t}"),
            );
        }
        let c = self.confidence();
        if !(c > 0.0 && c < 1.0) {
            return invalid(
                "judge.judgeConfigurations.confidence".into(),
                format!("must be strictly between 0 and 1, got {c}"),
            );
        }
        Ok(())
    }
}

/// Parses and validates a canary config.
pub fn parse_config(json: &str) -> Result<CanaryConfig, JudgeError> {
    let cfg: CanaryConfig = serde_json::from_str(json).map_err(JudgeError::ConfigParse)?;
    cfg.validate()?;
    Ok(cfg)
}

// ---- lenient scalar parsing (Kayenta's MapUtils accept strings for numbers and booleans) ----

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrString {
    Num(f64),
    Str(String),
}

fn to_num<E: serde::de::Error>(v: NumOrString) -> Result<f64, E> {
    match v {
        NumOrString::Num(n) => Ok(n),
        NumOrString::Str(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| E::custom(format!("expected a number, got {s:?}"))),
    }
}

fn num<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    to_num(NumOrString::deserialize(d)?)
}

fn opt_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<NumOrString>::deserialize(d)?
        .map(to_num)
        .transpose()
}

fn num_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let raw = Option::<BTreeMap<String, NumOrString>>::deserialize(d)?.unwrap_or_default();
    raw.into_iter()
        .map(|(k, v)| to_num(v).map(|n| (k, n)))
        .collect()
}

fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Str(String),
    }
    match Option::<B>::deserialize(d)? {
        None => Ok(false),
        Some(B::Bool(b)) => Ok(b),
        Some(B::Str(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "expected true or false, got {s:?}"
            ))),
        },
    }
}

/// Case-insensitive keyword enums, with the accepted spellings listed in the error.
macro_rules! keyword_enum {
    ($ty:ident, $what:literal, { $($word:literal => $val:expr),+ $(,)? }) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = Option::<String>::deserialize(d)?.unwrap_or_default();
                if s.trim().is_empty() {
                    return Ok($ty::default());
                }
                match s.trim().to_ascii_lowercase().as_str() {
                    $($word => Ok($val),)+
                    _ => Err(serde::de::Error::custom(format!(
                        concat!("unknown ", $what, " {:?}, expected one of: ", $($word, " "),+), s))),
                }
            }
        }
    };
}

keyword_enum!(Direction, "direction", { "increase" => Direction::Increase, "decrease" => Direction::Decrease, "either" => Direction::Either });
// Kayenta treats every nanStrategy other than "replace" as remove; "none" is its default.
keyword_enum!(NanStrategy, "nanStrategy", { "remove" => NanStrategy::Remove, "replace" => NanStrategy::Replace, "none" => NanStrategy::Remove });
keyword_enum!(EffectMeasure, "effect size measure", { "meanratio" => EffectMeasure::MeanRatio, "cles" => EffectMeasure::Cles });
keyword_enum!(OutlierStrategy, "outlier strategy", { "keep" => OutlierStrategy::Keep, "remove" => OutlierStrategy::Remove });

#[cfg(test)]
mod tests {
    use super::*;

    /// A config as the Spinnaker UI writes it, with query/scope fields the judge ignores.
    const KAYENTA: &str = r#"{
      "applications": ["app"], "configVersion": "1", "createdTimestamp": 1557854254000,
      "judge": {"judgeConfigurations": {}, "name": "NetflixACAJudge-v1.0"},
      "name": "app-canary", "description": "latency and errors",
      "metrics": [
        {"name": "p99 latency", "groups": ["Latency"], "scopeName": "default",
         "query": {"type": "cloudwatch", "metricName": "TargetResponseTime", "customFilterTemplate": "x"},
         "analysisConfigurations": {"canary": {"direction": "increase", "nanStrategy": "replace",
             "critical": true, "mustHaveData": "true",
             "effectSize": {"allowedIncrease": "1.1", "criticalIncrease": 1.5, "measure": "meanRatio"},
             "outliers": {"strategy": "remove", "outlierFactor": 2.5}}}},
        {"name": "5xx", "groups": ["Errors"], "analysisConfigurations": {}}
      ],
      "templates": {},
      "classifier": {"groupWeights": {"Latency": 70, "Errors": "30"},
                     "scoreThresholds": {"marginal": 50, "pass": 90}}
    }"#;

    #[test]
    fn parses_a_kayenta_config() {
        let c = parse_config(KAYENTA).unwrap();
        assert_eq!(c.metrics.len(), 2);
        let a = &c.metrics[0].analysis_configurations.canary;
        assert_eq!(a.direction, Direction::Increase);
        assert_eq!(a.nan_strategy, NanStrategy::Replace);
        assert!(a.critical && a.must_have_data && !a.muted);
        assert_eq!(a.effect_size.resolved().allowed_increase, 1.1);
        assert_eq!(a.effect_size.resolved().critical_increase, 1.5);
        assert_eq!(a.effect_size.resolved().allowed_decrease, 1.0);
        assert_eq!(
            a.outliers,
            OutlierConfig {
                strategy: OutlierStrategy::Remove,
                outlier_factor: 2.5
            }
        );
        let b = &c.metrics[1].analysis_configurations.canary;
        assert_eq!(
            (b.direction, b.nan_strategy, b.critical),
            (Direction::Either, NanStrategy::Remove, false)
        );
        assert_eq!(b.outliers.outlier_factor, 3.0);
        assert_eq!(c.classifier.group_weights["Errors"], 30.0);
        assert_eq!(
            c.thresholds(None),
            ScoreThresholds::new(50.0, 90.0).unwrap()
        );
        let over = ScoreThresholds::new(10.0, 20.0).unwrap();
        assert_eq!(c.thresholds(Some(over)), over);
        assert_eq!((c.tolerance(), c.confidence()), (0.25, 0.98));
    }

    #[test]
    fn cles_defaults_are_one_half() {
        let e = EffectSizeConfig {
            measure: EffectMeasure::Cles,
            ..Default::default()
        };
        assert_eq!(e.resolved().allowed_increase, 0.5);
        assert_eq!(e.resolved().critical_decrease, 0.5);
    }

    #[test]
    fn rejects_bad_values_with_their_path() {
        let bad_dir =
            r#"{"metrics":[{"name":"a","analysisConfigurations":{"canary":{"direction":"up"}}}]}"#;
        let e = parse_config(bad_dir).unwrap_err();
        assert_eq!(e.name(), "ConfigParse");
        assert!(e.to_string().contains("unknown direction \"up\""), "{e}");

        let dup = r#"{"metrics":[{"name":"a"},{"name":"a"}]}"#;
        let e = parse_config(dup).unwrap_err();
        assert!(
            matches!(&e, JudgeError::InvalidConfig { path, .. } if path == "metrics[1].name"),
            "{e}"
        );

        let neg = r#"{"metrics":[{"name":"a","analysisConfigurations":{"canary":{"effectSize":{"allowedIncrease":-1}}}}]}"#;
        assert_eq!(parse_config(neg).unwrap_err().name(), "InvalidConfig");

        let thr = r#"{"metrics":[{"name":"a"}],"scoreThresholds":{"marginal":90,"pass":80}}"#;
        let e = parse_config(thr).unwrap_err();
        assert!(e.to_string().contains("marginal 90"), "{e}");

        let weight = r#"{"metrics":[{"name":"a"}],"classifier":{"groupWeights":{"g":"lots"}}}"#;
        assert_eq!(parse_config(weight).unwrap_err().name(), "ConfigParse");

        let conf =
            r#"{"metrics":[{"name":"a"}],"judge":{"judgeConfigurations":{"confidence":1.5}}}"#;
        assert_eq!(parse_config(conf).unwrap_err().name(), "InvalidConfig");

        assert_eq!(
            parse_config(r#"{"metrics":[]}"#).unwrap_err().name(),
            "InvalidConfig"
        );
        assert_eq!(parse_config("not json").unwrap_err().name(), "ConfigParse");
    }

    #[test]
    fn round_trips_through_json() {
        let c = parse_config(KAYENTA).unwrap();
        let again = parse_config(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(c, again);
    }
}
