//! Five overlay nodes in virtual time, each driving its peers' samples into
//! a guard with `f = 1`.
//!
//! Clocks: offsets up to a few hundred microseconds and drifts of a few
//! ppm; each node knows its own offset to within 5 us (as if from a local
//! grandmaster) and publishes that bound. The network delays each datagram
//! by 20 to 80 us plus a per-direction asymmetry, drops one request, and an
//! attacker on it replays captured datagrams. Node 5 lies: every time stamp
//! it makes is 1 ms ahead while it claims a 5 us bound; it also forges
//! requests as node 1 towards node 2 with its own key for node 2.
//!
//! Checked: from the end of warm-up on, every honest node's guard agrees,
//! its intersection holds true time at every evaluation, the liar is a
//! falseticker and no honest peer ever is; every replay and forgery is
//! dropped and counted by reason; no node sends more than `k` requests per
//! interval. Run with `--nocapture` for the figures.

mod peer_common;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use bft_overlay::peer::{
    Action, BoundStatus, DropReason, HlcTimestamp, KeyTable, Message, MessageType, NodeId, Now,
    PeerConfig, PeerNode, TxHandle, XorShift,
};
use bft_overlay::{BoundAssumptions, Guard, GuardConfig, GuardStatus};
use core::net::SocketAddr;
use peer_common::{addr, node, pair_key, synced};

const INTERVAL: u64 = 1_000_000_000;
const K: usize = 2;
const TICK: u64 = 100_000_000;
const WARM_UP: u64 = 5_000_000_000;
const END: u64 = 60_000_000_000;
/// The time a node takes to look at an input (its clock is read then).
const HANDLE: u64 = 2_000;
/// From the clock reading to the datagram leaving.
const STACK: u64 = 5_000;
const OWN_BOUND: i64 = 5_000;
const LIAR: usize = 4;
const LIE: i64 = 1_000_000;

struct Sim {
    id: NodeId,
    node: PeerNode,
    guard: Guard<NodeId>,
    offset_ns: i64,
    drift_ppb: i64,
    lie_ns: i64,
    est_err_ns: i64,
}

impl Sim {
    /// The node's clock at true time `t` (what it reads, lie included).
    fn reading(&self, t: u64) -> u64 {
        let drift =
            i64::try_from(i128::from(t) * i128::from(self.drift_ppb) / 1_000_000_000).unwrap();
        t.saturating_add_signed(self.offset_ns + drift + self.lie_ns)
    }
    /// True time minus the node's (honest) clock.
    fn truth_minus_clock(&self, t: u64) -> i64 {
        i64::try_from(t).unwrap() - i64::try_from(self.reading(t)).unwrap() + self.lie_ns
    }
    fn now(&self, t: u64) -> Now {
        Now {
            monotonic_ns: t,
            clock_ns: self.reading(t),
        }
    }
    fn update_bound(&mut self, t: u64) {
        let x = self.truth_minus_clock(t) + self.est_err_ns;
        let now = self.now(t);
        self.node
            .set_own_bound(now, synced(x - OWN_BOUND, x + OWN_BOUND));
    }
}

#[derive(Debug)]
enum Ev {
    Deliver {
        to: usize,
        from: SocketAddr,
        bytes: Vec<u8>,
        replay: bool,
        forged: bool,
    },
    TxStamp {
        node: usize,
        handle: TxHandle,
        departed: u64,
    },
    Tick,
    Forge,
}

struct World {
    nodes: Vec<Sim>,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    events: Vec<Option<Ev>>,
    rng: XorShift,
    dropped_one: bool,
    replays: u64,
    forgeries: u64,
    /// Per node and interval: (requests, responses, follow-ups) sent.
    sent: Vec<Vec<[u32; 3]>>,
    /// (node index, peer) of every HLC rejection.
    hlc_rejected: Vec<(usize, NodeId)>,
    checks: u64,
    max_width: u64,
    width_sum: u128,
}

impl World {
    fn push(&mut self, at: u64, ev: Ev) {
        let i = self.events.len();
        self.events.push(Some(ev));
        self.queue.push(Reverse((at, i as u64, i)));
    }

    fn index(&self, id: NodeId) -> usize {
        self.nodes.iter().position(|n| n.id == id).unwrap()
    }

    /// Carry out what node `i` asked for at `t` (its handling time).
    fn act(&mut self, i: usize, t: u64, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Send(tx) => {
                    let departed = t + STACK;
                    let (m, _) = Message::parse(&tx.bytes).unwrap();
                    let kind = match m.kind {
                        MessageType::Request => 0,
                        MessageType::Response => 1,
                        _ => 2,
                    };
                    let bucket = usize::try_from(t / INTERVAL).unwrap();
                    self.sent[i][bucket][kind] += 1;
                    if let Some(h) = tx.tx_handle {
                        self.push(
                            departed + 10_000,
                            Ev::TxStamp {
                                node: i,
                                handle: h,
                                departed,
                            },
                        );
                    }
                    // One request lost on the wire, ten seconds in.
                    if !self.dropped_one && kind == 0 && i == 0 && t > 10 * INTERVAL {
                        self.dropped_one = true;
                        continue;
                    }
                    let to = self.index(tx.peer);
                    // 20 us base, up to 60 us jitter, and 0..10 us of
                    // asymmetry per direction.
                    let asym = (self.nodes[i].id * 7 + tx.peer * 3) % 11 * 1_000;
                    let delay = 20_000 + self.rng.below(60_000) + asym;
                    let from = addr(self.nodes[i].id);
                    self.push(
                        departed + delay,
                        Ev::Deliver {
                            to,
                            from,
                            bytes: tx.bytes.to_vec(),
                            replay: false,
                            forged: false,
                        },
                    );
                }
                Action::Sample { peer, sample, .. } => {
                    self.nodes[i].guard.observe(peer, sample);
                }
                Action::HlcRejected { peer, .. } => self.hlc_rejected.push((i, peer)),
                _ => {}
            }
        }
    }

    fn step(&mut self, t: u64, ev: Ev) {
        match ev {
            Ev::Deliver {
                to,
                from,
                bytes,
                replay,
                forged,
            } => {
                let n = &mut self.nodes[to];
                let rx = n.reading(t);
                let h = t + HANDLE;
                let actions = n.node.handle_datagram(n.now(h), rx, from, &bytes);
                if replay {
                    self.replays += 1;
                    let ok = actions.iter().all(|a| {
                        matches!(
                            a,
                            Action::Dropped {
                                reason: DropReason::Duplicate | DropReason::TooOld,
                                ..
                            }
                        )
                    });
                    assert!(
                        ok && actions.len() == 1,
                        "a replay got through: {actions:?}"
                    );
                } else if !forged && self.rng.below(5) == 0 {
                    // The attacker captures it and plays it again later.
                    let later = t + 300_000_000 + self.rng.below(3_000_000_000);
                    self.push(
                        later,
                        Ev::Deliver {
                            to,
                            from,
                            bytes: bytes.clone(),
                            replay: true,
                            forged: false,
                        },
                    );
                }
                self.act(to, h, actions);
            }
            Ev::TxStamp {
                node,
                handle,
                departed,
            } => {
                let n = &mut self.nodes[node];
                let ts = n.reading(departed);
                let actions = n.node.tx_timestamp(n.now(t), handle, ts);
                self.act(node, t, actions);
            }
            Ev::Tick => {
                for i in 0..self.nodes.len() {
                    self.nodes[i].update_bound(t);
                    if i != LIAR {
                        self.check(i, t);
                    }
                }
                if t + TICK < END {
                    self.push(t + TICK, Ev::Tick);
                }
            }
            Ev::Forge => {
                // The liar (node 5) speaks as node 1 towards node 2, with
                // its own key for node 2.
                let mut keys = KeyTable::new();
                keys.insert(2, 1, pair_key(5, 2));
                let m = Message {
                    kind: MessageType::Request,
                    flags: 0,
                    status: BoundStatus::Synchronized,
                    sender: 1,
                    receiver: 2,
                    key_id: 1,
                    hlc: HlcTimestamp::default(),
                    seq: u64::MAX - self.forgeries,
                    echo_seq: 0,
                    t1: t,
                    t2: 0,
                    t3: 0,
                    lower_ns: 0,
                    upper_ns: 0,
                };
                let mut bytes = m.emit();
                keys.sign(2, 1, &mut bytes).unwrap();
                self.forgeries += 1;
                self.push(
                    t + 30_000,
                    Ev::Deliver {
                        to: 1,
                        from: addr(1),
                        bytes: bytes.to_vec(),
                        replay: false,
                        forged: true,
                    },
                );
                if t + 2 * INTERVAL < END {
                    self.push(t + 2 * INTERVAL, Ev::Forge);
                }
            }
        }
    }

    fn check(&mut self, i: usize, t: u64) {
        let truth = self.nodes[i].truth_minus_clock(t);
        let id = self.nodes[i].id;
        let r = self.nodes[i].guard.evaluate(t);
        if let Some(x) = r.intersection {
            assert!(
                x.contains(truth),
                "node {id} at {t}: intersection {x:?} misses true offset {truth}"
            );
        }
        for s in &r.sources {
            if let Some(v) = s.verdict {
                let liar = s.id == self.nodes[LIAR].id;
                assert_eq!(
                    v.is_falseticker(),
                    liar,
                    "node {id} at {t}: peer {} judged {v:?}",
                    s.id
                );
            }
        }
        if t >= WARM_UP {
            assert_eq!(r.status, GuardStatus::Agreement, "node {id} at {t}: {r:?}");
            let x = r.intersection.unwrap();
            self.checks += 1;
            self.max_width = self.max_width.max(x.interval().width());
            self.width_sum += u128::from(x.interval().width());
        }
    }
}

#[test]
fn five_nodes_one_liar_replays_and_forgeries() {
    let ids: Vec<NodeId> = (1..=5).collect();
    let offsets = [120_000, -340_000, 55_000, 0, -80_000];
    let drifts = [3_000, -2_000, 5_000, -4_000, 1_000];
    let errs = [2_000, -1_500, 0, 1_000, -2_000];
    let nodes: Vec<Sim> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| Sim {
            id,
            node: node(
                id,
                &ids,
                PeerConfig {
                    poll_interval_ns: INTERVAL,
                    fan_out: K,
                    seed: 0xC0FFEE ^ id,
                    tx_timestamps: true,
                    own_drift_ppb: 15_000,
                    ..PeerConfig::default()
                },
            ),
            guard: Guard::new(GuardConfig {
                faults: 1,
                assumptions: BoundAssumptions {
                    asymmetry_ns: 0,
                    max_drift_ppb: 15_000,
                },
                max_age_ns: 4 * INTERVAL,
                ..GuardConfig::default()
            }),
            offset_ns: offsets[i],
            drift_ppb: drifts[i],
            lie_ns: if i == LIAR { LIE } else { 0 },
            est_err_ns: errs[i],
        })
        .collect();
    let buckets = usize::try_from(END / INTERVAL + 2).unwrap();
    let mut w = World {
        sent: vec![vec![[0; 3]; buckets]; nodes.len()],
        nodes,
        queue: BinaryHeap::new(),
        events: Vec::new(),
        rng: XorShift::new(2026),
        dropped_one: false,
        replays: 0,
        forgeries: 0,
        hlc_rejected: Vec::new(),
        checks: 0,
        max_width: 0,
        width_sum: 0,
    };
    w.push(0, Ev::Tick);
    w.push(INTERVAL / 2, Ev::Forge);
    let mut t = 0;
    while t < END {
        // The earliest of the network's events and the nodes' deadlines.
        let next_ev = w.queue.peek().map_or(u64::MAX, |Reverse((at, ..))| *at);
        let (who, next_node) = w
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (i, n.node.next_deadline()))
            .min_by_key(|&(_, d)| d)
            .unwrap();
        if next_node <= next_ev {
            t = t.max(next_node);
            let n = &mut w.nodes[who];
            let actions = n.node.poll(n.now(t));
            w.act(who, t, actions);
        } else {
            let Reverse((at, _, i)) = w.queue.pop().unwrap();
            t = t.max(at);
            let ev = w.events[i].take().unwrap();
            w.step(t, ev);
        }
    }

    // Replays and forgeries: all dropped, all counted.
    let count = |r| {
        w.nodes
            .iter()
            .map(|n| n.node.counters().drops.get(r))
            .sum::<u64>()
    };
    assert!(w.replays > 50, "{} replays", w.replays);
    assert_eq!(
        count(DropReason::Duplicate) + count(DropReason::TooOld),
        w.replays
    );
    assert_eq!(count(DropReason::BadMac), w.forgeries);
    assert_eq!(
        w.nodes[1].node.counters().drops.get(DropReason::BadMac),
        w.forgeries
    );
    assert!(w.forgeries >= 25);
    assert!(w.nodes[0].node.counters().lost >= 1, "the dropped request");
    // The liar is a falseticker at every honest node.
    for (i, n) in w.nodes.iter().enumerate().filter(|&(i, _)| i != LIAR) {
        let rec = n.guard.tracker().get(&w.nodes[LIAR].id).unwrap();
        assert!(rec.is_falseticker(), "node {i}");
        assert_eq!(rec.falseticker_episodes(), 1);
        assert_eq!(n.node.counters().drops.get(DropReason::NegativeDelay), 0);
    }
    // HLC: the liar's clock runs 1 ms ahead of the bound it claims, so
    // every honest node refuses its HLC, and only its; no honest HLC was
    // dragged ahead of true time by more than bounds and paths allow.
    let liar_id = w.nodes[LIAR].id;
    for (i, n) in w.nodes.iter_mut().enumerate().filter(|&(i, _)| i != LIAR) {
        assert!(w.hlc_rejected.contains(&(i, liar_id)), "node {i}");
        let h = n.node.hlc_now(n.now(END));
        assert!(h.physical_ns <= END + 100_000, "node {i}: {h:?}");
    }
    assert!(
        w.hlc_rejected
            .iter()
            .all(|&(i, p)| p == liar_id || i == LIAR),
        "an honest HLC was refused"
    );
    // Fan-out: at most k requests per node per interval.
    let mut total = [0u64; 3];
    for per_node in &w.sent {
        for b in per_node {
            assert!(b[0] as usize <= K, "{b:?}");
            for k in 0..3 {
                total[k] += u64::from(b[k]);
            }
        }
    }
    let node_intervals = (w.nodes.len() as u64) * (END / INTERVAL);
    let responses: u64 = w
        .nodes
        .iter()
        .map(|n| n.node.counters().responses_sent)
        .sum();
    let requests: u64 = w
        .nodes
        .iter()
        .map(|n| n.node.counters().requests_sent)
        .sum();
    assert_eq!(
        responses,
        requests - 1,
        "every request answered but the lost one"
    );
    assert!(w.checks > 4 * 500);
    println!(
        "per node per interval: {:.2} requests, {:.2} responses, {:.2} follow-ups",
        total[0] as f64 / node_intervals as f64,
        total[1] as f64 / node_intervals as f64,
        total[2] as f64 / node_intervals as f64,
    );
    println!(
        "intersection width over {} checks: mean {:.1} us, max {:.1} us; replays {}, forgeries {}",
        w.checks,
        w.width_sum as f64 / w.checks as f64 / 1e3,
        w.max_width as f64 / 1e3,
        w.replays,
        w.forgeries
    );
}
