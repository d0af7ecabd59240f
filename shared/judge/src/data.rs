//! The offline data file: per metric, the baseline and canary samples.
//!
//! ```json
//! {"metrics": {"latency": {"baseline": [101.2, 99.8, null], "canary": [120.4, "NaN"]}}}
//! ```
//!
//! Missing points are `null` or `"NaN"` (JSON has no NaN); they are handled by the metric's
//! `nanStrategy`. Kayenta's `control`/`experiment` names are accepted for baseline/canary. A
//! metric named twice is an error rather than the silent last-one-wins of plain JSON maps.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::JudgeError;

/// Samples for every metric, by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricData {
    #[serde(deserialize_with = "unique_metrics")]
    pub metrics: BTreeMap<String, MetricSeries>,
}

/// One metric's samples. NaN marks a missing point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    #[serde(
        alias = "control",
        serialize_with = "ser_points",
        deserialize_with = "de_points"
    )]
    pub baseline: Vec<f64>,
    #[serde(
        alias = "experiment",
        serialize_with = "ser_points",
        deserialize_with = "de_points"
    )]
    pub canary: Vec<f64>,
}

impl MetricData {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a metric's samples.
    pub fn insert(&mut self, name: impl Into<String>, baseline: Vec<f64>, canary: Vec<f64>) {
        self.metrics
            .insert(name.into(), MetricSeries { baseline, canary });
    }

    pub fn get(&self, name: &str) -> Option<&MetricSeries> {
        self.metrics.get(name)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("metric data always serialises")
    }
}

/// Parses a data file.
pub fn parse_data(json: &str) -> Result<MetricData, JudgeError> {
    // JSON cannot spell infinities (serde_json rejects 1e999), so values are finite or NaN.
    serde_json::from_str(json).map_err(JudgeError::DataParse)
}

fn unique_metrics<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, MetricSeries>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, MetricSeries>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object mapping metric names to {baseline, canary}")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<String, MetricSeries>()? {
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!(
                        "metric {k:?} appears twice"
                    )));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

/// Reads a JSON array of numbers, nulls and "NaN" strings straight into f64 (a visitor, not
/// an untagged enum, which would buffer every point: data files hold millions).
fn de_points<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    struct Points;
    impl<'de> Visitor<'de> for Points {
        type Value = Vec<f64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of numbers, null or \"NaN\"")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(Point(v)) = seq.next_element()? {
                out.push(v);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Points)
}

struct Point(f64);

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Point;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, null or \"NaN\"")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Point, E> {
                Ok(Point(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Point, E> {
                Ok(Point(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Point, E> {
                Ok(Point(v as f64))
            }
            fn visit_unit<E>(self) -> Result<Point, E> {
                Ok(Point(f64::NAN))
            }
            fn visit_none<E>(self) -> Result<Point, E> {
                Ok(Point(f64::NAN))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Point, E> {
                if s.eq_ignore_ascii_case("nan") {
                    Ok(Point(f64::NAN))
                } else {
                    Err(E::custom(format!(
                        "expected a number, null or \"NaN\", got {s:?}"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn ser_points<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    // serde_json writes NaN as null already; make it explicit so other formats agree.
    s.collect_seq(v.iter().map(|&x| if x.is_nan() { None } else { Some(x) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nulls_nan_strings_and_kayenta_names() {
        let d = parse_data(
            r#"{"metrics":{"lat":{"baseline":[1,null,2.5],"canary":["NaN",3]},
                                            "err":{"control":[0],"experiment":[1]}}}"#,
        )
        .unwrap();
        let lat = d.get("lat").unwrap();
        assert_eq!(lat.baseline[0], 1.0);
        assert!(lat.baseline[1].is_nan() && lat.canary[0].is_nan());
        assert_eq!(d.get("err").unwrap().canary, vec![1.0]);
    }

    #[test]
    fn rejects_duplicates_and_junk() {
        let e = parse_data(
            r#"{"metrics":{"a":{"baseline":[],"canary":[]},"a":{"baseline":[],"canary":[]}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.name(), "DataParse");
        assert!(e.to_string().contains("appears twice"), "{e}");
        let e = parse_data(r#"{"metrics":{"a":{"baseline":["fast"],"canary":[]}}}"#).unwrap_err();
        assert_eq!(e.name(), "DataParse");
        assert_eq!(
            parse_data(r#"{"metrics":{"a":{"baseline":[1]}}}"#)
                .unwrap_err()
                .name(),
            "DataParse"
        );
        assert_eq!(
            parse_data(r#"{"metrics":{"a":{"baseline":[1e999],"canary":[]}}}"#)
                .unwrap_err()
                .name(),
            "DataParse"
        );
    }

    #[test]
    fn round_trips_with_missing_points() {
        let mut d = MetricData::new();
        d.insert("m", vec![1.0, f64::NAN], vec![2.0]);
        let back = parse_data(&d.to_json()).unwrap();
        assert_eq!(back.get("m").unwrap().baseline[0], 1.0);
        assert!(back.get("m").unwrap().baseline[1].is_nan());
    }
}
