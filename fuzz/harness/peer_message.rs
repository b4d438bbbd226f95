//! The `peer_message` harness: the overlay's peer-message parser
//! (`bft_overlay::peer::wire`) and the receive path of one
//! `bft_overlay::peer::PeerNode`, driven by a sequence of operations decoded
//! from the fuzz input: datagrams of arbitrary octets from arbitrary
//! addresses, and messages built from the input (requests, responses and
//! follow-ups with or without an exchange to match, from peers, strangers
//! and the node itself, replayed sequence numbers, far-future HLCs, huge and
//! inverted intervals), signed with the right pair key, the wrong one or
//! none, then maybe mutated and, when a flag byte says so, signed again with
//! the right key so that the mutation gets past the MAC; replays and
//! reflections of earlier datagrams; poll rounds, transmit time stamps, key
//! rotation, own-bound changes and clock steps.
//!
//! Shared by `fuzz/fuzz_targets/peer_message.rs` (libFuzzer, nightly) and
//! `bft-overlay/tests/fuzz_regressions.rs` (replay of `fuzz/regressions/
//! peer_message/`, stable). A model of what the node must do is kept
//! alongside (its key table, one replay window per sender and key id, the
//! outstanding exchange per peer, the pending transmit handles) and
//! [`run`] panics when the node departs from it or from what
//! `docs/algorithm/peer-protocol.md` and the module documentation promise:
//!
//! - nothing panics; `Message::parse` takes exactly the 128-octet datagrams
//!   with the magic, version 1 and an ordered interval, and re-emits them
//!   unchanged (MAC aside);
//! - a datagram is dropped, with exactly one `Dropped` action naming the
//!   first failed check in the documented order (length, magic, version,
//!   interval, receiver, sender, key, MAC, replay window), or accepted;
//!   nothing else happens to a dropped datagram (counters aside);
//! - an accepted request is answered with exactly one response, to the
//!   peer's configured address whatever the source address, echoing the
//!   request; a response or follow-up is used only when it matches the one
//!   outstanding request (sequence number and `t1`; a follow-up once, after
//!   its response, with the same `t2`), else it is `Unmatched`; no datagram
//!   causes more than one datagram out, or more than three actions;
//! - every datagram the node sends parses, verifies under the pair key, is
//!   from the node to the peer it is addressed to, with increasing sequence
//!   numbers per peer and the node's own bound;
//! - a sample comes only from a matched exchange, dated at the request's
//!   poll, with a non-negative path delay, the responder's half width as
//!   its error, and `offset ± (path + error)` covering the exchange's range;
//! - the HLC never goes back; a peer HLC beyond `latest + min(width,
//!   max_hlc_lead_ns)` is reported and not adopted, any other is passed;
//! - state stays within the documented bounds: one replay window per
//!   (peer, key id) that ever authenticated, pending transmit handles only
//!   until they are used or expire (`response_timeout_ns`), one outstanding
//!   exchange per peer; after at most two `poll(now)` calls nothing is due
//!   at `now`, and `next_deadline` is never later than a deadline the node
//!   holds;
//! - the counters match the model.

#![allow(dead_code, unreachable_pub)]

#[path = "input.rs"]
mod input;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bft_overlay::Interval;
use bft_overlay::peer::wire::{self, BODY_LEN, FLAG_TWO_STEP, MAC_LEN, MAGIC, VERSION};
use bft_overlay::peer::{
    Action, BoundStatus, DropReason, HlcTimestamp, Key, KeyId, KeyTable, MESSAGE_LEN, Message,
    MessageType, NodeId, Now, OwnBound, PeerConfig, PeerNode, Transmit, TxHandle,
};
use input::Input;

/// Operations per input.
const MAX_OPS: usize = 256;
/// The node under test.
const ME: NodeId = 10;
/// Its configured peers.
const PEERS: [NodeId; 2] = [11, 12];
/// A node the table has a key for but that is not a peer.
const KEYED_STRANGER: NodeId = 13;
/// Key ids in play.
const KEY_IDS: [KeyId; 3] = [1, 2, 3];
/// The clock time at monotonic 0 (late 2023), ns.
const BASE_NS: u64 = 1_700_000_000_000_000_000;
/// The replay window (`bft_overlay::peer::replay::WINDOW`).
const WINDOW: u64 = 64;

/// The key the node shares with `peer` under `key_id` (fixed per pair and
/// id, so the harness can always sign as the peer).
fn pair_key(peer: NodeId, key_id: KeyId) -> Key {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&peer.to_be_bytes());
    k[8..12].copy_from_slice(&key_id.to_be_bytes());
    k[12..].copy_from_slice(b"peer-message-fuzz-k.");
    Key::new(k)
}

/// The configured address of a node.
fn addr(id: NodeId) -> SocketAddr {
    let last = u8::try_from(id % 250).unwrap_or(0);
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)), 3199)
}

/// Counts of what a run reached.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Datagrams handed to the node.
    pub datagrams: u64,
    /// Of which authenticated and fresh.
    pub accepted: u64,
    /// Dropped for a bad MAC (the mutations that did not get through).
    pub bad_mac: u64,
    /// Dropped as replays (duplicate or too old).
    pub replays: u64,
    /// Responses and follow-ups that matched no exchange.
    pub unmatched: u64,
    /// Requests answered.
    pub answered: u64,
    /// Samples (refinements included).
    pub samples: u64,
    /// Refined samples.
    pub refined: u64,
    /// Follow-ups the node sent.
    pub follow_ups: u64,
    /// Peer HLCs rejected.
    pub hlc_rejected: u64,
    /// Requests lost.
    pub lost: u64,
    /// The drop reasons seen (bit = position in `DropReason::ALL`).
    pub reasons: u16,
}

/// One sender's replay window, as a set.
#[derive(Clone, Debug, Default)]
struct Window {
    highest: u64,
    seen: BTreeSet<u64>,
}

impl Window {
    fn check(&self, seq: u64) -> Option<DropReason> {
        if seq == 0 {
            return Some(DropReason::TooOld);
        }
        if seq > self.highest {
            return None;
        }
        if self.highest - seq >= WINDOW {
            Some(DropReason::TooOld)
        } else if self.seen.contains(&seq) {
            Some(DropReason::Duplicate)
        } else {
            None
        }
    }

    fn accept(&mut self, seq: u64) {
        self.seen.insert(seq);
        self.highest = self.highest.max(seq);
        let floor = self.highest.saturating_sub(WINDOW - 1);
        self.seen = self.seen.split_off(&floor);
    }
}

/// The reply recorded for an outstanding request.
#[derive(Clone, Copy, Debug)]
struct Reply {
    t2: u64,
    t3: u64,
    t4: u64,
    bound: Interval,
    source: bool,
    follow_up_done: bool,
}

/// A request of the node waiting for its response.
#[derive(Clone, Copy, Debug)]
struct Outstanding {
    seq: u64,
    t1_sent: u64,
    t1: u64,
    sent_mono: u64,
    expires: u64,
    reply: Option<Reply>,
}

/// What a transmit handle stands for.
#[derive(Clone, Copy, Debug)]
enum Handle {
    Request {
        peer: NodeId,
        seq: u64,
    },
    Response {
        peer: NodeId,
        echo_seq: u64,
        t1: u64,
        t2: u64,
    },
}

/// The model's verdict on a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Drop(Option<NodeId>, DropReason),
    Accept,
}

struct State {
    node: PeerNode,
    config: PeerConfig,
    /// Every key of the universe (to sign as anyone).
    all_keys: KeyTable,
    /// The keys the node holds, and its sending key per peer.
    node_keys: BTreeSet<(NodeId, KeyId)>,
    send_key: BTreeMap<NodeId, KeyId>,
    windows: BTreeMap<(NodeId, KeyId), Window>,
    outstanding: BTreeMap<NodeId, Outstanding>,
    handles: BTreeMap<u64, (Handle, u64)>,
    /// The node's last sequence number per peer.
    node_seq: BTreeMap<NodeId, u64>,
    /// The next sequence number the harness signs with per sender and key.
    peer_seq: BTreeMap<(NodeId, KeyId), u64>,
    /// The latest datagrams delivered, and sent by the node.
    delivered: Vec<Vec<u8>>,
    sent: Vec<[u8; MESSAGE_LEN]>,
    /// Monotonic now, ns.
    mono: u64,
    /// The node's clock minus (BASE_NS + mono), ns.
    clock_offset: i64,
    last_hlc: HlcTimestamp,
    /// Counters the node must show.
    accepted: u64,
    drops: BTreeMap<DropReason, u64>,
    requests: u64,
    responses: u64,
    follow_ups: u64,
    samples: u64,
    not_source: u64,
    hlc_rejected: u64,
    lost: u64,
    stats: Stats,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(x)
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    i64::from_be_bytes(x)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(x)
}

fn count(s: &str, pat: &str) -> usize {
    s.matches(pat).count()
}

/// Usually nothing; sometimes flip, set or cut octets, or add some.
/// Returns whether anything changed.
fn mutate(u: &mut Input<'_>, m: &mut Vec<u8>) -> bool {
    let n = match u.u8() {
        0..=191 => 0,
        192..=239 => 1,
        _ => 1 + u.below(4),
    };
    for _ in 0..n {
        if m.is_empty() {
            break;
        }
        let at = u.below(m.len());
        match u.u8() % 8 {
            0..=2 => m[at] ^= 1 << (u.u8() % 8),
            3..=5 => m[at] = u.u8(),
            6 => m.truncate(at),
            _ => m.extend_from_slice(u.bytes(16)),
        }
    }
    n > 0
}

impl State {
    fn now(&self) -> Now {
        let clock = i128::from(BASE_NS) + i128::from(self.mono) + i128::from(self.clock_offset);
        Now {
            monotonic_ns: self.mono,
            clock_ns: u64::try_from(clock.max(0)).unwrap_or(u64::MAX),
        }
    }

    fn drop_count(&mut self, reason: DropReason) {
        *self.drops.entry(reason).or_default() += 1;
        if let Some(i) = DropReason::ALL.iter().position(|&r| r == reason) {
            self.stats.reasons |= 1 << i;
        }
        match reason {
            DropReason::BadMac => self.stats.bad_mac += 1,
            DropReason::Duplicate | DropReason::TooOld => self.stats.replays += 1,
            DropReason::Unmatched => self.stats.unmatched += 1,
            _ => {}
        }
    }

    /// The model's verdict on `bytes`, by the documented checks in order.
    fn classify(&self, bytes: &[u8]) -> Verdict {
        let Ok(b) = <&[u8; MESSAGE_LEN]>::try_from(bytes) else {
            return Verdict::Drop(None, DropReason::Length);
        };
        if b[..4] != MAGIC {
            return Verdict::Drop(None, DropReason::Magic);
        }
        if b[4] != VERSION {
            return Verdict::Drop(None, DropReason::Version);
        }
        if i64_at(b, 80) > i64_at(b, 88) {
            return Verdict::Drop(None, DropReason::InvertedInterval);
        }
        let sender = u64_at(b, 8);
        if u64_at(b, 16) != ME {
            return Verdict::Drop(Some(sender), DropReason::NotForUs);
        }
        if !PEERS.contains(&sender) {
            return Verdict::Drop(Some(sender), DropReason::UnknownPeer);
        }
        let key_id = u32_at(b, 24);
        if !self.node_keys.contains(&(sender, key_id)) {
            return Verdict::Drop(Some(sender), DropReason::UnknownKey);
        }
        let good = self
            .all_keys
            .mac(sender, key_id, b)
            .is_ok_and(|mac| mac[..] == b[BODY_LEN..]);
        if !good {
            return Verdict::Drop(Some(sender), DropReason::BadMac);
        }
        let seq = u64_at(b, 40);
        let window = self.windows.get(&(sender, key_id));
        if let Some(reason) = window.map_or_else(|| Window::default().check(seq), |w| w.check(seq))
        {
            return Verdict::Drop(Some(sender), reason);
        }
        Verdict::Accept
    }

    /// Check a datagram the node sends and return its message.
    fn check_send(&mut self, t: &Transmit, kind: MessageType) -> Message {
        assert_eq!(
            t.to,
            addr(t.peer),
            "sent to another address than the peer's"
        );
        assert!(PEERS.contains(&t.peer), "sent to {} , not a peer", t.peer);
        let (m, mac) = Message::parse(&t.bytes).expect("what the node sends parses");
        assert_eq!(m.kind, kind, "{m:?}");
        assert_eq!((m.sender, m.receiver), (ME, t.peer), "{m:?}");
        assert_eq!(
            Some(&m.key_id),
            self.send_key.get(&t.peer),
            "sent under another key than the sending key"
        );
        let expected = self
            .all_keys
            .mac(t.peer, m.key_id, &t.bytes)
            .expect("a key of the universe");
        assert_eq!(mac, expected, "the MAC of what the node sends");
        let last = self.node_seq.insert(t.peer, m.seq).unwrap_or(0);
        assert!(
            m.seq > last || (m.seq == u64::MAX && last == u64::MAX),
            "sequence numbers to {} go from {last} to {}",
            t.peer,
            m.seq
        );
        let (bound, status) = self.node.own_bound_at(self.now());
        assert_eq!(
            (m.lower_ns, m.upper_ns, m.status),
            (bound.lower(), bound.upper(), status),
            "a message without the node's bound"
        );
        assert_eq!(
            m.two_step(),
            kind == MessageType::Response && self.config.tx_timestamps,
            "two-step flag of {m:?}"
        );
        assert_eq!(
            t.tx_handle.is_some(),
            kind != MessageType::FollowUp && self.config.tx_timestamps,
            "transmit handle of {m:?}"
        );
        if self.sent.len() >= 8 {
            self.sent.remove(0);
        }
        self.sent.push(t.bytes);
        m
    }

    fn remember(&mut self, t: &Transmit, h: Handle, expires: u64) {
        if let Some(TxHandle(n)) = t.tx_handle {
            assert!(
                self.handles.insert(n, (h, expires)).is_none(),
                "transmit handle {n} handed out twice"
            );
        }
    }

    /// The sample (or drop) an exchange gives, checked against the model;
    /// `actions` is consumed from the front.
    fn expect_sample(
        &mut self,
        actions: &mut &[Action],
        peer: NodeId,
        o: &Outstanding,
        refined: bool,
    ) {
        let Some(r) = o.reply else {
            return;
        };
        if !r.source {
            if !refined {
                self.not_source += 1;
                match actions.split_first() {
                    Some((Action::NotSource { peer: p, .. }, rest)) if *p == peer => {
                        *actions = rest;
                    }
                    other => panic!("expected NotSource of {peer}, got {other:?}"),
                }
            }
            return;
        }
        let lo = i128::from(r.t3) - i128::from(r.t4);
        let hi = i128::from(r.t2) - i128::from(o.t1);
        let delta = hi - lo;
        if delta < -i128::from(self.config.delay_tolerance_ns) {
            self.drop_count(DropReason::NegativeDelay);
            match actions.split_first() {
                Some((
                    Action::Dropped {
                        peer: Some(p),
                        reason: DropReason::NegativeDelay,
                    },
                    rest,
                )) if *p == peer => *actions = rest,
                other => panic!("expected a NegativeDelay drop, got {other:?}"),
            }
            return;
        }
        self.samples += 1;
        self.stats.samples += 1;
        if refined {
            self.stats.refined += 1;
        }
        let (first, rest) = actions.split_first().expect("a sample");
        *actions = rest;
        let Action::Sample {
            peer: p,
            sample,
            refined: rf,
        } = *first
        else {
            panic!("expected a sample, got {first:?}");
        };
        assert_eq!((p, rf), (peer, refined), "{first:?}");
        assert_eq!(
            sample.measured_at_ns, o.sent_mono,
            "dated at the request's poll"
        );
        assert!(sample.measured_at_ns <= self.mono);
        assert!(sample.path_delay_ns >= 0, "{sample:?}");
        assert_eq!(
            sample.advertised_error_ns,
            r.bound.half_width(),
            "{sample:?}"
        );
        // offset ± (path + error) covers the exchange's range, unless
        // something saturated.
        let lower = lo + i128::from(r.bound.lower());
        let upper = hi + i128::from(r.bound.upper());
        let reach = i128::from(sample.path_delay_ns) + i128::from(sample.advertised_error_ns);
        let offset = i128::from(sample.offset_ns);
        let fits = |x: i128| i64::try_from(x).is_ok_and(|x| x > i64::MIN && x < i64::MAX);
        if fits(lower) && fits(upper) && fits(reach) && fits(offset) {
            assert!(
                offset - reach <= lower.min(upper) && offset + reach >= lower.max(upper),
                "{sample:?} does not cover [{lower}, {upper}]"
            );
        }
    }

    /// Hand a datagram to the node and check what it does.
    fn deliver(&mut self, bytes: &[u8], from: SocketAddr, rx_timestamp: u64) {
        let now = self.now();
        let verdict = self.classify(bytes);
        // The parser agrees with the model's first four checks.
        match Message::parse(bytes) {
            Ok((m, mac)) => {
                assert!(
                    !matches!(
                        verdict,
                        Verdict::Drop(
                            None,
                            DropReason::Length
                                | DropReason::Magic
                                | DropReason::Version
                                | DropReason::InvertedInterval
                        )
                    ),
                    "parsed {bytes:?}"
                );
                let mut again = m.emit();
                wire::set_mac(&mut again, &mac);
                assert_eq!(&again[..], bytes, "a parsed message re-emits unchanged");
            }
            Err(e) => assert_eq!(verdict, Verdict::Drop(None, e.into()), "{e}"),
        }
        let before_hlc = self.node.hlc();
        let (_, latest) = self.node.earliest_latest(now);
        self.stats.datagrams += 1;
        let actions = self.node.handle_datagram(now, rx_timestamp, from, bytes);
        assert!(
            actions.len() <= 3,
            "{} actions for one datagram",
            actions.len()
        );
        let sends = actions
            .iter()
            .filter(|a| matches!(a, Action::Send(_)))
            .count();
        assert!(sends <= 1, "one datagram caused {sends} datagrams");
        if let Verdict::Drop(peer, reason) = verdict {
            assert_eq!(
                actions,
                vec![Action::Dropped { peer, reason }],
                "the datagram should be dropped"
            );
            assert_eq!(
                self.node.hlc(),
                before_hlc,
                "a dropped datagram moved the HLC"
            );
            self.drop_count(reason);
            if matches!(reason, DropReason::Duplicate | DropReason::TooOld) {
                // Authenticated, so its key id has a window now.
                let (sender, key_id) = (u64_at(bytes, 8), u32_at(bytes, 24));
                self.windows.entry((sender, key_id)).or_default();
            }
            return;
        }
        // Accepted: a fresh message from a peer, under a key it has.
        let (m, _) = Message::parse(bytes).expect("accepted, so it parses");
        self.accepted += 1;
        self.stats.accepted += 1;
        self.windows
            .entry((m.sender, m.key_id))
            .or_default()
            .accept(m.seq);
        if self.delivered.len() >= 8 {
            self.delivered.remove(0);
        }
        self.delivered.push(bytes.to_vec());
        let mut rest: &[Action] = &actions;
        // The HLC: passed, or rejected beyond latest + min(width, lead).
        let width = if m.status.is_source() {
            m.upper_ns.abs_diff(m.lower_ns)
        } else {
            0
        };
        let limit = latest.saturating_add(width.min(self.config.max_hlc_lead_ns));
        if let Some((Action::HlcRejected { peer, rejected }, tail)) = rest.split_first() {
            assert_eq!(*peer, m.sender);
            assert_eq!((rejected.remote, rejected.limit_ns), (m.hlc, limit));
            assert!(m.hlc.physical_ns > limit, "rejected {rejected:?}");
            self.hlc_rejected += 1;
            self.stats.hlc_rejected += 1;
            rest = tail;
            // Not adopted: only the local clock (clamped) or the counter
            // moved it.
            assert!(
                self.node.hlc().physical_ns <= before_hlc.physical_ns.saturating_add(1).max(latest),
                "a rejected HLC was adopted: {:?}",
                self.node.hlc()
            );
        } else {
            assert!(
                m.hlc.physical_ns <= limit,
                "HLC {:?} beyond {limit} passed",
                m.hlc
            );
            if m.hlc.physical_ns < u64::MAX {
                assert!(self.node.hlc() > m.hlc, "the HLC is not above the peer's");
            }
        }
        match m.kind {
            MessageType::Request => {
                let (first, tail) = rest.split_first().expect("a request is answered");
                rest = tail;
                let Action::Send(t) = first else {
                    panic!("expected the response, got {first:?}");
                };
                let r = self.check_send(t, MessageType::Response);
                assert_eq!(t.peer, m.sender);
                assert_eq!(
                    (r.echo_seq, r.t1, r.t2, r.t3),
                    (m.seq, m.t1, rx_timestamp, now.clock_ns),
                    "the response does not echo the request"
                );
                self.responses += 1;
                self.stats.answered += 1;
                let expires = self.mono.saturating_add(self.config.response_timeout_ns);
                self.remember(
                    t,
                    Handle::Response {
                        peer: m.sender,
                        echo_seq: m.seq,
                        t1: m.t1,
                        t2: rx_timestamp,
                    },
                    expires,
                );
            }
            MessageType::Response => {
                let matched = self
                    .outstanding
                    .get_mut(&m.sender)
                    .filter(|o| o.reply.is_none() && o.seq == m.echo_seq && o.t1_sent == m.t1);
                if let Some(o) = matched {
                    o.reply = Some(Reply {
                        t2: m.t2,
                        t3: m.t3,
                        t4: rx_timestamp,
                        bound: Interval::new(m.lower_ns, m.upper_ns).expect("parsed, so ordered"),
                        source: m.status.is_source(),
                        follow_up_done: false,
                    });
                    let o = *o;
                    self.expect_sample(&mut rest, m.sender, &o, false);
                } else {
                    self.expect_unmatched(&mut rest, m.sender);
                }
            }
            MessageType::FollowUp => {
                let matched = self.outstanding.get_mut(&m.sender).filter(|o| {
                    o.seq == m.echo_seq
                        && o.t1_sent == m.t1
                        && o.reply.is_some_and(|r| !r.follow_up_done && r.t2 == m.t2)
                });
                if let Some(o) = matched {
                    if let Some(r) = o.reply.as_mut() {
                        r.t3 = m.t3;
                        r.follow_up_done = true;
                    }
                    let o = *o;
                    self.expect_sample(&mut rest, m.sender, &o, true);
                } else {
                    self.expect_unmatched(&mut rest, m.sender);
                }
            }
            MessageType::Unknown(_) => {
                self.drop_count(DropReason::UnknownType);
                assert_eq!(
                    rest.first(),
                    Some(&Action::Dropped {
                        peer: Some(m.sender),
                        reason: DropReason::UnknownType
                    })
                );
                rest = &rest[1..];
            }
        }
        assert!(rest.is_empty(), "unexpected actions {rest:?}");
    }

    fn expect_unmatched(&mut self, rest: &mut &[Action], peer: NodeId) {
        self.drop_count(DropReason::Unmatched);
        match rest.split_first() {
            Some((
                Action::Dropped {
                    peer: Some(p),
                    reason: DropReason::Unmatched,
                },
                tail,
            )) if *p == peer => *rest = tail,
            other => panic!("expected an Unmatched drop, got {other:?}"),
        }
    }

    /// `poll(now)` as an event loop calls it: again while `next_deadline`
    /// says something is due. With `response_timeout_ns` 0 a request is due
    /// the moment it is sent, but a second call must settle it.
    fn poll(&mut self) {
        let mut calls = 0;
        loop {
            self.poll_once();
            calls += 1;
            let next = self.node.next_deadline();
            if next > self.mono || self.mono == u64::MAX {
                break;
            }
            assert!(
                calls < 3,
                "something still due after {calls} polls: {next} <= {}",
                self.mono
            );
        }
    }

    /// One `poll(now)` and its checks.
    fn poll_once(&mut self) {
        let now = self.now();
        let mono = self.mono;
        // Exchanges past their time are lost (if unanswered) and forgotten.
        let mut expected_lost = Vec::new();
        self.outstanding.retain(|&peer, o| {
            if o.expires <= mono {
                if o.reply.is_none() {
                    expected_lost.push((peer, o.seq));
                }
                false
            } else {
                true
            }
        });
        self.handles.retain(|_, &mut (_, e)| e > mono);
        let actions = self.node.poll(now);
        let mut rest: &[Action] = &actions;
        for (peer, seq) in expected_lost {
            self.lost += 1;
            self.stats.lost += 1;
            assert_eq!(
                rest.first(),
                Some(&Action::Lost { peer, seq }),
                "expected the loss of {seq} to {peer}: {actions:?}"
            );
            rest = &rest[1..];
        }
        let mut requests = 0;
        let mut asked = BTreeSet::new();
        while let Some((first, tail)) = rest.split_first() {
            rest = tail;
            match *first {
                Action::Lost { peer, seq } => {
                    // The next request to `peer` replaces an unanswered one.
                    let o = self.outstanding.get(&peer).expect("lost what was not sent");
                    assert!(o.reply.is_none() && o.seq == seq, "{first:?} {o:?}");
                    assert!(
                        matches!(rest.first(), Some(Action::Send(t)) if t.peer == peer),
                        "a loss not followed by a new request: {actions:?}"
                    );
                    self.lost += 1;
                    self.stats.lost += 1;
                    self.outstanding.remove(&peer);
                }
                Action::Send(t) => {
                    requests += 1;
                    assert!(
                        asked.insert(t.peer),
                        "two requests to {} in one round",
                        t.peer
                    );
                    let m = self.check_send(&t, MessageType::Request);
                    assert_eq!(
                        (m.echo_seq, m.t1, m.t2, m.t3),
                        (0, now.clock_ns, 0, 0),
                        "{m:?}"
                    );
                    if let Some(o) = self.outstanding.get(&t.peer) {
                        assert!(o.reply.is_some(), "an unanswered request replaced silently");
                    }
                    let expires = mono.saturating_add(self.config.response_timeout_ns);
                    self.outstanding.insert(
                        t.peer,
                        Outstanding {
                            seq: m.seq,
                            t1_sent: m.t1,
                            t1: m.t1,
                            sent_mono: mono,
                            expires,
                            reply: None,
                        },
                    );
                    self.remember(
                        &t,
                        Handle::Request {
                            peer: t.peer,
                            seq: m.seq,
                        },
                        expires,
                    );
                    self.requests += 1;
                }
                ref other => panic!("poll did {other:?}"),
            }
        }
        assert!(
            requests <= self.config.fan_out.clamp(1, PEERS.len()),
            "{requests} requests in one round"
        );
    }

    /// A transmit time stamp for a handle the node gave out (or another).
    fn tx_timestamp(&mut self, handle: u64, ts: u64) {
        let now = self.now();
        let actions = self.node.tx_timestamp(now, TxHandle(handle), ts);
        let mut rest: &[Action] = &actions;
        if let Some((h, _)) = self.handles.remove(&handle) {
            match h {
                Handle::Request { peer, seq } => {
                    if let Some(o) = self.outstanding.get_mut(&peer).filter(|o| o.seq == seq) {
                        o.t1 = ts;
                        let o = *o;
                        if o.reply.is_some() {
                            self.expect_sample(&mut rest, peer, &o, true);
                        }
                    }
                }
                Handle::Response {
                    peer,
                    echo_seq,
                    t1,
                    t2,
                } => {
                    if self.send_key.contains_key(&peer) {
                        let (first, tail) = rest.split_first().expect("a follow-up");
                        rest = tail;
                        let Action::Send(t) = first else {
                            panic!("expected the follow-up, got {first:?}");
                        };
                        let f = self.check_send(t, MessageType::FollowUp);
                        assert_eq!(
                            (t.peer, f.echo_seq, f.t1, f.t2, f.t3),
                            (peer, echo_seq, t1, t2, ts)
                        );
                        self.follow_ups += 1;
                        self.stats.follow_ups += 1;
                    }
                }
            }
        }
        assert!(rest.is_empty(), "tx_timestamp did {rest:?}");
    }

    /// The node's counters and bounded state against the model.
    /// `dump`: also look at the node's state through its Debug form (slow:
    /// every few operations and at the end).
    fn check_state(&mut self, dump: bool) {
        let hlc = self.node.hlc();
        assert!(
            hlc >= self.last_hlc,
            "the HLC went back: {:?} after {:?}",
            hlc,
            self.last_hlc
        );
        self.last_hlc = hlc;
        let now = self.now();
        let (bound, status) = self.node.own_bound_at(now);
        if !status.is_source() {
            assert_eq!(bound, Interval::point(0));
        }
        let (e, l) = self.node.earliest_latest(now);
        assert!(e <= l, "earliest {e} after latest {l}");
        let c = self.node.counters();
        let drops = |r: DropReason| self.drops.get(&r).copied().unwrap_or(0);
        for r in DropReason::ALL {
            assert_eq!(c.drops.get(r), drops(r), "drops for {r}");
        }
        assert_eq!(
            (
                c.accepted,
                c.requests_sent,
                c.responses_sent,
                c.follow_ups_sent,
                c.samples,
                c.not_source,
                c.hlc_rejected,
                c.lost
            ),
            (
                self.accepted,
                self.requests,
                self.responses,
                self.follow_ups,
                self.samples,
                self.not_source,
                self.hlc_rejected,
                self.lost
            ),
            "counters"
        );
        for &p in &PEERS {
            assert_eq!(
                self.node.keys_mut().send_key(p),
                self.send_key.get(&p).copied(),
                "sending key of {p}"
            );
        }
        // next_deadline never later than a deadline the node holds.
        let held = self
            .outstanding
            .values()
            .map(|o| o.expires)
            .chain(self.handles.values().map(|&(_, e)| e))
            .min();
        if let Some(d) = held {
            assert!(self.node.next_deadline() <= d, "next_deadline past {d}");
        }
        if !dump {
            return;
        }
        // Bounded state, seen through the node's Debug form: one window per
        // (peer, key id) that authenticated, the live transmit handles,
        // at most one exchange per peer.
        let dump = format!("{:?}", self.node);
        assert_eq!(
            count(&dump, "ReplayWindow {"),
            self.windows.len(),
            "replay windows"
        );
        assert_eq!(
            count(&dump, "TxHandle("),
            self.handles.len(),
            "pending handles"
        );
        assert!(count(&dump, "outstanding: Some(") <= PEERS.len());
    }

    fn pick_from(&self, u: &mut Input<'_>, claimed: NodeId) -> SocketAddr {
        match u.u8() % 4 {
            0 | 1 => addr(claimed),
            2 => addr(PEERS[u.below(PEERS.len())]),
            _ => {
                if u.bool() {
                    SocketAddr::new(IpAddr::V6(Ipv6Addr::from(u.array::<16>())), u.u16())
                } else {
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(u.array::<4>())), u.u16())
                }
            }
        }
    }

    /// A time on a clock near ours.
    fn near(&self, u: &mut Input<'_>) -> u64 {
        match u.u8() {
            0xFF => u.u64(),
            0xFE => 0,
            _ => self
                .now()
                .clock_ns
                .saturating_add_signed(i64::from(u.i32())),
        }
    }

    /// Sign `bytes` as its claimed sender under its claimed key id, if the
    /// universe has that key.
    fn resign(&self, bytes: &mut [u8; MESSAGE_LEN]) {
        let sender = u64_at(bytes, 8);
        let key_id = u32_at(bytes, 24);
        let _ = self.all_keys.sign(sender, key_id, bytes);
    }

    /// A message built from the input, signed and maybe mutated.
    fn build(&mut self, u: &mut Input<'_>) -> (Vec<u8>, SocketAddr, u64) {
        let kind = match u.u8() % 8 {
            0..=2 => MessageType::Request,
            3 | 4 => MessageType::Response,
            5 | 6 => MessageType::FollowUp,
            _ => MessageType::from_code(u.u8()),
        };
        let sender = match u.u8() % 8 {
            0..=2 => PEERS[0],
            3 | 4 => PEERS[1],
            5 => KEYED_STRANGER,
            6 => ME,
            _ => u.u64(),
        };
        let receiver = if u.u8() < 0xF0 { ME } else { u.u64() };
        let key_id = match u.u8() % 8 {
            0..=4 => self.send_key.get(&sender).copied().unwrap_or(1),
            5 => 2,
            6 => 3,
            _ => u.u32(),
        };
        let slot = (sender, key_id);
        let next = self.peer_seq.get(&slot).copied().unwrap_or(1);
        let seq = match u.u8() % 8 {
            0..=4 => {
                self.peer_seq.insert(slot, next.saturating_add(1));
                next
            }
            5 => next.saturating_sub(1),
            6 => next.saturating_sub(1 + u64::from(u.u8())),
            _ => u.u64(),
        };
        let status = match u.u8() % 4 {
            0 | 1 => BoundStatus::Synchronized,
            2 => BoundStatus::from_code(u.u8() % 3),
            _ => BoundStatus::from_code(u.u8()),
        };
        let flags = if u.u8() == 0xFF {
            u.u8()
        } else {
            FLAG_TWO_STEP
        };
        let clock = self.now().clock_ns;
        let hlc = HlcTimestamp {
            physical_ns: match u.u8() % 8 {
                0..=3 => clock.saturating_add_signed(i64::from(u.i16())),
                4 => clock.saturating_add(u64::from(u.u32()) * 1_000),
                5 => u64::MAX - u64::from(u.u8()),
                6 => 0,
                _ => u.u64(),
            },
            logical: if u.u8() == 0xFF { u.u32() } else { 0 },
        };
        let out = self.outstanding.get(&sender).copied();
        let (echo_seq, t1) = match (kind, out) {
            (MessageType::Response | MessageType::FollowUp, Some(o)) if u.u8() < 0xE0 => {
                (o.seq, o.t1_sent)
            }
            (MessageType::Request, _) => (0, self.near(u)),
            _ => (u.u64(), u.u64()),
        };
        let t2 = match (kind, out.and_then(|o| o.reply)) {
            (MessageType::FollowUp, Some(r)) if u.u8() < 0xE0 => r.t2,
            (MessageType::Request, _) => 0,
            _ => self.near(u),
        };
        let t3 = if kind == MessageType::Request {
            0
        } else {
            self.near(u)
        };
        let (lower_ns, upper_ns) = match u.u8() % 8 {
            0..=4 => {
                let w = i64::from(u.u16());
                let c = i64::from(u.i16()) * 1_000;
                (c - w, c + w)
            }
            5 => (i64::MIN, i64::MAX),
            6 => {
                let (a, b) = (u.i64(), u.i64());
                (a.min(b), a.max(b))
            }
            _ => (u.i64(), u.i64()),
        };
        let m = Message {
            kind,
            flags,
            status,
            sender,
            receiver,
            key_id,
            hlc,
            seq,
            echo_seq,
            t1,
            t2,
            t3,
            lower_ns,
            upper_ns,
        };
        let mut bytes = m.emit();
        match u.u8() {
            // The right key (the common case).
            0..=0xDF => self.resign(&mut bytes),
            // Another pair's key under this key id.
            0xE0..=0xEF => {
                let _ = self
                    .all_keys
                    .sign(PEERS[1] ^ PEERS[0] ^ sender, key_id, &mut bytes);
            }
            // A MAC from the input, or none.
            0xF0..=0xF7 => wire::set_mac(&mut bytes, &u.array::<MAC_LEN>()),
            _ => {}
        }
        let mut data = bytes.to_vec();
        if mutate(u, &mut data) && u.u8() >= 0x80 {
            // Get the mutation past the MAC: sign what it left.
            if let Ok(b) = <&mut [u8; MESSAGE_LEN]>::try_from(&mut data[..]) {
                self.resign(b);
            }
        }
        let from = self.pick_from(u, sender);
        let rx = self.near(u);
        (data, from, rx)
    }
}

/// Run one input; panics on a broken invariant. Returns what it reached.
pub fn run(data: &[u8]) -> Stats {
    let mut u = Input::new(data);
    let config = PeerConfig {
        node_id: ME,
        poll_interval_ns: match u.u8() % 4 {
            0 => 1_000_000_000,
            1 => 1_000_000 * (1 + u64::from(u.u16())),
            2 => u.u64(),
            _ => 125_000_000,
        },
        fan_out: 1 + u.below(3),
        seed: u.u64(),
        response_timeout_ns: match u.u8() % 4 {
            0 => 500_000_000,
            1 => u64::from(u.u32()),
            2 => 0,
            _ => u.u64(),
        },
        tx_timestamps: u.bool(),
        delay_tolerance_ns: u64::from(u.u16()),
        max_hlc_lead_ns: match u.u8() % 4 {
            0 => 1_000_000,
            1 => u.u64(),
            2 => 0,
            _ => u64::from(u.u32()),
        },
        own_drift_ppb: if u.bool() { u64::from(u.u32()) } else { 15_000 },
        seq_base: match u.u8() % 4 {
            0 => 0,
            1 => u.u64(),
            2 => u64::MAX - u64::from(u.u8()),
            _ => u64::from(u.u32()),
        },
    };
    let mut all_keys = KeyTable::new();
    for id in [PEERS[0], PEERS[1], KEYED_STRANGER, ME] {
        for k in KEY_IDS {
            all_keys.insert(id, k, pair_key(id, k));
        }
    }
    // The node starts with key id 1 of each peer and of the stranger, and
    // key id 2 of the second peer (a rotation in progress).
    let mut node_keys = BTreeSet::new();
    let mut keys = KeyTable::new();
    for (id, k) in [
        (PEERS[0], 1),
        (PEERS[1], 1),
        (PEERS[1], 2),
        (KEYED_STRANGER, 1),
    ] {
        keys.insert(id, k, pair_key(id, k));
        node_keys.insert((id, k));
    }
    let node = match PeerNode::new(config, keys, PEERS.iter().map(|&p| (p, addr(p)))) {
        Ok(n) => n,
        Err(e) => {
            assert!(
                config.poll_interval_ns == 0 || config.response_timeout_ns == 0,
                "refused: {e}"
            );
            return Stats::default();
        }
    };
    assert_ne!(config.poll_interval_ns, 0, "a zero poll interval was taken");
    assert_ne!(
        config.response_timeout_ns, 0,
        "a zero response timeout was taken"
    );
    let mut s = State {
        node,
        config,
        all_keys,
        node_keys,
        send_key: [(PEERS[0], 1), (PEERS[1], 1), (KEYED_STRANGER, 1)]
            .into_iter()
            .collect(),
        windows: BTreeMap::new(),
        outstanding: BTreeMap::new(),
        handles: BTreeMap::new(),
        node_seq: BTreeMap::new(),
        peer_seq: BTreeMap::new(),
        delivered: Vec::new(),
        sent: Vec::new(),
        mono: u64::from(u.u32()),
        clock_offset: i64::from(u.i32()),
        last_hlc: HlcTimestamp::default(),
        accepted: 0,
        drops: BTreeMap::new(),
        requests: 0,
        responses: 0,
        follow_ups: 0,
        samples: 0,
        not_source: 0,
        hlc_rejected: 0,
        lost: 0,
        stats: Stats::default(),
    };
    s.poll();
    s.check_state(true);

    for op in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        match u.u8() % 16 {
            // Arbitrary octets from anywhere.
            0 => {
                let data = u.bytes(200).to_vec();
                let from = s.pick_from(&mut u, PEERS[0]);
                let rx = s.near(&mut u);
                s.deliver(&data, from, rx);
            }
            // A built message (the common case).
            1..=6 => {
                let (data, from, rx) = s.build(&mut u);
                s.deliver(&data, from, rx);
            }
            // An earlier datagram again (a replay), maybe mutated and signed
            // again.
            7 => {
                if !s.delivered.is_empty() {
                    let mut data = s.delivered[u.below(s.delivered.len())].clone();
                    if mutate(&mut u, &mut data)
                        && u.u8() >= 0x80
                        && let Ok(b) = <&mut [u8; MESSAGE_LEN]>::try_from(&mut data[..])
                    {
                        s.resign(b);
                    }
                    let from = s.pick_from(&mut u, PEERS[0]);
                    let rx = s.near(&mut u);
                    s.deliver(&data, from, rx);
                }
            }
            // One of the node's own datagrams back: as sent (to a peer, so
            // not for us), or turned round as if the peer had sent it
            // (sender and receiver swapped, signed by the peer).
            8 => {
                if !s.sent.is_empty() {
                    let mut b = s.sent[u.below(s.sent.len())];
                    if u.bool() {
                        let (snd, rcv) = (u64_at(&b, 8), u64_at(&b, 16));
                        b[8..16].copy_from_slice(&rcv.to_be_bytes());
                        b[16..24].copy_from_slice(&snd.to_be_bytes());
                        s.resign(&mut b);
                    }
                    let from = s.pick_from(&mut u, u64_at(&b, 8));
                    let rx = s.near(&mut u);
                    s.deliver(&b, from, rx);
                }
            }
            // Time passes by a little; poll.
            9 => {
                s.mono = s.mono.saturating_add(u64::from(u.u16()) * 10_000);
                s.poll();
            }
            // Jump to the next deadline (or a bit before or after it).
            10 => {
                let at = i128::from(s.node.next_deadline()) + i128::from(u.i8()) * 1_000;
                let at = u64::try_from(at.max(0)).unwrap_or(u64::MAX);
                // Never past a day beyond now (a deadline at u64::MAX is
                // "never").
                s.mono = s
                    .mono
                    .max(at.min(s.mono.saturating_add(86_400_000_000_000)));
                s.poll();
            }
            // A transmit time stamp: for a live handle, or any.
            11 => {
                let live: Vec<u64> = s.handles.keys().copied().collect();
                let handle = if !live.is_empty() && u.u8() < 0xF0 {
                    live[u.below(live.len())]
                } else {
                    u.u64() % 64
                };
                let ts = s.near(&mut u);
                s.tx_timestamp(handle, ts);
            }
            // The node's own bound changes.
            12 => {
                let interval = match u.u8() % 4 {
                    0 | 1 => {
                        let w = i64::from(u.u16());
                        Interval::new(-w, w).expect("ordered")
                    }
                    2 => Interval::new(i64::MIN, i64::MAX).expect("ordered"),
                    _ => {
                        let (a, b) = (u.i64(), u.i64());
                        Interval::new(a.min(b), a.max(b)).expect("ordered")
                    }
                };
                let status = BoundStatus::from_code(u.u8() % 4);
                s.node.set_own_bound(s.now(), OwnBound { interval, status });
            }
            // Key rotation.
            13 => {
                let peer = [PEERS[0], PEERS[1], KEYED_STRANGER][u.below(3)];
                let key_id = KEY_IDS[u.below(KEY_IDS.len())];
                match u.u8() % 3 {
                    0 => {
                        s.node
                            .keys_mut()
                            .insert(peer, key_id, pair_key(peer, key_id));
                        s.node_keys.insert((peer, key_id));
                        s.send_key.entry(peer).or_insert(key_id);
                    }
                    1 => {
                        s.node.keys_mut().remove(peer, key_id);
                        s.node_keys.remove(&(peer, key_id));
                        if s.send_key.get(&peer) == Some(&key_id) {
                            match s.node_keys.range((peer, 0)..=(peer, KeyId::MAX)).next() {
                                Some(&(_, k)) => s.send_key.insert(peer, k),
                                None => s.send_key.remove(&peer),
                            };
                        }
                    }
                    _ => {
                        let has = s.node_keys.contains(&(peer, key_id));
                        assert_eq!(s.node.keys_mut().set_send_key(peer, key_id), has);
                        if has {
                            s.send_key.insert(peer, key_id);
                        }
                    }
                }
            }
            // The clock steps, and a local HLC event.
            14 => {
                s.clock_offset = s.clock_offset.saturating_add(i64::from(u.i32()) * 1_000);
                let now = s.now();
                let before = s.node.hlc();
                let (_, latest) = s.node.earliest_latest(now);
                let t = s.node.hlc_now(now);
                assert!(
                    t > before || before.physical_ns == u64::MAX,
                    "hlc_now went back"
                );
                assert!(
                    t.physical_ns <= before.physical_ns.saturating_add(1).max(latest),
                    "hlc_now beyond the bound: {t:?}"
                );
            }
            // A long silence.
            _ => {
                s.mono = s.mono.saturating_add(u64::from(u.u8()) * 1_000_000_000);
                s.poll();
            }
        }
        s.check_state(op % 32 == 31);
    }
    s.check_state(true);
    s.stats
}
