//! Deterministic error injection: with rate r, request n (counting from 1) fails exactly when
//! ⌊n·r⌋ > ⌊(n−1)·r⌋, so any window of k requests holds ⌊k·r⌋ or ⌈k·r⌉ failures — the
//! regression is steady and reproducible, not noise that a short test might miss.

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

#[cfg(test)]
mod tests {
    use super::*;

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
