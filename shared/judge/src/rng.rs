//! A small seeded random number generator (SplitMix64) for the calibration simulations and
//! the benchmark's synthetic data, so the library needs no `rand` dependency and every
//! simulated number is reproducible from its seed.

/// SplitMix64: 64-bit state, passes BigCrush, trivially seedable.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
    spare_normal: Option<f64>,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 {
            state: seed,
            spare_normal: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by Box–Muller (both values used).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }

    /// Poisson(lambda): inversion for small means, normal approximation (rounded, clamped
    /// at 0) above 500 where inversion would be slow and the approximation is excellent.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 500.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        // Inversion, walking up from 0; for lambda > 30 start the walk at the mode region by
        // splitting into chunks so e^{-lambda} never underflows.
        let mut total = 0u64;
        let mut left = lambda;
        while left > 0.0 {
            let l = left.min(30.0);
            left -= l;
            let mut p = (-l).exp();
            let mut cdf = p;
            let u = self.uniform();
            let mut k = 0u64;
            while u > cdf && k < 10_000 {
                k += 1;
                p *= l / k as f64;
                cdf += p;
            }
            total += k;
        }
        total
    }

    /// Index uniform on 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_right() {
        let mut r = SplitMix64::new(1);
        let n = 20_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let z = r.normal();
            s += z;
            s2 += z * z;
        }
        assert!((s / n as f64).abs() < 0.03 && (s2 / n as f64 - 1.0).abs() < 0.04);
        for lambda in [0.7, 12.0, 75.0] {
            let m: f64 = (0..n).map(|_| r.poisson(lambda) as f64).sum::<f64>() / n as f64;
            assert!(
                (m - lambda).abs() < 4.0 * (lambda / n as f64).sqrt() + 1e-9,
                "poisson({lambda}) mean {m}"
            );
        }
    }
}
