//! Transparent clocks (IEEE 1588-2019 clause 10.2 and 11.5; the device
//! types of clause 6.5.4 and 6.5.5): a PTP instance that does not
//! synchronise to anyone but forwards the PTP messages of its domain between
//! its ports and writes into their correctionField the time each event
//! message spent inside it (the *residence time*).
//!
//! - **End-to-end** ([`TcMode::EndToEnd`]): every message is forwarded;
//!   the residence time of a Sync goes into its Follow_Up, that of a
//!   Delay_Req into the Delay_Resp that answers it (clause 11.5.2).
//! - **Peer-to-peer** ([`TcMode::PeerToPeer`]): each port measures the delay
//!   of its own link with Pdelay_Req/Pdelay_Resp (clause 11.4) and answers
//!   its neighbour's requests; a Sync's Follow_Up carries the residence
//!   time plus the link delay of the port it arrived on (and that port's
//!   delayAsymmetry), so the slave needs no delay request at all. Delay_Req
//!   and Delay_Resp are not forwarded (clause 11.5.3, 11.5.4).
//!
//! The clock is two-step: residence times come from transmit timestamps,
//! which exist only after the message left. A one-step Sync is forwarded
//! with the twoStepFlag set and followed by a Follow_Up made from its
//! originTimestamp (clause 11.5.2.3 allows a two-step transparent clock to
//! do so). Residence times are measured by the clock that stamps the
//! ports; with [`TcConfig::syntonize`] they are scaled into the
//! grandmaster's time base by the rate ratio measured from the Sync stream
//! (clause 11.5.2.2: a transparent clock should be syntonized).
//!
//! Like [`crate::instance::PtpInstance`] it is sans-IO: inputs carry the
//! port index, bytes, timestamps and `now`; outputs are polled with
//! [`TransparentClock::poll_transmit`]. Nothing it receives can make it
//! panic; every message it drops is counted ([`TcCounters`]).

mod records;
#[cfg(test)]
mod tests;

use arrayvec::ArrayVec;

use self::records::{Egress, Held, Kind, Record, RecordTable};
use crate::datasets::{DefaultDS, InstanceDataSets, TimePropertiesDS};
use crate::port::{Destination, Port, PortConfig, TxContext};
use crate::time::{Duration, Instant, Time, TimeInterval};
use crate::wire::messages::FollowUpMessage;
use crate::wire::tlv::DelayMechanism;
use crate::wire::{self, Header, Message, MessageBody, MessageType, PortIdentity};

/// The largest message forwarded (an Ethernet payload); longer ones are
/// dropped and counted in [`TcCounters::too_long`].
pub const MAX_FORWARD_LEN: usize = 1500;

/// Messages waiting for [`TransparentClock::poll_transmit`].
const QUEUE_LEN: usize = 16;

/// Forwarded general messages remembered by the loop guard.
const RECENT_LEN: usize = 32;

/// End-to-end or peer-to-peer (clause 6.5.4, 6.5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TcMode {
    /// End-to-end transparent clock: forwards everything, corrects Sync and
    /// Delay_Req (clause 11.5.2).
    EndToEnd,
    /// Peer-to-peer transparent clock: measures each link, corrects Sync
    /// by residence plus the ingress link delay (clause 11.5.3, 11.5.4).
    PeerToPeer,
}

/// How a transparent clock runs.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TcConfig {
    /// End-to-end or peer-to-peer.
    pub mode: TcMode,
    /// The clockIdentity of the transparent clock (its Pdelay messages and
    /// the loop check use it).
    pub clock_identity: wire::ClockIdentity,
    /// domainNumber of the messages forwarded and corrected (clause 7.1);
    /// other domains are dropped and counted, as linuxptp does.
    pub domain_number: u8,
    /// sdoId of the messages handled (majorSdoId must match, clause 7.1.4).
    pub sdo_id: wire::SdoId,
    /// Increment stepsRemoved of forwarded Announces (linuxptp
    /// `tc_spanning_tree`), so that an Announce which comes back through a
    /// loop loses the BMCA.
    pub increment_steps_removed: bool,
    /// Scale residence times by the grandmaster-to-local rate ratio measured
    /// from successive Syncs (clause 11.5.2.2).
    pub syntonize: bool,
    /// How long a Sync or Delay_Req is remembered while its Follow_Up,
    /// Delay_Resp or transmit timestamps are awaited (linuxptp prunes after
    /// one second).
    pub record_lifetime: Duration,
    /// How long to wait for the transmit timestamp of a forwarded event
    /// message before its residence time is given up.
    pub tx_timestamp_timeout: Duration,
}

impl TcConfig {
    /// Defaults for a transparent clock of `mode` with this identity, in
    /// domain 0 (linuxptp's defaults where the standard leaves a choice).
    #[must_use]
    pub fn new(mode: TcMode, clock_identity: wire::ClockIdentity) -> Self {
        Self {
            mode,
            clock_identity,
            domain_number: 0,
            sdo_id: wire::SdoId::from_parts(0, 0),
            increment_steps_removed: false,
            syntonize: true,
            record_lifetime: Duration::from_secs(1),
            tx_timestamp_timeout: Duration::from_nanos(10_000_000),
        }
    }
}

/// Identifies an event message the transparent clock sent, so that its
/// transmit timestamp finds its way back
/// ([`TransparentClock::handle_send_timestamp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcTxContext(TxToken);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum TxToken {
    /// A Pdelay message of a port's own link measurement.
    Link(TxContext),
    /// A forwarded Sync or Delay_Req: the record slot and its generation.
    Forward { slot: u8, generation: u16 },
}

/// A message written by [`TransparentClock::poll_transmit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcTransmit {
    /// The port to send it on (0-based).
    pub port: usize,
    /// Octets written at the start of the caller's buffer.
    pub len: usize,
    /// An event message (UDP port 319, timestamped on transmission).
    pub event: bool,
    /// The destination group.
    pub destination: Destination,
    /// Hand the transmit timestamp back with this context.
    pub context: Option<TcTxContext>,
}

/// Why a received message was not forwarded (counted, never fatal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcRxError {
    /// No such port.
    NoPort,
    /// The message did not parse.
    Malformed(wire::Error),
    /// Another domain or majorSdoId.
    OtherDomain,
    /// Sent by this clock.
    Own,
    /// An event message without a receive timestamp.
    NoTimestamp,
    /// Not forwarded in this mode (Pdelay in E2E, Delay_Req/Delay_Resp in
    /// P2P, reserved message types).
    NotForwarded,
    /// A message already forwarded coming back on another port: a loop.
    Loop,
    /// A Follow_Up or Delay_Resp matching no forwarded Sync or Delay_Req.
    Unmatched,
    /// Longer than [`MAX_FORWARD_LEN`], or a Follow_Up/Delay_Resp too long
    /// to hold while its residence time is awaited.
    TooLong,
}

/// What a transparent clock counts (all saturating).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TcCounters {
    /// Messages received, by messageType.
    pub rx_by_type: [u64; 16],
    /// Messages forwarded (one per egress port), by messageType.
    pub forwarded_by_type: [u64; 16],
    /// Follow_Ups and Delay_Resps forwarded with a residence time added.
    pub corrected: u64,
    /// One-step Syncs turned into two-step ones with a Follow_Up.
    pub one_step_converted: u64,
    /// Malformed messages.
    pub malformed: u64,
    /// Messages of other domains.
    pub other_domain: u64,
    /// Messages of this clock.
    pub own: u64,
    /// Event messages without a receive timestamp.
    pub no_timestamp: u64,
    /// Messages this mode does not forward.
    pub not_forwarded: u64,
    /// Messages that came back through a loop.
    pub loops: u64,
    /// Follow_Ups and Delay_Resps matching nothing forwarded.
    pub unmatched: u64,
    /// Syncs and Delay_Reqs whose Follow_Up or Delay_Resp never came.
    pub expired: u64,
    /// Forwarded event messages whose transmit timestamp never came (their
    /// Follow_Up or Delay_Resp is not forwarded on that port).
    pub residence_unknown: u64,
    /// Messages dropped because the transmit queue was full.
    pub queue_full: u64,
    /// Messages too long to forward or to hold.
    pub too_long: u64,
}

/// Residence times measured (nanoseconds, after syntonization).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ResidenceStats {
    /// How many.
    pub count: u64,
    /// The latest.
    pub last_ns: f64,
    /// The smallest.
    pub min_ns: f64,
    /// The largest.
    pub max_ns: f64,
    /// Their sum (for the mean).
    pub sum_ns: f64,
}

impl ResidenceStats {
    fn note(&mut self, ns: f64) {
        if self.count == 0 {
            self.min_ns = ns;
            self.max_ns = ns;
        } else {
            self.min_ns = self.min_ns.min(ns);
            self.max_ns = self.max_ns.max(ns);
        }
        self.count = self.count.saturating_add(1);
        self.last_ns = ns;
        self.sum_ns += ns;
    }

    /// The mean residence time, once one was measured.
    #[must_use]
    pub fn mean_ns(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.count > 0).then(|| self.sum_ns / self.count as f64)
    }
}

/// The grandmaster-to-local frequency ratio from successive Syncs of one
/// master: (master span) / (local span) over at least [`RATE_SPAN`].
#[derive(Clone, Copy, Debug, Default)]
struct RateFromSyncs {
    anchor: Option<(PortIdentity, Time, Time)>,
    ratio: Option<f64>,
}

/// The shortest local time span a rate ratio is measured over.
const RATE_SPAN: Duration = Duration::from_secs(4);

/// A ratio further from 1 than this is a measurement error, not a clock.
const RATE_LIMIT: f64 = 1e-3;

impl RateFromSyncs {
    /// One Sync: `master` its origin time plus corrections, `local` its
    /// receive timestamp.
    fn sample(&mut self, source: PortIdentity, master: Time, local: Time) {
        match self.anchor {
            Some((s, m0, l0)) if s == source => {
                let local_span = local - l0;
                if local_span < RATE_SPAN {
                    return;
                }
                let r = (master - m0).nanos_f64() / local_span.nanos_f64();
                if (r - 1.0).abs() < RATE_LIMIT {
                    self.ratio = Some(r);
                }
                self.anchor = Some((source, master, local));
            }
            _ => {
                self.anchor = Some((source, master, local));
                self.ratio = None;
            }
        }
    }
}

/// A message waiting to be sent.
#[derive(Clone, Debug)]
struct Queued {
    port: u8,
    len: u16,
    event: bool,
    destination: Destination,
    context: Option<TcTxContext>,
    bytes: [u8; MAX_FORWARD_LEN],
}

/// A forwarded general message the loop guard remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Recent {
    message_type: u8,
    source: PortIdentity,
    sequence_id: u16,
    ingress: u8,
    at: Instant,
}

fn bump(c: &mut u64) {
    *c = c.saturating_add(1);
}

/// A transparent clock with up to `P` ports.
#[derive(Clone, Debug)]
pub struct TransparentClock<const P: usize> {
    config: TcConfig,
    /// The data sets the ports' own Pdelay messages are written with.
    ds: InstanceDataSets,
    /// The ports: in P2P mode each measures its link and answers Pdelay
    /// requests (a [`Port`] that never leaves LISTENING).
    links: ArrayVec<Port<2>, P>,
    records: RecordTable<P>,
    queue: ArrayVec<Queued, QUEUE_LEN>,
    recent: ArrayVec<Recent, RECENT_LEN>,
    rate: RateFromSyncs,
    counters: TcCounters,
    residence: ResidenceStats,
    next_link: usize,
}

impl<const P: usize> TransparentClock<P> {
    /// A transparent clock with these ports (beyond `P` are ignored). The
    /// ports' delay mechanism is set from the mode.
    #[must_use]
    pub fn new(config: TcConfig, ports: impl IntoIterator<Item = PortConfig>) -> Self {
        let mechanism = match config.mode {
            TcMode::EndToEnd => DelayMechanism::E2e,
            TcMode::PeerToPeer => DelayMechanism::P2p,
        };
        let links: ArrayVec<Port<2>, P> = ports
            .into_iter()
            .take(P)
            .map(|mut p| {
                p.port_ds.delay_mechanism = mechanism;
                p.port_ds.master_only = false;
                Port::new(p)
            })
            .collect();
        let mut default = DefaultDS::new(
            config.clock_identity,
            u16::try_from(links.len()).unwrap_or(u16::MAX),
        );
        default.domain_number = config.domain_number;
        default.sdo_id = config.sdo_id;
        default.slave_only = true;
        Self {
            config,
            ds: InstanceDataSets::new(default, TimePropertiesDS::default()),
            links,
            records: RecordTable::new(),
            queue: ArrayVec::new(),
            recent: ArrayVec::new(),
            rate: RateFromSyncs::default(),
            counters: TcCounters::default(),
            residence: ResidenceStats::default(),
            next_link: 0,
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &TcConfig {
        &self.config
    }

    /// The ports (their link delay, neighborRateRatio and Pdelay counters).
    #[must_use]
    pub fn ports(&self) -> &[Port<2>] {
        &self.links
    }

    /// What was forwarded and dropped.
    #[must_use]
    pub const fn counters(&self) -> &TcCounters {
        &self.counters
    }

    /// The residence times measured.
    #[must_use]
    pub const fn residence(&self) -> &ResidenceStats {
        &self.residence
    }

    /// The grandmaster-to-local rate ratio residence times are scaled by,
    /// once measured (with [`TcConfig::syntonize`]).
    #[must_use]
    pub const fn rate_ratio(&self) -> Option<f64> {
        self.rate.ratio
    }

    /// Start every port.
    pub fn enable(&mut self, now: Instant) {
        for p in &mut self.links {
            p.enable(now);
        }
        self.drain_link_events();
    }

    /// A datagram received on port `port`; `rx` is its receive timestamp
    /// (required for event messages).
    ///
    /// # Errors
    /// Why it was dropped (also counted).
    pub fn handle_receive(
        &mut self,
        port: usize,
        data: &[u8],
        rx: Option<Time>,
        now: Instant,
    ) -> Result<(), TcRxError> {
        if port >= self.links.len() {
            return Err(TcRxError::NoPort);
        }
        let msg = Message::parse(data).map_err(|e| {
            bump(&mut self.counters.malformed);
            TcRxError::Malformed(e)
        })?;
        let h = msg.header;
        bump(&mut self.counters.rx_by_type[usize::from(u8::from(h.message_type) & 0x0F)]);
        if h.domain_number != self.config.domain_number
            || h.sdo_id.major() != self.config.sdo_id.major()
        {
            bump(&mut self.counters.other_domain);
            return Err(TcRxError::OtherDomain);
        }
        if h.source_port_identity.clock_identity == self.config.clock_identity {
            bump(&mut self.counters.own);
            return Err(TcRxError::Own);
        }
        if h.message_type.is_event() && rx.is_none() {
            bump(&mut self.counters.no_timestamp);
            return Err(TcRxError::NoTimestamp);
        }
        let data = data.get(..msg.wire_len()).unwrap_or(data);
        let p2p = self.config.mode == TcMode::PeerToPeer;
        let result = match msg.body {
            MessageBody::PdelayReq(_)
            | MessageBody::PdelayResp(_)
            | MessageBody::PdelayRespFollowUp(_) => {
                if p2p {
                    let r = self.links.get_mut(port).map(|l| {
                        l.handle_receive(data, rx, now, &self.ds)
                            .map_err(|_| TcRxError::NotForwarded)
                    });
                    self.drain_link_events();
                    r.unwrap_or(Err(TcRxError::NoPort))
                } else {
                    // The peer delay group is link-local (never bridged).
                    Err(TcRxError::NotForwarded)
                }
            }
            MessageBody::DelayReq(_) | MessageBody::DelayResp(_) if p2p => {
                Err(TcRxError::NotForwarded)
            }
            MessageBody::Sync(s) => rx.map_or(Err(TcRxError::NoTimestamp), |rx| {
                self.forward_sync(port, &h, s.origin_timestamp, data, rx, now)
            }),
            MessageBody::DelayReq(_) => rx.map_or(Err(TcRxError::NoTimestamp), |rx| {
                self.forward_event(port, Kind::DelayReq, &h, data, rx, now)
                    .map(drop)
            }),
            MessageBody::FollowUp(f) => self.follow_up(port, &h, &f, data, now),
            MessageBody::DelayResp(r) => {
                self.delay_resp(port, &h, r.requesting_port_identity, data, now)
            }
            MessageBody::Announce(_) | MessageBody::Signaling(_) | MessageBody::Management(_) => {
                self.forward_general(port, &h, data, now)
            }
            MessageBody::Unknown(_) => Err(TcRxError::NotForwarded),
        };
        if let Err(e) = result {
            match e {
                TcRxError::NotForwarded => bump(&mut self.counters.not_forwarded),
                TcRxError::Loop => bump(&mut self.counters.loops),
                TcRxError::Unmatched => bump(&mut self.counters.unmatched),
                TcRxError::TooLong => bump(&mut self.counters.too_long),
                _ => {}
            }
        }
        result
    }

    /// The transmit timestamp of an event message sent on port `port`.
    pub fn handle_send_timestamp(&mut self, port: usize, ctx: TcTxContext, ts: Time, now: Instant) {
        match ctx.0 {
            TxToken::Link(c) => {
                if let Some(l) = self.links.get_mut(port) {
                    l.handle_send_timestamp(c, ts, now);
                }
                self.drain_link_events();
            }
            TxToken::Forward { slot, generation } => {
                let ratio = if self.config.syntonize {
                    self.rate.ratio.unwrap_or(1.0)
                } else {
                    1.0
                };
                let Some(r) = self.records.get_mut(slot, generation) else {
                    return;
                };
                let Some(e) = r.egress.get_mut(port) else {
                    return;
                };
                if !matches!(e, Egress::Awaiting(_)) {
                    return;
                }
                let local = ts - r.ingress_time;
                let residence = if (ratio - 1.0).abs() > f64::EPSILON {
                    Duration::from_nanos_f64(local.nanos_f64() * ratio)
                } else {
                    local
                };
                *e = Egress::Residence(residence);
                self.residence.note(residence.nanos_f64());
                self.release(usize::from(slot));
            }
        }
    }

    /// Run the timers due at `now`: the ports' Pdelay requests, and
    /// forgetting what waited too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        for l in &mut self.links {
            // A transparent clock's ports never become master or slave.
            l.handle_timeout(now, true);
        }
        self.drain_link_events();
        let (expired, unknown) = self.records.expire(now, self.config.record_lifetime);
        self.counters.expired = self.counters.expired.saturating_add(expired);
        self.counters.residence_unknown = self.counters.residence_unknown.saturating_add(unknown);
        // A Follow_Up or Delay_Resp may now go out on the ports that got
        // their residence time; the others gave up.
        for slot in 0..self.records.len() {
            self.release(slot);
        }
        let lifetime = self.config.record_lifetime;
        self.recent
            .retain(|r| now.saturating_since(r.at) < lifetime);
    }

    /// When to call [`Self::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let links = self.links.iter().filter_map(Port::poll_timeout).min();
        let records = self.records.deadline(self.config.record_lifetime);
        let recent = self
            .recent
            .iter()
            .map(|r| r.at + self.config.record_lifetime)
            .min();
        [links, records, recent].into_iter().flatten().min()
    }

    /// Write the next message to send into `buf`: the ports' own Pdelay
    /// messages first, then forwarded ones. `ptp_now` is not read for
    /// forwarded messages.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        ptp_now: Time,
        buf: &mut [u8],
    ) -> Option<Result<TcTransmit, wire::Error>> {
        let n = self.links.len();
        for k in 0..n {
            let i = (self.next_link + k) % n;
            let Some(l) = self.links.get_mut(i) else {
                continue;
            };
            if let Some(r) = l.poll_transmit(now, ptp_now, &self.ds, buf) {
                self.next_link = (i + 1) % n;
                return Some(r.map(|t| TcTransmit {
                    port: i,
                    len: t.len,
                    event: t.event,
                    destination: t.destination,
                    context: t.context.map(|c| TcTxContext(TxToken::Link(c))),
                }));
            }
        }
        if self.queue.is_empty() {
            return None;
        }
        let q = self.queue.remove(0);
        let len = usize::from(q.len);
        let (Some(dst), Some(src)) = (buf.get_mut(..len), q.bytes.get(..len)) else {
            return Some(Err(wire::Error::BufferTooSmall));
        };
        dst.copy_from_slice(src);
        if let Some(&first) = src.first() {
            bump(&mut self.counters.forwarded_by_type[usize::from(first & 0x0F)]);
        }
        Some(Ok(TcTransmit {
            port: usize::from(q.port),
            len,
            event: q.event,
            destination: q.destination,
            context: q.context,
        }))
    }

    /// The ports' own events matter to nobody here (their state never
    /// leaves LISTENING); drop them so their queues never fill.
    fn drain_link_events(&mut self) {
        for l in &mut self.links {
            while l.poll_event().is_some() {}
        }
    }

    /// Queue `data` (with `header` written over its first 34 octets when
    /// given) for port `port`.
    fn enqueue(
        &mut self,
        port: usize,
        data: &[u8],
        header: Option<&Header>,
        event: bool,
        context: Option<TcTxContext>,
    ) -> bool {
        if self.queue.is_full() {
            bump(&mut self.counters.queue_full);
            return false;
        }
        let (Ok(port), Ok(len)) = (u8::try_from(port), u16::try_from(data.len())) else {
            return false;
        };
        let mut bytes = [0u8; MAX_FORWARD_LEN];
        let Some(dst) = bytes.get_mut(..data.len()) else {
            bump(&mut self.counters.too_long);
            return false;
        };
        dst.copy_from_slice(data);
        if let Some(h) = header
            && h.emit(len, &mut bytes).is_err()
        {
            return false;
        }
        self.queue.push(Queued {
            port,
            len,
            event,
            destination: Destination::Primary,
            context,
            bytes,
        });
        true
    }

    /// The other ports a message from `ingress` goes to.
    fn egress_ports(&self, ingress: usize) -> impl Iterator<Item = usize> + use<P> {
        let n = self.links.len();
        (0..n).filter(move |&j| j != ingress)
    }

    /// A message seen recently on another port (a loop), or remember it.
    fn loop_check(&mut self, port: usize, h: &Header, now: Instant) -> Result<(), TcRxError> {
        let ingress = u8::try_from(port).unwrap_or(u8::MAX);
        let ty = u8::from(h.message_type);
        let lifetime = self.config.record_lifetime;
        if let Some(r) = self.recent.iter().find(|r| {
            r.message_type == ty
                && r.source == h.source_port_identity
                && r.sequence_id == h.sequence_id
                && now.saturating_since(r.at) < lifetime
        }) {
            // The same message again: from another port it came round a
            // loop; from the same port it is a duplicate. Neither is
            // forwarded twice.
            return Err(if r.ingress == ingress {
                TcRxError::Unmatched
            } else {
                TcRxError::Loop
            });
        }
        if self.recent.is_full() {
            self.recent.remove(0);
        }
        self.recent.push(Recent {
            message_type: ty,
            source: h.source_port_identity,
            sequence_id: h.sequence_id,
            ingress,
            at: now,
        });
        Ok(())
    }

    /// Announce, Signaling, Management: forwarded as they are (an
    /// Announce's stepsRemoved incremented when configured).
    fn forward_general(
        &mut self,
        port: usize,
        h: &Header,
        data: &[u8],
        now: Instant,
    ) -> Result<(), TcRxError> {
        if data.len() > MAX_FORWARD_LEN {
            return Err(TcRxError::TooLong);
        }
        self.loop_check(port, h, now)?;
        let mut copy = [0u8; MAX_FORWARD_LEN];
        let out = copy.get_mut(..data.len()).ok_or(TcRxError::TooLong)?;
        out.copy_from_slice(data);
        if self.config.increment_steps_removed && h.message_type == MessageType::Announce {
            // stepsRemoved: octets 27-28 of the Announce body (clause 13.5.1).
            let at = Header::WIRE_LEN + 27;
            if let Some(b) = out.get_mut(at..at + 2) {
                let s = u16::from_be_bytes([b[0], b[1]]).saturating_add(1);
                b.copy_from_slice(&s.to_be_bytes());
            }
        }
        for j in self.egress_ports(port) {
            self.enqueue(j, out, None, false, None);
        }
        Ok(())
    }

    /// A Sync: forwarded at once, two-step; its Follow_Up waits for the
    /// transmit timestamps.
    fn forward_sync(
        &mut self,
        port: usize,
        h: &Header,
        origin: wire::Timestamp,
        data: &[u8],
        rx: Time,
        now: Instant,
    ) -> Result<(), TcRxError> {
        if h.flags.two_step() {
            return self
                .forward_event(port, Kind::Sync, h, data, rx, now)
                .map(drop);
        }
        // One-step in, two-step out (clause 11.5.2.3): the Sync carries the
        // twoStepFlag and a Follow_Up made here carries its origin time.
        let mut sync = *h;
        sync.flags.set_two_step(true);
        let mut fup = *h;
        fup.message_type = MessageType::FollowUp;
        fup.flags.set_two_step(false);
        fup.correction_field = TimeInterval::ZERO;
        fup.control_field = 2;
        fup.message_type_specific = [0; 4];
        let body = FollowUpMessage {
            precise_origin_timestamp: origin,
        };
        let mut fbytes = [0u8; Header::WIRE_LEN + FollowUpMessage::WIRE_LEN];
        let flen = u16::try_from(fbytes.len()).unwrap_or(u16::MAX);
        if fup.emit(flen, &mut fbytes).is_err()
            || fbytes
                .get_mut(Header::WIRE_LEN..)
                .is_none_or(|b| body.emit(b).is_err())
        {
            return Err(TcRxError::TooLong);
        }
        let mut sbytes = [0u8; MAX_FORWARD_LEN];
        let out = sbytes.get_mut(..data.len()).ok_or(TcRxError::TooLong)?;
        out.copy_from_slice(data);
        let slen = u16::try_from(data.len()).unwrap_or(u16::MAX);
        sync.emit(slen, out).map_err(|_| TcRxError::TooLong)?;
        let slot = self.forward_event(port, Kind::Sync, &sync, out, rx, now)?;
        bump(&mut self.counters.one_step_converted);
        if let Some(r) = self.records.slot_mut(slot) {
            r.held = Held::from_bytes(&fbytes, port);
            if let Some(t) = origin.to_time() {
                self.rate_sample(
                    h.source_port_identity,
                    t + h.correction_field.to_duration(),
                    rx,
                );
            }
        }
        self.release(slot);
        Ok(())
    }

    /// Forward an event message to every other port and remember it until
    /// its Follow_Up or Delay_Resp has gone out. Returns its record slot.
    fn forward_event(
        &mut self,
        port: usize,
        kind: Kind,
        h: &Header,
        data: &[u8],
        rx: Time,
        now: Instant,
    ) -> Result<usize, TcRxError> {
        if data.len() > MAX_FORWARD_LEN {
            return Err(TcRxError::TooLong);
        }
        if let Some(r) = self
            .records
            .find(kind, h.source_port_identity, h.sequence_id)
        {
            return Err(if usize::from(r.ingress) == port {
                TcRxError::Unmatched
            } else {
                TcRxError::Loop
            });
        }
        let link_delay = match (kind, self.config.mode) {
            (Kind::Sync, TcMode::PeerToPeer) => self.links.get(port).map_or(Duration::ZERO, |l| {
                l.mean_path_delay().unwrap_or(Duration::ZERO)
                    + Duration::from(l.port_ds().delay_asymmetry)
            }),
            _ => Duration::ZERO,
        };
        let (slot, generation, evicted) = self.records.insert(Record {
            kind,
            generation: 0,
            ingress: u8::try_from(port).unwrap_or(u8::MAX),
            source: h.source_port_identity,
            sequence_id: h.sequence_id,
            correction: h.correction_field,
            ingress_time: rx,
            at: now,
            link_delay,
            egress: [Egress::NotSent; P],
            held: None,
        });
        if evicted {
            bump(&mut self.counters.expired);
        }
        let ctx = TcTxContext(TxToken::Forward {
            slot: u8::try_from(slot).unwrap_or(u8::MAX),
            generation,
        });
        let deadline = now + self.config.tx_timestamp_timeout;
        for j in self.egress_ports(port) {
            let sent = self.enqueue(j, data, None, true, Some(ctx));
            if let Some(r) = self.records.slot_mut(slot)
                && let Some(e) = r.egress.get_mut(j)
            {
                *e = if sent {
                    Egress::Awaiting(deadline)
                } else {
                    Egress::Lost
                };
            }
        }
        Ok(slot)
    }

    /// A Follow_Up: held until the Sync's residence time on each port is
    /// known, then forwarded with it.
    fn follow_up(
        &mut self,
        port: usize,
        h: &Header,
        f: &FollowUpMessage,
        data: &[u8],
        now: Instant,
    ) -> Result<(), TcRxError> {
        let _ = now;
        let Some(slot) = self
            .records
            .position(Kind::Sync, h.source_port_identity, h.sequence_id)
        else {
            return Err(TcRxError::Unmatched);
        };
        let (sync_correction, sync_rx) = {
            let r = self.records.slot_mut(slot).ok_or(TcRxError::Unmatched)?;
            if usize::from(r.ingress) != port || r.held.is_some() {
                return Err(TcRxError::Unmatched);
            }
            r.held = Held::from_bytes(data, port);
            if r.held.is_none() {
                return Err(TcRxError::TooLong);
            }
            (r.correction, r.ingress_time)
        };
        if let Some(t) = f.precise_origin_timestamp.to_time() {
            let master = t + sync_correction.to_duration() + h.correction_field.to_duration();
            self.rate_sample(h.source_port_identity, master, sync_rx);
        }
        self.release(slot);
        Ok(())
    }

    /// A Delay_Resp coming back on the port a Delay_Req was forwarded to:
    /// forwarded to the request's ingress port with its residence time.
    fn delay_resp(
        &mut self,
        port: usize,
        h: &Header,
        requester: PortIdentity,
        data: &[u8],
        now: Instant,
    ) -> Result<(), TcRxError> {
        let _ = now;
        let Some(slot) = self
            .records
            .position(Kind::DelayReq, requester, h.sequence_id)
        else {
            return Err(TcRxError::Unmatched);
        };
        let r = self.records.slot_mut(slot).ok_or(TcRxError::Unmatched)?;
        let sent_here = r
            .egress
            .get(port)
            .is_some_and(|e| matches!(e, Egress::Awaiting(_) | Egress::Residence(_)));
        if !sent_here || r.held.is_some() {
            return Err(TcRxError::Unmatched);
        }
        r.held = Held::from_bytes(data, port);
        if r.held.is_none() {
            return Err(TcRxError::TooLong);
        }
        self.release(slot);
        Ok(())
    }

    fn rate_sample(&mut self, source: PortIdentity, master: Time, local: Time) {
        if self.config.syntonize {
            self.rate.sample(source, master, local);
        }
    }

    /// Send what record `slot` holds to every port whose residence time is
    /// known; free the record once nothing is left to do.
    fn release(&mut self, slot: usize) {
        let Some(r) = self.records.slot_mut(slot) else {
            return;
        };
        // Nothing to send until a residence time is known (or a copy lost).
        let ready = r
            .egress
            .iter()
            .any(|e| matches!(e, Egress::Residence(_) | Egress::Lost));
        if r.held.is_none() || !ready {
            return;
        }
        let Some(held) = r.held.clone() else {
            return;
        };
        let Ok((mut header, _)) = Header::parse(held.bytes()) else {
            self.records.free(slot);
            return;
        };
        let base = header.correction_field;
        let mut sends: ArrayVec<(usize, TimeInterval), P> = ArrayVec::new();
        match r.kind {
            Kind::Sync => {
                for (j, e) in r.egress.iter_mut().enumerate() {
                    if let Egress::Residence(res) = *e {
                        let add = (res + r.link_delay).saturating_to_interval();
                        sends.push((j, base.checked_add(add).unwrap_or(base)));
                        *e = Egress::Done;
                    }
                }
            }
            Kind::DelayReq => {
                let from = held.port();
                if let Some(e) = r.egress.get_mut(from) {
                    match *e {
                        Egress::Residence(res) => {
                            let add = res.saturating_to_interval();
                            sends.push((
                                usize::from(r.ingress),
                                base.checked_add(add).unwrap_or(base),
                            ));
                            *e = Egress::Done;
                        }
                        Egress::Lost => *e = Egress::Done,
                        _ => {}
                    }
                }
                // One response per request: the other ports are done.
                if r.egress.get(from) == Some(&Egress::Done) {
                    for e in &mut r.egress {
                        *e = Egress::Done;
                    }
                }
            }
        }
        let finished = r.finished();
        for (j, correction) in sends {
            header.correction_field = correction;
            if self.enqueue(j, held.bytes(), Some(&header), false, None) {
                bump(&mut self.counters.corrected);
            }
        }
        if finished {
            self.records.free(slot);
        }
    }
}
