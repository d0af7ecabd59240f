#!/usr/bin/env python3
"""The scipy/numpy side of Aviary's judge benchmark (shared/judge/benches/judge.rs).

  bench_judge.py bench DATA.json PARAMS.json OUT.json
      For every metric in DATA.json (Aviary's judge data-file format, NaN/null removed as
      nanStrategy "remove" does): the two-sided Mann-Whitney p-value with
      scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=True), and — for the
      metrics listed in PARAMS.json "intervalMetrics" only, because each needs all m*n
      pairwise differences (25 million for 5,000 x 5,000) — the Hodges-Lehmann estimate
      (median of numpy.subtract.outer(canary, baseline)) and the interval's order statistics
      at ranks k and m*n+1-k, k = max(1, ceil(m*n/2 - z*sigma - 1/2)), z the normal quantile at
      1 - (1 - confidence)/2 and sigma the tie-corrected standard deviation of U. Times both
      parts (CPU time of the thread, and wall time) and writes OUT.json; the Rust side compares numbers and extrapolates the interval
      time per metric to all metrics (it says so in its output).

  bench_judge.py reference
      Prints the reference numbers embedded in shared/judge/src/mannwhitney.rs tests (exact
      Wilcoxon distribution by the big-integer recurrence, R's qwilcox rule, sorted
      pairwise differences, scipy p-values).
"""
import json
import math
import sys
import time
from functools import lru_cache

import numpy as np
from scipy import stats


def tie_sigma(x, y):
    m, n = len(x), len(y)
    big_n = m + n
    _, t = np.unique(np.concatenate([x, y]), return_counts=True)
    t = t.astype(np.float64)
    tie = (t ** 3 - t).sum()
    return math.sqrt(m * n / 12.0 * ((big_n + 1) - tie / (big_n * (big_n - 1))))


def interval_rank(x, y, confidence):
    m, n = len(x), len(y)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    return max(1, math.ceil(m * n / 2 - z * tie_sigma(x, y) - 0.5))


def hodges_lehmann(x, y, k):
    """Median and the k-th / (mn+1-k)-th smallest of all differences, materialised."""
    d = np.subtract.outer(x, y).ravel()
    mn = d.size
    lo_i, hi_i = k - 1, mn - k
    mids = [(mn - 1) // 2, mn // 2]
    d.partition(sorted({lo_i, hi_i, *mids}))
    est = float(d[mids[0]]) if mn % 2 == 1 else float((d[mids[0]] + d[mids[1]]) / 2.0)
    return est, float(d[lo_i]), float(d[hi_i])


def load(path):
    with open(path) as f:
        raw = json.load(f)["metrics"]
    out = {}
    for name, s in raw.items():
        b = np.array([np.nan if v is None else v for v in s["baseline"]], dtype=np.float64)
        c = np.array([np.nan if v is None else v for v in s["canary"]], dtype=np.float64)
        out[name] = (b[~np.isnan(b)], c[~np.isnan(c)])
    return out


def bench(data_path, params_path, out_path):
    data = load(data_path)
    with open(params_path) as f:
        params = json.load(f)
    conf = params["confidence"]
    results = {name: {} for name in data}

    # CPU time of this thread, like the Rust side (wall time on a shared machine counts other
    # processes too); wall time is reported alongside.
    t0, w0 = time.thread_time(), time.perf_counter()
    for name, (b, c) in data.items():
        r = stats.mannwhitneyu(c, b, method="asymptotic", use_continuity=True, alternative="two-sided")
        results[name]["pValue"] = float(r.pvalue)
        results[name]["u"] = float(r.statistic)
    p_seconds, p_wall = time.thread_time() - t0, time.perf_counter() - w0

    hl_names = params["intervalMetrics"]
    t0, w0 = time.thread_time(), time.perf_counter()
    for name in hl_names:
        b, c = data[name]
        k = interval_rank(c, b, conf)
        est, lo, hi = hodges_lehmann(c, b, k)
        results[name].update({"estimate": est, "lower": lo, "upper": hi, "rank": k})
    hl_seconds, hl_wall = time.thread_time() - t0, time.perf_counter() - w0

    out = {
        "metrics": results,
        "timing": {
            "pValueSeconds": p_seconds,
            "pValueMetrics": len(data),
            "intervalSeconds": hl_seconds,
            "intervalMetrics": len(hl_names),
            "pValueWallSeconds": p_wall,
            "intervalWallSeconds": hl_wall,
        },
        "versions": {"numpy": np.__version__, "scipy": __import__("scipy").__version__},
    }
    with open(out_path, "w") as f:
        json.dump(out, f)


# ---------------------------------------------------------------- reference numbers


@lru_cache(maxsize=None)
def cwilcox(k, m, n):
    """Arrangements with U = k: c(k; m, n) = c(k - n; m - 1, n) + c(k; m, n - 1)."""
    if k < 0 or k > m * n:
        return 0
    if m == 0 or n == 0:
        return 1 if k == 0 else 0
    return cwilcox(k - n, m - 1, n) + cwilcox(k, m, n - 1)


def pwilcox(q, m, n):
    return sum(cwilcox(k, m, n) for k in range(q + 1)) / math.comb(m + n, n)


def qwilcox(p, m, n):
    total, acc, q = math.comb(m + n, n), 0, 0
    p -= 10 * np.finfo(float).eps
    while True:
        acc += cwilcox(q, m, n)
        if acc / total >= p:
            return q
        q += 1


def exact_case(x, y, conf):
    x, y = np.asarray(x, float), np.asarray(y, float)
    m, n = len(x), len(y)
    w = stats.rankdata(np.concatenate([x, y]))[:m].sum() - m * (m + 1) / 2
    p = 1 - pwilcox(int(w) - 1, m, n) if w > m * n / 2 else pwilcox(int(w), m, n)
    p = min(2 * p, 1.0)
    assert abs(p - stats.mannwhitneyu(x, y, method="exact").pvalue) < 1e-12
    d = np.sort(np.subtract.outer(x, y).ravel())
    qu = max(1, qwilcox((1 - conf) / 2, m, n))
    return float(w), float(p), float(np.median(d)), float(d[qu - 1]), float(d[m * n - qu]), qu


def asymptotic_case(x, y, conf):
    x, y = np.asarray(x, float), np.asarray(y, float)
    r = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
    k = interval_rank(x, y, conf)
    est, lo, hi = hodges_lehmann(x, y, k)
    return float(r.statistic), float(r.pvalue), est, lo, hi, k


def grid(count, a, b, mod, scale, off):
    return [((i * a + b) % mod) * scale + off for i in range(count)]


def reference():
    rng = np.random.default_rng(7)
    exact = {
        "r_doc": ([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], [1.15, 0.88, 0.90, 0.74, 1.21]),
        "tiny": ([1.5, 2.5, 4.0], [0.5, 1.0, 3.0, 3.5]),
        "m12n9": (list(np.round(rng.normal(10.3, 1, 12), 4)), list(np.round(rng.normal(10.0, 1, 9), 4))),
        "m30n40": (list(np.round(rng.lognormal(0.2, 0.5, 30), 5)), list(np.round(rng.lognormal(0, 0.5, 40), 5))),
    }
    for name, (x, y) in exact.items():
        for conf in (0.95, 0.98):
            w, p, est, lo, hi, qu = exact_case(x, y, conf)
            print(f"EXACT {name} conf={conf} U={w} p={p!r} est={est!r} lo={lo!r} hi={hi!r} rank={qu}")
    asym = {
        "ties_small": (grid(10, 7, 3, 6, 1.0, 0.0), grid(12, 5, 1, 5, 1.0, 0.0)),
        "ties_mid": (grid(60, 37, 11, 23, 0.5, 1.0), grid(80, 29, 5, 19, 0.5, 0.0)),
        "ties_large": (grid(300, 101, 17, 97, 0.25, 0.0), grid(250, 89, 3, 83, 0.25, 2.0)),
        "cont_large": (list(np.round(rng.lognormal(0.1, 0.7, 120), 6)), list(np.round(rng.lognormal(0.0, 0.7, 90), 6))),
    }
    for name, (x, y) in asym.items():
        for conf in (0.95, 0.98):
            u, p, est, lo, hi, k = asymptotic_case(x, y, conf)
            print(f"ASYM {name} conf={conf} U={u} p={p!r} est={est!r} lo={lo!r} hi={hi!r} rank={k}")
    for name in ("m12n9", "m30n40"):
        print(f"DATA {name} x={[float(v) for v in exact[name][0]]} y={[float(v) for v in exact[name][1]]}")
    print(f"DATA cont_large x={[float(v) for v in asym['cont_large'][0]]} y={[float(v) for v in asym['cont_large'][1]]}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "bench":
        bench(*sys.argv[2:])
    elif len(sys.argv) == 2 and sys.argv[1] == "reference":
        reference()
    else:
        sys.exit(__doc__)
