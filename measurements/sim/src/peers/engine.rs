//! The peer-scale engine: `N` real [`PeerNode`]s, each with its own real
//! [`Guard`], over a simulated network and simulated clocks.
//!
//! Time is true time in ns since the start (`u64`); every node's monotonic
//! clock is true time. A node's clock reads `EPOCH + t + round(x(t))`
//! (plus its lie, for a liar), where the phase `x` moves at the
//! oscillator's error (uniform within `+-max-drift` at start, a random walk
//! of `wander-ppb` per sqrt(s) at every evaluation, clamped) plus the
//! steering's correction; a step adds to `x`.
//!
//! Per node, three kinds of events: `Poll` at [`PeerNode::next_deadline`]
//! (the node's rounds of `k` requests, its timeouts), `Deliver` of a
//! datagram (the receive stamp is the clock at arrival; the node handles
//! it 2 us later and what it sends leaves 5 us after that, its transmit
//! stamp handed back 10 us later with two-step), and `Eval` once per poll
//! interval at a random phase:
//!
//! - a **liar** re-states the bound it claims (`+-claim-ns` around its
//!   lying clock, status Synchronized);
//! - an honest node first checks its published bound as aged by
//!   [`PeerNode::own_bound_at`] (true time must still lie in it), then
//!   evaluates its guard (`f`, `max-drift`, `max-age`; every `Sample`
//!   action was `observe`d, a refined one replacing the first) and judges
//!   the round against true time: how many fresh intervals miss it, whether
//!   the intersection holds it, which peers are falsetickers;
//! - a **reference** node publishes `estimate +- bound-ns` (its local
//!   reference) and steers to the estimate;
//! - a **follower** publishes the intersection (`set_own_bound`, status
//!   Synchronized) and steers to its midpoint, when the guard agrees; when
//!   it does not, it keeps its last bound (growing by `own_drift_ppb` in
//!   the node) and its frequency. Its first agreement steps the clock when
//!   more than `step-threshold-ns` off (the guard's samples are cleared and
//!   samples of exchanges started before the step are discarded).
//!
//! Steering is a PI on the estimate `e` (true time minus clock, ns): the
//! correction is `e / T + I`, `I += e dt / (4 T^2)`, both clamped to
//! `+-max-slew`; every setting goes to [`Guard::note_local_frequency`].
//!
//! Every random draw comes from a stream derived from the seed; the event
//! order is total (time, then insertion), so a run is reproducible bit for
//! bit.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use bft_overlay::peer::{
    Action, BoundStatus, DropReason, Key, KeyTable, MESSAGE_LEN, NodeId, Now, OwnBound, PeerConfig,
    PeerNode, TxHandle,
};
use bft_overlay::{BoundAssumptions, Guard, GuardConfig, GuardStatus, Interval};

use super::scenario::{LiarKind, PeersScenario};
use crate::clock::EPOCH_NS;
use crate::overlay::hist::LogHistogram;
use crate::rng::Rng;

/// From a datagram's arrival to the node handling it (its clock is read
/// then), ns.
pub const HANDLE_NS: u64 = 2_000;
/// From the clock reading to the datagram leaving, ns.
pub const STACK_NS: u64 = 5_000;
/// From a datagram leaving to its transmit stamp being handed back, ns.
pub const TX_STAMP_NS: u64 = 10_000;

/// The figures of one run (one scenario, one seed).
#[derive(Clone, Debug, Default)]
pub struct PeersMetrics {
    /// The scenario's name.
    pub name: String,
    /// The seed.
    pub seed: u64,
    /// `N`.
    pub nodes: usize,
    /// `m`.
    pub degree: usize,
    /// `k`.
    pub fan_out: usize,
    /// `f`.
    pub faults: usize,
    /// Lying nodes.
    pub liars: usize,
    /// Honest nodes with a local reference.
    pub references: usize,
    /// Two-step (follow-ups sent).
    pub two_step: bool,
    /// The guard's max-age, s.
    pub max_age_s: f64,
    /// Simulated time, s.
    pub simulated_s: f64,
    /// Wall-clock time of the run, s.
    pub wall_s: f64,
    /// Events processed.
    pub events: u64,
    /// Requests sent per node per second, mean over all nodes.
    pub requests_per_node_s: f64,
    /// Responses sent per node per second, mean over all nodes.
    pub responses_per_node_s: f64,
    /// Follow-ups sent per node per second, mean over all nodes.
    pub follow_ups_per_node_s: f64,
    /// Datagrams sent per node per second: mean over all nodes.
    pub sent_mean_per_s: f64,
    /// Datagrams sent per node per second: the busiest node.
    pub sent_max_per_s: f64,
    /// The most requests one node sent in one poll interval.
    pub max_requests_in_interval: u32,
    /// The most datagrams one node sent in one poll interval.
    pub max_sent_in_interval: u32,
    /// Requests, responses and follow-ups sent, all nodes.
    pub totals: [u64; 3],
    /// Requests that got no response in time (lost on the wire, or their
    /// response was).
    pub lost_exchanges: u64,
    /// Datagrams dropped by the receiving node (any reason).
    pub dropped: u64,
    /// Datagrams lost on the wire.
    pub wire_losses: u64,
    /// Published half-widths of followers in Agreement from the warm-up
    /// on, ns.
    pub half_widths: LogHistogram,
    /// The largest of them, ns.
    pub half_width_max_ns: u64,
    /// |true clock error| of honest nodes at every evaluation from the
    /// warm-up on, ns.
    pub clock_errors: LogHistogram,
    /// Follower evaluations from the warm-up on.
    pub follower_rounds: u64,
    /// Of those, with status Agreement.
    pub follower_agreement: u64,
    /// Followers that never reached agreement.
    pub never_synced: usize,
    /// Honest evaluations with status Agreement (all time).
    pub agreement_rounds: u64,
    /// Of those, with true time outside the intersection while at most `f`
    /// fresh intervals missed it (the guarantee says: none).
    pub outside_le_f: u64,
    /// Of those, with true time outside the intersection, however many
    /// intervals missed it.
    pub outside_any: u64,
    /// Outside rounds of nodes with at most `f` liars among their peers.
    pub outside_le_f_liar_peers: u64,
    /// Published bounds checked as aged (just before re-publication).
    pub aged_checks: u64,
    /// Of those, with true time outside.
    pub aged_misses: u64,
    /// Published bounds checked at publication (references and followers).
    pub published_checks: u64,
    /// Of those, with true time outside.
    pub published_misses: u64,
    /// Honest nodes with more than `f` liars among their peers.
    pub nodes_beyond_f: usize,
    /// (honest node, liar peer) pairs whose lie crossed before the end.
    pub liar_pairs: u64,
    /// Detection delays of those pairs, in poll intervals, from the lie's
    /// start (offset) or from the crossing of the claimed bound (drift).
    pub detection_polls: Vec<f64>,
    /// Pairs never detected.
    pub undetected: u64,
    /// (honest node, honest peer) pairs ever judged falseticker.
    pub misjudged_pairs: u64,
    /// Honest evaluations in which an honest peer was judged falseticker.
    pub misjudged_rounds: u64,
    /// Of the misjudged pairs, those of nodes with more than `f` liars
    /// among their peers.
    pub misjudged_pairs_beyond_f: u64,
    /// Misjudged pairs whose interval held true time when judged (an honest
    /// peer with a wrong bound is faulty, and rightly a falseticker; these
    /// are not).
    pub misjudged_pairs_holding_truth: u64,
    /// Undetected (honest node, liar peer) pairs at nodes with at most `f`
    /// liars among their peers.
    pub undetected_le_f: u64,
    /// Honest nodes whose intersection or published bound missed true time
    /// at least once.
    pub nodes_ever_outside: usize,
    /// Of those, nodes with at most `f` liars among their peers (misled by
    /// honest peers that liars had misled first).
    pub nodes_ever_outside_le_f: usize,
    /// Largest |true clock error| of an honest node from the warm-up on,
    /// ns.
    pub clock_error_max_ns: f64,
    /// Datagrams dropped by receivers, by reason (only reasons seen).
    pub drops: Vec<(&'static str, u64)>,
}

impl PeersMetrics {
    /// Quantile `q` of the detection delays, polls.
    #[must_use]
    pub fn detection_quantile(&self, q: f64) -> Option<f64> {
        let mut v = self.detection_polls.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((v.len() as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as usize;
        v.get(rank - 1).copied()
    }
}

#[derive(Clone, Copy, Debug)]
enum Role {
    Reference,
    Follower,
    Liar {
        kind: LiarKind,
        start_ns: u64,
        claim_ns: i64,
    },
}

/// A clock's phase against true time.
#[derive(Clone, Copy, Debug)]
struct Clk {
    t0: u64,
    x0: f64,
    raw_ppb: f64,
    corr_ppb: f64,
}

impl Clk {
    #[allow(clippy::cast_precision_loss)]
    fn x(&self, t: u64) -> f64 {
        self.x0 + (self.raw_ppb + self.corr_ppb) * (t.saturating_sub(self.t0) as f64) * 1e-9
    }
    fn rebase(&mut self, t: u64) {
        self.x0 = self.x(t);
        self.t0 = t;
    }
}

struct Node {
    peer: PeerNode,
    guard: Guard<NodeId>,
    clock: Clk,
    role: Role,
    /// Honest nodes: the liars among the peers and when each was first
    /// judged falseticker.
    liar_peers: Vec<(NodeId, Option<u64>)>,
    /// Honest peers ever judged falseticker, and whether their interval
    /// held true time one of those times.
    misjudged: Vec<(NodeId, bool)>,
    integ_ppb: f64,
    synced: bool,
    ever_outside: bool,
    step_at: Option<u64>,
    scheduled: u64,
    rng: Rng,
    /// The poll interval being counted and what was sent in it.
    bucket: u64,
    in_bucket: [u32; 3],
}

impl Node {
    #[allow(clippy::cast_precision_loss)]
    fn lie_ns(&self, t: u64) -> f64 {
        match self.role {
            Role::Liar { kind, start_ns, .. } if t >= start_ns => match kind {
                LiarKind::Offset { offset_ns } => offset_ns,
                LiarKind::Drift { rate_ppb } => rate_ppb * ((t - start_ns) as f64) * 1e-9,
            },
            _ => 0.0,
        }
    }

    #[allow(clippy::cast_possible_truncation)]
    fn reading(&self, t: u64) -> u64 {
        let x = (self.clock.x(t) + self.lie_ns(t)).round() as i64;
        (EPOCH_NS + t).saturating_add_signed(x)
    }

    /// True time minus the (honest) clock reading, ns.
    #[allow(clippy::cast_possible_truncation)]
    fn truth_minus_clock(&self, t: u64) -> i64 {
        -(self.clock.x(t).round() as i64)
    }

    fn now(&self, t: u64) -> Now {
        Now {
            monotonic_ns: t,
            clock_ns: self.reading(t),
        }
    }

    const fn is_liar(&self) -> bool {
        matches!(self.role, Role::Liar { .. })
    }
}

#[derive(Debug)]
enum Ev {
    Poll(usize),
    Eval(usize),
    Deliver {
        to: u32,
        from: u32,
        bytes: [u8; MESSAGE_LEN],
    },
    TxStamp {
        node: u32,
        handle: TxHandle,
        ts: u64,
    },
}

struct Entry {
    at: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed: the heap pops the earliest (then the first inserted).
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The address of node `i` (values only: nothing is sent).
#[must_use]
pub fn node_addr(i: usize) -> SocketAddr {
    let b = u32::try_from(i).unwrap_or(0).to_be_bytes();
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, b[1], b[2], b[3])), 3199)
}

/// The peers of every node: a random circulant graph (`m / 2` distinct
/// shifts below `N / 2` over a random relabelling): exactly `m` peers each,
/// every link symmetric.
#[must_use]
pub fn overlay_graph(nodes: usize, degree: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = Rng::derive(seed, "peers-graph", 0);
    let mut label: Vec<usize> = (0..nodes).collect();
    shuffle(&mut label, &mut rng);
    let max_shift = (nodes - 1) / 2;
    let mut shifts: Vec<usize> = (1..=max_shift).collect();
    shuffle(&mut shifts, &mut rng);
    shifts.truncate(degree / 2);
    let mut peers = vec![Vec::with_capacity(degree); nodes];
    for pos in 0..nodes {
        for &s in &shifts {
            let a = label[pos];
            let b = label[(pos + s) % nodes];
            peers[a].push(b);
            peers[b].push(a);
        }
    }
    for p in &mut peers {
        p.sort_unstable();
    }
    peers
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        #[allow(clippy::cast_possible_truncation)]
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// The key nodes `a` and `b` share (the same from both ends).
fn pair_key(seed: u64, nodes: usize, a: usize, b: usize) -> Key {
    let (lo, hi) = (a.min(b), a.max(b));
    let mut rng = Rng::derive(seed, "peers-pair-key", (lo * nodes + hi) as u64);
    let mut k = [0u8; 32];
    for c in k.chunks_mut(8) {
        c.copy_from_slice(&rng.next_u64().to_be_bytes());
    }
    Key::new(k)
}

/// A node's id (ids start at 1).
const fn id_of(i: usize) -> NodeId {
    i as NodeId + 1
}

#[allow(clippy::cast_possible_truncation)]
const fn index_of(id: NodeId) -> usize {
    (id - 1) as usize
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn ns(s: f64) -> u64 {
    (s * 1e9).round().max(0.0) as u64
}

struct World<'a> {
    sc: &'a PeersScenario,
    seed: u64,
    nodes: Vec<Node>,
    heap: BinaryHeap<Entry>,
    seq: u64,
    net: Rng,
    poll_ns: u64,
    warm_up_ns: u64,
    end_ns: u64,
    /// Per liar group: when its lie crosses the claimed bound, ns.
    crossing: Vec<Option<u64>>,
    /// The group of each liar node.
    group: Vec<Option<usize>>,
    /// Per path (`from * N + to`), the last arrival (FIFO paths).
    last_arrival: HashMap<usize, u64>,
    m: PeersMetrics,
}

impl World<'_> {
    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Entry {
            at,
            seq: self.seq,
            ev,
        });
    }

    fn reschedule(&mut self, i: usize, t: u64) {
        let d = self.nodes[i].peer.next_deadline().max(t);
        if d < self.nodes[i].scheduled {
            self.nodes[i].scheduled = d;
            self.push(d, Ev::Poll(i));
        }
    }

    /// The one-way delay from `a` to `b` without jitter, ns: fixed per
    /// pair and direction.
    fn base_delay(&self, a: usize, b: usize) -> f64 {
        let n = &self.sc.network;
        let (lo, hi) = (a.min(b), a.max(b));
        let mut r = Rng::derive(self.seed, "peers-link", (lo * self.sc.nodes + hi) as u64);
        let base = r.uniform_range(n.base_min_ns, n.base_max_ns.max(n.base_min_ns + 1e-9));
        let u = r.uniform_range(-n.asymmetry, n.asymmetry);
        if a == lo {
            base * (1.0 + u)
        } else {
            base * (1.0 - u)
        }
    }

    fn count_sent(&mut self, i: usize, t: u64, kind: u8) {
        let bucket = t / self.poll_ns;
        let n = &mut self.nodes[i];
        if bucket != n.bucket {
            n.bucket = bucket;
            n.in_bucket = [0; 3];
        }
        if let Some(c) = (kind as usize)
            .checked_sub(1)
            .and_then(|k| n.in_bucket.get_mut(k))
        {
            *c += 1;
        }
        self.m.max_requests_in_interval = self.m.max_requests_in_interval.max(n.in_bucket[0]);
        self.m.max_sent_in_interval = self
            .m
            .max_sent_in_interval
            .max(n.in_bucket.iter().sum::<u32>());
    }

    /// Carry out what node `i` asked for at `t` (its handling time).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn act(&mut self, i: usize, t: u64, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Send(tx) => {
                    self.count_sent(i, t, tx.bytes[5]);
                    let departed = t + STACK_NS;
                    if let Some(h) = tx.tx_handle {
                        let ts = self.nodes[i].reading(departed);
                        self.push(
                            departed + TX_STAMP_NS,
                            Ev::TxStamp {
                                node: i as u32,
                                handle: h,
                                ts,
                            },
                        );
                    }
                    if self.net.chance(self.sc.network.loss) {
                        self.m.wire_losses += 1;
                        continue;
                    }
                    let to = index_of(tx.peer);
                    let delay =
                        self.base_delay(i, to) + self.sc.network.jitter.sample(&mut self.net);
                    let mut at = departed + delay.round().max(0.0) as u64;
                    if self.sc.network.fifo {
                        let last = self.last_arrival.entry(i * self.sc.nodes + to).or_insert(0);
                        at = at.max(*last);
                        *last = at;
                    }
                    self.push(
                        at,
                        Ev::Deliver {
                            to: to as u32,
                            from: i as u32,
                            bytes: tx.bytes,
                        },
                    );
                }
                Action::Sample { peer, sample, .. } => {
                    let n = &mut self.nodes[i];
                    if !n.is_liar() && n.step_at.is_none_or(|s| sample.measured_at_ns > s) {
                        n.guard.observe(peer, sample);
                    }
                }
                Action::Dropped { .. } => self.m.dropped += 1,
                _ => {}
            }
        }
    }

    fn step(&mut self, t: u64, ev: Ev) {
        match ev {
            Ev::Poll(i) => {
                if self.nodes[i].scheduled != t {
                    return;
                }
                self.nodes[i].scheduled = u64::MAX;
                let n = &mut self.nodes[i];
                let actions = n.peer.poll(n.now(t));
                self.act(i, t, actions);
                self.reschedule(i, t);
            }
            Ev::Deliver { to, from, bytes } => {
                let to = to as usize;
                let n = &mut self.nodes[to];
                let rx = n.reading(t);
                let h = t + HANDLE_NS;
                let actions =
                    n.peer
                        .handle_datagram(n.now(h), rx, node_addr(from as usize), &bytes);
                self.act(to, h, actions);
                self.reschedule(to, h);
            }
            Ev::TxStamp { node, handle, ts } => {
                let i = node as usize;
                let n = &mut self.nodes[i];
                let actions = n.peer.tx_timestamp(n.now(t), handle, ts);
                self.act(i, t, actions);
                self.reschedule(i, t);
            }
            Ev::Eval(i) => {
                self.evaluate(i, t);
                if t + self.poll_ns < self.end_ns {
                    self.push(t + self.poll_ns, Ev::Eval(i));
                }
            }
        }
    }

    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::too_many_lines
    )]
    fn evaluate(&mut self, i: usize, t: u64) {
        let sc = self.sc;
        let faults = sc.faults;
        let warm = t >= self.warm_up_ns;
        let m = &mut self.m;
        let n = &mut self.nodes[i];
        // The oscillator wanders.
        let wander = sc.clock.wander_ppb * sc.poll_interval_s.sqrt() * n.rng.normal();
        let max_drift = sc.clock.max_drift_ppm * 1e3;
        n.clock.rebase(t);
        n.clock.raw_ppb = (n.clock.raw_ppb + wander).clamp(-max_drift, max_drift);
        if let Role::Liar { claim_ns, .. } = n.role {
            publish(n, t, Interval::around(0, claim_ns.unsigned_abs()));
            return;
        }
        let truth = n.truth_minus_clock(t);
        let now = n.now(t);
        let (aged, status) = n.peer.own_bound_at(now);
        if status.is_source() {
            m.aged_checks += 1;
            if !aged.contains(truth) {
                m.aged_misses += 1;
                n.ever_outside = true;
            }
        }
        let round = n.guard.evaluate(t);
        let mut faulty = 0;
        let mut misjudged_round = false;
        for s in &round.sources {
            let Some(v) = s.verdict else { continue };
            if !s.interval.contains(truth) {
                faulty += 1;
            }
            if !v.is_falseticker() {
                continue;
            }
            if let Some(p) = n.liar_peers.iter_mut().find(|(id, _)| *id == s.id) {
                p.1.get_or_insert(t);
            } else {
                misjudged_round = true;
                let held = s.interval.contains(truth);
                match n.misjudged.iter_mut().find(|(id, _)| *id == s.id) {
                    Some(p) => p.1 |= held,
                    None => n.misjudged.push((s.id, held)),
                }
            }
        }
        if misjudged_round {
            m.misjudged_rounds += 1;
        }
        let agreed = round
            .intersection
            .filter(|_| round.status == GuardStatus::Agreement);
        if let Some(x) = agreed {
            m.agreement_rounds += 1;
            if !x.contains(truth) {
                n.ever_outside = true;
                m.outside_any += 1;
                if faulty <= faults {
                    m.outside_le_f += 1;
                }
                if n.liar_peers.len() <= faults {
                    m.outside_le_f_liar_peers += 1;
                }
            }
        }
        let step_threshold = sc.steering.step_threshold_ns;
        let published = match n.role {
            Role::Reference => {
                let r = &sc.reference;
                let noise = n.rng.uniform_range(-r.noise_ns, r.noise_ns);
                let mut est = truth + noise.round() as i64;
                if !n.synced && est.unsigned_abs() as f64 > step_threshold {
                    // The clock is set to the reference's estimate.
                    do_step(n, t, est);
                    est = 0;
                } else {
                    steer(sc, n, t, est);
                }
                n.synced = true;
                let b = Interval::around(est, r.bound_ns.round() as u64);
                publish(n, t, b);
                Some(b)
            }
            Role::Follower => {
                if warm {
                    m.follower_rounds += 1;
                }
                agreed.map(|x| {
                    let mid = x.midpoint();
                    let mut b = x.interval();
                    if warm {
                        m.follower_agreement += 1;
                        m.half_widths.add(b.half_width() as f64);
                        m.half_width_max_ns = m.half_width_max_ns.max(b.half_width());
                    }
                    if !n.synced && mid.unsigned_abs() as f64 > step_threshold {
                        do_step(n, t, mid);
                        b = Interval::new(b.lower() - mid, b.upper() - mid).unwrap_or(b);
                    } else {
                        steer(sc, n, t, mid);
                    }
                    n.synced = true;
                    publish(n, t, b);
                    b
                })
            }
            Role::Liar { .. } => None,
        };
        if let Some(b) = published {
            m.published_checks += 1;
            if !b.contains(n.truth_minus_clock(t)) {
                m.published_misses += 1;
                n.ever_outside = true;
            }
        }
        if warm && n.synced {
            let e = n.clock.x(t).abs();
            m.clock_errors.add(e);
            m.clock_error_max_ns = m.clock_error_max_ns.max(e);
        }
    }
}

fn publish(n: &mut Node, t: u64, interval: Interval) {
    let now = n.now(t);
    n.peer.set_own_bound(
        now,
        OwnBound {
            interval,
            status: BoundStatus::Synchronized,
        },
    );
}

/// The PI on the estimate `e` (true time minus clock, ns).
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn steer(sc: &PeersScenario, n: &mut Node, t: u64, e: i64) {
    let st = &sc.steering;
    let tau = st.time_constant_s;
    let max = st.max_slew_ppm * 1e3;
    let dt = sc.poll_interval_s;
    let e = e as f64;
    n.integ_ppb = (n.integ_ppb + e * dt / (4.0 * tau * tau)).clamp(-max, max);
    let corr = (e / tau + n.integ_ppb).clamp(-max, max);
    n.clock.rebase(t);
    n.clock.corr_ppb = corr;
    n.guard.note_local_frequency(t, corr.round() as i64);
}

/// Step the clock so that true time minus clock drops by `by`.
#[allow(clippy::cast_precision_loss)]
fn do_step(n: &mut Node, t: u64, by: i64) {
    n.clock.rebase(t);
    n.clock.x0 += by as f64;
    n.guard.clear_samples();
    n.step_at = Some(t);
}

/// Run `sc` with `seed` for `duration_s` (default: the scenario's).
///
/// # Panics
/// Only on an internal inconsistency (a node the scenario's validation
/// should have refused).
#[must_use]
#[allow(
    clippy::too_many_lines,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn run(sc: &PeersScenario, seed: u64, duration_s: Option<f64>) -> PeersMetrics {
    let started = Instant::now();
    let duration_s = duration_s.unwrap_or(sc.duration_s);
    let n_nodes = sc.nodes;
    let poll_ns = ns(sc.poll_interval_s);
    let graph = overlay_graph(n_nodes, sc.degree, seed);

    // Roles: liars first (group by group), then references, from one
    // shuffle of all nodes.
    let mut order: Vec<usize> = (0..n_nodes).collect();
    shuffle(&mut order, &mut Rng::derive(seed, "peers-roles", 0));
    let mut roles = vec![Role::Follower; n_nodes];
    let mut group = vec![None; n_nodes];
    let mut next = 0;
    for (gi, g) in sc.liars.iter().enumerate() {
        for _ in 0..g.size(n_nodes) {
            let i = order[next];
            next += 1;
            roles[i] = Role::Liar {
                kind: g.lie(),
                start_ns: ns(g.start_s),
                claim_ns: g.claim_ns.round() as i64,
            };
            group[i] = Some(gi);
        }
    }
    for _ in 0..sc.reference_count() {
        roles[order[next]] = Role::Reference;
        next += 1;
    }

    let guard_config = GuardConfig {
        faults: sc.faults,
        assumptions: BoundAssumptions {
            asymmetry_ns: 0,
            max_drift_ppb: (sc.guard.max_drift_ppm * 1e3).round() as u64,
        },
        max_age_ns: ns(sc.max_age_s()),
        ..GuardConfig::default()
    };
    let own_drift_ppb = ((sc.clock.max_drift_ppm + sc.steering.max_slew_ppm) * 1e3).ceil() as u64;
    let mut nodes = Vec::with_capacity(n_nodes);
    for i in 0..n_nodes {
        let mut keys = KeyTable::new();
        for &p in &graph[i] {
            keys.insert(id_of(p), 1, pair_key(seed, n_nodes, i, p));
        }
        let config = PeerConfig {
            node_id: id_of(i),
            poll_interval_ns: poll_ns,
            fan_out: sc.fan_out,
            seed: Rng::derive(seed, "peers-fanout", i as u64).next_u64(),
            response_timeout_ns: poll_ns / 2,
            tx_timestamps: sc.two_step,
            own_drift_ppb,
            ..PeerConfig::default()
        };
        let peer = PeerNode::new(
            config,
            keys,
            graph[i].iter().map(|&p| (id_of(p), node_addr(p))),
        )
        .expect("every peer has a key");
        let mut rng = Rng::derive(seed, "peers-node", i as u64);
        let liar = matches!(roles[i], Role::Liar { .. });
        let clock = if liar {
            // A liar knows true time and lies on purpose.
            Clk {
                t0: 0,
                x0: 0.0,
                raw_ppb: 0.0,
                corr_ppb: 0.0,
            }
        } else {
            let c = &sc.clock;
            Clk {
                t0: 0,
                x0: rng.uniform_range(-c.initial_offset_ns, c.initial_offset_ns),
                raw_ppb: rng.uniform_range(-c.max_drift_ppm, c.max_drift_ppm) * 1e3,
                corr_ppb: 0.0,
            }
        };
        let mut guard = Guard::new(guard_config);
        guard.note_local_frequency(0, 0);
        let liar_peers = if liar {
            Vec::new()
        } else {
            graph[i]
                .iter()
                .filter(|&&p| matches!(roles[p], Role::Liar { .. }))
                .map(|&p| (id_of(p), None))
                .collect()
        };
        nodes.push(Node {
            peer,
            guard,
            clock,
            role: roles[i],
            liar_peers,
            misjudged: Vec::new(),
            integ_ppb: 0.0,
            synced: false,
            ever_outside: false,
            step_at: None,
            scheduled: u64::MAX,
            rng,
            bucket: 0,
            in_bucket: [0; 3],
        });
    }

    let mut w = World {
        sc,
        seed,
        nodes,
        heap: BinaryHeap::new(),
        seq: 0,
        net: Rng::derive(seed, "peers-net", 0),
        poll_ns,
        warm_up_ns: ns(sc.warm_up_s),
        end_ns: ns(duration_s),
        crossing: sc.liars.iter().map(|g| g.crossing_s().map(ns)).collect(),
        group,
        last_arrival: HashMap::new(),
        m: PeersMetrics {
            name: sc.name.clone(),
            seed,
            nodes: n_nodes,
            degree: sc.degree,
            fan_out: sc.fan_out,
            faults: sc.faults,
            liars: sc.liar_count(),
            references: sc.reference_count(),
            two_step: sc.two_step,
            max_age_s: sc.max_age_s(),
            simulated_s: duration_s,
            ..PeersMetrics::default()
        },
    };
    let mut phases = Rng::derive(seed, "peers-eval-phase", 0);
    for i in 0..n_nodes {
        w.nodes[i].scheduled = 0;
        w.push(0, Ev::Poll(i));
        let phase = (phases.uniform() * poll_ns as f64) as u64;
        w.push(phase, Ev::Eval(i));
    }
    while let Some(e) = w.heap.pop() {
        if e.at >= w.end_ns {
            break;
        }
        w.m.events += 1;
        w.step(e.at, e.ev);
    }
    finish(&mut w);
    w.m.wall_s = started.elapsed().as_secs_f64();
    w.m
}

#[allow(clippy::cast_precision_loss)]
fn finish(w: &mut World<'_>) {
    let faults = w.sc.faults;
    let secs = w.m.simulated_s;
    let mut max_rate: f64 = 0.0;
    let mut drops = [0u64; DropReason::ALL.len()];
    for n in &w.nodes {
        let c = n.peer.counters();
        for (d, r) in drops.iter_mut().zip(DropReason::ALL) {
            *d += c.drops.get(r);
        }
        w.m.totals[0] += c.requests_sent;
        w.m.totals[1] += c.responses_sent;
        w.m.totals[2] += c.follow_ups_sent;
        w.m.lost_exchanges += c.lost;
        let sent = c.requests_sent + c.responses_sent + c.follow_ups_sent;
        max_rate = max_rate.max(sent as f64 / secs);
    }
    w.m.drops = DropReason::ALL
        .iter()
        .zip(drops)
        .filter(|&(_, c)| c > 0)
        .map(|(r, c)| (r.name(), c))
        .collect();
    let per = |x: u64| x as f64 / secs / w.nodes.len() as f64;
    w.m.requests_per_node_s = per(w.m.totals[0]);
    w.m.responses_per_node_s = per(w.m.totals[1]);
    w.m.follow_ups_per_node_s = per(w.m.totals[2]);
    w.m.sent_mean_per_s = per(w.m.totals.iter().sum());
    w.m.sent_max_per_s = max_rate;
    for n in w.nodes.iter().filter(|n| !n.is_liar()) {
        let beyond = n.liar_peers.len() > faults;
        if beyond {
            w.m.nodes_beyond_f += 1;
        }
        if n.ever_outside {
            w.m.nodes_ever_outside += 1;
            if !beyond {
                w.m.nodes_ever_outside_le_f += 1;
            }
        }
        if matches!(n.role, Role::Follower) && !n.synced {
            w.m.never_synced += 1;
        }
        w.m.misjudged_pairs += n.misjudged.len() as u64;
        w.m.misjudged_pairs_holding_truth += n.misjudged.iter().filter(|p| p.1).count() as u64;
        if beyond {
            w.m.misjudged_pairs_beyond_f += n.misjudged.len() as u64;
        }
        for &(liar, detected) in &n.liar_peers {
            let Some(g) = w.group[index_of(liar)] else {
                continue;
            };
            let Some(cross) = w.crossing[g].filter(|&c| c < w.end_ns) else {
                continue;
            };
            w.m.liar_pairs += 1;
            match detected {
                Some(d) => {
                    w.m.detection_polls
                        .push(d.saturating_sub(cross) as f64 / w.poll_ns as f64);
                }
                None => {
                    w.m.undetected += 1;
                    if !beyond {
                        w.m.undetected_le_f += 1;
                    }
                }
            }
        }
    }
}
