//! Transparent clock behaviour on hand-made messages: what is forwarded
//! where, and exactly which residence time ends up in which correctionField.

use super::*;
use crate::wire::messages::{
    AnnounceMessage, DelayReqMessage, DelayRespMessage, PdelayReqMessage,
    PdelayRespFollowUpMessage, PdelayRespMessage, SyncMessage,
};
use crate::wire::{ClockIdentity, Timestamp, TlvSet};

const TC: ClockIdentity = ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x7c, 1]);
const MASTER: PortIdentity = PortIdentity {
    clock_identity: ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0, 1]),
    port_number: 1,
};
const SLAVE: PortIdentity = PortIdentity {
    clock_identity: ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0, 2]),
    port_number: 1,
};

fn tc<const P: usize>(mode: TcMode, ports: usize) -> TransparentClock<P> {
    let mut c = TcConfig::new(mode, TC);
    c.syntonize = false;
    let ports = (1..=ports).map(|n| {
        PortConfig::new(PortIdentity {
            clock_identity: TC,
            port_number: u16::try_from(n).unwrap(),
        })
    });
    let mut t = TransparentClock::new(c, ports);
    t.enable(Instant::ZERO);
    t
}

fn at(ns: u64) -> Time {
    Time::from_nanos(1_700_000_000_000_000_000 + ns)
}

fn emit(h: Header, body: MessageBody<'_>) -> ([u8; 128], usize) {
    let mut buf = [0u8; 128];
    let m = Message {
        header: h,
        body,
        suffix: TlvSet::EMPTY,
    };
    let len = m.emit(&mut buf).unwrap();
    (buf, len)
}

fn header(ty: MessageType, source: PortIdentity, seq: u16, correction_ns: i64) -> Header {
    let mut h = Header::new(ty);
    h.source_port_identity = source;
    h.sequence_id = seq;
    h.correction_field = TimeInterval::from_nanos(correction_ns);
    h.flags.set_two_step(ty == MessageType::Sync);
    h
}

fn sync(seq: u16, corr: i64) -> ([u8; 128], usize) {
    emit(
        header(MessageType::Sync, MASTER, seq, corr),
        MessageBody::Sync(SyncMessage::default()),
    )
}

fn follow_up(seq: u16, corr: i64, origin: Time) -> ([u8; 128], usize) {
    emit(
        header(MessageType::FollowUp, MASTER, seq, corr),
        MessageBody::FollowUp(FollowUpMessage {
            precise_origin_timestamp: Timestamp::from_time(origin).unwrap(),
        }),
    )
}

/// Everything the clock wants to send now.
fn sent<const P: usize>(t: &mut TransparentClock<P>) -> Vec<(TcTransmit, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = [0u8; MAX_FORWARD_LEN];
    while let Some(r) = t.poll_transmit(Instant::ZERO, at(0), &mut buf) {
        let x = r.unwrap();
        out.push((x, buf[..x.len].to_vec()));
    }
    out
}

fn parse(b: &[u8]) -> Message<'_> {
    Message::parse(b).unwrap()
}

fn correction_ns(b: &[u8]) -> i64 {
    parse(b).header.correction_field.nanos_floor()
}

extern crate std;
use std::vec::Vec;

#[test]
fn e2e_sync_follow_up_carries_the_residence_time() {
    let mut t = tc::<4>(TcMode::EndToEnd, 2);
    let now = Instant::from_secs(1);
    let (s, n) = sync(7, 100);
    t.handle_receive(0, &s[..n], Some(at(10_000)), now).unwrap();
    let out = sent(&mut t);
    assert_eq!(out.len(), 1);
    let (x, bytes) = &out[0];
    assert_eq!((x.port, x.event), (1, true));
    // The Sync goes out unchanged (two-step: its correction stays).
    assert_eq!(bytes.as_slice(), &s[..n]);
    // Follow_Up before the transmit timestamp: held.
    let (f, fl) = follow_up(7, 40, at(5_000));
    t.handle_receive(0, &f[..fl], None, now).unwrap();
    assert!(sent(&mut t).is_empty());
    t.handle_send_timestamp(1, x.context.unwrap(), at(10_000 + 12_345), now);
    let out = sent(&mut t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.port, 1);
    assert!(!out[0].0.event);
    // 40 ns of its own plus 12,345 ns inside the transparent clock.
    assert_eq!(correction_ns(&out[0].1), 40 + 12_345);
    let m = parse(&out[0].1);
    assert_eq!(m.header.sequence_id, 7);
    assert_eq!(m.header.source_port_identity, MASTER);
    assert_eq!(t.counters().corrected, 1);
    assert_eq!(t.residence().count, 1);
    assert!((t.residence().last_ns - 12_345.0).abs() < 1e-6);
}

#[test]
fn e2e_follow_up_after_the_timestamp_goes_out_at_once() {
    let mut t = tc::<4>(TcMode::EndToEnd, 2);
    let now = Instant::from_secs(1);
    let (s, n) = sync(1, 0);
    t.handle_receive(0, &s[..n], Some(at(0)), now).unwrap();
    let ctx = sent(&mut t)[0].0.context.unwrap();
    t.handle_send_timestamp(1, ctx, at(800), now);
    assert!(sent(&mut t).is_empty());
    let (f, fl) = follow_up(1, 0, at(0));
    t.handle_receive(0, &f[..fl], None, now).unwrap();
    let out = sent(&mut t);
    assert_eq!(correction_ns(&out[0].1), 800);
    // The same Follow_Up again matches nothing: forwarded once only.
    assert_eq!(
        t.handle_receive(0, &f[..fl], None, now),
        Err(TcRxError::Unmatched)
    );
}

#[test]
fn each_egress_port_gets_its_own_residence_time() {
    let mut t = tc::<4>(TcMode::EndToEnd, 3);
    let now = Instant::from_secs(1);
    let (s, n) = sync(3, 0);
    t.handle_receive(1, &s[..n], Some(at(1_000)), now).unwrap();
    let out = sent(&mut t);
    let ports: Vec<usize> = out.iter().map(|(x, _)| x.port).collect();
    assert_eq!(ports, [0, 2]);
    t.handle_send_timestamp(0, out[0].0.context.unwrap(), at(1_500), now);
    t.handle_send_timestamp(2, out[1].0.context.unwrap(), at(4_000), now);
    let (f, fl) = follow_up(3, 0, at(0));
    t.handle_receive(1, &f[..fl], None, now).unwrap();
    let mut got: Vec<(usize, i64)> = sent(&mut t)
        .iter()
        .map(|(x, b)| (x.port, correction_ns(b)))
        .collect();
    got.sort_unstable();
    assert_eq!(got, [(0, 500), (2, 3_000)]);
}

#[test]
fn e2e_delay_req_residence_goes_into_the_delay_resp() {
    let mut t = tc::<4>(TcMode::EndToEnd, 2);
    let now = Instant::from_secs(1);
    let (q, ql) = emit(
        header(MessageType::DelayReq, SLAVE, 9, 0),
        MessageBody::DelayReq(DelayReqMessage::default()),
    );
    // The slave is on port 1, the master on port 0.
    t.handle_receive(1, &q[..ql], Some(at(2_000)), now).unwrap();
    let out = sent(&mut t);
    assert_eq!((out[0].0.port, out[0].0.event), (0, true));
    t.handle_send_timestamp(0, out[0].0.context.unwrap(), at(2_000 + 777), now);
    let resp = |corr| {
        emit(
            header(MessageType::DelayResp, MASTER, 9, corr),
            MessageBody::DelayResp(DelayRespMessage {
                receive_timestamp: Timestamp::from_time(at(3_000)).unwrap(),
                requesting_port_identity: SLAVE,
            }),
        )
    };
    // A Delay_Resp on the slave's own port answers nothing we forwarded.
    let (r, rl) = resp(5);
    assert_eq!(
        t.handle_receive(1, &r[..rl], None, now),
        Err(TcRxError::Unmatched)
    );
    t.handle_receive(0, &r[..rl], None, now).unwrap();
    let out = sent(&mut t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.port, 1);
    assert_eq!(correction_ns(&out[0].1), 5 + 777);
    assert_eq!(t.counters().unmatched, 1);
}

#[test]
fn one_step_sync_becomes_two_step_with_a_follow_up() {
    let mut t = tc::<4>(TcMode::EndToEnd, 2);
    let now = Instant::from_secs(1);
    let mut h = header(MessageType::Sync, MASTER, 4, 30);
    h.flags.set_two_step(false);
    h.log_message_interval = -3;
    let origin = at(123_456_789);
    let (s, n) = emit(
        h,
        MessageBody::Sync(SyncMessage {
            origin_timestamp: Timestamp::from_time(origin).unwrap(),
        }),
    );
    t.handle_receive(0, &s[..n], Some(at(500_000)), now)
        .unwrap();
    let out = sent(&mut t);
    assert_eq!(out.len(), 1);
    let fwd = parse(&out[0].1);
    assert!(fwd.header.flags.two_step());
    // The Sync keeps its own correction.
    assert_eq!(fwd.header.correction_field.nanos_floor(), 30);
    t.handle_send_timestamp(1, out[0].0.context.unwrap(), at(500_000 + 2_000), now);
    let out = sent(&mut t);
    assert_eq!(out.len(), 1);
    let f = parse(&out[0].1);
    assert_eq!(f.header.message_type, MessageType::FollowUp);
    assert_eq!(f.header.sequence_id, 4);
    assert_eq!(f.header.log_message_interval, -3);
    assert_eq!(f.header.source_port_identity, MASTER);
    assert_eq!(f.header.correction_field.nanos_floor(), 2_000);
    let MessageBody::FollowUp(body) = f.body else {
        panic!("a Follow_Up")
    };
    assert_eq!(body.precise_origin_timestamp.to_time(), Some(origin));
    assert_eq!(t.counters().one_step_converted, 1);
}

#[test]
fn a_lost_transmit_timestamp_drops_only_that_ports_follow_up() {
    let mut t = tc::<4>(TcMode::EndToEnd, 3);
    let now = Instant::from_secs(1);
    let (s, n) = sync(5, 0);
    t.handle_receive(0, &s[..n], Some(at(0)), now).unwrap();
    let out = sent(&mut t);
    t.handle_send_timestamp(1, out[0].0.context.unwrap(), at(100), now);
    let (f, fl) = follow_up(5, 0, at(0));
    t.handle_receive(0, &f[..fl], None, now).unwrap();
    let first = sent(&mut t);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0.port, 1);
    // Port 2's timestamp never comes.
    let later = now + Duration::from_secs(2);
    t.handle_timeout(later);
    assert!(sent(&mut t).is_empty());
    assert_eq!(t.counters().residence_unknown, 1);
    // A timestamp after the record is gone changes nothing.
    t.handle_send_timestamp(2, out[1].0.context.unwrap(), at(200), later);
    assert!(sent(&mut t).is_empty());
}

#[test]
fn a_sync_coming_back_on_another_port_is_a_loop() {
    let mut t = tc::<4>(TcMode::EndToEnd, 2);
    let now = Instant::from_secs(1);
    let (s, n) = sync(11, 0);
    t.handle_receive(0, &s[..n], Some(at(0)), now).unwrap();
    assert_eq!(sent(&mut t).len(), 1);
    assert_eq!(
        t.handle_receive(1, &s[..n], Some(at(50)), now),
        Err(TcRxError::Loop)
    );
    assert!(sent(&mut t).is_empty());
    assert_eq!(t.counters().loops, 1);
    // Announces too.
    let (a, al) = emit(
        header(MessageType::Announce, MASTER, 2, 0),
        MessageBody::Announce(AnnounceMessage::default()),
    );
    t.handle_receive(0, &a[..al], None, now).unwrap();
    assert_eq!(sent(&mut t).len(), 1);
    assert_eq!(
        t.handle_receive(1, &a[..al], None, now),
        Err(TcRxError::Loop)
    );
}

#[test]
fn announces_are_forwarded_and_steps_removed_counted_when_asked() {
    let mut c = TcConfig::new(TcMode::EndToEnd, TC);
    c.increment_steps_removed = true;
    let ports = (1..=2).map(|n| {
        PortConfig::new(PortIdentity {
            clock_identity: TC,
            port_number: n,
        })
    });
    let mut t = TransparentClock::<2>::new(c, ports);
    t.enable(Instant::ZERO);
    let body = AnnounceMessage {
        steps_removed: 3,
        ..AnnounceMessage::default()
    };
    let (a, al) = emit(
        header(MessageType::Announce, MASTER, 1, 0),
        MessageBody::Announce(body),
    );
    t.handle_receive(0, &a[..al], None, Instant::from_secs(1))
        .unwrap();
    let out = sent(&mut t);
    let MessageBody::Announce(fwd) = parse(&out[0].1).body else {
        panic!("an Announce")
    };
    assert_eq!(fwd.steps_removed, 4);
}

#[test]
fn other_domains_own_messages_and_garbage_are_dropped_and_counted() {
    let mut t = tc::<4>(TcMode::EndToEnd, 2);
    let now = Instant::from_secs(1);
    let mut h = header(MessageType::Sync, MASTER, 1, 0);
    h.domain_number = 5;
    let (s, n) = emit(h, MessageBody::Sync(SyncMessage::default()));
    assert_eq!(
        t.handle_receive(0, &s[..n], Some(at(0)), now),
        Err(TcRxError::OtherDomain)
    );
    let own = PortIdentity {
        clock_identity: TC,
        port_number: 2,
    };
    let (s, n) = emit(
        header(MessageType::Sync, own, 1, 0),
        MessageBody::Sync(SyncMessage::default()),
    );
    assert_eq!(
        t.handle_receive(0, &s[..n], Some(at(0)), now),
        Err(TcRxError::Own)
    );
    assert!(matches!(
        t.handle_receive(0, &[0x10, 0x02, 0], Some(at(0)), now),
        Err(TcRxError::Malformed(_))
    ));
    let (s, n) = sync(1, 0);
    assert_eq!(
        t.handle_receive(0, &s[..n], None, now),
        Err(TcRxError::NoTimestamp)
    );
    assert_eq!(
        t.handle_receive(9, &s[..n], Some(at(0)), now),
        Err(TcRxError::NoPort)
    );
    assert!(sent(&mut t).is_empty());
    let c = t.counters();
    assert_eq!(
        (c.other_domain, c.own, c.malformed, c.no_timestamp),
        (1, 1, 1, 1)
    );
}

#[test]
fn p2p_drops_delay_requests_and_answers_pdelay_on_the_same_port() {
    let mut t = tc::<4>(TcMode::PeerToPeer, 2);
    let now = Instant::from_secs(1);
    let _ = sent(&mut t); // the ports' first Pdelay_Req
    let (q, ql) = emit(
        header(MessageType::DelayReq, SLAVE, 1, 0),
        MessageBody::DelayReq(DelayReqMessage::default()),
    );
    assert_eq!(
        t.handle_receive(1, &q[..ql], Some(at(0)), now),
        Err(TcRxError::NotForwarded)
    );
    let (p, pl) = emit(
        header(MessageType::PdelayReq, SLAVE, 6, 0),
        MessageBody::PdelayReq(PdelayReqMessage::default()),
    );
    t.handle_receive(1, &p[..pl], Some(at(1_000)), now).unwrap();
    let out = sent(&mut t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.port, 1);
    assert_eq!(out[0].0.destination, Destination::PeerDelay);
    let m = parse(&out[0].1);
    assert_eq!(m.header.message_type, MessageType::PdelayResp);
    assert_eq!(m.header.source_port_identity.clock_identity, TC);
}

/// Run one peer delay exchange on port `port` of `t` with a neighbour whose
/// link is `delay` ns each way; returns nothing, the port measures.
fn pdelay_exchange<const P: usize>(
    t: &mut TransparentClock<P>,
    port: usize,
    base: u64,
    delay: u64,
) {
    let now = Instant::from_nanos(base);
    t.handle_timeout(now);
    let out = sent(t);
    let Some((x, bytes)) = out
        .iter()
        .find(|(x, b)| x.port == port && parse(b).header.message_type == MessageType::PdelayReq)
    else {
        return;
    };
    let req = parse(bytes).header;
    let t1 = at(base);
    t.handle_send_timestamp(port, x.context.unwrap(), t1, now);
    let peer = PortIdentity {
        clock_identity: ClockIdentity([9; 8]),
        port_number: 1,
    };
    let t2 = at(base + delay);
    let t3 = at(base + delay + 10_000);
    let t4 = at(base + 2 * delay + 10_000);
    let mut h = header(MessageType::PdelayResp, peer, req.sequence_id, 0);
    h.flags.set_two_step(true);
    let (r, rl) = emit(
        h,
        MessageBody::PdelayResp(PdelayRespMessage {
            request_receipt_timestamp: Timestamp::from_time(t2).unwrap(),
            requesting_port_identity: req.source_port_identity,
        }),
    );
    t.handle_receive(port, &r[..rl], Some(t4), now).unwrap();
    let (f, fl) = emit(
        header(MessageType::PdelayRespFollowUp, peer, req.sequence_id, 0),
        MessageBody::PdelayRespFollowUp(PdelayRespFollowUpMessage {
            response_origin_timestamp: Timestamp::from_time(t3).unwrap(),
            requesting_port_identity: req.source_port_identity,
        }),
    );
    t.handle_receive(port, &f[..fl], None, now).unwrap();
}

#[test]
fn p2p_follow_up_adds_residence_and_the_ingress_link_delay() {
    let mut t = tc::<4>(TcMode::PeerToPeer, 2);
    for k in 0..4 {
        pdelay_exchange(&mut t, 0, (k + 1) * 1_000_000_000, 2_500);
    }
    assert_eq!(
        t.ports()[0].mean_path_delay(),
        Some(Duration::from_nanos(2_500))
    );
    let now = Instant::from_secs(10);
    let _ = sent(&mut t);
    let (s, n) = sync(8, 0);
    t.handle_receive(0, &s[..n], Some(at(10_000_000_000)), now)
        .unwrap();
    let out = sent(&mut t);
    assert_eq!(out.len(), 1);
    t.handle_send_timestamp(1, out[0].0.context.unwrap(), at(10_000_003_000), now);
    let (f, fl) = follow_up(8, 0, at(0));
    t.handle_receive(0, &f[..fl], None, now).unwrap();
    let out = sent(&mut t);
    assert_eq!(out.len(), 1);
    // 3,000 ns inside plus the 2,500 ns link it arrived on.
    assert_eq!(correction_ns(&out[0].1), 5_500);
}

#[test]
fn syntonized_residence_is_scaled_by_the_measured_rate_ratio() {
    let mut c = TcConfig::new(TcMode::EndToEnd, TC);
    c.syntonize = true;
    let ports = (1..=2).map(|n| {
        PortConfig::new(PortIdentity {
            clock_identity: TC,
            port_number: n,
        })
    });
    let mut t = TransparentClock::<2>::new(c, ports);
    t.enable(Instant::ZERO);
    // The master runs 100 ppm fast against the transparent clock.
    for k in 0..12u64 {
        let local = k * 1_000_000_000;
        let master = local + local / 10_000;
        let now = Instant::from_nanos(local);
        let (s, n) = sync(u16::try_from(k).unwrap(), 0);
        t.handle_receive(0, &s[..n], Some(at(local)), now).unwrap();
        let out = sent(&mut t);
        t.handle_send_timestamp(1, out[0].0.context.unwrap(), at(local + 1_000_000), now);
        let (f, fl) = follow_up(u16::try_from(k).unwrap(), 0, at(master));
        t.handle_receive(0, &f[..fl], None, now).unwrap();
        let out = sent(&mut t);
        let corr = correction_ns(&out[0].1);
        if k >= 6 {
            // 1 ms by the local clock is 1.0001 ms of the master's.
            assert_eq!(corr, 1_000_100, "sync {k}");
        }
    }
    let r = t.rate_ratio().unwrap();
    assert!((r - 1.0001).abs() < 1e-9, "{r}");
}

#[test]
fn many_syncs_without_follow_ups_stay_bounded() {
    let mut t = tc::<4>(TcMode::EndToEnd, 2);
    for k in 0..1_000u16 {
        let now = Instant::from_nanos(u64::from(k) * 1_000_000);
        let (s, n) = sync(k, 0);
        let _ = t.handle_receive(0, &s[..n], Some(at(u64::from(k))), now);
        let _ = sent(&mut t);
        t.handle_timeout(now);
    }
    // Evicted or expired, each counted; nothing grows.
    assert!(t.counters().expired > 900);
    assert!(t.poll_timeout().is_some());
}
