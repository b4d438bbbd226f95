//! Tests of membership by gossip: the table alone, then whole nodes in a
//! simulated network (convergence, liars, strangers, floods).

use alloc::collections::{BTreeMap, BTreeSet, BinaryHeap};
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use proptest::prelude::*;

use super::*;
use crate::peer::gossip::{FLAG_PULL, GOSSIP_LEN, Gossip};
use crate::peer::keys::{Key, KeyTable};
use crate::peer::node::{Action, DropReason, Now, PeerConfig, PeerNode};
use crate::peer::wire::{BoundStatus, HlcTimestamp};

fn addr(id: NodeId) -> SocketAddr {
    let b = u8::try_from(id % 250).unwrap_or(0);
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, b)), 3190)
}

fn wrong(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 9, 9, n)), 3190)
}

// ---- the table alone ----

fn table() -> Membership {
    Membership::new(MembershipConfig {
        max_candidates: 8,
        probes_per_round: 2,
        retry_after_ns: 1_000,
        ..MembershipConfig::default()
    })
}

#[test]
fn hints_are_judged_by_standing_and_address() {
    let mut m = table();
    let g = Via::Gossip(9);
    assert_eq!(
        m.hint(0, 5, Some(addr(5)), g, Standing::Untrusted),
        Err(Refusal::Untrusted)
    );
    assert_eq!(
        m.hint(0, 1, Some(addr(1)), g, Standing::Own),
        Err(Refusal::Own)
    );
    assert_eq!(
        m.hint(0, 2, Some(addr(2)), g, Standing::Configured),
        Err(Refusal::Pinned)
    );
    assert_eq!(
        m.hint(0, 3, Some(addr(3)), g, Standing::AdmittedHere),
        Ok(false)
    );
    for bad in [
        None,
        Some("0.0.0.0:3190".parse().unwrap()),
        Some("10.0.0.1:0".parse().unwrap()),
        Some("224.0.1.129:3190".parse().unwrap()),
        Some("255.255.255.255:3190".parse().unwrap()),
        Some("[ff02::1]:3190".parse().unwrap()),
    ] {
        assert_eq!(m.hint(0, 4, bad, g, Standing::Other), Err(Refusal::Address));
    }
    assert_eq!(m.hint(0, 4, Some(addr(4)), g, Standing::Other), Ok(true));
    assert_eq!(m.hint(0, 4, Some(addr(4)), g, Standing::Other), Ok(false));
    let c = m.counters();
    assert_eq!(c.hints_received, 12);
    assert_eq!(c.hints_known, 1);
    assert_eq!(c.refused.get(Refusal::Address), 6);
    assert_eq!(c.refused.total(), 9);
    let mut v4 = Membership::new(MembershipConfig {
        family: Family::V4,
        ..MembershipConfig::default()
    });
    assert_eq!(
        v4.hint(
            0,
            4,
            Some("[2001:db8::4]:3190".parse().unwrap()),
            g,
            Standing::Other
        ),
        Err(Refusal::Address)
    );
}

#[test]
fn candidates_are_bounded_per_id_per_gossiper_and_in_all() {
    let mut m = table();
    // Two addresses per id.
    assert_eq!(
        m.hint(0, 4, Some(wrong(1)), Via::Gossip(9), Standing::Other),
        Ok(true)
    );
    assert_eq!(
        m.hint(0, 4, Some(wrong(2)), Via::Gossip(8), Standing::Other),
        Ok(true)
    );
    assert_eq!(
        m.hint(0, 4, Some(wrong(3)), Via::Gossip(7), Standing::Other),
        Err(Refusal::CandidatesFull)
    );
    // A gossiper's share: max(8 / 4, 2) = 2 (gossiper 9 has one already).
    assert_eq!(
        m.hint(0, 5, Some(addr(5)), Via::Gossip(9), Standing::Other),
        Ok(true)
    );
    assert_eq!(
        m.hint(0, 6, Some(addr(6)), Via::Gossip(9), Standing::Other),
        Err(Refusal::CandidatesFull)
    );
    for id in 10..14 {
        assert_eq!(
            m.hint(id, id, Some(addr(id)), Via::Gossip(id), Standing::Other),
            Ok(true)
        );
    }
    assert_eq!(m.candidate_count(), 7);
    assert_eq!(
        m.hint(1, 20, Some(addr(20)), Via::Gossip(20), Standing::Other),
        Ok(true)
    );
    assert_eq!(
        m.hint(2, 21, Some(addr(21)), Via::Gossip(21), Standing::Other),
        Err(Refusal::CandidatesFull)
    );
    // A node's own contact displaces the oldest gossiped candidate.
    assert_eq!(
        m.hint(3, 22, Some(addr(22)), Via::Contact, Standing::Other),
        Ok(true)
    );
    assert_eq!(m.candidate_count(), 8);
    assert!(m.candidates().any(|(id, _, _)| id == 22));
}

#[test]
fn probes_are_budgeted_answered_from_the_probed_address_or_refused() {
    let mut m = table();
    for id in 2..6 {
        m.hint(0, id, Some(addr(id)), Via::Gossip(9), Standing::Other)
            .ok();
    }
    m.hint(1, 7, Some(addr(7)), Via::Contact, Standing::Other)
        .unwrap();
    assert!(m.probes_waiting());
    let due = m.due_probes();
    // Budget 2; the contact first, then the oldest.
    assert_eq!(due, vec![(7, addr(7)), (2, addr(2))]);
    m.probe_sent(7, addr(7), 100, 50);
    m.probe_sent(2, addr(2), 101, 50);
    assert!(!m.probes_waiting(), "budget spent");
    assert_eq!(m.next_expiry(), Some(50));
    // Not an answer to a probe.
    assert_eq!(m.answer(10, 7, 0, addr(7)), None);
    assert_eq!(m.answer(10, 7, 99, addr(7)), None);
    // 7 answers from where it was probed: admitted there.
    assert_eq!(m.answer(10, 7, 100, addr(7)), Some(Ok(addr(7))));
    // 2's answer comes from elsewhere: refused, remembered.
    assert_eq!(
        m.answer(10, 2, 101, wrong(1)),
        Some(Err((addr(2), Refusal::WrongSource)))
    );
    assert_eq!(
        m.hint(11, 2, Some(addr(2)), Via::Gossip(8), Standing::Other),
        Err(Refusal::RecentlyFailed)
    );
    // After retry-after (1 us) it may be tried again.
    assert_eq!(
        m.hint(2_000, 2, Some(addr(2)), Via::Gossip(8), Standing::Other),
        Ok(true)
    );
    m.new_round();
    let due = m.due_probes();
    assert_eq!(due.len(), 2);
    for (i, (id, a)) in due.into_iter().enumerate() {
        m.probe_sent(id, a, 200 + i as u64, 3_000);
    }
    // Unanswered: a second probe, then refused.
    assert!(m.expire(3_000).is_empty());
    m.new_round();
    let again = m.due_probes();
    assert_eq!(again.len(), 2);
    for (i, (id, a)) in again.into_iter().enumerate() {
        m.probe_sent(id, a, 300 + i as u64, 4_000);
    }
    let dead = m.expire(4_000);
    assert_eq!(dead.len(), 2);
    assert!(dead.iter().all(|e| matches!(
        e,
        MemberEvent::Refused {
            reason: Refusal::Unanswered,
            ..
        }
    )));
    assert_eq!(m.counters().refused.get(Refusal::Unanswered), 2);
    assert_eq!(m.counters().probes_sent, 6);
}

#[test]
fn hints_rotate_over_the_members_and_skip_the_receiver() {
    let mut m = table();
    let members: BTreeMap<NodeId, SocketAddr> = (1..=8).map(|id| (id, addr(id))).collect();
    let a: Vec<NodeId> = m.next_hints(&members, 3).iter().map(|h| h.node).collect();
    assert_eq!(a, [1, 2, 4, 5, 6]);
    let b: Vec<NodeId> = m.next_hints(&members, 3).iter().map(|h| h.node).collect();
    assert_eq!(b, [7, 8, 1, 2, 4]);
    let small: BTreeMap<NodeId, SocketAddr> = [(1, addr(1)), (2, addr(2))].into();
    let c: Vec<NodeId> = m.next_hints(&small, 2).iter().map(|h| h.node).collect();
    assert_eq!(c, [1]);
    assert!(m.next_hints(&BTreeMap::new(), 2).is_empty());
}

// ---- whole nodes in a simulated network ----

const INTERVAL: u64 = 1_000_000_000;
const DELAY: u64 = 200_000;
const CLOCK_BASE: u64 = 1_700_000_000_000_000_000;

fn pair_key(a: NodeId, b: NodeId) -> Key {
    let (lo, hi) = (a.min(b), a.max(b));
    let mut k = [0u8; 32];
    for (i, x) in k.iter_mut().enumerate() {
        *x = u8::try_from((lo * 31 + hi * 7 + i as u64 * 13) % 251).unwrap_or(0);
    }
    Key::new(k)
}

fn keys(me: NodeId, trusted: impl IntoIterator<Item = NodeId>) -> KeyTable {
    let mut t = KeyTable::new();
    for p in trusted {
        if p != me {
            t.insert(p, 1, pair_key(me, p));
        }
    }
    t
}

struct SimNode {
    id: NodeId,
    at: SocketAddr,
    node: PeerNode,
    max_probes_in_round: usize,
    probes_this_round: usize,
    /// Cut off: sends nothing, receives nothing.
    silent: bool,
}

/// A datagram in flight: (arrival, order, to, from, bytes).
type InFlight = (u64, u64, SocketAddr, SocketAddr, Vec<u8>);

struct Net {
    nodes: Vec<SimNode>,
    queue: BinaryHeap<Reverse<InFlight>>,
    n: u64,
    t: u64,
    events: Vec<(NodeId, MemberEvent)>,
    drops: Vec<(NodeId, DropReason)>,
}

fn now(t: u64) -> Now {
    Now {
        monotonic_ns: t,
        clock_ns: CLOCK_BASE + t,
    }
}

fn member_config() -> MembershipConfig {
    MembershipConfig {
        max_members: 32,
        max_candidates: 16,
        probes_per_round: 4,
        answers_per_round: 16,
        expire_after_ns: 20 * INTERVAL,
        retry_after_ns: 30 * INTERVAL,
        family: Family::V4,
    }
}

impl Net {
    fn new() -> Self {
        Self {
            nodes: Vec::new(),
            queue: BinaryHeap::new(),
            n: 0,
            t: 0,
            events: Vec::new(),
            drops: Vec::new(),
        }
    }

    fn add(&mut self, id: NodeId, trusted: &[NodeId], seeds: &[NodeId], seed: u64) {
        let node = PeerNode::new(
            PeerConfig {
                node_id: id,
                fan_out: 2,
                seed,
                poll_interval_ns: INTERVAL,
                response_timeout_ns: INTERVAL / 4,
                seq_base: 1_000,
                ..PeerConfig::default()
            },
            keys(id, trusted.iter().copied()),
            seeds.iter().map(|&s| (s, addr(s))),
        )
        .unwrap()
        .with_membership(member_config());
        self.nodes.push(SimNode {
            id,
            at: addr(id),
            node,
            max_probes_in_round: 0,
            probes_this_round: 0,
            silent: false,
        });
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, bytes: Vec<u8>) {
        self.n += 1;
        self.queue
            .push(Reverse((self.t + DELAY, self.n, to, from, bytes)));
    }

    fn act(&mut self, i: usize, mut actions: Vec<Action>) {
        let from = self.nodes[i].at;
        if self.nodes[i].silent {
            actions.clear();
        }
        for a in actions {
            match a {
                Action::Send(t) => {
                    if t.bytes[5] == 1 {
                        // Requests go out only when a round starts: the
                        // probe budget is per round.
                        self.nodes[i].probes_this_round = 0;
                    }
                    self.send(from, t.to, t.bytes.to_vec());
                }
                Action::SendGossip(t) => {
                    let g = Gossip::parse(&t.bytes).unwrap().0;
                    if g.hints.is_empty() && g.pull() && !self.nodes[i].node.is_member(t.peer) {
                        self.nodes[i].probes_this_round += 1;
                    }
                    self.send(from, t.to, t.bytes.to_vec());
                }
                Action::Member(e) => self.events.push((self.nodes[i].id, e)),
                Action::Dropped { reason, .. } => self.drops.push((self.nodes[i].id, reason)),
                _ => {}
            }
        }
    }

    /// Run until `end` (monotonic ns).
    fn run(&mut self, end: u64) {
        let mut guard = 0u64;
        loop {
            guard += 1;
            assert!(guard < 10_000_000, "runaway simulation");
            let next_poll = self
                .nodes
                .iter()
                .map(|n| n.node.next_deadline().max(self.t))
                .min()
                .unwrap_or(u64::MAX);
            let next_msg = self.queue.peek().map_or(u64::MAX, |Reverse(m)| m.0);
            let t = next_poll.min(next_msg);
            if t > end {
                self.t = end;
                return;
            }
            self.t = t;
            if next_msg <= next_poll {
                let Reverse((_, _, to, from, bytes)) = self.queue.pop().unwrap();
                if let Some(i) = self.nodes.iter().position(|n| n.at == to && !n.silent) {
                    let a =
                        self.nodes[i]
                            .node
                            .handle_datagram(now(t), CLOCK_BASE + t, from, &bytes);
                    self.act(i, a);
                }
            } else {
                for i in 0..self.nodes.len() {
                    if self.nodes[i].node.next_deadline() <= t {
                        let a = self.nodes[i].node.poll(now(t));
                        self.act(i, a);
                        let n = &mut self.nodes[i];
                        n.max_probes_in_round = n.max_probes_in_round.max(n.probes_this_round);
                    }
                }
            }
        }
    }

    fn members(&self, i: usize) -> BTreeSet<NodeId> {
        self.nodes[i].node.members().map(|m| m.id).collect()
    }

    fn all_know_all(&self, ids: &[NodeId]) -> bool {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| ids.contains(&n.id))
            .all(|(i, n)| {
                let want: BTreeSet<NodeId> = ids.iter().copied().filter(|&x| x != n.id).collect();
                want.is_subset(&self.members(i))
            })
    }

    /// Run round by round until every node of `ids` knows all others;
    /// the rounds it took.
    fn converge(&mut self, ids: &[NodeId], max_rounds: u64) -> Option<u64> {
        for r in 1..=max_rounds {
            self.run(r * INTERVAL);
            if self.all_know_all(ids) {
                return Some(r);
            }
        }
        None
    }
}

/// A gossip message from `from` to `to`, signed with their pair key (what
/// a member can send), carrying `hints`.
fn forged_gossip(from: NodeId, to: NodeId, seq: u64, hints: Vec<Hint>) -> [u8; GOSSIP_LEN] {
    let g = Gossip {
        flags: FLAG_PULL,
        status: BoundStatus::Unknown,
        sender: from,
        receiver: to,
        key_id: 1,
        hlc: HlcTimestamp::default(),
        seq,
        echo_seq: 0,
        hints,
    };
    let mut b = g.emit();
    let t = keys(from, [to]);
    let mac = t.mac_of(to, 1, crate::peer::gossip::body(&b)).unwrap();
    crate::peer::gossip::set_mac(&mut b, &mac);
    b
}

#[test]
fn a_chain_of_five_converges() {
    let ids = [1, 2, 3, 4, 5];
    let mut net = Net::new();
    for &id in &ids {
        let seed = if id == 5 { 4 } else { id + 1 };
        net.add(id, &ids, &[seed], id);
    }
    let rounds = net.converge(&ids, 10).expect("converges");
    assert!(rounds <= 6, "{rounds} rounds");
    net.run((rounds + 5) * INTERVAL);
    for n in &net.nodes {
        let c = n.node.membership_counters();
        assert_eq!(c.refused.total(), 0, "node {}: {c:?}", n.id);
        assert!(c.admitted >= 3, "node {}: {c:?}", n.id);
        assert!(n.node.counters().samples == 0 || n.node.counters().requests_sent > 0);
        assert!(n.max_probes_in_round <= 4);
    }
    assert!(net.drops.is_empty(), "{:?}", net.drops);
}

#[test]
fn a_liar_cannot_bind_ids_to_wrong_addresses_nor_admit_strangers() {
    // 1..=4 honest, 5 a liar (trusted: it holds real pair keys), 66 a
    // stranger nobody trusts (it holds keys of its own making).
    let ids = [1, 2, 3, 4, 5];
    let mut net = Net::new();
    for &id in &[1, 2, 3, 4] {
        let seed = if id == 4 { 1 } else { id + 1 };
        net.add(id, &ids, &[seed], id);
    }
    net.add(5, &ids, &[1], 5);
    net.add(66, &[1, 2, 3, 4, 5, 66], &[1, 2], 66);
    net.run(3 * INTERVAL);
    // The liar tells everyone: 2 is at 3's address, 3 at a black hole,
    // 4 at the liar's own address, 66 at its real address, and 1 (the
    // receiver itself, or another) at a multicast address.
    let lies = |to: NodeId| {
        vec![
            Hint {
                node: 2,
                addr: Some(addr(3)),
            },
            Hint {
                node: 3,
                addr: Some(wrong(7)),
            },
            Hint {
                node: 4,
                addr: Some(addr(5)),
            },
            Hint {
                node: 66,
                addr: Some(addr(66)),
            },
            Hint {
                node: if to == 1 { 2 } else { 1 },
                addr: Some("224.0.0.1:3190".parse().unwrap()),
            },
        ]
    };
    let mut seq = 1u64 << 40;
    for round in 0..10 {
        for to in 1..=4 {
            seq += 1;
            let b = forged_gossip(5, to, seq, lies(to));
            net.send(addr(5), addr(to), b.to_vec());
        }
        net.run((4 + round) * INTERVAL);
    }
    net.run(20 * INTERVAL);
    for (i, n) in net.nodes.iter().enumerate().take(4) {
        let members: BTreeMap<NodeId, SocketAddr> =
            n.node.members().map(|m| (m.id, m.addr)).collect();
        for (&id, &a) in &members {
            assert_eq!(a, addr(id), "node {} binds {id} to {a}", n.id);
        }
        assert!(
            !members.contains_key(&66),
            "node {} admitted the stranger",
            n.id
        );
        assert_eq!(
            net.members(i),
            [1, 2, 3, 4, 5].into_iter().filter(|&x| x != n.id).collect()
        );
        let c = n.node.membership_counters();
        assert!(
            c.refused.get(Refusal::Untrusted) >= 10,
            "node {}: {c:?}",
            n.id
        );
        // The multicast hint: refused for its address, or because it names
        // a configured peer (whose address gossip never changes).
        assert!(
            c.refused.get(Refusal::Address) + c.refused.get(Refusal::Pinned) >= 10,
            "node {}: {c:?}",
            n.id
        );
        assert!(
            c.refused.get(Refusal::Unanswered) >= 1,
            "node {}: {c:?}",
            n.id
        );
    }
    // The stranger was never admitted and its datagrams were dropped.
    assert!(net.drops.iter().any(|&(_, r)| r == DropReason::UnknownPeer));
    assert!(
        !net.events
            .iter()
            .any(|(_, e)| matches!(e, MemberEvent::Admitted { peer: 66, .. }))
    );
    assert!(
        net.nodes.iter().take(4).all(|n| n.max_probes_in_round <= 4),
        "probe budget"
    );
}

#[test]
fn a_silent_member_expires_and_a_moved_one_is_reprobed() {
    let ids = [1, 2, 3];
    let mut net = Net::new();
    net.add(1, &ids, &[2], 1);
    net.add(2, &ids, &[1], 2);
    net.add(3, &ids, &[2], 3);
    net.converge(&ids, 10).expect("converges");
    // 3 moves: its new address is 10.0.0.33.
    let moved: SocketAddr = "10.0.0.33:3190".parse().unwrap();
    net.nodes[2].at = moved;
    net.run(net.t + 10 * INTERVAL);
    for i in 0..2 {
        let m: BTreeMap<NodeId, SocketAddr> = net.nodes[i]
            .node
            .members()
            .map(|m| (m.id, m.addr))
            .collect();
        // 3 is learned at 1 (seeded with 2) and moves there; 2 learned 3
        // as well.
        assert_eq!(m.get(&3), Some(&moved), "node {}: {m:?}", i + 1);
    }
    assert!(
        net.events
            .iter()
            .any(|(_, e)| matches!(e, MemberEvent::Moved { peer: 3, .. }))
    );
    // 3 goes silent: it expires at the others (after max(20 s, 4 cycles)).
    net.nodes[2].silent = true;
    net.run(net.t + 30 * INTERVAL);
    for i in 0..2 {
        assert!(!net.members(i).contains(&3), "node {}", i + 1);
    }
    assert!(
        net.events
            .iter()
            .any(|(_, e)| matches!(e, MemberEvent::Expired { peer: 3, .. }))
    );
    // Configured peers stay.
    assert!(net.members(0).contains(&2));
}

#[test]
fn without_membership_nothing_changes() {
    let mut a = PeerNode::new(
        PeerConfig {
            node_id: 1,
            ..PeerConfig::default()
        },
        keys(1, [2, 3]),
        [(2, addr(2))],
    )
    .unwrap();
    // A trusted but unconfigured node's request, and a gossip datagram:
    // dropped as before (unknown peer; length).
    let b = forged_gossip(3, 1, 5, Vec::new());
    let d = a.handle_datagram(now(0), 0, addr(3), &b);
    assert_eq!(
        d,
        [Action::Dropped {
            peer: None,
            reason: DropReason::Length
        }]
    );
    assert!(a.membership().is_none());
    assert_eq!(a.membership_counters(), MembershipCounters::default());
}

static SLOWEST: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// N nodes, each seeded with one earlier node (a random tree): all
    /// know all within a bounded number of rounds.
    #[test]
    fn random_trees_converge(n in 2usize..14, picks in prop::collection::vec(any::<u64>(), 14), seed in any::<u64>()) {
        let ids: Vec<NodeId> = (1..=n as u64).collect();
        let mut net = Net::new();
        for (i, &id) in ids.iter().enumerate() {
            let s = if i == 0 {
                ids[1 + usize::try_from(picks[0] % (n as u64 - 1)).unwrap()]
            } else {
                ids[usize::try_from(picks[i] % i as u64).unwrap()]
            };
            net.add(id, &ids, &[s], seed ^ id);
        }
        // Measured: at most 3 rounds for up to 13 nodes.
        let rounds = net.converge(&ids, 8);
        prop_assert!(rounds.is_some(), "n = {n}: not converged in 8 rounds");
        let slowest = SLOWEST.fetch_max(rounds.unwrap_or(0), core::sync::atomic::Ordering::Relaxed);
        std::println!("n = {n}: {} rounds (slowest so far {slowest})", rounds.unwrap_or(0));
        for node in &net.nodes {
            prop_assert!(node.max_probes_in_round <= 4);
            let c = node.node.membership_counters();
            prop_assert_eq!(c.refused.total(), c.refused.get(Refusal::CandidatesFull), "{:?}", c);
        }
    }

    /// A member floods random hints (trusted and untrusted ids, random
    /// addresses): the tables stay bounded, no probe budget is exceeded,
    /// and nothing is admitted at an address its owner does not answer
    /// from.
    #[test]
    fn hint_floods_stay_bounded(hints in prop::collection::vec((0u64..40, any::<u8>(), any::<u16>()), 1..400)) {
        let ids = [1, 2, 3];
        let trusted: Vec<NodeId> = (1..=30).collect();
        let mut net = Net::new();
        net.add(1, &trusted, &[2], 1);
        net.add(2, &ids, &[1], 2);
        net.add(3, &ids, &[1], 3);
        net.run(2 * INTERVAL);
        let mut seq = 1u64 << 40;
        for (r, chunk) in hints.chunks(MAX_HINTS).enumerate() {
            seq += 1;
            let hs = chunk
                .iter()
                .map(|&(id, b, port)| Hint {
                    node: id,
                    addr: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, b % 3, b)), port)),
                })
                .collect();
            let g = forged_gossip(2, 1, seq, hs);
            net.send(addr(2), addr(1), g.to_vec());
            net.run(2 * INTERVAL + (r as u64 + 1) * INTERVAL / 4);
            let m = net.nodes[0].node.membership().unwrap();
            prop_assert!(m.candidate_count() <= 16);
            prop_assert!(m.failed_count() <= 32);
            prop_assert!(net.nodes[0].node.members().count() <= 32);
        }
        net.run(net.t + 5 * INTERVAL);
        prop_assert!(net.nodes[0].max_probes_in_round <= 4);
        for m in net.nodes[0].node.members() {
            prop_assert_eq!(m.addr, addr(m.id));
            prop_assert!(ids.contains(&m.id));
        }
    }
}
