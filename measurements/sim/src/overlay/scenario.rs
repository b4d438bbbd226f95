//! Overlay scenario files (`measurements/scenarios/overlay/*.toml`): TOML,
//! kebab-case keys, unknown keys rejected, every error naming the file and
//! the key.
//!
//! ```toml
//! name = "overlay-n3-f1-offset"
//! faults = 1                    # f, the guard's fault budget (required)
//! samples = 1000000             # guard rounds to simulate (--samples overrides)
//! seeds = [1]
//! poll-interval-s = 0.125       # each source: one Sync + Delay_Req exchange per poll
//! reset-s = 30                  # clock error and half-widths counted from here
//! measured-at = "completion"    # or "sync-receipt" (see `MeasuredAt`)
//! servo = "kalman"              # or "pi"
//!
//! [guard]                       # GuardConfig / BoundAssumptions
//! asymmetry-ns = 0
//! max-drift-ppm = 15
//! max-age-s = 4
//! switch-below-percent = 25     # the daemon's value
//! history-depth = 2             # samples per source intersected (default 2)
//! switch-persistence-rounds = 16 # rounds a better source must stay better (default 16)
//! judge-at-completion = true    # also judge each source at its own completion (default)
//!
//! [local]                       # the local clock (true time vs local time)
//! frequency-ppm = 2
//! wander-ppb = 1
//! initial-offset-ns = 100000
//! max-frequency-ppb = 10000     # the servo's slew limit
//!
//! [[source]]
//! id = "gm1"
//! accuracy = 0x21               # clockAccuracy advertised (0x21: 100 ns)
//! noise-ns = 50                 # honest clock: true time + uniform(±noise)
//! to-local = { base-ns = 20000, jitter = { kind = "exponential", mean-ns = 2000 } }
//! to-source = { base-ns = 20000, jitter = { kind = "exponential", mean-ns = 2000 } }
//! [source.liar]                 # optional: how this source lies
//! kind = "offset"
//! offset-ns = 1e6
//! [source.attack]               # optional: one-way delay on its path
//! direction = "to-local"
//! extra-ns = 200000
//! ```

use std::collections::HashSet;
use std::path::Path;

use bft_overlay::clock_accuracy_ns;
use serde::Deserialize;

use crate::scenario::{DelaySpec, ScenarioError, ServoKind};

/// Most sources a scenario may have.
pub const MAX_SOURCES: usize = 64;

/// A whole overlay scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OverlayScenario {
    /// Short name (default: the file stem).
    #[serde(default)]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// `f`: the number of faulty sources the guard tolerates (required).
    pub faults: usize,
    /// Guard rounds (one per completed exchange) to simulate per seed.
    #[serde(default = "default_samples")]
    pub samples: u64,
    /// Seeds to run; results are merged over them.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Interval between two exchanges with one source, s.
    #[serde(default = "default_poll")]
    pub poll_interval_s: f64,
    /// The Delay_Req leaves uniform in `[0, this)` after the Sync arrived,
    /// s (default: the poll interval, as statime pairs a randomised
    /// Delay_Req with the latest Sync).
    pub delay_req_gap_s: Option<f64>,
    /// Which instant the guard is told an exchange was measured at.
    #[serde(default)]
    pub measured_at: MeasuredAt,
    /// Clock error, half-widths and bounds are counted from this time, s.
    #[serde(default = "default_reset")]
    pub reset_s: f64,
    /// The servo of the local clock.
    #[serde(default)]
    pub servo: ServoKind,
    /// The guard's configuration.
    #[serde(default)]
    pub guard: GuardSpec,
    /// The local clock.
    #[serde(default)]
    pub local: LocalSpec,
    /// The sources (at least one).
    #[serde(rename = "source")]
    pub sources: Vec<SourceSpec>,
}

fn default_samples() -> u64 {
    1_000_000
}
fn default_seeds() -> Vec<u64> {
    vec![1]
}
fn default_poll() -> f64 {
    0.125
}
fn default_reset() -> f64 {
    30.0
}

/// The `measured_at_ns` the guard gets with a sample.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MeasuredAt {
    /// When the exchange completed (the Delay_Resp arrived): what the
    /// daemon passed until 2026-12-07 (it missed true time on sub-us
    /// paths: the servo's slew during the exchange escaped the bound).
    Completion,
    /// When its Sync arrived (t2), the earliest local time stamp of the
    /// exchange: the drift term then also covers the local clock's drift
    /// during the exchange itself.
    SyncReceipt,
    /// `now - 2 x (now - ingress)`, where `ingress` is the midpoint of t2
    /// and t3 that the core's `Exchange` carries: never later than the
    /// Sync's arrival (`now >= t3`): what the daemon passes
    /// (`statime-linux/src/daemon/overlay.rs`, `measured_at`).
    #[default]
    IngressTwice,
}

/// The guard's configuration (`bft_overlay::GuardConfig`).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct GuardSpec {
    /// `BoundAssumptions::asymmetry_ns`.
    pub asymmetry_ns: u64,
    /// `BoundAssumptions::max_drift_ppb`, in ppm (the daemon's `max-drift`).
    pub max_drift_ppm: f64,
    /// `GuardConfig::max_age_ns`, in s.
    pub max_age_s: f64,
    /// `GuardConfig::switch_below_percent`.
    pub switch_below_percent: u64,
    /// `Guard::set_history_depth`: samples per source intersected (1: the
    /// latest only, the rule until 2026-12-07).
    pub history_depth: usize,
    /// `Guard::set_switch_persistence`: rounds a better candidate must
    /// stay better before the guard leaves a valid selection for it.
    pub switch_persistence_rounds: u32,
    /// `Guard::set_judge_at_completion`: also judge each source at its own
    /// latest completion (its own interval not widened by its age).
    pub judge_at_completion: bool,
}

impl Default for GuardSpec {
    fn default() -> Self {
        // The daemon's defaults (`[overlay]` in statime.toml(5)).
        Self {
            asymmetry_ns: 0,
            max_drift_ppm: 15.0,
            max_age_s: 4.0,
            switch_below_percent: 25,
            history_depth: bft_overlay::DEFAULT_HISTORY_DEPTH,
            switch_persistence_rounds: bft_overlay::DEFAULT_SWITCH_PERSISTENCE,
            judge_at_completion: true,
        }
    }
}

/// The local clock: the oscillator model of `clock.rs`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct LocalSpec {
    /// Base frequency error, ppm.
    pub frequency_ppm: f64,
    /// Random walk of the frequency, ppb per sqrt(s).
    pub wander_ppb: f64,
    /// Local minus true time at t = 0, ns.
    pub initial_offset_ns: f64,
    /// The largest frequency adjustment the servo commands and the clock
    /// takes, ppb.
    pub max_frequency_ppb: f64,
}

impl Default for LocalSpec {
    fn default() -> Self {
        Self {
            frequency_ppm: 2.0,
            wander_ppb: 1.0,
            initial_offset_ns: 100_000.0,
            max_frequency_ppb: 10_000.0,
        }
    }
}

/// One time source (the master of a PTP domain, as the daemon sees it).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SourceSpec {
    /// Unique name (required).
    pub id: String,
    /// grandmasterPriority1 it announces (for the BMCA pick).
    #[serde(default = "p128")]
    pub priority1: u8,
    /// grandmasterClockQuality.clockClass it announces.
    #[serde(default = "class6")]
    pub clock_class: u8,
    /// grandmasterClockQuality.clockAccuracy it announces; the guard adds
    /// what it promises (`clock_accuracy_ns`) to the source's bound.
    #[serde(default = "acc100ns")]
    pub accuracy: u8,
    /// grandmasterPriority2 it announces.
    #[serde(default = "p128")]
    pub priority2: u8,
    /// Its clock's own error: uniform in `±noise-ns` per timestamp. An
    /// honest source must keep it within its advertised accuracy.
    #[serde(default)]
    pub noise_ns: f64,
    /// Delay of Sync and Delay_Resp (source to local).
    #[serde(default = "default_path")]
    pub to_local: DelaySpec,
    /// Delay of Delay_Req (local to source).
    #[serde(default = "default_path")]
    pub to_source: DelaySpec,
    /// Probability that an exchange is lost.
    #[serde(default)]
    pub loss: f64,
    /// How the source lies (absent: honest).
    pub liar: Option<LiarSpec>,
    /// A one-way delay attack on its path (the source stays honest).
    pub attack: Option<AttackSpec>,
}

fn p128() -> u8 {
    128
}
fn class6() -> u8 {
    6
}
fn acc100ns() -> u8 {
    0x21
}
fn default_path() -> DelaySpec {
    DelaySpec {
        base_ns: 20_000.0,
        jitter: crate::rng::Dist::Exponential { mean_ns: 2_000.0 },
    }
}

/// How a liar's clock or timestamps deviate from the truth.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum LiarSpec {
    /// Its clock is `offset-ns` off true time from `start-s` on.
    Offset {
        /// Source minus true time, ns.
        offset_ns: f64,
        /// From when, s.
        #[serde(default)]
        start_s: f64,
    },
    /// Its clock walks away at `rate-ppb` from `start-s` on; with
    /// `period-s` > 0 it walks back after half a period and repeats (a
    /// triangle wave), so that it crosses the bound again and again.
    Drift {
        /// Rate, ppb (1 ppm = 1000).
        rate_ppb: f64,
        /// From when, s.
        #[serde(default)]
        start_s: f64,
        /// Period of the triangle, s (0: walk away for ever).
        #[serde(default)]
        period_s: f64,
    },
    /// Its clock is `offset-ns` off, and it makes the exchange look shorter
    /// than it is by stamping t1 `path-shrink-ns` late and t4
    /// `path-shrink-ns` early (only the path term shrinks: the offset stays
    /// its true error). With a tiny advertised `accuracy` it claims a
    /// falsely small bound.
    SmallError {
        /// Source minus true time, ns.
        offset_ns: f64,
        /// How much shorter each exchange's mean path delay looks, ns.
        path_shrink_ns: f64,
    },
    /// Two faces: its clock is `face-a-ns` off in one exchange (or time
    /// window) and `face-b-ns` in the next.
    TwoFaced {
        /// First face, source minus true time, ns.
        face_a_ns: f64,
        /// Second face, ns.
        face_b_ns: f64,
        /// Length of one face, s (0: flip at every exchange).
        #[serde(default)]
        window_s: f64,
    },
}

impl LiarSpec {
    /// Short name for tables.
    #[must_use]
    pub const fn kind_name(&self) -> &'static str {
        match self {
            Self::Offset { .. } => "offset",
            Self::Drift { .. } => "drift",
            Self::SmallError { .. } => "small-error",
            Self::TwoFaced { .. } => "two-faced",
        }
    }

    /// The liar's clock error (source minus true time) at true time `t_s`,
    /// in exchange number `exchange` (two-faced per exchange), ns.
    #[must_use]
    pub fn error_at(&self, t_s: f64, exchange: u64) -> f64 {
        match *self {
            Self::Offset { offset_ns, start_s } => {
                if t_s >= start_s {
                    offset_ns
                } else {
                    0.0
                }
            }
            Self::Drift {
                rate_ppb,
                start_s,
                period_s,
            } => {
                let dt = (t_s - start_s).max(0.0);
                let walked = if period_s > 0.0 {
                    let half = period_s / 2.0;
                    let phase = dt % period_s;
                    if phase <= half {
                        phase
                    } else {
                        period_s - phase
                    }
                } else {
                    dt
                };
                rate_ppb * walked
            }
            Self::SmallError { offset_ns, .. } => offset_ns,
            Self::TwoFaced {
                face_a_ns,
                face_b_ns,
                window_s,
            } => {
                let second = if window_s > 0.0 {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let w = (t_s.max(0.0) / window_s).floor() as u64;
                    w % 2 == 1
                } else {
                    exchange % 2 == 1
                };
                if second { face_b_ns } else { face_a_ns }
            }
        }
    }

    /// How much later t1 and earlier t4 are stamped, ns.
    #[must_use]
    pub const fn path_shrink_ns(&self) -> f64 {
        match *self {
            Self::SmallError { path_shrink_ns, .. } => path_shrink_ns,
            _ => 0.0,
        }
    }
}

/// Which direction a one-way delay attack delays.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Source to local (Sync and Delay_Resp).
    ToLocal,
    /// Local to source (Delay_Req).
    ToSource,
}

/// A one-way delay attack on a source's path.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AttackSpec {
    /// The direction delayed.
    pub direction: Direction,
    /// Delay added to every frame in that direction, ns.
    pub extra_ns: f64,
    /// From when, s.
    #[serde(default)]
    pub start_s: f64,
    /// Until when, s (never stops by default).
    pub stop_s: Option<f64>,
}

impl AttackSpec {
    /// The extra delay in `dir` for a frame leaving at true time `t_s`, ns.
    #[must_use]
    pub fn extra(&self, dir: Direction, t_s: f64) -> f64 {
        let on = t_s >= self.start_s && self.stop_s.is_none_or(|s| t_s < s);
        if on && dir == self.direction {
            self.extra_ns
        } else {
            0.0
        }
    }
}

impl OverlayScenario {
    /// Reads, parses and validates an overlay scenario file.
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
    /// As [`OverlayScenario::load`].
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

    /// The number of sources that lie.
    #[must_use]
    pub fn liars(&self) -> usize {
        self.sources.iter().filter(|s| s.liar.is_some()).count()
    }

    /// More liars than the guard tolerates.
    #[must_use]
    pub fn beyond_f(&self) -> bool {
        self.liars() > self.faults
    }

    /// "kind x count" of the liars (and attacked paths), for tables.
    #[must_use]
    pub fn liar_summary(&self) -> String {
        let mut kinds: Vec<(&'static str, usize)> = Vec::new();
        let mut add = |k: &'static str| match kinds.iter_mut().find(|(n, _)| *n == k) {
            Some((_, c)) => *c += 1,
            None => kinds.push((k, 1)),
        };
        for s in &self.sources {
            if let Some(l) = &s.liar {
                add(l.kind_name());
            }
        }
        for s in &self.sources {
            if s.attack.is_some() {
                add("one-way-delay (honest)");
            }
        }
        if kinds.is_empty() {
            return "none".into();
        }
        kinds
            .iter()
            .map(|(k, c)| format!("{k} x{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The Delay_Req gap bound in force, s.
    #[must_use]
    pub fn gap_s(&self) -> f64 {
        self.delay_req_gap_s.unwrap_or(self.poll_interval_s)
    }

    /// Semantic checks; the message names the key.
    fn validate(&self) -> Result<(), String> {
        let pos = |key: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("`{key}` must be a positive number (got {v})"))
            }
        };
        let nonneg = |key: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("`{key}` must be finite and >= 0 (got {v})"))
            }
        };
        let finite = |key: &str, v: f64| {
            if v.is_finite() && v.abs() <= 1e15 {
                Ok(())
            } else {
                Err(format!("`{key}` must be finite, |x| <= 1e15 (got {v})"))
            }
        };
        if self.samples == 0 {
            return Err("`samples` must be at least 1".into());
        }
        if self.seeds.is_empty() {
            return Err("`seeds` must not be empty".into());
        }
        pos("poll-interval-s", self.poll_interval_s)?;
        if self.poll_interval_s > 64.0 {
            return Err(format!(
                "`poll-interval-s` must be at most 64 (got {})",
                self.poll_interval_s
            ));
        }
        if let Some(g) = self.delay_req_gap_s {
            nonneg("delay-req-gap-s", g)?;
            if g > self.poll_interval_s {
                return Err(format!(
                    "`delay-req-gap-s` ({g}) must not exceed `poll-interval-s`"
                ));
            }
        }
        nonneg("reset-s", self.reset_s)?;
        let g = &self.guard;
        nonneg("guard.max-drift-ppm", g.max_drift_ppm)?;
        if g.max_drift_ppm > 1e6 {
            return Err("`guard.max-drift-ppm` must be at most 1e6".into());
        }
        pos("guard.max-age-s", g.max_age_s)?;
        if g.max_age_s > 1e6 {
            return Err("`guard.max-age-s` must be at most 1e6".into());
        }
        if g.history_depth == 0 || g.history_depth > bft_overlay::Guard::<u8>::MAX_HISTORY_DEPTH {
            return Err(format!(
                "`guard.history-depth` must be 1..={} (got {})",
                bft_overlay::Guard::<u8>::MAX_HISTORY_DEPTH,
                g.history_depth
            ));
        }
        if g.switch_persistence_rounds == 0 {
            return Err("`guard.switch-persistence-rounds` must be at least 1".into());
        }
        if g.switch_below_percent > 100 {
            return Err(format!(
                "`guard.switch-below-percent` must be 0..=100 (got {})",
                g.switch_below_percent
            ));
        }
        let l = &self.local;
        if !l.frequency_ppm.is_finite() || l.frequency_ppm.abs() > 1e3 {
            return Err("`local.frequency-ppm` must be finite and within ±1000".into());
        }
        nonneg("local.wander-ppb", l.wander_ppb)?;
        finite("local.initial-offset-ns", l.initial_offset_ns)?;
        pos("local.max-frequency-ppb", l.max_frequency_ppb)?;
        let n = self.sources.len();
        if n == 0 {
            return Err("at least one `[[source]]` is required".into());
        }
        if n > MAX_SOURCES {
            return Err(format!("at most {MAX_SOURCES} `[[source]]` (got {n})"));
        }
        if n < 2 * self.faults + 1 {
            return Err(format!(
                "`faults` = {} needs at least {} sources (got {n})",
                self.faults,
                2 * self.faults + 1
            ));
        }
        let mut ids = HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            let at = |k: &str| format!("source[{i}] ({}).{k}", s.id);
            if s.id.is_empty() {
                return Err(format!("`source[{i}].id` must not be empty"));
            }
            if !ids.insert(s.id.as_str()) {
                return Err(format!("`source[{i}].id`: duplicate id `{}`", s.id));
            }
            nonneg(&at("noise-ns"), s.noise_ns)?;
            let advertised = clock_accuracy_ns(s.accuracy).unwrap_or(0);
            #[allow(clippy::cast_precision_loss)]
            if s.liar.is_none() && s.noise_ns > advertised as f64 {
                return Err(format!(
                    "`{}`: an honest source's noise ({} ns) must be within what its \
                     accuracy 0x{:02X} promises ({advertised} ns); make it a liar instead",
                    at("noise-ns"),
                    s.noise_ns,
                    s.accuracy
                ));
            }
            for (k, d) in [("to-local", &s.to_local), ("to-source", &s.to_source)] {
                nonneg(&at(&format!("{k}.base-ns")), d.base_ns)?;
                d.jitter
                    .validate()
                    .map_err(|e| format!("`{}`: {e}", at(&format!("{k}.jitter"))))?;
            }
            if !(0.0..1.0).contains(&s.loss) {
                return Err(format!("`{}` must be within 0..1", at("loss")));
            }
            if let Some(liar) = &s.liar {
                validate_liar(liar, &at)?;
            }
            if let Some(a) = &s.attack {
                nonneg(&at("attack.extra-ns"), a.extra_ns)?;
                #[allow(clippy::cast_precision_loss)]
                let limit = self.poll_interval_s * 1e9 / 4.0;
                if a.extra_ns > limit {
                    return Err(format!(
                        "`{}` must be at most a quarter of the poll interval ({limit} ns)",
                        at("attack.extra-ns")
                    ));
                }
                nonneg(&at("attack.start-s"), a.start_s)?;
                if let Some(stop) = a.stop_s
                    && !(stop.is_finite() && stop > a.start_s)
                {
                    return Err(format!("`{}` must be after start-s", at("attack.stop-s")));
                }
            }
        }
        Ok(())
    }
}

fn validate_liar(liar: &LiarSpec, at: &dyn Fn(&str) -> String) -> Result<(), String> {
    let finite = |key: &str, v: f64| {
        if v.is_finite() && v.abs() <= 1e15 {
            Ok(())
        } else {
            Err(format!(
                "`{}` must be finite, |x| <= 1e15 (got {v})",
                at(key)
            ))
        }
    };
    let nonneg = |key: &str, v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(format!("`{}` must be finite and >= 0 (got {v})", at(key)))
        }
    };
    match *liar {
        LiarSpec::Offset { offset_ns, start_s } => {
            finite("liar.offset-ns", offset_ns)?;
            nonneg("liar.start-s", start_s)
        }
        LiarSpec::Drift {
            rate_ppb,
            start_s,
            period_s,
        } => {
            if !rate_ppb.is_finite() || rate_ppb.abs() > 1e6 {
                return Err(format!(
                    "`{}` must be finite and within ±1e6",
                    at("liar.rate-ppb")
                ));
            }
            nonneg("liar.start-s", start_s)?;
            nonneg("liar.period-s", period_s)
        }
        LiarSpec::SmallError {
            offset_ns,
            path_shrink_ns,
        } => {
            finite("liar.offset-ns", offset_ns)?;
            nonneg("liar.path-shrink-ns", path_shrink_ns)
        }
        LiarSpec::TwoFaced {
            face_a_ns,
            face_b_ns,
            window_s,
        } => {
            finite("liar.face-a-ns", face_a_ns)?;
            finite("liar.face-b-ns", face_b_ns)?;
            nonneg("liar.window-s", window_s)
        }
    }
}
