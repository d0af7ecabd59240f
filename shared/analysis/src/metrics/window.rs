//! The time window of an analysis and the grid its samples live on: point `i` is at
//! `start + i × step` for `i < points`. Prometheus evaluates the query at those instants;
//! CloudWatch aggregates the period `[t, t + step)` that starts there. Either way both roles
//! get one value (or NaN) per grid point, so the series line up for charts.

use serde::{Deserialize, Serialize};

/// Prometheus refuses ranges of more than 11,000 points per series.
pub const MAX_POINTS: i64 = 11_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeWindow {
    /// Unix seconds, a multiple of `step_seconds` (RFC 3339 on the wire).
    #[serde(with = "aviary_core::times::secs")]
    pub start: i64,
    /// Unix seconds (exclusive), `start + points × step`.
    #[serde(with = "aviary_core::times::secs")]
    pub end: i64,
    pub step_seconds: u32,
}

/// One metric's samples per role. Empty when the source has no series at all for a role;
/// otherwise one value per grid point, NaN where the source had none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleSeries {
    pub baseline: Vec<f64>,
    pub canary: Vec<f64>,
}

impl TimeWindow {
    /// The grid inside `[start, end)`: both ends are floored to multiples of the step (aligned
    /// periods are what CloudWatch answers fastest, and a trailing partial period would
    /// compare a half-filled bucket).
    pub fn new(start: i64, end: i64, step_seconds: u32) -> Result<TimeWindow, String> {
        if step_seconds == 0 {
            return Err("the step must be at least 1 second".into());
        }
        let step = i64::from(step_seconds);
        let (s, e) = (start.div_euclid(step) * step, end.div_euclid(step) * step);
        let points = (e - s) / step;
        if points < 1 {
            let (from, to) = (aviary_core::times::rfc3339_secs(start), aviary_core::times::rfc3339_secs(end));
            return Err(format!("the window from {from} to {to} holds no whole {step_seconds}-second step"));
        }
        if points > MAX_POINTS {
            return Err(format!("the window holds {points} steps of {step_seconds} s; at most {MAX_POINTS} (use a larger step)"));
        }
        Ok(TimeWindow { start: s, end: e, step_seconds })
    }

    pub fn points(&self) -> usize {
        ((self.end - self.start) / i64::from(self.step_seconds)).max(0) as usize
    }

    pub fn time_at(&self, i: usize) -> i64 {
        self.start + i as i64 * i64::from(self.step_seconds)
    }

    /// The last grid instant (Prometheus's `end`: its range is inclusive).
    pub fn last(&self) -> i64 {
        self.time_at(self.points().saturating_sub(1))
    }

    /// The grid point a timestamp belongs to (its period's start), if inside the window.
    pub fn slot(&self, unix: f64) -> Option<usize> {
        let i = ((unix - self.start as f64) / f64::from(self.step_seconds) + 1e-9).floor();
        (i >= 0.0 && i < self.points() as f64).then_some(i as usize)
    }

    /// Places `(timestamp, value)` points on the grid; grid points without one are NaN.
    pub fn fill(&self, points: impl IntoIterator<Item = (f64, f64)>) -> Vec<f64> {
        let mut out = vec![f64::NAN; self.points()];
        for (t, v) in points {
            if let Some(i) = self.slot(t) {
                out[i] = v;
            }
        }
        out
    }
}

/// Averages consecutive points into at most `max_points` buckets (NaN points are skipped; a
/// bucket of only NaN is NaN). Returns the values and how many points each bucket covers.
pub fn downsample(values: &[f64], max_points: usize) -> (Vec<f64>, usize) {
    if values.len() <= max_points.max(1) {
        return (values.to_vec(), 1);
    }
    let k = values.len().div_ceil(max_points.max(1));
    let out = values
        .chunks(k)
        .map(|c| {
            let (sum, n) = c.iter().filter(|v| !v.is_nan()).fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
            if n == 0 {
                f64::NAN
            } else {
                sum / n as f64
            }
        })
        .collect();
    (out, k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_aligned_to_the_step() {
        let w = TimeWindow::new(1_000_030, 1_001_830, 60).unwrap();
        assert_eq!((w.start, w.end), (1_000_020, 1_001_820));
        assert_eq!(w.points(), 30);
        assert_eq!(w.last(), 1_001_760);
        assert!(TimeWindow::new(100, 110, 60).is_err());
        assert!(TimeWindow::new(0, 60 * 20_000, 60).unwrap_err().contains("at most"));
        assert!(TimeWindow::new(0, 600, 0).is_err());
    }

    #[test]
    fn fill_places_points_and_leaves_gaps_nan() {
        let w = TimeWindow::new(600, 900, 60).unwrap();
        let v = w.fill([(600.0, 1.0), (720.0, 3.0), (779.9, 4.0), (900.0, 9.0), (540.0, 9.0)]);
        assert_eq!(v.len(), 5);
        assert_eq!(v[0], 1.0);
        assert!(v[1].is_nan());
        assert_eq!(v[2], 4.0); // 720 and 779.9 share the period [720, 780): the later wins
        assert!(v[3].is_nan() && v[4].is_nan());
    }

    #[test]
    fn downsample_averages_and_skips_nan() {
        let v: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(downsample(&v, 20), (v.clone(), 1));
        let (d, k) = downsample(&v, 3);
        assert_eq!(k, 4);
        assert_eq!(d, vec![1.5, 5.5, 8.5]);
        let (d, _) = downsample(&[f64::NAN, f64::NAN, 1.0, f64::NAN], 2);
        assert!(d[0].is_nan());
        assert_eq!(d[1], 1.0);
        let long = vec![1.0; 1000];
        assert!(downsample(&long, 300).0.len() <= 300);
    }
}
