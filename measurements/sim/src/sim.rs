//! The discrete-event engine: real `statime` instances on virtual clocks and
//! a virtual network, in true time.
//!
//! The loop takes the earliest of: a scenario event (node start/stop, link
//! up/down), a sampling tick (every whole second: every measured node's true
//! clock error is recorded), a check tick (every 100 ms when the scenario has
//! checks), a frame delivery, and the earliest timer deadline of any running
//! instance. Ties are broken in that order and then by insertion order, so a
//! run is a pure function of the scenario and the seed.
//!
//! After every input to an instance the engine drains it as the core asks:
//! every `poll_transmit` (the transmit timestamp is handed back at once,
//! before the frame's copies are scheduled), then every `poll_event`:
//! measurements and exchanges go to the node's servo, whose action is applied
//! to the node's [`SimClock`]; a locked servo calls `set_calibrated`, a step
//! calls `set_uncalibrated`; losing every slave port puts the servo in
//! holdover, and a new parent port resets it.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use statime::datasets::{DefaultDS, InstanceType, TimePropertiesDS};
use statime::instance::{InstanceEvent, PtpInstance};
use statime::port::{PortConfig, TxContext};
use statime::servo::{AnyServo, Servo, ServoAlgorithm, ServoConfig, ServoState, ServoStats};
use statime::steering::Steering;
use statime::time::{Instant, Time, TimeInterval};
use statime::wire::tlv::{DelayMechanism, PortState};
use statime::wire::{ClockIdentity, PortIdentity};

use crate::clock::{NS, SimClock};
use crate::network::Network;
use crate::rng::Rng;
use crate::scenario::{
    Action, CheckKind, Mechanism, NodeSpec, Reference, Scenario, ServoInput, ServoKind, StampKind,
};
use crate::stats::{Sample, Stats};

/// Most ports per instance.
pub const MAX_PORTS: usize = 4;

/// Steps of the check tick, ns.
const CHECK_TICK_NS: f64 = 100e6;

/// Inputs handled at one instant before the engine declares a livelock.
const LIVELOCK_LIMIT: u64 = 100_000;

/// The clock identity of node `index`: an EUI-64 built from a documentation
/// OUI (00-00-5E, RFC 7042), unique per node.
#[must_use]
pub fn identity(index: usize) -> ClockIdentity {
    let [hi, lo] = u16::try_from(index + 1).unwrap_or(u16::MAX).to_be_bytes();
    ClockIdentity([0x00, 0x00, 0x5e, 0xff, 0xfe, 0x53, hi, lo])
}

/// Short names of port states for tables and CSV.
#[must_use]
pub const fn state_name(s: PortState) -> &'static str {
    s.name()
}

/// What one run is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct RunConfig<'a> {
    /// The scenario (validated).
    pub scenario: &'a Scenario,
    /// The seed.
    pub seed: u64,
    /// Overrides every node's servo kind.
    pub servo: Option<ServoKind>,
}

/// The result of a BMCA check.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// The window start, s.
    pub after_s: f64,
    /// The window end, s.
    pub until_s: f64,
    /// The bound on the agreement time, s.
    pub bound_s: f64,
    /// How long after `after_s` agreement held for good, s (`None` if it
    /// never did by the window's end).
    pub agreed_after_s: Option<f64>,
    /// The grandmaster agreed on (node id).
    pub grandmaster: Option<String>,
    /// Check ticks (every 100 ms) in the window with two ports in MASTER
    /// on one link; after the agreement there are none (agreement includes
    /// it), so these all fall in the transition.
    pub two_master_ticks: u64,
    /// Agreement held for good, within the bound.
    pub passed: bool,
}

/// The outcome for one node.
#[derive(Clone, Debug)]
pub struct NodeResult {
    /// The node id.
    pub id: String,
    /// The servo it ran.
    pub servo: ServoKind,
    /// Whether the scenario asks for its figures.
    pub measured: bool,
    /// When it first started, s.
    pub start_s: f64,
    /// Once-per-second samples (measured nodes, while running).
    pub series: Vec<Sample>,
    /// Figures from `series`.
    pub stats: Stats,
    /// The servo's counters (of its last incarnation).
    pub servo_stats: ServoStats,
    /// Clock steps.
    pub steps: u64,
    /// Port state changes: (time s, port, new state).
    pub transitions: Vec<(f64, usize, PortState)>,
    /// Samples fed to the servo.
    pub servo_samples: u64,
    /// Frames the instance refused (`handle_receive` errors).
    pub rx_errors: u64,
}

/// The outcome of one run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The seed.
    pub seed: u64,
    /// The servo override in force.
    pub servo: Option<ServoKind>,
    /// Per node, in scenario order.
    pub nodes: Vec<NodeResult>,
    /// Per check, in scenario order.
    pub checks: Vec<CheckResult>,
    /// Frame copies sent.
    pub frames_sent: u64,
    /// Frame copies lost.
    pub frames_lost: u64,
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// The core kept asking to be called at the same instant.
    Livelock {
        /// When, s.
        at_s: u64,
        /// Which node.
        node: String,
    },
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Livelock { at_s, node } => {
                write!(
                    f,
                    "livelock at {at_s} s: node `{node}` never stops asking for time"
                )
            }
        }
    }
}

impl std::error::Error for SimError {}

struct Delivery {
    node: usize,
    port: usize,
    link: usize,
    data: Vec<u8>,
    event: bool,
}

/// Something scheduled at a later true time.
enum Item {
    /// A frame arrives.
    Frame(Delivery),
    /// A transmit timestamp comes back (to the incarnation `starts` of the
    /// node; a restarted node ignores its predecessor's).
    TxStamp {
        node: usize,
        starts: u64,
        port: usize,
        ctx: TxContext,
        stamp: Time,
    },
}

struct Queued {
    at: f64,
    seq: u64,
    d: Item,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        self.at.total_cmp(&o.at).then(self.seq.cmp(&o.seq))
    }
}

#[derive(Clone, Copy, Debug)]
enum Timed {
    NodeStart(usize),
    NodeStop(usize),
    Link(usize, bool),
}

struct Node {
    spec: NodeSpec,
    kind: ServoKind,
    identity: ClockIdentity,
    clock: SimClock,
    inst: Option<Box<PtpInstance<MAX_PORTS>>>,
    steering: Option<Steering>,
    stamp_rng: Rng,
    starts: u64,
    start_s: Option<f64>,
    parent: Option<PortIdentity>,
    servo_state: ServoState,
    servo_stats: ServoStats,
    series: Vec<Sample>,
    transitions: Vec<(f64, usize, PortState)>,
    servo_samples: u64,
    rx_errors: u64,
}

impl Node {
    fn use_exchange(&self) -> bool {
        match self.spec.servo.input {
            ServoInput::Exchange => true,
            ServoInput::Measurement => false,
            ServoInput::Auto => {
                self.kind == ServoKind::Kalman && self.spec.port.delay_mechanism == Mechanism::E2e
            }
        }
    }

    fn servo_config(&self) -> ServoConfig {
        let s = &self.spec.servo;
        let sw = self.spec.timestamping.kind == StampKind::Sw;
        let mut c = ServoConfig {
            algorithm: match self.kind {
                ServoKind::Pi => ServoAlgorithm::Pi,
                ServoKind::Kalman => ServoAlgorithm::Kalman,
            },
            software_timestamping: sw,
            ..ServoConfig::default()
        };
        if let Some(v) = s.first_step_threshold_s {
            c.first_step_threshold = v;
        }
        if let Some(v) = s.step_threshold_s {
            c.step_threshold = v;
        }
        if let Some(v) = s.max_frequency_ppb {
            c.max_frequency_ppb = v;
        }
        if let (Some(kp), Some(ki)) = (s.pi_kp, s.pi_ki) {
            c.pi.proportional_const = kp;
            c.pi.integral_const = ki;
        }
        if let Some(v) = s.kalman_frequency_wander_ppb {
            c.kalman.frequency_wander = v;
        }
        if let Some(v) = s.kalman_timestamp_noise_ns {
            if sw {
                c.kalman.software_timestamp_noise = v * 1e-9;
            } else {
                c.kalman.timestamp_noise = v * 1e-9;
            }
        }
        if let Some(v) = s.kalman_outlier_sigma {
            c.kalman.outlier_sigma = v;
        }
        if let Some(v) = s.kalman_phase_time_constant {
            c.kalman.phase_time_constant = v;
        }
        c
    }

    fn port_configs(&self, index: usize, seed: u64) -> Vec<PortConfig> {
        let p = &self.spec.port;
        (0..self.spec.ports)
            .map(|k| {
                let mut cfg = PortConfig::new(PortIdentity {
                    clock_identity: self.identity,
                    port_number: k + 1,
                });
                let ds = &mut cfg.port_ds;
                ds.delay_mechanism = match p.delay_mechanism {
                    Mechanism::E2e => DelayMechanism::E2e,
                    Mechanism::P2p => DelayMechanism::P2p,
                };
                ds.log_sync_interval = p.log_sync_interval;
                ds.log_announce_interval = p.log_announce_interval;
                ds.log_min_delay_req_interval = p.log_min_delay_req_interval;
                ds.log_min_pdelay_req_interval = p.log_min_pdelay_req_interval;
                ds.announce_receipt_timeout = p.announce_receipt_timeout;
                ds.delay_asymmetry = TimeInterval::from_nanos(p.delay_asymmetry_ns);
                ds.master_only = p.master_only;
                cfg.sync_receipt_timeout = p.sync_receipt_timeout;
                cfg.delay_filter_length = p.delay_filter_length;
                let stream = (index as u64) << 16 | self.starts << 4 | u64::from(k);
                cfg.rng_seed = Rng::derive(seed, "port", stream).next_u64();
                cfg
            })
            .collect()
    }

    fn build_instance(&self, index: usize, seed: u64) -> PtpInstance<MAX_PORTS> {
        let spec = &self.spec;
        let mut d = DefaultDS::new(self.identity, spec.ports);
        d.priority1 = spec.priority1;
        d.priority2 = spec.priority2;
        d.clock_quality.clock_class = spec.clock_class;
        d.domain_number = spec.domain;
        d.slave_only = spec.slave_only;
        d.two_step_flag = spec.two_step;
        if spec.ports > 1 {
            d.instance_type = InstanceType::BoundaryClock;
        }
        PtpInstance::new(
            d,
            TimePropertiesDS::default(),
            self.port_configs(index, seed),
        )
    }

    fn first_state(&self) -> &'static str {
        self.inst
            .as_ref()
            .and_then(|i| i.ports().first().map(|p| state_name(p.state())))
            .unwrap_or("STOPPED")
    }
}

struct CheckRt {
    after: f64,
    until: f64,
    bound_s: f64,
    expect: Option<ClockIdentity>,
    stable_since: Option<f64>,
    gm: Option<ClockIdentity>,
    two_master_ticks: u64,
}

/// Instant (the core's monotonic time) of true time `t_ns`.
fn instant(t_ns: f64) -> Instant {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Instant::from_nanos(t_ns.max(0.0).floor() as u64)
}

/// One run of a scenario.
pub struct Simulation<'a> {
    sc: &'a Scenario,
    seed: u64,
    servo: Option<ServoKind>,
    t: f64,
    end: f64,
    nodes: Vec<Node>,
    net: Network,
    queue: BinaryHeap<Reverse<Queued>>,
    seq: u64,
    timed: Vec<(f64, Timed)>,
    next_timed: usize,
    next_sample: f64,
    next_check: f64,
    checks: Vec<CheckRt>,
}

impl<'a> Simulation<'a> {
    /// Sets a run up at true time 0 (nothing has started yet).
    #[must_use]
    pub fn new(cfg: RunConfig<'a>) -> Self {
        let sc = cfg.scenario;
        let seed = cfg.seed;
        let nodes: Vec<Node> = sc
            .nodes
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let c = &spec.clock;
                Node {
                    kind: cfg.servo.unwrap_or(spec.servo.kind),
                    identity: identity(i),
                    clock: SimClock::new(
                        0.0,
                        c.initial_offset_ns,
                        c.frequency_ppm * 1000.0,
                        c.wander_ppb,
                        c.max_frequency_ppb,
                        Rng::derive(seed, "wander", i as u64),
                    ),
                    inst: None,
                    steering: None,
                    stamp_rng: Rng::derive(seed, "stamp", i as u64),
                    starts: 0,
                    start_s: None,
                    parent: None,
                    servo_state: ServoState::Unlocked,
                    servo_stats: ServoStats::default(),
                    series: Vec::new(),
                    transitions: Vec::new(),
                    servo_samples: 0,
                    rx_errors: 0,
                    spec: spec.clone(),
                }
            })
            .collect();
        let mut timed: Vec<(f64, Timed)> = Vec::new();
        for (i, n) in sc.nodes.iter().enumerate() {
            timed.push((n.start_s * NS, Timed::NodeStart(i)));
            if let Some(stop) = n.stop_s {
                timed.push((stop * NS, Timed::NodeStop(i)));
            }
        }
        for e in &sc.events {
            let what = match e.action {
                Action::Start | Action::Stop => {
                    let n = e.node.as_deref().and_then(|n| sc.node_index(n));
                    let Some(n) = n else { continue };
                    if e.action == Action::Start {
                        Timed::NodeStart(n)
                    } else {
                        Timed::NodeStop(n)
                    }
                }
                Action::Up | Action::Down => {
                    let l = e.link.as_deref().and_then(|l| sc.link_index(l));
                    let Some(l) = l else { continue };
                    Timed::Link(l, e.action == Action::Up)
                }
            };
            timed.push((e.at_s * NS, what));
        }
        // Stable: equal times keep file order (node starts first).
        timed.sort_by(|a, b| a.0.total_cmp(&b.0));
        let end = sc.duration_s * NS;
        let mut starts: Vec<f64> = sc.checks.iter().map(|c| c.after_s * NS).collect();
        starts.sort_by(f64::total_cmp);
        let checks = sc
            .checks
            .iter()
            .map(|c| {
                // The only kind so far.
                let CheckKind::Bmca = c.kind;
                let after = c.after_s * NS;
                let next = starts.iter().copied().find(|&s| s > after).unwrap_or(end);
                CheckRt {
                    after,
                    until: c.until_s.map_or(next, |u| u * NS).min(end),
                    bound_s: c.within_s.unwrap_or_else(|| sc.default_bmca_bound_s()),
                    expect: c
                        .expect_gm
                        .as_deref()
                        .and_then(|g| sc.node_index(g))
                        .map(identity),
                    stable_since: None,
                    gm: None,
                    two_master_ticks: 0,
                }
            })
            .collect::<Vec<_>>();
        Self {
            sc,
            seed,
            servo: cfg.servo,
            t: 0.0,
            end,
            nodes,
            net: Network::new(sc, seed),
            queue: BinaryHeap::new(),
            seq: 0,
            timed,
            next_timed: 0,
            next_sample: 0.0,
            next_check: if checks.is_empty() {
                f64::INFINITY
            } else {
                0.0
            },
            checks,
        }
    }

    /// Runs to the end and returns the figures.
    ///
    /// # Errors
    /// [`SimError::Livelock`] if an instance never stops asking for time.
    pub fn run(mut self) -> Result<RunResult, SimError> {
        let mut same_instant = 0u64;
        loop {
            let t_timed = self
                .timed
                .get(self.next_timed)
                .map_or(f64::INFINITY, |e| e.0);
            let t_delivery = self.queue.peek().map_or(f64::INFINITY, |q| q.0.at);
            let timer = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.inst.as_ref()?.poll_timeout().map(|d| (d.nanos(), i)))
                .min();
            #[allow(clippy::cast_precision_loss)]
            let t_timer = timer.map_or(f64::INFINITY, |(d, _)| d as f64);
            let next = t_timed
                .min(self.next_sample)
                .min(self.next_check)
                .min(t_delivery)
                .min(t_timer);
            if next > self.end || !next.is_finite() {
                break;
            }
            if next <= self.t {
                same_instant += 1;
                if same_instant > LIVELOCK_LIMIT {
                    let node =
                        timer.map_or_else(String::new, |(_, i)| self.nodes[i].spec.id.clone());
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    return Err(SimError::Livelock {
                        at_s: (self.t / NS) as u64,
                        node,
                    });
                }
            } else {
                same_instant = 0;
            }
            self.t = self.t.max(next);
            if t_timed == next {
                let (_, what) = self.timed[self.next_timed];
                self.next_timed += 1;
                self.apply_timed(what);
            } else if self.next_sample == next {
                self.sample();
                self.next_sample += NS;
            } else if self.next_check == next {
                self.check_tick();
                self.next_check += CHECK_TICK_NS;
            } else if t_delivery == next {
                match self.queue.pop().map(|Reverse(q)| q.d) {
                    Some(Item::Frame(d)) => self.deliver(d),
                    Some(Item::TxStamp {
                        node,
                        starts,
                        port,
                        ctx,
                        stamp,
                    }) => {
                        let now = instant(self.t);
                        let n = &mut self.nodes[node];
                        if n.starts == starts
                            && let Some(inst) = n.inst.as_mut()
                        {
                            inst.handle_send_timestamp(port, ctx, stamp, now);
                            self.drain(node);
                        }
                    }
                    None => {}
                }
            } else if let Some((_, i)) = timer {
                let now = instant(self.t);
                if let Some(inst) = self.nodes[i].inst.as_mut() {
                    inst.handle_timeout(now);
                }
                self.drain(i);
            }
        }
        Ok(self.finish())
    }

    fn apply_timed(&mut self, what: Timed) {
        match what {
            Timed::NodeStart(i) => self.start_node(i),
            Timed::NodeStop(i) => {
                let n = &mut self.nodes[i];
                if n.inst.take().is_some() {
                    if let Some(s) = &n.steering {
                        n.servo_stats = s.servo().stats();
                    }
                    n.steering = None;
                    n.parent = None;
                    n.transitions
                        .push((self.t / NS, usize::MAX, PortState::Disabled));
                }
            }
            Timed::Link(l, up) => self.net.set_up(l, up),
        }
    }

    fn start_node(&mut self, i: usize) {
        let now = instant(self.t);
        let seed = self.seed;
        let n = &mut self.nodes[i];
        if n.inst.is_some() {
            return;
        }
        let mut inst = Box::new(n.build_instance(i, seed));
        let cfg = n.servo_config();
        n.clock.advance(self.t);
        let mut servo = AnyServo::new(&cfg, n.clock.adjustment_ppb());
        servo.set_sync_interval(2f64.powi(i32::from(n.spec.port.log_sync_interval)));
        servo.set_max_frequency(n.spec.clock.max_frequency_ppb);
        let exchanges = n.use_exchange();
        n.steering = Some(Steering::with_servo(
            servo,
            exchanges,
            n.clock.adjustment_ppb(),
        ));
        n.servo_state = ServoState::Unlocked;
        n.parent = None;
        n.starts += 1;
        n.start_s.get_or_insert(self.t / NS);
        inst.enable(now);
        n.inst = Some(inst);
        self.drain(i);
    }

    fn deliver(&mut self, d: Delivery) {
        let t = self.t;
        if !self.net.is_up(d.link) {
            self.net.lost += 1;
            return;
        }
        let n = &mut self.nodes[d.node];
        let Some(inst) = n.inst.as_mut() else {
            return;
        };
        let rx = if d.event {
            let lat = n.spec.timestamping.rx();
            let extra = lat.base_ns + lat.jitter.sample(&mut n.stamp_rng);
            Some(n.clock.read(t, extra, n.spec.timestamping.granularity_ns))
        } else {
            None
        };
        if inst
            .handle_receive(d.port, &d.data, rx, instant(t))
            .is_err()
        {
            n.rx_errors += 1;
        }
        self.drain(d.node);
    }

    /// Hands every pending transmission of node `i` to the network and every
    /// pending event to its servo, until both queues are empty.
    fn drain(&mut self, i: usize) {
        let t = self.t;
        let now = instant(t);
        let mut buf = [0u8; 1500];
        loop {
            let mut progressed = false;
            loop {
                let n = &mut self.nodes[i];
                let gran = n.spec.timestamping.granularity_ns;
                let stamp = n.clock.read(t, 0.0, gran);
                let Some(inst) = n.inst.as_mut() else {
                    return;
                };
                let Some((port, r)) = inst.poll_transmit(now, stamp, &mut buf) else {
                    break;
                };
                progressed = true;
                let Ok(tx) = r else {
                    continue;
                };
                if let Some(ctx) = tx.context {
                    let delay = n.spec.timestamping.tx_timestamp_delay_ns;
                    if delay > 0.0 {
                        self.seq += 1;
                        self.queue.push(Reverse(Queued {
                            at: t + delay,
                            seq: self.seq,
                            d: Item::TxStamp {
                                node: i,
                                starts: n.starts,
                                port,
                                ctx,
                                stamp,
                            },
                        }));
                    } else {
                        inst.handle_send_timestamp(port, ctx, stamp, now);
                    }
                }
                let lat = n.spec.timestamping.tx();
                let wire = t + lat.base_ns + lat.jitter.sample(&mut n.stamp_rng);
                let Some(link) = self.net.link_of(i, port) else {
                    continue;
                };
                for hop in self.net.fanout(i, port, wire) {
                    self.seq += 1;
                    self.queue.push(Reverse(Queued {
                        at: hop.at_ns,
                        seq: self.seq,
                        d: Item::Frame(Delivery {
                            node: hop.node,
                            port: hop.port,
                            link,
                            data: buf[..tx.len].to_vec(),
                            event: tx.event,
                        }),
                    }));
                }
            }
            loop {
                let n = &mut self.nodes[i];
                let Some(e) = n.inst.as_mut().and_then(|inst| inst.poll_event()) else {
                    break;
                };
                progressed = true;
                on_event(n, e, t);
            }
            if !progressed {
                break;
            }
        }
    }

    fn sample(&mut self) {
        let t = self.t;
        let errors: Vec<(f64, f64)> = self
            .nodes
            .iter_mut()
            .map(|n| (n.clock.error_at(t), n.clock.frequency_error_ppb()))
            .collect();
        let by_gm = self.sc.reference == Reference::Grandmaster;
        for k in 0..self.nodes.len() {
            let n = &self.nodes[k];
            let Some(inst) = n.inst.as_ref() else {
                continue;
            };
            if !n.spec.measure {
                continue;
            }
            let (mut offset_ns, mut freq_ppb) = errors[k];
            if by_gm {
                let gm = inst.data_sets().parent.grandmaster_identity;
                let Some(j) = self
                    .nodes
                    .iter()
                    .position(|m| m.identity == gm && m.inst.is_some())
                else {
                    continue;
                };
                offset_ns -= errors[j].0;
                freq_ppb -= errors[j].1;
            }
            let sample = Sample {
                t_s: t / NS,
                offset_ns,
                freq_ppb,
                state: n.first_state(),
                #[allow(clippy::cast_possible_wrap)]
                servo: n.servo_state.ptp4l_code() as i8,
            };
            self.nodes[k].series.push(sample);
        }
    }

    fn check_tick(&mut self) {
        let t = self.t;
        // Every running node's grandmaster.
        let gms: Vec<ClockIdentity> = self
            .nodes
            .iter()
            .filter_map(|n| {
                n.inst
                    .as_ref()
                    .map(|i| i.data_sets().parent.grandmaster_identity)
            })
            .collect();
        let agreed = gms.first().copied().filter(|g| gms.iter().all(|x| x == g));
        let mut two_masters = false;
        for l in 0..self.net.len() {
            let masters = self
                .net
                .endpoints(l)
                .iter()
                .filter(|&&(n, p)| {
                    self.nodes[n]
                        .inst
                        .as_ref()
                        .and_then(|i| i.ports().get(p))
                        .is_some_and(|p| p.state() == PortState::Master)
                })
                .count();
            if masters > 1 {
                two_masters = true;
            }
        }
        for c in &mut self.checks {
            if t < c.after || t >= c.until {
                continue;
            }
            if two_masters {
                c.two_master_ticks += 1;
            }
            let good =
                !two_masters && agreed.is_some() && c.expect.is_none_or(|e| Some(e) == agreed);
            if good {
                if c.stable_since.is_none() {
                    c.stable_since = Some(t);
                    c.gm = agreed;
                }
            } else {
                c.stable_since = None;
                c.gm = None;
            }
        }
    }

    fn finish(mut self) -> RunResult {
        let t = self.t.max(self.end);
        let checks = self
            .checks
            .iter()
            .map(|c| {
                let agreed_after_s = c.stable_since.map(|s| (s - c.after) / NS);
                let grandmaster = c.gm.and_then(|g| {
                    self.nodes
                        .iter()
                        .find(|n| n.identity == g)
                        .map(|n| n.spec.id.clone())
                });
                CheckResult {
                    after_s: c.after / NS,
                    until_s: c.until / NS,
                    bound_s: c.bound_s,
                    agreed_after_s,
                    grandmaster,
                    two_master_ticks: c.two_master_ticks,
                    passed: agreed_after_s.is_some_and(|a| a <= c.bound_s),
                }
            })
            .collect();
        let reset = self.sc.reset_s;
        let conv = self.sc.convergence;
        let nodes = self
            .nodes
            .iter_mut()
            .map(|n| {
                n.clock.advance(t);
                if let Some(s) = &n.steering {
                    n.servo_stats = s.servo().stats();
                }
                let start_s = n.start_s.unwrap_or(n.spec.start_s);
                NodeResult {
                    id: n.spec.id.clone(),
                    servo: n.kind,
                    measured: n.spec.measure,
                    start_s,
                    stats: Stats::compute(&n.series, reset, start_s, &conv),
                    series: std::mem::take(&mut n.series),
                    servo_stats: n.servo_stats,
                    steps: n.clock.steps(),
                    transitions: std::mem::take(&mut n.transitions),
                    servo_samples: n.servo_samples,
                    rx_errors: n.rx_errors,
                }
            })
            .collect();
        RunResult {
            seed: self.seed,
            servo: self.servo,
            nodes,
            checks,
            frames_sent: self.net.sent,
            frames_lost: self.net.lost,
        }
    }
}

/// One event of node `n`'s instance at true time `t`: the shared
/// [`Steering`] feeds the servo, steers the clock and drives the port's
/// calibration, exactly as the daemon does.
fn on_event(n: &mut Node, e: InstanceEvent, t: f64) {
    if let InstanceEvent::PortState { port, to, .. } = e {
        n.transitions.push((t / NS, port, to));
    }
    let (Some(steering), Some(inst)) = (n.steering.as_mut(), n.inst.as_mut()) else {
        return;
    };
    n.clock.advance(t);
    if let Ok(Some(report)) = steering.handle_event(&e, inst, &mut n.clock, instant(t)) {
        n.servo_samples += 1;
        n.servo_state = report.state;
    } else {
        n.servo_state = steering.servo().state();
    }
}
