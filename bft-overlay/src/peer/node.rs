//! [`PeerNode`]: one overlay node's side of the peer protocol.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::net::SocketAddr;

use super::exchange::{Exchange, ExchangeError};
use super::fanout::{FanOut, XorShift};
use super::gossip::{GOSSIP_LEN, GossipError};
use super::hlc::{Hlc, HlcRejected};
use super::keys::{AuthError, KeyTable};
use super::membership::{MemberEvent, Membership};
use super::replay::{ReplayError, ReplayWindow};
use super::wire::{
    BoundStatus, FLAG_TWO_STEP, HlcTimestamp, KeyId, MESSAGE_LEN, Message, MessageType, NodeId,
    WireError,
};
use crate::intersect::Interval;
use crate::source::SourceSample;

/// The two readings the caller takes at every input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// A monotonic clock (`CLOCK_MONOTONIC`), ns: timers and sample dates.
    pub monotonic_ns: u64,
    /// The port's clock (the one it time stamps with: the PHC with
    /// hardware time stamps, else the system clock), ns on its time scale,
    /// read when the input is handled (after a datagram was received,
    /// before anything returned is sent).
    pub clock_ns: u64,
}

/// How a node runs the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// This node's id.
    pub node_id: NodeId,
    /// Time between poll rounds, ns.
    pub poll_interval_ns: u64,
    /// `k`: requests per round (peers measured per interval).
    pub fan_out: usize,
    /// Seed of the fan-out order and of the first round's phase.
    pub seed: u64,
    /// How long a request waits for its response (and a response for its
    /// follow-up), ns.
    pub response_timeout_ns: u64,
    /// The port gives transmit time stamps: ask for them, and send a
    /// follow-up with the precise `t3` after each response (two-step).
    pub tx_timestamps: bool,
    /// A round trip down to minus this (ns) is taken as its magnitude.
    pub delay_tolerance_ns: u64,
    /// The largest lead over our latest a peer's HLC may have, ns.
    pub max_hlc_lead_ns: u64,
    /// How fast our own bound grows between [`PeerNode::set_own_bound`]
    /// calls, ppb (our clock's largest frequency error).
    pub own_drift_ppb: u64,
    /// Sequence numbers start above this. Set it to something that grows
    /// across restarts (the wall clock in ns at start, or a persisted
    /// counter), or peers drop a restarted node's messages as replays
    /// until it passes the numbers it used before.
    pub seq_base: u64,
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self {
            node_id: 0,
            poll_interval_ns: 1_000_000_000,
            fan_out: 3,
            seed: 1,
            response_timeout_ns: 500_000_000,
            tx_timestamps: false,
            delay_tolerance_ns: 100,
            max_hlc_lead_ns: 1_000_000,
            own_drift_ppb: 15_000,
            seq_base: 0,
        }
    }
}

/// The node's own bound: true time minus its clock lies in `interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnBound {
    /// True time minus the node's clock, ns.
    pub interval: Interval,
    /// Whether it means anything.
    pub status: BoundStatus,
}

mod members;

pub use members::MemberInfo;

/// Names a sent datagram whose transmit time stamp is wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxHandle(pub u64);

/// A datagram to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The peer it is for.
    pub peer: NodeId,
    /// The peer's configured (or, with membership, verified) address
    /// (never the source address of what caused it: a spoofed source
    /// cannot direct our answers).
    pub to: SocketAddr,
    /// The datagram.
    pub bytes: [u8; MESSAGE_LEN],
    /// When set, pass the transmit time stamp to
    /// [`PeerNode::tx_timestamp`] with this handle.
    pub tx_handle: Option<TxHandle>,
}

/// A gossip datagram to send (membership: a push-pull, an answer to a
/// pull, or a probe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GossipTransmit {
    /// The node it is for.
    pub peer: NodeId,
    /// Where: the member's verified address; a probed address; or, for an
    /// answer to a node not verified there, the source of its pull (at
    /// most `probes_per_round` such answers per round).
    pub to: SocketAddr,
    /// The datagram.
    pub bytes: [u8; GOSSIP_LEN],
}

/// Why a received datagram was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// Not [`MESSAGE_LEN`] bytes long.
    Length,
    /// Not a peer message.
    Magic,
    /// Another protocol version.
    Version,
    /// Inverted interval.
    InvertedInterval,
    /// Addressed to another node.
    NotForUs,
    /// The sender is not a configured peer.
    UnknownPeer,
    /// No key for the sender and key id.
    UnknownKey,
    /// The MAC does not verify.
    BadMac,
    /// A sequence number seen before.
    Duplicate,
    /// A sequence number below the replay window.
    TooOld,
    /// A response or follow-up that matches no outstanding request.
    Unmatched,
    /// The exchange's round trip is negative.
    NegativeDelay,
    /// An authenticated message of an unknown type.
    UnknownType,
    /// A gossip message of another type or with too many hints.
    Malformed,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [Self; 14] = [
        Self::Length,
        Self::Magic,
        Self::Version,
        Self::InvertedInterval,
        Self::NotForUs,
        Self::UnknownPeer,
        Self::UnknownKey,
        Self::BadMac,
        Self::Duplicate,
        Self::TooOld,
        Self::Unmatched,
        Self::NegativeDelay,
        Self::UnknownType,
        Self::Malformed,
    ];

    /// A short name for logs and metric labels.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Length => "length",
            Self::Magic => "magic",
            Self::Version => "version",
            Self::InvertedInterval => "inverted-interval",
            Self::NotForUs => "not-for-us",
            Self::UnknownPeer => "unknown-peer",
            Self::UnknownKey => "unknown-key",
            Self::BadMac => "bad-mac",
            Self::Duplicate => "duplicate",
            Self::TooOld => "too-old",
            Self::Unmatched => "unmatched",
            Self::NegativeDelay => "negative-delay",
            Self::UnknownType => "unknown-type",
            Self::Malformed => "malformed",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<WireError> for DropReason {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Length(_) => Self::Length,
            WireError::Magic => Self::Magic,
            WireError::Version(_) => Self::Version,
            WireError::InvertedInterval => Self::InvertedInterval,
        }
    }
}

impl From<GossipError> for DropReason {
    fn from(e: GossipError) -> Self {
        match e {
            GossipError::Length(_) => Self::Length,
            GossipError::Magic => Self::Magic,
            GossipError::Version(_) => Self::Version,
            GossipError::Malformed => Self::Malformed,
        }
    }
}

/// Drops counted by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropCounts([u64; DropReason::ALL.len()]);

impl DropCounts {
    /// Drops for `reason`.
    #[must_use]
    pub const fn get(&self, reason: DropReason) -> u64 {
        self.0[reason.index()]
    }

    /// All drops.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    fn add(&mut self, reason: DropReason) {
        let c = &mut self.0[reason.index()];
        *c = c.saturating_add(1);
    }
}

/// What a node has done, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerCounters {
    /// Requests sent.
    pub requests_sent: u64,
    /// Responses sent.
    pub responses_sent: u64,
    /// Follow-ups sent.
    pub follow_ups_sent: u64,
    /// Datagrams that authenticated and were fresh.
    pub accepted: u64,
    /// Samples produced (refinements included).
    pub samples: u64,
    /// Requests that got no response in time.
    pub lost: u64,
    /// Responses from peers whose status makes them no source.
    pub not_source: u64,
    /// Peer HLCs rejected as too far ahead.
    pub hlc_rejected: u64,
    /// Authenticated datagrams from another address than the peer's.
    pub address_mismatch: u64,
    /// Dropped datagrams by reason.
    pub drops: DropCounts,
}

/// Something for the caller to do or know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send a datagram.
    Send(Transmit),
    /// A measurement of `peer`: feed it to the guard with `peer` as the
    /// source id. A later, `refined` one of the same exchange (precise
    /// transmit stamps) replaces it.
    Sample {
        /// The peer.
        peer: NodeId,
        /// The measurement.
        sample: SourceSample,
        /// It refines the exchange's earlier sample.
        refined: bool,
    },
    /// `peer` answered but states no usable bound: a live peer, not a
    /// source.
    NotSource {
        /// The peer.
        peer: NodeId,
        /// What it stated.
        status: BoundStatus,
    },
    /// `peer`'s HLC was too far ahead and was not adopted (the message was
    /// otherwise used: the guard judges its time).
    HlcRejected {
        /// The peer.
        peer: NodeId,
        /// Its timestamp and the limit.
        rejected: HlcRejected,
    },
    /// A received datagram was dropped.
    Dropped {
        /// The authenticated or claimed sender, when the datagram parsed.
        peer: Option<NodeId>,
        /// Why.
        reason: DropReason,
    },
    /// A request to `peer` got no response in time.
    Lost {
        /// The peer.
        peer: NodeId,
        /// The request's sequence number.
        seq: u64,
    },
    /// Send a gossip datagram (membership only).
    SendGossip(GossipTransmit),
    /// The member table changed, or a probe failed (membership only).
    Member(MemberEvent),
}

/// A configuration [`PeerNode::new`] refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A peer with no key in the table.
    NoKey(NodeId),
    /// The node listed as its own peer.
    SelfAsPeer,
    /// A poll interval of zero.
    ZeroInterval,
    /// A response timeout of zero: every request would expire the moment
    /// it is sent, and no exchange could complete.
    ZeroTimeout,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoKey(p) => write!(f, "no key for peer {p}"),
            Self::SelfAsPeer => f.write_str("a node cannot be its own peer"),
            Self::ZeroInterval => f.write_str("the poll interval must not be zero"),
            Self::ZeroTimeout => f.write_str("the response timeout must not be zero"),
        }
    }
}

impl core::error::Error for ConfigError {}

#[derive(Clone, Copy, Debug)]
struct Reply {
    t2: u64,
    t3: u64,
    t4: u64,
    bound: Interval,
    status: BoundStatus,
    follow_up_done: bool,
}

#[derive(Clone, Copy, Debug)]
struct Outstanding {
    seq: u64,
    /// The `t1` carried in the request (a reading before sending).
    t1_sent: u64,
    /// The best `t1`: the transmit time stamp once known.
    t1: u64,
    sent_mono: u64,
    expires: u64,
    reply: Option<Reply>,
}

#[derive(Clone, Debug)]
struct Peer {
    addr: SocketAddr,
    next_seq: u64,
    windows: BTreeMap<KeyId, ReplayWindow>,
    outstanding: Option<Outstanding>,
    /// A configured peer (a seed): never dropped, its address never
    /// changed by gossip.
    configured: bool,
    /// When it last sent an authenticated, fresh message (monotonic).
    last_heard: u64,
}

#[derive(Clone, Copy, Debug)]
enum Pending {
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

/// One node of the peer protocol (see the [module](super) doc for the
/// call order).
#[derive(Clone, Debug)]
pub struct PeerNode {
    config: PeerConfig,
    keys: KeyTable,
    peers: BTreeMap<NodeId, Peer>,
    fan_out: FanOut,
    phase: XorShift,
    next_round: Option<u64>,
    own: Option<(OwnBound, u64)>,
    hlc: Hlc,
    pending: BTreeMap<TxHandle, (Pending, u64)>,
    next_handle: u64,
    counters: PeerCounters,
    /// Membership by gossip, when enabled.
    membership: Option<Membership>,
    /// The highest sequence number sent to anyone: a member admitted (or
    /// probed) later is numbered above it, so its replay window, left
    /// from an earlier time, never takes us for a replay.
    seq_high: u64,
}

impl PeerNode {
    /// A node with `keys` and its `peers` (id, address).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when a peer has no key, the node lists itself, or
    /// the poll interval or the response timeout is zero.
    pub fn new(
        config: PeerConfig,
        keys: KeyTable,
        peers: impl IntoIterator<Item = (NodeId, SocketAddr)>,
    ) -> Result<Self, ConfigError> {
        if config.poll_interval_ns == 0 {
            return Err(ConfigError::ZeroInterval);
        }
        if config.response_timeout_ns == 0 {
            return Err(ConfigError::ZeroTimeout);
        }
        let mut map = BTreeMap::new();
        for (id, addr) in peers {
            if id == config.node_id {
                return Err(ConfigError::SelfAsPeer);
            }
            if !keys.knows(id) {
                return Err(ConfigError::NoKey(id));
            }
            map.insert(
                id,
                Peer {
                    addr,
                    next_seq: config.seq_base.saturating_add(1),
                    windows: BTreeMap::new(),
                    outstanding: None,
                    configured: true,
                    last_heard: 0,
                },
            );
        }
        Ok(Self {
            fan_out: FanOut::new(map.keys().copied(), config.fan_out, config.seed),
            phase: XorShift::new(config.seed ^ 0x5DEE_CE66_D1CE_4E5B),
            hlc: Hlc::new(config.max_hlc_lead_ns),
            config,
            keys,
            peers: map,
            next_round: None,
            own: None,
            pending: BTreeMap::new(),
            next_handle: 0,
            counters: PeerCounters::default(),
            membership: None,
            seq_high: config.seq_base,
        })
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &PeerConfig {
        &self.config
    }

    /// What the node has done so far.
    #[must_use]
    pub const fn counters(&self) -> &PeerCounters {
        &self.counters
    }

    /// The key table (to rotate keys).
    pub const fn keys_mut(&mut self) -> &mut KeyTable {
        &mut self.keys
    }

    /// The node's bound from now on (true time minus its clock), as of
    /// `now`; it grows by `own_drift_ppb` until the next call.
    pub const fn set_own_bound(&mut self, now: Now, bound: OwnBound) {
        self.own = Some((bound, now.monotonic_ns));
    }

    /// The bound at `now`: (interval, status); a zero interval with status
    /// Unknown before [`Self::set_own_bound`] or when its status is not a
    /// source.
    #[must_use]
    pub fn own_bound_at(&self, now: Now) -> (Interval, BoundStatus) {
        match self.own {
            Some((b, as_of)) if b.status.is_source() => {
                let age = now.monotonic_ns.saturating_sub(as_of);
                let grow = u64::try_from(
                    u128::from(age) * u128::from(self.config.own_drift_ppb) / 1_000_000_000,
                )
                .unwrap_or(u64::MAX);
                let i = b.interval;
                let wider = Interval::new(
                    i.lower().saturating_sub_unsigned(grow),
                    i.upper().saturating_add_unsigned(grow),
                )
                .unwrap_or(i);
                (wider, b.status)
            }
            Some((_, _)) | None => (Interval::point(0), BoundStatus::Unknown),
        }
    }

    /// `[earliest, latest]` at `now` on the clock time scale (the clock
    /// reading itself when the bound is unknown).
    #[must_use]
    pub fn earliest_latest(&self, now: Now) -> (u64, u64) {
        let (i, _) = self.own_bound_at(now);
        (
            now.clock_ns.saturating_add_signed(i.lower()),
            now.clock_ns.saturating_add_signed(i.upper()),
        )
    }

    /// The hybrid logical clock's timestamp for a local event at `now`
    /// (`hlc_now`), its physical part clamped to our bound.
    pub fn hlc_now(&mut self, now: Now) -> HlcTimestamp {
        let (e, l) = self.earliest_latest(now);
        self.hlc.now(e, l, now.clock_ns)
    }

    /// The last HLC timestamp handed out.
    #[must_use]
    pub const fn hlc(&self) -> HlcTimestamp {
        self.hlc.last()
    }

    /// When [`Self::poll`] should be called next (monotonic ns; 0 before
    /// the first poll).
    #[must_use]
    pub fn next_deadline(&self) -> u64 {
        let round = self.next_round.unwrap_or(0);
        let exchanges = self
            .peers
            .values()
            .filter_map(|p| p.outstanding.map(|o| o.expires));
        let pending = self.pending.values().map(|&(_, e)| e);
        let deadline = exchanges.chain(pending).fold(round, u64::min);
        self.membership_deadline()
            .map_or(deadline, |d| d.min(deadline))
    }

    /// Run the timers: expire exchanges (reporting lost requests) and
    /// transmit handles, and send the round's requests when it is due.
    pub fn poll(&mut self, now: Now) -> Vec<Action> {
        let mono = now.monotonic_ns;
        let mut out = Vec::new();
        for (&id, p) in &mut self.peers {
            if let Some(o) = p.outstanding.filter(|o| o.expires <= mono) {
                if o.reply.is_none() {
                    self.counters.lost = self.counters.lost.saturating_add(1);
                    out.push(Action::Lost {
                        peer: id,
                        seq: o.seq,
                    });
                }
                p.outstanding = None;
            }
        }
        self.pending.retain(|_, &mut (_, e)| e > mono);
        self.expire_members(now, &mut out);
        let interval = self.config.poll_interval_ns;
        match self.next_round {
            None => {
                self.next_round = Some(mono.saturating_add(self.phase.below(interval)));
            }
            Some(due) if due <= mono => {
                let next = due.saturating_add(interval);
                self.next_round = Some(if next <= mono {
                    mono.saturating_add(interval)
                } else {
                    next
                });
                if let Some(m) = self.membership.as_mut() {
                    m.new_round();
                }
                for peer in self.fan_out.round() {
                    out.extend(self.request(now, peer));
                    self.push_gossip(now, peer, &mut out);
                }
            }
            Some(_) => {}
        }
        self.send_probes(now, &mut out);
        out
    }

    fn stamp(&mut self, now: Now, kind: MessageType, peer: NodeId) -> Option<(Message, KeyId)> {
        let key_id = self.keys.send_key(peer)?;
        let (e, l) = self.earliest_latest(now);
        let hlc = self.hlc.now(e, l, now.clock_ns);
        let (bound, status) = self.own_bound_at(now);
        let p = self.peers.get_mut(&peer)?;
        let seq = p.next_seq;
        p.next_seq = seq.saturating_add(1);
        self.seq_high = self.seq_high.max(seq);
        Some((
            Message {
                kind,
                flags: 0,
                status,
                sender: self.config.node_id,
                receiver: peer,
                key_id,
                hlc,
                seq,
                echo_seq: 0,
                t1: 0,
                t2: 0,
                t3: 0,
                lower_ns: bound.lower(),
                upper_ns: bound.upper(),
            },
            key_id,
        ))
    }

    fn transmit(&mut self, m: &Message, want: Option<(Pending, u64)>) -> Option<Transmit> {
        let mut bytes = m.emit();
        self.keys.sign(m.receiver, m.key_id, &mut bytes).ok()?;
        let to = self.peers.get(&m.receiver)?.addr;
        let tx_handle = want.map(|p| {
            let h = TxHandle(self.next_handle);
            self.next_handle = self.next_handle.wrapping_add(1);
            self.pending.insert(h, p);
            h
        });
        Some(Transmit {
            peer: m.receiver,
            to,
            bytes,
            tx_handle,
        })
    }

    fn request(&mut self, now: Now, peer: NodeId) -> Vec<Action> {
        let mut out = Vec::new();
        let Some((mut m, _)) = self.stamp(now, MessageType::Request, peer) else {
            return out;
        };
        m.t1 = now.clock_ns;
        let expires = now
            .monotonic_ns
            .saturating_add(self.config.response_timeout_ns);
        let want = self
            .config
            .tx_timestamps
            .then_some((Pending::Request { peer, seq: m.seq }, expires));
        let Some(t) = self.transmit(&m, want) else {
            return out;
        };
        if let Some(p) = self.peers.get_mut(&peer) {
            if let Some(o) = p.outstanding.filter(|o| o.reply.is_none()) {
                self.counters.lost = self.counters.lost.saturating_add(1);
                out.push(Action::Lost { peer, seq: o.seq });
            }
            p.outstanding = Some(Outstanding {
                seq: m.seq,
                t1_sent: m.t1,
                t1: m.t1,
                sent_mono: now.monotonic_ns,
                expires,
                reply: None,
            });
        }
        self.counters.requests_sent = self.counters.requests_sent.saturating_add(1);
        out.push(Action::Send(t));
        out
    }

    fn drop(&mut self, out: &mut Vec<Action>, peer: Option<NodeId>, reason: DropReason) {
        self.counters.drops.add(reason);
        out.push(Action::Dropped { peer, reason });
    }

    /// Handle one received datagram: `rx_timestamp` is its receive time
    /// stamp on the port's clock (hardware, or software read after the
    /// datagram arrived), `from` its source address.
    pub fn handle_datagram(
        &mut self,
        now: Now,
        rx_timestamp: u64,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if self.membership.is_some() && bytes.len() == GOSSIP_LEN {
            self.on_gossip(now, from, bytes, &mut out);
            return out;
        }
        let (m, mac) = match Message::parse(bytes) {
            Ok(x) => x,
            Err(e) => {
                self.drop(&mut out, None, e.into());
                return out;
            }
        };
        if m.receiver != self.config.node_id {
            self.drop(&mut out, Some(m.sender), DropReason::NotForUs);
            return out;
        }
        if !self.peers.contains_key(&m.sender) {
            if self.membership.is_some()
                && m.kind == MessageType::Request
                && self.keys.knows(m.sender)
            {
                // A trusted node we have not admitted: where it is is a
                // hint, once the MAC shows it is its message.
                self.contact(now, from, &m, bytes, &mac, &mut out);
                return out;
            }
            self.drop(&mut out, Some(m.sender), DropReason::UnknownPeer);
            return out;
        }
        if let Err(e) = self.keys.verify(m.sender, m.key_id, bytes, &mac) {
            let reason = match e {
                AuthError::UnknownKey => DropReason::UnknownKey,
                AuthError::BadMac => DropReason::BadMac,
            };
            self.drop(&mut out, Some(m.sender), reason);
            return out;
        }
        let Some(p) = self.peers.get_mut(&m.sender) else {
            return out;
        };
        if let Err(e) = p.windows.entry(m.key_id).or_default().accept(m.seq) {
            let reason = match e {
                ReplayError::Duplicate => DropReason::Duplicate,
                ReplayError::TooOld => DropReason::TooOld,
            };
            self.drop(&mut out, Some(m.sender), reason);
            return out;
        }
        p.last_heard = now.monotonic_ns;
        if from != p.addr {
            self.counters.address_mismatch = self.counters.address_mismatch.saturating_add(1);
            let learned = !p.configured;
            if learned {
                // A learned member may have moved: probe the new address.
                self.take_hint(now.monotonic_ns, m.sender, Some(from), None);
            }
        }
        self.counters.accepted = self.counters.accepted.saturating_add(1);
        self.merge_hlc(now, &m, &mut out);
        match m.kind {
            MessageType::Request => self.answer(now, rx_timestamp, &m, &mut out),
            MessageType::Response => self.on_response(rx_timestamp, &m, &mut out),
            MessageType::FollowUp => self.on_follow_up(&m, &mut out),
            MessageType::Unknown(_) => self.drop(&mut out, Some(m.sender), DropReason::UnknownType),
        }
        out
    }

    fn merge_hlc(&mut self, now: Now, m: &Message, out: &mut Vec<Action>) {
        let (e, l) = self.earliest_latest(now);
        let width = if m.status.is_source() {
            m.upper_ns.abs_diff(m.lower_ns)
        } else {
            0
        };
        if let Err(rejected) = self.hlc.receive(e, l, now.clock_ns, m.hlc, width) {
            self.counters.hlc_rejected = self.counters.hlc_rejected.saturating_add(1);
            out.push(Action::HlcRejected {
                peer: m.sender,
                rejected,
            });
        }
    }

    fn answer(&mut self, now: Now, rx_timestamp: u64, req: &Message, out: &mut Vec<Action>) {
        let Some((mut m, _)) = self.stamp(now, MessageType::Response, req.sender) else {
            return;
        };
        m.echo_seq = req.seq;
        m.t1 = req.t1;
        m.t2 = rx_timestamp;
        m.t3 = now.clock_ns;
        let want = self.config.tx_timestamps.then(|| {
            m.flags |= FLAG_TWO_STEP;
            (
                Pending::Response {
                    peer: req.sender,
                    echo_seq: req.seq,
                    t1: req.t1,
                    t2: rx_timestamp,
                },
                now.monotonic_ns
                    .saturating_add(self.config.response_timeout_ns),
            )
        });
        if let Some(t) = self.transmit(&m, want) {
            self.counters.responses_sent = self.counters.responses_sent.saturating_add(1);
            out.push(Action::Send(t));
        }
    }

    fn on_response(&mut self, rx_timestamp: u64, m: &Message, out: &mut Vec<Action>) {
        let Some(o) = self
            .peers
            .get_mut(&m.sender)
            .and_then(|p| p.outstanding.as_mut())
            .filter(|o| o.reply.is_none() && o.seq == m.echo_seq && o.t1_sent == m.t1)
        else {
            self.drop(out, Some(m.sender), DropReason::Unmatched);
            return;
        };
        let bound = Interval::new(m.lower_ns, m.upper_ns).unwrap_or(Interval::point(0));
        o.reply = Some(Reply {
            t2: m.t2,
            t3: m.t3,
            t4: rx_timestamp,
            bound,
            status: m.status,
            follow_up_done: false,
        });
        let o = *o;
        self.emit_sample(m.sender, &o, false, out);
    }

    fn on_follow_up(&mut self, m: &Message, out: &mut Vec<Action>) {
        let Some(o) = self
            .peers
            .get_mut(&m.sender)
            .and_then(|p| p.outstanding.as_mut())
            .filter(|o| {
                o.seq == m.echo_seq
                    && o.t1_sent == m.t1
                    && o.reply.is_some_and(|r| !r.follow_up_done && r.t2 == m.t2)
            })
        else {
            self.drop(out, Some(m.sender), DropReason::Unmatched);
            return;
        };
        if let Some(r) = o.reply.as_mut() {
            r.t3 = m.t3;
            r.follow_up_done = true;
        }
        let o = *o;
        self.emit_sample(m.sender, &o, true, out);
    }

    fn emit_sample(&mut self, peer: NodeId, o: &Outstanding, refined: bool, out: &mut Vec<Action>) {
        let Some(r) = o.reply else {
            return;
        };
        if !r.status.is_source() {
            if !refined {
                self.counters.not_source = self.counters.not_source.saturating_add(1);
                out.push(Action::NotSource {
                    peer,
                    status: r.status,
                });
            }
            return;
        }
        let x = Exchange {
            t1: o.t1,
            t2: r.t2,
            t3: r.t3,
            t4: r.t4,
            peer_bound: r.bound,
        };
        match x.sample(o.sent_mono, self.config.delay_tolerance_ns) {
            Ok(sample) => {
                self.counters.samples = self.counters.samples.saturating_add(1);
                out.push(Action::Sample {
                    peer,
                    sample,
                    refined,
                });
            }
            Err(ExchangeError::NegativeDelay(_)) => {
                self.drop(out, Some(peer), DropReason::NegativeDelay);
            }
        }
    }

    /// The transmit time stamp `ts` (port clock) of the datagram sent with
    /// `handle`: refines the exchange it belongs to or, for a response,
    /// sends the follow-up that carries it. Unknown or expired handles are
    /// ignored.
    pub fn tx_timestamp(&mut self, now: Now, handle: TxHandle, ts: u64) -> Vec<Action> {
        let mut out = Vec::new();
        let Some((pending, _)) = self.pending.remove(&handle) else {
            return out;
        };
        match pending {
            Pending::Request { peer, seq } => {
                let Some(o) = self
                    .peers
                    .get_mut(&peer)
                    .and_then(|p| p.outstanding.as_mut())
                    .filter(|o| o.seq == seq)
                else {
                    return out;
                };
                o.t1 = ts;
                let o = *o;
                if o.reply.is_some() {
                    self.emit_sample(peer, &o, true, &mut out);
                }
            }
            Pending::Response {
                peer,
                echo_seq,
                t1,
                t2,
            } => {
                let Some((mut m, _)) = self.stamp(now, MessageType::FollowUp, peer) else {
                    return out;
                };
                m.echo_seq = echo_seq;
                m.t1 = t1;
                m.t2 = t2;
                m.t3 = ts;
                if let Some(t) = self.transmit(&m, None) {
                    self.counters.follow_ups_sent = self.counters.follow_ups_sent.saturating_add(1);
                    out.push(Action::Send(t));
                }
            }
        }
        out
    }
}
