//! Membership by gossip: which trusted nodes are at which addresses.
//!
//! A node starts with its configured peers (the seeds) and its trust set:
//! the node ids it shares a pair key with ([`super::keys`]). Members tell
//! each other whom they know ([`super::gossip`]), and a node that sends us
//! an authenticated message tells us where it is (its source address).
//! Either is only a **hint** "node X is at address A". This table keeps
//! the hints worth checking (*candidates*) and decides which to **probe**:
//! the node sends X, at A, a gossip pull authenticated with the X-us key,
//! and admits X at A only when X's authenticated answer echoing that pull
//! comes back from A. So:
//!
//! - only ids of the trust set are ever admitted (a hint for another id is
//!   refused at once: [`Refusal::Untrusted`]);
//! - an address is vouched for by its owner's key: a liar can make a node
//!   probe a wrong address, never admit it, and never bind X to an address
//!   X does not answer from;
//! - everything is bounded: the candidates ([`MembershipConfig::max_candidates`],
//!   at most two addresses per id and a share per gossiper), the probes
//!   per round ([`MembershipConfig::probes_per_round`]), the answers sent
//!   to addresses not yet verified ([`MembershipConfig::answers_per_round`]),
//!   the members
//!   ([`MembershipConfig::max_members`]) and the memory of failed probes.
//!
//! This module is the bookkeeping alone (no keys, no wire); `PeerNode`
//! does the authentication and calls it. The design and its soundness
//! argument are in `docs/algorithm/peer-protocol.md`.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::net::SocketAddr;
use core::ops::Bound;

use super::gossip::{Hint, MAX_HINTS};
use super::wire::NodeId;

/// Which addresses a node can reach (the family of its socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
    /// Either.
    Any,
}

impl Family {
    const fn admits(self, addr: &SocketAddr) -> bool {
        match self {
            Self::V4 => addr.is_ipv4(),
            Self::V6 => addr.is_ipv6(),
            Self::Any => true,
        }
    }
}

/// How membership by gossip runs (see [`super::PeerNode::with_membership`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MembershipConfig {
    /// The most admitted members, configured ones included (configured
    /// peers always fit, even beyond it).
    pub max_members: usize,
    /// The most candidates (hints waiting for or under a probe).
    pub max_candidates: usize,
    /// Probes sent per poll round.
    pub probes_per_round: usize,
    /// Answers sent per poll round to addresses not (yet) verified: how
    /// other nodes' probes of this one are answered. Each is caused by an
    /// authenticated pull of a trusted node (which is itself limited to
    /// `probes_per_round`), or by a replay of one; size it for the probes
    /// of the nodes that may join at once.
    pub answers_per_round: usize,
    /// A learned member not heard from this long (no authenticated, fresh
    /// message) is dropped; the node stretches it to four measurement
    /// cycles (`ceil(n / k)` rounds each) when that is longer. ns.
    pub expire_after_ns: u64,
    /// A hint (id, address) whose probe failed is ignored this long, ns.
    pub retry_after_ns: u64,
    /// The addresses this node can send to.
    pub family: Family,
}

impl Default for MembershipConfig {
    fn default() -> Self {
        Self {
            max_members: 64,
            max_candidates: 16,
            probes_per_round: 4,
            answers_per_round: 16,
            expire_after_ns: 30_000_000_000,
            retry_after_ns: 30_000_000_000,
            family: Family::Any,
        }
    }
}

/// Why a hint or an admission was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Refusal {
    /// The id is not in the trust set (no pair key).
    Untrusted,
    /// The id is this node's own.
    Own,
    /// An address that cannot be sent to (unspecified, port 0, multicast,
    /// broadcast, another family, or an unknown family on the wire).
    Address,
    /// A configured peer: its address is the operator's, not gossip's.
    Pinned,
    /// The same (id, address) failed a probe recently.
    RecentlyFailed,
    /// No room for another candidate (in all, for this id, or from this
    /// gossiper).
    CandidatesFull,
    /// The member table is full.
    MembersFull,
    /// The authenticated answer to a probe came from another address.
    WrongSource,
    /// The probed address did not answer (twice).
    Unanswered,
}

impl Refusal {
    /// Every reason, in counter order.
    pub const ALL: [Self; 9] = [
        Self::Untrusted,
        Self::Own,
        Self::Address,
        Self::Pinned,
        Self::RecentlyFailed,
        Self::CandidatesFull,
        Self::MembersFull,
        Self::WrongSource,
        Self::Unanswered,
    ];

    /// A short name for logs and metric labels.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Untrusted => "untrusted",
            Self::Own => "own-id",
            Self::Address => "address",
            Self::Pinned => "pinned",
            Self::RecentlyFailed => "recently-failed",
            Self::CandidatesFull => "candidates-full",
            Self::MembersFull => "members-full",
            Self::WrongSource => "wrong-source",
            Self::Unanswered => "unanswered",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Refusals counted by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefusalCounts([u64; Refusal::ALL.len()]);

impl RefusalCounts {
    /// Refusals for `reason`.
    #[must_use]
    pub const fn get(&self, reason: Refusal) -> u64 {
        self.0[reason as usize]
    }

    /// All refusals.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    fn add(&mut self, reason: Refusal) {
        let c = &mut self.0[reason as usize];
        *c = c.saturating_add(1);
    }
}

/// What membership has done, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MembershipCounters {
    /// Hints received (gossiped, or the source of an authenticated message
    /// from a node not admitted there).
    pub hints_received: u64,
    /// Hints that named a member at the address it is admitted at.
    pub hints_known: u64,
    /// Gossip messages sent (pushes, answers and probes).
    pub gossip_sent: u64,
    /// Gossip messages that authenticated.
    pub gossip_received: u64,
    /// Probes sent.
    pub probes_sent: u64,
    /// Answers sent to addresses not yet verified (a node probing us).
    pub probe_answers_sent: u64,
    /// Members admitted by a verified probe (learned).
    pub admitted: u64,
    /// Learned members re-bound to a new, verified address.
    pub moved: u64,
    /// Learned members dropped for silence.
    pub expired: u64,
    /// Probes or answers not sent for the per-round budget.
    pub rate_limited: u64,
    /// Hints and admissions refused, by reason.
    pub refused: RefusalCounts,
}

/// A membership change, for the caller's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberEvent {
    /// `peer` was admitted at `addr` (it answered a probe from there).
    Admitted {
        /// The node.
        peer: NodeId,
        /// Its verified address.
        addr: SocketAddr,
    },
    /// Learned member `peer` answered a probe at `to`: it is now reached
    /// there (and no more at `from`).
    Moved {
        /// The node.
        peer: NodeId,
        /// Its former address.
        from: SocketAddr,
        /// Its new, verified address.
        to: SocketAddr,
    },
    /// Learned member `peer` was not heard from for too long and was
    /// dropped.
    Expired {
        /// The node.
        peer: NodeId,
        /// Its last address.
        addr: SocketAddr,
    },
    /// A candidate address of `peer` was refused after a probe.
    Refused {
        /// The node.
        peer: NodeId,
        /// The address claimed for it.
        addr: SocketAddr,
        /// Why.
        reason: Refusal,
    },
}

/// What the node knows of a hinted id (it owns the member table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Not in the trust set.
    Untrusted,
    /// This node.
    Own,
    /// A configured peer.
    Configured,
    /// Admitted at this very address.
    AdmittedHere,
    /// Trusted, and not admitted at this address (not at all, or
    /// elsewhere).
    Other,
}

/// Where a hint came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Gossip from this admitted member.
    Gossip(NodeId),
    /// An authenticated message of the node itself, from that address.
    Contact,
}

#[derive(Clone, Copy, Debug)]
struct Probe {
    seq: u64,
    expires: u64,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    via: Via,
    since: u64,
    attempts: u8,
    probe: Option<Probe>,
}

/// The probes a candidate gets before it is refused as unanswered.
const ATTEMPTS: u8 = 2;

/// The membership bookkeeping of one node.
#[derive(Clone, Debug)]
pub struct Membership {
    config: MembershipConfig,
    candidates: BTreeMap<(NodeId, SocketAddr), Candidate>,
    failed: BTreeMap<(NodeId, SocketAddr), u64>,
    probe_tokens: usize,
    answer_tokens: usize,
    /// The last member id gossiped (the rotation's position).
    cursor: NodeId,
    counters: MembershipCounters,
}

impl Membership {
    /// An empty table.
    #[must_use]
    pub fn new(config: MembershipConfig) -> Self {
        Self {
            probe_tokens: config.probes_per_round,
            answer_tokens: config.answers_per_round,
            config,
            candidates: BTreeMap::new(),
            failed: BTreeMap::new(),
            cursor: 0,
            counters: MembershipCounters::default(),
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &MembershipConfig {
        &self.config
    }

    /// What it has done so far.
    #[must_use]
    pub const fn counters(&self) -> &MembershipCounters {
        &self.counters
    }

    /// Counters the node keeps for it.
    pub(super) const fn counters_mut(&mut self) -> &mut MembershipCounters {
        &mut self.counters
    }

    /// The candidates: (id, address, probes sent).
    pub fn candidates(&self) -> impl Iterator<Item = (NodeId, SocketAddr, u8)> + '_ {
        self.candidates
            .iter()
            .map(|(&(id, addr), c)| (id, addr, c.attempts))
    }

    /// The number of candidates.
    #[must_use]
    pub fn candidate_count(&self) -> usize {
        self.candidates.len()
    }

    /// The number of remembered failed probes.
    #[must_use]
    pub fn failed_count(&self) -> usize {
        self.failed.len()
    }

    /// Count a refusal.
    pub fn refuse(&mut self, reason: Refusal) {
        self.counters.refused.add(reason);
    }

    /// A hint "`id` is at `addr`", from `via`, at monotonic time `now`;
    /// `standing` is what the node knows of `id`. `Ok(true)` when it is a
    /// new candidate, `Ok(false)` when known or already a candidate.
    ///
    /// # Errors
    ///
    /// The [`Refusal`] (also counted).
    pub fn hint(
        &mut self,
        now: u64,
        id: NodeId,
        addr: Option<SocketAddr>,
        via: Via,
        standing: Standing,
    ) -> Result<bool, Refusal> {
        self.counters.hints_received = self.counters.hints_received.saturating_add(1);
        let r = self.judge(now, id, addr, via, standing);
        if let Err(e) = r {
            self.refuse(e);
        }
        r
    }

    fn judge(
        &mut self,
        now: u64,
        id: NodeId,
        addr: Option<SocketAddr>,
        via: Via,
        standing: Standing,
    ) -> Result<bool, Refusal> {
        match standing {
            Standing::Untrusted => return Err(Refusal::Untrusted),
            Standing::Own => return Err(Refusal::Own),
            Standing::Configured => return Err(Refusal::Pinned),
            Standing::AdmittedHere => {
                self.counters.hints_known = self.counters.hints_known.saturating_add(1);
                return Ok(false);
            }
            Standing::Other => {}
        }
        let addr = addr.ok_or(Refusal::Address)?;
        if !usable(&addr) || !self.config.family.admits(&addr) {
            return Err(Refusal::Address);
        }
        if let Some(&at) = self.failed.get(&(id, addr)) {
            if now < at.saturating_add(self.config.retry_after_ns) {
                return Err(Refusal::RecentlyFailed);
            }
            self.failed.remove(&(id, addr));
        }
        if let Some(c) = self.candidates.get_mut(&(id, addr)) {
            // The node itself vouching (by contact) outranks a gossiper.
            if via == Via::Contact {
                c.via = Via::Contact;
            }
            return Ok(false);
        }
        let per_id = self
            .candidates
            .range((id, min_addr())..)
            .take_while(|(k, _)| k.0 == id);
        if per_id.count() >= 2 {
            return Err(Refusal::CandidatesFull);
        }
        if let Via::Gossip(g) = via {
            let share = (self.config.max_candidates / 4).max(2);
            let from_g = self
                .candidates
                .values()
                .filter(|c| c.via == Via::Gossip(g))
                .count();
            if from_g >= share {
                return Err(Refusal::CandidatesFull);
            }
        }
        if self.candidates.len() >= self.config.max_candidates {
            // A node's own contact may take the place of the oldest
            // gossiped candidate not under a probe.
            let victim = (via == Via::Contact)
                .then(|| {
                    self.candidates
                        .iter()
                        .filter(|(_, c)| c.probe.is_none() && c.via != Via::Contact)
                        .min_by_key(|(_, c)| c.since)
                        .map(|(&k, _)| k)
                })
                .flatten()
                .ok_or(Refusal::CandidatesFull)?;
            self.candidates.remove(&victim);
        }
        self.candidates.insert(
            (id, addr),
            Candidate {
                via,
                since: now,
                attempts: 0,
                probe: None,
            },
        );
        Ok(true)
    }

    /// A new poll round: the budgets refill.
    pub const fn new_round(&mut self) {
        self.probe_tokens = self.config.probes_per_round;
        self.answer_tokens = self.config.answers_per_round;
    }

    /// Whether candidates wait for a probe the budget allows now.
    #[must_use]
    pub fn probes_waiting(&self) -> bool {
        self.probe_tokens > 0 && self.candidates.values().any(|c| c.probe.is_none())
    }

    /// The earliest time a probe expires.
    #[must_use]
    pub fn next_expiry(&self) -> Option<u64> {
        self.candidates
            .values()
            .filter_map(|c| c.probe.map(|p| p.expires))
            .min()
    }

    /// The candidates to probe now, within the budget: the node's own
    /// contacts first, then the oldest. The caller sends each a probe and
    /// reports it with [`Self::probe_sent`].
    pub fn due_probes(&mut self) -> Vec<(NodeId, SocketAddr)> {
        let mut due: Vec<(bool, u64, NodeId, SocketAddr)> = self
            .candidates
            .iter()
            .filter(|(_, c)| c.probe.is_none())
            .map(|(&(id, addr), c)| (c.via != Via::Contact, c.since, id, addr))
            .collect();
        due.sort_unstable();
        let waiting = due.len();
        due.truncate(self.probe_tokens);
        if waiting > due.len() {
            self.counters.rate_limited = self
                .counters
                .rate_limited
                .saturating_add((waiting - due.len()) as u64);
        }
        due.into_iter().map(|(_, _, id, a)| (id, a)).collect()
    }

    /// A probe with sequence number `seq` went to `id` at `addr`; it
    /// expires at `expires` (monotonic).
    pub fn probe_sent(&mut self, id: NodeId, addr: SocketAddr, seq: u64, expires: u64) {
        if let Some(c) = self.candidates.get_mut(&(id, addr)) {
            c.probe = Some(Probe { seq, expires });
            c.attempts = c.attempts.saturating_add(1);
            self.probe_tokens = self.probe_tokens.saturating_sub(1);
            self.counters.probes_sent = self.counters.probes_sent.saturating_add(1);
        }
    }

    /// An authenticated gossip message from `id`, from `from`, echoing
    /// `echo_seq`: `None` when it answers none of our probes; else the
    /// verified address (`Ok`, the candidate is done: admit `id` there), or
    /// the probed address and the refusal (`Err(WrongSource)`: the answer
    /// came from elsewhere; the candidate is dropped and remembered as
    /// failed).
    pub fn answer(
        &mut self,
        now: u64,
        id: NodeId,
        echo_seq: u64,
        from: SocketAddr,
    ) -> Option<Result<SocketAddr, (SocketAddr, Refusal)>> {
        if echo_seq == 0 {
            return None;
        }
        let key = self
            .candidates
            .range((id, min_addr())..)
            .take_while(|(k, _)| k.0 == id)
            .find(|(_, c)| c.probe.is_some_and(|p| p.seq == echo_seq))
            .map(|(&k, _)| k)?;
        self.candidates.remove(&key);
        if key.1 == from {
            // Any other address claimed for it is moot now.
            self.candidates.retain(|k, _| k.0 != id);
            Some(Ok(from))
        } else {
            self.remember_failed(now, key);
            self.refuse(Refusal::WrongSource);
            Some(Err((key.1, Refusal::WrongSource)))
        }
    }

    fn remember_failed(&mut self, now: u64, key: (NodeId, SocketAddr)) {
        let cap = self.config.max_candidates.saturating_mul(2).max(4);
        while self.failed.len() >= cap {
            let Some(oldest) = self.failed.iter().min_by_key(|(_, t)| **t).map(|(&k, _)| k) else {
                break;
            };
            self.failed.remove(&oldest);
        }
        self.failed.insert(key, now);
    }

    /// Expire probes at `now`: a candidate gets `ATTEMPTS` (2) probes, then
    /// is refused as unanswered (returned, and remembered as failed).
    pub fn expire(&mut self, now: u64) -> Vec<MemberEvent> {
        let mut out = Vec::new();
        let mut dead = Vec::new();
        for (&k, c) in &mut self.candidates {
            if c.probe.is_some_and(|p| p.expires <= now) {
                c.probe = None;
                if c.attempts >= ATTEMPTS {
                    dead.push(k);
                }
            }
        }
        for k in dead {
            self.candidates.remove(&k);
            self.remember_failed(now, k);
            self.refuse(Refusal::Unanswered);
            out.push(MemberEvent::Refused {
                peer: k.0,
                addr: k.1,
                reason: Refusal::Unanswered,
            });
        }
        let retry = self.config.retry_after_ns;
        self.failed
            .retain(|_, &mut t| now < t.saturating_add(retry));
        out
    }

    /// Forget every candidate of `id` (it was admitted or removed).
    pub fn forget(&mut self, id: NodeId) {
        self.candidates.retain(|k, _| k.0 != id);
    }

    /// Take one answer token (an answer to an address not yet verified);
    /// false, and counted, when the round's budget is spent.
    pub fn take_answer_token(&mut self) -> bool {
        if self.answer_tokens == 0 {
            self.counters.rate_limited = self.counters.rate_limited.saturating_add(1);
            return false;
        }
        self.answer_tokens -= 1;
        true
    }

    /// Up to [`MAX_HINTS`] of `members` (id order) to tell `to`, the next
    /// ones after the last told (rotating), never `to` itself.
    pub fn next_hints(&mut self, members: &BTreeMap<NodeId, SocketAddr>, to: NodeId) -> Vec<Hint> {
        let after = members.range((Bound::Excluded(self.cursor), Bound::Unbounded));
        let wrap = members.range(..=self.cursor);
        let mut out = Vec::with_capacity(MAX_HINTS);
        let mut last = None;
        for (&id, &addr) in after.chain(wrap) {
            if out.len() >= MAX_HINTS {
                break;
            }
            last = Some(id);
            if id != to {
                out.push(Hint {
                    node: id,
                    addr: Some(addr),
                });
            }
        }
        if let Some(l) = last {
            self.cursor = l;
        }
        out
    }
}

const fn min_addr() -> SocketAddr {
    SocketAddr::V4(core::net::SocketAddrV4::new(
        core::net::Ipv4Addr::UNSPECIFIED,
        0,
    ))
}

/// Whether `addr` can be sent to as a peer: a unicast address and a port.
#[must_use]
pub fn usable(addr: &SocketAddr) -> bool {
    if addr.port() == 0 {
        return false;
    }
    match addr {
        SocketAddr::V4(a) => {
            let ip = a.ip();
            !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast())
        }
        SocketAddr::V6(a) => {
            let ip = a.ip();
            !(ip.is_unspecified() || ip.is_multicast())
        }
    }
}

#[cfg(test)]
#[path = "membership_tests.rs"]
mod tests;
