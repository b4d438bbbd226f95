extern crate std;
use std::boxed::Box;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::datasets::{DefaultDS, InstanceDataSets};
use crate::wire::ClockIdentity;

const OWN: PortIdentity = PortIdentity {
    clock_identity: ClockIdentity([1, 1, 1, 0xFF, 0xFE, 1, 1, 1]),
    port_number: 1,
};

fn master(n: u8) -> PortIdentity {
    PortIdentity {
        clock_identity: ClockIdentity([n, 2, 2, 0xFF, 0xFE, 2, 2, 2]),
        port_number: 1,
    }
}

fn ds() -> InstanceDataSets {
    let mut d = DefaultDS::new(OWN.clock_identity, 1);
    d.domain_number = 44;
    InstanceDataSets::new(d, crate::datasets::TimePropertiesDS::default())
}

fn s(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

fn config() -> ClientConfig {
    ClientConfig {
        duration: 60,
        log_announce_interval: 0,
        log_sync_interval: -4,
        log_delay_resp_interval: -4,
        log_query_interval: 0,
    }
}

/// Everything the client sends now: (entry, target, TLV).
fn drain(c: &mut UnicastClient<4>) -> Vec<(usize, PortIdentity, Tlv<'static>)> {
    let mut out = Vec::new();
    let mut buf = [0u8; 128];
    while let Some(r) = c.poll_transmit(OWN, &ds(), 1, &mut buf) {
        let t = r.expect("fits");
        let bytes: &'static [u8] = Box::leak(buf[..t.len].to_vec().into_boxed_slice());
        let m = Message::parse(bytes).expect("parses");
        assert_eq!(m.header.message_type, MessageType::Signaling);
        assert!(m.header.flags.unicast(), "unicastFlag set");
        assert_eq!(m.header.domain_number, 44);
        assert_eq!(m.header.source_port_identity, OWN);
        assert_eq!(m.header.log_message_interval, 0x7F);
        let MessageBody::Signaling(sig) = m.body else {
            panic!("not signaling")
        };
        let tlvs: Vec<_> = m.suffix.iter().collect();
        assert_eq!(tlvs.len(), 1, "one TLV per message");
        out.push((
            t.entry,
            sig.target_port_identity,
            Tlv::parse(tlvs[0]).expect("TLV parses"),
        ));
    }
    out
}

fn requests(out: &[(usize, PortIdentity, Tlv<'_>)]) -> Vec<(usize, MessageType, i8, u32)> {
    out.iter()
        .filter_map(|(e, _, t)| match t {
            Tlv::RequestUnicastTransmission(r) => {
                Some((*e, r.message_type, r.log_inter_message_period, r.duration))
            }
            _ => None,
        })
        .collect()
}

/// A Signaling message from `from` with `tlv`, parsed.
fn signaling<'b, T: TlvRepr<'static>>(
    from: PortIdentity,
    tlv: &T,
    buf: &'b mut [u8],
) -> Message<'b> {
    let mut tlv_buf = [0u8; 32];
    let mut w = TlvWriter::new(&mut tlv_buf);
    w.push(tlv).expect("tlv");
    let mut h = Header::new(MessageType::Signaling);
    h.domain_number = 44;
    h.source_port_identity = from;
    let m = Message {
        header: h,
        body: MessageBody::Signaling(SignalingMessage {
            target_port_identity: OWN,
        }),
        suffix: w.finish(),
    };
    let n = m.emit(buf).expect("emit");
    Message::parse(&buf[..n]).expect("parse")
}

fn grant(
    c: &mut UnicastClient<4>,
    entry: usize,
    from: PortIdentity,
    t: MessageType,
    d: u32,
    at: Instant,
) {
    let mut buf = [0u8; 128];
    let m = signaling(
        from,
        &GrantUnicastTransmissionTlv {
            message_type: t,
            log_inter_message_period: 0,
            duration: d,
            renewal_invited: true,
        },
        &mut buf,
    );
    c.handle_message(entry, &m, OWN, at).expect("taken");
}

#[test]
fn announce_is_asked_of_every_entry_and_renewed_before_the_grant_ends() {
    let mut c = UnicastClient::<4>::new(config(), 2);
    assert_eq!(c.poll_timeout(), Some(Instant::ZERO), "due at once");
    c.handle_timeout(s(0));
    let out = drain(&mut c);
    assert_eq!(
        requests(&out),
        vec![
            (0, MessageType::Announce, 0, 60),
            (1, MessageType::Announce, 0, 60)
        ]
    );
    assert!(
        out.iter().all(|(_, t, _)| *t == PortIdentity::ALL),
        "identity unknown: the wildcard target"
    );

    grant(&mut c, 0, master(1), MessageType::Announce, 60, s(0));
    assert_eq!(c.entries()[0].identity, Some(master(1)));
    assert_eq!(c.entries()[0].granted(Service::Announce, s(1)), Some(0));
    // Entry 1 never answered: asked again every query interval (1 s).
    c.handle_timeout(s(1));
    assert_eq!(
        requests(&drain(&mut c)),
        vec![(1, MessageType::Announce, 0, 60)]
    );
    // Entry 0 renews when a quarter (15 s) of its 60 s is left, not before.
    let mut asked_0 = None;
    for t in 2..60 {
        c.handle_timeout(s(t));
        if requests(&drain(&mut c)).iter().any(|r| r.0 == 0) {
            asked_0 = Some(t);
            break;
        }
    }
    assert_eq!(asked_0, Some(45));
    assert_eq!(c.counters().grants, 1);
}

#[test]
fn sync_and_delay_resp_come_only_from_the_parent_and_follow_it() {
    let mut c = UnicastClient::<4>::new(config(), 2);
    c.handle_timeout(s(0));
    drain(&mut c);
    grant(&mut c, 0, master(1), MessageType::Announce, 60, s(0));
    grant(&mut c, 1, master(2), MessageType::Announce, 60, s(0));

    c.set_parent(Some(master(2)), s(1));
    assert_eq!(c.parent(), Some(1));
    c.handle_timeout(s(1));
    let out = drain(&mut c);
    assert_eq!(
        requests(&out),
        vec![
            (1, MessageType::Sync, -4, 60),
            (1, MessageType::DelayResp, -4, 60)
        ]
    );
    assert!(
        out.iter().all(|(_, t, _)| *t == master(2)),
        "addressed to the known identity"
    );
    grant(&mut c, 1, master(2), MessageType::Sync, 60, s(1));
    grant(&mut c, 1, master(2), MessageType::DelayResp, 60, s(1));

    // BMCA moves to entry 0: its Sync and Delay_Resp are requested, the
    // old parent's grants cancelled.
    c.set_parent(Some(master(1)), s(5));
    c.handle_timeout(s(5));
    let out = drain(&mut c);
    let cancels: Vec<_> = out
        .iter()
        .filter_map(|(e, _, t)| match t {
            Tlv::CancelUnicastTransmission(x) => Some((*e, x.message_type)),
            _ => None,
        })
        .collect();
    assert_eq!(
        cancels,
        vec![(1, MessageType::Sync), (1, MessageType::DelayResp)]
    );
    assert_eq!(
        requests(&out),
        vec![
            (0, MessageType::Sync, -4, 60),
            (0, MessageType::DelayResp, -4, 60)
        ]
    );
    assert_eq!(c.entries()[1].granted(Service::Sync, s(6)), None);

    // A late Sync grant from the old parent is given back at once.
    grant(&mut c, 1, master(2), MessageType::Sync, 60, s(6));
    let out = drain(&mut c);
    assert!(matches!(
        out.as_slice(),
        [(1, _, Tlv::CancelUnicastTransmission(x))] if x.message_type == MessageType::Sync
    ));
    // No parent (not a slave any more): nothing but Announce is kept.
    c.set_parent(None, s(7));
    assert_eq!(c.parent(), None);
}

#[test]
fn a_denial_is_retried_after_the_query_interval() {
    let mut cfg = config();
    cfg.log_query_interval = 2; // 4 s
    let mut c = UnicastClient::<4>::new(cfg, 1);
    c.handle_timeout(s(0));
    drain(&mut c);
    grant(&mut c, 0, master(1), MessageType::Announce, 0, s(0));
    assert_eq!(c.counters().denials, 1);
    assert_eq!(c.entries()[0].granted(Service::Announce, s(0)), None);
    for t in 1..4 {
        c.handle_timeout(s(t));
        assert!(drain(&mut c).is_empty(), "no request at {t} s");
    }
    assert_eq!(c.poll_timeout(), Some(s(4)));
    c.handle_timeout(s(4));
    assert_eq!(
        requests(&drain(&mut c)),
        vec![(0, MessageType::Announce, 0, 60)]
    );
}

#[test]
fn a_cancel_is_acknowledged_and_the_service_asked_for_again() {
    let mut c = UnicastClient::<4>::new(config(), 1);
    c.handle_timeout(s(0));
    drain(&mut c);
    grant(&mut c, 0, master(1), MessageType::Announce, 60, s(0));
    let mut buf = [0u8; 128];
    let m = signaling(
        master(1),
        &CancelUnicastTransmissionTlv {
            message_type: MessageType::Announce,
        },
        &mut buf,
    );
    c.handle_message(0, &m, OWN, s(3)).expect("taken");
    assert_eq!(c.entries()[0].granted(Service::Announce, s(3)), None);
    let out = drain(&mut c);
    assert!(matches!(
        out.as_slice(),
        [(0, _, Tlv::AcknowledgeCancelUnicastTransmission(a))] if a.message_type == MessageType::Announce
    ));
    c.handle_timeout(s(3));
    assert_eq!(
        requests(&drain(&mut c)),
        vec![(0, MessageType::Announce, 0, 60)]
    );
}

#[test]
fn signaling_for_another_port_or_entry_is_refused() {
    let mut c = UnicastClient::<4>::new(config(), 1);
    let mut buf = [0u8; 128];
    let mut m = signaling(
        master(1),
        &GrantUnicastTransmissionTlv {
            message_type: MessageType::Announce,
            log_inter_message_period: 0,
            duration: 60,
            renewal_invited: false,
        },
        &mut buf,
    );
    m.body = MessageBody::Signaling(SignalingMessage {
        target_port_identity: master(9),
    });
    assert_eq!(
        c.handle_message(0, &m, OWN, s(0)),
        Err(ClientError::NotForUs)
    );
    assert_eq!(c.entries()[0].granted(Service::Announce, s(0)), None);
    assert_eq!(
        c.handle_message(3, &m, OWN, s(0)),
        Err(ClientError::NoEntry)
    );
    assert_eq!(c.counters().ignored, 1);
}

#[test]
fn the_table_is_bounded_by_n() {
    let c = UnicastClient::<4>::new(config(), 9);
    assert_eq!(c.entries().len(), 4);
}

#[test]
fn a_shorter_grant_than_asked_is_renewed_on_its_own_schedule() {
    // Regression: the renewal margin came from the requested 60 s, so a
    // 15 s grant looked due for renewal at once and the client asked
    // again on every call.
    let mut c = UnicastClient::<4>::new(config(), 1);
    let mut asked = Vec::new();
    let mut t = 0;
    while t <= 40_000 {
        let now = Instant::ZERO + Duration::from_nanos(t * 1_000_000);
        c.handle_timeout(now);
        for (e, _, tlv) in drain(&mut c) {
            if let Tlv::RequestUnicastTransmission(r) = tlv {
                assert_eq!(r.duration, 60);
                asked.push(t);
                grant(&mut c, e, master(1), r.message_type, 15, now);
            }
        }
        t += 10;
    }
    // Granted at 0, 11.25, 22.5, 33.75 s: renewed 3.75 s (a quarter of
    // 15 s) before each grant ends.
    assert_eq!(asked, vec![0, 11_250, 22_500, 33_750]);
}
