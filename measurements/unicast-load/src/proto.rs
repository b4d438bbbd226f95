//! The PTP messages of a simulated unicast client: its identity and
//! address, the Signaling that asks for Announce, Sync and Delay_Resp
//! (IEEE 1588-2019 clause 16.1.4.1), its Delay_Req, and a compact reading
//! of what a server sends back.

use std::net::Ipv4Addr;

use statime::wire::messages::{DelayReqMessage, SignalingMessage};
use statime::wire::tlv::{RequestUnicastTransmissionTlv, Tlv, TlvRepr};
use statime::wire::{
    ClockIdentity, Header, Message, MessageBody, MessageType, PortIdentity, Result, Timestamp,
    TlvSet, TlvWriter,
};

/// The services a client asks for, as bits of a mask.
pub(crate) const ANNOUNCE: u8 = 1;
/// Sync (and its Follow_Up).
pub(crate) const SYNC: u8 = 2;
/// Delay_Resp.
pub(crate) const DELAY_RESP: u8 = 4;
/// All three.
pub(crate) const ALL: u8 = ANNOUNCE | SYNC | DELAY_RESP;

/// The first client address: client `i` is `base + i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Addresses {
    base: u32,
    count: u32,
}

impl Addresses {
    /// `count` clients from `base` on; `None` when they would run past
    /// the end of the address space.
    pub(crate) fn new(base: Ipv4Addr, count: u32) -> Option<Self> {
        let base = u32::from(base);
        base.checked_add(count)?;
        Some(Self { base, count })
    }

    /// Client `i`'s address.
    pub(crate) fn ip(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.base.wrapping_add(i))
    }

    /// The client whose address is `ip`, if it is one of ours.
    pub(crate) fn index(&self, ip: Ipv4Addr) -> Option<u32> {
        let i = u32::from(ip).checked_sub(self.base)?;
        (i < self.count).then_some(i)
    }
}

/// Client `i`'s port identity: a clock identity made of a fixed prefix
/// and the index, port 1.
pub(crate) fn identity(i: u32) -> PortIdentity {
    let [a, b, c, d] = i.to_be_bytes();
    PortIdentity {
        clock_identity: ClockIdentity([0x02, 0x4c, 0x47, a, b, c, d, 0x01]),
        port_number: 1,
    }
}

/// The client whose identity this is (the inverse of [`identity`]).
pub(crate) fn index_of(p: PortIdentity) -> Option<u32> {
    let c = p.clock_identity.0;
    (c[..3] == [0x02, 0x4c, 0x47] && c[7] == 0x01 && p.port_number == 1)
        .then(|| u32::from_be_bytes([c[3], c[4], c[5], c[6]]))
}

fn header(t: MessageType, i: u32, sequence_id: u16, domain: u8, log: i8) -> Header {
    let mut h = Header::new(t);
    h.domain_number = domain;
    h.source_port_identity = identity(i);
    h.sequence_id = sequence_id;
    h.log_message_interval = log;
    h.flags.set_unicast(true);
    h
}

/// What a client asks for: the services of `mask`, at these log2
/// intervals, for `duration` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// The services (bits [`ANNOUNCE`], [`SYNC`], [`DELAY_RESP`]).
    pub(crate) mask: u8,
    /// logInterMessagePeriod of Announce.
    pub(crate) log_announce: i8,
    /// logInterMessagePeriod of Sync.
    pub(crate) log_sync: i8,
    /// logInterMessagePeriod of Delay_Resp.
    pub(crate) log_delay_resp: i8,
    /// durationField, seconds.
    pub(crate) duration: u32,
}

/// Write client `i`'s Signaling with one REQUEST_UNICAST_TRANSMISSION TLV
/// per service of `r` (to all ports: targetPortIdentity all ones).
pub(crate) fn write_request(
    i: u32,
    sequence_id: u16,
    domain: u8,
    r: &Request,
    buf: &mut [u8],
) -> Result<usize> {
    let mut tlv_buf = [0u8; 3 * 10];
    let mut w = TlvWriter::new(&mut tlv_buf);
    for (bit, message_type, log) in [
        (ANNOUNCE, MessageType::Announce, r.log_announce),
        (SYNC, MessageType::Sync, r.log_sync),
        (DELAY_RESP, MessageType::DelayResp, r.log_delay_resp),
    ] {
        if r.mask & bit != 0 {
            w.push(&RequestUnicastTransmissionTlv {
                message_type,
                log_inter_message_period: log,
                duration: r.duration,
            })?;
        }
    }
    Message {
        header: header(MessageType::Signaling, i, sequence_id, domain, 0x7F),
        body: MessageBody::Signaling(SignalingMessage {
            target_port_identity: PortIdentity::ALL,
        }),
        suffix: w.finish(),
    }
    .emit(buf)
}

/// Write client `i`'s Delay_Req `sequence_id` (logMessageInterval 0x7F as
/// clause 13.3.2.14 asks of a Delay_Req).
pub(crate) fn write_delay_req(
    i: u32,
    sequence_id: u16,
    domain: u8,
    buf: &mut [u8],
) -> Result<usize> {
    Message {
        header: header(MessageType::DelayReq, i, sequence_id, domain, 0x7F),
        body: MessageBody::DelayReq(DelayReqMessage {
            origin_timestamp: Timestamp::default(),
        }),
        suffix: TlvSet::EMPTY,
    }
    .emit(buf)
}

/// What a server sent, as far as the load generator cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rx {
    /// A Signaling: the services granted and denied by its GRANT TLVs,
    /// the shortest granted duration, and its target.
    Grants {
        /// Services granted (a nonzero duration).
        granted: u8,
        /// Services denied (duration 0).
        denied: u8,
        /// The shortest granted duration, s (`u32::MAX` when none).
        duration: u32,
        /// targetPortIdentity.
        target: PortIdentity,
    },
    /// An Announce.
    Announce,
    /// A Sync with this sequenceId.
    Sync(u16),
    /// A Follow_Up with this sequenceId.
    FollowUp(u16),
    /// A Delay_Resp for `requester`'s Delay_Req `sequence_id`.
    DelayResp {
        /// sequenceId (that of the Delay_Req).
        sequence_id: u16,
        /// requestingPortIdentity.
        requester: PortIdentity,
    },
    /// Anything else (or unparseable).
    Other,
}

fn bit_of(t: MessageType) -> u8 {
    match t {
        MessageType::Announce => ANNOUNCE,
        MessageType::Sync => SYNC,
        MessageType::DelayResp => DELAY_RESP,
        _ => 0,
    }
}

/// Read a received datagram; also whether it carries the unicastFlag.
pub(crate) fn parse(data: &[u8]) -> (Rx, bool) {
    let Ok(m) = Message::parse(data) else {
        return (Rx::Other, false);
    };
    let unicast = m.header.flags.unicast();
    let rx = match m.body {
        MessageBody::Announce(_) => Rx::Announce,
        MessageBody::Sync(_) => Rx::Sync(m.header.sequence_id),
        MessageBody::FollowUp(_) => Rx::FollowUp(m.header.sequence_id),
        MessageBody::DelayResp(d) => Rx::DelayResp {
            sequence_id: m.header.sequence_id,
            requester: d.requesting_port_identity,
        },
        MessageBody::Signaling(s) => {
            let (mut granted, mut denied, mut duration) = (0, 0, u32::MAX);
            for raw in m.suffix.iter() {
                if let Ok(Tlv::GrantUnicastTransmission(g)) = Tlv::parse(raw) {
                    if g.duration == 0 {
                        denied |= bit_of(g.message_type);
                    } else {
                        granted |= bit_of(g.message_type);
                        duration = duration.min(g.duration);
                    }
                }
            }
            Rx::Grants {
                granted,
                denied,
                duration,
                target: s.target_port_identity,
            }
        }
        _ => Rx::Other,
    };
    (rx, unicast)
}

#[cfg(test)]
mod tests {
    use statime::wire::messages::{DelayRespMessage, FollowUpMessage, SyncMessage};
    use statime::wire::tlv::GrantUnicastTransmissionTlv;

    use super::*;

    const REQ: Request = Request {
        mask: ALL,
        log_announce: 1,
        log_sync: 0,
        log_delay_resp: 0,
        duration: 300,
    };

    #[test]
    fn addresses_and_identities_round_trip() {
        let a = Addresses::new(Ipv4Addr::new(10, 1, 0, 0), 70_000).expect("fits");
        assert_eq!(a.ip(0), Ipv4Addr::new(10, 1, 0, 0));
        assert_eq!(a.ip(65_537), Ipv4Addr::new(10, 2, 0, 1));
        assert_eq!(a.index(Ipv4Addr::new(10, 2, 0, 1)), Some(65_537));
        assert_eq!(a.index(Ipv4Addr::new(10, 0, 255, 255)), None);
        assert_eq!(a.index(a.ip(70_000)), None, "one past the last");
        assert!(Addresses::new(Ipv4Addr::new(255, 255, 255, 0), 300).is_none());
        for i in [0, 1, 65_537, 9_999_999] {
            assert_eq!(index_of(identity(i)), Some(i));
        }
        assert_eq!(index_of(PortIdentity::ALL), None);
    }

    #[test]
    fn the_request_carries_three_tlvs_and_the_unicast_flag() {
        let mut buf = [0u8; 128];
        let len = write_request(7, 3, 0, &REQ, &mut buf).expect("emit");
        assert_eq!(len, 44 + 3 * 10, "header, target, three 10-octet TLVs");
        // The fixed octets: messageType 0xC, version 2.1, length, unicastFlag.
        assert_eq!(&buf[..4], &[0x0C, 0x12, 0x00, 74]);
        assert_eq!(buf[6] & 0x04, 0x04);
        let m = Message::parse(&buf[..len]).expect("parses");
        assert_eq!(m.header.source_port_identity, identity(7));
        assert_eq!(m.header.sequence_id, 3);
        let tlvs: Vec<_> = m
            .suffix
            .iter()
            .map(|raw| match Tlv::parse(raw) {
                Ok(Tlv::RequestUnicastTransmission(r)) => {
                    (r.message_type, r.log_inter_message_period, r.duration)
                }
                other => panic!("unexpected TLV {other:?}"),
            })
            .collect();
        assert_eq!(
            tlvs,
            [
                (MessageType::Announce, 1, 300),
                (MessageType::Sync, 0, 300),
                (MessageType::DelayResp, 0, 300)
            ]
        );
        let only_sync = Request { mask: SYNC, ..REQ };
        let len = write_request(7, 4, 0, &only_sync, &mut buf).expect("emit");
        assert_eq!(len, 54);
    }

    #[test]
    fn the_delay_req_is_an_event_message_from_the_client() {
        let mut buf = [0u8; 64];
        let len = write_delay_req(65_537, 9, 5, &mut buf).expect("emit");
        assert_eq!(len, 44);
        assert_eq!(buf[0] & 0x0F, 1, "Delay_Req");
        assert_eq!(buf[4], 5, "domain");
        let m = Message::parse(&buf[..len]).expect("parses");
        assert!(matches!(m.body, MessageBody::DelayReq(_)));
        assert!(m.header.flags.unicast());
        assert_eq!(m.header.sequence_id, 9);
        assert_eq!(index_of(m.header.source_port_identity), Some(65_537));
    }

    fn server_message(body: MessageBody<'_>, suffix: TlvSet<'_>, seq: u16) -> Vec<u8> {
        let t = body.message_type().expect("a known body");
        let mut h = Header::new(t);
        h.sequence_id = seq;
        h.flags.set_unicast(true);
        let mut buf = vec![0u8; 256];
        let len = Message {
            header: h,
            body,
            suffix,
        }
        .emit(&mut buf)
        .expect("emit");
        buf.truncate(len);
        buf
    }

    #[test]
    fn server_messages_are_read() {
        let mut tlv_buf = [0u8; 64];
        let mut w = TlvWriter::new(&mut tlv_buf);
        for (t, d) in [
            (MessageType::Announce, 300),
            (MessageType::Sync, 60),
            (MessageType::DelayResp, 0),
        ] {
            w.push(&GrantUnicastTransmissionTlv {
                message_type: t,
                log_inter_message_period: 0,
                duration: d,
                renewal_invited: true,
            })
            .expect("tlv");
        }
        let body = MessageBody::Signaling(SignalingMessage {
            target_port_identity: identity(4),
        });
        let bytes = server_message(body, w.finish(), 0);
        assert_eq!(
            parse(&bytes),
            (
                Rx::Grants {
                    granted: ANNOUNCE | SYNC,
                    denied: DELAY_RESP,
                    duration: 60,
                    target: identity(4)
                },
                true
            )
        );
        let sync = MessageBody::Sync(SyncMessage {
            origin_timestamp: Timestamp::default(),
        });
        assert_eq!(
            parse(&server_message(sync, TlvSet::EMPTY, 11)).0,
            Rx::Sync(11)
        );
        let fu = MessageBody::FollowUp(FollowUpMessage {
            precise_origin_timestamp: Timestamp::default(),
        });
        assert_eq!(
            parse(&server_message(fu, TlvSet::EMPTY, 11)).0,
            Rx::FollowUp(11)
        );
        let dr = MessageBody::DelayResp(DelayRespMessage {
            receive_timestamp: Timestamp::default(),
            requesting_port_identity: identity(9),
        });
        assert_eq!(
            parse(&server_message(dr, TlvSet::EMPTY, 2)).0,
            Rx::DelayResp {
                sequence_id: 2,
                requester: identity(9)
            }
        );
        assert_eq!(parse(&[0u8; 10]), (Rx::Other, false), "truncated");
    }
}
