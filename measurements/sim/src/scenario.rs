//! Scenario files: TOML, kebab-case keys, unknown keys rejected.
//!
//! A scenario names its nodes (`[[node]]`), the links between their ports
//! (`[[link]]`), timed events (`[[event]]`: a node stops or starts, a link
//! goes down or up), optional checks (`[[check]]`: BMCA agreement) and
//! optional anchor figures (`[anchor]`: what ptp4l measured in the same
//! scenario, printed beside ours). See `measurements/README.md` for a
//! complete example; every key below has a default unless marked required.
//!
//! Errors from [`Scenario::load`] start with the file name; syntax and type
//! errors come from the TOML parser with the line, column and key, and
//! semantic errors name the key path (for example
//! `node[1] (slave).clock.frequency-ppm`).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::rng::Dist;

/// Where an error was found.
#[derive(Debug)]
pub struct ScenarioError {
    /// The file (or `<string>`).
    pub file: PathBuf,
    /// What is wrong, with the key.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// A whole scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// Short name (default: the file stem).
    #[serde(default)]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Length of the run in simulated seconds (required).
    pub duration_s: f64,
    /// Statistics start at this time, s (default 0).
    #[serde(default)]
    pub reset_s: f64,
    /// Seeds to run (default `[1]`); results are aggregated over them.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Run the scenario once per servo listed, overriding every node's
    /// `servo.kind` (default: run once with the nodes' own servos).
    #[serde(default)]
    pub servos: Vec<ServoKind>,
    /// The convergence criterion.
    #[serde(default)]
    pub convergence: Convergence,
    /// What a node's clock error is measured against.
    #[serde(default)]
    pub reference: Reference,
    /// The anchor figures (ptp4l under clknetsim) for this scenario.
    pub anchor: Option<Anchor>,
    /// The nodes (at least one).
    #[serde(rename = "node")]
    pub nodes: Vec<NodeSpec>,
    /// The links.
    #[serde(rename = "link", default)]
    pub links: Vec<LinkSpec>,
    /// Timed events.
    #[serde(rename = "event", default)]
    pub events: Vec<EventSpec>,
    /// BMCA checks.
    #[serde(rename = "check", default)]
    pub checks: Vec<CheckSpec>,
}

fn default_seeds() -> Vec<u64> {
    vec![1]
}

/// The reference of the reported clock error.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Reference {
    /// True time (clknetsim's figure; use it with a perfect grandmaster).
    #[default]
    TrueTime,
    /// The clock of the node's current grandmaster (for scenarios whose
    /// grandmaster drifts or changes); samples are skipped while the
    /// grandmaster a node names is not running.
    Grandmaster,
}

/// "Synchronised" means |offset| <= `offset-ns` and |frequency error| <=
/// `freq-ppb` (defaults 2 us and 2 ppm, as clknetsim's sync time).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Convergence {
    /// Offset bound, ns.
    pub offset_ns: f64,
    /// Frequency error bound, ppb.
    pub freq_ppb: f64,
}

impl Default for Convergence {
    fn default() -> Self {
        Self {
            offset_ns: 2000.0,
            freq_ppb: 2000.0,
        }
    }
}

/// The anchor's figures for the same scenario (baselines.md section 1).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Anchor {
    /// The row of the baseline table.
    #[serde(default)]
    pub label: String,
    /// ptp4l with its PI servo.
    pub ptp4l_pi: Option<AnchorFigures>,
    /// ptp4l with its linreg servo.
    pub ptp4l_linreg: Option<AnchorFigures>,
    /// Our RMS target, ns (default 0.8 x the linreg RMS).
    pub target_rms_ns: Option<f64>,
    /// Our max |offset| target, ns (default the smallest anchor max).
    pub target_max_ns: Option<f64>,
    /// Our convergence target after the slave starts, s.
    pub target_sync_s: Option<f64>,
}

impl Anchor {
    /// The RMS target: explicit, else 0.8 x linreg.
    #[must_use]
    pub fn rms_target(&self) -> Option<f64> {
        self.target_rms_ns
            .or_else(|| self.ptp4l_linreg.as_ref().map(|l| 0.8 * l.rms_ns))
    }

    /// The max target: explicit, else the smallest anchor max.
    #[must_use]
    pub fn max_target(&self) -> Option<f64> {
        self.target_max_ns.or_else(|| {
            [&self.ptp4l_pi, &self.ptp4l_linreg]
                .into_iter()
                .filter_map(|a| a.as_ref().and_then(|a| a.max_ns))
                .reduce(f64::min)
        })
    }
}

/// One anchor row.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AnchorFigures {
    /// RMS true error, ns (mean over the seeds).
    pub rms_ns: f64,
    /// Worst max |offset|, ns.
    pub max_ns: Option<f64>,
    /// p99 |offset|, ns.
    pub p99_ns: Option<f64>,
    /// Sync time as published (free text, e.g. "27..30").
    #[serde(default)]
    pub sync: String,
    /// Run / reset as published (e.g. "1000/100"), if it differs from ours.
    #[serde(default)]
    pub run: String,
}

/// Which servo a node runs.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ServoKind {
    /// linuxptp's PI servo.
    Pi,
    /// The delay-weighted Kalman servo.
    #[default]
    Kalman,
}

impl fmt::Display for ServoKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pi => "pi",
            Self::Kalman => "kalman",
        })
    }
}

/// Which port output the servo is fed.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ServoInput {
    /// PI: per-Sync measurements; Kalman: whole E2E exchanges (per-Sync
    /// measurements with P2P, which has no exchange).
    #[default]
    Auto,
    /// `InstanceEvent::Measurement`: one per Sync, filtered path delay.
    Measurement,
    /// `InstanceEvent::Exchange`: one per complete E2E exchange.
    Exchange,
}

/// A node: one PTP instance with its clock, timestamping and servo.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique name (required).
    pub id: String,
    /// Number of PTP ports (1 = ordinary clock, more = boundary clock; at
    /// most 4).
    #[serde(default = "one")]
    pub ports: u16,
    /// defaultDS.priority1.
    #[serde(default = "p128")]
    pub priority1: u8,
    /// defaultDS.priority2.
    #[serde(default = "p128")]
    pub priority2: u8,
    /// defaultDS.clockQuality.clockClass.
    #[serde(default = "c248")]
    pub clock_class: u8,
    /// defaultDS.domainNumber.
    #[serde(default)]
    pub domain: u8,
    /// defaultDS.slaveOnly.
    #[serde(default)]
    pub slave_only: bool,
    /// defaultDS.twoStepFlag (false: one-step Sync).
    #[serde(default = "yes")]
    pub two_step: bool,
    /// When the node starts, s.
    #[serde(default)]
    pub start_s: f64,
    /// When it stops, s (never by default).
    pub stop_s: Option<f64>,
    /// Report its clock error (default true).
    #[serde(default = "yes")]
    pub measure: bool,
    /// The clock model.
    #[serde(default)]
    pub clock: ClockSpec,
    /// Timestamping.
    #[serde(default)]
    pub timestamping: TimestampSpec,
    /// The servo.
    #[serde(default)]
    pub servo: ServoSpec,
    /// Port settings, for every port of the node.
    #[serde(default)]
    pub port: PortSpec,
}

fn one() -> u16 {
    1
}
fn p128() -> u8 {
    128
}
fn c248() -> u8 {
    248
}
fn yes() -> bool {
    true
}

/// The node's oscillator and PTP clock.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ClockSpec {
    /// Base frequency error, ppm (positive = fast).
    pub frequency_ppm: f64,
    /// Random walk of the frequency: N(0, wander) ppb at every second.
    pub wander_ppb: f64,
    /// Clock minus true time at t = 0, ns.
    pub initial_offset_ns: f64,
    /// Largest frequency adjustment the clock accepts, ppb.
    pub max_frequency_ppb: f64,
}

impl Default for ClockSpec {
    fn default() -> Self {
        Self {
            frequency_ppm: 0.0,
            wander_ppb: 0.0,
            initial_offset_ns: 0.0,
            max_frequency_ppb: 500_000.0,
        }
    }
}

/// Hardware or software timestamps.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StampKind {
    /// Exact readings of the PTP clock at the frame's departure and arrival.
    #[default]
    Hw,
    /// Readings taken by the stack: the latencies below apply.
    Sw,
}

/// `base-ns` plus a random `jitter`.
#[derive(Clone, Copy, Debug, Deserialize, Default, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct DelaySpec {
    /// Constant part, ns.
    pub base_ns: f64,
    /// Random part.
    pub jitter: Dist,
}

impl DelaySpec {
    /// The mean, ns.
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.base_ns + self.jitter.mean()
    }
}

/// How a node timestamps.
///
/// A transmit timestamp is the clock's reading when the port hands the
/// frame over; the frame reaches the wire `tx-latency` later. A receive
/// timestamp is the reading `rx-latency` after the frame arrived. Both
/// latencies default to zero for `hw`; for `sw` the receive latency
/// defaults to 720 ns (the serialisation of a 90-byte frame at 1 Gb/s,
/// as clknetsim models software receive stamps).
#[derive(Clone, Copy, Debug, Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct TimestampSpec {
    /// `hw` or `sw`; also selects the servo's software settings.
    pub kind: StampKind,
    /// Timestamps are floored to a multiple of this, ns (0 = exact; 8 for
    /// an i210).
    pub granularity_ns: f64,
    /// Latency from the transmit timestamp to the wire.
    pub tx_latency: Option<DelaySpec>,
    /// Latency from the arrival to the receive timestamp.
    pub rx_latency: Option<DelaySpec>,
    /// How long after sending an event message its transmit timestamp is
    /// handed to the instance, ns (default 0: at once). Messages that need
    /// the timestamp (a two-step Follow_Up) leave that much later.
    pub tx_timestamp_delay_ns: f64,
}

impl TimestampSpec {
    /// The transmit latency in force.
    #[must_use]
    pub fn tx(&self) -> DelaySpec {
        self.tx_latency.unwrap_or_default()
    }

    /// The receive latency in force.
    #[must_use]
    pub fn rx(&self) -> DelaySpec {
        self.rx_latency.unwrap_or(match self.kind {
            StampKind::Hw => DelaySpec::default(),
            StampKind::Sw => DelaySpec {
                base_ns: 720.0,
                jitter: Dist::None,
            },
        })
    }
}

/// The servo of a node (used when one of its ports is a slave).
#[derive(Clone, Copy, Debug, Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ServoSpec {
    /// `pi` or `kalman`.
    pub kind: ServoKind,
    /// Which port output feeds it.
    pub input: ServoInput,
    /// ptp4l `first_step_threshold`, s (default 20 us).
    pub first_step_threshold_s: Option<f64>,
    /// ptp4l `step_threshold`, s (default 0: never step once locked).
    pub step_threshold_s: Option<f64>,
    /// ptp4l `max_frequency`, ppb.
    pub max_frequency_ppb: Option<f64>,
    /// PI: fixed kp (default: ptp4l's rule from the Sync interval).
    pub pi_kp: Option<f64>,
    /// PI: fixed ki.
    pub pi_ki: Option<f64>,
    /// Kalman: random-walk frequency noise assumed, ppb/sqrt(s).
    pub kalman_frequency_wander_ppb: Option<f64>,
    /// Kalman: timestamp noise assumed, ns (hardware or software default
    /// per `timestamping.kind`).
    pub kalman_timestamp_noise_ns: Option<f64>,
    /// Kalman: outlier gate in standard deviations.
    pub kalman_outlier_sigma: Option<f64>,
    /// Kalman: phase time constant in Sync intervals.
    pub kalman_phase_time_constant: Option<f64>,
}

/// The delay mechanism of a port.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
pub enum Mechanism {
    /// Delay request-response.
    #[default]
    #[serde(rename = "E2E", alias = "e2e")]
    E2e,
    /// Peer delay.
    #[serde(rename = "P2P", alias = "p2p")]
    P2p,
}

/// Port settings (portDS and the port's configuration).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PortSpec {
    /// `E2E` or `P2P`.
    pub delay_mechanism: Mechanism,
    /// logSyncInterval.
    pub log_sync_interval: i8,
    /// logAnnounceInterval.
    pub log_announce_interval: i8,
    /// logMinDelayReqInterval.
    pub log_min_delay_req_interval: i8,
    /// logMinPdelayReqInterval.
    pub log_min_pdelay_req_interval: i8,
    /// announceReceiptTimeout.
    pub announce_receipt_timeout: u8,
    /// syncReceiptTimeout in Sync intervals (0 = off).
    pub sync_receipt_timeout: u8,
    /// delayAsymmetry, ns.
    pub delay_asymmetry_ns: i64,
    /// portDS.masterOnly.
    pub master_only: bool,
    /// Path delay median filter length.
    pub delay_filter_length: usize,
}

impl Default for PortSpec {
    fn default() -> Self {
        Self {
            delay_mechanism: Mechanism::E2e,
            log_sync_interval: 0,
            log_announce_interval: 1,
            log_min_delay_req_interval: 0,
            log_min_pdelay_req_interval: 0,
            announce_receipt_timeout: 3,
            sync_receipt_timeout: 0,
            delay_asymmetry_ns: 0,
            master_only: false,
            delay_filter_length: 10,
        }
    }
}

/// A link: a point-to-point cable (two endpoints) or a shared segment
/// (more), where every endpoint hears every other.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LinkSpec {
    /// Unique name (default `link<index>`).
    #[serde(default)]
    pub id: String,
    /// `"node"` (its port 1) or `"node:N"` (port N), at least two.
    pub endpoints: Vec<String>,
    /// One-way delay per frame and direction.
    #[serde(default)]
    pub delay: DelaySpec,
    /// Added to frames sent by the first endpoint, subtracted from frames
    /// sent to it, ns (the delayAsymmetry of clause 7.4.2 as seen from the
    /// first endpoint's neighbours).
    #[serde(default)]
    pub asymmetry_ns: f64,
    /// Probability that a frame is lost, per receiver.
    #[serde(default)]
    pub loss: f64,
    /// Keep frames in order per direction and pair of ports (default
    /// false: independent delays, frames may overtake each other).
    #[serde(default)]
    pub fifo: bool,
}

/// What an event does.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Start (or restart, with a fresh instance and servo) a node.
    Start,
    /// Stop a node: it sends and receives nothing; its clock keeps running.
    Stop,
    /// A link comes up.
    Up,
    /// A link goes down: frames on it are lost.
    Down,
}

/// A timed event.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EventSpec {
    /// When, s.
    pub at_s: f64,
    /// The node (for `start`/`stop`).
    pub node: Option<String>,
    /// The link (for `up`/`down`).
    pub link: Option<String>,
    /// What happens.
    pub action: Action,
}

/// A check kind.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// Every running node names the same grandmaster, and no link has two
    /// ports in MASTER, from some time on until the window ends.
    Bmca,
}

/// A check over a window of the run.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CheckSpec {
    /// What to check.
    pub kind: CheckKind,
    /// Start of the window (usually the time of the disturbance), s.
    pub after_s: f64,
    /// End of the window, s (default: the next check's start, or the end).
    pub until_s: Option<f64>,
    /// Agreement must hold for good within this many seconds of `after-s`
    /// (default: 3 announce intervals + the announce receipt timeout).
    pub within_s: Option<f64>,
    /// The node that must be the grandmaster.
    pub expect_gm: Option<String>,
}

impl Scenario {
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
    /// As [`Scenario::load`].
    pub fn parse(text: &str, file: &Path, default_name: &str) -> Result<Self, ScenarioError> {
        let err = |message: String| ScenarioError {
            file: file.to_owned(),
            message,
        };
        let mut s: Self = toml::from_str(text).map_err(|e| err(e.to_string().trim().into()))?;
        if s.name.is_empty() {
            s.name = default_name.to_owned();
        }
        for (i, l) in s.links.iter_mut().enumerate() {
            if l.id.is_empty() {
                l.id = format!("link{i}");
            }
        }
        s.validate().map_err(err)?;
        Ok(s)
    }

    /// The index of the node named `id`.
    #[must_use]
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The index of the link named `id`.
    #[must_use]
    pub fn link_index(&self, id: &str) -> Option<usize> {
        self.links.iter().position(|l| l.id == id)
    }

    /// Resolves an endpoint `"node"` or `"node:N"` to (node index, port
    /// index from 0).
    ///
    /// # Errors
    /// Unknown node or port.
    pub fn endpoint(&self, e: &str) -> Result<(usize, usize), String> {
        let (name, port) = match e.rsplit_once(':') {
            Some((n, p)) => {
                let p: usize = p
                    .parse()
                    .map_err(|_| format!("bad port number in endpoint `{e}`"))?;
                (n, p)
            }
            None => (e, 1),
        };
        let node = self
            .node_index(name)
            .ok_or_else(|| format!("unknown node `{name}` in endpoint `{e}`"))?;
        let ports = usize::from(self.nodes[node].ports);
        if port == 0 || port > ports {
            return Err(format!(
                "endpoint `{e}`: node `{name}` has ports 1..={ports}"
            ));
        }
        Ok((node, port - 1))
    }

    /// The default `within-s` of a BMCA check: 3 announce intervals plus
    /// the announce receipt timeout, with the slowest node's settings.
    #[must_use]
    pub fn default_bmca_bound_s(&self) -> f64 {
        self.nodes
            .iter()
            .map(|n| {
                let i = 2f64.powi(i32::from(n.port.log_announce_interval));
                (3.0 + f64::from(n.port.announce_receipt_timeout)) * i
            })
            .fold(0.0, f64::max)
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
        pos("duration-s", self.duration_s)?;
        nonneg("reset-s", self.reset_s)?;
        if self.reset_s >= self.duration_s {
            return Err(format!(
                "`reset-s` ({}) must be below `duration-s` ({})",
                self.reset_s, self.duration_s
            ));
        }
        if self.seeds.is_empty() {
            return Err("`seeds` must not be empty".into());
        }
        pos("convergence.offset-ns", self.convergence.offset_ns)?;
        pos("convergence.freq-ppb", self.convergence.freq_ppb)?;
        if self.nodes.is_empty() {
            return Err("at least one `[[node]]` is required".into());
        }
        let mut ids = HashSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let at = |k: &str| format!("node[{i}] ({}).{k}", n.id);
            if n.id.is_empty() {
                return Err(format!("node[{i}].id must not be empty"));
            }
            if !ids.insert(n.id.as_str()) {
                return Err(format!("node[{i}].id: duplicate id `{}`", n.id));
            }
            if n.ports == 0 || n.ports > 4 {
                return Err(format!("{}: must be 1..=4 (got {})", at("ports"), n.ports));
            }
            nonneg(&at("start-s"), n.start_s)?;
            if let Some(stop) = n.stop_s
                && !(stop.is_finite() && stop > n.start_s)
            {
                return Err(format!("{}: must be after start-s", at("stop-s")));
            }
            let c = &n.clock;
            if !c.frequency_ppm.is_finite() || c.frequency_ppm.abs() > 1e5 {
                return Err(format!(
                    "{}: must be finite and within ±1e5",
                    at("clock.frequency-ppm")
                ));
            }
            nonneg(&at("clock.wander-ppb"), c.wander_ppb)?;
            if !c.initial_offset_ns.is_finite() || c.initial_offset_ns.abs() > 1e15 {
                return Err(format!(
                    "{}: must be finite, |x| <= 1e15",
                    at("clock.initial-offset-ns")
                ));
            }
            pos(&at("clock.max-frequency-ppb"), c.max_frequency_ppb)?;
            let t = &n.timestamping;
            nonneg(&at("timestamping.granularity-ns"), t.granularity_ns)?;
            nonneg(
                &at("timestamping.tx-timestamp-delay-ns"),
                t.tx_timestamp_delay_ns,
            )?;
            for (k, d) in [("tx-latency", t.tx()), ("rx-latency", t.rx())] {
                nonneg(&at(&format!("timestamping.{k}.base-ns")), d.base_ns)?;
                d.jitter
                    .validate()
                    .map_err(|e| format!("{}: {e}", at(&format!("timestamping.{k}.jitter"))))?;
            }
            let s = &n.servo;
            for (k, v) in [
                ("servo.first-step-threshold-s", s.first_step_threshold_s),
                ("servo.step-threshold-s", s.step_threshold_s),
                ("servo.pi-kp", s.pi_kp),
                ("servo.pi-ki", s.pi_ki),
                (
                    "servo.kalman-frequency-wander-ppb",
                    s.kalman_frequency_wander_ppb,
                ),
                (
                    "servo.kalman-timestamp-noise-ns",
                    s.kalman_timestamp_noise_ns,
                ),
            ] {
                if let Some(v) = v {
                    nonneg(&at(k), v)?;
                }
            }
            for (k, v) in [
                ("servo.max-frequency-ppb", s.max_frequency_ppb),
                ("servo.kalman-outlier-sigma", s.kalman_outlier_sigma),
                (
                    "servo.kalman-phase-time-constant",
                    s.kalman_phase_time_constant,
                ),
            ] {
                if let Some(v) = v {
                    pos(&at(k), v)?;
                }
            }
            if s.pi_kp.is_some() != s.pi_ki.is_some() {
                return Err(format!(
                    "{}: set both servo.pi-kp and servo.pi-ki, or neither",
                    at("servo")
                ));
            }
            if s.input == ServoInput::Exchange && n.port.delay_mechanism == Mechanism::P2p {
                return Err(format!(
                    "{}: `exchange` needs E2E (P2P has no exchange with the master)",
                    at("servo.input")
                ));
            }
            let p = &n.port;
            for (k, v) in [
                ("port.log-sync-interval", p.log_sync_interval),
                ("port.log-announce-interval", p.log_announce_interval),
                (
                    "port.log-min-delay-req-interval",
                    p.log_min_delay_req_interval,
                ),
                (
                    "port.log-min-pdelay-req-interval",
                    p.log_min_pdelay_req_interval,
                ),
            ] {
                if !(-7..=6).contains(&v) {
                    return Err(format!("{}: must be within -7..=6 (got {v})", at(k)));
                }
            }
            if p.announce_receipt_timeout < 2 {
                return Err(format!(
                    "{}: must be >= 2",
                    at("port.announce-receipt-timeout")
                ));
            }
            if p.delay_filter_length == 0 || p.delay_filter_length > 64 {
                return Err(format!(
                    "{}: must be 1..=64",
                    at("port.delay-filter-length")
                ));
            }
        }
        let mut link_ids = HashSet::new();
        let mut used = HashSet::new();
        for (i, l) in self.links.iter().enumerate() {
            let at = |k: &str| format!("link[{i}] ({}).{k}", l.id);
            if !link_ids.insert(l.id.as_str()) {
                return Err(format!("link[{i}].id: duplicate id `{}`", l.id));
            }
            if l.endpoints.len() < 2 {
                return Err(format!("{}: at least two endpoints", at("endpoints")));
            }
            for e in &l.endpoints {
                let ep = self
                    .endpoint(e)
                    .map_err(|m| format!("{}: {m}", at("endpoints")))?;
                if !used.insert(ep) {
                    return Err(format!(
                        "{}: port `{e}` is already on a link",
                        at("endpoints")
                    ));
                }
            }
            nonneg(&at("delay.base-ns"), l.delay.base_ns)?;
            l.delay
                .jitter
                .validate()
                .map_err(|e| format!("{}: {e}", at("delay.jitter")))?;
            if !l.asymmetry_ns.is_finite() || l.asymmetry_ns.abs() > l.delay.base_ns {
                return Err(format!(
                    "{}: must be finite and |asymmetry-ns| <= delay.base-ns",
                    at("asymmetry-ns")
                ));
            }
            if !(0.0..=1.0).contains(&l.loss) {
                return Err(format!("{}: must be within 0..=1", at("loss")));
            }
        }
        for (i, e) in self.events.iter().enumerate() {
            let at = |k: &str| format!("event[{i}].{k}");
            nonneg(&at("at-s"), e.at_s)?;
            match e.action {
                Action::Start | Action::Stop => {
                    let Some(n) = &e.node else {
                        return Err(format!("{}: `{:?}` needs a node", at("node"), e.action));
                    };
                    if self.node_index(n).is_none() {
                        return Err(format!("{}: unknown node `{n}`", at("node")));
                    }
                    if e.link.is_some() {
                        return Err(format!("{}: a node event takes no link", at("link")));
                    }
                }
                Action::Up | Action::Down => {
                    let Some(l) = &e.link else {
                        return Err(format!("{}: `{:?}` needs a link", at("link"), e.action));
                    };
                    if self.link_index(l).is_none() {
                        return Err(format!("{}: unknown link `{l}`", at("link")));
                    }
                    if e.node.is_some() {
                        return Err(format!("{}: a link event takes no node", at("node")));
                    }
                }
            }
        }
        for (i, c) in self.checks.iter().enumerate() {
            let at = |k: &str| format!("check[{i}].{k}");
            nonneg(&at("after-s"), c.after_s)?;
            if let Some(u) = c.until_s
                && !(u.is_finite() && u > c.after_s)
            {
                return Err(format!("{}: must be after after-s", at("until-s")));
            }
            if let Some(w) = c.within_s {
                pos(&at("within-s"), w)?;
            }
            if let Some(g) = &c.expect_gm
                && self.node_index(g).is_none()
            {
                return Err(format!("{}: unknown node `{g}`", at("expect-gm")));
            }
        }
        if let Some(a) = &self.anchor {
            for (k, f) in [("ptp4l-pi", &a.ptp4l_pi), ("ptp4l-linreg", &a.ptp4l_linreg)] {
                if let Some(f) = f {
                    pos(&format!("anchor.{k}.rms-ns"), f.rms_ns)?;
                }
            }
        }
        Ok(())
    }
}
