//! The overlay peer layer in the daemon (`[[overlay.peer]]`): the UDP
//! socket, its time stamps and the sans-IO [`PeerNode`] it drives.
//!
//! The poll loop owns the socket ([`Peers::fd`]) and the clock; every input
//! is read with both clocks ([`Now`]: CLOCK_MONOTONIC for timers and
//! sample dates, the daemon's clock for time stamps) and handed to the
//! node. Receive and transmit stamps are the kernel's software stamps
//! (CLOCK_REALTIME) mapped onto the daemon's clock the way the PTP ports
//! map theirs ([`DaemonClock::to_ptp`]); with a PHC the stamps would be on
//! another clock, so there the clock is read instead after a datagram
//! arrives (a late receive stamp, which only widens the interval) and no
//! transmit stamps are asked for.
//!
//! What the node gives back: datagrams to send, samples for the guard
//! (returned to the caller, who feeds [`super::overlay::Overlay`]), and
//! reports (drops, rejected HLCs, lost exchanges), counted by the node and
//! logged here at most once per 10 s per kind.
//!
//! With `[overlay] gossip` (the default) the configured peers are seeds:
//! the node learns the other nodes of the keys file by gossip and admits
//! each at an address it answered an authenticated probe from
//! ([`bft_overlay::peer::membership`]). Admissions, moves and expiries are
//! logged at info; refused probes at most once per 10 s.

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, RawFd};

use bft_overlay::SourceSample;
use bft_overlay::intersect::Interval;
use bft_overlay::peer::{
    Action, BoundStatus, DropReason, Family, MemberEvent, MembershipConfig, Now, OwnBound,
    PeerConfig, PeerNode, Refusal, TxHandle,
};
use statime::clock::Clock;
use statime::time::{Instant, Time};

use super::clock::DaemonClock;
use super::run::{DaemonError, Throttle};
use super::sys::monotonic_now;
use crate::config::{Config, PeerKeys};
use crate::net::{KernelTimestamp, PeerSocket, TxTracker};
use crate::observe::snapshot::{GossipView, MemberView, PeersView};

/// What a call into the peer layer produced for the rest of the daemon.
#[derive(Debug, Default)]
pub struct PeerOutput {
    /// Measurements for the guard: (peer, sample).
    pub samples: Vec<(u64, SourceSample)>,
    /// Lines to log as warnings (rate-limited already).
    pub warnings: Vec<String>,
    /// Lines to log at info (membership changes).
    pub lines: Vec<String>,
}

/// Where this node's stated bound comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Basis {
    /// Nothing known: status Unknown.
    None,
    /// The guard's intersection.
    Intersection,
    /// A grandmaster with a primary reference stating its clockAccuracy.
    Reference,
}

/// The peer layer of a running daemon.
pub struct Peers {
    node: PeerNode,
    socket: PeerSocket,
    /// Datagrams waiting for their transmit stamps.
    tx: TxTracker<TxHandle>,
    /// Kernel stamps are on the daemon's clock (not a PHC).
    kernel_stamps: bool,
    /// Configured peers.
    peer_count: usize,
    /// The accuracy this node states when it is a grandmaster with a
    /// primary reference (set by the daemon before each call), ns.
    pub reference_ns: Option<u64>,
    basis: Basis,
    own_half_ns: Option<u64>,
    send_errors: u64,
    send_log: Throttle,
    drop_log: BTreeMap<DropReason, Throttle>,
    hlc_log: Throttle,
    lost_log: Throttle,
    refusal_log: Throttle,
    /// `[overlay] max-age`, ns: members are measured once per
    /// `ceil(n / k)` rounds, which must stay below it.
    max_age_ns: u64,
    /// The member count a max-age warning was given for.
    age_warned: usize,
    /// `[overlay] keys-file`, read again on SIGHUP.
    keys_path: std::path::PathBuf,
    /// The configured peers, which must keep a key.
    configured: Vec<u64>,
}

fn ns_of(t: Time) -> Option<u64> {
    u64::try_from(t.fixed_nanos().to_bits() >> 32).ok()
}

impl Peers {
    /// Read the keys file again (SIGHUP): key rotation without a restart.
    /// The new keys replace the old ones at once; replay windows and
    /// measurements stay. A file that does not load, or leaves a
    /// configured peer without a key, changes nothing.
    ///
    /// # Errors
    /// Why the file was not taken (`FILE:LINE: problem`).
    pub fn reload_keys(&mut self) -> Result<String, String> {
        let keys = PeerKeys::load(&self.keys_path)?;
        if let Some(p) = self.configured.iter().find(|&&p| !keys.knows(p)) {
            return Err(format!(
                "{}: no key for configured peer {p}; keeping the keys in use",
                keys.origin
            ));
        }
        let table = keys.key_table();
        let peers: std::collections::BTreeSet<u64> = keys.keys.iter().map(|k| k.peer).collect();
        let receive_only = keys.keys.iter().filter(|k| k.receive_only).count();
        *self.node.keys_mut() = table;
        Ok(format!(
            "overlay: keys reloaded from {}: {} keys for {} peers ({receive_only} receive-only)",
            keys.origin,
            keys.keys.len(),
            peers.len()
        ))
    }

    /// The peer layer `config` asks for (`None` without peers): reads the
    /// keys file and opens the socket. Also returns warnings about the
    /// keys file to log.
    ///
    /// # Errors
    /// An unreadable or bad keys file (`FILE:LINE: problem`), a peer
    /// without a key, or a socket that cannot be opened.
    pub fn open(
        config: &Config,
        clock: &DaemonClock,
    ) -> Result<Option<(Self, Vec<String>)>, DaemonError> {
        let o = &config.overlay;
        if !o.has_peers() {
            return Ok(None);
        }
        let node_id = o
            .node_id
            .ok_or_else(|| DaemonError::Config("overlay.node-id is required with peers".into()))?;
        let path = o.keys_file.as_ref().ok_or_else(|| {
            DaemonError::Config("overlay.keys-file is required with peers".into())
        })?;
        let keys = PeerKeys::load(path).map_err(DaemonError::Config)?;
        let table = keys.key_table();
        for (i, p) in o.peers.iter().enumerate() {
            if !keys.knows(p.id) {
                return Err(DaemonError::Config(format!(
                    "{}: no key for peer {} (overlay.peer[{i}]); add a line `{} KEY-ID hex:KEY`",
                    keys.origin, p.id, p.id
                )));
            }
        }
        let kernel_stamps = !matches!(clock, DaemonClock::Phc(_));
        let interval_ns = o.peer_poll_interval.as_nanos().unsigned_abs();
        // Sequence numbers above the wall clock at start: a restarted node
        // is never taken for a replay of its earlier self.
        let seq_base = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let peer_config = PeerConfig {
            node_id,
            poll_interval_ns: interval_ns,
            fan_out: o.fan_out.max(1),
            seed: node_id ^ seq_base,
            response_timeout_ns: (interval_ns / 2).clamp(10_000_000, 500_000_000),
            tx_timestamps: kernel_stamps,
            // Software receive stamps and clock readings come through two
            // mappings onto the daemon's clock: allow 1 us of disorder.
            delay_tolerance_ns: 1_000,
            max_hlc_lead_ns: 1_000_000,
            // Float to integer: max-drift is validated to [0, 1000] ppm.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            own_drift_ppb: (o.max_drift * 1000.0).round().max(0.0) as u64,
            seq_base,
        };
        let mut node = PeerNode::new(
            peer_config,
            table,
            o.peers.iter().map(|p| (p.id, p.address)),
        )
        .map_err(|e| DaemonError::Config(format!("overlay peers: {e}")))?;
        if o.gossip {
            let max_age_ns = o.max_age.as_nanos().unsigned_abs();
            let probes = o.fan_out.clamp(4, 16);
            node = node.with_membership(MembershipConfig {
                max_members: o.max_members.max(o.peers.len()),
                max_candidates: (o.max_members / 4).clamp(16, 64),
                probes_per_round: probes,
                answers_per_round: 4 * probes,
                // Silent for ten rounds and twice max-age (the node
                // stretches it to four measurement cycles).
                expire_after_ns: interval_ns
                    .saturating_mul(10)
                    .max(max_age_ns.saturating_mul(2)),
                retry_after_ns: interval_ns.saturating_mul(10),
                family: if o.listen.is_ipv4() {
                    Family::V4
                } else {
                    Family::V6
                },
            });
        }
        let socket = PeerSocket::open(o.listen, kernel_stamps)?;
        Ok(Some((
            Self {
                node,
                socket,
                tx: TxTracker::new(256),
                kernel_stamps,
                peer_count: o.peers.len(),
                reference_ns: None,
                basis: Basis::None,
                own_half_ns: None,
                send_errors: 0,
                send_log: Throttle::default(),
                drop_log: BTreeMap::new(),
                hlc_log: Throttle::default(),
                lost_log: Throttle::default(),
                refusal_log: Throttle::default(),
                max_age_ns: o.max_age.as_nanos().unsigned_abs(),
                age_warned: o.peers.len(),
                keys_path: path.clone(),
                configured: o.peers.iter().map(|p| p.id).collect(),
            },
            keys.warnings,
        )))
    }

    /// The socket, for poll(2) (POLLIN: datagrams; POLLPRI: transmit
    /// stamps).
    #[must_use]
    pub fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// When [`Self::poll`] is due (monotonic).
    #[must_use]
    pub fn deadline(&self) -> Instant {
        Instant::from_nanos(self.node.next_deadline())
    }

    /// Both readings of now; `None` when the daemon's clock cannot be read.
    fn now(clock: &DaemonClock) -> Option<Now> {
        let monotonic_ns = monotonic_now().nanos();
        let clock_ns = ns_of(clock.now().ok()?)?;
        Some(Now {
            monotonic_ns,
            clock_ns,
        })
    }

    /// A kernel stamp on the daemon's clock, ns.
    fn stamp(&self, clock: &DaemonClock, ts: Option<KernelTimestamp>) -> Option<u64> {
        if !self.kernel_stamps {
            return None;
        }
        ts.and_then(|t| clock.to_ptp(t)).and_then(ns_of)
    }

    /// A grandmaster with a primary reference states its own accuracy,
    /// afresh at every input (it does not age: the reference holds it).
    fn refresh_reference(&mut self, now: Now) {
        if let Some(acc) = self.reference_ns {
            let half = i64::try_from(acc).unwrap_or(i64::MAX);
            self.node.set_own_bound(
                now,
                OwnBound {
                    interval: Interval::new(-half, half).unwrap_or(Interval::point(0)),
                    status: BoundStatus::Synchronized,
                },
            );
            self.basis = Basis::Reference;
            self.own_half_ns = Some(acc);
        } else if self.basis == Basis::Reference {
            self.set_unknown(now);
        }
    }

    fn set_unknown(&mut self, now: Now) {
        self.node.set_own_bound(
            now,
            OwnBound {
                interval: Interval::point(0),
                status: BoundStatus::Unknown,
            },
        );
        self.basis = Basis::None;
        self.own_half_ns = None;
    }

    /// The guard finished a round: `interval` is its intersection
    /// (midpoint of true time minus the clock, half-width; ns), `None`
    /// without agreement. This node states it to its peers from now on,
    /// growing by max-drift until the next round; Unknown without one. A
    /// reference grandmaster states its accuracy instead.
    pub fn round(&mut self, clock: &DaemonClock, interval: Option<(i64, u64)>) {
        let Some(now) = Self::now(clock) else {
            return;
        };
        if self.reference_ns.is_some() {
            self.refresh_reference(now);
            return;
        }
        match interval {
            Some((mid, half)) => {
                let h = i64::try_from(half).unwrap_or(i64::MAX);
                let i = Interval::new(mid.saturating_sub(h), mid.saturating_add(h));
                let Ok(i) = i else {
                    self.set_unknown(now);
                    return;
                };
                self.node.set_own_bound(
                    now,
                    OwnBound {
                        interval: i,
                        status: BoundStatus::Synchronized,
                    },
                );
                self.basis = Basis::Intersection;
                self.own_half_ns = Some(half);
            }
            None => self.set_unknown(now),
        }
    }

    /// The clock was stepped: what this node stated is void.
    pub fn clock_stepped(&mut self, clock: &DaemonClock) {
        if self.basis == Basis::Intersection
            && let Some(now) = Self::now(clock)
        {
            self.set_unknown(now);
        }
    }

    /// Run the node's timers (when [`Self::deadline`] has passed).
    pub fn poll(&mut self, clock: &DaemonClock) -> PeerOutput {
        let mut out = PeerOutput::default();
        let Some(now) = Self::now(clock) else {
            return out;
        };
        self.refresh_reference(now);
        let actions = self.node.poll(now);
        self.act(actions, &mut out);
        out
    }

    /// The socket is readable or has transmit stamps: take everything.
    pub fn drain(&mut self, clock: &DaemonClock, buf: &mut [u8]) -> PeerOutput {
        let mut out = PeerOutput::default();
        while let Ok(Some(ts)) = self.socket.recv_tx_timestamp() {
            let Some((handle, kts)) = self.tx.resolve(&ts) else {
                continue;
            };
            let (Some(now), Some(t)) = (Self::now(clock), self.stamp(clock, Some(kts))) else {
                continue;
            };
            let actions = self.node.tx_timestamp(now, handle, t);
            self.act(actions, &mut out);
        }
        loop {
            let d = match self.socket.recv(buf) {
                Ok(Some(d)) => d,
                Ok(None) => break,
                Err(e) => {
                    if let Some(l) = self
                        .send_log
                        .line(monotonic_now(), &format!("overlay peers: {e}"))
                    {
                        out.warnings.push(l);
                    }
                    break;
                }
            };
            let Some(now) = Self::now(clock) else {
                continue;
            };
            self.refresh_reference(now);
            // Without a kernel stamp the clock read after the datagram was
            // taken: later than its arrival, on the safe side.
            let rx = self.stamp(clock, d.timestamp).unwrap_or(now.clock_ns);
            let from = d
                .from
                .unwrap_or_else(|| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
            // A truncated datagram fills the buffer, longer than any peer
            // message: the node drops it by its length.
            let bytes = buf.get(..d.len).unwrap_or(buf);
            let actions = self.node.handle_datagram(now, rx, from, bytes);
            self.act(actions, &mut out);
        }
        out
    }

    fn act(&mut self, actions: Vec<Action>, out: &mut PeerOutput) {
        let now = monotonic_now();
        for a in actions {
            match a {
                Action::Send(t) => match self.socket.send_to(&t.bytes, t.to) {
                    Ok(id) => {
                        if let (Some(id), Some(h)) = (id, t.tx_handle) {
                            self.tx.record(id, h);
                        }
                    }
                    Err(e) => {
                        self.send_errors = self.send_errors.saturating_add(1);
                        let text = format!("overlay: could not send to peer {}: {e}", t.peer);
                        if let Some(l) = self.send_log.line(now, &text) {
                            out.warnings.push(l);
                        }
                    }
                },
                Action::Sample { peer, sample, .. } => out.samples.push((peer, sample)),
                Action::NotSource { .. } => {}
                Action::HlcRejected { peer, rejected } => {
                    let text = format!(
                        "overlay: peer {peer}'s HLC {} ns is beyond the limit {} ns: not adopted \
                         ({} so far)",
                        rejected.remote.physical_ns,
                        rejected.limit_ns,
                        self.node.counters().hlc_rejected
                    );
                    if let Some(l) = self.hlc_log.line(now, &text) {
                        out.warnings.push(l);
                    }
                }
                Action::Dropped { peer, reason } => {
                    let who = peer.map_or_else(
                        || "an unparsable datagram".to_owned(),
                        |p| format!("a datagram claiming to be from node {p}"),
                    );
                    let text = format!(
                        "overlay: dropped {who}: {reason} ({} dropped for this reason so far)",
                        self.node.counters().drops.get(reason)
                    );
                    if let Some(l) = self.drop_log.entry(reason).or_default().line(now, &text) {
                        out.warnings.push(l);
                    }
                }
                Action::Lost { peer, seq } => {
                    let text = format!(
                        "overlay: peer {peer} did not answer request {seq} in time ({} lost so far)",
                        self.node.counters().lost
                    );
                    if let Some(l) = self.lost_log.line(now, &text) {
                        out.warnings.push(l);
                    }
                }
                Action::SendGossip(t) => {
                    if let Err(e) = self.socket.send_to(&t.bytes, t.to) {
                        self.send_errors = self.send_errors.saturating_add(1);
                        let text =
                            format!("overlay: could not send gossip to node {}: {e}", t.peer);
                        if let Some(l) = self.send_log.line(now, &text) {
                            out.warnings.push(l);
                        }
                    }
                }
                Action::Member(e) => self.member_event(e, now, out),
            }
        }
    }

    fn member_event(&mut self, e: MemberEvent, now: Instant, out: &mut PeerOutput) {
        match e {
            MemberEvent::Admitted { peer, addr } => {
                out.lines.push(format!(
                    "overlay: peer {peer} admitted at {addr} (it answered a probe there; {} \
                     members)",
                    self.node.members().count()
                ));
                self.check_age(out);
            }
            MemberEvent::Moved { peer, from, to } => out.lines.push(format!(
                "overlay: peer {peer} moved from {from} to {to} (it answered a probe there)"
            )),
            MemberEvent::Expired { peer, addr } => out.lines.push(format!(
                "overlay: peer {peer} at {addr} expired: not heard from for too long"
            )),
            MemberEvent::Refused { peer, addr, reason } => {
                let c = self.node.membership_counters();
                let what = match reason {
                    Refusal::WrongSource => "its answer came from elsewhere",
                    Refusal::Unanswered => "no authenticated answer",
                    Refusal::MembersFull => "max-members reached",
                    _ => reason.name(),
                };
                let text = format!(
                    "overlay: not admitting peer {peer} at {addr}: {what} ({} such refusals \
                     so far)",
                    c.refused.get(reason)
                );
                if let Some(l) = self.refusal_log.line(now, &text) {
                    out.warnings.push(l);
                }
            }
        }
    }

    /// Warn once per member count when members would age out of the guard
    /// between their measurements (`ceil(n / k)` rounds >= max-age).
    fn check_age(&mut self, out: &mut PeerOutput) {
        let n = self.node.members().count();
        let k = self.node.config().fan_out.max(1);
        let cycle = (n.div_ceil(k) as u64).saturating_mul(self.node.config().poll_interval_ns);
        if n > self.age_warned && cycle >= self.max_age_ns {
            self.age_warned = n;
            out.warnings.push(format!(
                "overlay: {n} members with fan-out {k} are measured once per {:.1} s, not less \
                 than max-age: raise overlay.max-age or overlay.fan-out",
                cycle as f64 / 1e9
            ));
        }
    }

    /// The view for the snapshot.
    #[must_use]
    pub fn view(&self) -> PeersView {
        let c = self.node.counters();
        let mono = monotonic_now().nanos();
        let drops = DropReason::ALL
            .iter()
            .filter(|&&r| c.drops.get(r) > 0)
            .map(|&r| (r.name().to_owned(), c.drops.get(r)))
            .collect();
        PeersView {
            node_id: self.node.config().node_id,
            listen: self.socket.local().to_string(),
            peers: self.peer_count,
            own_status: if self.basis == Basis::None {
                "unknown"
            } else {
                "synchronized"
            }
            .into(),
            own_basis: match self.basis {
                Basis::None => "none",
                Basis::Intersection => "intersection",
                Basis::Reference => "reference",
            }
            .into(),
            own_bound_s: self.own_half_ns.map(|n| n as f64 / 1e9),
            requests_sent: c.requests_sent,
            responses_sent: c.responses_sent,
            follow_ups_sent: c.follow_ups_sent,
            accepted: c.accepted,
            samples: c.samples,
            lost: c.lost,
            not_source: c.not_source,
            hlc_rejected: c.hlc_rejected,
            address_mismatch: c.address_mismatch,
            send_errors: self.send_errors,
            dropped: c.drops.total(),
            drops,
            members: self
                .node
                .members()
                .map(|m| MemberView {
                    id: m.id,
                    address: m.addr.to_string(),
                    origin: if m.configured {
                        "configured"
                    } else {
                        "learned"
                    }
                    .into(),
                    last_heard_s: (m.last_heard_ns > 0)
                        .then(|| mono.saturating_sub(m.last_heard_ns) as f64 / 1e9),
                })
                .collect(),
            gossip: self.node.membership().map(|m| {
                let g = m.counters();
                GossipView {
                    hints_received: g.hints_received,
                    hints_known: g.hints_known,
                    gossip_sent: g.gossip_sent,
                    gossip_received: g.gossip_received,
                    probes_sent: g.probes_sent,
                    probe_answers_sent: g.probe_answers_sent,
                    admitted: g.admitted,
                    moved: g.moved,
                    expired: g.expired,
                    rate_limited: g.rate_limited,
                    candidates: m.candidate_count(),
                    refused: Refusal::ALL
                        .iter()
                        .filter(|&&r| g.refused.get(r) > 0)
                        .map(|&r| (r.name().to_owned(), g.refused.get(r)))
                        .collect(),
                }
            }),
        }
    }
}
