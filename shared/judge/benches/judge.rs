//! Benchmark of the canary judge against scipy/numpy, plus the live-verdict calibration.
//!
//! `cargo bench --no-default-features --bench judge` (from shared/). A plain main: it times a
//! full judgement of 100 metrics × 2 arms × 5,000 samples (p-value, Hodges-Lehmann estimate
//! and interval, classification, score), runs `scripts/bench_judge.py` (with
//! `$AVIARY_PYTHON`, else `<repo>/.venv/bin/python`) on the same data, compares every number
//! it computed, prints the time ratio and the sequential-test simulation, and exits non-zero
//! if numbers disagree or a target is missed:
//!
//! * Rust judgement < 100 ms on one core (this thread's CPU time where Linux reports it) and
//!   ≥ 100× faster than scipy/numpy (their thread CPU time);
//! * p-values, estimates and interval ends equal to 1e-6 relative;
//! * live tests' false-alarm rate under continuous peeking ≤ α, while the peeking
//!   fixed-horizon test's exceeds it.
//!
//! `AVIARY_BENCH_INTERVAL_METRICS` (default 6) sets how many metrics scipy computes the interval
//! for (each materialises 25 M differences); its time is extrapolated per metric.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use aviary_judge::calibration::{self, ErrorScenario, LatencyScenario, SimReport};
use aviary_judge::config::{
    AnalysisConfigurations, CanaryAnalysis, ClassifierConfig, MetricConfig, NanStrategy,
};
use aviary_judge::hodges_lehmann::PairwiseDifferences;
use aviary_judge::rng::SplitMix64;
use aviary_judge::transform::prepare;
use aviary_judge::{judge, parse_data, CanaryConfig, JudgeReport, MetricData};

const METRICS: usize = 100;
const SAMPLES: usize = 5_000;
const TARGET_MS: f64 = 100.0;
const TARGET_RATIO: f64 = 100.0;
const REL_TOL: f64 = 1e-6;
const ALPHA: f64 = 0.05;

fn main() {
    let mut failures: Vec<String> = Vec::new();
    let (config, data) = synthetic();

    // ---- Rust: full judgement, single thread, best of several runs after a warm-up.
    let json = data.to_json();
    let t = Instant::now();
    let parsed = parse_data(&json).expect("bench data parses");
    let parse_time = t.elapsed();
    let _ = judge(&config, &parsed, None);
    let mut times = Vec::new();
    let mut cpu_times = Vec::new();
    let mut report = None;
    for _ in 0..7 {
        let c = thread_cpu();
        let t = Instant::now();
        let r = judge(&config, &parsed, None);
        times.push(t.elapsed());
        if let (Some(a), Some(b)) = (c, thread_cpu()) {
            cpu_times.push(b - a);
        }
        report = Some(r);
    }
    let report = report.expect("ran");
    times.sort();
    cpu_times.sort();
    let best_wall = times[0];
    let median = times[times.len() / 2];
    // Judge the target on this thread's CPU time when the kernel reports it: on a shared
    // machine wall time also counts the time other processes held the core.
    let best = cpu_times.first().copied().unwrap_or(best_wall);

    println!("== judge: {METRICS} metrics × 2 × {SAMPLES} samples (p-value, HL estimate + {:.0}% interval, classification, score)", report.confidence * 100.0);
    println!(
        "rust   judge(): best {:.1} ms wall, median {:.1} ms wall over {} runs; best {} (data JSON parse {:.1} ms, not included)",
        ms(best_wall),
        ms(median),
        times.len(),
        cpu_times.first().map(|c| format!("{:.1} ms on-CPU (one thread)", ms(*c))).unwrap_or_else(|| "on-CPU time unavailable".into()),
        ms(parse_time)
    );
    breakdown(&parsed);
    println!(
        "rust   verdict: score {} → {:?}",
        report.score, report.classification
    );
    if ms(best) > TARGET_MS {
        failures.push(format!(
            "rust judgement took {:.1} ms > {TARGET_MS} ms",
            ms(best)
        ));
    }

    // ---- scipy/numpy on the same data.
    match run_python(&json, &report) {
        Ok(py) => compare(&report, &py, best, &mut failures),
        Err(e) => failures.push(format!("python side failed: {e}")),
    }

    // ---- live verdict calibration (release-size runs).
    println!("\n== live verdict: false alarms under continuous peeking (α = {ALPHA}) and samples to detection");
    let t = Instant::now();
    let lat0 = calibration::simulate_latency(&LatencyScenario {
        runs: 2000,
        looks: 50,
        batch: 100,
        sigma: 0.5,
        shift: 0.0,
        alpha: ALPHA,
        seed: 11,
    });
    print_sim(
        "latency, no regression (lognormal σ=0.5, 100/arm per refresh)",
        &lat0,
        "samples/arm",
    );
    let lat10 = calibration::simulate_latency(&LatencyScenario {
        runs: 500,
        looks: 50,
        batch: 100,
        sigma: 0.5,
        shift: 0.10,
        alpha: ALPHA,
        seed: 12,
    });
    print_sim("latency +10% at every quantile", &lat10, "samples/arm");
    let err0 = calibration::simulate_errors(&ErrorScenario {
        runs: 2000,
        looks: 50,
        requests: 1000,
        baseline_rate: 0.01,
        canary_rate: 0.01,
        alpha: ALPHA,
        seed: 13,
    });
    print_sim(
        "errors, no regression (1% error rate, 1000 requests/arm per refresh)",
        &err0,
        "requests/arm",
    );
    let err1 = calibration::simulate_errors(&ErrorScenario {
        runs: 500,
        looks: 50,
        requests: 1000,
        baseline_rate: 0.01,
        canary_rate: 0.02,
        alpha: ALPHA,
        seed: 14,
    });
    print_sim(
        "errors +1 percentage point (1% → 2%)",
        &err1,
        "requests/arm",
    );
    let err05 = calibration::simulate_errors(&ErrorScenario {
        runs: 500,
        looks: 50,
        requests: 1000,
        baseline_rate: 0.01,
        canary_rate: 0.015,
        alpha: ALPHA,
        seed: 15,
    });
    print_sim(
        "errors +0.5 percentage point (1% → 1.5%)",
        &err05,
        "requests/arm",
    );
    println!("(simulations took {:.1} s)", t.elapsed().as_secs_f64());
    for (name, r, live) in [
        (
            "latency",
            &lat0,
            vec![calibration::SIGN_TEST, calibration::MEDIAN_CS],
        ),
        ("errors", &err0, vec![calibration::POISSON_MSPRT]),
    ] {
        for m in live {
            let rate = r.method(m).alarm_rate;
            if rate > ALPHA {
                failures.push(format!("{name}: {m} false-alarm rate {rate:.4} > α"));
            }
        }
        let peek = r.method(calibration::MW_EVERY_REFRESH).alarm_rate;
        if peek <= ALPHA {
            failures.push(format!(
                "{name}: peeking Mann-Whitney false-alarm rate {peek:.4} did not exceed α"
            ));
        }
    }
    for (name, r, m) in [
        ("latency +10%", &lat10, calibration::SIGN_TEST),
        ("errors 1% → 2%", &err1, calibration::POISSON_MSPRT),
    ] {
        if r.method(m).median_to_detection.is_none() {
            failures.push(format!("{name}: {m} detected in fewer than half the runs"));
        }
    }

    if failures.is_empty() {
        println!("\nOK: all numbers agree and all targets are met");
    } else {
        println!("\nFAILED:");
        for f in &failures {
            println!("  - {f}");
        }
        std::process::exit(1);
    }
}

/// CPU time this thread has run, from Linux's /proc/thread-self/schedstat (ns resolution).
fn thread_cpu() -> Option<Duration> {
    // The counter is brought up to date when the scheduler runs; yielding makes it run, so
    // the reading is exact rather than up to one tick stale.
    std::thread::yield_now();
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace()
        .next()?
        .parse::<u64>()
        .ok()
        .map(Duration::from_nanos)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// 100 metrics of five kinds (latency-like lognormal, Poisson counts with heavy ties, rounded
/// normals, lognormal with missing points, heavy-tailed Pareto), with shifts from none to
/// clear, in four groups.
fn synthetic() -> (CanaryConfig, MetricData) {
    let mut rng = SplitMix64::new(2024);
    let mut data = MetricData::new();
    let mut metrics = Vec::new();
    let groups = ["latency", "errors", "saturation", "business"];
    for i in 0..METRICS {
        let kind = i % 5;
        let shift = [0.0, 0.0, 0.01, 0.03, 0.10][(i / 5) % 5];
        let gen = |scale: f64, rng: &mut SplitMix64| -> f64 {
            match kind {
                0 => 100.0 * scale * (0.5 * rng.normal()).exp(),
                1 => rng.poisson(20.0 * scale) as f64,
                2 => ((50.0 * scale + 5.0 * rng.normal()) * 10.0).round() / 10.0,
                3 => {
                    if rng.uniform() < 0.01 {
                        f64::NAN
                    } else {
                        3.0 * scale * (0.8 * rng.normal()).exp()
                    }
                }
                _ => 10.0 * scale / (1.0 - rng.uniform()).powf(1.0 / 2.5),
            }
        };
        let baseline: Vec<f64> = (0..SAMPLES).map(|_| gen(1.0, &mut rng)).collect();
        let canary: Vec<f64> = (0..SAMPLES).map(|_| gen(1.0 + shift, &mut rng)).collect();
        let name = format!("m{i:03}_kind{kind}_shift{}", (shift * 100.0) as u32);
        data.insert(name.clone(), baseline, canary);
        metrics.push(MetricConfig {
            name,
            groups: vec![groups[i % 4].to_string()],
            analysis_configurations: AnalysisConfigurations {
                canary: CanaryAnalysis::default(),
            },
        });
    }
    let mut classifier = ClassifierConfig::default();
    classifier.group_weights.insert("latency".into(), 40.0);
    classifier.group_weights.insert("errors".into(), 30.0);
    (
        CanaryConfig {
            metrics,
            classifier,
            ..Default::default()
        },
        data,
    )
}

/// Where the time goes (sorting, rank sums, estimate + interval per data kind; wall time, since
/// the kernel's per-thread CPU counter is only refreshed every scheduler tick) and how much work
/// the interval search does.
fn breakdown(data: &MetricData) {
    use aviary_judge::mannwhitney::RankSum;
    let clock = Instant::now();
    let sorted: Vec<(Vec<f64>, Vec<f64>)> = data
        .metrics
        .values()
        .map(|s| {
            (
                prepare(&s.baseline, NanStrategy::Remove).0,
                prepare(&s.canary, NanStrategy::Remove).0,
            )
        })
        .collect();
    let t_sort = clock.elapsed();
    let clock = Instant::now();
    let ranks: Vec<u64> = sorted.iter().map(|(b, c)| rank_of(c, b)).collect();
    let p: f64 = sorted
        .iter()
        .map(|(b, c)| RankSum::of_sorted(c, b).normal_p_value())
        .sum();
    let t_rank = clock.elapsed();
    let mut per_kind = [(Duration::ZERO, 0usize, 0usize, 0u64); 5];
    let mut t_hl = Duration::ZERO;
    let mut acc = p;
    for (idx, ((b, c), k)) in sorted.iter().zip(&ranks).enumerate() {
        let clock = Instant::now();
        let s = PairwiseDifferences::new(c, b).shift_interval(*k);
        let d = clock.elapsed();
        t_hl += d;
        acc += s.estimate + s.lower + s.upper;
        let st = PairwiseDifferences::new(c, b).interval_stats(*k);
        let e = &mut per_kind[idx % 5];
        (e.0, e.1, e.2, e.3) = (
            e.0 + d,
            e.1 + st.sweeps,
            e.2 + st.fallbacks,
            e.3 + st.gathered,
        );
    }
    println!(
        "rust   breakdown (wall): NaN filter + sort {:.1} ms, rank sums + p-values {:.1} ms, HL estimate + interval {:.1} ms (checksum {acc:.6e})",
        ms(t_sort),
        ms(t_rank),
        ms(t_hl)
    );
    let kinds = [
        "lognormal",
        "Poisson counts (ties)",
        "rounded normal (ties)",
        "lognormal, 1% NaN",
        "Pareto tail",
    ];
    for (kind, (d, sw, fb, g)) in per_kind.iter().enumerate() {
        let n = (METRICS / 5) as f64;
        println!(
            "rust     {:<22} HL {:.2} ms/metric: {:.1} count sweeps (each O(m+n)), {:.1} weighted-median fallbacks, {:.0} differences copied out",
            kinds[kind],
            ms(*d) / n,
            *sw as f64 / n,
            *fb as f64 / n,
            *g as f64 / n
        );
    }
}

fn rank_of(c: &[f64], b: &[f64]) -> u64 {
    let rs = aviary_judge::mannwhitney::RankSum::of_sorted(c, b);
    aviary_judge::mannwhitney::normal_lower_rank(
        &rs,
        1.0 - aviary_judge::config::DEFAULT_CONFIDENCE,
    )
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("AVIARY_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

fn run_python(json: &str, report: &JudgeReport) -> Result<serde_json::Value, String> {
    let dir = std::env::temp_dir().join(format!("aviary-judge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let data_path = dir.join("data.json");
    let params_path = dir.join("params.json");
    let out_path = dir.join("scipy.json");
    std::fs::write(&data_path, json).map_err(|e| e.to_string())?;
    let k: usize = std::env::var("AVIARY_BENCH_INTERVAL_METRICS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
        .clamp(1, METRICS);
    // one metric of each kind first (ties, NaN, heavy tails), then the rest in order
    let mut names: Vec<String> = Vec::new();
    for kind in 0..5 {
        if let Some(m) = report
            .metrics
            .iter()
            .find(|m| m.name.contains(&format!("kind{kind}_shift10")))
        {
            names.push(m.name.clone());
        }
    }
    for m in &report.metrics {
        if !names.contains(&m.name) {
            names.push(m.name.clone());
        }
    }
    names.truncate(k);
    let params = serde_json::json!({"confidence": report.confidence, "intervalMetrics": names});
    std::fs::write(&params_path, params.to_string()).map_err(|e| e.to_string())?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench_judge.py");
    let py = python();
    let status = Command::new(&py)
        .arg(&script)
        .arg("bench")
        .arg(&data_path)
        .arg(&params_path)
        .arg(&out_path)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", py.display()))?;
    if !status.success() {
        return Err(format!(
            "{} {} exited with {status}",
            py.display(),
            script.display()
        ));
    }
    let out = std::fs::read_to_string(&out_path).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    serde_json::from_str(&out).map_err(|e| e.to_string())
}

fn rel_diff(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
    }
}

fn compare(
    report: &JudgeReport,
    py: &serde_json::Value,
    rust_time: Duration,
    failures: &mut Vec<String>,
) {
    let (mut worst_p, mut worst_hl, mut n_hl) = (0.0f64, 0.0f64, 0usize);
    for m in &report.metrics {
        let t = m.test.expect("tested");
        let pm = &py["metrics"][&m.name];
        let p = pm["pValue"].as_f64().unwrap_or(f64::NAN);
        let d = rel_diff(t.p_value, p);
        worst_p = worst_p.max(d);
        if d.is_nan() || d > REL_TOL {
            failures.push(format!("{}: p-value {} vs scipy {}", m.name, t.p_value, p));
        }
        if let Some(est) = pm["estimate"].as_f64() {
            n_hl += 1;
            for (what, ours, theirs) in [
                ("estimate", t.estimate, est),
                ("lower", t.lower, pm["lower"].as_f64().unwrap_or(f64::NAN)),
                ("upper", t.upper, pm["upper"].as_f64().unwrap_or(f64::NAN)),
            ] {
                let d = rel_diff(ours, theirs);
                worst_hl = worst_hl.max(d);
                if d.is_nan() || d > REL_TOL {
                    failures.push(format!("{}: {what} {ours} vs numpy {theirs}", m.name));
                }
            }
        }
    }
    let tm = &py["timing"];
    let p_s = tm["pValueSeconds"].as_f64().unwrap_or(f64::NAN);
    let p_n = tm["pValueMetrics"].as_f64().unwrap_or(f64::NAN);
    let hl_s = tm["intervalSeconds"].as_f64().unwrap_or(f64::NAN);
    let hl_n = tm["intervalMetrics"].as_f64().unwrap_or(f64::NAN);
    let per_metric = p_s / p_n + hl_s / hl_n;
    let py_total = per_metric * METRICS as f64;
    let rust_s = rust_time.as_secs_f64();
    let ratio = py_total / rust_s;
    println!(
        "scipy  mannwhitneyu p-values: {:.1} ms for {} metrics ({:.2} ms/metric); numpy HL estimate + interval: {:.2} s for {} metrics ({:.3} s/metric, measured on a subset and extrapolated)",
        p_s * 1e3, p_n, p_s * 1e3 / p_n, hl_s, hl_n, hl_s / hl_n
    );
    println!(
        "scipy  estimated full judgement numbers: {:.1} s for {METRICS} metrics",
        py_total
    );
    println!("ratio  {ratio:.0}× faster (rust full judgement vs scipy p-values + numpy intervals); p-values alone: scipy {:.1} ms vs rust's whole judgement {:.1} ms", p_s * 1e3, rust_s * 1e3);
    println!("agree  p-values: {} metrics, worst relative difference {worst_p:.2e}; HL estimate/lower/upper: {n_hl} metrics, worst {worst_hl:.2e}", report.metrics.len());
    if py["versions"].is_object() {
        println!(
            "       (numpy {}, scipy {})",
            py["versions"]["numpy"], py["versions"]["scipy"]
        );
    }
    if n_hl == 0 {
        failures.push("no interval numbers came back from numpy".into());
    }
    if ratio.is_nan() || ratio < TARGET_RATIO {
        failures.push(format!(
            "only {ratio:.0}× faster than scipy/numpy (target {TARGET_RATIO}×)"
        ));
    }
}

fn print_sim(title: &str, r: &SimReport, unit: &str) {
    println!(
        "-- {title}; {} refreshes up to {} {unit}",
        r.looks, r.horizon
    );
    for m in &r.methods {
        let med = m
            .median_to_detection
            .map(|v| v.to_string())
            .unwrap_or_else(|| format!("> {}", r.horizon));
        println!(
            "   {:<34} alarm rate {:>6.4} ({:>4}/{:<4})  median {unit} to alarm: {med}",
            m.method, m.alarm_rate, m.alarms, m.runs
        );
    }
}
