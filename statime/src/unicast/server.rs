//! Unicast negotiation as a master (IEEE 1588-2019 clause 16.1): the
//! grants one client holds and the unicast Announce, Sync and Follow_Up
//! streams they entitle it to.
//!
//! Sans-IO and without a client table: the caller keeps one
//! [`ServedClient`] per client address (a map, a slab, whatever scales to
//! its client count), hands it the client's Signaling
//! ([`ServedClient::handle_signaling`]), asks it what is due
//! ([`ServedClient::next_due`], [`ServedClient::poll`]) and writes the
//! messages with [`write_signaling`], [`write_announce`], [`write_sync`]
//! and [`write_follow_up`]. The instance's port answers the client's
//! Delay_Req as for any slave (its [`crate::port::PortConfig::unicast`]
//! flag marks the Delay_Resp unicast); the caller sends that answer only
//! to a client whose Delay_Resp grant is live
//! ([`ServedClient::granted`]).
//!
//! Rules (clause 16.1.4): a REQUEST for Announce, Sync (which covers its
//! Follow_Up) or Delay_Resp is granted for the requested duration, capped
//! at [`ServerPolicy::max_duration`], when the requested rate is not above
//! the policy's fastest; otherwise it is denied (a GRANT with duration 0).
//! A grant renewed before it ends continues its stream without a gap. A
//! CANCEL ends the grant and is acknowledged. Expired grants lapse
//! silently.

use arrayvec::ArrayVec;

use super::Service;
use crate::datasets::{InstanceDataSets, PortDS, log_interval_duration};
use crate::port::transmit::{announce_body, port_header};
use crate::time::{Duration, Instant, Time};
use crate::wire::messages::{FollowUpMessage, SignalingMessage, SyncMessage};
use crate::wire::tlv::{
    AcknowledgeCancelUnicastTransmissionTlv, GrantUnicastTransmissionTlv, Tlv, TlvRepr,
};
use crate::wire::{
    Error, Message, MessageBody, MessageType, PortIdentity, Result, Timestamp, TlvSet, TlvWriter,
};

/// What a server grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerPolicy {
    /// The longest grant, seconds (a longer request is granted this long).
    pub max_duration: u32,
    /// The fastest Announce rate granted, log2 s.
    pub min_log_announce_interval: i8,
    /// The fastest Sync rate granted, log2 s.
    pub min_log_sync_interval: i8,
    /// The fastest Delay_Resp rate granted, log2 s.
    pub min_log_delay_resp_interval: i8,
}

impl Default for ServerPolicy {
    /// ptp4l's limits: grants up to an hour, rates up to 128 per second.
    fn default() -> Self {
        Self {
            max_duration: 3600,
            min_log_announce_interval: -7,
            min_log_sync_interval: -7,
            min_log_delay_resp_interval: -7,
        }
    }
}

impl ServerPolicy {
    const fn fastest(&self, s: Service) -> i8 {
        match s {
            Service::Announce => self.min_log_announce_interval,
            Service::Sync => self.min_log_sync_interval,
            Service::DelayResp => self.min_log_delay_resp_interval,
        }
    }
}

/// One granted stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Served {
    until: Instant,
    log_interval: i8,
    /// When the next message of a stream is due (Announce, Sync).
    next: Instant,
}

/// A TLV a server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerReply {
    /// GRANT_UNICAST_TRANSMISSION (duration 0: denied).
    Grant(GrantUnicastTransmissionTlv),
    /// ACKNOWLEDGE_CANCEL_UNICAST_TRANSMISSION.
    Acknowledge(AcknowledgeCancelUnicastTransmissionTlv),
}

/// The replies to one Signaling message (at most one per TLV it carried).
pub type Replies = ArrayVec<ServerReply, 8>;

/// A message due to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// An Announce with this sequenceId and logMessageInterval.
    Announce {
        /// sequenceId.
        sequence_id: u16,
        /// The granted logInterMessagePeriod.
        log_interval: i8,
    },
    /// A two-step Sync; its transmit time goes into the Follow_Up.
    Sync {
        /// sequenceId.
        sequence_id: u16,
        /// The granted logInterMessagePeriod.
        log_interval: i8,
    },
}

/// Counters of what a server decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerDecisions {
    /// Requests granted.
    pub granted: u32,
    /// Requests denied.
    pub denied: u32,
    /// Cancels acknowledged.
    pub cancelled: u32,
}

/// The grants of one unicast client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedClient {
    /// The client's port identity (the source of its Signaling).
    pub identity: PortIdentity,
    grants: [Option<Served>; 3],
    announce_sequence: u16,
    sync_sequence: u16,
}

impl ServedClient {
    /// A client known by `identity`, with no grants yet.
    #[must_use]
    pub const fn new(identity: PortIdentity) -> Self {
        Self {
            identity,
            grants: [None; 3],
            announce_sequence: 0,
            sync_sequence: 0,
        }
    }

    /// Whether `service` is granted at `now`, and at which interval.
    #[must_use]
    pub fn granted(&self, service: Service, now: Instant) -> Option<i8> {
        self.grants[service.index()]
            .filter(|g| g.until > now)
            .map(|g| g.log_interval)
    }

    /// Whether no grant is live at `now` (the caller may forget the client).
    #[must_use]
    pub fn is_idle(&self, now: Instant) -> bool {
        self.grants.iter().flatten().all(|g| g.until <= now)
    }

    /// Act on the negotiation TLVs of a Signaling message from this client
    /// and return the answers. `accept` says whether a new grant may be
    /// given at all (the caller's client limit): when false every request
    /// is denied.
    pub fn handle_signaling(
        &mut self,
        msg: &Message<'_>,
        policy: &ServerPolicy,
        accept: bool,
        now: Instant,
        decisions: &mut ServerDecisions,
    ) -> Replies {
        let mut out = Replies::new();
        if !matches!(msg.body, MessageBody::Signaling(_)) {
            return out;
        }
        self.identity = msg.header.source_port_identity;
        for raw in msg.suffix.iter() {
            let reply = match Tlv::parse(raw) {
                Ok(Tlv::RequestUnicastTransmission(r)) => {
                    let g = self.request(
                        r.message_type,
                        r.log_inter_message_period,
                        r.duration,
                        policy,
                        accept,
                        now,
                    );
                    if g.duration == 0 {
                        decisions.denied = decisions.denied.saturating_add(1);
                    } else {
                        decisions.granted = decisions.granted.saturating_add(1);
                    }
                    ServerReply::Grant(g)
                }
                Ok(Tlv::CancelUnicastTransmission(c)) => {
                    if let Some(s) = Service::of(c.message_type) {
                        self.grants[s.index()] = None;
                    }
                    decisions.cancelled = decisions.cancelled.saturating_add(1);
                    ServerReply::Acknowledge(AcknowledgeCancelUnicastTransmissionTlv {
                        message_type: c.message_type,
                    })
                }
                _ => continue,
            };
            if out.try_push(reply).is_err() {
                break;
            }
        }
        out
    }

    fn request(
        &mut self,
        t: MessageType,
        log_interval: i8,
        duration: u32,
        policy: &ServerPolicy,
        accept: bool,
        now: Instant,
    ) -> GrantUnicastTransmissionTlv {
        let deny = GrantUnicastTransmissionTlv {
            message_type: t,
            log_inter_message_period: log_interval,
            duration: 0,
            renewal_invited: false,
        };
        let Some(s) = Service::of(t) else {
            return deny;
        };
        if !accept || duration == 0 || log_interval < policy.fastest(s) || log_interval > 7 {
            return deny;
        }
        let duration = duration.min(policy.max_duration);
        let until = now + Duration::from_secs(i64::from(duration));
        let slot = &mut self.grants[s.index()];
        // A renewal at the same rate keeps the stream's schedule.
        let next = match *slot {
            Some(g) if g.until > now && g.log_interval == log_interval => g.next,
            _ => now,
        };
        *slot = Some(Served {
            until,
            log_interval,
            next,
        });
        GrantUnicastTransmissionTlv {
            message_type: t,
            log_inter_message_period: log_interval,
            duration,
            renewal_invited: true,
        }
    }

    /// When [`Self::poll`] next has something to do: the next message of a
    /// stream, or the end of the last grant.
    #[must_use]
    pub fn next_due(&self) -> Option<Instant> {
        let streams = [Service::Announce, Service::Sync]
            .into_iter()
            .filter_map(|s| self.grants[s.index()])
            .map(|g| if g.next < g.until { g.next } else { g.until });
        let ends = self.grants.iter().flatten().map(|g| g.until);
        streams.chain(ends).min()
    }

    /// The next message due at `now`, if any (call until `None`). Expired
    /// grants are dropped. A stream that fell behind (the caller was late)
    /// sends one message and resumes its rhythm from `now`.
    pub fn poll(&mut self, now: Instant) -> Option<Due> {
        for g in &mut self.grants {
            if g.is_some_and(|x| x.until <= now) {
                *g = None;
            }
        }
        for s in [Service::Sync, Service::Announce] {
            let Some(g) = self.grants[s.index()].as_mut() else {
                continue;
            };
            if g.next > now {
                continue;
            }
            let interval = log_interval_duration(g.log_interval);
            g.next = g.next + interval;
            if g.next <= now {
                g.next = now + interval;
            }
            let log_interval = g.log_interval;
            return Some(match s {
                Service::Sync => {
                    let sequence_id = self.sync_sequence;
                    self.sync_sequence = sequence_id.wrapping_add(1);
                    Due::Sync {
                        sequence_id,
                        log_interval,
                    }
                }
                _ => {
                    let sequence_id = self.announce_sequence;
                    self.announce_sequence = sequence_id.wrapping_add(1);
                    Due::Announce {
                        sequence_id,
                        log_interval,
                    }
                }
            });
        }
        None
    }
}

fn unicast_header(
    t: MessageType,
    ds: &InstanceDataSets,
    port: &PortDS,
    sequence_id: u16,
    log_interval: i8,
) -> crate::wire::Header {
    let mut h = port_header(t, ds, port);
    h.sequence_id = sequence_id;
    h.log_message_interval = log_interval;
    h.flags.set_unicast(true);
    h
}

fn emit(
    h: crate::wire::Header,
    body: MessageBody,
    suffix: TlvSet<'_>,
    buf: &mut [u8],
) -> Result<usize> {
    Message {
        header: h,
        body,
        suffix,
    }
    .emit(buf)
}

/// Write a Signaling message from `port` to the client `to` carrying
/// `replies`.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` is too small.
pub fn write_signaling(
    ds: &InstanceDataSets,
    port: &PortDS,
    to: PortIdentity,
    sequence_id: u16,
    replies: &[ServerReply],
    buf: &mut [u8],
) -> Result<usize> {
    let mut tlv_buf = [0u8; 8 * 12];
    let mut tlvs = TlvWriter::new(&mut tlv_buf);
    for r in replies {
        match r {
            ServerReply::Grant(g) => tlvs.push(g)?,
            ServerReply::Acknowledge(a) => tlvs.push(a)?,
        }
    }
    let h = unicast_header(MessageType::Signaling, ds, port, sequence_id, 0x7F);
    let body = MessageBody::Signaling(SignalingMessage {
        target_port_identity: to,
    });
    emit(h, body, tlvs.finish(), buf)
}

/// Write a unicast Announce (clause 13.5) of this instance.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` is too small.
pub fn write_announce(
    ds: &InstanceDataSets,
    port: &PortDS,
    sequence_id: u16,
    log_interval: i8,
    buf: &mut [u8],
) -> Result<usize> {
    let mut h = unicast_header(MessageType::Announce, ds, port, sequence_id, log_interval);
    ds.time_properties.write_flags(&mut h.flags);
    emit(
        h,
        MessageBody::Announce(announce_body(ds)),
        TlvSet::EMPTY,
        buf,
    )
}

/// Write a unicast two-step Sync (clause 13.6); its transmit time goes into
/// [`write_follow_up`].
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` is too small.
pub fn write_sync(
    ds: &InstanceDataSets,
    port: &PortDS,
    sequence_id: u16,
    log_interval: i8,
    buf: &mut [u8],
) -> Result<usize> {
    let mut h = unicast_header(MessageType::Sync, ds, port, sequence_id, log_interval);
    h.flags.set_two_step(true);
    emit(
        h,
        MessageBody::Sync(SyncMessage {
            origin_timestamp: Timestamp::default(),
        }),
        TlvSet::EMPTY,
        buf,
    )
}

/// Write the unicast Follow_Up (clause 13.7) of the Sync `sequence_id` that
/// left at `origin`.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` is too small; [`Error::InvalidValue`]
/// when `origin` does not fit a PTP timestamp.
pub fn write_follow_up(
    ds: &InstanceDataSets,
    port: &PortDS,
    sequence_id: u16,
    log_interval: i8,
    origin: Time,
    buf: &mut [u8],
) -> Result<usize> {
    let h = unicast_header(MessageType::FollowUp, ds, port, sequence_id, log_interval);
    let origin = Timestamp::from_time(origin).ok_or(Error::InvalidValue)?;
    emit(
        h,
        MessageBody::FollowUp(FollowUpMessage {
            precise_origin_timestamp: origin,
        }),
        TlvSet::EMPTY,
        buf,
    )
}

#[cfg(test)]
mod tests;
