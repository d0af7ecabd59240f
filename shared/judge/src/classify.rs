//! Per-metric classification, rule by rule as Kayenta's `MannWhitneyClassifier` inside
//! NetflixACAJudge (see `docs/judge.md` for the rules and the few deliberate differences):
//!
//! 1. NaN strategy, then optional IQR outlier removal, per side.
//! 2. No data on a side: under `remove`, `NodataFailMetric` if `mustHaveData` (and not
//!    critical), else `Nodata` (flagged critical for a critical metric); under `replace`, Pass.
//! 3. Identical samples, or one distinct value across both: Pass.
//! 4. Mann-Whitney test with the Hodges-Lehmann shift (canary − baseline) and its interval;
//!    bound = tolerance × |shift|.
//! 5. High: direction allows increases, interval lower end > bound, and the effect size is
//!    NaN or >= allowedIncrease. Low: direction allows decreases, upper end < −bound, effect
//!    size <= allowedDecrease.
//! 6. A critical metric that is High with effect >= criticalIncrease (or Low with
//!    <= criticalDecrease) is flagged critical, which zeroes the canary score.

use super::config::{CanaryAnalysis, Direction, EffectMeasure, NanStrategy, OutlierStrategy};
use super::mannwhitney::mann_whitney;
use super::report::{EffectSize, Label, SampleCounts, SideCounts, TestSummary};
use super::transform::{prepare, remove_outliers};

/// The classifier's two fixed parameters (Kayenta: 0.25 and 0.98).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierParams {
    pub tolerance: f64,
    pub confidence: f64,
}

impl Default for ClassifierParams {
    fn default() -> Self {
        ClassifierParams {
            tolerance: super::config::DEFAULT_TOLERANCE,
            confidence: super::config::DEFAULT_CONFIDENCE,
        }
    }
}

/// The classification of one metric with everything that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub label: Label,
    /// Set when this result alone fails the canary (see rule 6 and rule 2).
    pub critical: bool,
    pub reasons: Vec<String>,
    pub test: Option<TestSummary>,
    pub effect_size: Option<EffectSize>,
    pub samples: SampleCounts,
}

/// Classifies one metric: `baseline` and `canary` are the raw samples (NaN = missing).
pub fn classify(
    baseline: &[f64],
    canary: &[f64],
    a: &CanaryAnalysis,
    p: ClassifierParams,
) -> Classification {
    let (b, b_nan) = prepare(baseline, a.nan_strategy);
    let (c, c_nan) = prepare(canary, a.nan_strategy);
    let mut samples = SampleCounts {
        baseline: SideCounts {
            raw: baseline.len(),
            nan: b_nan,
            outliers: 0,
            used: b.len(),
        },
        canary: SideCounts {
            raw: canary.len(),
            nan: c_nan,
            outliers: 0,
            used: c.len(),
        },
    };
    let mut out = Classification {
        label: Label::Pass,
        critical: false,
        reasons: Vec::new(),
        test: None,
        effect_size: None,
        samples,
    };
    let error = |mut out: Classification, why: String| {
        out.label = Label::Error;
        out.reasons.push(why);
        out
    };

    // Configs built in code skip validation; refuse what the rules cannot mean.
    let e = a.effect_size.resolved();
    let params_ok = [
        e.allowed_increase,
        e.allowed_decrease,
        e.critical_increase,
        e.critical_decrease,
        a.outliers.outlier_factor,
        p.tolerance,
    ]
    .iter()
    .all(|v| v.is_finite() && *v >= 0.0)
        && p.confidence > 0.0
        && p.confidence < 1.0;
    if !params_ok {
        return error(
            out,
            "invalid classifier settings (thresholds, outlier factor, tolerance or confidence)"
                .into(),
        );
    }
    if b.iter().chain(&c).any(|v| v.is_infinite()) {
        return error(out, "samples contain an infinite value".into());
    }

    let (b, c) = if a.outliers.strategy == OutlierStrategy::Remove {
        let (b, rb) = remove_outliers(b, a.outliers.outlier_factor);
        let (c, rc) = remove_outliers(c, a.outliers.outlier_factor);
        samples.baseline.outliers = rb;
        samples.canary.outliers = rc;
        samples.baseline.used = b.len();
        samples.canary.used = c.len();
        (b, c)
    } else {
        (b, c)
    };
    out.samples = samples;

    // Rule 2: no data.
    if b.is_empty() || c.is_empty() {
        let side = match (b.is_empty(), c.is_empty()) {
            (true, true) => "baseline and canary have",
            (true, false) => "baseline has",
            _ => "canary has",
        };
        match a.nan_strategy {
            NanStrategy::Replace => {
                out.reasons
                    .push(format!("{side} no data; passes under nanStrategy replace"));
            }
            NanStrategy::Remove => {
                if a.must_have_data && !a.critical {
                    out.label = Label::NodataFailMetric;
                    out.reasons
                        .push(format!("{side} no data and the metric must have data"));
                } else {
                    out.label = Label::Nodata;
                    out.critical = a.critical;
                    out.reasons.push(if a.critical {
                        format!("{side} no data and the metric is critical")
                    } else {
                        format!("{side} no data")
                    });
                }
            }
        }
        return out;
    }

    // Rule 3: nothing to compare.
    if b == c {
        out.reasons
            .push("baseline and canary samples are identical".into());
        return out;
    }
    if b[0] == b[b.len() - 1] && c[0] == c[c.len() - 1] && b[0] == c[0] {
        out.reasons
            .push("a single distinct value across baseline and canary".into());
        return out;
    }

    // Rule 4: the test.
    let t = mann_whitney(&c, &b, p.confidence);
    let s = t.shift;
    let bound = p.tolerance * s.estimate.abs();
    let effect = match a.effect_size.measure {
        EffectMeasure::MeanRatio => mean_ratio(&c, &b),
        EffectMeasure::Cles => t.rank_sum.u / (t.rank_sum.m as f64 * t.rank_sum.n as f64),
    };
    out.test = Some(TestSummary {
        p_value: t.p_value,
        method: t.method,
        u: t.rank_sum.u,
        estimate: s.estimate,
        lower: s.lower,
        upper: s.upper,
        confidence: p.confidence,
        bound,
    });
    out.effect_size = Some(EffectSize {
        measure: a.effect_size.measure,
        value: (!effect.is_nan()).then_some(effect),
    });
    let measure = match a.effect_size.measure {
        EffectMeasure::MeanRatio => "mean ratio",
        EffectMeasure::Cles => "CLES",
    };
    let effect_txt = if effect.is_nan() {
        "undefined (a mean is 0)".to_string()
    } else {
        format!("{effect:.4}")
    };

    // Rule 5.
    let allows_up = matches!(a.direction, Direction::Increase | Direction::Either);
    let allows_down = matches!(a.direction, Direction::Decrease | Direction::Either);
    let above = s.lower > bound;
    let below = s.upper < -bound;
    if above {
        let big_enough = effect.is_nan() || effect >= e.allowed_increase;
        if !allows_up {
            out.reasons
                .push("canary is higher, but only decreases count (direction decrease)".into());
        } else if !big_enough {
            out.reasons.push(format!(
                "canary is higher, but {measure} {effect_txt} < allowedIncrease {}",
                e.allowed_increase
            ));
        } else {
            out.label = Label::High;
            out.reasons.push(format!(
                "canary is higher: interval lower end {} > bound {} and {measure} {effect_txt}",
                fmt(s.lower),
                fmt(bound)
            ));
            // Rule 6; an undefined ratio (baseline mean 0) counts as large, as for rule 5.
            if a.critical && (effect.is_nan() || effect >= e.critical_increase) {
                out.critical = true;
                out.reasons.push(format!(
                    "critical metric: {measure} {effect_txt} >= criticalIncrease {}",
                    e.critical_increase
                ));
            }
        }
    } else if below {
        let big_enough = effect <= e.allowed_decrease;
        if !allows_down {
            out.reasons
                .push("canary is lower, but only increases count (direction increase)".into());
        } else if !big_enough {
            out.reasons.push(format!(
                "canary is lower, but {measure} {effect_txt} is not <= allowedDecrease {}",
                e.allowed_decrease
            ));
        } else {
            out.label = Label::Low;
            out.reasons.push(format!(
                "canary is lower: interval upper end {} < -bound {} and {measure} {effect_txt}",
                fmt(s.upper),
                fmt(-bound)
            ));
            if a.critical && effect <= e.critical_decrease {
                out.critical = true;
                out.reasons.push(format!(
                    "critical metric: {measure} {effect_txt} <= criticalDecrease {}",
                    e.critical_decrease
                ));
            }
        }
    } else if t.p_value < 1.0 - p.confidence {
        out.reasons.push(format!(
            "difference is significant but within tolerance: interval [{}, {}] does not clear ±{}",
            fmt(s.lower),
            fmt(s.upper),
            fmt(bound)
        ));
    }
    out
}

/// Canary mean / baseline mean; NaN when either mean is 0 (as Kayenta).
fn mean_ratio(canary: &[f64], baseline: &[f64]) -> f64 {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mc, mb) = (mean(canary), mean(baseline));
    if mc == 0.0 || mb == 0.0 {
        f64::NAN
    } else {
        mc / mb
    }
}

/// Six significant digits without trailing zeros, for reasons people read.
fn fmt(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (5 - v.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EffectSizeConfig, OutlierConfig};
    use proptest::prelude::*;

    /// 200 evenly spread values on [lo, lo + 99.5], interleaved so order does not help.
    fn spread(lo: f64) -> Vec<f64> {
        (0..200)
            .map(|i| lo + ((i * 37) % 200) as f64 * 0.5)
            .collect()
    }

    fn shifted(v: &[f64], by: f64) -> Vec<f64> {
        v.iter().map(|x| x + by).collect()
    }

    fn run(b: &[f64], c: &[f64], a: &CanaryAnalysis) -> Classification {
        classify(b, c, a, ClassifierParams::default())
    }

    #[test]
    fn reason_numbers_are_short() {
        assert_eq!(fmt(30.48), "30.48");
        assert_eq!(fmt(12.05625), "12.0563");
        assert_eq!(fmt(-0.000123456789), "-0.000123457");
        assert_eq!(fmt(2.0), "2");
        assert_eq!(fmt(0.0), "0");
    }

    #[test]
    fn clear_shifts_are_high_and_low() {
        let b = spread(100.0);
        let a = CanaryAnalysis::default();
        let up = run(&b, &shifted(&b, 40.0), &a);
        assert_eq!(up.label, Label::High, "{:?}", up.reasons);
        let t = up.test.unwrap();
        assert_eq!(t.estimate, 40.0);
        assert!(t.lower > t.bound && t.p_value < 1e-10);
        assert!(!up.critical);
        let down = run(&b, &shifted(&b, -40.0), &a);
        assert_eq!(down.label, Label::Low, "{:?}", down.reasons);
    }

    #[test]
    fn small_shifts_pass_and_tolerance_absorbs_significant_ones() {
        let b = spread(100.0);
        let a = CanaryAnalysis::default();
        let tiny = run(&b, &shifted(&b, 2.0), &a);
        assert_eq!(tiny.label, Label::Pass);
        assert!(tiny.test.unwrap().p_value > 0.02);
        // Significant at the 98% level, but the interval's lower end does not clear a quarter
        // of the estimate: Kayenta's tolerance lets it pass.
        let r = run(&b, &shifted(&b, 9.0), &a);
        let t = r.test.unwrap();
        assert!(
            t.p_value < 0.02 && t.lower > 0.0 && t.lower <= t.bound,
            "{t:?}"
        );
        assert_eq!(r.label, Label::Pass);
        assert!(r.reasons[0].contains("within tolerance"), "{:?}", r.reasons);
        // With zero tolerance the same data is High.
        let strict = classify(
            &b,
            &shifted(&b, 9.0),
            &a,
            ClassifierParams {
                tolerance: 0.0,
                confidence: 0.98,
            },
        );
        assert_eq!(strict.label, Label::High);
    }

    #[test]
    fn direction_limits_what_counts() {
        let b = spread(100.0);
        let up = shifted(&b, 40.0);
        let inc = CanaryAnalysis {
            direction: Direction::Increase,
            ..Default::default()
        };
        let dec = CanaryAnalysis {
            direction: Direction::Decrease,
            ..Default::default()
        };
        assert_eq!(run(&b, &up, &inc).label, Label::High);
        let r = run(&b, &up, &dec);
        assert_eq!(r.label, Label::Pass);
        assert!(r.reasons[0].contains("direction decrease"));
        assert_eq!(run(&up, &b, &dec).label, Label::Low);
        assert_eq!(run(&up, &b, &inc).label, Label::Pass);
    }

    #[test]
    fn effect_size_thresholds_mean_ratio() {
        let b = spread(100.0); // mean 149.75
        let up = shifted(&b, 40.0); // ratio ≈ 1.267
        let with = |inc: f64, dec: f64| CanaryAnalysis {
            effect_size: EffectSizeConfig {
                allowed_increase: Some(inc),
                allowed_decrease: Some(dec),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(run(&b, &up, &with(1.2, 1.0)).label, Label::High);
        let r = run(&b, &up, &with(1.3, 1.0));
        assert_eq!(r.label, Label::Pass);
        assert!(
            r.reasons[0].contains("allowedIncrease 1.3"),
            "{:?}",
            r.reasons
        );
        let ratio = r.effect_size.unwrap().value.unwrap();
        assert!((ratio - 189.75 / 149.75).abs() < 1e-12);
        // decrease: ratio ≈ 0.789
        assert_eq!(run(&up, &b, &with(1.0, 0.8)).label, Label::Low);
        assert_eq!(run(&up, &b, &with(1.0, 0.75)).label, Label::Pass);
    }

    #[test]
    fn effect_size_cles() {
        let b = spread(100.0);
        let up = shifted(&b, 40.0);
        let cles = |inc: f64| CanaryAnalysis {
            effect_size: EffectSizeConfig {
                measure: EffectMeasure::Cles,
                allowed_increase: Some(inc),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = run(&b, &up, &cles(0.5));
        assert_eq!(r.label, Label::High);
        let v = r.effect_size.unwrap().value.unwrap();
        // P(canary > baseline) + ½P(=) for a +40 shift of 200 values spaced 0.5 over 100.
        let mut u = 0.0;
        for x in &up {
            for y in &b {
                u += if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
            }
        }
        assert_eq!(v, u / 40_000.0);
        assert_eq!(run(&b, &up, &cles(v + 0.01)).label, Label::Pass);
    }

    #[test]
    fn zero_mean_gives_undefined_ratio_which_counts_for_high_only() {
        let b = vec![0.0; 50];
        let c: Vec<f64> = (0..50).map(|i| (i % 5) as f64 + 1.0).collect();
        let a = CanaryAnalysis {
            critical: true,
            ..Default::default()
        };
        let r = run(&b, &c, &a);
        assert_eq!(r.label, Label::High);
        assert_eq!(r.effect_size.unwrap().value, None);
        assert!(r.critical, "undefined ratio meets criticalIncrease");
        // the mirror image is not Low: NaN <= allowedDecrease is false, as in Kayenta
        let r = run(&c, &b, &a);
        assert_eq!(r.label, Label::Pass);
    }

    #[test]
    fn critical_flag_needs_critical_effect() {
        let b = spread(100.0);
        let up = shifted(&b, 40.0); // ratio 1.267
        let crit = |ci: f64| CanaryAnalysis {
            critical: true,
            effect_size: EffectSizeConfig {
                critical_increase: Some(ci),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = run(&b, &up, &crit(1.2));
        assert!(r.label == Label::High && r.critical);
        let r = run(&b, &up, &crit(1.5));
        assert!(r.label == Label::High && !r.critical);
        let r = run(
            &up,
            &b,
            &CanaryAnalysis {
                critical: true,
                effect_size: EffectSizeConfig {
                    critical_decrease: Some(0.9),
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        assert!(r.label == Label::Low && r.critical);
        // a non-critical metric is never flagged
        assert!(!run(&b, &up, &CanaryAnalysis::default()).critical);
    }

    #[test]
    fn nodata_rules() {
        let nan = [f64::NAN, f64::NAN];
        let b = spread(1.0);
        let plain = CanaryAnalysis::default();
        let r = run(&b, &nan, &plain);
        assert_eq!((r.label, r.critical), (Label::Nodata, false));
        assert_eq!(
            r.samples.canary,
            SideCounts {
                raw: 2,
                nan: 2,
                outliers: 0,
                used: 0
            }
        );
        let must = CanaryAnalysis {
            must_have_data: true,
            ..Default::default()
        };
        assert_eq!(run(&b, &nan, &must).label, Label::NodataFailMetric);
        let crit = CanaryAnalysis {
            critical: true,
            ..Default::default()
        };
        let r = run(&[], &b, &crit);
        assert_eq!((r.label, r.critical), (Label::Nodata, true));
        let both = CanaryAnalysis {
            critical: true,
            must_have_data: true,
            ..Default::default()
        };
        assert_eq!(run(&b, &[], &both).label, Label::Nodata);
        let replace = CanaryAnalysis {
            nan_strategy: NanStrategy::Replace,
            must_have_data: true,
            ..Default::default()
        };
        assert_eq!(run(&b, &[], &replace).label, Label::Pass);
        // replace turns NaN into zeros, so an all-NaN canary is data (zeros). Its mean ratio is
        // undefined, which never satisfies allowedDecrease (Kayenta), so it passes...
        let r = run(&b, &[f64::NAN; 30], &replace);
        assert_eq!((r.label, r.samples.canary.used), (Label::Pass, 30));
        assert!(r.reasons[0].contains("lower"), "{:?}", r.reasons);
        // ...while with CLES it is Low.
        let cles = CanaryAnalysis {
            effect_size: EffectSizeConfig {
                measure: EffectMeasure::Cles,
                ..Default::default()
            },
            ..replace
        };
        assert_eq!(run(&b, &[f64::NAN; 30], &cles).label, Label::Low);
    }

    #[test]
    fn identical_and_single_value() {
        let b = spread(5.0);
        let mut c = b.clone();
        c.reverse();
        let r = run(&b, &c, &CanaryAnalysis::default());
        assert_eq!(r.label, Label::Pass);
        assert!(r.reasons[0].contains("identical") && r.test.is_none());
        let r = run(&[3.0; 10], &[3.0; 4], &CanaryAnalysis::default());
        assert!(r.reasons[0].contains("single distinct value"));
    }

    #[test]
    fn constant_sides_are_judged_without_noise() {
        // Kayenta jitters two constant samples with Gaussian noise; the exact answer is
        // available instead: every difference is 2, so the interval is [2, 2].
        let r = run(&[10.0; 20], &[12.0; 20], &CanaryAnalysis::default());
        let t = r.test.unwrap();
        assert_eq!((t.estimate, t.lower, t.upper), (2.0, 2.0, 2.0));
        assert_eq!(r.label, Label::High);
    }

    #[test]
    fn outliers_are_removed_per_side() {
        let b = spread(100.0);
        let mut c = b.clone();
        c.extend([1e6, 2e6]); // two huge canary outliers would dominate the mean ratio
        let eff = EffectSizeConfig {
            allowed_decrease: Some(0.99),
            allowed_increase: Some(1.01),
            ..Default::default()
        };
        let keep = CanaryAnalysis {
            effect_size: eff.clone(),
            ..Default::default()
        };
        let rk = run(&b, &c, &keep);
        assert!(rk.effect_size.unwrap().value.unwrap() > 50.0);
        let remove = CanaryAnalysis {
            effect_size: eff,
            outliers: OutlierConfig {
                strategy: OutlierStrategy::Remove,
                outlier_factor: 3.0,
            },
            ..Default::default()
        };
        let r = run(&b, &c, &remove);
        assert_eq!(r.samples.canary.outliers, 2);
        assert_eq!(r.samples.baseline.outliers, 0);
        // what is left is exactly the baseline
        assert_eq!(r.label, Label::Pass);
        assert!(r.reasons[0].contains("identical"), "{:?}", r.reasons);
    }

    #[test]
    fn infinite_values_and_bad_settings_are_errors() {
        let b = spread(1.0);
        let r = run(&b, &[1.0, f64::INFINITY], &CanaryAnalysis::default());
        assert_eq!(r.label, Label::Error);
        let bad = CanaryAnalysis {
            effect_size: EffectSizeConfig {
                allowed_increase: Some(f64::NAN),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(run(&b, &b, &bad).label, Label::Error);
        let r = classify(
            &b,
            &b,
            &CanaryAnalysis::default(),
            ClassifierParams {
                tolerance: 0.25,
                confidence: 1.0,
            },
        );
        assert_eq!(r.label, Label::Error);
    }

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        // Dyadic values (multiples of 1/8 in [1, 64]) keep every sum and difference exact, so
        // "shift by a constant" is exactly a shift of every pairwise difference.
        prop::collection::vec((8u32..512).prop_map(|v| v as f64 / 8.0), 1..60)
    }

    fn either_cles() -> CanaryAnalysis {
        CanaryAnalysis {
            effect_size: EffectSizeConfig {
                measure: EffectMeasure::Cles,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn swapping_sides_mirrors_high_and_low(b in sample(), c in sample(), cles in any::<bool>()) {
            let a = if cles { either_cles() } else { CanaryAnalysis::default() };
            let r1 = run(&b, &c, &a);
            let r2 = run(&c, &b, &a);
            let mirror = match r1.label { Label::High => Label::Low, Label::Low => Label::High, l => l };
            prop_assert_eq!(r2.label, mirror);
            if let (Some(t1), Some(t2)) = (r1.test, r2.test) {
                prop_assert_eq!(t1.estimate, -t2.estimate);
                prop_assert_eq!(t1.lower, -t2.upper);
                prop_assert_eq!(t1.upper, -t2.lower);
                prop_assert!((t1.p_value - t2.p_value).abs() < 1e-12);
            }
        }

        #[test]
        fn shifting_both_changes_nothing(b in sample(), c in sample(), k in -64i32..64) {
            let a = either_cles();
            let shift = k as f64 / 4.0;
            let r1 = run(&b, &c, &a);
            let r2 = run(&shifted(&b, shift), &shifted(&c, shift), &a);
            prop_assert_eq!(r1.label, r2.label);
            prop_assert_eq!(r1.test, r2.test);
            prop_assert_eq!(r1.effect_size, r2.effect_size);
        }

        #[test]
        fn identical_samples_pass(b in sample(), seed in any::<u64>()) {
            let mut c = b.clone();
            // any permutation of the same values
            let n = c.len();
            for i in (1..n).rev() {
                let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
                c.swap(i, j);
            }
            let r = run(&b, &c, &CanaryAnalysis { critical: true, ..Default::default() });
            prop_assert_eq!(r.label, Label::Pass);
            prop_assert!(!r.critical);
        }
    }
}
