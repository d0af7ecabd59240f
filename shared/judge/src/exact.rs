//! The exact null distribution of the Mann-Whitney U statistic (R's `dwilcox`/`pwilcox`/
//! `qwilcox`), used for p-values and confidence intervals when both samples have fewer than
//! [`EXACT_LIMIT`] values and there are no ties, exactly when R's `wilcox.test` is exact.
//!
//! The number of arrangements with U = k is the coefficient of q^k in the Gaussian binomial
//! [m+n choose m]_q = Π_{i=1..m} (1 - q^{n+i}) / (1 - q^i). Multiplying those factors in one at
//! a time keeps every count an integer (i128 holds C(98, 49) ≈ 2.5e28 with room to spare), so
//! the distribution is exact and probabilities are rounded once, at the end.

/// R computes exact p-values and intervals when both samples are smaller than this.
pub const EXACT_LIMIT: usize = 50;

/// Exact distribution of U for sample sizes m and n.
#[derive(Debug, Clone)]
pub struct ExactU {
    m: usize,
    n: usize,
    /// counts[k] = number of the C(m+n, m) equally likely arrangements with U = k.
    counts: Vec<u128>,
    total: u128,
}

impl ExactU {
    /// Builds the distribution; O(m·m·n) integer operations.
    pub fn new(m: usize, n: usize) -> Self {
        let deg = m * n;
        let mut poly = vec![0i128; deg + m + 1];
        poly[0] = 1;
        let mut cur_deg = 0usize; // degree of [n+i-1 choose i-1]_q
        for i in 1..=m {
            let up = n + i;
            // multiply by (1 - q^{n+i}); descending so each step reads old coefficients
            for k in (up..=cur_deg + up).rev() {
                poly[k] -= poly[k - up];
            }
            // divide by (1 - q^i): b[k] = a[k] + b[k-i]; exact because the quotient is a polynomial
            for k in i..=cur_deg + up {
                poly[k] += poly[k - i];
            }
            cur_deg += n;
        }
        let counts: Vec<u128> = poly[..=deg]
            .iter()
            .map(|&c| u128::try_from(c).expect("Gaussian binomial coefficients are non-negative"))
            .collect();
        let total = counts.iter().sum();
        ExactU {
            m,
            n,
            counts,
            total,
        }
    }

    pub fn sizes(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    /// Number of arrangements with U = k.
    pub fn count(&self, k: usize) -> u128 {
        self.counts.get(k).copied().unwrap_or(0)
    }

    /// C(m+n, m), the number of arrangements.
    pub fn total(&self) -> u128 {
        self.total
    }

    /// P(U <= q).
    pub fn cdf(&self, q: i64) -> f64 {
        if q < 0 {
            return 0.0;
        }
        let hi = (q as usize).min(self.counts.len() - 1);
        ratio(self.counts[..=hi].iter().sum(), self.total)
    }

    /// P(U >= q), summed directly so small upper tails keep their precision.
    pub fn sf_inclusive(&self, q: i64) -> f64 {
        let lo = q.max(0) as usize;
        if lo >= self.counts.len() {
            return 0.0;
        }
        ratio(self.counts[lo..].iter().sum(), self.total)
    }

    /// Two-sided p-value for the observed U, as R: double the smaller tail, at most 1.
    pub fn two_sided_p(&self, u: f64) -> f64 {
        let half = (self.m * self.n) as f64 / 2.0;
        let w = u.round() as i64; // exact path only runs without ties, so U is an integer
        let tail = if u > half {
            self.sf_inclusive(w)
        } else {
            self.cdf(w)
        };
        (2.0 * tail).min(1.0)
    }

    /// R's `qwilcox(p, m, n)`: the smallest q with P(U <= q) >= p, for p <= 0.5 (the only use:
    /// the lower confidence rank). R subtracts 10 machine epsilons from p so that a tail
    /// probability that equals p up to rounding counts as reaching it; so do we.
    pub fn lower_quantile(&self, p: f64) -> usize {
        let target = p - 10.0 * f64::EPSILON;
        let mut acc: u128 = 0;
        for (q, &c) in self.counts.iter().enumerate() {
            acc += c;
            if ratio(acc, self.total) >= target {
                return q;
            }
        }
        self.counts.len() - 1
    }
}

fn ratio(a: u128, b: u128) -> f64 {
    a as f64 / b as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent check: enumerate every choice of which ranks go to the first sample.
    fn brute_counts(m: usize, n: usize) -> Vec<u128> {
        let total = m + n;
        let mut counts = vec![0u128; m * n + 1];
        for mask in 0u32..(1u32 << total) {
            if mask.count_ones() as usize != m {
                continue;
            }
            // U = Σ over first-sample positions of the number of second-sample positions below
            let mut u = 0usize;
            let mut seen_second = 0usize;
            for pos in 0..total {
                if mask & (1 << pos) != 0 {
                    u += seen_second;
                } else {
                    seen_second += 1;
                }
            }
            counts[u] += 1;
        }
        counts
    }

    #[test]
    fn matches_enumeration() {
        for (m, n) in [(1, 1), (1, 4), (3, 4), (5, 6), (7, 3), (6, 8)] {
            let d = ExactU::new(m, n);
            let brute = brute_counts(m, n);
            for (k, &c) in brute.iter().enumerate() {
                assert_eq!(d.count(k), c, "m={m} n={n} k={k}");
            }
            assert_eq!(d.total(), brute.iter().sum::<u128>());
        }
    }

    #[test]
    fn largest_exact_case_is_exact_and_symmetric() {
        let d = ExactU::new(49, 49);
        // C(98, 49)
        assert_eq!(d.total(), 25_477_612_258_980_856_902_730_428_600u128);
        let mn = 49 * 49;
        for k in [0, 1, 17, 600, 1200] {
            assert_eq!(d.count(k), d.count(mn - k));
        }
    }

    #[test]
    fn r_qwilcox_values() {
        // From the exact distribution computed independently in Python (big-int recurrence):
        // qwilcox(0.025, 10, 5) = 9, qwilcox(0.01, 10, 5) = 7, qwilcox(0.01, 3, 4) = 0.
        assert_eq!(ExactU::new(10, 5).lower_quantile(0.025), 9);
        assert_eq!(ExactU::new(10, 5).lower_quantile(0.01), 7);
        assert_eq!(ExactU::new(3, 4).lower_quantile(0.01), 0);
    }
}
