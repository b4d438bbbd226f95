//! Peer-scale scenario files (`measurements/scenarios/peers/*.toml`): TOML,
//! kebab-case keys, unknown keys rejected, every error naming the file and
//! the key.
//!
//! ```toml
//! name = "peers-n1000-k4"
//! nodes = 1000                  # N overlay nodes
//! degree = 24                   # m: peers per node (even; symmetric)
//! fan-out = 4                   # k: requests per node per poll interval
//! faults = 1                    # f of every node's guard
//! duration-s = 600
//! warm-up-s = 60                # widths and clock errors counted from here
//! seeds = [1]
//! poll-interval-s = 1
//! two-step = true               # transmit stamps and follow-ups
//! # max-age-s = 9               # default: (ceil(degree / k) + 3) polls
//!
//! [reference]                   # nodes with a local reference (GNSS, a PTP GM)
//! fraction = 0.2                # of all nodes, chosen among the honest ones
//! bound-ns = 1000               # the bound they publish around their estimate
//! noise-ns = 500                # their estimate's error, uniform within +-noise
//!
//! [clock]                       # every node's free-running oscillator
//! max-drift-ppm = 10            # initial frequency error uniform within +-this
//! wander-ppb = 1                # random walk per sqrt(s), clamped to +-max-drift
//! initial-offset-ns = 1e6       # initial phase uniform within +-this
//!
//! [steering]                    # the bounded-slew PI every honest node runs
//! time-constant-s = 8
//! max-slew-ppm = 20
//! step-threshold-ns = 20000     # the first agreement steps if further off
//!
//! [guard]
//! max-drift-ppm = 15            # the guard's drift allowance (BoundAssumptions)
//!
//! [network]                     # per pair: base one-way delay uniform in [min, max)
//! base-min-ns = 20000
//! base-max-ns = 100000
//! asymmetry = 0.1               # each direction: base * (1 +- up to this)
//! jitter = { kind = "exponential", mean-ns = 5000 }
//! loss = 0.001
//! fifo = true                   # no reordering on a path
//!
//! [[liars]]                     # a group of lying nodes
//! fraction = 0.015              # or count = 15
//! kind = "offset"               # every time stamp offset-ns ahead from start-s
//! offset-ns = 1e6
//! claim-ns = 1000               # the half-width it claims
//! [[liars]]
//! count = 15
//! kind = "drift"                # its time stamps run away at rate-ppb from start-s
//! rate-ppb = 20000
//! start-s = 60
//! claim-ns = 1000
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::rng::Dist;
use crate::scenario::ScenarioError;

/// Most nodes a scenario may have.
pub const MAX_NODES: usize = 100_000;

/// A whole peer-scale scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PeersScenario {
    /// Short name (default: the file stem).
    #[serde(default)]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// `N`: overlay nodes.
    pub nodes: usize,
    /// `m`: peers per node (even: the overlay is a random circulant graph,
    /// `m / 2` random shifts over a random relabelling, so every node has
    /// exactly `m` peers and every link is symmetric).
    pub degree: usize,
    /// `k`: requests per node per poll interval.
    pub fan_out: usize,
    /// `f` of every node's guard.
    pub faults: usize,
    /// Simulated time per seed, s.
    pub duration_s: f64,
    /// Widths, clock errors and agreement are counted from here, s
    /// (containment, detection and messages from the start).
    #[serde(default)]
    pub warm_up_s: f64,
    /// Seeds to run.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Time between a node's poll rounds (and its guard evaluations), s.
    #[serde(default = "default_poll")]
    pub poll_interval_s: f64,
    /// Transmit time stamps and follow-ups (two-step).
    #[serde(default = "default_true")]
    pub two_step: bool,
    /// The guard's max-age, s (default: `ceil(m / k) + 3` polls).
    pub max_age_s: Option<f64>,
    /// Nodes with a local reference.
    #[serde(default)]
    pub reference: ReferenceSpec,
    /// The oscillators.
    #[serde(default)]
    pub clock: ClockSpec,
    /// The steering rule.
    #[serde(default)]
    pub steering: SteeringSpec,
    /// The guard's assumptions.
    #[serde(default)]
    pub guard: GuardSpec,
    /// The network.
    #[serde(default)]
    pub network: NetworkSpec,
    /// Groups of lying nodes.
    #[serde(default)]
    pub liars: Vec<LiarGroup>,
}

fn default_seeds() -> Vec<u64> {
    vec![1]
}
const fn default_poll() -> f64 {
    1.0
}
const fn default_true() -> bool {
    true
}

/// Nodes with a local reference: they publish `estimate +- bound-ns` and
/// steer to their estimate; every other honest node publishes and steers
/// to its guard's intersection over its peers.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ReferenceSpec {
    /// Fraction of all nodes (taken among the honest ones).
    pub fraction: f64,
    /// The half-width they publish, ns.
    pub bound_ns: f64,
    /// Their estimate of true time minus clock is off by uniform within
    /// `+-noise-ns` (at most `bound-ns`).
    pub noise_ns: f64,
}

impl Default for ReferenceSpec {
    fn default() -> Self {
        Self {
            fraction: 0.2,
            bound_ns: 1_000.0,
            noise_ns: 500.0,
        }
    }
}

/// The oscillators.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClockSpec {
    /// Frequency error uniform within `+-` this at start, and clamped to it,
    /// ppm.
    pub max_drift_ppm: f64,
    /// Random walk of the frequency, ppb per sqrt(s).
    pub wander_ppb: f64,
    /// Initial phase uniform within `+-` this, ns.
    pub initial_offset_ns: f64,
}

impl Default for ClockSpec {
    fn default() -> Self {
        Self {
            max_drift_ppm: 10.0,
            wander_ppb: 1.0,
            initial_offset_ns: 1e6,
        }
    }
}

/// The bounded-slew PI of every honest node.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SteeringSpec {
    /// `T`: proportional gain `1 / T`, integral gain `1 / (4 T^2)`, s.
    pub time_constant_s: f64,
    /// The frequency correction is clamped to `+-` this, ppm.
    pub max_slew_ppm: f64,
    /// The first agreement steps the clock when the estimate is further off
    /// than this, ns (later ones only slew).
    pub step_threshold_ns: f64,
}

impl Default for SteeringSpec {
    fn default() -> Self {
        Self {
            time_constant_s: 8.0,
            max_slew_ppm: 20.0,
            step_threshold_ns: 20_000.0,
        }
    }
}

/// The guard's assumptions.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GuardSpec {
    /// Drift allowance of an interval per second of age, ppm.
    pub max_drift_ppm: f64,
}

impl Default for GuardSpec {
    fn default() -> Self {
        Self {
            max_drift_ppm: 15.0,
        }
    }
}

/// The simulated network.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NetworkSpec {
    /// Per pair, the base one-way delay is uniform in `[min, max)`, ns.
    pub base_min_ns: f64,
    /// See `base-min-ns`.
    pub base_max_ns: f64,
    /// Per pair and direction, the base is scaled by `1 + u` with `u`
    /// uniform within `+-` this (a fixed asymmetry).
    pub asymmetry: f64,
    /// Per datagram, added to the base.
    pub jitter: Dist,
    /// Per datagram, the chance it is lost.
    pub loss: f64,
    /// Datagrams on one path (one direction of a pair) arrive in the order
    /// they left (default); `false` lets jitter reorder them.
    #[serde(default = "default_true")]
    pub fifo: bool,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        Self {
            base_min_ns: 20_000.0,
            base_max_ns: 100_000.0,
            asymmetry: 0.1,
            jitter: Dist::Exponential { mean_ns: 5_000.0 },
            loss: 0.0,
            fifo: true,
        }
    }
}

/// How a group of liars lies (resolved from a [`LiarGroup`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LiarKind {
    /// Every time stamp `offset-ns` ahead (negative: behind).
    Offset {
        /// The offset, ns.
        offset_ns: f64,
    },
    /// Time stamps running away from true time at `rate-ppb`.
    Drift {
        /// The rate, ppb.
        rate_ppb: f64,
    },
}

/// The `kind` key of a liar group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LiarKindName {
    /// See [`LiarKind::Offset`] (needs `offset-ns`).
    Offset,
    /// See [`LiarKind::Drift`] (needs `rate-ppb`).
    Drift,
}

/// A group of lying nodes, chosen at random among all nodes.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LiarGroup {
    /// How many.
    pub count: Option<usize>,
    /// Or which fraction of all nodes (rounded).
    pub fraction: Option<f64>,
    /// The lie: `offset` or `drift`.
    pub kind: LiarKindName,
    /// `offset`: the offset of every time stamp, ns.
    pub offset_ns: Option<f64>,
    /// `drift`: the rate the time stamps run away at, ppb.
    pub rate_ppb: Option<f64>,
    /// The lie starts here, s (before: honest time stamps).
    #[serde(default)]
    pub start_s: f64,
    /// The half-width the liar claims around its lying clock, ns.
    pub claim_ns: f64,
}

impl LiarGroup {
    /// The lie (validation made sure its parameter is there).
    #[must_use]
    pub fn lie(&self) -> LiarKind {
        match self.kind {
            LiarKindName::Offset => LiarKind::Offset {
                offset_ns: self.offset_ns.unwrap_or(0.0),
            },
            LiarKindName::Drift => LiarKind::Drift {
                rate_ppb: self.rate_ppb.unwrap_or(0.0),
            },
        }
    }

    /// The number of liars in the group for `nodes` nodes.
    #[must_use]
    pub fn size(&self, nodes: usize) -> usize {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        self.count
            .unwrap_or_else(|| (self.fraction.unwrap_or(0.0) * nodes as f64).round() as usize)
    }

    /// When the lie first puts true time outside the interval the liar
    /// claims, s: its start (offset beyond the claim) or the moment the
    /// drift has run past the claim; `None` when it never does.
    #[must_use]
    pub fn crossing_s(&self) -> Option<f64> {
        match self.lie() {
            LiarKind::Offset { offset_ns } => {
                (offset_ns.abs() > self.claim_ns).then_some(self.start_s)
            }
            LiarKind::Drift { rate_ppb } => {
                // 1 ppb is 1 ns of lie per s.
                (rate_ppb != 0.0).then(|| self.start_s + self.claim_ns / rate_ppb.abs())
            }
        }
    }

    /// A short name for tables.
    #[must_use]
    pub fn describe(&self) -> String {
        match self.lie() {
            LiarKind::Offset { offset_ns } => format!("offset {:.0} us", offset_ns / 1e3),
            LiarKind::Drift { rate_ppb } => format!("drift {:.0} ppm", rate_ppb / 1e3),
        }
    }
}

impl PeersScenario {
    /// Reads, parses and validates a scenario file.
    ///
    /// # Errors
    /// The file cannot be read, does not parse, or fails validation; the
    /// message names the file and the key.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: path.to_owned(),
            message: e.to_string(),
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::parse(&text, path, &stem)
    }

    /// Parses and validates scenario text; `file` is used in errors and
    /// `default_name` when the scenario has no `name`.
    ///
    /// # Errors
    /// As [`PeersScenario::load`].
    pub fn parse(text: &str, file: &Path, default_name: &str) -> Result<Self, ScenarioError> {
        let err = |message: String| ScenarioError {
            file: file.to_owned(),
            message,
        };
        let mut s: Self = toml::from_str(text).map_err(|e| err(e.to_string().trim().into()))?;
        if s.name.is_empty() {
            s.name = default_name.to_owned();
        }
        s.validate().map_err(err)?;
        Ok(s)
    }

    /// The number of liars.
    #[must_use]
    pub fn liar_count(&self) -> usize {
        self.liars.iter().map(|g| g.size(self.nodes)).sum()
    }

    /// The number of nodes with a local reference.
    #[must_use]
    pub fn reference_count(&self) -> usize {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let n = (self.reference.fraction * self.nodes as f64).round() as usize;
        n.min(self.nodes - self.liar_count())
    }

    /// The guard's max-age in force, s.
    #[must_use]
    pub fn max_age_s(&self) -> f64 {
        self.max_age_s.unwrap_or_else(|| {
            #[allow(clippy::cast_precision_loss)]
            let rounds = self.degree.div_ceil(self.fan_out.max(1)) as f64;
            (rounds + 3.0) * self.poll_interval_s
        })
    }

    fn validate(&self) -> Result<(), String> {
        let pos = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("`{name}` must be finite and > 0 (got {v})"))
            }
        };
        let nonneg = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("`{name}` must be finite and >= 0 (got {v})"))
            }
        };
        if self.nodes < 3 || self.nodes > MAX_NODES {
            return Err(format!(
                "`nodes` must be in 3..={MAX_NODES} (got {})",
                self.nodes
            ));
        }
        if self.degree < 2 || !self.degree.is_multiple_of(2) || self.degree >= self.nodes - 1 {
            return Err(format!(
                "`degree` must be even, at least 2 and below nodes - 1 (got {})",
                self.degree
            ));
        }
        if self.fan_out == 0 || self.fan_out > self.degree {
            return Err(format!(
                "`fan-out` must be in 1..=degree (got {})",
                self.fan_out
            ));
        }
        if 2 * self.faults + 1 > self.degree {
            return Err(format!(
                "`faults` = {} needs 2f + 1 <= degree = {}",
                self.faults, self.degree
            ));
        }
        pos("duration-s", self.duration_s)?;
        nonneg("warm-up-s", self.warm_up_s)?;
        if self.warm_up_s >= self.duration_s {
            return Err("`warm-up-s` must be below `duration-s`".into());
        }
        if self.seeds.is_empty() {
            return Err("`seeds` must not be empty".into());
        }
        pos("poll-interval-s", self.poll_interval_s)?;
        if let Some(a) = self.max_age_s {
            pos("max-age-s", a)?;
        }
        let r = &self.reference;
        if !(0.0..=1.0).contains(&r.fraction) {
            return Err(format!(
                "`reference.fraction` must be in 0..=1 (got {})",
                r.fraction
            ));
        }
        pos("reference.bound-ns", r.bound_ns)?;
        nonneg("reference.noise-ns", r.noise_ns)?;
        if r.noise_ns > r.bound_ns {
            return Err("`reference.noise-ns` must not exceed `reference.bound-ns`".into());
        }
        nonneg("clock.max-drift-ppm", self.clock.max_drift_ppm)?;
        nonneg("clock.wander-ppb", self.clock.wander_ppb)?;
        nonneg("clock.initial-offset-ns", self.clock.initial_offset_ns)?;
        pos("steering.time-constant-s", self.steering.time_constant_s)?;
        nonneg("steering.max-slew-ppm", self.steering.max_slew_ppm)?;
        nonneg(
            "steering.step-threshold-ns",
            self.steering.step_threshold_ns,
        )?;
        nonneg("guard.max-drift-ppm", self.guard.max_drift_ppm)?;
        let n = &self.network;
        nonneg("network.base-min-ns", n.base_min_ns)?;
        nonneg("network.base-max-ns", n.base_max_ns)?;
        if n.base_max_ns < n.base_min_ns {
            return Err("`network.base-max-ns` is below `network.base-min-ns`".into());
        }
        if !(0.0..1.0).contains(&n.asymmetry) {
            return Err(format!(
                "`network.asymmetry` must be in [0, 1) (got {})",
                n.asymmetry
            ));
        }
        n.jitter
            .validate()
            .map_err(|e| format!("network.jitter: {e}"))?;
        if !(0.0..1.0).contains(&n.loss) {
            return Err(format!("`network.loss` must be in [0, 1) (got {})", n.loss));
        }
        for (i, g) in self.liars.iter().enumerate() {
            let at = |k: &str| format!("liars[{i}].{k}");
            match (g.count, g.fraction) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(format!(
                        "{}: give one of `count` and `fraction`",
                        at("count")
                    ));
                }
                (None, Some(f)) if !(0.0..=1.0).contains(&f) => {
                    return Err(format!("`{}` must be in 0..=1 (got {f})", at("fraction")));
                }
                _ => {}
            }
            nonneg(&at("start-s"), g.start_s)?;
            nonneg(&at("claim-ns"), g.claim_ns)?;
            let (need, other, have, extra) = match g.kind {
                LiarKindName::Offset => ("offset-ns", "rate-ppb", g.offset_ns, g.rate_ppb),
                LiarKindName::Drift => ("rate-ppb", "offset-ns", g.rate_ppb, g.offset_ns),
            };
            match have {
                None => return Err(format!("`{}` is required by this kind", at(need))),
                Some(v) if !v.is_finite() => {
                    return Err(format!("`{}` must be finite", at(need)));
                }
                Some(_) => {}
            }
            if extra.is_some() {
                return Err(format!("`{}` does not go with this kind", at(other)));
            }
        }
        if self.liar_count() >= self.nodes {
            return Err(format!(
                "{} liars leave no honest node of {}",
                self.liar_count(),
                self.nodes
            ));
        }
        Ok(())
    }
}
