//! What a port sends: the queue of messages waiting for `poll_transmit`
//! and how each is written (IEEE 1588-2019 clause 13, field values from
//! clause 9.5 and the data sets of clause 8).

use crate::datasets::{InstanceDataSets, PortDS};
use crate::time::{Time, TimeInterval};
use crate::wire::messages::{
    AnnounceMessage, DelayReqMessage, DelayRespMessage, FollowUpMessage, PdelayReqMessage,
    PdelayRespFollowUpMessage, PdelayRespMessage, SyncMessage,
};
use crate::wire::tlv::{FollowUpInformationTlv, PathTraceTlv, PowerProfileTlv};
use crate::wire::{
    ClockIdentity, Header, Message, MessageBody, MessageType, PortIdentity, Result, Timestamp,
    TlvWriter,
};

/// Where a message goes; the transport maps it to an address (clause
/// annex C/D/E: 224.0.1.129 / FF0X::181 / 01-1B-19-00-00-00 for
/// [`Destination::Primary`], 224.0.0.107 / FF02::6B / 01-80-C2-00-00-0E for
/// [`Destination::PeerDelay`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    /// The primary PTP multicast group.
    Primary,
    /// The peer delay multicast group (never forwarded by bridges).
    PeerDelay,
}

/// Which event message a transmit timestamp belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxKind {
    /// A two-step Sync: its timestamp becomes the Follow_Up's preciseOriginTimestamp.
    Sync,
    /// A Delay_Req: t3.
    DelayReq,
    /// A Pdelay_Req: t1.
    PdelayReq,
    /// A two-step Pdelay_Resp: t3 for the Pdelay_Resp_Follow_Up.
    PdelayResp,
}

/// Identifies a sent event message when its transmit timestamp comes back
/// ([`super::Port::handle_send_timestamp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxContext {
    /// The message kind.
    pub kind: TxKind,
    /// Its sequenceId.
    pub sequence_id: u16,
}

/// A message written by [`super::Port::poll_transmit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Octets written at the start of the caller's buffer.
    pub len: usize,
    /// An event message (UDP port 319, timestamped on transmission).
    pub event: bool,
    /// The destination group.
    pub destination: Destination,
    /// For event messages whose transmit time the port needs: hand the
    /// timestamp back with this context.
    pub context: Option<TxContext>,
}

/// A message waiting to be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    Announce,
    Sync,
    FollowUp {
        sequence_id: u16,
        origin: Time,
    },
    DelayReq,
    DelayResp {
        sequence_id: u16,
        requester: PortIdentity,
        receive: Time,
        correction: TimeInterval,
        sdo_minor: u8,
    },
    PdelayReq,
    PdelayResp {
        sequence_id: u16,
        requester: PortIdentity,
        request_receipt: Time,
        correction: TimeInterval,
    },
    PdelayRespFollowUp {
        sequence_id: u16,
        requester: PortIdentity,
        response_origin: Time,
        correction: TimeInterval,
    },
}

/// The per-type sequenceId counters of a port (clause 7.3.7.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sequences {
    pub(crate) announce: u16,
    pub(crate) sync: u16,
    pub(crate) delay_req: u16,
    pub(crate) pdelay_req: u16,
}

fn next(counter: &mut u16) -> u16 {
    let s = *counter;
    *counter = counter.wrapping_add(1);
    s
}

fn stamp(t: Time) -> Timestamp {
    // A Time beyond 2^48 s cannot occur for a clock the servo steers; write
    // the maximum rather than wrap if it ever does.
    Timestamp::from_time(t).unwrap_or_else(|| Timestamp::from_bytes(&[0xFF; 10]))
}

/// The Announce this instance sends (clause 13.5): its parent and time
/// properties data sets.
pub(crate) fn announce_body(ds: &InstanceDataSets) -> AnnounceMessage {
    AnnounceMessage {
        origin_timestamp: Timestamp::default(),
        current_utc_offset: ds.time_properties.current_utc_offset,
        grandmaster_priority_1: ds.parent.grandmaster_priority1,
        grandmaster_clock_quality: ds.parent.grandmaster_clock_quality,
        grandmaster_priority_2: ds.parent.grandmaster_priority2,
        grandmaster_identity: ds.parent.grandmaster_identity,
        steps_removed: ds.current.steps_removed,
        time_source: ds.time_properties.time_source,
    }
}

/// A header from this port in the instance's domain and SDO.
pub(crate) fn port_header(
    message_type: MessageType,
    ds: &InstanceDataSets,
    port: &PortDS,
) -> Header {
    let mut h = Header::new(message_type);
    h.sdo_id = ds.default.sdo_id;
    h.minor_version = port.minor_version_number;
    h.domain_number = ds.default.domain_number;
    h.source_port_identity = port.port_identity;
    h
}

/// What [`write`] needs besides the pending item.
pub(crate) struct Context<'a> {
    pub(crate) ds: &'a InstanceDataSets,
    pub(crate) port: &'a PortDS,
    pub(crate) sequences: &'a mut Sequences,
    pub(crate) one_step: bool,
    pub(crate) ptp_now: Time,
    /// Append the 802.1AS Follow_Up information TLV to Follow_Ups.
    pub(crate) follow_up_info: bool,
    /// Append a PATH_TRACE TLV to Announces: this path, then this clock.
    pub(crate) path: Option<&'a [ClockIdentity]>,
    /// Append the IEEE C37.238 power profile TLV to Announces.
    pub(crate) power_profile: Option<PowerProfileTlv>,
    /// Set the unicastFlag on everything written (clause 16.1).
    pub(crate) unicast: bool,
    /// ALTERNATE_TIME_OFFSET_INDICATOR TLVs for Announces (clause 16.3).
    pub(crate) alternate_timescales:
        &'a [Option<super::AlternateTimescale>; super::MAX_ALTERNATE_TIMESCALES],
}

/// Octets of the TLVs a port appends: a PATH_TRACE of the longest path kept
/// plus this clock, or the Follow_Up information TLV.
const SUFFIX_LEN: usize =
    4 + 8 * (super::MAX_PATH + 1) + 32 + 22 + super::MAX_ALTERNATE_TIMESCALES * (4 + 26);

/// Write `pending` into `buf`.
pub(crate) fn write(p: Pending, cx: Context<'_>, buf: &mut [u8]) -> Result<Transmit> {
    let ds = cx.ds;
    let mut h = port_header(MessageType::Sync, ds, cx.port);
    let log_sync = cx.port.log_sync_interval;
    let (body, destination, context) = match p {
        Pending::Announce => {
            h.sequence_id = next(&mut cx.sequences.announce);
            h.log_message_interval = cx.port.log_announce_interval;
            ds.time_properties.write_flags(&mut h.flags);
            (
                MessageBody::Announce(announce_body(ds)),
                Destination::Primary,
                None,
            )
        }
        Pending::Sync => {
            let seq = next(&mut cx.sequences.sync);
            h.sequence_id = seq;
            h.log_message_interval = log_sync;
            h.flags.set_two_step(!cx.one_step);
            let origin = if cx.one_step {
                stamp(cx.ptp_now)
            } else {
                Timestamp::default()
            };
            let context = (!cx.one_step).then_some(TxContext {
                kind: TxKind::Sync,
                sequence_id: seq,
            });
            let body = SyncMessage {
                origin_timestamp: origin,
            };
            (MessageBody::Sync(body), Destination::Primary, context)
        }
        Pending::FollowUp {
            sequence_id,
            origin,
        } => {
            h.sequence_id = sequence_id;
            h.log_message_interval = log_sync;
            let body = FollowUpMessage {
                precise_origin_timestamp: stamp(origin),
            };
            (MessageBody::FollowUp(body), Destination::Primary, None)
        }
        Pending::DelayReq => {
            let seq = next(&mut cx.sequences.delay_req);
            h.sequence_id = seq;
            // clause 11.6.3: the request carries -delayAsymmetry.
            h.correction_field = -cx.port.delay_asymmetry;
            let body = DelayReqMessage::default();
            let context = Some(TxContext {
                kind: TxKind::DelayReq,
                sequence_id: seq,
            });
            (MessageBody::DelayReq(body), Destination::Primary, context)
        }
        Pending::DelayResp {
            sequence_id,
            requester,
            receive,
            correction,
            sdo_minor,
        } => {
            h.sequence_id = sequence_id;
            h.log_message_interval = cx.port.log_min_delay_req_interval;
            // clause 11.3.2 c): copy the request's correctionField and
            // minorSdoId (so the response reaches the requester's SDO).
            h.correction_field = correction;
            h.sdo_id = crate::wire::SdoId::from_parts(h.sdo_id.major(), sdo_minor);
            let body = DelayRespMessage {
                receive_timestamp: stamp(receive),
                requesting_port_identity: requester,
            };
            (MessageBody::DelayResp(body), Destination::Primary, None)
        }
        Pending::PdelayReq => {
            let seq = next(&mut cx.sequences.pdelay_req);
            h.sequence_id = seq;
            h.correction_field = -cx.port.delay_asymmetry;
            let body = PdelayReqMessage::default();
            let context = Some(TxContext {
                kind: TxKind::PdelayReq,
                sequence_id: seq,
            });
            (
                MessageBody::PdelayReq(body),
                Destination::PeerDelay,
                context,
            )
        }
        Pending::PdelayResp {
            sequence_id,
            requester,
            request_receipt,
            correction,
        } => {
            h.sequence_id = sequence_id;
            h.flags.set_two_step(true);
            let body = PdelayRespMessage {
                request_receipt_timestamp: stamp(request_receipt),
                requesting_port_identity: requester,
            };
            h.correction_field = correction;
            let context = Some(TxContext {
                kind: TxKind::PdelayResp,
                sequence_id,
            });
            (
                MessageBody::PdelayResp(body),
                Destination::PeerDelay,
                context,
            )
        }
        Pending::PdelayRespFollowUp {
            sequence_id,
            requester,
            response_origin,
            correction,
        } => {
            h.sequence_id = sequence_id;
            h.correction_field = correction;
            let body = PdelayRespFollowUpMessage {
                response_origin_timestamp: stamp(response_origin),
                requesting_port_identity: requester,
            };
            (
                MessageBody::PdelayRespFollowUp(body),
                Destination::PeerDelay,
                None,
            )
        }
    };
    if !matches!(
        body,
        MessageBody::Announce(_)
            | MessageBody::Sync(_)
            | MessageBody::FollowUp(_)
            | MessageBody::DelayResp(_)
    ) {
        h.log_message_interval = 0x7F;
    }
    h.message_type = body.message_type().unwrap_or(MessageType::Sync);
    h.flags.set_unicast(cx.unicast);
    let event = h.message_type.is_event();
    let mut suffix_buf = [0u8; SUFFIX_LEN];
    let mut tlvs = TlvWriter::new(&mut suffix_buf);
    match (&body, cx.path) {
        (MessageBody::Announce(_), Some(path)) => {
            // clause 16.2.3: the received pathSequence, then this clock.
            let mut ids = [0u8; 8 * (super::MAX_PATH + 1)];
            let mut n = 0;
            let own = ds.default.clock_identity;
            for id in path
                .iter()
                .take(super::MAX_PATH)
                .chain(core::iter::once(&own))
            {
                if let Some(slot) = ids.get_mut(n..n + 8) {
                    slot.copy_from_slice(&id.0);
                    n += 8;
                }
            }
            if let Some(p) = ids.get(..n).and_then(PathTraceTlv::from_bytes) {
                tlvs.push(&p)?;
            }
        }
        (MessageBody::FollowUp(_), _) if cx.follow_up_info => {
            // A grandmaster's or a syntonized clock's own Follow_Up: rate
            // ratio 1, no phase or frequency change (802.1AS-2020 11.4.4.3).
            tlvs.push(&FollowUpInformationTlv::default())?;
        }
        _ => {}
    }
    if let (MessageBody::Announce(_), Some(p)) = (&body, cx.power_profile) {
        tlvs.push(&p)?;
    }
    if matches!(body, MessageBody::Announce(_)) {
        for a in cx.alternate_timescales.iter().flatten() {
            tlvs.push(&a.tlv())?;
        }
    }
    let message = Message {
        header: h,
        body,
        suffix: tlvs.finish(),
    };
    let len = message.emit(buf)?;
    Ok(Transmit {
        len,
        event,
        destination,
        context,
    })
}
