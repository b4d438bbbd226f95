//! A unicast client port (IEEE 1588-2019 clause 16.1, 17.5): the
//! addresses of its unicast master table beside the core's negotiation
//! state ([`statime::unicast::UnicastClient`]).
//!
//! The data plane (`run.rs`) takes a port's datagrams only from the table's
//! addresses (others are counted and dropped), hands each to the client
//! (identities, grants, cancels) and the non-Signaling ones to the PTP
//! instance as usual, sends what the instance writes to the selected
//! parent's address, and sends the client's Signaling messages to the
//! entry each names.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use statime::datasets::{InstanceDataSets, PortDS};
use statime::time::Instant;
use statime::unicast::server::{Due, ServedClient, ServerDecisions, ServerPolicy, write_signaling};
use statime::unicast::{ClientConfig, Service, UnicastClient};
use statime::wire::tlv::{Tlv, TlvRepr};
use statime::wire::{Message, MessageBody, MessageType, PortIdentity};

use crate::config::MAX_UNICAST_MASTERS;
use crate::config::PortSettings;
use crate::net::PeerAddress;
use crate::observe::snapshot::{UnicastMasterView, UnicastView};

/// One port's unicast master table and negotiation.
pub(super) struct UnicastIo {
    pub(super) client: UnicastClient<MAX_UNICAST_MASTERS>,
    masters: Vec<PeerAddress>,
    /// Datagrams from an address outside the table, dropped.
    pub(super) foreign: u64,
    /// Multicast messages from a table master, dropped (the unicast
    /// stream is the negotiated one).
    pub(super) multicast: u64,
    /// Messages the instance wrote while no parent was selected, dropped.
    pub(super) no_parent: u64,
}

impl UnicastIo {
    /// The unicast side of port `p`, if it has a unicast master table.
    pub(super) fn new(p: &PortSettings) -> Option<Self> {
        let masters = p.unicast_masters();
        if masters.is_empty() {
            return None;
        }
        let config = ClientConfig {
            duration: p.unicast_request_duration,
            log_announce_interval: p.announce_interval,
            log_sync_interval: p.sync_interval,
            log_delay_resp_interval: p.delay_interval,
            log_query_interval: p.unicast_query_interval,
        };
        Some(Self {
            client: UnicastClient::new(config, masters.len()),
            masters,
            foreign: 0,
            multicast: 0,
            no_parent: 0,
        })
    }

    /// The table entry that sent from `source` (the address; the UDP
    /// source port is not compared).
    pub(super) fn entry_of(&self, source: Option<PeerAddress>) -> Option<usize> {
        let s = source?;
        self.masters.iter().position(|m| same_node(*m, s))
    }

    /// Entry `entry`'s address.
    pub(super) fn address(&self, entry: usize) -> Option<PeerAddress> {
        self.masters.get(entry).copied()
    }

    /// The selected parent's address, where the instance's messages go.
    pub(super) fn parent_address(&self) -> Option<PeerAddress> {
        self.client.parent().and_then(|e| self.address(e))
    }

    /// What `statime-ctl status` shows.
    pub(super) fn view(&self, now: Instant) -> UnicastView {
        let c = self.client.counters();
        UnicastView {
            role: "client".to_owned(),
            masters: self
                .client
                .entries()
                .iter()
                .enumerate()
                .map(|(i, e)| UnicastMasterView {
                    address: self.address(i).map_or_else(String::new, show),
                    identity: e.identity.map(|id| format!("{id:?}")),
                    parent: self.client.parent() == Some(i),
                    announce: e.granted(Service::Announce, now),
                    sync: e.granted(Service::Sync, now),
                    delay_resp: e.granted(Service::DelayResp, now),
                })
                .collect(),
            clients: None,
            granted: c.grants,
            denied: c.denials,
            cancelled: c.cancels_received,
            dropped: self.foreign.saturating_add(self.multicast),
            lost_follow_ups: 0,
        }
    }

    /// Log lines for the negotiation TLVs of `msg`, received from `entry`.
    pub(super) fn describe(&self, entry: usize, msg: &Message<'_>) -> Vec<String> {
        if !matches!(msg.body, MessageBody::Signaling(_)) {
            return Vec::new();
        }
        let from = self.address(entry).map_or_else(String::new, show);
        msg.suffix
            .iter()
            .filter_map(|raw| match Tlv::parse(raw).ok()? {
                Tlv::GrantUnicastTransmission(g) if g.duration == 0 => {
                    Some(format!("unicast: {from} denied {}", name(g.message_type)))
                }
                Tlv::GrantUnicastTransmission(g) => Some(format!(
                    "unicast: {from} granted {} every 2^{} s for {} s",
                    name(g.message_type),
                    g.log_inter_message_period,
                    g.duration
                )),
                Tlv::CancelUnicastTransmission(c) => Some(format!(
                    "unicast: {from} cancelled {}",
                    name(c.message_type)
                )),
                _ => None,
            })
            .collect()
    }
}

fn name(t: MessageType) -> &'static str {
    match t {
        MessageType::Announce => "Announce",
        MessageType::Sync => "Sync",
        MessageType::DelayResp => "Delay_Resp",
        _ => "another message type",
    }
}

/// An address as an operator writes it.
pub(super) fn show(a: PeerAddress) -> String {
    match a {
        PeerAddress::V4(s) => s.ip().to_string(),
        PeerAddress::V6(s) => s.ip().to_string(),
        PeerAddress::Ethernet(m) => m
            .iter()
            .map(|o| format!("{o:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

fn same_node(a: PeerAddress, b: PeerAddress) -> bool {
    match (a, b) {
        (PeerAddress::V4(x), PeerAddress::V4(y)) => x.ip() == y.ip(),
        (PeerAddress::V6(x), PeerAddress::V6(y)) => x.ip() == y.ip(),
        (PeerAddress::Ethernet(x), PeerAddress::Ethernet(y)) => x == y,
        _ => false,
    }
}

/// A port that serves unicast clients (ptp4l `unicast_listen`): a map from
/// client address to its grants, and a schedule of when each is next due.
/// Scales with the client count: O(log n) per message sent.
pub(super) struct UnicastServerIo {
    policy: ServerPolicy,
    max_clients: usize,
    clients: HashMap<PeerAddress, Slot>,
    /// Clients by port identity (for the Delay_Resp of their Delay_Req).
    identities: HashMap<PortIdentity, PeerAddress>,
    /// (due, client) pairs; an entry whose client was rescheduled since is
    /// skipped when it comes up.
    schedule: BinaryHeap<Reverse<(Instant, u64, AddressKey)>>,
    next_stamp: u64,
    /// sequenceId of our Signaling messages.
    signaling_sequence: u16,
    pub(super) decisions: ServerDecisions,
    /// Messages not sent: Delay_Resp to a client without a live grant.
    pub(super) refused_delay_resp: u64,
    /// Follow_Ups never sent: the Sync's transmit stamp was lost (the
    /// kernel dropped it from a full error queue) and its entry evicted.
    pub(super) lost_follow_ups: u64,
    /// New clients denied because the server was behind its schedule.
    pub(super) refused_behind: u64,
}

struct Slot {
    client: ServedClient,
    /// The schedule entry that counts (its stamp).
    scheduled: Option<(Instant, u64)>,
}

/// A client address as a totally ordered key for the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct AddressKey([u8; 16], u8);

impl AddressKey {
    fn of(a: PeerAddress) -> Self {
        match a {
            PeerAddress::V4(s) => {
                let mut k = [0; 16];
                k[..4].copy_from_slice(&s.ip().octets());
                Self(k, 4)
            }
            PeerAddress::V6(s) => Self(s.ip().octets(), 6),
            PeerAddress::Ethernet(m) => {
                let mut k = [0; 16];
                k[..6].copy_from_slice(&m);
                Self(k, 2)
            }
        }
    }

    fn address(self) -> PeerAddress {
        let Self(k, family) = self;
        match family {
            4 => PeerAddress::V4(SocketAddrV4::new(Ipv4Addr::new(k[0], k[1], k[2], k[3]), 0)),
            6 => PeerAddress::V6(SocketAddrV6::new(Ipv6Addr::from(k), 0, 0, 0)),
            _ => PeerAddress::Ethernet([k[0], k[1], k[2], k[3], k[4], k[5]]),
        }
    }
}

/// A client's address without its UDP source port: a client's event and
/// general messages come from different ports.
pub(super) fn node(a: PeerAddress) -> PeerAddress {
    AddressKey::of(a).address()
}

/// What the server wants sent.
pub(super) enum ServerSend {
    /// A Signaling answer (general message) to `to`, `len` octets of the buffer.
    Reply { to: PeerAddress, len: usize },
}

impl UnicastServerIo {
    /// The server of port `p`, if it has `unicast-listen`.
    pub(super) fn new(p: &PortSettings) -> Option<Self> {
        p.unicast_listen.then(|| Self {
            policy: ServerPolicy {
                max_duration: p.unicast_max_duration,
                ..ServerPolicy::default()
            },
            max_clients: p.unicast_max_clients,
            clients: HashMap::new(),
            identities: HashMap::new(),
            schedule: BinaryHeap::new(),
            next_stamp: 0,
            signaling_sequence: 0,
            decisions: ServerDecisions::default(),
            refused_delay_resp: 0,
            lost_follow_ups: 0,
            refused_behind: 0,
        })
    }

    /// Clients with a live grant (or not yet expired ones).
    pub(super) fn clients(&self) -> usize {
        self.clients.len()
    }

    /// A Signaling message from `source`: update its grants and write the
    /// answer into `buf`. `None` when there is nothing to answer.
    pub(super) fn handle_signaling(
        &mut self,
        source: PeerAddress,
        msg: &Message<'_>,
        ds: &InstanceDataSets,
        port: &PortDS,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<ServerSend> {
        let to = node(source);
        let known = self.clients.contains_key(&to);
        let behind = self.behind(now);
        if behind && !known {
            self.refused_behind = self.refused_behind.saturating_add(1);
        }
        let accept = known || (self.clients.len() < self.max_clients && !behind);
        let mut fresh = Slot {
            client: ServedClient::new(msg.header.source_port_identity),
            scheduled: None,
        };
        let slot = self.clients.get_mut(&to).unwrap_or(&mut fresh);
        let replies =
            slot.client
                .handle_signaling(msg, &self.policy, accept, now, &mut self.decisions);
        let identity = slot.client.identity;
        let idle = slot.client.is_idle(now);
        let due = slot.client.next_due();
        if replies.is_empty() {
            return None;
        }
        if idle {
            if let Some(old) = self.clients.remove(&to) {
                self.identities.remove(&old.client.identity);
            }
        } else {
            self.clients.entry(to).or_insert(fresh);
            self.identities.insert(identity, to);
            self.reschedule(to, due);
        }
        let sequence = self.signaling_sequence;
        self.signaling_sequence = sequence.wrapping_add(1);
        let len = write_signaling(ds, port, identity, sequence, &replies, buf).ok()?;
        Some(ServerSend::Reply { to, len })
    }

    fn reschedule(&mut self, to: PeerAddress, due: Option<Instant>) {
        let Some(slot) = self.clients.get_mut(&to) else {
            return;
        };
        let Some(due) = due else {
            slot.scheduled = None;
            return;
        };
        if slot.scheduled.is_some_and(|(t, _)| t == due) {
            return;
        }
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        slot.scheduled = Some((due, stamp));
        self.schedule
            .push(Reverse((due, stamp, AddressKey::of(to))));
    }

    /// How late the schedule may run before new clients are denied: a
    /// server that cannot keep its clients' rhythm sheds load instead of
    /// serving everyone badly (existing clients still renew).
    const MAX_LATENESS: std::time::Duration = std::time::Duration::from_millis(100);

    /// Whether the oldest message due is more than [`Self::MAX_LATENESS`]
    /// late at `now`.
    fn behind(&self, now: Instant) -> bool {
        let late = statime::time::Duration::from_nanos(
            i64::try_from(Self::MAX_LATENESS.as_nanos()).unwrap_or(i64::MAX),
        );
        self.next_due().is_some_and(|t| t + late < now)
    }

    /// When [`Self::poll`] next has work.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.schedule.peek().map(|Reverse((t, _, _))| *t)
    }

    /// The next message due at `now`: (client, what). Clients whose grants
    /// all ended are forgotten on the way.
    pub(super) fn poll(&mut self, now: Instant) -> Option<(PeerAddress, Due)> {
        loop {
            let &Reverse((t, stamp, key)) = self.schedule.peek()?;
            if t > now {
                return None;
            }
            let to = key.address();
            let Some(slot) = self.clients.get_mut(&to) else {
                self.schedule.pop();
                continue;
            };
            if slot.scheduled.map(|(_, s)| s) != Some(stamp) {
                self.schedule.pop();
                continue;
            }
            if let Some(due) = slot.client.poll(now) {
                return Some((to, due));
            }
            // Nothing more now: due again later, or done.
            self.schedule.pop();
            slot.scheduled = None;
            if slot.client.is_idle(now) {
                let identity = slot.client.identity;
                self.clients.remove(&to);
                if self.identities.get(&identity) == Some(&to) {
                    self.identities.remove(&identity);
                }
            } else {
                let due = slot.client.next_due();
                self.reschedule(to, due);
            }
        }
    }

    /// What `statime-ctl status` shows.
    pub(super) fn view(&self) -> UnicastView {
        let d = self.decisions;
        UnicastView {
            role: "server".to_owned(),
            masters: Vec::new(),
            clients: Some(self.clients.len()),
            granted: u64::from(d.granted),
            denied: u64::from(d.denied),
            cancelled: u64::from(d.cancelled),
            dropped: self.refused_delay_resp,
            lost_follow_ups: self.lost_follow_ups,
        }
    }

    /// Where the Delay_Resp for `requester` goes and its logMessageInterval
    /// (the granted one, IEEE 1588-2019 table 42): its address while its
    /// Delay_Resp grant lives. `None` otherwise (counted).
    pub(super) fn delay_resp_to(
        &mut self,
        requester: PortIdentity,
        now: Instant,
    ) -> Option<(PeerAddress, i8)> {
        let to = self.identities.get(&requester).copied();
        let granted = to
            .and_then(|a| self.clients.get(&a))
            .and_then(|s| s.client.granted(Service::DelayResp, now));
        if let (Some(a), Some(log)) = (to, granted) {
            Some((a, log))
        } else {
            self.refused_delay_resp = self.refused_delay_resp.saturating_add(1);
            None
        }
    }
}

/// Hybrid E2E (ptp4l `hybrid_e2e`): who sent what on a multicast port.
/// Bounded: at most [`Senders::MAX`] of each kind, the oldest forgotten.
#[derive(Default)]
pub(super) struct Senders {
    /// Port identity of a foreign master -> the address its Announces
    /// come from (kept on a hybrid slave port only).
    masters: VecDeque<(PortIdentity, PeerAddress)>,
    /// Port identity of a slave -> the address its unicast Delay_Req came
    /// from.
    requesters: VecDeque<(PortIdentity, PeerAddress)>,
}

impl Senders {
    /// Entries of each kind kept.
    pub(super) const MAX: usize = 256;

    fn remember(
        list: &mut VecDeque<(PortIdentity, PeerAddress)>,
        id: PortIdentity,
        a: PeerAddress,
    ) {
        if let Some(i) = list.iter().position(|(x, _)| *x == id) {
            list.remove(i);
        } else if list.len() >= Self::MAX {
            list.pop_front();
        }
        list.push_back((id, a));
    }

    /// A received datagram: an Announce (on a hybrid port) or a Delay_Req
    /// with the unicastFlag.
    pub(super) fn note(&mut self, data: &[u8], source: PeerAddress, hybrid: bool) {
        let (Some(&first), Some(&flags), Some(id)) = (
            data.first(),
            data.get(6),
            data.get(20..30).and_then(|b| <&[u8; 10]>::try_from(b).ok()),
        ) else {
            return;
        };
        let id = PortIdentity::from_bytes(id);
        match first & 0x0F {
            0xB if hybrid => Self::remember(&mut self.masters, id, node(source)),
            0x1 if flags & 0x04 != 0 => Self::remember(&mut self.requesters, id, node(source)),
            _ => {}
        }
    }

    /// Where an outgoing message goes by unicast, if anywhere: a
    /// Delay_Resp to a requester that asked by unicast; on a hybrid port, a
    /// Delay_Req to the parent's address.
    pub(super) fn route(
        &self,
        out: &[u8],
        hybrid: bool,
        parent: PortIdentity,
    ) -> Option<PeerAddress> {
        let find = |list: &VecDeque<(PortIdentity, PeerAddress)>, id: PortIdentity| {
            list.iter().rev().find(|(x, _)| *x == id).map(|(_, a)| *a)
        };
        match out.first()? & 0x0F {
            0x9 => {
                let id = out
                    .get(44..54)
                    .and_then(|b| <&[u8; 10]>::try_from(b).ok())?;
                find(&self.requesters, PortIdentity::from_bytes(id))
            }
            0x1 if hybrid => find(&self.masters, parent),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddrV4};

    use super::*;

    fn port(table: &[&str]) -> PortSettings {
        let mut p = PortSettings::new("eth0".to_owned());
        p.unicast_master_table = table.iter().map(|s| (*s).to_owned()).collect();
        p
    }

    fn v4(last: u8, port: u16) -> PeerAddress {
        PeerAddress::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port))
    }

    /// A Signaling message from client `n` asking for `what`, 1/s, 10 s.
    fn ask(n: u8, what: &[MessageType], buf: &mut [u8]) -> usize {
        use statime::wire::TlvWriter;
        use statime::wire::messages::SignalingMessage;
        use statime::wire::tlv::RequestUnicastTransmissionTlv;
        let mut tlv_buf = [0u8; 64];
        let mut w = TlvWriter::new(&mut tlv_buf);
        for t in what {
            w.push(&RequestUnicastTransmissionTlv {
                message_type: *t,
                log_inter_message_period: 0,
                duration: 10,
            })
            .expect("tlv");
        }
        let mut h = statime::wire::Header::new(MessageType::Signaling);
        h.source_port_identity = identity(n);
        Message {
            header: h,
            body: MessageBody::Signaling(SignalingMessage {
                target_port_identity: PortIdentity::ALL,
            }),
            suffix: w.finish(),
        }
        .emit(buf)
        .expect("emit")
    }

    fn identity(n: u8) -> PortIdentity {
        PortIdentity {
            clock_identity: statime::wire::ClockIdentity([n; 8]),
            port_number: 1,
        }
    }

    fn server(max_clients: usize) -> UnicastServerIo {
        let mut p = PortSettings::new("eth0".to_owned());
        p.unicast_listen = true;
        p.unicast_max_clients = max_clients;
        UnicastServerIo::new(&p).expect("a server")
    }

    #[test]
    fn the_server_schedules_every_client_and_forgets_them_when_grants_end() {
        let ds = InstanceDataSets::new(
            statime::datasets::DefaultDS::new(statime::wire::ClockIdentity([1; 8]), 1),
            statime::datasets::TimePropertiesDS::default(),
        );
        let port = PortDS::new(identity(1));
        let mut s = server(2);
        let mut buf = [0u8; 256];
        let mut out = [0u8; 512];
        for n in 1..=3 {
            let len = ask(n, &[MessageType::Sync, MessageType::DelayResp], &mut buf);
            let m = Message::parse(&buf[..len]).expect("parse");
            let reply = s.handle_signaling(v4(n, 320), &m, &ds, &port, Instant::ZERO, &mut out);
            let Some(ServerSend::Reply { to, len }) = reply else {
                panic!("no reply to client {n}")
            };
            assert_eq!(to, v4(n, 0), "to the client's address");
            let r = Message::parse(&out[..len]).expect("reply parses");
            assert!(r.header.flags.unicast());
        }
        assert_eq!(s.clients(), 2, "the third was denied");
        assert_eq!((s.decisions.granted, s.decisions.denied), (4, 2));
        assert_eq!(
            s.delay_resp_to(identity(2), Instant::from_secs(3)),
            Some((v4(2, 0), 0))
        );
        assert_eq!(s.delay_resp_to(identity(3), Instant::from_secs(3)), None);
        assert_eq!(s.refused_delay_resp, 1);

        let mut syncs = HashMap::<PeerAddress, u32>::new();
        let mut t = Instant::ZERO;
        while let Some(due) = s.next_due() {
            t = t.max(due);
            while let Some((to, d)) = s.poll(t) {
                assert!(matches!(d, Due::Sync { .. }));
                *syncs.entry(to).or_default() += 1;
            }
            assert!(t < Instant::from_secs(20), "runs on after the grants");
        }
        assert_eq!(syncs.get(&v4(1, 0)), Some(&10));
        assert_eq!(syncs.get(&v4(2, 0)), Some(&10));
        assert_eq!(syncs.len(), 2);
        assert_eq!(s.clients(), 0, "forgotten once the grants ended");
        assert_eq!(s.delay_resp_to(identity(1), Instant::from_secs(11)), None);
    }

    #[test]
    fn a_server_behind_its_schedule_denies_new_clients_but_renews_old_ones() {
        let ds = InstanceDataSets::new(
            statime::datasets::DefaultDS::new(statime::wire::ClockIdentity([1; 8]), 1),
            statime::datasets::TimePropertiesDS::default(),
        );
        let port = PortDS::new(identity(1));
        let mut s = server(100);
        let mut buf = [0u8; 256];
        let mut out = [0u8; 512];
        let mut ask_at = |s: &mut UnicastServerIo, n: u8, at: Instant| {
            let len = ask(n, &[MessageType::Sync], &mut buf);
            let m = Message::parse(&buf[..len]).expect("parse");
            s.handle_signaling(v4(n, 320), &m, &ds, &port, at, &mut out);
        };
        ask_at(&mut s, 1, Instant::ZERO);
        // Its first Sync was due at 0 and nobody polled: at 50 ms the
        // server is on time, at 500 ms it is behind.
        ask_at(
            &mut s,
            2,
            Instant::ZERO + statime::time::Duration::from_nanos(50_000_000),
        );
        assert_eq!(s.clients(), 2);
        let late = Instant::ZERO + statime::time::Duration::from_nanos(500_000_000);
        ask_at(&mut s, 3, late);
        assert_eq!(s.clients(), 2, "a new client while behind is denied");
        assert_eq!(s.refused_behind, 1);
        ask_at(&mut s, 1, late);
        assert_eq!(s.decisions.denied, 1, "a known client still renews");
        // Caught up: new clients are welcome again.
        while s.poll(late).is_some() {}
        ask_at(&mut s, 3, late);
        assert_eq!(s.clients(), 3);
    }

    #[test]
    fn entries_are_matched_by_address_not_source_port() {
        let u = UnicastIo::new(&port(&["192.0.2.1", "192.0.2.7"])).expect("a table");
        let from = |ip: [u8; 4], port: u16| {
            Some(PeerAddress::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)))
        };
        assert_eq!(u.entry_of(from([192, 0, 2, 7], 320)), Some(1));
        assert_eq!(u.entry_of(from([192, 0, 2, 1], 319)), Some(0));
        assert_eq!(u.entry_of(from([192, 0, 2, 9], 319)), None);
        assert_eq!(u.entry_of(None), None);
        assert_eq!(u.parent_address(), None, "no parent before BMCA");
        assert!(UnicastIo::new(&port(&[])).is_none(), "multicast port");
    }
}
