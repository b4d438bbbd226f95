//! Unicast negotiation (IEEE 1588-2019 clause 16.1). This module is the
//! client: a slave that asks the masters of its unicast master table
//! (clause 17.5) for unicast Announce, and the master it selects for Sync
//! and Delay_Resp. [`server`] is the master's side.
//!
//! Sans-IO like the rest of the crate: the caller owns the addresses and
//! names table entries by index; [`UnicastClient::handle_message`] takes
//! what an entry sent, [`UnicastClient::poll_transmit`] writes the
//! Signaling messages to send and says to which entry. The
//! [`crate::port::Port`] of a unicast client works as usual (its
//! [`crate::port::PortConfig::unicast`] flag marks what it writes as
//! unicast); the caller sends the port's Delay_Req to
//! [`UnicastClient::parent`], and tells the client which identity BMCA
//! chose ([`UnicastClient::set_parent`]).
//!
//! Rules (clause 16.1.2 to 16.1.4):
//! - Announce is requested from every entry; Sync (whose grant covers the
//!   Follow_Up) and Delay_Resp only from the entry whose Announces carry
//!   the selected parent's identity; a grant the client no longer wants
//!   (the parent changed) is cancelled.
//! - A grant lasts its durationField in seconds; the client renews it when
//!   a quarter of the granted duration is left (at least two query
//!   intervals, at most half of it), or at once when the grantor cancels
//!   it. No service is requested twice within a query interval.
//! - A denial (duration 0) or a request that went unanswered is retried
//!   every query interval (2^logQueryInterval s, clause 17.5.2).
//! - A CANCEL is answered with ACKNOWLEDGE_CANCEL (clause 16.1.4.4).

use arrayvec::ArrayVec;

pub mod server;

use crate::datasets::{InstanceDataSets, log_interval_duration};
use crate::time::{Duration, Instant};
use crate::wire::messages::SignalingMessage;
use crate::wire::tlv::{
    AcknowledgeCancelUnicastTransmissionTlv, CancelUnicastTransmissionTlv,
    GrantUnicastTransmissionTlv, RequestUnicastTransmissionTlv, Tlv, TlvRepr,
};
use crate::wire::{Header, Message, MessageBody, MessageType, PortIdentity, TlvWriter};

/// The message types a client negotiates (clause 16.1.4.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// Announce.
    Announce,
    /// Sync (and its Follow_Up).
    Sync,
    /// Delay_Resp (answers to the client's Delay_Req).
    DelayResp,
}

impl Service {
    const ALL: [Self; 3] = [Self::Announce, Self::Sync, Self::DelayResp];

    const fn message_type(self) -> MessageType {
        match self {
            Self::Announce => MessageType::Announce,
            Self::Sync => MessageType::Sync,
            Self::DelayResp => MessageType::DelayResp,
        }
    }

    fn of(t: MessageType) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.message_type() == t)
    }

    const fn index(self) -> usize {
        match self {
            Self::Announce => 0,
            Self::Sync => 1,
            Self::DelayResp => 2,
        }
    }
}

/// What a unicast client asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// durationField of each request, seconds (ptp4l's
    /// `unicast_req_duration`; G.8275.2 allows 60 to 1000).
    pub duration: u32,
    /// logInterMessagePeriod asked for Announce.
    pub log_announce_interval: i8,
    /// logInterMessagePeriod asked for Sync.
    pub log_sync_interval: i8,
    /// logInterMessagePeriod asked for Delay_Resp.
    pub log_delay_resp_interval: i8,
    /// logQueryInterval (clause 17.5.2): how often an unanswered or denied
    /// request is repeated.
    pub log_query_interval: i8,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            duration: 300,
            log_announce_interval: 1,
            log_sync_interval: 0,
            log_delay_resp_interval: 0,
            log_query_interval: 0,
        }
    }
}

/// One negotiated service with one entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Grant {
    /// When the grant ends (none: not granted).
    until: Option<Instant>,
    /// The granted logInterMessagePeriod.
    log_interval: i8,
    /// The granted duration.
    duration: Duration,
    /// When a request may be sent again (after a request or a denial).
    retry_at: Option<Instant>,
}

impl Grant {
    /// When to ask for the renewal: a quarter of the granted duration
    /// before it ends, or two query intervals if that is longer (but never
    /// earlier than half way).
    fn renew_at(&self, query: Duration) -> Option<Instant> {
        let until = self.until?;
        let quarter = self.duration.half().half();
        let half = self.duration.half();
        let two = query * 2;
        let margin = if quarter > two {
            quarter
        } else if two < half {
            two
        } else {
            half
        };
        Some(until + -margin)
    }
}

/// The state of one unicast master table entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntryState {
    /// The port identity the entry's messages carry, once heard.
    pub identity: Option<PortIdentity>,
    grants: [Grant; 3],
}

impl EntryState {
    /// Whether `service` is granted at `now`, and its interval.
    #[must_use]
    pub fn granted(&self, service: Service, now: Instant) -> Option<i8> {
        let g = self.grants[service.index()];
        g.until.filter(|u| *u > now).map(|_| g.log_interval)
    }
}

/// What a client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outgoing {
    Request(Service),
    Cancel(Service),
    Acknowledge(Service),
}

/// Counters of a unicast client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCounters {
    /// REQUEST TLVs sent.
    pub requests: u64,
    /// Grants received (duration > 0).
    pub grants: u64,
    /// Denials received (duration 0).
    pub denials: u64,
    /// CANCEL TLVs received.
    pub cancels_received: u64,
    /// CANCEL TLVs sent.
    pub cancels_sent: u64,
    /// Signaling messages ignored: not for this port, or no negotiation TLV.
    pub ignored: u64,
}

/// Why a message from an entry was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// No such table entry.
    NoEntry,
    /// The Signaling is addressed to another port.
    NotForUs,
}

/// A written Signaling message: its length and the table entry to send it to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientTransmit {
    /// Octets written at the start of the buffer.
    pub len: usize,
    /// The table entry it goes to.
    pub entry: usize,
}

/// Unicast negotiation for a slave port with up to `N` table entries.
#[derive(Clone, Debug)]
pub struct UnicastClient<const N: usize> {
    config: ClientConfig,
    entries: ArrayVec<EntryState, N>,
    parent: Option<usize>,
    queue: ArrayVec<(usize, Outgoing), 16>,
    sequence: u16,
    counters: ClientCounters,
}

impl<const N: usize> UnicastClient<N> {
    /// A client for `entries` table entries (at most `N`).
    #[must_use]
    pub fn new(config: ClientConfig, entries: usize) -> Self {
        let mut e = ArrayVec::new();
        for _ in 0..entries.min(N) {
            e.push(EntryState::default());
        }
        Self {
            config,
            entries: e,
            parent: None,
            queue: ArrayVec::new(),
            sequence: 0,
            counters: ClientCounters::default(),
        }
    }

    /// The table entries' state.
    #[must_use]
    pub fn entries(&self) -> &[EntryState] {
        &self.entries
    }

    /// The counters.
    #[must_use]
    pub const fn counters(&self) -> &ClientCounters {
        &self.counters
    }

    /// The entry of the selected parent, where Delay_Req go.
    #[must_use]
    pub const fn parent(&self) -> Option<usize> {
        self.parent
    }

    /// The entry whose messages carry `identity`.
    #[must_use]
    pub fn entry_of(&self, identity: PortIdentity) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.identity == Some(identity))
    }

    fn query_interval(&self) -> Duration {
        log_interval_duration(self.config.log_query_interval)
    }

    /// BMCA's choice: the parent's port identity (none when not a slave).
    /// Sync and Delay_Resp are requested from its entry and cancelled at
    /// the one before.
    pub fn set_parent(&mut self, parent: Option<PortIdentity>, now: Instant) {
        let new = parent.and_then(|p| self.entry_of(p));
        if new == self.parent {
            return;
        }
        if let Some(old) = self.parent {
            for s in [Service::Sync, Service::DelayResp] {
                if let Some(e) = self.entries.get_mut(old) {
                    let g = &mut e.grants[s.index()];
                    if g.until.is_some_and(|u| u > now) {
                        g.until = None;
                        self.counters.cancels_sent += 1;
                        let _ = self.queue.try_push((old, Outgoing::Cancel(s)));
                    }
                    g.retry_at = None;
                }
            }
        }
        self.parent = new;
    }

    /// A message that arrived from table entry `entry`: learn its identity;
    /// act on the negotiation TLVs of a Signaling message. Other message
    /// types are the port's business.
    ///
    /// # Errors
    /// [`ClientError`] when the entry does not exist or the Signaling is
    /// addressed to another port.
    pub fn handle_message(
        &mut self,
        entry: usize,
        msg: &Message<'_>,
        own: PortIdentity,
        now: Instant,
    ) -> Result<(), ClientError> {
        let state = self.entries.get_mut(entry).ok_or(ClientError::NoEntry)?;
        let source = msg.header.source_port_identity;
        if state.identity != Some(source) {
            state.identity = Some(source);
        }
        let MessageBody::Signaling(sig) = msg.body else {
            return Ok(());
        };
        let target = sig.target_port_identity;
        let all_ports = target.port_number == 0xFFFF;
        let all_clocks = target.clock_identity.0 == [0xFF; 8];
        if !((all_clocks || target.clock_identity == own.clock_identity)
            && (all_ports || target.port_number == own.port_number))
        {
            self.counters.ignored += 1;
            return Err(ClientError::NotForUs);
        }
        let mut any = false;
        for raw in msg.suffix.iter() {
            let Ok(tlv) = Tlv::parse(raw) else { continue };
            match tlv {
                Tlv::GrantUnicastTransmission(g) => {
                    any = true;
                    self.granted(entry, &g, now);
                }
                Tlv::CancelUnicastTransmission(c) => {
                    any = true;
                    self.cancelled(entry, c.message_type);
                }
                Tlv::AcknowledgeCancelUnicastTransmission(_) => any = true,
                _ => {}
            }
        }
        if !any {
            self.counters.ignored += 1;
        }
        Ok(())
    }

    fn wanted(&self, entry: usize, s: Service) -> bool {
        s == Service::Announce || self.parent == Some(entry)
    }

    fn granted(&mut self, entry: usize, g: &GrantUnicastTransmissionTlv, now: Instant) {
        let Some(s) = Service::of(g.message_type) else {
            self.counters.ignored += 1;
            return;
        };
        let query = self.query_interval();
        let wanted = self.wanted(entry, s);
        let Some(e) = self.entries.get_mut(entry) else {
            return;
        };
        let grant = &mut e.grants[s.index()];
        if g.duration == 0 {
            // clause 16.1.4.2.4: denied; ask again after the query interval.
            self.counters.denials += 1;
            grant.until = None;
            grant.retry_at = Some(now + query);
            return;
        }
        self.counters.grants += 1;
        if !wanted {
            // Granted after the parent changed: give it back.
            grant.until = None;
            self.counters.cancels_sent += 1;
            let _ = self.queue.try_push((entry, Outgoing::Cancel(s)));
            return;
        }
        grant.duration = Duration::from_secs(i64::from(g.duration));
        grant.until = Some(now + grant.duration);
        grant.log_interval = g.log_inter_message_period;
        // Not asked again within a query interval, whatever the grant.
        grant.retry_at = Some(now + query);
    }

    fn cancelled(&mut self, entry: usize, t: MessageType) {
        let Some(s) = Service::of(t) else {
            return;
        };
        self.counters.cancels_received += 1;
        if let Some(e) = self.entries.get_mut(entry) {
            e.grants[s.index()] = Grant::default();
        }
        let _ = self.queue.try_push((entry, Outgoing::Acknowledge(s)));
    }

    /// When [`Self::handle_timeout`] next has something to do.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let query = self.query_interval();
        let mut next: Option<Instant> = None;
        for (i, e) in self.entries.iter().enumerate() {
            for s in Service::ALL {
                if !self.wanted(i, s) {
                    continue;
                }
                let g = e.grants[s.index()];
                let renew = g.renew_at(query).unwrap_or(Instant::ZERO);
                let due = g.retry_at.map_or(renew, |r| r.max(renew));
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        next
    }

    /// Queue the requests that are due: missing or expiring grants whose
    /// retry time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        let query = self.query_interval();
        for i in 0..self.entries.len() {
            for s in Service::ALL {
                if !self.wanted(i, s) {
                    continue;
                }
                let Some(g) = self.entries.get_mut(i).map(|e| &mut e.grants[s.index()]) else {
                    continue;
                };
                if g.retry_at.is_some_and(|r| r > now) {
                    continue;
                }
                if g.renew_at(query).is_some_and(|r| r > now) {
                    continue;
                }
                if self.queue.try_push((i, Outgoing::Request(s))).is_ok() {
                    g.retry_at = Some(now + query);
                    self.counters.requests += 1;
                }
            }
        }
    }

    /// Write the next Signaling message into `buf`: from `own` (the port's
    /// identity), in the instance's domain and SDO. Returns `Some(Err(_))`
    /// when `buf` is too small (the message is dropped).
    pub fn poll_transmit(
        &mut self,
        own: PortIdentity,
        ds: &InstanceDataSets,
        minor_version: u8,
        buf: &mut [u8],
    ) -> Option<Result<ClientTransmit, crate::wire::Error>> {
        if self.queue.is_empty() {
            return None;
        }
        let (entry, what) = self.queue.remove(0);
        let target = self
            .entries
            .get(entry)
            .and_then(|e| e.identity)
            .unwrap_or(PortIdentity::ALL);
        let mut h = Header::new(MessageType::Signaling);
        h.sdo_id = ds.default.sdo_id;
        h.minor_version = minor_version;
        h.domain_number = ds.default.domain_number;
        h.source_port_identity = own;
        h.sequence_id = self.sequence;
        self.sequence = self.sequence.wrapping_add(1);
        h.flags.set_unicast(true);
        let mut tlv_buf = [0u8; 16];
        let mut tlvs = TlvWriter::new(&mut tlv_buf);
        let pushed = match what {
            Outgoing::Request(s) => tlvs.push(&RequestUnicastTransmissionTlv {
                message_type: s.message_type(),
                log_inter_message_period: match s {
                    Service::Announce => self.config.log_announce_interval,
                    Service::Sync => self.config.log_sync_interval,
                    Service::DelayResp => self.config.log_delay_resp_interval,
                },
                duration: self.config.duration,
            }),
            Outgoing::Cancel(s) => tlvs.push(&CancelUnicastTransmissionTlv {
                message_type: s.message_type(),
            }),
            Outgoing::Acknowledge(s) => tlvs.push(&AcknowledgeCancelUnicastTransmissionTlv {
                message_type: s.message_type(),
            }),
        };
        if let Err(e) = pushed {
            return Some(Err(e));
        }
        let message = Message {
            header: h,
            body: MessageBody::Signaling(SignalingMessage {
                target_port_identity: target,
            }),
            suffix: tlvs.finish(),
        };
        Some(message.emit(buf).map(|len| ClientTransmit { len, entry }))
    }
}

#[cfg(test)]
mod tests;
