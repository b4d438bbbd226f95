//! A small seeded pseudo-random generator and the distributions the
//! simulator draws from.
//!
//! - [`Rng`] is xoshiro256** (Blackman and Vigna), seeded through
//!   splitmix64 so that any `u64` (including 0) gives a well-mixed state.
//!   It is not cryptographic; it is fast, has a period of 2^256 - 1 and
//!   passes the usual statistical batteries, which is all a simulation needs.
//! - [`Rng::uniform`] is uniform in the open interval (0, 1) (53 random bits).
//! - [`Rng::exponential`] uses the inverse CDF: `-mean * ln(U)`.
//! - [`Rng::normal`] uses the Box-Muller transform (one of the pair is used;
//!   the other is discarded so that every draw consumes the same amount of
//!   the stream, which keeps runs easy to reason about).
//! - [`Dist`] is a distribution of non-negative durations in nanoseconds as
//!   written in scenario files; its normal variant is truncated at zero.
//!
//! Every random quantity of a run comes from its own stream, derived from the
//! run's seed and a stream label with [`Rng::derive`], so that adding a node
//! or a link does not shift the numbers another node sees.

use serde::Deserialize;

/// splitmix64 step: advances `state` and returns the next output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** seeded with splitmix64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose whole state is derived from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Self { s }
    }

    /// An independent stream for `(seed, label, index)`: the same inputs
    /// always give the same stream, different labels give unrelated ones.
    #[must_use]
    pub fn derive(seed: u64, label: &str, index: u64) -> Self {
        // FNV-1a over the label, then mixed with the seed and index.
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01B3);
        }
        let mut sm = seed ^ h.rotate_left(17) ^ index.wrapping_mul(0xA24B_AED4_963E_E407);
        Self::new(splitmix64(&mut sm))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in the open interval (0, 1).
    pub fn uniform(&mut self) -> f64 {
        // 53 random bits, centred in their cell so neither 0 nor 1 occurs.
        #[allow(clippy::cast_precision_loss)]
        let v = ((self.next_u64() >> 11) as f64 + 0.5) / 9_007_199_254_740_992.0;
        v
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform_range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }

    /// Exponential with the given mean (inverse CDF).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * self.uniform().ln()
    }

    /// Standard normal N(0, 1) (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// A distribution of non-negative values in nanoseconds, as written in a
/// scenario file (`{ kind = "exponential", mean-ns = 100 }`).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Dist {
    /// Always zero.
    #[default]
    None,
    /// Always `ns`.
    Constant {
        /// The value, ns.
        ns: f64,
    },
    /// Uniform in `[min-ns, max-ns)`.
    Uniform {
        /// Lower bound, ns.
        #[serde(rename = "min-ns")]
        min_ns: f64,
        /// Upper bound, ns.
        #[serde(rename = "max-ns")]
        max_ns: f64,
    },
    /// Normal with `mean-ns` and `sd-ns`, truncated at zero (negative draws
    /// are redrawn up to 16 times, then 0).
    Normal {
        /// Mean, ns.
        #[serde(rename = "mean-ns")]
        mean_ns: f64,
        /// Standard deviation, ns.
        #[serde(rename = "sd-ns")]
        sd_ns: f64,
    },
    /// Exponential with `mean-ns`.
    Exponential {
        /// Mean, ns.
        #[serde(rename = "mean-ns")]
        mean_ns: f64,
    },
}

impl Dist {
    /// One draw, ns (never negative).
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        match *self {
            Self::None => 0.0,
            Self::Constant { ns } => ns.max(0.0),
            Self::Uniform { min_ns, max_ns } => rng.uniform_range(min_ns, max_ns).max(0.0),
            Self::Normal { mean_ns, sd_ns } => {
                for _ in 0..16 {
                    let v = mean_ns + sd_ns * rng.normal();
                    if v >= 0.0 {
                        return v;
                    }
                }
                0.0
            }
            Self::Exponential { mean_ns } => rng.exponential(mean_ns),
        }
    }

    /// Checks the parameters; the error says which one is wrong.
    ///
    /// # Errors
    /// A message naming the bad parameter.
    pub fn validate(&self) -> Result<(), String> {
        let finite_nonneg = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("`{name}` must be finite and >= 0 (got {v})"))
            }
        };
        match *self {
            Self::None => Ok(()),
            Self::Constant { ns } => finite_nonneg("ns", ns),
            Self::Uniform { min_ns, max_ns } => {
                finite_nonneg("min-ns", min_ns)?;
                finite_nonneg("max-ns", max_ns)?;
                if max_ns < min_ns {
                    return Err(format!("`max-ns` ({max_ns}) is below `min-ns` ({min_ns})"));
                }
                Ok(())
            }
            Self::Normal { mean_ns, sd_ns } => {
                if !mean_ns.is_finite() {
                    return Err("`mean-ns` must be finite".into());
                }
                finite_nonneg("sd-ns", sd_ns)
            }
            Self::Exponential { mean_ns } => finite_nonneg("mean-ns", mean_ns),
        }
    }

    /// The mean of the distribution (of the untruncated normal), ns.
    #[must_use]
    pub fn mean(&self) -> f64 {
        match *self {
            Self::None => 0.0,
            Self::Constant { ns } => ns,
            Self::Uniform { min_ns, max_ns } => (min_ns + max_ns) / 2.0,
            Self::Normal { mean_ns, .. } => mean_ns,
            Self::Exponential { mean_ns } => mean_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = Rng::derive(7, "wander", 1);
        let mut d = Rng::derive(7, "wander", 2);
        assert_ne!(c.next_u64(), d.next_u64());
    }

    #[test]
    fn uniform_is_open() {
        let mut r = Rng::new(0);
        for _ in 0..10_000 {
            let u = r.uniform();
            assert!(u > 0.0 && u < 1.0);
        }
    }
}
