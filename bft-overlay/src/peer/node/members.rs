//! [`PeerNode`]'s side of membership by gossip: the authentication,
//! probes and member table around [`Membership`]'s bookkeeping.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::SocketAddr;

use super::super::gossip::{self, FLAG_PULL, GOSSIP_BODY_LEN, Gossip, Hint};
use super::super::keys::AuthError;
use super::super::membership::{
    MemberEvent, Membership, MembershipConfig, MembershipCounters, Refusal, Standing, Via,
};
use super::super::replay::{ReplayError, ReplayWindow};
use super::super::wire::{Message, NodeId};
use super::{Action, DropReason, GossipTransmit, Now, Peer, PeerNode};

/// One admitted member, for the caller's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// Its node id.
    pub id: NodeId,
    /// The address it is reached at.
    pub addr: SocketAddr,
    /// Configured (a seed) rather than learned.
    pub configured: bool,
    /// When it last sent an authenticated, fresh message (monotonic ns;
    /// 0: never).
    pub last_heard_ns: u64,
}

impl PeerNode {
    /// Turn on membership by gossip (off by default): trusted nodes (those
    /// the key table has a key for) are learned from gossip and from their
    /// own authenticated messages, admitted once they answer a probe at
    /// their address, measured like configured peers, and dropped when
    /// silent. The configured peers stay members (seeds).
    #[must_use]
    pub fn with_membership(mut self, config: MembershipConfig) -> Self {
        self.membership = Some(Membership::new(config));
        self
    }

    /// The membership bookkeeping, when enabled.
    #[must_use]
    pub const fn membership(&self) -> Option<&Membership> {
        self.membership.as_ref()
    }

    /// The membership counters (all zero when disabled).
    #[must_use]
    pub fn membership_counters(&self) -> MembershipCounters {
        self.membership
            .as_ref()
            .map(|m| *m.counters())
            .unwrap_or_default()
    }

    /// The admitted members, configured and learned, by id.
    pub fn members(&self) -> impl Iterator<Item = MemberInfo> + '_ {
        self.peers.iter().map(|(&id, p)| MemberInfo {
            id,
            addr: p.addr,
            configured: p.configured,
            last_heard_ns: p.last_heard,
        })
    }

    /// Whether `id` is an admitted member.
    #[must_use]
    pub fn is_member(&self, id: NodeId) -> bool {
        self.peers.contains_key(&id)
    }

    pub(super) fn membership_deadline(&self) -> Option<u64> {
        let m = self.membership.as_ref()?;
        if m.probes_waiting() && self.next_round.is_some() {
            return Some(0);
        }
        m.next_expiry()
    }

    fn standing(&self, id: NodeId, addr: Option<SocketAddr>) -> Standing {
        if id == self.config.node_id {
            Standing::Own
        } else if !self.keys.knows(id) {
            Standing::Untrusted
        } else {
            match self.peers.get(&id) {
                Some(p) if Some(p.addr) == addr => Standing::AdmittedHere,
                Some(p) if p.configured => Standing::Configured,
                _ => Standing::Other,
            }
        }
    }

    /// A hint that `id` is at `addr`, from gossiper `via` (`None`: the
    /// node's own authenticated message came from there).
    pub(super) fn take_hint(
        &mut self,
        mono: u64,
        id: NodeId,
        addr: Option<SocketAddr>,
        via: Option<NodeId>,
    ) {
        let standing = self.standing(id, addr);
        if let Some(m) = self.membership.as_mut() {
            let via = via.map_or(Via::Contact, Via::Gossip);
            let _ = m.hint(mono, id, addr, via, standing);
        }
    }

    /// An authenticated-looking request from trusted node `m.sender`, not
    /// admitted: check its MAC; if it holds, where it came from is a hint.
    /// It is not answered (its sender is not a member yet).
    pub(super) fn contact(
        &mut self,
        now: Now,
        from: SocketAddr,
        m: &Message,
        bytes: &[u8],
        mac: &[u8; 32],
        out: &mut Vec<Action>,
    ) {
        if let Err(e) = self.keys.verify(m.sender, m.key_id, bytes, mac) {
            self.drop(out, Some(m.sender), auth_reason(e));
            return;
        }
        self.take_hint(now.monotonic_ns, m.sender, Some(from), None);
    }

    /// Drop learned members not heard from for too long.
    pub(super) fn expire_members(&mut self, now: Now, out: &mut Vec<Action>) {
        let Some(m) = self.membership.as_mut() else {
            return;
        };
        let mono = now.monotonic_ns;
        out.extend(m.expire(mono).into_iter().map(Action::Member));
        let n = self.peers.len() as u64;
        let k = self.fan_out.k().max(1) as u64;
        let cycle = n.div_ceil(k).saturating_mul(self.config.poll_interval_ns);
        let limit = m.config().expire_after_ns.max(cycle.saturating_mul(4));
        let stale: Vec<(NodeId, SocketAddr)> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.configured && mono.saturating_sub(p.last_heard) > limit)
            .map(|(&id, p)| (id, p.addr))
            .collect();
        if stale.is_empty() {
            return;
        }
        for (peer, addr) in stale {
            self.peers.remove(&peer);
            m.counters_mut().expired = m.counters_mut().expired.saturating_add(1);
            out.push(Action::Member(MemberEvent::Expired { peer, addr }));
        }
        self.fan_out.set_peers(self.peers.keys().copied());
    }

    /// Build, sign and count a gossip message to `to_id` at `to`.
    fn gossip(
        &mut self,
        now: Now,
        to_id: NodeId,
        to: SocketAddr,
        flags: u8,
        echo_seq: u64,
        hints: Vec<Hint>,
    ) -> Option<(GossipTransmit, u64)> {
        let key_id = self.keys.send_key(to_id)?;
        let seq = match self.peers.get_mut(&to_id) {
            Some(p) => {
                let s = p.next_seq;
                p.next_seq = s.saturating_add(1);
                s
            }
            None => self.seq_high.saturating_add(1),
        };
        self.seq_high = self.seq_high.max(seq);
        let (_, status) = self.own_bound_at(now);
        let g = Gossip {
            flags,
            status,
            sender: self.config.node_id,
            receiver: to_id,
            key_id,
            hlc: self.hlc.last(),
            seq,
            echo_seq,
            hints,
        };
        let mut bytes = g.emit();
        let mac = self.keys.mac_of(to_id, key_id, gossip::body(&bytes)).ok()?;
        gossip::set_mac(&mut bytes, &mac);
        let m = self.membership.as_mut()?;
        m.counters_mut().gossip_sent = m.counters_mut().gossip_sent.saturating_add(1);
        Some((
            GossipTransmit {
                peer: to_id,
                to,
                bytes,
            },
            seq,
        ))
    }

    fn member_addrs(&self) -> BTreeMap<NodeId, SocketAddr> {
        self.peers.iter().map(|(&id, p)| (id, p.addr)).collect()
    }

    /// The round's push-pull to member `peer`: some members we know (the
    /// next in rotation), and a request for its own.
    pub(super) fn push_gossip(&mut self, now: Now, peer: NodeId, out: &mut Vec<Action>) {
        let Some(to) = self.peers.get(&peer).map(|p| p.addr) else {
            return;
        };
        let members = self.member_addrs();
        let Some(m) = self.membership.as_mut() else {
            return;
        };
        let hints = m.next_hints(&members, peer);
        if let Some((t, _)) = self.gossip(now, peer, to, FLAG_PULL, 0, hints) {
            out.push(Action::SendGossip(t));
        }
    }

    /// Probe the candidates the budget allows: a pull, without hints, to
    /// the claimed address.
    pub(super) fn send_probes(&mut self, now: Now, out: &mut Vec<Action>) {
        let Some(m) = self.membership.as_mut() else {
            return;
        };
        let expires = now
            .monotonic_ns
            .saturating_add(self.config.response_timeout_ns.max(1));
        for (id, addr) in m.due_probes() {
            match self.gossip(now, id, addr, FLAG_PULL, 0, Vec::new()) {
                Some((t, seq)) => {
                    if let Some(m) = self.membership.as_mut() {
                        m.probe_sent(id, addr, seq, expires);
                    }
                    out.push(Action::SendGossip(t));
                }
                None => {
                    if let Some(m) = self.membership.as_mut() {
                        m.forget(id);
                    }
                }
            }
        }
    }

    /// Admit `id` at `addr` (it answered our probe from there with the
    /// message numbered `seq` under `key_id`), or move it there.
    fn admit(&mut self, now: Now, id: NodeId, addr: SocketAddr, key_id: u32, seq: u64) -> Action {
        let mono = now.monotonic_ns;
        let configured = self.peers.values().filter(|p| p.configured).count();
        let Some(m) = self.membership.as_mut() else {
            return Action::Member(MemberEvent::Refused {
                peer: id,
                addr,
                reason: Refusal::MembersFull,
            });
        };
        m.forget(id);
        if let Some(p) = self.peers.get_mut(&id) {
            let from = p.addr;
            p.addr = addr;
            p.last_heard = mono;
            m.counters_mut().moved = m.counters_mut().moved.saturating_add(1);
            return Action::Member(MemberEvent::Moved {
                peer: id,
                from,
                to: addr,
            });
        }
        if self.peers.len() >= m.config().max_members.max(configured) {
            m.refuse(Refusal::MembersFull);
            return Action::Member(MemberEvent::Refused {
                peer: id,
                addr,
                reason: Refusal::MembersFull,
            });
        }
        let mut window = ReplayWindow::new();
        let _ = window.accept(seq);
        let mut windows = BTreeMap::new();
        windows.insert(key_id, window);
        self.peers.insert(
            id,
            Peer {
                addr,
                next_seq: self.seq_high.saturating_add(1),
                windows,
                outstanding: None,
                configured: false,
                last_heard: mono,
            },
        );
        m.counters_mut().admitted = m.counters_mut().admitted.saturating_add(1);
        self.fan_out.set_peers(self.peers.keys().copied());
        Action::Member(MemberEvent::Admitted { peer: id, addr })
    }

    /// A datagram of gossip length (membership enabled).
    pub(super) fn on_gossip(
        &mut self,
        now: Now,
        from: SocketAddr,
        bytes: &[u8],
        out: &mut Vec<Action>,
    ) {
        let (g, mac) = match Gossip::parse(bytes) {
            Ok(x) => x,
            Err(e) => {
                self.drop(out, None, e.into());
                return;
            }
        };
        if g.receiver != self.config.node_id {
            self.drop(out, Some(g.sender), DropReason::NotForUs);
            return;
        }
        if !self.keys.knows(g.sender) {
            // Outside the trust set: nothing it says counts.
            self.drop(out, Some(g.sender), DropReason::UnknownPeer);
            return;
        }
        let body = bytes.get(..GOSSIP_BODY_LEN).unwrap_or(&[]);
        if let Err(e) = self.keys.verify_of(g.sender, g.key_id, body, &mac) {
            self.drop(out, Some(g.sender), auth_reason(e));
            return;
        }
        let mono = now.monotonic_ns;
        if let Some(p) = self.peers.get_mut(&g.sender) {
            if let Err(e) = p.windows.entry(g.key_id).or_default().accept(g.seq) {
                let reason = match e {
                    ReplayError::Duplicate => DropReason::Duplicate,
                    ReplayError::TooOld => DropReason::TooOld,
                };
                self.drop(out, Some(g.sender), reason);
                return;
            }
            p.last_heard = mono;
            self.counters.accepted = self.counters.accepted.saturating_add(1);
        }
        let Some(m) = self.membership.as_mut() else {
            return;
        };
        m.counters_mut().gossip_received = m.counters_mut().gossip_received.saturating_add(1);
        let mut probe_failed = false;
        match m.answer(mono, g.sender, g.echo_seq, from) {
            Some(Ok(addr)) => {
                let event = self.admit(now, g.sender, addr, g.key_id, g.seq);
                out.push(event);
            }
            Some(Err((addr, reason))) => {
                probe_failed = true;
                out.push(Action::Member(MemberEvent::Refused {
                    peer: g.sender,
                    addr,
                    reason,
                }));
            }
            None => {}
        }
        let admitted = self.peers.get(&g.sender).map(|p| (p.addr, p.configured));
        match admitted {
            Some((addr, configured)) => {
                if from != addr {
                    self.counters.address_mismatch =
                        self.counters.address_mismatch.saturating_add(1);
                    if !configured && !probe_failed {
                        self.take_hint(mono, g.sender, Some(from), None);
                    }
                }
                for h in &g.hints {
                    self.take_hint(mono, h.node, h.addr, Some(g.sender));
                }
                if g.pull() {
                    self.answer_pull(now, g.sender, addr, from, g.seq, out);
                }
            }
            None => {
                // Not a member (yet): its message only says where it is.
                // Without a replay window its hints are not used.
                if !probe_failed {
                    self.take_hint(mono, g.sender, Some(from), None);
                }
                if g.pull() {
                    self.answer_pull(now, g.sender, from, from, g.seq, out);
                }
            }
        }
    }

    /// Answer a pull from `peer` (numbered `seq`) that came from `from`:
    /// to its verified address `addr` when it came from there, else to
    /// `from` within the round's budget (how a probe of us is answered).
    fn answer_pull(
        &mut self,
        now: Now,
        peer: NodeId,
        addr: SocketAddr,
        from: SocketAddr,
        seq: u64,
        out: &mut Vec<Action>,
    ) {
        let verified = self.peers.get(&peer).is_some_and(|p| p.addr == from) && addr == from;
        let Some(m) = self.membership.as_mut() else {
            return;
        };
        if !verified {
            if !m.take_answer_token() {
                return;
            }
            m.counters_mut().probe_answers_sent =
                m.counters_mut().probe_answers_sent.saturating_add(1);
        }
        let members = self.member_addrs();
        let Some(m) = self.membership.as_mut() else {
            return;
        };
        let hints = m.next_hints(&members, peer);
        if let Some((t, _)) = self.gossip(now, peer, from, 0, seq, hints) {
            out.push(Action::SendGossip(t));
        }
    }
}

const fn auth_reason(e: AuthError) -> DropReason {
    match e {
        AuthError::UnknownKey => DropReason::UnknownKey,
        AuthError::BadMac => DropReason::BadMac,
    }
}
