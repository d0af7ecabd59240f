//! The Hodges-Lehmann shift estimate (median of all canary − baseline differences) and the
//! order statistics of those differences that bound its confidence interval, found WITHOUT
//! materialising the m·n differences.
//!
//! With both samples sorted, the differences form an implicit m×n matrix whose row i is
//! `x[i] - y[n-1-c]` for column c: every row and column is sorted (floating-point subtraction
//! is monotone in each argument, so this holds exactly, not just mathematically). For a value
//! t, one merge-like sweep over the two samples (`count_walk`) counts the differences `< t`
//! and `<= t` in O(m + n) and records per row where t falls. A selection keeps, per row, the
//! band of columns that can still hold the k-th smallest difference, as in Johnson &
//! Mizoguchi's algorithm, and shrinks it with sweeps until it holds at most m + n differences,
//! which are copied out for a plain selection. Pivots come two per round, aimed just below and
//! just above the target by interpolating the count function (nearly linear over a narrow
//! band), with the aim width learnt from the previous round's miss; with tied data they snap to
//! actual differences so that hitting the answer's block of equal values ends the search; a
//! round that fails to halve the band is followed by Johnson–Mizoguchi's weighted median of row
//! midpoints, which always removes a quarter. The interval ends start from the bands the
//! median search's sweeps already imply. A target typically takes 2–6 sweeps, so the estimate
//! with both interval ends costs about ten O(m + n) sweeps instead of sorting m·n differences.

/// Up to this many differences we simply materialise and select; it is faster and it is the
/// reference the implicit search is tested against.
const MATERIALISE_LIMIT: u64 = 1 << 14;

/// A view of the pairwise differences `canary[i] - baseline[j]` of two sorted samples.
#[derive(Debug, Clone, Copy)]
pub struct PairwiseDifferences<'a> {
    x: &'a [f64],
    y: &'a [f64],
}

/// A shift estimate with the interval between two order statistics of the differences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftInterval {
    /// Median of the differences.
    pub estimate: f64,
    /// The `lower_rank`-th smallest difference (1-based).
    pub lower: f64,
    /// The `upper_rank`-th smallest difference (1-based).
    pub upper: f64,
    pub lower_rank: u64,
    pub upper_rank: u64,
}

impl<'a> PairwiseDifferences<'a> {
    /// `canary` and `baseline` must be sorted ascending, non-empty and free of NaN.
    pub fn new(canary: &'a [f64], baseline: &'a [f64]) -> Self {
        debug_assert!(!canary.is_empty() && !baseline.is_empty());
        debug_assert!(canary.windows(2).all(|w| w[0] <= w[1]));
        debug_assert!(baseline.windows(2).all(|w| w[0] <= w[1]));
        PairwiseDifferences {
            x: canary,
            y: baseline,
        }
    }

    /// Number of differences, m·n.
    pub fn len(&self) -> u64 {
        self.x.len() as u64 * self.y.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The median of the differences and the `lower_rank`-th and `(m·n + 1 − lower_rank)`-th
    /// smallest differences (R's interval convention: symmetric ranks).
    pub fn shift_interval(&self, lower_rank: u64) -> ShiftInterval {
        let mn = self.len();
        let lower_rank = lower_rank.clamp(1, mn.div_ceil(2));
        let upper_rank = mn + 1 - lower_rank;
        let (estimate, lower, upper) = if mn <= MATERIALISE_LIMIT {
            let mut d = self.materialise();
            d.sort_unstable_by(f64::total_cmp);
            let est = if mn % 2 == 1 {
                d[(mn / 2) as usize]
            } else {
                (d[(mn / 2 - 1) as usize] + d[(mn / 2) as usize]) / 2.0
            };
            (
                est,
                d[(lower_rank - 1) as usize],
                d[(upper_rank - 1) as usize],
            )
        } else {
            let mut s = Search::new(self.x, self.y);
            let est = s.median();
            let lower = s.select_near_known(lower_rank);
            let upper = s.select_near_known(upper_rank);
            (est, lower, upper)
        };
        ShiftInterval {
            estimate,
            lower,
            upper,
            lower_rank,
            upper_rank,
        }
    }

    /// The k-th smallest difference (1-based) by the implicit search, whatever the size.
    /// Exposed for tests and benchmarks of the search itself.
    pub fn select_implicit(&self, k: u64) -> f64 {
        assert!(
            k >= 1 && k <= self.len(),
            "rank {k} out of 1..={}",
            self.len()
        );
        let mut s = Search::new(self.x, self.y);
        s.gather_limit = 1; // force sweeps even on tiny inputs
        let guess = s.median_guess(k);
        s.select(k, guess).0
    }

    /// Median of the differences by the implicit search (tests and benchmarks).
    pub fn median_implicit(&self) -> f64 {
        Search::new(self.x, self.y).median()
    }

    /// All differences, unsorted (small inputs only).
    pub fn materialise(&self) -> Vec<f64> {
        let mut d = Vec::with_capacity(self.len() as usize);
        for &xi in self.x {
            d.extend(self.y.iter().map(|&yj| xi - yj));
        }
        d
    }

    /// Work an estimate-plus-interval takes (benchmark diagnostics).
    pub fn interval_stats(&self, lower_rank: u64) -> SearchStats {
        let mut s = Search::new(self.x, self.y);
        s.median();
        s.select_near_known(lower_rank);
        s.select_near_known(self.len() + 1 - lower_rank);
        SearchStats {
            sweeps: s.sweeps,
            fallbacks: s.fallbacks,
            gathered: s.gathered,
        }
    }
}

/// Counters from one search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// O(m + n) counting sweeps.
    pub sweeps: usize,
    /// Rounds that fell back to the weighted-median pivot.
    pub fallbacks: usize,
    /// Differences copied out for the final selections.
    pub gathered: u64,
}

/// Where to start looking for rank k: a value expected near it, the local slope of the count
/// function (ranks per unit of value) and the uncertainty of the guess in ranks.
#[derive(Debug, Clone, Copy)]
struct Guess {
    t: f64,
    slope: f64,
    delta: f64,
}

/// Totals of one sweep; `tie` says some difference equals the swept value.
struct Sweep {
    slt: u64,
    sle: u64,
    tie: bool,
}

enum Side {
    Found,
    Below,
    Above,
}

/// State of a selection over the implicit difference matrix.
struct Search<'a> {
    x: &'a [f64],
    y: &'a [f64],
    /// y followed by +inf, the sentinel that stops each sweep row.
    y_ext: Vec<f64>,
    /// Per row, columns `< a[i]` hold differences known to rank below the target...
    a: Vec<u32>,
    /// ...and columns `>= b[i]` differences known to rank above it.
    b: Vec<u32>,
    below: u64,
    upto: u64,
    /// Every band difference d satisfies lo < d < hi.
    lo: f64,
    hi: f64,
    le: Vec<u32>,
    lt: Vec<u32>,
    /// Every value swept so far with its counts (< t, <= t): seeds later searches.
    known: Vec<(f64, u64, u64)>,
    /// The per-row `<=` counts (and `<` counts when they differ) of each known sweep, so a
    /// later search can start from the tightest band they already imply.
    known_rows: Vec<(Vec<u32>, Option<Vec<u32>>)>,
    gather_limit: u64,
    /// Differences are known to tie (a sample has repeated values, or a sweep hit a tie).
    discrete: bool,
    sweeps: usize,
    fallbacks: usize,
    gathered: u64,
}

impl<'a> Search<'a> {
    fn new(x: &'a [f64], y: &'a [f64]) -> Self {
        let m = x.len();
        let mut y_ext = Vec::with_capacity(y.len() + 1);
        y_ext.extend_from_slice(y);
        y_ext.push(f64::INFINITY);
        Search {
            x,
            y,
            y_ext,
            a: vec![0; m],
            b: vec![0; m],
            below: 0,
            upto: 0,
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
            le: vec![0; m],
            lt: vec![0; m],
            known: Vec::new(),
            known_rows: Vec::new(),
            // Copying out a band costs about what a sweep costs per element; stop sweeping when
            // the band is about one sweep's worth.
            gather_limit: ((x.len() + y.len()) as u64).max(2048),
            discrete: x.windows(2).any(|w| w[0] == w[1]) || y.windows(2).any(|w| w[0] == w[1]),
            sweeps: 0,
            fallbacks: 0,
            gathered: 0,
        }
    }

    fn mn(&self) -> u64 {
        self.x.len() as u64 * self.y.len() as u64
    }

    #[inline]
    fn value(&self, i: usize, c: usize) -> f64 {
        self.x[i] - self.y[self.y.len() - 1 - c]
    }

    fn reset(&mut self) {
        let n = self.y.len() as u32;
        self.a.iter_mut().for_each(|v| *v = 0);
        self.b.iter_mut().for_each(|v| *v = n);
        self.below = 0;
        self.upto = self.mn();
        self.lo = f64::NEG_INFINITY;
        self.hi = f64::INFINITY;
    }

    /// Counts differences `< t` and `<= t` (per row into `le`, and into `lt` when some
    /// difference equals t); see [`count_walk`].
    fn sweep(&mut self, t: f64) -> Sweep {
        self.sweeps += 1;
        let n = self.y.len();
        let (sle, tie) = count_walk::<false>(self.x, &self.y_ext, n, t, &mut self.le);
        let slt = if tie {
            // Some difference equals t: walk again for the `< t` counts (those `>= t` are a
            // prefix of y just like those `> t`). Still O(m + n), however many ties.
            count_walk::<true>(self.x, &self.y_ext, n, t, &mut self.lt).0
        } else {
            sle
        };
        // Pivots that are differences (weighted medians, successors) always meet themselves;
        // two or more equal differences mean the data are discrete.
        self.discrete |= sle - slt >= 2;
        self.known.push((t, slt, sle));
        self.known_rows
            .push((self.le.clone(), tie.then(|| self.lt.clone())));
        Sweep { slt, sle, tie }
    }

    /// Sweeps at t (strictly inside the band's value range) and narrows the band.
    fn apply(&mut self, t: f64, k: u64) -> Side {
        let Sweep { slt, sle, tie } = self.sweep(t);
        if sle < k {
            std::mem::swap(&mut self.a, &mut self.le);
            self.below = sle;
            self.lo = t;
            Side::Below
        } else if slt >= k {
            // without ties at t, the `< t` counts are the `<= t` ones
            std::mem::swap(&mut self.b, if tie { &mut self.lt } else { &mut self.le });
            self.upto = slt;
            self.hi = t;
            Side::Above
        } else {
            Side::Found
        }
    }

    /// With tied data the k-th difference sits in a block of equal values that no pivot
    /// strictly between values can split; move the pivot to the nearest actual difference (in
    /// the widest band row), so that landing on the answer ends the search.
    fn snap(&self, t: f64) -> f64 {
        let widest = (0..self.x.len()).max_by_key(|&i| self.b[i].saturating_sub(self.a[i]));
        let Some(i) = widest.filter(|&i| self.b[i] > self.a[i]) else {
            return t;
        };
        let (a, b) = (self.a[i] as usize, self.b[i] as usize);
        let (mut c, mut hi) = (a, b); // first column in [a, b) whose difference is >= t
        while c < hi {
            let mid = c + (hi - c) / 2;
            if self.value(i, mid) < t {
                c = mid + 1;
            } else {
                hi = mid;
            }
        }
        let above = (c < b).then(|| self.value(i, c));
        let below = (c > a).then(|| self.value(i, c - 1));
        match (below, above) {
            (Some(u), Some(v)) => {
                if t - u <= v - t {
                    u
                } else {
                    v
                }
            }
            (Some(u), None) => u,
            (None, Some(v)) => v,
            (None, None) => t,
        }
    }

    fn inside(&self, t: f64) -> bool {
        t.is_finite() && t > self.lo && t < self.hi
    }

    /// Linear prediction of the value with `r` differences below it: within the bracket when
    /// both ends are known, else from the guess model.
    fn predict(&self, r: f64, model: &Guess, k: u64) -> f64 {
        if self.lo.is_finite() && self.hi.is_finite() && self.upto > self.below {
            let f = (r - self.below as f64) / (self.upto - self.below) as f64;
            self.lo + f.clamp(0.0, 1.0) * (self.hi - self.lo)
        } else {
            model.t + (r - k as f64) / model.slope
        }
    }

    /// The k-th smallest difference, plus the (k+1)-th when it is cheap to get (same band).
    ///
    /// Each round sweeps at two values predicted to hold k − Δ and k + Δ differences below
    /// them, so both usually land on either side of the target and the band shrinks to about
    /// 2Δ. Before the band has two finite ends, predictions come from the guess model (a
    /// secant, refitted after every sweep) and Δ is the guess's uncertainty, doubled while
    /// the target stays unbracketed. Once bracketed, predictions interpolate linearly between
    /// the ends and Δ is twice the relative miss of the previous round times the band: the
    /// count function is nearly linear over a narrow band, so the band shrinks by one to two
    /// orders of magnitude per round.
    fn select(&mut self, k: u64, mut model: Guess) -> (f64, Option<f64>) {
        self.reset();
        // Start from the tightest band earlier sweeps imply (e.g. the interval ends reuse the
        // median search's first, wide pivots).
        let (mut below, mut above): (Option<usize>, Option<usize>) = (None, None);
        for (idx, &(t, slt, sle)) in self.known.iter().enumerate() {
            if slt < k && k <= sle {
                return (t, None); // an earlier pivot is the k-th difference
            }
            if sle < k && below.is_none_or(|b| sle > self.known[b].2) {
                below = Some(idx);
            }
            if slt >= k && above.is_none_or(|b| slt < self.known[b].1) {
                above = Some(idx);
            }
        }
        if let Some(i) = below {
            let (t, _, sle) = self.known[i];
            self.a.copy_from_slice(&self.known_rows[i].0);
            (self.below, self.lo) = (sle, t);
        }
        if let Some(i) = above {
            let (t, slt, _) = self.known[i];
            let (le, lt) = &self.known_rows[i];
            self.b.copy_from_slice(lt.as_ref().unwrap_or(le));
            (self.upto, self.hi) = (slt, t);
        }
        let kf = k as f64;
        let mut fallback = false;
        let mut rel = 0.01; // interpolation miss as a share of the band, learnt per round
        loop {
            let band = self.upto - self.below;
            if band <= self.gather_limit {
                return self.gather(k);
            }
            let bracketed = self.lo.is_finite() && self.hi.is_finite();
            let usable_model = model.slope.is_finite() && model.slope > 0.0;
            if fallback || (!bracketed && !usable_model) {
                self.fallbacks += 1;
                let t = self.weighted_median_pivot();
                if let Side::Found = self.apply(t, k) {
                    return (t, None);
                }
            } else {
                let delta = if bracketed {
                    (rel * band as f64).max(4.0)
                } else {
                    model.delta.max(4.0)
                };
                let mut worst: f64 = 0.0;
                for aim in [kf - delta, kf + delta] {
                    let before = (self.upto - self.below) as f64;
                    let was_bracketed = self.lo.is_finite() && self.hi.is_finite();
                    let mut t = self.predict(aim, &model, k);
                    if !self.inside(t) {
                        continue;
                    }
                    if self.discrete {
                        t = self.snap(t);
                    }
                    let side = self.apply(t, k);
                    if let Side::Found = side {
                        return (t, None);
                    }
                    let (_, slt, sle) = *self.known.last().expect("just swept");
                    if was_bracketed {
                        worst = worst.max(((slt + sle) as f64 / 2.0 - aim).abs() / before);
                    }
                    self.refit(&mut model, k);
                    if let Side::Above = side {
                        break; // the upper pivot would land above k too
                    }
                }
                if bracketed {
                    rel = (2.0 * worst).clamp(1e-4, 0.25);
                } else {
                    model.delta *= 2.0;
                }
            }
            fallback = (self.upto - self.below) * 2 > band;
        }
    }

    /// Re-fits the guess model as the secant through the two most recent sweeps.
    fn refit(&self, model: &mut Guess, k: u64) {
        let len = self.known.len();
        if len < 2 {
            return;
        }
        let (t1, lt1, le1) = self.known[len - 2];
        let (t2, lt2, le2) = self.known[len - 1];
        let (c1, c2) = ((lt1 + le1) as f64 / 2.0, (lt2 + le2) as f64 / 2.0);
        if t2 != t1 && c2 != c1 {
            let slope = (c2 - c1) / (t2 - t1);
            if slope.is_finite() && slope > 0.0 {
                model.slope = slope;
                model.t = t2 + (k as f64 - c2) / slope;
            }
        }
    }

    /// Johnson–Mizoguchi pivot: the median of the band rows' middle elements, each weighted by
    /// its row's band width. At least a quarter of the band lies on each side of it.
    fn weighted_median_pivot(&self) -> f64 {
        let mut mids: Vec<(f64, u64)> = Vec::new();
        let mut total = 0u64;
        for i in 0..self.x.len() {
            let (a, b) = (self.a[i] as usize, self.b[i] as usize);
            if a < b {
                mids.push((self.value(i, (a + b) / 2), (b - a) as u64));
                total += (b - a) as u64;
            }
        }
        weighted_median(&mut mids, total)
    }

    /// Copies the band out and selects within it.
    fn gather(&mut self, k: u64) -> (f64, Option<f64>) {
        self.gathered += self.upto - self.below;
        let mut band = Vec::with_capacity((self.upto - self.below) as usize);
        for i in 0..self.x.len() {
            for c in self.a[i] as usize..self.b[i] as usize {
                band.push(self.value(i, c));
            }
        }
        let r = (k - self.below - 1) as usize;
        let (_, kth, rest) = band.select_nth_unstable_by(r, f64::total_cmp);
        let kth = *kth;
        let next = rest.iter().copied().min_by(f64::total_cmp);
        (kth, next)
    }

    /// A first guess for rank k before anything is known: the difference of the medians,
    /// with the slope a normal approximation gives from the samples' interquartile ranges.
    fn median_guess(&self, k: u64) -> Guess {
        let (x, y) = (self.x, self.y);
        let spread = |s: &[f64]| {
            let iqr = quantile_sorted(s, 0.75) - quantile_sorted(s, 0.25);
            if iqr > 0.0 {
                iqr / 1.349
            } else {
                (s[s.len() - 1] - s[0]) / 4.0
            }
        };
        let sd = (spread(x).powi(2) + spread(y).powi(2)).sqrt();
        let mn = self.mn() as f64;
        let centre = quantile_sorted(x, 0.5) - quantile_sorted(y, 0.5);
        let slope = if sd > 0.0 {
            mn / ((2.0 * std::f64::consts::PI).sqrt() * sd)
        } else {
            f64::NAN
        };
        // Off-centre ranks: move along the normal approximation's linear part.
        let t = centre + (k as f64 - mn / 2.0) / slope;
        Guess {
            t,
            slope,
            delta: mn / 64.0,
        }
    }

    /// Guess for rank k from the sweeps already done: interpolate between the nearest swept
    /// values below and above, or extrapolate with the slope of the two nearest.
    fn known_guess(&self, k: u64) -> Guess {
        let kf = k as f64;
        let mid = |&(_, lt, le): &(f64, u64, u64)| (lt + le) as f64 / 2.0;
        let below = self
            .known
            .iter()
            .filter(|p| mid(p) <= kf)
            .max_by(|p, q| mid(p).total_cmp(&mid(q)));
        let above = self
            .known
            .iter()
            .filter(|p| mid(p) > kf)
            .min_by(|p, q| mid(p).total_cmp(&mid(q)));
        match (below, above) {
            (Some(b), Some(a)) if a.0 > b.0 => {
                let slope = (mid(a) - mid(b)) / (a.0 - b.0);
                let t = b.0 + (kf - mid(b)) / slope;
                Guess {
                    t,
                    slope,
                    delta: ((mid(a) - mid(b)) / 16.0).max(8.0),
                }
            }
            _ => {
                // Extrapolate with the secant through the two swept points closest to k.
                let mut pts: Vec<_> = self.known.iter().collect();
                pts.sort_by(|p, q| (mid(p) - kf).abs().total_cmp(&(mid(q) - kf).abs()));
                if let [p, q, ..] = pts[..] {
                    if p.0 != q.0 && mid(p) != mid(q) {
                        let slope = (mid(p) - mid(q)) / (p.0 - q.0);
                        let t = p.0 + (kf - mid(p)) / slope;
                        return Guess {
                            t,
                            slope,
                            delta: ((kf - mid(p)).abs() / 8.0).max(8.0),
                        };
                    }
                }
                self.median_guess(k)
            }
        }
    }

    fn select_near_known(&mut self, k: u64) -> f64 {
        let g = if self.known.len() >= 2 {
            self.known_guess(k)
        } else {
            self.median_guess(k)
        };
        self.select(k, g).0
    }

    /// Median of the differences: the middle one, or the mean of the two middle ones.
    fn median(&mut self) -> f64 {
        let mn = self.mn();
        let (x, y) = (self.x, self.y);
        if x[0] - y[y.len() - 1] == x[x.len() - 1] - y[0] {
            return x[0] - y[y.len() - 1]; // every difference is the same
        }
        let k = mn.div_ceil(2);
        let (kth, next) = self.select(k, self.median_guess(k));
        if mn % 2 == 1 {
            return kth;
        }
        let next = match next {
            Some(v) => v,
            None => self.successor(kth, k),
        };
        (kth + next) / 2.0
    }

    /// The (k+1)-th smallest difference given that v is the k-th: v itself if more than k
    /// differences are <= v, else the smallest difference above v (first past v in each row).
    fn successor(&mut self, v: f64, k: u64) -> f64 {
        let sle = self.sweep(v).sle;
        if sle > k {
            return v;
        }
        let n = self.y.len();
        (0..self.x.len())
            .filter(|&i| (self.le[i] as usize) < n)
            .map(|i| self.value(i, self.le[i] as usize))
            .min_by(f64::total_cmp)
            .unwrap_or(v)
    }
}

/// Per row i, the number of j with `x[i] - y[j] <= t` (or `< t` when `GE`) into `out`, and
/// their total; for `<=` also whether some difference equals t.
///
/// Row i's differences fall as j rises, so those `> t` (or `>= t`) are a prefix of y whose
/// length p never shrinks as i rises: a merge-like walk in which each step advances either
/// the row or p. The step is branch-free (the choice is a comparison turned into
/// arithmetic) because with similar samples it flips almost every step and a branch would be
/// mispredicted about half the time. A single walk is then bound by the latency of its
/// load-subtract-compare chain, so the rows are cut into [`CHAINS`] blocks whose starting p
/// is found by binary search, and the blocks' walks are interleaved step by step to keep
/// several independent chains in flight. `y_ext` is y followed by +inf, which stops every
/// row at p = n without a bounds test.
fn count_walk<const GE: bool>(
    x: &[f64],
    y_ext: &[f64],
    n: usize,
    t: f64,
    out: &mut [u32],
) -> (u64, bool) {
    const CHAINS: usize = 4;
    let m = x.len();
    let before = |d: f64| if GE { d >= t } else { d > t };
    let mut row = [0usize; CHAINS];
    let mut end = [0usize; CHAINS];
    let mut p = [0usize; CHAINS];
    let mut sum = [0u64; CHAINS];
    let mut tie = false;
    for c in 0..CHAINS {
        row[c] = c * m / CHAINS;
        end[c] = (c + 1) * m / CHAINS;
        if c > 0 && row[c] < m {
            let xi = x[row[c]];
            p[c] = y_ext[..n].partition_point(|&yj| before(xi - yj));
        }
    }
    // One step of one chain; the same code finishes each chain below.
    macro_rules! step {
        ($c:expr) => {{
            let c = $c;
            let d = x[row[c]] - y_ext[p[c]];
            let adv = before(d);
            if !GE {
                tie |= !adv & (d == t);
            }
            out[row[c]] = (n - p[c]) as u32; // final once this row stops advancing p
            sum[c] += if adv { 0 } else { (n - p[c]) as u64 };
            p[c] += adv as usize;
            row[c] += (!adv) as usize;
        }};
    }
    while row[0] < end[0] && row[1] < end[1] && row[2] < end[2] && row[3] < end[3] {
        step!(0);
        step!(1);
        step!(2);
        step!(3);
    }
    for c in 0..CHAINS {
        while row[c] < end[c] {
            step!(c);
        }
    }
    (sum.iter().sum(), tie)
}

/// The smallest value v with at least half the total weight on values <= v, by quickselect
/// on value with weight bookkeeping: O(len) expected.
fn weighted_median(items: &mut [(f64, u64)], total: u64) -> f64 {
    let (mut lo, mut hi) = (0usize, items.len());
    let mut need = total.div_ceil(2).max(1); // weight still needed from items[lo..hi]
    loop {
        let slice = &mut items[lo..hi];
        if slice.len() == 1 {
            return slice[0].0;
        }
        let mid = slice.len() / 2;
        slice.select_nth_unstable_by(mid, |p, q| p.0.total_cmp(&q.0));
        let left: u64 = slice[..mid].iter().map(|p| p.1).sum();
        if left >= need {
            hi = lo + mid;
        } else if left + slice[mid].1 >= need {
            return slice[mid].0;
        } else {
            need -= left + slice[mid].1;
            lo += mid + 1;
        }
    }
}

/// Quantile of sorted data by linear interpolation (R type 7, numpy's default).
pub fn quantile_sorted(s: &[f64], p: f64) -> f64 {
    let h = (s.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    s[lo] + (h - lo as f64) * (s[hi] - s[lo])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_unstable_by(f64::total_cmp);
        v
    }

    fn reference(x: &[f64], y: &[f64]) -> Vec<f64> {
        sorted(PairwiseDifferences::new(x, y).materialise())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every rank found by sweeps equals the materialised-and-sorted order statistic,
        /// with heavy ties (small integer grids) and without.
        #[test]
        fn implicit_selection_matches_sorting(
            x in prop::collection::vec(-20i32..20, 1..40),
            y in prop::collection::vec(-20i32..20, 1..40),
            scale in prop::sample::select(vec![1.0, 0.1, 3.7]),
            ranks in prop::collection::vec(0.0f64..1.0, 1..6),
        ) {
            let x = sorted(x.iter().map(|&v| v as f64 * scale).collect());
            let y = sorted(y.iter().map(|&v| v as f64 * scale).collect());
            let d = PairwiseDifferences::new(&x, &y);
            let want = reference(&x, &y);
            for r in ranks {
                let k = 1 + ((want.len() - 1) as f64 * r) as u64;
                prop_assert_eq!(d.select_implicit(k), want[(k - 1) as usize]);
            }
            let mn = want.len();
            let med = if mn % 2 == 1 { want[mn / 2] } else { (want[mn / 2 - 1] + want[mn / 2]) / 2.0 };
            prop_assert_eq!(d.median_implicit(), med);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The production path (sweeps seeded by earlier searches, snapping on ties) above the
        /// materialising limit, against sorting.
        #[test]
        fn shift_interval_matches_sorting(
            x in prop::collection::vec(0u32..400, 130..220),
            y in prop::collection::vec(0u32..400, 130..220),
            scale in prop::sample::select(vec![1.0, 0.37, 1e-3]),
            jitter in any::<bool>(),
            frac in 0.0f64..0.5,
        ) {
            // jitter makes most values distinct; without it the grid is heavily tied
            let f = |v: &[u32], salt: f64| sorted(v.iter().enumerate()
                .map(|(i, &a)| a as f64 * scale + if jitter { (i as f64 * salt).sin() * scale * 0.3 } else { 0.0 })
                .collect());
            let (x, y) = (f(&x, 0.7), f(&y, 1.3));
            let d = PairwiseDifferences::new(&x, &y);
            prop_assume!(d.len() > MATERIALISE_LIMIT);
            let want = reference(&x, &y);
            let mn = want.len();
            let k = 1 + ((mn / 2) as f64 * frac) as u64;
            let s = d.shift_interval(k);
            prop_assert_eq!(s.lower, want[(k - 1) as usize]);
            prop_assert_eq!(s.upper, want[mn - k as usize]);
            let med = if mn % 2 == 1 { want[mn / 2] } else { (want[mn / 2 - 1] + want[mn / 2]) / 2.0 };
            prop_assert_eq!(s.estimate, med);
        }
    }

    #[test]
    fn implicit_search_on_larger_continuous_samples() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let x = sorted((0..300).map(|_| rng.gen::<f64>().powi(3) * 50.0).collect());
        let y = sorted((0..257).map(|_| rng.gen::<f64>() * 40.0).collect());
        let d = PairwiseDifferences::new(&x, &y);
        let want = reference(&x, &y);
        for k in [1u64, 2, 500, 38_550, 38_551, 77_000, want.len() as u64] {
            assert_eq!(d.select_implicit(k), want[(k - 1) as usize], "rank {k}");
        }
        let s = d.shift_interval(30_000); // > MATERIALISE_LIMIT: the sweeping path
        assert_eq!(s.lower, want[29_999]);
        assert_eq!(s.upper, want[want.len() - 30_000]);
        let mn = want.len();
        assert_eq!(s.estimate, (want[mn / 2 - 1] + want[mn / 2]) / 2.0);
    }

    #[test]
    fn weighted_median_matches_expansion() {
        let mut items = vec![(5.0, 1), (1.0, 3), (3.0, 2), (9.0, 10), (2.0, 1)];
        // expanded: 1 1 1 2 3 3 5 9×10 (17 values) → the 9th smallest is 9
        assert_eq!(weighted_median(&mut items.clone(), 17), 9.0);
        items[3].1 = 1; // 1 1 1 2 3 3 5 9 → 4th smallest = 2
        assert_eq!(weighted_median(&mut items, 8), 2.0);
    }

    #[test]
    fn constant_differences() {
        let x = vec![5.0; 200];
        let y = vec![2.0; 100];
        let d = PairwiseDifferences::new(&x, &y);
        let s = d.shift_interval(10);
        assert_eq!((s.estimate, s.lower, s.upper), (3.0, 3.0, 3.0));
        assert_eq!(d.select_implicit(7777), 3.0);
    }

    #[test]
    fn two_values_with_massive_ties() {
        // Differences take only a handful of values, each hundreds of thousands of times.
        let x: Vec<f64> = sorted((0..1000).map(|i| (i % 2) as f64).collect());
        let y: Vec<f64> = sorted((0..900).map(|i| (i % 3) as f64).collect());
        let d = PairwiseDifferences::new(&x, &y);
        let want = reference(&x, &y);
        for k in [1u64, 150_000, 299_999, 300_000, 450_001, 899_999, 900_000] {
            assert_eq!(d.select_implicit(k), want[(k - 1) as usize], "rank {k}");
        }
        let s = d.shift_interval(400_000);
        assert_eq!(s.lower, want[399_999]);
        assert_eq!(s.upper, want[want.len() - 400_000]);
    }
}
