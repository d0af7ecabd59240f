//! Deterministic error injection: with rate r, request n (counting from 1) fails exactly when
//! ⌊n·r⌋ > ⌊(n−1)·r⌋, so any window of k requests holds ⌊k·r⌋ or ⌈k·r⌉ failures — the
//! regression is steady and reproducible, not noise that a short test might miss.
//!
//! Simulated work follows the same idea: request n takes base·(0.75 + 0.5·u_n), with u_n the
//! golden-ratio sequence (evenly spread over [0, 1) in any window), times the slowdown — so a
//! "30% slower" canary is exactly 30% slower on average, with the same ±25% spread as its baseline.

use std::sync::atomic::{AtomicU64, Ordering};

const PARTS: u64 = 1_000_000;

#[derive(Debug)]
pub struct ErrorInjector {
    /// The rate in parts per million (integer maths keeps the sequence exact).
    rate_ppm: u64,
    counter: AtomicU64,
}

impl ErrorInjector {
    pub fn new(rate: f64) -> Self {
        let rate_ppm = (rate.clamp(0.0, 1.0) * PARTS as f64).round() as u64;
        ErrorInjector { rate_ppm, counter: AtomicU64::new(0) }
    }

    /// Whether the next request should fail.
    pub fn next_fails(&self) -> bool {
        if self.rate_ppm == 0 {
            return false;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        (n as u128 * self.rate_ppm as u128) / PARTS as u128 > ((n - 1) as u128 * self.rate_ppm as u128) / PARTS as u128
    }
}

/// How long each `/` request works.
#[derive(Debug)]
pub struct Work {
    base_ms: f64,
    factor: f64,
    counter: AtomicU64,
}

impl Work {
    pub fn new(base_ms: u64, slowdown_percent: u64) -> Self {
        Work { base_ms: base_ms as f64, factor: 1.0 + slowdown_percent as f64 / 100.0, counter: AtomicU64::new(0) }
    }

    /// The next request's work; `None` without any.
    pub fn next(&self) -> Option<std::time::Duration> {
        if self.base_ms == 0.0 {
            return None;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let u = (n as f64 * 0.618_033_988_749_894_9).fract();
        Some(std::time::Duration::from_secs_f64(self.base_ms * (0.75 + 0.5 * u) * self.factor / 1000.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_ms(w: &Work, n: usize) -> f64 {
        (0..n).map(|_| w.next().unwrap().as_secs_f64() * 1000.0).sum::<f64>() / n as f64
    }

    #[test]
    fn work_spreads_around_its_base_and_a_slowdown_scales_it() {
        assert!(Work::new(0, 30).next().is_none());
        let base = Work::new(20, 0);
        let all: Vec<f64> = (0..1000).map(|_| base.next().unwrap().as_secs_f64() * 1000.0).collect();
        assert!(all.iter().all(|ms| (15.0..25.0).contains(ms)), "within ±25%");
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        assert!((mean - 20.0).abs() < 0.1, "{mean}");
        let slower = mean_ms(&Work::new(20, 30), 1000);
        assert!((slower / mean - 1.3).abs() < 0.01, "{slower} vs {mean}");
        // Any 50 requests already average within 2% of the base.
        let w = Work::new(20, 0);
        for _ in 0..10 {
            assert!((mean_ms(&w, 50) - 20.0).abs() < 0.4);
        }
    }

    fn failures(rate: f64, n: usize) -> usize {
        let inj = ErrorInjector::new(rate);
        (0..n).filter(|_| inj.next_fails()).count()
    }

    #[test]
    fn exact_fraction_over_any_prefix() {
        assert_eq!(failures(0.0, 1000), 0);
        assert_eq!(failures(1.0, 1000), 1000);
        assert_eq!(failures(0.1, 1000), 100);
        assert_eq!(failures(0.25, 10), 2);
        assert_eq!(failures(0.333, 3000), 999);
    }

    #[test]
    fn failures_are_spread_evenly() {
        let inj = ErrorInjector::new(0.2);
        let seq: Vec<bool> = (0..20).map(|_| inj.next_fails()).collect();
        // Every 5th request fails, never two in a row.
        assert_eq!(seq.iter().filter(|f| **f).count(), 4);
        assert!(seq.windows(2).all(|w| !(w[0] && w[1])));
    }
}
