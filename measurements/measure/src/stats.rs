//! The figures of one offset series.
//!
//! - **Location and spread**: the mean (the constant offset, i.e. the
//!   asymmetry of a PPS or veth measurement), the SD, the RMS, max |x|, and
//!   the percentiles p50/p90/p99 of |x| (nearest rank, as the simulator and
//!   baselines.md report them).
//! - **The 90% interval** as Statime's lab reports give it: the half-width
//!   `h` around the mean such that 90% of the samples lie within
//!   `mean ± h` (nearest rank of |x − mean|).
//! - **Convergence**: the first sample after which |x| (and, if asked,
//!   |frequency|) stays within the bound for good.
//! - **Frequency**: mean, SD and RMS of the frequency column when present
//!   (the servo's adjustment in a log, the true frequency error in the
//!   simulator).
//! - **Stability** (ITU-T G.810 definitions, from the phase `x` sampled
//!   every `τ0`): TDEV and MTIE of the phase, and the overlapping Allan
//!   deviation of the frequency computed from the phase, at `τ = n·τ0` for
//!   `n = 1, 2, 4, …`.
//!
//! Irregularly spaced samples (log lines) are put on a uniform grid first
//! ([`uniform`]): `τ0` is the median interval, each sample goes to its
//! nearest grid point, and missing grid points are filled linearly (the
//! number filled is reported).

/// Nearest-rank percentile `q` (0..=1) of `v`, which is sorted in place.
/// 0 for an empty slice.
#[must_use]
pub fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((v.len() as f64) * q).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// The half-width around the mean that holds `share` (e.g. 0.9) of the
/// samples: the nearest-rank `share` percentile of |x − mean|.
#[must_use]
pub fn interval_around_mean(x: &[f64], share: f64) -> f64 {
    let m = mean(x);
    let mut d: Vec<f64> = x.iter().map(|v| (v - m).abs()).collect();
    percentile(&mut d, share)
}

/// The arithmetic mean (0 for an empty slice).
#[must_use]
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let n = x.len() as f64;
    x.iter().sum::<f64>() / n
}

/// The population standard deviation, `sqrt(mean((x − mean)²))`.
#[must_use]
pub fn sd(x: &[f64]) -> f64 {
    let m = mean(x);
    let d: Vec<f64> = x.iter().map(|v| (v - m) * (v - m)).collect();
    mean(&d).sqrt()
}

/// The root mean square.
#[must_use]
pub fn rms(x: &[f64]) -> f64 {
    let sq: Vec<f64> = x.iter().map(|v| v * v).collect();
    mean(&sq).sqrt()
}

/// A phase series on a uniform grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Uniform {
    /// The grid step, s.
    pub tau0_s: f64,
    /// The phase at `t0 + k·τ0`, ns.
    pub x_ns: Vec<f64>,
    /// Grid points with no sample of their own (filled linearly).
    pub filled: usize,
}

/// Puts `(t_s, x)` samples (in time order) on a uniform grid; see the module
/// documentation. `None` with fewer than two samples.
#[must_use]
pub fn uniform(t_s: &[f64], x: &[f64]) -> Option<Uniform> {
    if t_s.len() < 2 || t_s.len() != x.len() {
        return None;
    }
    let mut d: Vec<f64> = t_s
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .collect();
    if d.is_empty() {
        return None;
    }
    let tau0 = percentile(&mut d, 0.5);
    let t0 = t_s[0];
    let mut grid: Vec<Option<f64>> = Vec::new();
    for (&t, &v) in t_s.iter().zip(x) {
        let k = ((t - t0) / tau0).round();
        if !(0.0..=1e8).contains(&k) {
            continue;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let k = k as usize;
        if grid.len() <= k {
            grid.resize(k + 1, None);
        }
        if grid[k].is_none() {
            grid[k] = Some(v);
        }
    }
    let mut out = Vec::with_capacity(grid.len());
    let mut filled = 0;
    let mut last: Option<(usize, f64)> = None;
    for (k, g) in grid.iter().enumerate() {
        if let Some(v) = *g {
            if let Some((lk, lv)) = last
                && k > lk + 1
            {
                for j in lk + 1..k {
                    #[allow(clippy::cast_precision_loss)]
                    let f = (j - lk) as f64 / (k - lk) as f64;
                    out.push(lv + f * (v - lv));
                    filled += 1;
                }
            }
            out.push(v);
            last = Some((k, v));
        }
    }
    Some(Uniform {
        tau0_s: tau0,
        x_ns: out,
        filled,
    })
}

/// The averaging factors `n = 1, 2, 4, …` with `n <= max`.
fn octaves(max: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut n = 1;
    while n <= max {
        v.push(n);
        n *= 2;
    }
    v
}

fn prefix(x: &[f64]) -> Vec<f64> {
    let mut p = Vec::with_capacity(x.len() + 1);
    p.push(0.0);
    let mut s = 0.0;
    for v in x {
        s += v;
        p.push(s);
    }
    p
}

/// Time deviation of the phase `x` (any unit; the result has that unit) at
/// `τ = n·τ0` for `n = 1, 2, 4, …, N/3`:
/// `TVAR(nτ0) = 1/(6n²(N−3n+1)) · Σ_j [Σ_{i=j}^{j+n−1} (x_{i+2n} − 2x_{i+n} + x_i)]²`.
/// Returns `(τ s, TDEV)` pairs.
#[must_use]
pub fn tdev(x: &[f64], tau0_s: f64) -> Vec<(f64, f64)> {
    let nn = x.len();
    let p = prefix(x);
    let sum = |a: usize, len: usize| p[a + len] - p[a];
    octaves(nn / 3)
        .into_iter()
        .map(|n| {
            let terms = nn - 3 * n + 1;
            let mut acc = 0.0;
            for j in 0..terms {
                let s = sum(j + 2 * n, n) - 2.0 * sum(j + n, n) + sum(j, n);
                acc += s * s;
            }
            #[allow(clippy::cast_precision_loss)]
            let tvar = acc / (6.0 * (n * n) as f64 * terms as f64);
            #[allow(clippy::cast_precision_loss)]
            let tau = n as f64 * tau0_s;
            (tau, tvar.sqrt())
        })
        .collect()
}

/// Overlapping Allan deviation of the frequency, from the phase `x` in ns
/// sampled every `τ0` s, at `τ = n·τ0` for `n = 1, 2, 4, …, N/4`:
/// `σ²(τ) = 1/(2τ²(N−2n)) · Σ_i (x_{i+2n} − 2x_{i+n} + x_i)²`.
/// Returns `(τ s, ADEV)` pairs; ADEV is dimensionless (ns/ns).
#[must_use]
pub fn adev(x_ns: &[f64], tau0_s: f64) -> Vec<(f64, f64)> {
    let nn = x_ns.len();
    octaves(nn / 4)
        .into_iter()
        .map(|n| {
            let terms = nn - 2 * n;
            let mut acc = 0.0;
            for i in 0..terms {
                let d = x_ns[i + 2 * n] - 2.0 * x_ns[i + n] + x_ns[i];
                acc += d * d;
            }
            #[allow(clippy::cast_precision_loss)]
            let tau = n as f64 * tau0_s;
            #[allow(clippy::cast_precision_loss)]
            let avar = acc / (2.0 * tau * tau * 1e18 * terms as f64);
            (tau, avar.sqrt())
        })
        .collect()
}

/// Maximum time interval error of the phase `x` (its unit) at
/// `τ = n·τ0` for `n = 1, 2, 4, …, N−1`: the largest peak-to-peak phase
/// excursion within any window of `n + 1` consecutive samples. Sliding
/// minimum and maximum, O(N) per τ.
#[must_use]
pub fn mtie(x: &[f64], tau0_s: f64) -> Vec<(f64, f64)> {
    use std::collections::VecDeque;
    let nn = x.len();
    octaves(nn.saturating_sub(1))
        .into_iter()
        .map(|n| {
            let w = n + 1;
            let mut maxq: VecDeque<usize> = VecDeque::new();
            let mut minq: VecDeque<usize> = VecDeque::new();
            let mut best = 0.0f64;
            for i in 0..nn {
                while maxq.back().is_some_and(|&j| x[j] <= x[i]) {
                    maxq.pop_back();
                }
                maxq.push_back(i);
                while minq.back().is_some_and(|&j| x[j] >= x[i]) {
                    minq.pop_back();
                }
                minq.push_back(i);
                if maxq.front().is_some_and(|&j| j + w <= i) {
                    maxq.pop_front();
                }
                if minq.front().is_some_and(|&j| j + w <= i) {
                    minq.pop_front();
                }
                if i + 1 >= w
                    && let (Some(&a), Some(&b)) = (maxq.front(), minq.front())
                {
                    best = best.max(x[a] - x[b]);
                }
            }
            #[allow(clippy::cast_precision_loss)]
            let tau = n as f64 * tau0_s;
            (tau, best)
        })
        .collect()
}

/// The least-squares slope of `log10(y)` over `log10(τ)` for the points
/// with `lo <= τ <= hi` and `y > 0`. `None` with fewer than two points.
#[must_use]
pub fn loglog_slope(points: &[(f64, f64)], lo: f64, hi: f64) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(t, y)| *t >= lo && *t <= hi && *y > 0.0)
        .map(|(t, y)| (t.log10(), y.log10()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let (mx, my) = (mean(&xs), mean(&ys));
    let sxy: f64 = pts.iter().map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = xs.iter().map(|a| (a - mx) * (a - mx)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The value of a `(τ, y)` curve at `tau`, interpolated log-log between
/// its neighbours; `None` outside the curve.
#[must_use]
pub fn at_tau(points: &[(f64, f64)], tau: f64) -> Option<f64> {
    // Grid steps of log lines are a little off 1 s (e.g. 1.001 s): 2% counts as the point.
    let eps = 0.02 * tau;
    if let Some(p) = points.iter().find(|(t, _)| (t - tau).abs() <= eps) {
        return Some(p.1);
    }
    let w = points.windows(2).find(|w| w[0].0 < tau && tau < w[1].0)?;
    let ((t0, y0), (t1, y1)) = (w[0], w[1]);
    if y0 <= 0.0 || y1 <= 0.0 {
        let f = (tau - t0) / (t1 - t0);
        return Some(y0 + f * (y1 - y0));
    }
    let f = (tau.ln() - t0.ln()) / (t1.ln() - t0.ln());
    Some((y0.ln() + f * (y1.ln() - y0.ln())).exp())
}

/// What to analyse and how.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Statistics use samples at or after this time, s (absolute).
    pub from_s: Option<f64>,
    /// Convergence bound on |offset|, ns.
    pub converge_ns: f64,
    /// Convergence bound on |frequency|, ppb (only if set and the series
    /// has a frequency column).
    pub converge_ppb: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            from_s: None,
            converge_ns: 2000.0,
            converge_ppb: None,
        }
    }
}

/// Frequency statistics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FreqFigures {
    /// Mean, ppb.
    pub mean_ppb: f64,
    /// SD, ppb.
    pub sd_ppb: f64,
    /// RMS, ppb.
    pub rms_ppb: f64,
}

/// Every figure of one series.
#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    /// Samples in the statistics window.
    pub samples: usize,
    /// Length of the window, s.
    pub span_s: f64,
    /// Mean: the constant offset, ns.
    pub mean_ns: f64,
    /// Half-width around the mean holding 90% of the samples, ns.
    pub within90_ns: f64,
    /// SD, ns.
    pub sd_ns: f64,
    /// RMS, ns.
    pub rms_ns: f64,
    /// max |x|, ns.
    pub max_ns: f64,
    /// p50 of |x|, ns.
    pub p50_ns: f64,
    /// p90 of |x|, ns.
    pub p90_ns: f64,
    /// p99 of |x|, ns.
    pub p99_ns: f64,
    /// Convergence time since the series' first sample, s (`None`: never).
    pub converged_after_s: Option<f64>,
    /// Frequency statistics (when the series has frequencies).
    pub freq: Option<FreqFigures>,
    /// The grid step used for the stability figures, s.
    pub tau0_s: f64,
    /// Grid points filled by interpolation.
    pub filled: usize,
    /// TDEV, (τ s, ns).
    pub tdev: Vec<(f64, f64)>,
    /// MTIE, (τ s, ns).
    pub mtie: Vec<(f64, f64)>,
    /// Overlapping ADEV of the frequency, (τ s, dimensionless).
    pub adev: Vec<(f64, f64)>,
}

/// The convergence time: first sample (time since `t[0]`) after which
/// every sample is within the bounds. `None` if the last one is not.
#[must_use]
pub fn convergence(t_s: &[f64], x_ns: &[f64], freq: Option<&[f64]>, opts: &Options) -> Option<f64> {
    let bad = |i: usize| {
        x_ns[i].abs() > opts.converge_ns
            || match (freq, opts.converge_ppb) {
                (Some(f), Some(b)) => f[i].abs() > b,
                _ => false,
            }
    };
    let first = *t_s.first()?;
    match (0..x_ns.len()).rev().find(|&i| bad(i)) {
        None => Some(0.0),
        Some(i) => t_s.get(i + 1).map(|t| t - first),
    }
}

/// Computes [`Figures`] of a series: times `t_s` (in order), offsets
/// `x_ns`, optional frequencies (same length). `None` when the window
/// holds no sample.
#[must_use]
pub fn analyse(
    t_s: &[f64],
    x_ns: &[f64],
    freq_ppb: Option<&[f64]>,
    opts: &Options,
) -> Option<Figures> {
    let start = opts
        .from_s
        .map_or(0, |f| t_s.iter().position(|t| *t >= f).unwrap_or(t_s.len()));
    let (tw, xw) = (&t_s[start..], &x_ns[start..]);
    if xw.is_empty() {
        return None;
    }
    let mut abs: Vec<f64> = xw.iter().map(|v| v.abs()).collect();
    let p50 = percentile(&mut abs, 0.5);
    let p90 = percentile(&mut abs, 0.9);
    let p99 = percentile(&mut abs, 0.99);
    let freq = freq_ppb.map(|f| {
        let fw = &f[start..];
        FreqFigures {
            mean_ppb: mean(fw),
            sd_ppb: sd(fw),
            rms_ppb: rms(fw),
        }
    });
    let u = uniform(tw, xw);
    let (tau0, filled, grid) = u.map_or((0.0, 0, Vec::new()), |u| (u.tau0_s, u.filled, u.x_ns));
    Some(Figures {
        samples: xw.len(),
        span_s: tw.last().copied().unwrap_or(0.0) - tw[0],
        mean_ns: mean(xw),
        within90_ns: interval_around_mean(xw, 0.9),
        sd_ns: sd(xw),
        rms_ns: rms(xw),
        max_ns: abs.last().copied().unwrap_or(0.0),
        p50_ns: p50,
        p90_ns: p90,
        p99_ns: p99,
        converged_after_s: convergence(t_s, x_ns, freq_ppb, opts),
        freq,
        tau0_s: tau0,
        filled,
        tdev: tdev(&grid, tau0),
        mtie: mtie(&grid, tau0),
        adev: adev(&grid, tau0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64 + Box-Muller: a small seeded normal generator for tests.
    struct Rng(u64);
    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn uniform(&mut self) -> f64 {
            #[allow(clippy::cast_precision_loss)]
            let u = ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            u
        }
        fn normal(&mut self) -> f64 {
            let (u1, u2) = (self.uniform(), self.uniform());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        }
    }

    fn white(n: usize, sigma: f64, seed: u64) -> Vec<f64> {
        let mut r = Rng(seed);
        (0..n).map(|_| sigma * r.normal()).collect()
    }

    fn random_walk(n: usize, step: f64, seed: u64) -> Vec<f64> {
        let mut r = Rng(seed);
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                x += step * r.normal();
                x
            })
            .collect()
    }

    #[test]
    fn percentiles_and_interval_on_a_hand_made_series() {
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&mut v.clone(), 0.5), 5.0);
        assert_eq!(percentile(&mut v.clone(), 0.9), 9.0);
        assert_eq!(percentile(&mut v.clone(), 0.99), 10.0);
        assert_eq!(percentile(&mut v, 0.0), 1.0);
        assert_eq!(percentile(&mut [], 0.5), 0.0);
        // 100 ns constant offset, 18 samples within ±10 ns, 2 outliers at ±50:
        // 90% (18 of 20) are within 10 ns of the mean.
        let mut x = vec![100.0; 20];
        for (i, v) in x.iter_mut().enumerate().take(18) {
            *v += if i % 2 == 0 { 10.0 } else { -10.0 };
        }
        x[18] = 150.0;
        x[19] = 50.0;
        assert!((mean(&x) - 100.0).abs() < 1e-12);
        assert_eq!(interval_around_mean(&x, 0.9), 10.0);
        assert_eq!(interval_around_mean(&x, 0.95), 50.0);
        assert!((rms(&[3.0, -4.0]) - (12.5f64).sqrt()).abs() < 1e-12);
        assert!((sd(&[1.0, 3.0]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn analyse_gives_location_spread_and_convergence() {
        let t: Vec<f64> = (0..100).map(f64::from).collect();
        // 10 µs until t = 9, then alternating -40/+60 ns (mean +10).
        let x: Vec<f64> = t
            .iter()
            .map(|&t| {
                if t < 10.0 {
                    10_000.0
                } else if (t as i64) % 2 == 0 {
                    -40.0
                } else {
                    60.0
                }
            })
            .collect();
        let f = analyse(&t, &x, None, &Options::default()).expect("samples");
        assert_eq!(f.converged_after_s, Some(10.0));
        let g = analyse(
            &t,
            &x,
            None,
            &Options {
                from_s: Some(10.0),
                ..Options::default()
            },
        )
        .expect("samples");
        assert_eq!(g.samples, 90);
        assert!((g.mean_ns - 10.0).abs() < 1e-9);
        assert!((g.within90_ns - 50.0).abs() < 1e-9);
        assert!((g.max_ns - 60.0).abs() < 1e-9);
        assert!((g.p50_ns - 40.0).abs() < 1e-9);
        assert!((g.sd_ns - 50.0).abs() < 1e-9);
        assert!((g.tau0_s - 1.0).abs() < 1e-12);
        // Never within 1 ns: no convergence.
        let never = Options {
            converge_ns: 1.0,
            ..Options::default()
        };
        assert_eq!(
            analyse(&t, &x, None, &never)
                .expect("samples")
                .converged_after_s,
            None
        );
        // An empty window is reported as such.
        assert!(
            analyse(
                &t,
                &x,
                None,
                &Options {
                    from_s: Some(1e6),
                    ..Options::default()
                }
            )
            .is_none()
        );
    }

    #[test]
    fn frequency_bound_delays_convergence() {
        let t: Vec<f64> = (0..20).map(f64::from).collect();
        let x = vec![0.0; 20];
        let mut f = vec![0.0; 20];
        f[14] = 5000.0;
        let o = Options {
            converge_ppb: Some(2000.0),
            ..Options::default()
        };
        assert_eq!(convergence(&t, &x, Some(&f), &o), Some(15.0));
        assert_eq!(convergence(&t, &x, None, &o), Some(0.0));
    }

    #[test]
    fn uniform_grid_fills_gaps_and_drops_duplicates() {
        let t = [0.0, 1.01, 1.02, 2.0, 5.0, 6.0];
        let x = [0.0, 1.0, 99.0, 2.0, 5.0, 6.0];
        let u = uniform(&t, &x).expect("grid");
        assert!((u.tau0_s - 1.0).abs() < 0.02, "{}", u.tau0_s);
        assert_eq!(u.filled, 2);
        assert_eq!(u.x_ns, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn mtie_of_a_phase_ramp_is_slope_times_tau() {
        let slope = 3.5; // ns per s
        let tau0 = 0.5;
        let x: Vec<f64> = (0..1000).map(|i| slope * tau0 * f64::from(i)).collect();
        let m = mtie(&x, tau0);
        assert_eq!(m.len(), 10); // n = 1..512
        for (tau, v) in m {
            assert!((v - slope * tau).abs() < 1e-9, "tau {tau}: {v}");
        }
        // A step of 7 at the end: any window containing it has MTIE >= 7.
        let mut y = vec![0.0; 64];
        y[63] = 7.0;
        assert!(mtie(&y, 1.0).iter().all(|(_, v)| (*v - 7.0).abs() < 1e-12));
    }

    #[test]
    fn white_phase_noise_has_the_published_slopes_and_level() {
        let sigma = 10.0;
        let x = white(1 << 15, sigma, 7);
        let td = tdev(&x, 1.0);
        let ad = adev(&x, 1.0);
        let st = loglog_slope(&td, 1.0, 1024.0).expect("slope");
        let sa = loglog_slope(&ad, 1.0, 1024.0).expect("slope");
        assert!((st + 0.5).abs() < 0.06, "TDEV slope {st}, expected -1/2");
        assert!((sa + 1.0).abs() < 0.06, "ADEV slope {sa}, expected -1");
        // TVAR of white phase noise is sigma^2 / n exactly in expectation.
        for &(tau, v) in td.iter().take(6) {
            let expect = sigma / tau.sqrt();
            assert!((v / expect - 1.0).abs() < 0.1, "tau {tau}: {v} vs {expect}");
        }
        // ADEV(τ0) of WPM: sqrt(3)·σ/τ (ns -> dimensionless).
        let expect = 3f64.sqrt() * sigma * 1e-9;
        assert!(
            (ad[0].1 / expect - 1.0).abs() < 0.05,
            "{} vs {expect}",
            ad[0].1
        );
    }

    #[test]
    fn random_walk_phase_has_the_published_slopes_and_level() {
        // Random-walk phase = white frequency modulation.
        let q = 2.0; // ns per step, tau0 = 1 s
        let x = random_walk(1 << 15, q, 11);
        let td = tdev(&x, 1.0);
        let ad = adev(&x, 1.0);
        let st = loglog_slope(&td, 1.0, 512.0).expect("slope");
        let sa = loglog_slope(&ad, 1.0, 512.0).expect("slope");
        assert!((st - 0.5).abs() < 0.08, "TDEV slope {st}, expected +1/2");
        assert!((sa + 0.5).abs() < 0.08, "ADEV slope {sa}, expected -1/2");
        // ADEV of WFM: q/(τ0·sqrt(n)) in ns/s.
        for &(tau, v) in ad.iter().take(5) {
            let expect = q * 1e-9 / tau.sqrt();
            assert!((v / expect - 1.0).abs() < 0.1, "tau {tau}: {v} vs {expect}");
        }
    }

    #[test]
    fn slopes_distinguish_the_two_noises() {
        // The test above must be able to fail: white noise does not pass as
        // a random walk.
        let td = tdev(&white(1 << 13, 1.0, 3), 1.0);
        let st = loglog_slope(&td, 1.0, 256.0).expect("slope");
        assert!((st - 0.5).abs() > 0.5);
    }

    #[test]
    fn at_tau_interpolates_log_log() {
        let c = [(1.0, 100.0), (4.0, 25.0)];
        assert_eq!(at_tau(&c, 1.0), Some(100.0));
        let v = at_tau(&c, 2.0).expect("inside");
        assert!((v - 50.0).abs() < 1e-9);
        assert_eq!(at_tau(&c, 8.0), None);
    }
}
