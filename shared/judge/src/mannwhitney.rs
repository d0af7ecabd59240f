//! The two-sided Mann-Whitney U (Wilcoxon rank-sum) test of canary against baseline, with the
//! Hodges-Lehmann shift estimate and its confidence interval, following R's
//! `wilcox.test(canary, baseline, conf.int = TRUE)`:
//!
//! * exact null distribution when both samples have fewer than 50 values and there are no
//!   ties (p-value from the exact tails; interval ranks from `qwilcox`, as R);
//! * otherwise the normal approximation with the tie-corrected variance and a continuity
//!   correction (p-value identical to R and to scipy's `mannwhitneyu(method="asymptotic",
//!   use_continuity=True)`); the interval is the pair of order statistics of the differences
//!   where the same corrected statistic crosses the normal quantile (see `docs/judge.md`).
//!
//! U counts canary values above baseline values (ties count a half), so U/(m·n) is the
//! common-language effect size and positive shifts mean the canary is higher.

use super::exact::{ExactU, EXACT_LIMIT};
use super::hodges_lehmann::{PairwiseDifferences, ShiftInterval};
use super::normal;

/// The rank-sum statistic of two sorted samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankSum {
    /// U for the canary: #(canary > baseline) + ½·#(canary = baseline).
    pub u: f64,
    /// Σ (t³ − t) over groups of tied values in the pooled sample.
    pub tie_term: f64,
    pub m: usize,
    pub n: usize,
}

impl RankSum {
    /// Merges two sorted samples (canary first) in O(m + n).
    pub fn of_sorted(canary: &[f64], baseline: &[f64]) -> Self {
        let (x, y) = (canary, baseline);
        let (mut i, mut j) = (0usize, 0usize);
        let (mut u2, mut tie_term) = (0u64, 0.0f64); // 2·U, kept in integers
        while i < x.len() || j < y.len() {
            let v = match (x.get(i), y.get(j)) {
                (Some(&a), Some(&b)) => a.min(b),
                (Some(&a), None) => a,
                (None, Some(&b)) => b,
                (None, None) => unreachable!(),
            };
            let i0 = i;
            while i < x.len() && x[i] == v {
                i += 1;
            }
            let j0 = j;
            while j < y.len() && y[j] == v {
                j += 1;
            }
            let (cx, cy) = ((i - i0) as u64, (j - j0) as u64);
            // each canary copy beats the j0 baseline values below v and ties the cy equal ones
            u2 += cx * (2 * j0 as u64 + cy);
            let t = (cx + cy) as f64;
            tie_term += t * t * t - t;
        }
        RankSum {
            u: u2 as f64 / 2.0,
            tie_term,
            m: x.len(),
            n: y.len(),
        }
    }

    /// The statistic for 0/1 data given as counts (e.g. failed requests among requests),
    /// without materialising the samples.
    pub fn of_binary(canary_ones: u64, canary_n: u64, baseline_ones: u64, baseline_n: u64) -> Self {
        let (c1, c0) = (canary_ones as f64, (canary_n - canary_ones) as f64);
        let (b1, b0) = (baseline_ones as f64, (baseline_n - baseline_ones) as f64);
        let tie = |t: f64| t * t * t - t;
        RankSum {
            u: c1 * b0 + 0.5 * (c1 * b1 + c0 * b0),
            tie_term: tie(c1 + b1) + tie(c0 + b0),
            m: canary_n as usize,
            n: baseline_n as usize,
        }
    }

    /// Two-sided p-value as R would compute it: exact when applicable, else normal.
    pub fn p_value(&self) -> f64 {
        if self.exact_applies() {
            ExactU::new(self.m, self.n).two_sided_p(self.u)
        } else {
            self.normal_p_value()
        }
    }

    pub fn has_ties(&self) -> bool {
        self.tie_term > 0.0
    }

    /// Standard deviation of U under the null, corrected for ties.
    pub fn sigma(&self) -> f64 {
        let (m, n) = (self.m as f64, self.n as f64);
        let big_n = m + n;
        let tie = if big_n > 1.0 {
            self.tie_term / (big_n * (big_n - 1.0))
        } else {
            0.0
        };
        (m * n / 12.0 * ((big_n + 1.0) - tie)).max(0.0).sqrt()
    }

    /// Whether R would use the exact distribution: both samples under 50 and no ties.
    pub fn exact_applies(&self) -> bool {
        self.m < EXACT_LIMIT && self.n < EXACT_LIMIT && !self.has_ties()
    }

    /// Two-sided p-value by the normal approximation with continuity correction.
    pub fn normal_p_value(&self) -> f64 {
        let sigma = self.sigma();
        let dz = self.u - (self.m * self.n) as f64 / 2.0;
        if sigma == 0.0 || dz == 0.0 {
            return 1.0;
        }
        let z = (dz.abs() - 0.5) / sigma; // |dz| >= 0.5 whenever it is non-zero
        (2.0 * normal::sf(z)).min(1.0)
    }
}

/// How the p-value and interval were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Method {
    Exact,
    Normal,
}

/// Result of the test at one confidence level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    pub rank_sum: RankSum,
    pub p_value: f64,
    pub method: Method,
    pub shift: ShiftInterval,
    pub confidence: f64,
}

/// Runs the test on sorted, NaN-free, non-empty samples.
pub fn mann_whitney(canary: &[f64], baseline: &[f64], confidence: f64) -> TestResult {
    let rs = RankSum::of_sorted(canary, baseline);
    let alpha = 1.0 - confidence;
    let (p_value, method, lower_rank) = if rs.exact_applies() {
        let dist = ExactU::new(rs.m, rs.n);
        // R: qu <- qwilcox(alpha/2, m, n); if (qu == 0) qu <- 1; interval = (d[qu], d[mn - qu + 1])
        let qu = (dist.lower_quantile(alpha / 2.0) as u64).max(1);
        (dist.two_sided_p(rs.u), Method::Exact, qu)
    } else {
        (
            rs.normal_p_value(),
            Method::Normal,
            normal_lower_rank(&rs, alpha),
        )
    };
    let shift = PairwiseDifferences::new(canary, baseline).shift_interval(lower_rank);
    TestResult {
        rank_sum: rs,
        p_value,
        method,
        shift,
        confidence,
    }
}

/// Smallest k with k >= m·n/2 − z·σ − ½: the shifts between the k-th and (m·n+1−k)-th
/// differences are exactly those the continuity-corrected normal test does not reject.
pub fn normal_lower_rank(rs: &RankSum, alpha: f64) -> u64 {
    let z = normal::ppf(1.0 - alpha / 2.0);
    let mn = (rs.m * rs.n) as f64;
    let c = (mn / 2.0 - z * rs.sigma() - 0.5).ceil();
    if c.is_finite() && c > 1.0 {
        c as u64
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(v: &[f64]) -> Vec<f64> {
        let mut v = v.to_vec();
        v.sort_unstable_by(f64::total_cmp);
        v
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        a == b || (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    struct Case {
        name: &'static str,
        conf: f64,
        u: f64,
        p: f64,
        est: f64,
        lo: f64,
        hi: f64,
        rank: u64,
    }

    fn check(x: &[f64], y: &[f64], c: &Case, method: Method) {
        let r = mann_whitney(&sorted(x), &sorted(y), c.conf);
        assert_eq!(r.method, method, "{}", c.name);
        assert_eq!(r.rank_sum.u, c.u, "{} U", c.name);
        assert!(
            close(r.p_value, c.p, 1e-9),
            "{} p {} want {}",
            c.name,
            r.p_value,
            c.p
        );
        assert_eq!(r.shift.lower_rank, c.rank, "{} rank", c.name);
        assert!(
            close(r.shift.estimate, c.est, 1e-12),
            "{} est {} want {}",
            c.name,
            r.shift.estimate,
            c.est
        );
        assert!(
            close(r.shift.lower, c.lo, 1e-12),
            "{} lo {} want {}",
            c.name,
            r.shift.lower,
            c.lo
        );
        assert!(
            close(r.shift.upper, c.hi, 1e-12),
            "{} hi {} want {}",
            c.name,
            r.shift.upper,
            c.hi
        );
    }

    // R's ?wilcox.test two-sample example (Hollander & Wolfe's permeability data). R prints
    // W = 35, p-value = 0.1272 for alternative = "greater"; the two-sided exact p is twice that.
    const R_X: [f64; 10] = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const R_Y: [f64; 5] = [1.15, 0.88, 0.90, 0.74, 1.21];

    #[test]
    fn r_documentation_example() {
        let r = mann_whitney(&sorted(&R_X), &sorted(&R_Y), 0.95);
        assert_eq!(r.rank_sum.u, 35.0);
        assert!((r.p_value / 2.0 - 0.1272).abs() < 5e-5);
    }

    // Reference values below: exact counts by the recurrence c(k;m,n) = c(k-n;m-1,n) +
    // c(k;m,n-1) in Python big integers, R's qwilcox rule applied to them, and the order
    // statistics of numpy.subtract.outer(x, y) sorted; p-values cross-checked against
    // scipy.stats.mannwhitneyu(method="exact"). Regenerate with
    // `.venv/bin/python scripts/bench_judge.py reference` (scipy 1.17.1, numpy 2.4.6).
    #[test]
    fn exact_reference_cases() {
        let x12 = [
            10.3012, 10.5987, 10.0259, 9.4094, 9.8453, 9.3084, 10.3601, 11.6402, 9.8078, 9.6795,
            10.7898, 10.6569,
        ];
        let y9 = [
            10.1054, 9.0695, 9.9707, 10.6953, 8.6558, 9.5424, 8.0988, 8.7105, 8.1583,
        ];
        let x30 = [
            1.08595, 0.64809, 1.39882, 1.32098, 1.11242, 0.34702, 0.933, 1.19214, 1.2926, 0.56832,
            0.96187, 0.74882, 0.81512, 2.07601, 0.81565, 1.2017, 1.90065, 0.91229, 1.15506,
            1.29076, 1.26098, 0.66197, 1.2688, 2.40948, 0.56351, 1.87703, 1.29651, 0.88627,
            3.32081, 1.78806,
        ];
        let y40 = [
            0.54901, 1.03796, 1.33422, 0.90993, 1.40699, 0.96729, 1.39602, 2.05292, 0.71332,
            1.10691, 0.79322, 1.0657, 0.55234, 0.74852, 0.90656, 1.56734, 1.77289, 0.51594,
            0.67212, 1.38189, 0.36928, 0.79328, 0.95252, 1.87481, 1.41157, 0.84908, 0.8317,
            0.88241, 2.14205, 0.80734, 0.85913, 1.19279, 0.9414, 0.90607, 0.57291, 0.99426,
            0.80108, 1.79152, 1.38617, 0.988,
        ];
        let cases: [(&[f64], &[f64], Case); 8] = [
            (
                &R_X,
                &R_Y,
                Case {
                    name: "r_doc95",
                    conf: 0.95,
                    u: 35.0,
                    p: 0.25441225441225446,
                    est: 0.30500000000000005,
                    lo: -0.15000000000000002,
                    hi: 0.7599999999999999,
                    rank: 9,
                },
            ),
            (
                &R_X,
                &R_Y,
                Case {
                    name: "r_doc98",
                    conf: 0.98,
                    u: 35.0,
                    p: 0.25441225441225446,
                    est: 0.30500000000000005,
                    lo: -0.17000000000000004,
                    hi: 0.8999999999999999,
                    rank: 7,
                },
            ),
            (
                &[1.5, 2.5, 4.0],
                &[0.5, 1.0, 3.0, 3.5],
                Case {
                    name: "tiny",
                    conf: 0.95,
                    u: 8.0,
                    p: 0.6285714285714286,
                    est: 0.75,
                    lo: -2.0,
                    hi: 3.5,
                    rank: 1,
                },
            ),
            (
                &x12,
                &y9,
                Case {
                    name: "m12n9_95",
                    conf: 0.95,
                    u: 85.0,
                    p: 0.02782295104276522,
                    est: 1.04,
                    lo: 0.1958000000000002,
                    hi: 1.7089999999999996,
                    rank: 27,
                },
            ),
            (
                &x12,
                &y9,
                Case {
                    name: "m12n9_98",
                    conf: 0.98,
                    u: 85.0,
                    p: 0.02782295104276522,
                    est: 1.04,
                    lo: -0.07949999999999946,
                    hi: 1.9270999999999994,
                    rank: 22,
                },
            ),
            (
                &x30,
                &y40,
                Case {
                    name: "m30n40_95",
                    conf: 0.95,
                    u: 691.0,
                    p: 0.2848009049692162,
                    est: 0.11904000000000003,
                    lo: -0.1002599999999999,
                    hi: 0.34399,
                    rank: 435,
                },
            ),
            (
                &x30,
                &y40,
                Case {
                    name: "m30n40_98",
                    conf: 0.98,
                    u: 691.0,
                    p: 0.2848009049692162,
                    est: 0.11904000000000003,
                    lo: -0.13359,
                    hi: 0.37958000000000003,
                    rank: 405,
                },
            ),
            (
                &[1.5, 2.5, 4.0],
                &[0.5, 1.0, 3.0, 3.5],
                Case {
                    name: "tiny98",
                    conf: 0.98,
                    u: 8.0,
                    p: 0.6285714285714286,
                    est: 0.75,
                    lo: -2.0,
                    hi: 3.5,
                    rank: 1,
                },
            ),
        ];
        for (x, y, c) in &cases {
            check(x, y, c, Method::Exact);
        }
    }

    /// Deterministic integer-grid samples with many ties: ((i·a + b) mod k)·scale + offset.
    fn grid(count: usize, a: usize, b: usize, k: usize, scale: f64, off: f64) -> Vec<f64> {
        (0..count)
            .map(|i| ((i * a + b) % k) as f64 * scale + off)
            .collect()
    }

    // Reference values (`scripts/bench_judge.py reference`): p from
    // scipy.stats.mannwhitneyu(x, y, method="asymptotic",
    // use_continuity=True); interval ranks k = max(1, ceil(mn/2 − z·σ − ½)) with
    // z = scipy.stats.norm.ppf(1 − (1 − conf)/2) and σ tie-corrected from numpy.unique
    // counts; estimate and bounds from numpy.sort(numpy.subtract.outer(x, y)).
    #[test]
    fn normal_reference_cases_with_ties() {
        let cases = [
            (
                grid(10, 7, 3, 6, 1.0, 0.0),
                grid(12, 5, 1, 5, 1.0, 0.0),
                Case {
                    name: "ties_small95",
                    conf: 0.95,
                    u: 90.0,
                    p: 0.028856727749624916,
                    est: 2.0,
                    lo: 0.0,
                    hi: 3.0,
                    rank: 34,
                },
            ),
            (
                grid(10, 7, 3, 6, 1.0, 0.0),
                grid(12, 5, 1, 5, 1.0, 0.0),
                Case {
                    name: "ties_small98",
                    conf: 0.98,
                    u: 90.0,
                    p: 0.028856727749624916,
                    est: 2.0,
                    lo: 0.0,
                    hi: 3.0,
                    rank: 29,
                },
            ),
            (
                grid(60, 37, 11, 23, 0.5, 1.0),
                grid(80, 29, 5, 19, 0.5, 0.0),
                Case {
                    name: "ties_mid95",
                    conf: 0.95,
                    u: 3230.5,
                    p: 0.00046778029088099436,
                    est: 2.0,
                    lo: 1.0,
                    hi: 3.0,
                    rank: 1935,
                },
            ),
            (
                grid(60, 37, 11, 23, 0.5, 1.0),
                grid(80, 29, 5, 19, 0.5, 0.0),
                Case {
                    name: "ties_mid98",
                    conf: 0.98,
                    u: 3230.5,
                    p: 0.00046778029088099436,
                    est: 2.0,
                    lo: 0.5,
                    hi: 3.5,
                    rank: 1848,
                },
            ),
            (
                grid(300, 101, 17, 97, 0.25, 0.0),
                grid(250, 89, 3, 83, 0.25, 2.0),
                Case {
                    name: "ties_large95",
                    conf: 0.95,
                    u: 36436.5,
                    p: 0.5667450353658204,
                    est: -0.25,
                    lo: -1.5,
                    hi: 0.75,
                    rank: 33863,
                },
            ),
            (
                grid(300, 101, 17, 97, 0.25, 0.0),
                grid(250, 89, 3, 83, 0.25, 2.0),
                Case {
                    name: "ties_large98",
                    conf: 0.98,
                    u: 36436.5,
                    p: 0.5667450353658204,
                    est: -0.25,
                    lo: -1.75,
                    hi: 1.0,
                    rank: 33183,
                },
            ),
        ];
        for (x, y, c) in &cases {
            check(x, y, c, Method::Normal);
        }
    }

    #[test]
    fn normal_reference_case_continuous_large() {
        let (x, y) = continuous_large();
        let c95 = Case {
            name: "cont95",
            conf: 0.95,
            u: 5913.0,
            p: 0.2395688357520519,
            est: 0.09600900000000001,
            lo: -0.067245,
            hi: 0.26895,
            rank: 4546,
        };
        let c98 = Case {
            name: "cont98",
            conf: 0.98,
            u: 5913.0,
            p: 0.2395688357520519,
            est: 0.09600900000000001,
            lo: -0.09702299999999997,
            hi: 0.30233999999999994,
            rank: 4386,
        };
        check(&x, &y, &c95, Method::Normal);
        check(&x, &y, &c98, Method::Normal);
    }

    #[test]
    fn binary_counts_match_materialised_samples() {
        let canary: Vec<f64> = (0..40).map(|i| if i < 7 { 1.0 } else { 0.0 }).collect();
        let baseline: Vec<f64> = (0..55).map(|i| if i < 3 { 1.0 } else { 0.0 }).collect();
        let direct = RankSum::of_sorted(&sorted(&canary), &sorted(&baseline));
        let counts = RankSum::of_binary(7, 40, 3, 55);
        assert_eq!(direct, counts);
        assert_eq!(direct.p_value(), counts.normal_p_value());
    }

    #[test]
    fn u_statistic_matches_pairwise_count() {
        let x = sorted(&grid(37, 7, 3, 11, 0.5, 0.0));
        let y = sorted(&grid(23, 5, 1, 9, 0.5, 0.25));
        let mut u = 0.0;
        for a in &x {
            for b in &y {
                u += if a > b {
                    1.0
                } else if a == b {
                    0.5
                } else {
                    0.0
                };
            }
        }
        assert_eq!(RankSum::of_sorted(&x, &y).u, u);
    }

    /// Lognormal samples rounded to 6 decimals (numpy default_rng(7) after the exact cases).
    fn continuous_large() -> (Vec<f64>, Vec<f64>) {
        let x = vec![
            1.764499, 0.871178, 2.308247, 1.101002, 1.662575, 0.447703, 1.408712, 0.339004,
            0.265875, 0.893031, 0.588635, 1.23966, 5.319236, 0.61742, 0.71408, 1.276067, 1.560661,
            0.976789, 0.956809, 1.807101, 1.59032, 0.536026, 1.045581, 1.132809, 0.528275,
            1.325629, 0.606185, 2.182447, 1.26481, 1.176465, 0.730724, 1.017118, 0.272962,
            0.500581, 1.424738, 0.249076, 1.998958, 0.325541, 1.877079, 0.611495, 1.906547,
            1.211266, 0.376897, 2.649588, 3.031917, 1.055418, 0.912341, 0.988164, 0.558441,
            2.384551, 0.755765, 1.06627, 0.634253, 0.713016, 0.451849, 2.664319, 0.99217, 2.173079,
            1.115527, 0.679714, 0.879256, 0.746648, 1.111345, 0.849857, 0.895883, 0.421051,
            0.628266, 3.517816, 0.690829, 0.528419, 1.399519, 2.959708, 0.39939, 0.955075,
            0.710038, 0.322158, 1.848637, 1.087182, 1.161845, 0.652713, 1.519451, 0.757669,
            0.999968, 0.508758, 0.471766, 2.814747, 0.774937, 1.355508, 1.079337, 0.811556,
            0.774473, 1.717823, 0.894664, 0.994007, 1.122496, 2.518229, 1.779545, 1.444582,
            0.744904, 0.420051, 2.148287, 2.173879, 1.001505, 1.614974, 1.909822, 1.977491,
            2.106375, 0.803376, 3.191468, 0.461804, 2.020219, 1.561665, 2.037113, 4.117746,
            3.123993, 0.49578, 0.338893, 1.957802, 0.543075, 1.095615,
        ];
        let y = vec![
            1.800041, 0.316428, 0.228325, 1.199026, 1.031558, 0.841927, 1.027341, 0.547517,
            0.346648, 0.889889, 0.506518, 0.316498, 1.424722, 0.957931, 1.32919, 0.50032, 0.630879,
            0.496918, 0.537595, 1.146582, 0.578057, 1.283058, 1.268492, 4.127256, 0.37721,
            1.861777, 0.93928, 0.990227, 0.362437, 0.7246, 1.682428, 0.9439, 1.058379, 0.815869,
            2.243863, 0.985082, 0.214319, 0.616035, 0.252042, 0.102693, 0.689988, 2.543375,
            1.033534, 0.440087, 0.517632, 2.206548, 1.116656, 1.03417, 0.963268, 1.027245, 1.75731,
            1.472258, 1.162989, 0.481905, 1.430145, 0.619419, 2.150482, 0.410764, 0.90816,
            0.994862, 0.395639, 3.338028, 2.779538, 0.722882, 1.716358, 1.303526, 0.160495,
            1.191578, 0.957968, 1.059982, 0.470569, 0.828165, 0.88269, 2.297142, 1.26377, 0.996119,
            2.916193, 0.677956, 0.761396, 0.280347, 2.999285, 1.964097, 1.899886, 1.597163,
            1.080154, 1.162813, 0.838279, 0.86717, 1.038744, 2.881413,
        ];
        (x, y)
    }
}
