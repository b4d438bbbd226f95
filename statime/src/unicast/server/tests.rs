extern crate std;
use std::vec::Vec;

use super::*;
use crate::datasets::{DefaultDS, TimePropertiesDS};
use crate::wire::ClockIdentity;
use crate::wire::tlv::{CancelUnicastTransmissionTlv, RequestUnicastTransmissionTlv};

const CLIENT: PortIdentity = PortIdentity {
    clock_identity: ClockIdentity([9, 9, 9, 0xFF, 0xFE, 9, 9, 9]),
    port_number: 1,
};
const SERVER: PortIdentity = PortIdentity {
    clock_identity: ClockIdentity([1, 1, 1, 0xFF, 0xFE, 1, 1, 1]),
    port_number: 1,
};

fn ds() -> InstanceDataSets {
    let mut d = DefaultDS::new(SERVER.clock_identity, 1);
    d.domain_number = 44;
    InstanceDataSets::new(d, TimePropertiesDS::default())
}

fn s(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

fn ms(m: i64) -> Instant {
    Instant::ZERO + Duration::from_nanos(m * 1_000_000)
}

/// A Signaling message from the client with `tlvs`, as received.
fn from_client<'b>(tlvs: &[Tlv<'_>], buf: &'b mut [u8]) -> Message<'b> {
    let mut tlv_buf = [0u8; 64];
    let mut w = TlvWriter::new(&mut tlv_buf);
    for t in tlvs {
        w.push(t).expect("tlv");
    }
    let mut h = crate::wire::Header::new(MessageType::Signaling);
    h.source_port_identity = CLIENT;
    let n = Message {
        header: h,
        body: MessageBody::Signaling(SignalingMessage {
            target_port_identity: PortIdentity::ALL,
        }),
        suffix: w.finish(),
    }
    .emit(buf)
    .expect("emit");
    Message::parse(&buf[..n]).expect("parse")
}

fn request(t: MessageType, log: i8, duration: u32) -> Tlv<'static> {
    Tlv::RequestUnicastTransmission(RequestUnicastTransmissionTlv {
        message_type: t,
        log_inter_message_period: log,
        duration,
    })
}

fn grants(r: &Replies) -> Vec<(MessageType, i8, u32)> {
    r.iter()
        .filter_map(|x| match x {
            ServerReply::Grant(g) => Some((g.message_type, g.log_inter_message_period, g.duration)),
            ServerReply::Acknowledge(_) => None,
        })
        .collect()
}

#[test]
fn requests_are_granted_capped_or_denied_by_policy() {
    let policy = ServerPolicy {
        max_duration: 300,
        min_log_sync_interval: -4,
        ..ServerPolicy::default()
    };
    let mut c = ServedClient::new(PortIdentity::default());
    let mut d = ServerDecisions::default();
    let mut buf = [0u8; 128];
    let m = from_client(
        &[
            request(MessageType::Announce, 0, 1000),
            request(MessageType::Sync, -5, 60),
            request(MessageType::DelayResp, -4, 60),
            request(MessageType::PdelayResp, 0, 60),
        ],
        &mut buf,
    );
    let r = c.handle_signaling(&m, &policy, true, s(0), &mut d);
    assert_eq!(
        grants(&r),
        [
            (MessageType::Announce, 0, 300),
            (MessageType::Sync, -5, 0),
            (MessageType::DelayResp, -4, 60),
            (MessageType::PdelayResp, 0, 0),
        ],
        "capped to 300 s; Sync faster than 16/s and Pdelay_Resp denied"
    );
    assert_eq!(c.identity, CLIENT, "learned from the Signaling");
    assert_eq!((d.granted, d.denied), (2, 2));
    assert_eq!(c.granted(Service::DelayResp, s(59)), Some(-4));
    assert_eq!(c.granted(Service::DelayResp, s(60)), None, "expired");
    assert_eq!(c.granted(Service::Sync, s(1)), None);

    // The caller's client limit: everything denied.
    let mut other = ServedClient::new(PortIdentity::default());
    let r = other.handle_signaling(&m, &policy, false, s(0), &mut d);
    assert!(grants(&r).iter().all(|g| g.2 == 0));
    assert!(other.is_idle(s(0)));
}

#[test]
fn granted_streams_run_at_their_rate_until_the_grant_ends() {
    let mut c = ServedClient::new(CLIENT);
    let mut d = ServerDecisions::default();
    let mut buf = [0u8; 128];
    let m = from_client(
        &[
            request(MessageType::Announce, 0, 10),
            request(MessageType::Sync, -2, 10),
        ],
        &mut buf,
    );
    c.handle_signaling(&m, &ServerPolicy::default(), true, s(0), &mut d);
    let mut syncs = 0;
    let mut announces = 0;
    let mut last_sync = None;
    let mut t = ms(0);
    while t < s(15) {
        while let Some(due) = c.poll(t) {
            match due {
                Due::Sync {
                    sequence_id,
                    log_interval,
                } => {
                    assert_eq!(log_interval, -2);
                    assert_eq!(sequence_id, syncs, "consecutive sequenceIds");
                    syncs += 1;
                    last_sync = Some(t);
                }
                Due::Announce { .. } => announces += 1,
            }
        }
        let next = c.next_due().unwrap_or(s(15));
        t = if next > t {
            next
        } else {
            t + Duration::from_nanos(1)
        };
    }
    assert_eq!(syncs, 40, "4 per second for 10 s");
    assert_eq!(announces, 10);
    assert_eq!(last_sync, Some(ms(9750)));
    assert!(c.is_idle(s(10)));
    assert_eq!(c.next_due(), None, "expired grants leave nothing due");
}

#[test]
fn a_renewal_keeps_the_rhythm_and_a_cancel_stops_it() {
    let policy = ServerPolicy::default();
    let mut c = ServedClient::new(CLIENT);
    let mut d = ServerDecisions::default();
    let mut buf = [0u8; 128];
    let req = from_client(&[request(MessageType::Sync, 0, 10)], &mut buf);
    c.handle_signaling(&req, &policy, true, s(0), &mut d);
    let mut times = Vec::new();
    for t in 0..30 {
        if t == 8 {
            let mut b = [0u8; 128];
            let renew = from_client(&[request(MessageType::Sync, 0, 10)], &mut b);
            c.handle_signaling(&renew, &policy, true, s(8), &mut d);
        }
        if t == 12 {
            let mut b = [0u8; 128];
            let cancel = from_client(
                &[Tlv::CancelUnicastTransmission(
                    CancelUnicastTransmissionTlv {
                        message_type: MessageType::Sync,
                    },
                )],
                &mut b,
            );
            let r = c.handle_signaling(&cancel, &policy, true, s(12), &mut d);
            assert!(matches!(
                r.as_slice(),
                [ServerReply::Acknowledge(a)] if a.message_type == MessageType::Sync
            ));
        }
        while c.poll(s(t)).is_some() {
            times.push(t);
        }
    }
    assert_eq!(
        times,
        (0..12).collect::<Vec<_>>(),
        "one per second, no gap at the renewal, none after the cancel"
    );
    assert_eq!(d.cancelled, 1);
}

#[test]
fn written_messages_are_unicast_and_parse() {
    let ds = ds();
    let mut port = PortDS::new(SERVER);
    port.minor_version_number = 0;
    let mut buf = [0u8; 256];
    let replies = [ServerReply::Grant(GrantUnicastTransmissionTlv {
        message_type: MessageType::Sync,
        log_inter_message_period: -4,
        duration: 60,
        renewal_invited: true,
    })];
    let n = write_signaling(&ds, &port, CLIENT, 7, &replies, &mut buf).expect("fits");
    let m = Message::parse(&buf[..n]).expect("parses");
    assert!(m.header.flags.unicast());
    assert_eq!(m.header.domain_number, 44);
    assert_eq!(m.header.sequence_id, 7);
    assert!(matches!(m.body, MessageBody::Signaling(x) if x.target_port_identity == CLIENT));
    let t = Tlv::parse(m.suffix.iter().next().expect("a TLV")).expect("TLV");
    assert!(matches!(t, Tlv::GrantUnicastTransmission(g) if g.duration == 60 && g.renewal_invited));

    let n = write_announce(&ds, &port, 3, 0, &mut buf).expect("fits");
    let m = Message::parse(&buf[..n]).expect("parses");
    assert!(m.header.flags.unicast());
    assert_eq!(
        (m.header.sequence_id, m.header.log_message_interval),
        (3, 0)
    );
    assert!(
        matches!(m.body, MessageBody::Announce(a) if a.grandmaster_identity == SERVER.clock_identity)
    );

    let n = write_sync(&ds, &port, 4, -4, &mut buf).expect("fits");
    let m = Message::parse(&buf[..n]).expect("parses");
    assert!(m.header.flags.unicast() && m.header.flags.two_step());
    assert_eq!(m.header.log_message_interval, -4);
    assert_eq!(m.header.minor_version, 0);

    let origin = Time::from_secs_nanos(1_700_000_000, 5);
    let n = write_follow_up(&ds, &port, 4, -4, origin, &mut buf).expect("fits");
    let m = Message::parse(&buf[..n]).expect("parses");
    assert!(m.header.flags.unicast());
    assert!(
        matches!(m.body, MessageBody::FollowUp(f) if f.precise_origin_timestamp.to_time() == Some(origin))
    );
    assert!(
        write_sync(&ds, &port, 4, -4, &mut buf[..20]).is_err(),
        "too small"
    );
}
