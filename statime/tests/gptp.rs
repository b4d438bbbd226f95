//! IEEE 802.1AS (gPTP) behaviour of the real core in virtual time:
//! asCapable gating by the measured link delay, the Follow_Up information
//! TLV and the PATH_TRACE of Announces.

mod common;

use common::{Net, Node, S, SimClock};
use statime::datasets::{DefaultDS, TimePropertiesDS};
use statime::instance::PtpInstance;
use statime::port::PortConfig;
use statime::time::{Duration, Instant, Time};
use statime::wire::tlv::{
    DelayMechanism, FollowUpInformationTlv, PathTraceTlv, PortState, TlvRepr,
};
use statime::wire::{ClockIdentity, Message, MessageType, PortIdentity, SdoId, TlvType};

fn identity(n: u8) -> ClockIdentity {
    ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x80, n])
}

/// A gPTP port: P2P, majorSdoId 1, Sync 1/8 s, Announce 1/s, Pdelay 1/s,
/// asCapable below `thresh`, Follow_Up information and PATH_TRACE on.
fn gptp_instance(n: u8, priority1: u8, thresh: Option<Duration>) -> PtpInstance<2> {
    let mut d = DefaultDS::new(identity(n), 1);
    d.priority1 = priority1;
    d.sdo_id = SdoId::from_parts(1, 0);
    let mut p = PortConfig::new(PortIdentity {
        clock_identity: identity(n),
        port_number: 1,
    });
    p.port_ds.delay_mechanism = DelayMechanism::P2p;
    p.port_ds.log_sync_interval = -3;
    p.port_ds.log_announce_interval = 0;
    p.port_ds.log_min_pdelay_req_interval = 0;
    p.neighbor_prop_delay_thresh = thresh;
    p.follow_up_info = true;
    p.path_trace = true;
    PtpInstance::new(d, TimePropertiesDS::default(), [p])
}

fn pair(link_ns: u64) -> Net {
    let thresh = Some(Duration::from_nanos(800));
    let mut net = Net::new(
        vec![
            Node::new(gptp_instance(1, 100, thresh), SimClock::new(0.0, 0.0)),
            Node::new(gptp_instance(2, 128, thresh), SimClock::new(3_000.0, 0.0)),
        ],
        move |_, _| link_ns,
    );
    net.start();
    net.run_until(20 * S);
    net
}

#[test]
fn as_capable_link_synchronises() {
    let net = pair(700);
    assert!(net.nodes[0].inst.ports()[0].as_capable());
    assert!(net.nodes[1].inst.ports()[0].as_capable());
    assert_eq!(net.state(0), PortState::Master);
    assert_eq!(net.state(1), PortState::Uncalibrated);
    let m = net.nodes[1].measurements.last().expect("measured");
    assert!((m.offset.nanos_f64() - 3_000.0).abs() < 1.0, "{m:?}");
    assert!((m.mean_path_delay.nanos_f64() - 700.0).abs() < 1.0, "{m:?}");
}

#[test]
fn a_link_beyond_the_threshold_carries_no_time() {
    let net = pair(1_000);
    // The peer delay is measured (and reported) but over 800 ns: neither
    // side is asCapable, no Sync or Announce crosses, nobody is parent.
    for n in &net.nodes {
        let p = &n.inst.ports()[0];
        assert_eq!(p.mean_path_delay(), Some(Duration::from_nanos(1_000)));
        assert!(!p.as_capable());
        let c = p.counters();
        assert_eq!(c.tx_by_type[usize::from(u8::from(MessageType::Sync))], 0);
        assert_eq!(
            c.tx_by_type[usize::from(u8::from(MessageType::Announce))],
            0
        );
    }
    assert!(net.nodes[1].measurements.is_empty());
    assert_ne!(net.state(1), PortState::Uncalibrated);
    assert_ne!(net.state(1), PortState::Slave);
}

#[test]
fn a_silent_neighbour_ends_as_capable() {
    let mut net = pair(700);
    assert!(net.nodes[1].inst.ports()[0].as_capable());
    // The master stops answering Pdelay requests (and everything else).
    net.nodes[0].down = true;
    net.run_until(30 * S);
    // 4 requests (> allowedLostResponses 3) without an answer.
    assert!(!net.nodes[1].inst.ports()[0].as_capable());
}

/// Every message a lone grandmaster sends in `secs` seconds.
fn grandmaster_output(secs: u64) -> Vec<Vec<u8>> {
    let mut gm = gptp_instance(7, 1, None);
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    let mut now = 0u64;
    let time = |ns: u64| Time::from_nanos(1_700_000_000_000_000_000 + ns);
    gm.enable(Instant::ZERO);
    while now < secs * S {
        let at = Instant::from_nanos(now);
        gm.handle_timeout(at);
        while let Some((p, r)) = gm.poll_transmit(at, time(now), &mut buf) {
            let t = r.expect("fits");
            if let Some(ctx) = t.context {
                gm.handle_send_timestamp(p, ctx, time(now), at);
            }
            out.push(buf[..t.len].to_vec());
        }
        now = gm
            .poll_timeout()
            .map_or(now + S, |t| t.nanos().max(now + 1));
    }
    out
}

#[test]
fn follow_ups_carry_the_information_tlv_and_announces_the_path() {
    let out = grandmaster_output(10);
    let mut follow_ups = 0;
    let mut announces = 0;
    for bytes in &out {
        let m = Message::parse(bytes).expect("parses");
        assert_eq!(m.header.sdo_id.major(), 1, "majorSdoId 1 on everything");
        match m.header.message_type {
            MessageType::FollowUp => {
                follow_ups += 1;
                let raw = m
                    .suffix
                    .find(TlvType::OrganizationExtension)
                    .expect("Follow_Up information TLV");
                let tlv = <FollowUpInformationTlv as TlvRepr>::parse(raw).expect("valid");
                assert!((tlv.rate_ratio() - 1.0).abs() < 1e-15);
                assert_eq!(bytes.len(), 44 + 32);
            }
            MessageType::Announce => {
                announces += 1;
                let raw = m.suffix.find(TlvType::PathTrace).expect("PATH_TRACE");
                let path = <PathTraceTlv as TlvRepr>::parse(raw).expect("valid");
                let ids: Vec<ClockIdentity> = path.iter().collect();
                assert_eq!(ids, [identity(7)]);
            }
            _ => {}
        }
    }
    assert!(follow_ups >= 40, "{follow_ups} Follow_Ups");
    assert!(announces >= 5, "{announces} Announces");
}

#[test]
fn announces_carry_the_power_profile_tlv_when_configured() {
    use statime::wire::tlv::{PowerProfileTlv, PowerProfileVersion};
    let tlv = PowerProfileTlv {
        version: PowerProfileVersion::V2017,
        grandmaster_id: 3,
        time_inaccuracy: 250,
        network_time_inaccuracy: 0,
    };
    let mut d = DefaultDS::new(identity(8), 1);
    d.priority1 = 1;
    let mut p = PortConfig::new(PortIdentity {
        clock_identity: identity(8),
        port_number: 1,
    });
    p.port_ds.log_announce_interval = 0;
    p.power_profile = Some(tlv);
    let mut gm: PtpInstance<2> = PtpInstance::new(d, TimePropertiesDS::default(), [p]);
    gm.enable(Instant::ZERO);
    let mut buf = [0u8; 512];
    let mut found = 0;
    for s in 1..10u64 {
        let at = Instant::from_secs(s);
        gm.handle_timeout(at);
        while let Some((port, r)) = gm.poll_transmit(at, Time::from_nanos(s * S), &mut buf) {
            let t = r.expect("fits");
            if let Some(ctx) = t.context {
                gm.handle_send_timestamp(port, ctx, Time::from_nanos(s * S), at);
            }
            let m = Message::parse(&buf[..t.len]).expect("parses");
            if m.header.message_type == MessageType::Announce {
                let raw = m
                    .suffix
                    .find(TlvType::OrganizationExtension)
                    .expect("power profile TLV");
                assert_eq!(<PowerProfileTlv as TlvRepr>::parse(raw), Ok(tlv));
                found += 1;
            } else {
                assert!(m.suffix.is_empty(), "only Announces carry it");
            }
        }
    }
    assert!(found >= 5, "{found} Announces");
}

#[test]
fn a_boundary_clock_carries_its_parents_path_on() {
    // Two ports with PATH_TRACE: port 1 hears grandmaster 5 (whose Announce
    // carries [5]), port 2 becomes master and must announce [5, this clock].
    let me = identity(9);
    let mut d = DefaultDS::new(me, 2);
    d.priority1 = 200;
    let ports = [1u16, 2].map(|n| {
        let mut p = PortConfig::new(PortIdentity {
            clock_identity: me,
            port_number: n,
        });
        p.port_ds.log_announce_interval = 0;
        p.path_trace = true;
        p
    });
    let mut bc: PtpInstance<2> = PtpInstance::new(d, TimePropertiesDS::default(), ports);
    bc.enable(Instant::ZERO);
    let gm = identity(5);
    let announce = |seq: u16| {
        let mut h = statime::wire::Header::new(MessageType::Announce);
        h.source_port_identity = PortIdentity {
            clock_identity: gm,
            port_number: 1,
        };
        h.sequence_id = seq;
        let body = statime::wire::messages::AnnounceMessage {
            grandmaster_identity: gm,
            grandmaster_priority_1: 10,
            ..Default::default()
        };
        let mut tlv_buf = [0u8; 64];
        let mut w = statime::wire::TlvWriter::new(&mut tlv_buf);
        w.push(&PathTraceTlv::from_bytes(&gm.0).expect("one id"))
            .expect("fits");
        let m = Message {
            header: h,
            body: statime::wire::MessageBody::Announce(body),
            suffix: w.finish(),
        };
        let mut buf = [0u8; 128];
        let n = m.emit(&mut buf).expect("fits");
        buf[..n].to_vec()
    };
    let mut paths = Vec::new();
    let mut buf = [0u8; 512];
    for k in 0..12u64 {
        let at = Instant::from_secs(k + 1);
        let _ = bc.handle_receive(0, &announce(u16::try_from(k).unwrap()), None, at);
        bc.handle_timeout(at);
        while let Some((port, r)) = bc.poll_transmit(at, Time::from_nanos(k * S), &mut buf) {
            let t = r.expect("fits");
            if let Some(ctx) = t.context {
                bc.handle_send_timestamp(port, ctx, Time::from_nanos(k * S), at);
            }
            let m = Message::parse(&buf[..t.len]).expect("parses");
            if m.header.message_type == MessageType::Announce {
                assert_eq!(port, 1, "only the master port announces");
                let raw = m.suffix.find(TlvType::PathTrace).expect("PATH_TRACE");
                let p = <PathTraceTlv as TlvRepr>::parse(raw).expect("valid");
                paths.push(p.iter().collect::<Vec<_>>());
            }
        }
    }
    assert_eq!(bc.data_sets().parent.grandmaster_identity, gm);
    assert!(!paths.is_empty(), "port 2 never announced");
    for p in &paths {
        assert_eq!(p, &[gm, me]);
    }
}

#[test]
fn announces_carry_the_alternate_timescales_configured() {
    use statime::port::AlternateTimescale;
    use statime::wire::tlv::AlternateTimeOffsetIndicatorTlv;
    let mut name = [0u8; 10];
    name[..3].copy_from_slice(b"CET");
    let cet = AlternateTimescale {
        key: 1,
        current_offset: 3600,
        jump_seconds: 3600,
        time_of_next_jump: 1_774_746_037,
        name,
        name_len: 3,
    };
    let utc = AlternateTimescale {
        key: 2,
        current_offset: -37,
        jump_seconds: 0,
        time_of_next_jump: 0,
        name: *b"UTC\0\0\0\0\0\0\0",
        name_len: 3,
    };
    let mut d = DefaultDS::new(identity(8), 1);
    d.priority1 = 1;
    let mut p = PortConfig::new(PortIdentity {
        clock_identity: identity(8),
        port_number: 1,
    });
    p.port_ds.log_announce_interval = 0;
    p.alternate_timescales[0] = Some(cet);
    p.alternate_timescales[3] = Some(utc);
    let mut gm: PtpInstance<2> = PtpInstance::new(d, TimePropertiesDS::default(), [p]);
    gm.enable(Instant::ZERO);
    let mut buf = [0u8; 512];
    let mut found = 0;
    for s in 1..10u64 {
        let at = Instant::from_secs(s);
        gm.handle_timeout(at);
        while let Some((port, r)) = gm.poll_transmit(at, Time::from_nanos(s * S), &mut buf) {
            let t = r.expect("fits");
            if let Some(ctx) = t.context {
                gm.handle_send_timestamp(port, ctx, Time::from_nanos(s * S), at);
            }
            let m = Message::parse(&buf[..t.len]).expect("parses");
            let atoi: Vec<AlternateTimeOffsetIndicatorTlv<'_>> = m
                .suffix
                .iter()
                .filter(|r| r.tlv_type == TlvType::AlternateTimeOffsetIndicator)
                .map(|r| <AlternateTimeOffsetIndicatorTlv<'_> as TlvRepr>::parse(r).expect("TLV"))
                .collect();
            if m.header.message_type == MessageType::Announce {
                assert_eq!(atoi, [cet.tlv(), utc.tlv()], "both, in order");
                assert_eq!(atoi[0].display_name.bytes(), b"CET");
                found += 1;
            } else {
                assert!(atoi.is_empty(), "only Announces carry them");
            }
        }
    }
    assert!(found >= 5, "{found} Announces");
}
